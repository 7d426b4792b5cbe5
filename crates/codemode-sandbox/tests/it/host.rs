//! Host functions: sync and async calls, errors with data, real overlap of async calls, the call
//! limit, the prelude, calls the program did not await, and the pool's busy error.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::common::*;
use codemode_sandbox::{Host, LogLevel, RunErrorKind, RunRequest, SandboxConfig};
use serde_json::json;

#[test]
fn async_and_sync_host_functions_return_json() {
    let rt = runtime();
    let sb = sandbox(&rt, quick_config());
    let code = "const e = await echo({ a: [1, 'two', null], d: new Date(0), u: undefined });\n\
                return { e, sum: add({ a: 2, b: 3 }) };";
    assert_eq!(
        ok(&rt, &sb, code),
        json!({"e": {"a": [1, "two", null], "d": "1970-01-01T00:00:00.000Z"}, "sum": 5})
    );
    assert_eq!(ok(&rt, &sb, "await echo()"), json!(null));
}

#[test]
fn host_errors_become_js_errors_with_data() {
    let rt = runtime();
    let sb = sandbox(&rt, quick_config());
    let code = "try { await fail(1) } catch (e) {\n\
                  return [e instanceof Error, e.name, e.message, e.status, e.body.error];\n\
                }";
    assert_eq!(
        ok(&rt, &sb, code),
        json!([
            true,
            "HttpError",
            "request failed with status 404",
            404,
            "not found"
        ])
    );
    let code = "try { missing(1) } catch (e) { return [e.name, e.message, e.code] }";
    assert_eq!(
        ok(&rt, &sb, code),
        json!(["TypeError", "missing is not available", 7])
    );
    // Uncaught, it is an Exception naming the host error, located at the agent's await when possible.
    let error = err(&rt, &sb, "const x = 1;\nawait fail(x);");
    assert_eq!(error.kind, RunErrorKind::Exception);
    assert_eq!(error.message, "HttpError: request failed with status 404");
    assert_eq!(error.line, Some(2), "{error:?}");
}

#[test]
fn calls_the_program_did_not_await_are_completed_and_reported() {
    let rt = runtime();
    let sb = sandbox(&rt, quick_config());
    let host = TestHost::default();
    let stats = Arc::clone(&host.stats);
    let code = "sleep(100);\nsleep(50).then(() => sleep(50));\nreturn 'done'";
    let output = rt
        .block_on(sb.run(request(code), Arc::new(host)))
        .expect("the run succeeds");
    assert_eq!(output.result, json!("done"));
    // All three calls ran to their end, the one started from the then() included.
    assert_eq!(stats.calls.load(Ordering::SeqCst), 3);
    assert_eq!(
        stats.active.load(Ordering::SeqCst),
        0,
        "no call was cut off"
    );
    let warnings: Vec<&str> = output
        .logs
        .iter()
        .filter(|line| line.level == LogLevel::Warn)
        .map(|line| line.text.as_str())
        .collect();
    assert_eq!(warnings.len(), 1, "{:?}", output.logs);
    assert!(
        warnings[0].contains("2 calls were still pending"),
        "{warnings:?}"
    );
    // A forgotten call that fails is not lost either.
    let error = err(&rt, &sb, "fail(1);\nreturn 'done'");
    assert!(
        error.message.contains("unhandled promise rejection"),
        "{error:?}"
    );
    assert!(error.message.contains("404"), "{error:?}");
    // Timers are not waited for.
    let started = Instant::now();
    assert_eq!(
        ok(&rt, &sb, "setTimeout(() => {}, 1000); 'now'"),
        json!("now")
    );
    assert!(started.elapsed() < Duration::from_millis(900));
    // A program that threw reports its own error at once.
    let started = Instant::now();
    let error = err(&rt, &sb, "sleep(1000);\nthrow new Error('bad input')");
    assert!(error.message.contains("bad input"), "{error:?}");
    assert!(started.elapsed() < Duration::from_millis(900));
}

#[test]
fn the_wait_for_unawaited_calls_ends_at_the_deadline_and_keeps_the_result() {
    let rt = runtime();
    let sb = sandbox(&rt, quick_config());
    // The loser of a race is still running when the program returns.
    let output = run_with(
        &rt,
        &sb,
        "return await Promise.race([sleep(20), sleep(60000)])",
    )
    .expect("the program's result stands");
    assert_eq!(output.result, json!(20));
    let last = output.logs.last().map(|line| line.text.as_str());
    assert_eq!(
        last,
        Some("1 call the program did not await was cut off at the run's deadline.")
    );
}

#[test]
fn set_timeout_is_host_backed_and_clearable() {
    let rt = runtime();
    let sb = sandbox(&rt, quick_config());
    let code = "const order = [];\n\
                setTimeout(() => order.push('b'), 60);\n\
                setTimeout((x) => order.push(x), 20, 'a');\n\
                const cleared = setTimeout(() => order.push('never'), 30);\n\
                clearTimeout(cleared);\n\
                await new Promise((resolve) => setTimeout(resolve, 100));\n\
                order";
    let started = Instant::now();
    assert_eq!(ok(&rt, &sb, code), json!(["a", "b"]));
    assert!(started.elapsed() >= Duration::from_millis(100));
    // A cleared timer is not waited for: nothing is left pending, so the run ends at once.
    let started = Instant::now();
    let error = err(
        &rt,
        &sb,
        "await new Promise((resolve) => clearTimeout(setTimeout(resolve, 1000)))",
    );
    assert!(error.message.contains("never settled"), "{error:?}");
    assert!(started.elapsed() < Duration::from_millis(900));
}

#[test]
fn promise_all_overlaps_host_calls() {
    let rt = runtime();
    let sb = sandbox(&rt, quick_config());
    let host = TestHost::default();
    let stats = Arc::clone(&host.stats);
    let started = Instant::now();
    let output = rt
        .block_on(sb.run(
            request("await Promise.all([1, 2, 3, 4, 5].map(() => sleep(200)))"),
            Arc::new(host),
        ))
        .expect("runs");
    let elapsed = started.elapsed();
    assert_eq!(output.result, json!([200, 200, 200, 200, 200]));
    assert_eq!(output.host_calls, 5);
    assert_eq!(
        stats.peak.load(Ordering::SeqCst),
        5,
        "all five calls were in flight at once"
    );
    assert!(
        elapsed < Duration::from_millis(800),
        "five 200 ms calls took {elapsed:?}, so they did not overlap"
    );
}

#[test]
fn host_call_limit_is_enforced_and_counted() {
    let rt = runtime();
    let sb = sandbox(
        &rt,
        SandboxConfig {
            max_host_calls: 3,
            ..quick_config()
        },
    );
    let output = run_with(
        &rt,
        &sb,
        "for (let i = 0; i < 3; i++) await echo(i); add({a: 0, b: 0}) === 0 ? 'no' : 'x'",
    );
    let error = output.expect_err("the fourth call is over the limit");
    assert_eq!(error.kind, RunErrorKind::HostCallLimit);
    assert_eq!(error.message, "host call limit of 3 calls exceeded");
    assert_eq!(error.host_calls, 3);
}

fn sandbox_timing_out_at_300_ms(rt: &tokio::runtime::Runtime) -> codemode_sandbox::Sandbox {
    sandbox(
        rt,
        SandboxConfig {
            timeout: Duration::from_millis(300),
            ..quick_config()
        },
    )
}

#[test]
fn time_spent_waiting_on_the_host_counts_against_the_deadline() {
    let rt = runtime();
    let sb = sandbox_timing_out_at_300_ms(&rt);
    let started = Instant::now();
    let error = err(
        &rt,
        &sb,
        "await sleep(100); await sleep(100); await sleep(100); await sleep(100)",
    );
    assert_eq!(error.kind, RunErrorKind::Timeout);
    assert_eq!(error.message, "time limit of 300 ms exceeded");
    assert!(started.elapsed() < Duration::from_millis(1000));
}

#[test]
fn time_a_person_spends_answering_does_not_count_against_the_deadline() {
    let rt = runtime();
    let sb = sandbox_timing_out_at_300_ms(&rt);
    let run = |code: &str| {
        // Pauses belong to one run: a fresh host, with fresh ones, per run.
        let host = TestHost::default();
        let request = RunRequest {
            pauses: host.pauses.clone(),
            ..request(code)
        };
        rt.block_on(sb.run(request, Arc::new(host)))
    };
    // Two prompts of 400 ms each, one of them overlapping a 200 ms call: 600 ms of pauses.
    let output =
        run("const [a] = await Promise.all([ask(400), sleep(200)]); await ask(400); return a")
            .expect("the deadline waits for the person");
    assert_eq!(output.result, json!("yes"));
    // The script's own time still counts, before and after the pauses.
    let error = run("await ask(100); await sleep(400)").expect_err("times out");
    assert_eq!(error.kind, RunErrorKind::Timeout);
    let error = run("await ask(100); while (true) {}").expect_err("times out");
    assert_eq!(error.kind, RunErrorKind::Timeout);
    // A timer set before a pause waits for the moved deadline, not the old one: 300 ms + 600 ms
    // of pause is still short of 1,200 ms, so the run times out (at ~900 ms, not ~300 ms).
    let started = Instant::now();
    let error = run("await Promise.all([ask(600), new Promise((r) => setTimeout(r, 1200))])")
        .expect_err("times out");
    assert_eq!(error.kind, RunErrorKind::Timeout);
    assert!(
        started.elapsed() >= Duration::from_millis(850),
        "{:?}",
        started.elapsed()
    );
    let output =
        run("await Promise.all([ask(600), new Promise((r) => setTimeout(r, 700))]); return 2")
            .expect("the timer fires inside the moved deadline");
    assert_eq!(output.result, json!(2));
}

#[test]
fn prelude_defines_globals_and_its_frames_are_hidden() {
    let rt = runtime();
    let sb = sandbox(&rt, quick_config());
    let prelude: Arc<str> = Arc::from(
        "globalThis.api = new Proxy({}, { get(_, op) { return (arg) => { if (op === 'bad') throw new TypeError('bad op'); return echo({ op, arg }); }; } });",
    );
    let host: Arc<dyn Host> = Arc::new(TestHost::default());
    let run = |code: &str| {
        let request = RunRequest {
            prelude: Some(Arc::clone(&prelude)),
            ..request(code)
        };
        rt.block_on(sb.run(request, Arc::clone(&host)))
    };
    let output = run("await api.listPets({ limit: 2 })").expect("runs");
    assert_eq!(
        output.result,
        json!({"op": "listPets", "arg": {"limit": 2}})
    );
    let error = run("const a = 1;\napi.bad(a);").expect_err("throws");
    assert_eq!(error.line, Some(2), "{error:?}");
    assert!(error.col.is_some(), "{error:?}");
    let stack = error.stack.unwrap_or_default();
    assert!(
        !stack.contains("prelude") && stack.lines().count() == 1,
        "{stack}"
    );
    let broken = RunRequest {
        prelude: Some(Arc::from("throw new Error('prelude broke')")),
        ..request("1")
    };
    let error = rt
        .block_on(sb.run(broken, Arc::clone(&host)))
        .expect_err("prelude fails");
    assert_eq!(error.kind, RunErrorKind::Internal);
    assert!(error.message.contains("prelude broke"), "{error:?}");
}

/// Preludes are compiled once per worker and cached: a different prelude must replace the cached
/// one, and a prelude that does not compile is reported as an internal error every time.
#[test]
fn each_run_gets_its_own_prelude_even_when_preludes_alternate() {
    let rt = runtime();
    let sb = sandbox(&rt, quick_config());
    let host: Arc<dyn Host> = Arc::new(TestHost::default());
    let with_prelude = |prelude: &str| RunRequest {
        prelude: Some(Arc::from(prelude)),
        ..request("globalThis.which")
    };
    for _ in 0..3 {
        for which in ["first", "second"] {
            let prelude = format!("globalThis.which = '{which}';");
            let output = rt
                .block_on(sb.run(with_prelude(&prelude), Arc::clone(&host)))
                .expect("runs");
            assert_eq!(output.result, json!(which));
        }
        let error = rt
            .block_on(sb.run(with_prelude("globalThis.which = ;"), Arc::clone(&host)))
            .expect_err("does not compile");
        assert_eq!(error.kind, RunErrorKind::Internal, "{error:?}");
        assert!(error.message.contains("the prelude failed"), "{error:?}");
    }
}

#[test]
fn patched_builtins_do_not_break_host_calls_or_timers() {
    let rt = runtime();
    let sb = sandbox(&rt, quick_config());
    // The bootstrap keeps its pending calls and timers in prototype-less tables and uses the
    // built-ins it captured before the agent ran, so none of this reaches it.
    let code = "for (let i = 0; i < 10; i++) Object.prototype[i] = ['hijacked', 'hijacked'];\n\
                Map.prototype.get = Map.prototype.set = Map.prototype.delete = () => { throw new Error('patched') };\n\
                JSON.parse = () => 'patched';\n\
                const a = await echo({ n: 1 });\n\
                const fired = await new Promise((resolve) => setTimeout(() => resolve('timer'), 5));\n\
                const b = await sleep(5);\n\
                return [a, fired, b];";
    assert_eq!(ok(&rt, &sb, code), json!([{ "n": 1 }, "timer", 5]));
}

#[test]
fn sequential_runs_on_a_multi_worker_pool_start_fresh() {
    let rt = runtime();
    let sb = sandbox(
        &rt,
        SandboxConfig {
            workers: 3,
            ..quick_config()
        },
    );
    // Each reply comes before its runtime is freed; the next run must still see a fresh global.
    for i in 0..30 {
        let code =
            format!("const seen = globalThis.marker; globalThis.marker = {i}; seen ?? 'fresh'");
        assert_eq!(ok(&rt, &sb, &code), json!("fresh"), "run {i}");
    }
}

#[test]
fn a_full_queue_answers_busy() {
    let rt = runtime();
    let sb = Arc::new(sandbox(
        &rt,
        SandboxConfig {
            workers: 1,
            queue_capacity: 1,
            ..quick_config()
        },
    ));
    let host: Arc<dyn Host> = Arc::new(TestHost::default());
    let outcomes = rt.block_on(async {
        let mut runs = Vec::new();
        for _ in 0..4 {
            let sb = Arc::clone(&sb);
            let host = Arc::clone(&host);
            runs.push(tokio::spawn(async move {
                sb.run(request("await sleep(300); 1"), host).await
            }));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut outcomes = Vec::new();
        for run in runs {
            outcomes.push(run.await.expect("joins"));
        }
        outcomes
    });
    let busy = outcomes
        .iter()
        .filter(|o| matches!(o, Err(e) if e.kind == RunErrorKind::Busy))
        .count();
    let done = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(out) if out.result == json!(1)))
        .count();
    assert_eq!(
        (done, busy),
        (2, 2),
        "one running + one queued succeed, the rest are busy"
    );
    let busy_error = outcomes
        .into_iter()
        .find_map(Result::err)
        .expect("a busy error");
    assert!(
        busy_error.message.starts_with("sandbox is busy"),
        "{busy_error}"
    );
}

#[test]
fn runs_are_isolated_across_parallel_workers() {
    let rt = runtime();
    let sb = Arc::new(sandbox(
        &rt,
        SandboxConfig {
            workers: 2,
            ..quick_config()
        },
    ));
    let host: Arc<dyn Host> = Arc::new(TestHost::default());
    let results = rt.block_on(async {
        let mut runs = Vec::new();
        for i in 0..20 {
            let sb = Arc::clone(&sb);
            let host = Arc::clone(&host);
            let code =
                format!("globalThis.mine = (globalThis.mine || 0) + {i}; await echo(1); mine");
            runs.push(tokio::spawn(
                async move { sb.run(request(&code), host).await },
            ));
        }
        let mut results = Vec::new();
        for run in runs {
            results.push(
                run.await
                    .expect("joins")
                    .map(|o| o.result)
                    .map_err(|e| e.summary()),
            );
        }
        results
    });
    let expected: Vec<_> = (0..20).map(|i| Ok(json!(i))).collect();
    assert_eq!(results, expected);
}

#[test]
fn a_run_whose_caller_gave_up_stops_early() {
    let rt = runtime();
    let config = SandboxConfig {
        workers: 1,
        timeout: Duration::from_secs(20),
        ..quick_config()
    };
    let sb = sandbox(&rt, config);
    let host: Arc<dyn Host> = Arc::new(TestHost::default());
    for code in ["while (true) {}", "await sleep(15000)"] {
        let abandoned = rt.block_on(async {
            tokio::time::timeout(
                Duration::from_millis(100),
                sb.run(request(code), Arc::clone(&host)),
            )
            .await
        });
        assert!(abandoned.is_err(), "the caller gave up after 100 ms");
        // The only worker must be free again long before the 20 s deadline.
        let started = Instant::now();
        let output = rt
            .block_on(sb.run(request("'next'"), Arc::clone(&host)))
            .expect("runs");
        assert_eq!(output.result, json!("next"));
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{code}: waited {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn extreme_limits_do_not_break_the_pool() {
    let rt = runtime();
    let sb = sandbox(
        &rt,
        SandboxConfig {
            timeout: Duration::MAX,
            workers: 0,
            ..quick_config()
        },
    );
    assert_eq!(
        ok(
            &rt,
            &sb,
            "await new Promise((resolve) => setTimeout(resolve, Infinity / 1e308 * 0 + 1)); 7"
        ),
        json!(7)
    );
    let tiny = sandbox(
        &rt,
        SandboxConfig {
            memory_limit_bytes: 64 * 1024,
            ..quick_config()
        },
    );
    let error = err(&rt, &tiny, "1");
    assert!(
        matches!(error.kind, RunErrorKind::Memory | RunErrorKind::Internal),
        "{error:?}"
    );
}
