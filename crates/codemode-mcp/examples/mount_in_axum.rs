//! Mounting codemode's MCP server inside an existing axum application: the app keeps its own
//! routes and serves codemode under `/codemode` (`/codemode/mcp` for MCP clients,
//! `/codemode/healthz` for probes), with one listener and one `axum::serve`.
//!
//! Run: `cargo run -p codemode-mcp --example mount_in_axum`, then point an MCP client (streamable
//! HTTP) at `http://127.0.0.1:3000/codemode/mcp`. The spec is a tiny inline one and the engine has
//! the default configuration, so `search` works and `execute` explains that no upstream is set.
//! `tests/it/mount.rs` builds this same app on 127.0.0.1:0 and talks MCP to it.

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use codemode_engine::{Engine, EngineConfig};
use codemode_mcp::ServerConfig;

/// The API the agent gets: two operations of a little bookshop.
pub const SPEC: &str = r#"
openapi: 3.0.3
info: {title: Bookshop, version: "1.0"}
servers: [{url: "https://books.example.com"}]
paths:
  /books:
    get:
      operationId: listBooks
      summary: List the books in stock
      parameters:
        - {name: genre, in: query, schema: {type: string}}
      responses: {"200": {description: the books}}
  /books/{id}:
    get:
      operationId: getBook
      summary: Get one book
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      responses: {"200": {description: the book}}
"#;

/// The engine for [`SPEC`]. Call inside a tokio runtime.
pub fn engine() -> Result<Arc<Engine>, Box<dyn std::error::Error>> {
    let spec = codemode_engine::spec::load_str("bookshop.yaml", SPEC)?;
    Ok(Arc::new(Engine::new(spec, EngineConfig::default())?))
}

/// The application: its own routes, plus codemode's router nested under `/codemode`.
///
/// `port` is the port clients connect to: codemode's default Host and Origin checks (DNS
/// rebinding protection) accept the loopback names on that port. Behind a proxy or under a real
/// host name, set `allowed_hosts` (and `allowed_origins` for browser clients) instead.
pub fn app(engine: Arc<Engine>, port: u16) -> Router {
    let config = ServerConfig {
        public_port: Some(port),
        ..ServerConfig::default()
    };
    Router::new()
        .route("/", get(|| async { "the existing application" }))
        .route("/status", get(|| async { r#"{"app":"up"}"# }))
        .nest("/codemode", codemode_mcp::router(engine, config))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    let addr = listener.local_addr()?;
    let app = app(engine()?, addr.port());
    println!("the app on http://{addr}/, MCP on http://{addr}/codemode/mcp (Ctrl-C stops)");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
