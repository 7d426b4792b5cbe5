//! Configuration: the upstream ([`UpstreamConfig`], [`Credential`]), one run ([`SessionLimits`])
//! and one pagination ([`PageLimits`], [`PageStyle`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::forward::Forwarded;
use crate::secret::Secret;
use crate::trace::PropagateTrace;
use crate::transport::Transport;

/// A credential the host adds to requests on the way out; scripts never see it.
#[derive(Debug, Clone)]
pub enum Credential {
    /// `Authorization: Bearer <token>`.
    Bearer(Secret),
    /// `Authorization: Basic base64(username:password)`.
    Basic {
        /// The user name, sent as given.
        username: String,
        /// The password.
        password: Secret,
    },
    /// An API key placed where the spec's apiKey security scheme says (header, query or cookie).
    ApiKey {
        /// The security scheme's name in the spec; `None` = the spec's first apiKey scheme.
        scheme: Option<String>,
        /// The key itself.
        value: Secret,
    },
    /// OAuth2 client-credentials: a token is fetched from the token URL, cached, and refreshed
    /// when it expires or the upstream answers 401.
    OAuth2ClientCredentials {
        /// `None` = the token URL of the spec's client-credentials flow.
        token_url: Option<String>,
        /// Sent as the form field `client_id` of the token request.
        client_id: String,
        /// Sent as the form field `client_secret` of the token request.
        client_secret: Secret,
        /// Joined by spaces into the `scope` field; left out when empty.
        scopes: Vec<String>,
    },
    /// Taken from each incoming request (a hosted server where each user brings their own
    /// credentials): the value of a request header, placed on the upstream request. It is
    /// given per run ([`Client::session_with`](crate::Client::session_with)), lives in that
    /// run only, and is redacted from everything the run returns.
    FromRequest(Forwarded),
}

/// How to reach one upstream API, and the limits that hold across every run.
#[derive(Debug, Clone)]
pub struct UpstreamConfig {
    /// The only origin requests may go to; its path is the prefix of every operation path.
    pub base_url: String,
    /// Credentials added to every request to the base URL's origin, in order: where two set the
    /// same header the later wins, and either replaces a header of that name a script set.
    /// Default none.
    pub credentials: Vec<Credential>,
    /// Extra headers sent with every request (values are treated as secrets).
    pub static_headers: Vec<(String, Secret)>,
    /// Timeout of one attempt, including reading the body. Default 30 s.
    pub call_timeout: Duration,
    /// Largest response body accepted. Default 10 MiB.
    pub max_response_bytes: usize,
    /// Calls in flight at once to this upstream, across every run. Default 32.
    pub max_in_flight_per_upstream: usize,
    /// Retries after 429/503 or a connection error on an idempotent method. Default 2.
    pub max_retries: u32,
    /// Binary responses up to this size come back base64-encoded; larger ones only described.
    /// Default 1 MiB.
    pub binary_base64_cap: usize,
    /// The `User-Agent` header of every request (replacing a script's); not sent if it is not a
    /// valid header value. Default `codemode/<crate version>`.
    pub user_agent: String,
    /// The last hop requests take ([`crate::ReqwestTransport`] over the network when `None`):
    /// an in-process service ([`crate::InProcess`]), or an embedder's own. Credentials, the
    /// origin check, redirects, limits and redaction are applied around it and cannot be
    /// skipped by it. `Debug` shows only its name.
    pub transport: Option<Arc<dyn Transport>>,
    /// Puts the current trace's context on every request (see [`PropagateTrace`]); nothing is
    /// added when `None`. Default `None`.
    pub propagate_trace: Option<Arc<dyn PropagateTrace>>,
}

impl Default for UpstreamConfig {
    fn default() -> Self {
        UpstreamConfig {
            base_url: String::new(),
            credentials: Vec::new(),
            static_headers: Vec::new(),
            call_timeout: Duration::from_secs(30),
            max_response_bytes: 10 * 1024 * 1024,
            max_in_flight_per_upstream: 32,
            max_retries: 2,
            binary_base64_cap: 1024 * 1024,
            user_agent: concat!("codemode/", env!("CARGO_PKG_VERSION")).to_string(),
            transport: None,
            propagate_trace: None,
        }
    }
}

/// Limits of one run (one `execute`).
#[derive(Debug, Clone)]
pub struct SessionLimits {
    /// Calls the run may make (each page of a pagination counts). Default 50.
    pub max_calls: u32,
    /// Calls in flight at once within the run. Default 10.
    pub max_in_flight: usize,
    /// When the run must be over; retries and waits never go past it.
    pub deadline: Option<Instant>,
    /// How far `deadline` has moved since (time the run spent waiting on a person, which does
    /// not count), read at every check.
    pub deadline_extension: Option<DeadlineExtension>,
}

impl Default for SessionLimits {
    fn default() -> Self {
        SessionLimits {
            max_calls: 50,
            max_in_flight: 10,
            deadline: None,
            deadline_extension: None,
        }
    }
}

impl SessionLimits {
    /// When the run must be over now: `deadline` moved by its extension.
    pub(crate) fn current_deadline(&self) -> Option<Instant> {
        let extension = self
            .deadline_extension
            .as_ref()
            .map_or(Duration::ZERO, |extension| (extension.0)());
        self.deadline
            .map(|deadline| deadline.checked_add(extension).unwrap_or(deadline))
    }
}

/// A live reading of how far a session's deadline has moved; see
/// [`SessionLimits::deadline_extension`].
#[derive(Clone)]
pub struct DeadlineExtension(pub Arc<dyn Fn() -> Duration + Send + Sync>);

impl std::fmt::Debug for DeadlineExtension {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("DeadlineExtension")
            .field(&(self.0)())
            .finish()
    }
}

/// How far [`crate::Session::paginate`] may go.
#[derive(Debug, Clone, Default)]
pub struct PageLimits {
    /// Stop once this many items are collected (the result is cut to exactly this many).
    pub max_items: Option<usize>,
    /// Stop after this many pages; `None` = 10.
    pub max_pages: Option<u32>,
    /// Force a paging style instead of detecting it from the spec.
    pub style: Option<PageStyle>,
}

/// How an API hands out the next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageStyle {
    /// A `Link: <…>; rel="next"` response header (GitHub). Always honoured when present.
    LinkHeader,
    /// `starting_after=<last item id>` while the response says `has_more` (Stripe).
    StartingAfter,
    /// `page=n+1` until `result_info.total_pages` (Cloudflare) or a short/empty page.
    PageNumber {
        /// The query parameter that takes the page number, e.g. `page`.
        page_param: String,
    },
    /// `continue=<metadata.continue>` (Kubernetes).
    ContinueToken,
    /// `after=<last_id or last item id>` while items keep coming and `has_more` is not false
    /// (OpenAI, Discord).
    After {
        /// The query parameter that takes the cursor, e.g. `after`.
        param: String,
    },
}
