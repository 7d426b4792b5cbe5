//! What logs and metrics cost per tool call: `execute` with one upstream call over streamable
//! HTTP, against two servers in the same process, one with `/metrics` counting and one without,
//! and with the `tracing` subscriber's filter at `info` (JSON events formatted, written to a
//! sink) or `off`. The four combinations take turns call by call, so load from other processes
//! falls on all alike. Plain `main`, no harness:
//! `cargo bench -p codemode-mcp --bench observability` (or build it in the dev profile with
//! `cargo build -p codemode-mcp --bench observability` and run the binary).

// The shared test plumbing (engine builder, upstream, HTTP server); the bench uses only part of it.
#[path = "../tests/it/support/mod.rs"]
#[allow(unused_imports)]
mod support;

use std::time::{Duration, Instant};

use codemode_mcp::ServerConfig;
use serde_json::{Value, json};
use tracing_subscriber::EnvFilter;

/// Untimed calls per configuration before measuring.
const WARMUP: usize = 30;
/// Timed calls per configuration.
const ITERATIONS: usize = 1000;
const PROGRAM: &str = "const pets = await api.listPets({ limit: 1 }); return pets.length";

fn main() {
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_writer(std::io::sink)
        .with_env_filter(EnvFilter::new("off"))
        .with_filter_reloading();
    let filter = subscriber.reload_handle();
    subscriber.init();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(async {
        let upstream = support::start_upstream().await;
        let on = server(&upstream, true).await;
        let off = server(&upstream, false).await;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("a reqwest client");
        // (label, metrics on, log filter)
        let configs = [
            ("logs and metrics off", false, "off"),
            ("logs on (JSON, info)", false, "warn,codemode=info"),
            ("metrics on", true, "off"),
            ("logs and metrics on", true, "warn,codemode=info"),
        ];
        let mut times = vec![Vec::new(); configs.len()];
        for i in 0..WARMUP + ITERATIONS {
            // Rotate which goes first, so none always follows the same one.
            for k in 0..configs.len() {
                let which = (i + k) % configs.len();
                let (_, metrics, directives) = configs[which];
                let url = if metrics { on.url() } else { off.url() };
                filter
                    .reload(EnvFilter::new(directives))
                    .expect("the filter reloads");
                let started = Instant::now();
                call(&client, &url).await;
                if i >= WARMUP {
                    times[which].push(started.elapsed());
                }
            }
        }
        println!("execute with one upstream call over HTTP, {ITERATIONS} calls each:");
        let mut medians = Vec::new();
        for ((label, _, _), times) in configs.iter().zip(&mut times) {
            medians.push(report(label, times));
        }
        for (k, (label, _, _)) in configs.iter().enumerate().skip(1) {
            let delta = medians[k].as_secs_f64() - medians[0].as_secs_f64();
            println!("  {label}: {:+.1} µs per call (median)", delta * 1e6);
        }
        on.stop().await.expect("stops");
        off.stop().await.expect("stops");
    });
}

async fn server(upstream: &str, metrics: bool) -> support::HttpServer {
    let config = ServerConfig {
        metrics,
        ..ServerConfig::default()
    };
    support::start_http(
        support::build_engine(support::PETSTORE, Some(upstream)),
        config,
    )
    .await
}

async fn call(client: &reqwest::Client, url: &str) {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "execute", "arguments": {"code": PROGRAM}}});
    let answer: Value = client
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .body(body.to_string())
        .send()
        .await
        .expect("the call is answered")
        .json()
        .await
        .expect("a JSON answer");
    assert_eq!(
        answer["result"]["content"][0]["text"], "2",
        "the program ran: {answer}"
    );
}

/// Prints the median and p90 of `times`, and returns the median.
fn report(label: &str, times: &mut [Duration]) -> Duration {
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    println!(
        "  {label:<34} median {:>7.1} µs  p90 {:>7.1} µs",
        at(0.5).as_secs_f64() * 1e6,
        at(0.9).as_secs_f64() * 1e6
    );
    at(0.5)
}
