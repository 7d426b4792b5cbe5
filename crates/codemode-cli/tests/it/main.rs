//! The CLI's integration tests, one binary (linking QuickJS, oxc and rustls once, not once per
//! file): the `codemode` binary's public interface, HTTPS through it, the deployment manifests,
//! and the tidy checks that keep the architecture true.

mod cli;
mod from_request;
mod kubernetes;
mod oauth;
mod observability;
#[cfg(feature = "otel")]
mod otel;
mod reload;
mod several_apis;
mod tidy;
mod tls;
