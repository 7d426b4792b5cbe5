//! A hosted server for many users: upstream credentials each MCP request brings for itself
//! (`Credential::FromRequest`), the caller an auth layer puts on the request (scopes → policy,
//! audit `sub`), and the per-caller rate limit. Real HTTP on 127.0.0.1 both sides: the MCP
//! endpoint, and an upstream that records the credential of every request it receives.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::Query;
use axum::http::HeaderMap;
use axum::routing::get;
use codemode_engine::upstream::{Credential, ForwardTarget, Forwarded, UpstreamConfig};
use codemode_engine::{Engine, EngineConfig, PolicyConfig};
use codemode_mcp::{RateLimit, ServerConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// An API no model knows: `GET /echo?marker=` answers with the marker and the `Authorization`
/// it got (so a leak into the program would show), `POST /notes` creates a note.
const SPEC: &str = r#"{"openapi": "3.0.0", "info": {"title": "Notes", "version": "1"},
  "paths": {
    "/echo": {"get": {"operationId": "echo", "summary": "Echo the request",
      "parameters": [{"name": "marker", "in": "query", "required": true, "schema": {"type": "string"}}],
      "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
    "/notes": {"post": {"operationId": "createNote", "summary": "Create a note",
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object",
        "properties": {"text": {"type": "string"}}}}}},
      "responses": {"201": {"description": "created", "content": {"application/json": {"schema": {"type": "object"}}}}}}}
  }}"#;

const WAIT: Duration = Duration::from_secs(60);

/// One request the upstream received: its marker (or `POST /notes`) and its `Authorization`.
type Seen = (String, Option<String>);

/// What the upstream received, in order.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<Seen>>>);

impl Received {
    fn all(&self) -> Vec<Seen> {
        self.0.lock().expect("not poisoned").clone()
    }
}

async fn start_upstream() -> (String, Received) {
    let received = Received::default();
    let echo_log = received.clone();
    let notes_log = received.clone();
    let app = axum::Router::new()
        .route(
            "/echo",
            get(
                move |Query(query): Query<std::collections::HashMap<String, String>>,
                      headers: HeaderMap| {
                    let log = echo_log.clone();
                    async move {
                        let auth = authorization(&headers);
                        let marker = query.get("marker").cloned().unwrap_or_default();
                        log.0
                            .lock()
                            .expect("not poisoned")
                            .push((marker.clone(), auth.clone()));
                        Json(json!({ "marker": marker, "auth": auth }))
                    }
                },
            ),
        )
        .route(
            "/notes",
            axum::routing::post(move |headers: HeaderMap| {
                let log = notes_log.clone();
                async move {
                    log.0
                        .lock()
                        .expect("not poisoned")
                        .push(("POST /notes".into(), authorization(&headers)));
                    (axum::http::StatusCode::CREATED, Json(json!({ "id": 7 })))
                }
            }),
        );
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind upstream");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), received)
}

fn authorization(headers: &HeaderMap) -> Option<String> {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The engine: credentials from the request's `X-Upstream-Authorization`, sent as
/// `Authorization`; the `write` scope needed for mutating calls; audit lines into `audit`.
fn engine(upstream: &str, audit: Option<Audit>) -> Arc<Engine> {
    let spec = codemode_engine::spec::load_str("notes.json", SPEC).expect("the spec loads");
    let config = EngineConfig {
        upstream: Some(UpstreamConfig {
            base_url: upstream.to_string(),
            credentials: vec![Credential::FromRequest(Forwarded {
                header: "X-Upstream-Authorization".into(),
                target: ForwardTarget::Authorization,
                required: true,
            })],
            ..Default::default()
        }),
        policy: PolicyConfig {
            write_scope: Some("write".into()),
            ..Default::default()
        },
        audit: audit.map(|a| Box::new(a) as Box<dyn std::io::Write + Send>),
        ..Default::default()
    };
    Arc::new(Engine::new(spec, config).expect("the engine builds"))
}

/// An audit sink the test reads back.
#[derive(Clone, Default)]
struct Audit(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Audit {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .expect("not poisoned")
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Audit {
    fn lines(&self) -> Vec<Value> {
        String::from_utf8(self.0.lock().expect("not poisoned").clone())
            .expect("utf-8")
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect()
    }
}

/// Serves the MCP router on 127.0.0.1:0 behind the test's caller layer
/// ([`crate::support::with_test_caller`]).
async fn serve(engine: Arc<Engine>, config: ServerConfig) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let config = ServerConfig {
        public_port: Some(port),
        ..config
    };
    let app = crate::support::with_test_caller(codemode_mcp::router(engine, config));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://127.0.0.1:{port}/mcp")
}

fn client() -> reqwest::Client {
    codemode_engine::upstream::install_crypto_provider();
    reqwest::Client::builder()
        .timeout(WAIT)
        .build()
        .expect("a reqwest client")
}

/// One `tools/call`; the JSON-RPC answer.
async fn call(
    client: &reqwest::Client,
    url: &str,
    tool: &str,
    arguments: Value,
    headers: &[(&str, &str)],
) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": tool, "arguments": arguments}});
    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .json(&body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("the call is answered");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("a JSON-RPC answer")
}

fn text(answer: &Value) -> String {
    answer["result"]["content"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["text"].as_str())
        .collect()
}

async fn execute(
    client: &reqwest::Client,
    url: &str,
    code: &str,
    headers: &[(&str, &str)],
) -> Value {
    call(client, url, "execute", json!({ "code": code }), headers).await
}

/// 100 calls from two users, interleaved and in flight together: every request the upstream
/// gets carries exactly the credential of the user whose call made it, and neither user's
/// program ever sees a credential (the echo of it comes back redacted).
#[tokio::test]
async fn two_users_interleaved_each_reach_the_api_with_their_own_credential() {
    let (upstream, received) = start_upstream().await;
    let url = serve(engine(&upstream, None), ServerConfig::default()).await;
    let client = client();
    let users = [
        ("ana", "Bearer canary-ana-7f3a91"),
        ("bo", "token canary-bo-c02e55"),
    ];
    let mut calls = tokio::task::JoinSet::new();
    // 16 in flight at once: interleaved, and within the sandbox's queue (2 workers here).
    let in_flight = Arc::new(tokio::sync::Semaphore::new(16));
    for i in 0..100 {
        let (user, credential) = users[i % 2];
        let (client, url, in_flight) = (client.clone(), url.clone(), in_flight.clone());
        calls.spawn(async move {
            let _slot = in_flight.acquire().await.expect("never closed");
            let code = format!("return await api.echo({{ marker: '{user}-{i}' }});");
            let answer = execute(
                &client,
                &url,
                &code,
                &[("x-upstream-authorization", credential)],
            )
            .await;
            (user, credential, text(&answer))
        });
    }
    let results = tokio::time::timeout(WAIT, calls.join_all())
        .await
        .expect("100 calls finish within a minute");
    for (user, credential, text) in &results {
        assert!(text.contains(&format!("\"marker\":\"{user}-")), "{text}");
        assert!(text.contains("[redacted]"), "the echo is redacted: {text}");
        let token = credential.split_once(' ').map_or(*credential, |(_, t)| t);
        assert!(
            !text.contains(token),
            "a credential reached the result: {text}"
        );
        assert!(
            !text.contains("canary"),
            "a credential reached the result: {text}"
        );
    }
    let received = received.all();
    assert_eq!(received.len(), 100, "one upstream request per call");
    for (marker, auth) in &received {
        let user = marker.split('-').next().unwrap_or_default();
        let expected = users.iter().find(|(u, _)| *u == user).map(|(_, c)| *c);
        assert_eq!(auth.as_deref(), expected, "request {marker}");
    }
}

/// Without the header the result names it, and nothing reaches the upstream; an oversized value
/// and one that is not text are refused the same way.
#[tokio::test]
async fn a_missing_or_refused_credential_is_named_and_nothing_is_sent() {
    let (upstream, received) = start_upstream().await;
    let url = serve(engine(&upstream, None), ServerConfig::default()).await;
    let client = client();
    let code = "return await api.echo({ marker: 'x' });";
    let answer = execute(&client, &url, code, &[]).await;
    let message = text(&answer);
    assert_eq!(answer["result"]["isError"], true, "{answer}");
    assert!(
        message.contains("x-upstream-authorization") && message.contains("nothing was sent"),
        "{message}"
    );
    let oversized = format!("Bearer {}", "a".repeat(9 * 1024));
    let answer = execute(
        &client,
        &url,
        code,
        &[("x-upstream-authorization", oversized.as_str())],
    )
    .await;
    assert!(text(&answer).contains("longer than 8192 bytes"), "{answer}");
    let not_text = reqwest::header::HeaderValue::from_bytes(b"Bearer caf\xe9-token")
        .expect("obs-text is a valid header value on the wire");
    let response = client
        .post(&url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("x-upstream-authorization", not_text)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "execute", "arguments": {"code": code}}}))
        .send()
        .await
        .expect("answered");
    let answer: Value = response.json().await.expect("JSON");
    assert!(text(&answer).contains("is refused"), "{answer}");
    assert!(
        received.all().is_empty(),
        "nothing was sent: {:?}",
        received.all()
    );
}

/// The token that authenticates the client to `/mcp` is never what the upstream gets, and a
/// per-operation tool passes the request's own credential as `execute` does.
#[tokio::test]
async fn the_mcp_token_never_reaches_the_upstream() {
    let (upstream, received) = start_upstream().await;
    let config = ServerConfig {
        auth_token: Some(codemode_engine::upstream::Secret::new(
            "mcp-endpoint-token-1234",
        )),
        ..Default::default()
    };
    let url = serve(engine(&upstream, None), config).await;
    let client = client();
    let headers = [
        ("authorization", "Bearer mcp-endpoint-token-1234"),
        ("x-upstream-authorization", "token user-own-5678"),
    ];
    let answer = execute(
        &client,
        &url,
        "return await api.echo({ marker: 'm' });",
        &headers,
    )
    .await;
    assert_eq!(answer["result"]["isError"], false, "{answer}");
    let per_operation = format!("{url}?codemode=false");
    let answer = call(
        &client,
        &per_operation,
        "echo",
        json!({"marker": "p"}),
        &headers,
    )
    .await;
    assert_eq!(answer["result"]["isError"], false, "{answer}");
    let received = received.all();
    assert_eq!(
        received,
        vec![
            ("m".to_string(), Some("token user-own-5678".to_string())),
            ("p".to_string(), Some("token user-own-5678".to_string())),
        ]
    );
}

/// A caller whose token lacks the `write` scope gets the API read-only: the mutating call fails
/// in the program naming the scope and is not sent, and search marks it blocked for them only.
/// Every upstream call's audit line names the caller.
#[tokio::test]
async fn scopes_decide_what_a_caller_may_change_and_the_audit_names_them() {
    let (upstream, received) = start_upstream().await;
    let audit = Audit::default();
    let url = serve(
        engine(&upstream, Some(audit.clone())),
        ServerConfig::default(),
    )
    .await;
    let client = client();
    let credential = ("x-upstream-authorization", "Bearer reader-token-1");
    let reader = [
        ("x-test-subject", "reader@example.com"),
        ("x-test-scopes", "read"),
        credential,
    ];
    let writer = [
        ("x-test-subject", "writer@example.com"),
        ("x-test-scopes", "read write"),
        credential,
    ];
    let create = "try { return await api.createNote({ body: { text: 'hi' } }); } \
                  catch (e) { return { failed: e.name + ': ' + e.message }; }";

    let answer = execute(&client, &url, create, &reader).await;
    let said = text(&answer);
    assert!(said.contains("`write` scope"), "{said}");
    assert!(!said.contains("\"id\":7"), "{said}");
    // Nobody authenticated: the scope rule fails closed.
    let said = text(&execute(&client, &url, create, &[credential]).await);
    assert!(
        said.contains("`write` scope; this request carries no authenticated caller"),
        "{said}"
    );
    assert!(received.all().is_empty(), "a blocked call is not sent");

    let search = |headers: &'static [(&'static str, &'static str)]| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            text(
                &call(
                    &client,
                    &url,
                    "search",
                    json!({"query": "create a note"}),
                    headers,
                )
                .await,
            )
        }
    };
    static READER: [(&str, &str); 2] = [("x-test-subject", "r"), ("x-test-scopes", "read")];
    static WRITER: [(&str, &str); 2] = [("x-test-subject", "w"), ("x-test-scopes", "write")];
    let for_reader = search(&READER).await;
    let for_writer = search(&WRITER).await;
    assert!(for_reader.contains("`write` scope"), "{for_reader}");
    assert!(!for_writer.contains("`write` scope"), "{for_writer}");
    // A search program's `spec.*` helpers give the same caller's view.
    let blocked = |headers: &'static [(&'static str, &'static str)]| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let code = json!({"code": "return spec.operation('createNote').blocked"});
            text(&call(&client, &url, "search", code, headers).await)
        }
    };
    assert_eq!(blocked(&READER).await, "true");
    assert_eq!(blocked(&WRITER).await, "false");

    let answer = execute(&client, &url, create, &writer).await;
    assert!(text(&answer).contains("\"id\":7"), "{answer}");
    let answer = execute(
        &client,
        &url,
        "return await api.echo({ marker: 'r' });",
        &reader,
    )
    .await;
    assert_eq!(answer["result"]["isError"], false, "{answer}");
    assert_eq!(received.all().len(), 2);

    let lines = audit.lines();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["method"], "POST");
    assert_eq!(lines[0]["sub"], "writer@example.com");
    assert_eq!(lines[0]["client_id"], "test-client");
    assert_eq!(lines[1]["sub"], "reader@example.com");
    let audit_text =
        String::from_utf8(audit.0.lock().expect("not poisoned").clone()).expect("utf-8");
    assert!(!audit_text.contains("reader-token-1"), "{audit_text}");
}

/// Over the per-caller limit a call is an MCP error that says when to retry; another caller's
/// allowance is untouched.
#[tokio::test]
async fn the_rate_limit_is_per_caller_and_says_when_to_retry() {
    let (upstream, _) = start_upstream().await;
    let config = ServerConfig {
        rate_limit: Some(RateLimit {
            per_minute: NonZeroU32::new(6).expect("not zero"),
            burst: NonZeroU32::new(2).expect("not zero"),
        }),
        ..Default::default()
    };
    let url = serve(engine(&upstream, None), config).await;
    let client = client();
    let ana = [("x-test-subject", "ana")];
    let bo = [("x-test-subject", "bo")];
    let query = json!({"query": "echo"});
    for _ in 0..2 {
        let answer = call(&client, &url, "search", query.clone(), &ana).await;
        assert!(answer.get("result").is_some(), "{answer}");
    }
    let refused = call(&client, &url, "search", query.clone(), &ana).await;
    let error = &refused["error"];
    assert_eq!(error["code"], -32029, "{refused}");
    let retry = error["data"]["retryAfterSeconds"]
        .as_u64()
        .expect("retryAfterSeconds");
    assert!((1..=10).contains(&retry), "{refused}");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains(&format!("retry in {retry} s"))),
        "{refused}"
    );
    // The per-operation tools count against the same allowance.
    let per_operation = format!("{url}?codemode=false");
    let refused = call(
        &client,
        &per_operation,
        "echo",
        json!({"marker": "x"}),
        &ana,
    )
    .await;
    assert_eq!(refused["error"]["code"], -32029, "{refused}");
    let answer = call(&client, &url, "search", query, &bo).await;
    assert!(answer.get("result").is_some(), "{answer}");
}

/// The whole hosted setup with a real issuer (keys made in the test, JWKS on 127.0.0.1): OAuth
/// on `/mcp`, each user's upstream credential forwarded, `write_scope` deciding who may change
/// data, and the token's `sub` and `client_id` in every audit line. The two credentials travel
/// side by side and neither reaches where the other goes.
#[tokio::test]
async fn with_oauth_the_tokens_scopes_decide_and_its_subject_is_audited() {
    use crate::support::issuer::Issuer;
    use codemode_mcp::oauth::OAuthConfig;

    let issuer = Issuer::start().await;
    let (upstream, received) = start_upstream().await;
    let audit = Audit::default();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let url = format!("http://127.0.0.1:{port}/mcp");
    let mut oauth = OAuthConfig::new(issuer.url.clone(), url.clone());
    oauth.required_scopes = vec!["mcp".into()];
    let config = ServerConfig {
        oauth: Some(oauth),
        ..Default::default()
    };
    let server =
        crate::support::start_http_on(listener, engine(&upstream, Some(audit.clone())), config)
            .await;
    let reader_token = issuer.sign(&issuer.es256, &issuer.claims(&url, "mcp"));
    let writer_token = issuer.sign(&issuer.es256, &issuer.claims(&url, "mcp write"));
    let as_reader = format!("Bearer {reader_token}");
    let as_writer = format!("Bearer {writer_token}");
    let upstream_credential = ("x-upstream-authorization", "token alice-own-credential");
    let client = client();
    let create = "try { return await api.createNote({ body: { text: 'hi' } }); } \
                  catch (e) { return { failed: e.name + ': ' + e.message }; }";

    let reader = [("authorization", as_reader.as_str()), upstream_credential];
    let said = text(&execute(&client, &server.url(), create, &reader).await);
    assert!(said.contains("`write` scope"), "{said}");
    assert!(received.all().is_empty(), "a blocked call is not sent");
    let found = text(
        &call(
            &client,
            &server.url(),
            "search",
            json!({"query": "create a note"}),
            &reader,
        )
        .await,
    );
    assert!(found.contains("`write` scope"), "{found}");

    let writer = [("authorization", as_writer.as_str()), upstream_credential];
    let said = text(&execute(&client, &server.url(), create, &writer).await);
    assert!(said.contains("\"id\":7"), "{said}");
    assert_eq!(
        received.all(),
        vec![(
            "POST /notes".to_string(),
            Some("token alice-own-credential".to_string())
        )],
        "the user's own credential went upstream, never the access token"
    );
    // The same through the official Python SDK, sending the reader's token: refused in the
    // program, naming the scope, and nothing more reaches the upstream.
    let headers = json!({
        "Authorization": as_reader,
        "X-Upstream-Authorization": "token alice-own-credential",
    })
    .to_string();
    let output = crate::support::run(
        &crate::support::python(".venv-mcp2"),
        &[
            crate::support::workspace_root()
                .join("tests/clients/py_execute.py")
                .to_str()
                .expect("utf-8 path"),
            &server.url(),
            &headers,
            create,
        ],
        Duration::from_secs(60),
    )
    .await;
    let report = crate::support::client_report(&output);
    assert!(
        report["text"].to_string().contains("`write` scope"),
        "{report}"
    );
    assert_eq!(received.all().len(), 1, "the reader's create was not sent");
    let lines = audit.lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["sub"], "alice");
    assert_eq!(lines[0]["client_id"], "test-client");
    let audit_text =
        String::from_utf8(audit.0.lock().expect("not poisoned").clone()).expect("utf-8");
    assert!(!audit_text.contains(&writer_token), "{audit_text}");
    assert!(!audit_text.contains("alice-own-credential"), "{audit_text}");
}
