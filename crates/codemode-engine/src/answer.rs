//! Renders a search answer: the ranked operations, each headed by `METHOD /path`, with their
//! TypeScript declarations, within the token budget, saying what was left out.
//!
//! The declarations come from the engine's [`codemode_typescript::Catalog`], which spends the
//! budget by rank (primaries richly, the rest compactly) from pieces it made once; this module
//! adds the lines around them and counts only those small lines, so an answer never
//! re-tokenizes its whole text.

use std::sync::OnceLock;

use codemode_typescript::{AnswerOperation, AnswerRequest, count_tokens};

use crate::spec::{Operation, OperationId};
use crate::{Inner, SearchAnswer, SearchHit, Verdict};

/// An operation a search found, in the order the answer lists it.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub operation: OperationId,
    pub score: f64,
    /// The best operation of the task or of one of its steps, or one the query named.
    pub primary: bool,
    /// The step of a multi-step task this operation is the best for.
    pub step: Option<String>,
}

impl Candidate {
    pub(crate) fn ranked(operation: OperationId, score: f64) -> Candidate {
        Candidate {
            operation,
            score,
            primary: false,
            step: None,
        }
    }
}

/// The first `declare` candidates are declared, as many as the budget allows; the rest, and any
/// the budget leaves out, are named one line each after the declarations. `types` are
/// component schemas the query named, declared with them.
pub(crate) fn render(
    inner: &Inner,
    query: &str,
    candidates: &[Candidate],
    declare: usize,
    types: &[String],
) -> SearchAnswer {
    let spec = &inner.spec;
    let ranked: Vec<Ranked<'_>> = candidates
        .iter()
        .map(|c| {
            let op = spec.operation(c.operation);
            Ranked {
                candidate: c,
                op,
                blocked: blocked_reason(inner, op),
            }
        })
        .collect();
    if ranked.is_empty() && types.is_empty() {
        let text = format!(
            "No operation matches {}. Try other words (a resource and a verb, e.g. \"list issues\").",
            quote(query)
        );
        return SearchAnswer {
            tokens: count_tokens(&text),
            text,
            hits: Vec::new(),
            omitted: 0,
            more: Vec::new(),
        };
    }
    let (to_declare, next) = ranked.split_at(declare.min(ranked.len()));
    let budget = inner.search_budget_tokens;
    // The next-ranked lines are paid for up front; lines for operations the budget drops from
    // the declarations are added after them only while they fit.
    let more_reserve = if next.is_empty() {
        0
    } else {
        more_heading_tokens() + next.iter().map(|r| listed_tokens(inner, r)).sum::<usize>()
    };
    let intro_tokens = count_tokens(&intro_line(query, to_declare.len()));
    let multi_step = to_declare
        .iter()
        .filter(|r| r.candidate.step.is_some())
        .count()
        > 1;
    let request = AnswerRequest {
        operations: to_declare
            .iter()
            .map(|r| AnswerOperation {
                operation: r.candidate.operation,
                primary: r.candidate.primary,
                overhead_tokens: header_tokens(inner, r, multi_step),
                listed_tokens: listed_tokens(inner, r),
            })
            .collect(),
        types: types.to_vec(),
        token_budget: budget
            .saturating_sub(intro_tokens + NOTES_RESERVE_TOKENS + more_reserve)
            .max(MIN_DECLARATION_TOKENS),
    };
    let declarations = inner.catalog.declare_answer(&request);
    let declared = |r: &Ranked<'_>| declarations.operations.contains(&r.op.name);
    let kept: Vec<&Ranked<'_>> = to_declare.iter().filter(|r| declared(r)).collect();
    let left_out: Vec<&Ranked<'_>> = to_declare.iter().filter(|r| !declared(r)).collect();
    let omitted = left_out.len();

    let mut text = intro_line(query, kept.len());
    // The same length as the intro counted above, give or take the count's digits.
    let mut tokens = intro_tokens + 1;
    for (i, r) in kept.iter().enumerate() {
        tokens += header_tokens(inner, r, multi_step);
        text.push_str(&header_line(i + 1, r, multi_step));
        text.push('\n');
    }
    let notes = notes(&declarations.trimmed, omitted, budget);
    text.push_str("\n```ts\n");
    text.push_str(declarations.text.trim_end());
    text.push_str("\n```\n");
    text.push_str(&notes);
    tokens += declarations.tokens + code_fence_tokens() + count_tokens(&notes);
    let candidates: Vec<&Ranked<'_>> = left_out.into_iter().chain(next).collect();
    let more = append_more(
        inner,
        &mut text,
        &mut tokens,
        kept.len(),
        &candidates,
        budget,
    );
    SearchAnswer {
        text,
        tokens,
        hits: kept.iter().map(|r| search_hit(r)).collect(),
        omitted,
        more: more.iter().map(|r| search_hit(r)).collect(),
    }
}

/// The answer to a query of type names: their declarations, and what the budget trimmed.
pub(crate) fn render_types(inner: &Inner, query: &str, schemas: &[String]) -> SearchAnswer {
    let declarations = inner.catalog.declare_answer(&AnswerRequest {
        operations: Vec::new(),
        types: schemas.to_vec(),
        token_budget: inner
            .search_budget_tokens
            .saturating_sub(TYPES_FRAME_TOKENS)
            .max(MIN_DECLARATION_TOKENS),
    });
    let intro = format!(
        "Types named by {}: the shapes of arguments and results of the operations that use them.\n\n```ts\n",
        quote(query)
    );
    let mut after = String::from("\n```\n");
    if !declarations.trimmed.is_empty() {
        after.push_str(&format!(
            "Trimmed to fit {} tokens: {}.\n",
            inner.search_budget_tokens,
            declarations.trimmed.join("; ")
        ));
    }
    after.push_str(
        "To find operations, search with a task (\"list refunds\") or operation names.\n",
    );
    let tokens = count_tokens(&intro) + declarations.tokens + count_tokens(&after);
    SearchAnswer {
        text: format!("{intro}{}{after}", declarations.text.trim_end()),
        tokens,
        hits: Vec::new(),
        omitted: 0,
        more: Vec::new(),
    }
}

/// An operation to show, with its place in the ranking and, when policy blocks it, why.
struct Ranked<'a> {
    candidate: &'a Candidate,
    op: &'a Operation,
    blocked: Option<String>,
}

fn search_hit(r: &Ranked<'_>) -> SearchHit {
    SearchHit {
        name: r.op.name.clone(),
        method: r.op.method.as_str().to_string(),
        path: r.op.path.clone(),
        score: r.candidate.score,
        blocked: r.blocked.is_some(),
    }
}

/// Tokens kept for the notes under the declarations (what the budget trimmed).
const NOTES_RESERVE_TOKENS: usize = 100;
/// The lines around the declarations of a type-name answer, rounded up.
const TYPES_FRAME_TOKENS: usize = 150;
/// The declarations always get at least this much, whatever the lists around them take.
const MIN_DECLARATION_TOKENS: usize = 200;

/// Longest summary shown on a line of the "also ranked" list, in characters.
const MORE_SUMMARY_CHARS: usize = 60;

fn intro_line(query: &str, declared: usize) -> String {
    format!(
        "{declared} operation{} for {} (best first). Call them inside `execute` as `await api.<name>(args)`.\n",
        if declared == 1 { "" } else { "s" },
        quote(query)
    )
}

/// `1. POST /v1/customers → api.postCustomers`, with its step of a multi-step task, deprecation
/// and policy block.
fn header_line(rank: usize, r: &Ranked<'_>, multi_step: bool) -> String {
    let mut line = format!("{rank}. {}", header_body(r));
    if let Some(step) = shown_step(r, multi_step) {
        line.push_str(&step);
    }
    line
}

fn header_body(r: &Ranked<'_>) -> String {
    let mut line = format!("{} → api.{}", operation_key(r.op), r.op.name);
    if r.op.deprecated {
        line.push_str(" (deprecated)");
    }
    if let Some(reason) = &r.blocked {
        line.push_str(&format!(" — BLOCKED: {reason}"));
    }
    line
}

fn shown_step(r: &Ranked<'_>, multi_step: bool) -> Option<String> {
    let step = r.candidate.step.as_ref().filter(|_| multi_step)?;
    Some(format!(" — step: {}", quote(step)))
}

/// `7. GET /pets → api.listPets: List all pets`, on one line whatever the spec's text holds.
fn more_line(rank: usize, r: &Ranked<'_>) -> String {
    format!("{rank}. {}", more_body(r))
}

fn more_body(r: &Ranked<'_>) -> String {
    let op = r.op;
    let summary = op
        .summary
        .as_deref()
        .or(op.description.as_deref())
        .map(|text| codemode_typescript::prose_line(text, MORE_SUMMARY_CHARS))
        .unwrap_or_default();
    let mut line = format!("{} → api.{}", operation_key(op), op.name);
    if !summary.is_empty() {
        line.push_str(": ");
        line.push_str(&summary);
    }
    if r.blocked.is_some() {
        line.push_str(" (BLOCKED)");
    }
    line
}

/// Tokens of an operation's line above the declarations, with its line break: counted once per
/// operation (the rank's digits and the break are a constant) plus its step, if shown.
fn header_tokens(inner: &Inner, r: &Ranked<'_>, multi_step: bool) -> usize {
    let body = inner
        .line_tokens
        .header(r.candidate.operation, || header_body(r));
    let step = shown_step(r, multi_step).map_or(0, |step| count_tokens(&step));
    body + RANK_TOKENS + step
}

/// Tokens of an operation's line in the list after the declarations, with its line break.
fn listed_tokens(inner: &Inner, r: &Ranked<'_>) -> usize {
    inner
        .line_tokens
        .listed(r.candidate.operation, || more_body(r))
        + RANK_TOKENS
}

/// Tokens of `12. ` and a line break, rounded up.
const RANK_TOKENS: usize = 4;

/// Token counts of the lines that name each operation in answers, counted on first use (the
/// lines depend on the operation and the policy only, both fixed for the engine's life).
pub(crate) struct LineTokens {
    header: Vec<OnceLock<usize>>,
    listed: Vec<OnceLock<usize>>,
}

impl LineTokens {
    pub(crate) fn new(operations: usize) -> LineTokens {
        LineTokens {
            header: (0..operations).map(|_| Default::default()).collect(),
            listed: (0..operations).map(|_| Default::default()).collect(),
        }
    }

    fn header(&self, operation: OperationId, line: impl FnOnce() -> String) -> usize {
        Self::cached(&self.header, operation.index(), line)
    }

    fn listed(&self, operation: OperationId, line: impl FnOnce() -> String) -> usize {
        Self::cached(&self.listed, operation.index(), line)
    }

    fn cached(slots: &[OnceLock<usize>], index: usize, line: impl FnOnce() -> String) -> usize {
        match slots.get(index) {
            Some(slot) => *slot.get_or_init(|| count_tokens(&line())),
            None => count_tokens(&line()),
        }
    }
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

/// What the budget trimmed, and how many ranked operations it left out.
fn notes(trimmed: &[String], omitted: usize, budget: usize) -> String {
    let mut text = String::new();
    if !trimmed.is_empty() {
        text.push_str(&format!(
            "Trimmed to fit {budget} tokens: {}.\n",
            trimmed.join("; ")
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
/// operations it named. `declared` is how many operations the answer declared above; `tokens`
/// is what the text costs so far, and grows with the lines added.
fn append_more<'r, 'o>(
    inner: &Inner,
    text: &mut String,
    tokens: &mut usize,
    declared: usize,
    candidates: &[&'r Ranked<'o>],
    budget: usize,
) -> Vec<&'r Ranked<'o>> {
    if candidates.is_empty() {
        return Vec::new();
    }
    let mut used = *tokens + more_heading_tokens();
    let mut shown = Vec::new();
    let mut lines = String::new();
    for candidate in candidates {
        let line = more_line(declared + shown.len() + 1, candidate);
        let cost = listed_tokens(inner, candidate);
        if used + cost > budget {
            break;
        }
        used += cost;
        lines.push_str(&line);
        lines.push('\n');
        shown.push(*candidate);
    }
    if !shown.is_empty() {
        text.push_str(MORE_HEADING);
        text.push_str(&lines);
        *tokens = used;
    }
    shown
}

/// Tokens of the "Also ranked" heading, counted once.
fn more_heading_tokens() -> usize {
    static TOKENS: OnceLock<usize> = OnceLock::new();
    *TOKENS.get_or_init(|| count_tokens(MORE_HEADING))
}

/// Tokens of the code fence around the declarations, counted once.
fn code_fence_tokens() -> usize {
    static TOKENS: OnceLock<usize> = OnceLock::new();
    *TOKENS.get_or_init(|| count_tokens("\n```ts\n\n```\n"))
}

const MORE_HEADING: &str = "\nAlso ranked, not declared (pass names as `query`, e.g. \"nameA, nameB\", to declare them):\n";

/// Quotes a query for display, shortened so a 10 KB query does not flood the answer.
fn quote(query: &str) -> String {
    let short: String = query.chars().take(120).collect();
    let ellipsis = if short.len() < query.len() { "…" } else { "" };
    format!("{:?}", format!("{short}{ellipsis}"))
}
