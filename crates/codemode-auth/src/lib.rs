//! Validates OAuth 2.1 access tokens for a protected resource: a JWT signed by the issuer's key
//! (looked up by `kid` in its JWKS), issued by the configured issuer, for this resource (`aud`),
//! within its lifetime (`exp`/`nbf`, small leeway), with the scopes the resource requires.
//! Also makes the resource's RFC 9728 metadata document.
//!
//! Key types: [`OAuthConfig`] (what to accept; [`OAuthConfig::check`] refuses `none`, HMAC and
//! unknown algorithms loudly), [`Verifier`] (`verify(token) -> Result<VerifiedToken, AuthError>`),
//! [`ProtectedResourceMetadata`], and the [`Fetch`] seam through which the issuer's documents
//! (discovery metadata, JWKS) are read ([`ReqwestFetch`] by default).
//!
//! The JWKS is fetched with a timeout, cached, and fetched again on an unknown `kid` (or when
//! older than [`OAuthConfig::max_key_age`]), but never more than once per
//! [`OAuthConfig::min_refresh_interval`]: a flood of tokens naming made-up keys costs the issuer
//! at most one request per interval.
//!
//! Must not know MCP, HTTP servers, the engine or the CLI: a front end passes the token in and
//! maps the typed [`AuthError`] to its own answer (401, or 403 for
//! [`AuthError::InsufficientScope`]). No error, log line or `Debug` output carries the token.

#![warn(missing_docs)]
#![warn(unreachable_pub)]

mod config;
mod error;
mod fetch;
mod jwks;
mod metadata;
mod verify;

pub use config::{
    ConfigError, DEFAULT_ALGORITHMS, DEFAULT_JWKS_TIMEOUT, DEFAULT_LEEWAY, DEFAULT_MAX_KEY_AGE,
    DEFAULT_MIN_REFRESH_INTERVAL, MAX_LEEWAY, OAuthConfig,
};
pub use error::{AuthError, JwksError};
pub use fetch::{Fetch, FetchError, FetchFuture, MAX_DOCUMENT_BYTES, ReqwestFetch};
pub use metadata::ProtectedResourceMetadata;
pub use verify::{BuildError, VerifiedToken, Verifier};
