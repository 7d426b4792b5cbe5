//! Per real spec: o200k tokens of a single-operation declaration (the signature alone, and with
//! the types it reaches at the default depth 4, and under a 2,000-token budget), and the time to
//! generate one. Baseline, measured in the same run: the compact JSON of the same operation plus
//! the component schemas it reaches (depth 4), i.e. what an agent would read without us.
//!
//! `cargo bench -p codemode-typescript --bench declarations [-- <spec file name filter>]`

use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::time::Instant;

use codemode_spec::{LoadOptions, Operation, SCHEMA_REF_PREFIX, Spec, unescape_pointer_token};
use codemode_typescript::{
    DeclareOptions, count_tokens, declare_operation_signature, declare_operations,
};
use serde_json::{Value, json};

const SPECS: &[&str] = &[
    "petstore3-openapi.yaml",
    "github-api.github.com.json.gz",
    "stripe-spec3.yaml",
    "kubernetes-swagger.json",
    "openai-openapi.yaml",
    "discord-openapi.json",
    "cloudflare-openapi.json",
    "digitalocean-openapi.tar.gz",
];

fn main() {
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let specs_dir = codemode_test_support::specs_dir();
    println!(
        "| spec | ops | signature tokens med/p95/max | depth-4 tokens med/p95/max | budget-2000 tokens med/p95/max | baseline JSON tokens med | depth-4 / JSON | time per op med/p95 (µs) | baseline time med (µs) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for file in SPECS {
        if filter.as_deref().is_some_and(|f| !file.contains(f)) {
            continue;
        }
        let scratch = tempfile_dir();
        let Some(spec) = load(&specs_dir, file, &scratch) else {
            println!("| {file} | (not loadable) |");
            continue;
        };
        bench_spec(file, &spec);
        let _ = std::fs::remove_dir_all(&scratch);
    }
}

fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("codemode-ts-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    dir
}

fn load(specs_dir: &Path, file: &str, scratch: &Path) -> Option<Spec> {
    let path = if file.ends_with(".tar.gz") {
        let archive = std::fs::File::open(specs_dir.join(file)).ok()?;
        tar::Archive::new(flate2::read::GzDecoder::new(archive))
            .unpack(scratch)
            .ok()?;
        scratch.join("digitalocean-openapi/specification/DigitalOcean-public.v2.yaml")
    } else {
        specs_dir.join(file)
    };
    codemode_spec::load(&path.to_string_lossy(), &LoadOptions::default())
        .ok()
        .map(|l| l.spec)
}

fn bench_spec(file: &str, spec: &Spec) {
    let default = DeclareOptions::default();
    let budgeted = DeclareOptions {
        token_budget: Some(2000),
        ..DeclareOptions::default()
    };
    // Warm the tokenizer so its one-time construction is not charged to the first operation.
    count_tokens("warm up");
    let mut signature_tokens = Vec::new();
    let mut depth_tokens = Vec::new();
    let mut budget_tokens = Vec::new();
    let mut baseline_tokens = Vec::new();
    let mut micros = Vec::new();
    let mut baseline_micros = Vec::new();
    for op in &spec.operations {
        signature_tokens.push(count_tokens(&declare_operation_signature(
            spec, op, &default,
        )));
        let started = Instant::now();
        let declared = declare_operations(spec, &[op], &default);
        micros.push(started.elapsed().as_secs_f64() * 1e6);
        depth_tokens.push(declared.tokens);
        budget_tokens.push(declare_operations(spec, &[op], &budgeted).tokens);
        let started = Instant::now();
        let json = baseline_json(spec, op, 4);
        let tokens = count_tokens(&json);
        baseline_micros.push(started.elapsed().as_secs_f64() * 1e6);
        baseline_tokens.push(tokens);
    }
    let ratio = median_f(&depth_tokens.iter().map(|&t| t as f64).collect::<Vec<_>>())
        / median_f(
            &baseline_tokens
                .iter()
                .map(|&t| t as f64)
                .collect::<Vec<_>>(),
        )
        .max(1.0);
    println!(
        "| {file} | {} | {} | {} | {} | {} | {ratio:.2} | {:.0} / {:.0} | {:.0} |",
        spec.operations.len(),
        stats(&mut signature_tokens),
        stats(&mut depth_tokens),
        stats(&mut budget_tokens),
        median(&mut baseline_tokens),
        median_f(&micros),
        percentile_f(&micros, 0.95),
        median_f(&baseline_micros),
    );
}

/// The operation's own JSON (parameters, body and success schemas) plus every component schema
/// it reaches within `depth` reference hops, compact.
fn baseline_json(spec: &Spec, op: &Operation, depth: usize) -> String {
    let parameters: Vec<Value> = op
        .parameters
        .iter()
        .map(|p| json!({"name": p.name, "in": p.location.as_str(), "required": p.required, "description": p.description, "schema": p.schema}))
        .collect();
    let body = op
        .request_body
        .as_ref()
        .and_then(|b| b.preferred())
        .map(|m| m.schema.clone());
    let response = op
        .success
        .as_ref()
        .and_then(|r| r.preferred())
        .map(|m| m.schema.clone());
    let own = json!({"operationId": op.operation_id, "method": op.method.as_str(), "path": op.path,
        "summary": op.summary, "description": op.description, "parameters": parameters,
        "requestBody": body, "response": response});
    let mut schemas = serde_json::Map::new();
    let mut queue: VecDeque<(String, usize)> = VecDeque::new();
    let mut seen = HashSet::new();
    let mut found = Vec::new();
    collect_refs(&own, &mut found);
    for name in found.drain(..) {
        if seen.insert(name.clone()) {
            queue.push_back((name, 1));
        }
    }
    while let Some((name, level)) = queue.pop_front() {
        if level > depth {
            continue;
        }
        if let Some(schema) = spec.schemas().get(&name) {
            schemas.insert(name.clone(), schema.clone());
            collect_refs(schema, &mut found);
            for next in found.drain(..) {
                if seen.insert(next.clone()) {
                    queue.push_back((next, level + 1));
                }
            }
        }
    }
    serde_json::to_string(&json!({"operation": own, "schemas": schemas})).unwrap_or_default()
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if key == "$ref"
                    && let Some(name) = child
                        .as_str()
                        .and_then(|r| r.strip_prefix(SCHEMA_REF_PREFIX))
                {
                    out.push(unescape_pointer_token(name));
                } else {
                    collect_refs(child, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_refs(i, out)),
        _ => {}
    }
}

fn stats(values: &mut [usize]) -> String {
    values.sort_unstable();
    if values.is_empty() {
        return "-".into();
    }
    let p95 = values[((values.len() as f64 * 0.95).ceil() as usize).clamp(1, values.len()) - 1];
    format!(
        "{} / {} / {}",
        values[values.len() / 2],
        p95,
        values[values.len() - 1]
    )
}

fn median(values: &mut [usize]) -> usize {
    values.sort_unstable();
    values.get(values.len() / 2).copied().unwrap_or(0)
}

fn median_f(values: &[f64]) -> f64 {
    percentile_f(values, 0.5)
}

fn percentile_f(values: &[f64], p: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}
