//! Who a tool call comes from, read from the HTTP request rmcp hands the handler: the
//! [`Caller`] the auth layer verified (an OAuth token's claims), the upstream credentials the
//! request carried for APIs that take them from it (`[auth.from_request]`), and the per-caller
//! rate limit on tool calls.
//!
//! Everything here is read per request and dropped with it: no credential and no identity
//! outlives the tool call it came with. The request's own `Authorization` header is never read
//! here (the engine refuses a mapping that names it), so the token that authenticates a client
//! to this server cannot reach an upstream.

use std::num::NonZeroU32;
use std::time::Duration;

use axum::http::HeaderMap;
use axum::http::request::Parts;
use codemode_engine::upstream::Secret;
use codemode_engine::{Caller, RequestCredentials};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use rmcp::RoleServer;
use rmcp::service::RequestContext;

/// The identity and credentials one request carried.
#[derive(Debug, Default)]
pub(crate) struct Requester {
    pub(crate) caller: Option<Caller>,
    pub(crate) credentials: RequestCredentials,
    /// The request's `traceparent` and `tracestate`, if it had any.
    pub(crate) trace: HeaderMap,
}

impl Requester {
    /// Reads the request behind `context` (HTTP only; over stdio there is none and the
    /// requester is nobody in particular). `headers` are the ones the engine's APIs take
    /// credentials from ([`codemode_engine::Engine::forwarded_headers`]).
    pub(crate) fn of(context: &RequestContext<RoleServer>, headers: &[String]) -> Requester {
        let Some(parts) = context.extensions.get::<Parts>() else {
            return Requester::default();
        };
        Requester {
            caller: parts.extensions.get::<Caller>().cloned(),
            credentials: credentials(parts, headers),
            trace: crate::trace::trace_headers(&parts.headers),
        }
    }

    /// The key rate limits count under: the token's subject, or one shared key for callers
    /// nobody authenticated individually (a static token, no auth).
    fn key(&self) -> String {
        match &self.caller {
            Some(caller) => format!("sub:{}", caller.subject),
            None => "anonymous".to_string(),
        }
    }
}

/// The values of `headers` in the request. A value that is not text is kept, lossily, so that
/// the upstream client refuses it with a message naming the header rather than the run
/// failing as if the header were missing.
fn credentials(parts: &Parts, headers: &[String]) -> RequestCredentials {
    let mut credentials = RequestCredentials::default();
    for name in headers {
        if let Some(value) = parts.headers.get(name.as_str()) {
            let text = String::from_utf8_lossy(value.as_bytes()).into_owned();
            credentials.insert(name, Secret::new(text));
        }
    }
    credentials
}

/// How many tool calls one caller may make: `per_minute` on average, up to `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Sustained rate, in tool calls per minute.
    pub per_minute: NonZeroU32,
    /// Calls allowed at once after a quiet spell (the bucket's size).
    pub burst: NonZeroU32,
}

/// The per-caller limiter of one server.
pub(crate) struct CallerLimits {
    limiter: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl CallerLimits {
    pub(crate) fn new(limit: RateLimit) -> CallerLimits {
        let clock = DefaultClock::default();
        let quota = Quota::per_minute(limit.per_minute).allow_burst(limit.burst);
        CallerLimits {
            limiter: RateLimiter::dashmap_with_clock(quota, clock.clone()),
            clock,
        }
    }

    /// Takes one call from the requester's allowance, or says how long until the next one.
    pub(crate) fn check(&self, requester: &Requester) -> Result<(), Duration> {
        let key = requester.key();
        let outcome = self
            .limiter
            .check_key(&key)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()));
        // Keys of callers that went quiet are dropped now and then, so the map stays bounded
        // by the callers of the last minute or so.
        if self.limiter.len() > 10_000 {
            self.limiter.retain_recent();
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(subject: &str) -> Requester {
        Requester {
            caller: Some(Caller {
                subject: subject.into(),
                ..Caller::default()
            }),
            credentials: RequestCredentials::default(),
            trace: HeaderMap::new(),
        }
    }

    #[test]
    fn each_subject_has_its_own_allowance_and_a_refusal_says_when_to_retry() {
        let limits = CallerLimits::new(RateLimit {
            per_minute: NonZeroU32::new(60).expect("not zero"),
            burst: NonZeroU32::new(2).expect("not zero"),
        });
        let (ana, bo) = (caller("ana"), caller("bo"));
        assert!(limits.check(&ana).is_ok());
        assert!(limits.check(&ana).is_ok());
        let wait = limits
            .check(&ana)
            .expect_err("the third call at once is over the burst");
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        assert!(limits.check(&bo).is_ok(), "another subject is not affected");
        assert!(limits.check(&Requester::default()).is_ok());
    }
}
