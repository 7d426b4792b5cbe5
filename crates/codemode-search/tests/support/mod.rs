//! Helpers shared by integration tests (and, by path, the `eval` example).

pub mod devset;
