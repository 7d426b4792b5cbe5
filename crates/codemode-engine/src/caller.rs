//! Who a request comes from: the identity a front end authenticated (an OAuth access token's
//! claims). It lives for one request only; the engine never learns how the caller was
//! authenticated (that is the front end's job) and keeps it no longer than the run or search
//! it was given to.

use std::collections::BTreeSet;

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
