//! The binary's one `tracing` subscriber: events from every crate go to stderr (stdout is the
//! stdio MCP transport), as text lines or one JSON object per line, at the levels `RUST_LOG`
//! gives (EnvFilter syntax; by default `info` for codemode's own crates and `warn` for
//! dependencies, whose info events are chatter about connections).

use anyhow::Context;
use clap::ValueEnum;
use tracing_subscriber::{EnvFilter, Layer};

/// `--log-format`, or `log_format` in the config file's `[server]`.
#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line (`timestamp`, `level`, `fields`, `target`, `span`, `spans`).
    Json,
}

/// The filter when `RUST_LOG` is unset or empty.
const DEFAULT_FILTER: &str = "warn,codemode=info";

/// What must live as long as the process logs: with `otel`, the trace exporter (dropping it
/// flushes the spans not yet sent).
pub struct LogGuard {
    #[cfg(feature = "otel")]
    _exporter: Option<crate::otel::Exporter>,
}

/// Installs the subscriber for the rest of the process. A `RUST_LOG` that does not parse is
/// refused with the reason, rather than silently logging at some other level. With the `otel`
/// feature and an OTLP endpoint in the environment, spans are exported too.
pub fn install(format: LogFormat) -> anyhow::Result<LogGuard> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.trim().is_empty() => EnvFilter::try_new(&directives)
            .with_context(|| format!("RUST_LOG {directives:?} is not a valid log filter"))?,
        _ => EnvFilter::new(DEFAULT_FILTER),
    };
    let lines = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(false);
    let lines = match format {
        LogFormat::Text => lines.boxed(),
        LogFormat::Json => lines.json().boxed(),
    };
    let (traces, guard) = traces()?;
    tracing_subscriber::registry()
        .with(filter)
        .with(lines)
        .with(traces)
        .try_init()
        .map_err(|error| anyhow::anyhow!("cannot install the log subscriber: {error}"))?;
    Ok(guard)
}

/// The trace exporter's layer, when this build has one and the environment asks for it.
#[cfg(feature = "otel")]
fn traces<S>() -> anyhow::Result<(Option<impl tracing_subscriber::Layer<S>>, LogGuard)>
where
    S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
{
    if !crate::otel::wanted() {
        return Ok((None, LogGuard { _exporter: None }));
    }
    let (layer, exporter) = crate::otel::layer()?;
    Ok((
        Some(layer),
        LogGuard {
            _exporter: Some(exporter),
        },
    ))
}

/// Without `otel` an endpoint in the environment is said to be ignored, not silently dropped.
#[cfg(not(feature = "otel"))]
fn traces() -> anyhow::Result<(Option<tracing_subscriber::layer::Identity>, LogGuard)> {
    let asked = [
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    ]
    .iter()
    .any(|var| std::env::var(var).is_ok_and(|v| !v.trim().is_empty()));
    if asked {
        eprintln!(
            "codemode: warning: OTEL_EXPORTER_OTLP_ENDPOINT is set, but this build has no \
             OpenTelemetry exporter (build with --features otel); no traces are sent"
        );
    }
    Ok((None, LogGuard {}))
}
