//! The errors of this crate: [`ConfigError`] when a client cannot be built, [`CallError`] when a
//! call is refused, fails on the wire, or comes back non-2xx.

use serde_json::{Value, json};

/// Why a [`crate::Client`] could not be built from its configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("base url is empty; set the upstream base url")]
    MissingBaseUrl,
    #[error("base url {url:?} is invalid: {reason}")]
    InvalidBaseUrl { url: String, reason: String },
    #[error("credential for api key scheme {scheme:?} cannot be used: {reason}")]
    ApiKeyScheme { scheme: String, reason: String },
    #[error("api key credential given but the spec declares no apiKey security scheme")]
    NoApiKeyScheme,
    #[error("oauth2 client credentials need a token url and the spec declares none")]
    NoTokenUrl,
    #[error("oauth2 token url {url:?} is invalid: {reason}")]
    InvalidTokenUrl { url: String, reason: String },
    #[error("header {name:?} cannot be sent: {reason}")]
    InvalidHeader { name: String, reason: String },
    #[error("http client could not be built: {0}")]
    HttpClient(String),
}

/// The largest `given` value (as compact JSON) kept in a validation error.
const GIVEN_MAX_CHARS: usize = 300;

/// The offending value, or its JSON text cut short when it is large (a whole body, say).
fn bounded_given(given: Value) -> Value {
    let text = serde_json::to_string(&given).unwrap_or_default();
    if text.chars().count() <= GIVEN_MAX_CHARS {
        given
    } else {
        let cut: String = text.chars().take(GIVEN_MAX_CHARS).collect();
        Value::String(format!("{cut}…"))
    }
}

/// What went wrong with a call; decides the JavaScript error class the engine throws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallErrorKind {
    /// The arguments do not fit the operation; nothing was sent.
    Validation,
    /// No operation by that name.
    UnknownOperation,
    /// The request would leave the configured origin; nothing was sent there.
    Egress,
    /// The upstream answered with a non-2xx status.
    Api,
    /// The per-call timeout or the run's deadline passed.
    Timeout,
    /// Connection refused, reset, DNS failure, TLS failure.
    Network,
    /// The response body is larger than the configured maximum.
    TooLarge,
    /// The run made as many calls as it may.
    CallLimit,
    /// The client configuration cannot serve this call (e.g. an OAuth2 token request failed).
    Config,
}

impl CallErrorKind {
    /// The JavaScript error class name the engine should throw for this kind.
    pub fn js_name(self) -> &'static str {
        match self {
            CallErrorKind::Validation => "ValidationError",
            CallErrorKind::UnknownOperation => "UnknownOperationError",
            CallErrorKind::Egress => "EgressError",
            CallErrorKind::Api => "ApiError",
            CallErrorKind::Timeout => "TimeoutError",
            CallErrorKind::Network => "NetworkError",
            CallErrorKind::TooLarge => "ResponseTooLargeError",
            CallErrorKind::CallLimit => "CallLimitError",
            CallErrorKind::Config => "ConfigError",
        }
    }
}

/// A failed call: a one- or two-line `message` a model can act on, plus structured `data`
/// (`{status, method, path, body, requestId, retryAfter}` for [`CallErrorKind::Api`],
/// `{pointer, expected, given}` for [`CallErrorKind::Validation`]). Never holds a secret value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct CallError {
    pub kind: CallErrorKind,
    pub message: String,
    pub data: Value,
}

impl CallError {
    pub fn new(kind: CallErrorKind, message: impl Into<String>) -> CallError {
        CallError {
            kind,
            message: message.into(),
            data: Value::Null,
        }
    }

    pub fn with_data(mut self, data: Value) -> CallError {
        self.data = data;
        self
    }

    /// A validation error naming where (`pointer`), what the schema wanted and what was given.
    pub(crate) fn validation(
        message: impl Into<String>,
        pointer: &str,
        expected: &str,
        given: Value,
    ) -> CallError {
        CallError::new(CallErrorKind::Validation, message).with_data(json!({
            "pointer": pointer,
            "expected": expected,
            "given": bounded_given(given),
        }))
    }
}
