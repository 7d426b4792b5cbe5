//! The MCP server: exposes an [`Engine`] to agents over rmcp, on stdio or streamable HTTP. Owns the
//! tool definitions (two code-mode tools, `search` and `execute`, or one tool per operation with a
//! self-contained JSON Schema), the rendering of engine outcomes into tool results within a token
//! budget (the structural JSON cutter, [`cut_to_budget`]), confirmation of calls by MCP
//! elicitation or, for clients of protocol 2026-07-28, by `input_required` with a sealed journal
//! ([`ApprovalKey`]), and the HTTP shell around rmcp ([`router`], mountable in an existing axum app): Host and Origin
//! validation, an optional bearer token, a request size limit, graceful shutdown and Prometheus
//! metrics on `/metrics`. Every tool call is a `tracing` event (tool, outcome, duration, run id);
//! this crate never installs a subscriber, the binary does. Key types:
//! [`ServerConfig`], [`ToolMode`], [`ServeError`]. Must not know OpenAPI parsing, TypeScript,
//! search ranking, the sandbox or how upstream calls are made: all of that is behind [`Engine`].

#![warn(missing_docs)]
#![warn(unreachable_pub)]

mod approval;
mod budget;
mod caller;
mod confirm;
mod handler;
mod http;
mod live;
mod metrics;
mod per_operation;
mod render;
mod tools;
mod trace;

use std::net::SocketAddr;
use std::sync::Arc;

use codemode_engine::Engine;
use rmcp::ServiceExt;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite};

pub use approval::{
    ApprovalKey, ApprovalKeyError, DEFAULT_APPROVAL_STATE_MAX_BYTES, DEFAULT_APPROVAL_TTL,
    MIN_APPROVAL_KEY_BYTES,
};
pub use budget::{DEFAULT_OUTPUT_BUDGET_TOKENS, count_tokens, cut_to_budget};
pub use caller::RateLimit;
/// Access-token validation for [`ServerConfig::oauth`] (the `codemode-auth` crate).
pub use codemode_auth as oauth;
pub use http::{metrics_router, router, serve_http, serve_http_listener, try_router};
pub use live::EngineHandle;
pub use metrics::MetricsRegistry;
pub use per_operation::{MAX_TOOL_NAME_LEN, is_valid_tool_name};
pub use tools::{ExecuteArgs, SearchArgs, ToolDefinitionError, check_tool_definition};
pub use trace::ContinueTrace;

use handler::CodemodeServer;
use live::ToolSet;

/// Which tools the server lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ToolMode {
    /// Two tools: `search` and `execute`.
    #[default]
    CodeMode,
    /// One tool per allowed operation (`--tools per-operation`, or `?codemode=false` over HTTP).
    PerOperation,
}

/// How the server behaves; the CLI fills it from flags and the environment.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Which tools are listed. Default [`ToolMode::CodeMode`].
    pub mode: ToolMode,
    /// Token budget of every tool result (o200k); `execute` may lower or raise it per call.
    pub output_budget_tokens: usize,
    /// HTTP only: accepted `Host` values, `host` (any port) or `host:port`; `*` accepts any.
    /// Empty means `localhost`, `127.0.0.1` and `[::1]` on [`Self::public_port`].
    pub allowed_hosts: Vec<String>,
    /// HTTP only: accepted `Origin` values (`http://localhost:8080`); `*` accepts any. Requests
    /// without an Origin (non-browser clients) pass. Empty means the loopback origins on
    /// [`Self::public_port`].
    pub allowed_origins: Vec<String>,
    /// HTTP only: when set, every request to the MCP endpoint needs `Authorization: Bearer <token>`.
    /// A `Secret`, so `Debug` of the config never prints it. Not together with [`Self::oauth`].
    pub auth_token: Option<codemode_engine::upstream::Secret>,
    /// HTTP only: the endpoint is an OAuth 2.1 protected resource. Every request to it needs an
    /// access token (a JWT) from the configured issuer, for the configured resource; the
    /// verified caller rides in the request's extensions as a [`codemode_engine::Caller`]. The
    /// RFC 9728 metadata document is served at `/.well-known/oauth-protected-resource` (and with
    /// the resource's path appended). Not together with [`Self::auth_token`]: both set fails at
    /// start ([`ServeError::AuthConflict`]).
    pub oauth: Option<codemode_auth::OAuthConfig>,
    /// HTTP only: largest accepted request body.
    pub max_request_bytes: usize,
    /// HTTP only: the port clients connect to, which the default Host and Origin lists need
    /// (`localhost:<port>`, `http://localhost:<port>`; another port on localhost is another
    /// server). [`serve_http`] fills it from the bound listener when `None`; an application that
    /// mounts [`router`] sets it to its own port. `None` with empty lists accepts Host values
    /// naming a loopback address on any port, and only port-less loopback Origins (so a browser
    /// client needs the port or `allowed_origins`).
    pub public_port: Option<u16>,
    /// HTTP only: count tool calls, upstream calls and sandbox runs, and answer `GET /metrics`
    /// in the Prometheus text format. Default `true`.
    pub metrics: bool,
    /// HTTP only: how long loading the spec (or all specs) took, shown in `/metrics` as
    /// `codemode_spec_load_seconds`; left out when `None`.
    pub spec_load: Option<std::time::Duration>,
    /// HTTP only: count into this registry and leave `GET /metrics` off the MCP router, to be
    /// served by [`metrics_router`] on another address (a port kept off the public network).
    /// Counting happens whatever [`ServerConfig::metrics`] says. Default none.
    pub metrics_elsewhere: Option<MetricsRegistry>,
    /// Tool calls one caller may make (per OAuth token subject; callers no token names share
    /// one allowance). Over it, a call is an MCP error that says when to retry. Default none.
    pub rate_limit: Option<RateLimit>,
    /// HTTP only: continues the trace a request carried (`traceparent`) in each tool call's
    /// span. The binary sets it when built with `otel`; default none.
    pub continue_trace: Option<std::sync::Arc<dyn ContinueTrace>>,
    /// The key approval states (`requestState` of an `input_required` answer) are encrypted
    /// and sealed with. Replicas behind one load balancer need the same key. `None`: a random
    /// key for this process, so an approval must come back to the server that asked.
    pub approval_key: Option<ApprovalKey>,
    /// How long an approval may take before its state expires. Default
    /// [`DEFAULT_APPROVAL_TTL`] (10 minutes).
    pub approval_ttl: std::time::Duration,
    /// The largest approval state handed to a client; a pause whose journal is larger fails
    /// the run instead. Default [`DEFAULT_APPROVAL_STATE_MAX_BYTES`].
    pub approval_state_max_bytes: usize,
}

/// The default largest HTTP request body: 4 MiB (programs are small; this bounds memory).
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            mode: ToolMode::CodeMode,
            output_budget_tokens: DEFAULT_OUTPUT_BUDGET_TOKENS,
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            auth_token: None,
            oauth: None,
            max_request_bytes: DEFAULT_MAX_REQUEST_BYTES,
            public_port: None,
            metrics: true,
            spec_load: None,
            metrics_elsewhere: None,
            rate_limit: None,
            continue_trace: None,
            approval_key: None,
            approval_ttl: DEFAULT_APPROVAL_TTL,
            approval_state_max_bytes: DEFAULT_APPROVAL_STATE_MAX_BYTES,
        }
    }
}

/// Why a server could not start or stopped abnormally. Each message says what failed; the
/// reason is its `source()` (print the chain, e.g. `{:#}` with anyhow, to see both).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The HTTP listener could not be bound (address in use, no permission).
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why binding failed.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP server failed while serving, or its listener's address could not be read.
    #[error("http server failed")]
    Http(#[source] std::io::Error),
    /// Boxed: rmcp's error is large, and a `Result` carries its largest variant.
    #[error("mcp session failed to start")]
    Initialize(#[source] Box<rmcp::service::ServerInitializeError>),
    /// The task serving the session panicked or was cancelled.
    #[error("mcp session ended with an error")]
    Session(#[source] tokio::task::JoinError),
    /// Both [`ServerConfig::auth_token`] and [`ServerConfig::oauth`] are set.
    #[error("a static bearer token and oauth are both configured; choose one")]
    AuthConflict,
    /// [`ServerConfig::oauth`] was refused.
    #[error("invalid oauth config")]
    OAuth(#[source] codemode_auth::BuildError),
    /// [`ServerConfig::oauth`] is set for a stdio server: there is no request to carry a token.
    #[error("oauth protects the HTTP endpoint only; stdio has no requests to carry a token")]
    OAuthOverStdio,
}

/// Serves MCP over stdin/stdout until the client disconnects. `engine` is an `Arc<Engine>`, or
/// an [`EngineHandle`] to swap engines while it serves (a spec reload).
pub async fn serve_stdio(
    engine: impl Into<EngineHandle>,
    config: ServerConfig,
) -> Result<(), ServeError> {
    serve_io(engine, config, tokio::io::stdin(), tokio::io::stdout()).await
}

/// Serves MCP over any byte stream pair (stdio, a pipe, an in-memory duplex in tests).
pub async fn serve_io<R, W>(
    engine: impl Into<EngineHandle>,
    config: ServerConfig,
    reader: R,
    writer: W,
) -> Result<(), ServeError>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    if config.oauth.is_some() {
        return Err(ServeError::OAuthOverStdio);
    }
    let engine = engine.into();
    budget::warm_up_tokenizer();
    prepare_search_answers(&engine.engine(), config.mode);
    let server = CodemodeServer::new(engine.clone(), config.mode, &config, true);
    // Taken before the session starts, so a reload during the handshake is announced too.
    let swaps = engine.swaps();
    let listed = engine.snapshot().tools(config.mode);
    let running = server
        .serve((reader, writer))
        .await
        .map_err(|error| ServeError::Initialize(Box::new(error)))?;
    let announcer = tokio::spawn(announce_tool_changes(
        engine,
        config.mode,
        swaps,
        listed,
        running.peer().clone(),
    ));
    let ended = running.waiting().await;
    announcer.abort();
    ended.map(|_| ()).map_err(ServeError::Session)
}

/// Tells the client when a swapped-in engine lists other tools (a spec reload in per-operation
/// mode adds or drops tools), so it asks tools/list again. A swap that changes no tool says
/// nothing. Ends when the client is gone.
async fn announce_tool_changes(
    engine: EngineHandle,
    mode: ToolMode,
    mut swaps: tokio::sync::watch::Receiver<u64>,
    mut listed: Arc<live::ToolSet>,
    peer: rmcp::Peer<rmcp::RoleServer>,
) {
    while swaps.changed().await.is_ok() {
        let now = engine.snapshot().tools(mode);
        if now.tools != listed.tools && peer.notify_tool_list_changed().await.is_err() {
            return;
        }
        listed = now;
    }
}

/// Makes the search answers' declaration pieces on a blocking thread, so that no search pays for
/// making them; searches before it is done make what they need themselves. Outside a tokio
/// runtime (a router built before the runtime starts) it does nothing.
fn prepare_search_answers(engine: &Arc<Engine>, mode: ToolMode) {
    if mode == ToolMode::CodeMode
        && let Ok(runtime) = tokio::runtime::Handle::try_current()
    {
        let engine = engine.clone();
        runtime.spawn_blocking(move || engine.prepare_search_answers());
    }
}

/// The tool definitions tools/list returns for this engine and mode, typed.
pub fn tool_definitions(engine: &Engine, config: &ServerConfig) -> Vec<rmcp::model::Tool> {
    ToolSet::build(engine, config.mode).tools
}

/// Exactly what tools/list returns for this engine and mode: `{"tools": [...]}`.
pub fn tools_list_json(engine: &Engine, config: &ServerConfig) -> Value {
    let tools = ToolSet::build(engine, config.mode);
    json!({ "tools": tools.tools })
}

/// The two code-mode tool definitions.
fn code_mode_tools(engine: &Engine) -> Vec<rmcp::model::Tool> {
    vec![tools::search_tool(engine), tools::execute_tool(engine)]
}

/// Counts the tokens of a tools/list answer as an agent sees it (compact JSON).
pub fn tools_list_tokens(tools_list: &Value) -> usize {
    count_tokens(&tools_list.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_token_never_prints() {
        let config = ServerConfig {
            auth_token: Some("endpoint_token_value".into()),
            ..ServerConfig::default()
        };
        let printed = format!("{config:?}");
        assert!(!printed.contains("endpoint_token_value"), "{printed}");
    }

    /// The message says what failed (the address), the source why, each printed once by `{:#}`.
    #[tokio::test]
    async fn a_taken_address_is_named_once_with_its_cause_once() {
        let taken = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binds a loopback port");
        let addr = taken.local_addr().expect("has an address");
        let spec = codemode_engine::spec::load_str(
            "pets.json",
            r#"{"openapi": "3.0.0", "info": {"title": "Pets", "version": "1"}, "paths": {}}"#,
        )
        .expect("the spec loads");
        let engine = Arc::new(Engine::new(spec, Default::default()).expect("the engine builds"));
        let served = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            serve_http(
                engine,
                ServerConfig::default(),
                addr,
                std::future::pending(),
            ),
        )
        .await
        .expect("serve_http returns at once when it cannot bind");
        let Err(error) = served else {
            panic!("serve_http bound an address that was taken");
        };
        assert!(matches!(error, ServeError::Bind { .. }), "{error:?}");
        let error = anyhow::Error::from(error);
        let printed = format!("{error:#}");
        assert_eq!(error.chain().count(), 2, "{printed}");
        for cause in error.chain() {
            let text = cause.to_string();
            assert_eq!(printed.matches(&text).count(), 1, "{text:?} in {printed:?}");
        }
        assert!(
            printed.starts_with(&format!("cannot listen on {addr}: ")),
            "{printed}"
        );
    }
}
