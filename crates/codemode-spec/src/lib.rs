//! Loads an OpenAPI description (3.0.x, 3.1.x or Swagger 2.0; JSON or YAML, optionally gzipped;
//! a file, bytes in memory, or a multi-file spec with relative `$ref`s) into one internal model,
//! [`Spec`], that every other crate reads. Owns parsing, reference resolution, Swagger 2.0
//! conversion, 3.0→3.1 schema normalization and operation naming. A load returns the model plus
//! the defects it tolerated ([`Diagnostic`]); only an unreadable document or a refused reference
//! fails it ([`LoadError`]). Does no network IO: URLs are read through the caller's [`Fetch`].
//! Must not know TypeScript, search, HTTP (clients or calls to the API), sandboxes or MCP.

#![warn(missing_docs)]
#![warn(unreachable_pub)]

mod build;
mod error;
mod fetch;
pub mod model;
pub mod names;
mod source;
mod swagger2;

pub use error::{Diagnostic, FetchError, LoadError};
pub use fetch::Fetch;
pub use model::*;
pub use source::LoadOptions;

use std::time::Instant;

/// Loads a spec from a file path, or from an http(s) URL through [`LoadOptions::fetcher`].
pub fn load(source: &str, options: &LoadOptions) -> Result<Loaded, LoadError> {
    let started = Instant::now();
    let docs = source::Documents::open(source, options)?;
    let spec = build::build(docs)?;
    Ok(Loaded {
        spec,
        load_ms: started.elapsed().as_secs_f64() * 1000.0,
    })
}

/// Loads a spec from text already in memory (JSON or YAML). `name` is used in messages.
/// Such a spec cannot reference other files.
pub fn load_str(name: &str, text: &str) -> Result<Spec, LoadError> {
    load_bytes(name, text.as_bytes())
}

/// Loads a spec from bytes already in memory (JSON or YAML, optionally gzipped), e.g. a body the
/// caller fetched itself. `name` is used in messages. Such a spec cannot reference other files.
pub fn load_bytes(name: &str, bytes: &[u8]) -> Result<Spec, LoadError> {
    let docs = source::Documents::from_bytes(name, bytes)?;
    build::build(docs)
}

/// A loaded spec and how long loading took.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The model, with the defects it tolerated in [`Spec::warnings`].
    pub spec: Spec,
    /// Wall-clock time spent reading, parsing and building, in milliseconds.
    pub load_ms: f64,
}
