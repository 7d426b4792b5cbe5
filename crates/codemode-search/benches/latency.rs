//! Search latency, index build time and memory per spec, against a plain BM25 baseline measured
//! in the same run.
//!
//! `cargo bench -p codemode-search --bench latency` (run from the repository root, with
//! `shared/` beside it). The baseline is textbook BM25 (k1 1.2, b 0.75) over one bag of words
//! per operation: method, path, operationId, summary, the description's opening and tags.
//! Both engines answer the dev set's queries; quality figures are printed too.

#[path = "../tests/it/support/devset.rs"]
mod devset;

use std::collections::HashMap;
use std::time::Instant;

use codemode_search::{Index, SearchOptions};
use codemode_spec::Spec;
use devset::{Error, Metrics, Query, Ranked};

/// Timed passes over the Cloudflare queries (after one warm-up pass), in rounds: the machine is
/// shared, so besides the figures over all samples the quietest round is reported too.
const PASSES: usize = 200;
const ROUNDS: usize = 10;
/// Duration of the noise-control busy loop: about our median query time.
const CONTROL_US: f64 = 70.0;

fn main() -> Result<(), Error> {
    // The dev set is ours and unpublished: without the shared folder there is nothing to time.
    let Some(dev_set) = codemode_test_support::skip_without_shared("search-dev.tsv") else {
        return Ok(());
    };
    let queries = devset::read_queries(&dev_set)?;
    let specs = devset::load_specs(&queries, &codemode_test_support::specs_dir())?;

    println!(
        "| spec | ops | build ms (ours) | build ms (bm25) | index KiB (ours) | index KiB (bm25) | r@5 ours | r@5 bm25 |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut ours_all = Vec::new();
    let mut base_all = Vec::new();
    for (api, spec) in &specs {
        let started = Instant::now();
        let index = Index::build(spec);
        let build_ms = started.elapsed().as_secs_f64() * 1e3;
        let started = Instant::now();
        let baseline = Bm25::build(spec);
        let baseline_ms = started.elapsed().as_secs_f64() * 1e3;

        let ours = devset::rank_all(&queries, api, spec, &index, 10)?;
        let base = baseline.rank_all(&queries, api, spec, 10);
        println!(
            "| {api} | {} | {build_ms:.1} | {baseline_ms:.1} | {} | {} | {:.3} | {:.3} |",
            spec.operations.len(),
            index.memory_bytes() / 1024,
            baseline.memory_bytes() / 1024,
            Metrics::of(&ours).recall5,
            Metrics::of(&base).recall5,
        );
        ours_all.extend(ours);
        base_all.extend(base);

        if api == "cloudflare" {
            latency(spec, &index, &baseline, &queries)?;
        }
    }
    let (ours, _) = Metrics::by_api(&ours_all);
    let (base, _) = Metrics::by_api(&base_all);
    for (name, m) in [("ours", ours), ("bm25", base)] {
        println!(
            "quality {name}: hit@1 {:.3} recall@5 {:.3} recall@10 {:.3} MRR@10 {:.3} ({} queries)",
            m.hit1, m.recall5, m.recall10, m.mrr, m.queries
        );
    }
    Ok(())
}

/// p50/p99 per query on Cloudflare for both engines, and the ratio.
fn latency(spec: &Spec, index: &Index, baseline: &Bm25, queries: &[Query]) -> Result<(), Error> {
    let texts: Vec<&str> = queries
        .iter()
        .filter(|q| q.api == "cloudflare")
        .map(|q| q.text.as_str())
        .collect();
    let options = SearchOptions::default();
    let mut ours = Vec::with_capacity(texts.len() * PASSES);
    let mut base = Vec::with_capacity(texts.len() * PASSES);
    let mut control = Vec::with_capacity(texts.len() * PASSES);
    let mut checksum = 0usize;
    for pass in 0..=PASSES {
        for text in &texts {
            let started = Instant::now();
            let hits = index.search(text, &options)?;
            let ours_us = started.elapsed().as_secs_f64() * 1e6;
            let started = Instant::now();
            let base_hits = baseline.search(text, 5);
            let base_us = started.elapsed().as_secs_f64() * 1e6;
            checksum += hits.len() + base_hits.len();
            if pass > 0 {
                ours.push(ours_us);
                base.push(base_us);
                control.push(spin(CONTROL_US));
            }
        }
    }
    // The slowest query by median time, to spot outliers that are not machine noise.
    let per_query = texts.len();
    let slowest = (0..per_query)
        .map(|q| {
            let mut times: Vec<f64> = ours.iter().skip(q).step_by(per_query).copied().collect();
            (percentiles(&mut times).0, texts[q])
        })
        .max_by(|a, b| a.0.total_cmp(&b.0));
    if let Some((median, text)) = slowest {
        println!("  slowest query (median {median:.1} us): {text:?}");
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!();
    println!(
        "latency on cloudflare ({} ops, {} queries x {PASSES} passes, limit 5; load average {}; checksum {checksum}):",
        spec.operations.len(),
        texts.len(),
        load.split_whitespace().next().unwrap_or("?"),
    );
    let round = ours.len() / ROUNDS;
    let quietest = |samples: &[f64]| {
        samples
            .chunks(round.max(1))
            .map(|chunk| percentiles(&mut chunk.to_vec()))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or((0.0, 0.0))
    };
    let (oq50, oq99) = quietest(&ours);
    let (bq50, bq99) = quietest(&base);
    let (cq50, cq99) = quietest(&control);
    let (c50, c99) = percentiles(&mut control);
    let (o50, o99) = percentiles(&mut ours);
    let (b50, b99) = percentiles(&mut base);
    println!(
        "  all samples    ours: p50 {o50:.1} us  p99 {o99:.1} us | bm25: p50 {b50:.1} us  p99 {b99:.1} us | ratio p50 {:.2}x p99 {:.2}x",
        o50 / b50.max(1e-9),
        o99 / b99.max(1e-9)
    );
    println!(
        "  noise control (busy loop of {CONTROL_US} us, interleaved): all samples p50 {c50:.1} us p99 {c99:.1} us | quietest round p50 {cq50:.1} us p99 {cq99:.1} us"
    );
    println!(
        "  quietest round ours: p50 {oq50:.1} us  p99 {oq99:.1} us | bm25: p50 {bq50:.1} us  p99 {bq99:.1} us | ratio p50 {:.2}x p99 {:.2}x",
        oq50 / bq50.max(1e-9),
        oq99 / bq99.max(1e-9)
    );
    println!();
    Ok(())
}

/// Busy-waits about `micros` and returns the measured duration: a workload that cannot vary,
/// so its tail shows how much of a p99 is the machine (preemption) rather than the code.
fn spin(micros: f64) -> f64 {
    let started = Instant::now();
    let mut counter = 0u64;
    while started.elapsed().as_secs_f64() * 1e6 < micros {
        counter = std::hint::black_box(counter + 1);
    }
    started.elapsed().as_secs_f64() * 1e6
}

fn percentiles(samples: &mut [f64]) -> (f64, f64) {
    samples.sort_by(f64::total_cmp);
    let at = |p: f64| samples[((samples.len() - 1) as f64 * p).round() as usize];
    (at(0.50), at(0.99))
}

/// Textbook BM25 over one bag of words per operation, for comparison.
struct Bm25 {
    terms: HashMap<String, Vec<(u32, u32)>>,
    lengths: Vec<f32>,
    average_length: f32,
}

const K1: f32 = 1.2;
const B: f32 = 0.75;

fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

impl Bm25 {
    fn build(spec: &Spec) -> Bm25 {
        let mut terms: HashMap<String, Vec<(u32, u32)>> = HashMap::new();
        let mut lengths = Vec::with_capacity(spec.operations.len());
        for (i, op) in spec.operations.iter().enumerate() {
            let opening = op
                .description
                .as_deref()
                .and_then(|d| d.split(". ").next())
                .unwrap_or("");
            let text = format!(
                "{} {} {} {} {} {}",
                op.method,
                op.path,
                op.operation_id.as_deref().unwrap_or(""),
                op.summary.as_deref().unwrap_or(""),
                opening,
                op.tags.join(" ")
            );
            let words = tokens(&text);
            lengths.push(words.len() as f32);
            let mut counts: HashMap<String, u32> = HashMap::new();
            for w in words {
                *counts.entry(w).or_default() += 1;
            }
            for (w, c) in counts {
                terms.entry(w).or_default().push((i as u32, c));
            }
        }
        let average_length = lengths.iter().sum::<f32>() / lengths.len().max(1) as f32;
        Bm25 {
            terms,
            lengths,
            average_length: average_length.max(1.0),
        }
    }

    fn memory_bytes(&self) -> usize {
        self.terms
            .iter()
            .map(|(k, v)| k.capacity() + v.capacity() * 8 + 48)
            .sum::<usize>()
            + self.lengths.capacity() * 4
    }

    fn search(&self, query: &str, limit: usize) -> Vec<(usize, f32)> {
        let n = self.lengths.len() as f32;
        let mut scores = vec![0f32; self.lengths.len()];
        let mut words = tokens(query);
        words.sort();
        words.dedup();
        for w in &words {
            let Some(postings) = self.terms.get(w) else {
                continue;
            };
            let df = postings.len() as f32;
            let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
            for &(op, tf) in postings {
                let tf = tf as f32;
                let norm = 1.0 - B + B * self.lengths[op as usize] / self.average_length;
                scores[op as usize] += idf * tf * (K1 + 1.0) / (tf + K1 * norm);
            }
        }
        let mut hits: Vec<(usize, f32)> = scores
            .into_iter()
            .enumerate()
            .filter(|&(_, s)| s > 0.0)
            .collect();
        hits.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        hits.truncate(limit);
        hits
    }

    fn rank_all<'q>(
        &self,
        queries: &'q [Query],
        api: &str,
        spec: &Spec,
        limit: usize,
    ) -> Vec<Ranked<'q>> {
        queries
            .iter()
            .filter(|q| q.api == api)
            .map(|query| Ranked {
                query,
                keys: self
                    .search(&query.text, limit)
                    .iter()
                    .map(|&(op, _)| spec.operations[op].key())
                    .collect(),
            })
            .collect()
    }
}
