//! Slips agents make when they write programs, each handled the way the agent meant or answered
//! with an error that says what to do instead, against a real HTTP server on 127.0.0.1.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{Method, Uri};
use codemode_engine::upstream::UpstreamConfig;
use codemode_engine::{Engine, EngineConfig, ExecuteOutcome, ExecuteRequest};
use serde_json::{Value, json};

const SPEC: &str = r#"
openapi: 3.0.3
info: {title: Notes, version: "1"}
paths:
  /notes:
    get:
      operationId: listNotes
      parameters: [{name: page, in: query, schema: {type: integer}}]
      responses: {"200": {description: ok, content: {application/json: {schema: {type: array, items: {type: object}}}}}}
    post:
      operationId: createNote
      requestBody: {required: true, content: {application/json: {schema: {type: object, properties: {text: {type: string}}}}}}
      responses: {"201": {description: ok, content: {application/json: {schema: {type: object}}}}}
"#;

/// Every request the upstream received, as `METHOD /path?query`.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<String>>>);

impl Received {
    fn list(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// Two pages of notes (`page=1`, `page=2`), then empty pages; a POST answers slowly, so a run that
/// does not wait for it would end first.
async fn start() -> (Engine, Received) {
    start_with(EngineConfig::default()).await
}

/// [`start`] with the engine's policy and dry-run settings taken from `base`.
async fn start_with(base: EngineConfig) -> (Engine, Received) {
    let received = Received::default();
    let log = received.clone();
    let app = axum::Router::new().fallback(move |method: Method, uri: Uri, _body: Bytes| {
        let log = log.clone();
        async move {
            let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
            log.0
                .lock()
                .unwrap()
                .push(format!("{method} {}{query}", uri.path()));
            if method == Method::POST {
                tokio::time::sleep(std::time::Duration::from_millis(150)).await;
                return (
                    axum::http::StatusCode::CREATED,
                    axum::Json(json!({"id": 9})),
                );
            }
            let page = match uri.query() {
                Some("page=2") => json!([{"id": 3}]),
                Some("page=1") | None => json!([{"id": 1}, {"id": 2}]),
                _ => json!([]),
            };
            (axum::http::StatusCode::OK, axum::Json(page))
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let spec = codemode_engine::spec::load_str("notes.yaml", SPEC).unwrap();
    let config = EngineConfig {
        upstream: Some(UpstreamConfig {
            base_url: format!("http://{addr}"),
            ..UpstreamConfig::default()
        }),
        ..base
    };
    (Engine::new(spec, config).unwrap(), received)
}

/// Runs `code` for real (no dry run, nobody to confirm with).
pub(crate) async fn execute(engine: &Engine, code: &str) -> ExecuteOutcome {
    engine
        .execute(ExecuteRequest {
            code: code.to_string(),
            dry_run: false,
            confirm: None,
            ..Default::default()
        })
        .await
}

#[tokio::test]
async fn paginate_takes_the_operation_itself_as_well_as_its_name() {
    let (engine, _) = start().await;
    for code in [
        r#"const notes = await api.paginate(api.listNotes); return notes.map(n => n.id);"#,
        r#"const notes = await api.paginate("listNotes"); return notes.map(n => n.id);"#,
    ] {
        let outcome = execute(&engine, code).await;
        assert_eq!(outcome.result.expect("the run succeeds"), json!([1, 2, 3]));
    }
}

#[tokio::test]
async fn paginate_in_a_dry_run_that_skips_reads_plans_the_first_page_and_sends_nothing() {
    let (engine, received) = start_with(EngineConfig {
        dry_run_skip_reads: true,
        ..EngineConfig::default()
    })
    .await;
    let outcome = engine
        .execute(ExecuteRequest {
            code: "const notes = await api.paginate(api.listNotes); return notes.length;".into(),
            dry_run: true,
            confirm: None,
            ..Default::default()
        })
        .await;
    assert_eq!(outcome.result.expect("the run succeeds"), json!(0));
    assert!(received.list().is_empty(), "sent: {:?}", received.list());
    assert_eq!(outcome.planned.len(), 1, "the first page is planned");
    let said = outcome.logs.iter().any(|line| {
        line.text
            .contains("planned the first page of listNotes only")
    });
    assert!(said, "{:?}", outcome.logs);
}

#[tokio::test]
async fn paginate_asks_before_an_operation_a_rule_confirms_and_sends_nothing_when_refused() {
    let policy = codemode_engine::PolicyConfig {
        confirm: vec![codemode_engine::RuleSpec {
            operation: Some("listNotes".into()),
            ..Default::default()
        }],
        ..Default::default()
    };
    let (engine, received) = start_with(EngineConfig {
        policy,
        ..EngineConfig::default()
    })
    .await;
    // No way to ask here, and the fallback is to deny: no page may be sent.
    let outcome = execute(&engine, "return await api.paginate(api.listNotes);").await;
    let failure = outcome.result.expect_err("the pages are refused");
    assert!(
        failure.message.contains("GET /notes"),
        "{}",
        failure.message
    );
    assert!(received.list().is_empty(), "sent: {:?}", received.list());
}

#[tokio::test]
async fn a_call_the_program_did_not_await_is_still_sent_and_answered() {
    let (engine, received) = start().await;
    let outcome = execute(
        &engine,
        r#"api.createNote({ body: { text: "remember the milk" } }); return "done";"#,
    )
    .await;
    assert_eq!(outcome.result.expect("the run succeeds"), json!("done"));
    assert_eq!(received.list(), ["POST /notes"]);
    assert_eq!(outcome.calls.len(), 1, "the call is on the record");
    let warned = outcome
        .logs
        .iter()
        .any(|line| line.text.contains("still pending") && line.text.contains("Await"));
    assert!(warned, "{:?}", outcome.logs);
}

#[tokio::test]
async fn a_search_program_that_uses_api_is_pointed_to_execute() {
    let (engine, received) = start().await;
    let outcome = engine
        .search_code("return await api.listNotes()".to_string())
        .await;
    let failure = outcome.result.expect_err("api is not there");
    assert!(failure.message.contains("execute tool"), "{failure:?}");
    assert!(received.list().is_empty());
    // `spec` is what a search program has.
    let outcome = engine
        .search_code("return spec.operations().map(o => o.name)".to_string())
        .await;
    assert_eq!(
        outcome.result.expect("the run succeeds"),
        Value::from(vec!["listNotes", "createNote"])
    );
    // A name that is neither an operation nor a type is an error, not an empty declaration.
    let outcome = engine
        .search_code(r#"return spec.declare(["listNotes", "Nope"])"#.to_string())
        .await;
    let failure = outcome.result.expect_err("Nope is unknown");
    assert!(
        failure.message.contains("no operation or type named Nope"),
        "{failure:?}"
    );
}

#[tokio::test]
async fn importing_a_module_is_explained() {
    let (engine, received) = start().await;
    let outcome = execute(
        &engine,
        "import { listNotes } from './api';\nreturn await listNotes();",
    )
    .await;
    let failure = outcome.result.expect_err("imports are refused");
    assert_eq!(failure.kind, "syntax");
    assert!(failure.message.contains("global `api`"), "{failure:?}");
    assert!(received.list().is_empty());
}
