//! [`Sandbox`]: a pool of worker threads, each running one script at a time, fed by a bounded queue.

use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use crate::runner;
use crate::{Host, RunError, RunErrorKind, RunOutput, RunRequest, SandboxConfig};

/// Native stack of a worker beyond the QuickJS stack limit: room for Rust frames and QuickJS's own
/// C frames between limit checks.
const WORKER_STACK_HEADROOM: usize = 8 * 1024 * 1024;

/// One queued run and where its outcome goes.
struct Job {
    request: RunRequest,
    host: Arc<dyn Host>,
    reply: tokio::sync::oneshot::Sender<Result<RunOutput, RunError>>,
}

/// A pool of QuickJS workers. Cheap to share behind an `Arc`; dropping it lets the workers finish the
/// runs already queued and exit.
pub struct Sandbox {
    config: Arc<SandboxConfig>,
    queue: SyncSender<Job>,
}

impl Sandbox {
    /// Start `config.workers` worker threads. Async host calls are spawned on `tokio`.
    pub fn new(config: SandboxConfig, tokio: tokio::runtime::Handle) -> Sandbox {
        let config = Arc::new(config);
        let (queue, jobs) = std::sync::mpsc::sync_channel::<Job>(config.queue_capacity);
        let jobs = Arc::new(Mutex::new(jobs));
        for index in 0..config.workers.max(1) {
            spawn_worker(index, Arc::clone(&config), Arc::clone(&jobs), tokio.clone());
        }
        Sandbox { config, queue }
    }

    /// Run agent code; fails fast with [`RunErrorKind::Busy`] when the queue is full.
    pub async fn run(
        &self,
        request: RunRequest,
        host: Arc<dyn Host>,
    ) -> Result<RunOutput, RunError> {
        let (reply, outcome) = tokio::sync::oneshot::channel();
        match self.queue.try_send(Job {
            request,
            host,
            reply,
        }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                return Err(RunError::new(
                    RunErrorKind::Busy,
                    format!(
                        "sandbox is busy: all {} workers are running and {} runs are waiting, try again later",
                        self.config.workers.max(1),
                        self.config.queue_capacity
                    ),
                ));
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(RunError::new(
                    RunErrorKind::Internal,
                    "sandbox workers have stopped",
                ));
            }
        }
        outcome.await.unwrap_or_else(|_| {
            Err(RunError::new(
                RunErrorKind::Internal,
                "sandbox worker stopped during the run",
            ))
        })
    }

    /// The configuration the pool was built with.
    pub fn config(&self) -> &SandboxConfig {
        &self.config
    }
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn spawn_worker(
    index: usize,
    config: Arc<SandboxConfig>,
    jobs: Arc<Mutex<Receiver<Job>>>,
    tokio: tokio::runtime::Handle,
) {
    let stack_size = config
        .max_stack_bytes
        .saturating_mul(2)
        .saturating_add(WORKER_STACK_HEADROOM);
    let spawned = std::thread::Builder::new()
        .name(format!("codemode-sandbox-{index}"))
        .stack_size(stack_size)
        .spawn(move || worker_loop(&config, &jobs, &tokio));
    // A worker that cannot start only shrinks the pool; runs still fail cleanly if none started.
    drop(spawned);
}

fn worker_loop(
    config: &SandboxConfig,
    jobs: &Mutex<Receiver<Job>>,
    tokio: &tokio::runtime::Handle,
) {
    loop {
        let job = {
            let Ok(receiver) = jobs.lock() else { return };
            match receiver.recv() {
                Ok(job) => job,
                Err(_) => return, // the Sandbox was dropped
            }
        };
        if job.reply.is_closed() {
            continue; // the caller gave up while the run was queued
        }
        let Job {
            request,
            host,
            reply,
        } = job;
        // Shared with the run so it can stop early once the caller has gone away.
        let reply = Rc::new(reply);
        let watched = Rc::clone(&reply);
        let cancelled: Rc<dyn Fn() -> bool> = Rc::new(move || watched.is_closed());
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
            runner::execute(config, request, host, tokio, cancelled)
        }))
        .unwrap_or_else(|_| {
            Err(RunError::new(
                RunErrorKind::Internal,
                "the sandbox run panicked",
            ))
        });
        if let Ok(reply) = Rc::try_unwrap(reply) {
            let _ = reply.send(outcome);
        }
    }
}
