//! Trace context on outgoing requests: the seam through which an embedder that exports traces
//! puts the current span's context (W3C `traceparent`, for one) on every request to the
//! upstream, so the API's own spans join the trace of the tool call that caused them. This
//! crate emits `tracing` spans only and knows no trace format; with no propagator set, nothing
//! is added.

use std::fmt;

/// How the trace context reaches the upstream (an OpenTelemetry propagator, in the CLI).
pub trait PropagateTrace: Send + Sync + 'static {
    /// Writes the trace context of `span` (the request's `upstream_call` span) into the
    /// headers of the request about to be sent. Called once per attempt, after the host's own
    /// headers and credentials are in place and any `traceparent` or `tracestate` the script
    /// set removed; it may only add trace headers, and must not read or log the others, which
    /// hold credentials.
    fn inject(&self, span: &tracing::Span, headers: &mut http::HeaderMap);
}

impl fmt::Debug for dyn PropagateTrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PropagateTrace")
    }
}
