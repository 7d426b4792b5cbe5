//! `codemode serve`: the MCP server, over stdio (default) or streamable HTTP. Installs the log
//! subscriber (`--log-format`), announces the start (a plain line in text mode, a `server
//! started` event with the spec, operation count and load time in JSON mode) and logs the stop.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use codemode_engine::Engine;
use codemode_mcp::{RateLimit, ServerConfig, ToolMode};

use crate::config::{
    ConfigFile, EngineInputs, LimitArgs, UpstreamArgs, engine_config, interpolate,
};
use crate::logs::LogFormat;
use crate::options::SpecSource;

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// The spec: a file (.json, .yaml, .yml, optionally .gz) or an http(s) URL. May come from --config.
    #[arg(long)]
    pub spec: Option<String>,
    /// Serve streamable HTTP on this address (endpoint /mcp) instead of stdio, e.g. 127.0.0.1:8080 or localhost:8080.
    #[arg(long, value_name = "ADDR")]
    pub http: Option<String>,
    /// Serve `GET /metrics` on this address instead of beside /mcp (a port kept inside the network), e.g. 0.0.0.0:9090. Needs --http.
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<String>,
    /// Tool shape: `code` (search + execute) or `per-operation` (one tool per operation).
    #[arg(long, value_enum)]
    pub tools: Option<ToolsFlag>,
    /// Refuse every call that changes data (only GET and HEAD, plus config `[[allow]]` rules, go out).
    #[arg(long)]
    pub read_only: bool,
    /// Reload the spec (or specs) when a spec file changes; SIGHUP reloads too. Calls in flight finish on the old spec; a spec that fails to load keeps the old one.
    #[arg(long)]
    pub watch: bool,
    /// Token budget of one tool result (o200k; 100–1000000) [default: 6000].
    #[arg(long, value_name = "N", value_parser = crate::config::ranged::<usize>(crate::config::ranges::TOKENS))]
    pub output_tokens: Option<usize>,
    /// Environment variable holding a bearer token that HTTP clients must send to /mcp.
    #[arg(long, value_name = "VAR")]
    pub auth_token_env: Option<String>,
    /// Tool calls one caller may make per minute (per OAuth token subject; callers no token names share one allowance), in bursts of up to a tenth of it (1–1000000) [default: no limit].
    #[arg(long, value_name = "N", value_parser = crate::config::ranged::<u32>(crate::config::ranges::RATE_LIMIT))]
    pub rate_limit: Option<u32>,
    /// Environment variable holding the key (at least 32 bytes) that approval states are sealed with; replicas behind one load balancer need the same key.
    #[arg(long, value_name = "VAR")]
    pub approval_key_env: Option<String>,
    /// Host header values accepted over HTTP besides localhost (repeatable).
    #[arg(long, value_name = "HOST")]
    pub allowed_host: Vec<String>,
    /// Origin header values accepted over HTTP besides localhost (repeatable).
    #[arg(long, value_name = "ORIGIN")]
    pub allowed_origin: Vec<String>,
    /// A TOML config file with any of these settings (flags win); values may use ${VAR}.
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub upstream: UpstreamArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub source: SpecSource,
    #[command(flatten)]
    pub apis: crate::apis::ApiArgs,
    /// Log lines on stderr as `text` or `json` (one object per line); levels from RUST_LOG
    /// (e.g. `debug`, `codemode=debug,warn`) [default: text, level info].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToolsFlag {
    Code,
    PerOperation,
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let file = match &args.config {
        Some(path) => ConfigFile::read(path)?,
        None => ConfigFile::default(),
    };
    let log_format = args
        .log_format
        .or(file.server.log_format)
        .unwrap_or_default();
    let _logs = crate::logs::install(log_format)?;
    let prepared = prepare_engine(&args, &file)?;
    let mut server_config = server_config(&args, &file)?;
    server_config.spec_load = Some(prepared.load_time());
    let http = args.http.clone().or_else(|| file.server.http.clone());
    let metrics_addr = args
        .metrics_addr
        .clone()
        .or_else(|| file.server.metrics_addr.clone());
    if metrics_addr.is_some() && http.is_none() {
        bail!("--metrics-addr serves the metrics of the HTTP server: it needs --http");
    }
    let metrics = metrics_addr.as_ref().map(|_| {
        let registry = codemode_mcp::MetricsRegistry::new(server_config.spec_load);
        server_config.metrics_elsewhere = Some(registry.clone());
        registry
    });
    if server_config.oauth.is_some() && http.is_none() {
        bail!(
            "[oauth] protects the HTTP endpoint, and this server would use stdio: serve HTTP with --http HOST:PORT (or http under [server])"
        );
    }
    let loaded_line = prepared.loaded_line();
    let start = StartFields::new(&prepared);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let watched = prepared.sources();
    runtime.block_on(async move {
        let built = prepared.build()?;
        refuse_credentials_without_requests(&built, http.is_some())?;
        let engine = codemode_mcp::EngineHandle::new(Arc::new(built));
        let again = args.clone();
        crate::reload::spawn(
            engine.clone(),
            crate::reload::Watch {
                files: if args.watch { watched } else { Vec::new() },
                rebuild: Arc::new(move || {
                    let file = match &again.config {
                        Some(path) => ConfigFile::read(path)?,
                        None => ConfigFile::default(),
                    };
                    let prepared = prepare_engine(&again, &file)?;
                    let took = prepared.load_time();
                    Ok((prepared.build()?, took))
                }),
            },
        );
        let mode = match server_config.mode {
            ToolMode::CodeMode => "search+execute",
            ToolMode::PerOperation => "per-operation",
            // `serve` builds the mode from its flags, which name only the two above.
            _ => "other",
        };
        match http {
            Some(addr) => {
                if let (Some(metrics_addr), Some(registry)) = (&metrics_addr, &metrics) {
                    serve_metrics(metrics_addr, registry).await?;
                }
                let listener = listen(&addr).await?;
                let bound = listener.local_addr()?;
                start.announce(
                    log_format,
                    &format!(
                        "codemode: {loaded_line}; tools {mode}; streamable HTTP on http://{bound}/mcp"
                    ),
                    mode,
                );
                codemode_mcp::serve_http_listener(
                    engine,
                    server_config,
                    listener,
                    shutdown_signal(),
                )
                .await?;
            }
            None => {
                start.announce(
                    log_format,
                    &format!("codemode: {loaded_line}; tools {mode}; stdio"),
                    mode,
                );
                codemode_mcp::serve_stdio(engine, server_config).await?;
            }
        }
        anyhow::Ok(())
    })?;
    tracing::info!("server stopped");
    Ok(ExitCode::SUCCESS)
}

/// What the start event says besides its line.
struct StartFields {
    /// The spec's source, or the APIs with their operation counts.
    specs: String,
    operations: usize,
    load_ms: f64,
}

impl StartFields {
    fn new(prepared: &Prepared) -> StartFields {
        match prepared {
            Prepared::One {
                source,
                spec,
                load_ms,
                ..
            } => StartFields {
                specs: source.clone(),
                operations: spec.operations.len(),
                load_ms: *load_ms,
            },
            Prepared::Several(multi) => StartFields {
                specs: multi.described.join(", "),
                operations: multi
                    .setups
                    .iter()
                    .map(|setup| setup.spec.operations.len())
                    .sum(),
                load_ms: multi.load_ms,
            },
        }
    }

    /// Text mode keeps the start line exactly as it always was (people and scripts read it);
    /// JSON mode makes it an event, so every stderr line parses.
    fn announce(&self, format: LogFormat, line: &str, tools: &str) {
        match format {
            LogFormat::Text => crate::output::eprint_line(line),
            LogFormat::Json => tracing::info!(
                specs = self.specs.as_str(),
                operations = self.operations,
                load_ms = self.load_ms,
                tools,
                "{line}"
            ),
        }
    }
}

/// The engine to serve, its specs loaded and its settings checked, not yet built (that needs
/// the runtime): one API (`--spec`) or several (`--api`, `[apis.*]`).
pub enum Prepared {
    One {
        source: String,
        spec: Box<codemode_engine::spec::Spec>,
        config: codemode_engine::EngineConfig,
        load_ms: f64,
    },
    Several(crate::apis::MultiApi),
}

impl Prepared {
    /// `stripe.yaml: 587 operations loaded in 900 ms`, or the same for each API.
    pub fn loaded_line(&self) -> String {
        match self {
            Prepared::One {
                source,
                spec,
                load_ms,
                ..
            } => format!(
                "{source}: {} operations loaded in {load_ms:.0} ms",
                spec.operations.len()
            ),
            Prepared::Several(multi) => format!(
                "{} APIs loaded in {:.0} ms: {}",
                multi.setups.len(),
                multi.load_ms,
                multi.described.join(", ")
            ),
        }
    }

    /// How long loading the spec (or all specs, in parallel) took.
    pub fn load_time(&self) -> Duration {
        let ms = match self {
            Prepared::One { load_ms, .. } => *load_ms,
            Prepared::Several(multi) => multi.load_ms,
        };
        Duration::from_secs_f64(ms.max(0.0) / 1000.0)
    }

    /// Where the spec or specs came from: a file path or a URL each.
    pub fn sources(&self) -> Vec<String> {
        match self {
            Prepared::One { source, .. } => vec![source.clone()],
            Prepared::Several(multi) => multi.sources.clone(),
        }
    }

    /// Builds the engine (inside a tokio runtime).
    pub fn build(self) -> anyhow::Result<Engine> {
        Ok(match self {
            Prepared::One { spec, config, .. } => Engine::new(*spec, config)?,
            Prepared::Several(multi) => Engine::with_apis(multi.setups, multi.shared)?,
        })
    }
}

/// Loads the spec or specs `serve` and `run` were given and checks every setting.
pub struct EngineArgs<'a> {
    pub spec: Option<&'a str>,
    pub apis: &'a crate::apis::ApiArgs,
    pub upstream: &'a UpstreamArgs,
    pub limits: &'a LimitArgs,
    pub read_only: bool,
    pub source: &'a SpecSource,
}

pub fn prepare(args: EngineArgs<'_>, file: &ConfigFile) -> anyhow::Result<Prepared> {
    let multi = crate::apis::load(crate::apis::MultiInputs {
        apis: args.apis,
        spec_flag: args.spec,
        upstream: args.upstream,
        limits: args.limits,
        file,
        read_only: args.read_only,
        // Without an upstream every execute would fail; say so now, not at the first call.
        needs_upstream: true,
        source: args.source,
    })?;
    if let Some(multi) = multi {
        return Ok(Prepared::Several(multi));
    }
    let source = crate::config::spec_source(args.spec, file)?;
    let loaded = args.source.load(&source)?;
    check_base_url(args.upstream, file, &loaded.spec)?;
    let inputs = EngineInputs {
        upstream: args.upstream,
        limits: args.limits,
        file,
        read_only: args.read_only,
        require_base_url: true,
    };
    let config = engine_config(inputs, &loaded.spec)?;
    Ok(Prepared::One {
        source,
        spec: Box::new(loaded.spec),
        config,
        load_ms: loaded.load_ms,
    })
}

fn prepare_engine(args: &ServeArgs, file: &ConfigFile) -> anyhow::Result<Prepared> {
    prepare(
        EngineArgs {
            spec: args.spec.as_deref(),
            apis: &args.apis,
            upstream: &args.upstream,
            limits: &args.limits,
            read_only: args.read_only,
            source: &args.source,
        },
        file,
    )
}

/// Refuses at start a base URL the upstream cannot use (relative, not http(s), no host), naming
/// where it came from, so the mistake shows now and not at the first execute. A spec whose first
/// server is relative is the common case: `/api/v3` means "wherever the spec was served from".
pub fn check_base_url(
    upstream: &UpstreamArgs,
    file: &ConfigFile,
    spec: &codemode_engine::spec::Spec,
) -> anyhow::Result<()> {
    let (from, url) = match (
        &upstream.base_url,
        &file.base_url,
        spec.default_server_url(),
    ) {
        (Some(url), _, _) => ("--base-url", url.clone()),
        (None, Some(url), _) => ("base_url in the config file", interpolate(url)?),
        (None, None, Some(url)) => ("the spec's server URL", url),
        // `engine_config` refuses a missing base URL with its own message.
        (None, None, None) => return Ok(()),
    };
    if crate::config::is_absolute_http(url.trim()) {
        return Ok(());
    }
    bail!(
        "{from} {url:?} cannot be the base URL: it is not an absolute http(s) URL with a host (pass --base-url https://HOST/PATH)"
    )
}

/// Binds `--http`'s `HOST:PORT`, where HOST is an address or a name (`localhost:8080`).
/// IPv4 addresses are tried first: `localhost` then means 127.0.0.1, which every client reaches.
/// Serves `GET /metrics` on `addr` for the rest of the process (it stops with it).
async fn serve_metrics(addr: &str, registry: &codemode_mcp::MetricsRegistry) -> anyhow::Result<()> {
    let listener = listen_for(addr, "--metrics-addr").await?;
    let bound = listener.local_addr()?;
    let app = codemode_mcp::metrics_router(registry);
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "the metrics listener stopped");
        }
    });
    eprintln!("codemode: metrics on http://{bound}/metrics");
    Ok(())
}

pub async fn listen(addr: &str) -> anyhow::Result<tokio::net::TcpListener> {
    listen_for(addr, "--http").await
}

/// [`listen`], naming `flag` in its errors.
async fn listen_for(addr: &str, flag: &str) -> anyhow::Result<tokio::net::TcpListener> {
    let wanted =
        || format!("{flag} wants HOST:PORT (e.g. 127.0.0.1:8080 or localhost:8080), got {addr:?}");
    let mut candidates: Vec<SocketAddr> = tokio::net::lookup_host(addr)
        .await
        .with_context(wanted)?
        .collect();
    candidates.sort_by_key(|a| a.is_ipv6());
    let mut last_error = None;
    for candidate in candidates {
        match tokio::net::TcpListener::bind(candidate).await {
            Ok(listener) => return Ok(listener),
            Err(e) => {
                last_error = Some(
                    anyhow::Error::new(e).context(format!("cannot listen on {addr} ({candidate})")),
                )
            }
        }
    }
    Err(last_error
        .unwrap_or_else(|| anyhow::anyhow!("{}: the name resolves to no address", wanted())))
}

fn server_config(args: &ServeArgs, file: &ConfigFile) -> anyhow::Result<ServerConfig> {
    let mut config = ServerConfig::default();
    let tools = match (args.tools, file.server.tools.as_deref()) {
        (Some(flag), _) => flag,
        (None, Some("per-operation")) => ToolsFlag::PerOperation,
        (None, Some("code") | None) => ToolsFlag::Code,
        (None, Some(other)) => {
            bail!("config: server.tools must be \"code\" or \"per-operation\", got {other:?}")
        }
    };
    config.mode = match tools {
        ToolsFlag::Code => ToolMode::CodeMode,
        ToolsFlag::PerOperation => ToolMode::PerOperation,
    };
    file.limits.check()?;
    if let Some(n) = args.output_tokens.or(file.limits.output_tokens) {
        config.output_budget_tokens = n;
    }
    config.allowed_hosts.extend(
        args.allowed_host
            .iter()
            .cloned()
            .chain(file.server.allowed_hosts.iter().cloned()),
    );
    config.allowed_origins.extend(
        args.allowed_origin
            .iter()
            .cloned()
            .chain(file.server.allowed_origins.iter().cloned()),
    );
    if let Some(var) = args
        .auth_token_env
        .as_ref()
        .or(file.server.auth_token_env.as_ref())
    {
        let token = interpolate(&format!("${{{var}}}"))?;
        if token.trim().is_empty() {
            bail!("environment variable {var} (the MCP endpoint's bearer token) is empty");
        }
        config.auth_token = Some(codemode_engine::upstream::Secret::new(token));
    }
    config.rate_limit = rate_limit(args, file)?;
    #[cfg(feature = "otel")]
    if crate::otel::wanted() {
        config.continue_trace = Some(crate::otel::W3cTraceContext::hook());
    }
    if let Some(var) = args
        .approval_key_env
        .as_ref()
        .or(file.server.approval_key_env.as_ref())
    {
        let key = interpolate(&format!("${{{var}}}"))?;
        let key = codemode_mcp::ApprovalKey::new(codemode_engine::upstream::Secret::new(key))
            .with_context(|| format!("environment variable {var} (the approval key)"))?;
        config.approval_key = Some(key);
    }
    if let Some(secs) = file.server.approval_ttl_secs {
        if !(1..=86_400).contains(&secs) {
            bail!("config: server.approval_ttl_secs must be 1–86400, got {secs}");
        }
        config.approval_ttl = std::time::Duration::from_secs(secs);
    }
    if let Some(bytes) = file.server.approval_state_max_bytes {
        if !(1024..=codemode_mcp::DEFAULT_MAX_REQUEST_BYTES).contains(&bytes) {
            bail!(
                "config: server.approval_state_max_bytes must be 1024–{}, got {bytes}",
                codemode_mcp::DEFAULT_MAX_REQUEST_BYTES
            );
        }
        config.approval_state_max_bytes = bytes;
    }
    if let Some(oauth) = &file.oauth {
        if config.auth_token.is_some() {
            bail!(
                "the MCP endpoint has a static token (--auth-token-env or auth_token_env) and [oauth]; choose one"
            );
        }
        config.oauth = Some(oauth.config()?);
    }
    scopes_for_writes(&mut config, file)?;
    Ok(config)
}

/// `write_scope` rules need callers whose tokens are checked: without `[oauth]` nobody's scopes
/// are known and every caller could write, so the server does not start. With it, the scopes
/// join what the metadata document lists, so clients know to ask for them.
fn scopes_for_writes(config: &mut ServerConfig, file: &ConfigFile) -> anyhow::Result<()> {
    let mut scopes: Vec<&String> = file.write_scope.iter().collect();
    scopes.extend(
        file.apis
            .values()
            .filter_map(|api| api.write_scope.as_ref()),
    );
    if scopes.is_empty() {
        return Ok(());
    }
    let Some(oauth) = config.oauth.as_mut() else {
        bail!(
            "write_scope = {:?} needs [oauth]: without tokens to check, no caller's scopes are \
             known and every caller could change data",
            scopes[0]
        );
    };
    let mut supported = oauth.scopes_supported();
    for scope in scopes {
        if !supported.contains(scope) {
            supported.push(scope.clone());
        }
    }
    oauth.scopes_supported = supported;
    Ok(())
}

/// `--rate-limit N` (bursts of a tenth), or `[server.rate_limit]` with its own burst.
fn rate_limit(args: &ServeArgs, file: &ConfigFile) -> anyhow::Result<Option<RateLimit>> {
    let configured = file.server.rate_limit.as_ref();
    let Some(per_minute) = args.rate_limit.or(configured.map(|c| c.per_minute)) else {
        return Ok(None);
    };
    let burst = match configured.and_then(|c| c.burst) {
        Some(burst) if args.rate_limit.is_none() => burst,
        _ => (per_minute / 10).max(1),
    };
    let nonzero = |n: u32, key: &str| {
        std::num::NonZeroU32::new(n)
            .with_context(|| format!("config: server.rate_limit.{key} must be at least 1"))
    };
    Ok(Some(RateLimit {
        per_minute: nonzero(per_minute, "per_minute")?,
        burst: nonzero(burst, "burst")?,
    }))
}

/// `[auth.from_request]` reads each MCP request's headers, which only HTTP has: over stdio every
/// call would fail, so the server does not start.
fn refuse_credentials_without_requests(engine: &Engine, http: bool) -> anyhow::Result<()> {
    let headers = engine.forwarded_headers();
    if !http && !headers.is_empty() {
        bail!(
            "[auth.from_request] takes upstream credentials from each request's headers ({}), \
             and stdio has no request headers: serve over --http",
            headers.join(", ")
        );
    }
    Ok(())
}

/// Resolves on ctrl-c or SIGTERM, for a graceful shutdown.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
