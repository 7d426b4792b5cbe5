//! Real clients: the official Python SDK (1.x and 2.x), the TypeScript SDK and the Inspector CLI
//! (`--strict`), each over stdio (the fixture binary) and streamable HTTP (in-process server).

use std::time::Duration;

use codemode_mcp::ServerConfig;

use crate::support::{
    PETSTORE, assert_client_report, build_engine, client_report, client_script, fixture_server,
    node, node_bin, python, run, start_http, start_upstream,
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
