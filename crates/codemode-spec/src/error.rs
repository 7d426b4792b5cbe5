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
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    #[error("cannot read {file}: {message}")]
    Io { file: String, message: String },

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
