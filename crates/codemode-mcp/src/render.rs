//! Turns engine outcomes into MCP tool results, within the output budget.
//!
//! A result carries, in this order: the program's value as compact JSON (cut structurally when it
//! is over budget, with a note), the captured console lines, the planned requests of a dry run,
//! and a compact list of the upstream calls made. A failure sets `isError` and gives the message,
//! `line:col`, and the calls made so far. Side sections get at most a quarter of the budget, so
//! the value always keeps most of it.

use std::fmt::Write as _;

use codemode_engine::{CallRecord, ExecuteOutcome, LogLine, PlannedRequest, ScriptFailure};
use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::Value;

use crate::budget::{count_tokens, cut_to_budget, fits};

/// Longest single console line or planned body kept, in characters.
const MAX_SIDE_LINE_CHARS: usize = 500;

/// Renders a finished run.
pub(crate) fn outcome_result(outcome: &ExecuteOutcome, max_tokens: usize) -> CallToolResult {
    let side = side_sections(outcome, max_tokens / 4);
    let side_tokens: usize = side.iter().map(|s| count_tokens(s)).sum();
    let value_budget = max_tokens.saturating_sub(side_tokens).max(max_tokens / 2);
    match &outcome.result {
        Ok(value) => success(value, value_budget, side),
        Err(failure) => {
            let mut content = vec![ContentBlock::text(failure_text(failure))];
            content.extend(side.into_iter().map(ContentBlock::text));
            CallToolResult::error(content)
        }
    }
}

fn success(value: &Value, budget: usize, side: Vec<String>) -> CallToolResult {
    let (text, was_cut) = cut_to_budget(value, budget);
    let mut content = vec![ContentBlock::text(text.clone())];
    if was_cut {
        content.push(ContentBlock::text(format!(
            "note: the result was over {budget} tokens and was cut (see the \"…\" markers). \
             Filter, slice or aggregate in code and return only what is needed."
        )));
    }
    content.extend(side.into_iter().map(ContentBlock::text));
    let mut result = CallToolResult::success(content);
    if value.is_object() {
        // The cut text is valid JSON by construction; parse it back so both forms agree.
        result.structured_content = serde_json::from_str::<Value>(&text)
            .ok()
            .filter(Value::is_object);
    }
    result
}

/// `exception at 3:14: message` — what the agent needs to fix the program.
pub(crate) fn failure_text(failure: &ScriptFailure) -> String {
    let mut text = format!("error ({})", failure.kind);
    match (failure.line, failure.col) {
        (Some(line), Some(col)) => {
            let _ = write!(text, " at line {line}:{col}");
        }
        (Some(line), None) => {
            let _ = write!(text, " at line {line}");
        }
        _ => {}
    }
    let _ = write!(text, ": {}", failure.message);
    text
}

/// Console lines, planned requests and calls, each one text block, together within `budget`.
fn side_sections(outcome: &ExecuteOutcome, budget: usize) -> Vec<String> {
    let mut sections = Vec::new();
    if !outcome.logs.is_empty() {
        sections.push((
            "console",
            outcome.logs.iter().map(log_line).collect::<Vec<_>>(),
        ));
    }
    if !outcome.planned.is_empty() {
        sections.push((
            "planned (dry run, not sent)",
            outcome.planned.iter().map(planned_line).collect(),
        ));
    }
    if !outcome.calls.is_empty() {
        sections.push(("calls", outcome.calls.iter().map(call_line).collect()));
    }
    let share = if sections.is_empty() {
        0
    } else {
        budget / sections.len()
    };
    sections
        .into_iter()
        .map(|(title, lines)| section_within(title, &lines, share))
        .collect()
}

/// `title:` then as many lines as fit; the rest is counted, never silently dropped.
fn section_within(title: &str, lines: &[String], budget: usize) -> String {
    let mut text = format!("{title}:");
    for (shown, line) in lines.iter().enumerate() {
        let candidate = format!("{text}\n{line}");
        if !fits(&candidate, budget) {
            let _ = write!(text, "\n…({} more lines not shown)", lines.len() - shown);
            return text;
        }
        text = candidate;
    }
    text
}

fn log_line(line: &LogLine) -> String {
    clip(&format!("[{}] {}", line.level, line.text))
}

/// `GET /pets/3 → 200 (7 ms, 3 items)`: the engine's line for a call.
fn call_line(call: &CallRecord) -> String {
    clip(&call.to_string())
}

fn planned_line(planned: &PlannedRequest) -> String {
    let mut line = format!("{} {}", planned.method, planned.path);
    if let Some(query) = &planned.query {
        let _ = write!(line, "?{query}");
    }
    if let Some(body) = &planned.body {
        let _ = write!(line, " {body}");
    }
    clip(&line)
}

fn clip(text: &str) -> String {
    match text.char_indices().nth(MAX_SIDE_LINE_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// Plain text (search answers) clipped at a line boundary to fit `max_tokens`.
pub(crate) fn text_within(text: &str, max_tokens: usize) -> String {
    if fits(text, max_tokens) {
        return text.to_string();
    }
    let lines: Vec<&str> = text.lines().collect();
    // Binary search on the number of whole lines that fit, with room for the note.
    let budget = max_tokens.saturating_sub(32);
    let (mut low, mut high) = (0usize, lines.len());
    while low < high {
        let mid = (low + high).div_ceil(2);
        if fits(&lines[..mid].join("\n"), budget) {
            low = mid;
        } else {
            high = mid - 1;
        }
    }
    format!(
        "{}\n…(cut to fit {max_tokens} tokens; {} more lines)",
        lines[..low].join("\n"),
        lines.len() - low
    )
}

/// An error result with one message (bad arguments, unknown tool, a failed task).
pub(crate) fn error_result(message: impl Into<String>) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message.into())])
}

/// An error and its causes joined by ": " (what anyhow's `{:#}` prints): an error's own message
/// says what failed and its `source()` why, so an agent needs the whole chain to act on it.
pub(crate) fn chain_text(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        let _ = write!(text, ": {error}");
        cause = error.source();
    }
    text
}
