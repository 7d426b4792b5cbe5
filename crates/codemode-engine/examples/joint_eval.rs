//! Search quality with every API of a query set behind one engine (issue 16), next to each API
//! searched alone: recall@5, hit@1 and MRR@10 per API and overall, and how many top-5 slots
//! went to other APIs' operations.
//!
//! A result counts only when it is the query's own API's gold operation: a joint ranking that
//! puts another API's `GET /users` first misses, even where the paths look alike.
//!
//! `cargo run --release -p codemode-engine --example joint_eval -- [TSV] [SPECS_DIR] [--apis a,b,c]`
//! e.g. `-- ../shared/search-dev.tsv`, or `-- ../shared/search-dev.tsv --apis github,stripe,cloudflare`
//! (only those APIs' queries and specs). Also times the joint engine's start (its indexes are
//! built in parallel) against each API's own, and its query latency.

#[path = "../../codemode-search/tests/it/support/devset.rs"]
mod devset;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use codemode_engine::spec::Spec;
use codemode_engine::{ApiSetup, Engine, EngineConfig, SearchHit, SearchRequest};
use devset::{Error, Query};

#[derive(Default, Clone, Copy)]
struct Score {
    queries: usize,
    hit1: usize,
    hit5: usize,
    reciprocal: f64,
    /// Top-5 slots taken by other APIs' operations.
    foreign5: usize,
}

impl Score {
    fn add(&mut self, rank: Option<usize>, foreign5: usize) {
        self.queries += 1;
        self.hit1 += usize::from(rank == Some(1));
        self.hit5 += usize::from(rank.is_some_and(|r| r <= 5));
        self.reciprocal += rank.filter(|&r| r <= 10).map_or(0.0, |r| 1.0 / r as f64);
        self.foreign5 += foreign5;
    }

    fn line(&self) -> String {
        let n = self.queries.max(1) as f64;
        format!(
            "r@5 {:.3} ({}/{})  hit@1 {:.3}  MRR@10 {:.3}  foreign in top 5: {}",
            self.hit5 as f64 / n,
            self.hit5,
            self.queries,
            self.hit1 as f64 / n,
            self.reciprocal / n,
            self.foreign5
        )
    }
}

fn main() -> Result<(), Error> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let only: Option<Vec<String>> = match args.iter().position(|a| a == "--apis") {
        Some(i) => {
            let list = args.get(i + 1).cloned().ok_or("--apis wants a,b,c")?;
            args.drain(i..=i + 1);
            Some(list.split(',').map(str::to_string).collect())
        }
        None => None,
    };
    let queries_path = match args.first() {
        Some(path) => PathBuf::from(path),
        None => codemode_test_support::shared_file("search-dev.tsv")
            .ok_or("no query set: pass TSV, or put the shared folder beside the repository")?,
    };
    let specs_dir = args
        .get(1)
        .map_or_else(codemode_test_support::specs_dir, PathBuf::from);
    let mut queries = devset::read_queries(&queries_path)?;
    if let Some(only) = &only {
        queries.retain(|q| only.contains(&q.api));
    }
    let specs = devset::load_specs(&queries, &specs_dir)?;

    let runtime = tokio::runtime::Runtime::new()?;
    let _guard = runtime.enter();
    let mut alone = BTreeMap::new();
    let mut slowest_alone = 0f64;
    for (api, spec) in &specs {
        let started = Instant::now();
        let engine = Engine::new(spec.clone(), EngineConfig::default())?;
        slowest_alone = slowest_alone.max(started.elapsed().as_secs_f64() * 1e3);
        let mut score = Score::default();
        for query in queries.iter().filter(|q| &q.api == api) {
            let hits = rank(&engine, query)?;
            score.add(gold_rank(&hits, query, None), 0);
        }
        alone.insert(api.clone(), score);
    }

    let setups: Vec<ApiSetup> = specs
        .iter()
        .map(|(api, spec): &(String, Spec)| ApiSetup {
            name: api.clone(),
            spec: spec.clone(),
            upstream: None,
            policy: Default::default(),
            session: Default::default(),
        })
        .collect();
    let started = Instant::now();
    let joint = Engine::with_apis(setups, EngineConfig::default())?;
    let joint_ms = started.elapsed().as_secs_f64() * 1e3;

    let mut together = BTreeMap::<String, Score>::new();
    let mut latencies = Vec::new();
    for query in &queries {
        let started = Instant::now();
        let hits = rank(&joint, query)?;
        latencies.push(started.elapsed().as_secs_f64() * 1e3);
        let foreign = hits
            .iter()
            .take(5)
            .filter(|h| h.api.as_deref() != Some(&query.api))
            .count();
        let rank = gold_rank(&hits, query, Some(&query.api));
        if std::env::var_os("MISSES").is_some() && rank.is_none_or(|r| r > 5) {
            let top: Vec<String> = hits
                .iter()
                .take(3)
                .map(|h| format!("{}:{}", h.api.as_deref().unwrap_or("-"), h.name))
                .collect();
            println!("miss [{}] {:?}: {}", query.api, query.text, top.join(", "));
        }
        together
            .entry(query.api.clone())
            .or_default()
            .add(rank, foreign);
    }

    println!(
        "{} queries, {} APIs: {}",
        queries.len(),
        specs.len(),
        queries_path.display()
    );
    let (mut alone_all, mut joint_all) = (Score::default(), Score::default());
    for (api, score) in &alone {
        let joined = together.get(api).copied().unwrap_or_default();
        println!("{api:<13} alone  {}", score.line());
        println!("{:<13} joint  {}", "", joined.line());
        merge(&mut alone_all, score);
        merge(&mut joint_all, &joined);
    }
    println!("{:<13} alone  {}", "overall", alone_all.line());
    println!("{:<13} joint  {}", "", joint_all.line());
    latencies.sort_by(f64::total_cmp);
    println!(
        "start: joint {joint_ms:.0} ms, slowest API alone {slowest_alone:.0} ms ({:.2}x); joint query p50 {:.2} ms, p99 {:.2} ms",
        joint_ms / slowest_alone.max(1e-9),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99)
    );
    Ok(())
}

fn rank(engine: &Engine, query: &Query) -> Result<Vec<SearchHit>, Error> {
    Ok(engine.rank(&SearchRequest {
        query: query.text.clone(),
        limit: Some(10),
        api: None,
        ..Default::default()
    })?)
}

/// 1-based rank of the first gold operation of the query's own API (`api`: `None` when the
/// engine serves that API alone).
fn gold_rank(hits: &[SearchHit], query: &Query, api: Option<&str>) -> Option<usize> {
    hits.iter()
        .position(|hit| {
            hit.api.as_deref() == api
                && query.gold.contains(&format!("{} {}", hit.method, hit.path))
        })
        .map(|i| i + 1)
}

fn merge(into: &mut Score, from: &Score) {
    into.queries += from.queries;
    into.hit1 += from.hit1;
    into.hit5 += from.hit5;
    into.reciprocal += from.reciprocal;
    into.foreign5 += from.foreign5;
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}
