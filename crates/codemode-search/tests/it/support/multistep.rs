//! The multi-step task set (`examples/multistep.tsv`: several gold operations per task, one per
//! step) ranked step by step with `Index::search_steps` and as one sentence with
//! `Index::search`, and scored per gold operation. Shared by the `multistep` example and the
//! multi-step regression test.

#![allow(dead_code)] // Each includer uses a different part.

use std::collections::BTreeMap;
use std::path::PathBuf;

use codemode_search::{Index, SearchOptions};
use codemode_spec::Spec;

use super::devset::{Error, Query};

/// Hits ranked per step and for the whole sentence: the deepest rank any figure looks at.
const DEPTH: usize = 5;

pub fn tasks_path() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/multistep.tsv"
    ))
}

/// One task's rankings, operations as `METHOD /path`, best first.
pub struct TaskRun<'q> {
    pub query: &'q Query,
    /// Per step: its clause and ranked operations.
    pub steps: Vec<(String, Vec<String>)>,
    /// The whole sentence ranked as one query (what `search` answers).
    pub whole: Vec<String>,
}

/// Counts of gold operations found, and the tasks they belong to.
#[derive(Debug, Default, Clone, Copy)]
pub struct Scores {
    pub tasks: usize,
    pub gold: usize,
    /// Gold operations ranked first by some step.
    pub step_top1: usize,
    /// Gold operations in the top three of some step.
    pub step_top3: usize,
    /// Gold operations in the top five of the whole sentence's ranking.
    pub whole_top5: usize,
}

impl Scores {
    fn add(&mut self, other: Scores) {
        self.tasks += other.tasks;
        self.gold += other.gold;
        self.step_top1 += other.step_top1;
        self.step_top3 += other.step_top3;
        self.whole_top5 += other.whole_top5;
    }

    /// A count as a share of the gold operations.
    pub fn share(&self, count: usize) -> f64 {
        count as f64 / self.gold.max(1) as f64
    }

    /// Overall and per-API scores.
    pub fn by_api(runs: &[TaskRun<'_>]) -> (Scores, BTreeMap<String, Scores>) {
        let mut all = Scores::default();
        let mut per_api: BTreeMap<String, Scores> = BTreeMap::new();
        for run in runs {
            let scores = run.scores();
            all.add(scores);
            per_api
                .entry(run.query.api.clone())
                .or_default()
                .add(scores);
        }
        (all, per_api)
    }
}

impl TaskRun<'_> {
    /// Whether some step ranks `gold` within its first `depth` hits.
    pub fn found_by_steps(&self, gold: &str, depth: usize) -> bool {
        self.steps
            .iter()
            .any(|(_, keys)| keys.iter().take(depth).any(|k| k == gold))
    }

    pub fn scores(&self) -> Scores {
        let mut scores = Scores {
            tasks: 1,
            ..Scores::default()
        };
        for gold in &self.query.gold {
            scores.gold += 1;
            scores.step_top1 += usize::from(self.found_by_steps(gold, 1));
            scores.step_top3 += usize::from(self.found_by_steps(gold, 3));
            scores.whole_top5 += usize::from(self.whole.iter().take(5).any(|k| k == gold));
        }
        scores
    }
}

/// Ranks every task of `api`, step by step and whole; fails on a gold operation the spec does
/// not have (a typo would silently lower every figure).
pub fn run_all<'q>(
    queries: &'q [Query],
    api: &str,
    spec: &Spec,
    index: &Index,
) -> Result<Vec<TaskRun<'q>>, Error> {
    let options = SearchOptions {
        limit: DEPTH,
        ..SearchOptions::default()
    };
    let key = |operation: codemode_spec::OperationId| spec.operation(operation).key();
    let mut out = Vec::new();
    for query in queries.iter().filter(|q| q.api == api) {
        if let Some(missing) = query
            .gold
            .iter()
            .find(|g| !spec.operations.iter().any(|op| &op.key() == *g))
        {
            return Err(format!("{api}: gold {missing:?} is not an operation of the spec").into());
        }
        let steps = index
            .search_steps(&query.text, &options)?
            .into_iter()
            .map(|step| {
                (
                    step.clause,
                    step.hits.iter().map(|h| key(h.operation)).collect(),
                )
            })
            .collect();
        let whole = index
            .search(&query.text, &options)?
            .iter()
            .map(|h| key(h.operation))
            .collect();
        out.push(TaskRun {
            query,
            steps,
            whole,
        });
    }
    Ok(out)
}
