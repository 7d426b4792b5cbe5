//! The MCP conformance suite (@modelcontextprotocol/conformance) against the HTTP server, open
//! and with OAuth on.
//!
//! The suite runs strictly against `conformance-baseline.yml`: a failure not listed there fails
//! the test, and so does a listed scenario that starts passing. The baseline lists only scenarios
//! that need the suite's fixture tools, resources or prompts, each with its reason.
//!
//! The suite's `server` command cannot send a bearer token: its options are `--url`,
//! `--scenario`, `--suite`, `--expected-failures`, `-o`, `--spec-version` and `--verbose`, and
//! the only environment variable its code reads is `GITHUB_TOKEN`. So with OAuth on, a proxy in
//! the test stands where the client's HTTP stack would: it adds `Authorization: Bearer <token>`
//! to every request and forwards everything else (method, path, Host, Origin, body) unchanged.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use codemode_mcp::ServerConfig;
use codemode_mcp::oauth::OAuthConfig;

use crate::support::issuer::Issuer;
use crate::support::{PETSTORE, build_engine, node_bin, run, start_http, start_http_on};

const SCENARIOS: [&str; 5] = [
    "server-initialize",
    "ping",
    "tools-list",
    "tools-call-error",
    "dns-rebinding-protection",
];

async fn conformance(url: &str) {
    let baseline = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/conformance-baseline.yml"
    );
    let output_dir = tempfile::tempdir().expect("temp dir");
    let args = [
        "server",
        "--url",
        url,
        "--expected-failures",
        baseline,
        "-o",
        output_dir.path().to_str().expect("utf-8"),
    ];
    let out = run(&node_bin("conformance"), &args, Duration::from_secs(240)).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "conformance: {}\n{stdout}\n{stderr}",
        out.status
    );
    for scenario in SCENARIOS {
        assert!(
            stdout
                .lines()
                .any(|l| l.contains(&format!("✓ {scenario}:"))),
            "{scenario} did not pass:\n{stdout}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_server_scenarios_pass_against_the_baseline() {
    let server = start_http(build_engine(PETSTORE, None), ServerConfig::default()).await;
    conformance(&server.url()).await;
}

/// The same scenarios, the same baseline, with `/mcp` an OAuth protected resource.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_server_scenarios_pass_with_oauth_on() {
    let issuer = Issuer::start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let resource = format!("http://127.0.0.1:{port}/mcp");
    let mut oauth = OAuthConfig::new(issuer.url.clone(), resource.clone());
    oauth.required_scopes = vec!["mcp".into()];
    oauth.jwks_url = Some(issuer.jwks_url());
    // The suite names the proxy in Host and Origin, as clients name a real reverse proxy: the
    // server lists it, as a deployment behind one does.
    let proxy_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the proxy");
    let proxy_port = proxy_listener.local_addr().expect("addr").port();
    let config = ServerConfig {
        oauth: Some(oauth),
        allowed_hosts: vec![
            format!("127.0.0.1:{proxy_port}"),
            format!("localhost:{proxy_port}"),
        ],
        allowed_origins: vec![
            format!("http://127.0.0.1:{proxy_port}"),
            format!("http://localhost:{proxy_port}"),
        ],
        ..ServerConfig::default()
    };
    let server = start_http_on(listener, build_engine(PETSTORE, None), config).await;
    // Without a token the suite would get nothing but 401s.
    codemode_engine::upstream::install_crypto_provider();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let refused = http
        .post(server.url())
        .header("host", format!("127.0.0.1:{proxy_port}"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("answered");
    assert_eq!(refused.status(), reqwest::StatusCode::UNAUTHORIZED);

    let token = issuer.sign(&issuer.es256, &issuer.claims(&resource, "mcp"));
    let proxy = token_proxy(proxy_listener, server.addr, token, http).await;
    conformance(&format!("http://{proxy}/mcp")).await;
}

struct Proxy {
    target: SocketAddr,
    token: String,
    http: reqwest::Client,
}

/// Forwards every request to `target` with `Authorization: Bearer <token>` added.
async fn token_proxy(
    listener: tokio::net::TcpListener,
    target: SocketAddr,
    token: String,
    http: reqwest::Client,
) -> SocketAddr {
    let addr = listener.local_addr().expect("addr");
    let state = std::sync::Arc::new(Proxy {
        target,
        token,
        http,
    });
    let app = axum::Router::new().fallback(forward).with_state(state);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

async fn forward(State(proxy): State<std::sync::Arc<Proxy>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let body = axum::body::to_bytes(body, 16 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let mut headers = parts.headers.clone();
    headers.remove(axum::http::header::CONTENT_LENGTH);
    headers.insert(
        axum::http::header::AUTHORIZATION,
        format!("Bearer {}", proxy.token)
            .parse()
            .expect("a header value"),
    );
    let sent = proxy
        .http
        .request(parts.method, format!("http://{}{path}", proxy.target))
        .headers(headers)
        .body(body)
        .send()
        .await;
    let answer = match sent {
        Ok(answer) => answer,
        Err(error) => {
            return Response::builder()
                .status(502)
                .body(Body::from(format!("proxy: {error}")))
                .expect("a response");
        }
    };
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if name != axum::http::header::TRANSFER_ENCODING && name != axum::http::header::CONNECTION {
            response = response.header(name, value);
        }
    }
    response
        .body(Body::from_stream(answer.bytes_stream()))
        .expect("a response")
}
