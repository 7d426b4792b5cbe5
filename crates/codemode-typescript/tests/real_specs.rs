//! Declares every operation of every real spec in shared/specs and type-checks the result with
//! `tsc --noEmit --strict`: zero errors allowed.

mod support;

use codemode_typescript::declare_all;

fn check(label: &str, spec: &codemode_spec::Spec) {
    let text = declare_all(spec);
    assert!(text.starts_with("interface Api {"), "{label}: no Api interface");
    let errors = support::tsc_errors(label, &text);
    assert!(errors.is_empty(), "{}", truncate(&errors));
}

fn truncate(text: &str) -> String {
    text.lines().take(40).collect::<Vec<_>>().join("\n")
}

#[test]
fn petstores_compile() {
    check("petstore2", &support::load_real("petstore-swagger2.json"));
    check("petstore3", &support::load_real("petstore3-openapi.yaml"));
}

#[test]
fn github_compiles() {
    check("github", &support::load_real("github-api.github.com.json.gz"));
}

#[test]
fn stripe_compiles() {
    check("stripe", &support::load_real("stripe-spec3.yaml"));
}

#[test]
fn kubernetes_compiles() {
    check("kubernetes", &support::load_real("kubernetes-swagger.json"));
}

#[test]
fn openai_compiles() {
    check("openai", &support::load_real("openai-openapi.yaml"));
}

#[test]
fn discord_compiles() {
    check("discord", &support::load_real("discord-openapi.json"));
}

#[test]
fn cloudflare_compiles() {
    check("cloudflare", &support::load_real("cloudflare-openapi.json"));
}

#[test]
fn digitalocean_compiles() {
    let dir = tempfile::tempdir().expect("temp dir");
    check("digitalocean", &support::load_digitalocean(dir.path()));
}
