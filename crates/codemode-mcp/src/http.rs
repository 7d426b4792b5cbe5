//! Streamable HTTP: the `/mcp` endpoint on axum, in front of rmcp's stateless JSON service, as a
//! [`router`] an application can mount inside its own, and [`serve_http`] that binds and serves it.
//!
//! Before a request reaches rmcp it must pass three tower layers, in order: Host validation and
//! Origin validation (DNS rebinding protection; the defaults are the loopback names, on
//! [`ServerConfig::public_port`] when it is known), then the bearer token when one is configured.
//! The query string picks the tool mode: `?codemode=false` gives one tool per operation,
//! `?codemode=true` the two code-mode tools, nothing the configured mode. The per-operation tool
//! list is built on first use and then cached for the life of the router.
//!
//! With [`ServerConfig::oauth`] the token layer is an OAuth 2.1 protected resource instead of
//! the static token: a missing or bad access token gets `401` with `WWW-Authenticate: Bearer
//! resource_metadata="…"` (and `error="invalid_token"` when a token was sent), a valid one
//! without a required scope `403` with `error="insufficient_scope"`, and a valid one passes
//! with the verified [`Caller`] in the request's extensions (rmcp hands the handler the
//! request's `http::request::Parts`, extensions included). Each refusal is logged with its
//! reason, never the token. The RFC 9728 metadata document is served, like `/healthz`, without
//! any check: `GET /.well-known/oauth-protected-resource`, and the same with the resource's
//! path appended (RFC 9728 §3.1), which is where the `resource_metadata` URL points.
//!
//! `GET /healthz` answers load balancers and orchestrators without any of those checks: a probe
//! comes with the node's address as Host and no token, and the answer says nothing but that the
//! server is up. The server binds only after the spec has loaded, so up means ready.
//!
//! `GET /metrics` (unless [`ServerConfig::metrics`] is off) answers Prometheus, also without
//! those checks, for the same reason: a scraper comes by pod address with no token, and holding
//! the MCP endpoint's token in every scrape config would spread the one credential that guards
//! the API. What it shows is counts under labels from closed sets (tool names, outcome kinds,
//! API names, methods, status classes): no path, argument, program, secret or caller. A
//! deployment that must not show even those keeps the port off the public network (the metrics
//! are per replica anyway, so they are scraped from inside the cluster).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use codemode_auth::{AuthError, ProtectedResourceMetadata, Verifier};
use codemode_engine::Caller;
use codemode_engine::upstream::Secret;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_service::Service;

use crate::caller::CallerLimits;
use crate::handler::CodemodeServer;
use crate::live::EngineHandle;
use crate::metrics::{Metrics, MetricsRegistry};
use crate::{ServeError, ServerConfig, ToolMode};

type McpService = StreamableHttpService<CodemodeServer, LocalSessionManager>;

/// Binds `addr` and serves until `shutdown` completes.
pub async fn serve_http(
    engine: impl Into<EngineHandle>,
    config: ServerConfig,
    addr: SocketAddr,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    // A config that cannot serve fails before the port is taken.
    Guard::new(&config)?;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    serve_http_listener(engine, config, listener, shutdown).await
}

/// Serves [`router`] on an already bound listener (tests bind 127.0.0.1:0) until `shutdown`
/// completes; in-flight requests are finished first. The default Host and Origin lists use the
/// listener's port unless `config.public_port` says otherwise (a proxy in front on another port).
pub async fn serve_http_listener(
    engine: impl Into<EngineHandle>,
    mut config: ServerConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let local = listener.local_addr().map_err(ServeError::Http)?;
    config.public_port.get_or_insert(local.port());
    let guard = Guard::new(&config)?;
    let cancel = CancellationToken::new();
    let app = router_with_cancel(engine, config, guard, cancel.clone());
    let stop = cancel.clone();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            stop.cancel();
        })
        .await
        .map_err(ServeError::Http)
}

/// The MCP server as an axum [`Router`](axum::Router) with three routes, `/mcp` (behind the Host,
/// Origin and bearer-token layers), `/healthz` and `/metrics` (behind none; `/metrics` only when
/// [`ServerConfig::metrics`] is on), ready to `merge` into an application or `nest` under a
/// prefix.
///
/// The default Host and Origin lists are the loopback names on `config.public_port`, the port
/// clients connect to; with no port, Hosts naming a loopback address on any port and port-less
/// loopback Origins. An application
/// reached under another name lists it in `allowed_hosts` (and `allowed_origins` for browsers).
///
/// Starts warming up the tokenizer and the search answers on blocking threads when called inside
/// a tokio runtime, so the first requests do not pay for them. Answers are stateless JSON (no
/// session, no open stream), so the application's own graceful shutdown is enough to drain them.
///
/// With [`ServerConfig::oauth`], the metadata document's routes are added too. Nested under a
/// prefix, they move under it as well; RFC 9728 clients look for them at the root of the host,
/// so an application that nests the router serves them there itself (or merges instead).
///
/// A config that cannot serve (a static token and OAuth both set, an OAuth config that is
/// refused) is logged as an error and every `/mcp` request is answered 500: the endpoint fails
/// closed. [`try_router`] returns the error instead.
pub fn router(engine: impl Into<EngineHandle>, config: ServerConfig) -> axum::Router {
    let guard = Guard::new(&config).unwrap_or_else(|error| {
        tracing::error!(
            error = %crate::render::chain_text(&error),
            "the MCP endpoint is misconfigured; every request to it is refused"
        );
        Guard::Broken
    });
    router_with_cancel(engine, config, guard, CancellationToken::new())
}

/// [`router`], failing with the reason when the config cannot serve.
pub fn try_router(
    engine: impl Into<EngineHandle>,
    config: ServerConfig,
) -> Result<axum::Router, ServeError> {
    let guard = Guard::new(&config)?;
    Ok(router_with_cancel(
        engine,
        config,
        guard,
        CancellationToken::new(),
    ))
}

fn router_with_cancel(
    engine: impl Into<EngineHandle>,
    config: ServerConfig,
    guard: Guard,
    cancel: CancellationToken,
) -> axum::Router {
    let engine = engine.into();
    crate::budget::warm_up_tokenizer();
    crate::prepare_search_answers(&engine.engine(), config.mode);
    let access = Arc::new(Access::new(&config, guard));
    let resource_metadata = access.guard.oauth().map(|oauth| oauth.document_routes());
    // Counted here and served beside `/mcp`, counted here and served elsewhere, or neither.
    let (metrics, route_metrics) = match &config.metrics_elsewhere {
        Some(registry) => (Some(registry.0.clone()), false),
        None if config.metrics => (Some(Arc::new(Metrics::new(config.spec_load))), true),
        None => (None, false),
    };
    if let Some(metrics) = &metrics {
        metrics.follow(&engine);
    }
    let limits = config
        .rate_limit
        .map(|limit| Arc::new(CallerLimits::new(limit)));
    let endpoint = Arc::new(Endpoint {
        engine,
        config,
        cancel,
        metrics: metrics.clone(),
        limits,
        code_mode: OnceLock::new(),
        per_operation: OnceLock::new(),
    });
    // The last layer added runs first: Host, then Origin, then the token.
    let mcp = axum::Router::new()
        .route("/mcp", axum::routing::any(mcp_endpoint))
        .with_state(endpoint)
        .route_layer(middleware::from_fn_with_state(
            access.clone(),
            require_token,
        ))
        .route_layer(middleware::from_fn_with_state(
            access.clone(),
            require_origin,
        ))
        .route_layer(middleware::from_fn_with_state(access, require_host));
    let mut app = axum::Router::new()
        .route("/healthz", axum::routing::get(healthz))
        .merge(mcp);
    if let Some((paths, document)) = resource_metadata {
        for path in paths {
            let document = document.clone();
            app = app.route(
                &path,
                axum::routing::get(move || async move { metadata_document(&document) }),
            );
        }
    }
    match metrics {
        Some(metrics) if route_metrics => app.route(
            "/metrics",
            axum::routing::get(metrics_endpoint).with_state(metrics),
        ),
        _ => app,
    }
}

/// `GET /metrics` alone, for a registry a server counts into
/// ([`ServerConfig::metrics_elsewhere`]): serve it on an address of its own. No Host, Origin or
/// token check, as beside `/mcp`.
pub fn metrics_router(registry: &MetricsRegistry) -> axum::Router {
    axum::Router::new().route(
        "/metrics",
        axum::routing::get(metrics_endpoint).with_state(registry.0.clone()),
    )
}

/// What the token layer checks.
enum Guard {
    /// No token needed.
    Open,
    /// The one static bearer token.
    Token(Secret),
    /// OAuth 2.1 access tokens.
    OAuth(Box<OAuthGuard>),
    /// The config cannot serve: every request is refused (see [`router`]).
    Broken,
}

impl Guard {
    fn new(config: &ServerConfig) -> Result<Guard, ServeError> {
        match (&config.auth_token, &config.oauth) {
            (Some(_), Some(_)) => Err(ServeError::AuthConflict),
            (Some(token), None) => Ok(Guard::Token(token.clone())),
            (None, Some(oauth)) => {
                let verifier = Verifier::new(oauth.clone()).map_err(ServeError::OAuth)?;
                Ok(Guard::OAuth(Box::new(OAuthGuard::new(verifier))))
            }
            (None, None) => Ok(Guard::Open),
        }
    }

    fn oauth(&self) -> Option<&OAuthGuard> {
        match self {
            Guard::OAuth(oauth) => Some(oauth),
            _ => None,
        }
    }
}

/// The OAuth token layer's state.
struct OAuthGuard {
    verifier: Verifier,
    /// Where the metadata document is (RFC 9728 §3.1), for the `resource_metadata` parameter.
    metadata_url: String,
    /// The required scopes, space-separated, for the `scope` parameter; `None` when there are none.
    scope: Option<String>,
}

impl OAuthGuard {
    fn new(verifier: Verifier) -> OAuthGuard {
        let config = verifier.config();
        // The config check made sure `resource` is an absolute URL.
        let metadata_url = ProtectedResourceMetadata::url_for(&config.resource)
            .unwrap_or_else(|| config.resource.clone());
        let scope = (!config.required_scopes.is_empty()).then(|| config.required_scopes.join(" "));
        OAuthGuard {
            verifier,
            metadata_url,
            scope,
        }
    }

    /// The paths the metadata document is served on, and the document.
    fn document_routes(&self) -> (Vec<String>, Arc<String>) {
        const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";
        let mut paths = vec![WELL_KNOWN.to_string()];
        let resource_path = resource_path_of(&self.verifier.config().resource);
        // Only plain path characters: anything else would be axum route syntax.
        if !resource_path.is_empty()
            && resource_path
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'.' | b'_' | b'~'))
            && !resource_path.contains("//")
        {
            paths.push(format!("{WELL_KNOWN}{resource_path}"));
        }
        let document = serde_json::to_string(&self.verifier.metadata()).unwrap_or_default();
        (paths, Arc::new(document))
    }

    /// The `WWW-Authenticate` value for a refusal: `error` and its description when a token was
    /// sent, the required scope, and where the metadata document is.
    fn challenge(&self, error: Option<(&str, &str)>) -> header::HeaderValue {
        let mut params = Vec::new();
        if let Some((code, description)) = error {
            params.push(format!("error=\"{code}\""));
            params.push(format!(
                "error_description=\"{}\"",
                quoted_safe(description)
            ));
        }
        if let Some(scope) = &self.scope {
            params.push(format!("scope=\"{scope}\""));
        }
        params.push(format!(
            "resource_metadata=\"{}\"",
            quoted_safe(&self.metadata_url)
        ));
        let value = format!("Bearer {}", params.join(", "));
        header::HeaderValue::from_str(&value)
            .unwrap_or_else(|_| header::HeaderValue::from_static("Bearer"))
    }
}

/// The path of an absolute URL (`/mcp` of `https://h/mcp`), without a trailing slash.
fn resource_path_of(url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = after_scheme
        .find('/')
        .map_or("", |start| &after_scheme[start..]);
    let path = path.split(['?', '#']).next().unwrap_or("");
    path.trim_end_matches('/').to_string()
}

/// A value fit for a quoted-string in a header: printable ASCII without quotes or backslashes.
fn quoted_safe(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            c if c.is_ascii_graphic() || c == ' ' => c,
            _ => '?',
        })
        .collect()
}

/// What the access layers check, resolved once from the config.
struct Access {
    allowed_hosts: Vec<String>,
    allowed_origins: Vec<String>,
    guard: Guard,
}

impl Access {
    fn new(config: &ServerConfig, guard: Guard) -> Access {
        let port = config.public_port;
        let on_port = |name: &str, scheme: &str| match port {
            Some(port) => format!("{scheme}{name}:{port}"),
            None => format!("{scheme}{name}"),
        };
        let allowed_hosts = if config.allowed_hosts.is_empty() {
            loopback_names().iter().map(|h| on_port(h, "")).collect()
        } else {
            config.allowed_hosts.clone()
        };
        let allowed_origins = if config.allowed_origins.is_empty() {
            loopback_names()
                .iter()
                .map(|h| on_port(h, "http://"))
                .collect()
        } else {
            config.allowed_origins.clone()
        };
        Access {
            allowed_hosts,
            allowed_origins,
            guard,
        }
    }
}

/// Everything the endpoint needs, shared by all requests.
struct Endpoint {
    engine: EngineHandle,
    config: ServerConfig,
    cancel: CancellationToken,
    metrics: Option<Arc<Metrics>>,
    /// One per-caller limiter for both tool modes, so a caller cannot double their allowance.
    limits: Option<Arc<CallerLimits>>,
    code_mode: OnceLock<McpService>,
    per_operation: OnceLock<McpService>,
}

impl Endpoint {
    /// The rmcp service for `mode`, built (tool list included) on first use.
    fn service(&self, mode: ToolMode) -> McpService {
        let cell = match mode {
            ToolMode::CodeMode => &self.code_mode,
            ToolMode::PerOperation => &self.per_operation,
        };
        cell.get_or_init(|| self.build_service(mode)).clone()
    }

    fn build_service(&self, mode: ToolMode) -> McpService {
        // Stateless HTTP: a server-to-client request (elicitation) could never be answered.
        let caller = match (&self.config.auth_token, &self.config.oauth) {
            (Some(_), _) => Some("bearer token"),
            (None, Some(_)) => Some("oauth token"),
            (None, None) => None,
        };
        let server = CodemodeServer::new(self.engine.clone(), mode, &self.config, false)
            .observed(self.metrics.clone(), caller)
            .sharing_limits(self.limits.clone());
        // Host/Origin checks are done by our layers, before rmcp, with our own defaults; rmcp's
        // are off.
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

/// The RFC 9728 document; public, so any origin may read it (browser-based clients look it up).
fn metadata_document(document: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "max-age=300"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        document.to_string(),
    )
        .into_response()
}

async fn metrics_endpoint(State(metrics): State<Arc<Metrics>>) -> Response {
    (
        [
            (header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE),
            (header::CACHE_CONTROL, "no-store"),
        ],
        metrics.encode(),
    )
        .into_response()
}

/// The Host layer: a request whose Host (or absolute-form authority) is not allowed stops here.
async fn require_host(State(access): State<Arc<Access>>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| request.uri().authority().map(|a| a.to_string()));
    if !host
        .as_deref()
        .is_some_and(|h| host_allowed(h, &access.allowed_hosts))
    {
        return reject(
            StatusCode::FORBIDDEN,
            "forbidden: the Host header is not an allowed host",
        );
    }
    next.run(request).await
}

/// The Origin layer: requests without an Origin (non-browser clients) pass.
async fn require_origin(
    State(access): State<Arc<Access>>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(origin) = request.headers().get(header::ORIGIN)
        && !origin
            .to_str()
            .is_ok_and(|o| origin_allowed(o, &access.allowed_origins))
    {
        return reject(
            StatusCode::FORBIDDEN,
            "forbidden: the Origin header is not an allowed origin",
        );
    }
    next.run(request).await
}

/// The token layer: the static bearer token, an OAuth access token, or nothing, as configured.
async fn require_token(
    State(access): State<Arc<Access>>,
    request: Request,
    next: Next,
) -> Response {
    match &access.guard {
        Guard::Open => next.run(request).await,
        Guard::Token(token) => {
            if bearer_matches(request.headers(), token.expose()) {
                return next.run(request).await;
            }
            let mut response = reject(
                StatusCode::UNAUTHORIZED,
                "unauthorized: a valid bearer token is required",
            );
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
            response
        }
        Guard::OAuth(oauth) => require_access_token(oauth, request, next).await,
        Guard::Broken => reject(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the server's authentication is misconfigured; see its log",
        ),
    }
}

/// The OAuth token layer: verify, then pass with the caller in the request's extensions.
async fn require_access_token(oauth: &OAuthGuard, mut request: Request, next: Next) -> Response {
    let Some(token) = bearer_token(request.headers()) else {
        tracing::info!(
            reason = "no_token",
            "refused a request to the MCP endpoint: no bearer token"
        );
        let mut response = reject(
            StatusCode::UNAUTHORIZED,
            "unauthorized: an access token is required (see the resource_metadata in WWW-Authenticate)",
        );
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, oauth.challenge(None));
        return response;
    };
    match oauth.verifier.verify(token).await {
        Ok(verified) => {
            request.extensions_mut().insert(Caller {
                subject: verified.subject,
                client_id: verified.client_id,
                scopes: verified.scopes,
            });
            next.run(request).await
        }
        Err(error) => {
            // The log gets the whole chain; the client only the top line (a failed key fetch's
            // cause names the issuer's internal URLs and transport errors).
            let text = crate::render::chain_text(&error);
            let said = error.to_string();
            let (status, code) = match &error {
                AuthError::InsufficientScope { .. } => {
                    (StatusCode::FORBIDDEN, "insufficient_scope")
                }
                _ => (StatusCode::UNAUTHORIZED, "invalid_token"),
            };
            tracing::warn!(
                reason = error.reason(),
                error = %text,
                "refused an access token for the MCP endpoint"
            );
            let mut response = reject(status, &format!("unauthorized: {said}"));
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                oauth.challenge(Some((code, &said))),
            );
            response
        }
    }
}

/// The value of `Authorization: Bearer <token>` (scheme in any case), if that is what was sent.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
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

/// Compares the presented token with `subtle`, in time that does not depend on where the two
/// differ (only on their lengths, which a token's format gives away anyway).
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
    presented
        .trim()
        .as_bytes()
        .ct_eq(expected.as_bytes())
        .into()
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
    fn default_lists_follow_the_public_port() {
        let on_8080 = Access::new(
            &ServerConfig {
                public_port: Some(8080),
                ..ServerConfig::default()
            },
            Guard::Open,
        );
        assert!(host_allowed("localhost:8080", &on_8080.allowed_hosts));
        assert!(!host_allowed("localhost:9090", &on_8080.allowed_hosts));
        assert!(origin_allowed(
            "http://127.0.0.1:8080",
            &on_8080.allowed_origins
        ));
        // Mounted with no port known: the loopback names on any port, and no other name.
        let anywhere = Access::new(&ServerConfig::default(), Guard::Open);
        assert!(host_allowed("localhost:9090", &anywhere.allowed_hosts));
        assert!(host_allowed("[::1]:3000", &anywhere.allowed_hosts));
        assert!(!host_allowed(
            "evil.example.com:9090",
            &anywhere.allowed_hosts
        ));
        assert!(origin_allowed(
            "http://localhost",
            &anywhere.allowed_origins
        ));
        assert!(!origin_allowed(
            "http://localhost:9090",
            &anywhere.allowed_origins
        ));
    }

    /// A verified token's caller rides in the request's extensions past the token layer (rmcp
    /// then hands the handler those extensions inside `http::request::Parts`).
    #[tokio::test]
    async fn a_verified_caller_rides_in_the_request_extensions() {
        use codemode_auth::{Fetch, FetchFuture, OAuthConfig};
        use tower_service::Service as _;

        /// The issuer's JWKS, served from memory.
        struct Jwks(Vec<u8>);
        impl Fetch for Jwks {
            fn get<'a>(&'a self, _url: &'a str) -> FetchFuture<'a> {
                Box::pin(async move { Ok(self.0.clone()) })
            }
        }
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("a key");
        let encoding = jsonwebtoken::EncodingKey::from_ec_der(&pair.serialize_der());
        let mut jwk = serde_json::to_value(
            jsonwebtoken::jwk::Jwk::from_encoding_key(&encoding, jsonwebtoken::Algorithm::ES256)
                .expect("a JWK"),
        )
        .expect("JSON");
        jwk["kid"] = "k1".into();
        let jwks = serde_json::json!({ "keys": [jwk] })
            .to_string()
            .into_bytes();
        let mut config = OAuthConfig::new("https://id.example.com", "https://mcp.example.com/mcp");
        config.jwks_url = Some("https://id.example.com/jwks".into());
        let verifier = Verifier::with_fetch(config, Arc::new(Jwks(jwks))).expect("a valid config");
        let access = Arc::new(Access::new(
            &ServerConfig {
                allowed_hosts: vec!["*".into()],
                ..ServerConfig::default()
            },
            Guard::OAuth(Box::new(OAuthGuard::new(verifier))),
        ));
        let mut app = axum::Router::new()
            .route(
                "/mcp",
                axum::routing::post(|request: Request| async move {
                    let caller = request.extensions().get::<Caller>().cloned();
                    format!("{caller:?}")
                }),
            )
            .route_layer(middleware::from_fn_with_state(access, require_token));
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some("k1".into());
        let exp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs()
            + 600;
        let claims = serde_json::json!({
            "iss": "https://id.example.com", "aud": "https://mcp.example.com/mcp",
            "sub": "alice", "azp": "cli", "scope": "mcp write", "exp": exp,
        });
        let token = jsonwebtoken::encode(&header, &claims, &encoding).expect("signs");
        let request = axum::http::Request::post("/mcp")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .expect("a request");
        let response = app.call(request).await.expect("infallible");
        assert_eq!(response.status(), StatusCode::OK);
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .expect("a body");
        assert_eq!(
            String::from_utf8_lossy(&body),
            r#"Some(Caller { subject: "alice", client_id: Some("cli"), scopes: {"mcp", "write"} })"#
        );
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
