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

    #[cfg(test)]
    fn with_timeout(timeout: Duration) -> HttpFetch {
        HttpFetch { timeout }
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
    // reqwest has no crypto provider of its own: the upstream crate installs ring.
    codemode_engine::upstream::install_crypto_provider();
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

#[cfg(test)]
mod tests {
    use codemode_test_support::{LoopbackServer, http_response};

    use super::*;

    /// Answers every connection on 127.0.0.1 with `respond(base, path)` (raw HTTP/1.1, then
    /// close) until the server is dropped.
    fn serve(respond: fn(&str, &str) -> Vec<u8>) -> LoopbackServer {
        LoopbackServer::start(respond)
    }

    fn ok(body: &str) -> Vec<u8> {
        http_response("200 OK", body.as_bytes())
    }

    fn fetcher() -> HttpFetch {
        HttpFetch::with_timeout(Duration::from_secs(10))
    }

    #[test]
    fn fetches_outside_and_inside_a_runtime() {
        let base_server = serve(|_, _| ok("openapi: 3.0.0"));
        let base = base_server.url();
        let url = format!("{base}/spec.yaml");
        assert_eq!(fetcher().fetch(&url, 1024).unwrap(), b"openapi: 3.0.0");
        // A `block_on` on a runtime's own thread would panic; the fetch runs on its own thread.
        let multi = tokio::runtime::Runtime::new().unwrap();
        let body = multi.block_on(async { fetcher().fetch(&url, 1024) });
        assert_eq!(body.unwrap(), b"openapi: 3.0.0");
        let single = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let body = single.block_on(async { fetcher().fetch(&url, 1024) });
        assert_eq!(body.unwrap(), b"openapi: 3.0.0");
    }

    #[test]
    fn a_body_past_the_limit_is_cut_whatever_the_server_announced() {
        // No content-length: the body ends when the connection closes.
        let base_server = serve(|_, _| {
            let mut response = b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n".to_vec();
            response.extend(std::iter::repeat_n(b'a', 64 * 1024));
            response
        });
        let base = base_server.url();
        let error = fetcher().fetch(&format!("{base}/big"), 1000).err();
        assert!(
            matches!(error, Some(FetchError::TooLarge { limit_bytes: 1000 })),
            "{error:?}"
        );
        let announced_server = serve(|_, _| ok(&"b".repeat(2000)));
        let announced = announced_server.url();
        let error = fetcher().fetch(&format!("{announced}/big"), 1000).err();
        assert!(
            matches!(error, Some(FetchError::TooLarge { limit_bytes: 1000 })),
            "{error:?}"
        );
        assert_eq!(
            fetcher()
                .fetch(&format!("{announced}/big"), 2000)
                .unwrap()
                .len(),
            2000
        );
    }

    #[test]
    fn redirects_are_followed_five_times_and_no_more() {
        // `/hop/N` redirects to `/hop/N-1`; `/hop/0` is the spec.
        let base_server = serve(|base, path| {
            let hops: u32 = path.trim_start_matches("/hop/").parse().unwrap_or(0);
            if hops == 0 {
                return ok("openapi: 3.0.0");
            }
            format!(
                "HTTP/1.1 302 Found\r\nlocation: {base}/hop/{}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                hops - 1
            )
            .into_bytes()
        });
        let base = base_server.url();
        assert!(fetcher().fetch(&format!("{base}/hop/5"), 1024).is_ok());
        let error = fetcher().fetch(&format!("{base}/hop/6"), 1024).err();
        let chain = error.as_ref().map(error_chain).unwrap_or_default();
        assert!(chain.contains("too many redirects"), "{chain}");
    }

    #[test]
    fn a_status_other_than_success_is_named() {
        let base_server = serve(|_, _| {
            b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                .to_vec()
        });
        let base = base_server.url();
        let error = fetcher().fetch(&format!("{base}/spec.json"), 1024).err();
        assert_eq!(
            error.map(|e| e.to_string()).as_deref(),
            Some("HTTP 503 Service Unavailable")
        );
    }

    fn error_chain(error: &FetchError) -> String {
        let mut out = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            out.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        out
    }
}
