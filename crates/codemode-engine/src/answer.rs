//! Renders a search answer: the ranked operations, each headed by `METHOD /path`, with their
//! TypeScript declarations, within the token budget, saying what was left out.

use codemode_typescript::DeclareOptions;

use crate::spec::Operation;
use crate::{Inner, SearchAnswer, SearchHit, Verdict};

pub(crate) fn render(inner: &Inner, query: &str, hits: &[codemode_search::Hit]) -> SearchAnswer {
    let spec = &inner.spec;
    let ranked: Vec<(&Operation, f64, Option<String>)> = hits
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
        };
    }
    // The declarations crate trims to the budget itself (descriptions first, then deep types,
    // then operations from the end); the list shows exactly the operations it kept.
    let budget = inner.search_budget_tokens;
    let ops: Vec<&Operation> = ranked.iter().map(|(op, _, _)| *op).collect();
    let header_estimate = 60 + 40 * ranked.len();
    let options = DeclareOptions {
        token_budget: Some(budget.saturating_sub(header_estimate).max(200)),
        ..DeclareOptions::default()
    };
    let declarations = inner.declare(&ops, &options);
    let kept: Vec<&(&Operation, f64, Option<String>)> = ranked
        .iter()
        .filter(|(op, _, _)| declarations.operations.contains(&op.name))
        .collect();
    let omitted = ranked.len() - kept.len();
    let text = render_text(query, &kept, omitted, budget, &declarations);
    SearchAnswer {
        text,
        hits: kept
            .iter()
            .map(|(op, score, blocked)| SearchHit {
                name: op.name.clone(),
                method: op.method.as_str().to_string(),
                path: op.path.clone(),
                score: *score,
                blocked: blocked.is_some(),
            })
            .collect(),
        omitted,
    }
}

fn blocked_reason(inner: &Inner, op: &Operation) -> Option<String> {
    match inner.policy.verdict(op) {
        Verdict::Blocked(reason) => Some(reason),
        Verdict::Allowed { .. } => None,
    }
}

fn render_text(
    query: &str,
    shown: &[&(&Operation, f64, Option<String>)],
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
            "{}. {} {} → api.{}",
            i + 1,
            op.method,
            op.path,
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
            "{omitted} lower-ranked operation{} left out to stay within {budget} tokens; search with narrower words to see {}.\n",
            if omitted == 1 { " was" } else { "s were" },
            if omitted == 1 { "it" } else { "them" }
        ));
    }
    text
}

/// Quotes a query for display, shortened so a 10 KB query does not flood the answer.
fn quote(query: &str) -> String {
    let short: String = query.chars().take(120).collect();
    let ellipsis = if short.len() < query.len() { "…" } else { "" };
    format!("{:?}", format!("{short}{ellipsis}"))
}
