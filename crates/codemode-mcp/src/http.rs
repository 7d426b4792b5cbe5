//! Streamable HTTP: the `/mcp` endpoint on axum, in front of rmcp's stateless JSON service.
//!
//! Before a request reaches rmcp it must pass, in order: Host validation and Origin validation
//! (DNS rebinding protection; defaults to the loopback names on the bound port), then the bearer
//! token when one is configured. The query string picks the tool mode: `?codemode=false` gives one
//! tool per operation, `?codemode=true` the two code-mode tools, nothing the configured mode. The
//! per-operation tool list is built on first use and then cached for the life of the server.
//!
//! `GET /healthz` answers load balancers and orchestrators without any of those checks: a probe
//! comes with the node's address as Host and no token, and the answer says nothing but that the
//! server is up. The server binds only after the spec has loaded, so up means ready.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use codemode_engine::Engine;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_service::Service;

use crate::handler::{CodemodeServer, ToolSet};
use crate::{ServeError, ServerConfig, ToolMode};

type McpService = StreamableHttpService<CodemodeServer, LocalSessionManager>;

/// Binds `addr` and serves until `shutdown` completes.
pub async fn serve_http(
    engine: Arc<Engine>,
    config: ServerConfig,
    addr: SocketAddr,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    serve_http_listener(engine, config, listener, shutdown).await
}

/// Serves on an already bound listener (tests bind 127.0.0.1:0) until `shutdown` completes;
/// in-flight requests are finished first.
pub async fn serve_http_listener(
    engine: Arc<Engine>,
    config: ServerConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let local = listener.local_addr().map_err(ServeError::Http)?;
    crate::budget::warm_up_tokenizer();
    crate::prepare_search_answers(&engine, config.mode);
    let cancel = CancellationToken::new();
    let state = Arc::new(Endpoint::new(engine, config, local.port(), cancel.clone()));
    let app = axum::Router::new()
        .route("/mcp", axum::routing::any(mcp_endpoint))
        .route("/healthz", axum::routing::get(healthz))
        .with_state(state);
    let stop = cancel.clone();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            stop.cancel();
        })
        .await
        .map_err(ServeError::Http)
}

/// Everything the endpoint needs, shared by all requests.
struct Endpoint {
    engine: Arc<Engine>,
    config: ServerConfig,
    allowed_hosts: Vec<String>,
    allowed_origins: Vec<String>,
    cancel: CancellationToken,
    code_mode: OnceLock<McpService>,
    per_operation: OnceLock<McpService>,
}

impl Endpoint {
    fn new(
        engine: Arc<Engine>,
        config: ServerConfig,
        port: u16,
        cancel: CancellationToken,
    ) -> Endpoint {
        let allowed_hosts = if config.allowed_hosts.is_empty() {
            loopback_names()
                .iter()
                .map(|h| format!("{h}:{port}"))
                .collect()
        } else {
            config.allowed_hosts.clone()
        };
        let allowed_origins = if config.allowed_origins.is_empty() {
            loopback_names()
                .iter()
                .map(|h| format!("http://{h}:{port}"))
                .collect()
        } else {
            config.allowed_origins.clone()
        };
        Endpoint {
            engine,
            config,
            allowed_hosts,
            allowed_origins,
            cancel,
            code_mode: OnceLock::new(),
            per_operation: OnceLock::new(),
        }
    }

    /// The rmcp service for `mode`, built (tool list included) on first use.
    fn service(&self, mode: ToolMode) -> McpService {
        let cell = match mode {
            ToolMode::CodeMode => &self.code_mode,
            ToolMode::PerOperation => &self.per_operation,
        };
        cell.get_or_init(|| self.build_service(mode)).clone()
    }

    fn build_service(&self, mode: ToolMode) -> McpService {
        let tools = Arc::new(ToolSet::build(&self.engine, mode));
        // Stateless HTTP: a server-to-client request (elicitation) could never be answered.
        let server = CodemodeServer::new(self.engine.clone(), tools, &self.config, false);
        // Host/Origin checks are done here, before rmcp, with our own defaults; rmcp's are off.
        let rmcp_config = StreamableHttpServerConfig::default()
            .with_legacy_session_mode(false)
            .with_json_response(true)
            .with_sse_keep_alive(None)
            .disable_allowed_hosts()
            .disable_allowed_origins()
            .with_max_request_body_bytes(self.config.max_request_bytes)
            .with_cancellation_token(self.cancel.child_token());
        StreamableHttpService::new(
            move || Ok(server.clone()),
            Arc::new(LocalSessionManager::default()),
            rmcp_config,
        )
    }
}

fn loopback_names() -> [&'static str; 3] {
    ["localhost", "127.0.0.1", "[::1]"]
}

async fn mcp_endpoint(State(endpoint): State<Arc<Endpoint>>, request: Request) -> Response {
    if let Some(rejection) = rejection(&endpoint, &request) {
        return rejection;
    }
    let mode = mode_from_query(request.uri().query()).unwrap_or(endpoint.config.mode);
    let mut service = endpoint.service(mode);
    match service.call(request).await {
        Ok(response) => response.into_response(),
        Err(never) => match never {},
    }
}

async fn healthz() -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        r#"{"status":"ok"}"#,
    )
        .into_response()
}

/// Checks Host, Origin, then the bearer token; the answer to send when one fails.
fn rejection(endpoint: &Endpoint, request: &Request) -> Option<Response> {
    let headers = request.headers();
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| request.uri().authority().map(|a| a.to_string()));
    if !host
        .as_deref()
        .is_some_and(|h| host_allowed(h, &endpoint.allowed_hosts))
    {
        return Some(reject(
            StatusCode::FORBIDDEN,
            "forbidden: the Host header is not an allowed host",
        ));
    }
    if let Some(origin) = headers.get(header::ORIGIN)
        && !origin
            .to_str()
            .is_ok_and(|o| origin_allowed(o, &endpoint.allowed_origins))
    {
        return Some(reject(
            StatusCode::FORBIDDEN,
            "forbidden: the Origin header is not an allowed origin",
        ));
    }
    if let Some(token) = &endpoint.config.auth_token
        && !bearer_matches(headers, token.expose())
    {
        let mut response = reject(
            StatusCode::UNAUTHORIZED,
            "unauthorized: a valid bearer token is required",
        );
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
        return Some(response);
    }
    None
}

/// `?codemode=false` → per operation, `?codemode=true` → code mode, anything else → configured.
fn mode_from_query(query: Option<&str>) -> Option<ToolMode> {
    query?
        .split('&')
        .find_map(|pair| match pair.split_once('=') {
            Some(("codemode", "false" | "0")) => Some(ToolMode::PerOperation),
            Some(("codemode", "true" | "1")) => Some(ToolMode::CodeMode),
            _ => None,
        })
}

/// A `Host` value matches an entry `host:port` exactly, or an entry `host` on any port.
pub(crate) fn host_allowed(host: &str, allowed: &[String]) -> bool {
    let host = host.trim().to_ascii_lowercase();
    let (name, _) = split_host_port(&host);
    allowed.iter().any(|entry| {
        let entry = entry.trim().to_ascii_lowercase();
        entry == "*" || entry == host || (split_host_port(&entry).1.is_none() && entry == name)
    })
}

/// Splits `name:port`, `[v6]:port`, `name` and `[v6]`.
fn split_host_port(authority: &str) -> (&str, Option<&str>) {
    if authority.starts_with('[') {
        return match authority.find(']') {
            Some(end) => {
                let rest = &authority[end + 1..];
                (&authority[..=end], rest.strip_prefix(':'))
            }
            None => (authority, None),
        };
    }
    match authority.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') => (name, Some(port)),
        _ => (authority, None),
    }
}

pub(crate) fn origin_allowed(origin: &str, allowed: &[String]) -> bool {
    let origin = origin.trim().trim_end_matches('/');
    allowed.iter().any(|entry| {
        entry == "*"
            || entry
                .trim()
                .trim_end_matches('/')
                .eq_ignore_ascii_case(origin)
    })
}

/// Compares the presented token in constant time (no early exit on the first differing byte).
fn bearer_matches(headers: &HeaderMap, expected: &str) -> bool {
    let Some(presented) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
    else {
        return false;
    };
    let (a, b) = (presented.trim().as_bytes(), expected.as_bytes());
    let mut difference = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        difference |= usize::from(a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0));
    }
    difference == 0
}

/// A JSON-RPC error body, so clients that parse every response still get a readable reason.
fn reject(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": {"code": -32600, "message": message}
    });
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        Body::from(body.to_string()),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn hosts_match_on_name_and_port() {
        let allowed = list(&[
            "localhost:8080",
            "127.0.0.1:8080",
            "[::1]:8080",
            "example.com",
        ]);
        assert!(host_allowed("localhost:8080", &allowed));
        assert!(host_allowed("LOCALHOST:8080", &allowed));
        assert!(host_allowed("[::1]:8080", &allowed));
        assert!(host_allowed("example.com:443", &allowed));
        assert!(host_allowed("example.com", &allowed));
        assert!(!host_allowed("localhost:9090", &allowed));
        assert!(!host_allowed("localhost", &allowed));
        assert!(!host_allowed("evil.example.com", &allowed));
        assert!(!host_allowed("localhost.evil.com:8080", &allowed));
        assert!(host_allowed("anything", &list(&["*"])));
    }

    #[test]
    fn origins_match_exactly() {
        let allowed = list(&["http://localhost:8080"]);
        assert!(origin_allowed("http://localhost:8080", &allowed));
        assert!(!origin_allowed("http://localhost:8081", &allowed));
        assert!(!origin_allowed("https://localhost:8080", &allowed));
        assert!(!origin_allowed("null", &allowed));
    }

    #[test]
    fn the_query_picks_the_mode() {
        assert_eq!(
            mode_from_query(Some("codemode=false")),
            Some(ToolMode::PerOperation)
        );
        assert_eq!(
            mode_from_query(Some("a=b&codemode=true")),
            Some(ToolMode::CodeMode)
        );
        assert_eq!(mode_from_query(Some("codemode=maybe")), None);
        assert_eq!(mode_from_query(None), None);
    }

    #[test]
    fn bearer_tokens_compare_whole() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            "Bearer s3cret".parse().expect("header"),
        );
        assert!(bearer_matches(&headers, "s3cret"));
        assert!(!bearer_matches(&headers, "s3cre"));
        assert!(!bearer_matches(&headers, "s3cret!"));
        assert!(!bearer_matches(&HeaderMap::new(), "s3cret"));
    }
}
