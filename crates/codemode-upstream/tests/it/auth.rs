//! Credentials: each scheme arrives where the spec says, never leaves the origin, and never
//! appears in anything handed back, even when the upstream echoes it.

use axum::http::StatusCode;
use axum::response::IntoResponse;
use codemode_upstream::{CallErrorKind, Client, Credential, Secret, SessionLimits, UpstreamConfig};
use serde_json::json;

use crate::fixture::{TestServer, client, client_with, json_response, spec};

#[tokio::test]
async fn bearer_basic_and_static_headers() {
    let server = TestServer::ok().await;
    let client = client_with(&server, |c| {
        c.credentials = vec![Credential::Bearer(Secret::new("tok-123456"))];
        c.static_headers = vec![("X-Tenant".into(), Secret::new("tenant-42"))];
        c.user_agent = "codemode-test".into();
    });
    client
        .session(SessionLimits::default())
        .call("getPet", &json!({"petId": 1}))
        .await
        .expect("call");
    let request = server.only_request();
    assert_eq!(request.header("authorization"), Some("Bearer tok-123456"));
    assert_eq!(request.header("x-tenant"), Some("tenant-42"));
    assert_eq!(request.header("user-agent"), Some("codemode-test"));

    let server = TestServer::ok().await;
    crate::fixture::client(
        &server,
        vec![Credential::Basic {
            username: "ann".into(),
            password: Secret::new("s3cret!"),
        }],
    )
    .session(SessionLimits::default())
    .call("getPet", &json!({"petId": 1}))
    .await
    .expect("call");
    // base64("ann:s3cret!")
    assert_eq!(
        server.only_request().header("authorization"),
        Some("Basic YW5uOnMzY3JldCE=")
    );
}

#[tokio::test]
async fn api_keys_go_where_the_scheme_says() {
    let server = TestServer::ok().await;
    let key = |scheme: &str, value: &str| Credential::ApiKey {
        scheme: Some(scheme.into()),
        value: Secret::new(value),
    };
    client(
        &server,
        vec![
            key("headerKey", "hk-0001"),
            key("queryKey", "qk 0002"),
            key("cookieKey", "ck-0003"),
        ],
    )
    .session(SessionLimits::default())
    .call(
        "styles",
        &json!({"m": {}, "l": [1], "s": ["a"], "q": "z", "session": "abc"}),
    )
    .await
    .expect("call");
    let request = server.only_request();
    assert_eq!(request.header("x-api-key"), Some("hk-0001"));
    assert_eq!(request.query.as_deref(), Some("q=z&api_key=qk%200002"));
    assert_eq!(request.header("cookie"), Some("session=abc; sid=ck-0003"));

    // No scheme named: the spec's first apiKey scheme (headerKey).
    let server = TestServer::ok().await;
    client(
        &server,
        vec![Credential::ApiKey {
            scheme: None,
            value: Secret::new("first-key"),
        }],
    )
    .session(SessionLimits::default())
    .call("getPet", &json!({"petId": 1}))
    .await
    .expect("call");
    assert_eq!(server.only_request().header("x-api-key"), Some("first-key"));

    let error = Client::new(
        spec(),
        UpstreamConfig {
            base_url: "http://127.0.0.1:1".into(),
            credentials: vec![key("bearer", "x")],
            ..UpstreamConfig::default()
        },
    )
    .expect_err("bearer is not an apiKey scheme");
    assert_eq!(
        error.to_string(),
        r#"credential for api key scheme "bearer" cannot be used: it is not an apiKey scheme"#
    );
}

#[tokio::test]
async fn oauth2_client_credentials_fetch_cache_and_refresh() {
    let server = TestServer::start(|request, _| {
        if request.path == "/oauth/token" {
            let n = request.body_text().len(); // distinct tokens per fetch are not needed
            let _ = n;
            return json_response(
                StatusCode::OK,
                r#"{"access_token":"at-777777","token_type":"bearer","expires_in":3600}"#,
            );
        }
        json_response(StatusCode::OK, r#"{"ok":true}"#)
    })
    .await;
    let client = client(
        &server,
        vec![Credential::OAuth2ClientCredentials {
            token_url: Some(format!("{}/oauth/token", server.url)),
            client_id: "cid".into(),
            client_secret: Secret::new("csecret-1"),
            scopes: vec!["read".into(), "write".into()],
        }],
    );
    let session = client.session(SessionLimits::default());
    session
        .call("getPet", &json!({"petId": 1}))
        .await
        .expect("first");
    session
        .call("getPet", &json!({"petId": 2}))
        .await
        .expect("second");
    let requests = server.requests();
    assert_eq!(requests.len(), 3, "one token fetch, then two calls");
    assert_eq!(requests[0].method, "POST");
    assert_eq!(
        requests[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        requests[0].body_text(),
        "grant_type=client_credentials&client_id=cid&client_secret=csecret-1&scope=read%20write"
    );
    assert_eq!(
        requests[1].header("authorization"),
        Some("Bearer at-777777")
    );
    assert_eq!(
        requests[2].header("authorization"),
        Some("Bearer at-777777")
    );

    // A 401 drops the cached token, fetches a new one and retries once.
    let server = TestServer::start(|request, index| {
        if request.path == "/oauth/token" {
            let token = format!(r#"{{"access_token":"tok-{index:04}"}}"#);
            return json_response(StatusCode::OK, &token);
        }
        if request.header("authorization") == Some("Bearer tok-0000") {
            return json_response(StatusCode::UNAUTHORIZED, r#"{"message":"expired"}"#);
        }
        json_response(StatusCode::OK, r#"{"ok":true}"#)
    })
    .await;
    let client = crate::fixture::client(
        &server,
        vec![Credential::OAuth2ClientCredentials {
            token_url: Some(format!("{}/oauth/token", server.url)),
            client_id: "cid".into(),
            client_secret: Secret::new("csecret-1"),
            scopes: vec![],
        }],
    );
    let body = client
        .session(SessionLimits::default())
        .call("getPet", &json!({"petId": 1}))
        .await
        .expect("refreshed");
    assert_eq!(body, json!({"ok": true}));
    let paths: Vec<String> = server.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths,
        ["/oauth/token", "/v1/pets/1", "/oauth/token", "/v1/pets/1"]
    );
}

/// A unique token configured as every kind of credential appears in no result or error, even
/// though the upstream echoes everything it received.
#[tokio::test]
async fn canary_secret_never_comes_back() {
    const CANARY: &str = "canary-5f0c1e9a-SECRET";
    let echo = |request: &crate::fixture::Captured, _: usize| {
        let headers: serde_json::Map<String, serde_json::Value> = request
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap_or_default())))
            .collect();
        let body = json!({
            "query": request.query,
            "headers": headers,
            "message": format!("bad key {}", request.header("x-api-key").unwrap_or_default()),
        });
        let status = if request.path.ends_with("/fail") {
            401
        } else {
            200
        };
        (
            StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
            [
                ("content-type", "application/json"),
                (
                    "x-request-id",
                    request.header("authorization").unwrap_or_default(),
                ),
            ],
            body.to_string(),
        )
            .into_response()
    };
    let server = TestServer::start(echo).await;
    let client = client_with(&server, |c| {
        c.credentials = vec![
            Credential::Bearer(Secret::new(CANARY)),
            Credential::ApiKey {
                scheme: Some("headerKey".into()),
                value: Secret::new(CANARY),
            },
            Credential::ApiKey {
                scheme: Some("queryKey".into()),
                value: Secret::new(CANARY),
            },
            Credential::Basic {
                username: "u".into(),
                password: Secret::new(CANARY),
            },
        ];
        c.static_headers = vec![("X-Extra".into(), Secret::new(CANARY))];
    });
    let session = client.session(SessionLimits::default());
    let ok = session
        .call("getPet", &json!({"petId": 1}))
        .await
        .expect("ok");
    let ok_text = ok.to_string();
    assert!(!ok_text.contains("canary"), "{ok_text}");
    assert!(
        ok_text.contains("[redacted]"),
        "the echo was redacted, not dropped: {ok_text}"
    );
    let response = session
        .send(
            session
                .prepare("getPet", &json!({"petId": 1}))
                .expect("prepared"),
        )
        .await
        .expect("sent");
    assert!(!format!("{response:?}").contains("canary"));
    let error = session
        .call_raw(&codemode_upstream::RawRequest {
            method: "GET".into(),
            path: "/fail".into(),
            ..Default::default()
        })
        .await
        .expect_err("401");
    assert_eq!(error.kind, CallErrorKind::Api);
    let error_text = format!("{} {:?} {}", error, error, error.data);
    assert!(!error_text.contains("canary"), "{error_text}");
    assert!(!format!("{:?} {:?}", session.records(), client).contains("canary"));
    assert_eq!(client.redact(&format!("x {CANARY} y")), "x [redacted] y");
}

/// An upstream can hide an echoed secret behind JSON escapes (`\u0065` for `e`, `\/`), so the
/// raw bytes do not contain it but the parsed strings do: it is still redacted. Bodies without
/// the secret come back untouched.
#[tokio::test]
async fn secrets_behind_json_escapes_are_redacted_and_clean_bodies_untouched() {
    const TOKEN: &str = "escape-canary/7b1d";
    let respond = |request: &crate::fixture::Captured, _: usize| match request.path.as_str() {
        "/v1/pets/1" => json_response(
            StatusCode::OK,
            r#"{"echo": "\u0065scape-canary\/7b1d!", "\u0065scape-canary/7b1d": 1, "name": "Rex"}"#,
        ),
        "/v1/pets/2" => (
            StatusCode::OK,
            [("content-type", "text/plain")],
            format!("token={TOKEN}"),
        )
            .into_response(),
        _ => json_response(
            StatusCode::OK,
            r#"{"name": "Rex", "tags": ["a", "escape-canary"], "n": 1.5}"#,
        ),
    };
    let server = TestServer::start(respond).await;
    let client = client(&server, vec![Credential::Bearer(Secret::new(TOKEN))]);
    let session = client.session(SessionLimits::default());
    let escaped = session
        .call("getPet", &json!({"petId": 1}))
        .await
        .expect("escaped");
    assert_eq!(
        escaped,
        json!({"echo": "[redacted]!", "[redacted]": 1, "name": "Rex"})
    );
    let text = session
        .call("getPet", &json!({"petId": 2}))
        .await
        .expect("text");
    assert_eq!(text, json!("token=[redacted]"));
    let clean = session
        .call("getPet", &json!({"petId": 3}))
        .await
        .expect("clean");
    assert_eq!(
        clean,
        json!({"name": "Rex", "tags": ["a", "escape-canary"], "n": 1.5})
    );
}

/// Credentials never follow a redirect to another origin, and such redirects are refused.
#[tokio::test]
async fn redirects_stay_in_the_origin() {
    let other = TestServer::ok().await;
    let other_url = other.url.clone();
    let server = TestServer::start(move |request, _| match request.path.as_str() {
        "/v1/pets/1" => (StatusCode::FOUND, [("location", "/v1/pets/2")]).into_response(),
        "/v1/pets/3" => (
            StatusCode::TEMPORARY_REDIRECT,
            [("location", format!("{other_url}/steal"))],
        )
            .into_response(),
        _ => json_response(StatusCode::OK, r#"{"moved":true}"#),
    })
    .await;
    let session = client(
        &server,
        vec![Credential::Bearer(Secret::new("tok-redirect"))],
    )
    .session(SessionLimits::default());
    let body = session
        .call("getPet", &json!({"petId": 1}))
        .await
        .expect("followed");
    assert_eq!(body, json!({"moved": true}));
    let requests = server.requests();
    assert_eq!(requests[1].path, "/v1/pets/2");
    assert_eq!(
        requests[1].header("authorization"),
        Some("Bearer tok-redirect")
    );

    let error = session
        .call("getPet", &json!({"petId": 3}))
        .await
        .expect_err("cross-origin redirect refused");
    assert_eq!(error.kind, CallErrorKind::Egress);
    assert_eq!(
        error.message,
        format!(
            "GET /pets/{{petId}} redirected to {}/steal which is outside {}; not followed",
            other.url, server.url
        )
    );
    assert!(
        other.requests().is_empty(),
        "nothing reached the other origin"
    );
}

/// A dry run shows the body preview: secrets in it are redacted (also next to characters JSON
/// escapes), while the bytes sent stay exactly what the script gave.
#[tokio::test]
async fn body_previews_are_redacted_but_requests_are_not_rewritten() {
    const TOKEN: &str = "preview-secret-42";
    let server = TestServer::ok().await;
    let client = client(&server, vec![Credential::Bearer(Secret::new(TOKEN))]);
    let session = client.session(SessionLimits::default());
    for (name, shown) in [
        (TOKEN.to_string(), "[redacted]".to_string()),
        (format!("say \"{TOKEN}\""), "say \"[redacted]\"".to_string()),
        ("Rex".to_string(), "Rex".to_string()),
    ] {
        let prepared = session
            .prepare("createPet", &json!({"body": {"name": name}}))
            .expect("prepared");
        assert_eq!(prepared.body_preview, Some(json!({"name": shown})));
        let sent: serde_json::Value =
            serde_json::from_slice(prepared.body.as_deref().unwrap_or_default()).expect("json");
        assert_eq!(sent, json!({"name": name}));
    }
}

#[tokio::test]
async fn call_records_show_the_path_sent_and_the_items_with_secrets_redacted() {
    let server = TestServer::start(|request, _| {
        let body = if request.path.ends_with("/customers") {
            r#"{"object":"list","data":[{"id":"cus_1"},{"id":"cus_2"}],"has_more":false}"#
        } else {
            r#"{"id":"f","data":"not a list"}"#
        };
        json_response(StatusCode::OK, body)
    })
    .await;
    let client = client(
        &server,
        vec![Credential::Bearer(Secret::new("path-canary-9f8e7d"))],
    );
    let session = client.session(SessionLimits::default());
    session
        .call("GetCustomers", &json!({}))
        .await
        .expect("list");
    // A script that puts the credential in a path (by mistake or on purpose) never sees it in
    // the call log.
    session
        .call("getFile", &json!({"path": "a-path-canary-9f8e7d-b"}))
        .await
        .expect("get");
    let records = session.records();
    let shown: Vec<(&str, &str, Option<usize>)> = records
        .iter()
        .map(|r| (r.path.as_str(), r.resolved_path.as_str(), r.items))
        .collect();
    assert_eq!(
        shown,
        [
            ("/customers", "/customers", Some(2)),
            ("/files/{path}", "/files/a-[redacted]-b", None),
        ]
    );
    assert_eq!(
        server.requests()[1].path,
        "/v1/files/a-path-canary-9f8e7d-b",
        "the request itself is not rewritten"
    );
}

/// A propagator that names one fixed trace, or none (as with no trace to continue).
struct FixedTrace(Option<&'static str>);

impl codemode_upstream::PropagateTrace for FixedTrace {
    fn inject(&self, _span: &tracing::Span, headers: &mut codemode_upstream::http::HeaderMap) {
        if let Some(traceparent) = self.0 {
            headers.insert(
                "traceparent",
                codemode_upstream::http::HeaderValue::from_static(traceparent),
            );
        }
    }
}

/// With trace propagation on, the trace a request joins is the host's: a program's own
/// `traceparent` and `tracestate` are dropped, even when there is no trace to send instead.
#[tokio::test]
async fn a_programs_trace_headers_give_way_to_the_hosts() {
    const HOSTS: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const PROGRAMS: &str = "00-11111111111111111111111111111111-2222222222222222-01";
    for propagated in [Some(HOSTS), None] {
        let server = TestServer::ok().await;
        let client = client_with(&server, |c| {
            c.propagate_trace = Some(std::sync::Arc::new(FixedTrace(propagated)));
        });
        client
            .session(SessionLimits::default())
            .call_raw(&codemode_upstream::RawRequest {
                method: "GET".into(),
                path: "/pets/1".into(),
                headers: Some(json!({"traceparent": PROGRAMS, "tracestate": "vendor=forced"})),
                ..Default::default()
            })
            .await
            .expect("sent");
        let request = server.only_request();
        assert_eq!(request.header("traceparent"), propagated);
        assert_eq!(request.header("tracestate"), None);
    }

    // Without propagation, a program's headers go as it set them.
    let server = TestServer::ok().await;
    client_with(&server, |_| {})
        .session(SessionLimits::default())
        .call_raw(&codemode_upstream::RawRequest {
            method: "GET".into(),
            path: "/pets/1".into(),
            headers: Some(json!({"traceparent": PROGRAMS})),
            ..Default::default()
        })
        .await
        .expect("sent");
    assert_eq!(server.only_request().header("traceparent"), Some(PROGRAMS));
}
