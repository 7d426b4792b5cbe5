//! `codemode demo`: the MCP server over a small embedded API (a bookshop) whose upstream is the
//! in-memory bookshop of `crate::bookshop`, called in process through the upstream transport
//! seam (no socket). Works offline, with no credentials. In a terminal, it says how to connect an
//! MCP client instead of waiting for JSON-RPC on stdin.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use codemode_engine::upstream::{Credential, InProcess, Secret, UpstreamConfig};
use codemode_engine::{Engine, EngineConfig};
use codemode_mcp::ServerConfig;

use crate::bookshop;

/// The embedded example spec.
pub const BOOKSHOP_SPEC: &str = include_str!("../demo/bookshop.json");

/// The bearer token the demo's engine sends and its bookshop expects. Published on purpose: it
/// shows credentials being added host-side, and guards nothing.
const DEMO_TOKEN: &str = "demo-token";

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Serve streamable HTTP on this address (endpoint /mcp) instead of stdio, e.g. localhost:8080.
    #[arg(long, value_name = "ADDR")]
    pub http: Option<String>,
}

pub fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    // Over stdio the server is started by an MCP client; a person at a terminal would see one
    // line and a prompt that never answers, so tell them what to do instead.
    if args.http.is_none() && std::io::stdin().is_terminal() {
        let exe = std::env::current_exe().ok();
        crate::output::print(&connect_hint(exe.as_deref()))?;
        return Ok(ExitCode::SUCCESS);
    }
    let spec = codemode_engine::spec::load_str("bookshop.json (embedded)", BOOKSHOP_SPEC)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        // The bookshop answers in process, behind the upstream's transport seam: no socket is
        // bound, and credentials, limits and redaction apply as for a real API.
        let bookshop = InProcess::new(bookshop::router(DEMO_TOKEN));
        let config = EngineConfig {
            upstream: Some(UpstreamConfig {
                base_url: bookshop::IN_PROCESS_BASE_URL.to_string(),
                credentials: vec![Credential::Bearer(Secret::new(DEMO_TOKEN.to_string()))],
                transport: Some(Arc::new(bookshop)),
                ..UpstreamConfig::default()
            }),
            ..EngineConfig::default()
        };
        let operations = spec.operations.len();
        let engine = Arc::new(Engine::new(spec, config)?);
        match args.http {
            Some(addr) => {
                let listener = crate::serve::listen(&addr).await?;
                let bound = listener.local_addr()?;
                crate::output::eprint_line(&format!("codemode demo: Bookshop API, {operations} operations, upstream in process; streamable HTTP on http://{bound}/mcp"));
                codemode_mcp::serve_http_listener(engine, ServerConfig::default(), listener, crate::serve::shutdown_signal()).await?;
            }
            None => {
                crate::output::eprint_line(&format!("codemode demo: Bookshop API, {operations} operations, upstream in process; stdio"));
                codemode_mcp::serve_stdio(engine, ServerConfig::default()).await?;
            }
        }
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// What `codemode demo` prints in a terminal: the README's client snippets, and `--http`.
/// `exe` is this binary, named for clients that do not find `codemode` on their PATH.
pub fn connect_hint(exe: Option<&std::path::Path>) -> String {
    let mut text = String::from(
        "codemode demo is an MCP server over stdio: an MCP client starts it and talks to it.\n\
         Connect a client, then ask the agent \"which science books are in stock?\".\n\
         \n\
         Claude Desktop (claude_desktop_config.json) or Cursor (.cursor/mcp.json):\n\
         \x20 { \"mcpServers\": { \"bookshop-demo\": { \"command\": \"codemode\", \"args\": [\"demo\"] } } }\n\
         \n\
         Claude Code:\n\
         \x20 claude mcp add bookshop-demo -- codemode demo\n\
         \n\
         Any client that takes a URL (streamable HTTP, endpoint /mcp):\n\
         \x20 codemode demo --http 127.0.0.1:8080    # then connect to http://127.0.0.1:8080/mcp\n",
    );
    if let Some(exe) = exe {
        text.push_str(&format!(
            "\nIf the client does not find `codemode` on its PATH, give the full path: {}\n",
            exe.display()
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::connect_hint;

    #[test]
    fn the_terminal_hint_names_each_client_and_the_http_url() {
        let hint = connect_hint(Some(std::path::Path::new("/opt/bin/codemode")));
        for needle in [
            "claude_desktop_config.json",
            r#""command": "codemode", "args": ["demo"]"#,
            ".cursor/mcp.json",
            "claude mcp add bookshop-demo -- codemode demo",
            "codemode demo --http 127.0.0.1:8080",
            "http://127.0.0.1:8080/mcp",
            "/opt/bin/codemode",
        ] {
            assert!(hint.contains(needle), "{needle:?} in:\n{hint}");
        }
        // The JSON snippet is valid JSON, so it can be pasted as it is.
        let line = hint
            .lines()
            .find(|l| l.contains("mcpServers"))
            .expect("a JSON snippet");
        let parsed: serde_json::Value = serde_json::from_str(line.trim()).expect("valid JSON");
        assert_eq!(parsed["mcpServers"]["bookshop-demo"]["args"][0], "demo");
        assert!(!connect_hint(None).contains("full path"));
    }
}
