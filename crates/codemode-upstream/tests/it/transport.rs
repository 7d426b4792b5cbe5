//! The transport seam: an in-process axum Router as the upstream (no socket: the base URL is
//! `http://api.invalid`, so any name lookup or connection would fail), and a recording transport
//! that proves what stays above the seam: credentials only for the configured origin, redaction
//! of what a transport returns, the size cut while streaming, retries of transport errors on
//! idempotent methods, and the call budget.

use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::{Form, Path};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use bytes::Bytes;
use codemode_upstream::{
    BoxError, CallErrorKind, Client, Credential, InProcess, PageLimits, ResponseBody, Secret,
    SessionLimits, Transport, TransportError, TransportErrorKind, TransportFuture, UpstreamConfig,
};
use http_body::Frame;
use http_body_util::{BodyExt as _, Full};
use serde_json::{Value, json};

const BASE: &str = "http://api.invalid/v1";
const TOKEN: &str = "sk-live-transport-seam-token";

/// Waits for `future`, failing the test with `what` if it takes longer than 10 s.
async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), future)
        .await
        .unwrap_or_else(|_| panic!("timed out after 10 s waiting for {what}"))
}

fn client_over(transport: Arc<dyn Transport>, adjust: impl FnOnce(&mut UpstreamConfig)) -> Client {
    let mut config = UpstreamConfig {
        base_url: BASE.to_string(),
        credentials: vec![Credential::Bearer(Secret::new(TOKEN))],
        transport: Some(transport),
        ..UpstreamConfig::default()
    };
    adjust(&mut config);
    Client::new(crate::fixture::spec(), config).expect("client builds")
}

/// A pet store in process: the handlers see what arrived, as a server would.
fn pet_store() -> axum::Router {
    axum::Router::new()
        .route(
            "/v1/pets/{id}",
            get(|Path(id): Path<u64>, headers: HeaderMap| async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                let host = headers
                    .get("host")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                axum::Json(json!({"id": id, "name": "Rex", "auth": auth, "host": host}))
            }),
        )
        .route(
            "/v1/pets",
            post(|axum::Json(pet): axum::Json<Value>| async move {
                (
                    axum::http::StatusCode::CREATED,
                    axum::Json(json!({"id": 7, "name": pet["name"]})),
                )
            }),
        )
}

#[tokio::test]
async fn an_in_process_router_answers_calls_with_no_socket() {
    let client = client_over(Arc::new(InProcess::new(pet_store())), |_| {});
    let session = client.session(SessionLimits::default());
    let pet = within("getPet", session.call("getPet", &json!({"petId": 3})))
        .await
        .expect("getPet");
    // The redactor still runs over what an in-process upstream returns.
    assert_eq!(
        pet,
        json!({"id": 3, "name": "Rex", "auth": "Bearer [redacted]", "host": "api.invalid"})
    );
    let created = within(
        "createPet",
        session.call("createPet", &json!({"body": {"name": "Ada"}})),
    )
    .await
    .expect("createPet");
    assert_eq!(created, json!({"id": 7, "name": "Ada"}));
    let records = session.records();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].resolved_path, "/pets/3");
    assert_eq!(records[1].status, Some(201));
}

#[tokio::test]
async fn an_in_process_router_404_is_an_api_error() {
    let client = client_over(Arc::new(InProcess::new(pet_store())), |_| {});
    let session = client.session(SessionLimits::default());
    let error = within("getFile", session.call("getFile", &json!({"path": "a"})))
        .await
        .expect_err("no such route");
    assert_eq!(error.kind, CallErrorKind::Api);
    assert_eq!(error.data["status"], 404);
}

#[tokio::test]
async fn oauth2_tokens_come_from_the_same_transport() {
    let issued = Arc::new(AtomicUsize::new(0));
    let counter = issued.clone();
    let router = pet_store().route(
        "/oauth/token",
        post(move |Form(form): Form<Vec<(String, String)>>| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                let grant = form
                    .iter()
                    .find(|(k, _)| k == "grant_type")
                    .map(|(_, v)| v.clone());
                assert_eq!(grant.as_deref(), Some("client_credentials"));
                axum::Json(json!({"access_token": "tok-in-process-1234", "expires_in": 3600}))
            }
        }),
    );
    let client = client_over(Arc::new(InProcess::new(router)), |config| {
        config.credentials = vec![Credential::OAuth2ClientCredentials {
            token_url: Some("http://api.invalid/oauth/token".into()),
            client_id: "app".into(),
            client_secret: Secret::new("client-secret-value"),
            scopes: vec![],
        }];
    });
    let session = client.session(SessionLimits::default());
    for id in [1, 2] {
        let pet = within("getPet", session.call("getPet", &json!({"petId": id})))
            .await
            .expect("getPet with an oauth2 token");
        assert_eq!(pet["auth"], "Bearer [redacted]");
    }
    assert_eq!(issued.load(Ordering::SeqCst), 1, "the token is cached");
}

/// What the recording transport saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    uri: String,
    authorization: Option<String>,
    body: Bytes,
}

type Respond =
    dyn Fn(&Seen, usize) -> Result<http::Response<ResponseBody>, TransportError> + Send + Sync;

/// A transport that records every request it is handed and answers with `respond`.
#[derive(Clone)]
struct Recording {
    seen: Arc<Mutex<Vec<Seen>>>,
    respond: Arc<Respond>,
}

impl Recording {
    fn new(
        respond: impl Fn(&Seen, usize) -> Result<http::Response<ResponseBody>, TransportError>
        + Send
        + Sync
        + 'static,
    ) -> Recording {
        Recording {
            seen: Arc::default(),
            respond: Arc::new(respond),
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }
}

impl Transport for Recording {
    fn send(&self, request: http::Request<Bytes>) -> TransportFuture<'_> {
        let seen = Seen {
            method: request.method().to_string(),
            uri: request.uri().to_string(),
            authorization: request
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            body: request.body().clone(),
        };
        let index = {
            let mut all = self.seen.lock().expect("lock");
            all.push(seen.clone());
            all.len() - 1
        };
        let answer = (self.respond)(&seen, index);
        Box::pin(async move { answer })
    }
}

fn body(text: impl Into<Bytes>) -> ResponseBody {
    Full::new(text.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

fn json_response(status: u16, text: &str) -> http::Response<ResponseBody> {
    http::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(body(text.to_string()))
        .expect("response")
}

fn redirect(to: &str) -> http::Response<ResponseBody> {
    http::Response::builder()
        .status(302)
        .header("location", to)
        .body(body(""))
        .expect("response")
}

#[tokio::test]
async fn credentials_go_only_to_the_configured_origin() {
    let transport = Recording::new(|seen, _| {
        Ok(if seen.uri.contains("/pets/1?") {
            redirect("/v1/pets/2")
        } else if seen.uri.contains("/pets/2?") {
            redirect("http://elsewhere.invalid/collect")
        } else {
            json_response(200, "{}")
        })
    });
    let client = client_over(Arc::new(transport.clone()), |config| {
        config.credentials.push(Credential::ApiKey {
            scheme: Some("queryKey".into()),
            value: Secret::new("query-key-secret"),
        });
    });
    let session = client.session(SessionLimits::default());
    let error = within("getPet", session.call("getPet", &json!({"petId": 1})))
        .await
        .expect_err("the cross-origin redirect is refused");
    assert_eq!(error.kind, CallErrorKind::Egress);
    assert!(
        error.message.contains("elsewhere.invalid") && !error.message.contains("query-key"),
        "{}",
        error.message
    );
    let seen = transport.seen();
    let uris: Vec<&str> = seen.iter().map(|s| s.uri.as_str()).collect();
    assert_eq!(
        uris,
        [
            "http://api.invalid/v1/pets/1?api_key=query-key-secret",
            "http://api.invalid/v1/pets/2?api_key=query-key-secret",
        ],
        "the other origin is never handed to the transport"
    );
    for request in &seen {
        assert_eq!(
            request.authorization.as_deref(),
            Some(format!("Bearer {TOKEN}").as_str())
        );
    }

    // A next-page link to another origin is refused before the transport sees it.
    let transport = Recording::new(|_, _| {
        let mut response = json_response(200, r#"[{"id": 1}]"#);
        response.headers_mut().insert(
            "link",
            http::HeaderValue::from_static(
                "<http://elsewhere.invalid/v1/issues?page=2>; rel=\"next\"",
            ),
        );
        Ok(response)
    });
    let client = client_over(Arc::new(transport.clone()), |_| {});
    let error = within(
        "paginate",
        client.session(SessionLimits::default()).paginate(
            "listIssues",
            &json!({}),
            PageLimits::default(),
        ),
    )
    .await
    .expect_err("the link leaves the origin");
    assert_eq!(error.kind, CallErrorKind::Egress);
    assert_eq!(transport.seen().len(), 1);
}

#[tokio::test]
async fn what_a_transport_returns_is_redacted() {
    let transport = Recording::new(|seen, _| {
        let echoed = seen.authorization.clone().unwrap_or_default();
        let mut response = json_response(
            500,
            &json!({"message": format!("bad token {echoed}"), "token": TOKEN}).to_string(),
        );
        response.headers_mut().insert(
            "x-request-id",
            http::HeaderValue::from_str(&format!("req-{TOKEN}")).expect("header"),
        );
        Ok(response)
    });
    let client = client_over(Arc::new(transport), |_| {});
    let session = client.session(SessionLimits::default());
    let error = within("getPet", session.call("getPet", &json!({"petId": 1})))
        .await
        .expect_err("500");
    let shown = format!("{} {}", error.message, error.data);
    assert!(!shown.contains(TOKEN), "{shown}");
    assert!(shown.contains("[redacted]"), "{shown}");
    assert_eq!(error.data["requestId"], "req-[redacted]");
}

/// A body that never ends, counting the bytes it hands out.
struct Endless {
    produced: Arc<AtomicUsize>,
}

impl http_body::Body for Endless {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.produced.fetch_add(1024, Ordering::SeqCst);
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b'y'; 1024])))))
    }
}

#[tokio::test]
async fn an_endless_streamed_body_is_cut_at_the_limit() {
    let produced = Arc::new(AtomicUsize::new(0));
    let counter = produced.clone();
    let transport = Recording::new(move |_, _| {
        Ok(http::Response::builder()
            .status(200)
            .header("content-type", "text/plain")
            .body(
                Endless {
                    produced: counter.clone(),
                }
                .boxed_unsync(),
            )
            .expect("response"))
    });
    let client = client_over(Arc::new(transport), |config| {
        config.max_response_bytes = 64 * 1024;
    });
    let session = client.session(SessionLimits::default());
    let error = within("getFile", session.call("getFile", &json!({"path": "big"})))
        .await
        .expect_err("too large");
    assert_eq!(error.kind, CallErrorKind::TooLarge);
    assert_eq!(error.data["maxBytes"], 64 * 1024);
    let read = produced.load(Ordering::SeqCst);
    assert!(
        read <= 64 * 1024 + 1024,
        "read {read} bytes of an endless body"
    );
}

#[tokio::test]
async fn transport_errors_are_retried_for_idempotent_methods_only() {
    let refused = || {
        TransportError::new(
            TransportErrorKind::Connect,
            std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused"),
        )
    };
    let transport = Recording::new(move |_, index| {
        if index < 2 {
            Err(refused())
        } else {
            Ok(json_response(200, r#"{"id": 1, "name": "Rex"}"#))
        }
    });
    let client = client_over(Arc::new(transport.clone()), |config| config.max_retries = 2);
    let session = client.session(SessionLimits::default());
    let pet = within("getPet", session.call("getPet", &json!({"petId": 1})))
        .await
        .expect("the third attempt answers");
    assert_eq!(pet["name"], "Rex");
    assert_eq!(transport.seen().len(), 3);
    assert_eq!(
        session.call_count(),
        1,
        "retries are one call of the budget"
    );

    let transport = Recording::new(move |_, _| Err(refused()));
    let client = client_over(Arc::new(transport.clone()), |config| config.max_retries = 2);
    let session = client.session(SessionLimits::default());
    let error = within(
        "createPet",
        session.call("createPet", &json!({"body": {"name": "x"}})),
    )
    .await
    .expect_err("refused");
    assert_eq!(error.kind, CallErrorKind::Network);
    assert_eq!(
        error.message,
        "POST /pets failed: connection failed: connection refused"
    );
    assert_eq!(transport.seen().len(), 1, "POST is not retried");
    assert_eq!(transport.seen()[0].body.as_ref(), br#"{"name":"x"}"#);
}

#[tokio::test]
async fn the_call_budget_counts_calls_through_any_transport() {
    let transport = Recording::new(|_, _| Ok(json_response(200, "{}")));
    let client = client_over(Arc::new(transport.clone()), |_| {});
    let session = client.session(SessionLimits {
        max_calls: 2,
        ..SessionLimits::default()
    });
    for id in [1, 2] {
        within("getPet", session.call("getPet", &json!({"petId": id})))
            .await
            .expect("within the budget");
    }
    let error = within("getPet", session.call("getPet", &json!({"petId": 3})))
        .await
        .expect_err("over the budget");
    assert_eq!(error.kind, CallErrorKind::CallLimit);
    assert_eq!(transport.seen().len(), 2, "the refused call never left");
    assert!(transport.seen().iter().all(|s| s.method == "GET"));
}

#[tokio::test]
async fn debug_of_a_config_with_a_transport_shows_no_secret() {
    let config = UpstreamConfig {
        base_url: BASE.to_string(),
        credentials: vec![Credential::Bearer(Secret::new(TOKEN))],
        transport: Some(Arc::new(InProcess::new(pet_store()))),
        ..UpstreamConfig::default()
    };
    let shown = format!("{config:?}");
    assert!(!shown.contains(TOKEN), "{shown}");
    assert!(shown.contains("Transport(\"in-process\")"), "{shown}");
    let client = Client::new(crate::fixture::spec(), config).expect("client");
    let shown = format!("{client:?}");
    assert!(
        shown.contains("in-process") && !shown.contains(TOKEN),
        "{shown}"
    );
}
