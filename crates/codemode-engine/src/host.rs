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
use tracing::Instrument;

use crate::apis::{Api, Apis};
use crate::caller::Caller;
use crate::journal::{self, Gate, Recorder, Start};
use crate::placeholder;
use crate::policy::ConfirmFallback;
use crate::spec::{Method, Operation};
use crate::upstream::{
    CallError, CallErrorKind, DeadlineExtension, PageLimits, PagesCut, PreparedRequest, RawRequest,
    RequestCredentials, ResponseHeaders, Session, SessionLimits,
};
use crate::{
    CallRecord, Confirm, Confirmation, ExecuteOutcome, FailureKind, Inner, LogLevel, LogLine,
    PlannedRequest, ScriptFailure, Verdict,
};

const PRELUDE: &str = include_str!("prelude.js");
const DISCOVERY_PRELUDE: &str = include_str!("discovery.js");

/// The prelude of an engine's runs: [`PRELUDE`] after the list of API names it builds `api` from
/// (`null` with one API: `api.<operation>`). Names are checked identifiers, so the JSON is safe
/// to splice; each worker compiles the prelude once and reuses it while it stays the same.
pub(crate) fn prelude(apis: &Apis) -> Arc<str> {
    let names: Option<Vec<&str>> = apis.namespaced().then(|| {
        apis.list()
            .iter()
            .filter_map(|api| api.name.as_deref())
            .collect()
    });
    let names = serde_json::to_string(&names).unwrap_or_else(|_| "null".into());
    Arc::from(format!("const API_NAMES = {names};\n{PRELUDE}"))
}

/// One run's host: shared by every host call the run makes.
#[derive(Clone)]
pub(crate) struct RunHost {
    inner: Arc<Inner>,
    /// One per API, in the engine's order; `None` for an API with no upstream.
    sessions: Arc<Vec<Option<Session>>>,
    run_id: String,
    dry_run: bool,
    confirm: Option<Arc<dyn Confirm>>,
    /// Who the run is for, when the front end authenticated them (scopes, audit).
    caller: Option<Arc<Caller>>,
    /// The span the run started in (a front end's tool call), for host calls to nest in.
    span: tracing::Span,
    planned: Arc<Mutex<Vec<PlannedRequest>>>,
    /// Lines the host adds to the run's log (a call sent without the confirmation it needed).
    notes: Arc<Mutex<Vec<LogLine>>>,
    /// When the run must end if nobody is asked anything; [`RunHost::deadline`] adds the pauses.
    base_deadline: Instant,
    /// Time spent waiting on the user (confirmations): the run's clocks (the sandbox's and the
    /// upstream session's) stand still meanwhile, up to `codemode_sandbox::MAX_PAUSED` in all.
    pauses: Pauses,
    /// A run that pauses for approval instead of asking ([`RunHost::with_journal`]).
    journal: Option<Arc<Recorder>>,
}

/// Who and what one run is for, besides its program.
pub(crate) struct RunFor<'a> {
    pub(crate) dry_run: bool,
    pub(crate) confirm: Option<Arc<dyn Confirm>>,
    pub(crate) caller: Option<Caller>,
    /// Credentials the run's request carried; each API's session takes the ones it forwards.
    pub(crate) credentials: &'a RequestCredentials,
}

impl RunHost {
    pub(crate) fn new(inner: Arc<Inner>, run_for: RunFor<'_>) -> RunHost {
        let run = inner
            .run_counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let now = Instant::now();
        // A timeout too large to add means no deadline worth the name: a year.
        let deadline = now
            .checked_add(inner.sandbox.config().timeout)
            .unwrap_or_else(|| now + Duration::from_secs(365 * 24 * 3600));
        let pauses = Pauses::default();
        let sessions = inner
            .apis
            .list()
            .iter()
            .map(|api| {
                let paused = pauses.clone();
                api.client.as_ref().map(|client| {
                    client.session_with(
                        SessionLimits {
                            max_calls: api.session.max_calls,
                            max_in_flight: api.session.max_in_flight,
                            deadline: Some(deadline),
                            deadline_extension: Some(DeadlineExtension(Arc::new(move || {
                                paused.paused_for(Instant::now())
                            }))),
                        },
                        run_for.credentials,
                    )
                })
            })
            .collect();
        RunHost {
            run_id: format!("{}-{run}", std::process::id()),
            inner,
            sessions: Arc::new(sessions),
            dry_run: run_for.dry_run,
            confirm: run_for.confirm,
            caller: run_for.caller.map(Arc::new),
            span: tracing::Span::current(),
            planned: Arc::new(Mutex::new(Vec::new())),
            notes: Arc::new(Mutex::new(Vec::new())),
            base_deadline: deadline,
            pauses,
            journal: None,
        }
    }

    /// Calls that need approval pause the run instead of asking, and calls are replayed from
    /// and recorded into `journal` (see `journal.rs`).
    pub(crate) fn with_journal(mut self, journal: Arc<Recorder>) -> RunHost {
        self.journal = Some(journal);
        self
    }

    /// The run's id, as the audit log shows it (`<pid>-<n>`).
    pub(crate) fn run_id(&self) -> &str {
        &self.run_id
    }

    pub(crate) async fn run_program(self, code: String) -> ExecuteOutcome {
        let request = RunRequest {
            code,
            prelude: Some(self.inner.prelude.clone()),
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
        let run = self.inner.sandbox.run(request, Arc::new(self.clone()));
        let result = match &self.journal {
            // A pause ends the run once the calls in flight have finished; dropping the run
            // stops the program.
            Some(journal) => tokio::select! {
                result = run => result,
                () = journal.paused_and_settled() => return self.finish(Ok(Value::Null), Vec::new()),
            },
            None => run.await,
        };
        self.outcome(result)
    }

    /// One operation, by the name a per-operation tool maps to: `getCharges`, or with several
    /// APIs `stripe.getCharges`.
    pub(crate) async fn call_one(self, name: &str, args: Value) -> ExecuteOutcome {
        let (api, name) = match name.split_once('.') {
            Some((api, name)) if self.inner.apis.namespaced() => (Some(api), name),
            _ => (None, name),
        };
        let result = self
            .operation_call(json!({ "api": api, "name": name, "args": args }))
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
        let (result, paused) = self.settle_journal(result);
        let apis = &self.inner.apis;
        // Every API's calls, in the order they were sent.
        let mut records: Vec<(Option<&str>, crate::upstream::CallRecord)> = self
            .sessions
            .iter()
            .enumerate()
            .filter_map(|(api, session)| Some((api, session.as_ref()?)))
            .flat_map(|(api, session)| {
                let name = apis.namespace(api);
                session.records().into_iter().map(move |r| (name, r))
            })
            .collect();
        records.sort_by_key(|(_, record)| record.sent_at);
        if let Some(audit) = &self.inner.audit {
            for (api, record) in &records {
                audit.record(&self.run_id, *api, self.caller.as_deref(), record);
            }
        }
        // Every API's secrets (and the credentials this run's request carried) are taken out of
        // everything that goes back, whichever API's call the text came from.
        let redact = |text: &str| {
            self.sessions
                .iter()
                .flatten()
                .fold(text.to_string(), |text, session| session.redact(&text))
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
                .map(|(api, r)| CallRecord {
                    api: api.map(str::to_string),
                    method: r.method.clone(),
                    path: r.path.clone(),
                    status: r.status,
                    ms: r.ms,
                    resolved_path: r.resolved_path.clone(),
                    items: r.items,
                })
                .collect(),
            planned: self.planned.lock().map(|p| p.clone()).unwrap_or_default(),
            paused,
        }
    }

    /// A run with a journal: a pause, or a divergence, decides the outcome whatever the
    /// program returned; calls answered from the journal are noted in the log.
    fn settle_journal(
        &self,
        result: Result<Value, ScriptFailure>,
    ) -> (Result<Value, ScriptFailure>, Option<journal::Paused>) {
        let Some(journal) = &self.journal else {
            return (result, None);
        };
        let replayed = journal.replayed();
        if replayed > 0 {
            self.note(
                LogLevel::Info,
                format!(
                    "{replayed} call(s) made before the approval were answered as they were then, not sent again"
                ),
            );
        }
        let failure = |kind, message| ScriptFailure {
            kind,
            message,
            line: None,
            col: None,
        };
        if let Some(paused) = journal.paused() {
            let request = &paused.request;
            let message = format!(
                "the run paused for the user's approval of {} {}",
                request.method, request.path
            );
            return (Err(failure(FailureKind::Paused, message)), Some(paused));
        }
        if let Some(reason) = journal.diverged() {
            let message = diverged(&reason).message;
            return (Err(failure(FailureKind::Diverged, message)), None);
        }
        (result, None)
    }

    fn session(&self, api: usize) -> Result<&Session, CallFailure> {
        self.sessions[api].as_ref().ok_or_else(|| {
            CallFailure::NoUpstream(self.inner.apis.namespace(api).map(str::to_string))
        })
    }

    /// The API a host call is for: the one named by the call's `api` (set by the prelude from
    /// `api.<api>.…`), or the only one.
    fn target(&self, arg: &Value, function: &str) -> Result<usize, CallFailure> {
        let named = arg.get("api").and_then(Value::as_str);
        let apis = &self.inner.apis;
        apis.index_of(named).ok_or_else(|| {
            CallFailure::NoSuchApi(no_such_api(apis, named, function, arg.get("name")))
        })
    }

    async fn operation_call(&self, arg: Value) -> Result<Reply, CallFailure> {
        let api = self.target(&arg, "call")?;
        let name = arg
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let args = arg.get("args").cloned().unwrap_or_else(|| json!({}));
        let throw = throw_on_error(&arg);
        let session = self.session(api)?;
        let confirm = match self.inner.apis.get(api).spec.find(&name) {
            Some(op) => self.check_policy(api, op)?,
            None => false,
        };
        // Only a request someone reviews (a dry run's plan, a confirmation) needs its display copy.
        let prepared = if self.dry_run || confirm {
            session.prepare(&name, &args)
        } else {
            session.prepare_unreviewed(&name, &args)
        }
        .map_err(CallFailure::Call)?;
        self.send(api, session, prepared, throw, confirm).await
    }

    async fn raw_request(&self, arg: Value) -> Result<Reply, CallFailure> {
        let api = self.target(&arg, "request")?;
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
        let session = self.session(api)?;
        let prepared = session.prepare_raw(&raw).map_err(CallFailure::Call)?;
        let confirm = self.check_policy(api, &self.route_of(api, &prepared))?;
        self.send(api, session, prepared, throw, confirm).await
    }

    async fn paginate(&self, arg: Value) -> Result<Value, CallFailure> {
        let api = self.target(&arg, "paginate")?;
        let name = arg
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let args = arg.get("args").cloned().unwrap_or_else(|| json!({}));
        let limits = arg.get("limits").cloned().unwrap_or(Value::Null);
        let session = self.session(api)?;
        let (confirm, mutating) = match self.inner.apis.get(api).spec.find(&name) {
            Some(op) => (self.check_policy(api, op)?, op.method.is_mutating()),
            None => (false, false),
        };
        // A dry run sends no write (nor any read when told to skip them): the first page is
        // planned like any call, and its placeholder items stand for the list.
        if self.dry_run && (mutating || self.inner.dry_run_skip_reads) {
            let prepared = session.prepare(&name, &args).map_err(CallFailure::Call)?;
            let reply = self.send(api, session, prepared, true, false).await?;
            self.note(
                LogLevel::Info,
                format!(
                    "dry run: api.paginate planned the first page of {} only",
                    self.inner.apis.qualified(api, &name)
                ),
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
            self.confirm(api, self.planned_request(api, &first)).await?;
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
            let target = self.inner.apis.get(api);
            let shown = target.spec.find(&name).map_or(name.as_str(), |op| &op.name);
            self.note(
                LogLevel::Warn,
                paginate_warning(
                    &self.inner.apis.qualified(api, shown),
                    &pages,
                    cut,
                    target.session.max_calls,
                ),
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
    fn check_policy(&self, api: usize, op: &Operation) -> Result<bool, CallFailure> {
        let verdict = self
            .inner
            .apis
            .get(api)
            .policy
            .verdict_for(op, self.caller.as_deref());
        match verdict {
            Verdict::Blocked(reason) => Err(CallFailure::Policy(reason)),
            Verdict::Allowed { confirm } => Ok(confirm),
        }
    }

    /// The operation a prepared request belongs to, as the policy sees it: the spec's own
    /// (borrowed: an operation with its schemas can be large), or a stand-in for a raw path no
    /// operation declares (so method rules and read-only mode still apply).
    fn route_of(&self, api: usize, prepared: &PreparedRequest) -> Cow<'_, Operation> {
        if let Some(op) = prepared
            .operation
            .as_deref()
            .and_then(|n| self.inner.apis.get(api).spec.find(n))
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
        api: usize,
        session: &Session,
        prepared: PreparedRequest,
        throw: bool,
        confirm: bool,
    ) -> Result<Reply, CallFailure> {
        let mutating = prepared.method.is_mutating();
        if self.dry_run && (mutating || self.inner.dry_run_skip_reads) {
            let planned = self.planned_request(api, &prepared);
            let position = match self.planned.lock() {
                Ok(mut list) => {
                    list.push(planned.clone());
                    list.len()
                }
                Err(_) => 0,
            };
            return Ok(self.dry_run_reply(api, &prepared, planned, position, throw));
        }
        if confirm {
            self.confirm(api, self.planned_request(api, &prepared))
                .await?;
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
        api: usize,
        prepared: &PreparedRequest,
        planned: PlannedRequest,
        position: usize,
        throw: bool,
    ) -> Reply {
        let spec = &self.inner.apis.get(api).spec;
        let op = prepared
            .operation
            .as_deref()
            .and_then(|name| spec.find(name));
        let n = u32::try_from(position).unwrap_or(u32::MAX);
        let shaped = op.and_then(|op| placeholder::placeholder(spec, op, n).map(|body| (op, body)));
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

    /// The request as a person reviews it (a dry run's plan, a confirmation), with its API
    /// when there are several.
    fn planned_request(&self, api: usize, prepared: &PreparedRequest) -> PlannedRequest {
        PlannedRequest {
            api: self.inner.apis.namespace(api).map(str::to_string),
            operation: prepared.operation.clone(),
            method: prepared.method.as_str().to_string(),
            path: url_path(&prepared.url),
            query: prepared.query.clone(),
            body: prepared.body_preview.clone(),
        }
    }

    async fn confirm(&self, api: usize, planned: PlannedRequest) -> Result<(), CallFailure> {
        let described = match &planned.api {
            Some(name) => format!("{name}: {} {}", planned.method, planned.path),
            None => format!("{} {}", planned.method, planned.path),
        };
        // A run with a journal asks nobody now: the answer came with the run, or the run pauses.
        let gate = self
            .journal
            .as_ref()
            .and_then(|_| journal::live_slot())
            .map(|slot| slot.gate(&planned));
        let decision = match (gate, &self.confirm) {
            (Some(Gate::Approved), _) => Confirmation::Approved,
            (Some(Gate::Declined), _) => Confirmation::Declined,
            (Some(Gate::Fallback), _) => Confirmation::Unsupported,
            (Some(Gate::Diverged(reason)), _) => return Err(CallFailure::Diverged(reason)),
            (Some(Gate::Pause), _) => std::future::pending().await,
            (None, Some(confirm)) => match self.wait_for_user(confirm.confirm(planned)).await {
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
            (None, None) => Confirmation::Unsupported,
        };
        match decision {
            Confirmation::Approved => Ok(()),
            Confirmation::Declined => Err(CallFailure::Unconfirmed(
                Unconfirmed::Declined,
                format!("the user declined {described}"),
            )),
            Confirmation::Unsupported => match self.inner.apis.get(api).policy.confirm_fallback {
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
        // Host calls are polled on the sandbox's thread, outside the front end's span: the
        // run's span is entered again, so upstream calls nest in the tool call that made them.
        let span = self.span.clone();
        // A run that keeps a journal decides here, in the order the program makes its calls,
        // whether a call is replayed, sent, refused or held (see `journal.rs`).
        if let Some(journal) = &self.journal
            && function != "__codemode_sleep"
        {
            return match journal.start(&function, &arg) {
                Start::Replay(result) => Box::pin(std::future::ready(result)),
                Start::Diverged(reason) => Box::pin(std::future::ready(Err(diverged(&reason)))),
                Start::Blocked => Box::pin(std::future::pending()),
                Start::Live(slot) => Box::pin(
                    journal::LIVE_SLOT.scope(
                        slot.clone(),
                        async move {
                            let result = this.call_unjournaled(&function, arg).await;
                            slot.finish(&result);
                            result
                        }
                        .instrument(span),
                    ),
                ),
            };
        }
        Box::pin(async move { this.call_unjournaled(&function, arg).await }.instrument(span))
    }
}

impl RunHost {
    /// What a host function does, journal aside.
    async fn call_unjournaled(&self, function: &str, arg: Value) -> Result<Value, HostError> {
        match function {
            "__codemode_call" => Ok(self.operation_call(arg).await?.into_json()),
            "__codemode_request" => Ok(self.raw_request(arg).await?.into_json()),
            "__codemode_paginate" => Ok(self.paginate(arg).await?),
            "__codemode_sleep" => self.sleep(arg).await,
            other => Err(HostError::new(
                "Error",
                format!("no such host function {other:?}"),
            )),
        }
    }
}

/// The error a call gets once the program has left the approved plan.
fn diverged(reason: &str) -> HostError {
    HostError::new(
        "DivergedError",
        format!("the program diverged from the approved plan: {reason}; nothing more is sent"),
    )
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

/// Why a host call names no API of the engine, with what to write instead: the API names, the
/// nearest one to a misspelt name, and the API that has the operation a program called without
/// its API.
fn no_such_api(
    apis: &Apis,
    named: Option<&str>,
    function: &str,
    operation: Option<&Value>,
) -> String {
    let names = apis.names();
    match named {
        None if function == "call" => {
            format!(
                "with several APIs, operations are called as api.<api>.<operation> (APIs: {names})"
            )
        }
        None => format!(
            "with several APIs, say which one the {function} is for: api.<api>.{function}(…) (APIs: {names})"
        ),
        Some(named) => {
            let called_bare = operation.is_none_or(Value::is_null);
            let having = apis.having(named);
            let mut message = format!("no API is named {named:?} (APIs: {names})");
            if called_bare && !having.is_empty() {
                let with_api: Vec<String> = having
                    .iter()
                    .map(|api| format!("api.{api}.{named}(…)"))
                    .collect();
                message.push_str(&format!(
                    "; {named} is an operation: call {}",
                    with_api.join(" or ")
                ));
            } else if let Some(near) = nearest_name(apis, named) {
                message.push_str(&format!("; did you mean api.{near}?"));
            }
            message
        }
    }
}

/// The configured API name closest to a misspelt one, if any is close.
fn nearest_name<'a>(apis: &'a Apis, named: &str) -> Option<&'a str> {
    apis.list()
        .iter()
        .filter_map(|api| api.name.as_deref())
        .map(|name| (name, strsim::jaro_winkler(name, named)))
        .filter(|(_, similarity)| *similarity >= 0.8)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(name, _)| name)
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
    /// No upstream is configured (for this API, named when there are several).
    NoUpstream(Option<String>),
    /// The call names no API of the engine (the message says which there are).
    NoSuchApi(String),
    /// Read-only mode or a deny rule blocks the operation (the message says which).
    Policy(String),
    /// The call needed the user's confirmation and did not get it.
    Unconfirmed(Unconfirmed, String),
    /// The program left the plan the user approved (the reason says where).
    Diverged(String),
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
            CallFailure::NoSuchApi(_) => FailureKind::Validation,
            CallFailure::Policy(_) => FailureKind::Policy,
            CallFailure::Unconfirmed(Unconfirmed::Declined | Unconfirmed::CannotAsk, _) => {
                FailureKind::Declined
            }
            CallFailure::Unconfirmed(Unconfirmed::Timeout, _) | CallFailure::NoUpstream(_) => {
                FailureKind::Upstream
            }
            CallFailure::Diverged(_) => FailureKind::Diverged,
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
            CallFailure::NoUpstream(None) => HostError::new(
                "Error",
                "no upstream is configured: start codemode with --base-url to call the API",
            ),
            CallFailure::NoUpstream(Some(api)) => HostError::new(
                "Error",
                format!("API {api:?} has no upstream configured: give it a base_url to call it"),
            ),
            CallFailure::NoSuchApi(message) => HostError::new("ValidationError", message),
            CallFailure::Policy(reason) => HostError::new("PolicyError", reason),
            CallFailure::Unconfirmed(how, message) => {
                let name = match how {
                    Unconfirmed::Declined => "ConfirmationDeclined",
                    Unconfirmed::Timeout => "ConfirmationTimeout",
                    Unconfirmed::CannotAsk => "ConfirmationUnavailable",
                };
                HostError::new(name, message)
            }
            CallFailure::Diverged(reason) => diverged(&reason),
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
    /// Whose view of `blocked` the helpers give (scope rules).
    caller: Option<Caller>,
}

pub(crate) async fn run_discovery(
    inner: &Arc<Inner>,
    code: String,
    caller: Option<Caller>,
) -> ExecuteOutcome {
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
        caller,
    });
    let result = inner.sandbox.run(request, host).await;
    let (result, logs) = split_run(result);
    ExecuteOutcome {
        result,
        logs,
        calls: Vec::new(),
        planned: Vec::new(),
        paused: None,
    }
}

impl Host for DiscoveryHost {
    fn call(&self, function: &str, _arg: Value) -> HostFuture {
        let message = format!("{function} is not available in a search program");
        Box::pin(async move { Err(HostError::new("Error", message)) })
    }

    fn call_sync(&self, function: &str, arg: Value) -> Result<Value, HostError> {
        let apis = &self.inner.apis;
        match function {
            "__spec_search" => {
                let query = arg.get("query").and_then(Value::as_str).unwrap_or_default();
                let limit = arg
                    .get("limit")
                    .and_then(Value::as_u64)
                    .unwrap_or(10)
                    .clamp(1, 50) as usize;
                let hits =
                    crate::ranking::ranked(apis, None, query, limit).map_err(|e| match e {
                        crate::EngineError::Search(reason) => {
                            HostError::new("Error", reason.to_string())
                        }
                        other => HostError::new("Error", other.to_string()),
                    })?;
                Ok(Value::Array(
                    hits.iter()
                        .map(|hit| {
                            let op = apis.get(hit.api).spec.operation(hit.operation);
                            let mut v = operation_summary(apis, hit.api, op);
                            v["score"] = json!((hit.score * 1000.0).round() / 1000.0);
                            v
                        })
                        .collect(),
                ))
            }
            "__spec_operations" => Ok(Value::Array(
                apis.list()
                    .iter()
                    .enumerate()
                    .flat_map(|(index, api)| {
                        api.spec
                            .operations
                            .iter()
                            .map(move |op| operation_summary(apis, index, op))
                    })
                    .collect(),
            )),
            "__spec_operation" => {
                let name = arg.get("name").and_then(Value::as_str).unwrap_or_default();
                Ok(apis
                    .find(name)
                    .map(|(api, id)| {
                        let target = apis.get(api);
                        operation_detail(
                            apis,
                            api,
                            target,
                            target.spec.operation(id),
                            self.caller.as_ref(),
                        )
                    })
                    .unwrap_or(Value::Null))
            }
            "__spec_declare" => {
                let names: Vec<&str> = arg
                    .get("names")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                self.declare(&names).map(Value::String)
            }
            other => Err(HostError::new("Error", format!("no such helper {other:?}"))),
        }
    }
}

impl DiscoveryHost {
    /// `spec.declare(names)`: operations and types by name, each API's in its own namespace
    /// block when there are several.
    fn declare(&self, names: &[&str]) -> Result<String, HostError> {
        let apis = &self.inner.apis;
        let options = codemode_typescript::DeclareOptions::default();
        let mut text = String::new();
        let mut found = vec![false; names.len()];
        for (index, api) in apis.list().iter().enumerate() {
            let mut ops: Vec<&Operation> = Vec::new();
            let mut types: Vec<(usize, &str)> = Vec::new();
            for (i, name) in names.iter().enumerate() {
                match apis.find(name) {
                    Some((api_of_op, id)) if api_of_op == index => {
                        found[i] = true;
                        ops.push(api.spec.operation(id));
                    }
                    Some(_) => {}
                    None => types.push((i, unqualified_in(apis, index, name))),
                }
            }
            let type_names: Vec<&str> = types.iter().map(|&(_, name)| name).collect();
            let (declared_types, missing) = api.declare_types(&type_names, &options);
            for (i, name) in types {
                found[i] |= !missing.iter().any(|m| m == name);
            }
            let mut code = String::new();
            if !ops.is_empty() {
                code.push_str(&api.declare(&ops, &options).text);
            }
            code.push_str(&declared_types.text);
            match apis.namespace(index) {
                Some(name) if !code.trim().is_empty() => text.push_str(&format!(
                    "declare namespace {name} {{\n{}\n}}\n",
                    code.trim_end()
                )),
                _ => text.push_str(&code),
            }
        }
        let unknown: Vec<&str> = names
            .iter()
            .zip(&found)
            .filter(|(_, found)| !**found)
            .map(|(name, _)| *name)
            .collect();
        if !unknown.is_empty() {
            return Err(HostError::new(
                "Error",
                format!(
                    "spec.declare: no operation or type named {}; spec.search(task) finds operations",
                    unknown.join(", ")
                ),
            ));
        }
        Ok(text)
    }
}

/// A type name as API `index` knows it: `stripe.Customer` → `Customer` for `stripe`.
fn unqualified_in<'n>(apis: &Apis, index: usize, name: &'n str) -> &'n str {
    let name = name.strip_prefix("api.").unwrap_or(name);
    match apis.namespace(index) {
        Some(api) => name
            .strip_prefix(api)
            .and_then(|rest| rest.strip_prefix('.'))
            .unwrap_or(name),
        None => name,
    }
}

fn operation_summary(apis: &Apis, api: usize, op: &Operation) -> Value {
    let mut v = json!({ "name": op.name, "method": op.method.as_str(), "path": op.path, "summary": op.summary, "tags": op.tags });
    if let Some(name) = apis.namespace(api) {
        v["api"] = json!(name);
    }
    v
}

fn operation_detail(
    apis: &Apis,
    index: usize,
    api: &Api,
    op: &Operation,
    caller: Option<&Caller>,
) -> Value {
    let declaration = api.declare(&[op], &codemode_typescript::DeclareOptions::default());
    let mut v = json!({
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
        "blocked": matches!(api.policy.verdict_for(op, caller), Verdict::Blocked(_)),
        "declaration": declaration.text,
        "mutating": op.method != Method::Get && op.method != Method::Head,
    });
    if let Some(name) = apis.namespace(index) {
        v["api"] = json!(name);
    }
    v
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
            (CallFailure::NoUpstream(None), "upstream", "Error"),
            (
                CallFailure::NoSuchApi("no API".into()),
                "validation",
                "ValidationError",
            ),
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
