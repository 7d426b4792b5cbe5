//! Wires the parts into the two things an agent can do: `search` (rank operations and declare them
//! in TypeScript) and `execute` (run a program in the sandbox whose `api` calls go to the upstream
//! client). Owns the JS prelude that defines `api`, the host-call dispatch, the per-run call log,
//! dry runs, confirmation hooks and the approval journal a paused run resumes from
//! ([`Approvals`]). Must not know MCP, rmcp or any wire format: the server and the CLI are thin
//! shells over [`Engine`].
//!
//! Every run emits `tracing` events: `upstream call` (info) per call, from its redacted call
//! record, and `run finished` (debug). The engine never installs a subscriber.

#![warn(missing_docs)]
#![warn(unreachable_pub)]

mod answer;
mod apis;
mod audit;
mod caller;
mod events;
mod host;
mod journal;
mod lines;
mod lookups;
mod mentions;
mod placeholder;
mod policy;
mod ranking;

pub use apis::{ApiRef, ApiSetup, MAX_API_NAME_CHARS, check_api_name};
pub use caller::Caller;
pub use codemode_sandbox::LogLevel;
pub use codemode_sandbox::SandboxConfig;
pub use codemode_spec as spec;
pub use codemode_typescript as typescript;
pub use codemode_upstream as upstream;
pub use codemode_upstream::RequestCredentials;
pub use journal::{Approvals, Journal, Paused};
pub use policy::{
    ConfirmFallback, PolicyConfig, PolicyError, RuleLocation, RuleSpec, RuleTable, Verdict,
};

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use serde_json::Value;

use crate::host::{RunFor, RunHost};

/// Why the engine could not be built, or could not answer a search. Each message says what
/// failed; the reason is its `source()` (print the chain, e.g. `{:#}` with anyhow, to see both).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// [`Engine::new`] was called outside a tokio runtime (the sandbox bridges host calls to it).
    #[error("the engine must be created inside a tokio runtime")]
    NoRuntime(#[source] tokio::runtime::TryCurrentError),
    /// The upstream client could not be built from [`EngineConfig::upstream`].
    #[error("invalid upstream configuration")]
    Upstream(#[source] upstream::ConfigError),
    /// A rule of [`EngineConfig::policy`] cannot mean what was written (its source names the rule).
    #[error("invalid policy")]
    Policy(#[source] PolicyError),
    /// The search query cannot be searched (empty, too long, no words); its source says what to
    /// do instead.
    #[error("invalid request")]
    Search(#[source] codemode_search::SearchError),
    /// An API name cannot be used ([`check_api_name`] says why).
    #[error("API name {name:?} cannot be used: {problem}")]
    ApiName {
        /// The name as configured.
        name: String,
        /// What is wrong with it.
        problem: String,
    },
    /// Two APIs have the same name.
    #[error("two APIs are named {0:?}: each API needs a name of its own")]
    DuplicateApi(String),
    /// Two APIs take credentials from the same request header: each user's credential for one
    /// would go to the other's origin too.
    #[error(
        "APIs {first:?} and {second:?} both take credentials from the request header {header:?}: \
         each API's credential must come in a header of its own, or one API's token would be sent \
         to the other"
    )]
    SharedForwardedHeader {
        /// The request header, lower case.
        header: String,
        /// The API named first in the configuration.
        first: String,
        /// The other one.
        second: String,
    },
    /// [`Engine::with_apis`] was given no API.
    #[error("no API to serve: give at least one")]
    NoApis,
    /// One API of several could not be built; the source says why.
    #[error("API {name:?}")]
    Api {
        /// The API's name.
        name: String,
        /// Why it could not be built.
        #[source]
        source: Box<EngineError>,
    },
    /// A search asked for an API the engine does not serve.
    #[error("no API is named {name:?} (APIs: {known})")]
    UnknownApi {
        /// The name asked for.
        name: String,
        /// The engine's API names, comma-separated.
        known: String,
    },
    /// [`Engine::with_apis`] was given an [`EngineConfig`] whose upstream, policy or session
    /// limits are set: with several APIs they are set per API ([`ApiSetup`]), and a rule that
    /// silently applied to none of them would be worse than an error.
    #[error(
        "with several APIs, the upstream, the policy and the call limits are set per API (ApiSetup), not in EngineConfig"
    )]
    SharedApiSettings,
}

/// What [`Engine::search`] and [`Engine::rank`] are asked.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    /// A task sentence, or operation or type names separated by commas or spaces (see
    /// [`Engine::search`]). An empty query is an error.
    pub query: String,
    /// How many operations to declare: default 5, clamped to 1..=20. Operations named in the
    /// query and the steps of a multi-step task may raise it, up to 20.
    pub limit: Option<usize>,
    /// With several APIs: rank only this one (its name). `None`: every API. An unknown name is
    /// an error that lists the names. Ignored with one API.
    pub api: Option<String>,
    /// Who asks, when the front end authenticated them: operations their token's scopes do not
    /// allow ([`PolicyConfig::write_scope`]) are marked blocked for them. `None`: nobody
    /// authenticated, so a `write_scope` API's mutating operations are marked blocked.
    pub caller: Option<Caller>,
}

/// The ranked answer: `text` is exactly what the agent sees (typed declarations, within budget).
#[derive(Debug, Clone)]
pub struct SearchAnswer {
    /// The answer as the agent reads it: the operations found, their TypeScript declarations,
    /// notes on what the budget trimmed, then the operations ranked next; sized to
    /// [`EngineConfig::search_budget_tokens`].
    pub text: String,
    /// o200k tokens of `text`, added up from its parts (an upper bound within a few tokens; a
    /// front end need not count the text again to know it fits).
    pub tokens: usize,
    /// The operations declared in `text`, in the order it lists them (empty when nothing matched
    /// or the query named types).
    pub hits: Vec<SearchHit>,
    /// Operations that ranked but were left out to stay within the token budget.
    pub omitted: usize,
    /// Operations ranked next (and any left out for the budget), named in `text` with their
    /// summary but not declared: a second chance for the agent when the best five miss.
    pub more: Vec<SearchHit>,
}

/// One ranked operation.
#[derive(Debug, Clone)]
pub struct SearchHit {
    /// The API it belongs to, when the engine serves several (`api.<api>.<name>`); `None` with
    /// one API.
    pub api: Option<String>,
    /// The operation's name, as scripts call it (`api.<name>`, or `api.<api>.<name>`).
    pub name: String,
    /// The HTTP method, upper case.
    pub method: String,
    /// The path template, e.g. `/pets/{petId}`.
    pub path: String,
    /// Relevance, larger is better, comparable only within one query; an operation the query
    /// named scores 1.0.
    pub score: f64,
    /// Blocked by read-only mode or a deny rule: shown, but calling it fails.
    pub blocked: bool,
}

/// Asks a person before a mutating call goes out (MCP elicitation, for example).
pub trait Confirm: Send + Sync + 'static {
    /// Asks whether `request` may be sent. The run's deadline stands still while it waits, up to
    /// [`codemode_sandbox::MAX_PAUSED`] per run in all; past that the call is not sent.
    fn confirm(
        &self,
        request: PlannedRequest,
    ) -> Pin<Box<dyn Future<Output = Confirmation> + Send>>;
}

/// A person's answer to [`Confirm::confirm`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation {
    /// Send the request.
    Approved,
    /// Do not send it: the call throws a `ConfirmationDeclined` error the script can catch.
    Declined,
    /// The client cannot ask (no elicitation support): the server's configured default applies.
    Unsupported,
}

/// What [`Engine::execute`] runs.
#[derive(Clone, Default)]
pub struct ExecuteRequest {
    /// The agent's program, JavaScript or TypeScript, in any form the sandbox accepts (async
    /// arrow, function body with `return`, bare statements, `export default`, fenced block).
    pub code: String,
    /// Mutating calls are not sent; each is listed in `planned` and returns a placeholder shaped
    /// from its success response schema (ids filled in, see `placeholder.rs`), on which
    /// `dryRun` (true) and `planned` are non-enumerable properties; without a JSON response
    /// schema, `{ dryRun: true, planned }`.
    pub dry_run: bool,
    /// Who asks the user before calls the policy marks for confirmation. `None`: nobody can be
    /// asked, and [`PolicyConfig::confirm_fallback`] decides (default: such calls fail).
    pub confirm: Option<Arc<dyn Confirm>>,
    /// Who asks, when the front end authenticated them: named in the audit log, and their
    /// scopes checked against each API's [`PolicyConfig::write_scope`]. `None`: nobody in
    /// particular (stdio, a static token); an API with a `write_scope` then refuses this run's
    /// mutating calls (fail closed).
    pub caller: Option<Caller>,
    /// Upstream credentials this request carried, for APIs whose credentials come from the
    /// request (`Credential::FromRequest`). Used for this run only.
    pub credentials: RequestCredentials,
    /// Approvals without a live question (stateless HTTP): a call that needs confirmation
    /// pauses the run ([`ExecuteOutcome::paused`]) instead of asking through `confirm`, and the
    /// run after the user's answer replays the calls of the journal instead of sending them
    /// again. `None`: calls are confirmed through `confirm`, or the fallback. Ignored in a dry
    /// run, which sends no write.
    pub approvals: Option<Approvals>,
}

/// A request as it would be sent, secrets redacted.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PlannedRequest {
    /// The API it goes to, when the engine serves several; `None` (and absent from JSON) with one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
    /// The operation's name; `None` for an `api.request` call that matches no operation.
    pub operation: Option<String>,
    /// The HTTP method, upper case.
    pub method: String,
    /// The URL's path with parameter values in place, the base URL's path prefix included;
    /// without origin or query.
    pub path: String,
    /// The encoded query string, without `?`; `None` when there is none.
    pub query: Option<String>,
    /// The body as a value for display (JSON or form fields; file parts described, not
    /// included); `None` without a body.
    pub body: Option<Value>,
}

/// Everything a run produced, success or not.
#[derive(Debug, Clone)]
pub struct ExecuteOutcome {
    /// The program's result as JSON (`undefined` becomes `null`; see [`SandboxConfig`] for the
    /// conversion rules), or why it failed.
    pub result: Result<Value, ScriptFailure>,
    /// Console lines, then the engine's notes, secrets redacted; kept even when the run failed.
    pub logs: Vec<LogLine>,
    /// One record per upstream call, failed calls included; kept even when the run failed.
    pub calls: Vec<CallRecord>,
    /// Dry run only: the mutating requests that were not sent.
    pub planned: Vec<PlannedRequest>,
    /// With [`ExecuteRequest::approvals`]: the run paused for the user's approval of a call
    /// (`result` is then a failure of kind [`FailureKind::Paused`]). Run again with the answer
    /// and this journal.
    pub paused: Option<Paused>,
}

/// Why a run or a per-operation call failed, in words a model can act on.
#[derive(Debug, Clone)]
pub struct ScriptFailure {
    /// What kind of failure it was; [`FailureKind::as_str`] is its short machine-readable name.
    pub kind: FailureKind,
    /// One or two lines a model can act on; never contains a secret.
    pub message: String,
    /// 1-based line in the code the agent sent; `None` when unknown (always for a
    /// per-operation call).
    pub line: Option<u32>,
    /// 1-based column in the code the agent sent; `None` when unknown.
    pub col: Option<u32>,
}

/// What kind of failure ended a run or a per-operation call. Its `Display` and `Serialize` give
/// the stable lowercase name front ends show ([`FailureKind::as_str`]: `syntax`, `api_error`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailureKind {
    /// The run itself failed in the sandbox (syntax, exception, timeout, memory, …): the
    /// sandbox's own kind, under its own name.
    Run(codemode_sandbox::RunErrorKind),
    /// Per-operation call: the upstream answered with a non-2xx status.
    ApiError,
    /// Per-operation call: the arguments do not fit the operation, or no operation has the name.
    Validation,
    /// Per-operation call: read-only mode or a deny rule blocks the operation.
    Policy,
    /// Per-operation call: the user declined it, or could not be asked and the server denies.
    Declined,
    /// Per-operation call: any other failure on the way (no upstream, egress, network, timeout,
    /// call limit, no answer to a confirmation).
    Upstream,
    /// The run paused for the user's approval of a call ([`ExecuteOutcome::paused`]).
    Paused,
    /// A run resumed after an approval did not make the calls it made before: nothing more
    /// was sent.
    Diverged,
}

impl FailureKind {
    /// The stable lowercase name (`syntax`, `exception`, `timeout`, `api_error`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Run(kind) => kind.as_str(),
            FailureKind::ApiError => "api_error",
            FailureKind::Validation => "validation",
            FailureKind::Policy => "policy",
            FailureKind::Declined => "declined",
            FailureKind::Upstream => "upstream",
            FailureKind::Paused => "paused",
            FailureKind::Diverged => "diverged",
        }
    }
}

impl From<codemode_sandbox::RunErrorKind> for FailureKind {
    fn from(kind: codemode_sandbox::RunErrorKind) -> FailureKind {
        FailureKind::Run(kind)
    }
}

impl std::fmt::Display for FailureKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name ([`FailureKind::as_str`]): the strings front ends and JSON outputs have always shown.
impl serde::Serialize for FailureKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// `kind == "syntax"`: compares with the name.
impl PartialEq<&str> for FailureKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// One line of a run's log: a console line of the program, or a note of the engine.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LogLine {
    /// The console method (`log`, `warn`, …), or `warn` for a note the engine adds.
    pub level: LogLevel,
    /// The line, secrets redacted; console output stops at
    /// [`SandboxConfig::max_log_bytes`] in all.
    pub text: String,
}

/// One upstream call a run made. Its `Display` is the line front ends show:
/// `GET /v1/charges → 200 (7 ms, 3 items)`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CallRecord {
    /// The API it went to, when the engine serves several; `None` (and absent from JSON) with
    /// one. Shown before the method: `stripe: GET /v1/charges → 200 (7 ms)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
    /// The HTTP method, upper case.
    pub method: String,
    /// The path template (`/pets/{petId}`).
    pub path: String,
    /// The response status after redirects; `None` when no response came (timeout, network
    /// error, refused redirect).
    pub status: Option<u16>,
    /// Milliseconds from sending to the outcome, retries and redirects included.
    pub ms: u64,
    /// The path as sent (`/pets/3`), below the base URL, secrets redacted.
    pub resolved_path: String,
    /// For a 2xx response carrying a list (the body array, or its `data`/`items`/`result`/…
    /// array, as `api.paginate` finds them), its length.
    pub items: Option<usize>,
}

/// Path segments longer than this are shortened in call lines (ids, tokens).
const MAX_SHOWN_SEGMENT_CHARS: usize = 24;
/// What is kept of a shortened segment, before the `…`.
const SHORTENED_SEGMENT_CHARS: usize = 12;

impl std::fmt::Display for CallRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = if self.resolved_path.is_empty() {
            &self.path
        } else {
            &self.resolved_path
        };
        if let Some(api) = &self.api {
            write!(f, "{api}: ")?;
        }
        write!(f, "{} {} → ", self.method, shorten_segments(path))?;
        match self.status {
            Some(status) => write!(f, "{status}")?,
            None => f.write_str("no response")?,
        }
        write!(f, " ({} ms", self.ms)?;
        match self.items {
            Some(1) => f.write_str(", 1 item)"),
            Some(n) => write!(f, ", {n} items)"),
            None => f.write_str(")"),
        }
    }
}

/// The path with each long segment cut to its start and `…`: a line names the resource without
/// carrying a whole token.
fn shorten_segments(path: &str) -> String {
    path.split('/')
        .map(
            |segment| match segment.char_indices().nth(MAX_SHOWN_SEGMENT_CHARS) {
                Some(_) => {
                    let kept: String = segment.chars().take(SHORTENED_SEGMENT_CHARS).collect();
                    format!("{kept}…")
                }
                None => segment.to_string(),
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

/// Everything the engine needs besides the spec. `Default` gives a server with no upstream
/// (search works; execute explains that no base URL is configured).
#[derive(Default)]
pub struct EngineConfig {
    /// Limits of each run (time, memory, host calls, log and result size) and the size of the
    /// worker pool.
    pub sandbox: SandboxConfig,
    /// `None`: no upstream configured; `api` calls fail with a clear message. Its `transport`
    /// routes calls somewhere other than the network, e.g. an `axum::Router` in this process
    /// through [`upstream::InProcess`] (see `examples/embed_in_process.rs`).
    pub upstream: Option<upstream::UpstreamConfig>,
    /// Limits on the upstream calls of each run.
    pub session: SessionSettings,
    /// Token budget of a search answer (o200k). Default 1,500.
    pub search_budget_tokens: Option<usize>,
    /// What may be called and what needs confirmation. Default: everything allowed, nothing
    /// confirmed. A rule naming a method, tag or operation the spec lacks fails [`Engine::new`].
    pub policy: PolicyConfig,
    /// In a dry run, plan reads (GET/HEAD) too instead of sending them. Default false: reads go
    /// out for real, so the program can proceed on real data.
    pub dry_run_skip_reads: bool,
    /// Where one JSON line per upstream call goes (a file or stderr).
    pub audit: Option<Box<dyn std::io::Write + Send>>,
}

/// Prints every setting; credentials and header values are `Secret`s, which print
/// `[redacted]`, and the audit writer is named, not printed.
impl std::fmt::Debug for EngineConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineConfig")
            .field("sandbox", &self.sandbox)
            .field("upstream", &self.upstream)
            .field("session", &self.session)
            .field("search_budget_tokens", &self.search_budget_tokens)
            .field("policy", &self.policy)
            .field("dry_run_skip_reads", &self.dry_run_skip_reads)
            .field("audit", &self.audit.as_ref().map(|_| "a writer"))
            .finish()
    }
}

/// Per-run limits on upstream calls (per API, when the engine serves several).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionSettings {
    /// Upstream calls per run (pages of `api.paginate` count). Default 50.
    pub max_calls: u32,
    /// Upstream calls in flight at once per run. Default 10.
    pub max_in_flight: usize,
}

impl Default for SessionSettings {
    fn default() -> Self {
        SessionSettings {
            max_calls: 50,
            max_in_flight: 10,
        }
    }
}

pub(crate) struct Inner {
    pub(crate) apis: apis::Apis,
    pub(crate) sandbox: codemode_sandbox::Sandbox,
    /// The JS prelude that defines `api`, with the API names when there are several.
    pub(crate) prelude: Arc<str>,
    /// The TypeScript of the sandbox globals: `codemode_typescript::GLOBALS`, or with several
    /// APIs one client per API.
    pub(crate) globals: std::borrow::Cow<'static, str>,
    pub(crate) search_budget_tokens: usize,
    pub(crate) dry_run_skip_reads: bool,
    pub(crate) audit: Option<audit::AuditLog>,
    pub(crate) run_counter: std::sync::atomic::AtomicU64,
}

/// The engine: one or several loaded specs plus everything needed to search them and run programs
/// against them.
/// Cheap to share (`Arc<Engine>`); every method takes `&self` and may run concurrently.
pub struct Engine {
    inner: Arc<Inner>,
}

/// The token budget of a search answer (o200k) when [`EngineConfig::search_budget_tokens`] is
/// `None`.
pub const DEFAULT_SEARCH_BUDGET_TOKENS: usize = 1500;
const MAX_SEARCH_LIMIT: usize = 20;
const DEFAULT_SEARCH_LIMIT: usize = 5;
/// Operations ranked after the declared ones that a search answer names in one line each.
const MORE_CANDIDATES: usize = 5;

/// How many operations a search declares: the request's limit within 1..=20, else 5.
fn search_limit(request: &SearchRequest) -> usize {
    request
        .limit
        .unwrap_or(DEFAULT_SEARCH_LIMIT)
        .clamp(1, MAX_SEARCH_LIMIT)
}

/// What one API of an [`EngineConfig`] has on its own.
struct OneApi {
    upstream: Option<upstream::UpstreamConfig>,
    policy: PolicyConfig,
    session: SessionSettings,
}

impl EngineConfig {
    /// What every API shares, and what one API has on its own.
    fn split(self) -> (Shared, OneApi) {
        let shared = Shared {
            sandbox: self.sandbox,
            search_budget_tokens: self
                .search_budget_tokens
                .unwrap_or(DEFAULT_SEARCH_BUDGET_TOKENS),
            dry_run_skip_reads: self.dry_run_skip_reads,
            audit: self.audit,
        };
        let api = OneApi {
            upstream: self.upstream,
            policy: self.policy,
            session: self.session,
        };
        (shared, api)
    }
}

/// The settings every API of an engine shares: the sandbox, answers, dry runs and the audit log.
struct Shared {
    sandbox: SandboxConfig,
    search_budget_tokens: usize,
    dry_run_skip_reads: bool,
    audit: Option<Box<dyn std::io::Write + Send>>,
}

/// The request headers an API takes credentials from, lower case.
fn forwarded_headers_of(setup: &ApiSetup) -> impl Iterator<Item = String> + '_ {
    setup
        .upstream
        .iter()
        .flat_map(|upstream| &upstream.credentials)
        .filter_map(|credential| match credential {
            upstream::Credential::FromRequest(forwarded) => {
                Some(forwarded.header.trim().to_ascii_lowercase())
            }
            _ => None,
        })
}

/// See [`EngineError::SharedForwardedHeader`].
fn refuse_shared_forwarded_headers(apis: &[ApiSetup]) -> Result<(), EngineError> {
    for (i, setup) in apis.iter().enumerate() {
        for header in forwarded_headers_of(setup) {
            if let Some(other) = apis[..i]
                .iter()
                .find(|other| forwarded_headers_of(other).any(|h| h == header))
            {
                return Err(EngineError::SharedForwardedHeader {
                    header,
                    first: other.name.clone(),
                    second: setup.name.clone(),
                });
            }
        }
    }
    Ok(())
}

impl Engine {
    /// Builds the search index, the sandbox pool and the upstream client of one API, called as
    /// `api.<operation>`. Must be called inside a tokio runtime (the sandbox bridges host calls
    /// to it).
    pub fn new(spec: spec::Spec, config: EngineConfig) -> Result<Engine, EngineError> {
        let tokio = tokio::runtime::Handle::try_current().map_err(EngineError::NoRuntime)?;
        let (shared, api) = config.split();
        let api = apis::Api::build(
            None,
            spec,
            api.upstream,
            &api.policy,
            api.session,
            shared.search_budget_tokens,
        )?;
        Ok(Engine::assemble(apis::Apis::new(vec![api]), shared, tokio))
    }

    /// Builds an engine over several APIs, each called under its name (`api.github.<operation>`,
    /// `api.stripe.<operation>`), each with its own upstream, credentials, policy and call
    /// limits. One API works too, and is called as `api.<operation>`, as with [`Engine::new`].
    ///
    /// `config` holds what the APIs share (sandbox, answer budget, dry runs, audit log); its
    /// `upstream`, `policy` and `session` must be left at their defaults
    /// ([`EngineError::SharedApiSettings`]). A name that is not usable
    /// ([`check_api_name`]) or is taken twice, and an API whose upstream or policy is invalid,
    /// fail with the API's name. The APIs' search indexes are built in parallel.
    pub fn with_apis(apis: Vec<ApiSetup>, config: EngineConfig) -> Result<Engine, EngineError> {
        let (shared, api) = config.split();
        if api.upstream.is_some()
            || api.policy != PolicyConfig::default()
            || api.session != SessionSettings::default()
        {
            return Err(EngineError::SharedApiSettings);
        }
        if apis.is_empty() {
            return Err(EngineError::NoApis);
        }
        for (i, setup) in apis.iter().enumerate() {
            check_api_name(&setup.name).map_err(|problem| EngineError::ApiName {
                name: setup.name.clone(),
                problem,
            })?;
            if apis[..i].iter().any(|other| other.name == setup.name) {
                return Err(EngineError::DuplicateApi(setup.name.clone()));
            }
        }
        refuse_shared_forwarded_headers(&apis)?;
        let tokio = tokio::runtime::Handle::try_current().map_err(EngineError::NoRuntime)?;
        let built = apis::Api::build_all(apis, shared.search_budget_tokens)?;
        Ok(Engine::assemble(apis::Apis::new(built), shared, tokio))
    }

    fn assemble(apis: apis::Apis, shared: Shared, tokio: tokio::runtime::Handle) -> Engine {
        let prelude = host::prelude(&apis);
        let globals = if apis.namespaced() {
            let names: Vec<&str> = apis
                .list()
                .iter()
                .filter_map(|api| api.name.as_deref())
                .collect();
            std::borrow::Cow::Owned(codemode_typescript::namespaced_globals(&names))
        } else {
            std::borrow::Cow::Borrowed(codemode_typescript::GLOBALS)
        };
        Engine {
            inner: Arc::new(Inner {
                apis,
                sandbox: codemode_sandbox::Sandbox::new(shared.sandbox, tokio),
                prelude,
                globals,
                search_budget_tokens: shared.search_budget_tokens,
                dry_run_skip_reads: shared.dry_run_skip_reads,
                audit: shared.audit.map(audit::AuditLog::new),
                run_counter: std::sync::atomic::AtomicU64::new(0),
            }),
        }
    }

    /// The APIs the engine serves, in the order they were configured.
    pub fn apis(&self) -> impl ExactSizeIterator<Item = ApiRef<'_>> + '_ {
        let namespaced = self.inner.apis.namespaced();
        self.inner
            .apis
            .list()
            .iter()
            .map(move |api| ApiRef { api, namespaced })
    }

    /// The request headers some API takes upstream credentials from
    /// ([`upstream::Credential::FromRequest`]), lower case, each once: what a front end copies
    /// from each request into [`ExecuteRequest::credentials`]. Empty for most servers.
    pub fn forwarded_headers(&self) -> Vec<String> {
        let mut headers: Vec<String> = self
            .inner
            .apis
            .list()
            .iter()
            .filter_map(|api| api.client.as_ref())
            .flat_map(|client| client.forwarded_headers().map(str::to_string))
            .collect();
        headers.sort();
        headers.dedup();
        headers
    }

    /// The scopes the APIs' policies require of a caller for mutating calls
    /// ([`PolicyConfig::write_scope`]), each once. A front end that authenticates nobody must
    /// refuse to serve an engine with any: no caller's scopes could be checked, and every
    /// caller could change data.
    pub fn write_scopes(&self) -> Vec<&str> {
        let mut scopes: Vec<&str> = self
            .inner
            .apis
            .list()
            .iter()
            .filter_map(|api| api.policy.write_scope())
            .collect();
        scopes.sort_unstable();
        scopes.dedup();
        scopes
    }

    /// Whether programs call operations as `api.<api>.<operation>` (the engine serves several
    /// APIs) rather than `api.<operation>`.
    pub fn namespaced(&self) -> bool {
        self.inner.apis.namespaced()
    }

    /// The spec of the first (with [`Engine::new`], the only) API; see [`Engine::apis`] for all.
    pub fn spec(&self) -> &spec::Spec {
        &self.inner.apis.first().spec
    }

    /// The first API's display name (its spec title); see [`Engine::apis`] for all.
    pub fn api_name(&self) -> &str {
        &self.inner.apis.first().spec.title
    }

    /// The first API's policy verdict for one of its operations; see [`ApiRef::verdict`] for
    /// the others.
    pub fn verdict(&self, operation: &spec::Operation) -> Verdict {
        self.inner.apis.first().policy.verdict(operation)
    }

    /// Whether calling one of the first API's operations is allowed by read-only mode and
    /// allow/deny rules; see [`ApiRef::is_allowed`] for the others.
    pub fn is_allowed(&self, operation: &spec::Operation) -> bool {
        matches!(self.verdict(operation), Verdict::Allowed { .. })
    }

    /// Whether the engine refuses mutating calls to every API it serves (the `--read-only`
    /// switch).
    pub fn read_only(&self) -> bool {
        self.inner
            .apis
            .list()
            .iter()
            .all(|api| api.policy.read_only())
    }

    /// Makes every declaration piece a search answer may need, so that no answer pays for making
    /// them (see `codemode_typescript::Catalog::prepare_all` for its cost; answers work without
    /// it). A server calls this on a background thread at start.
    pub fn prepare_search_answers(&self) {
        for api in self.inner.apis.list() {
            api.catalog.prepare_all();
        }
    }

    /// Bytes held by the declaration pieces search answers have made so far (they are made on
    /// first use and kept; see `codemode_typescript::Catalog`).
    pub fn declaration_cache_bytes(&self) -> usize {
        self.inner
            .apis
            .list()
            .iter()
            .map(|api| api.catalog.memory_bytes())
            .sum()
    }

    /// The fixed TypeScript block that declares the sandbox globals (`api`, its helpers,
    /// `console`); with several APIs, `api` holds one client per API.
    pub fn globals_declaration(&self) -> &str {
        &self.inner.globals
    }

    /// Ranks operations for a task sentence and declares the best ones in TypeScript.
    ///
    /// A query that names operations (an operation name, an operationId, `METHOD /path`, or
    /// several names separated by commas or spaces) declares exactly those: that is how an
    /// agent asks for an operation an earlier answer only named. A query of type names declares
    /// those types. Names inside a sentence ("getParcel, then list manifests by vehicle") are
    /// declared besides what the rest of the sentence finds, and a task of several steps
    /// ("create a customer and subscribe her to a price") gets the best operation of each step.
    /// With several APIs, every API is ranked and the best of all declared, each under its
    /// API's name; names may carry their API (`stripe.getCharges`).
    pub fn search(&self, request: &SearchRequest) -> Result<SearchAnswer, EngineError> {
        let limit = search_limit(request);
        let query = request.query.as_str();
        let apis = &self.inner.apis;
        let only = self.only(request)?;
        if let Some(named) = ranking::named_operations(apis, query) {
            let candidates: Vec<answer::Candidate> = named
                .iter()
                .map(|&(api, operation)| answer::Candidate {
                    primary: true,
                    ..answer::Candidate::ranked(api, operation, 1.0)
                })
                .collect();
            return Ok(answer::render(
                &self.inner,
                request,
                &candidates,
                candidates.len(),
                &[],
            ));
        }
        if let Some(schemas) = ranking::named_types(apis, query) {
            return Ok(answer::render_types(&self.inner, query, &schemas));
        }
        let mentioned = ranking::mentions(apis, query);
        let mut candidates: Vec<answer::Candidate> = mentioned
            .operations
            .iter()
            .map(|&(api, operation)| answer::Candidate {
                primary: true,
                ..answer::Candidate::ranked(api, operation, 1.0)
            })
            .collect();
        match ranking::steps(apis, only, &mentioned.rest, limit + MORE_CANDIDATES) {
            Ok(steps) => ranking::merge_steps(&mut candidates, &steps),
            // The names were the whole task ("getParcel, Parcel"): nothing else to rank.
            Err(_) if !candidates.is_empty() => {}
            Err(_) if !mentioned.types.is_empty() => {
                return Ok(answer::render_types(&self.inner, query, &mentioned.types));
            }
            Err(error) => return Err(error),
        }
        // A task of several steps declares the best three operations of each step (the budget
        // permitting, compactly past the first): a step's second or third best is often the one
        // (a list ranked under an update of the same resource).
        let primaries = candidates.iter().filter(|c| c.primary).count();
        let steps = candidates.iter().filter(|c| c.step.is_some()).count();
        let declare = limit.max(primaries + 2 * steps).min(MAX_SEARCH_LIMIT);
        // Declared last, so they take what the ranked operations leave of the budget.
        let declare =
            (declare + ranking::add_lookups(apis, &mut candidates, declare)).min(MAX_SEARCH_LIMIT);
        candidates.truncate(declare + MORE_CANDIDATES);
        Ok(answer::render(
            &self.inner,
            request,
            &candidates,
            declare,
            &mentioned.types,
        ))
    }

    /// The ranking alone, without declarations (for evaluations and `--json`).
    pub fn rank(&self, request: &SearchRequest) -> Result<Vec<SearchHit>, EngineError> {
        let apis = &self.inner.apis;
        let only = self.only(request)?;
        let hits = ranking::ranked(apis, only, &request.query, search_limit(request))?;
        Ok(hits
            .iter()
            .map(|hit| {
                let api = apis.get(hit.api);
                let op = api.spec.operation(hit.operation);
                SearchHit {
                    api: apis.namespace(hit.api).map(str::to_string),
                    name: op.name.clone(),
                    method: op.method.as_str().to_string(),
                    path: op.path.clone(),
                    score: hit.score,
                    blocked: matches!(
                        api.policy.verdict_for(op, request.caller.as_ref()),
                        Verdict::Blocked(_)
                    ),
                }
            })
            .collect())
    }

    /// The one API a request narrows the search to, if any. With one API there is nothing to
    /// narrow: `api` is not among the search tool's arguments then, and is ignored.
    fn only(&self, request: &SearchRequest) -> Result<Option<usize>, EngineError> {
        let apis = &self.inner.apis;
        let Some(name) = request.api.as_deref().filter(|_| apis.namespaced()) else {
            return Ok(None);
        };
        match apis
            .list()
            .iter()
            .position(|api| api.name.as_deref() == Some(name))
        {
            Some(index) => Ok(Some(index)),
            None => Err(EngineError::UnknownApi {
                name: name.to_string(),
                known: apis.names(),
            }),
        }
    }

    /// Runs a read-only discovery program against `spec.*` helpers (no API access).
    pub async fn search_code(&self, code: String) -> ExecuteOutcome {
        self.search_code_as(code, None).await
    }

    /// [`Engine::search_code`] for one caller: `blocked` in the helpers' answers follows their
    /// scopes, as [`SearchRequest::caller`] does for a search.
    pub async fn search_code_as(&self, code: String, caller: Option<Caller>) -> ExecuteOutcome {
        let started = Instant::now();
        let outcome = host::run_discovery(&self.inner, code, caller).await;
        events::run_finished("search_code", None, &outcome, started);
        outcome
    }

    /// Runs an agent's program with `api` bound to the upstream (each API's to its own, when
    /// there are several).
    pub async fn execute(&self, request: ExecuteRequest) -> ExecuteOutcome {
        let started = Instant::now();
        let approvals = request.approvals.filter(|_| !request.dry_run);
        let mut host = RunHost::new(
            self.inner.clone(),
            RunFor {
                dry_run: request.dry_run,
                confirm: request.confirm,
                caller: request.caller,
                credentials: &request.credentials,
            },
        );
        if let Some(approvals) = approvals {
            match journal::Recorder::new(approvals) {
                Ok(journal) => host = host.with_journal(journal),
                Err(reason) => return journal::refused(reason),
            }
        }
        let run = host.run_id().to_string();
        let outcome = host.run_program(request.code).await;
        events::run_finished("execute", Some(&run), &outcome, started);
        outcome
    }

    /// Per-operation mode: calls one operation with its arguments (parameters by name, `body`).
    /// With several APIs, `name` carries the API: `stripe.getCharges`.
    pub async fn call_operation(
        &self,
        name: &str,
        args: Value,
        confirm: Option<Arc<dyn Confirm>>,
    ) -> ExecuteOutcome {
        self.call_operation_as(name, args, confirm, None, &RequestCredentials::default())
            .await
    }

    /// [`Engine::call_operation`] on behalf of one request: its authenticated `caller` (scopes,
    /// audit) and the upstream `credentials` it carried, as in [`ExecuteRequest`].
    pub async fn call_operation_as(
        &self,
        name: &str,
        args: Value,
        confirm: Option<Arc<dyn Confirm>>,
        caller: Option<Caller>,
        credentials: &RequestCredentials,
    ) -> ExecuteOutcome {
        let started = Instant::now();
        let host = RunHost::new(
            self.inner.clone(),
            RunFor {
                dry_run: false,
                confirm,
                caller,
                credentials,
            },
        );
        let run = host.run_id().to_string();
        let outcome = host.call_one(name, args).await;
        events::run_finished("call_operation", Some(&run), &outcome, started);
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = r#"{"openapi": "3.0.0", "info": {"title": "Pets", "version": "1"},
      "paths": {"/pets": {"get": {"operationId": "listPets", "summary": "List pets",
        "responses": {"200": {"description": "ok"}}}}}}"#;

    fn spec() -> spec::Spec {
        spec::load_str("pets.json", SPEC).expect("the spec loads")
    }

    /// `{:#}` prints the error and every cause; each must appear exactly once (a message that
    /// also embeds its source would print it twice).
    fn assert_each_cause_once(error: EngineError, causes: usize) -> String {
        let error = anyhow::Error::from(error);
        let printed = format!("{error:#}");
        assert_eq!(error.chain().count(), causes, "{printed}");
        for cause in error.chain() {
            let text = cause.to_string();
            assert_eq!(printed.matches(&text).count(), 1, "{text:?} in {printed:?}");
        }
        printed
    }

    #[test]
    fn outside_a_runtime_the_engine_says_so_and_why() {
        let Err(error) = Engine::new(spec(), EngineConfig::default()) else {
            panic!("an engine was built outside a tokio runtime");
        };
        assert!(matches!(error, EngineError::NoRuntime(_)), "{error:?}");
        let printed = assert_each_cause_once(error, 2);
        assert!(
            printed.starts_with("the engine must be created inside a tokio runtime: "),
            "{printed}"
        );
    }

    #[tokio::test]
    async fn a_bad_glob_names_the_policy_the_rule_and_the_glob_error_once_each() {
        let config = EngineConfig {
            policy: PolicyConfig {
                deny: vec![RuleSpec {
                    path: Some("/pets/[".into()),
                    ..Default::default()
                }],
                ..Default::default()
            },
            ..Default::default()
        };
        let Err(error) = Engine::new(spec(), config) else {
            panic!("a deny rule with a bad glob was accepted");
        };
        assert!(
            matches!(
                &error,
                EngineError::Policy(PolicyError::PathGlob { glob, .. }) if glob == "/pets/["
            ),
            "{error:?}"
        );
        let printed = assert_each_cause_once(error, 3);
        assert!(
            printed
                .starts_with(r#"invalid policy: [[deny]] entry 1: invalid path glob "/pets/[": "#),
            "{printed}"
        );
    }

    #[tokio::test]
    async fn an_unusable_base_url_is_an_upstream_configuration_error() {
        let config = EngineConfig {
            upstream: Some(upstream::UpstreamConfig {
                base_url: "not a url".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let Err(error) = Engine::new(spec(), config) else {
            panic!("a base url that is not a url was accepted");
        };
        assert!(matches!(error, EngineError::Upstream(_)), "{error:?}");
        let printed = assert_each_cause_once(error, 2);
        assert!(
            printed
                .starts_with(r#"invalid upstream configuration: base url "not a url" is invalid"#),
            "{printed}"
        );
    }

    #[tokio::test]
    async fn an_empty_query_says_what_to_do_once() {
        let engine = Engine::new(spec(), EngineConfig::default()).expect("the engine builds");
        let request = SearchRequest {
            query: "  ".into(),
            limit: None,
            api: None,
            ..Default::default()
        };
        for error in [engine.search(&request).err(), engine.rank(&request).err()] {
            let error = error.expect("an empty query is refused");
            assert!(
                matches!(
                    error,
                    EngineError::Search(codemode_search::SearchError::EmptyQuery)
                ),
                "{error:?}"
            );
            assert_eq!(
                assert_each_cause_once(error, 2),
                "invalid request: query is empty: describe the task to search for, e.g. \"list open issues\""
            );
        }
    }

    /// Every kind, with the name front ends and JSON outputs have always shown for it.
    const KINDS: [(FailureKind, &str); 17] = {
        use codemode_sandbox::RunErrorKind as Run;
        [
            (FailureKind::Run(Run::Syntax), "syntax"),
            (FailureKind::Run(Run::Exception), "exception"),
            (FailureKind::Run(Run::Timeout), "timeout"),
            (FailureKind::Run(Run::Memory), "memory"),
            (FailureKind::Run(Run::StackOverflow), "stack_overflow"),
            (FailureKind::Run(Run::HostCallLimit), "host_call_limit"),
            (FailureKind::Run(Run::ResultTooLarge), "result_too_large"),
            (
                FailureKind::Run(Run::ResultNotSerializable),
                "result_not_serializable",
            ),
            (FailureKind::Run(Run::Busy), "busy"),
            (FailureKind::Run(Run::Internal), "internal"),
            (FailureKind::ApiError, "api_error"),
            (FailureKind::Validation, "validation"),
            (FailureKind::Policy, "policy"),
            (FailureKind::Declined, "declined"),
            (FailureKind::Upstream, "upstream"),
            (FailureKind::Paused, "paused"),
            (FailureKind::Diverged, "diverged"),
        ]
    };

    /// Fails to compile when a kind is added without a line in [`KINDS`] (the count there).
    fn _every_kind_is_listed(kind: FailureKind) -> usize {
        match kind {
            FailureKind::Run(_)
            | FailureKind::ApiError
            | FailureKind::Validation
            | FailureKind::Policy
            | FailureKind::Declined
            | FailureKind::Upstream
            | FailureKind::Paused
            | FailureKind::Diverged => KINDS.len(),
        }
    }

    #[test]
    fn failure_kinds_serialize_display_and_compare_as_their_old_strings() {
        for (kind, name) in KINDS {
            assert_eq!(
                serde_json::to_value(kind).expect("serializes"),
                Value::String(name.into())
            );
            assert_eq!(kind.as_str(), name);
            assert_eq!(kind.to_string(), name);
            assert_eq!(kind, name);
        }
    }

    #[test]
    fn every_sandbox_kind_keeps_its_name() {
        use codemode_sandbox::RunErrorKind as Run;
        for kind in [
            Run::Syntax,
            Run::Exception,
            Run::Timeout,
            Run::Memory,
            Run::StackOverflow,
            Run::HostCallLimit,
            Run::ResultTooLarge,
            Run::ResultNotSerializable,
            Run::Busy,
            Run::Internal,
        ] {
            assert_eq!(FailureKind::from(kind).as_str(), kind.as_str());
        }
    }

    #[test]
    fn log_lines_serialize_their_level_as_the_console_method() {
        let line = LogLine {
            level: LogLevel::Warn,
            text: "careful".into(),
        };
        assert_eq!(
            serde_json::to_value(&line).expect("serializes"),
            serde_json::json!({"level": "warn", "text": "careful"})
        );
    }
}
