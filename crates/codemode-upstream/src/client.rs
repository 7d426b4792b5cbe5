//! The public handles: [`Client`] (one per upstream: spec, base URL, credentials, transport,
//! compiled validators) and [`Session`] (one per run: call budget, concurrency, deadline, call
//! records). Every method here is a thin door onto `prepare` (validation and serialization, no
//! network), `send` (the exchange above the transport seam) and `paginate`; this module owns
//! the budget and the call log, and is the only one that knows a session.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use bytes::Bytes;
use codemode_spec::Spec;
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tracing::Instrument;

use crate::config::{PageLimits, SessionLimits, UpstreamConfig};
use crate::error::{CallError, CallErrorKind, ConfigError};
use crate::forward::{ForwardedValues, RequestCredentials};
use crate::paginate::{self, Pages};
use crate::prepare;
use crate::request::{CallRecord, PreparedRequest, Preview, RawRequest};
use crate::response::{ApiResponse, ResponseHeaders};
use crate::send::{self, Received, Run};
use crate::upstream::Upstream;
use crate::validate;

/// The HTTP client for one upstream API. Cheap to clone; share one per upstream.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Upstream>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base.prefix)
            .field("transport", &self.inner.transport)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for the upstream `config` describes. Requests go through
    /// [`UpstreamConfig::transport`], or over the network with [`crate::ReqwestTransport`].
    pub fn new(spec: Arc<Spec>, config: UpstreamConfig) -> Result<Client, ConfigError> {
        Ok(Client {
            inner: Arc::new(Upstream::new(spec, config)?),
        })
    }

    /// Starts a run with its own call budget, concurrency limit and deadline, carrying no
    /// credentials of its own: with a required [`Credential::FromRequest`], each of its calls
    /// fails naming the missing header.
    ///
    /// [`Credential::FromRequest`]: crate::Credential::FromRequest
    pub fn session(&self, limits: SessionLimits) -> Session {
        self.session_with(limits, &RequestCredentials::default())
    }

    /// [`Client::session`] for a run on behalf of one request: its
    /// [`Credential::FromRequest`] values come from `credentials`, are checked now (length,
    /// control characters), and are added to this session's calls only and redacted from
    /// everything they return. A missing required header or a refused value is not an error
    /// here: every call of the session fails with it, and nothing is sent.
    ///
    /// [`Credential::FromRequest`]: crate::Credential::FromRequest
    pub fn session_with(&self, limits: SessionLimits, credentials: &RequestCredentials) -> Session {
        Session {
            inner: Arc::new(SessionInner {
                slots: Semaphore::new(limits.max_in_flight.max(1)),
                client: self.clone(),
                limits,
                calls: AtomicU32::new(0),
                records: Mutex::new(Vec::new()),
                forwarded: ForwardedValues::take(&self.inner.auth.forward, credentials),
            }),
        }
    }

    /// Whether calls need credentials from the request ([`Client::session_with`]).
    pub fn forwards_credentials(&self) -> bool {
        !self.inner.auth.forward.is_empty()
    }

    /// The request headers this client's [`Credential::FromRequest`] values come in, lower
    /// case: what a front end reads from each request.
    ///
    /// [`Credential::FromRequest`]: crate::Credential::FromRequest
    pub fn forwarded_headers(&self) -> impl Iterator<Item = &str> + '_ {
        self.inner.auth.forward.iter().map(|slot| slot.incoming())
    }

    /// The text with every configured secret (and OAuth2 token fetched so far) replaced by
    /// `[redacted]`. Apply it to anything shown that did not come from this crate's results.
    pub fn redact(&self, text: &str) -> String {
        self.inner.redactor.redact(text)
    }

    /// Redacts every string in a JSON value.
    pub fn redact_value(&self, value: &mut Value) {
        self.inner.redactor.redact_value(value);
    }

    /// The spec this client calls operations of.
    pub fn spec(&self) -> &Arc<Spec> {
        &self.inner.spec
    }

    /// The base URL requests go to (without a trailing slash).
    pub fn base_url(&self) -> &str {
        &self.inner.base.prefix
    }

    /// Compiles every operation's validator now instead of on first call (e.g. at startup, on a
    /// blocking thread). Reports the operations whose schemas could not be compiled; those
    /// are still callable, with argument names and required-ness checked but not values.
    pub fn precompile(&self) -> PrecompileReport {
        let started = Instant::now();
        let without_validation = self
            .inner
            .spec
            .operation_ids()
            .filter_map(|id| self.inner.operation(id))
            .filter(|(_, plan)| !plan.arguments.has_validator())
            .map(|(op, _)| op.name.clone())
            .collect();
        PrecompileReport {
            operations: self.inner.spec.operations.len(),
            without_validation,
            elapsed: started.elapsed(),
        }
    }
}

/// What [`Client::precompile`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrecompileReport {
    /// Operations in the spec, all of which were compiled.
    pub operations: usize,
    /// Operations validated by name and presence only (their schemas did not compile).
    pub without_validation: Vec<String>,
    /// Wall-clock time compiling took.
    pub elapsed: std::time::Duration,
}

/// One run's view of a [`Client`]: counts calls, bounds concurrency, keeps the deadline, and
/// records every call. Cheap to clone; clones share the budget.
#[derive(Clone)]
pub struct Session {
    inner: Arc<SessionInner>,
}

struct SessionInner {
    client: Client,
    limits: SessionLimits,
    slots: Semaphore,
    calls: AtomicU32,
    records: Mutex<Vec<CallRecord>>,
    /// Credentials this run's request carried (none for most upstreams).
    forwarded: ForwardedValues,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("limits", &self.inner.limits)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// When the run must be over now: [`SessionLimits::deadline`] moved by its extension.
    pub fn deadline(&self) -> Option<Instant> {
        self.inner.limits.current_deadline()
    }

    /// The upstream this run calls.
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The limits this run was started with.
    pub fn limits(&self) -> &SessionLimits {
        &self.inner.limits
    }

    fn upstream(&self) -> &Upstream {
        &self.inner.client.inner
    }

    /// The text with every secret this run may know replaced by `[redacted]`: the client's
    /// ([`Client::redact`]) and the credentials this run's request carried.
    pub fn redact(&self, text: &str) -> String {
        let text = self.upstream().redactor.redact(text);
        self.inner.forwarded.redactor.redact(&text)
    }

    /// [`Session::redact`] for every string in a JSON value.
    pub fn redact_value(&self, value: &mut Value) {
        self.upstream().redactor.redact_value(value);
        self.inner.forwarded.redactor.redact_value(value);
    }

    fn redact_error(&self, error: CallError) -> CallError {
        let mut error = self.upstream().redact_error(error);
        let forwarded = &self.inner.forwarded.redactor;
        if !forwarded.is_empty() {
            error.message = forwarded.redact(&error.message);
            forwarded.redact_value(&mut error.data);
        }
        error
    }

    /// Validates `args` for an operation and serializes the request. No network.
    pub fn prepare(&self, operation: &str, args: &Value) -> Result<PreparedRequest, CallError> {
        self.prepare_named(operation, args, Preview::Build, None)
    }

    /// [`Session::prepare`] for a request nobody reviews before it goes out: without the
    /// display copy of the body (`body_preview` is `None`).
    pub fn prepare_unreviewed(
        &self,
        operation: &str,
        args: &Value,
    ) -> Result<PreparedRequest, CallError> {
        self.prepare_named(operation, args, Preview::Skip, None)
    }

    /// [`Session::prepare`] with the request body sent as `content_type`, which must be one of
    /// the media types the operation offers (compared without parameters, ignoring case).
    /// Arguments are validated as for the default media type; for a PATCH offered as JSON Patch
    /// and an object patch type that is the shape-dependent schema, so an array fits JSON Patch.
    pub fn prepare_as(
        &self,
        operation: &str,
        args: &Value,
        content_type: &str,
    ) -> Result<PreparedRequest, CallError> {
        self.prepare_named(operation, args, Preview::Build, Some(content_type))
    }

    fn prepare_named(
        &self,
        operation: &str,
        args: &Value,
        preview: Preview,
        content_type: Option<&str>,
    ) -> Result<PreparedRequest, CallError> {
        let upstream = self.upstream();
        let spec = &upstream.spec;
        let id = spec
            .find_id(operation)
            .ok_or_else(|| validate::unknown_operation(spec, operation))
            .map_err(|e| self.redact_error(e))?;
        prepare::prepare_operation(upstream, id, args, preview, content_type)
            .map_err(|e| self.redact_error(e))
    }

    /// Validates and serializes an `api.request` call. No network.
    pub fn prepare_raw(&self, request: &RawRequest) -> Result<PreparedRequest, CallError> {
        let upstream = self.upstream();
        prepare::prepare_raw(upstream, request).map_err(|e| self.redact_error(e))
    }

    /// Every call made so far, in order.
    pub fn records(&self) -> Vec<CallRecord> {
        self.inner
            .records
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// Calls made so far (including ones that failed).
    pub fn call_count(&self) -> u32 {
        self.inner.calls.load(Ordering::SeqCst)
    }

    /// Validates, sends, and returns the parsed body; a non-2xx status becomes an `Api` error.
    pub async fn call(&self, operation: &str, args: &Value) -> Result<Value, CallError> {
        // Nobody sees this request, so its body preview is not built.
        let prepared = self.prepare_named(operation, args, Preview::Skip, None)?;
        self.send_expecting_success(prepared).await
    }

    /// Like [`Session::call`] for an `api.request` escape-hatch call.
    pub async fn call_raw(&self, request: &RawRequest) -> Result<Value, CallError> {
        let prepared = self.prepare_raw(request)?;
        self.send_expecting_success(prepared).await
    }

    async fn send_expecting_success(&self, prepared: PreparedRequest) -> Result<Value, CallError> {
        let operation = prepared.operation.clone();
        let method = prepared.method;
        let path_template = prepared.path_template.clone();
        let response = self.send_keeping(prepared, ResponseHeaders::Skip).await?;
        if response.is_success() {
            Ok(response.body)
        } else {
            let error = response.error_for(operation.as_deref(), method, &path_template);
            Err(self.redact_error(error))
        }
    }

    /// Calls an operation page after page and returns the concatenated items (the response
    /// array, or its `data`/`items`/`result`/… array). Stops at `max_items`, `max_pages`
    /// (default 10), an empty page, when the API says there is no more, or when a page or a
    /// request repeats; [`Pages::cut`] says when the API had more than was returned. Each page
    /// is one call of the run's budget.
    pub async fn paginate(
        &self,
        operation: &str,
        args: &Value,
        limits: PageLimits,
    ) -> Result<Pages, CallError> {
        paginate::paginate(self.upstream(), operation, args, limits, |request| {
            self.send(request)
        })
        .await
    }

    /// Sends a prepared request. A non-2xx status is `Ok` with that status (see
    /// [`ApiResponse::to_error`]); errors are for requests that got no usable response.
    pub async fn send(&self, request: PreparedRequest) -> Result<ApiResponse, CallError> {
        self.send_keeping(request, ResponseHeaders::Keep).await
    }

    /// [`Session::send`]; with [`ResponseHeaders::Skip`] the shown headers are not collected
    /// (for callers that hand back only the body). Counts the call against the run's budget
    /// (refused once it is spent) and records it.
    pub async fn send_keeping(
        &self,
        mut request: PreparedRequest,
        headers: ResponseHeaders,
    ) -> Result<ApiResponse, CallError> {
        self.inner.forwarded.check()?;
        self.count_call()?;
        let upstream = self.upstream();
        let started = Instant::now();
        let sent_at = SystemTime::now();
        // Shared, not copied, by every attempt and redirect.
        let body = request.body.take().map(Bytes::from);
        let run = Run {
            limits: &self.inner.limits,
            slots: &self.inner.slots,
            forwarded: &self.inner.forwarded,
        };
        let span = tracing::info_span!(
            "upstream_call",
            method = request.method.as_str(),
            path = request.path_template.as_str(),
            status = tracing::field::Empty,
        );
        // Boxed so the call's future stays small: futures are moved by value on every layer,
        // and the limits, timeout and exchange state together are a couple of kilobytes.
        let outcome = Box::pin(send::send(upstream, run, &request, body, headers))
            .instrument(span.clone())
            .await;
        if let Ok(received) = &outcome {
            span.record("status", received.response.status);
        }
        self.record(request, &outcome, started, sent_at);
        outcome
            .map(|received| received.response)
            .map_err(|e| self.redact_error(e))
    }

    /// Takes one call from the run's budget, or refuses when it is spent.
    fn count_call(&self) -> Result<(), CallError> {
        let max_calls = self.inner.limits.max_calls;
        let previous = self.inner.calls.fetch_add(1, Ordering::SeqCst);
        if previous < max_calls {
            return Ok(());
        }
        self.inner.calls.fetch_sub(1, Ordering::SeqCst);
        Err(CallError::new(
            CallErrorKind::CallLimit,
            format!(
                "call limit reached: this run may make {max_calls} calls; \
                 batch work into fewer calls or paginate with maxItems"
            ),
        )
        .with_data(json!({ "maxCalls": max_calls })))
    }

    /// Adds the call to the run's log. The request is spent: its names move into the record
    /// rather than being copied.
    fn record(
        &self,
        mut request: PreparedRequest,
        outcome: &Result<Received, CallError>,
        started: Instant,
        sent_at: SystemTime,
    ) {
        let upstream = self.upstream();
        let (status, bytes, items) = match outcome {
            Ok(received) => (
                Some(received.response.status),
                received.bytes,
                received
                    .response
                    .is_success()
                    .then(|| paginate::list_items(&received.response.body).map(Vec::len))
                    .flatten(),
            ),
            Err(_) => (None, 0, None),
        };
        let resolved_path = self.redact(sent_path(&request.url, &upstream.base.prefix));
        let record = CallRecord {
            operation: request.operation.take(),
            method: request.method.as_str().to_string(),
            path: std::mem::take(&mut request.path_template),
            resolved_path,
            status,
            ms: started.elapsed().as_millis() as u64,
            bytes,
            items,
            sent_at,
        };
        if let Ok(mut records) = self.inner.records.lock() {
            records.push(record);
        }
    }
}

/// The path of a request URL below the base URL (`prefix`), without the query: what the call
/// log shows. A URL outside the prefix (a followed link) shows its whole path.
fn sent_path<'u>(url: &'u str, prefix: &str) -> &'u str {
    let below = url
        .strip_prefix(prefix)
        .filter(|rest| rest.is_empty() || rest.starts_with(['/', '?', '#']))
        .unwrap_or_else(|| {
            let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
            after_scheme.find('/').map_or("/", |i| &after_scheme[i..])
        });
    let path = below.split(['?', '#']).next().unwrap_or(below);
    if path.is_empty() { "/" } else { path }
}
