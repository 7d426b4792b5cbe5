//! The errors of this crate: [`ConfigError`] when a client cannot be built, [`CallError`] when a
//! call is refused, fails on the wire, or comes back non-2xx.

use serde_json::{Value, json};

/// Why a [`crate::Client`] could not be built from its configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// [`UpstreamConfig::base_url`](crate::UpstreamConfig::base_url) is empty or blank.
    #[error("base url is empty; set the upstream base url")]
    MissingBaseUrl,
    /// The base URL does not parse, is not http(s), has no host, or carries credentials, a
    /// query or a fragment.
    #[error("base url {url:?} is invalid: {reason}")]
    InvalidBaseUrl {
        /// The base URL as configured (trimmed).
        url: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// An [`Credential::ApiKey`](crate::Credential::ApiKey) names a scheme the spec lacks or
    /// one that is not an apiKey scheme.
    #[error("credential for api key scheme {scheme:?} cannot be used: {reason}")]
    ApiKeyScheme {
        /// The scheme name the credential gave.
        scheme: String,
        /// Why it cannot be used (listing the schemes the spec has, where it has none by that
        /// name).
        reason: String,
    },
    /// An API key credential names no scheme and the spec declares no apiKey scheme to use.
    #[error("api key credential given but the spec declares no apiKey security scheme")]
    NoApiKeyScheme,
    /// An OAuth2 client-credentials credential has no token URL and the spec declares no
    /// client-credentials flow to take one from.
    #[error("oauth2 client credentials need a token url and the spec declares none")]
    NoTokenUrl,
    /// The OAuth2 token URL does not parse or is not http(s).
    #[error("oauth2 token url {url:?} is invalid: {reason}")]
    InvalidTokenUrl {
        /// The token URL as configured or taken from the spec.
        url: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// A credential or static header has a name or value that is not a valid HTTP header.
    /// The value is never shown.
    #[error("header {name:?} cannot be sent: {reason}")]
    InvalidHeader {
        /// The header name.
        name: String,
        /// What is wrong with the name or the value.
        reason: String,
    },
    /// A [`Credential::FromRequest`](crate::Credential::FromRequest) names a request header
    /// that cannot be a source (the server's own `Authorization`, say) or is not a header name.
    #[error("credentials cannot be taken from the request header {header:?}: {reason}")]
    ForwardedHeader {
        /// The header as configured.
        header: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// The default [`ReqwestTransport`](crate::ReqwestTransport) could not be built (e.g. no
    /// TLS roots); the text is reqwest's error.
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
    /// What went wrong; decides the JavaScript error class ([`CallErrorKind::js_name`]).
    pub kind: CallErrorKind,
    /// What happened and, where it helps, what to do, for a model to read; redacted.
    pub message: String,
    /// Structured details for a script to inspect (see the type's docs); `null` when there are
    /// none.
    pub data: Value,
}

impl CallError {
    /// An error of `kind` with `message` and no `data`.
    pub fn new(kind: CallErrorKind, message: impl Into<String>) -> CallError {
        CallError {
            kind,
            message: message.into(),
            data: Value::Null,
        }
    }

    /// The same error with `data` replaced.
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
