//! What a `search` answer costs on the real specs: ranking alone (the baseline, from the same run)
//! versus the whole answer (ranking plus TypeScript declarations trimmed to the token budget).
//! Plain `main` (harness = false).
//!
//! Run: `cargo bench -p codemode-engine --bench search_answer`

use std::time::{Duration, Instant};

use codemode_engine::{Engine, EngineConfig, SearchRequest};

const SPECS: [&str; 3] = [
    "stripe-spec3.yaml",
    "github-api.github.com.json.gz",
    "cloudflare-openapi.json",
];

/// Everyday task sentences; each spec answers all of them (the ranking decides what comes back).
const QUERIES: [&str; 8] = [
    "create a customer",
    "list invoices for a customer",
    "refund a charge",
    "create a subscription with a price",
    "list open pull requests",
    "add a label to an issue",
    "list DNS records of a zone",
    "update a webhook",
];

const ROUNDS: usize = 5;

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn time(mut work: impl FnMut(&str)) -> Vec<Duration> {
    let mut samples = Vec::new();
    for _ in 0..ROUNDS {
        for query in QUERIES {
            let start = Instant::now();
            work(query);
            samples.push(start.elapsed());
        }
    }
    samples
}

#[tokio::main]
async fn main() {
    let specs = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/specs/");
    println!("| spec | rank only p50 (baseline) | answer p50 | answer p99 | answer / rank p50 |");
    println!("|---|---|---|---|---|");
    for name in SPECS {
        let path = format!("{specs}{name}");
        let loaded = codemode_engine::spec::load(&path, &Default::default()).expect("spec loads");
        let engine = Engine::new(loaded.spec, EngineConfig::default()).expect("engine builds");
        let request = |query: &str| SearchRequest {
            query: query.to_string(),
            limit: None,
        };
        // Warm-up: the tokenizer's tables (built once per process, ~0.3 s) and the caches.
        for query in QUERIES {
            engine.search(&request(query)).expect("search answers");
        }
        let mut rank = time(|q| {
            engine.rank(&request(q)).expect("rank answers");
        });
        let mut answer = time(|q| {
            engine.search(&request(q)).expect("search answers");
        });
        let rank_p50 = percentile(&mut rank, 0.5);
        let answer_p50 = percentile(&mut answer, 0.5);
        println!(
            "| {name} | {:.2} ms | {:.2} ms | {:.2} ms | {:.0}x |",
            ms(rank_p50),
            ms(answer_p50),
            ms(percentile(&mut answer, 0.99)),
            ms(answer_p50) / ms(rank_p50).max(1e-6)
        );
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average: {}", load.trim());
}
