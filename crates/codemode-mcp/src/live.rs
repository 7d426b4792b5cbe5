//! The engine a server answers with, and the tool lists made from it, replaceable while it
//! serves: a spec reload builds a new engine and swaps it in ([`EngineHandle::replace`]). Each
//! tool call takes the engine (and the tool list made from it) current when it starts and keeps
//! it to its end, so a run in flight finishes on the spec it started with. Knows nothing of where engines come from (the CLI
//! reloads; an embedder may swap its own).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use codemode_engine::Engine;
use rmcp::model::Tool;

use crate::ToolMode;
use crate::per_operation::OperationTools;

/// What one server instance lists and how it maps tool names back to work.
#[derive(Debug)]
pub(crate) struct ToolSet {
    pub mode: ToolMode,
    /// Exactly what tools/list returns.
    pub tools: Vec<Tool>,
    /// Per-operation mode only: tool name → operation name.
    pub operations: OperationTools,
    /// Tool name → index into `tools`.
    pub(crate) index: HashMap<String, usize>,
}

impl ToolSet {
    /// Computes the tool list once. Tools are typed from the start: none is parsed back from JSON,
    /// so none can be dropped on the way (the tests check each against the MCP rules).
    pub(crate) fn build(engine: &Engine, mode: ToolMode) -> ToolSet {
        let (tools, operations) = match mode {
            ToolMode::CodeMode => (crate::code_mode_tools(engine), OperationTools::default()),
            ToolMode::PerOperation => {
                let mut operations = crate::per_operation::operation_tools(engine);
                (std::mem::take(&mut operations.tools), operations)
            }
        };
        let index = tools
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name.to_string(), i))
            .collect();
        ToolSet {
            mode,
            tools,
            operations,
            index,
        }
    }
}

/// A shared, replaceable engine. Cheap to clone; every clone sees replacements.
#[derive(Clone)]
pub struct EngineHandle {
    current: Arc<RwLock<Arc<Snapshot>>>,
    /// Counts the swaps, so a session can tell its client when the tools changed.
    swaps: Arc<tokio::sync::watch::Sender<u64>>,
    reloads: Arc<Reloads>,
}

/// What reloads did, for the metrics: how many swapped a new engine in, how many failed, and
/// how long the last good one took to load.
#[derive(Debug)]
pub(crate) struct Reloads {
    pub(crate) ok: AtomicU64,
    pub(crate) failed: AtomicU64,
    /// Microseconds; `u64::MAX` until a reload is recorded.
    last_load_micros: AtomicU64,
}

impl Reloads {
    /// How long the last recorded reload took to load, if there was one.
    pub(crate) fn last_load(&self) -> Option<Duration> {
        match self.last_load_micros.load(Ordering::Relaxed) {
            u64::MAX => None,
            micros => Some(Duration::from_micros(micros)),
        }
    }
}

/// One engine with the tool lists made from it (each on first use).
pub(crate) struct Snapshot {
    pub(crate) engine: Arc<Engine>,
    code_mode: OnceLock<Arc<ToolSet>>,
    per_operation: OnceLock<Arc<ToolSet>>,
}

impl Snapshot {
    fn new(engine: Arc<Engine>) -> Snapshot {
        Snapshot {
            engine,
            code_mode: OnceLock::new(),
            per_operation: OnceLock::new(),
        }
    }

    /// The tools of `mode` for this engine.
    pub(crate) fn tools(&self, mode: ToolMode) -> Arc<ToolSet> {
        let cell = match mode {
            ToolMode::CodeMode => &self.code_mode,
            ToolMode::PerOperation => &self.per_operation,
        };
        cell.get_or_init(|| Arc::new(ToolSet::build(&self.engine, mode)))
            .clone()
    }
}

impl EngineHandle {
    /// A handle over `engine`.
    pub fn new(engine: Arc<Engine>) -> EngineHandle {
        EngineHandle {
            current: Arc::new(RwLock::new(Arc::new(Snapshot::new(engine)))),
            swaps: Arc::new(tokio::sync::watch::Sender::new(0)),
            reloads: Arc::new(Reloads {
                ok: AtomicU64::new(0),
                failed: AtomicU64::new(0),
                last_load_micros: AtomicU64::new(u64::MAX),
            }),
        }
    }

    /// The engine tool calls starting now use.
    pub fn engine(&self) -> Arc<Engine> {
        self.snapshot().engine.clone()
    }

    /// Swaps in `engine` for the calls that start from now on; calls in flight keep theirs.
    pub fn replace(&self, engine: Arc<Engine>) {
        let fresh = Arc::new(Snapshot::new(engine));
        // A poisoned lock only means a reader panicked while cloning an `Arc`: the value is
        // whole, so the swap goes ahead.
        match self.current.write() {
            Ok(mut current) => *current = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
        self.swaps.send_modify(|swaps| *swaps += 1);
    }

    /// [`EngineHandle::replace`] for a reload whose new engine took `took` to load: the
    /// metrics count it (`codemode_spec_reloads_total{outcome="ok"}`) and, when the server
    /// reports a load time at all ([`crate::ServerConfig::spec_load`]),
    /// `codemode_spec_load_seconds` shows this one from now on.
    pub fn reloaded(&self, engine: Arc<Engine>, took: Duration) {
        self.replace(engine);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX - 1);
        self.reloads
            .last_load_micros
            .store(micros.min(u64::MAX - 1), Ordering::Relaxed);
        self.reloads.ok.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a reload that failed, the running engine staying
    /// (`codemode_spec_reloads_total{outcome="failed"}`: what to alert on).
    pub fn reload_failed(&self) {
        self.reloads.failed.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn reloads(&self) -> &Reloads {
        &self.reloads
    }

    /// Wakes on every [`EngineHandle::replace`] from now on.
    pub(crate) fn swaps(&self) -> tokio::sync::watch::Receiver<u64> {
        self.swaps.subscribe()
    }

    pub(crate) fn snapshot(&self) -> Arc<Snapshot> {
        match self.current.read() {
            Ok(current) => current.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

impl From<Arc<Engine>> for EngineHandle {
    fn from(engine: Arc<Engine>) -> EngineHandle {
        EngineHandle::new(engine)
    }
}

impl std::fmt::Debug for EngineHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineHandle").finish_non_exhaustive()
    }
}
