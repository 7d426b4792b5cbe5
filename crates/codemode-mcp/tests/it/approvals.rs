//! Approvals over stateless HTTP (issue 18): an rmcp client of protocol 2026-07-28 answers
//! `input_required`, and an upstream started here counts every request it receives. Each call a
//! program made before the approval is sent once, the approved one once, the rest once; a
//! decline, a divergence and a state that does not open send nothing more; two replicas that
//! share the key resume each other's runs; an older client keeps the fallback.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, post};
use axum::{Json, Router};
use codemode_engine::upstream::Secret;
use codemode_engine::{EngineConfig, PolicyConfig, RuleSpec};
use codemode_mcp::{ApprovalKey, ServerConfig};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ClientCapabilities,
    ElicitRequestParams, ElicitResult, ElicitationAction, Implementation, InitializeRequestParams,
    InputResponses, ProtocolVersion,
};
use rmcp::service::{RequestContext, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientHandler, ClientLifecycleMode, ClientServiceExt, ErrorData, RoleClient};
use serde_json::{Value, json};

use crate::support::{HttpServer, PETSTORE, build_engine_from, start_http};

/// How long any one exchange may take: far above what it needs.
const WAIT: Duration = Duration::from_secs(60);

async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, future)
        .await
        .unwrap_or_else(|_| panic!("waited {WAIT:?} for {what}"))
}

// ----- the upstream -----

/// Every request the upstream received: `POST /v1/pets A`, `DELETE /v1/pets/7`.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<String>>>);

impl Received {
    fn push(&self, line: String) -> usize {
        let mut lines = self.0.lock().expect("not poisoned");
        lines.push(line);
        lines.len()
    }

    fn lines(&self) -> Vec<String> {
        self.0.lock().expect("not poisoned").clone()
    }
}

async fn start_counting_upstream() -> (String, Received) {
    async fn create(
        State(received): State<Received>,
        Json(pet): Json<Value>,
    ) -> (StatusCode, Json<Value>) {
        let name = pet["name"].as_str().unwrap_or("?").to_string();
        let id = received.push(format!("POST /v1/pets {name}"));
        (StatusCode::CREATED, Json(json!({"id": id, "name": name})))
    }
    async fn remove(State(received): State<Received>, Path(id): Path<String>) -> StatusCode {
        received.push(format!("DELETE /v1/pets/{id}"));
        StatusCode::NO_CONTENT
    }
    let received = Received::default();
    let app = Router::new()
        .route("/v1/pets", post(create))
        .route("/v1/pets/{id}", delete(remove))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind upstream");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/v1"), received)
}

// ----- the server -----

const KEY: &str = "a-shared-approval-key-of-48-bytes-for-the-tests!";

/// An engine over the petstore whose policy asks before every `deletePet`.
fn engine_confirming_deletes(upstream: &str) -> std::sync::Arc<codemode_engine::Engine> {
    let policy = PolicyConfig {
        confirm: vec![RuleSpec {
            operation: Some("deletePet".into()),
            ..Default::default()
        }],
        ..Default::default()
    };
    build_engine_from(
        PETSTORE,
        Some(upstream),
        EngineConfig {
            policy,
            ..Default::default()
        },
    )
}

/// A server whose policy asks before every `deletePet`, with the shared key.
async fn start_server(upstream: &str, config: ServerConfig) -> HttpServer {
    let engine = engine_confirming_deletes(upstream);
    let config = ServerConfig {
        approval_key: Some(ApprovalKey::new(Secret::from(KEY)).expect("a long key")),
        ..config
    };
    start_http(engine, config).await
}

// ----- the client -----

/// Answers every approval question: yes when the question names `approve_if` in it.
#[derive(Clone)]
struct Person {
    approve_if: &'static str,
    asked: Arc<Mutex<Vec<String>>>,
    modern: bool,
}

impl Person {
    fn new(approve_if: &'static str) -> Person {
        Person {
            approve_if,
            asked: Arc::default(),
            modern: true,
        }
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().expect("not poisoned").clone()
    }
}

impl ClientHandler for Person {
    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        let ElicitRequestParams::FormElicitationParams { message, .. } = &request else {
            return Ok(ElicitResult::new(ElicitationAction::Decline));
        };
        self.asked
            .lock()
            .expect("not poisoned")
            .push(message.clone());
        let approve = message.contains(self.approve_if);
        Ok(ElicitResult::new(ElicitationAction::Accept).with_content(json!({"approve": approve})))
    }

    fn get_info(&self) -> InitializeRequestParams {
        let info = InitializeRequestParams::new(
            ClientCapabilities::builder().enable_elicitation().build(),
            Implementation::new("approvals-test", "0.0.0"),
        );
        if self.modern {
            info.with_protocol_version(ProtocolVersion::V_2026_07_28)
        } else {
            info.with_protocol_version(ProtocolVersion::V_2025_11_25)
        }
    }
}

/// A client of protocol 2026-07-28 (`server/discover`, then self-contained requests).
async fn connect(server: &HttpServer, person: Person) -> RunningService<RoleClient, Person> {
    connect_to(&server.url(), None, person).await
}

/// [`connect`] to `url`, as `subject` (the test auth layer's `X-Test-Subject`) when given.
async fn connect_to(
    url: &str,
    subject: Option<&str>,
    person: Person,
) -> RunningService<RoleClient, Person> {
    let mut headers = std::collections::HashMap::new();
    if let Some(subject) = subject {
        headers.insert(
            axum::http::HeaderName::from_static("x-test-subject"),
            axum::http::HeaderValue::from_str(subject).expect("a header value"),
        );
    }
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(url.to_string()).custom_headers(headers),
    );
    let lifecycle = if person.modern {
        ClientLifecycleMode::Discover {
            preferred_versions: vec![ProtocolVersion::V_2026_07_28],
        }
    } else {
        ClientLifecycleMode::Initialize
    };
    within(
        "the client to connect",
        person.serve_with_lifecycle(transport, lifecycle),
    )
    .await
    .expect("the client connects")
}

fn execute(code: &str) -> CallToolRequestParams {
    let Value::Object(args) = json!({ "code": code }) else {
        unreachable!()
    };
    CallToolRequestParams::new("execute").with_arguments(args)
}

/// `execute` the way an MRTR client does it: asks the person on every `input_required`.
async fn run(client: &RunningService<RoleClient, Person>, code: &str) -> CallToolResult {
    within("execute to finish", client.call_tool(execute(code)))
        .await
        .expect("tools/call answers")
}

fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn structured(result: &CallToolResult) -> Value {
    result.structured_content.clone().unwrap_or(Value::Null)
}

/// One round by hand: the `input_required` answer of the first call.
async fn first_round(
    client: &RunningService<RoleClient, Person>,
    code: &str,
) -> (String, Vec<String>) {
    let response = within("the first round", client.call_tool_once(execute(code)))
        .await
        .expect("tools/call answers");
    let CallToolResponse::InputRequired(input) = response else {
        panic!("the run did not pause for approval: {response:?}");
    };
    let questions = input
        .input_requests
        .unwrap_or_default()
        .values()
        .map(|request| {
            serde_json::to_value(request).expect("serializes")["params"]["message"].to_string()
        })
        .collect();
    (input.request_state.expect("a state"), questions)
}

/// The second round by hand: `code` with `state` and the answer yes.
async fn approve_with(
    client: &RunningService<RoleClient, Person>,
    code: &str,
    state: String,
) -> CallToolResult {
    let mut responses = InputResponses::new();
    responses.insert(
        "approval".into(),
        json!({"action": "accept", "content": {"approve": true}}),
    );
    let params = execute(code)
        .with_input_responses(responses)
        .with_request_state(state);
    match within("the second round", client.call_tool_once(params))
        .await
        .expect("tools/call answers")
    {
        CallToolResponse::Complete(result) => result,
        other => panic!("the second round did not complete: {other:?}"),
    }
}

const CREATE_DELETE_CREATE: &str = r#"
const a = await api.createPet({ body: { name: "A" } });
await api.deletePet({ petId: "7" });
const c = await api.createPet({ body: { name: "C" } });
return { a: a.id, c: c.id };
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_program_sends_each_call_once() {
    let (upstream, received) = start_counting_upstream().await;
    let server = start_server(&upstream, ServerConfig::default()).await;
    let person = Person::new("DELETE /v1/pets/7");
    let client = connect(&server, person.clone()).await;
    let result = run(&client, CREATE_DELETE_CREATE).await;
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    assert_eq!(
        received.lines(),
        ["POST /v1/pets A", "DELETE /v1/pets/7", "POST /v1/pets C"]
    );
    // The first create's answer came from the journal: the id it had the first time.
    assert_eq!(structured(&result), json!({"a": 1, "c": 3}));
    let asked = person.asked();
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert!(
        asked[0].starts_with("The agent wants to send DELETE /v1/pets/7 (deletePet)"),
        "{asked:?}"
    );
    assert!(
        text(&result)
            .contains("1 call(s) made before the approval were answered as they were then"),
        "{}",
        text(&result)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_call_and_everything_after_it_are_never_sent() {
    let (upstream, received) = start_counting_upstream().await;
    let server = start_server(&upstream, ServerConfig::default()).await;
    let client = connect(&server, Person::new("nothing is approved")).await;
    let code = r#"
const a = await api.createPet({ body: { name: "A" } });
try {
  await api.deletePet({ petId: "7" });
} catch (e) {
  return { declined: e.name };
}
await api.createPet({ body: { name: "C" } });
return "sent";
"#;
    let result = run(&client, code).await;
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    assert_eq!(
        structured(&result),
        json!({"declined": "ConfirmationDeclined"})
    );
    assert_eq!(received.lines(), ["POST /v1/pets A"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_approvals_in_one_program_chain() {
    let (upstream, received) = start_counting_upstream().await;
    let server = start_server(&upstream, ServerConfig::default()).await;
    let person = Person::new("DELETE");
    let client = connect(&server, person.clone()).await;
    let code = r#"
await api.createPet({ body: { name: "A" } });
await api.deletePet({ petId: "7" });
await api.createPet({ body: { name: "B" } });
await api.deletePet({ petId: "8" });
await api.createPet({ body: { name: "C" } });
return "done";
"#;
    let result = run(&client, code).await;
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    assert_eq!(
        received.lines(),
        [
            "POST /v1/pets A",
            "DELETE /v1/pets/7",
            "POST /v1/pets B",
            "DELETE /v1/pets/8",
            "POST /v1/pets C"
        ]
    );
    let asked = person.asked();
    assert_eq!(asked.len(), 2, "{asked:?}");
    assert!(asked[1].contains("DELETE /v1/pets/8"), "{asked:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_program_that_diverges_sends_nothing_more() {
    let (upstream, received) = start_counting_upstream().await;
    let server = start_server(&upstream, ServerConfig::default()).await;
    let client = connect(&server, Person::new("DELETE")).await;
    let code = r#"
const started = Date.now();
while (Date.now() === started) {}
await api.createPet({ body: { name: "A-" + Date.now() } });
await api.deletePet({ petId: "7" });
await api.createPet({ body: { name: "C" } });
return "done";
"#;
    let result = run(&client, code).await;
    assert_eq!(result.is_error, Some(true), "{}", text(&result));
    assert!(
        text(&result)
            .contains("the program diverged from the approved plan: call 1 (api.createPet)"),
        "{}",
        text(&result)
    );
    let lines = received.lines();
    assert_eq!(lines.len(), 1, "only the first round's create: {lines:?}");
    assert!(lines[0].starts_with("POST /v1/pets A-"), "{lines:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_tampered_and_foreign_states_are_refused_with_nothing_sent() {
    let (upstream, received) = start_counting_upstream().await;
    let quick = ServerConfig {
        approval_ttl: Duration::from_millis(300),
        ..ServerConfig::default()
    };
    let server = start_server(&upstream, quick).await;
    let client = connect(&server, Person::new("DELETE")).await;

    // Tampered: one character of the state changed.
    let (state, questions) = first_round(&client, CREATE_DELETE_CREATE).await;
    assert!(questions[0].contains("DELETE /v1/pets/7"), "{questions:?}");
    let mut tampered = state.clone().into_bytes();
    let middle = tampered.len() / 2;
    tampered[middle] = if tampered[middle] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ascii");
    let refused = approve_with(&client, CREATE_DELETE_CREATE, tampered).await;
    assert_eq!(refused.is_error, Some(true));
    assert!(
        text(&refused).starts_with("the approval state was refused: "),
        "{}",
        text(&refused)
    );

    // Another program: the same state given with other code.
    let other = CREATE_DELETE_CREATE.replace("\"C\"", "\"D\"");
    let refused = approve_with(&client, &other, state.clone()).await;
    assert_eq!(refused.is_error, Some(true));
    assert!(
        text(&refused).contains("was not made for this program and caller"),
        "{}",
        text(&refused)
    );

    // Expired: the same state, answered too late.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let refused = approve_with(&client, CREATE_DELETE_CREATE, state).await;
    assert_eq!(refused.is_error, Some(true));
    assert!(text(&refused).contains("it expired"), "{}", text(&refused));

    assert_eq!(
        received.lines(),
        ["POST /v1/pets A"],
        "only the first round's create went out"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_answered_twice_sends_the_approved_call_once() {
    let (upstream, received) = start_counting_upstream().await;
    let server = start_server(&upstream, ServerConfig::default()).await;
    let client = connect(&server, Person::new("DELETE")).await;
    let (state, _) = first_round(&client, CREATE_DELETE_CREATE).await;
    let done = approve_with(&client, CREATE_DELETE_CREATE, state.clone()).await;
    assert_eq!(done.is_error, Some(false), "{}", text(&done));
    // A retrying client, or anyone who copied the state and the answer.
    let again = approve_with(&client, CREATE_DELETE_CREATE, state).await;
    assert_eq!(again.is_error, Some(true), "{}", text(&again));
    assert!(
        text(&again).contains("it was used already"),
        "{}",
        text(&again)
    );
    assert_eq!(
        received.lines(),
        ["POST /v1/pets A", "DELETE /v1/pets/7", "POST /v1/pets C"],
        "the delete went out once"
    );
}

fn delete_pet(id: &str) -> CallToolRequestParams {
    let Value::Object(args) = json!({ "petId": id }) else {
        unreachable!()
    };
    CallToolRequestParams::new("deletePet").with_arguments(args)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_per_operation_tool_is_approved_in_a_second_round_and_sent_once() {
    let (upstream, received) = start_counting_upstream().await;
    let per_operation = ServerConfig {
        mode: codemode_mcp::ToolMode::PerOperation,
        ..ServerConfig::default()
    };
    let server = start_server(&upstream, per_operation).await;
    let person = Person::new("DELETE /v1/pets/7");
    let client = connect(&server, person.clone()).await;

    // The first round asks and sends nothing.
    let first = within("the first round", client.call_tool_once(delete_pet("7")))
        .await
        .expect("tools/call answers");
    let CallToolResponse::InputRequired(input) = first else {
        panic!("the call did not ask for approval: {first:?}");
    };
    let state = input.request_state.expect("a state");
    assert!(received.lines().is_empty(), "{:?}", received.lines());

    // The state is for this call: with other arguments it does not open.
    let mut yes = InputResponses::new();
    yes.insert(
        "approval".into(),
        json!({"action": "accept", "content": {"approve": true}}),
    );
    let other = delete_pet("8")
        .with_input_responses(yes.clone())
        .with_request_state(state.clone());
    let CallToolResponse::Complete(refused) =
        within("a foreign call", client.call_tool_once(other))
            .await
            .expect("answers")
    else {
        panic!("a state for another call was taken");
    };
    assert_eq!(refused.is_error, Some(true), "{}", text(&refused));
    assert!(received.lines().is_empty(), "{:?}", received.lines());

    // Approved: sent once, and the state does not open again.
    let approved = delete_pet("7")
        .with_input_responses(yes)
        .with_request_state(state);
    for round in 0..2 {
        let CallToolResponse::Complete(result) =
            within("the second round", client.call_tool_once(approved.clone()))
                .await
                .expect("answers")
        else {
            panic!("the second round did not complete");
        };
        assert_eq!(result.is_error, Some(round == 1), "{}", text(&result));
    }
    assert_eq!(received.lines(), ["DELETE /v1/pets/7"]);

    // The MRTR client does both rounds by itself, asking the person; a no sends nothing.
    let result = within("deletePet", client.call_tool(delete_pet("7")))
        .await
        .expect("answers");
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    let declined = connect(&server, Person::new("nothing is approved")).await;
    let result = within("deletePet", declined.call_tool(delete_pet("9")))
        .await
        .expect("answers");
    assert_eq!(result.is_error, Some(true), "{}", text(&result));
    assert_eq!(received.lines(), ["DELETE /v1/pets/7", "DELETE /v1/pets/7"]);
    assert_eq!(person.asked().len(), 1, "{:?}", person.asked());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_did_not_ask_resumes_the_run() {
    let (upstream, received) = start_counting_upstream().await;
    let asking = start_server(&upstream, ServerConfig::default()).await;
    let answering = start_server(&upstream, ServerConfig::default()).await;
    let first = connect(&asking, Person::new("DELETE")).await;
    let second = connect(&answering, Person::new("DELETE")).await;
    let (state, _) = first_round(&first, CREATE_DELETE_CREATE).await;
    let result = approve_with(&second, CREATE_DELETE_CREATE, state).await;
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    assert_eq!(
        received.lines(),
        ["POST /v1/pets A", "DELETE /v1/pets/7", "POST /v1/pets C"]
    );

    // A replica with another key cannot open it.
    let (state, _) = first_round(&first, CREATE_DELETE_CREATE).await;
    let engine_upstream = upstream.clone();
    let stranger = {
        let engine = engine_confirming_deletes(&engine_upstream);
        start_http(engine, ServerConfig::default()).await
    };
    let third = connect(&stranger, Person::new("DELETE")).await;
    let refused = approve_with(&third, CREATE_DELETE_CREATE, state).await;
    assert_eq!(refused.is_error, Some(true), "{}", text(&refused));
    assert_eq!(received.lines().len(), 4, "{:?}", received.lines());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_of_an_older_protocol_keeps_the_fallback() {
    let (upstream, received) = start_counting_upstream().await;
    let server = start_server(&upstream, ServerConfig::default()).await;
    let person = Person {
        modern: false,
        ..Person::new("DELETE")
    };
    let client = connect(&server, person.clone()).await;
    let result = run(&client, CREATE_DELETE_CREATE).await;
    assert_eq!(result.is_error, Some(true), "{}", text(&result));
    assert!(
        text(&result).contains(
            "DELETE /v1/pets/7 needs the user's confirmation, but this client cannot ask"
        ),
        "{}",
        text(&result)
    );
    assert!(person.asked().is_empty());
    assert_eq!(received.lines(), ["POST /v1/pets A"]);
}

/// The official Python SDK 2.x answers `input_required` by itself: one approval, one decline
/// caught in the program, every call sent at most once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_answers_input_required_over_http() {
    let (upstream, received) = start_counting_upstream().await;
    let server = start_server(&upstream, ServerConfig::default()).await;
    let script = crate::support::client_script("py_approve.py");
    let url = server.url();
    let args = [script.to_str().expect("utf-8 path"), url.as_str()];
    let output = crate::support::run(&crate::support::python(".venv-mcp2"), &args, WAIT).await;
    let report = crate::support::client_report(&output);
    let execute = &report["execute"];
    assert_eq!(execute["isError"], false, "{report}");
    assert_eq!(
        execute["structured"],
        json!({"a": 1, "c": 3, "declined": "ConfirmationDeclined"}),
        "{report}"
    );
    let questions = report["questions"].as_array().expect("questions");
    assert_eq!(questions.len(), 2, "{report}");
    assert_eq!(
        received.lines(),
        ["POST /v1/pets A", "DELETE /v1/pets/7", "POST /v1/pets C"]
    );
}

/// The state is bound to the caller an auth layer names: another user cannot answer it, the
/// user it was made for can. (The layer is a stand-in for an embedder's own or the OAuth one:
/// `X-Test-Subject` becomes the request's `Caller`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_user_cannot_answer_the_approval() {
    let (upstream, received) = start_counting_upstream().await;
    let engine = engine_confirming_deletes(&upstream);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let config = ServerConfig {
        public_port: Some(port),
        ..ServerConfig::default()
    };
    let app = crate::support::with_test_caller(codemode_mcp::router(engine, config));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let url = format!("http://127.0.0.1:{port}/mcp");
    let alice = connect_to(&url, Some("alice"), Person::new("DELETE")).await;
    let bob = connect_to(&url, Some("bob"), Person::new("DELETE")).await;
    let (state, _) = first_round(&alice, CREATE_DELETE_CREATE).await;
    let refused = approve_with(&bob, CREATE_DELETE_CREATE, state.clone()).await;
    assert_eq!(refused.is_error, Some(true), "{}", text(&refused));
    assert!(
        text(&refused).contains("was not made for this program and caller"),
        "{}",
        text(&refused)
    );
    assert_eq!(
        received.lines(),
        ["POST /v1/pets A"],
        "bob's answer sent nothing"
    );
    let done = approve_with(&alice, CREATE_DELETE_CREATE, state).await;
    assert_eq!(done.is_error, Some(false), "{}", text(&done));
    assert_eq!(
        received.lines(),
        ["POST /v1/pets A", "DELETE /v1/pets/7", "POST /v1/pets C"]
    );
}

/// Over stdio (here an in-memory pipe), a client of 2026-07-28 cannot be sent a request either:
/// it gets `input_required` too, sealed with the process's own key when none is configured.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_modern_client_over_stdio_is_asked_by_input_required() {
    let (upstream, received) = start_counting_upstream().await;
    let engine = engine_confirming_deletes(&upstream);
    let (client_side, server_side) = tokio::io::duplex(1 << 20);
    let (server_read, server_write) = tokio::io::split(server_side);
    tokio::spawn(async move {
        let _ = codemode_mcp::serve_io(engine, ServerConfig::default(), server_read, server_write)
            .await;
    });
    let person = Person::new("DELETE /v1/pets/7");
    let lifecycle = ClientLifecycleMode::Discover {
        preferred_versions: vec![ProtocolVersion::V_2026_07_28],
    };
    let client = within(
        "the client to connect",
        person
            .clone()
            .serve_with_lifecycle(tokio::io::split(client_side), lifecycle),
    )
    .await
    .expect("the client connects");
    let result = run(&client, CREATE_DELETE_CREATE).await;
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    assert_eq!(person.asked().len(), 1);
    assert_eq!(
        received.lines(),
        ["POST /v1/pets A", "DELETE /v1/pets/7", "POST /v1/pets C"]
    );
}
