//! Limits and pool sizing for a [`crate::Sandbox`], each with a documented default.

use std::time::Duration;

/// Limits of every run and the shape of the worker pool.
///
/// Result conversion rules (the same converter serves host-function arguments):
/// `undefined`, functions and symbols become `null` at the top level and in arrays and are omitted as
/// object members (like `JSON.stringify`); `NaN`/`Infinity` become `null`; BigInt becomes a decimal
/// string; Date becomes its ISO string (via `toJSON`); any object with a `toJSON` method is replaced by
/// its result; Map becomes an object whose keys are `String(key)`; Set and typed arrays become arrays;
/// a cycle is an error ([`crate::RunErrorKind::ResultNotSerializable`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxConfig {
    /// Wall-clock deadline of one run, including time spent waiting on host calls. Default 30 s.
    pub timeout: Duration,
    /// QuickJS heap limit per run. Default 64 MiB.
    pub memory_limit_bytes: usize,
    /// QuickJS stack limit per run. Default 1 MiB (worker threads get a larger native stack).
    pub max_stack_bytes: usize,
    /// Host function calls (sync and async) per run. Default 200.
    pub max_host_calls: u32,
    /// Console bytes kept per run; further lines are dropped and one marker line is added. Default 64 KiB.
    pub max_log_bytes: usize,
    /// Size of the result as JSON text. Default 4 MiB.
    pub max_result_bytes: usize,
    /// Worker threads, each running one script at a time. Default: available parallelism.
    pub workers: usize,
    /// Runs that may wait for a worker; one more gets [`crate::RunErrorKind::Busy`]. Default 64.
    pub queue_capacity: usize,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            timeout: Duration::from_secs(30),
            memory_limit_bytes: 64 * 1024 * 1024,
            max_stack_bytes: 1024 * 1024,
            max_host_calls: 200,
            max_log_bytes: 64 * 1024,
            max_result_bytes: 4 * 1024 * 1024,
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            queue_capacity: 64,
        }
    }
}
