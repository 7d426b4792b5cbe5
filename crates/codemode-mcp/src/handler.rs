//! The rmcp server handler: lists the precomputed tools and dispatches calls to the engine.
//!
//! Every tool call runs in its own tokio task, so calls are served concurrently and a panic in
//! one becomes an error result (and an error event) instead of taking the connection down. A
//! call the client cancels aborts its task.
//!
//! Each call gets a run id and a `tool_call` span that the engine's events (upstream calls, the
//! run's outcome) nest in, ends with one `tool call` event (tool, outcome, duration, run id,
//! caller) and is counted in the server's [`Metrics`]. Neither carries arguments, programs or
//! results: only names from the tool list and outcome kinds.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use codemode_engine::{Confirm, Engine, ExecuteRequest, SearchRequest};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    JsonObject, ListToolsResult, PaginatedRequestParams, ServerCapabilities, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::Value;
use tracing::Instrument;

use crate::approval::{ApprovalCall, Sealer};
use crate::caller::{CallerLimits, Requester};
use crate::confirm::ElicitConfirm;
use crate::live::{EngineHandle, ToolSet};
use crate::metrics::{Metrics, run_outcome};
use crate::render::{chain_text, error_result, outcome_result, text_within};
use crate::tools::{EXECUTE_TOOL, ExecuteArgs, SEARCH_TOOL, SearchArgs};
use crate::trace::ContinueTrace;
use crate::{ServerConfig, ToolMode};

/// One MCP server over one engine. Cheap to clone (the HTTP transport makes one per request).
#[derive(Clone)]
pub(crate) struct CodemodeServer {
    /// The engine, replaceable by a reload: each call takes the current one and keeps it.
    engine: EngineHandle,
    mode: ToolMode,
    budget_tokens: usize,
    /// Whether this connection can carry a server-to-client request (elicitation): stdio can;
    /// stateless HTTP cannot, because the client's answer would have nowhere to arrive.
    can_elicit: bool,
    /// Where tool calls are counted; `None` when nothing serves `/metrics` (stdio).
    metrics: Option<Arc<Metrics>>,
    /// Who calls, for the log, when no token names them: with the one static bearer token,
    /// every caller that got through is its holder, so the only identity there is to name is
    /// "the token". `None` without one. A caller an OAuth token names is logged by subject.
    caller: Option<&'static str>,
    /// The per-caller limit on tool calls, shared by every request to this server.
    limits: Option<Arc<CallerLimits>>,
    /// Continues the trace each request carried (HTTP, `otel`).
    continue_trace: Option<Arc<dyn ContinueTrace>>,
    /// Seals the state of runs that pause for approval (clients of protocol 2026-07-28).
    sealer: Arc<Sealer>,
}

/// What one tool call needs besides its arguments.
struct CallContext {
    budget: usize,
    confirm: Option<Arc<dyn Confirm>>,
    metrics: Option<Arc<Metrics>>,
    /// Who asks and the upstream credentials their request carried.
    requester: Requester,
    /// A client that is asked through `input_required`: `execute` pauses for approvals.
    approval: Option<ApprovalCall>,
}

/// Run ids, process-wide, so ids in one log never repeat across connections.
static NEXT_RUN_ID: AtomicU64 = AtomicU64::new(1);

/// How a tool call ended, for its event and its counter: `ok`, or a short machine-readable kind
/// from a closed set (a failure kind, `invalid_arguments`, `unknown_tool`, …).
type Outcome = &'static str;

impl CodemodeServer {
    /// What `initialize` tells the client: how to use the tools this connection actually lists.
    fn instructions(&self) -> String {
        let api = crate::tools::api_label(&self.engine.engine());
        match self.mode {
            ToolMode::CodeMode => format!(
                "Tools for the {api}. Use `search` to find operations, then `execute` one program that does the whole task."
            ),
            ToolMode::PerOperation => format!(
                "Tools for the {api}: one tool per API operation, each taking the operation's arguments (path and query parameters, and `body` for a request body)."
            ),
        }
    }

    pub(crate) fn new(
        engine: EngineHandle,
        mode: ToolMode,
        config: &ServerConfig,
        can_elicit: bool,
    ) -> CodemodeServer {
        CodemodeServer {
            engine,
            mode,
            budget_tokens: config.output_budget_tokens,
            can_elicit,
            metrics: None,
            caller: None,
            limits: config
                .rate_limit
                .map(|limit| Arc::new(CallerLimits::new(limit))),
            continue_trace: config.continue_trace.clone(),
            sealer: Arc::new(Sealer::new(
                config.approval_key.as_ref(),
                config.approval_ttl,
                config.approval_state_max_bytes,
            )),
        }
    }

    /// Counts this server's calls in `metrics` and names `caller` in its events (HTTP).
    pub(crate) fn observed(
        mut self,
        metrics: Option<Arc<Metrics>>,
        caller: Option<&'static str>,
    ) -> CodemodeServer {
        self.metrics = metrics;
        self.caller = caller;
        self
    }

    /// Shares `other`'s per-caller limiter, so that every service of one server (one per tool
    /// mode) counts a caller's calls together.
    pub(crate) fn sharing_limits(mut self, other: Option<Arc<CallerLimits>>) -> CodemodeServer {
        self.limits = other;
        self
    }

    async fn dispatch(
        &self,
        name: String,
        args: JsonObject,
        peer: rmcp::Peer<RoleServer>,
        requester: Requester,
        approval: Option<ApprovalCall>,
    ) -> CallToolResponse {
        // The engine current now serves this call to its end, even if a reload swaps another in.
        let snapshot = self.engine.snapshot();
        let engine = snapshot.engine.clone();
        let tools = snapshot.tools(self.mode);
        let call = CallContext {
            budget: self.budget_tokens,
            confirm: (self.can_elicit && approval.is_none())
                .then(|| Arc::new(ElicitConfirm::new(peer)) as Arc<dyn Confirm>),
            metrics: self.metrics.clone(),
            requester,
            approval,
        };
        let caller = match &call.requester.caller {
            Some(caller) => Some(caller.subject.clone()),
            None => self.caller.map(str::to_string),
        };
        let mut report = CallReport {
            tool: tool_label(&tools, &name),
            // `execute`, and `search` with a program, run in the sandbox.
            sandboxed: self.mode == ToolMode::CodeMode
                && (name == EXECUTE_TOOL || (name == SEARCH_TOOL && args.contains_key("code"))),
            run_id: NEXT_RUN_ID.fetch_add(1, Ordering::Relaxed),
            caller,
            metrics: self.metrics.clone(),
            started: Instant::now(),
            done: false,
        };
        let span = tracing::info_span!("tool_call", run_id = report.run_id, tool = %report.tool);
        if let Some(hook) = &self.continue_trace {
            hook.continue_trace(&span, &call.requester.trace);
        }
        // Its own task: concurrency, and a panic is caught by the join below. If this future is
        // dropped (the client cancelled), the guard aborts the task instead of leaving it running,
        // and the report says `cancelled`.
        let task = tokio::spawn(
            async move { run_tool(&engine, &tools, call, &name, args).await }.instrument(span),
        );
        let _abort_on_drop = AbortOnDrop(task.abort_handle());
        joined(task.await, &mut report)
    }
}

/// The tool's name as events and metrics show it: a listed tool's name, or `unknown` (a client
/// may send any string; it must not become a label or flood the log).
fn tool_label(tools: &ToolSet, name: &str) -> String {
    match tools.index.get(name) {
        Some(_) => name.to_string(),
        None => "unknown".to_string(),
    }
}

/// One tool call's event and counters, written exactly once: when the call ends, or, if its
/// future is dropped first (the client cancelled), as `cancelled`.
struct CallReport {
    tool: String,
    sandboxed: bool,
    run_id: u64,
    /// The token's subject, or what the server knows of an unnamed caller ("bearer token").
    caller: Option<String>,
    metrics: Option<Arc<Metrics>>,
    started: Instant,
    done: bool,
}

impl CallReport {
    fn finish(&mut self, outcome: Outcome) {
        self.done = true;
        let elapsed = self.started.elapsed();
        log_tool_call(self, outcome, elapsed);
        if let Some(metrics) = &self.metrics {
            metrics.tool_call(&self.tool, outcome, elapsed);
            // A run that ended normally counted its own outcome; one that never ended is
            // counted here.
            if self.sandboxed && matches!(outcome, "panic" | "cancelled") {
                metrics.sandbox_outcome(outcome);
            }
        }
    }
}

impl Drop for CallReport {
    fn drop(&mut self) {
        if !self.done {
            self.finish("cancelled");
        }
    }
}

/// The tool call's result once its task is joined, reported: a panic is an error event (and a
/// tool error the agent reads), never a silent loss.
fn joined(
    task: Result<(CallToolResponse, Outcome), tokio::task::JoinError>,
    report: &mut CallReport,
) -> CallToolResponse {
    match task {
        Ok((result, outcome)) => {
            report.finish(outcome);
            result
        }
        Err(error) if error.is_panic() => {
            // The payload is not logged: it is free text that may quote what the call held.
            // The default panic hook has already printed it, with its location, to stderr.
            report.finish("panic");
            error_result("internal error: the tool call crashed; nothing more is known").into()
        }
        Err(_) => {
            report.finish("cancelled");
            error_result("the tool call was cancelled").into()
        }
    }
}

fn log_tool_call(report: &CallReport, outcome: Outcome, elapsed: Duration) {
    let ms = elapsed.as_secs_f64() * 1000.0;
    let (tool, run_id, caller) = (
        report.tool.as_str(),
        report.run_id,
        report.caller.as_deref(),
    );
    match outcome {
        "panic" => tracing::error!(tool, outcome, ms, run_id, caller, "tool call panicked"),
        _ => tracing::info!(tool, outcome, ms, run_id, caller, "tool call"),
    }
}

struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn run_tool(
    engine: &Arc<Engine>,
    tools: &ToolSet,
    call: CallContext,
    name: &str,
    args: JsonObject,
) -> (CallToolResponse, Outcome) {
    let (result, outcome) = match tools.mode {
        ToolMode::CodeMode => match name {
            SEARCH_TOOL => run_search(engine, call, &args).await,
            EXECUTE_TOOL => return run_execute(engine, call, &args).await,
            _ => (unknown_tool(name, tools), "unknown_tool"),
        },
        ToolMode::PerOperation => match tools.operations.operation_by_tool.get(name) {
            Some(operation) => return run_operation(engine, call, name, operation, args).await,
            None => (unknown_tool(name, tools), "unknown_tool"),
        },
    };
    (result.into(), outcome)
}

/// One per-operation tool call. A client asked through `input_required` approves a call that
/// needs it in a second round: the first answers with the approval form and a state bound to
/// this tool, these arguments, this caller and the request the user is shown, and sends
/// nothing; the second, carrying the state and the answer, finds the request again (sending
/// nothing), opens the state only if it is the same request, and sends it if the answer is
/// yes. The state opens once.
async fn run_operation(
    engine: &Engine,
    call: CallContext,
    tool: &str,
    operation: &str,
    args: JsonObject,
) -> (CallToolResponse, Outcome) {
    let args = Value::Object(args);
    let Some(approval) = &call.approval else {
        let outcome = call_operation(engine, &call, operation, &args, call.confirm.clone()).await;
        return finished(&call, &outcome);
    };
    // What the policy wants approved, if anything: asked for, declined, so nothing is sent.
    let asking = Arc::new(Asking::default());
    let first = call_operation(engine, &call, operation, &args, Some(asking.clone())).await;
    let Some(request) = asking.take() else {
        // Nothing to approve (any more): the call went out as it is.
        return finished(&call, &first);
    };
    let subject = call.requester.caller.as_ref().map(|c| c.subject.as_str());
    let binding =
        Sealer::operation_binding(tool, &args, &request, subject, &call.requester.credentials);
    let answer = match approval.approvals(&binding, subject) {
        Ok(approvals) => approvals.answer,
        Err(message) => return (error_result(message).into(), "approval_refused"),
    };
    let Some(answer) = answer else {
        let paused = codemode_engine::Paused {
            request,
            journal: codemode_engine::Journal::default(),
            replayed: 0,
        };
        return match approval.sealer.input_required(&paused, &binding) {
            Ok(input_required) => (input_required.into(), "paused"),
            Err(message) => (error_result(message).into(), "approval_refused"),
        };
    };
    let outcome = call_operation(
        engine,
        &call,
        operation,
        &args,
        Some(Arc::new(Answered(answer))),
    )
    .await;
    finished(&call, &outcome)
}

async fn call_operation(
    engine: &Engine,
    call: &CallContext,
    operation: &str,
    args: &Value,
    confirm: Option<Arc<dyn Confirm>>,
) -> codemode_engine::ExecuteOutcome {
    engine
        .call_operation_as(
            operation,
            args.clone(),
            confirm,
            call.requester.caller.clone(),
            &call.requester.credentials,
        )
        .await
}

/// A per-operation call's result, counted.
fn finished(
    call: &CallContext,
    outcome: &codemode_engine::ExecuteOutcome,
) -> (CallToolResponse, Outcome) {
    if let Some(metrics) = &call.metrics {
        metrics.run(outcome, false);
    }
    (
        outcome_result(outcome, call.budget).into(),
        run_outcome(outcome),
    )
}

/// The first round of a per-operation approval: keeps the request the policy wants approved and
/// answers no, so nothing is sent before the user has said yes.
#[derive(Default)]
struct Asking(std::sync::Mutex<Option<codemode_engine::PlannedRequest>>);

impl Asking {
    fn take(&self) -> Option<codemode_engine::PlannedRequest> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }
}

impl Confirm for Asking {
    fn confirm(
        &self,
        request: codemode_engine::PlannedRequest,
    ) -> std::pin::Pin<Box<dyn Future<Output = codemode_engine::Confirmation> + Send>> {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(request);
        Box::pin(std::future::ready(codemode_engine::Confirmation::Declined))
    }
}

/// The second round: the user's answer, given to the one call that asks.
struct Answered(codemode_engine::Confirmation);

impl Confirm for Answered {
    fn confirm(
        &self,
        _request: codemode_engine::PlannedRequest,
    ) -> std::pin::Pin<Box<dyn Future<Output = codemode_engine::Confirmation> + Send>> {
        Box::pin(std::future::ready(self.0))
    }
}

/// Unknown names get a tool error the model can read (and the list of real names, when short).
fn unknown_tool(name: &str, tools: &ToolSet) -> CallToolResult {
    let mut message = format!("unknown tool `{}`", clip_name(name));
    if tools.tools.len() <= 10 {
        let names: Vec<&str> = tools.tools.iter().map(|t| t.name.as_ref()).collect();
        message.push_str(&format!("; the tools are: {}", names.join(", ")));
    }
    error_result(message)
}

fn clip_name(name: &str) -> String {
    name.chars().take(80).collect()
}

async fn run_search(
    engine: &Arc<Engine>,
    call: CallContext,
    args: &JsonObject,
) -> (CallToolResult, Outcome) {
    let budget = call.budget;
    let SearchArgs {
        query,
        limit,
        code,
        api,
    } = match SearchArgs::parse(args) {
        Ok(args) => args,
        Err(message) => return (error_result(message), "invalid_arguments"),
    };
    match (query, code) {
        (Some(_), Some(_)) => (
            error_result("invalid arguments: pass either `query` or `code`, not both"),
            "invalid_arguments",
        ),
        (None, Some(code)) => {
            let _in_flight = call.metrics.as_ref().map(|m| m.run_started());
            let outcome = engine.search_code_as(code, call.requester.caller).await;
            if let Some(metrics) = &call.metrics {
                metrics.run(&outcome, true);
            }
            (outcome_result(&outcome, budget), run_outcome(&outcome))
        }
        (Some(query), None) => {
            // Ranking and rendering are CPU work: off the async workers, so a burst of searches
            // does not stall other connections' I/O.
            let engine = engine.clone();
            let caller = call.requester.caller;
            let answer = tokio::task::spawn_blocking(move || {
                engine.search(&SearchRequest {
                    query,
                    limit,
                    api,
                    caller,
                })
            })
            .await;
            match answer {
                // The answer knows its tokens; only an answer over this server's output budget
                // is counted again and cut.
                Ok(Ok(answer)) if answer.tokens <= budget => (
                    CallToolResult::success(vec![ContentBlock::text(answer.text)]),
                    "ok",
                ),
                Ok(Ok(answer)) => (
                    CallToolResult::success(vec![ContentBlock::text(text_within(
                        &answer.text,
                        budget,
                    ))]),
                    "ok",
                ),
                Ok(Err(error)) => (
                    error_result(format!("search failed: {}", chain_text(&error))),
                    "search_error",
                ),
                Err(_) => {
                    tracing::error!("the search's blocking task panicked");
                    (
                        error_result("internal error: the search crashed; nothing more is known"),
                        "panic",
                    )
                }
            }
        }
        (None, None) => (
            error_result(
                "invalid arguments: `search` needs `query` (keywords) or `code` (a program)",
            ),
            "invalid_arguments",
        ),
    }
}

async fn run_execute(
    engine: &Engine,
    call: CallContext,
    args: &JsonObject,
) -> (CallToolResponse, Outcome) {
    let ExecuteArgs {
        code,
        max_tokens,
        dry_run,
    } = match ExecuteArgs::parse(args) {
        Ok(args) => args,
        Err(message) => return (error_result(message).into(), "invalid_arguments"),
    };
    let _in_flight = call.metrics.as_ref().map(|m| m.run_started());
    let mut request = ExecuteRequest {
        code,
        dry_run: dry_run.unwrap_or(false),
        confirm: call.confirm,
        caller: call.requester.caller,
        credentials: call.requester.credentials,
        approvals: None,
    };
    // A client asked through `input_required`: the run pauses for approvals, bound to this
    // program and caller.
    let binding = call.approval.as_ref().map(|_| {
        Sealer::binding(
            &request.code,
            request.caller.as_ref().map(|c| c.subject.as_str()),
            &request.credentials,
        )
    });
    if let (Some(approval), Some(binding)) = (&call.approval, &binding) {
        let subject = request.caller.as_ref().map(|c| c.subject.as_str());
        match approval.approvals(binding, subject) {
            Ok(approvals) => request.approvals = Some(approvals),
            Err(message) => return (error_result(message).into(), "approval_refused"),
        }
    }
    let outcome = engine.execute(request).await;
    if let Some(metrics) = &call.metrics {
        metrics.run(&outcome, true);
    }
    if let (Some(paused), Some(approval), Some(binding)) =
        (&outcome.paused, &call.approval, &binding)
    {
        return match approval.sealer.input_required(paused, binding) {
            Ok(input_required) => (input_required.into(), "paused"),
            Err(message) => (error_result(message).into(), "approval_refused"),
        };
    }
    (
        outcome_result(&outcome, max_tokens.unwrap_or(call.budget)).into(),
        run_outcome(&outcome),
    )
}

/// The MCP error for a caller over the rate limit: when to retry, in words and as data.
fn rate_limited(wait: Duration) -> ErrorData {
    let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
    ErrorData::new(
        RATE_LIMITED,
        format!("rate limit: too many tool calls from this caller; retry in {seconds} s"),
        Some(serde_json::json!({ "retryAfterSeconds": seconds })),
    )
}

/// JSON-RPC's range for server-defined errors starts here; this one means "over the rate limit".
const RATE_LIMITED: rmcp::model::ErrorCode = rmcp::model::ErrorCode(-32029);

impl ServerHandler for CodemodeServer {
    fn get_info(&self) -> rmcp::model::ServerConfig {
        // Where the server can speak first (stdio), it says when the tools change.
        let capabilities = if self.can_elicit {
            ServerCapabilities::builder()
                .enable_tools()
                .enable_tool_list_changed()
                .build()
        } else {
            ServerCapabilities::builder().enable_tools().build()
        };
        rmcp::model::ServerConfig::new(capabilities)
            .with_server_info(Implementation::new("codemode", env!("CARGO_PKG_VERSION")))
            .with_instructions(self.instructions())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let tools = self.engine.snapshot().tools(self.mode);
        Ok(ListToolsResult::with_all_items(tools.tools.clone()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        let tools = self.engine.snapshot().tools(self.mode);
        let index = *tools.index.get(name)?;
        tools.tools.get(index).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let name = request.name.to_string();
        let args = request.arguments.unwrap_or_default();
        let requester = Requester::of(&context, &self.engine.engine().forwarded_headers());
        if let Some(limits) = &self.limits
            && let Err(wait) = limits.check(&requester)
        {
            return Err(rate_limited(wait));
        }
        let approval = crate::approval::asks_by_input_required(&context).then(|| ApprovalCall {
            sealer: self.sealer.clone(),
            state: request.request_state,
            responses: request.input_responses,
        });
        let result = tokio::select! {
            result = self.dispatch(name, args, context.peer.clone(), requester, approval) => result,
            () = context.ct.cancelled() => error_result("the tool call was cancelled by the client").into(),
        };
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = r#"{"openapi": "3.0.0", "info": {"title": "Pets", "version": "1"},
      "paths": {"/pets": {"get": {"operationId": "listPets", "summary": "List pets",
        "responses": {"200": {"description": "ok"}}}}}}"#;

    fn text(result: &CallToolResult) -> String {
        result
            .content
            .iter()
            .filter_map(|c| c.as_text().map(|t| t.text.clone()))
            .collect()
    }

    /// A writer the test's subscriber logs into, read back after.
    #[derive(Clone, Default)]
    struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .expect("not poisoned")
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A panicking tool call leaves an error event naming the tool, the outcome and the run,
    /// is counted, and becomes a tool error.
    #[tokio::test]
    async fn a_panic_in_a_tool_call_is_an_error_event() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_writer(move || writer.clone())
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let metrics = Arc::new(Metrics::new(None));
        let mut report = CallReport {
            tool: "execute".into(),
            sandboxed: true,
            run_id: 41,
            caller: None,
            metrics: Some(metrics.clone()),
            started: Instant::now(),
            done: false,
        };
        let task = tokio::spawn(async { panic!("a bug in a tool call") }).await;
        let CallToolResponse::Complete(result) = joined(task, &mut report) else {
            panic!("a panicked call answers with a tool result");
        };
        assert_eq!(result.is_error, Some(true));
        let logged = String::from_utf8(captured.0.lock().expect("not poisoned").clone())
            .expect("utf-8 logs");
        let event: Value = serde_json::from_str(logged.trim()).expect("one JSON event");
        assert_eq!(event["level"], "ERROR", "{logged}");
        assert_eq!(event["fields"]["message"], "tool call panicked", "{logged}");
        assert_eq!(event["fields"]["tool"], "execute", "{logged}");
        assert_eq!(event["fields"]["outcome"], "panic", "{logged}");
        assert_eq!(event["fields"]["run_id"], 41, "{logged}");
        let text = metrics.encode();
        assert!(
            text.contains(r#"codemode_tool_calls_total{tool="execute",outcome="panic"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"codemode_sandbox_runs_total{outcome="panic"} 1"#),
            "{text}"
        );
    }

    /// The engine's error says what failed, its source why: the agent gets both, once each.
    #[tokio::test]
    async fn a_refused_query_says_what_to_do_instead() {
        let spec = codemode_engine::spec::load_str("pets.json", SPEC).expect("the spec loads");
        let engine = Arc::new(Engine::new(spec, Default::default()).expect("the engine builds"));
        let mut args = JsonObject::new();
        args.insert("query".into(), Value::String("?! %%".into()));
        let call = CallContext {
            budget: 1000,
            confirm: None,
            metrics: None,
            requester: Requester::default(),
            approval: None,
        };
        let (result, outcome) = run_search(&engine, call, &args).await;
        assert_eq!(outcome, "search_error");
        assert_eq!(result.is_error, Some(true));
        assert_eq!(
            text(&result),
            "search failed: invalid request: query has no words to search for (only punctuation \
             or symbols): use words that describe the task"
        );
    }
}
