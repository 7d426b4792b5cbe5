//! End-to-end execute figures: a program's overhead over the calls it makes, and how well
//! `Promise.all` overlaps upstream calls. Plain `main` (harness = false); every figure is printed
//! next to its baseline from the same run.
//!
//! Run: `cargo bench -p codemode-engine --bench execute`

use std::time::{Duration, Instant};

use codemode_engine::upstream::UpstreamConfig;
use codemode_engine::{Engine, EngineConfig, ExecuteRequest, SessionSettings};

const SPEC: &str = r#"
openapi: 3.0.3
info: {title: Bench, version: "1"}
paths:
  /fast/{id}:
    get:
      operationId: getFast
      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
      responses: {"200": {description: ok, content: {application/json: {schema: {type: object}}}}}
  /slow/{id}:
    get:
      operationId: getSlow
      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
      responses: {"200": {description: ok, content: {application/json: {schema: {type: object}}}}}
"#;

const UPSTREAM_LATENCY: Duration = Duration::from_millis(50);

async fn upstream() -> String {
    use axum::extract::Path;
    use axum::routing::get;
    let app = axum::Router::new()
        .route(
            "/fast/{id}",
            get(|Path(id): Path<u64>| async move { axum::Json(serde_json::json!({ "id": id })) }),
        )
        .route(
            "/slow/{id}",
            get(|Path(id): Path<u64>| async move {
                tokio::time::sleep(UPSTREAM_LATENCY).await;
                axum::Json(serde_json::json!({ "id": id }))
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn time_program(engine: &Engine, code: &str, runs: usize) -> Vec<Duration> {
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        let outcome = engine
            .execute(ExecuteRequest {
                code: code.into(),
                ..Default::default()
            })
            .await;
        samples.push(started.elapsed());
        assert!(outcome.result.is_ok(), "{outcome:?}");
    }
    samples
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let base_url = upstream().await;
        let spec = codemode_engine::spec::load_str("bench.yaml", SPEC).unwrap();
        let config = EngineConfig {
            // The figure is about overlap, so let all 50 calls be in flight at once (the defaults
            // allow 10 per run and 32 per upstream, to be gentle with production APIs).
            upstream: Some(UpstreamConfig { base_url: base_url.clone(), max_in_flight_per_upstream: 64, ..UpstreamConfig::default() }),
            session: SessionSettings { max_calls: 100, max_in_flight: 50 },
            ..EngineConfig::default()
        };
        let engine = Engine::new(spec, config).unwrap();
        // The engine above installed the crypto provider reqwest needs (see codemode-upstream's
        // `install_crypto_provider`).
        let client = reqwest::Client::new();

        // Warm up connections and caches.
        time_program(&engine, "await api.getFast({ id: 1 })", 50).await;

        let mut bare = Vec::new();
        for i in 0..300 {
            let started = Instant::now();
            let body: serde_json::Value = client.get(format!("{base_url}/fast/{i}")).send().await.unwrap().json().await.unwrap();
            bare.push(started.elapsed());
            assert!(body.is_object());
        }
        let mut trivial = time_program(&engine, "return 1", 300).await;
        let mut one_call = time_program(&engine, "return (await api.getFast({ id: 7 })).id", 300).await;
        let mut ten_calls =
            time_program(&engine, "const r = await Promise.all([...Array(10).keys()].map(id => api.getFast({ id }))); return r.length", 100).await;

        let bare_p50 = percentile(&mut bare, 0.5);
        let trivial_p50 = percentile(&mut trivial, 0.5);
        println!("## execute overhead (local upstream, no latency)");
        println!("| what | p50 ms | p99 ms | ratio to bare reqwest call p50 |");
        println!("| --- | --- | --- | --- |");
        println!("| bare reqwest GET + JSON parse (baseline) | {:.3} | {:.3} | 1.00x |", ms(bare_p50), ms(percentile(&mut bare, 0.99)));
        for (name, samples) in [("execute `return 1` (no call)", &mut trivial), ("execute with 1 call", &mut one_call), ("execute with 10 calls in Promise.all", &mut ten_calls)] {
            let p50 = percentile(samples, 0.5);
            println!("| {name} | {:.3} | {:.3} | {:.2}x |", ms(p50), ms(percentile(samples, 0.99)), ms(p50) / ms(bare_p50));
        }
        let one_call_p50 = percentile(&mut one_call, 0.5);
        println!(
            "\nper-call cost inside a program (1-call p50 minus no-call p50) vs bare call: {:.3} ms vs {:.3} ms = {:.2}x",
            ms(one_call_p50.saturating_sub(trivial_p50)),
            ms(bare_p50),
            ms(one_call_p50.saturating_sub(trivial_p50)) / ms(bare_p50)
        );

        let mut single = time_program(&engine, "return (await api.getSlow({ id: 1 })).id", 20).await;
        let mut fifty =
            time_program(&engine, "const r = await Promise.all([...Array(50).keys()].map(id => api.getSlow({ id }))); return r.length", 10).await;
        let single_p50 = percentile(&mut single, 0.5);
        let fifty_p50 = percentile(&mut fifty, 0.5);
        println!("\n## Promise.all overlap (upstream latency {} ms)", UPSTREAM_LATENCY.as_millis());
        println!("| what | p50 ms | ratio to one call |");
        println!("| --- | --- | --- |");
        println!("| one call (baseline) | {:.1} | 1.00x |", ms(single_p50));
        println!("| 50 calls in Promise.all | {:.1} | {:.2}x (target ≤ 2x) |", ms(fifty_p50), ms(fifty_p50) / ms(single_p50));
    });
}
