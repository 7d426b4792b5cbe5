//! Output budgets: token counting (o200k) and the structural JSON cutter.
//!
//! A tool result must stay within a token budget, yet the agent must always get valid JSON it can
//! reason about. So an oversized value is cut *structurally*: arrays keep their first items and end
//! with a marker saying how many were left out, objects keep their first keys, and long strings are
//! clipped with their full length noted. The text is never cut mid-JSON.
//!
//! Counting tokens is the expensive part, so the cutter works on byte sizes first (every o200k
//! token is at least one byte, so `bytes <= budget` proves a fit) and counts tokens only on the
//! final, already small candidate.

use std::io::Write;

use serde_json::{Map, Value};
use tiktoken_rs::CoreBPE;

/// The default per-result budget, in o200k tokens.
pub const DEFAULT_OUTPUT_BUDGET_TOKENS: usize = 6000;

/// The key of the marker entry added to an object whose later keys were left out.
pub(crate) const OMITTED_KEYS_MARKER: &str = "…";

/// A budget below this is raised to it: the cut value, its markers and a note must fit somewhere.
const MIN_BUDGET_TOKENS: usize = 64;

/// Bytes per token assumed for the first cut; the loop corrects it from a real count.
const INITIAL_BYTES_PER_TOKEN: usize = 3;

/// tiktoken-rs's process-wide o200k tables: one copy (tens of MB) however many crates count.
fn tokenizer() -> &'static CoreBPE {
    tiktoken_rs::o200k_base_singleton()
}

/// Builds the o200k tables on a blocking thread, so the first tool result does not wait ~0.3 s.
/// Outside a tokio runtime it does nothing: the first count builds them.
pub(crate) fn warm_up_tokenizer() {
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn_blocking(tokenizer);
    }
}

/// Counts o200k tokens of `text` (no special tokens).
pub fn count_tokens(text: &str) -> usize {
    tokenizer().encode_ordinary(text).len()
}

/// Whether `text` fits in `max_tokens`, counting only when the byte length cannot decide.
pub(crate) fn fits(text: &str, max_tokens: usize) -> bool {
    text.len() <= max_tokens || count_tokens(text) <= max_tokens
}

/// Serializes `value` as compact JSON and, when it is over `max_tokens`, cuts it structurally.
///
/// Returns the JSON text (always valid JSON) and whether anything was left out. Over budget,
/// arrays end with a marker string (`"…(N more items not shown; filter in code)"`), objects with
/// a `"…"` key naming how many keys were left out, and long strings are clipped with their length.
pub fn cut_to_budget(value: &Value, max_tokens: usize) -> (String, bool) {
    let max_tokens = max_tokens.max(MIN_BUDGET_TOKENS);
    let full_len = json_len(value);
    // A token is at least one byte: anything this short fits without counting.
    if full_len <= max_tokens {
        return (to_compact(value), false);
    }
    // Counting costs about as much as the text is long; only count what could plausibly fit.
    if full_len <= max_tokens * 8 {
        let text = to_compact(value);
        if count_tokens(&text) <= max_tokens {
            return (text, false);
        }
    }
    let mut byte_budget = (max_tokens * INITIAL_BYTES_PER_TOKEN).min(full_len.saturating_sub(1));
    for _ in 0..8 {
        let cut = cut_value(value, byte_budget);
        let text = to_compact(&cut);
        let tokens = if text.len() <= max_tokens {
            text.len()
        } else {
            count_tokens(&text)
        };
        if tokens <= max_tokens {
            return (text, true);
        }
        // Scale the byte budget by the observed bytes-per-token, with headroom for the markers.
        let scaled = (byte_budget as f64 * max_tokens as f64 / tokens as f64 * 0.9) as usize;
        byte_budget = scaled.min(byte_budget.saturating_sub(1));
    }
    (to_compact(&summary_only(value)), true)
}

/// The last resort when nothing of the value fits: its shape, with no content.
fn summary_only(value: &Value) -> Value {
    let shape = match value {
        Value::Array(items) => format!("array of {} items", items.len()),
        Value::Object(map) => format!("object with {} keys", map.len()),
        Value::String(s) => format!("string of {} chars", s.chars().count()),
        _ => "scalar".to_string(),
    };
    Value::String(format!(
        "…(result too large to show: {shape}; filter in code)"
    ))
}

fn to_compact(value: &Value) -> String {
    // Serializing a `Value` cannot fail (its keys are strings).
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_string())
}

/// The length of `value` as compact JSON, without building the text.
pub(crate) fn json_len(value: &Value) -> usize {
    let mut counter = ByteCounter(0);
    // Writing into a counter cannot fail.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

struct ByteCounter(usize);

impl Write for ByteCounter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Room kept for the marker that ends a cut array or object.
const MARKER_RESERVE: usize = 64;

/// Cuts `value` so that its compact JSON is about `budget` bytes or less.
fn cut_value(value: &Value, budget: usize) -> Value {
    match value {
        Value::String(s) => clip_string(s, budget),
        Value::Array(items) => cut_array(items, budget),
        Value::Object(map) => cut_object(map, budget),
        scalar => scalar.clone(),
    }
}

/// Strings are clipped to a share of the budget, so one long field cannot crowd out the rest.
fn clip_string(s: &str, budget: usize) -> Value {
    let limit = budget.saturating_sub(MARKER_RESERVE).max(16);
    if s.len() + 2 <= budget || s.len() <= limit {
        return Value::String(s.to_string());
    }
    let mut end = limit;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let total = s.chars().count();
    Value::String(format!("{}…(clipped; {total} chars in all)", &s[..end]))
}

fn cut_array(items: &[Value], budget: usize) -> Value {
    let room = budget.saturating_sub(2 + MARKER_RESERVE);
    let mut kept = Vec::new();
    let mut used = 0usize;
    for item in items {
        let len = json_len(item) + 1; // plus the comma
        if used + len <= room {
            kept.push(item.clone());
            used += len;
            continue;
        }
        // The first item that does not fit whole gets what is left, if that is worth showing.
        let left = room.saturating_sub(used);
        if left >= MARKER_RESERVE
            && matches!(item, Value::Array(_) | Value::Object(_) | Value::String(_))
        {
            kept.push(cut_value(item, left));
        }
        break;
    }
    let omitted = items.len() - kept.len();
    if omitted > 0 {
        kept.push(Value::String(format!(
            "…({omitted} more items not shown; filter or slice in code)"
        )));
    }
    Value::Array(kept)
}

fn cut_object(map: &Map<String, Value>, budget: usize) -> Value {
    let room = budget.saturating_sub(2 + MARKER_RESERVE);
    let mut kept = Map::new();
    let mut used = 0usize;
    for (key, item) in map {
        let key_len = json_len(&Value::String(key.clone())) + 2; // quotes, colon and comma
        let len = key_len + json_len(item);
        if used + len <= room {
            kept.insert(key.clone(), item.clone());
            used += len;
            continue;
        }
        let left = room.saturating_sub(used + key_len);
        if left >= MARKER_RESERVE {
            let cut = cut_value(item, left);
            used += key_len + json_len(&cut);
            kept.insert(key.clone(), cut);
        }
        // Otherwise skip it: small later keys (ids, counts) may still fit.
    }
    let omitted = map.len() - kept.len();
    if omitted > 0 {
        kept.insert(
            OMITTED_KEYS_MARKER.to_string(),
            Value::String(format!("({omitted} more keys not shown; filter in code)")),
        );
    }
    Value::Object(kept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn small_values_come_back_unchanged() {
        let value = json!({"a": [1, 2, 3], "b": "x"});
        let (text, cut) = cut_to_budget(&value, 6000);
        assert!(!cut);
        assert_eq!(text, r#"{"a":[1,2,3],"b":"x"}"#);
    }

    #[test]
    fn a_long_array_is_cut_with_a_count_of_what_was_left_out() {
        let items: Vec<Value> = (0..10_000)
            .map(|i| json!({"id": i, "name": format!("item {i}")}))
            .collect();
        let value = json!({"items": items, "total": 10_000});
        let (text, cut) = cut_to_budget(&value, 500);
        assert!(cut);
        assert!(count_tokens(&text) <= 500, "{} tokens", count_tokens(&text));
        let back: Value = serde_json::from_str(&text).expect("valid JSON");
        let kept = back["items"].as_array().expect("items stays an array");
        assert!(kept.len() > 5, "kept {} items", kept.len());
        let marker = kept
            .last()
            .and_then(Value::as_str)
            .expect("marker at the end");
        let shown = kept.len() - 1;
        assert!(
            marker.contains(&format!("{} more items", 10_000 - shown)),
            "{marker}"
        );
        assert_eq!(back["total"], 10_000);
    }

    #[test]
    fn a_long_string_is_clipped_with_its_length() {
        let value = json!({"blob": "é".repeat(50_000)});
        let (text, cut) = cut_to_budget(&value, 300);
        assert!(cut);
        assert!(count_tokens(&text) <= 300);
        let back: Value = serde_json::from_str(&text).expect("valid JSON");
        assert!(
            back["blob"]
                .as_str()
                .expect("string")
                .contains("50000 chars in all")
        );
    }

    #[test]
    fn ten_megabytes_come_back_as_valid_json_within_budget_quickly() {
        let row = json!({"id": "0123456789abcdef", "name": "a fairly ordinary name", "tags": ["x", "y", "z"], "n": 12345});
        let rows: Vec<Value> = (0..120_000).map(|_| row.clone()).collect();
        let value = json!({"rows": rows});
        assert!(json_len(&value) > 10_000_000);
        let started = std::time::Instant::now();
        let (text, cut) = cut_to_budget(&value, DEFAULT_OUTPUT_BUDGET_TOKENS);
        let elapsed = started.elapsed();
        assert!(cut);
        assert!(count_tokens(&text) <= DEFAULT_OUTPUT_BUDGET_TOKENS);
        serde_json::from_str::<Value>(&text).expect("valid JSON");
        // Generous bound for an unoptimized test build on a busy machine; the bench has real figures.
        assert!(elapsed.as_secs_f64() < 5.0, "took {elapsed:?}");
    }

    #[test]
    fn a_deeply_nested_oversized_value_stays_valid() {
        let mut value = json!("x".repeat(100_000));
        for i in 0..50 {
            value = json!({"level": i, "child": value, "sibling": [1, 2, 3]});
        }
        let (text, cut) = cut_to_budget(&value, 200);
        assert!(cut);
        assert!(count_tokens(&text) <= 200);
        serde_json::from_str::<Value>(&text).expect("valid JSON");
    }

    #[test]
    fn an_object_with_many_keys_names_how_many_were_left_out() {
        let map: Map<String, Value> = (0..5000).map(|i| (format!("key{i}"), json!(i))).collect();
        let value = Value::Object(map);
        let (text, cut) = cut_to_budget(&value, 200);
        assert!(cut);
        let back: Value = serde_json::from_str(&text).expect("valid JSON");
        let marker = back[OMITTED_KEYS_MARKER].as_str().expect("marker key");
        let shown = back.as_object().expect("object").len() - 1;
        assert!(
            marker.contains(&format!("{} more keys", 5000 - shown)),
            "{marker}"
        );
    }

    #[test]
    fn text_that_compresses_well_is_not_cut_needlessly() {
        // 20k spaces are few tokens: the byte estimate alone would cut this.
        let value = json!(" ".repeat(20_000));
        let (_, cut) = cut_to_budget(&value, 6000);
        assert!(!cut);
    }
}
