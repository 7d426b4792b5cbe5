//! Approvals without a live question (`ExecuteRequest::approvals`, `journal.rs`), against a real
//! HTTP server on 127.0.0.1 that records every request: calls in parallel, `api.request` and a
//! journal from another format, each checked for what reached the upstream.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{Method, Uri};
use codemode_engine::upstream::UpstreamConfig;
use codemode_engine::{
    Approvals, Confirmation, Engine, EngineConfig, ExecuteOutcome, ExecuteRequest, Journal,
    PolicyConfig, RuleSpec,
};
use serde_json::{Value, json};

const SPEC: &str = r#"
openapi: 3.0.3
info: {title: Shop, version: "1"}
paths:
  /items:
    post:
      operationId: createItem
      requestBody: {required: true, content: {application/json: {schema: {type: object, required: [name], properties: {name: {type: string}}}}}}
      responses: {"201": {description: ok, content: {application/json: {schema: {type: object}}}}}
  /items/{id}:
    delete:
      operationId: deleteItem
      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
      responses: {"204": {description: gone}}
"#;

/// Every request the upstream received: method, path and body.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<String>>>);

impl Received {
    fn list(&self) -> Vec<String> {
        let mut list = self.0.lock().unwrap().clone();
        list.sort();
        list
    }
}

async fn start() -> (Engine, Received) {
    let received = Received::default();
    let log = received.clone();
    let app = axum::Router::new().fallback(move |method: Method, uri: Uri, body: Bytes| {
        let log = log.clone();
        async move {
            let line = format!("{method} {} {}", uri.path(), String::from_utf8_lossy(&body));
            let n = {
                let mut lines = log.0.lock().unwrap();
                lines.push(line.trim_end().to_string());
                lines.len()
            };
            match method {
                Method::DELETE => (axum::http::StatusCode::NO_CONTENT, axum::Json(Value::Null)),
                _ => (
                    axum::http::StatusCode::CREATED,
                    axum::Json(json!({"id": n})),
                ),
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let spec = codemode_engine::spec::load_str("shop.yaml", SPEC).unwrap();
    let config = EngineConfig {
        upstream: Some(UpstreamConfig {
            base_url: format!("http://{addr}"),
            ..UpstreamConfig::default()
        }),
        policy: PolicyConfig {
            confirm: vec![RuleSpec {
                operation: Some("deleteItem".into()),
                ..Default::default()
            }],
            ..Default::default()
        },
        ..EngineConfig::default()
    };
    (Engine::new(spec, config).unwrap(), received)
}

async fn round(engine: &Engine, code: &str, approvals: Approvals) -> ExecuteOutcome {
    let request = ExecuteRequest {
        code: code.into(),
        approvals: Some(approvals),
        ..Default::default()
    };
    tokio::time::timeout(std::time::Duration::from_secs(60), engine.execute(request))
        .await
        .expect("the run ends within a minute")
}

/// Runs `code` to its end, approving every pause; the journal goes through JSON each time, as
/// it would through a client.
async fn approve_all(engine: &Engine, code: &str) -> (ExecuteOutcome, usize) {
    let mut approvals = Approvals::default();
    for pauses in 0..10 {
        let outcome = round(engine, code, approvals).await;
        let Some(paused) = outcome.paused else {
            return (outcome, pauses);
        };
        let journal = serde_json::to_string(&paused.journal).unwrap();
        approvals = Approvals {
            journal: serde_json::from_str(&journal).unwrap(),
            answer: Some(Confirmation::Approved),
        };
    }
    panic!("the program paused ten times");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_in_parallel_with_an_approval_are_each_sent_once() {
    let (engine, received) = start().await;
    let code = r#"
const [a, , c] = await Promise.all([
  api.createItem({ body: { name: "a" } }),
  api.deleteItem({ id: 1 }),
  api.createItem({ body: { name: "c" } }),
]);
const d = await api.createItem({ body: { name: "d" } });
await api.deleteItem({ id: 2 });
return [a.id, c.id, d.id];
"#;
    let (outcome, pauses) = approve_all(&engine, code).await;
    assert!(outcome.result.is_ok(), "{:?}", outcome.result);
    assert_eq!(pauses, 2);
    assert_eq!(
        received.list(),
        [
            "DELETE /items/1",
            "DELETE /items/2",
            r#"POST /items {"name":"a"}"#,
            r#"POST /items {"name":"c"}"#,
            r#"POST /items {"name":"d"}"#,
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_requests_are_journaled_too() {
    let (engine, received) = start().await;
    let code = r#"
const made = await api.request({ method: "POST", path: "/items", body: { name: "raw" } });
await api.request({ method: "DELETE", path: "/items/5" });
return made.id;
"#;
    let (outcome, pauses) = approve_all(&engine, code).await;
    assert_eq!(pauses, 1);
    assert_eq!(outcome.result.unwrap(), json!(1));
    assert_eq!(
        received.list(),
        ["DELETE /items/5", r#"POST /items {"name":"raw"}"#]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_pause_throws_in_the_program_and_sends_nothing() {
    let (engine, received) = start().await;
    let code = r#"
try { await api.deleteItem({ id: 9 }); } catch (e) { return e.name; }
"#;
    let first = round(&engine, code, Approvals::default()).await;
    let paused = first.paused.expect("paused");
    assert_eq!(first.result.unwrap_err().kind, "paused");
    assert_eq!(paused.request.path, "/items/9");
    let second = round(
        &engine,
        code,
        Approvals {
            journal: paused.journal,
            answer: Some(Confirmation::Declined),
        },
    )
    .await;
    assert_eq!(second.result.unwrap(), json!("ConfirmationDeclined"));
    assert!(received.list().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_of_another_format_is_refused_before_anything_runs() {
    let (engine, received) = start().await;
    let journal: Journal = serde_json::from_value(json!({"v": 9, "slots": [
        {"s": "not_started", "f": "00"}
    ]}))
    .unwrap();
    let outcome = round(
        &engine,
        r#"await api.createItem({ body: { name: "x" } });"#,
        Approvals {
            journal,
            answer: Some(Confirmation::Approved),
        },
    )
    .await;
    let failure = outcome.result.unwrap_err();
    assert_eq!(failure.kind, "diverged");
    assert!(failure.message.contains("format 9"), "{}", failure.message);
    assert!(received.list().is_empty());
}
