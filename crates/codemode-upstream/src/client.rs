//! [`Client`] (one per upstream: spec, base URL, credentials, HTTP pool, compiled validators)
//! and [`Session`] (one per run: call budget, concurrency, deadline, call records), with
//! `prepare` — validation and serialization, no network.

use std::borrow::Cow;
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use codemode_spec::{
    BodyKind, MediaType, Method, Operation, Parameter, ParameterLocation, ParameterStyle, Spec,
};
use serde_json::{Map, Value, json};
use tokio::sync::Semaphore;

use crate::auth::Auth;
use crate::body::{self, BodyError};
use crate::egress::{self, Base};
use crate::secret::Redactor;
use crate::serialize::{self, PathValueError};
use crate::validate::{self, OperationPlan};
use crate::{CallError, CallErrorKind, ConfigError, SessionLimits, UpstreamConfig};

/// The HTTP client for one upstream API. Cheap to clone; share one per upstream.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<ClientInner>,
}

pub(crate) struct ClientInner {
    pub(crate) spec: Arc<Spec>,
    pub(crate) config: UpstreamConfig,
    pub(crate) base: Base,
    pub(crate) http: reqwest::Client,
    pub(crate) redactor: Redactor,
    pub(crate) auth: Auth,
    pub(crate) upstream_slots: Arc<Semaphore>,
    /// The `User-Agent` header value, parsed once (`None` if the configured text is invalid).
    pub(crate) user_agent: Option<reqwest::header::HeaderValue>,
    /// One slot per `spec.operations` entry (same index), filled on first use: a slow compile
    /// only ever holds up callers of that same operation.
    plans: Vec<OnceLock<CallPlan>>,
}

/// A borrowed cached plan (no reference counting on the hot path), or a one-off.
pub(crate) enum PlanRef<'a> {
    Cached(&'a CallPlan),
    Built(Box<CallPlan>),
}

impl std::ops::Deref for PlanRef<'_> {
    type Target = CallPlan;

    fn deref(&self) -> &CallPlan {
        match self {
            PlanRef::Cached(plan) => plan,
            PlanRef::Built(plan) => plan,
        }
    }
}

/// What `prepare` needs for one operation, computed once: the validation plan, the default
/// `Accept` header and the path template split at its parameters.
pub(crate) struct CallPlan {
    pub(crate) arguments: OperationPlan,
    accept: String,
    path: Vec<PathPiece>,
}

/// A piece of a path template.
enum PathPiece {
    /// Text between parameters, already encoded.
    Literal(String),
    /// A declared path parameter, by index in `Operation::parameters`.
    Parameter(usize),
    /// `{name}` with no path parameter of that name: a spec defect reported when called.
    Undeclared(String),
}

impl CallPlan {
    fn build(spec: &Spec, op: &Operation) -> CallPlan {
        CallPlan {
            arguments: OperationPlan::build(spec, op),
            accept: default_accept(op),
            path: split_path_template(op),
        }
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base.prefix)
            .finish_non_exhaustive()
    }
}

impl Client {
    pub fn new(spec: Arc<Spec>, config: UpstreamConfig) -> Result<Client, ConfigError> {
        let base = Base::parse(&config.base_url)?;
        let redactor = Redactor::default();
        let auth = Auth::resolve(
            &spec,
            &config.credentials,
            &config.static_headers,
            &redactor,
        )?;
        // Redirects are followed by hand (same origin only); proxies from the environment are
        // ignored so the configured origin is exactly what is contacted.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(config.call_timeout.min(std::time::Duration::from_secs(10)))
            .build()
            .map_err(|e| ConfigError::HttpClient(e.to_string()))?;
        let upstream_slots = Arc::new(Semaphore::new(config.max_in_flight_per_upstream.max(1)));
        let user_agent = reqwest::header::HeaderValue::from_str(&config.user_agent).ok();
        let plans = (0..spec.operations.len())
            .map(|_| OnceLock::new())
            .collect();
        Ok(Client {
            inner: Arc::new(ClientInner {
                spec,
                config,
                base,
                http,
                redactor,
                auth,
                upstream_slots,
                user_agent,
                plans,
            }),
        })
    }

    /// Starts a run with its own call budget, concurrency limit and deadline.
    pub fn session(&self, limits: SessionLimits) -> Session {
        Session {
            inner: Arc::new(SessionInner {
                slots: Arc::new(Semaphore::new(limits.max_in_flight.max(1))),
                client: self.clone(),
                limits,
                calls: AtomicU32::new(0),
                records: Mutex::new(Vec::new()),
            }),
        }
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
        let mut without_validation = Vec::new();
        for op in &self.inner.spec.operations {
            if !self.plan(op).arguments.has_validator() {
                without_validation.push(op.name.clone());
            }
        }
        PrecompileReport {
            operations: self.inner.spec.operations.len(),
            without_validation,
            elapsed: started.elapsed(),
        }
    }

    /// The validation and serialization plan of an operation, compiled once.
    pub(crate) fn plan(&self, op: &Operation) -> PlanRef<'_> {
        let spec = &self.inner.spec;
        match operation_index(spec, op).and_then(|i| self.inner.plans.get(i)) {
            Some(slot) => PlanRef::Cached(slot.get_or_init(|| CallPlan::build(spec, op))),
            // Not one of this spec's operations (cannot happen through the public API).
            None => PlanRef::Built(Box::new(CallPlan::build(spec, op))),
        }
    }

    pub(crate) fn redact_error(&self, mut error: CallError) -> CallError {
        if self.inner.redactor.is_empty() {
            return error;
        }
        error.message = self.inner.redactor.redact(&error.message);
        self.inner.redactor.redact_value(&mut error.data);
        error
    }
}

/// What [`Client::precompile`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrecompileReport {
    pub operations: usize,
    /// Operations validated by name and presence only (their schemas did not compile).
    pub without_validation: Vec<String>,
    pub elapsed: std::time::Duration,
}

/// One run's view of a [`Client`]: counts calls, bounds concurrency, keeps the deadline, and
/// records every call. Cheap to clone; clones share the budget.
#[derive(Clone)]
pub struct Session {
    pub(crate) inner: Arc<SessionInner>,
}

pub(crate) struct SessionInner {
    pub(crate) client: Client,
    pub(crate) limits: SessionLimits,
    pub(crate) slots: Arc<Semaphore>,
    pub(crate) calls: AtomicU32,
    pub(crate) records: Mutex<Vec<CallRecord>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("limits", &self.inner.limits)
            .finish_non_exhaustive()
    }
}

/// A request for the `api.request` escape hatch: any method and path under the base URL.
#[derive(Debug, Clone, Default)]
pub struct RawRequest {
    pub method: String,
    /// Relative to the base URL, starting with `/`; may carry a `?query`.
    pub path: String,
    /// Query parameters as an object (arrays repeat the key, objects use brackets).
    pub query: Option<Value>,
    /// Extra headers as an object of strings.
    pub headers: Option<Value>,
    pub body: Option<Value>,
    /// How to encode `body`; default JSON (text for a string body).
    pub content_type: Option<String>,
}

/// A validated, serialized request: everything that will be sent except credentials.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedRequest {
    /// The operation's name, when the request is for a spec operation.
    pub operation: Option<String>,
    pub method: Method,
    /// The path template (`/repos/{owner}/{repo}`), or the raw path for unmatched raw requests.
    pub path_template: String,
    /// The full URL with its query; credentials are added only when sending.
    pub url: String,
    /// The encoded query string (without `?`), if any.
    pub query: Option<String>,
    /// Headers to send (lowercase names), without credentials.
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    pub content_type: Option<String>,
    /// The body as a value for display (JSON/form value; file parts described), redacted.
    pub body_preview: Option<Value>,
}

/// Whether a prepared request gets its `body_preview` (skipped when the request is sent
/// straight away and never shown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Preview {
    Build,
    Skip,
}

/// One call made by a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    pub operation: Option<String>,
    pub method: String,
    /// The path template.
    pub path: String,
    /// The path as sent, parameter values in place (below the base URL, without the query),
    /// every secret redacted.
    pub resolved_path: String,
    /// `None` when no response came (timeout, network error, refused redirect).
    pub status: Option<u16>,
    pub ms: u64,
    /// Response body bytes received.
    pub bytes: u64,
    /// For a 2xx response carrying a list (see [`crate::list_items`]), its length.
    pub items: Option<usize>,
    /// Wall-clock time the call was sent (the audit log's `time`).
    pub sent_at: std::time::SystemTime,
}

impl Session {
    /// When the run must be over now: [`SessionLimits::deadline`] moved by its extension.
    pub fn deadline(&self) -> Option<Instant> {
        let limits = &self.inner.limits;
        let extension = limits
            .deadline_extension
            .as_ref()
            .map_or(Duration::ZERO, |extension| (extension.0)());
        limits
            .deadline
            .map(|deadline| deadline.checked_add(extension).unwrap_or(deadline))
    }

    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    pub fn limits(&self) -> &SessionLimits {
        &self.inner.limits
    }

    /// Validates `args` for an operation and serializes the request. No network.
    pub fn prepare(&self, operation: &str, args: &Value) -> Result<PreparedRequest, CallError> {
        self.prepare_named(operation, args, Preview::Build)
    }

    /// [`Session::prepare`] for a request nobody reviews before it goes out: without the
    /// display copy of the body (`body_preview` is `None`).
    pub fn prepare_unreviewed(
        &self,
        operation: &str,
        args: &Value,
    ) -> Result<PreparedRequest, CallError> {
        self.prepare_named(operation, args, Preview::Skip)
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
        let op = self.operation_named(operation)?;
        self.prepare_operation_as(op, args, Preview::Build, Some(content_type))
            .map_err(|e| self.inner.client.redact_error(e))
    }

    fn prepare_named(
        &self,
        operation: &str,
        args: &Value,
        preview: Preview,
    ) -> Result<PreparedRequest, CallError> {
        let op = self.operation_named(operation)?;
        self.prepare_operation_with(op, args, preview)
            .map_err(|e| self.inner.client.redact_error(e))
    }

    /// The spec's operation of this name, or an error suggesting the closest names.
    fn operation_named(&self, operation: &str) -> Result<&Operation, CallError> {
        let client = &self.inner.client;
        let spec = &client.inner.spec;
        spec.find(operation)
            .ok_or_else(|| validate::unknown_operation(spec, operation))
            .map_err(|e| client.redact_error(e))
    }

    pub(crate) fn prepare_operation(
        &self,
        op: &Operation,
        args: &Value,
    ) -> Result<PreparedRequest, CallError> {
        self.prepare_operation_with(op, args, Preview::Build)
    }

    fn prepare_operation_with(
        &self,
        op: &Operation,
        args: &Value,
        preview: Preview,
    ) -> Result<PreparedRequest, CallError> {
        self.prepare_operation_as(op, args, preview, None)
    }

    fn prepare_operation_as(
        &self,
        op: &Operation,
        args: &Value,
        preview: Preview,
        content_type: Option<&str>,
    ) -> Result<PreparedRequest, CallError> {
        let client = &self.inner.client;
        let spec = &client.inner.spec;
        let plan = client.plan(op);
        let args = validate::check_arguments(spec, op, &plan.arguments, args)?;
        let path = expand_path(op, &plan, &args)?;
        let mut query_pieces = Vec::new();
        let mut headers: Vec<(String, String)> = vec![("accept".to_string(), plan.accept.clone())];
        let mut cookies = Vec::new();
        for (index, param) in op.parameters.iter().enumerate() {
            let Some(value) = plan
                .arguments
                .parameter_key(index)
                .and_then(|k| args.get(k))
            else {
                continue;
            };
            let (style, explode, value) = wire_form(param, value);
            match param.location {
                ParameterLocation::Path => {}
                ParameterLocation::Query => serialize::query_pieces(
                    &param.name,
                    style,
                    explode,
                    param.allow_reserved,
                    &value,
                    &mut query_pieces,
                ),
                ParameterLocation::Header => {
                    add_header_parameter(op, &param.name, explode, &value, &mut headers)?
                }
                ParameterLocation::Cookie => {
                    serialize::cookie_pieces(&param.name, explode, &value, &mut cookies)
                }
            }
        }
        if !cookies.is_empty() {
            headers.push(("cookie".to_string(), cookies.join("; ")));
        }
        let encoded = match (
            &plan.arguments.body_media,
            args.get(codemode_spec::BODY_ARGUMENT),
        ) {
            (Some(media), Some(value)) => {
                let chosen = match content_type {
                    Some(wanted) => offered_media(op, wanted)?,
                    None => Cow::Borrowed(media.for_value(value)),
                };
                Some((
                    body::encode_body(Some(spec), &chosen, value)
                        .map_err(|e| body_error(&op.name, e))?,
                    value,
                ))
            }
            _ => None,
        };
        let query = (!query_pieces.is_empty()).then(|| query_pieces.join("&"));
        Ok(self.assemble(
            Some(op),
            op.method,
            op.path.clone(),
            &path,
            query,
            headers,
            encoded,
            preview,
        ))
    }

    /// Validates and serializes an `api.request` call. No network.
    pub fn prepare_raw(&self, request: &RawRequest) -> Result<PreparedRequest, CallError> {
        let client = &self.inner.client;
        self.prepare_raw_inner(request)
            .map_err(|e| client.redact_error(e))
    }

    fn prepare_raw_inner(&self, request: &RawRequest) -> Result<PreparedRequest, CallError> {
        let method = Method::parse(request.method.trim()).ok_or_else(|| {
            CallError::validation(
                format!(
                    "request: unknown method {:?}; use GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS",
                    request.method
                ),
                "/method",
                "an http method",
                json!(request.method),
            )
        })?;
        let (path, inline_query) = egress::check_raw_path(&request.path)?;
        let mut query_pieces: Vec<String> = inline_query.into_iter().collect();
        match &request.query {
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) => {
                for (key, value) in map {
                    if value.is_null() {
                        continue;
                    }
                    let style = if value.is_object() {
                        codemode_spec::ParameterStyle::DeepObject
                    } else {
                        codemode_spec::ParameterStyle::Form
                    };
                    serialize::query_pieces(key, style, true, false, value, &mut query_pieces);
                }
            }
            Some(other) => {
                return Err(CallError::validation(
                    format!(
                        "request: query must be an object, got {}",
                        validate::json_type_name(other)
                    ),
                    "/query",
                    "object",
                    other.clone(),
                ));
            }
        }
        let mut headers: Vec<(String, String)> =
            vec![("accept".to_string(), "application/json".to_string())];
        match &request.headers {
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) => {
                for (name, value) in map {
                    add_raw_header(name, value, &mut headers)?;
                }
            }
            Some(other) => {
                return Err(CallError::validation(
                    format!(
                        "request: headers must be an object, got {}",
                        validate::json_type_name(other)
                    ),
                    "/headers",
                    "object",
                    other.clone(),
                ));
            }
        }
        let encoded = match &request.body {
            None | Some(Value::Null) => None,
            Some(value) => Some((
                body::encode_raw(request.content_type.as_deref(), value)
                    .map_err(|e| body_error("request", e))?,
                value,
            )),
        };
        let spec = self.inner.client.inner.spec.clone();
        let matched = match_operation(&spec, method, &path);
        let template = matched
            .map(|op| op.path.clone())
            .unwrap_or_else(|| path.clone());
        let query = (!query_pieces.is_empty()).then(|| query_pieces.join("&"));
        Ok(self.assemble(
            matched,
            method,
            template,
            &path,
            query,
            headers,
            encoded,
            Preview::Build,
        ))
    }

    #[allow(clippy::too_many_arguments)]
    fn assemble(
        &self,
        op: Option<&Operation>,
        method: Method,
        path_template: String,
        path: &str,
        query: Option<String>,
        headers: Vec<(String, String)>,
        body: Option<(body::EncodedBody, &Value)>,
        preview: Preview,
    ) -> PreparedRequest {
        let client = &self.inner.client;
        let prefix = &client.inner.base.prefix;
        let query_len = query.as_ref().map_or(0, |q| q.len() + 1);
        let mut url = String::with_capacity(prefix.len() + path.len() + query_len);
        url.push_str(prefix);
        url.push_str(path);
        if let Some(query) = &query {
            url.push('?');
            url.push_str(query);
        }
        let (body, content_type, body_preview) = match body {
            Some((encoded, value)) => {
                let shown = match preview {
                    Preview::Build => {
                        let redactor = &client.inner.redactor;
                        let shown = match encoded.preview {
                            Some(mut preview) => {
                                redactor.redact_value(&mut preview);
                                preview
                            }
                            None => {
                                // The preview is the value whose JSON text is `bytes`: with no
                                // escapes there, its strings are verbatim slices of it, so one
                                // scan of the bytes replaces a walk over every string.
                                let mut preview = value.clone();
                                let verbatim = !encoded.bytes.contains(&b'\\');
                                if !(verbatim && redactor.is_absent_from(&encoded.bytes)) {
                                    redactor.redact_value(&mut preview);
                                }
                                preview
                            }
                        };
                        Some(shown)
                    }
                    Preview::Skip => None,
                };
                (Some(encoded.bytes), Some(encoded.content_type), shown)
            }
            None => (None, None, None),
        };
        PreparedRequest {
            operation: op.map(|o| o.name.clone()),
            method,
            path_template,
            url,
            query,
            headers,
            body,
            content_type,
            body_preview,
        }
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
        self.inner.calls.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Validates, sends, and returns the parsed body; a non-2xx status becomes an `Api` error.
    pub async fn call(&self, operation: &str, args: &Value) -> Result<Value, CallError> {
        // Nobody sees this request, so its body preview is not built.
        let prepared = self.prepare_named(operation, args, Preview::Skip)?;
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
        let response = self
            .send_keeping(prepared, crate::transport::ResponseHeaders::Skip)
            .await?;
        if response.is_success() {
            Ok(response.body)
        } else {
            let error = response.error_for(operation.as_deref(), method, &path_template);
            Err(self.inner.client.redact_error(error))
        }
    }
}

/// The operation's request media type named `wanted` (without parameters, any case); a JSON
/// patch body goes as JSON text, `application/apply-patch+yaml` included (JSON is YAML).
fn offered_media<'o>(op: &'o Operation, wanted: &str) -> Result<Cow<'o, MediaType>, CallError> {
    let essence = |t: &str| {
        t.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    };
    let offered: Vec<&MediaType> = op
        .request_body
        .iter()
        .flat_map(|b| b.content.iter())
        .collect();
    let found = offered
        .iter()
        .find(|m| essence(&m.media_type) == essence(wanted));
    match found {
        Some(media) if essence(wanted) == "application/apply-patch+yaml" => {
            Ok(Cow::Owned(MediaType {
                kind: BodyKind::Json,
                ..(*media).clone()
            }))
        }
        Some(media) => Ok(Cow::Borrowed(*media)),
        None => {
            let names: Vec<&str> = offered.iter().map(|m| m.media_type.as_str()).collect();
            Err(CallError::validation(
                format!(
                    "{}: content type {wanted:?} is not offered; the operation takes {}",
                    op.name,
                    if names.is_empty() {
                        "no request body".to_string()
                    } else {
                        validate::quote_list(&names)
                    }
                ),
                "/contentType",
                &names.join(", "),
                json!(wanted),
            ))
        }
    }
}

fn body_error(operation: &str, error: BodyError) -> CallError {
    CallError::validation(
        format!("{operation}: {}", error.message),
        &error.pointer,
        &error.expected,
        Value::Null,
    )
}

/// The `Accept` header from the success response's preferred media type.
fn default_accept(op: &Operation) -> String {
    match op.success.as_ref().and_then(|r| r.preferred()) {
        Some(media) if !media.media_type.contains('*') => match media.kind {
            BodyKind::Json => media.media_type.clone(),
            _ => format!("{}, */*;q=0.5", media.media_type),
        },
        _ => "application/json, */*;q=0.5".to_string(),
    }
}

/// Header parameters; `Authorization` and `Content-Type` are ignored as OpenAPI says (the host
/// owns them), `Accept` replaces the default.
fn add_header_parameter(
    op: &Operation,
    name: &str,
    explode: bool,
    value: &Value,
    headers: &mut Vec<(String, String)>,
) -> Result<(), CallError> {
    let lower = name.to_ascii_lowercase();
    if lower == "authorization" || lower == "content-type" {
        return Ok(());
    }
    let text = serialize::header_value(explode, value).ok_or_else(|| {
        CallError::validation(
            format!(
                "{}: {name}: header values cannot contain line breaks",
                op.name
            ),
            &format!("/{}", codemode_spec::escape_pointer_token(name)),
            "text without line breaks",
            value.clone(),
        )
    })?;
    headers.retain(|(n, _)| *n != lower);
    headers.push((lower, text));
    Ok(())
}

/// Headers a script may not set: framing and routing belong to the HTTP client.
fn is_forbidden_header(lower: &str) -> bool {
    matches!(
        lower,
        "host"
            | "content-length"
            | "transfer-encoding"
            | "connection"
            | "upgrade"
            | "te"
            | "trailer"
            | "keep-alive"
            | "expect"
    ) || lower.starts_with("proxy-")
}

fn add_raw_header(
    name: &str,
    value: &Value,
    headers: &mut Vec<(String, String)>,
) -> Result<(), CallError> {
    let lower = name.to_ascii_lowercase();
    let pointer = format!("/headers/{}", codemode_spec::escape_pointer_token(name));
    if is_forbidden_header(&lower)
        || reqwest::header::HeaderName::from_bytes(lower.as_bytes()).is_err()
    {
        return Err(CallError::validation(
            format!("request: header {name:?} cannot be set by a script"),
            &pointer,
            "another header name",
            json!(name),
        ));
    }
    if value.is_null() {
        return Ok(());
    }
    let text = serialize::header_value(false, value).ok_or_else(|| {
        CallError::validation(
            format!("request: header {name:?}: values cannot contain line breaks"),
            &pointer,
            "text without line breaks",
            value.clone(),
        )
    })?;
    headers.retain(|(n, _)| *n != lower);
    headers.push((lower, text));
    Ok(())
}

/// Splits the operation's path template at its `{parameters}`, encoding the text between.
fn split_path_template(op: &Operation) -> Vec<PathPiece> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    if !op.path.starts_with('/') {
        literal.push('/');
    }
    let mut rest = op.path.as_str();
    while let Some(open) = rest.find('{') {
        literal.push_str(&encode_template_literal(&rest[..open]));
        let Some(close) = rest[open..].find('}') else {
            literal.push_str(&encode_template_literal(&rest[open..]));
            rest = "";
            break;
        };
        let name = &rest[open + 1..open + close];
        if !literal.is_empty() {
            pieces.push(PathPiece::Literal(std::mem::take(&mut literal)));
        }
        let declared = op
            .parameters
            .iter()
            .position(|p| p.location == ParameterLocation::Path && p.name == name);
        pieces.push(match declared {
            Some(index) => PathPiece::Parameter(index),
            None => PathPiece::Undeclared(name.to_string()),
        });
        rest = &rest[open + close + 1..];
    }
    literal.push_str(&encode_template_literal(rest));
    if !literal.is_empty() {
        pieces.push(PathPiece::Literal(literal));
    }
    pieces
}

/// Expands the operation's path template with its path parameters (encoded, checked).
fn expand_path(
    op: &Operation,
    plan: &CallPlan,
    args: &Map<String, Value>,
) -> Result<String, CallError> {
    let mut out = String::with_capacity(op.path.len() + 16);
    for piece in &plan.path {
        match piece {
            PathPiece::Literal(text) => out.push_str(text),
            PathPiece::Parameter(index) => {
                out.push_str(&path_parameter(op, &plan.arguments, args, *index)?)
            }
            PathPiece::Undeclared(name) => {
                return Err(CallError::new(
                    CallErrorKind::Validation,
                    format!(
                        "{}: the spec's path {} uses {{{name}}} but declares no such path parameter",
                        op.name, op.path
                    ),
                ));
            }
        }
    }
    Ok(out)
}

/// How a parameter goes on the wire: by its style, except that one described by `content` (a media
/// type instead of a schema) is sent as that media type's text in the location's default style: a
/// JSON value as its JSON text, anything else as its text.
fn wire_form<'v>(param: &Parameter, value: &'v Value) -> (ParameterStyle, bool, Cow<'v, Value>) {
    let Some(media) = &param.content_type else {
        return (param.style, param.explode, Cow::Borrowed(value));
    };
    let text = match value {
        Value::String(text) if BodyKind::classify(media) != BodyKind::Json => text.clone(),
        other => other.to_string(),
    };
    let style = ParameterStyle::default_for(param.location);
    (style, false, Cow::Owned(Value::String(text)))
}

fn path_parameter(
    op: &Operation,
    plan: &OperationPlan,
    args: &Map<String, Value>,
    index: usize,
) -> Result<String, CallError> {
    let Some(param) = op.parameters.get(index) else {
        return Err(CallError::new(
            CallErrorKind::Validation,
            format!("{}: path parameter #{index} is not declared", op.name),
        ));
    };
    let name = param.name.as_str();
    let key = plan.parameter_key(index).unwrap_or(name);
    let Some(value) = args.get(key) else {
        return Err(CallError::validation(
            format!("{}: missing required parameter {key:?} (path)", op.name),
            &format!("/{key}"),
            "a value",
            Value::Null,
        ));
    };
    let (style, explode, wire_value) = wire_form(param, value);
    serialize::path_value(name, style, explode, &wire_value).map_err(|e| {
        let why = match e {
            PathValueError::Traversal => "cannot contain . or .. segments",
            PathValueError::Empty => "cannot be empty",
        };
        CallError::validation(
            format!(
                "{}: path parameter {key:?} {why}, got {}",
                op.name,
                compact(value)
            ),
            &format!("/{}", codemode_spec::escape_pointer_token(key)),
            "a path segment value",
            value.clone(),
        )
    })
}

fn compact(value: &Value) -> String {
    validate::truncate(&serde_json::to_string(value).unwrap_or_default(), 80)
}

/// Template text between parameters, from the (untrusted) spec: keep `/`, encode the rest that
/// cannot appear literally.
fn encode_template_literal(text: &str) -> String {
    const LITERAL: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'<')
        .add(b'>')
        .add(b'`')
        .add(b'?')
        .add(b'#')
        .add(b'\\')
        .add(b'^')
        .add(b'|');
    percent_encoding::utf8_percent_encode(text, LITERAL).to_string()
}

/// The spec operation whose template matches a raw path, if any (same method).
fn match_operation<'s>(spec: &'s Spec, method: Method, path: &str) -> Option<&'s Operation> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    spec.operations.iter().find(|op| {
        if op.method != method {
            return false;
        }
        let template: Vec<&str> = op.path.trim_end_matches('/').split('/').collect();
        template.len() == segments.len()
            && template.iter().zip(&segments).all(|(t, s)| {
                if t.starts_with('{') && t.ends_with('}') {
                    !s.is_empty()
                } else {
                    t == s
                }
            })
    })
}

/// The position of `op` in `spec.operations`, when it is one of them (found by address, which
/// is what `Spec::find` hands out; no lookup by name).
fn operation_index(spec: &Spec, op: &Operation) -> Option<usize> {
    let size = std::mem::size_of::<Operation>();
    let start = spec.operations.as_ptr() as usize;
    let offset = (op as *const Operation as usize).checked_sub(start)?;
    let index = offset / size.max(1);
    (offset % size.max(1) == 0 && index < spec.operations.len()).then_some(index)
}
