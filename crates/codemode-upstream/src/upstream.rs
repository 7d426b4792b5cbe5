//! [`Upstream`]: what every call to one upstream shares, built once from its configuration: the
//! spec and its per-operation plans, the checked base URL, credentials, the redactor, the
//! transport and the upstream-wide concurrency limit. The modules that prepare, send and
//! paginate take it; [`crate::Client`] is its public handle. Must not know sessions or runs.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use codemode_spec::{Operation, OperationId, Spec};
use tokio::sync::Semaphore;

use crate::auth::Auth;
use crate::config::UpstreamConfig;
use crate::egress::Base;
use crate::error::{CallError, ConfigError};
use crate::plan::CallPlan;
use crate::secret::Redactor;
use crate::transport::{ReqwestTransport, Transport};

/// The longest a connection attempt of the default transport may take.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) struct Upstream {
    pub(crate) spec: Arc<Spec>,
    pub(crate) config: UpstreamConfig,
    pub(crate) base: Base,
    /// The last hop; requests reach it finished (credentials on, origin checked) and its
    /// responses are limited and redacted after it.
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) redactor: Redactor,
    pub(crate) auth: Auth,
    pub(crate) upstream_slots: Semaphore,
    /// The `User-Agent` header value, parsed once (`None` if the configured text is invalid).
    pub(crate) user_agent: Option<http::HeaderValue>,
    /// One slot per `spec.operations` entry (same index), filled on first use: a slow compile
    /// only ever holds up callers of that same operation.
    plans: Vec<OnceLock<CallPlan>>,
}

impl Upstream {
    pub(crate) fn new(spec: Arc<Spec>, config: UpstreamConfig) -> Result<Upstream, ConfigError> {
        let base = Base::parse(&config.base_url)?;
        let redactor = Redactor::default();
        let auth = Auth::resolve(
            &spec,
            &config.credentials,
            &config.static_headers,
            &redactor,
        )?;
        let transport: Arc<dyn Transport> = match &config.transport {
            Some(transport) => transport.clone(),
            None => Arc::new(ReqwestTransport::new(
                config.call_timeout.min(MAX_CONNECT_TIMEOUT),
            )?),
        };
        let upstream_slots = Semaphore::new(config.max_in_flight_per_upstream.max(1));
        let user_agent = http::HeaderValue::from_str(&config.user_agent).ok();
        let plans = (0..spec.operations.len())
            .map(|_| OnceLock::new())
            .collect();
        Ok(Upstream {
            spec,
            config,
            base,
            transport,
            redactor,
            auth,
            upstream_slots,
            user_agent,
            plans,
        })
    }

    /// An operation of the spec with its plan, compiled on first use.
    pub(crate) fn operation(&self, id: OperationId) -> Option<(&Operation, &CallPlan)> {
        let op = self.spec.operation(id);
        let plan = self
            .plans
            .get(id.index())?
            .get_or_init(|| CallPlan::build(&self.spec, op));
        Some((op, plan))
    }

    /// The error with every secret in its message and data replaced by `[redacted]`.
    pub(crate) fn redact_error(&self, mut error: CallError) -> CallError {
        if self.redactor.is_empty() {
            return error;
        }
        error.message = self.redactor.redact(&error.message);
        self.redactor.redact_value(&mut error.data);
        error
    }
}
