//! The development query set (`api<TAB>query<TAB>gold` lines) and the real specs it is about:
//! loading both, ranking every query, and the metrics of `shared/search-eval.py`. Shared by the
//! `eval` example and the dev-set regression test.

#![allow(dead_code)] // Each includer uses a different part.

use std::collections::BTreeMap;
use std::path::Path;

use codemode_search::{Index, SearchOptions};
use codemode_spec::{LoadOptions, Spec};

pub type Error = Box<dyn std::error::Error>;

pub struct Query {
    pub api: String,
    pub text: String,
    /// Gold operations as `METHOD /path`; any of them counts as a hit.
    pub gold: Vec<String>,
}

/// One query's ranking: our top operations as `METHOD /path`, best first.
pub struct Ranked<'q> {
    pub query: &'q Query,
    pub keys: Vec<String>,
}

impl Ranked<'_> {
    /// 0-based rank of the first gold operation, if any is ranked.
    pub fn gold_rank(&self) -> Option<usize> {
        self.keys.iter().position(|k| self.query.gold.contains(k))
    }
}

pub fn read_queries(path: &Path) -> Result<Vec<Query>, Error> {
    let text = std::fs::read_to_string(path)?;
    let mut out = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let parts: Vec<&str> = line.split('\t').collect();
        let [api, query, gold] = parts[..] else {
            return Err(format!("expected 3 tab-separated fields in {line:?}").into());
        };
        out.push(Query {
            api: api.to_string(),
            text: query.to_string(),
            gold: gold
                .split(" | ")
                .map(|g| g.split_whitespace().collect::<Vec<_>>().join(" "))
                .filter(|g| !g.is_empty())
                .collect(),
        });
    }
    Ok(out)
}

/// Loads the spec of every API the queries mention, in name order, two at a time (parsing the
/// large specs dominates the dev-set test's run time).
pub fn load_specs(queries: &[Query], specs_dir: &Path) -> Result<Vec<(String, Spec)>, Error> {
    let scratch = tempfile::tempdir()?;
    let mut apis: Vec<&str> = queries.iter().map(|q| q.api.as_str()).collect();
    apis.sort_unstable();
    apis.dedup();
    let (even, odd): (Vec<_>, Vec<_>) = apis.iter().enumerate().partition(|(i, _)| i % 2 == 0);
    let load_list = |list: Vec<(usize, &&str)>| -> Result<Vec<(usize, String, Spec)>, String> {
        list.into_iter()
            .map(|(i, api)| {
                let spec = load_spec(api, specs_dir, scratch.path()).map_err(|e| e.to_string())?;
                Ok((i, api.to_string(), spec))
            })
            .collect()
    };
    let (first, second) = std::thread::scope(|scope| {
        let handle = scope.spawn(|| load_list(odd));
        let first = load_list(even);
        let second = handle
            .join()
            .unwrap_or_else(|_| Err("spec loading thread panicked".to_string()));
        (first, second)
    });
    let mut all = first?;
    all.extend(second?);
    all.sort_by_key(|(i, _, _)| *i);
    Ok(all.into_iter().map(|(_, api, spec)| (api, spec)).collect())
}

/// The spec of an API name of the query set.
pub fn load_spec(api: &str, specs_dir: &Path, scratch: &Path) -> Result<Spec, Error> {
    let path = match api {
        "github" => specs_dir.join("github-api.github.com.json.gz"),
        "cloudflare" => specs_dir.join("cloudflare-openapi.json"),
        "stripe" => specs_dir.join("stripe-spec3.yaml"),
        "kubernetes" => specs_dir.join("kubernetes-swagger.json"),
        "openai" => specs_dir.join("openai-openapi.yaml"),
        "discord" => specs_dir.join("discord-openapi.json"),
        // The dev set's gold paths (`/pet/{petId}`) are the OpenAPI 3 petstore's.
        "petstore" => specs_dir.join("petstore3-openapi.yaml"),
        "digitalocean" => {
            let archive = std::fs::File::open(specs_dir.join("digitalocean-openapi.tar.gz"))?;
            tar::Archive::new(flate2::read::GzDecoder::new(archive)).unpack(scratch)?;
            scratch.join("digitalocean-openapi/specification/DigitalOcean-public.v2.yaml")
        }
        other => return Err(format!("unknown api {other:?}").into()),
    };
    let path = path.to_str().ok_or("spec path is not UTF-8")?;
    Ok(codemode_spec::load(path, &LoadOptions::default())?.spec)
}

/// Ranks every query of `api` with `index`, top `limit`.
pub fn rank_all<'q>(
    queries: &'q [Query],
    api: &str,
    spec: &Spec,
    index: &Index,
    limit: usize,
) -> Result<Vec<Ranked<'q>>, Error> {
    let options = SearchOptions {
        limit,
        ..SearchOptions::default()
    };
    let mut out = Vec::new();
    for query in queries.iter().filter(|q| q.api == api) {
        let hits = index.search(&query.text, &options)?;
        let keys = hits
            .iter()
            .map(|h| spec.operation(h.operation).key())
            .collect();
        out.push(Ranked { query, keys });
    }
    Ok(out)
}

/// hit@1, recall@5, recall@10 and MRR@10, as `search-eval.py` computes them.
#[derive(Debug, Default, Clone, Copy)]
pub struct Metrics {
    pub queries: usize,
    pub hit1: f64,
    pub recall5: f64,
    pub recall10: f64,
    pub mrr: f64,
}

impl Metrics {
    pub fn of(ranked: &[Ranked<'_>]) -> Metrics {
        let n = ranked.len().max(1) as f64;
        let mut m = Metrics {
            queries: ranked.len(),
            ..Metrics::default()
        };
        for r in ranked {
            if let Some(rank) = r.gold_rank().filter(|&r| r < 10) {
                m.hit1 += f64::from(u8::from(rank == 0)) / n;
                m.recall5 += f64::from(u8::from(rank < 5)) / n;
                m.recall10 += 1.0 / n;
                m.mrr += 1.0 / (rank as f64 + 1.0) / n;
            }
        }
        m
    }

    /// Overall metrics plus recall@5 per API.
    pub fn by_api(ranked: &[Ranked<'_>]) -> (Metrics, BTreeMap<String, Metrics>) {
        let mut groups: BTreeMap<String, Vec<&Ranked<'_>>> = BTreeMap::new();
        for r in ranked {
            groups.entry(r.query.api.clone()).or_default().push(r);
        }
        let per_api = groups
            .into_iter()
            .map(|(api, list)| {
                let owned: Vec<Ranked<'_>> = list
                    .into_iter()
                    .map(|r| Ranked {
                        query: r.query,
                        keys: r.keys.clone(),
                    })
                    .collect();
                (api, Metrics::of(&owned))
            })
            .collect();
        (Metrics::of(ranked), per_api)
    }
}
