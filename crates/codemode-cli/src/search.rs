//! `codemode search`: the search tool's answer, or JSON rankings for scripts and evaluations.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use clap::Args;
use codemode_engine::{Engine, EngineConfig, SearchRequest};
use serde_json::json;

use crate::config::{ConfigFile, LimitArgs, UpstreamArgs};
use crate::options::SpecSource;

#[derive(Args, Debug)]
pub struct SearchArgs {
    /// The spec: a file (.json, .yaml, .yml, optionally .gz) or an http(s) URL. May come from --config.
    #[arg(long)]
    pub spec: Option<String>,
    /// A TOML config file (as for `serve`): its spec, or its `[apis.*]` tables.
    #[arg(long, value_name = "PATH")]
    pub config: Option<std::path::PathBuf>,
    /// With several APIs, search only this one.
    #[arg(long, value_name = "NAME")]
    pub only: Option<String>,
    /// How many operations to return (1–20).
    #[arg(long, default_value_t = 5, value_parser = crate::config::ranged::<usize>(crate::config::ranges::SEARCH_LIMIT))]
    pub limit: usize,
    /// Print `{"query": …, "results": [{"name", "method", "path", "score"}], "declared": [{"name",
    /// "method", "path"}]}` instead of the answer text: the ranking, and the operations the
    /// answer declares (for a task of several steps, every step's). With several APIs, each
    /// result and declared operation also has its `"api"`.
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
    #[command(flatten)]
    pub apis: crate::apis::ApiArgs,
}

pub fn run(args: SearchArgs) -> anyhow::Result<ExitCode> {
    let file = match &args.config {
        Some(path) => ConfigFile::read(path)?,
        None => ConfigFile::default(),
    };
    let multi = crate::apis::load(crate::apis::MultiInputs {
        apis: &args.apis,
        spec_flag: args.spec.as_deref(),
        upstream: &UpstreamArgs::default(),
        limits: &LimitArgs::default(),
        file: &file,
        read_only: false,
        // Searching calls nothing: no base URL or credential is read.
        needs_upstream: false,
        source: &args.source,
    })?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let _guard = runtime.enter();
    let engine = match multi {
        Some(multi) => Engine::with_apis(multi.setups, multi.shared)?,
        None => {
            let source = crate::config::spec_source(args.spec.as_deref(), &file)?;
            Engine::new(args.source.load(&source)?.spec, EngineConfig::default())?
        }
    };
    let only = args.only.clone();
    let mut out = crate::output::stdout();
    if args.batch {
        for line in std::io::stdin().lock().lines() {
            let query = line?;
            if query.trim().is_empty() {
                continue;
            }
            let value = rankings(&engine, &query, args.limit, only.as_deref());
            writeln!(out, "{value}")?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let query = args.query.unwrap_or_default();
    if args.json {
        let value = rankings(&engine, &query, args.limit, only.as_deref());
        writeln!(out, "{value}")?;
    } else {
        let answer = engine.search(&SearchRequest {
            query,
            limit: Some(args.limit),
            api: only,
            ..Default::default()
        })?;
        write!(out, "{}", answer.text)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn rankings(engine: &Engine, query: &str, limit: usize, only: Option<&str>) -> serde_json::Value {
    let request = SearchRequest {
        query: query.to_string(),
        limit: Some(limit),
        api: only.map(str::to_string),
        ..Default::default()
    };
    let declared = engine.search(&request).map(|answer| {
        answer
            .hits
            .iter()
            .map(|h| {
                with_api(
                    json!({ "name": h.name, "method": h.method, "path": h.path }),
                    h,
                )
            })
            .collect::<Vec<_>>()
    });
    match (engine.rank(&request), declared) {
        (Ok(hits), Ok(declared)) => json!({
            "query": query,
            "results": hits.iter().map(|h| with_api(json!({
                "name": h.name, "method": h.method, "path": h.path, "score": (h.score * 1000.0).round() / 1000.0,
            }), h)).collect::<Vec<_>>(),
            "declared": declared,
        }),
        (Err(e), _) | (_, Err(e)) => {
            // The whole chain: the engine's message says what failed, its source what to do.
            let error = crate::output::chain_text(&anyhow::Error::new(e));
            json!({ "query": query, "results": [], "declared": [], "error": error })
        }
    }
}

/// Adds `"api"` to a result when the engine serves several APIs (one API's output is unchanged).
fn with_api(mut value: serde_json::Value, hit: &codemode_engine::SearchHit) -> serde_json::Value {
    if let Some(api) = &hit.api {
        value["api"] = json!(api);
    }
    value
}
