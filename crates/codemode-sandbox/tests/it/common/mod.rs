//! Shared helpers for the sandbox integration tests: a runtime, a sandbox and a scriptable host.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use codemode_sandbox::{
    Host, HostError, HostFuture, Pauses, RunError, RunOutput, RunRequest, Sandbox, SandboxConfig,
};
use serde_json::{Value, json};

/// Counters a [`TestHost`] shares with the futures it returns.
#[derive(Default)]
pub struct Stats {
    pub active: AtomicU32,
    pub peak: AtomicU32,
    pub calls: AtomicU32,
}

/// A host with a few functions: `echo` (returns its argument), `sleep` (waits `arg` ms, then returns it),
/// `ask` (like `sleep`, but paused like a person answering a prompt), `fail` (raises a HostError
/// with data), and sync `add` ({a, b} -> a + b). Tracks peak concurrency.
#[derive(Default, Clone)]
pub struct TestHost {
    pub stats: Arc<Stats>,
    /// The pauses `ask` takes; pass the same to the run (`RunRequest::pauses`).
    pub pauses: Pauses,
}

impl Host for TestHost {
    fn call(&self, function: &str, arg: Value) -> HostFuture {
        self.stats.calls.fetch_add(1, Ordering::SeqCst);
        match function {
            "echo" => Box::pin(async move { Ok(arg) }),
            "sleep" => {
                let ms = arg.as_u64().unwrap_or(0);
                let stats = Arc::clone(&self.stats);
                Box::pin(async move {
                    let now = stats.active.fetch_add(1, Ordering::SeqCst) + 1;
                    stats.peak.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    stats.active.fetch_sub(1, Ordering::SeqCst);
                    Ok(json!(ms))
                })
            }
            "ask" => {
                let ms = arg.as_u64().unwrap_or(0);
                let pauses = self.pauses.clone();
                Box::pin(async move {
                    let _person_is_thinking = pauses.pause();
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    Ok(json!("yes"))
                })
            }
            "fail" => Box::pin(async move {
                Err(
                    HostError::new("HttpError", "request failed with status 404")
                        .with_data(json!({"status": 404, "body": {"error": "not found"}})),
                )
            }),
            other => {
                let other = other.to_string();
                Box::pin(async move {
                    Err(HostError::new("Error", format!("no such function {other}")))
                })
            }
        }
    }

    fn call_sync(&self, function: &str, arg: Value) -> Result<Value, HostError> {
        self.stats.calls.fetch_add(1, Ordering::SeqCst);
        match function {
            "add" => Ok(json!(
                arg["a"].as_f64().unwrap_or(0.0) + arg["b"].as_f64().unwrap_or(0.0)
            )),
            _ => Err(
                HostError::new("TypeError", format!("{function} is not available"))
                    .with_data(json!({"code": 7})),
            ),
        }
    }
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

pub fn sandbox(rt: &tokio::runtime::Runtime, config: SandboxConfig) -> Sandbox {
    Sandbox::new(config, rt.handle().clone())
}

pub fn request(code: &str) -> RunRequest {
    RunRequest {
        code: code.to_string(),
        prelude: None,
        async_functions: vec!["echo".into(), "sleep".into(), "ask".into(), "fail".into()],
        sync_functions: vec!["add".into(), "missing".into()],
        pauses: Pauses::default(),
    }
}

pub fn run_with(
    rt: &tokio::runtime::Runtime,
    sandbox: &Sandbox,
    code: &str,
) -> Result<RunOutput, RunError> {
    let host: Arc<dyn Host> = Arc::new(TestHost::default());
    rt.block_on(sandbox.run(request(code), host))
}

/// One sandbox with short limits for quick tests.
pub fn quick_config() -> SandboxConfig {
    SandboxConfig {
        timeout: Duration::from_millis(1500),
        workers: 2,
        ..SandboxConfig::default()
    }
}

pub fn ok(rt: &tokio::runtime::Runtime, sandbox: &Sandbox, code: &str) -> Value {
    match run_with(rt, sandbox, code) {
        Ok(output) => output.result,
        Err(error) => panic!("run failed for {code:?}: {:?}", error),
    }
}

pub fn err(rt: &tokio::runtime::Runtime, sandbox: &Sandbox, code: &str) -> RunError {
    match run_with(rt, sandbox, code) {
        Ok(output) => panic!("run succeeded for {code:?}: {:?}", output.result),
        Err(error) => error,
    }
}
