//! The server's Prometheus metrics: what is counted, under which labels, and the text the
//! `/metrics` endpoint answers with. Knows nothing of HTTP routing or rmcp: the handler reports
//! each tool call here, the HTTP router encodes.
//!
//! Every label value comes from a closed set (tool names from the tool list, failure kinds,
//! methods, status classes) or from the configuration (API names). Paths, arguments, programs
//! and anything an upstream or a client sends never become a label: a label value an agent could
//! choose would make the number of series unbounded, and could carry a secret.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use codemode_engine::{CallRecord, ExecuteOutcome};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The content type of [`Metrics::encode`]'s text: prometheus-client writes OpenMetrics text
/// (counters end in `_total`, `# EOF` at the end), which Prometheus asks for by default.
pub(crate) const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ToolLabels {
    tool: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ToolNameLabel {
    tool: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamLabels {
    /// The API's configured name; empty when the engine serves one API.
    api: String,
    method: String,
    /// `2xx`, `3xx`, `4xx`, `5xx`, or `none` when no response came.
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamLatencyLabels {
    api: String,
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// Latency buckets from 5 ms to about 20 s, doubling: a search answers in milliseconds, a run
/// that waits on a slow API in seconds, and the default run deadline is 30 s.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 2.0, 13))
}

/// A server's metrics, made by the embedder to serve them somewhere else than beside `/mcp`
/// ([`ServerConfig::metrics_elsewhere`](crate::ServerConfig::metrics_elsewhere), then
/// [`metrics_router`](crate::metrics_router) on another listener). Cheap to clone.
#[derive(Clone, Debug)]
pub struct MetricsRegistry(pub(crate) std::sync::Arc<Metrics>);

impl MetricsRegistry {
    /// Registers every metric; `spec_load` is reported as `codemode_spec_load_seconds` when
    /// known.
    pub fn new(spec_load: Option<Duration>) -> MetricsRegistry {
        MetricsRegistry(std::sync::Arc::new(Metrics::new(spec_load)))
    }
}

/// The metrics of one server (one [`router`](crate::router) or one stdio session): counters
/// and histograms shared by all its connections, encoded on demand.
pub(crate) struct Metrics {
    registry: Registry,
    tool_calls: Family<ToolLabels, Counter>,
    tool_seconds: HistogramFamily<ToolNameLabel>,
    upstream_requests: Family<UpstreamLabels, Counter>,
    upstream_seconds: HistogramFamily<UpstreamLatencyLabels>,
    sandbox_runs: Family<OutcomeLabel, Counter>,
    runs_in_flight: Gauge,
    busy_rejections: Counter,
    resident_bytes: Gauge,
    spec_load: Option<Gauge<f64, AtomicU64>>,
    spec_reloads: Family<OutcomeLabel, Counter>,
    /// The engines the server answers with, whose reloads the scrape reads.
    engine: std::sync::OnceLock<crate::EngineHandle>,
    /// Held while the reload counters catch up, so two scrapes at once count a reload once.
    reading_reloads: std::sync::Mutex<()>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// Registers every metric; `spec_load` is reported as a constant gauge when known.
    pub(crate) fn new(spec_load: Option<Duration>) -> Metrics {
        let mut registry = Registry::default();
        let tool_calls = Family::<ToolLabels, Counter>::default();
        registry.register(
            "codemode_tool_calls",
            "Tool calls by tool and outcome (ok, or the failure kind)",
            tool_calls.clone(),
        );
        let tool_seconds: HistogramFamily<ToolNameLabel> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "codemode_tool_call_duration_seconds",
            "Time from a tool call's arrival to its result",
            tool_seconds.clone(),
        );
        let upstream_requests = Family::<UpstreamLabels, Counter>::default();
        registry.register(
            "codemode_upstream_requests",
            "Upstream HTTP calls by API, method and status class (none: no response came)",
            upstream_requests.clone(),
        );
        let upstream_seconds: HistogramFamily<UpstreamLatencyLabels> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "codemode_upstream_request_duration_seconds",
            "Upstream HTTP call time, retries and redirects included",
            upstream_seconds.clone(),
        );
        let sandbox_runs = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "codemode_sandbox_runs",
            "Programs run in the sandbox (execute, search with code) by outcome: ok, a failure kind, cancelled or panic",
            sandbox_runs.clone(),
        );
        let runs_in_flight = Gauge::default();
        registry.register(
            "codemode_sandbox_runs_in_flight",
            "Programs running now, or waiting for a sandbox worker",
            runs_in_flight.clone(),
        );
        let busy_rejections = Counter::default();
        registry.register(
            "codemode_busy_rejections",
            "Runs refused because every sandbox worker was busy and the queue was full",
            busy_rejections.clone(),
        );
        let resident_bytes = Gauge::default();
        registry.register(
            "codemode_process_resident_memory_bytes",
            "Resident memory of the process (Linux only; read at each scrape)",
            resident_bytes.clone(),
        );
        let spec_load = spec_load.map(|load| {
            let seconds = Gauge::<f64, AtomicU64>::default();
            seconds.set(load.as_secs_f64());
            registry.register(
                "codemode_spec_load_seconds",
                "Time the spec (or all specs) took to load and check, at start or at the last reload",
                seconds.clone(),
            );
            seconds
        });
        let spec_reloads = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "codemode_spec_reloads",
            "Spec reloads (file change or SIGHUP) by outcome: ok (swapped in) or failed (the running spec stays)",
            spec_reloads.clone(),
        );
        Metrics {
            registry,
            tool_calls,
            tool_seconds,
            upstream_requests,
            upstream_seconds,
            sandbox_runs,
            runs_in_flight,
            busy_rejections,
            resident_bytes,
            spec_load,
            spec_reloads,
            engine: std::sync::OnceLock::new(),
            reading_reloads: std::sync::Mutex::new(()),
        }
    }

    /// Reads reloads from `engine` at every scrape. A registry serves one server: the first
    /// handle given is kept, later ones are ignored.
    pub(crate) fn follow(&self, engine: &crate::EngineHandle) {
        let _ = self.engine.set(engine.clone());
    }

    /// Brings the reload figures up to what the followed handle recorded.
    fn read_reloads(&self) {
        let Some(engine) = self.engine.get() else {
            return;
        };
        let _one_at_a_time = self
            .reading_reloads
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let reloads = engine.reloads();
        for (outcome, count) in [("ok", &reloads.ok), ("failed", &reloads.failed)] {
            let counter = self.spec_reloads.get_or_create(&OutcomeLabel { outcome });
            let count = count.load(std::sync::atomic::Ordering::Relaxed);
            counter.inc_by(count.saturating_sub(counter.get()));
        }
        if let (Some(gauge), Some(took)) = (&self.spec_load, reloads.last_load()) {
            gauge.set(took.as_secs_f64());
        }
    }

    /// Counts one finished tool call. `tool` must be a listed tool's name (unknown names are
    /// reported as `unknown` by the caller).
    pub(crate) fn tool_call(&self, tool: &str, outcome: &'static str, elapsed: Duration) {
        self.tool_calls
            .get_or_create(&ToolLabels {
                tool: tool.to_string(),
                outcome,
            })
            .inc();
        self.tool_seconds
            .get_or_create(&ToolNameLabel {
                tool: tool.to_string(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Counts what an engine run did: its upstream calls and, for a sandbox run, its outcome.
    pub(crate) fn run(&self, outcome: &ExecuteOutcome, sandboxed: bool) {
        for call in &outcome.calls {
            self.upstream_call(call);
        }
        if let Err(failure) = &outcome.result
            && failure.kind == "busy"
        {
            self.busy_rejections.inc();
        }
        if sandboxed {
            self.sandbox_outcome(run_outcome(outcome));
        }
    }

    /// Counts a sandbox run that ended without an outcome (cancelled, or its task panicked).
    pub(crate) fn sandbox_outcome(&self, outcome: &'static str) {
        self.sandbox_runs
            .get_or_create(&OutcomeLabel { outcome })
            .inc();
    }

    fn upstream_call(&self, call: &CallRecord) {
        let api = call.api.clone().unwrap_or_default();
        let method = bounded_method(&call.method);
        self.upstream_requests
            .get_or_create(&UpstreamLabels {
                api: api.clone(),
                method: method.clone(),
                status: status_class(call.status),
            })
            .inc();
        self.upstream_seconds
            .get_or_create(&UpstreamLatencyLabels { api, method })
            .observe(call.ms as f64 / 1000.0);
    }

    /// Marks a sandbox run as started; the returned guard marks it finished when dropped, so a
    /// cancelled or panicking run is not left counted.
    pub(crate) fn run_started(&self) -> InFlight {
        self.runs_in_flight.inc();
        InFlight(self.runs_in_flight.clone())
    }

    /// The Prometheus text exposition of every metric, process memory read now.
    pub(crate) fn encode(&self) -> String {
        self.read_reloads();
        if let Some(bytes) = resident_bytes() {
            self.resident_bytes
                .set(i64::try_from(bytes).unwrap_or(i64::MAX));
        }
        let mut text = String::new();
        // Writing into a String cannot fail; an encoder error would be a bug in the crate, and a
        // scrape then gets what was written so far rather than a crash.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// Decrements the in-flight gauge when dropped.
pub(crate) struct InFlight(Gauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// `ok`, or the failure kind's stable name (`timeout`, `memory`, `exception`, …).
pub(crate) fn run_outcome(outcome: &ExecuteOutcome) -> &'static str {
    match &outcome.result {
        Ok(_) => "ok",
        Err(failure) => failure.kind.as_str(),
    }
}

fn status_class(status: Option<u16>) -> &'static str {
    match status {
        Some(200..=299) => "2xx",
        Some(300..=399) => "3xx",
        Some(400..=499) => "4xx",
        Some(500..=599) => "5xx",
        Some(_) => "other",
        None => "none",
    }
}

/// Methods come from the spec's path items, a closed set; anything else is `OTHER`, so a
/// strange spec cannot add series.
fn bounded_method(method: &str) -> String {
    const KNOWN: [&str; 8] = [
        "GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE",
    ];
    match KNOWN.iter().find(|m| m.eq_ignore_ascii_case(method)) {
        Some(known) => (*known).to_string(),
        None => "OTHER".to_string(),
    }
}

/// The process's resident set size: `VmRSS` in `/proc/self/status` (in kB, so no page size is
/// needed). `None` where there is no procfs.
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_classes_and_methods_are_a_closed_set() {
        assert_eq!(status_class(Some(204)), "2xx");
        assert_eq!(status_class(Some(503)), "5xx");
        assert_eq!(status_class(Some(99)), "other");
        assert_eq!(status_class(None), "none");
        assert_eq!(bounded_method("get"), "GET");
        assert_eq!(bounded_method("BREW"), "OTHER");
    }

    #[test]
    fn resident_memory_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            let bytes = resident_bytes().expect("procfs has VmRSS");
            assert!(bytes > 1024 * 1024, "{bytes}");
        }
    }
}
