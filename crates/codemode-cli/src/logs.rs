//! The binary's one `tracing` subscriber: events from every crate go to stderr (stdout is the
//! stdio MCP transport), as text lines or one JSON object per line, at the levels `RUST_LOG`
//! gives (EnvFilter syntax; by default `info` for codemode's own crates and `warn` for
//! dependencies, whose info events are chatter about connections).

use anyhow::Context;
use clap::ValueEnum;
use tracing_subscriber::EnvFilter;

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

/// Installs the subscriber for the rest of the process. A `RUST_LOG` that does not parse is
/// refused with the reason, rather than silently logging at some other level.
pub fn install(format: LogFormat) -> anyhow::Result<()> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.trim().is_empty() => EnvFilter::try_new(&directives)
            .with_context(|| format!("RUST_LOG {directives:?} is not a valid log filter"))?,
        _ => EnvFilter::new(DEFAULT_FILTER),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false);
    let installed = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    installed.map_err(|error| anyhow::anyhow!("cannot install the log subscriber: {error}"))
}
