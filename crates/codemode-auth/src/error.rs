//! Why a token was refused, and why the issuer's keys could not be had. Messages name what was
//! wrong (expired, wrong audience, unknown key …) and never hold the token; values from the
//! token that a message does show (`alg`, `kid`) are cut short and quoted, so a made-up header
//! cannot forge a log line.

use std::time::Duration;

use crate::fetch::FetchError;

/// Why [`Verifier::verify`](crate::Verifier::verify) refused a token. Every variant but
/// [`AuthError::InsufficientScope`] means the token is not acceptable at all (HTTP 401,
/// `error="invalid_token"`); that one means a valid token lacks a scope (403).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// Not a JWS compact token (three base64url parts, a JSON header and claims).
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// The header names an algorithm that is not configured (`none`, `HS256`, …).
    #[error("algorithm {0:?} is not accepted")]
    AlgorithmNotAllowed(String),
    /// The token names a key the issuer's JWKS does not hold (after a refresh, when one was due).
    #[error("unknown signing key {0:?}")]
    UnknownKey(String),
    /// The token names no key and the JWKS holds more than one.
    #[error("the token names no signing key (kid) and the issuer has several")]
    MissingKeyId,
    /// The key the token names is for another algorithm than the token's.
    #[error("signing key {kid:?} is not for algorithm {alg:?}")]
    KeyMismatch {
        /// The key's id.
        kid: String,
        /// The token's algorithm.
        alg: String,
    },
    /// The issuer's keys could not be fetched; see the source.
    #[error("the issuer's signing keys are unavailable")]
    Jwks(#[source] JwksError),
    /// The signature does not verify with the named key.
    #[error("signature does not verify")]
    BadSignature,
    /// `exp` is past (beyond the leeway).
    #[error("token expired")]
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    #[error("token not valid yet (nbf is in the future)")]
    NotYetValid,
    /// `aud` does not contain this resource.
    #[error("token audience is not this resource")]
    WrongAudience,
    /// `iss` is not the configured issuer.
    #[error("token issuer is not the configured issuer")]
    WrongIssuer,
    /// A claim every access token must have is absent.
    #[error("token has no {0:?} claim")]
    MissingClaim(String),
    /// A claim has the wrong type (`exp` as a string, `scope` as a number …).
    #[error("token claim {0:?} has the wrong type")]
    BadClaim(String),
    /// The token is valid but lacks scopes the resource requires.
    #[error("token lacks the required scope {}", missing.join(" "))]
    InsufficientScope {
        /// The required scopes the token does not carry.
        missing: Vec<String>,
    },
}

impl AuthError {
    /// A short, fixed name for the reason (for logs and metrics labels): `expired`,
    /// `wrong_audience`, `unknown_key`, `insufficient_scope`, ….
    pub fn reason(&self) -> &'static str {
        match self {
            AuthError::Malformed(_) => "malformed",
            AuthError::AlgorithmNotAllowed(_) => "algorithm_not_allowed",
            AuthError::UnknownKey(_) => "unknown_key",
            AuthError::MissingKeyId => "missing_kid",
            AuthError::KeyMismatch { .. } => "key_mismatch",
            AuthError::Jwks(_) => "jwks_unavailable",
            AuthError::BadSignature => "bad_signature",
            AuthError::Expired => "expired",
            AuthError::NotYetValid => "not_yet_valid",
            AuthError::WrongAudience => "wrong_audience",
            AuthError::WrongIssuer => "wrong_issuer",
            AuthError::MissingClaim(_) => "missing_claim",
            AuthError::BadClaim(_) => "bad_claim",
            AuthError::InsufficientScope { .. } => "insufficient_scope",
        }
    }
}

/// Why the issuer's keys could not be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JwksError {
    /// Reading a document failed (refused connection, non-2xx status, too large).
    #[error("cannot read {what}")]
    Fetch {
        /// `jwks` or `discovery`.
        what: &'static str,
        /// Why.
        #[source]
        source: FetchError,
    },
    /// Reading a document took longer than the configured timeout.
    #[error("reading the {what} document from {url} took longer than {after:?}")]
    Timeout {
        /// `jwks` or `discovery`.
        what: &'static str,
        /// The URL read.
        url: String,
        /// The configured timeout.
        after: Duration,
    },
    /// A document is not the JSON it should be.
    #[error("the {what} document from {url} is not valid: {why}")]
    Invalid {
        /// `jwks` or `discovery`.
        what: &'static str,
        /// The URL read.
        url: String,
        /// What is wrong with it.
        why: String,
    },
    /// Neither discovery document names this issuer's `jwks_uri`.
    #[error("no discovery document of issuer {issuer} names a jwks_uri")]
    NotDiscovered {
        /// The configured issuer.
        issuer: String,
        /// The last discovery failure.
        #[source]
        source: Box<JwksError>,
    },
    /// The last fetch failed and the next is not due yet (the refresh throttle).
    #[error("the last fetch failed and the next is allowed in {retry_in:?}")]
    Throttled {
        /// Time until the next fetch may be made.
        retry_in: Duration,
    },
}

/// `value` quoted-safe and cut to 64 characters, for messages that show part of a token.
pub(crate) fn shown(value: &str) -> String {
    value.chars().filter(|c| !c.is_control()).take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_is_wrong() {
        assert_eq!(AuthError::Expired.to_string(), "token expired");
        assert_eq!(
            AuthError::UnknownKey(shown("k\n2")).to_string(),
            "unknown signing key \"k2\""
        );
        assert_eq!(
            AuthError::InsufficientScope {
                missing: vec!["mcp:tools".into(), "write".into()]
            }
            .to_string(),
            "token lacks the required scope mcp:tools write"
        );
        let error = AuthError::Jwks(JwksError::Throttled {
            retry_in: Duration::from_secs(3),
        });
        let chain = format!(
            "{error}: {}",
            std::error::Error::source(&error).expect("a source")
        );
        assert_eq!(
            chain,
            "the issuer's signing keys are unavailable: the last fetch failed and the next is allowed in 3s"
        );
    }
}
