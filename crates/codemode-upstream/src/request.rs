//! The plain data of one call: [`RawRequest`] (an `api.request` call as a script gives it),
//! [`PreparedRequest`] (validated and serialized, not yet sent, no credentials) and
//! [`CallRecord`] (what a session logs per call). Must not know how requests are made or sent.

use codemode_spec::Method;
use serde_json::Value;

/// A request for the `api.request` escape hatch: any method and path under the base URL.
#[derive(Debug, Clone, Default)]
pub struct RawRequest {
    /// The HTTP method in any case (`"get"`, `"POST"`); one an OpenAPI path item can have.
    pub method: String,
    /// Relative to the base URL, starting with `/`; may carry a `?query`.
    pub path: String,
    /// Query parameters as an object (arrays repeat the key, objects use brackets).
    pub query: Option<Value>,
    /// Extra headers as an object of strings.
    pub headers: Option<Value>,
    /// The body: JSON, a string, or a form/multipart object, as `content_type` says.
    pub body: Option<Value>,
    /// How to encode `body`; default JSON (text for a string body).
    pub content_type: Option<String>,
}

/// A validated, serialized request: everything that will be sent except credentials.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedRequest {
    /// The operation's name, when the request is for a spec operation.
    pub operation: Option<String>,
    /// The HTTP method.
    pub method: Method,
    /// The path template (`/repos/{owner}/{repo}`), or the raw path for unmatched raw requests.
    pub path_template: String,
    /// The full URL with its query; credentials are added only when sending.
    pub url: String,
    /// The encoded query string (without `?`), if any.
    pub query: Option<String>,
    /// Headers to send (lowercase names), without credentials.
    pub headers: Vec<(String, String)>,
    /// The serialized body bytes, if the request has a body.
    pub body: Option<Vec<u8>>,
    /// The `Content-Type` the body is sent with (with its multipart boundary), if it has one.
    pub content_type: Option<String>,
    /// The body as a value for display (JSON/form value; file parts described), redacted.
    pub body_preview: Option<Value>,
}

/// Whether a prepared request gets its `body_preview` (skipped when the request is sent
/// straight away and never shown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Preview {
    Build,
    Skip,
}

/// One call made by a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    /// The operation's name; `None` for an `api.request` call matching no operation.
    pub operation: Option<String>,
    /// The HTTP method, upper case.
    pub method: String,
    /// The path template.
    pub path: String,
    /// The path as sent, parameter values in place (below the base URL, without the query),
    /// every secret redacted.
    pub resolved_path: String,
    /// `None` when no response came (timeout, network error, refused redirect).
    pub status: Option<u16>,
    /// Milliseconds from sending to the outcome, retries and redirects included.
    pub ms: u64,
    /// Response body bytes received.
    pub bytes: u64,
    /// For a 2xx response carrying a list (see [`crate::list_items`]), its length.
    pub items: Option<usize>,
    /// Wall-clock time the call was sent (the audit log's `time`).
    pub sent_at: std::time::SystemTime,
}
