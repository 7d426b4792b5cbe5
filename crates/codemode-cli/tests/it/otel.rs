//! Traces (the `otel` feature) through the binary: `codemode serve --http` exports its spans over
//! OTLP/HTTP to a receiver written here, on 127.0.0.1. A tool call's span continues the
//! `traceparent` its request carried, each upstream call's span is its descendant, and the
//! upstream request carries that span as its parent (`traceparent`), so the API's own spans
//! join the trace.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use codemode_test_support::{LoopbackServer, http_response};
use serde_json::{Value, json};

use crate::cli::{Running, WAIT, lines_of, wait_for_line};

/// The trace and span ids the client's `traceparent` names.
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";

/// An OTLP/HTTP receiver on 127.0.0.1: every span of every `POST /v1/traces` (JSON encoding),
/// flattened. Its runtime lives on a thread of its own for the test's length.
fn start_receiver() -> (String, Arc<Mutex<Vec<Value>>>) {
    let spans = Arc::new(Mutex::new(Vec::new()));
    let sink = spans.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: String| {
            let sink = sink.clone();
            async move {
                let export: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                let found = export["resourceSpans"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|r| r["scopeSpans"].as_array().into_iter().flatten())
                    .flat_map(|s| s["spans"].as_array().into_iter().flatten())
                    .cloned();
                sink.lock().unwrap().extend(found);
                axum::Json(json!({}))
            }
        }),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the receiver");
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let _ = axum::serve(listener, app).await;
        });
    });
    (url, spans)
}

fn span<'a>(spans: &'a [Value], name: &str) -> Option<&'a Value> {
    spans.iter().find(|s| s["name"] == name)
}

/// Whether `ancestor` is `span`'s parent, or its parent's, and so on.
fn descends_from(spans: &[Value], span: &Value, ancestor: &Value) -> bool {
    let mut current = span.clone();
    for _ in 0..16 {
        let parent = current["parentSpanId"].as_str().unwrap_or_default();
        if parent.is_empty() {
            return false;
        }
        if parent == ancestor["spanId"].as_str().unwrap_or_default() {
            return true;
        }
        match spans.iter().find(|s| s["spanId"] == parent) {
            Some(next) => current = next.clone(),
            None => return false,
        }
    }
    false
}

#[test]
fn a_tool_call_continues_the_callers_trace_and_its_upstream_call_is_a_child() {
    let (receiver, spans) = start_receiver();
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = seen.clone();
    let upstream = LoopbackServer::start_seeing_headers(move |_, _, headers| {
        sink.lock().unwrap().push(headers.to_string());
        http_response("200 OK", br#"[{"id": 1}]"#)
    });
    let spec = crate::cli::spec("petstore-swagger2.json");
    let mut server = Running::spawn(
        Command::new(env!("CARGO_BIN_EXE_codemode"))
            .args(["serve", "--spec", &spec, "--base-url", &upstream.url()])
            .args(["--http", "127.0.0.1:0"])
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver)
            .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
            // Export every 100 ms rather than every 5 s.
            .env("OTEL_BSP_SCHEDULE_DELAY", "100")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    );
    let stderr = lines_of(server.child().stderr.take().unwrap());
    let started = wait_for_line(&stderr, "streamable HTTP on http://", "the server to start");
    let addr = started
        .rsplit("http://")
        .next()
        .and_then(|rest| rest.trim().strip_suffix("/mcp"))
        .unwrap_or_else(|| panic!("no address in {started}"))
        .to_string();

    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "execute",
        "arguments": {"code": "return await api.listPets({ limit: 1 })"}}})
    .to_string();
    let mut stream = std::net::TcpStream::connect(&addr).expect("the server listens");
    stream.set_read_timeout(Some(WAIT)).unwrap();
    write!(
        stream,
        "POST /mcp HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
         accept: application/json, text/event-stream\r\nmcp-protocol-version: 2025-11-25\r\n\
         traceparent: 00-{TRACE_ID}-{PARENT_ID}-01\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut stream, &mut answer).expect("an answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#"\"id\":1"#), "{answer}");

    let deadline = Instant::now() + WAIT;
    let spans = loop {
        let now = spans.lock().unwrap().clone();
        if span(&now, "tool_call").is_some() && span(&now, "upstream_call").is_some() {
            break now;
        }
        assert!(
            Instant::now() < deadline,
            "no tool_call and upstream_call spans within {WAIT:?}: {now:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let tool_call = span(&spans, "tool_call").unwrap();
    let upstream_call = span(&spans, "upstream_call").unwrap();
    assert_eq!(tool_call["traceId"], TRACE_ID, "{tool_call}");
    assert_eq!(tool_call["parentSpanId"], PARENT_ID, "{tool_call}");
    assert_eq!(upstream_call["traceId"], TRACE_ID, "{upstream_call}");
    assert!(
        descends_from(&spans, upstream_call, tool_call),
        "the upstream call is inside the tool call: {spans:?}"
    );
    let attributes = upstream_call["attributes"].to_string();
    assert!(attributes.contains("/pets"), "{attributes}");
    assert!(attributes.contains("GET"), "{attributes}");

    // The API sees the trace, with the upstream call's span as the parent of its own.
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let traceparent = seen[0]
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("traceparent")
                .then(|| value.trim().to_string())
        })
        .unwrap_or_else(|| panic!("no traceparent upstream: {seen:?}"));
    let expected = format!(
        "00-{TRACE_ID}-{}-01",
        upstream_call["spanId"].as_str().unwrap_or_default()
    );
    assert_eq!(traceparent, expected);
    drop(server);
}
