//! `/mcp` as an OAuth 2.1 protected resource, against a local issuer (keys made in the test, JWKS
//! on 127.0.0.1) and a counting upstream: the RFC 9728 document, the 401/403 challenges, every
//! bad token of issue 17 refused before anything reaches the upstream (raw HTTP and the official
//! Python SDK 1.x and 2.x sending `Authorization: Bearer`), and the JWKS refresh throttle.

use std::time::Duration;

use codemode_mcp::ServerConfig;
use codemode_mcp::oauth::OAuthConfig;
use jsonwebtoken::Algorithm;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::issuer::{Issuer, JwksMode, SigningKey, hand_made, hs256_with, now};
use crate::support::{
    HttpServer, PETSTORE, RecordingUpstream, build_engine, client_report, client_script, node,
    python, run, start_http_on, start_recording_upstream,
};

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
const LIST_PETS: &str = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"execute","arguments":{"code":"const pets = await api.listPets(); return { n: pets.length }"}}}"#;

/// A server protected by `issuer`, whose resource is its own `/mcp` URL, requiring scope `mcp`.
/// `tweak` adjusts the OAuth config (JWKS URL, timeouts).
async fn protected(
    issuer: &Issuer,
    tweak: impl FnOnce(&mut OAuthConfig),
) -> (HttpServer, RecordingUpstream) {
    let upstream = start_recording_upstream().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let resource = format!(
        "http://127.0.0.1:{}/mcp",
        listener.local_addr().expect("addr").port()
    );
    let mut oauth = OAuthConfig::new(issuer.url.clone(), resource);
    oauth.required_scopes = vec!["mcp".into()];
    oauth.scopes_supported = vec!["mcp".into(), "write".into()];
    tweak(&mut oauth);
    let config = ServerConfig {
        oauth: Some(oauth),
        ..ServerConfig::default()
    };
    let server = start_http_on(
        listener,
        build_engine(PETSTORE, Some(&upstream.url)),
        config,
    )
    .await;
    (server, upstream)
}

/// One client for the whole module (building one loads the TLS roots: slow in a flood). It
/// keeps no idle connections: each test has its own runtime, and a pooled connection would
/// outlive the one it was made in.
fn client() -> reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            codemode_engine::upstream::install_crypto_provider();
            reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .pool_max_idle_per_host(0)
                .build()
                .expect("a reqwest client")
        })
        .clone()
}

/// Status, `WWW-Authenticate` and body of a POST to `/mcp` with `token` (none when `None`).
async fn post(
    server: &HttpServer,
    body: &str,
    token: Option<&str>,
) -> (StatusCode, String, String) {
    let mut request = client()
        .post(server.url())
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .body(body.to_string());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("answered");
    let status = response.status();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, challenge, response.text().await.unwrap_or_default())
}

fn metadata_url(server: &HttpServer) -> String {
    format!(
        "http://127.0.0.1:{}/.well-known/oauth-protected-resource/mcp",
        server.addr.port()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metadata_document_and_the_challenges() {
    let issuer = Issuer::start().await;
    let (server, upstream) = protected(&issuer, |_| {}).await;
    let port = server.addr.port();
    let expected = json!({
        "resource": format!("http://127.0.0.1:{port}/mcp"),
        "authorization_servers": [issuer.url],
        "scopes_supported": ["mcp", "write"],
        "bearer_methods_supported": ["header"],
    });
    for url in [
        format!("http://127.0.0.1:{port}/.well-known/oauth-protected-resource"),
        metadata_url(&server),
    ] {
        // No token, and a Host the MCP endpoint would refuse: the document is public.
        let response = client()
            .get(&url)
            .header("host", "codemode.example.com")
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status(), StatusCode::OK, "{url}");
        let document: Value = response.json().await.expect("JSON");
        assert_eq!(document, expected, "{url}");
    }

    // No token: 401, no error code, where the document is and which scope is needed.
    let (status, challenge, body) = post(&server, INITIALIZE, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(
        challenge,
        format!(
            r#"Bearer scope="mcp", resource_metadata="{}""#,
            metadata_url(&server)
        )
    );

    // A good token passes, and the program's call reaches the upstream.
    let token = issuer.sign(
        &issuer.es256,
        &issuer.claims(&format!("http://127.0.0.1:{port}/mcp"), "mcp write"),
    );
    let (status, _, body) = post(&server, INITIALIZE, Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, body) = post(&server, LIST_PETS, Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.contains(r#"\"n\":2"#) || body.contains(r#"{\"n\":2}"#),
        "{body}"
    );
    assert_eq!(upstream.received(), vec!["GET /v1/pets"]);

    // A valid token without the required scope: 403, insufficient_scope, nothing upstream.
    let token = issuer.sign(
        &issuer.ed25519,
        &issuer.claims(&format!("http://127.0.0.1:{port}/mcp"), "write"),
    );
    let (status, challenge, body) = post(&server, LIST_PETS, Some(&token)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        challenge.starts_with(r#"Bearer error="insufficient_scope", error_description="token lacks the required scope mcp", scope="mcp", resource_metadata=""#),
        "{challenge}"
    );
    assert_eq!(
        upstream.received(),
        vec!["GET /v1/pets"],
        "nothing more upstream"
    );
    // Discovery found the JWKS (RFC 8414 document), fetched once for both keys.
    assert_eq!(issuer.discovery_requests(), 1);
    assert_eq!(issuer.jwks_requests(), 1);
}

/// Every bad token of issue 17, by name, with the reason its 401 must give.
fn bad_tokens(issuer: &Issuer, resource: &str) -> Vec<(&'static str, String, &'static str)> {
    let good = issuer.claims(resource, "mcp");
    let with = |patch: Value| {
        let mut claims = good.clone();
        for (key, value) in patch.as_object().expect("an object") {
            claims[key] = value.clone();
        }
        claims
    };
    let es = &issuer.es256;
    vec![
        (
            "expired",
            issuer.sign(es, &with(json!({"exp": now() - 120}))),
            "token expired",
        ),
        (
            "not yet valid",
            issuer.sign(es, &with(json!({"nbf": now() + 600}))),
            "token not valid yet",
        ),
        (
            "wrong audience",
            issuer.sign(es, &with(json!({"aud": "http://127.0.0.1:1/mcp"}))),
            "token audience is not this resource",
        ),
        (
            "wrong issuer",
            issuer.sign(es, &with(json!({"iss": "http://127.0.0.1:1"}))),
            "token issuer is not the configured issuer",
        ),
        (
            "alg none",
            hand_made(&json!({"alg": "none", "kid": es.kid}), &good, b""),
            r#"algorithm 'none' is not accepted"#,
        ),
        (
            "HS256 signed with the public key",
            hs256_with(&es.public_raw, &es.kid, &good),
            r#"algorithm 'HS256' is not accepted"#,
        ),
        (
            "unknown kid",
            issuer.sign(&issuer.stranger, &good),
            r#"unknown signing key 'es-1-stranger'"#,
        ),
        (
            "another key under a known kid",
            {
                let mut header = jsonwebtoken::Header::new(Algorithm::ES256);
                header.kid = Some(es.kid.clone());
                jsonwebtoken::encode(&header, &good, &issuer.stranger.encoding).expect("signs")
            },
            "signature does not verify",
        ),
        ("malformed", "not-a-jwt".to_string(), "malformed token"),
        (
            "malformed header",
            "eyJub3QganNvbg.e30.c2ln".to_string(),
            "malformed token",
        ),
    ]
}

/// Each bad token gets 401 `invalid_token` naming its reason over raw HTTP, and the Python SDK
/// (both majors) fails with it; the upstream sees nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_token_gets_401_and_nothing_goes_upstream() {
    let issuer = Issuer::start().await;
    let (server, upstream) = protected(&issuer, |c| c.jwks_url = Some(issuer.jwks_url())).await;
    let resource = format!("http://127.0.0.1:{}/mcp", server.addr.port());
    let cases = bad_tokens(&issuer, &resource);
    for (name, token, reason) in &cases {
        let (status, challenge, body) = post(&server, LIST_PETS, Some(token)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}: {body}");
        assert!(
            challenge.starts_with(r#"Bearer error="invalid_token", error_description=""#)
                && challenge.contains(reason)
                && challenge
                    .ends_with(&format!(r#"resource_metadata="{}""#, metadata_url(&server))),
            "{name}: {challenge}"
        );
        assert!(
            !body.contains(token.as_str()),
            "{name}: the body echoes the token"
        );
    }
    let script = client_script("py_oauth.py");
    let script = script.to_str().expect("utf-8 path");
    let url = server.url();
    for venv in [".venv-mcp1", ".venv-mcp2"] {
        let runs = cases.iter().map(|(name, token, _)| async {
            let report = client_report(
                &run(
                    &python(venv),
                    &[script, &url, token],
                    Duration::from_secs(60),
                )
                .await,
            );
            (*name, report)
        });
        for (name, report) in futures::future::join_all(runs).await {
            assert_eq!(report["ok"], false, "{venv} {name}: {report}");
            let error = report["error"].as_str().unwrap_or("");
            assert!(
                error.contains("401") || error.contains("unauthorized"),
                "{venv} {name}: the SDK says why: {report}"
            );
        }
    }
    assert!(upstream.received().is_empty(), "{:?}", upstream.received());

    // The same SDKs with good tokens (ES256, and EdDSA with `scp` as an array and `aud` as an
    // array) get through, and their calls reach the upstream.
    let mut eddsa = issuer.claims(&resource, "");
    eddsa["scp"] = json!(["mcp", "write"]);
    eddsa["aud"] = json!(["https://other.example.com", resource]);
    let good = [
        issuer.sign(&issuer.es256, &issuer.claims(&resource, "mcp")),
        issuer.sign(&issuer.ed25519, &eddsa),
    ];
    for venv in [".venv-mcp1", ".venv-mcp2"] {
        for token in &good {
            let report = client_report(
                &run(
                    &python(venv),
                    &[script, &url, token],
                    Duration::from_secs(60),
                )
                .await,
            );
            assert_eq!(report["ok"], true, "{venv}: {report}");
            assert_eq!(report["tools"], json!(["search", "execute"]), "{report}");
            assert_eq!(report["execute"]["structured"], json!({"n": 2}), "{report}");
        }
    }
    assert_eq!(upstream.received(), vec!["GET /v1/pets"; 4]);
    // The TypeScript SDK: refused with each bad token, through with a good one.
    let ts = client_script("ts_oauth.mjs");
    let ts = ts.to_str().expect("utf-8 path");
    for (name, token, _) in &cases {
        let report =
            client_report(&run(&node(), &[ts, &url, token], Duration::from_secs(60)).await);
        assert_eq!(report["ok"], false, "typescript {name}: {report}");
        let error = report["error"].as_str().unwrap_or("");
        assert!(
            error.contains("401") || error.to_lowercase().contains("unauthorized"),
            "typescript {name}: the SDK says why: {report}"
        );
    }
    let report = client_report(&run(&node(), &[ts, &url, &good[0]], Duration::from_secs(60)).await);
    assert_eq!(report["ok"], true, "typescript: {report}");
    assert_eq!(report["execute"]["structured"], json!({"n": 2}), "{report}");
    assert_eq!(upstream.received(), vec!["GET /v1/pets"; 5]);
    // The Python SDK without a token: refused too.
    let report = client_report(
        &run(
            &python(".venv-mcp2"),
            &[script, &url, "-"],
            Duration::from_secs(60),
        )
        .await,
    );
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(upstream.received().len(), 5);
}

/// A JWKS endpoint that is down (nothing listening, or 503) or slow (past the timeout): 401
/// saying the keys are unavailable (the cause only in the log), nothing upstream, through raw
/// HTTP and the Python SDK.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwks_endpoint_down_or_slow_gets_401() {
    let issuer = Issuer::start().await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}/jwks", listener.local_addr().expect("addr"))
    };
    let cases: [(&str, JwksMode, Option<String>, &str); 3] = [
        (
            "nothing listening",
            JwksMode::Serve,
            Some(closed),
            "cannot read jwks",
        ),
        ("503", JwksMode::Down, None, "answered 503"),
        (
            "slow",
            JwksMode::Slow(Duration::from_secs(10)),
            None,
            "took longer than 300ms",
        ),
    ];
    let script = client_script("py_oauth.py");
    let script = script.to_str().expect("utf-8 path");
    for (name, mode, jwks_url, reason) in cases {
        issuer.set_mode(mode);
        let url = jwks_url.unwrap_or_else(|| issuer.jwks_url());
        let (server, upstream) = protected(&issuer, |c| {
            c.jwks_url = Some(url);
            c.jwks_timeout = Duration::from_millis(300);
            // A retry is due at once, so each request below tries the endpoint again.
            c.min_refresh_interval = Duration::ZERO;
        })
        .await;
        let resource = format!("http://127.0.0.1:{}/mcp", server.addr.port());
        let token = issuer.sign(&issuer.es256, &issuer.claims(&resource, "mcp"));
        let started = std::time::Instant::now();
        let (status, challenge, body) = post(&server, LIST_PETS, Some(&token)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}: {body}");
        // The client learns that the keys are unavailable; the cause (the issuer's internal
        // URL, the transport error) goes to the log only.
        assert!(
            challenge.contains("the issuer's signing keys are unavailable")
                && !challenge.contains(reason)
                && !body.contains(reason),
            "{name}: {challenge} {body}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{name}: the timeout held"
        );
        let report = client_report(
            &run(
                &python(".venv-mcp2"),
                &[script, &server.url(), &token],
                Duration::from_secs(60),
            )
            .await,
        );
        assert_eq!(report["ok"], false, "{name}: {report}");
        assert!(upstream.received().is_empty(), "{name}");
    }
    issuer.set_mode(JwksMode::Serve);
}

/// 50 concurrent requests to `server`, each with a token naming a made-up key (the signature is
/// never reached: the key lookup fails first); every one must get 401 `unknown signing key`.
async fn flood(issuer: &Issuer, server: &HttpServer, resource: &str, round: usize) {
    let claims = issuer.claims(resource, "mcp");
    let tokens: Vec<String> = (0..50)
        .map(|i| {
            let header = json!({"alg": "ES256", "kid": format!("made-up-{round}-{i}")});
            hand_made(&header, &claims, b"not a signature")
        })
        .collect();
    let answers =
        futures::future::join_all(tokens.iter().map(|t| post(server, LIST_PETS, Some(t)))).await;
    for (status, challenge, _) in answers {
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(challenge.contains("unknown signing key"), "{challenge}");
    }
}

/// A flood of tokens naming unknown keys costs the issuer at most one JWKS request per refresh
/// interval; concurrent misses share one fetch; after the interval a new key (a rotation) is
/// found.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_jwks_refresh_is_throttled() {
    // Within the interval (a minute): the keys were just fetched, so 50 unknown keys make no
    // request to the issuer, and the good token keeps passing from the cache.
    let issuer = Issuer::start().await;
    let (server, _upstream) = protected(&issuer, |c| {
        c.jwks_url = Some(issuer.jwks_url());
        c.min_refresh_interval = Duration::from_secs(60);
    })
    .await;
    let resource = format!("http://127.0.0.1:{}/mcp", server.addr.port());
    let good = issuer.sign(&issuer.es256, &issuer.claims(&resource, "mcp"));
    assert_eq!(
        post(&server, INITIALIZE, Some(&good)).await.0,
        StatusCode::OK
    );
    assert_eq!(issuer.jwks_requests(), 1);
    flood(&issuer, &server, &resource, 1).await;
    flood(&issuer, &server, &resource, 2).await;
    assert_eq!(issuer.jwks_requests(), 1, "no refresh within the interval");
    assert_eq!(
        post(&server, INITIALIZE, Some(&good)).await.0,
        StatusCode::OK
    );
    assert_eq!(issuer.jwks_requests(), 1);

    // A short interval and an empty cache: 50 misses at once share the one fetch that is due
    // (one more per interval at most, should the flood itself outlast an interval).
    let issuer = Issuer::start().await;
    let interval = Duration::from_secs(2);
    let (server, upstream) = protected(&issuer, |c| {
        c.jwks_url = Some(issuer.jwks_url());
        c.min_refresh_interval = interval;
    })
    .await;
    let resource = format!("http://127.0.0.1:{}/mcp", server.addr.port());
    let started = std::time::Instant::now();
    flood(&issuer, &server, &resource, 3).await;
    let allowed = 1 + (started.elapsed().as_secs_f64() / interval.as_secs_f64()) as usize;
    let fetched = issuer.jwks_requests();
    assert!(
        (1..=allowed).contains(&fetched),
        "{fetched} JWKS requests for 50 misses in {:?} (at most {allowed})",
        started.elapsed()
    );

    // A rotation: the issuer publishes a new key; once the interval has passed, a token signed
    // with it makes one refresh and is accepted.
    let rotated = SigningKey::generate("rotated", Algorithm::ES256);
    issuer.publish(&rotated);
    let token = issuer.sign(&rotated, &issuer.claims(&resource, "mcp"));
    tokio::time::sleep(interval + Duration::from_millis(100)).await;
    let (status, _, body) = post(&server, LIST_PETS, Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(issuer.jwks_requests(), fetched + 1);
    assert_eq!(upstream.received(), vec!["GET /v1/pets"]);
}

#[tokio::test]
async fn a_static_token_and_oauth_together_fail_at_start() {
    let issuer = Issuer::start().await;
    let both = ServerConfig {
        auth_token: Some(codemode_engine::upstream::Secret::new("s3cret".to_string())),
        oauth: Some(OAuthConfig::new(
            issuer.url.clone(),
            "http://127.0.0.1:9/mcp",
        )),
        ..ServerConfig::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let error =
        codemode_mcp::serve_http_listener(build_engine(PETSTORE, None), both, listener, async {})
            .await
            .expect_err("refused");
    assert_eq!(
        error.to_string(),
        "a static bearer token and oauth are both configured; choose one"
    );

    let mut refused = OAuthConfig::new(issuer.url.clone(), "http://127.0.0.1:9/mcp");
    refused.algorithms = vec!["ES256".into(), "none".into()];
    let config = ServerConfig {
        oauth: Some(refused),
        ..ServerConfig::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let error = codemode_mcp::serve_http_listener(
        build_engine(PETSTORE, None),
        config.clone(),
        listener,
        async {},
    )
    .await
    .expect_err("refused");
    assert_eq!(
        format!(
            "{}: {}",
            error,
            std::error::Error::source(&error).expect("a cause")
        ),
        r#"invalid oauth config: algorithm "none" is never accepted: it accepts unsigned tokens"#
    );
    assert!(codemode_mcp::try_router(build_engine(PETSTORE, None), config.clone()).is_err());
    let error = codemode_mcp::serve_io(
        build_engine(PETSTORE, None),
        ServerConfig {
            oauth: config.oauth,
            ..ServerConfig::default()
        },
        tokio::io::empty(),
        tokio::io::sink(),
    )
    .await
    .expect_err("stdio refuses oauth");
    assert!(
        error
            .to_string()
            .starts_with("oauth protects the HTTP endpoint only"),
        "{error}"
    );
}

/// While the issuer cannot be reached, keys past their age keep verifying for one more
/// `max_key_age`, then no longer: blocking the issuer cannot keep a withdrawn key valid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_keys_outlive_an_unreachable_issuer_only_for_a_while() {
    let issuer = Issuer::start().await;
    let max_age = Duration::from_secs(1);
    let (server, _upstream) = protected(&issuer, |c| {
        c.jwks_url = Some(issuer.jwks_url());
        c.max_key_age = max_age;
        c.min_refresh_interval = Duration::ZERO;
    })
    .await;
    let resource = format!("http://127.0.0.1:{}/mcp", server.addr.port());
    let fetched = std::time::Instant::now();
    // A new token each time: a token verified lately is remembered only while its keys are fresh.
    let fresh_token = |n: u64| {
        let mut claims = issuer.claims(&resource, "mcp");
        claims["jti"] = json!(n);
        issuer.sign(&issuer.es256, &claims)
    };
    let (status, _, body) = post(&server, LIST_PETS, Some(&fresh_token(1))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    issuer.set_mode(JwksMode::Down);
    tokio::time::sleep(max_age + Duration::from_millis(300)).await;
    let (status, _, body) = post(&server, LIST_PETS, Some(&fresh_token(2))).await;
    if fetched.elapsed() < max_age * 2 {
        assert_eq!(status, StatusCode::OK, "stale keys still verify: {body}");
    }
    tokio::time::sleep(
        (max_age * 2).saturating_sub(fetched.elapsed()) + Duration::from_millis(200),
    )
    .await;
    let (status, challenge, body) = post(&server, LIST_PETS, Some(&fresh_token(3))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(
        challenge.contains("signing keys are unavailable"),
        "{challenge}"
    );
    issuer.set_mode(JwksMode::Serve);
}

/// With `require_at_jwt`, a token of the right issuer and audience that is not marked as an
/// access token (an ID token, `typ: JWT`) gets 401; one marked `at+jwt` passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_token_cannot_pass_for_an_access_token_when_asked() {
    let issuer = Issuer::start().await;
    let (server, upstream) = protected(&issuer, |c| c.require_at_jwt = true).await;
    let resource = format!("http://127.0.0.1:{}/mcp", server.addr.port());
    let claims = issuer.claims(&resource, "mcp");
    let mut header = jsonwebtoken::Header::new(issuer.es256.alg);
    header.kid = Some(issuer.es256.kid.clone());
    header.typ = Some("JWT".into());
    let id_token = jsonwebtoken::encode(&header, &claims, &issuer.es256.encoding).expect("signs");
    let (status, challenge, body) = post(&server, LIST_PETS, Some(&id_token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(challenge.contains("typ is not at+jwt"), "{challenge}");
    assert!(upstream.received().is_empty());
    let access_token = issuer.sign(&issuer.es256, &claims);
    let (status, _, body) = post(&server, LIST_PETS, Some(&access_token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
