//! Shared helpers for the integration tests: loading the real specs and running `tsc`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

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
    let bin = repo_root().join("node_modules/.bin");
    let tsc = bin.join("tsc");
    assert!(
        tsc.exists(),
        "TypeScript is not installed at {}: run `npm ci` at the repository root",
        tsc.display()
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("api.ts");
    let text = format!("{}{}", codemode_typescript::GLOBALS, declarations);
    std::fs::write(&file, text).expect("write api.ts");
    let path = match std::env::var_os("PATH") {
        Some(p) => {
            let mut paths = vec![bin.clone()];
            paths.extend(std::env::split_paths(&p));
            std::env::join_paths(paths).expect("PATH")
        }
        None => bin.clone().into_os_string(),
    };
    // Far above what tsc needs on the largest spec, even on a busy machine; a hung tsc fails
    // the test (naming the command) instead of the suite.
    let output = codemode_test_support::output_within(
        Command::new(&tsc)
            .env("PATH", path)
            .args([
                "--noEmit",
                "--strict",
                "--target",
                "es2022",
                "--skipLibCheck",
                "--pretty",
                "false",
            ])
            .arg(&file)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
        None,
        Duration::from_secs(600),
    );
    if output.status.success() {
        return String::new();
    }
    let mut report = String::from_utf8_lossy(&output.stdout).into_owned();
    report.push_str(&String::from_utf8_lossy(&output.stderr));
    if report.trim().is_empty() {
        report = format!("tsc failed ({}) without output for {label}", output.status);
    }
    // Keep the failing file around for a human to look at.
    let kept = std::env::temp_dir().join(format!("codemode-ts-{label}.ts"));
    let _ = std::fs::copy(&file, &kept);
    format!("{label} (file kept at {}):\n{report}", kept.display())
}
