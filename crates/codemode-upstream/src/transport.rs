//! The last hop of every request: the [`Transport`] seam, which takes a finished
//! `http::Request<Bytes>` and gives back an `http::Response` whose body is still a stream.
//! Owns the two implementations that ship with the crate, [`ReqwestTransport`] (the network;
//! the default) and [`InProcess`] (any tower `Service`, such as an `axum::Router`, called with
//! no socket), and reading a body up to a size limit. Must not know sessions, operations,
//! credentials, redaction, egress rules or limits: those are decided above the seam, in
//! `send.rs`, before a request reaches a transport and after its response comes back.
//!
//! # Why a trait of our own rather than `tower::Service`
//!
//! A `tower::Service` takes `&mut self` and must be polled ready before each call, so sharing
//! one between the concurrent calls of every run means cloning it or putting it behind a
//! buffer; and the client would have to be generic over it. [`Transport::send`] takes `&self`
//! and returns a boxed future, so one `Arc<dyn Transport>` serves every call and the client
//! stays one concrete type. Tower users lose nothing: [`InProcess`] adapts any tower service
//! (clone per call, wait until ready, call), which is what an axum user holds.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use http_body::Body as _;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt as _, Full};

use crate::error::ConfigError;

/// Any error a transport or a response body may fail with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A response body as a stream of byte chunks. Not buffered: the client reads it chunk by
/// chunk and stops at [`crate::UpstreamConfig::max_response_bytes`], so an endless body costs
/// no more than the limit.
pub type ResponseBody = UnsyncBoxBody<Bytes, BoxError>;

/// What [`Transport::send`] returns.
pub type TransportFuture<'a> =
    Pin<Box<dyn Future<Output = Result<http::Response<ResponseBody>, TransportError>> + Send + 'a>>;

/// The last hop: sends one finished request and returns the response head with its body still
/// streaming. The request already carries everything the host adds (credentials included, for
/// the configured origin only); the response goes back through the host's size limit and
/// redaction before anyone sees it. So a transport decides *how* bytes travel (a socket, an
/// in-process service, a signing proxy), never *whether* a request is allowed or what a script
/// may see.
///
/// A transport must not follow redirects (the client follows them by hand, within the origin)
/// and should not retry (the client retries idempotent calls within the run's deadline). An
/// error means no response came: the client treats it like a refused or reset connection
/// (retried for idempotent methods, then a `NetworkError` whose message carries the error's
/// cause chain once).
pub trait Transport: Send + Sync + 'static {
    /// Sends `request` (absolute URI, body complete) and resolves to the response once its
    /// head has arrived, or to an error if none came.
    fn send(&self, request: http::Request<Bytes>) -> TransportFuture<'_>;

    /// The name `Debug` shows for this transport (never its state, which may hold keys).
    fn name(&self) -> &'static str {
        std::any::type_name::<Self>()
    }
}

impl fmt::Debug for dyn Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Transport").field(&self.name()).finish()
    }
}

/// Why a transport produced no response. Its `Display` is the kind ("connection failed"); the
/// cause is its `source()`.
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
pub struct TransportError {
    kind: TransportErrorKind,
    #[source]
    source: Option<BoxError>,
}

impl TransportError {
    /// An error of `kind` caused by `source` (the transport's own error, kept as the cause).
    pub fn new(kind: TransportErrorKind, source: impl Into<BoxError>) -> TransportError {
        TransportError {
            kind,
            source: Some(source.into()),
        }
    }

    /// An error with no further cause.
    pub fn of_kind(kind: TransportErrorKind) -> TransportError {
        TransportError { kind, source: None }
    }

    /// What failed.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }
}

/// The broad kind of a [`TransportError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No connection could be made (refused, DNS, TLS).
    Connect,
    /// The transport's own timeout passed (the client's timeouts are above the seam).
    Timeout,
    /// The request could not be sent, or the connection broke before a response.
    Send,
    /// The response body could not be read to its end.
    Body,
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportErrorKind::Connect => "connection failed",
            TransportErrorKind::Timeout => "timed out",
            TransportErrorKind::Send => "request failed",
            TransportErrorKind::Body => "reading the response failed",
        })
    }
}

/// The default transport: a reqwest client that follows no redirects and ignores proxy
/// settings from the environment, so the origin the client checked is exactly what is
/// contacted.
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
}

impl ReqwestTransport {
    /// A client whose connection attempts give up after `connect_timeout`.
    pub fn new(connect_timeout: Duration) -> Result<ReqwestTransport, ConfigError> {
        // reqwest is built without a crypto provider of its own (see `tls.rs`).
        crate::tls::install_crypto_provider();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(connect_timeout)
            .build()
            .map_err(|e| ConfigError::HttpClient(e.without_url().to_string()))?;
        Ok(ReqwestTransport { client })
    }
}

impl Transport for ReqwestTransport {
    fn send(&self, request: http::Request<Bytes>) -> TransportFuture<'_> {
        Box::pin(async move {
            let request = reqwest::Request::try_from(request).map_err(reqwest_error)?;
            let response = self.client.execute(request).await.map_err(reqwest_error)?;
            let response: http::Response<reqwest::Body> = response.into();
            Ok(response.map(|body| {
                body.map_err(|e| -> BoxError { Box::new(e.without_url()) })
                    .boxed_unsync()
            }))
        })
    }

    fn name(&self) -> &'static str {
        "reqwest"
    }
}

/// A reqwest error as a transport error, without the URL (which may carry an API key in its
/// query) in its text.
fn reqwest_error(error: reqwest::Error) -> TransportError {
    let kind = if error.is_connect() {
        TransportErrorKind::Connect
    } else if error.is_timeout() {
        TransportErrorKind::Timeout
    } else if error.is_body() || error.is_decode() {
        TransportErrorKind::Body
    } else {
        TransportErrorKind::Send
    };
    TransportError::new(kind, ReqwestCauses(error.without_url()))
}

/// A reqwest error shown by its causes ("client error (Connect): tcp connect error: Connection
/// refused"): reqwest's own text ("error sending request") only repeats what the
/// [`TransportErrorKind`] says.
#[derive(Debug)]
struct ReqwestCauses(reqwest::Error);

impl fmt::Display for ReqwestCauses {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match std::error::Error::source(&self.0) {
            Some(cause) => write!(f, "{cause}"),
            None => write!(f, "{}", self.0),
        }
    }
}

impl std::error::Error for ReqwestCauses {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.0).and_then(|cause| cause.source())
    }
}

/// A transport that calls a tower `Service` in this process: an `axum::Router`, a test double,
/// a bridge to another protocol. No socket is opened and no name is resolved, so a base URL
/// such as `http://api.invalid` works. The service gets the request as
/// `http::Request<Full<Bytes>>` with its absolute URI and a `Host` header (axum routes on the
/// path); to take another body type, wrap it with `tower::ServiceExt::map_request`.
///
/// ```
/// # use std::sync::Arc;
/// # use axum::routing::get;
/// # use codemode_upstream::{InProcess, UpstreamConfig};
/// let transport = InProcess::new(axum::Router::new().route("/pets", get(|| async { "[]" })));
/// let config = UpstreamConfig {
///     base_url: "http://api.invalid".into(),
///     transport: Some(Arc::new(transport)),
///     ..UpstreamConfig::default()
/// };
/// ```
pub struct InProcess<S> {
    /// Cloned for each call (tower's convention for shared services); behind a lock so the
    /// service need not be `Sync`.
    service: Mutex<S>,
}

impl<S> InProcess<S> {
    /// A transport that hands every request to `service` (cloned per call).
    pub fn new(service: S) -> InProcess<S> {
        InProcess {
            service: Mutex::new(service),
        }
    }
}

impl<S> fmt::Debug for InProcess<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InProcess").finish_non_exhaustive()
    }
}

impl<S, B> Transport for InProcess<S>
where
    S: tower_service::Service<http::Request<Full<Bytes>>, Response = http::Response<B>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    fn send(&self, request: http::Request<Bytes>) -> TransportFuture<'_> {
        // A poisoned lock only means another call panicked while cloning; the service itself
        // is still whole.
        let mut service = self
            .service
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        Box::pin(async move {
            std::future::poll_fn(|cx| service.poll_ready(cx))
                .await
                .map_err(|e| TransportError::new(TransportErrorKind::Connect, e))?;
            let mut request = request.map(Full::new);
            if let Some(host) = request
                .uri()
                .authority()
                .and_then(|a| http::HeaderValue::from_str(a.as_str()).ok())
            {
                request
                    .headers_mut()
                    .entry(http::header::HOST)
                    .or_insert(host);
            }
            let response = service
                .call(request)
                .await
                .map_err(|e| TransportError::new(TransportErrorKind::Send, e))?;
            Ok(response.map(|body| body.map_err(Into::into).boxed_unsync()))
        })
    }

    fn name(&self) -> &'static str {
        "in-process"
    }
}

/// Reads a body to its end, or stops as soon as it passes `limit` bytes (`Ok(None)`): nothing
/// past the limit is ever held. A body that arrives in one chunk is used as is, without a copy.
pub(crate) async fn read_limited(
    body: &mut ResponseBody,
    limit: usize,
) -> Result<Option<Bytes>, BoxError> {
    let declared = body.size_hint().exact();
    if declared.is_some_and(|n| n > limit as u64) {
        return Ok(None);
    }
    let Some(first) = next_chunk(body).await? else {
        return Ok(Some(Bytes::new()));
    };
    if first.len() > limit {
        return Ok(None);
    }
    let Some(second) = next_chunk(body).await? else {
        return Ok(Some(first));
    };
    let capacity = declared.map_or(0, |n| n as usize).min(limit);
    let mut bytes = Vec::with_capacity(capacity.max(first.len() + second.len()));
    bytes.extend_from_slice(&first);
    let mut next = Some(second);
    while let Some(chunk) = next {
        if bytes.len() + chunk.len() > limit {
            return Ok(None);
        }
        bytes.extend_from_slice(&chunk);
        next = next_chunk(body).await?;
    }
    Ok(Some(Bytes::from(bytes)))
}

/// The next data chunk of a body; trailers are skipped.
async fn next_chunk(body: &mut ResponseBody) -> Result<Option<Bytes>, BoxError> {
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            return Ok(Some(data));
        }
    }
    Ok(None)
}

/// An error and its causes as one line, each distinct cause once:
/// `connection failed: error sending request: tcp connect error: Connection refused`.
pub(crate) fn describe_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}
