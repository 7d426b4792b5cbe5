//! Runs the search engine over a query set (`api<TAB>query<TAB>gold` lines) and scores it.
//!
//! `cargo run --release -p codemode-search --example eval -- [QUERIES_TSV] [SPECS_DIR]`
//! (defaults `search-dev.tsv` of the shared folder beside the repository, and the real specs where
//! the tests find them, `codemode_test_support::specs_dir`). Writes one rankings JSONL line per
//! query (top 10) to the temp directory, runs the shared folder's `search-eval.py` on it (when it
//! is there), then prints per-API hit@1 and every miss with our top three, to guide improvements.
//!
//! Environment: `EXPLAIN=1` adds per-term scores to each miss. `TUNE="k1=1.5,w.summary=3;syn=0.4"`
//! compares ranking settings (one summary line per `;`-separated variant) instead, and
//! `TUNING="object=1.2"` ranks this run with one such setting. `DEPTH=50`
//! writes that many results per query to the rankings file (10 by default), and `OPS_DUMP=DIR`
//! writes each API's operations (key, name, summary, description, tags) to `DIR/<api>.jsonl`,
//! which is what an out-of-tree re-ranker prototype needs besides the rankings.

#[path = "../tests/it/support/devset.rs"]
mod devset;

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

use codemode_search::{Hit, Index, SearchOptions, Tuning};
use codemode_spec::Spec;
use devset::{Error, Metrics, Query, Ranked};

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let queries_path = match args.first() {
        Some(path) => PathBuf::from(path),
        None => codemode_test_support::shared_file("search-dev.tsv").ok_or(
            "no query set: pass QUERIES_TSV, or put the shared folder beside the repository",
        )?,
    };
    let specs_dir = args
        .get(1)
        .map_or_else(codemode_test_support::specs_dir, PathBuf::from);
    let queries = devset::read_queries(&queries_path)?;
    let specs = devset::load_specs(&queries, &specs_dir)?;

    if let Ok(variants) = std::env::var("TUNE") {
        return compare_tunings(&queries, &specs, &variants);
    }

    let depth = match std::env::var("DEPTH") {
        Ok(depth) => depth.parse()?,
        Err(_) => 10,
    };
    let ops_dump = std::env::var_os("OPS_DUMP").map(PathBuf::from);
    let tuning = match std::env::var("TUNING") {
        Ok(overrides) => Tuning::default().with_overrides(&overrides)?,
        Err(_) => Tuning::default(),
    };
    let mut ranked = Vec::new();
    let mut misses = Vec::new();
    for (api, spec) in &specs {
        if let Some(dir) = &ops_dump {
            dump_operations(&dir.join(format!("{api}.jsonl")), spec)?;
        }
        let index = Index::build_tuned(spec, &tuning);
        for r in devset::rank_all(&queries, api, spec, &index, depth)? {
            if r.gold_rank().is_none_or(|rank| rank >= 5) {
                misses.push(describe_miss(spec, &index, &r)?);
            }
            ranked.push(r);
        }
    }

    let rankings_path = std::env::temp_dir().join("codemode-search-rankings.jsonl");
    write_rankings(&rankings_path, &ranked)?;
    // The official scorer is ours and unpublished: without the shared folder, the per-API
    // figures below are the score.
    match codemode_test_support::shared_file("search-eval.py") {
        Some(scorer) => {
            let output = Command::new("python3")
                .arg(scorer)
                .arg(&queries_path)
                .arg(&rankings_path)
                .output()?;
            print!("{}", String::from_utf8_lossy(&output.stdout));
            eprint!("{}", String::from_utf8_lossy(&output.stderr));
        }
        None => eprintln!("skipped search-eval.py: the shared folder is not beside the repository"),
    }

    let (_, per_api) = Metrics::by_api(&ranked);
    println!("per-api hit@1:");
    for (api, m) in &per_api {
        println!("  {api:<13} {:6.3}  ({} queries)", m.hit1, m.queries);
    }
    println!("misses at 5 ({}):", misses.len());
    for miss in &misses {
        println!("  {miss}");
    }
    println!("rankings: {}", rankings_path.display());
    Ok(())
}

fn write_rankings(path: &std::path::Path, ranked: &[Ranked<'_>]) -> Result<(), Error> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    for r in ranked {
        let results: Vec<serde_json::Value> = r
            .keys
            .iter()
            .filter_map(|k| k.split_once(' '))
            .map(|(method, path)| serde_json::json!({"method": method, "path": path}))
            .collect();
        let line =
            serde_json::json!({"api": r.query.api, "query": r.query.text, "results": results});
        writeln!(file, "{line}")?;
    }
    file.flush()?;
    Ok(())
}

fn dump_operations(path: &std::path::Path, spec: &Spec) -> Result<(), Error> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    for (_, op) in spec.iter_operations() {
        let line = serde_json::json!({
            "key": op.key(),
            "name": op.name,
            "summary": op.summary,
            "description": op.description,
            "tags": op.tags,
        });
        writeln!(file, "{line}")?;
    }
    file.flush()?;
    Ok(())
}

fn describe_miss(spec: &Spec, index: &Index, r: &Ranked<'_>) -> Result<String, Error> {
    let query: &Query = r.query;
    let mut text = format!(
        "[{}] {}  (rank {})\n    gold: {}\n    ours: {}",
        query.api,
        query.text,
        r.gold_rank()
            .map_or("-".to_string(), |rank| (rank + 1).to_string()),
        query.gold.join(" | "),
        r.keys
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join(" | ")
    );
    if std::env::var_os("EXPLAIN").is_some() {
        let options = SearchOptions {
            limit: 2,
            ..SearchOptions::default()
        };
        let hits = index.search(&query.text, &options)?;
        text.push_str(&explain(spec, index, query, &hits));
    }
    Ok(text)
}

/// Per-term contributions for the first gold operation and our top two.
fn explain(spec: &Spec, index: &Index, query: &Query, hits: &[Hit]) -> String {
    let mut out = String::new();
    let gold_op = spec
        .iter_operations()
        .find(|(_, op)| query.gold.contains(&op.key()))
        .map(|(id, _)| id);
    for op in gold_op.into_iter().chain(hits.iter().map(|h| h.operation)) {
        let terms: Vec<String> = index
            .explain(&query.text, op)
            .iter()
            .map(|(t, v)| format!("{t}={v:.2}"))
            .collect();
        out.push_str(&format!(
            "\n      {} [{}]",
            spec.operation(op).key(),
            terms.join(" ")
        ));
    }
    out
}

/// One summary line per tuning variant: overall figures and recall@5 per API.
fn compare_tunings(
    queries: &[Query],
    specs: &[(String, Spec)],
    variants: &str,
) -> Result<(), Error> {
    for variant in variants.split(';') {
        let tuning = Tuning::default().with_overrides(variant)?;
        let mut ranked = Vec::new();
        for (api, spec) in specs {
            let index = Index::build_tuned(spec, &tuning);
            ranked.extend(devset::rank_all(queries, api, spec, &index, 10)?);
        }
        let (all, per_api) = Metrics::by_api(&ranked);
        let apis: Vec<String> = per_api
            .iter()
            .map(|(api, m)| {
                format!(
                    "{}={:.2}",
                    api.chars().take(3).collect::<String>(),
                    m.recall5
                )
            })
            .collect();
        println!(
            "h1 {:.3} r5 {:.3} r10 {:.3} mrr {:.3} | {} | {variant}",
            all.hit1,
            all.recall5,
            all.recall10,
            all.mrr,
            apis.join(" ")
        );
    }
    Ok(())
}
