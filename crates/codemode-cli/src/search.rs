//! `codemode search`: the search tool's answer, or JSON rankings for scripts and evaluations.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use clap::Args;
use codemode_engine::{Engine, EngineConfig, SearchRequest};
use serde_json::json;

use crate::options::SpecSource;

#[derive(Args, Debug)]
pub struct SearchArgs {
    /// The spec: a file (.json, .yaml, .yml, optionally .gz) or an http(s) URL.
    #[arg(long)]
    pub spec: String,
    /// How many operations to return (1–20).
    #[arg(long, default_value_t = 5, value_parser = crate::config::ranged::<usize>(crate::config::ranges::SEARCH_LIMIT))]
    pub limit: usize,
    /// Print `{"query": …, "results": [{"name", "method", "path", "score"}], "declared": [{"name",
    /// "method", "path"}]}` instead of the answer text: the ranking, and the operations the
    /// answer declares (for a task of several steps, every step's).
    #[arg(long)]
    pub json: bool,
    /// Read queries from stdin, one per line, and print one JSON object per line (implies --json).
    #[arg(long)]
    pub batch: bool,
    /// The task, in words.
    #[arg(required_unless_present = "batch")]
    pub query: Option<String>,
    #[command(flatten)]
    pub source: SpecSource,
}

pub fn run(args: SearchArgs) -> anyhow::Result<ExitCode> {
    let spec = args.source.load(&args.spec)?.spec;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let _guard = runtime.enter();
    let engine = Engine::new(spec, EngineConfig::default())?;
    let mut out = crate::output::stdout();
    if args.batch {
        for line in std::io::stdin().lock().lines() {
            let query = line?;
            if query.trim().is_empty() {
                continue;
            }
            let value = rankings(&engine, &query, args.limit);
            writeln!(out, "{value}")?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let query = args.query.unwrap_or_default();
    if args.json {
        writeln!(out, "{}", rankings(&engine, &query, args.limit))?;
    } else {
        let answer = engine.search(&SearchRequest {
            query,
            limit: Some(args.limit),
            api: None,
        })?;
        write!(out, "{}", answer.text)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn rankings(engine: &Engine, query: &str, limit: usize) -> serde_json::Value {
    let request = SearchRequest {
        query: query.to_string(),
        limit: Some(limit),
        api: None,
    };
    let declared = engine.search(&request).map(|answer| {
        answer
            .hits
            .iter()
            .map(|h| json!({ "name": h.name, "method": h.method, "path": h.path }))
            .collect::<Vec<_>>()
    });
    match (engine.rank(&request), declared) {
        (Ok(hits), Ok(declared)) => json!({
            "query": query,
            "results": hits.iter().map(|h| json!({
                "name": h.name, "method": h.method, "path": h.path, "score": (h.score * 1000.0).round() / 1000.0,
            })).collect::<Vec<_>>(),
            "declared": declared,
        }),
        (Err(e), _) | (_, Err(e)) => {
            // The whole chain: the engine's message says what failed, its source what to do.
            let error = crate::output::chain_text(&anyhow::Error::new(e));
            json!({ "query": query, "results": [], "declared": [], "error": error })
        }
    }
}
