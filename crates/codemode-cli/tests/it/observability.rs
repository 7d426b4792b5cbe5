//! Logs of `codemode serve` (issue 19): with `--log-format json` every stderr line is a JSON
//! event, a tool call leaves its start, tool-call, upstream-call and stop events with the right
//! fields, and no secret, program, resolved path or response body appears in any output.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};

use codemode_test_support::{LoopbackServer, http_response};
use serde_json::{Value, json};

use crate::cli::{Running, WAIT, lines_of};

const SPEC: &str = r#"
openapi: 3.0.3
info: {title: Things, version: "1"}
paths:
  /things/{thingId}:
    get:
      operationId: getThing
      parameters: [{name: thingId, in: path, required: true, schema: {type: string}}]
      responses: {"200": {description: ok, content: {application/json: {schema: {type: object}}}}}
"#;

const CANARY: &str = "canary-token-7f3a91";
const IN_PATH: &str = "resolved-id-5521";
const IN_PROGRAM: &str = "program-marker-8804";
const IN_BODY: &str = "body-marker-3317";

/// Sends one JSON-RPC request and waits (at most [`WAIT`]) for the answer with its id.
fn request(
    stdin: &mut impl Write,
    stdout: &Receiver<String>,
    id: u64,
    method: &str,
    params: Value,
) -> Value {
    let message = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
    writeln!(stdin, "{message}").expect("the server reads stdin");
    stdin.flush().unwrap();
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let line = stdout.recv_timeout(left).unwrap_or_else(|e| {
            panic!("waited {WAIT:?} for the answer to {method} (id {id}): {e}")
        });
        let answer: Value = serde_json::from_str(&line).expect("only JSON-RPC on stdout");
        if answer["id"] == id {
            return answer;
        }
    }
}

/// The events with this message.
fn events<'a>(events: &'a [Value], message: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["fields"]["message"].as_str() == Some(message))
        .collect()
}

#[test]
fn json_logs_have_every_event_and_no_secret() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let upstream = LoopbackServer::start_seeing_headers(move |_, path, headers| {
        log.lock().unwrap().push(format!("{path} {headers}"));
        http_response("200 OK", format!(r#"{{"id": "{IN_BODY}"}}"#).as_bytes())
    });
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("things.yaml");
    std::fs::write(&spec, SPEC).unwrap();
    let mut server = Running::spawn(
        Command::new(env!("CARGO_BIN_EXE_codemode"))
            .args([
                "serve",
                "--spec",
                spec.to_str().unwrap(),
                "--base-url",
                &upstream.url(),
            ])
            .args(["--bearer-env", "OBS_TOKEN", "--log-format", "json"])
            .env("OBS_TOKEN", CANARY)
            .env_remove("RUST_LOG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let mut stdin = server.child().stdin.take().unwrap();
    let stdout = lines_of(server.child().stdout.take().unwrap());
    let stderr = lines_of(server.child().stderr.take().unwrap());
    let init = json!({
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": { "name": "logs-test", "version": "0" }
    });
    let mut answers = vec![request(&mut stdin, &stdout, 1, "initialize", init)];
    writeln!(
        stdin,
        r#"{{"jsonrpc":"2.0","method":"notifications/initialized"}}"#
    )
    .unwrap();
    let code = format!(
        "// {IN_PROGRAM}\nconst t = await api.getThing({{ thingId: '{IN_PATH}' }}); return t.id;"
    );
    let call = json!({ "name": "execute", "arguments": { "code": code } });
    answers.push(request(&mut stdin, &stdout, 2, "tools/call", call));
    let result = &answers[1]["result"];
    assert_ne!(result["isError"], true, "{result}");
    assert!(result.to_string().contains(IN_BODY), "{result}");
    // The token went out, to the upstream only.
    let got = seen.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].contains(&format!("Bearer {CANARY}")), "{got:?}");

    // Closing stdin ends the session; the server logs its stop and exits.
    drop(stdin);
    let deadline = std::time::Instant::now() + WAIT;
    let mut lines = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match stderr.recv_timeout(left) {
            Ok(line) => lines.push(line),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            Err(e) => {
                panic!("waited {WAIT:?} for the server to exit after stdin closed: {e}\n{lines:#?}")
            }
        }
    }
    let rest: Vec<String> = stdout.try_iter().collect();

    let everything = format!("{lines:?}{answers:?}{rest:?}");
    assert!(
        !everything.contains(CANARY),
        "the token leaked: {everything}"
    );
    let logs = lines.join("\n");
    for private in [IN_PROGRAM, IN_PATH, IN_BODY] {
        assert!(!logs.contains(private), "{private} in the logs: {logs}");
    }
    let parsed: Vec<Value> = lines
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();

    let started = parsed
        .iter()
        .find(|e| {
            e["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("1 operations loaded"))
        })
        .unwrap_or_else(|| panic!("no start event: {logs}"));
    assert_eq!(started["level"], "INFO", "{started}");
    assert_eq!(started["fields"]["operations"], 1, "{started}");
    assert!(started["fields"]["load_ms"].is_number(), "{started}");

    let calls = events(&parsed, "tool call");
    assert_eq!(calls.len(), 1, "{logs}");
    let fields = &calls[0]["fields"];
    assert_eq!(fields["tool"], "execute", "{fields}");
    assert_eq!(fields["outcome"], "ok", "{fields}");
    assert!(fields["ms"].as_f64().is_some_and(|ms| ms > 0.0), "{fields}");
    // stdio has no caller to name.
    assert!(fields.get("caller").is_none(), "{fields}");
    let run_id = fields["run_id"].as_u64().expect("a run id");

    let upstream_calls = events(&parsed, "upstream call");
    assert_eq!(upstream_calls.len(), 1, "{logs}");
    let call = upstream_calls[0];
    assert_eq!(call["fields"]["method"], "GET", "{call}");
    assert_eq!(call["fields"]["path"], "/things/{thingId}", "{call}");
    assert_eq!(call["fields"]["status"], 200, "{call}");
    assert!(call["fields"]["ms"].is_u64(), "{call}");
    // The engine's run id, the one an audit log line carries: `<pid>-<n>`.
    let run = call["fields"]["run"].as_str().expect("the engine's run id");
    assert!(
        run.starts_with(&format!("{}-", server.child().id())),
        "{call}"
    );
    // The upstream call sits in its tool call's span.
    assert_eq!(call["span"]["run_id"], run_id, "{call}");
    assert_eq!(call["span"]["tool"], "execute", "{call}");

    assert_eq!(events(&parsed, "server stopped").len(), 1, "{logs}");
    drop(server);
}

#[test]
fn a_bad_rust_log_is_refused_with_the_reason() {
    let spec = crate::cli::spec("petstore-swagger2.json");
    let out = codemode_test_support::output_within(
        Command::new(env!("CARGO_BIN_EXE_codemode"))
            .args(["serve", "--spec", &spec, "--base-url", "http://127.0.0.1:9"])
            .env("RUST_LOG", "codemode=loud")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
        None,
        WAIT,
    );
    crate::cli::assert_refused(&out, "RUST_LOG \"codemode=loud\" is not a valid log filter");
}

/// One HTTP/1.1 exchange on a fresh connection, within [`WAIT`]: the whole answer.
pub(crate) fn http(addr: &str, request: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).expect("the server listens");
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut stream, &mut answer).expect("an answer within the timeout");
    answer
}

/// Over HTTP with the endpoint's token, the tool-call event names the caller (the token's
/// holder, never the token), and `/metrics` answers without the token, with the spec's load
/// time and the call counted.
#[test]
fn http_events_name_the_caller_and_metrics_count_the_call() {
    const ENDPOINT_TOKEN: &str = "endpoint-canary-62c1";
    let spec = crate::cli::spec("petstore-swagger2.json");
    let mut server = Running::spawn(
        Command::new(env!("CARGO_BIN_EXE_codemode"))
            .args(["serve", "--spec", &spec, "--base-url", "http://127.0.0.1:9"])
            .args(["--http", "127.0.0.1:0", "--auth-token-env", "OBS_MCP_TOKEN"])
            .args(["--log-format", "json"])
            .env("OBS_MCP_TOKEN", ENDPOINT_TOKEN)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let stderr = lines_of(server.child().stderr.take().unwrap());
    let deadline = std::time::Instant::now() + WAIT;
    let mut lines = Vec::new();
    let next = |what: &str| {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let line = stderr
            .recv_timeout(left)
            .unwrap_or_else(|e| panic!("waited {WAIT:?} for {what}: {e}"));
        serde_json::from_str::<Value>(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
    };
    let started = next("the start event");
    let message = started["fields"]["message"].as_str().unwrap_or_default();
    let addr = message
        .rsplit("http://")
        .next()
        .and_then(|rest| rest.strip_suffix("/mcp"))
        .unwrap_or_else(|| panic!("no address in the start event: {started}"))
        .to_string();
    lines.push(started);

    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "search", "arguments": {"query": "find pets by status"}}})
    .to_string();
    let answer = http(
        &addr,
        &format!(
            "POST /mcp HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {ENDPOINT_TOKEN}\r\n\
             content-type: application/json\r\naccept: application/json, text/event-stream\r\n\
             mcp-protocol-version: 2025-11-25\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let call = loop {
        let event = next("the tool-call event");
        let is_call = event["fields"]["message"] == "tool call";
        lines.push(event.clone());
        if is_call {
            break event;
        }
    };
    assert_eq!(call["fields"]["tool"], "search", "{call}");
    assert_eq!(call["fields"]["outcome"], "ok", "{call}");
    assert_eq!(call["fields"]["caller"], "bearer token", "{call}");

    // A scraper: no token, the pod's address as Host.
    let metrics = http(
        &addr,
        "GET /metrics HTTP/1.1\r\nhost: 10.0.0.7:8080\r\nconnection: close\r\n\r\n",
    );
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    assert!(
        metrics.contains(r#"codemode_tool_calls_total{tool="search",outcome="ok"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains("codemode_spec_load_seconds "), "{metrics}");
    let everything = format!("{lines:?}{metrics}");
    assert!(!everything.contains(ENDPOINT_TOKEN), "{everything}");
    drop(server);
}

/// `--metrics-addr` moves `/metrics` to a listener of its own: the MCP port answers 404 there,
/// the metrics port counts the MCP port's calls. Without `--http` the flag is refused.
#[test]
fn metrics_can_live_on_their_own_address() {
    let spec = crate::cli::spec("petstore-swagger2.json");
    let mut server = Running::spawn(
        Command::new(env!("CARGO_BIN_EXE_codemode"))
            .args(["serve", "--spec", &spec, "--base-url", "http://127.0.0.1:9"])
            .args(["--http", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0"])
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    );
    let stderr = lines_of(server.child().stderr.take().unwrap());
    let address = |line: &str, suffix: &str| {
        line.rsplit("http://")
            .next()
            .and_then(|rest| rest.trim().strip_suffix(suffix))
            .unwrap_or_else(|| panic!("no address in {line}"))
            .to_string()
    };
    let metrics_line = crate::cli::wait_for_line(&stderr, "metrics on http://", "the metrics");
    let metrics_addr = address(&metrics_line, "/metrics");
    let mcp_line = crate::cli::wait_for_line(&stderr, "streamable HTTP on http://", "the server");
    let mcp_addr = address(&mcp_line, "/mcp");

    let beside_mcp = http(
        &mcp_addr,
        &format!("GET /metrics HTTP/1.1\r\nhost: {mcp_addr}\r\nconnection: close\r\n\r\n"),
    );
    assert!(beside_mcp.starts_with("HTTP/1.1 404"), "{beside_mcp}");
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "search", "arguments": {"query": "list pets"}}})
    .to_string();
    let answer = http(
        &mcp_addr,
        &format!(
            "POST /mcp HTTP/1.1\r\nhost: {mcp_addr}\r\ncontent-type: application/json\r\n\
             accept: application/json, text/event-stream\r\nmcp-protocol-version: 2025-11-25\r\n\
             content-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let metrics = http(
        &metrics_addr,
        "GET /metrics HTTP/1.1\r\nhost: 10.0.0.7:9090\r\nconnection: close\r\n\r\n",
    );
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    assert!(
        metrics.contains(r#"codemode_tool_calls_total{tool="search",outcome="ok"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains("codemode_spec_load_seconds "), "{metrics}");
    drop(server);

    let out = codemode_test_support::output_within(
        Command::new(env!("CARGO_BIN_EXE_codemode"))
            .args(["serve", "--spec", &spec, "--metrics-addr", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
        None,
        WAIT,
    );
    crate::cli::assert_refused(&out, "--metrics-addr serves the metrics of the HTTP server");
}
