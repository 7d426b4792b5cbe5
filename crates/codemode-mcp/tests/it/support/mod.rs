//! Shared test plumbing: engines, an in-process HTTP server, a mock upstream, and paths to the
//! external clients (Node 22, the Python SDK venvs).

#![allow(dead_code)]

pub mod engine;
pub mod issuer;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use codemode_engine::Engine;
use codemode_mcp::{ServerConfig, serve_http_listener};
use serde_json::{Value, json};
use tokio::sync::oneshot;

pub use engine::{PETSTORE, build_engine, build_engine_from, build_engine_with};

/// The Cloudflare spec, the largest real spec the budget test runs on.
pub fn cloudflare_spec_text() -> String {
    let path = codemode_test_support::spec_path("cloudflare-openapi.json");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{} is readable: {error}", path.display()))
}

/// A running in-process HTTP server; dropping it (or `stop`) shuts it down gracefully.
pub struct HttpServer {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    pub task: tokio::task::JoinHandle<Result<(), codemode_mcp::ServeError>>,
}

impl HttpServer {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/mcp", self.addr.port())
    }

    pub async fn stop(mut self) -> Result<(), codemode_mcp::ServeError> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let task = std::mem::replace(&mut self.task, tokio::spawn(async { Ok(()) }));
        tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("server stops within 10 s")
            .expect("server task joins")
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub async fn start_http(engine: Arc<Engine>, config: ServerConfig) -> HttpServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    start_http_on(listener, engine, config).await
}

/// [`start_http`] on a listener bound already (a test that needs the port in its config).
pub async fn start_http_on(
    listener: tokio::net::TcpListener,
    engine: Arc<Engine>,
    config: ServerConfig,
) -> HttpServer {
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(serve_http_listener(engine, config, listener, async move {
        let _ = rx.await;
    }));
    HttpServer {
        addr,
        shutdown: Some(tx),
        task,
    }
}

/// A tiny upstream for the petstore fixture: `/v1/pets` and `/v1/pets/{id}`.
pub async fn start_upstream() -> String {
    start_recording_upstream().await.url
}

/// The petstore upstream, and every request it received (`METHOD /path`), in order.
pub struct RecordingUpstream {
    pub url: String,
    pub received: Arc<Mutex<Vec<String>>>,
}

impl RecordingUpstream {
    pub fn received(&self) -> Vec<String> {
        self.received.lock().expect("not poisoned").clone()
    }
}

/// [`start_upstream`], recording what arrives; it also answers `POST /v1/pets` and
/// `DELETE /v1/pets/{id}`.
pub async fn start_recording_upstream() -> RecordingUpstream {
    async fn list() -> Json<Value> {
        Json(
            json!([{"id": 1, "name": "Rex", "tag": "dog"}, {"id": 2, "name": "Tom", "tag": "cat"}]),
        )
    }
    async fn one(axum::extract::Path(id): axum::extract::Path<i64>) -> Json<Value> {
        Json(json!({"id": id, "name": format!("pet {id}")}))
    }
    async fn create(Json(pet): Json<Value>) -> (StatusCode, Json<Value>) {
        (
            StatusCode::CREATED,
            Json(json!({"id": 3, "name": pet["name"]})),
        )
    }
    async fn delete() -> StatusCode {
        StatusCode::NO_CONTENT
    }
    let received = Arc::new(Mutex::new(Vec::new()));
    let log = received.clone();
    let app = Router::new()
        .route("/v1/pets", get(list).post(create))
        .route("/v1/pets/{id}", get(one).delete(delete))
        .layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                let log = log.clone();
                async move {
                    let line = format!("{} {}", request.method(), request.uri().path());
                    log.lock().expect("not poisoned").push(line);
                    next.run(request).await
                }
            },
        ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind upstream");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    RecordingUpstream {
        url: format!("http://{addr}/v1"),
        received,
    }
}

pub fn workspace_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

pub fn node() -> PathBuf {
    workspace_root().join("node_modules/.bin/node")
}

pub fn node_bin(name: &str) -> PathBuf {
    workspace_root().join("node_modules/.bin").join(name)
}

pub fn python(venv: &str) -> PathBuf {
    workspace_root().join(venv).join("bin/python")
}

pub fn client_script(name: &str) -> PathBuf {
    workspace_root().join("tests/clients").join(name)
}

/// The test-only stdio server binary of this crate.
pub fn fixture_server() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_codemode-mcp-fixture"))
}

/// Runs a command with a timeout (never hang), with Node 22 first on PATH. The command leads a
/// process group of its own, killed whole when it ends, at the timeout, or when the test fails:
/// the clients (Python, `npx` wrappers, the Inspector) start the fixture server as their own
/// child, and it must not outlive the test.
pub async fn run(program: &std::path::Path, args: &[&str], timeout: Duration) -> Output {
    let path = format!(
        "{}:{}",
        workspace_root().join("node_modules/.bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    codemode_test_support::output_within_async(
        tokio::process::Command::new(program)
            .args(args)
            .env("PATH", path)
            .env(
                "MCP_CATALOG_PATH",
                std::env::temp_dir()
                    .join(format!("codemode-mcp-catalog-{}.json", std::process::id())),
            )
            .current_dir(workspace_root()),
        timeout,
    )
    .await
}

/// Parses the one JSON line a client script prints, failing with its stderr when it did not.
pub fn client_report(output: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "client failed: {}\nstdout: {stdout}\nstderr: {stderr}",
        output.status
    );
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .unwrap_or("");
    serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("no JSON report ({e}): {stdout}\nstderr: {stderr}"))
}

/// What every client must see: two tools, a search answer, `{sum: 2}`, and an error result.
pub fn assert_client_report(report: &Value) {
    assert_eq!(report["tools"], json!(["search", "execute"]), "{report}");
    assert_eq!(report["search"]["isError"], false, "{report}");
    let search_text = report["search"]["text"].to_string();
    assert!(
        search_text.contains("listPets"),
        "search answer names listPets: {report}"
    );
    assert_eq!(report["execute"]["isError"], false, "{report}");
    assert_eq!(report["execute"]["text"][0], r#"{"sum":2}"#, "{report}");
    assert_eq!(
        report["execute"]["structured"],
        json!({"sum": 2}),
        "{report}"
    );
    assert_eq!(report["error_call"]["isError"], true, "{report}");
    assert!(
        report["error_call"]["text"][0]
            .as_str()
            .unwrap_or("")
            .contains("boom"),
        "{report}"
    );
}

/// `router` behind a stand-in for an embedder's own auth layer (the OAuth layer does the same):
/// the `X-Test-Subject` and `X-Test-Scopes` (space-separated) headers become the request's
/// [`codemode_engine::Caller`], with client id `test-client`.
pub fn with_test_caller(router: Router) -> Router {
    router.layer(axum::middleware::from_fn(
        |mut request: axum::extract::Request, next: axum::middleware::Next| async move {
            if let Some(caller) = test_caller(request.headers()) {
                request.extensions_mut().insert(caller);
            }
            next.run(request).await
        },
    ))
}

fn test_caller(headers: &axum::http::HeaderMap) -> Option<codemode_engine::Caller> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let subject = header("x-test-subject")?.to_string();
    let scopes = header("x-test-scopes")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    Some(codemode_engine::Caller {
        subject,
        client_id: Some("test-client".into()),
        scopes,
    })
}
