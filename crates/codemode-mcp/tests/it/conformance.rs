//! The MCP conformance suite (@modelcontextprotocol/conformance) against the HTTP server.
//!
//! The suite runs strictly against `conformance-baseline.yml`: a failure not listed there fails
//! the test, and so does a listed scenario that starts passing. The baseline lists only scenarios
//! that need the suite's fixture tools, resources or prompts, each with its reason.

use std::time::Duration;

use codemode_mcp::ServerConfig;

use crate::support::{PETSTORE, build_engine, node_bin, run, start_http};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_server_scenarios_pass_against_the_baseline() {
    let server = start_http(build_engine(PETSTORE, None), ServerConfig::default()).await;
    let baseline = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/conformance-baseline.yml"
    );
    let output_dir = tempfile::tempdir().expect("temp dir");
    let url = server.url();
    let args = [
        "server",
        "--url",
        url.as_str(),
        "--expected-failures",
        baseline,
        "-o",
        output_dir.path().to_str().expect("utf-8"),
    ];
    let out = run(&node_bin("conformance"), &args, Duration::from_secs(240)).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "conformance: {}\n{stdout}\n{stderr}",
        out.status
    );
    for scenario in [
        "server-initialize",
        "ping",
        "tools-list",
        "tools-call-error",
        "dns-rebinding-protection",
    ] {
        assert!(
            stdout
                .lines()
                .any(|l| l.contains(&format!("✓ {scenario}:"))),
            "{scenario} did not pass:\n{stdout}"
        );
    }
}
