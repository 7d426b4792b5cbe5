//! The loader's integration tests, one binary: golden dumps of fixture specs, hostile input,
//! property tests, remote `$ref`s through a caller's fetcher, and the real specs.

mod bad_input;
mod corpus;
mod fuzz;
mod golden;
mod remote;
mod support;
