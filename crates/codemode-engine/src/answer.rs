//! Renders a search answer: the ranked operations, each headed by `METHOD /path`, with their
//! TypeScript declarations, within the token budget, saying what was left out.

use codemode_typescript::DeclareOptions;

use crate::spec::Operation;
use crate::{Inner, SearchAnswer, SearchHit, Verdict};

/// The first `declare` of `hits` are declared; the rest, and any the budget leaves out, are
/// named one line each after the declarations.
pub(crate) fn render(
    inner: &Inner,
    query: &str,
    hits: &[codemode_search::Hit],
    declare: usize,
) -> SearchAnswer {
    let spec = &inner.spec;
    let ranked: Vec<Ranked<'_>> = hits
        .iter()
        .filter_map(|h| {
            spec.operations
                .get(h.operation)
                .map(|op| (op, h.score, blocked_reason(inner, op)))
        })
        .collect();
    if ranked.is_empty() {
        return SearchAnswer {
            text: format!(
                "No operation matches {}. Try other words (a resource and a verb, e.g. \"list issues\").",
                quote(query)
            ),
            hits: Vec::new(),
            omitted: 0,
            more: Vec::new(),
        };
    }
    let (to_declare, next) = ranked.split_at(declare.min(ranked.len()));
    // The declarations crate trims to the budget itself (descriptions first, then deep types,
    // then operations from the end); the list shows exactly the operations it kept, and names
    // the ones it dropped with the next-ranked ones. Those lines are paid for first.
    let budget = inner.search_budget_tokens;
    let ops: Vec<&Operation> = to_declare.iter().map(|(op, _, _)| *op).collect();
    let header_estimate = 60 + 40 * to_declare.len();
    // The next-ranked lines are paid for up front; lines for operations the budget drops from
    // the declarations are added only while they fit.
    let next_lines: Vec<String> = next.iter().map(|(op, _, _)| more_line(99, op)).collect();
    let more_estimate =
        MORE_HEADING_TOKENS + codemode_typescript::count_tokens(&next_lines.join("\n"));
    let options = DeclareOptions {
        token_budget: Some(
            budget
                .saturating_sub(header_estimate + more_estimate)
                .max(200),
        ),
        ..DeclareOptions::default()
    };
    let declarations = inner.declare(&ops, &options);
    let (kept, left_out): (Vec<&Ranked<'_>>, Vec<&Ranked<'_>>) = to_declare
        .iter()
        .partition(|(op, _, _)| declarations.operations.contains(&op.name));
    let omitted = left_out.len();
    let candidates: Vec<&Ranked<'_>> = left_out.into_iter().chain(next).collect();
    let mut text = render_text(query, &kept, omitted, budget, &declarations);
    let more = append_more(&mut text, kept.len(), &candidates, budget);
    SearchAnswer {
        text,
        hits: kept.iter().map(|r| search_hit(r)).collect(),
        omitted,
        more: more.iter().map(|r| search_hit(r)).collect(),
    }
}

/// The answer to a query of type names: their declarations, and what the budget trimmed.
pub(crate) fn render_types(
    inner: &Inner,
    query: &str,
    declarations: &codemode_typescript::Declarations,
) -> SearchAnswer {
    let mut text = format!(
        "Types named by {}: the shapes of arguments and results of the operations that use them.\n\n```ts\n",
        quote(query)
    );
    text.push_str(declarations.text.trim_end());
    text.push_str("\n```\n");
    if !declarations.trimmed.is_empty() {
        text.push_str(&format!(
            "Trimmed to fit {} tokens: {}.\n",
            inner.search_budget_tokens,
            declarations.trimmed.join("; ")
        ));
    }
    text.push_str(
        "To find operations, search with a task (\"list refunds\") or operation names.\n",
    );
    SearchAnswer {
        text,
        hits: Vec::new(),
        omitted: 0,
        more: Vec::new(),
    }
}

/// An operation with its score and, when policy blocks it, why.
type Ranked<'a> = (&'a Operation, f64, Option<String>);

fn search_hit((op, score, blocked): &Ranked<'_>) -> SearchHit {
    SearchHit {
        name: op.name.clone(),
        method: op.method.as_str().to_string(),
        path: op.path.clone(),
        score: *score,
        blocked: blocked.is_some(),
    }
}

/// Tokens of the "Also ranked" heading, rounded up.
const MORE_HEADING_TOKENS: usize = 30;

/// Longest summary shown on a line of the "also ranked" list, in characters.
const MORE_SUMMARY_CHARS: usize = 60;

/// `7. GET /pets → api.listPets: List all pets`, on one line whatever the spec's text holds.
fn more_line(rank: usize, op: &Operation) -> String {
    let summary = op
        .summary
        .as_deref()
        .or(op.description.as_deref())
        .map(|text| codemode_typescript::prose_line(text, MORE_SUMMARY_CHARS))
        .unwrap_or_default();
    let mut line = format!("{rank}. {} → api.{}", operation_key(op), op.name);
    if !summary.is_empty() {
        line.push_str(": ");
        line.push_str(&summary);
    }
    line
}

/// `METHOD /path`, the path made safe to print (a spec's path key may hold any character).
fn operation_key(op: &Operation) -> String {
    format!(
        "{} {}",
        op.method,
        codemode_typescript::plain_line(&op.path)
    )
}

fn blocked_reason(inner: &Inner, op: &Operation) -> Option<String> {
    match inner.policy.verdict(op) {
        Verdict::Blocked(reason) => Some(reason),
        Verdict::Allowed { .. } => None,
    }
}

fn render_text(
    query: &str,
    shown: &[&Ranked<'_>],
    omitted: usize,
    budget: usize,
    declarations: &codemode_typescript::Declarations,
) -> String {
    let mut text = format!(
        "{} operation{} for {} (best first). Call them inside `execute` as `await api.<name>(args)`.\n",
        shown.len(),
        if shown.len() == 1 { "" } else { "s" },
        quote(query)
    );
    for (i, (op, _, blocked)) in shown.iter().enumerate() {
        text.push_str(&format!(
            "{}. {} → api.{}",
            i + 1,
            operation_key(op),
            op.name
        ));
        if op.deprecated {
            text.push_str(" (deprecated)");
        }
        if let Some(reason) = blocked {
            text.push_str(&format!(" — BLOCKED: {reason}"));
        }
        text.push('\n');
    }
    text.push_str("\n```ts\n");
    text.push_str(declarations.text.trim_end());
    text.push_str("\n```\n");
    if !declarations.trimmed.is_empty() {
        text.push_str(&format!(
            "Trimmed to fit {budget} tokens: {}.\n",
            declarations.trimmed.join("; ")
        ));
    }
    if omitted > 0 {
        text.push_str(&format!(
            "{omitted} more operation{} did not fit within {budget} tokens; the list below names {} first where it has room.\n",
            if omitted == 1 { "" } else { "s" },
            if omitted == 1 { "it" } else { "them" },
        ));
    }
    text
}

/// Appends the "also ranked" lines that fit in `budget` tokens, best first, and returns the
/// operations it named. `declared` is how many operations the answer declared above.
fn append_more<'r, 'o>(
    text: &mut String,
    declared: usize,
    candidates: &[&'r Ranked<'o>],
    budget: usize,
) -> Vec<&'r Ranked<'o>> {
    if candidates.is_empty() {
        return Vec::new();
    }
    let mut used = codemode_typescript::count_tokens(text) + MORE_HEADING_TOKENS;
    let mut shown = Vec::new();
    let mut lines = String::new();
    for candidate in candidates {
        let (op, _, blocked) = candidate;
        let mut line = more_line(declared + shown.len() + 1, op);
        if blocked.is_some() {
            line.push_str(" (BLOCKED)");
        }
        // +1 for the line break.
        let cost = codemode_typescript::count_tokens(&line) + 1;
        if used + cost > budget {
            break;
        }
        used += cost;
        lines.push_str(&line);
        lines.push('\n');
        shown.push(*candidate);
    }
    if !shown.is_empty() {
        text.push_str(
            "\nAlso ranked, not declared (pass names as `query`, e.g. \"nameA, nameB\", to declare them):\n",
        );
        text.push_str(&lines);
    }
    shown
}

/// Quotes a query for display, shortened so a 10 KB query does not flood the answer.
fn quote(query: &str) -> String {
    let short: String = query.chars().take(120).collect();
    let ellipsis = if short.len() < query.len() { "…" } else { "" };
    format!("{:?}", format!("{short}{ellipsis}"))
}
