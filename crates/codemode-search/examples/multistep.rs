//! Scores step-by-step ranking on the multi-step task set (`examples/multistep.tsv`, issue 15):
//! per API and overall, the share of gold operations that are (a) the top hit of some step of
//! `Index::search_steps`, (b) in the top three of some step, and (c) in the top five of the
//! whole sentence ranked as one query by `Index::search` (the single-query baseline). Then
//! lists every task with its steps' top hits, gold operations no step ranks in its top three
//! marked.
//!
//! `cargo run --release -p codemode-search --example multistep -- [TASKS_TSV] [SPECS_DIR]`
//! (defaults `crates/codemode-search/examples/multistep.tsv` and the real specs where the tests
//! find them, `codemode_test_support::specs_dir`).

#[path = "../tests/it/support/mod.rs"]
mod support;

use std::path::PathBuf;

use codemode_search::Index;
use support::devset::{self, Error};
use support::multistep::{self, Scores, TaskRun};

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let tasks_path = args
        .first()
        .map_or_else(multistep::tasks_path, PathBuf::from);
    let specs_dir = args
        .get(1)
        .map_or_else(codemode_test_support::specs_dir, PathBuf::from);
    let queries = devset::read_queries(&tasks_path)?;
    let specs = devset::load_specs(&queries, &specs_dir)?;

    let mut runs = Vec::new();
    for (api, spec) in &specs {
        let index = Index::build(spec);
        runs.extend(multistep::run_all(&queries, api, spec, &index)?);
    }
    let (all, per_api) = Scores::by_api(&runs);
    println!("share of gold operations: (a) step top-1, (b) step top-3, (c) whole-sentence top-5");
    for (api, scores) in &per_api {
        print_scores(api, scores);
    }
    print_scores("overall", &all);
    for run in &runs {
        print_task(run);
    }
    Ok(())
}

fn print_scores(label: &str, s: &Scores) {
    println!(
        "  {label:<13} (a) {:.3}  (b) {:.3}  (c) {:.3}   ({} tasks, {} gold)",
        s.share(s.step_top1),
        s.share(s.step_top3),
        s.share(s.whole_top5),
        s.tasks,
        s.gold
    );
}

fn print_task(run: &TaskRun<'_>) {
    println!("[{}] {}", run.query.api, run.query.text);
    for (clause, keys) in &run.steps {
        let top: Vec<&str> = keys.iter().take(3).map(String::as_str).collect();
        println!("    step {clause:?}: {}", top.join(" | "));
    }
    for gold in &run.query.gold {
        if !run.found_by_steps(gold, 3) {
            println!("    MISSED {gold}");
        }
    }
}
