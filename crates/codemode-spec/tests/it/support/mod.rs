//! Shared test helpers: a compact, stable text dump of a loaded [`Spec`] for snapshot tests,
//! and helpers to load fixtures and scratch files.

#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use codemode_spec::{LoadOptions, MediaType, Operation, SecurityScheme, Spec, load};

pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Loads a fixture by file name; panics with the load error (this is a test).
pub fn load_fixture(name: &str) -> Spec {
    let path = fixtures_dir().join(name);
    match load(&path.to_string_lossy(), &LoadOptions::default()) {
        Ok(loaded) => loaded.spec,
        Err(e) => panic!("{name}: {e}"),
    }
}

/// Replaces machine-specific directories in a message with stable placeholders.
pub fn scrub(text: &str, dir: &Path) -> String {
    let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    text.replace(&canonical.to_string_lossy().into_owned(), "<dir>")
        .replace(&dir.to_string_lossy().into_owned(), "<dir>")
}

/// A compact dump: one line per fact, schemas as compact JSON, warnings last.
pub fn dump(spec: &Spec) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} (from {})",
        spec.title, spec.version, spec.source_version
    );
    for server in &spec.servers {
        let _ = writeln!(out, "server {}", server.default_url());
    }
    for (name, scheme) in &spec.security_schemes {
        let _ = writeln!(out, "scheme {name}: {}", scheme_text(scheme));
    }
    for requirement in &spec.security {
        let _ = writeln!(out, "security {}", requirement_text(requirement));
    }
    for op in &spec.operations {
        dump_operation(&mut out, op);
    }
    for (name, schema) in spec.schemas() {
        let _ = writeln!(out, "schema {name} = {schema}");
    }
    let fixtures = fixtures_dir();
    for warning in &spec.warnings {
        let _ = writeln!(out, "warning {}", scrub(&warning.to_string(), &fixtures));
    }
    out
}

fn scheme_text(scheme: &SecurityScheme) -> String {
    format!("{scheme:?}")
}

fn requirement_text(requirement: &codemode_spec::SecurityRequirement) -> String {
    let parts: Vec<String> = requirement
        .iter()
        .map(|(name, scopes)| format!("{name}{scopes:?}"))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

fn dump_operation(out: &mut String, op: &Operation) {
    let id = op.operation_id.as_deref().unwrap_or("-");
    let _ = writeln!(out, "op {} = {} (operationId {id})", op.name, op.key());
    for p in &op.parameters {
        let _ = writeln!(
            out,
            "  param {} {}{} style={:?} explode={} schema={}",
            p.location,
            p.name,
            if p.required { " required" } else { "" },
            p.style,
            p.explode,
            p.schema
        );
    }
    if let Some(body) = &op.request_body {
        let required = if body.required { " required" } else { "" };
        let _ = writeln!(out, "  body{required}");
        for m in &body.content {
            dump_media(out, m);
        }
    }
    match &op.success {
        Some(r) if r.is_empty() => {
            let _ = writeln!(out, "  success {} (no content)", r.status);
        }
        Some(r) => {
            let _ = writeln!(out, "  success {}", r.status);
            for m in &r.content {
                dump_media(out, m);
            }
        }
        None => {
            let _ = writeln!(out, "  success none");
        }
    }
    if let Some(security) = &op.security {
        let parts: Vec<String> = security.iter().map(requirement_text).collect();
        let _ = writeln!(out, "  security [{}]", parts.join(", "));
    }
}

fn dump_media(out: &mut String, m: &MediaType) {
    let _ = writeln!(out, "    {} {:?} {}", m.media_type, m.kind, m.schema);
    for (name, encoding) in &m.encoding {
        let _ = writeln!(out, "      encoding {name} {encoding}");
    }
}
