//! Sending a [`PreparedRequest`] through the [`Transport`](crate::Transport) seam, with everything a transport
//! must not be able to skip done here, above it: the concurrency slots and the run's deadline,
//! the origin check, credentials added on the way out (same origin only), redirects followed by
//! hand within the origin, the body read up to the size limit, redaction of what comes back,
//! and retries with backoff and jitter on 429/503 and on transport errors of idempotent
//! methods. Must not know sessions or the call budget (the caller counts calls and records
//! them): it takes the run's limits and slots as plain values.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use bytes::Bytes;
use codemode_spec::Method;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use serde_json::json;
use tokio::sync::{Semaphore, SemaphorePermit};
use url::Url;

use crate::config::SessionLimits;
use crate::egress::display_without_query;
use crate::error::{CallError, CallErrorKind};
use crate::forward::ForwardedValues;
use crate::request::PreparedRequest;
use crate::response::{self, ApiResponse, ResponseHeaders};
use crate::secret::Secret;
use crate::transport::{self, ResponseBody, TransportError, TransportErrorKind};
use crate::upstream::Upstream;

/// Redirect hops followed before giving up.
const MAX_REDIRECTS: u32 = 5;
/// First backoff step; doubles per retry, with ±50 % jitter.
const BACKOFF_BASE: Duration = Duration::from_millis(200);

/// The run a call belongs to: its limits (for the deadline), its concurrency slots and the
/// credentials its request carried.
#[derive(Clone, Copy)]
pub(crate) struct Run<'a> {
    pub(crate) limits: &'a SessionLimits,
    pub(crate) slots: &'a Semaphore,
    pub(crate) forwarded: &'a ForwardedValues,
}

/// How one attempt ended when it did not produce a response.
enum AttemptError {
    /// The transport failed before a response: may be retried for idempotent methods.
    Network(String),
    /// Refused or failed in a way a retry cannot fix.
    Fatal(CallError),
}

/// A response with the number of body bytes read.
pub(crate) struct Received {
    pub(crate) response: ApiResponse,
    pub(crate) bytes: u64,
}

/// Sends one request (one call of the run's budget, already counted by the caller): waits for a
/// slot, then attempts, retries and follows redirects until a response or the deadline.
pub(crate) async fn send(
    upstream: &Upstream,
    run: Run<'_>,
    request: &PreparedRequest,
    body: Option<Bytes>,
    headers: ResponseHeaders,
) -> Result<Received, CallError> {
    let url = upstream.base.check(&request.url)?;
    let label = Label::of(request);
    let _run_slot = acquire(run.slots, run.limits.current_deadline(), &label).await?;
    let _upstream_slot = acquire(
        &upstream.upstream_slots,
        run.limits.current_deadline(),
        &label,
    )
    .await?;
    let mut retries = 0u32;
    let mut refreshed_token = false;
    loop {
        // Read again on every attempt: the deadline moves while the run waits on a person.
        let timeout = remaining(run.limits.current_deadline())
            .map(|left| left.min(upstream.config.call_timeout))
            .unwrap_or(upstream.config.call_timeout);
        if timeout.is_zero() {
            return Err(deadline_error(&label));
        }
        // The attempt (exchange, body reading) is boxed once rather than moved by value
        // through every layer of the call's future.
        let attempt = tokio::time::timeout(
            timeout,
            Box::pin(attempt(
                upstream,
                run.forwarded,
                request,
                &url,
                body.as_ref(),
                headers,
                timeout,
            )),
        )
        .await;
        let Ok(outcome) = attempt else {
            return Err(CallError::new(
                CallErrorKind::Timeout,
                format!("{label} timed out after {}", human_duration(timeout)),
            )
            .with_data(json!({ "timeoutMs": timeout.as_millis() as u64 })));
        };
        match outcome {
            Ok(received) => {
                let status = received.response.status;
                if status == 401
                    && !refreshed_token
                    && let Some(oauth) = &upstream.auth.oauth
                {
                    oauth.invalidate().await;
                    refreshed_token = true;
                    continue;
                }
                if (status == 429 || status == 503) && retries < upstream.config.max_retries {
                    let wait = received
                        .response
                        .retry_after
                        .map(Duration::from_secs)
                        .unwrap_or_else(|| backoff(retries));
                    if can_wait(upstream, run, wait) {
                        tokio::time::sleep(wait).await;
                        retries += 1;
                        continue;
                    }
                }
                return Ok(received);
            }
            Err(AttemptError::Network(reason)) => {
                let wait = backoff(retries);
                if is_idempotent(request.method)
                    && retries < upstream.config.max_retries
                    && can_wait(upstream, run, wait)
                {
                    tokio::time::sleep(wait).await;
                    retries += 1;
                    continue;
                }
                let tries = if retries > 0 {
                    format!(" (after {} attempts)", retries + 1)
                } else {
                    String::new()
                };
                return Err(CallError::new(
                    CallErrorKind::Network,
                    format!("{label} failed: {reason}{tries}"),
                ));
            }
            Err(AttemptError::Fatal(error)) => return Err(error),
        }
    }
}

/// Whether waiting this long still leaves the run's deadline ahead (and is a sane wait).
fn can_wait(upstream: &Upstream, run: Run<'_>, wait: Duration) -> bool {
    if wait > upstream.config.call_timeout {
        return false;
    }
    match remaining(run.limits.current_deadline()) {
        Some(left) => wait < left,
        None => true,
    }
}

/// One attempt: send, follow same-origin redirects, read the body within the size limit.
async fn attempt(
    upstream: &Upstream,
    forwarded: &ForwardedValues,
    request: &PreparedRequest,
    url: &Url,
    body: Option<&Bytes>,
    headers: ResponseHeaders,
    timeout: Duration,
) -> Result<Received, AttemptError> {
    let label = Label::of(request);
    let mut method = request.method;
    // The URL without credentials; redirects resolve against it.
    let mut current: Cow<'_, Url> = Cow::Borrowed(url);
    let mut body = body;
    let mut hops = 0u32;
    loop {
        // Boxed: the token fetch is a whole HTTP exchange, and inlining its state would
        // make every call's future (which is moved around) several kilobytes larger.
        let token = match &upstream.auth.oauth {
            Some(oauth) => Some(
                Box::pin(oauth.token(
                    upstream.transport.as_ref(),
                    &upstream.redactor,
                    timeout,
                    upstream.config.max_response_bytes,
                ))
                .await
                .map_err(AttemptError::Fatal)?,
            ),
            None => None,
        };
        let outgoing = build(
            upstream,
            forwarded,
            method,
            current.as_ref().clone(),
            request,
            body.cloned(),
            token.as_ref(),
        )
        .map_err(|e| {
            AttemptError::Fatal(CallError::new(
                CallErrorKind::Network,
                format!("{label}: the request cannot be sent: {e}"),
            ))
        })?;
        let response = upstream
            .transport
            .send(outgoing)
            .await
            .map_err(|e| AttemptError::Network(transport::describe_chain(&e)))?;
        let status = response.status().as_u16();
        let location = if matches!(status, 301 | 302 | 303 | 307 | 308) {
            response
                .headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
        } else {
            None
        };
        if let Some(location) = location {
            hops += 1;
            let next = current.join(location).map_err(|_| {
                AttemptError::Fatal(CallError::new(
                    CallErrorKind::Network,
                    format!("{label} redirected to an invalid location"),
                ))
            })?;
            if !upstream.base.same_origin(&next) {
                return Err(AttemptError::Fatal(
                    CallError::new(
                        CallErrorKind::Egress,
                        format!(
                            "{label} redirected to {} which is outside {}; not followed",
                            display_without_query(&next),
                            upstream.base.origin_text()
                        ),
                    )
                    .with_data(json!({ "status": status })),
                ));
            }
            if hops > MAX_REDIRECTS {
                return Err(AttemptError::Fatal(CallError::new(
                    CallErrorKind::Network,
                    format!("{label}: more than {MAX_REDIRECTS} redirects"),
                )));
            }
            if status == 303 || (matches!(status, 301 | 302) && method == Method::Post) {
                method = Method::Get;
                body = None;
            }
            current = Cow::Owned(next);
            continue;
        }
        return read(upstream, forwarded, response, &label, headers).await;
    }
}

/// The outgoing request: prepared headers, then credentials (same origin only: `url` was
/// checked, and every redirect hop is checked before it gets here), API keys in the query,
/// the body. Fails only for a URL the `http` types cannot carry.
fn build(
    upstream: &Upstream,
    forwarded: &ForwardedValues,
    method: Method,
    mut url: Url,
    request: &PreparedRequest,
    body: Option<Bytes>,
    oauth_token: Option<&Secret>,
) -> Result<http::Request<Bytes>, http::Error> {
    let auth = &upstream.auth;
    let query_keys: Vec<&str> = auth
        .query
        .iter()
        .chain(&forwarded.query)
        .map(String::as_str)
        .collect();
    if !query_keys.is_empty() {
        let extra = query_keys.join("&");
        let query = match url.query() {
            Some(q) if !q.is_empty() => format!("{q}&{extra}"),
            _ => extra,
        };
        url.set_query(Some(&query));
    }
    let mut headers = HeaderMap::with_capacity(request.headers.len() + auth.headers.len() + 3);
    for (name, value) in &request.headers {
        if let (Some(name), Ok(value)) = (header_name(name), HeaderValue::from_str(value)) {
            headers.insert(name, value);
        }
    }
    if let Some(agent) = &upstream.user_agent {
        headers.insert(header::USER_AGENT, agent.clone());
    }
    if body.is_some()
        && let Some(content_type) = &request.content_type
        && let Ok(value) = HeaderValue::from_str(content_type)
    {
        headers.insert(header::CONTENT_TYPE, value);
    }
    for (name, value) in auth.headers.iter().chain(&forwarded.headers) {
        headers.insert(name.clone(), value.clone());
    }
    let cookies: Vec<&str> = auth
        .cookies
        .iter()
        .chain(&forwarded.cookies)
        .map(String::as_str)
        .collect();
    if !cookies.is_empty() {
        let mut cookie = cookies.join("; ");
        if let Some(existing) = headers.get(header::COOKIE).and_then(|v| v.to_str().ok()) {
            cookie = format!("{existing}; {cookie}");
        }
        if let Ok(mut value) = HeaderValue::from_str(&cookie) {
            value.set_sensitive(true);
            headers.insert(header::COOKIE, value);
        }
    }
    if let Some(token) = oauth_token
        && let Ok(mut value) = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
    {
        value.set_sensitive(true);
        headers.insert(header::AUTHORIZATION, value);
    }
    if let Some(propagate) = &upstream.config.propagate_trace {
        // The trace a request joins is the host's to say, not the script's: its own trace
        // headers go, even when there is no trace to put in their place.
        for name in ["traceparent", "tracestate"] {
            headers.remove(name);
        }
        propagate.inject(&tracing::Span::current(), &mut headers);
    }
    let mut outgoing = http::Request::builder()
        .method(http_method(method))
        .uri(url.as_str())
        .body(body.unwrap_or_default())?;
    *outgoing.headers_mut() = headers;
    Ok(outgoing)
}

/// Reads the body (streaming, cut at the limit) and builds the redacted response.
async fn read(
    upstream: &Upstream,
    forwarded: &ForwardedValues,
    response: http::Response<ResponseBody>,
    label: &Label<'_>,
    shown: ResponseHeaders,
) -> Result<Received, AttemptError> {
    let limit = upstream.config.max_response_bytes;
    let (parts, mut body) = response.into_parts();
    let status = parts.status.as_u16();
    let bytes = transport::read_limited(&mut body, limit)
        .await
        .map_err(|e| {
            let error = TransportError::new(TransportErrorKind::Body, e);
            AttemptError::Network(transport::describe_chain(&error))
        })?
        .ok_or_else(|| {
            AttemptError::Fatal(
                CallError::new(
                    CallErrorKind::TooLarge,
                    format!(
                        "{label}: response body exceeds the {limit}-byte limit; \
                         ask for less (filters, smaller pages)"
                    ),
                )
                .with_data(json!({ "maxBytes": limit })),
            )
        })?;
    let headers = parts.headers;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let parsed = response::parse_body_checked(
        status,
        content_type,
        &bytes,
        upstream.config.binary_base64_cap,
    );
    let mut value = parsed.value;
    // An error response keeps its headers either way: its message names the content type.
    let keep_headers = shown == ResponseHeaders::Keep || !(200..300).contains(&status);
    let facts = response::header_facts(&headers, keep_headers);
    let mut selected = facts.selected;
    let mut request_id = facts.request_id;
    // The client's secrets, then this run's own (credentials its request carried).
    for redactor in [&upstream.redactor, &forwarded.redactor] {
        // One scan of the raw bytes settles the common case: no secret there, and every
        // string of the value is a verbatim slice of them, so no string can hold one either.
        if !(parsed.strings_verbatim && redactor.is_absent_from(&bytes)) {
            redactor.redact_value(&mut value);
        }
        for (_, value) in selected.iter_mut() {
            redactor.redact_in_place(value);
        }
        if let Some(id) = &mut request_id {
            redactor.redact_in_place(id);
        }
    }
    Ok(Received {
        bytes: bytes.len() as u64,
        response: ApiResponse {
            status,
            headers: selected,
            body: value,
            request_id,
            retry_after: facts.retry_after,
        },
    })
}

/// `METHOD /path/template` for messages, formatted only when a message is written.
struct Label<'a> {
    method: Method,
    path: &'a str,
}

impl<'a> Label<'a> {
    fn of(request: &'a PreparedRequest) -> Label<'a> {
        Label {
            method: request.method,
            path: &request.path_template,
        }
    }
}

impl std::fmt::Display for Label<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

fn http_method(method: Method) -> http::Method {
    match method {
        Method::Get => http::Method::GET,
        Method::Post => http::Method::POST,
        Method::Put => http::Method::PUT,
        Method::Patch => http::Method::PATCH,
        Method::Delete => http::Method::DELETE,
        Method::Head => http::Method::HEAD,
        Method::Options => http::Method::OPTIONS,
        Method::Trace => http::Method::TRACE,
    }
}

/// A prepared header's name; the common ones without parsing.
fn header_name(name: &str) -> Option<HeaderName> {
    Some(match name {
        "accept" => header::ACCEPT,
        "cookie" => header::COOKIE,
        "content-type" => header::CONTENT_TYPE,
        _ => HeaderName::from_bytes(name.as_bytes()).ok()?,
    })
}

async fn acquire<'a>(
    semaphore: &'a Semaphore,
    deadline: Option<Instant>,
    label: &Label<'_>,
) -> Result<SemaphorePermit<'a>, CallError> {
    let closed = || {
        CallError::new(
            CallErrorKind::Config,
            format!("{label}: the client is shutting down"),
        )
    };
    match deadline {
        Some(deadline) => {
            match tokio::time::timeout_at(deadline.into(), semaphore.acquire()).await {
                Ok(permit) => permit.map_err(|_| closed()),
                Err(_) => Err(deadline_error(label)),
            }
        }
        None => semaphore.acquire().await.map_err(|_| closed()),
    }
}

fn deadline_error(label: &Label<'_>) -> CallError {
    CallError::new(
        CallErrorKind::Timeout,
        format!("{label}: the run's deadline passed before the call could complete"),
    )
}

fn remaining(deadline: Option<Instant>) -> Option<Duration> {
    deadline.map(|d| d.saturating_duration_since(Instant::now()))
}

/// Exponential backoff with ±50 % jitter: 200 ms, 400 ms, 800 ms … (capped at 10 s).
fn backoff(retry: u32) -> Duration {
    let base = BACKOFF_BASE.saturating_mul(1u32 << retry.min(6));
    let base = base.min(Duration::from_secs(10));
    let factor = 0.5 + rand::random::<f64>();
    base.mul_f64(factor)
}

fn is_idempotent(method: Method) -> bool {
    matches!(
        method,
        Method::Get | Method::Head | Method::Options | Method::Trace | Method::Put | Method::Delete
    )
}

fn human_duration(duration: Duration) -> String {
    if duration.as_millis().is_multiple_of(1000) {
        format!("{}s", duration.as_secs())
    } else {
        format!("{}ms", duration.as_millis())
    }
}
