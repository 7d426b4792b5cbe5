//! What OAuth costs per request: the same MCP `ping` over streamable HTTP to three servers in
//! one run (no token check, the static bearer token, OAuth access tokens with the JWKS cached),
//! taking turns within every iteration so load from elsewhere spreads evenly; and
//! `Verifier::verify` alone, in process, per algorithm. Plain `main`, no harness:
//! `cargo bench -p codemode-mcp --bench oauth`

// The shared test plumbing (engine builder, HTTP server, the test issuer).
#[path = "../tests/it/support/mod.rs"]
#[allow(unused_imports)]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use codemode_mcp::ServerConfig;
use codemode_mcp::oauth::{OAuthConfig, Verifier};

use support::issuer::{Issuer, SigningKey};
use support::{HttpServer, PETSTORE, build_engine, start_http_on};

const WARMUP: usize = 200;
const ITERATIONS: usize = 3000;
const VERIFY_ITERATIONS: usize = 5000;
const PING: &str = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
const EXECUTE: &str = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"execute","arguments":{"code":"return 1"}}}"#;

struct Target {
    label: String,
    server: HttpServer,
    /// Request `i` sends `tokens[i % len]`; none when empty.
    tokens: Vec<String>,
}

async fn protected(issuer: &Issuer, engine: Arc<codemode_engine::Engine>) -> (HttpServer, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let resource = format!(
        "http://127.0.0.1:{}/mcp",
        listener.local_addr().expect("addr").port()
    );
    let mut oauth = OAuthConfig::new(issuer.url.clone(), resource.clone());
    oauth.required_scopes = vec!["mcp".into()];
    oauth.jwks_url = Some(issuer.jwks_url());
    let config = ServerConfig {
        oauth: Some(oauth),
        ..ServerConfig::default()
    };
    (start_http_on(listener, engine, config).await, resource)
}

async fn ping(http: &reqwest::Client, target: &Target, body: &'static str, i: usize) -> Duration {
    let mut request = http
        .post(target.server.url())
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .body(body);
    if !target.tokens.is_empty() {
        request = request.bearer_auth(&target.tokens[i % target.tokens.len()]);
    }
    let started = Instant::now();
    let response = request.send().await.expect("answered");
    let status = response.status();
    let body = response.bytes().await.expect("a body");
    let took = started.elapsed();
    assert!(status.is_success(), "{}: {status} {body:?}", target.label);
    took
}

fn stats(samples: &mut [Duration]) -> (f64, f64, f64) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let at = |q: f64| ms(samples[((samples.len() as f64 - 1.0) * q).round() as usize]);
    let mean = samples.iter().map(|d| ms(*d)).sum::<f64>() / samples.len() as f64;
    (at(0.5), at(0.99), mean)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let issuer = Issuer::start().await;
    let rs256 = SigningKey::generate("rsa-1", jsonwebtoken::Algorithm::RS256);
    issuer.publish(&rs256);
    let engine = build_engine(PETSTORE, None);
    let mut targets = Vec::new();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    targets.push(Target {
        label: "no token check".into(),
        server: start_http_on(listener, engine.clone(), ServerConfig::default()).await,
        tokens: Vec::new(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let static_config = ServerConfig {
        auth_token: Some(codemode_engine::upstream::Secret::new(
            "a-static-token".to_string(),
        )),
        ..ServerConfig::default()
    };
    targets.push(Target {
        label: "static bearer token".into(),
        server: start_http_on(listener, engine.clone(), static_config).await,
        tokens: vec!["a-static-token".into()],
    });
    for key in [&rs256, &issuer.es256, &issuer.ed25519] {
        let (server, resource) = protected(&issuer, engine.clone()).await;
        let token = issuer.sign(key, &issuer.claims(&resource, "mcp"));
        targets.push(Target {
            label: format!("OAuth {:?}, the same token every request", key.alg),
            server,
            tokens: vec![token],
        });
        // Tokens differ by `jti`: each request's is new to the server, so its signature is checked.
        let (server, resource) = protected(&issuer, engine.clone()).await;
        let tokens = (0..2 * (WARMUP + ITERATIONS))
            .map(|i| {
                let mut claims = issuer.claims(&resource, "mcp");
                claims["jti"] = serde_json::json!(i);
                issuer.sign(key, &claims)
            })
            .collect();
        targets.push(Target {
            label: format!("OAuth {:?}, a new token every request", key.alg),
            server,
            tokens,
        });
    }

    codemode_engine::upstream::install_crypto_provider();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let mut sent = 0;
    for (what, body) in [("`ping`", PING), ("`execute` of `return 1`", EXECUTE)] {
        for _ in 0..WARMUP {
            for target in &targets {
                ping(&http, target, body, sent).await;
            }
            sent += 1;
        }
        let mut samples = vec![Vec::with_capacity(ITERATIONS); targets.len()];
        for _ in 0..ITERATIONS {
            for (i, target) in targets.iter().enumerate() {
                samples[i].push(ping(&http, target, body, sent).await);
            }
            sent += 1;
        }
        println!("MCP {what} over streamable HTTP, {ITERATIONS} requests per row, taking turns:\n");
        println!("| path | p50 ms | p99 ms | mean ms | mean vs no check | mean added µs |");
        println!("|---|---:|---:|---:|---:|---:|");
        let mut base = None;
        for (target, samples) in targets.iter().zip(samples.iter_mut()) {
            let (p50, p99, mean) = stats(samples);
            let base = *base.get_or_insert(mean);
            println!(
                "| {} | {p50:.3} | {p99:.3} | {mean:.3} | {:.2}x | {:.0} |",
                target.label,
                mean / base,
                (mean - base) * 1000.0
            );
        }
        println!();
    }

    // The verifier alone: the cost a request pays for its token, with the keys cached.
    println!("`Verifier::verify` in process, {VERIFY_ITERATIONS} calls per row (JWKS cached):\n");
    println!("| token | p50 µs | mean µs |");
    println!("|---|---:|---:|");
    let resource = "http://127.0.0.1:1/mcp";
    let mut config = OAuthConfig::new(issuer.url.clone(), resource);
    config.required_scopes = vec!["mcp".into()];
    config.jwks_url = Some(issuer.jwks_url());
    let verifier = Verifier::new(config).expect("a verifier");
    let unknown = SigningKey::generate("never-published", jsonwebtoken::Algorithm::ES256);
    for (label, key) in [
        ("RS256 (2048-bit)", &rs256),
        ("ES256", &issuer.es256),
        ("EdDSA", &issuer.ed25519),
        ("unknown kid (refused, no fetch)", &unknown),
    ] {
        let good = key.kid != "never-published";
        let same = issuer.sign(key, &issuer.claims(resource, "mcp"));
        let _ = verifier.verify(&same).await;
        let distinct: Vec<String> = (0..VERIFY_ITERATIONS)
            .map(|i| {
                let mut claims = issuer.claims(resource, "mcp");
                claims["jti"] = serde_json::json!(i);
                issuer.sign(key, &claims)
            })
            .collect();
        for (how, tokens) in [
            ("the same token", vec![same]),
            ("a new token each call", distinct),
        ] {
            let mut times = Vec::with_capacity(VERIFY_ITERATIONS);
            for i in 0..VERIFY_ITERATIONS {
                let token = &tokens[i % tokens.len()];
                let started = Instant::now();
                let outcome = verifier.verify(token).await;
                times.push(started.elapsed());
                assert_eq!(outcome.is_ok(), good, "{label}");
            }
            let (p50, _, mean) = stats(&mut times);
            println!(
                "| {label}, {how} | {:.1} | {:.1} |",
                p50 * 1000.0,
                mean * 1000.0
            );
        }
    }
    println!(
        "\nJWKS requests to the issuer during the whole run: {}",
        issuer.jwks_requests()
    );
}
