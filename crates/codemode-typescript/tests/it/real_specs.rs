//! The real specs (`codemode_test_support::specs_dir`): declaring every operation of each must pass
//! `tsc --noEmit --strict` with zero errors, and chosen operations are pinned as snapshots
//! (`UPDATE_EXPECT=1 cargo test -p codemode-typescript` rewrites them).

use crate::support;
use std::sync::OnceLock;

use codemode_spec::Spec;
use codemode_typescript::{DeclareOptions, declare_all, declare_operations};
use expect_test::{ExpectFile, expect_file};

/// Each spec is loaded once per test binary (loading is the slow part of a debug build).
macro_rules! cached_spec {
    ($fn_name:ident, $file:expr) => {
        fn $fn_name() -> &'static Spec {
            static SPEC: OnceLock<Spec> = OnceLock::new();
            SPEC.get_or_init(|| support::load_real($file))
        }
    };
}

cached_spec!(github, "github-api.github.com.json.gz");
cached_spec!(stripe, "stripe-spec3.yaml");
cached_spec!(kubernetes, "kubernetes-swagger.json");
cached_spec!(openai, "openai-openapi.yaml");
cached_spec!(discord, "discord-openapi.json");

fn compiles(label: &str, declarations: &str) {
    let errors = support::tsc_errors(label, declarations);
    let shown: Vec<&str> = errors.lines().take(40).collect();
    assert!(errors.is_empty(), "{}", shown.join("\n"));
}

fn check_all(label: &str, spec: &Spec) {
    let text = declare_all(spec);
    assert!(
        text.starts_with("interface Api {\n"),
        "{label}: no Api interface"
    );
    for op in &spec.operations {
        assert!(
            text.contains(&format!("  {}(", op.name)),
            "{label}: {} is not declared",
            op.name
        );
    }
    compiles(label, &text);
}

/// One operation at depth 1 (deeper types are stubs), pinned and type-checked.
fn snapshot(spec: &Spec, operation: &str, expected: ExpectFile) {
    let op = spec
        .find(operation)
        .unwrap_or_else(|| panic!("no operation {operation}"));
    let options = DeclareOptions {
        max_depth: 1,
        ..DeclareOptions::default()
    };
    let declarations = declare_operations(spec, &[op], &options);
    assert_eq!(declarations.operations, vec![op.name.clone()]);
    expected.assert_eq(&declarations.text);
    compiles(operation, &declarations.text);
}

#[test]
fn github_all_compiles() {
    check_all("github", github());
}

#[test]
fn stripe_all_compiles() {
    check_all("stripe", stripe());
}

#[test]
fn kubernetes_all_compiles() {
    check_all("kubernetes", kubernetes());
}

#[test]
fn openai_all_compiles() {
    check_all("openai", openai());
}

#[test]
fn discord_all_compiles() {
    check_all("discord", discord());
}

#[test]
fn cloudflare_all_compiles() {
    check_all("cloudflare", &support::load_real("cloudflare-openapi.json"));
}

#[test]
fn petstores_all_compile() {
    check_all("petstore2", &support::load_real("petstore-swagger2.json"));
    check_all("petstore3", &support::load_real("petstore3-openapi.yaml"));
}

#[test]
fn digitalocean_all_compiles() {
    let dir = tempfile::tempdir().expect("temp dir");
    check_all("digitalocean", &support::load_digitalocean(dir.path()));
}

#[test]
fn github_merge_a_pull_request() {
    snapshot(
        github(),
        "pulls/merge",
        expect_file!["../snapshots/github_pulls_merge.ts"],
    );
}

#[test]
fn stripe_create_customer_form_body() {
    snapshot(
        stripe(),
        "PostCustomers",
        expect_file!["../snapshots/stripe_post_customers.ts"],
    );
}

#[test]
fn kubernetes_create_pod() {
    snapshot(
        kubernetes(),
        "createCoreV1NamespacedPod",
        expect_file!["../snapshots/kubernetes_create_pod.ts"],
    );
}

#[test]
fn openai_create_chat_completion_any_of_null() {
    snapshot(
        openai(),
        "createChatCompletion",
        expect_file!["../snapshots/openai_create_chat_completion.ts"],
    );
}

#[test]
fn discord_type_arrays() {
    snapshot(
        discord(),
        "get_my_user",
        expect_file!["../snapshots/discord_get_my_user.ts"],
    );
}
