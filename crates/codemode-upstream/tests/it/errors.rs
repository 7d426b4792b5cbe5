//! Error paths: API errors with their bodies, retries, timeouts, resets, size and call limits.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::response::IntoResponse;
use codemode_upstream::{CallErrorKind, SessionLimits};
use serde_json::json;

use crate::fixture::{TestServer, client_with, json_response, session};

#[tokio::test]
async fn problem_json_4xx_becomes_an_api_error() {
    let server = TestServer::start(|_, _| {
        (
            StatusCode::NOT_FOUND,
            [
                ("content-type", "application/problem+json"),
                ("x-request-id", "req-42"),
            ],
            r#"{"type":"about:blank","title":"Not Found","detail":"no pet 7","status":404}"#,
        )
            .into_response()
    })
    .await;
    let session = session(&server);
    let error = session
        .call("getPet", &json!({"petId": 7}))
        .await
        .expect_err("404");
    assert_eq!(error.kind, CallErrorKind::Api);
    assert_eq!(
        error.message,
        "GET /pets/{petId} failed: 404 not found: no pet 7"
    );
    assert_eq!(
        error.data,
        json!({
            "status": 404,
            "method": "GET",
            "path": "/pets/{petId}",
            "body": {"type": "about:blank", "title": "Not Found", "detail": "no pet 7", "status": 404},
            "operation": "getPet",
            "requestId": "req-42",
        })
    );
    // `send` hands back the response itself; the caller decides.
    let response = session
        .send(
            session
                .prepare("getPet", &json!({"petId": 7}))
                .expect("prepared"),
        )
        .await
        .expect("a response");
    assert_eq!((response.status, response.is_success()), (404, false));
    assert_eq!(response.request_id.as_deref(), Some("req-42"));
}

#[tokio::test]
async fn server_errors_are_not_retried_except_503_and_keep_a_bounded_body() {
    let big = "x".repeat(10_000);
    let server = TestServer::start(move |_, _| {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            [("content-type", "text/plain")],
            big.clone(),
        )
            .into_response()
    })
    .await;
    let session = session(&server);
    let error = session
        .call("getPet", &json!({"petId": 1}))
        .await
        .expect_err("500");
    assert_eq!(server.requests().len(), 1, "500 is not retried");
    assert!(
        error
            .message
            .starts_with("GET /pets/{petId} failed: 500 internal server error: xxx")
    );
    assert!(error.message.len() < 400, "message stays short");
    // The text itself (not its JSON encoding), cut with a marker saying how much is left out.
    let body = error.data["body"].as_str().expect("text body");
    assert_eq!(
        body,
        format!(
            "{}… [truncated: first 4000 of 10000 characters]",
            "x".repeat(4000)
        )
    );
}

#[tokio::test]
async fn retry_after_is_honoured_then_succeeds() {
    let server = TestServer::start(|_, index| {
        if index == 0 {
            (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", "1")],
                "slow down",
            )
                .into_response()
        } else {
            json_response(StatusCode::OK, r#"{"ok":true}"#)
        }
    })
    .await;
    let session = session(&server);
    let started = Instant::now();
    let body = session
        .call("getPet", &json!({"petId": 1}))
        .await
        .expect("retried");
    assert_eq!(body, json!({"ok": true}));
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited for Retry-After"
    );
    assert_eq!(server.requests().len(), 2);
    assert_eq!(session.records().len(), 1, "a retried call is one call");
}

#[tokio::test]
async fn retry_after_beyond_the_deadline_returns_the_429() {
    let server = TestServer::start(|_, _| {
        (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "120")],
            r#"{"message":"rate limited"}"#,
        )
            .into_response()
    })
    .await;
    let session = crate::fixture::client(&server, vec![]).session(SessionLimits {
        deadline: Some(Instant::now() + Duration::from_secs(5)),
        ..SessionLimits::default()
    });
    let started = Instant::now();
    let error = session
        .call("getPet", &json!({"petId": 1}))
        .await
        .expect_err("429");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "did not wait past the deadline"
    );
    assert_eq!(server.requests().len(), 1);
    assert_eq!(error.data["retryAfter"], json!(120));
    assert_eq!(error.data["status"], json!(429));
    assert_eq!(
        error.message,
        "GET /pets/{petId} failed: 429 too many requests: rate limited (retry after 120s)"
    );
}

#[tokio::test]
async fn service_unavailable_is_retried_with_backoff_up_to_the_limit() {
    let server = TestServer::start(|_, _| StatusCode::SERVICE_UNAVAILABLE.into_response()).await;
    let client = client_with(&server, |c| c.max_retries = 2);
    let error = client
        .session(SessionLimits::default())
        .call("getPet", &json!({"petId": 1}))
        .await
        .expect_err("503");
    assert_eq!(server.requests().len(), 3, "one try and two retries");
    assert_eq!(error.data["status"], json!(503));
}

#[tokio::test]
async fn slow_upstreams_time_out() {
    // A server that accepts connections and never answers.
    let slow = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let slow_addr = slow.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = slow.accept().await {
            held.push(stream); // accept, read nothing, answer nothing
        }
    });
    let config = codemode_upstream::UpstreamConfig {
        base_url: format!("http://{slow_addr}/v1"),
        call_timeout: Duration::from_millis(300),
        ..Default::default()
    };
    let client = codemode_upstream::Client::new(crate::fixture::spec(), config).expect("client");
    let session = client.session(SessionLimits::default());
    let started = Instant::now();
    let error = session
        .call("getPet", &json!({"petId": 1}))
        .await
        .expect_err("timeout");
    assert_eq!(error.kind, CallErrorKind::Timeout);
    assert_eq!(error.message, "GET /pets/{petId} timed out after 300ms");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(session.records()[0].status, None);
}

#[tokio::test]
async fn connection_resets_are_retried_for_idempotent_methods_only() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(stream); // close without answering
        }
    });
    let config = codemode_upstream::UpstreamConfig {
        base_url: format!("http://{addr}/v1"),
        max_retries: 2,
        ..Default::default()
    };
    let client = codemode_upstream::Client::new(crate::fixture::spec(), config).expect("client");
    let session = client.session(SessionLimits::default());
    let error = session
        .call("getPet", &json!({"petId": 1}))
        .await
        .expect_err("reset");
    assert_eq!(error.kind, CallErrorKind::Network);
    assert!(
        error.message.starts_with("GET /pets/{petId} failed: "),
        "{}",
        error.message
    );
    assert!(
        error.message.ends_with("(after 3 attempts)"),
        "{}",
        error.message
    );
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 3);

    let before = accepted.load(std::sync::atomic::Ordering::SeqCst);
    let error = session
        .call("createPet", &json!({"body": {"name": "x"}}))
        .await
        .expect_err("reset");
    assert_eq!(error.kind, CallErrorKind::Network);
    assert_eq!(
        accepted.load(std::sync::atomic::Ordering::SeqCst) - before,
        1,
        "POST not retried"
    );
}

#[tokio::test]
async fn oversized_bodies_are_cut_with_a_clear_error() {
    let server = TestServer::start(|request, _| {
        let body = "y".repeat(5000);
        if request.path.ends_with("/1") {
            (StatusCode::OK, [("content-type", "text/plain")], body).into_response()
        } else {
            // Streamed without a Content-Length.
            (StatusCode::OK, chunked(body)).into_response()
        }
    })
    .await;
    let client = client_with(&server, |c| c.max_response_bytes = 1000);
    let session = client.session(SessionLimits::default());
    for pet in [1, 2] {
        let error = session
            .call("getPet", &json!({"petId": pet}))
            .await
            .expect_err("too large");
        assert_eq!(error.kind, CallErrorKind::TooLarge);
        assert_eq!(
            error.message,
            "GET /pets/{petId}: response body exceeds the 1000-byte limit; ask for less (filters, smaller pages)"
        );
    }
}

/// The body in 700-byte chunks, sent without a Content-Length.
fn chunked(body: String) -> axum::body::Body {
    let chunks: Vec<Result<axum::body::Bytes, std::io::Error>> = body
        .into_bytes()
        .chunks(700)
        .map(|c| Ok(axum::body::Bytes::copy_from_slice(c)))
        .collect();
    axum::body::Body::from_stream(futures_util::stream::iter(chunks))
}

#[tokio::test]
async fn the_call_budget_and_deadline_are_enforced() {
    let server = TestServer::ok().await;
    let session = crate::fixture::client(&server, vec![]).session(SessionLimits {
        max_calls: 2,
        ..SessionLimits::default()
    });
    session
        .call("getPet", &json!({"petId": 1}))
        .await
        .expect("1");
    session
        .call("getPet", &json!({"petId": 2}))
        .await
        .expect("2");
    let error = session
        .call("getPet", &json!({"petId": 3}))
        .await
        .expect_err("3");
    assert_eq!(error.kind, CallErrorKind::CallLimit);
    assert_eq!(
        error.message,
        "call limit reached: this run may make 2 calls; batch work into fewer calls or paginate with maxItems"
    );
    assert_eq!(server.requests().len(), 2);

    let session = crate::fixture::client(&server, vec![]).session(SessionLimits {
        deadline: Some(Instant::now()),
        ..SessionLimits::default()
    });
    let error = session
        .call("getPet", &json!({"petId": 1}))
        .await
        .expect_err("deadline");
    assert_eq!(error.kind, CallErrorKind::Timeout);
    assert_eq!(server.requests().len(), 2);
}

/// Starts a server that tracks how many requests it is serving at once; returns its address
/// and the peak.
async fn concurrency_probe() -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use std::sync::atomic::Ordering::SeqCst;
    let active = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (a, p) = (active.clone(), peak.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = axum::Router::new().fallback(move || {
        let (a, p) = (a.clone(), p.clone());
        async move {
            let now = a.fetch_add(1, SeqCst) + 1;
            p.fetch_max(now, SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            a.fetch_sub(1, SeqCst);
            json_response(StatusCode::OK, "{}")
        }
    });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, peak)
}

async fn run_concurrently(sessions: &[codemode_upstream::Session], calls_each: i64) {
    let mut tasks = Vec::new();
    for session in sessions {
        for pet in 0..calls_each {
            let session = session.clone();
            tasks.push(tokio::spawn(async move {
                session.call("getPet", &json!({"petId": pet})).await
            }));
        }
    }
    for task in tasks {
        task.await.expect("joined").expect("call");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_flight_calls_are_bounded_per_run_and_per_upstream() {
    let (addr, peak) = concurrency_probe().await;
    let config = codemode_upstream::UpstreamConfig {
        base_url: format!("http://{addr}"),
        ..Default::default()
    };
    let client = codemode_upstream::Client::new(crate::fixture::spec(), config).expect("client");
    let session = client.session(SessionLimits {
        max_in_flight: 2,
        ..SessionLimits::default()
    });
    run_concurrently(&[session], 6).await;
    assert_eq!(peak.load(std::sync::atomic::Ordering::SeqCst), 2, "per run");

    let (addr, peak) = concurrency_probe().await;
    let config = codemode_upstream::UpstreamConfig {
        base_url: format!("http://{addr}"),
        max_in_flight_per_upstream: 3,
        ..Default::default()
    };
    let client = codemode_upstream::Client::new(crate::fixture::spec(), config).expect("client");
    let sessions: Vec<_> = (0..3)
        .map(|_| client.session(SessionLimits::default()))
        .collect();
    run_concurrently(&sessions, 4).await;
    assert_eq!(
        peak.load(std::sync::atomic::Ordering::SeqCst),
        3,
        "per upstream, across runs"
    );
}

#[tokio::test]
async fn a_refused_connection_names_its_cause_once() {
    // A port that was just free: nothing listens there.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let config = codemode_upstream::UpstreamConfig {
        base_url: format!("http://{addr}/v1"),
        max_retries: 0,
        ..Default::default()
    };
    let client = codemode_upstream::Client::new(crate::fixture::spec(), config).expect("client");
    let error = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        client
            .session(SessionLimits::default())
            .call("getPet", &json!({"petId": 1})),
    )
    .await
    .expect("timed out after 10 s waiting for a refused connection")
    .expect_err("refused");
    assert_eq!(error.kind, CallErrorKind::Network);
    assert!(
        error
            .message
            .starts_with("GET /pets/{petId} failed: connection failed: "),
        "{}",
        error.message
    );
    assert_eq!(
        error.message.matches("onnection refused").count(),
        1,
        "{}",
        error.message
    );
}
