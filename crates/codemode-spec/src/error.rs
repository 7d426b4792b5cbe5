//! Load errors (the spec cannot be used) and diagnostics (a defect was tolerated).

use std::fmt;

/// A tolerated defect, with where it is: a file and a JSON pointer inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file (or URL) the defect is in; the root spec unless a `$ref` led elsewhere.
    pub file: String,
    /// A JSON pointer into that file, e.g. `/paths/~1pets/get/parameters/0`.
    pub pointer: String,
    /// What is wrong and what the loader did about it (e.g. left the item out), in one sentence.
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
    /// A local file could not be opened, resolved or read; the [`std::io::Error`] is the source.
    #[error("cannot read {file}")]
    Io {
        /// The path as given (or as a `$ref` led to it).
        file: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// The bytes start with the gzip magic number but do not decompress.
    #[error("{file}: bad gzip data")]
    Gzip {
        /// The file, URL or in-memory name whose bytes are broken.
        file: String,
        /// The decoder's error.
        #[source]
        source: std::io::Error,
    },

    /// The caller's [`Fetch`](crate::Fetch) could not get a URL.
    #[error("cannot read {url}: fetch failed")]
    Fetch {
        /// The URL the fetcher was asked for.
        url: String,
        /// The fetcher's error.
        #[source]
        source: FetchError,
    },

    /// A URL was to be loaded and [`LoadOptions::fetcher`](crate::LoadOptions::fetcher) is unset:
    /// this crate does no network IO of its own.
    #[error(
        "cannot read {url}: loading a spec from a URL needs a fetcher (LoadOptions::fetcher); \
         download it and pass the file instead"
    )]
    NoFetcher {
        /// The URL that was to be loaded (the root spec or a `$ref`'s target).
        url: String,
    },

    /// A document is over [`LoadOptions::max_bytes`](crate::LoadOptions::max_bytes), before or
    /// after gunzipping (a small gzip bomb fails here, not by exhausting memory).
    #[error("{file} is larger than the limit of {limit_bytes} bytes")]
    TooLarge {
        /// The file, URL or in-memory name over the limit.
        file: String,
        /// The limit it exceeded, in bytes.
        limit_bytes: u64,
    },

    /// The text is not valid UTF-8, JSON or YAML at a known place.
    #[error("{file}:{line}:{column}: {message}")]
    Syntax {
        /// The document with the error.
        file: String,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// The parser's message, without its own copy of the location.
        message: String,
    },

    /// The document cannot be parsed and the parser gave no location (e.g. a tar or zip archive
    /// passed instead of its root document, or YAML aliases that expand too far).
    #[error("{file}: {message}")]
    Parse {
        /// The document that could not be parsed.
        file: String,
        /// What is wrong, and what to do about it where we know.
        message: String,
    },

    /// The root document's `openapi` or `swagger` field names a version other than 3.0.x, 3.1.x
    /// or 2.0.
    #[error(
        "{file}: unsupported spec version {found:?} (supported: OpenAPI 3.0.x, 3.1.x and Swagger 2.0)"
    )]
    UnsupportedVersion {
        /// The root document.
        file: String,
        /// The version text as written, e.g. `"4.0.0"` or `"1.2"`.
        found: String,
    },

    /// A `$ref` was refused: it escapes the root spec's directory, names something other than a
    /// regular file, uses a scheme other than http(s), or is remote while remote references are
    /// off or no fetcher is set. (A `$ref` that merely points at nothing is tolerated as a
    /// [`Diagnostic`].)
    #[error("{file}#{pointer}: {message}")]
    Reference {
        /// The document holding the `$ref`.
        file: String,
        /// A JSON pointer to the `$ref` (or the schema that holds it) in that document.
        pointer: String,
        /// The reference as written and why it was refused.
        message: String,
    },

    /// The document parses but is not an OpenAPI document the loader can use (not an object, no
    /// `openapi` or `swagger` field, an in-memory document referenced by another).
    #[error("{file}: {message}")]
    Invalid {
        /// The offending document.
        file: String,
        /// What is wrong with it.
        message: String,
    },
}

/// Why a [`Fetch`](crate::Fetch) could not get a URL. A fetcher reports a body over the limit
/// as [`FetchError::TooLarge`]; the loader turns it into [`LoadError::TooLarge`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The server answered with a status other than success (after redirects).
    #[error("HTTP {code}{}", reason.as_deref().map(|r| format!(" {r}")).unwrap_or_default())]
    Status {
        /// The HTTP status code, e.g. 404.
        code: u16,
        /// The reason phrase, e.g. `Not Found`, where the fetcher knows one.
        reason: Option<String>,
    },

    /// The body is longer than the `max_bytes` the loader asked for.
    #[error("the body is larger than the limit of {limit_bytes} bytes")]
    TooLarge {
        /// The limit the body exceeded, in bytes (the loader's `max_bytes`).
        limit_bytes: u64,
    },

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
