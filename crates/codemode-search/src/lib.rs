//! codemode-search owns ranking: given a task sentence ("delete a pet"), find the operations of a
//! [`codemode_spec::Spec`] that do it. [`Index::build`] indexes every operation once (name words,
//! path segments, method intent words, summary, description opening, tags, parameter and body
//! property names, enum values, schema and parameter docs) into BM25F postings with stemming, a
//! small general-API synonym map (`vocabulary`) and structural signals (verbs imply methods,
//! list-vs-item, deprecated and test-helper operations rank lower; API conventions read from the
//! spec's shape: a `PUT` to an item whose collection has no `POST` creates, a resource named as
//! the first word asks to create it, block/allow/ban look for rules), then re-ranks the best
//! candidates by how much of each operation's summary the query explains; [`Index::search`]
//! returns ranked [`Hit`]s (each an [`OperationId`] of the spec) in well under a millisecond, and
//! [`Index::search_steps`] ranks each action of a several-step task sentence on its own
//! ([`split_steps`]). It depends only
//! on codemode-spec and must not know TypeScript, HTTP, sandboxes or MCP: rendering a hit is the
//! caller's job.

#![warn(missing_docs)]
#![warn(unreachable_pub)]

mod index;
mod steps;
mod text;
mod vocabulary;

pub use index::{Index, MAX_QUERY_BYTES, TermStats, Tuning};
pub use steps::{MAX_STEPS, Step, split_steps};

use codemode_spec::{Method, OperationId};

/// The lowercase words of an identifier or a phrase, split the way the index splits them: at
/// every symbol and at camelCase humps (`dns_record_id` → dns, record, id; `HTTPServer` → http,
/// server). For callers that match spec names among themselves.
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    text::for_each_word(text, |word| out.push(word.to_string()));
    out
}

/// What to return from [`Index::search`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchOptions {
    /// Most hits returned (default 5). Zero returns none.
    pub limit: usize,
    /// Only operations with this method.
    pub method: Option<Method>,
    /// Only operations carrying this tag (compared case-insensitively).
    pub tag: Option<String>,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            limit: 5,
            method: None,
            tag: None,
        }
    }
}

/// One ranked operation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// The operation, in the spec the index was built from.
    pub operation: OperationId,
    /// Relevance; larger is better. Only comparable within one query.
    pub score: f64,
}

/// The ranking of one action of a task sentence (see [`Index::search_steps`]).
#[derive(Debug, Clone, PartialEq)]
pub struct StepHits {
    /// What was ranked: the action's clause, completed from the clauses around it.
    pub clause: String,
    /// The action's clause as the sentence has it, for showing (see [`Step::written`]).
    pub written: String,
    /// Ranked hits for the clause, best first.
    pub hits: Vec<Hit>,
}

/// Why a query could not be run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    /// The query is empty or only whitespace.
    #[error("query is empty: describe the task to search for, e.g. \"list open issues\"")]
    EmptyQuery,
    #[error(
        "query is {bytes} bytes long, more than the {limit} allowed: describe the task in a sentence"
    )]
    /// The query is longer than [`MAX_QUERY_BYTES`].
    QueryTooLong {
        /// The query's length in bytes (UTF-8).
        bytes: usize,
        /// The limit, [`MAX_QUERY_BYTES`].
        limit: usize,
    },
    /// The query has no letter or digit in any script.
    #[error(
        "query has no words to search for (only punctuation or symbols): use words that describe the task"
    )]
    NoSearchableWords,
}
