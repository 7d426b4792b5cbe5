//! `GET /metrics` (issue 19): read back with a real Prometheus text parser (`prometheus-parse`),
//! its counters move by exactly what the calls did, it answers without the endpoint's token or
//! a listed Host, and it shows no secret.

use std::time::Duration;

use codemode_mcp::ServerConfig;
use prometheus_parse::{Sample, Scrape, Value as Metric};
use serde_json::{Value, json};

use crate::support::{PETSTORE, build_engine, start_http, start_recording_upstream};

const TOKEN: &str = "metrics-canary-token-4411";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("a reqwest client")
}

/// One tool call over `/mcp` with the token; the tool result.
async fn call(url: &str, id: u64, tool: &str, arguments: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": tool, "arguments": arguments}});
    let response = client()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .bearer_auth(TOKEN)
        .body(body.to_string())
        .send()
        .await
        .expect("the call is answered");
    assert_eq!(response.status(), 200);
    let value: Value = response.json().await.expect("a JSON answer");
    value["result"].clone()
}

/// `GET /metrics` as a scraper sends it: no token, the address as Host.
async fn scrape(base: &str) -> (String, Scrape) {
    let response = client()
        .get(format!("{base}/metrics"))
        .header("host", "10.1.2.3:9000")
        .send()
        .await
        .expect("/metrics answers");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let text = response.text().await.expect("a text body");
    let lines = text.lines().map(|line| Ok(line.to_string()));
    let parsed = Scrape::parse(lines).expect("the parser reads it");
    (text, parsed)
}

/// The value of the sample named `name` whose labels include `labels`; 0 when there is none
/// (a labelled series appears on its first count). prometheus-parse types a sample by the name
/// in its `# TYPE` line, which for OpenMetrics counters lacks `_total`: counters come back
/// untyped, with their value.
fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    let matching: Vec<&Sample> = scrape
        .samples
        .iter()
        .filter(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .collect();
    assert!(matching.len() <= 1, "{name} {labels:?}: {matching:?}");
    match matching.first().map(|s| &s.value) {
        None => 0.0,
        Some(Metric::Counter(v) | Metric::Gauge(v) | Metric::Untyped(v)) => *v,
        Some(other) => panic!("{name} {labels:?} is not a number: {other:?}"),
    }
}

#[tokio::test]
async fn counters_move_with_calls_and_parse() {
    let upstream = start_recording_upstream().await;
    let config = ServerConfig {
        auth_token: Some(TOKEN.into()),
        spec_load: Some(Duration::from_millis(250)),
        ..ServerConfig::default()
    };
    let server = start_http(build_engine(PETSTORE, Some(&upstream.url)), config).await;
    let base = format!("http://127.0.0.1:{}", server.addr.port());
    let (_, before) = scrape(&base).await;
    assert_eq!(value(&before, "codemode_tool_calls_total", &[]), 0.0);
    assert_eq!(value(&before, "codemode_spec_load_seconds", &[]), 0.25);
    assert!(value(&before, "codemode_process_resident_memory_bytes", &[]) > 1e6);

    let url = server.url();
    let found = call(&url, 1, "search", json!({"query": "list pets"})).await;
    assert_ne!(found["isError"], true, "{found}");
    let ok = call(
        &url,
        2,
        "execute",
        json!({"code": "const pets = await api.listPets({}); const one = await api.showPetById({ petId: '1' }); return [pets.length, one.id];"}),
    )
    .await;
    assert_ne!(ok["isError"], true, "{ok}");
    let threw = call(&url, 3, "execute", json!({"code": "throw new Error('no')"})).await;
    assert_eq!(threw["isError"], true, "{threw}");
    let bad = call(&url, 4, "execute", json!({})).await;
    assert_eq!(bad["isError"], true, "{bad}");
    let unknown = call(&url, 5, "teleport", json!({})).await;
    assert_eq!(unknown["isError"], true, "{unknown}");

    let (text, after) = scrape(&base).await;
    assert!(!text.contains(TOKEN), "{text}");
    assert!(
        !text.contains("teleport"),
        "a client's tool name became a label: {text}"
    );
    let calls = |tool, outcome| {
        value(
            &after,
            "codemode_tool_calls_total",
            &[("tool", tool), ("outcome", outcome)],
        )
    };
    assert_eq!(calls("search", "ok"), 1.0, "{text}");
    assert_eq!(calls("execute", "ok"), 1.0, "{text}");
    assert_eq!(calls("execute", "exception"), 1.0, "{text}");
    assert_eq!(calls("execute", "invalid_arguments"), 1.0, "{text}");
    assert_eq!(calls("unknown", "unknown_tool"), 1.0, "{text}");
    let latency = after
        .samples
        .iter()
        .find(|s| {
            s.metric == "codemode_tool_call_duration_seconds"
                && s.labels.get("tool") == Some("execute")
        })
        .unwrap_or_else(|| panic!("no execute latency histogram: {text}"));
    let Metric::Histogram(buckets) = &latency.value else {
        panic!("not a histogram: {latency:?}");
    };
    assert_eq!(buckets.last().map(|b| b.count), Some(3.0), "{buckets:?}");
    assert_eq!(
        value(
            &after,
            "codemode_tool_call_duration_seconds_count",
            &[("tool", "execute")]
        ),
        3.0
    );

    let upstream_2xx = [("api", ""), ("method", "GET"), ("status", "2xx")];
    assert_eq!(
        value(&after, "codemode_upstream_requests_total", &upstream_2xx),
        2.0,
        "{text}"
    );
    assert_eq!(
        value(
            &after,
            "codemode_upstream_request_duration_seconds_count",
            &[("method", "GET")]
        ),
        2.0,
        "{text}"
    );
    assert_eq!(upstream.received(), ["GET /v1/pets", "GET /v1/pets/1"]);

    let runs = |outcome| {
        value(
            &after,
            "codemode_sandbox_runs_total",
            &[("outcome", outcome)],
        )
    };
    assert_eq!(runs("ok"), 1.0, "{text}");
    assert_eq!(runs("exception"), 1.0, "{text}");
    assert_eq!(
        value(&after, "codemode_sandbox_runs_in_flight", &[]),
        0.0,
        "{text}"
    );
    assert_eq!(
        value(&after, "codemode_busy_rejections_total", &[]),
        0.0,
        "{text}"
    );
    server.stop().await.expect("stops cleanly");
}

#[tokio::test]
async fn metrics_can_be_turned_off() {
    let config = ServerConfig {
        metrics: false,
        ..ServerConfig::default()
    };
    let server = start_http(build_engine(PETSTORE, None), config).await;
    let response = client()
        .get(format!("http://127.0.0.1:{}/metrics", server.addr.port()))
        .send()
        .await
        .expect("the server answers");
    assert_eq!(response.status(), 404);
    server.stop().await.expect("stops cleanly");
}
