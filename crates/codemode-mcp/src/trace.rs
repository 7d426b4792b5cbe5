//! The seam through which a trace a request carried (W3C `traceparent`, `tracestate`) is
//! continued by each tool call's span. This crate knows no OpenTelemetry: the binary, built with
//! its `otel` feature, installs the exporter and implements [`ContinueTrace`] with the W3C
//! propagator; an embedder with its own tracing stack implements it its own way.

use std::fmt::Debug;

use axum::http::HeaderMap;

/// Makes a tool call's span the child of the trace its HTTP request carried.
pub trait ContinueTrace: Debug + Send + Sync + 'static {
    /// Called once per tool call over HTTP, with the call's `tool_call` span (not yet entered)
    /// and the trace headers of its request (`traceparent`, `tracestate`; possibly none).
    fn continue_trace(&self, span: &tracing::Span, headers: &HeaderMap);
}

/// The request headers a trace travels in (W3C Trace Context).
pub(crate) const TRACE_HEADERS: [&str; 2] = ["traceparent", "tracestate"];

/// Copies the trace headers of a request, and nothing else.
pub(crate) fn trace_headers(headers: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    for name in TRACE_HEADERS {
        if let Some(value) = headers.get(name) {
            out.insert(name, value.clone());
        }
    }
    out
}
