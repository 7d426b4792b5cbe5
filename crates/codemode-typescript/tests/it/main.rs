//! The declaration crate's integration tests, one binary: fixtures, request shapes, the real
//! specs and search answers, each type-checked with `tsc`.

mod answers;
mod fixtures;
mod real_specs;
mod request_shapes;
mod support;
