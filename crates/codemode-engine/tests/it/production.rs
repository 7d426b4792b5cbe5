//! Safe to point at production: read-only mode, deny rules, dry runs, confirmation and the audit
//! log, each proven against a real HTTP server on 127.0.0.1 that counts what reaches it.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{Method, Uri};
use codemode_engine::upstream::{Credential, Secret, UpstreamConfig};
use codemode_engine::{
    Confirm, ConfirmFallback, Confirmation, Engine, EngineConfig, ExecuteOutcome, ExecuteRequest,
    PlannedRequest, PolicyConfig, RuleSpec,
};
use serde_json::{Value, json};

const SPEC: &str = r#"
openapi: 3.0.3
info: {title: Shop, version: "1"}
paths:
  /items:
    get:
      operationId: listItems
      tags: [items]
      responses: {"200": {description: ok, content: {application/json: {schema: {type: array, items: {type: object}}}}}}
    post:
      operationId: createItem
      tags: [items]
      requestBody: {required: true, content: {application/json: {schema: {type: object, required: [name], properties: {name: {type: string}}}}}}
      responses: {"201": {description: ok, content: {application/json: {schema: {type: object}}}}}
  /items/{id}:
    delete:
      operationId: deleteItem
      tags: [admin]
      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
      responses: {"204": {description: gone}}
"#;

const TOKEN: &str = "prod-canary-5d1e";

/// Every request the upstream received: method and path.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<String>>>);

impl Received {
    fn list(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

async fn upstream() -> (String, Received) {
    let received = Received::default();
    let log = received.clone();
    let app = axum::Router::new().fallback(move |method: Method, uri: Uri, _body: Bytes| {
        let log = log.clone();
        async move {
            log.0
                .lock()
                .unwrap()
                .push(format!("{method} {}", uri.path()));
            match method {
                Method::DELETE => (axum::http::StatusCode::NO_CONTENT, axum::Json(Value::Null)),
                Method::POST => (
                    axum::http::StatusCode::CREATED,
                    axum::Json(json!({"id": 7, "echo": TOKEN})),
                ),
                _ => (axum::http::StatusCode::OK, axum::Json(json!([{"id": 1}]))),
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), received)
}

/// A shared buffer that stands in for the audit log file.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Buffer {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn start(policy: PolicyConfig) -> (Engine, Received, Buffer) {
    let (base_url, received) = upstream().await;
    let audit = Buffer::default();
    let spec = codemode_engine::spec::load_str("shop.yaml", SPEC).unwrap();
    let config = EngineConfig {
        upstream: Some(UpstreamConfig {
            base_url,
            credentials: vec![Credential::Bearer(Secret::new(TOKEN))],
            ..UpstreamConfig::default()
        }),
        policy,
        audit: Some(Box::new(audit.clone())),
        ..EngineConfig::default()
    };
    (Engine::new(spec, config).unwrap(), received, audit)
}

async fn run(engine: &Engine, code: &str, dry_run: bool) -> ExecuteOutcome {
    engine
        .execute(ExecuteRequest {
            code: code.into(),
            dry_run,
            confirm: None,
            ..Default::default()
        })
        .await
}

fn error_message(outcome: &ExecuteOutcome) -> String {
    match &outcome.result {
        Err(f) => f.message.clone(),
        Ok(v) => panic!("expected an error, got {v}"),
    }
}

#[tokio::test]
async fn read_only_blocks_writes_before_the_network() {
    let (engine, received, _) = start(PolicyConfig {
        read_only: true,
        ..Default::default()
    })
    .await;
    let outcome = run(
        &engine,
        r#"await api.createItem({ body: { name: "x" } })"#,
        false,
    )
    .await;
    assert_eq!(
        error_message(&outcome),
        "PolicyError: createItem (POST /items) changes data and the server is read-only"
    );
    let outcome = run(
        &engine,
        r#"await api.request({ method: "DELETE", path: "/items/1" })"#,
        false,
    )
    .await;
    assert!(error_message(&outcome).contains("read-only"), "{outcome:?}");
    assert!(
        received.list().is_empty(),
        "blocked calls reached the upstream: {:?}",
        received.list()
    );
    // Reads still work, and the search answer marks the blocked operation.
    let outcome = run(&engine, "return (await api.listItems()).length", false).await;
    assert_eq!(outcome.result.unwrap(), json!(1));
    assert_eq!(received.list(), ["GET /items"]);
    let answer = engine
        .search(&codemode_engine::SearchRequest {
            query: "create an item".into(),
            limit: Some(3),
            api: None,
            ..Default::default()
        })
        .unwrap();
    let create = answer
        .hits
        .iter()
        .find(|h| h.name == "createItem")
        .expect("createItem is still shown");
    assert!(create.blocked);
    assert!(answer.text.contains("BLOCKED"), "{}", answer.text);
}

#[tokio::test]
async fn deny_rules_win_and_never_reach_the_network() {
    let policy = PolicyConfig {
        allow: vec![
            RuleSpec {
                tag: Some("items".into()),
                ..Default::default()
            },
            RuleSpec {
                tag: Some("admin".into()),
                ..Default::default()
            },
        ],
        deny: vec![RuleSpec {
            method: Some("DELETE".into()),
            ..Default::default()
        }],
        ..Default::default()
    };
    let (engine, received, _) = start(policy).await;
    let outcome = run(&engine, "await api.deleteItem({ id: 1 })", false).await;
    assert_eq!(
        error_message(&outcome),
        "PolicyError: deleteItem (DELETE /items/{id}) is denied by the server's policy"
    );
    assert!(received.list().is_empty());
    let op = engine.spec().find("deleteItem").unwrap();
    assert!(!engine.is_allowed(op));
}

#[tokio::test]
async fn dry_run_plans_writes_and_sends_reads() {
    let (engine, received, _) = start(PolicyConfig::default()).await;
    let code = r#"
        const items = await api.listItems();
        const created = await api.createItem({ body: { name: "lamp" } });
        await api.deleteItem({ id: 3 });
        return { items: items.length, created };
    "#;
    let outcome = run(&engine, code, true).await;
    let result = outcome.result.clone().unwrap();
    assert_eq!(result["items"], json!(1));
    assert_eq!(result["created"]["dryRun"], json!(true));
    assert_eq!(result["created"]["planned"]["method"], json!("POST"));
    assert_eq!(outcome.planned.len(), 2, "{:?}", outcome.planned);
    assert_eq!(outcome.planned[0].body, Some(json!({ "name": "lamp" })));
    assert_eq!(outcome.planned[1].method, "DELETE");
    assert_eq!(received.list(), ["GET /items"], "only the read was sent");
}

struct Answer(Confirmation, Arc<Mutex<Vec<PlannedRequest>>>);

impl Confirm for Answer {
    fn confirm(
        &self,
        request: PlannedRequest,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Confirmation> + Send>> {
        self.1.lock().unwrap().push(request);
        let answer = self.0;
        Box::pin(async move { answer })
    }
}

#[tokio::test]
async fn confirmation_asks_and_a_decline_throws_in_the_program() {
    let policy = PolicyConfig {
        confirm_mutating: true,
        ..Default::default()
    };
    let (engine, received, _) = start(policy).await;
    let asked = Arc::new(Mutex::new(Vec::new()));
    let code = r#"
        try { await api.createItem({ body: { name: "x" } }); return "sent"; }
        catch (e) { return e.name + ": " + e.message; }
    "#;
    let declined = engine
        .execute(ExecuteRequest {
            code: code.into(),
            dry_run: false,
            confirm: Some(Arc::new(Answer(Confirmation::Declined, asked.clone()))),
            ..Default::default()
        })
        .await;
    assert_eq!(
        declined.result.unwrap(),
        json!("ConfirmationDeclined: the user declined POST /items")
    );
    assert!(received.list().is_empty());
    assert_eq!(
        asked.lock().unwrap()[0].body,
        Some(json!({ "name": "x" })),
        "the user was shown the request"
    );

    let approved = engine
        .execute(ExecuteRequest {
            code: code.into(),
            dry_run: false,
            confirm: Some(Arc::new(Answer(Confirmation::Approved, asked.clone()))),
            ..Default::default()
        })
        .await;
    assert_eq!(approved.result.unwrap(), json!("sent"));
    assert_eq!(received.list(), ["POST /items"]);

    // Reads never ask.
    let read = engine
        .execute(ExecuteRequest {
            code: "return (await api.listItems()).length".into(),
            dry_run: false,
            confirm: Some(Arc::new(Answer(Confirmation::Declined, asked.clone()))),
            ..Default::default()
        })
        .await;
    assert_eq!(read.result.unwrap(), json!(1));
}

/// Answers after `self.0`, like a person reading the prompt.
struct SlowApproval(std::time::Duration);

impl Confirm for SlowApproval {
    fn confirm(
        &self,
        _request: PlannedRequest,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Confirmation> + Send>> {
        let thinking = self.0;
        Box::pin(async move {
            tokio::time::sleep(thinking).await;
            Confirmation::Approved
        })
    }
}

#[tokio::test]
async fn time_the_user_takes_to_confirm_does_not_count_against_the_run() {
    let (base_url, received) = upstream().await;
    let spec = codemode_engine::spec::load_str("shop.yaml", SPEC).unwrap();
    let engine = Engine::new(
        spec,
        EngineConfig {
            sandbox: codemode_engine::SandboxConfig {
                timeout: std::time::Duration::from_millis(600),
                ..Default::default()
            },
            upstream: Some(UpstreamConfig {
                base_url,
                ..UpstreamConfig::default()
            }),
            policy: PolicyConfig {
                confirm_mutating: true,
                ..Default::default()
            },
            ..EngineConfig::default()
        },
    )
    .unwrap();
    let execute = |code: &str| {
        engine.execute(ExecuteRequest {
            code: code.into(),
            dry_run: false,
            confirm: Some(Arc::new(SlowApproval(std::time::Duration::from_millis(
                1500,
            )))),
            ..Default::default()
        })
    };
    // 1.5 s of the user reading the prompt, in a run limited to 0.6 s: the call still goes out,
    // and so do the calls after it.
    let outcome = execute(
        r#"const made = await api.createItem({ body: { name: "x" } });
           const items = await api.listItems();
           return [made.id, items.length]"#,
    )
    .await;
    assert_eq!(outcome.result.unwrap(), json!([7, 1]));
    assert_eq!(received.list(), ["POST /items", "GET /items"]);
    // Calls made while the question is open are not cut by the deadline either.
    let outcome = execute(
        r#"const later = async () => {
             await new Promise((r) => setTimeout(r, 900));
             return (await api.listItems()).length;
           };
           const [made, count] = await Promise.all([api.createItem({ body: { name: "y" } }), later()]);
           return [made.id, count]"#,
    )
    .await;
    assert_eq!(outcome.result.unwrap(), json!([7, 1]));
    // The program's own time still counts.
    let outcome = execute("await new Promise((r) => setTimeout(r, 1500)); return 1").await;
    assert!(
        error_message(&outcome).contains("time limit of 600 ms exceeded"),
        "{:?}",
        outcome.result
    );
}

#[tokio::test]
async fn without_elicitation_the_configured_fallback_applies() {
    let (engine, received, _) = start(PolicyConfig {
        confirm_mutating: true,
        ..Default::default()
    })
    .await;
    let outcome = run(
        &engine,
        r#"await api.createItem({ body: { name: "x" } })"#,
        false,
    )
    .await;
    assert!(
        error_message(&outcome)
            .contains("needs the user's confirmation, but this client cannot ask"),
        "{outcome:?}"
    );
    assert!(received.list().is_empty());

    let policy = PolicyConfig {
        confirm_mutating: true,
        confirm_fallback: ConfirmFallback::Allow,
        ..Default::default()
    };
    let (engine, received, _) = start(policy).await;
    let outcome = run(
        &engine,
        r#"return (await api.createItem({ body: { name: "x" } })).id"#,
        false,
    )
    .await;
    assert_eq!(outcome.result.clone().unwrap(), json!(7));
    assert_eq!(received.list(), ["POST /items"]);
    // Allowed, but the run says it went out unconfirmed.
    let warnings: Vec<&str> = outcome
        .logs
        .iter()
        .filter(|l| l.level == "warn")
        .map(|l| l.text.as_str())
        .collect();
    assert_eq!(
        warnings,
        [
            "POST /items was sent without confirmation: this client cannot ask (no MCP elicitation support) and the server allows such calls"
        ],
        "{outcome:?}"
    );
}

#[tokio::test]
async fn audit_log_has_one_redacted_line_per_call() {
    let (engine, _, audit) = start(PolicyConfig::default()).await;
    let outcome = run(
        &engine,
        r#"await api.listItems(); return await api.createItem({ body: { name: "x" } });"#,
        false,
    )
    .await;
    let result = outcome.result.unwrap();
    assert!(
        !result.to_string().contains(TOKEN),
        "the echoed credential is redacted: {result}"
    );
    let log = String::from_utf8(audit.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{log}");
    assert_eq!(lines[0]["method"], "GET");
    assert_eq!(lines[0]["path"], "/items");
    assert_eq!(lines[0]["status"], 200);
    assert_eq!(lines[1]["operation"], "createItem");
    assert_eq!(lines[1]["status"], 201);
    for key in ["time", "run", "ms", "bytes"] {
        assert!(lines[0].get(key).is_some(), "audit line has {key}: {log}");
    }
    assert!(!log.contains(TOKEN));
}

#[tokio::test]
async fn a_policy_typo_stops_the_engine_naming_the_rule() {
    let spec = codemode_engine::spec::load_str("shop.yaml", SPEC).unwrap();
    let config = EngineConfig {
        policy: PolicyConfig {
            deny: vec![RuleSpec {
                method: Some("DELTE".into()),
                ..Default::default()
            }],
            ..Default::default()
        },
        ..Default::default()
    };
    let error = match Engine::new(spec, config) {
        Ok(_) => panic!("a deny rule with a misspelt method was accepted"),
        Err(error) => error,
    };
    // The engine's message says what failed, its source (the policy's error) names the rule.
    let rule = std::error::Error::source(&error).map(ToString::to_string);
    assert_eq!(
        (error.to_string(), rule.as_deref()),
        (
            "invalid policy".to_string(),
            Some(
                r#"[[deny]] entry 1: method "DELTE" is not an HTTP method (did you mean "DELETE"?)"#
            )
        )
    );
}
