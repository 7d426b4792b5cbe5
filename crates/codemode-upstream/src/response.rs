//! Responses: bodies parsed by content type (JSON, text, a described binary, or null), the
//! headers worth showing, and the [`CallError`] a non-2xx response turns into.

use std::time::SystemTime;

use base64::Engine as _;
use codemode_spec::BodyKind;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::validate::truncate;
use crate::{CallError, CallErrorKind, PreparedRequest};

/// What came back. `body` is parsed JSON, text as a string, a binary description
/// (`{contentType, size, base64?, truncated?}`) or null (204 and empty bodies).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiResponse {
    pub status: u16,
    /// Selected headers (content type, paging, rate limits, ids), lowercase names, redacted.
    pub headers: Vec<(String, String)>,
    pub body: Value,
    pub request_id: Option<String>,
    /// Seconds the upstream asked us to wait (`Retry-After`, seconds or HTTP date).
    pub retry_after: Option<u64>,
}

/// The largest error body (as compact JSON) kept in an [`CallErrorKind::Api`] error.
const ERROR_BODY_MAX_CHARS: usize = 4000;

impl ApiResponse {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The header's value, by lowercase name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `ApiError` for a non-2xx response: one line naming status, method and path template,
    /// with the upstream's own message when it gave one; the (bounded) body goes in `data`.
    pub fn to_error(&self, prepared: &PreparedRequest) -> CallError {
        self.error_for(
            prepared.operation.as_deref(),
            prepared.method,
            &prepared.path_template,
        )
    }

    pub(crate) fn error_for(
        &self,
        operation: Option<&str>,
        method: codemode_spec::Method,
        path: &str,
    ) -> CallError {
        let method = method.as_str();
        let reason = reqwest::StatusCode::from_u16(self.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("")
            .to_ascii_lowercase();
        let mut message = format!("{method} {path} failed: {} {reason}", self.status);
        if let Some(upstream) = upstream_message(&self.body) {
            message.push_str(": ");
            message.push_str(&truncate(&upstream, 300));
        }
        if let Some(seconds) = self.retry_after {
            message.push_str(&format!(" (retry after {seconds}s)"));
        }
        let mut data = json!({
            "status": self.status,
            "method": method,
            "path": path,
            "body": bounded(&self.body),
        });
        if let Some(operation) = operation {
            data["operation"] = json!(operation);
        }
        if let Some(id) = &self.request_id {
            data["requestId"] = json!(id);
        }
        if let Some(seconds) = self.retry_after {
            data["retryAfter"] = json!(seconds);
        }
        CallError::new(CallErrorKind::Api, message.trim_end().to_string()).with_data(data)
    }
}

/// A body small enough to carry in an error: as is, or its JSON text cut short.
fn bounded(body: &Value) -> Value {
    let text = serde_json::to_string(body).unwrap_or_default();
    if text.chars().count() <= ERROR_BODY_MAX_CHARS {
        body.clone()
    } else {
        Value::String(truncate(&text, ERROR_BODY_MAX_CHARS))
    }
}

/// The human message inside the common error shapes: `message`, `error.message`, `error`,
/// `errors[0].message`, problem+json `detail`/`title`, or a short text body.
fn upstream_message(body: &Value) -> Option<String> {
    let candidates = [
        body.pointer("/error/message"),
        body.get("message"),
        body.pointer("/errors/0/message"),
        body.get("detail"),
        body.get("error_description"),
        body.get("error"),
        body.get("title"),
    ];
    for candidate in candidates.into_iter().flatten() {
        match candidate {
            Value::String(s) if !s.trim().is_empty() => return Some(one_line(s)),
            Value::Array(items) => {
                if let Some(Value::String(s)) = items.first() {
                    return Some(one_line(s));
                }
            }
            _ => {}
        }
    }
    match body {
        // JSON sent as text/plain still has the usual shape.
        Value::String(s) if s.trim_start().starts_with('{') => {
            match serde_json::from_str::<Value>(s) {
                Ok(parsed @ Value::Object(_)) => upstream_message(&parsed),
                _ => Some(one_line(s)),
            }
        }
        Value::String(s) if !s.trim().is_empty() => Some(one_line(s)),
        _ => None,
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Headers a script may need: content metadata, paging, rate limits, request ids.
fn is_selected_header(name: &str) -> bool {
    matches!(
        name,
        "content-type"
            | "content-length"
            | "content-disposition"
            | "link"
            | "location"
            | "etag"
            | "last-modified"
            | "retry-after"
            | "x-total-count"
            | "x-next-page"
            | "x-request-id"
            | "request-id"
            | "x-github-request-id"
            | "x-amz-request-id"
            | "cf-ray"
    ) || name.contains("ratelimit")
        || name.starts_with("x-rate-limit")
}

pub(crate) fn selected_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(name, _)| is_selected_header(name.as_str()))
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect()
}

pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    [
        "x-request-id",
        "request-id",
        "x-github-request-id",
        "x-amz-request-id",
        "cf-ray",
    ]
    .iter()
    .find_map(|name| headers.get(*name)?.to_str().ok().map(str::to_string))
}

/// `Retry-After` in seconds, from either form (delta seconds or an HTTP date).
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<u64> {
    let value = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(seconds);
    }
    if let Ok(seconds) = value.parse::<f64>()
        && seconds.is_finite()
        && seconds >= 0.0
    {
        return Some(seconds.ceil() as u64);
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .map(|d| d.as_secs())
            .unwrap_or(0),
    )
}

/// Parses a body by its content type. No content type: JSON if it parses, text if it is
/// UTF-8, binary otherwise.
pub(crate) fn parse_body(
    status: u16,
    content_type: Option<&str>,
    bytes: &[u8],
    base64_cap: usize,
) -> Value {
    if status == 204 || status == 205 || bytes.is_empty() {
        return Value::Null;
    }
    let kind = content_type.map(BodyKind::classify);
    match kind {
        Some(BodyKind::Json) => serde_json::from_slice(bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned())),
        Some(BodyKind::Text | BodyKind::Form) => {
            Value::String(String::from_utf8_lossy(bytes).into_owned())
        }
        Some(BodyKind::Binary | BodyKind::Multipart) => {
            binary_shape(content_type.unwrap_or_default(), bytes, base64_cap)
        }
        None => {
            if let Ok(value) = serde_json::from_slice(bytes) {
                return value;
            }
            match std::str::from_utf8(bytes) {
                Ok(text) => Value::String(text.to_string()),
                Err(_) => binary_shape("application/octet-stream", bytes, base64_cap),
            }
        }
    }
}

fn binary_shape(content_type: &str, bytes: &[u8], base64_cap: usize) -> Value {
    if bytes.len() <= base64_cap {
        json!({
            "contentType": content_type,
            "size": bytes.len(),
            "base64": base64::engine::general_purpose::STANDARD.encode(bytes),
        })
    } else {
        json!({
            "contentType": content_type,
            "size": bytes.len(),
            "truncated": true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_parse_by_content_type() {
        assert_eq!(
            parse_body(200, Some("application/problem+json"), br#"{"a":1}"#, 10),
            json!({"a": 1})
        );
        assert_eq!(parse_body(200, Some("text/plain"), b"hi", 10), json!("hi"));
        assert_eq!(
            parse_body(204, Some("application/json"), b"", 10),
            Value::Null
        );
        assert_eq!(
            parse_body(200, Some("image/png"), b"\x89PNG", 10),
            json!({"contentType": "image/png", "size": 4, "base64": "iVBORw=="})
        );
        assert_eq!(
            parse_body(200, Some("image/png"), b"\x89PNG", 3),
            json!({"contentType": "image/png", "size": 4, "truncated": true})
        );
        assert_eq!(parse_body(200, None, b"[1]", 10), json!([1]));
    }

    #[test]
    fn upstream_messages_are_found_in_common_shapes() {
        assert_eq!(
            upstream_message(&json!({"error": {"message": "No such customer"}})).as_deref(),
            Some("No such customer")
        );
        assert_eq!(
            upstream_message(&json!({"errors": [{"message": "bad zone"}]})).as_deref(),
            Some("bad zone")
        );
        assert_eq!(
            upstream_message(&json!({"title": "Not Found", "detail": "no pet 7"})).as_deref(),
            Some("no pet 7")
        );
        assert_eq!(upstream_message(&json!({"code": 3})), None);
    }
}
