//! Times the structural cutter on large results against the naive approach (serialize the whole
//! value and count every token), and tools/list construction. Plain `main`, no harness:
//! `CARGO_TARGET_DIR=/work/target-mcp cargo bench -p codemode-mcp --bench budget`

use std::time::Instant;

use codemode_mcp::{count_tokens, cut_to_budget};
use serde_json::{Value, json};

fn rows(n: usize) -> Value {
    let rows: Vec<Value> = (0..n)
        .map(|i| json!({"id": format!("{i:016x}"), "name": format!("a fairly ordinary name {i}"), "tags": ["x", "y", "z"], "n": i}))
        .collect();
    json!({ "rows": rows })
}

fn time<T>(runs: u32, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut last = f();
    let started = Instant::now();
    for _ in 0..runs {
        last = f();
    }
    (
        started.elapsed().as_secs_f64() * 1000.0 / f64::from(runs),
        last,
    )
}

fn main() {
    for (label, n) in [("1 MB", 12_000), ("10 MB", 120_000)] {
        let value = rows(n);
        let bytes = serde_json::to_string(&value).map(|s| s.len()).unwrap_or(0);
        let (cut_ms, (text, _)) = time(5, || cut_to_budget(&value, 6000));
        let (naive_ms, tokens) = time(2, || {
            count_tokens(&serde_json::to_string(&value).unwrap_or_default())
        });
        println!(
            "{label} ({bytes} B, {tokens} tokens): cut_to_budget {cut_ms:.1} ms -> {} tokens; \
             naive serialize+count {naive_ms:.1} ms; ratio {:.1}x",
            count_tokens(&text),
            naive_ms / cut_ms
        );
    }
    let small = json!({"a": [1, 2, 3], "b": "hello"});
    let (small_ms, _) = time(10_000, || cut_to_budget(&small, 6000));
    println!("small object: cut_to_budget {:.2} µs", small_ms * 1000.0);
}
