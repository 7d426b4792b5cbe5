//! Server settings from flags and an optional TOML config file (`--config`), flags winning.
//! Secrets are never written in either: flags name an environment variable or a file, and the
//! config file may use `${VAR}` interpolation, resolved here and handed on as `Secret`s.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use codemode_engine::upstream::{Credential, ForwardTarget, Forwarded, Secret, UpstreamConfig};
use codemode_engine::{EngineConfig, PolicyConfig, RuleSpec, SandboxConfig, SessionSettings};
use serde::Deserialize;

/// The upstream API and how to authenticate to it.
#[derive(Args, Debug, Clone, Default)]
pub struct UpstreamArgs {
    /// Base URL of the real API (the only origin scripts can reach); defaults to the spec's first server.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Send `Authorization: Bearer <token>`, reading the token from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub bearer_env: Option<String>,
    /// Like --bearer-env, reading the token from a file.
    #[arg(long, value_name = "PATH")]
    pub bearer_file: Option<PathBuf>,
    /// HTTP basic auth user name (the password comes from --basic-password-env).
    #[arg(long, value_name = "USER")]
    pub basic_user: Option<String>,
    /// Environment variable holding the basic auth password.
    #[arg(long, value_name = "VAR")]
    pub basic_password_env: Option<String>,
    /// Environment variable holding an API key, sent where the spec's apiKey scheme says (header, query or cookie).
    #[arg(long, value_name = "VAR")]
    pub api_key_env: Option<String>,
    /// Which of the spec's apiKey security schemes the key is for (default: the first).
    #[arg(long, value_name = "NAME")]
    pub api_key_scheme: Option<String>,
    /// OAuth2 client-credentials: the client id (the secret comes from --oauth-client-secret-env).
    #[arg(long, value_name = "ID")]
    pub oauth_client_id: Option<String>,
    /// Environment variable holding the OAuth2 client secret.
    #[arg(long, value_name = "VAR")]
    pub oauth_client_secret_env: Option<String>,
    /// OAuth2 token URL (default: from the spec's clientCredentials flow).
    #[arg(long, value_name = "URL")]
    pub oauth_token_url: Option<String>,
    /// OAuth2 scope to request (repeatable).
    #[arg(long, value_name = "SCOPE")]
    pub oauth_scope: Vec<String>,
    /// Extra header on every upstream request, value from an environment variable: `NAME=VAR` (repeatable).
    #[arg(long, value_name = "NAME=VAR")]
    pub header_env: Vec<String>,
}

/// The accepted range of each numeric setting, shared by the flags and the config file. Values
/// outside are refused with an error naming the range, never clamped: a limit that silently means
/// something else than what was written is worse than no limit.
pub mod ranges {
    use std::ops::RangeInclusive;

    /// `--timeout-ms`, `limits.timeout_ms`: up to an hour.
    pub const TIMEOUT_MS: RangeInclusive<u64> = 1..=3_600_000;
    /// `--memory-mb`, `limits.memory_mb`: up to 64 GiB.
    pub const MEMORY_MB: RangeInclusive<u64> = 1..=65_536;
    /// `--max-calls`, `limits.max_calls`.
    pub const MAX_CALLS: RangeInclusive<u64> = 1..=100_000;
    /// `--workers`, `limits.workers`: one thread each.
    pub const WORKERS: RangeInclusive<u64> = 1..=1_024;
    /// `--output-tokens`, `limits.output_tokens`, `limits.search_tokens`.
    pub const TOKENS: RangeInclusive<u64> = 100..=1_000_000;
    /// `search --limit`.
    pub const SEARCH_LIMIT: RangeInclusive<u64> = 1..=20;
    /// `serve --rate-limit`: tool calls per minute per caller.
    pub const RATE_LIMIT: RangeInclusive<u64> = 1..=1_000_000;
}

/// A clap parser for an integer flag that refuses values outside `range`
/// (clap's error reads `invalid value '0' for '--workers <N>': 0 is not in 1..=1024`).
pub fn ranged<T>(range: std::ops::RangeInclusive<u64>) -> clap::builder::RangedU64ValueParser<T>
where
    T: TryFrom<u64> + Clone + Send + Sync + 'static,
    <T as TryFrom<u64>>::Error: std::error::Error + Send + Sync + 'static,
{
    clap::builder::RangedU64ValueParser::<T>::new().range(range)
}

/// A config file value checked against the range its flag enforces.
pub fn in_range<T>(key: &str, value: T, range: &std::ops::RangeInclusive<u64>) -> anyhow::Result<T>
where
    T: Copy + TryInto<u64> + std::fmt::Display,
{
    match value.try_into() {
        Ok(n) if range.contains(&n) => Ok(value),
        _ => bail!(
            "config: {key} must be in {}..={}, got {value}",
            range.start(),
            range.end()
        ),
    }
}

/// Limits of one run.
#[derive(Args, Debug, Clone, Default)]
pub struct LimitArgs {
    /// Wall-clock limit of one program in ms, including time waiting on the API (1–3600000) [default: 30000].
    #[arg(long, value_name = "N", value_parser = ranged::<u64>(ranges::TIMEOUT_MS))]
    pub timeout_ms: Option<u64>,
    /// Memory limit of one program's JS heap in MiB (1–65536) [default: 64].
    #[arg(long, value_name = "N", value_parser = ranged::<usize>(ranges::MEMORY_MB))]
    pub memory_mb: Option<usize>,
    /// Upstream calls one program may make (1–100000) [default: 50].
    #[arg(long, value_name = "N", value_parser = ranged::<u32>(ranges::MAX_CALLS))]
    pub max_calls: Option<u32>,
    /// Programs running at once (1–1024) [default: number of cores].
    #[arg(long, value_name = "N", value_parser = ranged::<usize>(ranges::WORKERS))]
    pub workers: Option<usize>,
}

/// The config file. Every field is optional; flags override it.
///
/// The policy keys (`read_only` … `confirm_fallback`) repeat `PolicyConfig`'s fields on purpose:
/// serde cannot `flatten` a struct into one that denies unknown fields, and a misspelt key in a
/// file that guards a production account must be an error, not a silently ignored line.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub spec: Option<String>,
    pub base_url: Option<String>,
    #[serde(default)]
    pub auth: AuthConfig,
    /// Extra headers on every upstream request (values may use `${VAR}`). Values are `Secret`s:
    /// a header is a common place for a key.
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, Secret>,
    #[serde(default)]
    pub limits: LimitsConfig,
    #[serde(default)]
    pub server: ServerSection,
    #[serde(default)]
    pub read_only: bool,
    #[serde(default)]
    pub allow: Vec<RuleSpec>,
    #[serde(default)]
    pub deny: Vec<RuleSpec>,
    #[serde(default)]
    pub confirm: Vec<RuleSpec>,
    #[serde(default)]
    pub confirm_mutating: bool,
    #[serde(default)]
    pub confirm_fallback: codemode_engine::ConfirmFallback,
    /// The token scope mutating calls need, for callers authenticated by `[oauth]`.
    pub write_scope: Option<String>,
    /// Dry runs send reads for real unless this is true.
    #[serde(default)]
    pub dry_run_skip_reads: bool,
    /// Several APIs behind one server, each under its name (`[apis.github]`), in file order.
    /// With any, the per-API keys above (`spec`, `base_url`, `auth`, `headers`, the policy keys)
    /// belong in each API's table instead (see `crate::apis`).
    #[serde(default)]
    pub apis: indexmap::IndexMap<String, ApiSection>,
    /// `-` for stderr, or a file path (appended).
    pub audit_log: Option<String>,
    /// `[oauth]`: the HTTP endpoint is an OAuth 2.1 protected resource.
    pub oauth: Option<OAuthSection>,
    /// The file this was read from, for errors about its contents (not a key in the file).
    #[serde(skip)]
    pub path: Option<PathBuf>,
}

/// One `[apis.NAME]` table. Its keys repeat the per-API keys of [`ConfigFile`] on purpose, for
/// the reason given there (no `flatten` beside `deny_unknown_fields`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSection {
    pub spec: Option<String>,
    pub base_url: Option<String>,
    #[serde(default)]
    pub auth: AuthConfig,
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, Secret>,
    #[serde(default)]
    pub read_only: bool,
    #[serde(default)]
    pub allow: Vec<RuleSpec>,
    #[serde(default)]
    pub deny: Vec<RuleSpec>,
    #[serde(default)]
    pub confirm: Vec<RuleSpec>,
    #[serde(default)]
    pub confirm_mutating: bool,
    #[serde(default)]
    pub confirm_fallback: codemode_engine::ConfirmFallback,
    pub write_scope: Option<String>,
    /// Upstream calls one program may make to this API (default: `limits.max_calls`, else 50).
    pub max_calls: Option<u32>,
    /// A spec that fails to load leaves this API out (with a warning) instead of failing the start.
    #[serde(default)]
    pub optional: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    pub bearer: Option<Secret>,
    pub basic_user: Option<String>,
    pub basic_password: Option<Secret>,
    pub api_key: Option<Secret>,
    pub api_key_scheme: Option<String>,
    pub oauth_client_id: Option<String>,
    pub oauth_client_secret: Option<Secret>,
    pub oauth_token_url: Option<String>,
    #[serde(default)]
    pub oauth_scopes: Vec<String>,
    /// Credentials each MCP request brings for itself (`[auth.from_request]`, HTTP only).
    pub from_request: Option<FromRequestConfig>,
}

/// `[auth.from_request]`: a hosted server where each user's calls reach the API with that
/// user's own credentials, read from a header of each MCP request (never its `Authorization`,
/// which authenticates the client to this server).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FromRequestConfig {
    /// Request header whose value is sent on as `Authorization` (`Bearer …`, `token …`).
    pub header: Option<String>,
    /// Request header whose value is sent as the spec's API key (`api_key_scheme` picks the
    /// scheme, as for `api_key`). A header name, not a key: the key comes with each request.
    pub api_key_header: Option<String>,
    /// Upstream header name = the request header its value comes from.
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    /// A request without these headers gets an error naming them, and nothing is sent
    /// (default). False: calls go out without them.
    #[serde(default = "required_by_default")]
    pub required: bool,
}

fn required_by_default() -> bool {
    true
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    pub timeout_ms: Option<u64>,
    pub memory_mb: Option<usize>,
    pub max_calls: Option<u32>,
    pub workers: Option<usize>,
    pub output_tokens: Option<usize>,
    pub search_tokens: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    pub http: Option<String>,
    pub tools: Option<String>,
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// Environment variable holding the bearer token clients must send to `/mcp`.
    pub auth_token_env: Option<String>,
    /// Environment variable holding the key approval states are sealed with (at least 32
    /// bytes; replicas share it).
    pub approval_key_env: Option<String>,
    /// How long an approval may take, in seconds (1–86400) [default: 600].
    pub approval_ttl_secs: Option<u64>,
    /// The largest approval state handed to a client, in bytes (1024–4194304) [default: 524288].
    pub approval_state_max_bytes: Option<usize>,
    /// `text` or `json`, as `--log-format`.
    pub log_format: Option<crate::logs::LogFormat>,
    /// `GET /metrics` on an address of its own, as `--metrics-addr`.
    pub metrics_addr: Option<String>,
    /// `[server.rate_limit]`: tool calls per caller, as `--rate-limit`.
    pub rate_limit: Option<RateLimitConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Tool calls per minute, per caller.
    pub per_minute: u32,
    /// Calls at once after a quiet spell (default a tenth of `per_minute`).
    pub burst: Option<u32>,
}

/// `[oauth]`: access tokens from an external issuer protect `/mcp` (HTTP only; not with
/// `auth_token_env`). `resource` is this server's public URL and is never guessed from a request.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthSection {
    /// The issuer identifier; tokens' `iss` must equal it.
    pub issuer: String,
    /// This endpoint's public URL (`https://codemode.example.com/mcp`); tokens' `aud` must hold it.
    pub resource: String,
    /// Other names of this resource `aud` may hold (Entra ID v2: the application's client id).
    #[serde(default)]
    pub audiences: Vec<String>,
    /// The JWKS URL; discovered from the issuer's metadata when left out.
    pub jwks_url: Option<String>,
    /// Accepted algorithms (default: the asymmetric ones; `none` and `HS*` are refused).
    #[serde(default)]
    pub algorithms: Vec<String>,
    /// Scopes every token must carry (403 without them).
    #[serde(default)]
    pub required_scopes: Vec<String>,
    /// Scopes the metadata document lists (default: `required_scopes`).
    #[serde(default)]
    pub scopes_supported: Vec<String>,
    /// Authorization servers the metadata document names (default: `[issuer]`).
    #[serde(default)]
    pub authorization_servers: Vec<String>,
    /// Clock skew allowed on `exp`/`nbf`, seconds (default 30, at most 300).
    pub leeway_secs: Option<u64>,
    /// How long one JWKS or discovery fetch may take, milliseconds (default 5000).
    pub jwks_timeout_ms: Option<u64>,
    /// The least time between two JWKS fetches, seconds (default 60).
    pub min_refresh_interval_secs: Option<u64>,
    /// How old the cached keys may get before they are fetched again, seconds (default 3600).
    pub max_key_age_secs: Option<u64>,
    /// Only `typ: at+jwt` tokens (RFC 9068), so ID tokens cannot pass for access tokens.
    #[serde(default)]
    pub require_at_jwt: bool,
}

impl OAuthSection {
    /// The verifier's config, checked (a refused algorithm or URL fails the start).
    pub fn config(&self) -> anyhow::Result<codemode_mcp::oauth::OAuthConfig> {
        use std::time::Duration;
        let mut config =
            codemode_mcp::oauth::OAuthConfig::new(self.issuer.trim(), self.resource.trim());
        config.jwks_url = self.jwks_url.clone();
        config.audiences = self.audiences.clone();
        config.algorithms = self.algorithms.clone();
        config.required_scopes = self.required_scopes.clone();
        config.scopes_supported = self.scopes_supported.clone();
        config.authorization_servers = self.authorization_servers.clone();
        if let Some(secs) = self.leeway_secs {
            config.leeway = Duration::from_secs(secs);
        }
        if let Some(ms) = self.jwks_timeout_ms {
            config.jwks_timeout = Duration::from_millis(ms);
        }
        if let Some(secs) = self.min_refresh_interval_secs {
            config.min_refresh_interval = Duration::from_secs(secs);
        }
        config.require_at_jwt = self.require_at_jwt;
        if let Some(secs) = self.max_key_age_secs {
            config.max_key_age = Duration::from_secs(secs);
        }
        config.check().context("config: invalid [oauth] section")?;
        Ok(config)
    }
}

impl ConfigFile {
    pub fn read(path: &Path) -> anyhow::Result<ConfigFile> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        let mut file: ConfigFile = toml::from_str(&text)
            .with_context(|| format!("invalid config file {}", path.display()))?;
        file.path = Some(path.to_path_buf());
        Ok(file)
    }

    /// The policy rules of the file, checked against `spec`: a rule naming a method, tag or
    /// operation that does not exist is an error naming the file, the rule and the nearest name.
    pub fn policy(
        &self,
        read_only: bool,
        spec: &codemode_engine::spec::Spec,
    ) -> anyhow::Result<PolicyConfig> {
        let policy = PolicyConfig {
            read_only: read_only || self.read_only,
            allow: self.allow.clone(),
            deny: self.deny.clone(),
            confirm: self.confirm.clone(),
            confirm_mutating: self.confirm_mutating,
            confirm_fallback: self.confirm_fallback,
            write_scope: self.write_scope.clone(),
        };
        policy.check(spec).with_context(|| match &self.path {
            Some(path) => format!("invalid policy in config file {}", path.display()),
            None => "invalid policy".to_string(),
        })?;
        Ok(policy)
    }
}

/// Replaces `${VAR}` with the variable's value; a missing variable is an error naming it.
pub fn interpolate(text: &str) -> anyhow::Result<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            bail!("unclosed ${{ in config value")
        };
        let name = &after[..end];
        let value = std::env::var(name).with_context(|| {
            format!("environment variable {name} is not set (used in the config file)")
        })?;
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn env_secret(var: &str, what: &str) -> anyhow::Result<Secret> {
    let value = std::env::var(var)
        .with_context(|| format!("environment variable {var} (for {what}) is not set"))?;
    if value.trim().is_empty() {
        bail!("environment variable {var} (for {what}) is empty");
    }
    Ok(Secret::new(value.trim().to_string()))
}

fn config_secret(value: &Option<Secret>) -> anyhow::Result<Option<Secret>> {
    value
        .as_ref()
        .map(|v| interpolate(v.expose()).map(Secret::new))
        .transpose()
}

/// Credentials from flags first, then the config file's `[auth]` (or an API's).
pub fn credentials(args: &UpstreamArgs, auth: &AuthConfig) -> anyhow::Result<Vec<Credential>> {
    let mut out = Vec::new();
    if let Some(var) = &args.bearer_env {
        out.push(Credential::Bearer(env_secret(var, "--bearer-env")?));
    } else if let Some(path) = &args.bearer_file {
        let token = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read --bearer-file {}", path.display()))?;
        out.push(Credential::Bearer(Secret::new(token.trim().to_string())));
    } else if let Some(token) = config_secret(&auth.bearer)? {
        out.push(Credential::Bearer(token));
    }
    let basic_user = args.basic_user.clone().or_else(|| auth.basic_user.clone());
    if let Some(username) = basic_user {
        let password = match &args.basic_password_env {
            Some(var) => env_secret(var, "--basic-password-env")?,
            None => {
                config_secret(&auth.basic_password)?.unwrap_or_else(|| Secret::new(String::new()))
            }
        };
        out.push(Credential::Basic { username, password });
    }
    let api_key = match &args.api_key_env {
        Some(var) => Some(env_secret(var, "--api-key-env")?),
        None => config_secret(&auth.api_key)?,
    };
    if let Some(value) = api_key {
        out.push(Credential::ApiKey {
            scheme: args
                .api_key_scheme
                .clone()
                .or_else(|| auth.api_key_scheme.clone()),
            value,
        });
    }
    let client_id = args
        .oauth_client_id
        .clone()
        .or_else(|| auth.oauth_client_id.clone());
    if let Some(client_id) = client_id {
        let client_secret = match &args.oauth_client_secret_env {
            Some(var) => env_secret(var, "--oauth-client-secret-env")?,
            None => config_secret(&auth.oauth_client_secret)?
                .context("OAuth2 needs a client secret (--oauth-client-secret-env)")?,
        };
        let scopes = if args.oauth_scope.is_empty() {
            auth.oauth_scopes.clone()
        } else {
            args.oauth_scope.clone()
        };
        out.push(Credential::OAuth2ClientCredentials {
            token_url: args
                .oauth_token_url
                .clone()
                .or_else(|| auth.oauth_token_url.clone()),
            client_id,
            client_secret,
            scopes,
        });
    }
    if let Some(from_request) = &auth.from_request {
        out.extend(forwarded(from_request, &out, auth, args)?);
    }
    Ok(out)
}

/// The `[auth.from_request]` mappings as credentials. Refuses a mapping that would fight a
/// configured credential over the same header: which one is sent must never be a guess.
fn forwarded(
    config: &FromRequestConfig,
    configured: &[Credential],
    auth: &AuthConfig,
    args: &UpstreamArgs,
) -> anyhow::Result<Vec<Credential>> {
    let mut out = Vec::new();
    let sets_authorization = configured.iter().any(|c| {
        matches!(
            c,
            Credential::Bearer(_)
                | Credential::Basic { .. }
                | Credential::OAuth2ClientCredentials { .. }
        )
    });
    if let Some(header) = &config.header {
        anyhow::ensure!(
            !sets_authorization,
            "[auth.from_request] header = {header:?} sends the request's credential as \
             Authorization, and a bearer, basic or OAuth2 credential is configured too; keep one"
        );
        out.push(forward(
            header,
            ForwardTarget::Authorization,
            config.required,
        ));
    }
    if let Some(header) = &config.api_key_header {
        anyhow::ensure!(
            !configured
                .iter()
                .any(|c| matches!(c, Credential::ApiKey { .. })),
            "[auth.from_request] api_key_header = {header:?} and a configured api_key both set the API \
             key; keep one"
        );
        let scheme = args
            .api_key_scheme
            .clone()
            .or_else(|| auth.api_key_scheme.clone());
        out.push(forward(
            header,
            ForwardTarget::ApiKey { scheme },
            config.required,
        ));
    }
    for (upstream, header) in &config.headers {
        anyhow::ensure!(
            !upstream.trim().eq_ignore_ascii_case("authorization")
                || !(sets_authorization || config.header.is_some()),
            "[auth.from_request] headers sends {header:?} as Authorization, which a configured \
             credential (or `header`) sets too; keep one"
        );
        out.push(forward(
            header,
            ForwardTarget::Header(upstream.clone()),
            config.required,
        ));
    }
    anyhow::ensure!(
        !out.is_empty(),
        "[auth.from_request] maps no header: set header, api_key_header or headers"
    );
    Ok(out)
}

fn forward(header: &str, target: ForwardTarget, required: bool) -> Credential {
    Credential::FromRequest(Forwarded {
        header: header.to_string(),
        target,
        required,
    })
}

/// Extra headers from `--header-env` first, then the config file's `[headers]` (or an API's).
pub fn static_headers(
    args: &UpstreamArgs,
    headers: &std::collections::BTreeMap<String, Secret>,
) -> anyhow::Result<Vec<(String, Secret)>> {
    let mut out = Vec::new();
    for pair in &args.header_env {
        let Some((name, var)) = pair.split_once('=') else {
            bail!("--header-env takes NAME=VAR, got {pair:?}")
        };
        out.push((
            name.trim().to_string(),
            env_secret(var.trim(), "--header-env")?,
        ));
    }
    for (name, value) in headers {
        out.push((name.clone(), Secret::new(interpolate(value.expose())?)));
    }
    Ok(out)
}

/// The spec to load: `--spec` first, then `spec = …` in the config file.
pub fn spec_source(flag: Option<&str>, file: &ConfigFile) -> anyhow::Result<String> {
    match flag.or(file.spec.as_deref()) {
        Some(spec) => Ok(spec.to_string()),
        None => bail!("no spec: pass --spec FILE|URL (or `spec = …` in the config file)"),
    }
}

/// `http://host…` or `https://host…` with a non-empty host.
pub fn is_absolute_http(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|rest| !rest.starts_with(['/', ':', '?', '#']) && !rest.is_empty())
}

/// Where a spec-less base URL comes from: flag, config file, then the spec's first server.
pub fn base_url(
    args: &UpstreamArgs,
    file: &ConfigFile,
    spec: &codemode_engine::spec::Spec,
) -> Option<String> {
    args.base_url
        .clone()
        .or_else(|| {
            file.base_url
                .as_deref()
                .map(|u| interpolate(u).unwrap_or_else(|_| u.to_string()))
        })
        .or_else(|| {
            spec.default_server_url()
                .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
        })
}

impl LimitsConfig {
    /// Checks each limit the file sets against its range (flags are checked by clap).
    pub fn check(&self) -> anyhow::Result<()> {
        use ranges::*;
        optional("limits.timeout_ms", self.timeout_ms, &TIMEOUT_MS)?;
        optional("limits.memory_mb", self.memory_mb, &MEMORY_MB)?;
        optional("limits.max_calls", self.max_calls, &MAX_CALLS)?;
        optional("limits.workers", self.workers, &WORKERS)?;
        optional("limits.output_tokens", self.output_tokens, &TOKENS)?;
        optional("limits.search_tokens", self.search_tokens, &TOKENS)?;
        Ok(())
    }
}

fn optional<T>(
    key: &str,
    value: Option<T>,
    range: &std::ops::RangeInclusive<u64>,
) -> anyhow::Result<Option<T>>
where
    T: Copy + TryInto<u64> + std::fmt::Display,
{
    value.map(|v| in_range(key, v, range)).transpose()
}

pub struct EngineInputs<'a> {
    pub upstream: &'a UpstreamArgs,
    pub limits: &'a LimitArgs,
    pub file: &'a ConfigFile,
    pub read_only: bool,
    pub require_base_url: bool,
}

/// Everything the engine needs, from flags and the config file.
pub fn engine_config(
    inputs: EngineInputs<'_>,
    spec: &codemode_engine::spec::Spec,
) -> anyhow::Result<EngineConfig> {
    let EngineInputs {
        upstream,
        limits,
        file,
        read_only,
        require_base_url,
    } = inputs;
    let Shared {
        sandbox,
        session,
        audit,
    } = shared_settings(limits, file)?;
    let policy = file.policy(read_only, spec)?;
    let upstream_config = match base_url(upstream, file, spec) {
        Some(base_url) => Some(UpstreamConfig {
            base_url,
            credentials: credentials(upstream, &file.auth)?,
            static_headers: static_headers(upstream, &file.headers)?,
            propagate_trace: trace_propagation(),
            ..UpstreamConfig::default()
        }),
        None if require_base_url => {
            bail!("no base URL: pass --base-url (the spec declares no absolute server URL)")
        }
        None => None,
    };
    Ok(EngineConfig {
        sandbox,
        upstream: upstream_config,
        session,
        search_budget_tokens: file.limits.search_tokens,
        policy,
        dry_run_skip_reads: file.dry_run_skip_reads,
        audit,
    })
}

/// How upstream requests carry the trace they belong to: W3C trace context when traces are
/// exported (the `otel` feature, with an OTLP endpoint set), else nothing.
pub fn trace_propagation() -> Option<Arc<dyn codemode_engine::upstream::PropagateTrace>> {
    #[cfg(feature = "otel")]
    if crate::otel::wanted() {
        return Some(Arc::new(crate::otel::W3cTraceContext));
    }
    None
}

/// What every API of a server shares, from flags and the config file: the sandbox's limits, the
/// default per-run call limits, and the audit log.
pub struct Shared {
    pub sandbox: SandboxConfig,
    pub session: SessionSettings,
    pub audit: Option<Box<dyn std::io::Write + Send>>,
}

pub fn shared_settings(limits: &LimitArgs, file: &ConfigFile) -> anyhow::Result<Shared> {
    // Results over the output budget are cut structurally by the server, so a program may return
    // more than the sandbox's conservative default before the cut.
    let mut sandbox = SandboxConfig {
        max_result_bytes: 16 * 1024 * 1024,
        ..SandboxConfig::default()
    };
    file.limits.check()?;
    let file_limits = &file.limits;
    if let Some(ms) = limits.timeout_ms.or(file_limits.timeout_ms) {
        sandbox.timeout = Duration::from_millis(ms);
    }
    if let Some(mb) = limits.memory_mb.or(file_limits.memory_mb) {
        sandbox.memory_limit_bytes = mb * 1024 * 1024;
    }
    if let Some(workers) = limits.workers.or(file_limits.workers) {
        sandbox.workers = workers;
    }
    let mut session = SessionSettings::default();
    if let Some(n) = limits.max_calls.or(file_limits.max_calls) {
        session.max_calls = n;
        sandbox.max_host_calls = sandbox.max_host_calls.max(n.saturating_add(20));
    }
    let audit: Option<Box<dyn std::io::Write + Send>> = match file.audit_log.as_deref() {
        None => None,
        Some("-") => Some(Box::new(std::io::stderr())),
        Some(path) => Some(Box::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("cannot open audit log {path}"))?,
        )),
    };
    Ok(Shared {
        sandbox,
        session,
        audit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolation() {
        let path = std::env::var("PATH").unwrap();
        assert_eq!(interpolate("<${PATH}>").unwrap(), format!("<{path}>"));
        assert_eq!(interpolate("plain").unwrap(), "plain");
        let err = interpolate("${CODEMODE_TEST_MISSING_VAR}")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("CODEMODE_TEST_MISSING_VAR is not set"),
            "{err}"
        );
        assert!(interpolate("${OPEN").is_err());
    }

    #[test]
    fn config_file_parses_every_section() {
        let file: ConfigFile = toml::from_str(
            r#"
spec = "api.yaml"
base_url = "https://api.example.com"
read_only = true
confirm_mutating = true
confirm_fallback = "allow"
audit_log = "-"
[auth]
bearer = "${TOKEN}"
[headers]
"X-Team" = "platform"
[limits]
timeout_ms = 5000
memory_mb = 32
[server]
http = "127.0.0.1:8080"
tools = "per-operation"
[[deny]]
method = "DELETE"
[[allow]]
path = "/repos/*/issues"
"#,
        )
        .unwrap();
        assert!(file.read_only);
        assert_eq!(file.deny[0].method.as_deref(), Some("DELETE"));
        assert_eq!(file.limits.timeout_ms, Some(5000));
        assert_eq!(file.server.tools.as_deref(), Some("per-operation"));
        assert!(toml::from_str::<ConfigFile>("unknown_key = 1").is_err());
    }

    /// Every configuration type that can hold a secret, printed with `{:?}` and `{:#?}`.
    #[test]
    fn no_secret_in_any_debug() {
        let secrets = [
            "bearer_secret_1",
            "basic_secret_2",
            "api_key_secret_3",
            "client_secret_4",
            "header_secret_5",
            "endpoint_secret_6",
        ];
        let upstream = UpstreamConfig {
            base_url: "https://api.example.com".into(),
            credentials: vec![
                Credential::Bearer(Secret::new(secrets[0])),
                Credential::Basic {
                    username: "ana".into(),
                    password: Secret::new(secrets[1]),
                },
                Credential::ApiKey {
                    scheme: Some("key".into()),
                    value: Secret::new(secrets[2]),
                },
                Credential::OAuth2ClientCredentials {
                    token_url: Some("https://auth.example.com/token".into()),
                    client_id: "client".into(),
                    client_secret: Secret::new(secrets[3]),
                    scopes: vec!["read".into()],
                },
            ],
            static_headers: vec![("X-Api-Key".into(), Secret::new(secrets[4]))],
            ..UpstreamConfig::default()
        };
        let engine = EngineConfig {
            upstream: Some(upstream.clone()),
            audit: Some(Box::new(std::io::sink())),
            ..EngineConfig::default()
        };
        let server = codemode_mcp::ServerConfig {
            auth_token: Some(Secret::new(secrets[5])),
            ..codemode_mcp::ServerConfig::default()
        };
        let file: ConfigFile = toml::from_str(&format!(
            "[auth]\nbearer = \"{}\"\nbasic_user = \"ana\"\nbasic_password = \"{}\"\n\
             api_key = \"{}\"\noauth_client_id = \"client\"\noauth_client_secret = \"{}\"\n\
             [headers]\n\"X-Api-Key\" = \"{}\"\n",
            secrets[0], secrets[1], secrets[2], secrets[3], secrets[4]
        ))
        .expect("config parses");
        let printed = [
            format!("{upstream:?}"),
            format!("{upstream:#?}"),
            format!("{engine:?}"),
            format!("{engine:#?}"),
            format!("{server:?}"),
            format!("{server:#?}"),
            format!("{file:?}"),
            format!("{file:#?}"),
        ];
        for text in &printed {
            for secret in secrets {
                assert!(!text.contains(secret), "{secret} in {text}");
            }
            assert!(text.contains("[redacted]"), "{text}");
        }
    }

    #[test]
    fn unknown_keys_are_refused_by_name() {
        for (text, key) in [
            ("unknown_key = 1", "unknown_key"),
            ("[[deny]]\nmethdo = \"DELETE\"", "methdo"),
            ("[limits]\ntimeout = 5", "timeout"),
            ("[server]\nauth_token = \"x\"", "auth_token"),
            ("[auth]\ntoken = \"x\"", "token"),
        ] {
            let error = toml::from_str::<ConfigFile>(text)
                .expect_err(text)
                .to_string();
            assert!(error.contains(&format!("unknown field `{key}`")), "{error}");
        }
    }

    fn petstore() -> codemode_engine::spec::Spec {
        codemode_engine::spec::load_str(
            "petstore.yaml",
            r#"
openapi: 3.0.0
info: {title: t, version: "1"}
paths:
  /pets:
    get: {operationId: listPets, tags: [pets], responses: {"200": {description: ok}}}
    delete: {operationId: deletePets, tags: [admin], responses: {"204": {description: ok}}}
"#,
        )
        .expect("spec loads")
    }

    #[test]
    fn policy_typos_name_the_file_the_rule_and_the_real_name() {
        let mut file: ConfigFile =
            toml::from_str("[[allow]]\ntag = \"pets\"\n[[deny]]\nmethod = \"DELTE\"\n")
                .expect("config parses");
        file.path = Some(PathBuf::from("/etc/codemode.toml"));
        let error = file
            .policy(false, &petstore())
            .expect_err("the typo is refused");
        assert_eq!(
            format!("{error:#}"),
            "invalid policy in config file /etc/codemode.toml: [[deny]] entry 1: method \"DELTE\" \
             is not an HTTP method (did you mean \"DELETE\"?)"
        );
        file.deny.clear();
        file.confirm = toml::from_str::<ConfigFile>("[[confirm]]\noperation = \"listPet\"")
            .expect("parses")
            .confirm;
        let error = format!(
            "{:#}",
            file.policy(false, &petstore()).expect_err("refused")
        );
        assert!(
            error.ends_with(r#"[[confirm]] entry 1: the spec has no operation "listPet" (did you mean "listPets"?)"#),
            "{error}"
        );
        file.confirm.clear();
        file.allow[0].tag = Some("pet".into());
        let error = format!(
            "{:#}",
            file.policy(false, &petstore()).expect_err("refused")
        );
        assert!(
            error.ends_with(
                r#"[[allow]] entry 1: no operation has the tag "pet" (did you mean "pets"?)"#
            ),
            "{error}"
        );
        file.allow[0].tag = Some("admin".into());
        assert!(file.policy(true, &petstore()).expect("valid").read_only);
        // A glob that does not compile says why.
        file.allow[0].path = Some("/pets/[".into());
        let error = format!(
            "{:#}",
            file.policy(false, &petstore()).expect_err("refused")
        );
        assert!(
            error.contains(r#"[[allow]] entry 1: invalid path glob "/pets/[": "#),
            "{error}"
        );
    }

    #[test]
    fn secrets_in_a_config_file_never_print() {
        let text = r#"
[auth]
bearer = "ghp_bearer_value"
basic_user = "ana"
basic_password = "basic_password_value"
api_key = "api_key_value"
oauth_client_secret = "client_secret_value"
"#;
        let text = format!("{text}[headers]\n\"X-Api-Key\" = \"header_key_value\"\n");
        let file: ConfigFile = toml::from_str(&text).expect("config parses");
        for printed in [format!("{file:?}"), format!("{file:#?}")] {
            for secret in [
                "ghp_bearer_value",
                "basic_password_value",
                "api_key_value",
                "client_secret_value",
                "header_key_value",
            ] {
                assert!(!printed.contains(secret), "{secret} in {printed}");
            }
        }
        let printed = format!("{file:?}");
        assert!(printed.contains("ana"), "{printed}");
        // The value itself is still there for the credential.
        assert_eq!(
            file.auth.bearer.as_ref().map(Secret::expose),
            Some("ghp_bearer_value")
        );
    }

    #[test]
    fn the_oauth_section_becomes_the_verifier_config() {
        let text = r#"
[oauth]
issuer = "https://login.microsoftonline.com/tenant/v2.0"
resource = "https://codemode.example.com/mcp"
audiences = ["11111111-2222-3333-4444-555555555555"]
required_scopes = ["mcp"]
scopes_supported = ["mcp", "write"]
algorithms = ["RS256"]
leeway_secs = 10
jwks_timeout_ms = 1500
min_refresh_interval_secs = 30
max_key_age_secs = 600
"#;
        let file: ConfigFile = toml::from_str(text).expect("config parses");
        let config = file
            .oauth
            .as_ref()
            .expect("[oauth]")
            .config()
            .expect("valid");
        assert_eq!(
            config.issuer,
            "https://login.microsoftonline.com/tenant/v2.0"
        );
        assert_eq!(config.resource, "https://codemode.example.com/mcp");
        assert_eq!(config.audiences, ["11111111-2222-3333-4444-555555555555"]);
        assert_eq!(config.required_scopes, ["mcp"]);
        assert_eq!(config.scopes_supported(), ["mcp", "write"]);
        assert_eq!(config.algorithms, ["RS256"]);
        assert_eq!(config.leeway, Duration::from_secs(10));
        assert_eq!(config.jwks_timeout, Duration::from_millis(1500));
        assert_eq!(config.min_refresh_interval, Duration::from_secs(30));
        assert_eq!(config.max_key_age, Duration::from_secs(600));
        assert_eq!(config.jwks_url, None, "discovered from the issuer");

        let refused: ConfigFile = toml::from_str(
            "[oauth]\nissuer = \"https://id.example.com\"\nresource = \"https://m.example.com/mcp\"\nalgorithms = [\"HS256\"]\n",
        )
        .expect("config parses");
        let error = refused.oauth.expect("[oauth]").config().expect_err("HS256");
        assert_eq!(
            format!("{error:#}"),
            "config: invalid [oauth] section: algorithm \"HS256\" is never accepted: HMAC needs a shared secret, which a JWKS never publishes, and a public key used as one lets anyone sign"
        );
    }
}
