//! Overhead of one `Session::call` (validate, serialize, send, parse, redact) against a bare
//! reqwest call to the same local server, written the way a user would: one keep-alive client
//! with the same user agent, URL built and body serialized per call, bearer header, body read
//! and parsed as JSON. Before timing, both sides send one request of each kind to a capturing
//! server and the bench refuses to run unless the two are identical on the wire.
//! Run: `cargo bench -p codemode-upstream --bench call_overhead`. Extra modes:
//! `BENCH_SEND_ONLY=1` (send alone, cold prepare), `BENCH_LOOP=ours|bare [BENCH_LOOP_N=n]`
//! (one side only, for `perf`/`valgrind --tool=callgrind`), `BENCH_FUTURE_SIZES=1`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use codemode_upstream::{
    Client, Credential, ResponseHeaders, Secret, SessionLimits, UpstreamConfig,
};
use serde_json::{Value, json};

const SPEC: &str = r##"{
  "openapi": "3.1.0",
  "info": {"title": "bench", "version": "1"},
  "components": {
    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    "schemas": {"Pet": {"type": "object", "required": ["name"], "properties": {
      "name": {"type": "string"}, "tag": {"type": "string"},
      "status": {"type": "string", "enum": ["available", "pending", "sold"]},
      "owner": {"type": "object", "properties": {"email": {"type": "string", "format": "email"}}}
    }}}
  },
  "paths": {
    "/pets/{petId}": {"get": {"operationId": "getPet",
      "parameters": [{"name": "petId", "in": "path", "required": true, "schema": {"type": "integer"}},
                     {"name": "fields", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}}],
      "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}}}}},
    "/pets": {"post": {"operationId": "createPet",
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}},
      "responses": {"201": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}}}}}
  }
}"##;

const RESPONSE: &str =
    r#"{"id":1,"name":"Rex","tag":"dog","status":"available","owner":{"email":"a@b.co"}}"#;
const ROUNDS: usize = 10;
const PER_ROUND: usize = 300;

/// Serves `app` on `listener` and builds our client for it, with `token` as the bearer credential:
/// the base URL and the client.
fn serve_with_client(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    token: &str,
) -> (String, Client) {
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let base = format!("http://{addr}/v1");
    let spec = Arc::new(codemode_spec::load_str("bench.json", SPEC).expect("spec"));
    let client = Client::new(
        spec,
        UpstreamConfig {
            base_url: base.clone(),
            credentials: vec![Credential::Bearer(Secret::new(token))],
            ..UpstreamConfig::default()
        },
    )
    .expect("client");
    (base, client)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run());
}

async fn run() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let app = axum::Router::new().fallback(|| async {
        (
            StatusCode::OK,
            [("content-type", "application/json")],
            RESPONSE,
        )
    });
    let (base, client) = serve_with_client(listener, app, "bench-token-123");
    let session = client.session(SessionLimits {
        max_calls: u32::MAX,
        ..SessionLimits::default()
    });
    // What a user would write by hand: one client (keep-alive pool), same user agent, no
    // redirects or proxies (as ours), bearer header, URL built and body serialized per call.
    let bare = Bare {
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(UpstreamConfig::default().user_agent)
            .build()
            .expect("reqwest"),
        base: base.clone(),
        token: "bench-token-123".to_string(),
    };

    let get_args = json!({"petId": 1, "fields": ["name", "tag"]});
    let post_args = json!({"body": {"name": "Rex", "tag": "dog", "owner": {"email": "a@b.co"}}});
    let pet = post_args["body"].clone();
    assert_same_requests(&bare, &get_args, &post_args, &pet).await;

    // Warm up connections and the validator cache.
    for _ in 0..200 {
        bare.get(1, &["name", "tag"]).await;
        bare.post(&pet).await;
        session.call("getPet", &get_args).await.expect("call");
        session.call("createPet", &post_args).await.expect("call");
    }

    if std::env::var_os("BENCH_FUTURE_SIZES").is_some() {
        let ours = session.call("getPet", &get_args);
        let theirs = bare.get(1, &["name", "tag"]);
        println!(
            "future sizes: Session::call {} bytes, bare get {} bytes",
            std::mem::size_of_val(&ours),
            std::mem::size_of_val(&theirs)
        );
    }
    // For profiling (`perf record`): one side only, many calls, no report.
    if let Ok(side) = std::env::var("BENCH_LOOP") {
        let rounds = std::env::var("BENCH_LOOP_N")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(30_000);
        for _ in 0..rounds {
            if side == "bare" {
                bare.get(1, &["name", "tag"]).await;
                bare.post(&pet).await;
            } else {
                session.call("getPet", &get_args).await.expect("call");
                session.call("createPet", &post_args).await.expect("call");
            }
        }
        return;
    }
    let (mut bare_gets, mut our_gets, mut bare_posts, mut our_posts) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    // Interleaved rounds so drift in machine load hits both sides alike.
    for _ in 0..ROUNDS {
        for _ in 0..PER_ROUND {
            let t = Instant::now();
            bare.get(1, &["name", "tag"]).await;
            bare_gets.push(t.elapsed());
            let t = Instant::now();
            session.call("getPet", &get_args).await.expect("call");
            our_gets.push(t.elapsed());
            let t = Instant::now();
            bare.post(&pet).await;
            bare_posts.push(t.elapsed());
            let t = Instant::now();
            session.call("createPet", &post_args).await.expect("call");
            our_posts.push(t.elapsed());
        }
    }
    // The engine's path for `await api.x(args)` when nobody reviews the request (no dry run, no
    // confirmation): `prepare_unreviewed` then `send_keeping` without the shown headers,
    // interleaved with the same bare calls.
    let (mut bare_engine, mut our_engine) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        for _ in 0..PER_ROUND / 2 {
            for (name, args) in [("getPet", &get_args), ("createPet", &post_args)] {
                let t = Instant::now();
                if name == "getPet" {
                    bare.get(1, &["name", "tag"]).await;
                } else {
                    bare.post(&pet).await;
                }
                bare_engine.push(t.elapsed());
                let t = Instant::now();
                let prepared = session.prepare_unreviewed(name, args).expect("prepare");
                let response = session
                    .send_keeping(prepared, ResponseHeaders::Skip)
                    .await
                    .expect("send");
                std::hint::black_box(response);
                our_engine.push(t.elapsed());
            }
        }
    }
    let prepare_only = {
        let t = Instant::now();
        for _ in 0..10_000 {
            session.prepare("createPet", &post_args).expect("prepare");
        }
        t.elapsed() / 10_000
    };

    println!(
        "call overhead vs bare reqwest, {} calls each, local axum server",
        ROUNDS * PER_ROUND
    );
    report(
        "GET  /pets/{petId} (path+query)",
        &mut bare_gets,
        &mut our_gets,
    );
    report(
        "POST /pets (json body, $ref schema)",
        &mut bare_posts,
        &mut our_posts,
    );
    report(
        "GET+POST via prepare_unreviewed + send_keeping (engine path)",
        &mut bare_engine,
        &mut our_engine,
    );
    println!("prepare(createPet) alone: {:.1} µs", micros(prepare_only));
    if std::env::var_os("BENCH_SEND_ONLY").is_some() {
        let prepared = session.prepare("getPet", &get_args).expect("prepare");
        let (mut bare_only, mut send_only) = (Vec::new(), Vec::new());
        for _ in 0..3000 {
            let t = Instant::now();
            bare.get(1, &["name", "tag"]).await;
            bare_only.push(t.elapsed());
            let request = prepared.clone();
            let t = Instant::now();
            session.send(request).await.expect("send");
            send_only.push(t.elapsed());
        }
        report("send only (GET)", &mut bare_only, &mut send_only);
        let (mut cold_prepare, mut cold_find) = (Vec::new(), Vec::new());
        for _ in 0..3000 {
            bare.get(1, &["name", "tag"]).await;
            let t = Instant::now();
            let prepared = session.prepare("getPet", &get_args).expect("prepare");
            cold_prepare.push(t.elapsed());
            std::hint::black_box(prepared);
            bare.get(1, &["name", "tag"]).await;
            let t = Instant::now();
            let err = session.prepare("nope", &get_args).is_err();
            cold_find.push(t.elapsed());
            std::hint::black_box(err);
        }
        println!(
            "prepare(getPet) after a network call: p50 {:.1} µs; failed lookup: p50 {:.1} µs",
            micros(percentile(&mut cold_prepare, 0.5)),
            micros(percentile(&mut cold_find, 0.5))
        );
    }
    precompile_real_specs();
}

/// Time to compile every operation's validator for the big real specs (done once per client).
fn precompile_real_specs() {
    for file in ["stripe-spec3.yaml", "github-api.github.com.json.gz"] {
        let path = codemode_test_support::spec_path(file);
        let path = path.to_string_lossy();
        let Ok(loaded) = codemode_spec::load(&path, &codemode_spec::LoadOptions::default()) else {
            println!("{file}: not available");
            continue;
        };
        let client = Client::new(
            Arc::new(loaded.spec),
            UpstreamConfig {
                base_url: "https://api.example.test".into(),
                ..UpstreamConfig::default()
            },
        )
        .expect("client");
        let report = client.precompile();
        println!(
            "{file}: precompiled {} operation validators in {:.0} ms ({:.2} ms each), {} without validation",
            report.operations,
            report.elapsed.as_secs_f64() * 1000.0,
            report.elapsed.as_secs_f64() * 1000.0 / report.operations.max(1) as f64,
            report.without_validation.len()
        );
    }
}

/// The hand-written baseline.
struct Bare {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Bare {
    async fn get(&self, pet_id: u64, fields: &[&str]) -> Value {
        let mut url = format!("{}/pets/{pet_id}", self.base);
        for (i, field) in fields.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str("fields=");
            url.push_str(field);
        }
        let response = self
            .client
            .get(url)
            .bearer_auth(&self.token)
            .header("accept", "application/json")
            .send()
            .await
            .expect("send");
        let bytes = response.bytes().await.expect("body");
        serde_json::from_slice(&bytes).expect("json")
    }

    async fn post(&self, pet: &Value) -> Value {
        let response = self
            .client
            .post(format!("{}/pets", self.base))
            .bearer_auth(&self.token)
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .body(serde_json::to_vec(pet).expect("json"))
            .send()
            .await
            .expect("send");
        let bytes = response.bytes().await.expect("body");
        serde_json::from_slice(&bytes).expect("json")
    }
}

/// Refuses to benchmark unless both sides put the same request on the wire (request line,
/// every header, body), captured by a second local server.
async fn assert_same_requests(bare: &Bare, get_args: &Value, post_args: &Value, pet: &Value) {
    type Seen = Arc<std::sync::Mutex<Vec<String>>>;
    let seen: Seen = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let record = seen.clone();
    let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
        let record = record.clone();
        async move {
            let (parts, body) = request.into_parts();
            let body = axum::body::to_bytes(body, 1 << 20)
                .await
                .unwrap_or_default();
            let mut headers: Vec<String> = parts
                .headers
                .iter()
                .filter(|(name, _)| name.as_str() != "host")
                .map(|(name, value)| format!("{name}: {}", value.to_str().unwrap_or("?")))
                .collect();
            headers.sort();
            let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("");
            record.lock().expect("lock").push(format!(
                "{} {path} {:?}\n{}\n{}",
                parts.method,
                parts.version,
                headers.join("\n"),
                String::from_utf8_lossy(&body)
            ));
            ([("content-type", "application/json")], RESPONSE)
        }
    });
    let (base, client) = serve_with_client(listener, app, &bare.token);
    let session = client.session(SessionLimits::default());
    let bare = Bare {
        client: bare.client.clone(),
        base,
        token: bare.token.clone(),
    };
    bare.get(1, &["name", "tag"]).await;
    session.call("getPet", get_args).await.expect("call");
    bare.post(pet).await;
    session.call("createPet", post_args).await.expect("call");
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 4);
    assert_eq!(seen[0], seen[1], "GET requests differ");
    assert_eq!(seen[2], seen[3], "POST requests differ");
    println!("request shape: identical on the wire (GET and POST: request line, headers, body)");
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[index]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn report(label: &str, bare: &mut [Duration], ours: &mut [Duration]) {
    let (b50, o50) = (percentile(bare, 0.5), percentile(ours, 0.5));
    let (b90, o90) = (percentile(bare, 0.9), percentile(ours, 0.9));
    println!(
        "{label}: bare p50 {:.1} µs p90 {:.1} µs | codemode p50 {:.1} µs p90 {:.1} µs | ratio p50 {:.3}x p90 {:.3}x",
        micros(b50),
        micros(b90),
        micros(o50),
        micros(o90),
        micros(o50) / micros(b50),
        micros(o90) / micros(b90),
    );
}
