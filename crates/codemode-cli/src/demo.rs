//! `codemode demo`: the MCP server over a small embedded API (a bookshop) whose upstream runs in
//! this process and answers from the spec's examples. Works offline, with no credentials.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use codemode_engine::upstream::{Credential, Secret, UpstreamConfig};
use codemode_engine::{Engine, EngineConfig};
use codemode_mcp::ServerConfig;

use crate::example_upstream;

/// The embedded example spec.
pub const BOOKSHOP_SPEC: &str = include_str!("../demo/bookshop.json");

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Serve streamable HTTP on this address (endpoint /mcp) instead of stdio.
    #[arg(long, value_name = "ADDR")]
    pub http: Option<String>,
}

pub fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let spec = codemode_engine::spec::load_str("bookshop.json (embedded)", BOOKSHOP_SPEC)?;
    let raw: serde_json::Value = serde_json::from_str(BOOKSHOP_SPEC)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let upstream = example_upstream::start(&raw, "/v1", "demo-token").await?;
        let config = EngineConfig {
            upstream: Some(UpstreamConfig {
                base_url: upstream.base_url.clone(),
                credentials: vec![Credential::Bearer(Secret::new(upstream.token))],
                ..UpstreamConfig::default()
            }),
            ..EngineConfig::default()
        };
        let operations = spec.operations.len();
        let engine = Arc::new(Engine::new(spec, config)?);
        match args.http {
            Some(addr) => {
                let listener = tokio::net::TcpListener::bind(&addr).await?;
                let bound = listener.local_addr()?;
                crate::output::eprint_line(&format!("codemode demo: Bookshop API, {operations} operations, upstream {}; streamable HTTP on http://{bound}/mcp", upstream.base_url));
                codemode_mcp::serve_http_listener(engine, ServerConfig::default(), listener, crate::serve::shutdown_signal()).await?;
            }
            None => {
                crate::output::eprint_line(&format!("codemode demo: Bookshop API, {operations} operations, upstream {}; stdio", upstream.base_url));
                codemode_mcp::serve_stdio(engine, ServerConfig::default()).await?;
            }
        }
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
