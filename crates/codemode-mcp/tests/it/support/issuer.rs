//! A local OAuth issuer for the tests: ES256 and Ed25519 keys made in the test (rcgen), its
//! RFC 8414 metadata and JWKS served by axum on 127.0.0.1 (each request counted), and tokens
//! signed with those keys, or made wrong on purpose.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::extract::State;
use axum::routing::get;
use base64::Engine as _;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

/// One signing key: its JWK (public) and how to sign with it.
pub struct SigningKey {
    pub kid: String,
    pub alg: Algorithm,
    pub encoding: EncodingKey,
    pub jwk: Value,
    /// The raw public key (SEC1 point or Ed25519 bytes), for the HS256-with-the-public-key case.
    pub public_raw: Vec<u8>,
}

impl SigningKey {
    /// A new key for `alg` (`ES256` or `EdDSA`), named `kid`.
    pub fn generate(kid: &str, alg: Algorithm) -> SigningKey {
        let rcgen_alg = match alg {
            Algorithm::ES256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            Algorithm::EdDSA => &rcgen::PKCS_ED25519,
            Algorithm::RS256 => return SigningKey::rsa(kid),
            other => panic!("the test issuer makes ES256, EdDSA and RS256 keys, not {other:?}"),
        };
        let pair = rcgen::KeyPair::generate_for(rcgen_alg).expect("a key pair");
        let der = pair.serialize_der();
        let (encoding, mut jwk) = match alg {
            Algorithm::ES256 => {
                let encoding = EncodingKey::from_ec_der(&der);
                let jwk = Jwk::from_encoding_key(&encoding, alg).expect("a JWK");
                (encoding, serde_json::to_value(jwk).expect("JWK as JSON"))
            }
            _ => {
                // ring writes Ed25519 keys as PKCS#8 v2 (seed and public key); ed25519-dalek
                // reads v1, whose DER is a fixed 16-byte prefix and the 32-byte seed.
                const V1_PREFIX: [u8; 16] = [
                    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04,
                    0x22, 0x04, 0x20,
                ];
                assert_eq!(der[9..16], V1_PREFIX[9..16], "an Ed25519 PKCS#8 document");
                let mut v1 = V1_PREFIX.to_vec();
                v1.extend_from_slice(&der[16..48]);
                let x =
                    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(pair.public_key_raw());
                (
                    EncodingKey::from_ed_der(&v1),
                    json!({"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "x": x}),
                )
            }
        };
        jwk["kid"] = json!(kid);
        jwk["use"] = json!("sig");
        SigningKey {
            kid: kid.to_string(),
            alg,
            encoding,
            jwk,
            public_raw: pair.public_key_raw().to_vec(),
        }
    }
}

impl SigningKey {
    /// An RSA key (2048 bits, a few seconds in a debug build: only the bench makes one).
    fn rsa(kid: &str) -> SigningKey {
        use rsa::Generate as _;
        use rsa::pkcs1::EncodeRsaPrivateKey as _;
        let private = rsa::PrivateKey::generate();
        let der = private.to_pkcs1_der().expect("PKCS#1 DER");
        let encoding = EncodingKey::from_rsa_der(der.as_bytes());
        let mut jwk = serde_json::to_value(
            Jwk::from_encoding_key(&encoding, Algorithm::RS256).expect("a JWK"),
        )
        .expect("JWK as JSON");
        jwk["kid"] = json!(kid);
        jwk["use"] = json!("sig");
        SigningKey {
            kid: kid.to_string(),
            alg: Algorithm::RS256,
            encoding,
            jwk,
            public_raw: Vec::new(),
        }
    }
}

/// What `/jwks` does.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum JwksMode {
    /// Serves the published keys.
    Serve,
    /// Answers 503.
    Down,
    /// Answers after this long.
    Slow(Duration),
}

struct IssuerState {
    url: String,
    keys: Mutex<Vec<Value>>,
    mode: Mutex<JwksMode>,
    jwks_requests: AtomicUsize,
    discovery_requests: AtomicUsize,
}

/// A running test issuer.
pub struct Issuer {
    pub url: String,
    state: Arc<IssuerState>,
    pub es256: SigningKey,
    pub ed25519: SigningKey,
    /// A key the issuer never publishes.
    pub stranger: SigningKey,
}

impl Issuer {
    /// Starts the issuer with its two keys published.
    pub async fn start() -> Issuer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the issuer");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let es256 = SigningKey::generate("es-1", Algorithm::ES256);
        let ed25519 = SigningKey::generate("ed-1", Algorithm::EdDSA);
        let stranger = SigningKey::generate("es-1-stranger", Algorithm::ES256);
        let state = Arc::new(IssuerState {
            url: url.clone(),
            keys: Mutex::new(vec![es256.jwk.clone(), ed25519.jwk.clone()]),
            mode: Mutex::new(JwksMode::Serve),
            jwks_requests: AtomicUsize::new(0),
            discovery_requests: AtomicUsize::new(0),
        });
        let app = axum::Router::new()
            .route("/.well-known/oauth-authorization-server", get(discovery))
            .route("/jwks", get(jwks))
            .with_state(state.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Issuer {
            url,
            state,
            es256,
            ed25519,
            stranger,
        }
    }

    pub fn jwks_url(&self) -> String {
        format!("{}/jwks", self.url)
    }

    pub fn set_mode(&self, mode: JwksMode) {
        *self.state.mode.lock().expect("not poisoned") = mode;
    }

    /// Publishes `key` besides the others (a key rotation).
    pub fn publish(&self, key: &SigningKey) {
        self.state
            .keys
            .lock()
            .expect("not poisoned")
            .push(key.jwk.clone());
    }

    pub fn jwks_requests(&self) -> usize {
        self.state.jwks_requests.load(Ordering::SeqCst)
    }

    pub fn discovery_requests(&self) -> usize {
        self.state.discovery_requests.load(Ordering::SeqCst)
    }

    /// Claims of a good token for `resource`: this issuer, `sub` alice, an hour to live,
    /// the given scopes.
    pub fn claims(&self, resource: &str, scope: &str) -> Value {
        let now = now();
        json!({
            "iss": self.url,
            "sub": "alice",
            "aud": resource,
            "iat": now,
            "exp": now + 3600,
            "client_id": "test-client",
            "scope": scope,
        })
    }

    /// `claims` signed with `key`, its `kid` in the header.
    pub fn sign(&self, key: &SigningKey, claims: &Value) -> String {
        let mut header = Header::new(key.alg);
        header.kid = Some(key.kid.clone());
        header.typ = Some("at+jwt".into());
        jsonwebtoken::encode(&header, claims, &key.encoding).expect("signs")
    }
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

/// A token with any header, claims and signature, base64url-encoded by hand.
pub fn hand_made(header: &Value, claims: &Value, signature: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.{}",
        b64.encode(header.to_string()),
        b64.encode(claims.to_string()),
        b64.encode(signature)
    )
}

/// `claims` signed HS256 with `secret` (the classic confusion: a public key used as the secret).
pub fn hs256_with(secret: &[u8], kid: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid.to_string());
    let key = EncodingKey::from_secret(secret).expect("a non-empty secret");
    jsonwebtoken::encode(&header, claims, &key).expect("signs")
}

async fn discovery(State(state): State<Arc<IssuerState>>) -> Json<Value> {
    state.discovery_requests.fetch_add(1, Ordering::SeqCst);
    Json(json!({
        "issuer": state.url,
        "jwks_uri": format!("{}/jwks", state.url),
        "token_endpoint": format!("{}/token", state.url),
        "response_types_supported": ["code"],
    }))
}

async fn jwks(State(state): State<Arc<IssuerState>>) -> axum::response::Response {
    use axum::response::IntoResponse;
    state.jwks_requests.fetch_add(1, Ordering::SeqCst);
    let mode = *state.mode.lock().expect("not poisoned");
    match mode {
        JwksMode::Serve => {}
        JwksMode::Down => return axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response(),
        JwksMode::Slow(delay) => tokio::time::sleep(delay).await,
    }
    let keys = state.keys.lock().expect("not poisoned").clone();
    Json(json!({ "keys": keys })).into_response()
}
