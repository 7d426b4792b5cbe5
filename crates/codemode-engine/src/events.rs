//! The engine's `tracing` events: one per upstream call a run made and one for the run's end.
//! Written from the run's call records after it ends, which are already redacted and name the
//! path template, so no event can carry a resolved path, a query, a body, a header or a program.
//! Knows nothing of subscribers: the binary installs one, a library embedding the engine may
//! install its own or none.

use std::time::Instant;

use crate::{CallRecord, ExecuteOutcome};

/// Emits the events of a finished run: `kind` says which entry point ran it (`execute`,
/// `search_code`, `call_operation`); `run` is the id the audit log gives the run's calls
/// (`<pid>-<n>`), so a log line and an audit line can be matched (`None` for a discovery
/// program, which calls nothing).
pub(crate) fn run_finished(
    kind: &'static str,
    run: Option<&str>,
    outcome: &ExecuteOutcome,
    started: Instant,
) {
    for call in &outcome.calls {
        upstream_call(run, call);
    }
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let calls = outcome.calls.len();
    match &outcome.result {
        Ok(_) => tracing::debug!(kind, run, outcome = "ok", ms, calls, "run finished"),
        Err(failure) => tracing::debug!(
            kind,
            run,
            outcome = failure.kind.as_str(),
            ms,
            calls,
            "run finished"
        ),
    }
}

fn upstream_call(run: Option<&str>, call: &CallRecord) {
    tracing::info!(
        run,
        api = call.api.as_deref(),
        method = call.method.as_str(),
        path = call.path.as_str(),
        status = call.status,
        ms = call.ms,
        "upstream call"
    );
}
