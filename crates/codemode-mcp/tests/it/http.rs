//! The HTTP shell: stateless JSON answers, Host/Origin validation, bearer token, size limit,
//! `?codemode=false`, the health probe, and graceful shutdown.

use codemode_mcp::ServerConfig;
use reqwest::StatusCode;
use serde_json::{Value, json};

use codemode_engine::{EngineConfig, PolicyConfig};

use crate::support::{
    PETSTORE, build_engine, build_engine_from, start_http, start_recording_upstream,
};

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
const TOOLS_LIST: &str = r#"{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}"#;

/// A client whose every request gives up after a minute (a failure naming the request, not a
/// hung test).
fn client() -> reqwest::Client {
    // reqwest has no crypto provider of its own; not every test's engine builds a network client
    // (which would install it).
    codemode_engine::upstream::install_crypto_provider();
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .expect("a reqwest client")
}

async fn post(url: &str, body: &str, headers: &[(&str, &str)]) -> (StatusCode, String, String) {
    let mut request = client()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .body(body.to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("request is answered");
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (
        status,
        content_type,
        response.text().await.unwrap_or_default(),
    )
}

#[tokio::test]
async fn stateless_json_answers_without_a_session() {
    let server = start_http(build_engine(PETSTORE, None), ServerConfig::default()).await;
    let (status, content_type, body) = post(&server.url(), INITIALIZE, &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let value: Value = serde_json::from_str(&body).expect("JSON body");
    assert_eq!(value["result"]["serverInfo"]["name"], "codemode");
    // No initialize needed first: every request stands alone.
    let (status, _, body) = post(&server.url(), TOOLS_LIST, &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let value: Value = serde_json::from_str(&body).expect("JSON body");
    assert_eq!(
        value["result"]["tools"].as_array().map(Vec::len),
        Some(2),
        "{body}"
    );
    server.stop().await.expect("stops cleanly");
}

#[tokio::test]
async fn foreign_hosts_and_origins_are_refused() {
    let server = start_http(build_engine(PETSTORE, None), ServerConfig::default()).await;
    let port = server.addr.port();
    let (status, _, _) = post(&server.url(), INITIALIZE, &[("host", "evil.example.com")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = post(
        &server.url(),
        INITIALIZE,
        &[("host", &format!("localhost:{}", port + 1))],
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "another port on localhost is another server"
    );
    let (status, _, _) = post(
        &server.url(),
        INITIALIZE,
        &[("origin", "http://evil.example.com")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let host = format!("localhost:{port}");
    let origin = format!("http://localhost:{port}");
    let (status, _, body) = post(
        &server.url(),
        INITIALIZE,
        &[("host", &host), ("origin", &origin)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn configured_hosts_replace_the_defaults() {
    let config = ServerConfig {
        allowed_hosts: vec!["mcp.internal".into()],
        ..ServerConfig::default()
    };
    let server = start_http(build_engine(PETSTORE, None), config).await;
    let (status, _, _) = post(&server.url(), INITIALIZE, &[]).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "127.0.0.1 is no longer listed"
    );
    let (status, _, body) = post(&server.url(), INITIALIZE, &[("host", "mcp.internal:443")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn the_bearer_token_is_required_when_configured() {
    let config = ServerConfig {
        auth_token: Some("s3cret-token".into()),
        ..ServerConfig::default()
    };
    let server = start_http(build_engine(PETSTORE, None), config).await;
    let (status, _, body) = post(&server.url(), INITIALIZE, &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        !body.contains("s3cret-token"),
        "the token never appears in an answer"
    );
    let (status, _, _) = post(
        &server.url(),
        INITIALIZE,
        &[("authorization", "Bearer wrong")],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, body) = post(
        &server.url(),
        INITIALIZE,
        &[("authorization", "Bearer s3cret-token")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn health_probes_need_no_host_or_token_and_learn_nothing() {
    let config = ServerConfig {
        auth_token: Some("s3cret-token".into()),
        ..ServerConfig::default()
    };
    let server = start_http(build_engine(PETSTORE, None), config).await;
    let health = format!("http://{}/healthz", server.addr);
    // A load balancer's probe: the node's address as Host, no token.
    let response = client()
        .get(&health)
        .header("host", "10.0.3.7:8080")
        .send()
        .await
        .expect("probe is answered");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.text().await.unwrap_or_default(),
        r#"{"status":"ok"}"#
    );
    let head = client()
        .head(&health)
        .send()
        .await
        .expect("HEAD is answered");
    assert_eq!(head.status(), StatusCode::OK);
    // The probe path opens nothing else: MCP still wants the host and the token.
    let (status, _, _) = post(&health, INITIALIZE, &[]).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, _, _) = post(
        &server.url(),
        INITIALIZE,
        &[
            ("host", "10.0.3.7:8080"),
            ("authorization", "Bearer s3cret-token"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = post(&server.url(), INITIALIZE, &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    server.stop().await.expect("stops cleanly");
}

#[tokio::test]
async fn the_checks_run_host_then_origin_then_token() {
    let config = ServerConfig {
        auth_token: Some("s3cret-token".into()),
        ..ServerConfig::default()
    };
    let server = start_http(build_engine(PETSTORE, None), config).await;
    let bad_origin = ("origin", "http://evil.example.com");
    let (status, _, body) = post(
        &server.url(),
        INITIALIZE,
        &[("host", "evil.example.com"), bad_origin],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("the Host header"), "{body}");
    let (status, _, body) = post(&server.url(), INITIALIZE, &[bad_origin]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("the Origin header"), "{body}");
    let (status, _, body) = post(&server.url(), INITIALIZE, &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let value: Value = serde_json::from_str(&body).expect("a JSON-RPC error body");
    assert_eq!(
        value["error"]["message"],
        "unauthorized: a valid bearer token is required"
    );
    server.stop().await.expect("stops cleanly");
}

#[tokio::test]
async fn oversized_requests_are_refused() {
    let config = ServerConfig {
        max_request_bytes: 4096,
        ..ServerConfig::default()
    };
    let server = start_http(build_engine(PETSTORE, None), config).await;
    let code = "x".repeat(10_000);
    let body = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "execute", "arguments": {"code": code}}});
    let (status, _, _) = post(&server.url(), &body.to_string(), &[]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn codemode_false_lists_one_tool_per_operation() {
    let server = start_http(build_engine(PETSTORE, None), ServerConfig::default()).await;
    let (status, _, body) =
        post(&format!("{}?codemode=false", server.url()), TOOLS_LIST, &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let value: Value = serde_json::from_str(&body).expect("JSON body");
    let names: Vec<&str> = value["result"]["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["listPets", "createPet", "showPetById", "deletePet"]);
    // The instructions describe the tools this connection lists, not the two code-mode tools.
    let instructions = |body: &str| -> String {
        let value: Value = serde_json::from_str(body).expect("JSON body");
        value["result"]["instructions"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let (_, _, body) = post(&format!("{}?codemode=false", server.url()), INITIALIZE, &[]).await;
    let per_operation = instructions(&body);
    assert!(
        per_operation.contains("one tool per API operation"),
        "{per_operation}"
    );
    assert!(!per_operation.contains("execute"), "{per_operation}");
    let (_, _, body) = post(&server.url(), INITIALIZE, &[]).await;
    assert!(instructions(&body).contains("`execute`"), "{body}");
}

#[tokio::test]
async fn shutdown_finishes_and_closes_the_port() {
    let server = start_http(build_engine(PETSTORE, None), ServerConfig::default()).await;
    let url = server.url();
    server.stop().await.expect("stops cleanly");
    let refused = client().post(&url).body(INITIALIZE).send().await;
    assert!(refused.is_err(), "nothing listens after shutdown");
}

/// Stateless HTTP cannot carry the server's question (the client's answer would have nowhere to
/// arrive), so a call that needs confirmation gets the configured fallback (deny) and a clear
/// message, and the upstream receives nothing.
#[tokio::test]
async fn stateless_http_cannot_ask_so_the_fallback_denies() {
    let upstream = start_recording_upstream().await;
    let policy = PolicyConfig {
        confirm_mutating: true,
        ..Default::default()
    };
    let engine = build_engine_from(
        PETSTORE,
        Some(&upstream.url),
        EngineConfig {
            policy,
            ..Default::default()
        },
    );
    let server = start_http(engine, ServerConfig::default()).await;
    let code = r#"const pets = await api.listPets({}); await api.createPet({ body: { name: "x" } }); return pets.length"#;
    let body = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "execute", "arguments": {"code": code}}});
    let (status, _, text) = post(&server.url(), &body.to_string(), &[]).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let value: Value = serde_json::from_str(&text).expect("JSON body");
    assert_eq!(value["result"]["isError"], true, "{text}");
    assert!(
        value["result"]["content"][0]["text"]
            .as_str()
            .unwrap_or("")
            .contains("POST /v1/pets needs the user's confirmation, but this client cannot ask"),
        "{text}"
    );
    assert_eq!(
        upstream.received(),
        vec!["GET /v1/pets"],
        "the write never went out"
    );
    server.stop().await.expect("stops cleanly");
}
