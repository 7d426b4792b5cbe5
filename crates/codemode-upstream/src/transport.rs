//! Sending a [`PreparedRequest`]: the call budget, concurrency slots and deadline; credentials
//! added on the way out; redirects followed by hand within the origin; the body streamed and
//! cut at the size limit; retries with backoff and jitter on 429/503 and on connection errors
//! of idempotent methods.

use std::borrow::Cow;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use codemode_spec::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::json;
use tokio::sync::{Semaphore, SemaphorePermit};
use url::Url;

use crate::client::{CallRecord, PreparedRequest, Session};
use crate::egress::display_without_query;
use crate::response::{self, ApiResponse};
use crate::{CallError, CallErrorKind, Secret};

/// Redirect hops followed before giving up.
const MAX_REDIRECTS: u32 = 5;
/// First backoff step; doubles per retry, with ±50 % jitter.
const BACKOFF_BASE: Duration = Duration::from_millis(200);

/// How one attempt ended when it did not produce a response.
enum AttemptError {
    /// The connection failed before a response: may be retried for idempotent methods.
    Network(String),
    /// Refused or failed in a way a retry cannot fix.
    Fatal(CallError),
}

/// A response with the number of body bytes read.
struct Received {
    response: ApiResponse,
    bytes: u64,
}

impl Session {
    /// Sends a prepared request. A non-2xx status is `Ok` with that status (see
    /// [`ApiResponse::to_error`]); errors are for requests that got no usable response.
    pub async fn send(&self, request: PreparedRequest) -> Result<ApiResponse, CallError> {
        self.send_keeping(request, ResponseHeaders::Keep).await
    }

    /// [`Session::send`]; with [`ResponseHeaders::Skip`] the shown headers are not collected
    /// (for callers that hand back only the body).
    pub async fn send_keeping(
        &self,
        request: PreparedRequest,
        headers: ResponseHeaders,
    ) -> Result<ApiResponse, CallError> {
        let client = self.inner.client.clone();
        let max_calls = self.inner.limits.max_calls;
        let previous = self.inner.calls.fetch_add(1, Ordering::SeqCst);
        if previous >= max_calls {
            self.inner.calls.fetch_sub(1, Ordering::SeqCst);
            return Err(CallError::new(
                CallErrorKind::CallLimit,
                format!(
                    "call limit reached: this run may make {max_calls} calls; \
                     batch work into fewer calls or paginate with maxItems"
                ),
            )
            .with_data(json!({ "maxCalls": max_calls })));
        }
        let started = Instant::now();
        let sent_at = std::time::SystemTime::now();
        let mut request = request;
        // Shared, not copied, by every attempt and redirect.
        let body = request.body.take().map(Bytes::from);
        // Boxed so the call's future stays small: futures are moved by value on every layer,
        // and the limits, timeout and exchange state together are a couple of kilobytes.
        let outcome = Box::pin(self.send_counted(&request, body, headers)).await;
        let (status, bytes, items) = match &outcome {
            Ok(received) => (
                Some(received.response.status),
                received.bytes,
                received
                    .response
                    .is_success()
                    .then(|| crate::list_items(&received.response.body).map(Vec::len))
                    .flatten(),
            ),
            Err(_) => (None, 0, None),
        };
        let resolved_path = client
            .inner
            .redactor
            .redact(sent_path(&request.url, &client.inner.base.prefix));
        // The request is spent: its names move into the record rather than being copied.
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
        outcome
            .map(|received| received.response)
            .map_err(|e| client.redact_error(e))
    }

    async fn send_counted(
        &self,
        request: &PreparedRequest,
        body: Option<Bytes>,
        headers: ResponseHeaders,
    ) -> Result<Received, CallError> {
        let client = &self.inner.client.inner;
        let url = client.base.check(&request.url)?;
        let deadline = self.deadline();
        let label = Label::of(request);
        let _run_slot = acquire(&self.inner.slots, deadline, &label).await?;
        let _upstream_slot = acquire(&client.upstream_slots, deadline, &label).await?;
        let mut retries = 0u32;
        let mut refreshed_token = false;
        loop {
            // Read again on every attempt: the deadline moves while the run waits on a person.
            let timeout = remaining(self.deadline())
                .map(|left| left.min(client.config.call_timeout))
                .unwrap_or(client.config.call_timeout);
            if timeout.is_zero() {
                return Err(deadline_error(&label));
            }
            // The attempt (hyper exchange, body reading) is boxed once rather than moved by
            // value through every layer of the call's future.
            let attempt = tokio::time::timeout(
                timeout,
                Box::pin(self.attempt(request, &url, body.as_ref(), headers, timeout)),
            )
            .await;
            let outcome = match attempt {
                Err(_) => {
                    return Err(CallError::new(
                        CallErrorKind::Timeout,
                        format!("{label} timed out after {}", human_duration(timeout)),
                    )
                    .with_data(json!({ "timeoutMs": timeout.as_millis() as u64 })));
                }
                Ok(outcome) => outcome,
            };
            match outcome {
                Ok(received) => {
                    let status = received.response.status;
                    if status == 401
                        && !refreshed_token
                        && let Some(oauth) = &client.auth.oauth
                    {
                        oauth.invalidate().await;
                        refreshed_token = true;
                        continue;
                    }
                    if (status == 429 || status == 503) && retries < client.config.max_retries {
                        let wait = received
                            .response
                            .retry_after
                            .map(Duration::from_secs)
                            .unwrap_or_else(|| backoff(retries));
                        if self.can_wait(wait) {
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
                        && retries < client.config.max_retries
                        && self.can_wait(wait)
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
    fn can_wait(&self, wait: Duration) -> bool {
        let client = &self.inner.client.inner;
        if wait > client.config.call_timeout {
            return false;
        }
        match remaining(self.deadline()) {
            Some(left) => wait < left,
            None => true,
        }
    }

    /// One attempt: send, follow same-origin redirects, read the body within the size limit.
    async fn attempt(
        &self,
        request: &PreparedRequest,
        url: &Url,
        body: Option<&Bytes>,
        headers: ResponseHeaders,
        timeout: Duration,
    ) -> Result<Received, AttemptError> {
        let client = &self.inner.client.inner;
        let label = Label::of(request);
        let mut method = request.method;
        // The URL without credentials; redirects resolve against it.
        let mut current: Cow<'_, Url> = Cow::Borrowed(url);
        let mut body = body;
        let mut hops = 0u32;
        loop {
            // Boxed: the token fetch is a whole HTTP exchange, and inlining its state would
            // make every call's future (which is moved around) several kilobytes larger.
            let token = match &client.auth.oauth {
                Some(oauth) => Some(
                    Box::pin(oauth.token(&client.http, &client.redactor, timeout))
                        .await
                        .map_err(AttemptError::Fatal)?,
                ),
                None => None,
            };
            let outgoing = self.build(
                method,
                current.as_ref().clone(),
                request,
                body.cloned(),
                token.as_ref(),
            );
            let response = client
                .http
                .execute(outgoing)
                .await
                .map_err(|e| AttemptError::Network(describe_reqwest_error(&e)))?;
            let status = response.status().as_u16();
            let location = if matches!(status, 301 | 302 | 303 | 307 | 308) {
                response
                    .headers()
                    .get("location")
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
                if !client.base.same_origin(&next) {
                    return Err(AttemptError::Fatal(
                        CallError::new(
                            CallErrorKind::Egress,
                            format!(
                                "{label} redirected to {} which is outside {}; not followed",
                                display_without_query(&next),
                                client.base.origin_text()
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
            return self.read(response, &label, headers).await;
        }
    }

    /// The outgoing request: prepared headers, then credentials (same origin only; `url` was
    /// checked), API keys in the query, the body.
    fn build(
        &self,
        method: Method,
        mut url: Url,
        request: &PreparedRequest,
        body: Option<Bytes>,
        oauth_token: Option<&Secret>,
    ) -> reqwest::Request {
        let client = &self.inner.client.inner;
        let auth = &client.auth;
        if !auth.query.is_empty() {
            let extra = auth.query.join("&");
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
        if let Some(agent) = &client.user_agent {
            headers.insert(reqwest::header::USER_AGENT, agent.clone());
        }
        if body.is_some()
            && let Some(content_type) = &request.content_type
            && let Ok(value) = HeaderValue::from_str(content_type)
        {
            headers.insert(reqwest::header::CONTENT_TYPE, value);
        }
        for (name, value) in &auth.headers {
            headers.insert(name.clone(), value.clone());
        }
        if !auth.cookies.is_empty() {
            let mut cookie = auth.cookies.join("; ");
            if let Some(existing) = headers.get("cookie").and_then(|v| v.to_str().ok()) {
                cookie = format!("{existing}; {cookie}");
            }
            if let Ok(mut value) = HeaderValue::from_str(&cookie) {
                value.set_sensitive(true);
                headers.insert(reqwest::header::COOKIE, value);
            }
        }
        if let Some(token) = oauth_token
            && let Ok(mut value) = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
        {
            value.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        let mut outgoing = reqwest::Request::new(reqwest_method(method), url);
        *outgoing.headers_mut() = headers;
        if let Some(body) = body {
            *outgoing.body_mut() = Some(body.into());
        }
        outgoing
    }

    /// Reads the body (streaming, cut at the limit) and builds the redacted response.
    async fn read(
        &self,
        mut response: reqwest::Response,
        label: &Label<'_>,
        shown: ResponseHeaders,
    ) -> Result<Received, AttemptError> {
        let client = &self.inner.client.inner;
        let limit = client.config.max_response_bytes;
        let too_large = || {
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
        };
        let declared_length = response.content_length();
        if declared_length.is_some_and(|n| n > limit as u64) {
            return Err(too_large());
        }
        let status = response.status().as_u16();
        // Taken, not cloned: reading the body does not need them.
        let headers = std::mem::take(response.headers_mut());
        let bytes = read_limited(&mut response, declared_length, limit)
            .await?
            .ok_or_else(too_large)?;
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let parsed = response::parse_body_checked(
            status,
            content_type,
            &bytes,
            client.config.binary_base64_cap,
        );
        let mut body = parsed.value;
        // One scan of the raw bytes settles the common case: no secret there, and every string
        // of the value is a verbatim slice of them, so no string can hold one either.
        if !(parsed.strings_verbatim && client.redactor.is_absent_from(&bytes)) {
            client.redactor.redact_value(&mut body);
        }
        // An error response keeps its headers either way: its message names the content type.
        let keep_headers = shown == ResponseHeaders::Keep || !(200..300).contains(&status);
        let facts = response::header_facts(&headers, keep_headers);
        let mut selected = facts.selected;
        for (_, value) in selected.iter_mut() {
            client.redactor.redact_in_place(value);
        }
        let mut request_id = facts.request_id;
        if let Some(id) = &mut request_id {
            client.redactor.redact_in_place(id);
        }
        Ok(Received {
            bytes: bytes.len() as u64,
            response: ApiResponse {
                status,
                headers: selected,
                body,
                request_id,
                retry_after: facts.retry_after,
            },
        })
    }
}

/// The body, streamed and cut at `limit` (`None` when it is larger). A body that arrives in
/// one chunk is used as is, without a copy.
async fn read_limited(
    response: &mut reqwest::Response,
    declared_length: Option<u64>,
    limit: usize,
) -> Result<Option<Bytes>, AttemptError> {
    let network = |e: reqwest::Error| AttemptError::Network(describe_reqwest_error(&e));
    let Some(first) = response.chunk().await.map_err(network)? else {
        return Ok(Some(Bytes::new()));
    };
    if first.len() > limit {
        return Ok(None);
    }
    let Some(second) = response.chunk().await.map_err(network)? else {
        return Ok(Some(first));
    };
    let capacity = declared_length.map(|n| n as usize).unwrap_or(0).min(limit);
    let mut bytes = Vec::with_capacity(capacity.max(first.len() + second.len()));
    bytes.extend_from_slice(&first);
    let mut next = Some(second);
    while let Some(chunk) = next {
        if bytes.len() + chunk.len() > limit {
            return Ok(None);
        }
        bytes.extend_from_slice(&chunk);
        next = response.chunk().await.map_err(network)?;
    }
    Ok(Some(Bytes::from(bytes)))
}

/// Whether a response's shown headers ([`ApiResponse::headers`]) are collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseHeaders {
    Keep,
    Skip,
}

/// `METHOD /path/template` for messages, formatted only when a message is written.
pub(crate) struct Label<'a> {
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

fn reqwest_method(method: Method) -> reqwest::Method {
    match method {
        Method::Get => reqwest::Method::GET,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Patch => reqwest::Method::PATCH,
        Method::Delete => reqwest::Method::DELETE,
        Method::Head => reqwest::Method::HEAD,
        Method::Options => reqwest::Method::OPTIONS,
        Method::Trace => reqwest::Method::TRACE,
    }
}

/// A prepared header's name; the common ones without parsing.
fn header_name(name: &str) -> Option<HeaderName> {
    use reqwest::header;
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

/// A reqwest error as a short reason, with its causes and without the URL (which can carry
/// query credentials).
fn describe_reqwest_error(error: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(error);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    let kind = if error.is_connect() {
        "connection failed"
    } else if error.is_timeout() {
        "timed out"
    } else if error.is_body() || error.is_decode() {
        "reading the response failed"
    } else {
        "request failed"
    };
    if parts.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {}", parts.join(": "))
    }
}

fn human_duration(duration: Duration) -> String {
    if duration.as_millis().is_multiple_of(1000) {
        format!("{}s", duration.as_secs())
    } else {
        format!("{}ms", duration.as_millis())
    }
}
