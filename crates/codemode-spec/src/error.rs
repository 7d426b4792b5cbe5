//! Load errors (the spec cannot be used) and diagnostics (a defect was tolerated).

use std::fmt;

/// A tolerated defect, with where it is: a file and a JSON pointer inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file (or URL) the defect is in; the root spec unless a `$ref` led elsewhere.
    pub file: String,
    /// A JSON pointer into that file, e.g. `/paths/~1pets/get/parameters/0`.
    pub pointer: String,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}: {}", self.file, self.pointer, self.message)
    }
}

/// Why a spec could not be loaded. Every variant names the file and, where there is one, the location.
///
/// Where an underlying error caused it, that error is the [`std::error::Error::source`] and is
/// not repeated in the message: print the chain (`{:#}` with anyhow) to see it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    #[error("cannot read {file}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },

    #[error("{file}: bad gzip data")]
    Gzip {
        file: String,
        #[source]
        source: std::io::Error,
    },

    /// The caller's [`Fetch`](crate::Fetch) could not get a URL.
    #[error("cannot read {url}: fetch failed")]
    Fetch {
        url: String,
        #[source]
        source: FetchError,
    },

    /// A URL was to be loaded and [`LoadOptions::fetcher`](crate::LoadOptions::fetcher) is unset:
    /// this crate does no network IO of its own.
    #[error(
        "cannot read {url}: loading a spec from a URL needs a fetcher (LoadOptions::fetcher); \
         download it and pass the file instead"
    )]
    NoFetcher { url: String },

    #[error("{file} is larger than the limit of {limit_bytes} bytes")]
    TooLarge { file: String, limit_bytes: u64 },

    #[error("{file}:{line}:{column}: {message}")]
    Syntax {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },

    #[error("{file}: {message}")]
    Parse { file: String, message: String },

    #[error(
        "{file}: unsupported spec version {found:?} (supported: OpenAPI 3.0.x, 3.1.x and Swagger 2.0)"
    )]
    UnsupportedVersion { file: String, found: String },

    #[error("{file}#{pointer}: {message}")]
    Reference {
        file: String,
        pointer: String,
        message: String,
    },

    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
}

/// Why a [`Fetch`](crate::Fetch) could not get a URL. A fetcher reports a body over the limit
/// as [`FetchError::TooLarge`]; the loader turns it into [`LoadError::TooLarge`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The server answered with a status other than success (after redirects).
    #[error("HTTP {code}{}", reason.as_deref().map(|r| format!(" {r}")).unwrap_or_default())]
    Status {
        code: u16,
        /// The reason phrase, e.g. `Not Found`, where the fetcher knows one.
        reason: Option<String>,
    },

    /// The body is longer than the `max_bytes` the loader asked for.
    #[error("the body is larger than the limit of {limit_bytes} bytes")]
    TooLarge { limit_bytes: u64 },

    /// The request failed (connection, TLS, timeout, too many redirects, a broken body): the
    /// fetcher's own error, whose message and sources are shown as they are.
    #[error(transparent)]
    Failed(Box<dyn std::error::Error + Send + Sync>),
}

impl LoadError {
    pub(crate) fn reference(
        file: impl Into<String>,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) -> LoadError {
        LoadError::Reference {
            file: file.into(),
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}
