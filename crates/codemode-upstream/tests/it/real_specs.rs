//! The real specs (`codemode_test_support::specs_dir`): every operation's validator compiles, and
//! typical calls prepare to the requests those APIs expect (no network).

use codemode_upstream::{Client, SessionLimits, UpstreamConfig};
use serde_json::json;

use crate::fixture::real_spec;

fn client(file: &str, base_url: &str) -> Client {
    Client::new(
        real_spec(file),
        UpstreamConfig {
            base_url: base_url.into(),
            ..UpstreamConfig::default()
        },
    )
    .expect("client")
}

#[test]
fn stripe_validators_compile_and_bodies_use_brackets() {
    let client = client("stripe-spec3.yaml", "https://api.stripe.com");
    let report = client.precompile();
    assert_eq!(report.operations, 468);
    assert!(
        report.without_validation.is_empty(),
        "{:?}",
        report.without_validation
    );
    let session = client.session(SessionLimits::default());
    let prepared = session
        .prepare(
            "PostCustomers",
            &json!({"body": {"email": "a@b.co", "metadata": {"plan": "pro"}, "expand": ["tax"]}}),
        )
        .expect("prepared");
    assert_eq!(prepared.url, "https://api.stripe.com/v1/customers");
    assert_eq!(
        String::from_utf8_lossy(prepared.body.as_deref().unwrap_or_default()),
        "email=a%40b.co&metadata[plan]=pro&expand[]=tax"
    );
    let error = session
        .prepare("PostCustomers", &json!({"body": {"email": 42}}))
        .expect_err("email must be a string");
    assert_eq!(
        error.message,
        "postCustomers: body/email: expected string, got 42"
    );
    let prepared = session
        .prepare(
            "GetCustomers",
            &json!({"limit": 3, "expand": ["data.tax"], "created": {"gte": 5}}),
        )
        .expect("prepared");
    assert_eq!(
        prepared.query.as_deref(),
        Some("created[gte]=5&expand[]=data.tax&limit=3")
    );
}

#[test]
fn github_validators_compile_and_paths_expand() {
    let client = client("github-api.github.com.json.gz", "https://api.github.com");
    let report = client.precompile();
    assert!(report.operations > 1000);
    assert!(
        report.without_validation.is_empty(),
        "{:?}",
        report.without_validation
    );
    let session = client.session(SessionLimits::default());
    let prepared = session
        .prepare("pulls/merge", &json!({"owner": "o", "repo": "r", "pull_number": "12", "body": {"merge_method": "squash"}}))
        .expect("prepared");
    assert_eq!(
        prepared.url,
        "https://api.github.com/repos/o/r/pulls/12/merge"
    );
    assert_eq!(
        prepared.body.as_deref(),
        Some(br#"{"merge_method":"squash"}"#.as_slice())
    );
    let error = session
        .prepare("pulls/merge", &json!({"owner": "o", "repo": "r"}))
        .expect_err("missing");
    assert!(
        error
            .message
            .contains(r#"missing required parameter "pull_number" (path, integer)"#),
        "{}",
        error.message
    );
}
