//! The host side of `execute`: a typed HTTP client for one OpenAPI-described upstream. Owns
//! validation of a script's `args` against an operation (jsonschema, draft 2020-12, with
//! did-you-mean messages), serialization from the spec (parameter styles; JSON, form with
//! Stripe brackets, multipart, binary and text bodies), credentials added on the way out
//! (bearer, basic, API keys, OAuth2 client credentials, static headers), redaction of every
//! secret from what comes back, egress control (one origin, same-origin redirects only),
//! limits (timeouts, call budget, concurrency, response size, retries) and pagination.
//! Key types: [`Client`] (per upstream), [`Session`] (per run), [`PreparedRequest`],
//! [`ApiResponse`], [`CallError`], and the [`Transport`] seam. Must not know the sandbox,
//! JavaScript, TypeScript, search or MCP; the only spec knowledge it has comes from
//! `codemode-spec`.
//!
//! # The transport seam
//!
//! The last hop is a [`Transport`]: a finished `http::Request<Bytes>` in, an `http::Response`
//! with a streaming [`ResponseBody`] out. [`ReqwestTransport`] (the network, following no
//! redirects) is the default; [`InProcess`] calls any tower `Service`, such as an
//! `axum::Router`, in this process with no socket; set either, or your own, in
//! [`UpstreamConfig::transport`]. The OAuth2 token request goes through the same transport.
//!
//! A custom transport cannot bypass credentials, redaction, egress rules or limits: they are all
//! applied above the seam. A transport only ever sees requests whose origin was checked, with
//! credentials already added (for the configured origin only; a redirect elsewhere is refused
//! before it is sent); its responses are read up to [`UpstreamConfig::max_response_bytes`]
//! while they stream and redacted before anyone sees them; the call budget, concurrency,
//! timeouts and retries wrap every exchange. A transport error is treated as a failed
//! connection: retried for idempotent methods, then a [`CallErrorKind::Network`] error whose
//! message carries the cause chain once.
//!
//! ```
//! use std::sync::Arc;
//!
//! use axum::{Json, Router, routing::get};
//! use codemode_upstream::{InProcess, UpstreamConfig};
//!
//! let api = Router::new().route("/v1/pets", get(|| async { Json(["Rex", "Ada"]) }));
//! let config = UpstreamConfig {
//!     // Never resolved: requests go to the router, not to a socket.
//!     base_url: "http://api.invalid/v1".into(),
//!     transport: Some(Arc::new(InProcess::new(api))),
//!     ..UpstreamConfig::default()
//! };
//! ```
//!
//! # Shapes seen by scripts
//!
//! - `args`: one object keyed as [`codemode_spec::Operation::arguments`] says (parameters by
//!   name, the request body under `body`). Strings for numeric/boolean parameters and numbers
//!   for string parameters are converted; a lone value for an array parameter is wrapped.
//! - File values (multipart parts, `application/octet-stream` bodies), declared as `Binary` in
//!   the TypeScript globals: `{ data: string | number[], encoding?: "base64" | "utf8",
//!   filename?: string, contentType?: string }`, `{ base64: string, filename?, contentType? }`
//!   (the shape binary responses come back in), or a plain string. Where the schema says a
//!   multipart field is binary, any other object is a validation error.
//! - Request media type: the spec's preferred one, except for PATCH bodies offered as JSON Patch
//!   and object patch types without plain JSON: an array goes as `json-patch+json`, anything
//!   else as `merge-patch+json` (then strategic merge, then apply patch).
//! - readOnly properties are not required of request bodies (also when the `required` list
//!   is beside the `allOf`/`oneOf` that declares them); one sent anyway is passed through.
//! - Response bodies: parsed JSON; text as a string; `null` for 204 and empty bodies; binary as
//!   `{ contentType, size, base64 }`, or `{ contentType, size, truncated: true }` above
//!   [`UpstreamConfig::binary_base64_cap`].
//! - Errors: [`CallError`] with [`CallErrorKind::js_name`] as the class name, `message`, and
//!   `data` (`{status, method, path, body, requestId?, retryAfter?, operation?}` for API errors,
//!   `{pointer, expected, given}` for validation errors). An API error's `body` is the parsed
//!   body when small; past 4000 characters a plain string (text, or a JSON body's JSON text)
//!   cut with `… [truncated: first 4000 of N characters]`. Its message quotes the upstream's
//!   own message; for an HTML page, its text without tags (≤ 200 characters) with content type
//!   and size.
//!
//! # Redaction
//!
//! Every configured secret (and every OAuth2 token fetched) is replaced by `[redacted]` in
//! response bodies, selected headers, error messages and error data, in raw, percent-encoded,
//! form-encoded and (for Basic) base64 form. Values shorter than 4 characters are not searched
//! for. Requests themselves are never rewritten.

#![warn(missing_docs)]
#![warn(unreachable_pub)]

mod auth;
mod body;
mod client;
mod config;
mod egress;
mod error;
mod forward;
mod media;
mod paginate;
mod plan;
mod prepare;
mod request;
mod response;
mod secret;
mod send;
mod serialize;
mod tls;
mod trace;
mod transport;
mod upstream;
mod validate;

pub use client::{Client, PrecompileReport, Session};
pub use codemode_spec::Method;
pub use config::{
    Credential, DeadlineExtension, PageLimits, PageStyle, SessionLimits, UpstreamConfig,
};
pub use error::{CallError, CallErrorKind, ConfigError};
pub use forward::{ForwardTarget, Forwarded, MAX_FORWARDED_BYTES, RequestCredentials};
pub use paginate::{Pages, PagesCut, detect_style, list_items};
pub use request::{CallRecord, PreparedRequest, RawRequest};
pub use response::{ApiResponse, ResponseHeaders};
pub use secret::{REDACTED, Secret};
pub use tls::install_crypto_provider;
pub use trace::PropagateTrace;
// The crates the [`Transport`] signature is made of, so an embedder names the same versions.
pub use {bytes, http, http_body, http_body_util};

pub use transport::{
    BoxError, InProcess, ReqwestTransport, ResponseBody, Transport, TransportError,
    TransportErrorKind, TransportFuture,
};
