//! The engine embedded with an in-process upstream (issue 21): the `embed_in_process` and
//! `custom_transport` examples' code, run as tests. Their upstreams are axum Routers behind the
//! in-process transport at `.invalid` base URLs, so a socket or a name lookup would fail the
//! calls.

// The examples' `main`s are not called here.
#[allow(dead_code)]
#[path = "../../examples/embed_in_process.rs"]
mod example;
#[allow(dead_code)]
#[path = "../../examples/custom_transport.rs"]
mod signing;

use std::time::Duration;

use codemode_engine::ExecuteRequest;
use serde_json::json;

#[tokio::test]
async fn a_program_calls_an_in_process_upstream() {
    let (result, calls) = tokio::time::timeout(Duration::from_secs(30), example::run())
        .await
        .expect("timed out after 30 s waiting for the program")
        .expect("the program runs");
    assert_eq!(
        result,
        json!({"science": 2, "inStock": ["A Brief History of Time"]})
    );
    let paths: Vec<&str> = calls
        .iter()
        .map(|c| c.split(" (").next().unwrap_or(c))
        .collect();
    assert_eq!(
        paths,
        [
            "GET /books → 200",
            "GET /books/1 → 200",
            "GET /books/2 → 200"
        ]
    );
}

#[tokio::test]
async fn an_in_process_404_reaches_the_program_as_an_api_error() {
    let engine = example::engine(example::bookshop()).expect("engine");
    let outcome = tokio::time::timeout(
        Duration::from_secs(30),
        engine.execute(ExecuteRequest {
            code: r#"
                try { await api.getBook({ id: 99 }); return "found"; }
                catch (e) { return { name: e.name, status: e.status, message: e.message }; }
            "#
            .into(),
            ..ExecuteRequest::default()
        }),
    )
    .await
    .expect("timed out after 30 s waiting for the program");
    let result = outcome.result.expect("the program catches the error");
    assert_eq!(result["name"], "ApiError");
    assert_eq!(result["status"], 404);
    assert!(
        result["message"]
            .as_str()
            .is_some_and(|m| m.contains("no book with id 99")),
        "{result}"
    );
}

#[tokio::test]
async fn a_signing_transport_signs_requests_that_already_carry_credentials() {
    let signed = tokio::time::timeout(Duration::from_secs(30), signing::run())
        .await
        .expect("timed out after 30 s waiting for the program")
        .expect("the upstream accepts the signatures and the token");
    assert_eq!(
        signed.result,
        json!({"id": 41, "bookId": 1, "quantity": 2, "status": "paid"})
    );
    assert_eq!(signed.calls.len(), 2);
    assert_eq!(signed.with_credentials, 2);
}

/// RFC 4231, test case 2: the example's hand-written HMAC-SHA256 is the real one.
#[test]
fn the_examples_hmac_matches_rfc_4231() {
    assert_eq!(
        signing::hex(&signing::hmac_sha256(
            b"Jefe",
            b"what do ya want for nothing?"
        )),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}
