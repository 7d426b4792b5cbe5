//! Renders a search answer: the ranked operations, each headed by `METHOD /path`, with their
//! TypeScript declarations, within the token budget, saying what was left out.
//!
//! The declarations come from the engine's [`codemode_typescript::Catalog`], which spends the
//! budget by rank (primaries richly, the rest compactly) from pieces it made once; this module
//! adds the lines around them and counts only those small lines, so an answer never
//! re-tokenizes its whole text.

use std::sync::OnceLock;

use codemode_typescript::{AnswerOperation, AnswerRequest, Declarations, count_tokens};

use crate::apis::Api;
use crate::caller::Caller;
use crate::spec::{Operation, OperationId};
use crate::{Inner, SearchAnswer, SearchHit, SearchRequest, Verdict};

/// An operation a search found, in the order the answer lists it.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    /// Which of the engine's APIs it belongs to.
    pub api: usize,
    pub operation: OperationId,
    pub score: f64,
    /// The best operation of the task or of one of its steps, or one the query named.
    pub primary: bool,
    /// The step of a multi-step task this operation is the best for.
    pub step: Option<String>,
}

impl Candidate {
    pub(crate) fn ranked(api: usize, operation: OperationId, score: f64) -> Candidate {
        Candidate {
            api,
            operation,
            score,
            primary: false,
            step: None,
        }
    }
}

/// The first `declare` candidates are declared, as many as the budget allows; the rest, and any
/// the budget leaves out, are named one line each after the declarations. `types` are
/// component schemas the query named (each with its API), declared with them. Operations the
/// request's caller may not call are marked blocked, with the reason.
pub(crate) fn render(
    inner: &Inner,
    request: &SearchRequest,
    candidates: &[Candidate],
    declare: usize,
    types: &[(usize, String)],
) -> SearchAnswer {
    let query = request.query.as_str();
    let caller = request.caller.as_ref();
    let ranked: Vec<Ranked<'_>> = candidates
        .iter()
        .map(|c| {
            let api = inner.apis.get(c.api);
            let op = api.spec.operation(c.operation);
            Ranked {
                candidate: c,
                api,
                op,
                called: inner.apis.qualified(c.api, &op.name),
                blocked: blocked_reason(api, op, caller),
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
        more_heading_tokens() + next.iter().map(listed_tokens).sum::<usize>()
    };
    let namespaced = inner.apis.namespaced();
    let intro_tokens = count_tokens(&intro_line(query, to_declare.len(), namespaced));
    let multi_step = to_declare
        .iter()
        .filter(|r| r.candidate.step.is_some())
        .count()
        > 1;
    let token_budget = budget
        .saturating_sub(intro_tokens + NOTES_RESERVE_TOKENS + more_reserve)
        .max(MIN_DECLARATION_TOKENS);
    let declarations = declare_by_api(inner, to_declare, types, multi_step, token_budget);
    let declared = |r: &Ranked<'_>| {
        declarations
            .iter()
            .any(|(api, d)| *api == r.candidate.api && d.operations.contains(&r.op.name))
    };
    let kept: Vec<&Ranked<'_>> = to_declare.iter().filter(|r| declared(r)).collect();
    let left_out: Vec<&Ranked<'_>> = to_declare.iter().filter(|r| !declared(r)).collect();
    let omitted = left_out.len();

    let mut text = intro_line(query, kept.len(), namespaced);
    // The same length as the intro counted above, give or take the count's digits.
    let mut tokens = intro_tokens + 1;
    for (i, r) in kept.iter().enumerate() {
        tokens += header_tokens(r, multi_step);
        text.push_str(&header_line(i + 1, r, multi_step));
        text.push('\n');
    }
    let trimmed: Vec<String> = declarations
        .iter()
        .flat_map(|(_, d)| d.trimmed.iter().cloned())
        .collect();
    let notes = notes(&trimmed, omitted, budget);
    text.push_str("\n```ts\n");
    let (code, code_tokens) = declarations_text(inner, &declarations);
    text.push_str(&code);
    text.push_str("```\n");
    text.push_str(&notes);
    tokens += code_tokens + code_fence_tokens() + count_tokens(&notes);
    let candidates: Vec<&Ranked<'_>> = left_out.into_iter().chain(next).collect();
    let more = append_more(&mut text, &mut tokens, kept.len(), &candidates, budget);
    SearchAnswer {
        text,
        tokens,
        hits: kept.iter().map(|r| search_hit(inner, r)).collect(),
        omitted,
        more: more.iter().map(|r| search_hit(inner, r)).collect(),
    }
}

/// Declares the operations to declare (and the types the query named) from each API's catalog,
/// APIs in the order of their best operation, splitting `token_budget` between them by how
/// many operations each has and handing what one leaves unused to the next. With one API, the
/// whole budget goes to its catalog, which spends it by rank.
fn declare_by_api(
    inner: &Inner,
    to_declare: &[Ranked<'_>],
    types: &[(usize, String)],
    multi_step: bool,
    token_budget: usize,
) -> Vec<(usize, Declarations)> {
    let mut order: Vec<usize> = Vec::new();
    let apis_in_order = to_declare
        .iter()
        .map(|r| r.candidate.api)
        .chain(types.iter().map(|(api, _)| *api));
    for api in apis_in_order {
        if !order.contains(&api) {
            order.push(api);
        }
    }
    let weight = |api: usize| {
        to_declare.iter().filter(|r| r.candidate.api == api).count()
            + types.iter().filter(|(a, _)| *a == api).count()
    };
    let mut weight_left: usize = order.iter().map(|&api| weight(api)).sum();
    let mut budget_left = token_budget;
    let mut out = Vec::new();
    for api in order {
        let share = budget_left * weight(api) / weight_left.max(1);
        let request = AnswerRequest {
            operations: to_declare
                .iter()
                .filter(|r| r.candidate.api == api)
                .map(|r| AnswerOperation {
                    operation: r.candidate.operation,
                    primary: r.candidate.primary,
                    overhead_tokens: header_tokens(r, multi_step),
                    listed_tokens: listed_tokens(r),
                })
                .collect(),
            types: types
                .iter()
                .filter(|(a, _)| *a == api)
                .map(|(_, name)| name.clone())
                .collect(),
            token_budget: share.max(MIN_DECLARATION_TOKENS.min(budget_left)),
        };
        let declarations = inner.apis.get(api).catalog.declare_answer(&request);
        weight_left -= weight(api);
        budget_left = budget_left.saturating_sub(declarations.tokens);
        out.push((api, declarations));
    }
    out
}

/// The declarations as they go between the code fences, and their tokens. With several APIs,
/// each API's go in a `declare namespace <name> { … }` block: two specs may both name a type
/// `Customer`, and the block says which API's `Api` interface `api.<name>` is.
fn declarations_text(inner: &Inner, declarations: &[(usize, Declarations)]) -> (String, usize) {
    let mut text = String::new();
    let mut tokens = 0;
    for (api, declared) in declarations {
        let code = declared.text.trim_end();
        if code.is_empty() {
            continue;
        }
        tokens += declared.tokens;
        match inner.apis.namespace(*api) {
            Some(name) => {
                let open = format!("declare namespace {name} {{\n");
                tokens += count_tokens(&open) + NAMESPACE_CLOSE_TOKENS;
                text.push_str(&open);
                text.push_str(code);
                text.push_str("\n}\n");
            }
            None => {
                text.push_str(code);
                text.push('\n');
            }
        }
    }
    (text, tokens)
}

/// Tokens of the `}` line that closes a namespace block, rounded up.
const NAMESPACE_CLOSE_TOKENS: usize = 2;

/// The answer to a query of type names: their declarations, and what the budget trimmed.
pub(crate) fn render_types(
    inner: &Inner,
    query: &str,
    schemas: &[(usize, String)],
) -> SearchAnswer {
    let token_budget = inner
        .search_budget_tokens
        .saturating_sub(TYPES_FRAME_TOKENS)
        .max(MIN_DECLARATION_TOKENS);
    let declarations = declare_by_api(inner, &[], schemas, false, token_budget);
    let intro = format!(
        "Types named by {}: the shapes of arguments and results of the operations that use them.\n\n```ts\n",
        quote(query)
    );
    let (code, code_tokens) = declarations_text(inner, &declarations);
    let mut after = String::from("```\n");
    let trimmed: Vec<String> = declarations
        .iter()
        .flat_map(|(_, d)| d.trimmed.iter().cloned())
        .collect();
    if !trimmed.is_empty() {
        after.push_str(&format!(
            "Trimmed to fit {} tokens: {}.\n",
            inner.search_budget_tokens,
            trimmed.join("; ")
        ));
    }
    after.push_str(
        "To find operations, search with a task (\"list refunds\") or operation names.\n",
    );
    let tokens = count_tokens(&intro) + code_tokens + count_tokens(&after);
    SearchAnswer {
        text: format!("{intro}{code}{after}"),
        tokens,
        hits: Vec::new(),
        omitted: 0,
        more: Vec::new(),
    }
}

/// An operation to show, with its place in the ranking and, when policy blocks it, why.
struct Ranked<'a> {
    candidate: &'a Candidate,
    api: &'a Api,
    op: &'a Operation,
    /// How a program calls it, after `api.`: `getCharges`, or `stripe.getCharges` with several
    /// APIs.
    called: String,
    blocked: Option<String>,
}

fn search_hit(inner: &Inner, r: &Ranked<'_>) -> SearchHit {
    SearchHit {
        api: inner.apis.namespace(r.candidate.api).map(str::to_string),
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

fn intro_line(query: &str, declared: usize, namespaced: bool) -> String {
    format!(
        "{declared} operation{} for {} (best first). Call them inside `execute` as `await {}(args)`.\n",
        if declared == 1 { "" } else { "s" },
        quote(query),
        if namespaced {
            "api.<api>.<name>"
        } else {
            "api.<name>"
        }
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
    let mut line = format!("{} → api.{}", operation_key(r.op), r.called);
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
    let mut line = format!("{} → api.{}", operation_key(op), r.called);
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
fn header_tokens(r: &Ranked<'_>, multi_step: bool) -> usize {
    let body = r
        .api
        .line_tokens
        .header(r.candidate.operation, || header_body(r));
    let step = shown_step(r, multi_step).map_or(0, |step| count_tokens(&step));
    body + RANK_TOKENS + step
}

/// Tokens of an operation's line in the list after the declarations, with its line break.
fn listed_tokens(r: &Ranked<'_>) -> usize {
    r.api
        .line_tokens
        .listed(r.candidate.operation, || more_body(r))
        + RANK_TOKENS
}

/// Tokens of `12. ` and a line break, rounded up.
const RANK_TOKENS: usize = 4;

/// `METHOD /path`, the path made safe to print (a spec's path key may hold any character).
fn operation_key(op: &Operation) -> String {
    format!(
        "{} {}",
        op.method,
        codemode_typescript::plain_line(&op.path)
    )
}

fn blocked_reason(api: &Api, op: &Operation, caller: Option<&Caller>) -> Option<String> {
    match api.policy.verdict_for(op, caller) {
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
        let cost = listed_tokens(candidate);
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
