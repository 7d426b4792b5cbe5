//! Runs the development query set (`shared/search-dev.tsv`) against the real specs and guards
//! the ranking quality reached so far.
//!
//! The bar is recall@5 ≥ 0.90, hit@1 ≥ 0.70 and no API below recall@5 0.80. The lexical
//! engine does not reach it yet, so the thresholds below are the best levels reached (a
//! regression guard), rounded down; raise them whenever the ranking improves.

mod support;

use std::path::PathBuf;

use codemode_search::Index;
use support::devset::{self, Metrics};

const MIN_RECALL_AT_5: f64 = 0.80;
const MIN_HIT_AT_1: f64 = 0.55;
const MIN_API_RECALL_AT_5: f64 = 0.65;

fn shared() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared"))
}

#[test]
fn dev_set_quality_does_not_regress() {
    let queries = devset::read_queries(&shared().join("search-dev.tsv")).expect("dev set reads");
    assert!(
        queries.len() >= 150,
        "dev set has {} queries",
        queries.len()
    );
    let specs = devset::load_specs(&queries, &shared().join("specs")).expect("specs load");
    let mut ranked = Vec::new();
    for (api, spec) in &specs {
        let index = Index::build(spec);
        ranked.extend(devset::rank_all(&queries, api, spec, &index, 10).expect("queries run"));
    }
    let (all, per_api) = Metrics::by_api(&ranked);
    let report: Vec<String> = per_api
        .iter()
        .map(|(api, m)| format!("{api} r@5 {:.3}", m.recall5))
        .collect();
    let summary = format!(
        "hit@1 {:.3} recall@5 {:.3} mrr {:.3}; {}",
        all.hit1,
        all.recall5,
        all.mrr,
        report.join(", ")
    );
    assert!(all.recall5 >= MIN_RECALL_AT_5, "{summary}");
    assert!(all.hit1 >= MIN_HIT_AT_1, "{summary}");
    for (api, m) in &per_api {
        assert!(m.recall5 >= MIN_API_RECALL_AT_5, "{api}: {summary}");
    }
}
