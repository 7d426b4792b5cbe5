//! The URL fetcher the CLI hands the spec loader (codemode-spec does no network IO): an http(s)
//! GET with reqwest's async client, with a timeout, at most five redirects and the loader's size
//! limit. Owns how spec URLs are fetched; must not know what a spec is.
//!
//! The loader calls it synchronously, sometimes from inside a tokio runtime (the server loads its
//! spec there), where a `block_on` would panic. So each fetch runs on a thread of its own with a
//! current-thread runtime, and the caller's thread waits for it: safe inside or outside a runtime.

use std::time::Duration;

use codemode_engine::spec::{Fetch, FetchError};

/// How long one spec URL may take, redirects and body included.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Most redirects followed for one spec URL.
const MAX_REDIRECTS: usize = 5;

/// Fetches spec URLs over HTTP (see the module docs).
#[derive(Debug, Clone)]
pub struct HttpFetch {
    timeout: Duration,
}

impl HttpFetch {
    pub fn new() -> HttpFetch {
        HttpFetch { timeout: TIMEOUT }
    }
}

impl Fetch for HttpFetch {
    fn fetch(&self, url: &str, max_bytes: u64) -> Result<Vec<u8>, FetchError> {
        std::thread::scope(|scope| {
            let worker = std::thread::Builder::new()
                .name("spec-fetch".into())
                .spawn_scoped(scope, || self.fetch_here(url, max_bytes))
                .map_err(|e| FetchError::Failed(Box::new(e)))?;
            worker
                .join()
                .unwrap_or_else(|_| Err(FetchError::Failed("the fetch thread panicked".into())))
        })
    }
}

impl HttpFetch {
    /// Runs the request on this thread, which must not be a runtime's own.
    fn fetch_here(&self, url: &str, max_bytes: u64) -> Result<Vec<u8>, FetchError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| FetchError::Failed(Box::new(e)))?;
        runtime.block_on(get(url, self.timeout, max_bytes))
    }
}

async fn get(url: &str, timeout: Duration, max_bytes: u64) -> Result<Vec<u8>, FetchError> {
    // A client per fetch: its connection pool belongs to this fetch's runtime, which ends with it.
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
        .build()
        .map_err(failed)?;
    let mut response = client.get(url).send().await.map_err(failed)?;
    let status = response.status();
    if !status.is_success() {
        return Err(FetchError::Status {
            code: status.as_u16(),
            reason: status.canonical_reason().map(str::to_string),
        });
    }
    let too_large = || FetchError::TooLarge {
        limit_bytes: max_bytes,
    };
    if response.content_length().is_some_and(|n| n > max_bytes) {
        return Err(too_large());
    }
    // Streamed and cut one byte past the limit: a server may send more than it announced.
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(failed)? {
        body.extend_from_slice(&chunk);
        if body.len() as u64 > max_bytes {
            return Err(too_large());
        }
    }
    Ok(body)
}

/// reqwest's error, its causes kept as its `source()` chain (printed once, by whoever prints the
/// whole chain), without the URL the loader's message already names.
fn failed(error: reqwest::Error) -> FetchError {
    FetchError::Failed(Box::new(error.without_url()))
}
