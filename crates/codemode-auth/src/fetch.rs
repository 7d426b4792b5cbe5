//! The seam through which the issuer's documents (discovery metadata, JWKS) are read: a GET of
//! one URL returning the body. [`ReqwestFetch`] is the default; tests and embedders may pass
//! their own. The verifier puts its own timeout around every call, so an implementation need
//! not, and counts calls itself.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// The largest document read: a JWKS of a few dozen keys is a few tens of KiB.
pub const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// What [`Fetch::get`] returns.
pub type FetchFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, FetchError>> + Send + 'a>>;

/// Reads one document by URL.
pub trait Fetch: Send + Sync + 'static {
    /// GETs `url` (with `Accept: application/json`) and returns its body; a non-2xx status
    /// is an error, and so is a body over [`MAX_DOCUMENT_BYTES`].
    fn get<'a>(&'a self, url: &'a str) -> FetchFuture<'a>;
}

/// Why a document could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The server answered with a status other than 2xx.
    #[error("{url} answered {status}")]
    Status {
        /// The URL read.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// The body is larger than [`MAX_DOCUMENT_BYTES`].
    #[error("{url} sent more than {limit} bytes")]
    TooLarge {
        /// The URL read.
        url: String,
        /// The limit.
        limit: usize,
    },
    /// No answer: the connection or the transfer failed.
    #[error("cannot reach {url}")]
    Transport {
        /// The URL read.
        url: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// [`Fetch`] over reqwest (rustls with ring, as everywhere in codemode). Redirects are not
/// followed: an issuer's `jwks_uri` is the URL of the document itself.
#[derive(Debug, Clone)]
pub struct ReqwestFetch {
    client: reqwest::Client,
}

impl ReqwestFetch {
    /// A client whose every request gives up after `timeout` (the verifier's own timeout is the
    /// one that counts; this one also bounds a connection that hangs after the verifier gave up).
    pub fn new(timeout: Duration) -> Result<ReqwestFetch, FetchError> {
        // `Err` means a provider is installed already (codemode's upstream client installs
        // the same one, an embedder may have chosen another): that one stays.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("codemode-auth/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| FetchError::Transport {
                url: String::new(),
                source: Box::new(error),
            })?;
        Ok(ReqwestFetch { client })
    }

    /// Uses an already built client (its proxy, TLS roots and timeouts).
    pub fn with_client(client: reqwest::Client) -> ReqwestFetch {
        ReqwestFetch { client }
    }
}

impl Fetch for ReqwestFetch {
    fn get<'a>(&'a self, url: &'a str) -> FetchFuture<'a> {
        Box::pin(async move {
            let transport = |error: reqwest::Error| FetchError::Transport {
                url: url.to_string(),
                source: Box::new(error.without_url()),
            };
            let mut response = self
                .client
                .get(url)
                .header(reqwest::header::ACCEPT, "application/json")
                .send()
                .await
                .map_err(transport)?;
            if !response.status().is_success() {
                return Err(FetchError::Status {
                    url: url.to_string(),
                    status: response.status().as_u16(),
                });
            }
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(transport)? {
                if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                    return Err(FetchError::TooLarge {
                        url: url.to_string(),
                        limit: MAX_DOCUMENT_BYTES,
                    });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(body)
        })
    }
}
