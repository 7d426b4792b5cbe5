//! [`Verifier::verify`]: one access token in, the caller it names out, or the reason it is
//! refused. The header is read by hand first (so a refused `alg` is named), the key found by
//! `kid`, then jsonwebtoken checks the signature, `iss`, `aud`, `exp` and `nbf`, and the scopes
//! are read from `scope` (space-separated) or `scp` (an array, or a string as Entra ID sends it).

use std::collections::BTreeSet;
use std::sync::Arc;

use base64::Engine as _;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

use crate::config::{ConfigError, OAuthConfig};
use crate::error::{AuthError, shown};
use crate::fetch::{Fetch, FetchError, ReqwestFetch};
use crate::jwks::{KeyCache, Wanted};
use crate::metadata::ProtectedResourceMetadata;

/// The longest token looked at; real access tokens are one or two KiB.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// How many verified tokens are remembered; when full, the memory is cleared and refills.
const RECENT_TOKENS: usize = 4096;

/// Tokens verified lately, by the SHA-256 of the token, with the key set they were checked
/// against. An agent sends the same token with every request until it expires: checking its
/// signature once instead of every time saves the 40–190 µs a signature costs (BENCHMARKS.md).
/// An entry counts only while its key set is current (a refresh of the keys forgets them all)
/// and its `exp` (with the leeway) has not passed; only successes are remembered.
struct Recent {
    entries: std::sync::Mutex<std::collections::HashMap<[u8; 32], (u64, VerifiedToken)>>,
}

impl Recent {
    fn digest(token: &str) -> [u8; 32] {
        use sha2::Digest as _;
        sha2::Sha256::digest(token.as_bytes()).into()
    }

    fn get(&self, digest: &[u8; 32], generation: u64, leeway: u64) -> Option<VerifiedToken> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let (seen_with, token) = entries.get(digest)?;
        let now = jsonwebtoken::get_current_timestamp();
        (*seen_with == generation && now <= token.expires_at.saturating_add(leeway))
            .then(|| token.clone())
    }

    fn put(&self, digest: [u8; 32], generation: u64, token: &VerifiedToken) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= RECENT_TOKENS {
            entries.clear();
        }
        entries.insert(digest, (generation, token.clone()));
    }
}

/// What a valid token says about its caller.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedToken {
    /// `sub`: who the caller is.
    pub subject: String,
    /// `client_id` (RFC 9068), else `azp` (OpenID Connect): the client application.
    pub client_id: Option<String>,
    /// The scopes granted.
    pub scopes: BTreeSet<String>,
    /// `exp`, seconds since the Unix epoch.
    pub expires_at: u64,
}

/// Verifies access tokens for one resource. Cheap to share (`Arc`), safe to call from many tasks.
pub struct Verifier {
    config: OAuthConfig,
    /// One validation per accepted algorithm: jsonwebtoken refuses a validation that lists
    /// algorithms of another family than the key's.
    validations: Vec<(Algorithm, Validation)>,
    keys: KeyCache,
    recent: Recent,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Why a [`Verifier`] could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The config was refused.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The HTTP client could not be built.
    #[error("cannot build the jwks client")]
    Client(#[source] FetchError),
}

impl Verifier {
    /// A verifier that reads the issuer's documents with [`ReqwestFetch`].
    pub fn new(config: OAuthConfig) -> Result<Verifier, BuildError> {
        // The config first: its error is the one a person can act on.
        config.check()?;
        // The verifier's own timeout is the one that counts (and names itself in the error);
        // the client's, twice as long, only frees a connection the verifier gave up on.
        let fetch = ReqwestFetch::new(config.jwks_timeout * 2).map_err(BuildError::Client)?;
        Ok(Verifier::with_fetch(config, Arc::new(fetch))?)
    }

    /// A verifier that reads the issuer's documents through `fetch`.
    pub fn with_fetch(config: OAuthConfig, fetch: Arc<dyn Fetch>) -> Result<Verifier, ConfigError> {
        let validations = config
            .check()?
            .into_iter()
            .map(|alg| {
                let mut validation = Validation::new(alg);
                validation.leeway = config.leeway.as_secs();
                validation.validate_exp = true;
                validation.validate_nbf = true;
                validation.validate_aud = true;
                validation.set_issuer(&[&config.issuer]);
                let audiences: Vec<&str> = std::iter::once(config.resource.as_str())
                    .chain(config.audiences.iter().map(String::as_str))
                    .collect();
                validation.set_audience(&audiences);
                validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
                (alg, validation)
            })
            .collect();
        let keys = KeyCache::new(&config, fetch);
        Ok(Verifier {
            config,
            validations,
            keys,
            recent: Recent {
                entries: std::sync::Mutex::new(std::collections::HashMap::new()),
            },
        })
    }

    /// The config this verifier was built from.
    pub fn config(&self) -> &OAuthConfig {
        &self.config
    }

    /// The resource's RFC 9728 metadata document.
    pub fn metadata(&self) -> ProtectedResourceMetadata {
        ProtectedResourceMetadata::new(&self.config)
    }

    /// How many documents (JWKS, discovery) were requested from the issuer so far.
    pub fn issuer_requests(&self) -> u64 {
        self.keys.requests()
    }

    /// Checks `token` (the bearer value, without `Bearer `) completely: shape, algorithm, key,
    /// signature, issuer, audience, lifetime, then the required scopes. Runs inside a tokio
    /// runtime (the key fetch's timeout is a tokio timer); with the keys cached it does no IO.
    pub async fn verify(&self, token: &str) -> Result<VerifiedToken, AuthError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::Malformed("longer than 16 KiB"));
        }
        let digest = Recent::digest(token);
        let generation = self.keys.generation();
        // Keys due for a refresh by age are refreshed by the full check, so a withdrawn key
        // stops verifying even the tokens remembered as good.
        if self.keys.is_fresh()
            && let Some(known) = self
                .recent
                .get(&digest, generation, self.config.leeway.as_secs())
        {
            return Ok(known);
        }
        let verified = self.verify_fully(token).await?;
        // The generation read before the check: a refresh meanwhile makes the entry stale.
        self.recent.put(digest, generation, &verified);
        Ok(verified)
    }

    async fn verify_fully(&self, token: &str) -> Result<VerifiedToken, AuthError> {
        let header = read_header(token)?;
        if self.config.require_at_jwt
            && !header.typ.as_deref().is_some_and(|typ| {
                typ.eq_ignore_ascii_case("at+jwt") || typ.eq_ignore_ascii_case("application/at+jwt")
            })
        {
            return Err(AuthError::Malformed(
                "not an access token: its typ is not at+jwt (RFC 9068)",
            ));
        }
        let (alg, validation) = self.validation(&header.alg)?;
        let wanted = match &header.kid {
            Some(kid) => Wanted::Kid(kid),
            None => Wanted::Only(alg),
        };
        let key = self.keys.key(wanted).await?;
        if !key.fits(alg) {
            return Err(AuthError::KeyMismatch {
                kid: shown(key.kid.as_deref().unwrap_or("")),
                alg: shown(&header.alg),
            });
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &key.decoding, validation)
            .map_err(|error| claim_error(error.into_kind()))?
            .claims;
        let scopes: BTreeSet<String> = claims
            .scope
            .into_iter()
            .chain(claims.scp)
            .flat_map(ScopeClaim::into_scopes)
            .collect();
        let missing: Vec<String> = self
            .config
            .required_scopes
            .iter()
            .filter(|s| !scopes.contains(*s))
            .cloned()
            .collect();
        if !missing.is_empty() {
            return Err(AuthError::InsufficientScope { missing });
        }
        Ok(VerifiedToken {
            // Both required and checked by jsonwebtoken; the fallbacks are never reached.
            subject: claims
                .sub
                .ok_or_else(|| AuthError::MissingClaim("sub".into()))?,
            client_id: claims.client_id.or(claims.azp),
            scopes,
            expires_at: claims
                .exp
                .and_then(|exp| exp.as_f64())
                .map_or(0, |exp| exp as u64),
        })
    }

    /// The accepted algorithm `name` names, and its validation.
    fn validation(&self, name: &str) -> Result<(Algorithm, &Validation), AuthError> {
        let refused = || AuthError::AlgorithmNotAllowed(shown(name));
        let alg = crate::config::parse_algorithm(name).map_err(|_| refused())?;
        self.validations
            .iter()
            .find(|(accepted, _)| *accepted == alg)
            .map(|(alg, validation)| (*alg, validation))
            .ok_or_else(refused)
    }
}

/// The header fields read before any key is looked up.
#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
    typ: Option<String>,
}

fn read_header(token: &str) -> Result<Header, AuthError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(AuthError::Malformed("longer than 16 KiB"));
    }
    let mut parts = token.split('.');
    let (Some(header), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::Malformed("not three dot-separated parts"));
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| AuthError::Malformed("the header is not base64url"))?;
    serde_json::from_slice(&bytes)
        .map_err(|_| AuthError::Malformed("the header is not a JSON object with a string alg"))
}

/// The claims read from a verified token (jsonwebtoken checks `exp`, `nbf`, `iss`, `aud` and the
/// presence of `sub` itself). It reads these before it validates, so the checked claims are
/// loose here: a missing `sub` or a string `exp` must reach its checks and be named there, not
/// fail this struct as "malformed".
#[derive(Deserialize)]
struct Claims {
    sub: Option<String>,
    exp: Option<serde_json::Value>,
    client_id: Option<String>,
    azp: Option<String>,
    scope: Option<ScopeClaim>,
    scp: Option<ScopeClaim>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ScopeClaim {
    Spaced(String),
    List(Vec<String>),
}

impl ScopeClaim {
    fn into_scopes(self) -> Vec<String> {
        match self {
            ScopeClaim::Spaced(text) => text.split_whitespace().map(str::to_string).collect(),
            ScopeClaim::List(list) => list,
        }
    }
}

fn claim_error(kind: ErrorKind) -> AuthError {
    match kind {
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::ImmatureSignature => AuthError::NotYetValid,
        ErrorKind::InvalidAudience => AuthError::WrongAudience,
        ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
        ErrorKind::InvalidSignature => AuthError::BadSignature,
        ErrorKind::MissingRequiredClaim(claim) => AuthError::MissingClaim(shown(&claim)),
        ErrorKind::InvalidClaimFormat(claim) => AuthError::BadClaim(shown(&claim)),
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => {
            AuthError::AlgorithmNotAllowed(String::new())
        }
        ErrorKind::Json(_) => AuthError::Malformed("the claims are not the expected JSON"),
        ErrorKind::Base64(_) | ErrorKind::Utf8(_) | ErrorKind::InvalidToken => {
            AuthError::Malformed("a part is not base64url JSON")
        }
        // Key-format and provider errors: the key the token named cannot verify it.
        _ => AuthError::BadSignature,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::{Value, json};

    use super::*;
    use crate::fetch::FetchFuture;

    const ISSUER: &str = "https://id.example.com";
    const RESOURCE: &str = "https://mcp.example.com/mcp";

    /// A JWKS from memory that counts its fetches, can be slow, and can fail.
    struct Issuer {
        jwks: std::sync::Mutex<Vec<u8>>,
        fetches: AtomicUsize,
        delay: Duration,
        down: AtomicBool,
    }

    impl Fetch for Issuer {
        fn get<'a>(&'a self, url: &'a str) -> FetchFuture<'a> {
            Box::pin(async move {
                self.fetches.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(self.delay).await;
                if self.down.load(Ordering::SeqCst) {
                    return Err(FetchError::Status {
                        url: url.to_string(),
                        status: 503,
                    });
                }
                Ok(self.jwks.lock().expect("not poisoned").clone())
            })
        }
    }

    fn key() -> (EncodingKey, Value) {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("a key");
        let encoding = EncodingKey::from_ec_der(&pair.serialize_der());
        let mut jwk = serde_json::to_value(
            jsonwebtoken::jwk::Jwk::from_encoding_key(&encoding, Algorithm::ES256).expect("a JWK"),
        )
        .expect("JSON");
        jwk["kid"] = json!("k1");
        (encoding, jwk)
    }

    fn setup(
        delay: Duration,
        tweak: impl FnOnce(&mut OAuthConfig),
    ) -> (Arc<Issuer>, Verifier, EncodingKey) {
        let (encoding, jwk) = key();
        let issuer = Arc::new(Issuer {
            jwks: std::sync::Mutex::new(json!({ "keys": [jwk] }).to_string().into_bytes()),
            fetches: AtomicUsize::new(0),
            delay,
            down: AtomicBool::new(false),
        });
        let mut config = OAuthConfig::new(ISSUER, RESOURCE);
        config.jwks_url = Some(format!("{ISSUER}/jwks"));
        tweak(&mut config);
        let verifier = Verifier::with_fetch(config, issuer.clone()).expect("valid");
        (issuer, verifier, encoding)
    }

    fn now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_secs()
    }

    fn sign(key: &EncodingKey, patch: Value) -> String {
        let mut claims =
            json!({"iss": ISSUER, "aud": RESOURCE, "sub": "alice", "exp": now() + 600});
        for (name, value) in patch.as_object().expect("an object") {
            if value.is_null() {
                claims.as_object_mut().expect("an object").remove(name);
            } else {
                claims[name] = value.clone();
            }
        }
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some("k1".into());
        jsonwebtoken::encode(&header, &claims, key).expect("signs")
    }

    /// An issuer whose discovery document points at a plain-http key set on another host.
    struct Downgrading {
        asked: std::sync::Mutex<Vec<String>>,
    }

    impl Fetch for Downgrading {
        fn get<'a>(&'a self, url: &'a str) -> FetchFuture<'a> {
            Box::pin(async move {
                self.asked
                    .lock()
                    .expect("not poisoned")
                    .push(url.to_string());
                Ok(
                    json!({"issuer": ISSUER, "jwks_uri": "http://keys.example.com/jwks"})
                        .to_string()
                        .into_bytes(),
                )
            })
        }
    }

    #[tokio::test]
    async fn a_discovered_plain_http_key_set_is_refused_and_never_fetched() {
        let (key, _) = key();
        let issuer = Arc::new(Downgrading {
            asked: std::sync::Mutex::new(Vec::new()),
        });
        // No jwks_url: the key set's address comes from the issuer's metadata.
        let verifier = Verifier::with_fetch(OAuthConfig::new(ISSUER, RESOURCE), issuer.clone())
            .expect("valid");
        let error = verifier
            .verify(&sign(&key, json!({})))
            .await
            .expect_err("no keys from a plain-http address");
        assert_eq!(error.reason(), "jwks_unavailable");
        let mut causes = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            causes.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        assert!(causes.contains("jwks_uri"), "{causes}");
        assert!(causes.contains("plain http"), "{causes}");
        let asked = issuer.asked.lock().expect("not poisoned").clone();
        assert!(
            asked.iter().all(|url| url.starts_with(ISSUER)),
            "only the issuer's metadata was fetched: {asked:?}"
        );
    }

    #[tokio::test]
    async fn claims_scopes_and_leeway() {
        let (_, verifier, key) = setup(Duration::ZERO, |c| c.required_scopes = vec!["mcp".into()]);
        let check = |patch: Value| {
            let token = sign(&key, patch);
            let verifier = &verifier;
            async move { verifier.verify(&token).await }
        };
        let ok = check(json!({"scope": "mcp write", "client_id": "app", "azp": "other"}))
            .await
            .expect("valid");
        assert_eq!(ok.subject, "alice");
        assert_eq!(ok.client_id.as_deref(), Some("app"), "client_id before azp");
        assert_eq!(ok.scopes.iter().collect::<Vec<_>>(), ["mcp", "write"]);
        let ok = check(json!({"scp": ["mcp"], "azp": "cli"}))
            .await
            .expect("valid");
        assert_eq!(ok.client_id.as_deref(), Some("cli"));
        let ok = check(json!({"scp": "mcp read"}))
            .await
            .expect("Entra's scp string");
        assert!(ok.scopes.contains("read"));
        // Within the 30 s leeway, and beyond it.
        assert!(
            check(json!({"scope": "mcp", "exp": now() - 10}))
                .await
                .is_ok()
        );
        let reason = |result: Result<VerifiedToken, AuthError>| {
            result.map(|_| "ok").unwrap_or_else(|e| e.reason())
        };
        assert_eq!(
            reason(check(json!({"scope": "mcp", "exp": now() - 40})).await),
            "expired"
        );
        assert_eq!(
            reason(check(json!({"scope": "mcp", "nbf": now() + 40})).await),
            "not_yet_valid"
        );
        assert_eq!(
            reason(check(json!({"scope": "mcp", "sub": null})).await),
            "missing_claim"
        );
        assert_eq!(
            reason(check(json!({"scope": "mcp", "aud": null})).await),
            "missing_claim"
        );
        assert_eq!(
            reason(check(json!({"scope": "mcp", "aud": [RESOURCE, "x"]})).await),
            "ok"
        );
        assert_eq!(
            reason(check(json!({"scope": "mcp", "aud": ["x"]})).await),
            "wrong_audience"
        );
        // jsonwebtoken reads an `exp` that is not a number as no `exp` at all.
        assert_eq!(
            reason(check(json!({"scope": "mcp", "exp": "soon"})).await),
            "missing_claim"
        );
        assert_eq!(
            reason(check(json!({"scope": "read"})).await),
            "insufficient_scope"
        );
        assert_eq!(reason(check(json!({"scope": 7})).await), "malformed");
    }

    /// RS256, the default of Keycloak, Auth0 and Entra ID: a JWK with `n` and `e` verifies, and
    /// the same key under another algorithm (RS256 key, PS256 header) does not.
    #[tokio::test]
    async fn rs256_tokens_from_an_rsa_jwk() {
        use rsa::Generate as _;
        use rsa::pkcs1::EncodeRsaPrivateKey as _;
        let private = rsa::PrivateKey::generate();
        let der = private.to_pkcs1_der().expect("PKCS#1 DER");
        let encoding = EncodingKey::from_rsa_der(der.as_bytes());
        let mut jwk = serde_json::to_value(
            jsonwebtoken::jwk::Jwk::from_encoding_key(&encoding, Algorithm::RS256).expect("a JWK"),
        )
        .expect("JSON");
        jwk["kid"] = json!("rsa-1");
        let issuer = Arc::new(Issuer {
            jwks: std::sync::Mutex::new(json!({ "keys": [jwk] }).to_string().into_bytes()),
            fetches: AtomicUsize::new(0),
            delay: Duration::ZERO,
            down: AtomicBool::new(false),
        });
        let mut config = OAuthConfig::new(ISSUER, RESOURCE);
        config.jwks_url = Some(format!("{ISSUER}/jwks"));
        let verifier = Verifier::with_fetch(config, issuer).expect("valid");
        let claims = json!({"iss": ISSUER, "aud": RESOURCE, "sub": "bob", "exp": now() + 600});
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("rsa-1".into());
        let token = jsonwebtoken::encode(&header, &claims, &encoding).expect("signs");
        assert_eq!(verifier.verify(&token).await.expect("valid").subject, "bob");
        let mut header = Header::new(Algorithm::PS256);
        header.kid = Some("rsa-1".into());
        let token = jsonwebtoken::encode(&header, &claims, &encoding).expect("signs");
        let error = verifier
            .verify(&token)
            .await
            .expect_err("the JWK says RS256");
        assert_eq!(error.reason(), "key_mismatch", "{error}");
    }

    /// A token verified once is remembered, but a key the issuer withdrew stops verifying it
    /// once the keys are old enough to be fetched again.
    #[tokio::test]
    async fn remembered_tokens_follow_the_keys() {
        let (issuer, verifier, signing) = setup(Duration::ZERO, |c| {
            c.max_key_age = Duration::from_millis(300);
            c.min_refresh_interval = Duration::ZERO;
        });
        let token = sign(&signing, json!({}));
        for _ in 0..10 {
            verifier.verify(&token).await.expect("valid");
        }
        assert_eq!(issuer.fetches.load(Ordering::SeqCst), 1);
        // The issuer rotates: only a new key, `k2`, is published.
        let (_, mut other) = key();
        other["kid"] = json!("k2");
        *issuer.jwks.lock().expect("not poisoned") =
            json!({ "keys": [other] }).to_string().into_bytes();
        tokio::time::sleep(Duration::from_millis(350)).await;
        let error = verifier
            .verify(&token)
            .await
            .expect_err("the key was withdrawn");
        assert_eq!(error.reason(), "unknown_key", "{error}");
    }

    #[tokio::test]
    async fn concurrent_misses_share_one_fetch() {
        let (issuer, verifier, key) = setup(Duration::from_millis(100), |_| {});
        let verifier = Arc::new(verifier);
        let token = sign(&key, json!({}));
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let (verifier, token) = (verifier.clone(), token.clone());
                tokio::spawn(async move { verifier.verify(&token).await.is_ok() })
            })
            .collect();
        for task in tasks {
            assert!(task.await.expect("joins"), "every request verifies");
        }
        assert_eq!(issuer.fetches.load(Ordering::SeqCst), 1);
        assert_eq!(verifier.issuer_requests(), 1);
    }

    #[tokio::test]
    async fn a_failed_refresh_keeps_the_cached_keys_and_is_throttled() {
        // Keys older than a second are due for a refresh; the interval is a minute. Stale keys
        // verify for one more second while the issuer is down.
        let (issuer, verifier, key) = setup(Duration::ZERO, |c| {
            c.max_key_age = Duration::from_secs(1);
            c.min_refresh_interval = Duration::from_secs(60);
        });
        let token = sign(&key, json!({}));
        verifier.verify(&token).await.expect("valid");
        issuer.down.store(true, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(1100)).await;
        for _ in 0..20 {
            verifier
                .verify(&token)
                .await
                .expect("the cached key still verifies");
        }
        assert_eq!(
            issuer.fetches.load(Ordering::SeqCst),
            1,
            "the refresh waits out the interval"
        );
    }

    #[tokio::test]
    async fn a_fetch_that_fails_is_not_repeated_within_the_interval() {
        let (issuer, verifier, key) = setup(Duration::ZERO, |c| {
            c.min_refresh_interval = Duration::from_secs(60);
        });
        issuer.down.store(true, Ordering::SeqCst);
        let token = sign(&key, json!({}));
        let first = verifier.verify(&token).await.expect_err("no keys");
        assert_eq!(
            crate::jwks::tests_chain(&first),
            "the issuer's signing keys are unavailable: cannot read jwks: https://id.example.com/jwks answered 503"
        );
        let second = verifier.verify(&token).await.expect_err("no keys");
        assert!(
            crate::jwks::tests_chain(&second).starts_with(
                "the issuer's signing keys are unavailable: the last fetch failed and the next is allowed in"
            ),
            "{second:?}"
        );
        assert_eq!(issuer.fetches.load(Ordering::SeqCst), 1);
    }
}
