//! Test-only server: serves a spec (the petstore fixture by default) over stdio, so real clients
//! (Python and TypeScript SDKs, the Inspector) can spawn it. The real binary is `codemode` (CLI).
//!
//! Usage: codemode-mcp-fixture [--per-operation] [--confirm-mutating] [--spec PATH] [--upstream URL]

// Shared with the tests, which use more of it than this binary does.
#[allow(dead_code)]
#[path = "../../tests/it/support/engine.rs"]
mod engine;

use codemode_engine::{EngineConfig, PolicyConfig};
use codemode_mcp::{ServerConfig, ToolMode, serve_stdio};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut config = ServerConfig::default();
    let mut spec_text = engine::PETSTORE.to_string();
    let mut upstream = None;
    let mut policy = PolicyConfig::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--per-operation" => config.mode = ToolMode::PerOperation,
            "--confirm-mutating" => policy.confirm_mutating = true,
            "--spec" => spec_text = std::fs::read_to_string(args.next().unwrap_or_default())?,
            "--upstream" => upstream = args.next(),
            other => return Err(format!("unknown argument `{other}`").into()),
        }
    }
    let engine = engine::build_engine_from(
        &spec_text,
        upstream.as_deref(),
        EngineConfig {
            policy,
            ..Default::default()
        },
    );
    serve_stdio(engine, config).await?;
    Ok(())
}
