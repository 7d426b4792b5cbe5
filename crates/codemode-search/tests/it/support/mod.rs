//! Helpers shared by integration tests (and, by path, the `eval` and `multistep` examples).

pub mod devset;
pub mod multistep;
