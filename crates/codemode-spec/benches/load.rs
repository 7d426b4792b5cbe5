//! Load time and memory for every real spec (`codemode_test_support::specs_dir`).
//!
//! Each measurement runs in a fresh child process (this binary re-invoked with `--child`), so the
//! resident-memory figures belong to that one load alone. Per spec it reports:
//! - `parse`: the bare JSON/YAML parse of the same bytes into a generic value (the baseline),
//! - `load`: `codemode_spec::load` (read, parse, resolve, convert, name), and the ratio load/parse,
//! - `start→ready`: from process start to a loaded model, as CPU time of the child process
//!   (`/proc/self/schedstat`) and as wall time from spawning it to its exit,
//! - `model RSS`: resident memory added by the load while the model is alive (VmRSS after − before),
//! - `peak`: the process's peak resident memory (VmHWM).
//!
//! Times are CPU time where they say so: on a shared machine wall time mostly measures the queue
//! for a core. Each figure is the median of three runs.
//!
//! Run: `CARGO_TARGET_DIR=/work/target-spec cargo bench -p codemode-spec --bench load`

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const SPECS: &[&str] = &[
    "github-api.github.com.json.gz",
    "cloudflare-openapi.json",
    "stripe-spec3.yaml",
    "kubernetes-swagger.json",
    "openai-openapi.yaml",
    "discord-openapi.json",
    "petstore3-openapi.yaml",
];

/// Runs per spec and mode; the median time is reported (memory is from the last run).
const RUNS: usize = 3;

fn shared_specs() -> PathBuf {
    codemode_test_support::specs_dir()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--child") {
        let (Some(mode), Some(path)) = (args.get(at + 1), args.get(at + 2)) else {
            eprintln!("usage: load --child <load|parse> <path>");
            std::process::exit(2);
        };
        child(mode, Path::new(path));
        return;
    }
    parent();
}

/// One measurement inside a fresh process; prints
/// `wall_ms cpu_ms rss_kb_added hwm_kb process_cpu_ms`.
fn child(mode: &str, path: &Path) {
    let before = status_kb("VmRSS");
    let cpu_before = cpu_ns();
    let started = Instant::now();
    let keep: Box<dyn std::any::Any> = match mode {
        "load" => {
            let loaded = codemode_spec::load(
                &path.to_string_lossy(),
                &codemode_spec::LoadOptions::default(),
            )
            .unwrap_or_else(|e| panic!("{e}"));
            Box::new(loaded.spec)
        }
        _ => Box::new(bare_parse(path)),
    };
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let cpu_total = cpu_ns();
    let cpu_ms = (cpu_total - cpu_before) as f64 / 1e6;
    let after = status_kb("VmRSS");
    println!(
        "{ms:.1} {cpu_ms:.1} {} {} {:.1}",
        after.saturating_sub(before),
        status_kb("VmHWM"),
        cpu_total as f64 / 1e6
    );
    drop(keep);
}

/// The baseline: read (and gunzip) the bytes and parse them into a generic tree. For a directory
/// (the multi-file DigitalOcean spec), every YAML file under it.
fn bare_parse(path: &Path) -> Vec<Box<dyn std::any::Any>> {
    if path.is_dir() {
        let mut out = Vec::new();
        for file in yaml_files(path) {
            out.extend(bare_parse(&file));
        }
        return out;
    }
    let mut bytes = std::fs::read(path).expect("read");
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut inflated = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut inflated)
            .expect("gunzip");
        bytes = inflated;
    }
    if bytes.first() == Some(&b'{') {
        let v: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
        vec![Box::new(v)]
    } else {
        let v: Lenient = yaml_serde::from_slice(&bytes).expect("yaml");
        vec![Box::new(v.0)]
    }
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
                out.push(p);
            }
        }
    }
    out
}

/// CPU time this (single-threaded) process has run, in ns: unlike wall time, it does not count
/// waiting for a core on a busy machine.
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

struct Sample {
    ms: f64,
    cpu_ms: f64,
    rss_kb: u64,
    hwm_kb: u64,
    process_cpu_ms: f64,
    wall_ms: f64,
}

fn run_child(mode: &str, path: &Path) -> Sample {
    let exe = std::env::current_exe().expect("current_exe");
    let mut samples: Vec<Sample> = (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            let output = Command::new(&exe)
                .args(["--child", mode])
                .arg(path)
                .output()
                .expect("spawn child");
            let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            let text = String::from_utf8_lossy(&output.stdout);
            let fields: Vec<f64> = text
                .split_whitespace()
                .filter_map(|f| f.parse().ok())
                .collect();
            Sample {
                ms: fields[0],
                cpu_ms: fields[1],
                rss_kb: fields[2] as u64,
                hwm_kb: fields[3] as u64,
                process_cpu_ms: fields[4],
                wall_ms,
            }
        })
        .collect();
    samples.sort_by(|a, b| a.cpu_ms.total_cmp(&b.cpu_ms));
    samples.swap_remove(RUNS / 2)
}

/// `load / parse`, or `n/a` when the baseline is too short to divide by meaningfully.
fn ratio(load: f64, parse: f64) -> String {
    if parse < 1.0 {
        "n/a".into()
    } else {
        format!("{:.2}x", load / parse)
    }
}

fn parent() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let archive = std::fs::File::open(shared_specs().join("digitalocean-openapi.tar.gz"))
        .expect("digitalocean archive");
    tar::Archive::new(flate2::read::GzDecoder::new(archive))
        .unpack(scratch.path())
        .expect("unpack");
    let do_dir = scratch.path().join("digitalocean-openapi/specification");

    let mut rows: Vec<(String, PathBuf, PathBuf)> = SPECS
        .iter()
        .map(|s| {
            (
                s.to_string(),
                shared_specs().join(s),
                shared_specs().join(s),
            )
        })
        .collect();
    rows.push((
        "digitalocean (multi-file)".into(),
        do_dir.join("DigitalOcean-public.v2.yaml"),
        do_dir.clone(),
    ));

    println!(
        "| spec | parse CPU ms | load CPU ms | load/parse | start→ready CPU ms | load wall ms | start→ready wall ms | parse RSS MB | model RSS MB | peak (load) MB |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (name, load_path, parse_path) in rows {
        let parse = run_child("parse", &parse_path);
        let load = run_child("load", &load_path);
        println!(
            "| {name} | {:.1} | {:.1} | {} | {:.1} | {:.0} | {:.0} | {:.1} | {:.1} | {:.1} |",
            parse.cpu_ms,
            load.cpu_ms,
            ratio(load.cpu_ms, parse.cpu_ms),
            load.process_cpu_ms,
            load.ms,
            load.wall_ms,
            parse.rss_kb as f64 / 1024.0,
            load.rss_kb as f64 / 1024.0,
            load.hwm_kb as f64 / 1024.0,
        );
    }
}

/// A YAML tree as JSON, accepting >64-bit integers (OpenAI has one) and non-string keys, which
/// neither `serde_json::Value` nor `yaml_serde::Value` accept: the same tree the loader builds.
struct Lenient(serde_json::Value);

impl<'de> serde::Deserialize<'de> for Lenient {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LenientVisitor).map(Lenient)
    }
}

struct LenientVisitor;

impl<'de> serde::de::Visitor<'de> for LenientVisitor {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_i128<E>(self, v: i128) -> Result<Self::Value, E> {
        Ok((v as f64).into())
    }
    fn visit_u128<E>(self, v: u128) -> Result<Self::Value, E> {
        Ok((v as f64).into())
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Lenient(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(serde_json::Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some((Lenient(k), Lenient(v))) = map.next_entry()? {
            let key = match k {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            out.insert(key, v);
        }
        Ok(serde_json::Value::Object(out))
    }
}
