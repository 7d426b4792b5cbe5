//! What the loader asks of whoever fetches URLs for it. This crate does no network IO: a spec
//! or a `$ref` at an http(s) URL is read through a caller-supplied [`Fetch`] (the CLI's is built
//! on reqwest), so embedders choose the HTTP stack, its runtime and its policy (proxies, TLS,
//! timeouts), and crates that only read a [`crate::Spec`] compile no HTTP client. Must not know
//! any HTTP library.

use crate::FetchError;

/// Gets the bytes at an http(s) URL for the loader. Called synchronously, possibly from inside an
/// async runtime: an implementation must not block that runtime's own threads on itself (run the
/// request on another thread, as the CLI's fetcher does).
pub trait Fetch: Send + Sync {
    /// The body at `url`, after redirects. A body longer than `max_bytes` is
    /// [`FetchError::TooLarge`]: stop reading after `max_bytes + 1` bytes rather than read it all.
    /// A status other than success is [`FetchError::Status`].
    fn fetch(&self, url: &str, max_bytes: u64) -> Result<Vec<u8>, FetchError>;
}

/// A closure is a fetcher: `Arc::new(|url: &str, max_bytes: u64| ...)`.
impl<F> Fetch for F
where
    F: Fn(&str, u64) -> Result<Vec<u8>, FetchError> + Send + Sync,
{
    fn fetch(&self, url: &str, max_bytes: u64) -> Result<Vec<u8>, FetchError> {
        self(url, max_bytes)
    }
}
