//! `codemode inspect`: what a spec holds, for people or (with `--json`) for scripts.

use std::io::Write;
use std::process::ExitCode;

use clap::Args;
use codemode_engine::spec::{Operation, Spec};
use serde_json::json;

use crate::options::SpecSource;
use crate::spec_arg::SpecArg;

#[derive(Args, Debug)]
pub struct InspectArgs {
    #[command(flatten)]
    pub spec: SpecArg,
    /// Print JSON: one object, or with --operations one object per line.
    #[arg(long)]
    pub json: bool,
    /// List every operation instead of the summary.
    #[arg(long)]
    pub operations: bool,
    #[command(flatten)]
    pub source: SpecSource,
}

pub fn run(args: InspectArgs) -> anyhow::Result<ExitCode> {
    let loaded = args.source.load(args.spec.get())?;
    let spec = &loaded.spec;
    let mut out = crate::output::stdout();
    let result = match (args.operations, args.json) {
        (true, true) => spec
            .operations
            .iter()
            .try_for_each(|op| writeln!(out, "{}", operation_json(op))),
        (true, false) => spec
            .operations
            .iter()
            .try_for_each(|op| writeln!(out, "{}", operation_line(op))),
        (false, true) => writeln!(out, "{}", summary_json(spec, loaded.load_ms)),
        (false, false) => write!(out, "{}", summary_text(spec, loaded.load_ms)),
    };
    // A closed pipe (`| head`) ends quietly in `main`.
    result.and_then(|()| out.flush())?;
    Ok(ExitCode::SUCCESS)
}

fn operation_json(op: &Operation) -> serde_json::Value {
    json!({
        "name": op.name,
        "operationId": op.operation_id,
        "method": op.method.as_str(),
        "path": op.path,
        "summary": op.summary,
        "tags": op.tags,
    })
}

fn operation_line(op: &Operation) -> String {
    let summary = op.summary.as_deref().unwrap_or("");
    format!(
        "{:<40} {:<7} {}  {}",
        op.name,
        op.method.as_str(),
        op.path,
        summary
    )
}

fn summary_json(spec: &Spec, load_ms: f64) -> serde_json::Value {
    json!({
        "title": spec.title,
        "version": spec.version,
        "openapi": spec.source_version,
        "operations": spec.operations.len(),
        "paths": spec.path_count,
        "schemas": spec.schemas().len(),
        "servers": spec.servers.iter().map(|s| s.url.clone()).collect::<Vec<_>>(),
        "security_schemes": spec.security_schemes.keys().collect::<Vec<_>>(),
        "load_ms": (load_ms * 10.0).round() / 10.0,
        "warnings": spec.warnings.iter().map(|w| json!({"file": w.file, "pointer": w.pointer, "message": w.message})).collect::<Vec<_>>(),
    })
}

fn summary_text(spec: &Spec, load_ms: f64) -> String {
    let mut text = format!(
        "{} {} (source: {})\n  operations: {}\n  paths: {}\n  schemas: {}\n  loaded in {:.0} ms\n",
        spec.title,
        spec.version,
        if spec.source_version.starts_with('2') {
            format!("Swagger {}", spec.source_version)
        } else {
            format!("OpenAPI {}", spec.source_version)
        },
        spec.operations.len(),
        spec.path_count,
        spec.schemas().len(),
        load_ms
    );
    for server in &spec.servers {
        text.push_str(&format!("  server: {}\n", server.url));
    }
    for name in spec.security_schemes.keys() {
        text.push_str(&format!("  security scheme: {name}\n"));
    }
    if !spec.warnings.is_empty() {
        text.push_str(&format!("  {} warning(s):\n", spec.warnings.len()));
        for w in spec.warnings.iter().take(20) {
            text.push_str(&format!("    {w}\n"));
        }
        if spec.warnings.len() > 20 {
            text.push_str(&format!(
                "    … and {} more (see --json)\n",
                spec.warnings.len() - 20
            ));
        }
    }
    text
}
