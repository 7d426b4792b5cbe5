//! One run on a worker thread: a fresh QuickJS runtime and context, the limits wired into it, the
//! agent's code evaluated in its accepted form, the job queue driven while host futures run on tokio,
//! and the outcome converted to a [`RunOutput`] or a [`RunError`].

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use rquickjs::context::EvalOptions;
use rquickjs::convert::Coerced;
use rquickjs::{Array, Context, Ctx, Exception, Function, Object, Persistent, Runtime, Value};

use crate::bootstrap;
use crate::deadline::Deadline;
use crate::forms::{self, AgentSource, BODY_PREFIX, BODY_SUFFIX, Locator};
use crate::memory::LimitedAllocator;
use crate::typescript;
use crate::{
    Host, HostError, LogLevel, LogLine, RunError, RunErrorKind, RunOutput, RunRequest,
    SandboxConfig,
};

const AGENT_FILE: &str = "agent.js";

/// Why the interrupt handler stopped the script; once set, every later check interrupts again, so the
/// script cannot catch its way past a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Abort {
    Timeout,
    HostCalls,
    Memory,
    Timers,
    Cancelled,
}

/// How often a run blocked on host calls checks whether its caller is still waiting.
const CANCEL_POLL: Duration = Duration::from_millis(50);

/// Timers one run may start (each is a tokio task outside the QuickJS heap limit).
const MAX_TIMERS: u32 = 1000;

/// The outcome of an async host call, sent from its tokio task to the worker.
struct Completion {
    id: u64,
    result: Result<serde_json::Value, HostError>,
}

/// Sends an "aborted" completion if the host future is dropped or panics before finishing, so the
/// worker never waits for an answer that cannot come.
struct CompletionGuard {
    id: u64,
    sender: Option<Sender<Completion>>,
}

impl CompletionGuard {
    fn finish(mut self, result: Result<serde_json::Value, HostError>) {
        if let Some(sender) = self.sender.take() {
            let _ = sender.send(Completion {
                id: self.id,
                result,
            });
        }
    }
}

impl Drop for CompletionGuard {
    fn drop(&mut self) {
        if let Some(sender) = self.sender.take() {
            let failure = HostError::new("Error", "the host function failed unexpectedly");
            let _ = sender.send(Completion {
                id: self.id,
                result: Err(failure),
            });
        }
    }
}

/// Console lines kept within the byte budget.
struct LogBuffer {
    lines: Vec<LogLine>,
    bytes: usize,
    limit: usize,
    closed: bool,
}

impl LogBuffer {
    /// Keep `text` if the budget allows (truncating the line that crosses it); false once full.
    fn push(&mut self, level: LogLevel, mut text: String) -> bool {
        if self.closed {
            return false;
        }
        let remaining = self.limit.saturating_sub(self.bytes);
        if text.len() > remaining {
            let mut cut = remaining;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            if !text.is_empty() {
                self.lines.push(LogLine { level, text });
            }
            self.lines.push(LogLine {
                level: LogLevel::Warn,
                text: format!(
                    "[console output truncated: log limit of {} bytes reached]",
                    self.limit
                ),
            });
            self.bytes = self.limit;
            self.closed = true;
            return false;
        }
        self.bytes += text.len();
        self.lines.push(LogLine { level, text });
        true
    }
}

/// State shared by the host functions, the interrupt handler and the driver of one run.
struct RunState {
    abort: Rc<Cell<Option<Abort>>>,
    cancelled: Rc<dyn Fn() -> bool>,
    /// Set by the allocator when it refuses an allocation.
    out_of_memory: Rc<Cell<bool>>,
    deadline: Deadline,
    host_calls: Cell<u32>,
    timers: Cell<u32>,
    next_call_id: Cell<u64>,
    /// Host calls and timers started and not yet settled, by id.
    in_flight: RefCell<HashMap<u64, Pending>>,
    tasks: RefCell<Vec<tokio::task::AbortHandle>>,
    logs: RefCell<LogBuffer>,
    /// The run already logged that calls outlived the program.
    noted_unawaited: Cell<bool>,
    unhandled: Rc<RefCell<Unhandled>>,
}

/// What an in-flight id stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    HostCall,
    Timer,
}

/// Net count of rejected promises without a handler, and the first reason seen.
#[derive(Default)]
struct Unhandled {
    count: i64,
    first_reason: Option<String>,
}

/// Run one request to completion on the current (worker) thread.
///
/// `cancelled` reports whether the caller stopped waiting; the run then ends at the next interrupt
/// check or host-call wait instead of at its deadline.
pub(crate) fn execute(
    config: &SandboxConfig,
    spare: Result<Spare, RunError>,
    request: RunRequest,
    host: Arc<dyn Host>,
    tokio: &tokio::runtime::Handle,
    cancelled: Rc<dyn Fn() -> bool>,
) -> (Result<RunOutput, RunError>, Teardown) {
    let started = Instant::now();
    let spare = match spare {
        Ok(spare) => spare,
        Err(error) => return (Err(error), Teardown::nothing()),
    };
    let state = Rc::new(RunState {
        abort: Rc::new(Cell::new(None)),
        cancelled,
        out_of_memory: Rc::clone(&spare.out_of_memory),
        deadline: Deadline::new(started, config.timeout, request.pauses.clone()),
        host_calls: Cell::new(0),
        timers: Cell::new(0),
        next_call_id: Cell::new(1),
        in_flight: RefCell::new(HashMap::new()),
        tasks: RefCell::new(Vec::new()),
        logs: RefCell::new(LogBuffer {
            lines: Vec::new(),
            bytes: 0,
            limit: config.max_log_bytes,
            closed: false,
        }),
        noted_unawaited: Cell::new(false),
        unhandled: Rc::new(RefCell::new(Unhandled::default())),
    });
    let (outcome, teardown) = run_in(spare, config, &request, host, tokio, &state);
    for task in state.tasks.borrow_mut().drain(..) {
        task.abort();
    }
    let logs = std::mem::take(&mut state.logs.borrow_mut().lines);
    let host_calls = state.host_calls.get();
    let outcome = match outcome {
        Ok(result) => Ok(RunOutput {
            result,
            logs,
            host_calls,
            elapsed: started.elapsed(),
        }),
        Err(mut error) => {
            error.logs = logs;
            error.host_calls = host_calls;
            Err(error)
        }
    };
    (outcome, teardown)
}

/// The QuickJS context and runtime of a finished run. The worker drops them right after sending the
/// reply (and then makes the next [`Spare`]): freeing a runtime (a final GC over every object) is about a fifth of a trivial run, and the
/// caller does not need to wait for it. The worker takes no other run before the drop completes, so
/// nothing of one run is alive during the next.
pub(crate) struct Teardown {
    // Field order is drop order: the context before its runtime.
    context: Option<Context>,
    runtime: Option<Runtime>,
}

impl Teardown {
    fn nothing() -> Teardown {
        Teardown {
            context: None,
            runtime: None,
        }
    }
}

impl Drop for Teardown {
    fn drop(&mut self) {
        drop(self.context.take());
        drop(self.runtime.take());
    }
}

/// A runtime and context made before their run arrives, with the bootstrap module loaded and
/// evaluated in it: that is four fifths of a trivial run's fixed cost (callgrind: 1.16 M of 1.42 M
/// instructions), and a worker pays it while it waits for work instead of while a caller waits for
/// an answer. No agent code has run in a spare, nor any code but the trusted bootstrap, so every
/// run still starts in a fresh runtime and context. The run's own limits (deadline, cancellation,
/// stack) are wired in when it takes the spare ([`run_in`]); the memory limit is there from the
/// first allocation.
pub(crate) struct Spare {
    // Field order is drop order: the saved function before its context, the context before its
    // runtime (QuickJS aborts when a runtime is freed with values still alive).
    setup: Option<Persistent<Function<'static>>>,
    context: Context,
    runtime: Runtime,
    /// Set by the allocator when it refuses an allocation.
    out_of_memory: Rc<Cell<bool>>,
}

impl Spare {
    pub(crate) fn new(config: &SandboxConfig) -> Result<Spare, RunError> {
        let out_of_memory = Rc::new(Cell::new(false));
        let allocator = LimitedAllocator::new(config.memory_limit_bytes, Rc::clone(&out_of_memory));
        let runtime = Runtime::new_with_alloc(allocator)
            .map_err(|e| internal(format!("cannot create a QuickJS runtime: {e}")))?;
        let context = Context::full(&runtime)
            .map_err(|e| internal(format!("cannot create a QuickJS context: {e}")))?;
        let setup = context.with(|ctx| {
            bootstrap::setup_function(&ctx)
                .map(|setup| Persistent::save(&ctx, setup))
                .map_err(internal)
        })?;
        Ok(Spare {
            setup: Some(setup),
            context,
            runtime,
            out_of_memory,
        })
    }

    /// Wires the run's limits into the runtime: the stack limit, the interrupt handler that
    /// enforces the deadline, the memory limit and cancellation, and the tracker of unhandled
    /// rejections.
    fn arm(&self, config: &SandboxConfig, state: &Rc<RunState>) {
        let runtime = &self.runtime;
        runtime.set_max_stack_size(config.max_stack_bytes);
        let abort = Rc::clone(&state.abort);
        let out_of_memory = Rc::clone(&state.out_of_memory);
        let cancelled = Rc::clone(&state.cancelled);
        let deadline = state.deadline.clone();
        runtime.set_interrupt_handler(Some(Box::new(move || {
            if abort.get().is_some() {
                return true;
            }
            if out_of_memory.get() {
                abort.set(Some(Abort::Memory));
                return true;
            }
            if deadline.passed() {
                abort.set(Some(Abort::Timeout));
                return true;
            }
            if cancelled() {
                abort.set(Some(Abort::Cancelled));
                return true;
            }
            false
        })));
        let unhandled = Rc::clone(&state.unhandled);
        runtime.set_host_promise_rejection_tracker(Some(Box::new(
            move |ctx, _promise, reason, is_handled| {
                // Borrows stay short: describing the reason may run the script's getters, which may
                // reject more promises and re-enter this tracker.
                let wants_reason = {
                    let Ok(mut unhandled) = unhandled.try_borrow_mut() else {
                        return;
                    };
                    unhandled.count += if is_handled { -1 } else { 1 };
                    !is_handled && unhandled.first_reason.is_none()
                };
                if wants_reason {
                    let reason = describe_plain(&ctx, &reason);
                    if let Ok(mut unhandled) = unhandled.try_borrow_mut() {
                        unhandled.first_reason.get_or_insert(reason);
                    }
                }
            },
        )));
    }
}

fn run_in(
    mut spare: Spare,
    config: &SandboxConfig,
    request: &RunRequest,
    host: Arc<dyn Host>,
    tokio: &tokio::runtime::Handle,
    state: &Rc<RunState>,
) -> (Result<serde_json::Value, RunError>, Teardown) {
    spare.arm(config, state);
    let setup = spare.setup.take();
    let (sender, completions) = std::sync::mpsc::channel::<Completion>();
    let outcome = spare.context.with(|ctx| {
        let setup = setup
            .ok_or_else(|| internal("the spare runtime has no bootstrap"))?
            .restore(&ctx)
            .map_err(|e| internal(format!("the bootstrap cannot be restored: {e}")))?;
        let mut run = Run {
            ctx: ctx.clone(),
            config,
            state,
            host,
            tokio,
            sender,
            completions: &completions,
        };
        run.run(request, setup)
    });
    let teardown = Teardown {
        context: Some(spare.context),
        runtime: Some(spare.runtime),
    };
    (outcome, teardown)
}

/// Everything one run needs while inside the context.
struct Run<'a, 'js> {
    ctx: Ctx<'js>,
    config: &'a SandboxConfig,
    state: &'a Rc<RunState>,
    host: Arc<dyn Host>,
    tokio: &'a tokio::runtime::Handle,
    sender: Sender<Completion>,
    completions: &'a Receiver<Completion>,
}

/// The bootstrap's helpers.
struct Helpers<'js> {
    start: Function<'js>,
    settle: Function<'js>,
    result_json: Function<'js>,
    describe: Function<'js>,
}

impl<'a, 'js> Run<'a, 'js> {
    fn run(
        &mut self,
        request: &RunRequest,
        setup: Function<'js>,
    ) -> Result<serde_json::Value, RunError> {
        let helpers = self.bootstrap(request, setup)?;
        if let Some(prelude) = &request.prelude {
            self.run_prelude(prelude, &helpers)?;
        }
        let source = forms::normalize(&request.code);
        let (evaluated, unwrap, locator) = self.evaluate_agent(&source, &helpers)?;
        let main_state: Object<'js> = helpers
            .start
            .call((evaluated, unwrap))
            .map_err(|e| self.exception_error(e, &helpers, &locator))?;
        self.drive(&main_state, &helpers)?;
        let done_ok: bool = main_state
            .get("ok")
            .map_err(|e| self.exception_error(e, &helpers, &locator))?;
        let value: Value<'js> = main_state
            .get("value")
            .map_err(|e| self.exception_error(e, &helpers, &locator))?;
        if !done_ok {
            return Err(self.thrown_error(value, &helpers, &locator));
        }
        let json = self.result_json(value, &helpers, &locator)?;
        self.wait_for_unawaited(&helpers)?;
        self.check_unhandled()?;
        if json.len() > self.config.max_result_bytes {
            return Err(RunError::new(
                RunErrorKind::ResultTooLarge,
                format!(
                    "result of {} bytes exceeds the result limit of {} bytes",
                    json.len(),
                    self.config.max_result_bytes
                ),
            ));
        }
        serde_json::from_str(&json).map_err(|e| {
            RunError::new(
                RunErrorKind::ResultNotSerializable,
                format!("the result is not valid JSON: {e}"),
            )
        })
    }

    /// Install console and host functions through the bootstrap's `setup`; return the helpers.
    fn bootstrap(
        &self,
        request: &RunRequest,
        setup: Function<'js>,
    ) -> Result<Helpers<'js>, RunError> {
        let ctx = self.ctx.clone();
        let host_async = self.host_async_function()?;
        let host_sync = self.host_sync_function()?;
        let host_log = self.host_log_function()?;
        let host_timer = self.host_timer_function()?;
        let host_clear_timer = self.host_clear_timer_function()?;
        let async_names = string_array(&ctx, &request.async_functions)?;
        let sync_names = string_array(&ctx, &request.sync_functions)?;
        let helpers: Object<'js> = setup
            .call((
                host_async,
                host_sync,
                host_log,
                host_timer,
                host_clear_timer,
                async_names,
                sync_names,
            ))
            .map_err(|e| {
                internal(format!(
                    "the sandbox bootstrap failed: {}",
                    caught_message(&ctx, e)
                ))
            })?;
        let get = |name: &str| -> Result<Function<'js>, RunError> {
            helpers
                .get(name)
                .map_err(|e| internal(format!("bootstrap helper {name}: {e}")))
        };
        Ok(Helpers {
            start: get("start")?,
            settle: get("settle")?,
            result_json: get("resultJson")?,
            describe: get("describe")?,
        })
    }

    fn host_async_function(&self) -> Result<Function<'js>, RunError> {
        let state = Rc::clone(self.state);
        let host = Arc::clone(&self.host);
        let tokio = self.tokio.clone();
        let sender = self.sender.clone();
        let max = self.config.max_host_calls;
        Function::new(
            self.ctx.clone(),
            move |ctx: Ctx<'js>, name: String, json: String| -> rquickjs::Result<f64> {
                count_host_call(&ctx, &state, max)?;
                let arg = serde_json::from_str(&json).unwrap_or(serde_json::Value::Null);
                let id = state.next_call_id.get();
                state.next_call_id.set(id + 1);
                state.in_flight.borrow_mut().insert(id, Pending::HostCall);
                let mut future = host.call(&name, arg);
                // Poll once here (inside the tokio context so timers and sockets can register): a host
                // that answers at once needs no task and no thread hop. Otherwise tokio drives it.
                let first_poll = {
                    let _entered = tokio.enter();
                    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
                    future.as_mut().poll(&mut context)
                };
                if let std::task::Poll::Ready(result) = first_poll {
                    let _ = sender.send(Completion { id, result });
                    return Ok(id as f64);
                }
                let guard = CompletionGuard {
                    id,
                    sender: Some(sender.clone()),
                };
                let task = tokio.spawn(async move {
                    let result = future.await;
                    guard.finish(result);
                });
                state.tasks.borrow_mut().push(task.abort_handle());
                Ok(id as f64)
            },
        )
        .map_err(|e| internal(format!("cannot create a host function: {e}")))
    }

    /// `hostTimer(ms)`: a tokio sleep that completes like a host call (but is not counted as one).
    fn host_timer_function(&self) -> Result<Function<'js>, RunError> {
        let state = Rc::clone(self.state);
        let tokio = self.tokio.clone();
        let sender = self.sender.clone();
        Function::new(
            self.ctx.clone(),
            move |ctx: Ctx<'js>, ms: f64| -> rquickjs::Result<f64> {
                if state.timers.get() >= MAX_TIMERS {
                    state.abort.set(Some(Abort::Timers));
                    return Err(Exception::throw_internal(
                        &ctx,
                        &format!("timer limit of {MAX_TIMERS} timers exceeded"),
                    ));
                }
                state.timers.set(state.timers.get() + 1);
                let id = state.next_call_id.get();
                state.next_call_id.set(id + 1);
                let now = Instant::now();
                // `ms` is clamped to ≥ 0 by the bootstrap; an absurdly large one waits "forever",
                // which the deadline cuts short anyway.
                let end = Duration::try_from_secs_f64(ms / 1000.0)
                    .ok()
                    .and_then(|delay| now.checked_add(delay));
                let deadline = state.deadline.clone();
                let guard = CompletionGuard {
                    id,
                    sender: Some(sender.clone()),
                };
                let task = tokio.spawn(async move {
                    // Never sleep past the deadline (the run ends there anyway), and look again
                    // when it is reached: a pause may have moved it.
                    loop {
                        let to_end = end.map_or(Duration::MAX, |end| {
                            end.saturating_duration_since(Instant::now())
                        });
                        let wait = to_end.min(deadline.remaining());
                        if wait.is_zero() {
                            break;
                        }
                        tokio::time::sleep(wait).await;
                    }
                    guard.finish(Ok(serde_json::Value::Null));
                });
                state.tasks.borrow_mut().push(task.abort_handle());
                state.in_flight.borrow_mut().insert(id, Pending::Timer);
                Ok(id as f64)
            },
        )
        .map_err(|e| internal(format!("cannot create setTimeout: {e}")))
    }

    /// `hostClearTimer(id)`: stop waiting for a cleared timer.
    fn host_clear_timer_function(&self) -> Result<Function<'js>, RunError> {
        let state = Rc::clone(self.state);
        Function::new(self.ctx.clone(), move |id: f64| {
            state.in_flight.borrow_mut().remove(&(id as u64));
        })
        .map_err(|e| internal(format!("cannot create clearTimeout: {e}")))
    }

    fn host_sync_function(&self) -> Result<Function<'js>, RunError> {
        let state = Rc::clone(self.state);
        let host = Arc::clone(&self.host);
        let max = self.config.max_host_calls;
        Function::new(
            self.ctx.clone(),
            move |ctx: Ctx<'js>, name: String, json: String| -> rquickjs::Result<String> {
                count_host_call(&ctx, &state, max)?;
                let arg = serde_json::from_str(&json).unwrap_or(serde_json::Value::Null);
                Ok(match host.call_sync(&name, arg) {
                    Ok(value) => format!("o{value}"),
                    Err(error) => format!("e{}", host_error_json(&error)),
                })
            },
        )
        .map_err(|e| internal(format!("cannot create a host function: {e}")))
    }

    fn host_log_function(&self) -> Result<Function<'js>, RunError> {
        let state = Rc::clone(self.state);
        Function::new(
            self.ctx.clone(),
            move |level: String, text: String| -> bool {
                let level = match level.as_str() {
                    "info" => LogLevel::Info,
                    "warn" => LogLevel::Warn,
                    "error" => LogLevel::Error,
                    "debug" => LogLevel::Debug,
                    _ => LogLevel::Log,
                };
                state.logs.borrow_mut().push(level, text)
            },
        )
        .map_err(|e| internal(format!("cannot create the console: {e}")))
    }

    /// Evaluate the caller's prelude (a module, loaded from bytecode) before the agent's code.
    fn run_prelude(&self, prelude: &Arc<str>, helpers: &Helpers<'js>) -> Result<(), RunError> {
        let failed = |error: rquickjs::Error| {
            self.internal_exception("the prelude failed", self.caught(error), helpers)
        };
        let module = bootstrap::prelude_module(&self.ctx, prelude)
            .map_err(|message| internal(format!("the prelude failed: {message}")))?;
        let (_, promise) = module.eval().map_err(failed)?;
        // A module without imports or top-level await settles after its pending jobs ran.
        while self.ctx.execute_pending_job() {}
        promise.finish::<()>().map_err(failed)
    }

    fn eval(&self, source: Vec<u8>, file: &str, promise: bool) -> Result<Value<'js>, RunError> {
        let mut options = EvalOptions::default();
        options.global = true;
        options.strict = false;
        options.promise = promise;
        options.filename = Some(file.to_string());
        self.ctx
            .eval_with_options(source, options)
            .map_err(|e| self.caught(e))
    }

    /// Evaluate the agent's code in the first form that compiles: script (last expression is the result),
    /// function body (top-level `return`), then the same two after stripping TypeScript.
    fn evaluate_agent(
        &self,
        source: &AgentSource,
        helpers: &Helpers<'js>,
    ) -> Result<(Value<'js>, bool, Locator), RunError> {
        let plain = Locator {
            line_offset: source.line_offset,
            first_line_shift: 0,
            typescript: None,
        };
        let javascript_error = if source.typescript {
            None
        } else {
            match self.evaluate_js(&source.code, plain.clone(), helpers)? {
                Ok(evaluated) => return Ok(evaluated),
                Err(syntax_error) => Some(syntax_error),
            }
        };
        let (stripped, map) = match typescript::strip_with_map(&source.code) {
            Ok(stripped) => stripped,
            Err(mut ts_error) => {
                // Prefer QuickJS's own message for plain JavaScript when oxc has no location.
                if let (Some(js_error), None) = (&javascript_error, ts_error.line) {
                    return Err(js_error.clone());
                }
                if let Some(line) = ts_error.line.as_mut() {
                    *line += source.line_offset;
                }
                return Err(ts_error);
            }
        };
        let locator = Locator {
            line_offset: source.line_offset,
            first_line_shift: 0,
            typescript: Some(Arc::new(map)),
        };
        match self.evaluate_js(&stripped, locator, helpers)? {
            Ok(evaluated) => Ok(evaluated),
            Err(error) => Err(error),
        }
    }

    /// Ok(Ok(..)) when evaluated, Ok(Err(syntax error)) when it does not compile, Err for other failures.
    #[allow(clippy::type_complexity)]
    fn evaluate_js(
        &self,
        code: &str,
        locator: Locator,
        helpers: &Helpers<'js>,
    ) -> Result<Result<(Value<'js>, bool, Locator), RunError>, RunError> {
        let script_error = match self.eval(code.as_bytes().to_vec(), AGENT_FILE, true) {
            Ok(value) => return Ok(Ok((value, true, locator))),
            Err(error) => error,
        };
        let script_error = self.compile_error(script_error, helpers, &locator)?;
        if !script_error.message.contains("return not in a function") {
            return Ok(Err(script_error));
        }
        let wrapped = format!("{BODY_PREFIX}{code}{BODY_SUFFIX}");
        let body_locator = Locator {
            first_line_shift: BODY_PREFIX.len() as u32,
            ..locator
        };
        match self.eval(wrapped.into_bytes(), AGENT_FILE, false) {
            Ok(value) => Ok(Ok((value, false, body_locator))),
            Err(error) => Ok(Err(self.compile_error(error, helpers, &body_locator)?)),
        }
    }

    /// A compile failure: Ok(syntax error) to try the next form, Err for limits and other failures.
    fn compile_error(
        &self,
        error: RunError,
        helpers: &Helpers<'js>,
        locator: &Locator,
    ) -> Result<RunError, RunError> {
        if error.kind != RunErrorKind::Exception {
            return Err(error);
        }
        let value = self.ctx.catch();
        let described = self.thrown_error(value, helpers, locator);
        if described.message.starts_with("SyntaxError") {
            Ok(RunError {
                kind: RunErrorKind::Syntax,
                stack: None,
                ..described
            })
        } else {
            Err(described)
        }
    }

    /// Run queued jobs and wait for host calls until the main promise settles or a limit hits.
    fn drive(&self, main_state: &Object<'js>, helpers: &Helpers<'js>) -> Result<(), RunError> {
        loop {
            while self.ctx.execute_pending_job() {
                self.check_abort()?;
            }
            self.check_abort()?;
            if main_state.get::<_, bool>("done").unwrap_or(false) {
                return Ok(());
            }
            if self.state.in_flight.borrow().is_empty() {
                return Err(RunError::new(
                    RunErrorKind::Exception,
                    "the script's promise never settled: it is waiting for something that will never happen \
                     (no host call or timer is pending)",
                ));
            }
            let remaining = self.state.deadline.remaining();
            let completion = match self.completions.recv_timeout(remaining.min(CANCEL_POLL)) {
                Ok(completion) => completion,
                Err(RecvTimeoutError::Timeout) => {
                    if (self.state.cancelled)() {
                        return Err(self.limit_error(Abort::Cancelled));
                    }
                    self.check_abort()?;
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(internal("host call channel closed"));
                }
            };
            self.settle(completion, helpers)?;
            while let Ok(completion) = self.completions.try_recv() {
                self.settle(completion, helpers)?;
            }
        }
    }

    /// Once the program has returned (its result already converted), waits for the host calls
    /// it started and did not await: such a call is still completed, and a failure in it still
    /// reaches the run as an unhandled rejection, instead of the call being cut off silently.
    /// The wait ends at the deadline, keeping the result: the program did finish. Timers are not
    /// waited for, and a program that threw does not wait at all.
    fn wait_for_unawaited(&self, helpers: &Helpers<'js>) -> Result<(), RunError> {
        let calls = self.pending_host_calls();
        if calls == 0 {
            return Ok(());
        }
        self.note_unawaited(calls);
        loop {
            while self.ctx.execute_pending_job() {
                if let Err(error) = self.check_abort() {
                    return self.end_wait(error);
                }
            }
            if let Err(error) = self.check_abort() {
                return self.end_wait(error);
            }
            let pending = self.pending_host_calls();
            if pending == 0 {
                return Ok(());
            }
            if self.state.deadline.passed() {
                return self.end_wait(self.limit_error(Abort::Timeout));
            }
            let remaining = self.state.deadline.remaining();
            match self.completions.recv_timeout(remaining.min(CANCEL_POLL)) {
                Ok(completion) => {
                    if let Err(error) = self.settle(completion, helpers) {
                        return self.end_wait(error);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    if (self.state.cancelled)() {
                        return Err(self.limit_error(Abort::Cancelled));
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(internal("host call channel closed"));
                }
            }
        }
    }

    /// The deadline cut the wait for unawaited calls short: the program's result stands, with a
    /// line saying what was cut off. Any other stop is the run's error.
    fn end_wait(&self, error: RunError) -> Result<(), RunError> {
        if error.kind != RunErrorKind::Timeout {
            return Err(error);
        }
        let calls = self.pending_host_calls();
        self.state.logs.borrow_mut().push(
            LogLevel::Warn,
            format!(
                "{calls} call{} the program did not await {} cut off at the run's deadline.",
                if calls == 1 { "" } else { "s" },
                if calls == 1 { "was" } else { "were" }
            ),
        );
        Ok(())
    }

    /// Host calls started and not yet settled.
    fn pending_host_calls(&self) -> usize {
        self.state
            .in_flight
            .borrow()
            .values()
            .filter(|pending| **pending == Pending::HostCall)
            .count()
    }

    /// Tells the script's author, once per run, that calls outlived the program.
    fn note_unawaited(&self, calls: usize) {
        if self.state.noted_unawaited.replace(true) {
            return;
        }
        let text = match calls {
            1 => "1 call was still pending when the program returned; the run waited for it. \
                  Await every call so that its result and its errors reach your code."
                .to_string(),
            n => format!(
                "{n} calls were still pending when the program returned; the run waited for them. \
                 Await every call so that its result and its errors reach your code."
            ),
        };
        self.state.logs.borrow_mut().push(LogLevel::Warn, text);
    }

    fn settle(&self, completion: Completion, helpers: &Helpers<'js>) -> Result<(), RunError> {
        if self
            .state
            .in_flight
            .borrow_mut()
            .remove(&completion.id)
            .is_none()
        {
            return Ok(());
        }
        let (ok, json) = match completion.result {
            Ok(value) => (true, value.to_string()),
            Err(error) => (false, host_error_json(&error)),
        };
        let settled: rquickjs::Result<Value<'js>> =
            helpers.settle.call((completion.id as f64, ok, json));
        if let Err(error) = settled {
            self.check_abort()?;
            return Err(internal(format!(
                "settling a host call failed: {}",
                caught_message(&self.ctx, error)
            )));
        }
        Ok(())
    }

    fn result_json(
        &self,
        value: Value<'js>,
        helpers: &Helpers<'js>,
        locator: &Locator,
    ) -> Result<String, RunError> {
        let limit = self.config.max_result_bytes as f64;
        let reply: Array<'js> = helpers
            .result_json
            .call((value, limit))
            .map_err(|e| self.exception_error(e, helpers, locator))?;
        let kind: String = reply
            .get(0)
            .map_err(|e| internal(format!("result conversion: {e}")))?;
        let payload: String = reply
            .get(1)
            .map_err(|e| internal(format!("result conversion: {e}")))?;
        self.check_abort()?;
        match kind.as_str() {
            "ok" => Ok(payload),
            "too_large" => Err(RunError::new(
                RunErrorKind::ResultTooLarge,
                format!(
                    "result exceeds the result limit of {} bytes as JSON",
                    self.config.max_result_bytes
                ),
            )),
            _ => Err(RunError::new(
                RunErrorKind::ResultNotSerializable,
                format!("the result cannot be converted to JSON: {payload}"),
            )),
        }
    }

    fn check_unhandled(&self) -> Result<(), RunError> {
        let unhandled = self.state.unhandled.borrow();
        if unhandled.count > 0 {
            let reason = unhandled
                .first_reason
                .clone()
                .unwrap_or_else(|| "unknown reason".to_string());
            return Err(RunError::new(
                RunErrorKind::Exception,
                format!(
                    "unhandled promise rejection: {reason} (await the promise or add a .catch handler)"
                ),
            ));
        }
        Ok(())
    }

    fn check_abort(&self) -> Result<(), RunError> {
        if let Some(abort) = self.current_abort() {
            return Err(self.limit_error(abort));
        }
        if self.state.deadline.passed() {
            self.state.abort.set(Some(Abort::Timeout));
            return Err(self.limit_error(Abort::Timeout));
        }
        Ok(())
    }

    /// The limit that stopped the run, if any (memory counts even before the interrupt handler saw it).
    fn current_abort(&self) -> Option<Abort> {
        if self.state.out_of_memory.get() && self.state.abort.get().is_none() {
            self.state.abort.set(Some(Abort::Memory));
        }
        self.state.abort.get()
    }

    fn limit_error(&self, abort: Abort) -> RunError {
        match abort {
            Abort::Cancelled => internal("the run was cancelled: its caller stopped waiting"),
            Abort::Timers => RunError::new(
                RunErrorKind::HostCallLimit,
                format!("timer limit of {MAX_TIMERS} timers exceeded"),
            ),
            Abort::Memory => RunError::new(
                RunErrorKind::Memory,
                format!(
                    "memory limit of {} bytes exceeded",
                    self.config.memory_limit_bytes
                ),
            ),
            Abort::Timeout => RunError::new(
                RunErrorKind::Timeout,
                format!(
                    "time limit of {} ms exceeded",
                    self.config.timeout.as_millis()
                ),
            ),
            Abort::HostCalls => RunError::new(
                RunErrorKind::HostCallLimit,
                format!(
                    "host call limit of {} calls exceeded",
                    self.config.max_host_calls
                ),
            ),
        }
    }

    /// Turn a rquickjs error into a RunError; for an exception the value stays pending (see `caught`).
    fn caught(&self, error: rquickjs::Error) -> RunError {
        match error {
            rquickjs::Error::Exception => RunError::new(RunErrorKind::Exception, "exception"),
            other => internal(other.to_string()),
        }
    }

    /// Describe the exception behind `error` (which must come straight from a QuickJS call).
    fn exception_error(
        &self,
        error: rquickjs::Error,
        helpers: &Helpers<'js>,
        locator: &Locator,
    ) -> RunError {
        match error {
            rquickjs::Error::Exception => {
                let value = self.ctx.catch();
                self.thrown_error(value, helpers, locator)
            }
            other => {
                if let Some(abort) = self.current_abort() {
                    return self.limit_error(abort);
                }
                internal(other.to_string())
            }
        }
    }

    fn internal_exception(
        &self,
        context: &str,
        error: RunError,
        helpers: &Helpers<'js>,
    ) -> RunError {
        if error.kind != RunErrorKind::Exception {
            return error;
        }
        let value = self.ctx.catch();
        let described = self.thrown_error(value, helpers, &Locator::default());
        match described.kind {
            RunErrorKind::Exception | RunErrorKind::Syntax => {
                internal(format!("{context}: {}", described.message))
            }
            _ => described,
        }
    }

    /// Classify a thrown value: limits first, then Error objects, then anything else thrown.
    fn thrown_error(
        &self,
        value: Value<'js>,
        helpers: &Helpers<'js>,
        locator: &Locator,
    ) -> RunError {
        if let Some(abort) = self.current_abort() {
            return self.limit_error(abort);
        }
        if let Some(exception) = value.as_exception() {
            let object = exception.as_object();
            let name =
                string_property(&self.ctx, object, "name").unwrap_or_else(|| "Error".to_string());
            let message = string_property(&self.ctx, object, "message").unwrap_or_default();
            let stack = string_property(&self.ctx, object, "stack").unwrap_or_default();
            if let Some(limit) = self.limit_from_error(&name, &message) {
                return limit;
            }
            let (trimmed, first) = forms::trim_stack(&stack, AGENT_FILE, locator);
            let mut error = RunError::new(RunErrorKind::Exception, format!("{name}: {message}"));
            if let Some((line, col)) = first {
                error = error.at(line, col);
            }
            error.stack = (!trimmed.is_empty()).then_some(trimmed);
            return error;
        }
        let description: String = helpers
            .describe
            .call((value,))
            .unwrap_or_else(|_| "a value that cannot be described".to_string());
        if let Some(abort) = self.current_abort() {
            return self.limit_error(abort);
        }
        RunError::new(
            RunErrorKind::Exception,
            format!("uncaught exception: {description} (not an Error object)"),
        )
    }

    fn limit_from_error(&self, name: &str, message: &str) -> Option<RunError> {
        match (name, message) {
            ("InternalError", "out of memory") => Some(self.limit_error(Abort::Memory)),
            ("InternalError", "interrupted") => Some(self.limit_error(Abort::Timeout)),
            ("RangeError" | "InternalError", m)
                if m.contains("call stack size exceeded") || m == "stack overflow" =>
            {
                Some(RunError::new(
                    RunErrorKind::StackOverflow,
                    format!(
                        "stack limit of {} bytes exceeded (maximum call stack size; too deep recursion?)",
                        self.config.max_stack_bytes
                    ),
                ))
            }
            _ => None,
        }
    }
}

fn count_host_call<'js>(ctx: &Ctx<'js>, state: &RunState, max: u32) -> rquickjs::Result<()> {
    let calls = state.host_calls.get();
    if calls >= max {
        state.abort.set(Some(Abort::HostCalls));
        return Err(Exception::throw_internal(
            ctx,
            &format!("host call limit of {max} calls exceeded"),
        ));
    }
    state.host_calls.set(calls + 1);
    Ok(())
}

fn host_error_json(error: &HostError) -> String {
    serde_json::json!({ "name": error.name, "message": error.message, "data": error.data })
        .to_string()
}

fn string_array<'js>(ctx: &Ctx<'js>, names: &[String]) -> Result<Array<'js>, RunError> {
    let array = Array::new(ctx.clone()).map_err(|e| internal(e.to_string()))?;
    for (index, name) in names.iter().enumerate() {
        array
            .set(index, name.as_str())
            .map_err(|e| internal(e.to_string()))?;
    }
    Ok(array)
}

/// A short description of a rejection reason without running any script code beyond property reads.
fn describe_plain<'js>(ctx: &Ctx<'js>, reason: &Value<'js>) -> String {
    if let Some(exception) = reason.as_exception() {
        let object = exception.as_object();
        let name = string_property(ctx, object, "name").unwrap_or_else(|| "Error".to_string());
        let message = string_property(ctx, object, "message").unwrap_or_default();
        return format!("{name}: {message}");
    }
    if let Some(s) = reason.as_string().and_then(|s| s.to_string().ok()) {
        return format!("{s:?}");
    }
    if let Some(n) = reason.as_number() {
        return n.to_string();
    }
    format!("a {} value", reason.type_name())
}

/// A property coerced to a string. It may run the script's own getters or `toString`; when those
/// throw, the pending exception is cleared so it cannot leak into later calls.
fn string_property<'js>(ctx: &Ctx<'js>, object: &Object<'js>, key: &str) -> Option<String> {
    match object.get::<_, Option<Coerced<String>>>(key) {
        Ok(value) => value.map(|coerced| coerced.0),
        Err(_) => {
            let _ = ctx.catch();
            None
        }
    }
}

fn caught_message(ctx: &Ctx<'_>, error: rquickjs::Error) -> String {
    match error {
        rquickjs::Error::Exception => describe_plain(ctx, &ctx.catch()),
        other => other.to_string(),
    }
}

fn internal(message: impl Into<String>) -> RunError {
    RunError::new(RunErrorKind::Internal, message)
}
