//! Who a request comes from and what it carries for the upstream: the identity a front end
//! authenticated (an OAuth access token's claims) and the upstream credentials a hosted server
//! takes from each request (`[auth.from_request]`).
//!
//! Both live for one request only. The engine never learns how the caller was authenticated
//! (that is the front end's job) and never keeps either beyond the run it was given to.

use std::collections::{BTreeMap, BTreeSet};

use crate::upstream::Secret;

/// An authenticated caller, as the front end verified them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Caller {
    /// The token's `sub`: who this is. Written to the audit log with every upstream call.
    pub subject: String,
    /// The token's `client_id` (or `azp`), when it names the client application.
    pub client_id: Option<String>,
    /// The scopes the token grants. A policy's `write_scope` is looked up here.
    pub scopes: BTreeSet<String>,
}

/// Credential values a request carried for the upstream, by the (lower-case) name of the
/// request header they came in. The values are secrets from the moment they are read.
#[derive(Debug, Clone, Default)]
pub struct RequestCredentials {
    values: BTreeMap<String, Secret>,
}

impl RequestCredentials {
    /// Records the value of the request header `header` (any case).
    pub fn insert(&mut self, header: &str, value: Secret) {
        self.values.insert(header.to_ascii_lowercase(), value);
    }

    /// The value the request carried in `header` (any case), if any.
    pub fn get(&self, header: &str) -> Option<&Secret> {
        self.values.get(&header.to_ascii_lowercase())
    }

    /// Whether the request carried none.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}
