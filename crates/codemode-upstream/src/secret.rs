//! Secrets and their redaction: a [`Secret`] never prints its value, and a [`Redactor`] removes
//! every configured secret (and the encodings it travels in) from text and JSON we hand back.

use std::fmt;
use std::sync::{Arc, RwLock};

use aho_corasick::{AhoCorasick, MatchKind};

use base64::Engine as _;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

/// A credential value. `Debug` and `Display` print `[redacted]`; only [`Secret::expose`] reads it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential value; from here on it prints as `[redacted]`.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret value itself; call only where it goes onto the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A secret read from a config file stays a `Secret` from the first moment, so no config struct
/// that derives `Debug` can print it.
impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Secret, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Secret {
        Secret(value.to_string())
    }
}

/// What a secret value is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Secrets shorter than this are not searched for: replacing every `ab` in a response would
/// mangle it, and a credential that short protects nothing anyway.
const MIN_REDACTED_LEN: usize = 4;

/// The set of values that must never leave the host in a result, error or log line.
///
/// Tokens learned at run time (OAuth2 access tokens) are added as they arrive, hence the lock;
/// readers take one snapshot per call and search with a prebuilt automaton, so a response is
/// scanned in one pass however many secrets there are.
#[derive(Default)]
pub(crate) struct Redactor {
    needles: RwLock<Arc<Needles>>,
}

/// One immutable generation of the secret set.
#[derive(Default)]
struct Needles {
    /// Longest first, so a secret that contains another is replaced whole.
    values: Vec<String>,
    /// Leftmost-longest matcher over `values`; `None` when there are none.
    automaton: Option<AhoCorasick>,
}

impl Needles {
    fn new(values: Vec<String>) -> Needles {
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&values)
            .ok();
        Needles { values, automaton }
    }

    fn contains_secret(&self, text: &str) -> bool {
        self.automaton.as_ref().is_some_and(|a| a.is_match(text))
    }

    /// The text with every secret replaced, or `None` when it holds none (no allocation).
    fn redacted(&self, text: &str) -> Option<String> {
        let automaton = self.automaton.as_ref()?;
        let mut matches = automaton.find_iter(text).peekable();
        matches.peek()?;
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for found in matches {
            out.push_str(&text[last..found.start()]);
            out.push_str(REDACTED);
            last = found.end();
        }
        out.push_str(&text[last..]);
        Some(out)
    }

    fn redact_value(&self, value: &mut Value) {
        match value {
            Value::String(s) => {
                if let Some(redacted) = self.redacted(s) {
                    *s = redacted;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.redact_value(v)),
            Value::Object(map) => {
                let leaky_keys: Vec<String> = map
                    .keys()
                    .filter(|k| self.contains_secret(k))
                    .cloned()
                    .collect();
                for key in leaky_keys {
                    if let Some(v) = map.remove(&key) {
                        map.insert(self.redacted(&key).unwrap_or(key), v);
                    }
                }
                map.values_mut().for_each(|v| self.redact_value(v));
            }
            _ => {}
        }
    }
}

impl Redactor {
    /// Registers a secret together with the forms it is sent in (percent-encoded, form-encoded).
    pub(crate) fn add(&self, value: &str) {
        if value.len() < MIN_REDACTED_LEN {
            return;
        }
        let encoded = utf8_percent_encode(value, NON_ALPHANUMERIC).to_string();
        let form_encoded = encoded.replace("%20", "+");
        let json_escaped = serde_json::to_string(value).unwrap_or_default();
        let json_escaped = json_escaped
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .unwrap_or(value)
            .to_string();
        let Ok(mut needles) = self.needles.write() else {
            return;
        };
        let mut values = needles.values.clone();
        for candidate in [value.to_string(), encoded, form_encoded, json_escaped] {
            if !values.contains(&candidate) {
                values.push(candidate);
            }
        }
        values.sort_by_key(|n| std::cmp::Reverse(n.len()));
        *needles = Arc::new(Needles::new(values));
    }

    /// Registers `user:password` as sent in a Basic `Authorization` header.
    pub(crate) fn add_basic(&self, username: &str, password: &str) {
        self.add(password);
        let token =
            base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
        self.add(&token);
    }

    /// The current secret set (one lock per call, not per string).
    fn snapshot(&self) -> Arc<Needles> {
        self.needles
            .read()
            .map(|n| n.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    /// The text with every secret replaced by `[redacted]`.
    pub(crate) fn redact(&self, text: &str) -> String {
        self.snapshot()
            .redacted(text)
            .unwrap_or_else(|| text.to_string())
    }

    /// Redacts a string in place; allocates only when it holds a secret.
    pub(crate) fn redact_in_place(&self, text: &mut String) {
        if let Some(redacted) = self.snapshot().redacted(text) {
            *text = redacted;
        }
    }

    /// Redacts every string (and object key) inside a JSON value, in place.
    pub(crate) fn redact_value(&self, value: &mut Value) {
        let needles = self.snapshot();
        if needles.automaton.is_some() {
            needles.redact_value(value);
        }
    }

    /// Whether no secret occurs in these bytes (true when there are no secrets).
    pub(crate) fn is_absent_from(&self, bytes: &[u8]) -> bool {
        self.snapshot()
            .automaton
            .as_ref()
            .is_none_or(|a| !a.is_match(bytes))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.snapshot().values.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints_its_value() {
        let secret = Secret::new("hunter2-token");
        assert_eq!(format!("{secret} {secret:?}"), "[redacted] [redacted]");
        assert_eq!(secret.expose(), "hunter2-token");
    }

    #[test]
    fn redactor_removes_raw_and_encoded_forms() {
        let redactor = Redactor::default();
        redactor.add("a b/c+d");
        let text = "raw a b/c+d, url a%20b%2Fc%2Bd, form a+b%2Fc%2Bd";
        assert_eq!(
            redactor.redact(text),
            "raw [redacted], url [redacted], form [redacted]"
        );
        let mut value = serde_json::json!({"k": ["x a b/c+d y"], "a b/c+d": 1});
        redactor.redact_value(&mut value);
        assert_eq!(
            value,
            serde_json::json!({"k": ["x [redacted] y"], "[redacted]": 1})
        );
    }

    #[test]
    fn short_values_are_not_searched() {
        let redactor = Redactor::default();
        redactor.add("ab");
        assert!(redactor.is_empty());
        assert_eq!(redactor.redact("abab"), "abab");
    }
}
