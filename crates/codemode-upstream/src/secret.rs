//! Secrets and their redaction: a [`Secret`] never prints its value, and a [`Redactor`] removes
//! every configured secret (and the encodings it travels in) from text and JSON we hand back.

use std::fmt;
use std::sync::RwLock;

use base64::Engine as _;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

/// A credential value. `Debug` and `Display` print `[redacted]`; only [`Secret::expose`] reads it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
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
/// Tokens learned at run time (OAuth2 access tokens) are added as they arrive, hence the lock.
#[derive(Default)]
pub(crate) struct Redactor {
    /// Longest first, so a secret that contains another is replaced whole.
    needles: RwLock<Vec<String>>,
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
        for candidate in [value.to_string(), encoded, form_encoded, json_escaped] {
            if !needles.contains(&candidate) {
                needles.push(candidate);
            }
        }
        needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
    }

    /// Registers `user:password` as sent in a Basic `Authorization` header.
    pub(crate) fn add_basic(&self, username: &str, password: &str) {
        self.add(password);
        let token =
            base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
        self.add(&token);
    }

    /// The text with every secret replaced by `[redacted]`.
    pub(crate) fn redact(&self, text: &str) -> String {
        let Ok(needles) = self.needles.read() else {
            return text.to_string();
        };
        let mut out: Option<String> = None;
        for needle in needles.iter() {
            let current = out.as_deref().unwrap_or(text);
            if current.contains(needle.as_str()) {
                out = Some(current.replace(needle.as_str(), REDACTED));
            }
        }
        out.unwrap_or_else(|| text.to_string())
    }

    /// Whether the text holds any secret (cheaper than redacting when the answer is usually no).
    fn contains_secret(&self, text: &str) -> bool {
        self.needles
            .read()
            .map(|needles| needles.iter().any(|n| text.contains(n.as_str())))
            .unwrap_or(false)
    }

    /// Redacts every string (and object key) inside a JSON value, in place.
    pub(crate) fn redact_value(&self, value: &mut Value) {
        match value {
            Value::String(s) if self.contains_secret(s) => *s = self.redact(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.redact_value(v)),
            Value::Object(map) => {
                let leaky_keys: Vec<String> = map
                    .keys()
                    .filter(|k| self.contains_secret(k))
                    .cloned()
                    .collect();
                for key in leaky_keys {
                    if let Some(v) = map.remove(&key) {
                        map.insert(self.redact(&key), v);
                    }
                }
                map.values_mut().for_each(|v| self.redact_value(v));
            }
            _ => {}
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.needles.read().map(|n| n.is_empty()).unwrap_or(true)
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
