//! The host side of a run: the generic host-function interface through which data leaves the sandbox.

use std::future::Future;
use std::pin::Pin;

/// The future returned by [`Host::call`].
pub type HostFuture = Pin<Box<dyn Future<Output = Result<serde_json::Value, HostError>> + Send>>;

/// Host side of a run: the only way data leaves the sandbox.
pub trait Host: Send + Sync + 'static {
    /// Async host function `function(arg)` called from JS; it returns a Promise there. The future is
    /// spawned on the sandbox's tokio runtime, so several calls overlap (`Promise.all`).
    fn call(&self, function: &str, arg: serde_json::Value) -> HostFuture;

    /// Sync host function (returns a value directly in JS). It blocks the script's worker thread, so
    /// keep it quick. Default: error "no such function".
    fn call_sync(
        &self,
        function: &str,
        arg: serde_json::Value,
    ) -> Result<serde_json::Value, HostError> {
        let _ = arg;
        Err(HostError::new(
            "Error",
            format!("no such function: {function} is not a synchronous host function"),
        ))
    }
}

/// An error a host function raises; becomes a thrown JS Error with `name`, `message`, and each key of
/// `data` (when it is an object) copied onto the error as a property (e.g. `status`, `body`).
#[derive(Debug, Clone, PartialEq)]
pub struct HostError {
    /// The JS error's `name`, e.g. `Error` or `TypeError`; scripts may branch on it.
    pub name: String,
    /// The JS error's `message`; the agent sees it, so it must hold no secret.
    pub message: String,
    /// Extra properties for the JS error: each key of an object is copied except `name`,
    /// `message` and `stack`; any other value (default `null`) adds nothing.
    pub data: serde_json::Value,
}

impl HostError {
    /// An error without extra data.
    pub fn new(name: impl Into<String>, message: impl Into<String>) -> HostError {
        HostError {
            name: name.into(),
            message: message.into(),
            data: serde_json::Value::Null,
        }
    }

    /// Attach `data` whose keys become properties of the JS error.
    pub fn with_data(mut self, data: serde_json::Value) -> HostError {
        self.data = data;
        self
    }
}

impl std::fmt::Display for HostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.name, self.message)
    }
}

impl std::error::Error for HostError {}
