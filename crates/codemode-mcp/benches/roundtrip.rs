//! MCP round-trip latency of `search` and `execute`, over stdio (a real child process: the
//! `codemode-mcp-fixture` binary) and streamable HTTP (stateless JSON, `serve_http_listener` on
//! 127.0.0.1:0), each seen by an rmcp client. Plain `main`, no harness:
//! `CARGO_TARGET_DIR=/work/target-mcp cargo bench -p codemode-mcp --bench roundtrip`
//!
//! Baselines measured in the same run: the engine call alone, in-process (`Engine::search`,
//! `Engine::execute`), and each transport's `ping`, so the table shows what the MCP layer adds.
//! `search` runs on the Cloudflare spec (1,533 operations), the largest real spec; `execute` on the
//! petstore fixture against a local axum upstream. Transports take turns within every iteration, so
//! load from other processes on the machine spreads evenly over them.

// The shared test plumbing (engine builder, upstream, HTTP server); the bench uses only part of it.
#[path = "../tests/it/support/mod.rs"]
#[allow(unused_imports)]
mod support;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use codemode_engine::{Engine, ExecuteRequest, SearchRequest};
use codemode_mcp::{ServerConfig, count_tokens, serve_io};
use rmcp::model::{CallToolRequestParams, CallToolResult, ClientRequest, PingRequest};
use rmcp::service::RunningService;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};

/// Untimed calls per case and path before measuring (connections, caches, allocator).
const WARMUP: usize = 30;
/// Timed calls per case and path; p99 is then the 10th-slowest of 1,000.
const ITERATIONS: usize = 1000;

const SEARCH_QUERY: &str = "list the DNS records of a zone";
const TRIVIAL_PROGRAM: &str = "return 1";
/// One upstream call (`GET /v1/pets`); the fixture upstream always answers with two pets.
const UPSTREAM_PROGRAM: &str = "const pets = await api.listPets({ limit: 1 }); return pets.length";

type Client = RunningService<RoleClient, ()>;

/// One measured operation.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Case {
    Ping,
    Search,
    ExecuteTrivial,
    ExecuteUpstream,
}

impl Case {
    fn label(self) -> &'static str {
        match self {
            Case::Ping => "ping",
            Case::Search => "search (Cloudflare, 1,533 ops)",
            Case::ExecuteTrivial => "execute `return 1`",
            Case::ExecuteUpstream => "execute, 1 upstream call",
        }
    }
}

/// A way to reach the server: the engine directly, or an MCP client over one transport. Each MCP
/// path has two servers: one on the Cloudflare spec (search) and one on the petstore (execute, ping).
enum Path {
    Engine {
        search: Arc<Engine>,
        execute: Arc<Engine>,
    },
    Mcp {
        label: &'static str,
        search: Box<Client>,
        execute: Box<Client>,
    },
}

impl Path {
    fn label(&self) -> &'static str {
        match self {
            Path::Engine { .. } => "engine alone (in-process)",
            Path::Mcp { label, .. } => label,
        }
    }

    /// Runs `case` once; `None` when this path has no such operation (ping on the bare engine).
    async fn run(&self, case: Case) -> Option<()> {
        match self {
            Path::Engine { search, execute } => run_engine(search, execute, case).await,
            Path::Mcp {
                search, execute, ..
            } => {
                run_mcp(search, execute, case).await;
                Some(())
            }
        }
    }
}

async fn run_engine(search: &Engine, execute: &Engine, case: Case) -> Option<()> {
    match case {
        Case::Ping => return None,
        Case::Search => {
            let answer = search
                .search(&SearchRequest {
                    query: SEARCH_QUERY.to_string(),
                    limit: None,
                    api: None,
                    ..Default::default()
                })
                .expect("engine search answers");
            assert!(!answer.hits.is_empty(), "search finds operations");
        }
        Case::ExecuteTrivial => check_outcome(execute, TRIVIAL_PROGRAM, json!(1)).await,
        Case::ExecuteUpstream => check_outcome(execute, UPSTREAM_PROGRAM, json!(2)).await,
    }
    Some(())
}

async fn check_outcome(engine: &Engine, code: &str, expected: Value) {
    let outcome = engine
        .execute(ExecuteRequest {
            code: code.to_string(),
            ..Default::default()
        })
        .await;
    match outcome.result {
        Ok(value) => assert_eq!(value, expected, "{code}"),
        Err(failure) => panic!("{code} failed: {}", failure.message),
    }
}

async fn run_mcp(search: &Client, execute: &Client, case: Case) {
    match case {
        Case::Ping => {
            execute
                .send_request(ClientRequest::PingRequest(PingRequest::default()))
                .await
                .expect("ping answers");
        }
        Case::Search => {
            let text = call_tool(search, "search", json!({ "query": SEARCH_QUERY })).await;
            assert!(text.contains("DNS"), "search answer names DNS: {text}");
        }
        Case::ExecuteTrivial => {
            let text = call_tool(execute, "execute", json!({ "code": TRIVIAL_PROGRAM })).await;
            assert!(text.starts_with('1'), "{text}");
        }
        Case::ExecuteUpstream => {
            let text = call_tool(execute, "execute", json!({ "code": UPSTREAM_PROGRAM })).await;
            assert!(text.starts_with('2'), "{text}");
        }
    }
}

/// Calls a tool and returns its first text block; a tool error stops the bench (bad numbers).
async fn call_tool(client: &Client, name: &str, args: Value) -> String {
    let Value::Object(args) = args else {
        panic!("tool arguments are an object")
    };
    let result: CallToolResult = client
        .call_tool(CallToolRequestParams::new(name.to_string()).with_arguments(args))
        .await
        .expect("tools/call answers");
    let text = result
        .content
        .first()
        .and_then(|c| c.as_text())
        .map(|t| t.text.clone())
        .unwrap_or_default();
    assert_eq!(result.is_error, Some(false), "{name} failed: {text}");
    text
}

/// Starts the stdio server binary as a child process and connects over its stdin/stdout.
async fn stdio_client(args: &[&str]) -> Client {
    let mut command = tokio::process::Command::new(support::fixture_server());
    command.args(args);
    let transport = TokioChildProcess::new(command).expect("the fixture server starts");
    ().serve(transport).await.expect("stdio client connects")
}

async fn http_client(url: String) -> Client {
    // rmcp builds a reqwest client, and reqwest has no crypto provider of its own.
    codemode_engine::upstream::install_crypto_provider();
    ().serve(StreamableHttpClientTransport::from_uri(url))
        .await
        .expect("http client connects")
}

/// rmcp over an in-memory pipe in this process: the stdio code path without a process boundary.
async fn duplex_client(engine: Arc<Engine>) -> Client {
    let (client_side, server_side) = tokio::io::duplex(1 << 20);
    let (server_read, server_write) = tokio::io::split(server_side);
    tokio::spawn(async move {
        let _ = serve_io(engine, ServerConfig::default(), server_read, server_write).await;
    });
    let (client_read, client_write) = tokio::io::split(client_side);
    ().serve((client_read, client_write))
        .await
        .expect("duplex client connects")
}

/// Times `f` once.
async fn timed<F: Future<Output = Option<()>>>(f: F) -> Option<Duration> {
    let started = Instant::now();
    f.await.map(|()| started.elapsed())
}

/// Samples of every path for `case`, the paths taking turns within each iteration.
async fn measure(paths: &[Path], case: Case) -> Vec<Vec<Duration>> {
    for _ in 0..WARMUP {
        for path in paths {
            path.run(case).await;
        }
    }
    let mut samples = vec![Vec::with_capacity(ITERATIONS); paths.len()];
    for _ in 0..ITERATIONS {
        for (path, out) in paths.iter().zip(samples.iter_mut()) {
            if let Some(elapsed) = timed(path.run(case)).await {
                out.push(elapsed);
            }
        }
    }
    samples
}

/// Nearest-rank percentile of sorted samples, in milliseconds.
fn percentile_ms(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted.len()) - 1;
    sorted[index].as_secs_f64() * 1000.0
}

struct Row {
    case: Case,
    path: &'static str,
    n: usize,
    p50: f64,
    p99: f64,
}

fn rows_for(case: Case, paths: &[Path], samples: Vec<Vec<Duration>>) -> Vec<Row> {
    paths
        .iter()
        .zip(samples)
        .filter(|(_, s)| !s.is_empty())
        .map(|(path, mut s)| {
            s.sort_unstable();
            Row {
                case,
                path: path.label(),
                n: s.len(),
                p50: percentile_ms(&s, 0.50),
                p99: percentile_ms(&s, 0.99),
            }
        })
        .collect()
}

/// The markdown table: each MCP row next to the engine-alone p50 of the same case, and next to
/// the same transport's ping (pure transport cost).
fn print_table(rows: &[Row]) {
    let engine_p50 = |case: Case| {
        rows.iter()
            .find(|r| r.case == case && r.path == "engine alone (in-process)")
            .map(|r| r.p50)
    };
    let ping_p50 = |path: &str| {
        rows.iter()
            .find(|r| r.case == Case::Ping && r.path == path)
            .map(|r| r.p50)
    };
    println!(
        "| operation | path | n | p50 ms | p99 ms | p50 ÷ engine alone | p50 − engine alone (ms) | same transport's ping p50 (ms) |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let (ratio, overhead) = match engine_p50(row.case) {
            Some(base) if row.case != Case::Ping => (
                format!("{:.2}×", row.p50 / base),
                format!("{:+.3}", row.p50 - base),
            ),
            _ => ("–".to_string(), "–".to_string()),
        };
        let ping = ping_p50(row.path).map_or("–".to_string(), |p| format!("{p:.3}"));
        println!(
            "| {} | {} | {} | {:.3} | {:.3} | {ratio} | {overhead} | {ping} |",
            row.case.label(),
            row.path,
            row.n,
            row.p50,
            row.p99
        );
    }
}

/// The size of the search answer, which is what the transports carry (and encode) per call.
fn describe_search_answer(engine: &Engine) {
    match engine.search(&SearchRequest {
        query: SEARCH_QUERY.to_string(),
        limit: None,
        api: None,
        ..Default::default()
    }) {
        Ok(answer) => eprintln!(
            "search answer for {SEARCH_QUERY:?}: {} hits, {} bytes, {} o200k tokens",
            answer.hits.len(),
            answer.text.len(),
            count_tokens(&answer.text)
        ),
        Err(error) => {
            // The engine's message says what failed, its source why: print the chain.
            let mut text = error.to_string();
            let mut cause = std::error::Error::source(&error);
            while let Some(error) = cause {
                text.push_str(&format!(": {error}"));
                cause = error.source();
            }
            eprintln!("search failed: {text}");
        }
    }
}

#[tokio::main]
async fn main() {
    let upstream = support::start_upstream().await;
    let cloudflare_path = codemode_test_support::spec_path("cloudflare-openapi.json");
    let cloudflare_path = cloudflare_path.to_str().expect("a UTF-8 path");
    let cloudflare = support::cloudflare_spec_text();

    let load = Instant::now();
    let search_engine = support::build_engine(&cloudflare, None);
    let load_ms = load.elapsed().as_secs_f64() * 1000.0;
    let execute_engine = support::build_engine(support::PETSTORE, Some(&upstream));

    let http_search = support::start_http(search_engine.clone(), ServerConfig::default()).await;
    let http_execute = support::start_http(execute_engine.clone(), ServerConfig::default()).await;

    let paths = vec![
        Path::Engine {
            search: search_engine.clone(),
            execute: execute_engine.clone(),
        },
        Path::Mcp {
            label: "in-memory pipe (serve_io, same process)",
            search: Box::new(duplex_client(search_engine.clone()).await),
            execute: Box::new(duplex_client(execute_engine.clone()).await),
        },
        Path::Mcp {
            label: "stdio (child process)",
            search: Box::new(stdio_client(&["--spec", cloudflare_path]).await),
            execute: Box::new(stdio_client(&["--upstream", &upstream]).await),
        },
        Path::Mcp {
            label: "streamable HTTP (stateless JSON)",
            search: Box::new(http_client(http_search.url()).await),
            execute: Box::new(http_client(http_execute.url()).await),
        },
    ];

    eprintln!(
        "Cloudflare engine built in {load_ms:.0} ms; {WARMUP} warm-up + {ITERATIONS} timed calls per case and path"
    );
    describe_search_answer(&search_engine);
    let mut rows = Vec::new();
    for case in [
        Case::Ping,
        Case::Search,
        Case::ExecuteTrivial,
        Case::ExecuteUpstream,
    ] {
        let started = Instant::now();
        let samples = measure(&paths, case).await;
        eprintln!("{}: {:.1} s", case.label(), started.elapsed().as_secs_f64());
        rows.extend(rows_for(case, &paths, samples));
    }
    print_table(&rows);

    for path in paths {
        if let Path::Mcp {
            search, execute, ..
        } = path
        {
            let _ = search.cancel().await;
            let _ = execute.cancel().await;
        }
    }
    let _ = http_search.stop().await;
    let _ = http_execute.stop().await;
}
