//! Traces over OpenTelemetry (the `otel` feature): the `tracing` spans the server already emits
//! (`tool_call`, and `upstream_call` inside it) exported over OTLP/HTTP as JSON, and the trace
//! an MCP request carried (`traceparent`) continued by its tool call's span, and passed on to
//! the upstream API on each of its requests (the `upstream_call` span as their parent).
//!
//! Configured the standard way, by environment: `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) turns it on, `OTEL_SERVICE_NAME` names the service
//! (default `codemode`). Spans are batched on a thread of the exporter's own and flushed when
//! the server stops.

use std::sync::Arc;

use anyhow::Context;
use axum::http::HeaderMap;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TracerProvider;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The environment variables that turn the exporter on.
pub const ENDPOINT_VARS: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
];

/// Whether the environment asks for traces.
pub fn wanted() -> bool {
    ENDPOINT_VARS
        .iter()
        .any(|var| std::env::var(var).is_ok_and(|v| !v.trim().is_empty()))
}

/// The exporter, running; dropping it flushes the spans not yet sent.
pub struct Exporter {
    provider: SdkTracerProvider,
}

impl Drop for Exporter {
    fn drop(&mut self) {
        // A collector that is down must not keep the server from stopping; the SDK bounds
        // the flush with its export timeout.
        if let Err(error) = self.provider.shutdown() {
            eprintln!("codemode: warning: traces not all exported at shutdown: {error}");
        }
    }
}

/// Builds the OTLP/HTTP exporter and the `tracing` layer that feeds it.
pub fn layer<S>() -> anyhow::Result<(impl tracing_subscriber::Layer<S>, Exporter)>
where
    S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
{
    // The exporter's reqwest client needs rustls's provider, as the upstream's does.
    codemode_engine::upstream::install_crypto_provider();
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpJson)
        .build()
        .context("cannot build the OTLP trace exporter (see OTEL_EXPORTER_OTLP_ENDPOINT)")?;
    let service = std::env::var("OTEL_SERVICE_NAME")
        .ok()
        .filter(|name| !name.trim().is_empty())
        .unwrap_or_else(|| "codemode".to_string());
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name(service).build())
        .build();
    let tracer = provider.tracer("codemode");
    let layer = tracing_opentelemetry::layer().with_tracer(tracer);
    Ok((layer, Exporter { provider }))
}

/// Continues the W3C trace context of each request in its tool call's span.
#[derive(Debug)]
pub struct W3cTraceContext;

impl W3cTraceContext {
    pub fn hook() -> Arc<dyn codemode_mcp::ContinueTrace> {
        Arc::new(W3cTraceContext)
    }
}

impl codemode_mcp::ContinueTrace for W3cTraceContext {
    fn continue_trace(&self, span: &tracing::Span, headers: &HeaderMap) {
        if headers.is_empty() {
            return;
        }
        let parent = TraceContextPropagator::new().extract(&Headers(headers));
        // An invalid `traceparent` extracts as an empty context: the span starts a trace.
        let _ = span.set_parent(parent);
    }
}

impl codemode_engine::upstream::PropagateTrace for W3cTraceContext {
    fn inject(
        &self,
        span: &tracing::Span,
        headers: &mut codemode_engine::upstream::http::HeaderMap,
    ) {
        TraceContextPropagator::new().inject_context(&span.context(), &mut Outgoing(headers));
    }
}

/// The propagator's view of an outgoing request's headers: it may only set its own.
struct Outgoing<'a>(&'a mut codemode_engine::upstream::http::HeaderMap);

impl Injector for Outgoing<'_> {
    fn set(&mut self, key: &str, value: String) {
        use codemode_engine::upstream::http::{HeaderName, HeaderValue};
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(key), HeaderValue::try_from(value)) {
            self.0.insert(name, value);
        }
    }
}

/// The propagator's view of a request's headers.
struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|name| name.as_str()).collect()
    }
}
