//! Integration tests against a real HTTP server (axum on 127.0.0.1:0) started in each test, and
//! against in-process transports (no socket). They assert exactly what arrived: method, path,
//! raw query, headers, body bytes.

mod auth;
mod errors;
mod fixture;
mod pagination;
mod real_spec_calls;
mod real_specs;
mod serialization;
mod transport;
mod validation;
