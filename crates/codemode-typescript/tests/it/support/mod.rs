//! Shared helpers for the integration tests: loading the real specs and running `tsc`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use codemode_spec::{LoadOptions, Spec};

pub fn specs_dir() -> PathBuf {
    codemode_test_support::specs_dir()
}

fn repo_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

pub fn load_real(file: &str) -> Spec {
    let path = specs_dir().join(file);
    let loaded = codemode_spec::load(&path.to_string_lossy(), &LoadOptions::default());
    match loaded {
        Ok(loaded) => loaded.spec,
        Err(e) => panic!("cannot load {}: {e}", path.display()),
    }
}

/// DigitalOcean's multi-file spec, extracted into `dir`.
pub fn load_digitalocean(dir: &Path) -> Spec {
    let archive = specs_dir().join("digitalocean-openapi.tar.gz");
    let file = std::fs::File::open(&archive)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", archive.display()));
    tar::Archive::new(flate2::read::GzDecoder::new(file))
        .unpack(dir)
        .unwrap_or_else(|e| panic!("cannot extract {}: {e}", archive.display()));
    let root = dir.join("digitalocean-openapi/specification/DigitalOcean-public.v2.yaml");
    match codemode_spec::load(&root.to_string_lossy(), &LoadOptions::default()) {
        Ok(loaded) => loaded.spec,
        Err(e) => panic!("cannot load {}: {e}", root.display()),
    }
}

pub fn fixture(name: &str, text: &str) -> Spec {
    codemode_spec::load_str(name, text).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// Type-checks `declarations` together with the sandbox globals under `tsc --noEmit --strict`
/// (default libraries, DOM included, so generated names must not clash with any global).
/// Returns tsc's diagnostics; empty means it compiled.
pub fn tsc_errors(label: &str, declarations: &str) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("api.ts");
    let text = format!("{}{}", codemode_typescript::GLOBALS, declarations);
    std::fs::write(&file, text).expect("write api.ts");
    let report = codemode_test_support::tsc_errors(&[&file], &["--skipLibCheck"]);
    if report.is_empty() {
        return report;
    }
    let report = format!("{label}: {report}");
    // Keep the failing file around for a human to look at.
    let kept = std::env::temp_dir().join(format!("codemode-ts-{label}.ts"));
    let _ = std::fs::copy(&file, &kept);
    format!("{label} (file kept at {}):\n{report}", kept.display())
}
