//! Real clients: the official Python SDK (1.x and 2.x), the TypeScript SDK and the Inspector CLI
//! (`--strict`), each over stdio (the fixture binary) and streamable HTTP (in-process server).

use std::time::Duration;

use codemode_mcp::ServerConfig;
use serde_json::json;

use crate::support::{
    PETSTORE, assert_client_report, build_engine, client_report, client_script, fixture_server,
    node, node_bin, python, run, start_http, start_recording_upstream, start_upstream,
};

const CLIENT_TIMEOUT: Duration = Duration::from_secs(60);

async fn python_client(venv: &str) {
    let script = client_script("py_client.py");
    let script = script.to_str().expect("utf-8 path");
    let server = fixture_server();
    let out = run(
        &python(venv),
        &[script, "stdio", server.to_str().expect("utf-8")],
        CLIENT_TIMEOUT,
    )
    .await;
    assert_client_report(&client_report(&out));
    let http = start_http(build_engine(PETSTORE, None), ServerConfig::default()).await;
    let out = run(
        &python(venv),
        &[script, "http", &http.url()],
        CLIENT_TIMEOUT,
    )
    .await;
    assert_client_report(&client_report(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_1x_over_stdio_and_http() {
    python_client(".venv-mcp1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_2x_over_stdio_and_http() {
    python_client(".venv-mcp2").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typescript_sdk_over_stdio_and_http() {
    let script = client_script("ts_client.mjs");
    let script = script.to_str().expect("utf-8 path");
    let server = fixture_server();
    let out = run(
        &node(),
        &[script, "stdio", server.to_str().expect("utf-8")],
        CLIENT_TIMEOUT,
    )
    .await;
    assert_client_report(&client_report(&out));
    let http = start_http(build_engine(PETSTORE, None), ServerConfig::default()).await;
    let out = run(&node(), &[script, "http", &http.url()], CLIENT_TIMEOUT).await;
    assert_client_report(&client_report(&out));
}

/// `--strict` exits non-zero on any error-severity schema portability problem.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspector_cli_strict_over_stdio_and_http() {
    let inspector = node_bin("mcp-inspector");
    let server = fixture_server();
    let server = server.to_str().expect("utf-8");
    let upstream = start_upstream().await;
    let http = start_http(
        build_engine(PETSTORE, Some(&upstream)),
        ServerConfig::default(),
    )
    .await;
    let url = http.url();
    let per_operation_url = format!("{url}?codemode=false");
    for target in [
        vec![server],
        vec![server, "--per-operation"],
        vec![url.as_str()],
        vec![per_operation_url.as_str(), "--transport", "http"],
    ] {
        let mut args = vec!["--cli", "--strict", "--method", "tools/list"];
        args.extend(target.iter().copied());
        let out = run(&inspector, &args, CLIENT_TIMEOUT).await;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{target:?}: {}\n{stdout}\n{stderr}",
            out.status
        );
        assert!(stdout.contains("\"name\""), "{target:?}: {stdout}");
    }
    // The target goes first: `--tool-arg` takes every following word as another pair.
    let args = [
        "--cli",
        server,
        "--method",
        "tools/call",
        "--tool-name",
        "execute",
        "--tool-arg",
        "code=return 6 * 7",
    ];
    let out = run(&inspector, &args, CLIENT_TIMEOUT).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("42"), "{stdout}");
}

/// Confirmation by elicitation with a real client: the Python SDK's elicitation callback approves
/// one `createPet` and declines the other; the declined call throws inside the program and never
/// reaches the upstream. Per-operation mode asks the same way.
async fn python_elicitation(venv: &str) {
    let script = client_script("py_elicit.py");
    let script = script.to_str().expect("utf-8 path");
    let server = fixture_server();
    let server = server.to_str().expect("utf-8");
    let upstream = start_recording_upstream().await;
    let code_mode = [
        script,
        server,
        "--confirm-mutating",
        "--upstream",
        &upstream.url,
    ];
    let report = client_report(&run(&python(venv), &code_mode, CLIENT_TIMEOUT).await);

    let questions = report["questions"].as_array().expect("questions");
    assert_eq!(questions.len(), 2, "{report}");
    assert!(
        questions[0].as_str().unwrap_or("").starts_with(
            "The agent wants to send POST /v1/pets (createPet)\nbody: {\"name\":\"Approved-Pet\"}"
        ),
        "{report}"
    );
    let execute = &report["execute"];
    assert_eq!(execute["isError"], false, "{report}");
    assert_eq!(
        execute["structured"]["made"],
        json!({"id": 3, "name": "Approved-Pet"}),
        "{report}"
    );
    assert_eq!(
        execute["structured"]["declined"]["name"], "ConfirmationDeclined",
        "{report}"
    );
    assert_eq!(
        execute["structured"]["declined"]["message"], "the user declined POST /v1/pets",
        "{report}"
    );
    assert_eq!(
        upstream.received(),
        vec!["POST /v1/pets"],
        "only the approved call went out"
    );

    let per_operation = [
        script,
        server,
        "--per-operation",
        "--confirm-mutating",
        "--upstream",
        &upstream.url,
    ];
    let report = client_report(&run(&python(venv), &per_operation, CLIENT_TIMEOUT).await);
    assert_eq!(
        report["questions"].as_array().map(Vec::len),
        Some(1),
        "{report}"
    );
    assert_eq!(report["per_operation"]["isError"], true, "{report}");
    assert!(
        report["per_operation"]["text"][0]
            .as_str()
            .unwrap_or("")
            .contains("the user declined POST /v1/pets"),
        "{report}"
    );
    assert_eq!(
        upstream.received(),
        vec!["POST /v1/pets"],
        "the declined call never went out"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_1x_confirms_and_declines_by_elicitation() {
    python_elicitation(".venv-mcp1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_2x_confirms_and_declines_by_elicitation() {
    python_elicitation(".venv-mcp2").await;
}
