//! An rmcp client talking to the server over an in-memory pipe: tools/list is exactly
//! `tools_list_json`, and search/execute results have the promised shape.

use std::sync::Arc;
use std::time::{Duration, Instant};

use codemode_engine::{Engine, SandboxConfig};
use codemode_mcp::{ServerConfig, ToolMode, count_tokens, serve_io, tools_list_json};
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};

use crate::support::{PETSTORE, build_engine, build_engine_with, start_upstream};

/// How long any one exchange over the pipe may take: far above what it needs.
const WAIT: Duration = Duration::from_secs(60);

/// `future`'s output, or a failure naming `what` the test waited for.
async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, future)
        .await
        .unwrap_or_else(|_| panic!("waited {WAIT:?} for {what}"))
}

async fn connect(engine: Arc<Engine>, config: ServerConfig) -> RunningService<RoleClient, ()> {
    let (client_side, server_side) = tokio::io::duplex(1 << 20);
    let (server_read, server_write) = tokio::io::split(server_side);
    tokio::spawn(async move {
        let _ = serve_io(engine, config, server_read, server_write).await;
    });
    let (client_read, client_write) = tokio::io::split(client_side);
    within(
        "the client to connect",
        ().serve((client_read, client_write)),
    )
    .await
    .expect("client connects")
}

async fn call(client: &RunningService<RoleClient, ()>, name: &str, args: Value) -> CallToolResult {
    let Value::Object(args) = args else {
        panic!("arguments must be an object")
    };
    within(
        &format!("the answer to tools/call {name}"),
        client.call_tool(CallToolRequestParams::new(name.to_string()).with_arguments(args)),
    )
    .await
    .expect("tools/call answers")
}

fn texts(result: &CallToolResult) -> Vec<String> {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect()
}

#[tokio::test]
async fn tools_list_over_the_wire_is_exactly_tools_list_json() {
    for mode in [ToolMode::CodeMode, ToolMode::PerOperation] {
        let engine = build_engine(PETSTORE, None);
        let config = ServerConfig {
            mode,
            ..ServerConfig::default()
        };
        let expected = tools_list_json(&engine, &config);
        let client = connect(engine, config).await;
        let listed = within("the answer to tools/list", client.list_tools(None))
            .await
            .expect("tools/list");
        assert_eq!(json!({"tools": listed.tools}), expected, "{mode:?}");
        within("the client to close", client.cancel())
            .await
            .expect("closes");
    }
}

#[tokio::test]
async fn unknown_tools_and_bad_arguments_are_tool_errors() {
    let client = connect(build_engine(PETSTORE, None), ServerConfig::default()).await;
    let unknown = call(&client, "test_error_handling", json!({})).await;
    assert_eq!(unknown.is_error, Some(true));
    assert!(
        texts(&unknown)[0].contains("unknown tool `test_error_handling`"),
        "{:?}",
        texts(&unknown)
    );
    let missing = call(&client, "execute", json!({})).await;
    assert_eq!(missing.is_error, Some(true));
    assert!(texts(&missing)[0].contains("needs `code`"));
    let both = call(
        &client,
        "search",
        json!({"query": "pets", "code": "return 1"}),
    )
    .await;
    assert_eq!(both.is_error, Some(true));
    let bad_budget = call(
        &client,
        "execute",
        json!({"code": "return 1", "max_tokens": -3}),
    )
    .await;
    assert_eq!(bad_budget.is_error, Some(true));
    assert!(texts(&bad_budget)[0].contains("max_tokens"));
}

#[tokio::test]
async fn search_returns_typed_declarations() {
    let client = connect(build_engine(PETSTORE, None), ServerConfig::default()).await;
    let result = call(&client, "search", json!({"query": "list pets", "limit": 2})).await;
    assert_eq!(result.is_error, Some(false), "{:?}", texts(&result));
    let text = texts(&result).join("\n");
    assert!(text.contains("listPets"), "{text}");
}

#[tokio::test]
async fn search_code_runs_a_discovery_program() {
    let client = connect(build_engine(PETSTORE, None), ServerConfig::default()).await;
    let code = "const ops = spec.operations(); return { count: Array.isArray(ops) ? ops.length : Object.keys(ops).length };";
    let result = call(&client, "search", json!({"code": code})).await;
    assert_eq!(result.is_error, Some(false), "{:?}", texts(&result));
    assert_eq!(result.structured_content, Some(json!({"count": 4})));
}

#[tokio::test]
async fn dry_run_lists_planned_requests() {
    let client = connect(
        build_engine(PETSTORE, Some("http://127.0.0.1:9/v1")),
        ServerConfig::default(),
    )
    .await;
    let code = "await api.deletePet({ petId: '3' }); return 'done';";
    let result = call(&client, "execute", json!({"code": code, "dry_run": true})).await;
    let joined = texts(&result).join("\n");
    assert_eq!(result.is_error, Some(false), "{joined}");
    assert!(
        joined.contains("planned (dry run, not sent):\nDELETE /v1/pets/3"),
        "{joined}"
    );
}

#[tokio::test]
async fn execute_returns_json_structured_content_logs_and_calls() {
    let upstream = start_upstream().await;
    let client = connect(
        build_engine(PETSTORE, Some(&upstream)),
        ServerConfig::default(),
    )
    .await;
    let result = call(
        &client,
        "execute",
        json!({"code": "const pets = await api.listPets({ limit: 5 }); console.log('got', pets.length); await api.showPetById({ petId: '2' }); return { names: pets.map(p => p.name) };"}),
    )
    .await;
    let all = texts(&result);
    assert_eq!(result.is_error, Some(false), "{all:?}");
    assert_eq!(all[0], r#"{"names":["Rex","Tom"]}"#);
    assert_eq!(
        result.structured_content,
        Some(json!({"names": ["Rex", "Tom"]}))
    );
    let joined = all.join("\n");
    assert!(joined.contains("console:\n[log] got 2"), "{joined}");
    // Each call line: the path as sent, the status, the time and how many items came back.
    let calls = all
        .iter()
        .find_map(|text| text.strip_prefix("calls:\n"))
        .expect("a calls section");
    let shapes: Vec<(&str, &str)> = calls
        .lines()
        .map(|line| {
            let (head, tail) = line.split_once(" (").expect("a time");
            (head, tail.split_once(" ms").map_or("", |(_, rest)| rest))
        })
        .collect();
    assert_eq!(
        shapes,
        [
            ("GET /pets → 200", ", 2 items)"),
            ("GET /pets/2 → 200", ")")
        ],
        "{calls}"
    );
}

#[tokio::test]
async fn execute_errors_give_message_position_and_calls_so_far() {
    let upstream = start_upstream().await;
    let client = connect(
        build_engine(PETSTORE, Some(&upstream)),
        ServerConfig::default(),
    )
    .await;
    let result = call(
        &client,
        "execute",
        json!({"code": "await api.listPets({});\nnull.boom;"}),
    )
    .await;
    let joined = texts(&result).join("\n");
    assert_eq!(result.is_error, Some(true), "{joined}");
    assert!(joined.contains("at line 2:"), "{joined}");
    assert!(joined.contains("calls:\nGET /pets → 200 ("), "{joined}");
}

#[tokio::test]
async fn a_ten_megabyte_result_comes_back_as_valid_json_within_budget() {
    // The sandbox caps results at 4 MiB by default; raise the caps so 10 MB reach the cutter.
    let sandbox = SandboxConfig {
        max_result_bytes: 64 << 20,
        memory_limit_bytes: 512 << 20,
        ..SandboxConfig::default()
    };
    let client = connect(
        build_engine_with(PETSTORE, None, sandbox),
        ServerConfig::default(),
    )
    .await;
    let code = "const rows = []; for (let i = 0; i < 170000; i++) rows.push({ id: i, name: 'a fairly ordinary name ' + i, tags: ['x', 'y'] }); return { rows };";
    let started = Instant::now();
    let result = call(&client, "execute", json!({"code": code})).await;
    let all = texts(&result);
    assert_eq!(
        result.is_error,
        Some(false),
        "{:?}",
        all.iter()
            .map(|t| t.chars().take(300).collect::<String>())
            .collect::<Vec<_>>()
    );
    let value: Value = serde_json::from_str(&all[0]).expect("valid JSON");
    let rows = value["rows"].as_array().expect("rows");
    let marker = rows
        .last()
        .and_then(Value::as_str)
        .expect("a marker ends the cut array");
    let shown = rows.len() - 1;
    assert!(
        marker.contains(&format!("{} more items not shown", 170_000 - shown)),
        "{marker}"
    );
    let total: usize = all.iter().map(|t| count_tokens(t)).sum();
    assert!(
        total <= codemode_mcp::DEFAULT_OUTPUT_BUDGET_TOKENS,
        "{total} tokens"
    );
    assert!(
        all[1].contains("Filter, slice or aggregate in code"),
        "a note tells the agent to filter: {}",
        all[1]
    );
    eprintln!("10 MB execute round trip: {:?}", started.elapsed());
}

#[tokio::test]
async fn max_tokens_lowers_the_budget_per_call() {
    let client = connect(build_engine(PETSTORE, None), ServerConfig::default()).await;
    let code = "return Array.from({ length: 5000 }, (_, i) => ({ id: i, label: 'item ' + i }));";
    let result = call(&client, "execute", json!({"code": code, "max_tokens": 300})).await;
    let all = texts(&result);
    assert_eq!(result.is_error, Some(false), "{all:?}");
    assert!(count_tokens(&all[0]) <= 300);
    serde_json::from_str::<Value>(&all[0]).expect("valid JSON");
    // Arrays are not objects: no structuredContent.
    assert_eq!(result.structured_content, None);
}

#[tokio::test]
async fn tool_calls_run_concurrently() {
    let client = connect(build_engine(PETSTORE, None), ServerConfig::default()).await;
    let slow = json!({"code": "await sleep(700); return 1;"});
    let started = Instant::now();
    let (a, b) = tokio::join!(
        call(&client, "execute", slow.clone()),
        call(&client, "execute", slow)
    );
    let elapsed = started.elapsed();
    assert_eq!(texts(&a)[0], "1", "{:?}", texts(&a));
    assert_eq!(texts(&b)[0], "1", "{:?}", texts(&b));
    assert!(
        elapsed < Duration::from_millis(1300),
        "two 700 ms calls took {elapsed:?}"
    );
}

#[tokio::test]
async fn per_operation_calls_go_through_the_engine() {
    let upstream = start_upstream().await;
    let config = ServerConfig {
        mode: ToolMode::PerOperation,
        ..ServerConfig::default()
    };
    let client = connect(build_engine(PETSTORE, Some(&upstream)), config).await;
    let result = call(&client, "showPetById", json!({"petId": "7"})).await;
    let all = texts(&result);
    assert_eq!(result.is_error, Some(false), "{all:?}");
    assert_eq!(
        result.structured_content,
        Some(json!({"id": 7, "name": "pet 7"}))
    );
    let missing = call(&client, "showPetById", json!({})).await;
    assert_eq!(
        missing.is_error,
        Some(true),
        "a missing required parameter is refused"
    );
}

/// Two APIs behind one server (issue 16), driven by rmcp's client: `search` narrowed by `api`,
/// an `execute` that uses both, and per-operation tools named `<api>_<operation>`.
#[tokio::test]
async fn two_apis_over_mcp_search_execute_and_per_operation_tools() {
    use codemode_engine::upstream::UpstreamConfig;
    use codemode_engine::{ApiSetup, EngineConfig};
    let store = crate::support::start_recording_upstream().await;
    let shelter = crate::support::start_recording_upstream().await;
    let setup = |name: &str, url: &str| ApiSetup {
        name: name.into(),
        spec: codemode_engine::spec::load_str(name, PETSTORE).expect("fixture loads"),
        upstream: Some(UpstreamConfig {
            base_url: url.to_string(),
            ..Default::default()
        }),
        policy: Default::default(),
        session: Default::default(),
    };
    let engine = Arc::new(
        Engine::with_apis(
            vec![setup("store", &store.url), setup("shelter", &shelter.url)],
            EngineConfig::default(),
        )
        .expect("engine builds"),
    );

    let client = connect(engine.clone(), ServerConfig::default()).await;
    let found = call(
        &client,
        "search",
        json!({"query": "list pets", "api": "shelter"}),
    )
    .await;
    let text = texts(&found).join("\n");
    assert!(text.contains("→ api.shelter.listPets"), "{text}");
    assert!(!text.contains("api.store."), "{text}");
    let unknown = call(
        &client,
        "search",
        json!({"query": "list pets", "api": "zoo"}),
    )
    .await;
    assert_eq!(unknown.is_error, Some(true));
    assert!(
        texts(&unknown)
            .join("\n")
            .contains("no API is named \"zoo\" (APIs: store, shelter)"),
        "{:?}",
        texts(&unknown)
    );
    let ran = call(
        &client,
        "execute",
        json!({"code": "const a = await api.store.listPets(); const b = await api.shelter.listPets(); return [a.length, b.length];"}),
    )
    .await;
    assert_ne!(ran.is_error, Some(true), "{:?}", texts(&ran));
    assert_eq!(store.received(), ["GET /v1/pets"]);
    assert_eq!(shelter.received(), ["GET /v1/pets"]);
    within("the client to close", client.cancel())
        .await
        .expect("closes");

    let per_operation = ServerConfig {
        mode: ToolMode::PerOperation,
        ..ServerConfig::default()
    };
    let client = connect(engine, per_operation).await;
    let listed = call(&client, "shelter_listPets", json!({})).await;
    assert_ne!(listed.is_error, Some(true), "{:?}", texts(&listed));
    assert_eq!(shelter.received(), ["GET /v1/pets", "GET /v1/pets"]);
    assert_eq!(store.received(), ["GET /v1/pets"]);
    within("the client to close", client.cancel())
        .await
        .expect("closes");
}

/// A client that hands each `notifications/tools/list_changed` to the test.
struct Watcher(tokio::sync::mpsc::UnboundedSender<()>);

impl rmcp::ClientHandler for Watcher {
    async fn on_tool_list_changed(&self, _context: rmcp::service::NotificationContext<RoleClient>) {
        let _ = self.0.send(());
    }
}

#[tokio::test]
async fn a_reload_that_changes_the_tools_tells_the_client_to_list_them_again() {
    let handle = codemode_mcp::EngineHandle::new(build_engine(PETSTORE, None));
    let config = ServerConfig {
        mode: ToolMode::PerOperation,
        ..ServerConfig::default()
    };
    let (client_side, server_side) = tokio::io::duplex(1 << 20);
    let (server_read, server_write) = tokio::io::split(server_side);
    let served = handle.clone();
    tokio::spawn(async move {
        let _ = serve_io(served, config, server_read, server_write).await;
    });
    let (told, mut changes) = tokio::sync::mpsc::unbounded_channel();
    let (client_read, client_write) = tokio::io::split(client_side);
    let client = within(
        "the client to connect",
        Watcher(told).serve((client_read, client_write)),
    )
    .await
    .expect("client connects");
    let capabilities = client
        .peer_info()
        .expect("initialized")
        .capabilities
        .clone();
    assert_eq!(
        capabilities.tools.and_then(|t| t.list_changed),
        Some(true),
        "a stdio server says it announces tool changes"
    );
    let before = within("tools/list", client.list_tools(None))
        .await
        .expect("tools/list")
        .tools;

    // The reloaded spec lost every operation but one path's.
    let smaller = "openapi: 3.0.3\ninfo: {title: Pets, version: '2'}\npaths:\n  /pets:\n    get: {operationId: listPets, responses: {'200': {description: ok}}}\n";
    handle.replace(build_engine(smaller, None));
    within("notifications/tools/list_changed", changes.recv())
        .await
        .expect("the server announces the change");
    let after = within("tools/list", client.list_tools(None))
        .await
        .expect("tools/list")
        .tools;
    assert_eq!(after.len(), 1, "{after:?}");
    assert!(before.len() > 1, "{before:?}");
    within("the client to close", client.cancel())
        .await
        .expect("closes");
}
