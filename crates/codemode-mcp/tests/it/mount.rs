//! The `mount_in_axum` example's app, built the same way on 127.0.0.1:0: MCP `initialize` and
//! `tools/list` through the mounted path, the app's own routes beside it, and the access layers
//! still in front of the mounted endpoint.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use tokio::sync::oneshot;

#[path = "../../examples/mount_in_axum.rs"]
#[allow(dead_code)]
mod example;

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
const TOOLS_LIST: &str = r#"{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}"#;
const WAIT: Duration = Duration::from_secs(30);

async fn post(url: &str, body: &str, host: Option<&str>) -> (StatusCode, String) {
    // reqwest has no crypto provider of its own, and this app's engine builds no network client
    // that would install one.
    codemode_engine::upstream::install_crypto_provider();
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .body(body.to_string());
    if let Some(host) = host {
        request = request.header("host", host);
    }
    let response = tokio::time::timeout(WAIT, request.send())
        .await
        .unwrap_or_else(|_| panic!("POST {url} answered within {WAIT:?}"))
        .expect("the request is answered");
    let status = response.status();
    (status, response.text().await.unwrap_or_default())
}

async fn get(url: &str) -> (StatusCode, String) {
    codemode_engine::upstream::install_crypto_provider();
    let response = tokio::time::timeout(WAIT, reqwest::get(url))
        .await
        .unwrap_or_else(|_| panic!("GET {url} answered within {WAIT:?}"))
        .expect("the request is answered");
    let status = response.status();
    (status, response.text().await.unwrap_or_default())
}

#[tokio::test]
async fn the_mounted_router_speaks_mcp_beside_the_apps_own_routes() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds 127.0.0.1:0");
    let addr = listener.local_addr().expect("has an address");
    let app = example::app(example::engine().expect("the engine builds"), addr.port());
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
    });
    let mcp = format!("http://{addr}/codemode/mcp");

    let (status, body) = post(&mcp, INITIALIZE, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let answer: Value = serde_json::from_str(&body).expect("JSON body");
    assert_eq!(answer["result"]["serverInfo"]["name"], "codemode", "{body}");

    let (status, body) = post(&mcp, TOOLS_LIST, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let answer: Value = serde_json::from_str(&body).expect("JSON body");
    let names: Vec<&str> = answer["result"]["tools"]
        .as_array()
        .expect("a tool list")
        .iter()
        .filter_map(|tool| tool["name"].as_str())
        .collect();
    assert_eq!(names, ["search", "execute"], "{body}");
    let execute = answer["result"]["tools"][1]["description"]
        .as_str()
        .expect("a description");
    assert!(execute.contains("Bookshop API"), "{execute}");

    // The app's own routes are its own; the probe is under the mount point.
    assert_eq!(
        get(&format!("http://{addr}/")).await,
        (StatusCode::OK, "the existing application".to_string())
    );
    assert_eq!(
        get(&format!("http://{addr}/status")).await,
        (StatusCode::OK, r#"{"app":"up"}"#.to_string())
    );
    assert_eq!(
        get(&format!("http://{addr}/codemode/healthz")).await,
        (StatusCode::OK, r#"{"status":"ok"}"#.to_string())
    );

    // Mounted, the Host check still guards the endpoint, on the port the app was given.
    let (status, _) = post(&mcp, INITIALIZE, Some("evil.example.com")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let other_port = format!("localhost:{}", addr.port().wrapping_add(1));
    let (status, _) = post(&mcp, INITIALIZE, Some(&other_port)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = post(
        &mcp,
        INITIALIZE,
        Some(&format!("localhost:{}", addr.port())),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let _ = stop.send(());
    tokio::time::timeout(WAIT, server)
        .await
        .unwrap_or_else(|_| panic!("the app stopped within {WAIT:?}"))
        .expect("the server task joins")
        .expect("the app served without an error");
}
