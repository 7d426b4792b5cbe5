//! Spec reload for `serve`: on SIGHUP, or with `--watch` when a spec file's modification time
//! changes (looked at every second), the specs are loaded again with the same flags and config
//! file, a new engine is built and made ready, and it is swapped in. Tool calls in flight finish
//! on the engine they started with. A spec (or config) that fails to load keeps the old engine,
//! and the log says why.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use codemode_engine::Engine;
use codemode_mcp::EngineHandle;

/// Makes a new engine the way the running one was made (same flags, config file read again),
/// with the time its specs took to load and check (what `codemode_spec_load_seconds` shows).
pub type Rebuild = Arc<dyn Fn() -> anyhow::Result<(Engine, Duration)> + Send + Sync>;

/// What to watch, and how to make the engine again.
pub struct Watch {
    /// Spec files to look at every second (URLs are left out; SIGHUP reloads those).
    pub files: Vec<String>,
    pub rebuild: Rebuild,
}

/// How often `--watch` looks at the spec files.
const POLL: Duration = Duration::from_secs(1);

/// Starts reloading in the background for as long as the runtime runs. Call inside the
/// runtime, before the server announces itself: SIGHUP is caught from here on (a SIGHUP before
/// would end the process, as it does any program that does not catch it).
pub fn spawn(handle: EngineHandle, watch: Watch) {
    let hangup = Hangup::new();
    tokio::spawn(watch_and_reload(handle, watch, hangup));
}

async fn watch_and_reload(handle: EngineHandle, watch: Watch, mut hangup: Hangup) {
    let files: Vec<String> = watch
        .files
        .iter()
        .filter(|source| !source.starts_with("http://") && !source.starts_with("https://"))
        .cloned()
        .collect();
    let mut seen = modified(&files);
    let mut tick = tokio::time::interval(POLL);
    loop {
        tokio::select! {
            () = hangup.recv() => reload(&handle, &watch.rebuild, "SIGHUP").await,
            _ = tick.tick(), if !files.is_empty() => {
                let now = modified(&files);
                if now != seen {
                    seen = now;
                    reload(&handle, &watch.rebuild, "a spec file changed").await;
                }
            }
        }
    }
}

/// Each file's modification time (`None` while it cannot be read: a file being replaced).
fn modified(files: &[String]) -> Vec<Option<SystemTime>> {
    files
        .iter()
        .map(|file| std::fs::metadata(file).and_then(|m| m.modified()).ok())
        .collect()
}

async fn reload(handle: &EngineHandle, rebuild: &Rebuild, why: &'static str) {
    let rebuild = rebuild.clone();
    // Loading and indexing are CPU and file work: off the async workers.
    let built = tokio::task::spawn_blocking(move || -> anyhow::Result<(Engine, Duration)> {
        let (engine, took) = rebuild()?;
        // Ready before it is swapped in: no search after the swap pays for making answers.
        engine.prepare_search_answers();
        Ok((engine, took))
    })
    .await;
    match built {
        Ok(Ok((engine, took))) => {
            let operations: usize = engine.apis().map(|api| api.spec().operations.len()).sum();
            handle.reloaded(Arc::new(engine), took);
            tracing::info!(
                reason = why,
                operations,
                load_ms = took.as_millis() as u64,
                "spec reloaded"
            );
        }
        Ok(Err(error)) => {
            handle.reload_failed();
            let error = crate::output::chain_text(&error);
            tracing::warn!(
                reason = why,
                error,
                "spec reload failed; the old spec stays"
            );
        }
        Err(_) => {
            handle.reload_failed();
            tracing::error!(reason = why, "spec reload crashed; the old spec stays");
        }
    }
}

/// SIGHUP where there is such a thing; elsewhere a signal that never comes.
struct Hangup {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Hangup {
    fn new() -> Hangup {
        Hangup {
            #[cfg(unix)]
            signal: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok(),
        }
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some(signal) = &mut self.signal {
            signal.recv().await;
            return;
        }
        std::future::pending::<()>().await
    }
}
