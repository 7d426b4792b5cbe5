//! Start-up of several APIs behind one server against each alone (issue 16): how long the
//! `codemode` binary takes from launch to its first search answer, and its peak memory then,
//! for GitHub, Stripe and Cloudflare each alone and all three together (`--api`, specs loaded in
//! parallel). The bar: together ≤ 1.5× the slowest alone.
//!
//! `cargo bench -p codemode-cli --bench joint_start` (runs the bench-profile binary; five runs of
//! each setup, interleaved so a noisy machine hurts all alike; medians). Peak memory is the
//! process's `VmHWM` read from `/proc` while it waits for its next query (Linux only).

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Instant;

const RUNS: usize = 5;

struct Setup {
    label: &'static str,
    args: Vec<String>,
}

fn main() {
    let spec = |file: &str| codemode_test_support::spec_path(file).display().to_string();
    let apis = [
        ("github", spec("github-api.github.com.json.gz")),
        ("stripe", spec("stripe-spec3.yaml")),
        ("cloudflare", spec("cloudflare-openapi.json")),
    ];
    let mut setups: Vec<Setup> = apis
        .iter()
        .map(|(name, path)| Setup {
            label: name,
            args: vec!["--spec".into(), path.clone()],
        })
        .collect();
    setups.push(Setup {
        label: "all three",
        args: apis
            .iter()
            .flat_map(|(name, path)| ["--api".to_string(), format!("{name}={path}")])
            .collect(),
    });

    let mut ready: Vec<Vec<f64>> = vec![Vec::new(); setups.len()];
    let mut peak: Vec<Vec<f64>> = vec![Vec::new(); setups.len()];
    for _ in 0..RUNS {
        for (i, setup) in setups.iter().enumerate() {
            let (ms, mb) = start_once(&setup.args);
            ready[i].push(ms);
            peak[i].extend(mb);
        }
    }
    println!("| setup | ready (launch to first answer), median ms | peak RSS, median MB |");
    println!("|---|---|---|");
    let medians: Vec<f64> = ready.iter_mut().map(|runs| median(runs)).collect();
    for (i, setup) in setups.iter().enumerate() {
        let memory = if peak[i].is_empty() {
            "n/a".to_string()
        } else {
            format!("{:.0}", median(&mut peak[i]))
        };
        println!("| {} | {:.0} | {memory} |", setup.label, medians[i]);
    }
    let slowest_alone = medians[..apis.len()].iter().copied().fold(0.0, f64::max);
    println!(
        "all three / slowest alone: {:.2}x (bar: 1.5x)",
        medians[apis.len()] / slowest_alone
    );
}

/// Launches `codemode search --batch` with `args`, sends one query, and returns the time to its
/// answer and (on Linux) the process's peak memory in MB.
fn start_once(args: &[String]) -> (f64, Option<f64>) {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_codemode"))
        .arg("search")
        .arg("--batch")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the codemode binary starts");
    let mut stdin = child.stdin.take().expect("stdin");
    writeln!(stdin, "list webhooks").expect("the query is written");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("an answer line");
    let ms = started.elapsed().as_secs_f64() * 1e3;
    assert!(line.contains("\"results\""), "no answer: {line}");
    let peak = std::fs::read_to_string(format!("/proc/{}/status", child.id()))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0);
    drop(stdin);
    let status = child.wait().expect("codemode ends");
    assert!(status.success(), "codemode failed: {status}");
    (ms, peak)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
