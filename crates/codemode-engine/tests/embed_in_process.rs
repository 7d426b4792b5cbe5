//! The engine embedded with an in-process upstream (issue 21): the `embed_in_process` example's
//! code, run as a test. Its upstream is an axum Router behind the in-process transport and its
//! base URL is `http://bookshop.invalid`, so a socket or a name lookup would fail the calls.

// The example's `main` is not called here.
#[allow(dead_code)]
#[path = "../examples/embed_in_process.rs"]
mod example;

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
