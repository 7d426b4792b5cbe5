//! Wires the parts into the two things an agent can do: `search` (rank operations and declare them
//! in TypeScript) and `execute` (run a program in the sandbox whose `api` calls go to the upstream
//! client). Owns the JS prelude that defines `api`, the host-call dispatch, the per-run call log,
//! dry runs and confirmation hooks. Must not know MCP, rmcp or any wire format: the server and the
//! CLI are thin shells over [`Engine`].
//!
//! NOTE (work in progress): the public types below are the contract the MCP server codes against;
//! the bodies are being wired to codemode-sandbox, codemode-search, codemode-typescript and
//! codemode-upstream.

pub use codemode_spec as spec;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::Value;

/// The engine: one loaded spec plus everything needed to search it and run programs against it.
/// Cheap to share (`Arc<Engine>`); every method takes `&self` and may run concurrently.
pub struct Engine {
    spec: Arc<spec::Spec>,
}

/// Why the engine could not even start a request (not a script failure: those are in [`ExecuteOutcome`]).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("{0}")]
    Unavailable(String),
}

#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub query: String,
    /// Default 5, at most 20.
    pub limit: Option<usize>,
}

/// The ranked answer: `text` is exactly what the agent sees (typed declarations, within budget).
#[derive(Debug, Clone)]
pub struct SearchAnswer {
    pub text: String,
    pub hits: Vec<SearchHit>,
    /// Operations that ranked but were left out to stay within the token budget.
    pub omitted: usize,
}

#[derive(Debug, Clone)]
pub struct SearchHit {
    pub name: String,
    pub method: String,
    pub path: String,
    pub score: f64,
    /// Blocked by read-only mode or a deny rule: shown, but calling it fails.
    pub blocked: bool,
}

/// Asks a person before a mutating call goes out (MCP elicitation, for example).
pub trait Confirm: Send + Sync + 'static {
    fn confirm(&self, request: PlannedRequest) -> Pin<Box<dyn Future<Output = Confirmation> + Send>>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation {
    Approved,
    Declined,
    /// The client cannot ask (no elicitation support): the server's configured default applies.
    Unsupported,
}

#[derive(Clone, Default)]
pub struct ExecuteRequest {
    pub code: String,
    /// Mutating calls are not sent; each returns a placeholder and is listed in `planned`.
    pub dry_run: bool,
    pub confirm: Option<Arc<dyn Confirm>>,
}

/// A request as it would be sent, secrets redacted.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PlannedRequest {
    pub operation: Option<String>,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub body: Option<Value>,
}

/// Everything a run produced, success or not.
#[derive(Debug, Clone)]
pub struct ExecuteOutcome {
    pub result: Result<Value, ScriptFailure>,
    pub logs: Vec<LogLine>,
    pub calls: Vec<CallRecord>,
    /// Dry run only: the mutating requests that were not sent.
    pub planned: Vec<PlannedRequest>,
}

#[derive(Debug, Clone)]
pub struct ScriptFailure {
    /// A short machine-readable kind: `syntax`, `exception`, `timeout`, `memory`, `api_error`, `busy`, …
    pub kind: String,
    /// One or two lines a model can act on; never contains a secret.
    pub message: String,
    pub line: Option<u32>,
    pub col: Option<u32>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct LogLine {
    pub level: String,
    pub text: String,
}

/// One upstream call a run made.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CallRecord {
    pub method: String,
    pub path: String,
    pub status: Option<u16>,
    pub ms: u64,
}

impl Engine {
    pub fn new(spec: spec::Spec) -> Engine {
        Engine { spec: Arc::new(spec) }
    }

    pub fn spec(&self) -> &spec::Spec {
        &self.spec
    }

    /// The API's display name (the spec title).
    pub fn api_name(&self) -> &str {
        &self.spec.title
    }

    /// Whether calling this operation is allowed by read-only mode and allow/deny rules.
    pub fn is_allowed(&self, _operation: &spec::Operation) -> bool {
        true
    }

    /// Whether the engine refuses every mutating call (the `--read-only` switch).
    pub fn read_only(&self) -> bool {
        false
    }

    /// The fixed TypeScript block that declares the sandbox globals (`api`, its helpers, `console`).
    pub fn globals_declaration(&self) -> &str {
        ""
    }

    pub fn search(&self, _request: &SearchRequest) -> Result<SearchAnswer, EngineError> {
        Err(EngineError::Unavailable("search is not wired yet".into()))
    }

    /// Runs a read-only discovery program against `spec.*` helpers (no API access).
    pub async fn search_code(&self, _code: String) -> ExecuteOutcome {
        not_wired()
    }

    pub async fn execute(&self, _request: ExecuteRequest) -> ExecuteOutcome {
        not_wired()
    }

    /// Per-operation mode: calls one operation with its arguments (parameters by name, `body`).
    pub async fn call_operation(&self, _name: &str, _args: Value) -> ExecuteOutcome {
        not_wired()
    }
}

fn not_wired() -> ExecuteOutcome {
    ExecuteOutcome {
        result: Err(ScriptFailure { kind: "internal".into(), message: "execute is not wired yet".into(), line: None, col: None }),
        logs: Vec::new(),
        calls: Vec::new(),
        planned: Vec::new(),
    }
}
