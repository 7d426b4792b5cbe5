//! The hostile-script suite: every case must end in its expected, clearly worded error within its
//! limit, and the sandbox must keep working for the next run.

use std::time::{Duration, Instant};

use crate::common::*;
use codemode_sandbox::{RunErrorKind, SandboxConfig};
use serde_json::json;

const TIMEOUT_MS: u64 = 1000;

fn hostile_config() -> SandboxConfig {
    SandboxConfig {
        timeout: Duration::from_millis(TIMEOUT_MS),
        memory_limit_bytes: 32 * 1024 * 1024,
        max_result_bytes: 1024 * 1024,
        max_host_calls: 50,
        workers: 2,
        ..SandboxConfig::default()
    }
}

/// Expected outcome of a hostile case.
enum Expect {
    /// Fails with this kind and a message containing the text.
    Fails(RunErrorKind, &'static str),
    /// Succeeds with this JSON result.
    Returns(serde_json::Value),
}

use Expect::{Fails, Returns};

type Case = (&'static str, &'static str, fn() -> Expect);

const CASES: &[Case] = &[
    ("busy loop", "while (true) {}", || {
        Fails(RunErrorKind::Timeout, "time limit of 1000 ms exceeded")
    }),
    (
        "loop inside try/catch",
        "for (;;) { try { while (true) {} } catch (e) {} }",
        || Fails(RunErrorKind::Timeout, "time limit of 1000 ms exceeded"),
    ),
    (
        "loop in finally",
        "try { while (true) {} } finally { for (;;) {} }",
        || Fails(RunErrorKind::Timeout, "time limit"),
    ),
    (
        "catastrophic regex",
        "/^(a+)+$/.test('a'.repeat(40) + 'b')",
        || Fails(RunErrorKind::Timeout, "time limit"),
    ),
    (
        "async busy loop",
        "async () => { await null; while (true) {} }",
        || Fails(RunErrorKind::Timeout, "time limit"),
    ),
    (
        "endless await chain",
        "async () => { for (;;) { await null } }",
        || Fails(RunErrorKind::Timeout, "time limit"),
    ),
    (
        "endless microtasks",
        "const f = () => { Promise.resolve().then(() => { f() }) }; f(); 1",
        || Fails(RunErrorKind::Timeout, "time limit"),
    ),
    (
        "string doubling",
        "let s = 'x'; for (;;) s = s + s;",
        || Fails(RunErrorKind::Exception, "string too long"),
    ),
    (
        "deep recursion",
        "function f(n) { return f(n + 1) + 1 } f(0)",
        || {
            Fails(
                RunErrorKind::StackOverflow,
                "stack limit of 1048576 bytes exceeded",
            )
        },
    ),
    (
        "mutual recursion",
        "const a = () => b(); const b = () => a(); a()",
        || Fails(RunErrorKind::StackOverflow, "stack limit"),
    ),
    (
        "promise that never settles",
        "await new Promise(() => {})",
        || Fails(RunErrorKind::Exception, "promise never settled"),
    ),
    (
        "host call slower than the deadline",
        "await sleep(60000)",
        || Fails(RunErrorKind::Timeout, "time limit"),
    ),
    (
        "unhandled rejection",
        "Promise.reject(new Error('boom')); 1",
        || {
            Fails(
                RunErrorKind::Exception,
                "unhandled promise rejection: Error: boom",
            )
        },
    ),
    ("throw 42", "throw 42", || {
        Fails(RunErrorKind::Exception, "uncaught exception: the number 42")
    }),
    ("throw a string", "async () => { throw 'bad' }", || {
        Fails(RunErrorKind::Exception, "\"bad\"")
    }),
    ("rejected with undefined", "await Promise.reject()", || {
        Fails(RunErrorKind::Exception, "undefined")
    }),
    (
        "constructor chain escape",
        "const g = echo.constructor.constructor('return this')(); \
         [typeof g.require, typeof g.process, typeof g.fetch, typeof g.std, typeof g.os, typeof g.Deno, typeof g.XMLHttpRequest]",
        || {
            Returns(json!([
                "undefined",
                "undefined",
                "undefined",
                "undefined",
                "undefined",
                "undefined",
                "undefined"
            ]))
        },
    ),
    (
        "console constructor chain",
        "console.log.constructor('return typeof process')()",
        || Returns(json!("undefined")),
    ),
    ("require is absent", "require('fs')", || {
        Fails(RunErrorKind::Exception, "ReferenceError")
    }),
    (
        "dynamic import is refused",
        "try { await import('fs'); return 'imported' } catch (e) { return 'refused' }",
        || Returns(json!("refused")),
    ),
    (
        "Atomics.wait cannot block the worker",
        "try { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000); return 'returned' } catch (e) { return 'refused' }",
        || Returns(json!("refused")),
    ),
    (
        "Proxy trap on the result",
        "new Proxy({}, { ownKeys() { throw new Error('trap fired') } })",
        || Fails(RunErrorKind::ResultNotSerializable, "trap fired"),
    ),
    (
        "symbols in the result",
        "({ [Symbol('k')]: 1, s: Symbol('v'), b: 2 })",
        || Returns(json!({"b": 2})),
    ),
    (
        "throwing getter on the result",
        "({ get x() { throw new Error('getter says no') } })",
        || Fails(RunErrorKind::ResultNotSerializable, "getter says no"),
    ),
    (
        "throwing toJSON on the result",
        "({ toJSON() { throw new TypeError('nope') } })",
        || Fails(RunErrorKind::ResultNotSerializable, "TypeError: nope"),
    ),
    (
        "looping getter during serialization",
        "({ get x() { for (;;) {} } })",
        || Fails(RunErrorKind::Timeout, "time limit"),
    ),
    ("cyclic result", "const a = [1]; a.push(a); a", || {
        Fails(
            RunErrorKind::ResultNotSerializable,
            "cycle detected at result[1]",
        )
    }),
    (
        "host call flood",
        "for (let i = 0; i < 1000; i++) await echo(i)",
        || {
            Fails(
                RunErrorKind::HostCallLimit,
                "host call limit of 50 calls exceeded",
            )
        },
    ),
    (
        "host call limit is not catchable",
        "try { await Promise.all(Array.from({ length: 100 }, (_, i) => echo(i))) } catch (e) {} for (;;) {}",
        || Fails(RunErrorKind::HostCallLimit, "host call limit of 50"),
    ),
    (
        "time limit is not catchable",
        "try { while (true) {} } catch (e) { return 'escaped' }",
        || Fails(RunErrorKind::Timeout, "time limit"),
    ),
    (
        "error with a hostile message getter",
        "const e = new Error('x'); Object.defineProperty(e, 'message', { get() { throw 1 } }); throw e",
        || Fails(RunErrorKind::Exception, "Error"),
    ),
    (
        "unhandled rejection with a looping message getter",
        "const e = new Error('x'); Object.defineProperty(e, 'message', { get() { for (;;) {} } }); Promise.reject(e); 1",
        || Fails(RunErrorKind::Timeout, "time limit"),
    ),
    (
        "unhandled rejection with a throwing message getter",
        "const e = new TypeError('x'); Object.defineProperty(e, 'message', { get() { throw new Error('no') } }); Promise.reject(e); 1",
        || {
            Fails(
                RunErrorKind::Exception,
                "unhandled promise rejection: TypeError",
            )
        },
    ),
    (
        "the bootstrap module cannot be reused",
        "try { (await import('bootstrap.js')).setup(() => 0); return 'reused' } catch (e) { return 'refused' }",
        || Returns(json!("refused")),
    ),
    (
        "thrown object with looping getter",
        "throw { get message() { for (;;) {} } }",
        || Fails(RunErrorKind::Timeout, "time limit"),
    ),
    (
        "timer flood",
        "for (let i = 0; i < 5000; i++) setTimeout(() => {}, 10); 1",
        || {
            Fails(
                RunErrorKind::HostCallLimit,
                "timer limit of 1000 timers exceeded",
            )
        },
    ),
    (
        "timer beyond the deadline",
        "await new Promise((resolve) => setTimeout(resolve, 60000))",
        || Fails(RunErrorKind::Timeout, "time limit"),
    ),
    (
        "overwritten builtins do not break the run",
        "JSON.stringify = null; Object.keys = null; Array.isArray = null; ({ a: [1] })",
        || Returns(json!({"a": [1]})),
    ),
];

/// Cases that do a lot of work before hitting their limit; they get a longer deadline so that they
/// also pass in unoptimized builds (the limit they test is not the time limit).
const HEAVY_CASES: &[Case] = &[
    (
        "object memory bomb",
        "const m = new Map(); for (let i = 0; ; i++) m.set(i, 'v'.repeat(100) + i);",
        || Fails(RunErrorKind::Memory, "memory limit"),
    ),
    (
        "a million console.log lines",
        "for (let i = 0; i < 1000000; i++) console.log('line ' + i); 'done'",
        || Returns(json!("done")),
    ),
    (
        "huge return array",
        "new Array(1000000).fill(12345)",
        || {
            Fails(
                RunErrorKind::ResultTooLarge,
                "result limit of 1048576 bytes",
            )
        },
    ),
    (
        "array memory bomb",
        "const a = []; for (;;) a.push(new Array(100000).fill(1.5));",
        || {
            Fails(
                RunErrorKind::Memory,
                "memory limit of 33554432 bytes exceeded",
            )
        },
    ),
    (
        "string memory bomb",
        "const parts = []; for (;;) parts.push('x'.repeat(1 << 20) + parts.length);",
        || Fails(RunErrorKind::Memory, "memory limit"),
    ),
    (
        "memory limit is not catchable",
        "try { const a = []; for (;;) a.push(new Array(100000).fill(1.5)); } catch (e) { return 'escaped' }",
        || Fails(RunErrorKind::Memory, "memory limit"),
    ),
    ("huge return string", "'x'.repeat(4 * 1024 * 1024)", || {
        Fails(
            RunErrorKind::ResultTooLarge,
            "result limit of 1048576 bytes",
        )
    }),
    (
        "self-expanding toJSON",
        "const o = { toJSON() { return { o } } }; o",
        || Fails(RunErrorKind::ResultNotSerializable, ""),
    ),
    (
        "deeply nested result",
        "let o = {}; for (let i = 0; i < 100000; i++) o = { o }; o",
        || Fails(RunErrorKind::ResultNotSerializable, ""),
    ),
    (
        "one huge console line",
        "console.log('y'.repeat(10000000)); 'ok'",
        || Returns(json!("ok")),
    ),
];

#[test]
fn hostile_scripts_end_in_clear_errors_and_the_next_run_works() {
    let rt = runtime();
    assert!(
        CASES.len() + HEAVY_CASES.len() >= 30,
        "the suite must keep at least 30 cases"
    );
    // Three independent lanes, each with its own one-worker sandbox, keep the suite's wall time down.
    let (first, second) = CASES.split_at(CASES.len() / 2);
    let one_worker = SandboxConfig {
        workers: 1,
        ..hostile_config()
    };
    let heavy = SandboxConfig {
        timeout: Duration::from_secs(30),
        ..one_worker.clone()
    };
    let failures: Vec<String> = std::thread::scope(|scope| {
        let lanes = [
            (first, one_worker.clone()),
            (second, one_worker.clone()),
            (HEAVY_CASES, heavy),
        ];
        let handles: Vec<_> = lanes
            .into_iter()
            .map(|(cases, config)| scope.spawn(|| run_cases(&rt, cases, config)))
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|_| vec!["a lane panicked".to_string()])
            })
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} hostile cases misbehaved:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Run each case, check its outcome and duration, and check that the next run still works.
fn run_cases(rt: &tokio::runtime::Runtime, cases: &[Case], config: SandboxConfig) -> Vec<String> {
    let limit = config.timeout * 3;
    let sb = sandbox(rt, config);
    let mut failures = Vec::new();
    for (name, code, expect) in cases {
        let started = Instant::now();
        let outcome = run_with(rt, &sb, code);
        let elapsed = started.elapsed();
        let verdict = match (expect(), &outcome) {
            (Fails(kind, text), Err(error))
                if error.kind == kind && error.message.contains(text) =>
            {
                None
            }
            (Returns(value), Ok(output)) if output.result == value => None,
            (_, Ok(output)) => Some(format!(
                "{name}: unexpected success {}",
                output
                    .result
                    .to_string()
                    .chars()
                    .take(200)
                    .collect::<String>()
            )),
            (_, Err(error)) => Some(format!(
                "{name}: unexpected error {:?}: {}",
                error.kind, error.message
            )),
        };
        failures.extend(verdict);
        if elapsed > limit {
            failures.push(format!("{name}: took {elapsed:?}, beyond its limit"));
        }
        match run_with(rt, &sb, "1 + 1") {
            Ok(output) if output.result == json!(2) => {}
            other => failures.push(format!(
                "{name}: the next run failed: {:?}",
                other.map(|o| o.result)
            )),
        }
    }
    failures
}

#[test]
fn a_million_console_lines_stay_within_the_log_budget() {
    let rt = runtime();
    let sb = sandbox(
        &rt,
        SandboxConfig {
            timeout: Duration::from_secs(30),
            ..hostile_config()
        },
    );
    let output = run_with(
        &rt,
        &sb,
        "for (let i = 0; i < 1000000; i++) console.log('line ' + i); 'done'",
    )
    .map_err(|e| e.summary())
    .expect("runs");
    let bytes: usize = output.logs.iter().map(|l| l.text.len()).sum();
    assert!(bytes <= 64 * 1024 + 200, "kept {bytes} bytes");
    let last = output.logs.last().expect("a marker line");
    assert!(last.text.contains("log limit of 65536 bytes"), "{last:?}");
}

#[test]
fn prototype_pollution_does_not_reach_the_next_run() {
    let rt = runtime();
    let sb = sandbox(
        &rt,
        SandboxConfig {
            workers: 1,
            ..hostile_config()
        },
    );
    let polluted = "Object.prototype.polluted = 'yes'; Array.prototype.map = null; globalThis.leak = 1; \
                    JSON.parse = () => 'hijacked'; ({}).polluted";
    assert_eq!(ok(&rt, &sb, polluted), json!("yes"));
    let probe = "[({}).polluted === undefined, typeof [].map, typeof leak, JSON.parse('1')]";
    assert_eq!(
        ok(&rt, &sb, probe),
        json!([true, "function", "undefined", 1])
    );
}
