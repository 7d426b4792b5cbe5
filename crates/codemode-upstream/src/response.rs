//! Responses: bodies parsed by content type (JSON, text, a described binary, or null), the
//! headers worth showing, and the [`CallError`] a non-2xx response turns into.

use std::time::SystemTime;

use base64::Engine as _;
use codemode_spec::BodyKind;
use http::HeaderMap;
use serde_json::{Value, json};

use crate::error::{CallError, CallErrorKind};
use crate::request::PreparedRequest;
use crate::validate::truncate;

/// Whether a response's shown headers ([`ApiResponse::headers`]) are collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseHeaders {
    /// Collect them into [`ApiResponse::headers`].
    Keep,
    /// Leave [`ApiResponse::headers`] empty for a 2xx response (a non-2xx one keeps them for
    /// its error); the request id and `Retry-After` are read either way.
    Skip,
}

/// What came back. `body` is parsed JSON, text as a string, a binary description
/// (`{contentType, size, base64?, truncated?}`) or null (204 and empty bodies).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiResponse {
    /// The HTTP status code, after any same-origin redirects.
    pub status: u16,
    /// Selected headers (content type, paging, rate limits, ids), lowercase names, redacted.
    pub headers: Vec<(String, String)>,
    /// The parsed body (see the type's docs), redacted.
    pub body: Value,
    /// The upstream's id for the request, for reporting a problem to the API's owner: from
    /// `x-request-id`, else `request-id`, `x-github-request-id`, `x-amz-request-id` or `cf-ray`.
    pub request_id: Option<String>,
    /// Seconds the upstream asked us to wait (`Retry-After`, seconds or HTTP date).
    pub retry_after: Option<u64>,
}

/// The largest error body (as compact JSON) kept in an [`CallErrorKind::Api`] error.
const ERROR_BODY_MAX_CHARS: usize = 4000;

impl ApiResponse {
    /// Whether the status is 2xx.
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

    /// [`ApiResponse::to_error`] for a request that was moved into `send`: its operation name,
    /// method and path template are all the error needs.
    pub fn error_for(
        &self,
        operation: Option<&str>,
        method: codemode_spec::Method,
        path: &str,
    ) -> CallError {
        let method = method.as_str();
        let reason = http::StatusCode::from_u16(self.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("")
            .to_ascii_lowercase();
        let mut message = format!("{method} {path} failed: {} {reason}", self.status);
        if let Some(upstream) = self.readable_message() {
            message.push_str(": ");
            message.push_str(&upstream);
        }
        if let Some(seconds) = self.retry_after {
            message.push_str(&format!(" (retry after {seconds}s)"));
        }
        let mut data = json!({
            "status": self.status,
            "method": method,
            "path": path,
            "body": bounded_error_body(&self.body),
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

/// The body an error carries: the value as is when small; otherwise a plain string (the text
/// itself, or the JSON text of a structured body) cut at [`ERROR_BODY_MAX_CHARS`] with a marker
/// saying how much is left out. Never the JSON encoding of a string.
fn bounded_error_body(body: &Value) -> Value {
    match body {
        Value::String(text) => match cut_with_marker(text) {
            Some(cut) => Value::String(cut),
            None => body.clone(),
        },
        Value::Object(_) | Value::Array(_) => {
            let text = serde_json::to_string(body).unwrap_or_default();
            match cut_with_marker(&text) {
                Some(cut) => Value::String(cut),
                None => body.clone(),
            }
        }
        _ => body.clone(),
    }
}

/// `text` cut at [`ERROR_BODY_MAX_CHARS`] characters and marked, or `None` when it fits.
fn cut_with_marker(text: &str) -> Option<String> {
    let total = text.chars().count();
    if total <= ERROR_BODY_MAX_CHARS {
        return None;
    }
    let cut: String = text.chars().take(ERROR_BODY_MAX_CHARS).collect();
    Some(format!(
        "{cut}… [truncated: first {ERROR_BODY_MAX_CHARS} of {total} characters]"
    ))
}

/// The longest upstream message quoted in an error's one-line message.
const MESSAGE_MAX_CHARS: usize = 300;

/// The longest text excerpt of an HTML error page quoted in a message.
const HTML_EXCERPT_MAX_CHARS: usize = 200;

impl ApiResponse {
    /// The upstream's own words for the error, fit for a one-line message: the message of a
    /// JSON error shape or a short text body; for an HTML page (a proxy's or framework's error
    /// page) a short excerpt of its text, tags stripped, with its content type and size.
    fn readable_message(&self) -> Option<String> {
        if let Value::String(text) = &self.body {
            let content_type = self.header("content-type");
            if is_html(content_type, text) {
                return Some(html_summary(content_type, text));
            }
        }
        upstream_message(&self.body).map(|m| truncate(&m, MESSAGE_MAX_CHARS))
    }
}

/// HTML by its content type, or by its first characters when the type is missing or generic.
fn is_html(content_type: Option<&str>, text: &str) -> bool {
    let essence = content_type
        .and_then(|t| t.split(';').next())
        .map(|t| t.trim().to_ascii_lowercase());
    if matches!(
        essence.as_deref(),
        Some("text/html" | "application/xhtml+xml")
    ) {
        return true;
    }
    let start: String = text
        .trim_start()
        .chars()
        .take(14)
        .collect::<String>()
        .to_ascii_lowercase();
    start.starts_with("<!doctype html") || start.starts_with("<html")
}

/// `"Bad Gateway: the upstream is down" (text/html, 1234 bytes)`: the page's text without tags
/// (its `<title>` first when it has one), cut short.
fn html_summary(content_type: Option<&str>, html: &str) -> String {
    let text = one_line(&strip_tags(html));
    let kind = content_type
        .and_then(|t| t.split(';').next())
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or("text/html");
    let size = format!("({kind}, {} bytes)", html.len());
    if text.is_empty() {
        format!("HTML page {size}")
    } else {
        format!("{} {size}", truncate(&text, HTML_EXCERPT_MAX_CHARS))
    }
}

/// The text of an HTML page: tags, comments, scripts and styles left out, entities for
/// `&amp; &lt; &gt; &quot; &#39; &nbsp;` decoded. A rough reading, for messages only.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len().min(4096));
    let lower = html.to_ascii_lowercase();
    let mut rest = 0;
    while rest < html.len() {
        let Some(open) = lower[rest..].find('<').map(|i| rest + i) else {
            out.push_str(&html[rest..]);
            break;
        };
        out.push_str(&html[rest..open]);
        let skip_to = if lower[open..].starts_with("<!--") {
            lower[open..].find("-->").map(|i| open + i + 3)
        } else if lower[open..].starts_with("<script") || lower[open..].starts_with("<style") {
            let close = if lower[open..].starts_with("<script") {
                "</script>"
            } else {
                "</style>"
            };
            lower[open..].find(close).map(|i| open + i + close.len())
        } else {
            lower[open..].find('>').map(|i| open + i + 1)
        };
        out.push(' ');
        match skip_to {
            Some(next) => rest = next,
            None => break,
        }
    }
    out.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
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
    ) || name.as_bytes().windows(9).any(|w| w == b"ratelimit")
        || name.starts_with("x-rate-limit")
}

/// Header names that carry a request id, most specific first.
const REQUEST_ID_HEADERS: [&str; 5] = [
    "x-request-id",
    "request-id",
    "x-github-request-id",
    "x-amz-request-id",
    "cf-ray",
];

/// What a response's headers tell a caller, gathered in one pass over them.
pub(crate) struct HeaderFacts {
    /// The headers worth showing (lowercase names), not yet redacted.
    pub(crate) selected: Vec<(String, String)>,
    pub(crate) request_id: Option<String>,
    pub(crate) retry_after: Option<u64>,
}

/// `keep_selected: false` leaves `selected` empty (the request id and `Retry-After` are
/// still read: errors and retries need them).
pub(crate) fn header_facts(headers: &HeaderMap, keep_selected: bool) -> HeaderFacts {
    let mut selected = Vec::new();
    // (rank in REQUEST_ID_HEADERS, value) of the best request id so far.
    let mut request_id: Option<(usize, String)> = None;
    let mut retry_after_value = None;
    for (name, value) in headers {
        let name = name.as_str();
        if !is_selected_header(name) {
            continue;
        }
        if keep_selected {
            selected.push((
                name.to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            ));
        }
        if let Some(rank) = REQUEST_ID_HEADERS.iter().position(|n| *n == name)
            && request_id.as_ref().is_none_or(|(best, _)| rank < *best)
            && let Ok(text) = value.to_str()
        {
            request_id = Some((rank, text.to_string()));
        }
        if name == "retry-after" && retry_after_value.is_none() {
            retry_after_value = value.to_str().ok();
        }
    }
    HeaderFacts {
        selected,
        request_id: request_id.map(|(_, id)| id),
        retry_after: retry_after_value.and_then(parse_retry_after),
    }
}

/// `Retry-After` in seconds, from either form (delta seconds or an HTTP date).
fn parse_retry_after(value: &str) -> Option<u64> {
    let value = value.trim();
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
#[cfg(test)]
pub(crate) fn parse_body(
    status: u16,
    content_type: Option<&str>,
    bytes: &[u8],
    base64_cap: usize,
) -> Value {
    parse_body_checked(status, content_type, bytes, base64_cap).value
}

/// A parsed body, and whether every string in it (keys included) appears byte for byte in the
/// raw body — then a secret absent from the raw bytes is absent from the value too.
pub(crate) struct ParsedBody {
    pub(crate) value: Value,
    pub(crate) strings_verbatim: bool,
}

/// Parses a body by its content type (no content type: JSON if it parses, text if it is UTF-8,
/// binary otherwise), also telling whether its strings are verbatim slices of `bytes`: JSON
/// without any escape (no backslash at all) and valid UTF-8 text are; base64 and lossy text are
/// not.
pub(crate) fn parse_body_checked(
    status: u16,
    content_type: Option<&str>,
    bytes: &[u8],
    base64_cap: usize,
) -> ParsedBody {
    if status == 204 || status == 205 || bytes.is_empty() {
        return ParsedBody {
            value: Value::Null,
            strings_verbatim: true,
        };
    }
    let text_or_lossy = |bytes: &[u8]| match std::str::from_utf8(bytes) {
        Ok(text) => ParsedBody {
            value: Value::String(text.to_string()),
            strings_verbatim: true,
        },
        Err(_) => ParsedBody {
            value: Value::String(String::from_utf8_lossy(bytes).into_owned()),
            strings_verbatim: false,
        },
    };
    // serde_json only accepts valid UTF-8, so without escapes its strings are exact slices.
    let json = |value| ParsedBody {
        value,
        strings_verbatim: !bytes.contains(&b'\\'),
    };
    let binary = |content_type: &str| ParsedBody {
        value: binary_shape(content_type, bytes, base64_cap),
        strings_verbatim: false,
    };
    match content_type.map(BodyKind::classify) {
        Some(BodyKind::Json) => match serde_json::from_slice(bytes) {
            Ok(value) => json(value),
            Err(_) => text_or_lossy(bytes),
        },
        Some(BodyKind::Text | BodyKind::Form) => text_or_lossy(bytes),
        Some(BodyKind::Binary | BodyKind::Multipart) => binary(content_type.unwrap_or_default()),
        None => {
            if let Ok(value) = serde_json::from_slice(bytes) {
                return json(value);
            }
            match std::str::from_utf8(bytes) {
                Ok(_) => text_or_lossy(bytes),
                Err(_) => binary("application/octet-stream"),
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
    fn header_facts_come_from_one_pass() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("content-type", "application/json"),
            ("date", "Wed, 25 Nov 2026 09:00:00 GMT"),
            ("x-ratelimit-remaining", "41"),
            ("cf-ray", "ray-1"),
            ("x-request-id", "req-7"),
            ("retry-after", "3"),
        ] {
            headers.insert(
                http::HeaderName::from_static(name),
                http::HeaderValue::from_static(value),
            );
        }
        let facts = header_facts(&headers, true);
        let names: Vec<&str> = facts.selected.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "content-type",
                "x-ratelimit-remaining",
                "cf-ray",
                "x-request-id",
                "retry-after"
            ]
        );
        assert_eq!(facts.request_id.as_deref(), Some("req-7"));
        assert_eq!(facts.retry_after, Some(3));
        let facts = header_facts(&headers, false);
        assert!(facts.selected.is_empty());
        assert_eq!(facts.request_id.as_deref(), Some("req-7"));
        assert_eq!(facts.retry_after, Some(3));
    }

    #[test]
    fn html_pages_are_read_without_tags() {
        let page = "<html><head><title>Bad &amp; gone</title><script>var x = '<b>';</script>\
                    </head><body><!-- <p>hidden</p> --><p>Try\n again</p></body></html>";
        assert_eq!(one_line(&strip_tags(page)), "Bad & gone Try again");
        assert_eq!(
            html_summary(Some("text/html; charset=utf-8"), "<p></p>"),
            "HTML page (text/html, 7 bytes)"
        );
        assert!(is_html(None, "  <!DOCTYPE HTML><p>x"));
        assert!(!is_html(Some("text/plain"), "a < b"));
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
