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
    let edges: [(&str, &[&str]); 10] = [
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
        // Knows tokens and keys only: no MCP, HTTP server, engine or CLI.
        ("codemode-auth", &[]),
        ("codemode-mcp", &["codemode-engine", "codemode-auth"]),
        ("codemode-cli", &["codemode-engine", "codemode-mcp"]),
        // Test-only: a dev-dependency of the others, depending on none of them.
        ("codemode-test-support", &[]),
    ];
    edges
        .into_iter()
        .map(|(k, v)| (k, v.iter().copied().collect()))
        .collect()
}

#[test]
fn internal_dependencies_point_one_way() {
    let metadata = metadata(false);
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

/// Modules inside a crate depend on each other one way, as crates do (issue 21): a cycle
/// between two top-level modules (`client` uses `transport`, which uses `client`) means neither
/// can be read or changed alone. The crate root is left out: it declares and re-exports
/// everything, and an item defined there is shared by design. A path through the root's
/// re-exports (`use crate::CallError`) counts as an edge to the module that defines the item.
#[test]
fn modules_inside_a_crate_depend_on_each_other_one_way() {
    let mut cycles = Vec::new();
    for crate_dir in crate_dirs() {
        let src = crate_dir.join("src");
        let root = ["lib.rs", "main.rs"]
            .iter()
            .map(|f| src.join(f))
            .find(|p| p.is_file())
            .expect("a crate has src/lib.rs or src/main.rs");
        let graph = module_graph(&src, &root);
        if let Some(cycle) = find_cycle(&graph) {
            cycles.push(format!(
                "{}: {}",
                crate_dir.file_name().unwrap().to_string_lossy(),
                cycle.join(" → ")
            ));
        }
    }
    assert!(
        cycles.is_empty(),
        "module cycles (move what both need into a module of its own, or merge them):\n{}",
        cycles.join("\n")
    );
}

fn crate_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(workspace_root().join("crates"))
        .expect("crates/ is readable")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .collect();
    dirs.sort();
    dirs
}

/// Top-level module → the top-level modules its code names (through `crate::` paths).
fn module_graph(src: &Path, root: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let root_text = code_only(&std::fs::read_to_string(root).unwrap_or_default());
    let modules: BTreeSet<String> = declared_modules(&root_text);
    // Names the root brings into `crate::` scope with `use module::…` → that module.
    let mut reexports = BTreeMap::new();
    for path in use_paths(&root_text) {
        if let [first, .., last] = path.as_slice()
            && modules.contains(first)
        {
            reexports.insert(last.clone(), first.clone());
        }
    }
    let mut test_files = BTreeSet::new();
    visit(src, &mut |path| test_files.extend(test_module_files(path)));
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    visit(src, &mut |path| {
        if test_files.contains(path) {
            return;
        }
        let Some(module) = top_level_module(src, path) else {
            return;
        };
        let text = code_only(&std::fs::read_to_string(path).unwrap_or_default());
        let mut named = BTreeSet::new();
        for path in use_paths(&text) {
            if path.first().is_some_and(|s| s == "crate")
                && let Some(second) = path.get(1)
            {
                named.insert(second.clone());
            }
        }
        for (i, _) in text.match_indices("crate::") {
            let rest = &text[i + "crate::".len()..];
            let ident: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !ident.is_empty() {
                named.insert(ident);
            }
        }
        let edges = graph.entry(module.clone()).or_default();
        for name in named {
            let target = if modules.contains(&name) {
                Some(name)
            } else {
                reexports.get(&name).cloned()
            };
            if let Some(target) = target
                && target != module
            {
                edges.insert(target);
            }
        }
    });
    graph
}

/// The files of the modules a file declares under `#[cfg(test)]` (`#[cfg(test)] mod tests;` in
/// `src/a.rs` is `src/a/tests.rs` or `src/a/tests/mod.rs`): test code, like a test tail.
fn test_module_files(path: &Path) -> Vec<PathBuf> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let parent = path.parent().unwrap_or(Path::new(""));
    let dir = if matches!(&*stem, "mod" | "lib" | "main") {
        parent.to_path_buf()
    } else {
        parent.join(&*stem)
    };
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    lines
        .windows(2)
        .filter(|pair| pair[0] == "#[cfg(test)]")
        .filter_map(|pair| pair[1].strip_prefix("mod ")?.strip_suffix(';'))
        .flat_map(|name| {
            [
                dir.join(format!("{name}.rs")),
                dir.join(name).join("mod.rs"),
            ]
        })
        .collect()
}

/// The top-level module a source file belongs to (`src/a.rs`, `src/a/mod.rs` and `src/a/b.rs`
/// are all `a`); `None` for the crate root and for `src/bin/*` (crates of their own).
fn top_level_module(src: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(src).ok()?;
    let first = relative.components().next()?.as_os_str().to_string_lossy();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_string();
    (!matches!(name.as_str(), "lib" | "main" | "bin")).then_some(name)
}

/// The code of a file without comments and without its `#[cfg(test)]` tail (test modules
/// reach into their parent by design).
fn code_only(text: &str) -> String {
    let before_tests = text.split("#[cfg(test)]").next().unwrap_or("");
    before_tests
        .lines()
        .map(|line| match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn declared_modules(root_text: &str) -> BTreeSet<String> {
    root_text
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            let rest = line
                .strip_prefix("pub mod ")
                .or_else(|| line.strip_prefix("pub(crate) mod "))
                .or_else(|| line.strip_prefix("mod "))?;
            rest.strip_suffix(';').map(|name| name.trim().to_string())
        })
        .collect()
}

/// Every path of every `use` item, with `{…}` groups expanded and `as` renames dropped:
/// `use crate::{a::X, b::{Y, Z}};` gives `crate a X`, `crate b Y`, `crate b Z`.
fn use_paths(text: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let mut rest = text;
    while let Some(i) = find_use_keyword(rest) {
        let after = &rest[i + "use ".len()..];
        let Some(end) = after.find(';') else {
            break;
        };
        expand_use_tree(&after[..end], &mut Vec::new(), &mut paths);
        rest = &after[end..];
    }
    paths
}

/// The byte offset of the next `use ` that starts an item (at a line start, after optional
/// visibility), not a word inside an identifier or a string.
fn find_use_keyword(text: &str) -> Option<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let visibility = ["pub(crate) ", "pub(super) ", "pub "]
            .iter()
            .find(|v| trimmed.starts_with(**v))
            .map_or(0, |v| v.len());
        if trimmed[visibility..].starts_with("use ") {
            return Some(offset + indent + visibility);
        }
        offset += line.len();
    }
    None
}

fn expand_use_tree(tree: &str, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let head: Vec<String> = tree[..open]
            .split("::")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let depth = prefix.len();
        prefix.extend(head);
        for part in split_top_level(inner) {
            expand_use_tree(part, prefix, out);
        }
        prefix.truncate(depth);
    } else {
        let name = tree.split(" as ").next().unwrap_or("").trim();
        if name.is_empty() {
            return;
        }
        let mut path = prefix.clone();
        path.extend(name.split("::").map(|s| s.trim().to_string()));
        out.push(path);
    }
}

/// `a, b::{c, d}, e` split at the commas outside braces.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// One cycle of the graph as a path that starts and ends at the same module, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn walk(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = walk(next, graph, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| walk(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_cycle_finder_finds_cycles_and_only_cycles() {
    let graph = |edges: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in edges {
            g.entry(a.to_string()).or_default().insert(b.to_string());
        }
        g
    };
    assert_eq!(
        find_cycle(&graph(&[("client", "transport"), ("transport", "client")])),
        Some(vec!["client".into(), "transport".into(), "client".into()])
    );
    assert_eq!(
        find_cycle(&graph(&[("a", "b"), ("b", "c"), ("a", "c")])),
        None
    );
    let paths = use_paths("use crate::{a::X, b::{Y, Z as W}};\npub use c::Q;\n");
    assert_eq!(
        paths,
        vec![
            vec!["crate", "a", "X"],
            vec!["crate", "b", "Y"],
            vec!["crate", "b", "Z"],
            vec!["c", "Q"]
        ]
    );
}

/// `cargo metadata` for the workspace, with the resolved dependency graph when `resolve`.
fn metadata(resolve: bool) -> serde_json::Value {
    let mut args = vec!["metadata", "--format-version", "1", "--offline"];
    let host;
    if resolve {
        // Only this machine's platform: other platforms' crates may never have been downloaded.
        host = host_triple();
        args.extend(["--filter-platform", host.as_str()]);
    } else {
        args.push("--no-deps");
    }
    let output = run_within_limit(
        std::process::Command::new(env!("CARGO"))
            .args(&args)
            .current_dir(workspace_root()),
    );
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON")
}

/// Runs `command` with its output collected, failing the test (naming the command) if it has not
/// ended within two minutes: cargo can wait on a lock another build holds.
fn run_within_limit(command: &mut std::process::Command) -> std::process::Output {
    codemode_test_support::output_within(
        command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped()),
        None,
        std::time::Duration::from_secs(120),
    )
}

fn host_triple() -> String {
    let output = run_within_limit(std::process::Command::new("rustc").arg("-vV"));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .to_string()
}

fn workspace_packages(metadata: &serde_json::Value) -> impl Iterator<Item = &serde_json::Value> {
    metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter(|p| p["source"].is_null())
}

/// Library crates return typed errors a caller can match on; `anyhow` is for the binary's edge
/// (ripgrep and axum keep it out of their libraries too).
#[test]
fn library_crates_do_not_depend_on_anyhow() {
    let metadata = metadata(false);
    let mut offenders = Vec::new();
    for package in workspace_packages(&metadata) {
        let has_lib = package["targets"].as_array().unwrap().iter().any(|t| {
            t["kind"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k == "lib" || k == "rlib")
        });
        let uses_anyhow = package["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["name"] == "anyhow" && d["kind"].is_null());
        if has_lib && uses_anyhow {
            offenders.push(package["name"].as_str().unwrap().to_string());
        }
    }
    assert!(
        offenders.is_empty(),
        "library crates with anyhow as a normal dependency (use typed errors; anyhow may stay a \
         dev-dependency): {offenders:?}"
    );
}

/// `cargo build --release` builds exactly one binary, `codemode`. A test fixture binary must sit
/// behind a feature that only the tests turn on (`required-features`), and library code must
/// not pull test sources in with `#[path = "../tests/…"]`.
#[test]
fn release_builds_carry_no_test_code() {
    let metadata = metadata(false);
    for package in workspace_packages(&metadata) {
        let name = package["name"].as_str().unwrap();
        for target in package["targets"].as_array().unwrap() {
            let is_bin = target["kind"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k == "bin");
            let gated = target["required-features"]
                .as_array()
                .is_some_and(|f| !f.is_empty());
            let target_name = target["name"].as_str().unwrap();
            assert!(
                !is_bin || target_name == "codemode" || gated,
                "{name}'s binary {target_name} is built by every release build; gate it behind \
                 a test-only feature with required-features"
            );
        }
    }
    let mut offenders = Vec::new();
    for crate_dir in crate_dirs() {
        let src = crate_dir.join("src");
        visit(&src, &mut |path| {
            // Fixture binaries are gated above; the libraries and `codemode` must stay clean.
            if path.strip_prefix(&src).is_ok_and(|p| p.starts_with("bin")) {
                return;
            }
            let text = std::fs::read_to_string(path).unwrap_or_default();
            if text
                .lines()
                .any(|l| l.trim_start().starts_with("#[path") && l.contains("tests/"))
            {
                offenders.push(path.display().to_string());
            }
        });
    }
    assert!(
        offenders.is_empty(),
        "library or binary sources that include test files: {offenders:?}"
    );
}

/// TLS uses rustls with ring (see the workspace Cargo.toml): aws-lc-rs, whose C build needs
/// cmake, must not come back through a new dependency, feature or dev-dependency. Cargo.lock
/// lists every package any target, feature or platform of the workspace can build, so it is the
/// file to check (a superset of any one resolve), not `cargo tree`.
#[test]
fn no_package_builds_aws_lc() {
    let lock = std::fs::read_to_string(workspace_root().join("Cargo.lock")).expect("Cargo.lock");
    let offenders: Vec<&str> = lock
        .lines()
        .filter_map(|l| l.strip_prefix("name = \"")?.strip_suffix('"'))
        .filter(|name| ["aws-lc-sys", "aws-lc-rs", "cmake"].contains(name))
        .collect();
    assert!(
        offenders.is_empty(),
        "Cargo.lock has {offenders:?}: some dependency turned on aws-lc-rs (reqwest's `rustls` \
         feature, rustls' or rcgen's default features); use `rustls-no-provider` / `ring`"
    );
}

/// The model, the declarations and the ranking are pure text: they must build without an HTTP
/// stack (no reqwest, hyper, rustls, aws-lc), so an embedder who only searches a spec compiles
/// none of it, and nothing at the bottom can do network IO.
#[test]
fn pure_crates_compile_no_http_stack() {
    let metadata = metadata(true);
    let packages: BTreeMap<&str, &serde_json::Value> = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p))
        .collect();
    let nodes: BTreeMap<&str, &serde_json::Value> = metadata["resolve"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["id"].as_str().unwrap(), n))
        .collect();
    let forbidden = [
        "reqwest",
        "hyper",
        "rustls",
        "aws-lc-sys",
        "aws-lc-rs",
        "ureq",
    ];
    for pure in ["codemode-spec", "codemode-typescript", "codemode-search"] {
        let start = packages
            .iter()
            .find(|(_, p)| p["name"] == pure && p["source"].is_null())
            .map(|(id, _)| *id)
            .unwrap_or_else(|| panic!("{pure} is in the workspace"));
        let mut seen = BTreeSet::new();
        let mut stack = vec![start];
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            let name = packages[id]["name"].as_str().unwrap();
            assert!(
                !forbidden.contains(&name),
                "{pure} pulls in {name} as a normal dependency; the pure crates must not do IO \
                 over the network"
            );
            for dep in nodes[id]["deps"].as_array().unwrap() {
                let normal = dep["dep_kinds"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|k| k["kind"].is_null());
                if normal {
                    stack.push(dep["pkg"].as_str().unwrap());
                }
            }
        }
    }
}
