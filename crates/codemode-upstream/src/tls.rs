//! Which cryptography TLS uses: rustls with the `ring` provider. Owns installing it as the
//! process's default rustls provider, which reqwest (built with `rustls-no-provider`) reads when
//! a client is built. Must not know clients, requests or anything above the socket.
//!
//! Why ring: reqwest's own `rustls` feature brings aws-lc-rs, a C library whose build needs
//! cmake and is the slowest part of a clean build; ring is already in the tree and builds with
//! the C compiler alone.

/// Makes ring the process's rustls crypto provider, unless one is installed already: an
/// embedder that installed its own (aws-lc-rs, a FIPS build) keeps it. Idempotent and cheap.
///
/// [`ReqwestTransport::new`](crate::ReqwestTransport::new) calls it, so building an engine is
/// enough. Call it yourself before building a `reqwest::Client` of your own in a process where
/// no codemode client has been built yet: with no provider installed, reqwest's `build`
/// panics.
pub fn install_crypto_provider() {
    // `Err` means some provider is already the default: theirs stays, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[cfg(test)]
mod tests {
    use super::install_crypto_provider;

    #[test]
    fn installs_a_default_provider_once_and_keeps_it() {
        install_crypto_provider();
        let first = rustls::crypto::CryptoProvider::get_default()
            .expect("a provider is installed")
            .clone();
        install_crypto_provider();
        let second = rustls::crypto::CryptoProvider::get_default().expect("still installed");
        assert!(
            std::sync::Arc::ptr_eq(&first, second),
            "the first provider stays"
        );
    }
}
