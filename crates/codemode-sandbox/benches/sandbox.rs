//! Sandbox benchmarks (plain main, no harness): fresh-context latency for a trivial script with and
//! without TypeScript, parallel throughput, and a script awaiting 100 host calls. Every figure is
//! printed next to a baseline measured in the same run (an empty rquickjs runtime + context + eval).
//!
//! Run: `CARGO_TARGET_DIR=/work/target-sandbox cargo bench -p codemode-sandbox --bench sandbox`
//!
//! The latency figures end when the caller has its answer: a worker frees the run's runtime after
//! replying, so that cost shows in the throughput figure instead.
//!
//! `-- --profile-loop SECONDS [CODE]` instead runs CODE (default `1 + 1`) through a one-worker pool
//! for that long and prints the run count: a steady loop to put under `perf record` or
//! `valgrind --tool=callgrind` (instruction counts per run do not depend on the machine's load).

use std::sync::Arc;
use std::time::{Duration, Instant};

use codemode_sandbox::{
    Host, HostError, HostFuture, RunRequest, Sandbox, SandboxConfig, strip_typescript,
};
use serde_json::Value;

/// A host whose only function, `echo`, answers immediately.
struct EchoHost;

impl Host for EchoHost {
    fn call(&self, _function: &str, arg: Value) -> HostFuture {
        Box::pin(async move { Ok::<Value, HostError>(arg) })
    }
}

fn request(code: &str) -> RunRequest {
    RunRequest {
        code: code.to_string(),
        async_functions: vec!["echo".to_string()],
        ..RunRequest::default()
    }
}

/// p50 and p99 of `samples`.
fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    (at(0.50), at(0.99))
}

fn time_each(iterations: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    for _ in 0..iterations / 10 {
        f();
    }
    let samples = (0..iterations)
        .map(|_| {
            let started = Instant::now();
            f();
            started.elapsed()
        })
        .collect();
    percentiles(samples)
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

/// Trivial runs through a one-worker pool for `seconds`, for profilers.
fn profile_loop(rt: &tokio::runtime::Runtime, seconds: u64, code: &str) {
    let sandbox = Sandbox::new(
        SandboxConfig {
            workers: 1,
            ..SandboxConfig::default()
        },
        rt.handle().clone(),
    );
    let host: Arc<dyn Host> = Arc::new(EchoHost);
    let started = Instant::now();
    let mut runs = 0u64;
    while started.elapsed() < Duration::from_secs(seconds) {
        rt.block_on(sandbox.run(request(code), Arc::clone(&host)))
            .expect("run succeeds");
        runs += 1;
    }
    println!("profile loop: {runs} runs of {code:?} in {seconds} s");
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio");
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--profile-loop") {
        let seconds = args.get(at + 1).and_then(|s| s.parse().ok()).unwrap_or(10);
        // `cargo bench` appends `--bench` to the arguments.
        let code = args
            .get(at + 2)
            .filter(|a| !a.starts_with("--"))
            .map_or("1 + 1", String::as_str);
        profile_loop(&rt, seconds, code);
        return;
    }
    let iterations = 2000;

    let (base_p50, base_p99) = time_each(iterations, || {
        let runtime = rquickjs::Runtime::new().expect("runtime");
        let context = rquickjs::Context::full(&runtime).expect("context");
        context.with(|ctx| {
            let _: i32 = ctx.eval("1 + 1").expect("eval");
        });
    });
    println!(
        "baseline: empty rquickjs runtime+context+eval      p50 {} p99 {}",
        ms(base_p50),
        ms(base_p99)
    );

    let sandbox = Sandbox::new(
        SandboxConfig {
            workers: 2,
            queue_capacity: 10_000,
            ..SandboxConfig::default()
        },
        rt.handle().clone(),
    );
    let host: Arc<dyn Host> = Arc::new(EchoHost);
    let run = |code: &str| {
        rt.block_on(sandbox.run(request(code), Arc::clone(&host)))
            .expect("run succeeds");
    };

    let (p50, p99) = time_each(iterations, || run("1 + 1"));
    println!(
        "sandbox: trivial script, fresh context (via pool)    p50 {} p99 {}  ({:.1}x baseline p50)",
        ms(p50),
        ms(p99),
        p50.as_secs_f64() / base_p50.as_secs_f64()
    );

    let (p50, p99) = time_each(iterations, || {
        run("async () => { const x = 20; return x + 22 }")
    });
    println!(
        "sandbox: async arrow form                            p50 {} p99 {}  ({:.1}x baseline p50)",
        ms(p50),
        ms(p99),
        p50.as_secs_f64() / base_p50.as_secs_f64()
    );

    let ts = "interface P { n: number }\nconst p: P = { n: 41 };\nreturn (p.n as number) + 1;";
    let (p50, p99) = time_each(iterations, || run(ts));
    println!(
        "sandbox: trivial TypeScript (strip + run)            p50 {} p99 {}  ({:.1}x baseline p50)",
        ms(p50),
        ms(p99),
        p50.as_secs_f64() / base_p50.as_secs_f64()
    );
    let (p50, p99) = time_each(iterations, || {
        strip_typescript(ts).expect("strips");
    });
    println!(
        "strip_typescript alone                               p50 {} p99 {}",
        ms(p50),
        ms(p99)
    );

    let sequential_awaits = "for (let i = 0; i < 100; i++) await echo(i); 1";
    let (p50, p99) = time_each(200, || run(sequential_awaits));
    println!(
        "sandbox: 100 sequential awaited host calls           p50 {} p99 {}  ({:.1}x baseline p50)",
        ms(p50),
        ms(p99),
        p50.as_secs_f64() / base_p50.as_secs_f64()
    );
    let parallel_awaits =
        "(await Promise.all(Array.from({ length: 100 }, (_, i) => echo(i)))).length";
    let (p50, p99) = time_each(200, || run(parallel_awaits));
    println!(
        "sandbox: Promise.all of 100 host calls               p50 {} p99 {}  ({:.1}x baseline p50)",
        ms(p50),
        ms(p99),
        p50.as_secs_f64() / base_p50.as_secs_f64()
    );

    // Baseline throughput: two plain threads creating empty rquickjs runtimes for the same number of runs.
    let runs = 6000;
    let started = Instant::now();
    let threads: Vec<_> = (0..2)
        .map(|_| {
            std::thread::spawn(move || {
                for _ in 0..runs / 2 {
                    let runtime = rquickjs::Runtime::new().expect("runtime");
                    let context = rquickjs::Context::full(&runtime).expect("context");
                    context.with(|ctx| {
                        let _: i32 = ctx.eval("1 + 1").expect("eval");
                    });
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("joins");
    }
    let baseline_per_second = runs as f64 / started.elapsed().as_secs_f64();
    println!(
        "baseline: {runs} empty rquickjs runs on 2 threads       {baseline_per_second:.0} runs/s"
    );

    let sandbox = Arc::new(sandbox);
    let started = Instant::now();
    rt.block_on(async {
        let tasks: Vec<_> = (0..runs)
            .map(|_| {
                let sandbox = Arc::clone(&sandbox);
                let host = Arc::clone(&host);
                tokio::spawn(async move { sandbox.run(request("1 + 1"), host).await })
            })
            .collect();
        for task in tasks {
            task.await.expect("joins").expect("run succeeds");
        }
    });
    let elapsed = started.elapsed();
    let per_second = runs as f64 / elapsed.as_secs_f64();
    println!(
        "throughput: {runs} trivial runs on 2 workers          {per_second:.0} runs/s  ({:.2}x the baseline)",
        per_second / baseline_per_second
    );
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "machine load average while benchmarking: {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
}
