//! What a `search` answer costs on the real specs: ranking alone (the baseline, from the same
//! run) against the whole answer (ranking, then declarations assembled within the token budget
//! from cached pieces). Plain `main` (harness = false).
//!
//! Per spec:
//! - **rank**: `Engine::rank` (the ranking alone), p50;
//! - **cold**: each query's first answer on a fresh engine (its pieces are made then), p50 / max;
//! - **warm**: the same answers again, `ROUNDS` times, p50 / p99 (pieces cached);
//! - **cache**: bytes of pieces the queries made, and of every piece of the spec with the time
//!   `Engine::prepare_search_answers` took to make them (what a server does at start).
//!
//! Run: `cargo bench -p codemode-engine --bench search_answer`

use std::time::{Duration, Instant};

use codemode_engine::{Engine, EngineConfig, SearchRequest};

const SPECS: [&str; 3] = [
    "stripe-spec3.yaml",
    "github-api.github.com.json.gz",
    "cloudflare-openapi.json",
];

/// Everyday task sentences (single and multi-step); each spec answers all of them (the ranking
/// decides what comes back).
const QUERIES: [&str; 12] = [
    "create a customer",
    "list invoices for a customer",
    "refund a charge",
    "create a subscription with a price",
    "list open pull requests",
    "add a label to an issue",
    "list DNS records of a zone",
    "update a webhook",
    "create a customer and subscribe her to a price",
    "create a KV namespace and write a key",
    "find the open issues labelled bug, close them",
    "request a report, wait, download it",
];

const ROUNDS: usize = 10;

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn time(rounds: usize, mut work: impl FnMut(&str)) -> Vec<Duration> {
    let mut samples = Vec::new();
    for _ in 0..rounds {
        for query in QUERIES {
            let start = Instant::now();
            work(query);
            samples.push(start.elapsed());
        }
    }
    samples
}

fn request(query: &str) -> SearchRequest {
    SearchRequest {
        query: query.to_string(),
        limit: None,
        api: None,
        caller: None,
    }
}

#[tokio::main]
async fn main() {
    let specs = codemode_test_support::specs_dir();
    // The o200k tables are built once per process (~0.3 s); not part of any answer.
    codemode_engine::typescript::count_tokens("warm up");
    println!(
        "| spec | rank p50 (baseline) | cold answer p50 / max | warm answer p50 / p99 | warm / rank p50 | cache after the queries | every piece made (`prepare_search_answers`) |"
    );
    println!("|---|---|---|---|---|---|---|");
    for name in SPECS {
        let path = specs.join(name).to_string_lossy().into_owned();
        let loaded = codemode_engine::spec::load(&path, &Default::default()).expect("spec loads");
        let engine = Engine::new(loaded.spec, EngineConfig::default()).expect("engine builds");
        let mut cold = time(1, |q| {
            engine.search(&request(q)).expect("search answers");
        });
        let query_cache = engine.declaration_cache_bytes();
        let mut rank = time(ROUNDS, |q| {
            engine.rank(&request(q)).expect("rank answers");
        });
        let mut warm = time(ROUNDS, |q| {
            engine.search(&request(q)).expect("search answers");
        });
        let start = Instant::now();
        engine.prepare_search_answers();
        let prepare = start.elapsed();
        let rank_p50 = percentile(&mut rank, 0.5);
        let warm_p50 = percentile(&mut warm, 0.5);
        println!(
            "| {name} | {:.3} ms | {:.2} / {:.2} ms | {:.3} / {:.3} ms | {:.1}x | {:.1} MB | {:.1} MB in {:.1} s |",
            ms(rank_p50),
            ms(percentile(&mut cold, 0.5)),
            ms(percentile(&mut cold, 1.0)),
            ms(warm_p50),
            ms(percentile(&mut warm, 0.99)),
            ms(warm_p50) / ms(rank_p50).max(1e-6),
            query_cache as f64 / 1e6,
            engine.declaration_cache_bytes() as f64 / 1e6,
            prepare.as_secs_f64(),
        );
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average: {}", load.trim());
}
