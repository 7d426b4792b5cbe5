//! After 1,000 runs the process's resident memory is back near its baseline: every run's runtime,
//! context and host tasks are freed.
//!
//! Resident memory is a figure of the whole process, and the other tests of this binary allocate
//! on their threads meanwhile: the measurement runs in a child process of this same test binary
//! that runs this one test alone.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::*;

/// Set in the child process: there, the test measures instead of starting a child.
const ALONE: &str = "CODEMODE_SANDBOX_MEMORY_ALONE";
const NAME: &str = "memory::a_thousand_runs_return_memory";

/// Resident set size in bytes from /proc/self/statm (Linux); None elsewhere.
fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let resident_pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(resident_pages * 4096)
}

#[test]
fn a_thousand_runs_return_memory() {
    if std::env::var_os(ALONE).is_some() {
        return measure();
    }
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let out = codemode_test_support::output_within(
        Command::new(exe)
            .args(["--exact", NAME, "--nocapture", "--test-threads=1"])
            .env(ALONE, "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
        None,
        Duration::from_secs(600),
    );
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the measurement failed:\n{report}");
    // A filter that matched nothing would pass too: make sure the measurement ran.
    assert!(report.contains("1 passed"), "{report}");
    eprintln!(
        "{}",
        report.lines().find(|l| l.starts_with("rss ")).unwrap_or("")
    );
}

fn measure() {
    let rt = runtime();
    let sb = sandbox(&rt, quick_config());
    let code = "const big = new Array(1000).fill(0).map((_, i) => ({ i, s: 'x' + i }));\n\
                console.log('rows', big.length);\n\
                const r = await echo(big.length);\n\
                return { r, sum: big.reduce((a, o) => a + o.i, 0) };";
    // Warm up: worker threads, allocator arenas, tokio.
    for _ in 0..20 {
        ok(&rt, &sb, code);
    }
    let Some(baseline) = rss_bytes() else {
        panic!("/proc/self/statm is not readable; this test needs Linux");
    };
    for _ in 0..1000 {
        assert_eq!(ok(&rt, &sb, code)["r"], 1000);
    }
    let after = rss_bytes().unwrap_or(u64::MAX);
    let growth = after.saturating_sub(baseline);
    eprintln!("rss baseline {baseline} bytes, after 1,000 runs {after} bytes");
    assert!(
        growth < 48 * 1024 * 1024,
        "resident memory grew by {} MiB over 1,000 runs (baseline {} MiB, after {} MiB)",
        growth / (1024 * 1024),
        baseline / (1024 * 1024),
        after / (1024 * 1024)
    );
}
