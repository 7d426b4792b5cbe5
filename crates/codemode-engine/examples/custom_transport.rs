//! A custom transport that signs every request: it wraps another transport (here the in-process
//! one, so the example runs offline; in production `ReqwestTransport`, the network default) and
//! adds `X-Signature: HMAC-SHA256(key, method, path and query, SHA-256 of the body)`. The upstream
//! checks both the signature and the bearer token.
//!
//! The signer sits below everything the engine decides: by the time a request reaches it, the
//! credentials are already on (the engine adds them, for the configured origin only), and what
//! comes back still goes through the engine's size limit and redaction. A transport changes how
//! bytes travel, never what a script may reach or see.
//!
//! HMAC is written out from RFC 2104 over `sha2` (already in the dependency tree), as no HMAC
//! crate is; a real signer would use the `hmac` crate.
//!
//! `cargo run -p codemode-engine --example custom_transport`
//!
//! `tests/it/embed_in_process.rs` runs this same code and checks the result.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Bytes as AxumBytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::{Json, Router};
use codemode_engine::upstream::bytes::Bytes;
use codemode_engine::upstream::http::{self, HeaderValue};
use codemode_engine::upstream::{
    Credential, InProcess, Secret, Transport, TransportFuture, UpstreamConfig,
};
use codemode_engine::{Engine, EngineConfig, ExecuteRequest};
use serde_json::json;
use sha2::{Digest, Sha256};

const SPEC: &str = r##"
openapi: 3.0.3
info: {title: Orders, version: "1"}
paths:
  /orders:
    post:
      operationId: createOrder
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [bookId, quantity]
              properties: {bookId: {type: integer}, quantity: {type: integer, minimum: 1}}
      responses:
        "201": {description: created, content: {application/json: {schema: {type: object}}}}
  /orders/{id}:
    get:
      operationId: getOrder
      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
      responses:
        "200": {description: the order, content: {application/json: {schema: {type: object}}}}
"##;

const PROGRAM: &str = r#"
const order = await api.createOrder({ body: { bookId: 1, quantity: 2 } });
return await api.getOrder({ id: order.id });
"#;

const SIGNING_KEY: &str = "signing-key-shared-with-the-upstream";
const API_TOKEN: &str = "api-token-held-by-the-host";

/// Signs each request, then hands it to the transport it wraps.
struct Signing {
    inner: Arc<dyn Transport>,
    key: Secret,
    /// Requests that already carried credentials when they reached the signer.
    with_credentials: AtomicUsize,
}

impl Transport for Signing {
    fn send(&self, mut request: http::Request<Bytes>) -> TransportFuture<'_> {
        if request.headers().contains_key(http::header::AUTHORIZATION) {
            self.with_credentials.fetch_add(1, Ordering::SeqCst);
        }
        let path = request
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string();
        let signature = signature(
            self.key.expose(),
            request.method().as_str(),
            &path,
            request.body(),
        );
        if let Ok(value) = HeaderValue::from_str(&signature) {
            request.headers_mut().insert("x-signature", value);
        }
        self.inner.send(request)
    }

    fn name(&self) -> &'static str {
        "signing"
    }
}

/// Hex HMAC-SHA256 over `METHOD\npath?query\nhex(SHA-256(body))`.
fn signature(key: &str, method: &str, path: &str, body: &[u8]) -> String {
    let message = format!("{method}\n{path}\n{}", hex(&Sha256::digest(body)));
    hex(&hmac_sha256(key.as_bytes(), message.as_bytes()))
}

/// HMAC-SHA256 as RFC 2104 defines it (block size 64).
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > block.len() {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    let mut out = [0u8; 32];
    out.copy_from_slice(&outer.finalize());
    out
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The upstream: refuses a request unless both the bearer token and the signature are right.
fn orders_api() -> Router {
    Router::new().fallback(
        |method: Method, uri: Uri, headers: HeaderMap, body: AxumBytes| async move {
            let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
            if header("authorization") != Some(&format!("Bearer {API_TOKEN}")) {
                return (
                    StatusCode::UNAUTHORIZED,
                    Json(json!({"message": "bad token"})),
                )
                    .into_response();
            }
            let path = uri.path_and_query().map_or("/", |p| p.as_str());
            let expected = signature(SIGNING_KEY, method.as_str(), path, &body);
            if header("x-signature") != Some(expected.as_str()) {
                return (
                    StatusCode::UNAUTHORIZED,
                    Json(json!({"message": "bad signature"})),
                )
                    .into_response();
            }
            match (method.as_str(), uri.path()) {
                ("POST", "/orders") => {
                    (StatusCode::CREATED, Json(json!({"id": 41}))).into_response()
                }
                ("GET", "/orders/41") => {
                    Json(json!({"id": 41, "bookId": 1, "quantity": 2, "status": "paid"}))
                        .into_response()
                }
                _ => StatusCode::NOT_FOUND.into_response(),
            }
        },
    )
}

/// What a run of [`PROGRAM`] through the signing transport gave.
pub struct Signed {
    pub result: serde_json::Value,
    /// The call lines, as front ends show them.
    pub calls: Vec<String>,
    /// Requests that reached the signer with the host's credentials already on.
    pub with_credentials: usize,
}

/// Runs [`PROGRAM`] with the signing transport in front of the in-process orders API.
pub async fn run() -> Result<Signed, Box<dyn std::error::Error>> {
    let signing = Arc::new(Signing {
        inner: Arc::new(InProcess::new(orders_api())),
        key: Secret::new(SIGNING_KEY),
        with_credentials: AtomicUsize::new(0),
    });
    let config = EngineConfig {
        upstream: Some(UpstreamConfig {
            base_url: "http://orders.invalid".into(),
            credentials: vec![Credential::Bearer(Secret::new(API_TOKEN))],
            transport: Some(signing.clone()),
            ..UpstreamConfig::default()
        }),
        ..EngineConfig::default()
    };
    let engine = Engine::new(
        codemode_engine::spec::load_str("orders.yaml", SPEC)?,
        config,
    )?;
    let outcome = engine
        .execute(ExecuteRequest {
            code: PROGRAM.into(),
            ..ExecuteRequest::default()
        })
        .await;
    let result = outcome
        .result
        .map_err(|failure| format!("the program failed ({}): {}", failure.kind, failure.message))?;
    Ok(Signed {
        result,
        calls: outcome.calls.iter().map(ToString::to_string).collect(),
        with_credentials: signing.with_credentials.load(Ordering::SeqCst),
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The RFC 4231 test case 2 vector, so the hand-written HMAC is known to be right.
    assert_eq!(
        hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    let signed = run().await?;
    for call in &signed.calls {
        println!("{call}");
    }
    println!("{}", serde_json::to_string_pretty(&signed.result)?);
    println!(
        "{} of {} signed requests already carried the host's credentials",
        signed.with_credentials,
        signed.calls.len()
    );
    Ok(())
}
