//! codemode-sandbox owns the execution of agent-written JavaScript/TypeScript: every run gets a fresh
//! QuickJS runtime and context (rquickjs), hard limits (wall-clock deadline with an uncatchable interrupt,
//! memory, stack, host calls, log and result bytes), a capturing `console`, and host functions injected by
//! name through the [`Host`] trait — the only way data leaves the sandbox. Key types: [`Sandbox`] (a pool of
//! worker threads with a bounded queue), [`SandboxConfig`], [`RunRequest`], [`RunOutput`], [`RunError`].
//! The code forms a model writes (async arrow, function body with `return`, bare statements, `export
//! default`, fenced blocks) are accepted, and TypeScript is stripped with oxc ([`strip_typescript`]).
//! This crate must NOT know about OpenAPI, HTTP or credentials: the caller's prelude and [`Host`] give
//! meaning to the functions it installs.

#![warn(missing_docs)]
#![warn(unreachable_pub)]

mod bootstrap;
mod config;
mod deadline;
mod error;
mod forms;
mod host;
mod memory;
mod pool;
mod runner;
mod typescript;

pub use config::SandboxConfig;
pub use deadline::{MAX_PAUSED, Pause, Pauses};
pub use error::{RunError, RunErrorKind};
pub use host::{Host, HostError, HostFuture};
pub use pool::Sandbox;
pub use typescript::strip_typescript;

use std::sync::Arc;
use std::time::Duration;

/// One run of agent code.
#[derive(Debug, Clone, Default)]
pub struct RunRequest {
    /// Agent code: JavaScript or TypeScript, in any accepted form.
    pub code: String,
    /// Trusted JavaScript evaluated first in the same context, as an ES module (strict mode: it defines
    /// globals through `globalThis`, e.g. `globalThis.api`). Compiled to bytecode once per worker
    /// thread. Its frames are hidden from user stacks and an exception in it is reported as
    /// [`RunErrorKind::Internal`].
    pub prelude: Option<Arc<str>>,
    /// Names installed on `globalThis`, each `(arg) => Promise<json>`, served by [`Host::call`].
    pub async_functions: Vec<String>,
    /// Names installed on `globalThis`, each `(arg) => json`, served by [`Host::call_sync`].
    pub sync_functions: Vec<String>,
    /// Waits the host declares as not the script's time (a person answering a prompt): the
    /// run's deadline stands still during them.
    pub pauses: Pauses,
}

/// What a successful run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutput {
    /// The script's result converted to JSON (rules on [`SandboxConfig`]).
    pub result: serde_json::Value,
    /// Captured console lines, bounded by [`SandboxConfig::max_log_bytes`].
    pub logs: Vec<LogLine>,
    /// How many host functions (sync and async) the script called.
    pub host_calls: u32,
    /// Wall-clock time of the run on its worker, up to the reply (the worker frees the run's
    /// runtime after replying).
    pub elapsed: Duration,
}

/// One captured console line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// The console method called (`console.trace` logs as `debug`, `dir` and `table` as `log`).
    pub level: LogLevel,
    /// The arguments joined by spaces: strings as they are, other values as JSON, errors as
    /// `name: message`. The line that reaches the log limit is cut short.
    pub text: String,
}

/// The console method that produced a [`LogLine`]. Its `Display` and `Serialize` give the
/// method name ([`LogLevel::as_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LogLevel {
    /// `console.log`, `console.dir` and `console.table`.
    Log,
    /// `console.info`.
    Info,
    /// `console.warn`, and the sandbox's own notes (log limit reached, calls left pending).
    Warn,
    /// `console.error`.
    Error,
    /// `console.debug` and `console.trace`.
    Debug,
}

impl LogLevel {
    /// The console method name (`log`, `info`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Log => "log",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
            LogLevel::Debug => "debug",
        }
    }
}

impl std::fmt::Display for LogLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The method name, as front ends and JSON outputs have always shown it.
impl serde::Serialize for LogLevel {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// `level == "warn"`: compares with the method name.
impl PartialEq<&str> for LogLevel {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::LogLevel;

    #[test]
    fn levels_serialize_display_and_compare_as_the_console_method() {
        for (level, name) in [
            (LogLevel::Log, "log"),
            (LogLevel::Info, "info"),
            (LogLevel::Warn, "warn"),
            (LogLevel::Error, "error"),
            (LogLevel::Debug, "debug"),
        ] {
            assert_eq!(
                serde_json::to_value(level).expect("serializes"),
                serde_json::Value::String(name.into())
            );
            assert_eq!(level.to_string(), name);
            assert_eq!(level, name);
        }
    }
}
