//! The host side of a run: what `api.<name>()`, `api.request()`, `api.paginate()` and `sleep()`
//! do once they leave the sandbox, and how a run's outcome is assembled.
//!
//! Order of checks for every call, all before the network: policy (read-only, allow/deny), then
//! validation and serialization (`Session::prepare`), then dry run and confirmation, then send.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use codemode_sandbox::{
    Host, HostError, HostFuture, MAX_PAUSED, Pauses, RunError, RunOutput, RunRequest,
};
use serde_json::{Value, json};

use crate::placeholder;
use crate::policy::ConfirmFallback;
use crate::spec::{Method, Operation};
use crate::upstream::{
    CallError, CallErrorKind, DeadlineExtension, PageLimits, PagesCut, PreparedRequest, RawRequest,
    ResponseHeaders, Session, SessionLimits,
};
use crate::{
    CallRecord, Confirm, Confirmation, ExecuteOutcome, FailureKind, Inner, LogLevel, LogLine,
    PlannedRequest, ScriptFailure, Verdict,
};

const PRELUDE: &str = include_str!("prelude.js");
const DISCOVERY_PRELUDE: &str = include_str!("discovery.js");

/// One run's host: shared by every host call the run makes.
#[derive(Clone)]
pub(crate) struct RunHost {
    inner: Arc<Inner>,
    session: Option<Session>,
    run_id: String,
    dry_run: bool,
    confirm: Option<Arc<dyn Confirm>>,
    planned: Arc<Mutex<Vec<PlannedRequest>>>,
    /// Lines the host adds to the run's log (a call sent without the confirmation it needed).
    notes: Arc<Mutex<Vec<LogLine>>>,
    /// When the run must end if nobody is asked anything; [`RunHost::deadline`] adds the pauses.
    base_deadline: Instant,
    /// Time spent waiting on the user (confirmations): the run's clocks (the sandbox's and the
    /// upstream session's) stand still meanwhile, up to `codemode_sandbox::MAX_PAUSED` in all.
    pauses: Pauses,
}

impl RunHost {
    pub(crate) fn new(
        inner: Arc<Inner>,
        dry_run: bool,
        confirm: Option<Arc<dyn Confirm>>,
    ) -> RunHost {
        let run = inner
            .run_counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let now = Instant::now();
        // A timeout too large to add means no deadline worth the name: a year.
        let deadline = now
            .checked_add(inner.sandbox.config().timeout)
            .unwrap_or_else(|| now + Duration::from_secs(365 * 24 * 3600));
        let pauses = Pauses::default();
        let paused = pauses.clone();
        let session = inner.client.as_ref().map(|client| {
            client.session(SessionLimits {
                max_calls: inner.session.max_calls,
                max_in_flight: inner.session.max_in_flight,
                deadline: Some(deadline),
                deadline_extension: Some(DeadlineExtension(Arc::new(move || {
                    paused.paused_for(Instant::now())
                }))),
            })
        });
        RunHost {
            run_id: format!("{}-{run}", std::process::id()),
            inner,
            session,
            dry_run,
            confirm,
            planned: Arc::new(Mutex::new(Vec::new())),
            notes: Arc::new(Mutex::new(Vec::new())),
            base_deadline: deadline,
            pauses,
        }
    }

    pub(crate) async fn run_program(self, code: String) -> ExecuteOutcome {
        let request = RunRequest {
            code,
            prelude: Some(Arc::from(PRELUDE)),
            async_functions: [
                "__codemode_call",
                "__codemode_request",
                "__codemode_paginate",
                "__codemode_sleep",
            ]
            .map(String::from)
            .to_vec(),
            sync_functions: Vec::new(),
            pauses: self.pauses.clone(),
        };
        let result = self
            .inner
            .sandbox
            .run(request, Arc::new(self.clone()))
            .await;
        self.outcome(result)
    }

    pub(crate) async fn call_one(self, name: &str, args: Value) -> ExecuteOutcome {
        let result = self
            .operation_call(json!({ "name": name, "args": args }))
            .await
            .map(|reply| reply.value);
        let result = result.map_err(|e| ScriptFailure {
            kind: e.failure_kind(),
            message: HostError::from(e).message,
            line: None,
            col: None,
        });
        self.finish(result, Vec::new())
    }

    fn outcome(&self, result: Result<RunOutput, RunError>) -> ExecuteOutcome {
        let (result, logs) = split_run(result);
        self.finish(result, logs)
    }

    /// Collects the call log, writes the audit lines, and redacts everything that goes back.
    fn finish(&self, result: Result<Value, ScriptFailure>, logs: Vec<LogLine>) -> ExecuteOutcome {
        let records = self
            .session
            .as_ref()
            .map(Session::records)
            .unwrap_or_default();
        if let Some(audit) = &self.inner.audit {
            for record in &records {
                audit.record(&self.run_id, record);
            }
        }
        let redact = |text: &str| match &self.inner.client {
            Some(client) => client.redact(text),
            None => text.to_string(),
        };
        let result = match result {
            Ok(value) => Ok(redact_value(value, &redact)),
            Err(mut failure) => {
                failure.message = redact(&failure.message);
                Err(failure)
            }
        };
        let notes = self.notes.lock().map(|n| n.clone()).unwrap_or_default();
        ExecuteOutcome {
            result,
            logs: logs
                .into_iter()
                .chain(notes)
                .map(|l| LogLine {
                    level: l.level,
                    text: redact(&l.text),
                })
                .collect(),
            calls: records
                .iter()
                .map(|r| CallRecord {
                    method: r.method.clone(),
                    path: r.path.clone(),
                    status: r.status,
                    ms: r.ms,
                    resolved_path: r.resolved_path.clone(),
                    items: r.items,
                })
                .collect(),
            planned: self.planned.lock().map(|p| p.clone()).unwrap_or_default(),
        }
    }

    fn session(&self) -> Result<&Session, CallFailure> {
        self.session.as_ref().ok_or(CallFailure::NoUpstream)
    }

    async fn operation_call(&self, arg: Value) -> Result<Reply, CallFailure> {
        let name = arg
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let args = arg.get("args").cloned().unwrap_or_else(|| json!({}));
        let throw = throw_on_error(&arg);
        let session = self.session()?;
        let confirm = match self.inner.spec.find(&name) {
            Some(op) => self.check_policy(op)?,
            None => false,
        };
        // Only a request someone reviews (a dry run's plan, a confirmation) needs its display copy.
        let prepared = if self.dry_run || confirm {
            session.prepare(&name, &args)
        } else {
            session.prepare_unreviewed(&name, &args)
        }
        .map_err(CallFailure::Call)?;
        self.send(session, prepared, throw, confirm).await
    }

    async fn raw_request(&self, arg: Value) -> Result<Reply, CallFailure> {
        let request = arg.get("request").cloned().unwrap_or(Value::Null);
        let throw = throw_on_error(&arg);
        let raw = RawRequest {
            method: request
                .get("method")
                .and_then(Value::as_str)
                .unwrap_or("GET")
                .to_string(),
            path: request
                .get("path")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            query: request.get("query").cloned().filter(|v| !v.is_null()),
            headers: request.get("headers").cloned().filter(|v| !v.is_null()),
            body: request.get("body").cloned().filter(|v| !v.is_null()),
            content_type: request
                .get("contentType")
                .and_then(Value::as_str)
                .map(str::to_string),
        };
        let session = self.session()?;
        let prepared = session.prepare_raw(&raw).map_err(CallFailure::Call)?;
        let confirm = self.check_policy(&self.route_of(&prepared))?;
        self.send(session, prepared, throw, confirm).await
    }

    async fn paginate(&self, arg: Value) -> Result<Value, CallFailure> {
        let name = arg
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let args = arg.get("args").cloned().unwrap_or_else(|| json!({}));
        let limits = arg.get("limits").cloned().unwrap_or(Value::Null);
        let session = self.session()?;
        let (confirm, mutating) = match self.inner.spec.find(&name) {
            Some(op) => (self.check_policy(op)?, op.method.is_mutating()),
            None => (false, false),
        };
        // A dry run sends no write (nor any read when told to skip them): the first page is
        // planned like any call, and its placeholder items stand for the list.
        if self.dry_run && (mutating || self.inner.dry_run_skip_reads) {
            let prepared = session.prepare(&name, &args).map_err(CallFailure::Call)?;
            let reply = self.send(session, prepared, true, false).await?;
            self.note(
                LogLevel::Info,
                format!("dry run: api.paginate planned the first page of {name} only"),
            );
            let items = crate::upstream::list_items(&reply.value)
                .cloned()
                .unwrap_or_default();
            return Ok(Value::Array(items));
        }
        // A rule that asks before this operation asks once, for the first page, before any is
        // sent: the pages that follow are the same request with the next cursor.
        if confirm {
            let first = session.prepare(&name, &args).map_err(CallFailure::Call)?;
            self.confirm(planned_request(&first)).await?;
        }
        let page_limits = PageLimits {
            max_items: limits
                .get("maxItems")
                .and_then(Value::as_u64)
                .map(|n| n as usize),
            max_pages: limits
                .get("maxPages")
                .and_then(Value::as_u64)
                .map(|n| n.min(u64::from(u32::MAX)) as u32),
            style: None,
        };
        let pages = session
            .paginate(&name, &args, page_limits)
            .await
            .map_err(CallFailure::Call)?;
        if let Some(cut) = &pages.cut {
            let shown = self
                .inner
                .spec
                .find(&name)
                .map_or(name.as_str(), |op| &op.name);
            self.note(
                LogLevel::Warn,
                paginate_warning(shown, &pages, cut, self.inner.session.max_calls),
            );
        }
        Ok(Value::Array(pages.items))
    }

    async fn sleep(&self, arg: Value) -> Result<Value, HostError> {
        let ms = arg
            .get("ms")
            .and_then(Value::as_f64)
            .unwrap_or(0.0)
            .max(0.0);
        let end = Duration::try_from_secs_f64(ms / 1000.0)
            .ok()
            .and_then(|wanted| Instant::now().checked_add(wanted));
        // Never past the deadline, looked at again when reached: a confirmation may move it.
        loop {
            let now = Instant::now();
            let to_end = end.map_or(Duration::MAX, |end| end.saturating_duration_since(now));
            let wait = to_end.min(self.deadline().saturating_duration_since(now));
            if wait.is_zero() {
                return Ok(Value::Null);
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Refuses what the policy blocks; otherwise whether the call needs the user's confirmation.
    fn check_policy(&self, op: &Operation) -> Result<bool, CallFailure> {
        match self.inner.policy.verdict(op) {
            Verdict::Blocked(reason) => Err(CallFailure::Policy(reason)),
            Verdict::Allowed { confirm } => Ok(confirm),
        }
    }

    /// The operation a prepared request belongs to, as the policy sees it: the spec's own
    /// (borrowed: an operation with its schemas can be large), or a stand-in for a raw path no
    /// operation declares (so method rules and read-only mode still apply).
    fn route_of(&self, prepared: &PreparedRequest) -> Cow<'_, Operation> {
        if let Some(op) = prepared
            .operation
            .as_deref()
            .and_then(|n| self.inner.spec.find(n))
        {
            return Cow::Borrowed(op);
        }
        Cow::Owned(Operation {
            name: "request".into(),
            operation_id: None,
            method: prepared.method,
            path: prepared.path_template.clone(),
            summary: None,
            description: None,
            tags: Vec::new(),
            deprecated: false,
            parameters: Vec::new(),
            request_body: None,
            success: None,
            security: None,
            servers: Vec::new(),
            extensions: Default::default(),
        })
    }

    /// Dry run, confirmation (`confirm`: the policy verdict the caller already computed), then the
    /// network.
    async fn send(
        &self,
        session: &Session,
        prepared: PreparedRequest,
        throw: bool,
        confirm: bool,
    ) -> Result<Reply, CallFailure> {
        let mutating = prepared.method.is_mutating();
        if self.dry_run && (mutating || self.inner.dry_run_skip_reads) {
            let planned = planned_request(&prepared);
            let position = match self.planned.lock() {
                Ok(mut list) => {
                    list.push(planned.clone());
                    list.len()
                }
                Err(_) => 0,
            };
            return Ok(self.dry_run_reply(&prepared, planned, position, throw));
        }
        if confirm {
            self.confirm(planned_request(&prepared)).await?;
        }
        // What an error needs to name the call; the request itself moves into `send`.
        let operation = prepared.operation.clone();
        let (method, path_template) = (prepared.method, prepared.path_template.clone());
        // `api.x()` hands back only the body; the envelope of `{ throw: false }` shows headers.
        let headers = if throw {
            ResponseHeaders::Skip
        } else {
            ResponseHeaders::Keep
        };
        let response = session
            .send_keeping(prepared, headers)
            .await
            .map_err(CallFailure::Call)?;
        if response.is_success() {
            return Ok(Reply::sent(if throw {
                response.body
            } else {
                response_envelope(&response)
            }));
        }
        if throw {
            return Err(CallFailure::Call(response.error_for(
                operation.as_deref(),
                method,
                &path_template,
            )));
        }
        Ok(Reply::sent(response_envelope(&response)))
    }

    /// What a planned call answers with: a placeholder shaped from the operation's success
    /// response (see `placeholder.rs`; its ids carry `position`, the call's place in the
    /// planned list), or `{ dryRun: true, planned }` when there is none.
    fn dry_run_reply(
        &self,
        prepared: &PreparedRequest,
        planned: PlannedRequest,
        position: usize,
        throw: bool,
    ) -> Reply {
        let op = prepared
            .operation
            .as_deref()
            .and_then(|name| self.inner.spec.find(name));
        let n = u32::try_from(position).unwrap_or(u32::MAX);
        let shaped = op.and_then(|op| {
            placeholder::placeholder(&self.inner.spec, op, n).map(|body| (op, body))
        });
        let Some((op, body)) = shaped else {
            return Reply::sent(json!({ "dryRun": true, "planned": planned }));
        };
        let value = if throw {
            body
        } else {
            json!({ "status": placeholder::success_status(op), "headers": {}, "body": body })
        };
        Reply {
            value,
            planned: Some(planned),
        }
    }

    fn note(&self, level: LogLevel, text: String) {
        if let Ok(mut notes) = self.notes.lock() {
            notes.push(LogLine { level, text });
        }
    }

    /// When the run must end: the timeout after its start, plus the time spent asking the user.
    fn deadline(&self) -> Instant {
        let paused = self.pauses.paused_for(Instant::now());
        self.base_deadline
            .checked_add(paused)
            .unwrap_or(self.base_deadline)
    }

    /// Waits for the user's answer with the run's clocks stopped, for what is left of the run's
    /// allowance for such waits (`MAX_PAUSED`, over all its confirmations); `None` when nobody
    /// answered in time.
    async fn wait_for_user<T>(&self, answer: impl Future<Output = T>) -> Option<T> {
        let allowance = MAX_PAUSED.saturating_sub(self.pauses.paused_for(Instant::now()));
        let _pause = self.pauses.pause();
        tokio::time::timeout(allowance, answer).await.ok()
    }

    async fn confirm(&self, planned: PlannedRequest) -> Result<(), CallFailure> {
        let described = format!("{} {}", planned.method, planned.path);
        let decision = match &self.confirm {
            Some(confirm) => match self.wait_for_user(confirm.confirm(planned)).await {
                Some(decision) => decision,
                None => {
                    return Err(CallFailure::Unconfirmed(
                        Unconfirmed::Timeout,
                        format!(
                            "nobody answered the confirmation of {described}: it was not sent (a run waits at most {} s for answers in all)",
                            MAX_PAUSED.as_secs()
                        ),
                    ));
                }
            },
            None => Confirmation::Unsupported,
        };
        match decision {
            Confirmation::Approved => Ok(()),
            Confirmation::Declined => Err(CallFailure::Unconfirmed(
                Unconfirmed::Declined,
                format!("the user declined {described}"),
            )),
            Confirmation::Unsupported => match self.inner.policy.confirm_fallback {
                ConfirmFallback::Allow => {
                    self.note(
                        LogLevel::Warn,
                        format!(
                            "{described} was sent without confirmation: this client cannot ask (no MCP elicitation support) and the server allows such calls"
                        ),
                    );
                    Ok(())
                }
                ConfirmFallback::Deny => Err(CallFailure::Unconfirmed(
                    Unconfirmed::CannotAsk,
                    format!(
                        "{described} needs the user's confirmation, but this client cannot ask (no MCP elicitation support); the server denies such calls"
                    ),
                )),
            },
        }
    }
}

impl Host for RunHost {
    fn call(&self, function: &str, arg: Value) -> HostFuture {
        let this = self.clone();
        let function = function.to_string();
        Box::pin(async move {
            match function.as_str() {
                "__codemode_call" => Ok(this.operation_call(arg).await?.into_json()),
                "__codemode_request" => Ok(this.raw_request(arg).await?.into_json()),
                "__codemode_paginate" => Ok(this.paginate(arg).await?),
                "__codemode_sleep" => this.sleep(arg).await,
                other => Err(HostError::new(
                    "Error",
                    format!("no such host function {other:?}"),
                )),
            }
        })
    }
}

/// What an `api.<op>()` or `api.request()` call hands back to the prelude: `{ value }`, plus
/// `planned` when `value` is a dry run's placeholder (the prelude hangs it on the value as
/// non-enumerable `dryRun` and `planned`). Every reply has this shape, so no API response can
/// pass for a placeholder.
struct Reply {
    value: Value,
    planned: Option<PlannedRequest>,
}

impl Reply {
    fn sent(value: Value) -> Reply {
        Reply {
            value,
            planned: None,
        }
    }

    fn into_json(self) -> Value {
        match self.planned {
            Some(planned) => json!({ "value": self.value, "planned": planned }),
            None => json!({ "value": self.value }),
        }
    }
}

/// The warning for a pagination that stopped while the API had more: which operation, how
/// far it got, why it stopped, and for the page limit how to raise it.
fn paginate_warning(
    operation: &str,
    pages: &crate::upstream::Pages,
    cut: &PagesCut,
    max_calls: u32,
) -> String {
    let plural = |n: usize, one: &str| {
        if n == 1 {
            format!("{n} {one}")
        } else {
            format!("{n} {one}s")
        }
    };
    let mut text = format!(
        "api.paginate(api.{operation}) returned {} from {}, not the whole list: {}",
        plural(pages.items.len(), "item"),
        plural(pages.pages as usize, "page"),
        cut.reason()
    );
    if let PagesCut::PageLimit { max_pages } = cut {
        let more = max_pages
            .saturating_mul(2)
            .min(max_calls)
            .max(max_pages.saturating_add(1));
        text.push_str(&format!(
            "; for more, api.paginate(api.{operation}, args, {{ maxPages: {more} }}) (each page is one of the run's {max_calls} calls)"
        ));
    }
    text
}

fn throw_on_error(arg: &Value) -> bool {
    arg.pointer("/options/throwOnError")
        .and_then(Value::as_bool)
        != Some(false)
}

fn response_envelope(response: &crate::upstream::ApiResponse) -> Value {
    let headers: serde_json::Map<String, Value> = response
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    json!({ "status": response.status, "headers": headers, "body": response.body })
}

fn planned_request(prepared: &PreparedRequest) -> PlannedRequest {
    PlannedRequest {
        operation: prepared.operation.clone(),
        method: prepared.method.as_str().to_string(),
        path: url_path(&prepared.url),
        query: prepared.query.clone(),
        body: prepared.body_preview.clone(),
    }
}

/// The path of a URL, without origin or query: what a person reviewing the request needs.
fn url_path(url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
    path.split(['?', '#']).next().unwrap_or(path).to_string()
}

/// Why a host call failed, as typed data: the JavaScript error it becomes (`HostError`'s
/// name) and a per-operation call's [`FailureKind`] both come from it, never from a name.
#[derive(Debug)]
enum CallFailure {
    /// The upstream client refused the call, failed on the way, or got a non-2xx answer.
    Call(CallError),
    /// No upstream is configured.
    NoUpstream,
    /// Read-only mode or a deny rule blocks the operation (the message says which).
    Policy(String),
    /// The call needed the user's confirmation and did not get it.
    Unconfirmed(Unconfirmed, String),
}

/// How a confirmation was not given.
#[derive(Debug, Clone, Copy)]
enum Unconfirmed {
    Declined,
    /// Nobody answered within the run's allowance for waiting on the user.
    Timeout,
    /// The client cannot ask and the server denies such calls.
    CannotAsk,
}

impl CallFailure {
    /// The kind a per-operation call reports.
    fn failure_kind(&self) -> FailureKind {
        match self {
            CallFailure::Call(error) => match error.kind {
                CallErrorKind::Api => FailureKind::ApiError,
                CallErrorKind::Validation | CallErrorKind::UnknownOperation => {
                    FailureKind::Validation
                }
                _ => FailureKind::Upstream,
            },
            CallFailure::Policy(_) => FailureKind::Policy,
            CallFailure::Unconfirmed(Unconfirmed::Declined | Unconfirmed::CannotAsk, _) => {
                FailureKind::Declined
            }
            CallFailure::Unconfirmed(Unconfirmed::Timeout, _) | CallFailure::NoUpstream => {
                FailureKind::Upstream
            }
        }
    }
}

/// The error the program sees: its `name` is the class a program can test (`ApiError`,
/// `ValidationError`, `PolicyError`, …), its data the call's details.
impl From<CallFailure> for HostError {
    fn from(failure: CallFailure) -> HostError {
        match failure {
            CallFailure::Call(error) => {
                let name = match error.kind {
                    CallErrorKind::Api => "ApiError",
                    CallErrorKind::Validation | CallErrorKind::UnknownOperation => {
                        "ValidationError"
                    }
                    _ => "UpstreamError",
                };
                HostError::new(name, error.message).with_data(error.data)
            }
            CallFailure::NoUpstream => HostError::new(
                "Error",
                "no upstream is configured: start codemode with --base-url to call the API",
            ),
            CallFailure::Policy(reason) => HostError::new("PolicyError", reason),
            CallFailure::Unconfirmed(how, message) => {
                let name = match how {
                    Unconfirmed::Declined => "ConfirmationDeclined",
                    Unconfirmed::Timeout => "ConfirmationTimeout",
                    Unconfirmed::CannotAsk => "ConfirmationUnavailable",
                };
                HostError::new(name, message)
            }
        }
    }
}

/// A sandbox run as the engine reports it: the result or the failure, and the console lines
/// (kept on failure too).
fn split_run(result: Result<RunOutput, RunError>) -> (Result<Value, ScriptFailure>, Vec<LogLine>) {
    match result {
        Ok(output) => (Ok(output.result), convert_logs(&output.logs)),
        Err(error) => {
            let failure = ScriptFailure {
                kind: FailureKind::from(error.kind),
                message: error.message.clone(),
                line: error.line,
                col: error.col,
            };
            (Err(failure), convert_logs(&error.logs))
        }
    }
}

fn convert_logs(logs: &[codemode_sandbox::LogLine]) -> Vec<LogLine> {
    logs.iter()
        .map(|l| LogLine {
            level: l.level,
            text: l.text.clone(),
        })
        .collect()
}

fn redact_value(value: Value, redact: &dyn Fn(&str) -> String) -> Value {
    match value {
        Value::String(s) => Value::String(redact(&s)),
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| redact_value(v, redact)).collect())
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (redact(&k), redact_value(v, redact)))
                .collect(),
        ),
        other => other,
    }
}

// ----- discovery (`search` with code) -----

/// Serves `spec.*` helpers to a read-only discovery program.
struct DiscoveryHost {
    inner: Arc<Inner>,
}

pub(crate) async fn run_discovery(inner: &Arc<Inner>, code: String) -> ExecuteOutcome {
    let request = RunRequest {
        code,
        prelude: Some(Arc::from(DISCOVERY_PRELUDE)),
        async_functions: Vec::new(),
        sync_functions: [
            "__spec_search",
            "__spec_operations",
            "__spec_operation",
            "__spec_declare",
        ]
        .map(String::from)
        .to_vec(),
        pauses: Pauses::default(),
    };
    let host = Arc::new(DiscoveryHost {
        inner: inner.clone(),
    });
    let result = inner.sandbox.run(request, host).await;
    let (result, logs) = split_run(result);
    ExecuteOutcome {
        result,
        logs,
        calls: Vec::new(),
        planned: Vec::new(),
    }
}

impl Host for DiscoveryHost {
    fn call(&self, function: &str, _arg: Value) -> HostFuture {
        let message = format!("{function} is not available in a search program");
        Box::pin(async move { Err(HostError::new("Error", message)) })
    }

    fn call_sync(&self, function: &str, arg: Value) -> Result<Value, HostError> {
        let spec = &self.inner.spec;
        match function {
            "__spec_search" => {
                let query = arg.get("query").and_then(Value::as_str).unwrap_or_default();
                let limit = arg
                    .get("limit")
                    .and_then(Value::as_u64)
                    .unwrap_or(10)
                    .clamp(1, 50) as usize;
                let options = codemode_search::SearchOptions {
                    limit,
                    ..Default::default()
                };
                let hits = self
                    .inner
                    .index
                    .search(query, &options)
                    .map_err(|e| HostError::new("Error", e.to_string()))?;
                Ok(Value::Array(
                    hits.iter()
                        .map(|h| (spec.operation(h.operation), h.score))
                        .map(|(op, score)| {
                            let mut v = operation_summary(op);
                            v["score"] = json!((score * 1000.0).round() / 1000.0);
                            v
                        })
                        .collect(),
                ))
            }
            "__spec_operations" => Ok(Value::Array(
                spec.operations.iter().map(operation_summary).collect(),
            )),
            "__spec_operation" => {
                let name = arg.get("name").and_then(Value::as_str).unwrap_or_default();
                Ok(spec
                    .find(name)
                    .map(|op| operation_detail(&self.inner, op))
                    .unwrap_or(Value::Null))
            }
            "__spec_declare" => {
                let names: Vec<&str> = arg
                    .get("names")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let (ops, types): (Vec<&str>, Vec<&str>) =
                    names.iter().partition(|name| spec.find(name).is_some());
                let ops: Vec<&Operation> = ops.iter().filter_map(|n| spec.find(n)).collect();
                let options = codemode_typescript::DeclareOptions::default();
                let (declared_types, unknown) = self.inner.declare_types(&types, &options);
                if !unknown.is_empty() {
                    return Err(HostError::new(
                        "Error",
                        format!(
                            "spec.declare: no operation or type named {}; spec.search(task) finds operations",
                            unknown.join(", ")
                        ),
                    ));
                }
                let mut text = String::new();
                if !ops.is_empty() {
                    text.push_str(&self.inner.declare(&ops, &options).text);
                }
                text.push_str(&declared_types.text);
                Ok(Value::String(text))
            }
            other => Err(HostError::new("Error", format!("no such helper {other:?}"))),
        }
    }
}

fn operation_summary(op: &Operation) -> Value {
    json!({ "name": op.name, "method": op.method.as_str(), "path": op.path, "summary": op.summary, "tags": op.tags })
}

fn operation_detail(inner: &Inner, op: &Operation) -> Value {
    let declaration = inner.declare(&[op], &codemode_typescript::DeclareOptions::default());
    json!({
        "name": op.name,
        "operationId": op.operation_id,
        "method": op.method.as_str(),
        "path": op.path,
        "summary": op.summary,
        "description": op.description,
        "tags": op.tags,
        "deprecated": op.deprecated,
        "parameters": op.parameters.iter().map(|p| json!({
            "name": p.name, "in": p.location.as_str(), "required": p.required, "description": p.description, "schema": p.schema,
        })).collect::<Vec<_>>(),
        "requestBody": op.request_body.as_ref().map(|b| json!({
            "required": b.required,
            "contentTypes": b.content.iter().map(|m| m.media_type.clone()).collect::<Vec<_>>(),
            "schema": b.preferred().map(|m| m.schema.clone()),
        })),
        "blocked": matches!(inner.policy.verdict(op), Verdict::Blocked(_)),
        "declaration": declaration.text,
        "mutating": op.method != Method::Get && op.method != Method::Head,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A per-operation call's kind and the error class a program sees, from the typed failure:
    /// the same names as when both were read off the class name.
    #[test]
    fn call_failures_keep_their_kinds_and_error_classes() {
        let call = |kind| CallFailure::Call(CallError::new(kind, "it failed"));
        let cases = [
            (call(CallErrorKind::Api), "api_error", "ApiError"),
            (
                call(CallErrorKind::Validation),
                "validation",
                "ValidationError",
            ),
            (
                call(CallErrorKind::UnknownOperation),
                "validation",
                "ValidationError",
            ),
            (call(CallErrorKind::Network), "upstream", "UpstreamError"),
            (call(CallErrorKind::Egress), "upstream", "UpstreamError"),
            (call(CallErrorKind::Timeout), "upstream", "UpstreamError"),
            (call(CallErrorKind::CallLimit), "upstream", "UpstreamError"),
            (CallFailure::NoUpstream, "upstream", "Error"),
            (
                CallFailure::Policy("blocked".into()),
                "policy",
                "PolicyError",
            ),
            (
                CallFailure::Unconfirmed(Unconfirmed::Declined, "no".into()),
                "declined",
                "ConfirmationDeclined",
            ),
            (
                CallFailure::Unconfirmed(Unconfirmed::CannotAsk, "no".into()),
                "declined",
                "ConfirmationUnavailable",
            ),
            (
                CallFailure::Unconfirmed(Unconfirmed::Timeout, "no".into()),
                "upstream",
                "ConfirmationTimeout",
            ),
        ];
        for (failure, kind, class) in cases {
            assert_eq!(failure.failure_kind().as_str(), kind, "{failure:?}");
            assert_eq!(HostError::from(failure).name, class);
        }
    }
}
