//! Spec reload (issue 19): `serve --watch` over stdio swaps in a rewritten spec while a slow run
//! that started before is still going, and that run finishes on the spec it started with; a
//! spec that no longer loads keeps the old one, and the log says why.

use std::io::Write;
use std::process::{Command, Stdio};

use codemode_test_support::{LoopbackServer, http_response};
use serde_json::{Value, json};

use crate::cli::{Running, WAIT, lines_of, wait_for_line};

fn spec(operation: &str, path: &str) -> String {
    format!(
        r#"openapi: 3.0.3
info: {{title: Shelf, version: "1"}}
paths:
  {path}:
    get:
      operationId: {operation}
      responses: {{"200": {{description: ok, content: {{application/json: {{schema: {{type: object}}}}}}}}}}
"#
    )
}

/// A temporary folder holding `shelf.yaml` with one operation, `listOld`.
fn shelf() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let spec_path = dir.path().join("shelf.yaml");
    std::fs::write(&spec_path, spec("listOld", "/old")).unwrap();
    (dir, spec_path)
}

fn send(stdin: &mut std::process::ChildStdin, message: Value) {
    writeln!(stdin, "{message}").expect("the server reads stdin");
    stdin.flush().expect("flushed");
}

/// The response with `id`, within [`WAIT`] (other lines, such as other responses, are kept).
fn response(lines: &std::sync::mpsc::Receiver<String>, kept: &mut Vec<Value>, id: u64) -> Value {
    if let Some(at) = kept.iter().position(|m| m["id"] == id) {
        return kept.remove(at);
    }
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let line = lines
            .recv_timeout(left)
            .unwrap_or_else(|e| panic!("waited {WAIT:?} for the response {id}: {e}"));
        let message: Value = serde_json::from_str(&line).expect("a JSON-RPC line");
        if message["id"] == id {
            return message;
        }
        kept.push(message);
    }
}

fn text(response: &Value) -> String {
    response["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_reload_swaps_the_spec_while_a_slow_run_finishes_on_the_old_one() {
    let upstream = LoopbackServer::start(|_, path| {
        http_response("200 OK", format!(r#"{{"path": "{path}"}}"#).as_bytes())
    });
    let (_dir, spec_path) = shelf();
    let mut process = Running::spawn(
        Command::new(env!("CARGO_BIN_EXE_codemode"))
            .args(["serve", "--watch", "--log-format", "json", "--spec"])
            .arg(&spec_path)
            .args(["--base-url", &upstream.url()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let child = process.child();
    let mut stdin = child.stdin.take().expect("stdin");
    let stdout = lines_of(child.stdout.take().expect("stdout"));
    let stderr = lines_of(child.stderr.take().expect("stderr"));
    let mut kept = Vec::new();
    send(
        &mut stdin,
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}),
    );
    response(&stdout, &mut kept, 1);
    send(
        &mut stdin,
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    );

    // A run that calls the old operation only after the spec has changed under it.
    send(
        &mut stdin,
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "execute",
            "arguments": {"code": "await sleep(2500); return (await api.listOld()).path;"}}}),
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    std::fs::write(&spec_path, spec("listNew", "/new")).unwrap();
    wait_for_line(&stderr, "spec reloaded", "the reload");

    // New calls see the new spec...
    send(
        &mut stdin,
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "execute",
            "arguments": {"code": "return (await api.listNew()).path;"}}}),
    );
    let new = response(&stdout, &mut kept, 3);
    assert_eq!(text(&new), "\"/new\"", "{new}");
    // ... and the slow run finished on the one it started with.
    let old = response(&stdout, &mut kept, 2);
    assert_eq!(text(&old), "\"/old\"", "{old}");

    // A spec that no longer loads keeps the one that works.
    std::fs::write(&spec_path, "openapi: [").unwrap();
    let failed = wait_for_line(&stderr, "spec reload failed", "the failed reload");
    assert!(failed.contains("the old spec stays"), "{failed}");
    send(
        &mut stdin,
        json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "execute",
            "arguments": {"code": "return (await api.listNew()).path;"}}}),
    );
    let still = response(&stdout, &mut kept, 4);
    assert_eq!(text(&still), "\"/new\"", "{still}");
    drop(stdin);
}

#[cfg(unix)]
#[test]
fn sighup_reloads_without_watch() {
    let (_dir, spec_path) = shelf();
    let mut process = Running::spawn(
        Command::new(env!("CARGO_BIN_EXE_codemode"))
            .args(["serve", "--log-format", "json", "--spec"])
            .arg(&spec_path)
            .args(["--base-url", "http://127.0.0.1:9"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let child = process.child();
    let stdin = child.stdin.take().expect("stdin");
    let stderr = lines_of(child.stderr.take().expect("stderr"));
    wait_for_line(&stderr, "operations loaded", "the start line");
    std::fs::write(&spec_path, spec("listNew", "/new")).unwrap();
    let hangup = Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(hangup.success());
    let line = wait_for_line(&stderr, "spec reloaded", "the reload on SIGHUP");
    assert!(line.contains("SIGHUP"), "{line}");
    drop(stdin);
}

/// The value of `name` with label `outcome` (or unlabelled) in a `/metrics` answer, read with a
/// real text-format parser.
fn metric(answer: &str, name: &str, outcome: Option<&str>) -> Option<f64> {
    let body = answer
        .split_once("\r\n\r\n")
        .map_or(answer, |(_, body)| body);
    let lines = body.lines().map(|line| Ok(line.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("a Prometheus text answer");
    scrape
        .samples
        .iter()
        .find(|s| s.metric == name && outcome.is_none_or(|o| s.labels.get("outcome") == Some(o)))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => f64::NAN,
        })
}

/// `/metrics` counts reloads by outcome (a failed one is what to alert on: the old spec stays
/// and only a log line says so) and shows the last good reload's load time.
#[test]
fn metrics_count_reloads_and_show_the_last_load_time() {
    let (dir, spec_path) = shelf();
    let mut process = Running::spawn(
        Command::new(env!("CARGO_BIN_EXE_codemode"))
            .args(["serve", "--watch", "--log-format", "json", "--spec"])
            .arg(&spec_path)
            .args(["--base-url", "http://127.0.0.1:9", "--http", "127.0.0.1:0"])
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    );
    let stderr = lines_of(process.child().stderr.take().expect("stderr"));
    let started = wait_for_line(&stderr, "streamable HTTP on http://", "the server to start");
    let addr = started
        .rsplit("http://")
        .next()
        .and_then(|rest| rest.split('"').next())
        .and_then(|rest| rest.trim().strip_suffix("/mcp"))
        .unwrap_or_else(|| panic!("no address in {started}"))
        .to_string();
    let scrape = || {
        crate::observability::http(
            &addr,
            &format!("GET /metrics HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n"),
        )
    };
    let first = scrape();
    // Both series exist from the start, at zero, so `increase()` sees the first failure.
    for outcome in ["ok", "failed"] {
        assert_eq!(
            metric(&first, "codemode_spec_reloads_total", Some(outcome)),
            Some(0.0),
            "{first}"
        );
    }
    let at_start = metric(&first, "codemode_spec_load_seconds", None).expect("the load time");

    // A spec ten thousand operations long takes longer to load than the first one did.
    let mut big = String::from("openapi: 3.0.3\ninfo: {title: Shelf, version: '2'}\npaths:\n");
    for i in 0..10_000 {
        big.push_str(&format!(
            "  /b{i}:\n    get: {{operationId: get{i}, responses: {{'200': {{description: ok}}}}}}\n"
        ));
    }
    // Written beside and renamed into place: the watcher never sees a half-written file.
    let replace = |text: &str| {
        let next = dir.path().join("next.yaml");
        std::fs::write(&next, text).unwrap();
        std::fs::rename(&next, &spec_path).unwrap();
    };
    replace(&big);
    wait_for_line(&stderr, "spec reloaded", "the reload");
    replace("openapi: [");
    wait_for_line(&stderr, "spec reload failed", "the failed reload");

    let after = scrape();
    assert_eq!(
        metric(&after, "codemode_spec_reloads_total", Some("ok")),
        Some(1.0),
        "{after}"
    );
    assert_eq!(
        metric(&after, "codemode_spec_reloads_total", Some("failed")),
        Some(1.0),
        "{after}"
    );
    let reloaded = metric(&after, "codemode_spec_load_seconds", None).expect("the load time");
    assert!(
        reloaded > at_start,
        "the gauge shows the reload's load time ({reloaded} s), not the start's ({at_start} s)"
    );
}
