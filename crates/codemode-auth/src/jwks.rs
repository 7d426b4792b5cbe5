//! The issuer's signing keys: found (the configured `jwks_url`, or discovery), fetched with a
//! timeout, cached, and fetched again when a token names an unknown key or the cache is older
//! than the configured age, never more than once per refresh interval.
//!
//! One lock orders the fetches: concurrent requests that all miss wait for the one fetch in
//! flight and then read its result, so a burst of tokens is one request to the issuer. A failed
//! fetch counts against the interval too (a JWKS endpoint that is down is not hammered), and
//! keeps the keys already cached.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};
use serde::Deserialize;

use crate::config::OAuthConfig;
use crate::error::{AuthError, JwksError};
use crate::fetch::Fetch;

/// One usable verification key.
pub(crate) struct Key {
    pub(crate) kid: Option<String>,
    pub(crate) decoding: DecodingKey,
    /// The key's `alg`, when the JWKS says.
    pub(crate) alg: Option<Algorithm>,
}

impl Key {
    /// Whether this key may verify `alg`: same family, and the key's own `alg` if it has one.
    pub(crate) fn fits(&self, alg: Algorithm) -> bool {
        self.decoding.family() == alg.family() && self.alg.is_none_or(|own| own == alg)
    }
}

/// The keys of one fetched JWKS.
struct KeySet {
    by_kid: HashMap<String, Arc<Key>>,
    all: Vec<Arc<Key>>,
    fetched: Instant,
}

/// What the refresh lock guards.
struct RefreshState {
    last_attempt: Option<Instant>,
    jwks_url: Option<String>,
}

/// The cache.
pub(crate) struct KeyCache {
    fetch: Arc<dyn Fetch>,
    issuer: String,
    timeout: Duration,
    min_interval: Duration,
    max_age: Duration,
    keys: RwLock<Option<Arc<KeySet>>>,
    refresh: tokio::sync::Mutex<RefreshState>,
    requests: AtomicU64,
    /// Counts the key sets fetched: what a verified token was checked against.
    generation: AtomicU64,
}

/// What a lookup is for: a named key, or the only key when the token names none.
pub(crate) enum Wanted<'a> {
    Kid(&'a str),
    Only(Algorithm),
}

impl KeyCache {
    pub(crate) fn new(config: &OAuthConfig, fetch: Arc<dyn Fetch>) -> KeyCache {
        KeyCache {
            fetch,
            issuer: config.issuer.clone(),
            timeout: config.jwks_timeout,
            min_interval: config.min_refresh_interval,
            max_age: config.max_key_age,
            keys: RwLock::new(None),
            refresh: tokio::sync::Mutex::new(RefreshState {
                last_attempt: None,
                jwks_url: config.jwks_url.clone(),
            }),
            requests: AtomicU64::new(0),
            generation: AtomicU64::new(0),
        }
    }

    /// Whether the cached keys are younger than the configured age (no refresh is due for age).
    pub(crate) fn is_fresh(&self) -> bool {
        self.snapshot()
            .is_some_and(|keys| keys.fetched.elapsed() < self.max_age)
    }

    /// Which key set is current (changes with every fetch that succeeds).
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// How many documents were requested from the issuer so far (JWKS and discovery).
    pub(crate) fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// The key a token asks for, fetching the JWKS when the cache cannot answer and a fetch is due.
    pub(crate) async fn key(&self, wanted: Wanted<'_>) -> Result<Arc<Key>, AuthError> {
        let cached = self.snapshot();
        if let Some(keys) = &cached
            && keys.fetched.elapsed() < self.max_age
            && let Some(found) = find(keys, &wanted)?
        {
            return Ok(found);
        }
        let mut state = self.refresh.lock().await;
        // Another request may have fetched while this one waited for the lock.
        let cached = self.snapshot();
        if let Some(keys) = &cached
            && keys.fetched.elapsed() < self.max_age
            && let Some(found) = find(keys, &wanted)?
        {
            return Ok(found);
        }
        let due = state
            .last_attempt
            .is_none_or(|last| last.elapsed() >= self.min_interval);
        if due {
            state.last_attempt = Some(Instant::now());
            match self.fetch_keys(&mut state).await {
                Ok(fresh) => {
                    let fresh = Arc::new(fresh);
                    *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Some(fresh.clone());
                    self.generation.fetch_add(1, Ordering::AcqRel);
                    drop(state);
                    return find(&fresh, &wanted)?.ok_or_else(|| missing(&wanted));
                }
                Err(error) => {
                    drop(state);
                    // Keys already cached (stale) still verify, for a while; a key never seen
                    // cannot.
                    if let Some(keys) = cached.as_ref().filter(|keys| self.may_outlive(keys))
                        && let Some(found) = find(keys, &wanted)?
                    {
                        tracing::warn!(error = %chain(&error), "refreshing the issuer's keys failed; keeping the cached ones");
                        return Ok(found);
                    }
                    return Err(AuthError::Jwks(error));
                }
            }
        }
        let retry_in = state
            .last_attempt
            .map(|last| self.min_interval.saturating_sub(last.elapsed()))
            .unwrap_or_default();
        drop(state);
        match cached.as_ref().filter(|keys| self.may_outlive(keys)) {
            Some(keys) => find(keys, &wanted)?.ok_or_else(|| missing(&wanted)),
            None => Err(AuthError::Jwks(JwksError::Throttled { retry_in })),
        }
    }

    /// Whether keys past their age may still verify while the issuer cannot be reached: for one
    /// more `max_key_age`, no longer, so blocking the issuer cannot keep a withdrawn key valid.
    fn may_outlive(&self, keys: &KeySet) -> bool {
        keys.fetched.elapsed() < self.max_age.saturating_mul(2)
    }

    fn snapshot(&self) -> Option<Arc<KeySet>> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    async fn fetch_keys(&self, state: &mut RefreshState) -> Result<KeySet, JwksError> {
        let url = match &state.jwks_url {
            Some(url) => url.clone(),
            None => {
                let url = self.discover().await?;
                state.jwks_url = Some(url.clone());
                url
            }
        };
        let body = self.get("jwks", &url).await?;
        let keys = parse_jwks(&body).map_err(|why| JwksError::Invalid {
            what: "jwks",
            url: url.clone(),
            why,
        })?;
        tracing::info!(url = %url, keys = keys.all.len(), "fetched the issuer's signing keys");
        Ok(keys)
    }

    /// The `jwks_uri` of the issuer's RFC 8414 metadata, else of its OpenID configuration.
    async fn discover(&self) -> Result<String, JwksError> {
        let mut last = None;
        for url in discovery_urls(&self.issuer) {
            match self.discovery_document(&url).await {
                Ok(jwks_uri) => return Ok(jwks_uri),
                Err(error) => last = Some(error),
            }
        }
        Err(JwksError::NotDiscovered {
            issuer: self.issuer.clone(),
            source: Box::new(last.unwrap_or(JwksError::Invalid {
                what: "discovery",
                url: self.issuer.clone(),
                why: "the issuer is not a URL".into(),
            })),
        })
    }

    async fn discovery_document(&self, url: &str) -> Result<String, JwksError> {
        #[derive(Deserialize)]
        struct Metadata {
            issuer: String,
            jwks_uri: Option<String>,
        }
        let body = self.get("discovery", url).await?;
        let invalid = |why: String| JwksError::Invalid {
            what: "discovery",
            url: url.to_string(),
            why,
        };
        let metadata: Metadata =
            serde_json::from_slice(&body).map_err(|e| invalid(e.to_string()))?;
        if metadata.issuer != self.issuer {
            return Err(invalid(format!(
                "its issuer {:?} is not the configured issuer",
                crate::error::shown(&metadata.issuer)
            )));
        }
        let jwks_uri = metadata
            .jwks_uri
            .ok_or_else(|| invalid("it has no jwks_uri".into()))?;
        // Held to what a configured `jwks_url` is: https (plain http on loopback only).
        crate::config::check_url("jwks_uri", &jwks_uri)
            .map_err(|error| invalid(error.to_string()))?;
        Ok(jwks_uri)
    }

    async fn get(&self, what: &'static str, url: &str) -> Result<Vec<u8>, JwksError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        match tokio::time::timeout(self.timeout, self.fetch.get(url)).await {
            Ok(Ok(body)) => Ok(body),
            Ok(Err(source)) => Err(JwksError::Fetch { what, source }),
            Err(_) => Err(JwksError::Timeout {
                what,
                url: url.to_string(),
                after: self.timeout,
            }),
        }
    }
}

fn find(keys: &KeySet, wanted: &Wanted<'_>) -> Result<Option<Arc<Key>>, AuthError> {
    match wanted {
        Wanted::Kid(kid) => Ok(keys.by_kid.get(*kid).cloned()),
        Wanted::Only(alg) => {
            let mut fitting = keys.all.iter().filter(|k| k.fits(*alg));
            match (fitting.next(), fitting.next()) {
                (Some(only), None) => Ok(Some(only.clone())),
                (Some(_), Some(_)) => Err(AuthError::MissingKeyId),
                (None, _) => Ok(None),
            }
        }
    }
}

fn missing(wanted: &Wanted<'_>) -> AuthError {
    match wanted {
        Wanted::Kid(kid) => AuthError::UnknownKey(crate::error::shown(kid)),
        Wanted::Only(_) => AuthError::MissingKeyId,
    }
}

/// RFC 8414 §3.1 inserts the well-known path before the issuer's path; OpenID Connect
/// Discovery §4 appends it.
fn discovery_urls(issuer: &str) -> Vec<String> {
    let Ok(url) = reqwest::Url::parse(issuer) else {
        return Vec::new();
    };
    let origin = url.origin().ascii_serialization();
    let path = url.path().trim_end_matches('/');
    vec![
        format!("{origin}/.well-known/oauth-authorization-server{path}"),
        format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        ),
    ]
}

/// The usable signature keys of a JWKS document. Keys for encryption, of unknown types or that
/// do not parse are left out (an issuer may publish those beside its signing keys); a document
/// with no usable key at all is an error.
fn parse_jwks(body: &[u8]) -> Result<KeySet, String> {
    #[derive(Deserialize)]
    struct Document {
        keys: Vec<serde_json::Value>,
    }
    let document: Document = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let mut by_kid = HashMap::new();
    let mut all = Vec::new();
    for value in document.keys {
        let Ok(jwk) = serde_json::from_value::<Jwk>(value) else {
            continue;
        };
        if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
            continue;
        }
        let Ok(decoding) = DecodingKey::from_jwk(&jwk) else {
            continue;
        };
        if decoding.family() == AlgorithmFamily::Hmac {
            // A symmetric key in a public document is never a signing key we accept.
            continue;
        }
        let alg = jwk
            .common
            .key_algorithm
            .and_then(|a| Algorithm::try_from(a).ok());
        let key = Arc::new(Key {
            kid: jwk.common.key_id.clone(),
            decoding,
            alg,
        });
        if let Some(kid) = &key.kid {
            by_kid.insert(kid.clone(), key.clone());
        }
        all.push(key);
    }
    if all.is_empty() {
        return Err("it holds no usable signature key".into());
    }
    Ok(KeySet {
        by_kid,
        all,
        fetched: Instant::now(),
    })
}

/// An error and its causes on one line, for a log event.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// [`chain`] for the other modules' tests.
#[cfg(test)]
pub(crate) fn tests_chain(error: &dyn std::error::Error) -> String {
    chain(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_urls_follow_both_rfcs() {
        assert_eq!(
            discovery_urls("https://id.example.com/realms/team"),
            vec![
                "https://id.example.com/.well-known/oauth-authorization-server/realms/team",
                "https://id.example.com/realms/team/.well-known/openid-configuration",
            ]
        );
        assert_eq!(
            discovery_urls("https://tenant.auth0.com/"),
            vec![
                "https://tenant.auth0.com/.well-known/oauth-authorization-server",
                "https://tenant.auth0.com/.well-known/openid-configuration",
            ]
        );
    }

    #[test]
    fn encryption_symmetric_and_unknown_keys_are_left_out() {
        let body = serde_json::json!({"keys": [
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {"kty": "OKP", "crv": "Ed25519", "kid": "enc", "use": "enc", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
            {"kty": "XYZ", "kid": "odd"},
            {"kty": "OKP", "crv": "Ed25519", "kid": "sig", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
        ]});
        let keys = parse_jwks(body.to_string().as_bytes()).expect("one usable key");
        assert_eq!(keys.by_kid.keys().collect::<Vec<_>>(), vec!["sig"]);
        assert!(parse_jwks(br#"{"keys": []}"#).is_err());
        assert!(parse_jwks(b"<html>").is_err());
    }
}
