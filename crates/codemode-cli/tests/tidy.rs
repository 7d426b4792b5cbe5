//! Tidy checks that keep the architecture true: the internal dependency graph is exactly the one
//! ARCHITECTURE.md draws, and every Rust source file opens with a `//!` doc comment.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The allowed internal edges: crate → the internal crates it may depend on (normal dependencies).
fn allowed_edges() -> BTreeMap<&'static str, BTreeSet<&'static str>> {
    let edges: [(&str, &[&str]); 8] = [
        ("codemode-spec", &[]),
        ("codemode-typescript", &["codemode-spec"]),
        ("codemode-search", &["codemode-spec"]),
        ("codemode-sandbox", &[]),
        ("codemode-upstream", &["codemode-spec"]),
        (
            "codemode-engine",
            &[
                "codemode-spec",
                "codemode-typescript",
                "codemode-search",
                "codemode-sandbox",
                "codemode-upstream",
            ],
        ),
        ("codemode-mcp", &["codemode-engine"]),
        ("codemode-cli", &["codemode-engine", "codemode-mcp"]),
    ];
    edges
        .into_iter()
        .map(|(k, v)| (k, v.iter().copied().collect()))
        .collect()
}

#[test]
fn internal_dependencies_point_one_way() {
    let output = std::process::Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(workspace_root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let allowed = allowed_edges();
    let mut seen = BTreeSet::new();
    for package in metadata["packages"].as_array().unwrap() {
        let name = package["name"].as_str().unwrap();
        seen.insert(name.to_string());
        let Some(allowed_deps) = allowed.get(name) else {
            panic!(
                "crate {name} is not in the architecture; add it to ARCHITECTURE.md and to this test"
            );
        };
        for dep in package["dependencies"].as_array().unwrap() {
            let dep_name = dep["name"].as_str().unwrap();
            let is_normal = dep["kind"].is_null();
            if dep_name.starts_with("codemode-") && is_normal {
                assert!(
                    allowed_deps.contains(dep_name),
                    "{name} must not depend on {dep_name} (see ARCHITECTURE.md, Code map)"
                );
            }
        }
    }
    for name in allowed.keys() {
        assert!(
            seen.contains(*name),
            "crate {name} is missing from the workspace"
        );
    }
}

#[test]
fn every_rust_file_opens_with_a_module_doc() {
    let mut missing = Vec::new();
    visit(&workspace_root().join("crates"), &mut |path| {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        if !first.starts_with("//!") {
            missing.push(path.display().to_string());
        }
    });
    assert!(
        missing.is_empty(),
        "these files do not open with a //! doc comment:\n{}",
        missing.join("\n")
    );
}

fn visit(dir: &Path, f: &mut dyn FnMut(&Path)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path
                .file_name()
                .is_some_and(|n| n == "target" || n == "node_modules")
            {
                continue;
            }
            visit(&path, f);
        } else if path.extension().is_some_and(|e| e == "rs") {
            f(&path);
        }
    }
}
