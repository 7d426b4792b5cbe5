//! Credentials taken from each incoming request ([`Credential::FromRequest`]): a hosted server
//! where every user's calls reach the API as that user.
//!
//! The mapping is resolved once, against the spec, when the client is built (`ForwardSlot`s);
//! the values come with each run ([`RequestCredentials`]) and are checked and placed when its
//! session starts (`ForwardedValues`). They live in that session only: nothing here is cached
//! across runs, and each session redacts its own values from everything it returns, on top of
//! the client's configured secrets.
//!
//! The request header that authenticates the client to the server itself (`Authorization`) can
//! never be a source: the MCP authorization spec forbids passing a token on to an API it was
//! not issued for, so a mapping that names it is refused when the client is built.
//!
//! [`Credential::FromRequest`]: crate::Credential::FromRequest

use std::collections::BTreeMap;

use codemode_spec::ApiKeyLocation;
use http::header::{HeaderName, HeaderValue};

use crate::error::{CallError, CallErrorKind, ConfigError};
use crate::secret::{Redactor, Secret};
use crate::serialize::encode;

/// The largest credential value taken from a request, in bytes. Real tokens are a few KiB at
/// most; anything larger is refused rather than sent.
pub const MAX_FORWARDED_BYTES: usize = 8 * 1024;

/// Request headers that can never be a credential's source: the server's own authentication,
/// and headers that describe the connection rather than the caller.
const NEVER_FORWARDED: [&str; 4] = ["authorization", "proxy-authorization", "cookie", "host"];

/// Where a credential taken from the request goes; see [`Credential::FromRequest`].
///
/// [`Credential::FromRequest`]: crate::Credential::FromRequest
#[derive(Debug, Clone)]
pub struct Forwarded {
    /// The request header the value comes in (any case), e.g. `X-Upstream-Authorization`.
    pub header: String,
    /// Where the value goes on the upstream request.
    pub target: ForwardTarget,
    /// A run whose request lacks the header fails each call with a message naming it, and
    /// sends nothing. When false the call goes out without this credential.
    pub required: bool,
}

/// Where a forwarded value is placed on the upstream request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForwardTarget {
    /// The `Authorization` header, verbatim (`Bearer …`, `token …`).
    Authorization,
    /// The spec's apiKey scheme (header, query or cookie): the named one, or the first.
    ApiKey {
        /// The security scheme's name in the spec; `None` = the spec's first apiKey scheme.
        scheme: Option<String>,
    },
    /// A header of this name.
    Header(String),
}

/// Upstream credential values one incoming request carried, by the name of the header they came
/// in (any case). Secrets from the moment they are read.
#[derive(Debug, Clone, Default)]
pub struct RequestCredentials {
    values: BTreeMap<String, Secret>,
}

impl RequestCredentials {
    /// Records the value of the request header `header`.
    pub fn insert(&mut self, header: &str, value: Secret) {
        self.values.insert(header.to_ascii_lowercase(), value);
    }

    /// The value the request carried in `header`, if any.
    pub fn get(&self, header: &str) -> Option<&Secret> {
        self.values.get(&header.to_ascii_lowercase())
    }

    /// Whether the request carried none.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Every header (lower case) and its value, in header order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Secret)> {
        self.values
            .iter()
            .map(|(header, value)| (header.as_str(), value))
    }
}

/// One mapping, resolved against the spec.
pub(crate) struct ForwardSlot {
    /// The request header, lower case.
    incoming: String,
    place: Place,
    required: bool,
}

enum Place {
    Header(HeaderName),
    Query(String),
    Cookie(String),
}

impl ForwardSlot {
    /// The request header the value comes in, lower case.
    pub(crate) fn incoming(&self) -> &str {
        &self.incoming
    }

    /// Checks the mapping; `api_key_scheme` finds the spec's apiKey scheme (by name, or the
    /// first) for [`ForwardTarget::ApiKey`].
    pub(crate) fn resolve(
        forwarded: &Forwarded,
        api_key_scheme: impl FnOnce(Option<&str>) -> Result<(String, ApiKeyLocation), ConfigError>,
    ) -> Result<ForwardSlot, ConfigError> {
        let incoming = forwarded.header.trim().to_ascii_lowercase();
        let refuse = |reason: &str| ConfigError::ForwardedHeader {
            header: forwarded.header.clone(),
            reason: reason.to_string(),
        };
        if HeaderName::from_bytes(incoming.as_bytes()).is_err() {
            return Err(refuse("not a valid header name"));
        }
        if NEVER_FORWARDED.contains(&incoming.as_str()) {
            return Err(refuse(
                "this header belongs to the request to this server (its own credentials or \
                 connection), so it is never passed on; have clients send the upstream \
                 credential in a header of its own, such as X-Upstream-Authorization",
            ));
        }
        let place = match &forwarded.target {
            ForwardTarget::Authorization => Place::Header(http::header::AUTHORIZATION),
            ForwardTarget::Header(name) => {
                Place::Header(HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
                    ConfigError::InvalidHeader {
                        name: name.clone(),
                        reason: "not a valid header name".to_string(),
                    }
                })?)
            }
            ForwardTarget::ApiKey { scheme } => {
                let (name, location) = api_key_scheme(scheme.as_deref())?;
                match location {
                    ApiKeyLocation::Header => {
                        Place::Header(HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                            ConfigError::InvalidHeader {
                                name: name.clone(),
                                reason: "the spec's apiKey header is not a valid header name"
                                    .to_string(),
                            }
                        })?)
                    }
                    ApiKeyLocation::Query => Place::Query(name),
                    ApiKeyLocation::Cookie => Place::Cookie(name),
                }
            }
        };
        Ok(ForwardSlot {
            incoming,
            place,
            required: forwarded.required,
        })
    }
}

/// One session's forwarded credentials, checked and ready to add to each request.
#[derive(Default)]
pub(crate) struct ForwardedValues {
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    /// `name=value` pieces, encoded.
    pub(crate) query: Vec<String>,
    /// `name=value` pieces, encoded.
    pub(crate) cookies: Vec<String>,
    /// Why no call of this session may be sent (a required header is missing, a value is
    /// refused); `None` when they may.
    refusal: Option<String>,
    /// This session's values, in every form they are sent in.
    pub(crate) redactor: Redactor,
}

impl ForwardedValues {
    /// Takes each slot's value from `credentials`. A missing required header or a refused value
    /// does not fail here: every call of the session fails instead, naming the header, so a run
    /// that makes no call (or only dry-run calls) is unaffected.
    pub(crate) fn take(slots: &[ForwardSlot], credentials: &RequestCredentials) -> ForwardedValues {
        let mut values = ForwardedValues::default();
        for slot in slots {
            match credentials.get(&slot.incoming) {
                Some(value) => {
                    if let Err(reason) = values.place(slot, value) {
                        values.refuse(reason);
                    }
                }
                None if slot.required => values.refuse(format!(
                    "this API takes its credentials from each request's {} header \
                     ([auth.from_request]), and this request did not carry it; nothing was sent",
                    slot.incoming
                )),
                None => {}
            }
        }
        values
    }

    fn refuse(&mut self, reason: String) {
        self.refusal.get_or_insert(reason);
    }

    fn place(&mut self, slot: &ForwardSlot, value: &Secret) -> Result<(), String> {
        let text = value.expose().trim();
        let refused = |why: &str| {
            format!(
                "the credential in the request's {} header is refused: {why}; nothing was sent",
                slot.incoming
            )
        };
        if text.len() > MAX_FORWARDED_BYTES {
            return Err(refused(&format!(
                "it is longer than {MAX_FORWARDED_BYTES} bytes"
            )));
        }
        if text.is_empty() {
            return Err(refused("it is empty"));
        }
        if text.chars().any(|c| c.is_control()) {
            return Err(refused("it holds control characters (CR, LF or others)"));
        }
        // Tokens, keys and their schemes are visible ASCII; anything else would reach the
        // upstream as bytes it reads differently from us (or not at all).
        if !text.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
            return Err(refused("it holds characters other than visible ASCII"));
        }
        self.redactor.add(text);
        // `Bearer abc` is also redacted as `abc`, in case a response echoes only the token.
        if let Some((_, token)) = text.split_once(' ') {
            self.redactor.add(token.trim());
        }
        match &slot.place {
            Place::Header(name) => {
                let mut header = HeaderValue::from_str(text)
                    .map_err(|_| refused("it is not a valid header value"))?;
                header.set_sensitive(true);
                self.headers.push((name.clone(), header));
            }
            Place::Query(name) => self
                .query
                .push(format!("{}={}", encode(name), encode(text))),
            Place::Cookie(name) => self
                .cookies
                .push(format!("{}={}", encode(name), encode(text))),
        }
        Ok(())
    }

    /// Fails when this session may send nothing (see [`ForwardedValues::take`]).
    pub(crate) fn check(&self) -> Result<(), CallError> {
        match &self.refusal {
            Some(reason) => Err(CallError::new(CallErrorKind::Config, reason.clone())),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(required: bool) -> ForwardSlot {
        ForwardSlot {
            incoming: "x-upstream-authorization".into(),
            place: Place::Header(http::header::AUTHORIZATION),
            required,
        }
    }

    fn with(value: &str) -> RequestCredentials {
        let mut credentials = RequestCredentials::default();
        credentials.insert("X-Upstream-Authorization", Secret::new(value));
        credentials
    }

    #[test]
    fn a_value_is_placed_and_redacted_with_and_without_its_scheme() {
        let values = ForwardedValues::take(&[slot(true)], &with("Bearer abc-123-token"));
        assert!(values.check().is_ok());
        assert_eq!(values.headers.len(), 1);
        assert_eq!(values.headers[0].1, "Bearer abc-123-token");
        assert!(values.headers[0].1.is_sensitive());
        assert_eq!(
            values.redactor.redact("got abc-123-token back"),
            "got [redacted] back"
        );
    }

    #[test]
    fn a_missing_required_header_refuses_every_call_naming_it() {
        let values = ForwardedValues::take(&[slot(true)], &RequestCredentials::default());
        let error = values.check().unwrap_err();
        assert!(
            error.message.contains("x-upstream-authorization"),
            "{error}"
        );
        assert!(
            ForwardedValues::take(&[slot(false)], &RequestCredentials::default())
                .check()
                .is_ok()
        );
    }

    #[test]
    fn control_characters_and_oversized_values_are_refused_whatever_required_says() {
        for bad in [
            "Bearer a\r\nX-Injected: 1".to_string(),
            "Bearer a\nb".to_string(),
            format!("Bearer {}", "a".repeat(MAX_FORWARDED_BYTES)),
        ] {
            let values = ForwardedValues::take(&[slot(false)], &with(&bad));
            let error = values.check().unwrap_err();
            assert!(error.message.contains("refused"), "{error}");
            assert!(values.headers.is_empty());
            assert!(!error.message.contains("Injected"), "{error}");
        }
    }

    #[test]
    fn the_servers_own_authorization_header_is_never_a_source() {
        for header in ["Authorization", "authorization", " Cookie"] {
            let forwarded = Forwarded {
                header: header.into(),
                target: ForwardTarget::Authorization,
                required: true,
            };
            let error = ForwardSlot::resolve(&forwarded, |_| unreachable!())
                .err()
                .unwrap();
            assert!(error.to_string().contains("never passed on"), "{error}");
        }
    }
}
