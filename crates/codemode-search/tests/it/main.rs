//! The search crate's integration tests, one binary: ranking on a fixture spec, the dev query
//! sets and the multi-step task set on the real specs.

mod dev_set;
mod multi_step;
mod search;
mod support;
