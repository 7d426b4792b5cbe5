//! Several APIs behind one server: the `[apis.NAME]` tables of the config file and the
//! `--api NAME=SPEC` flags, turned into one `ApiSetup` per API (specs loaded in parallel).
//!
//! Each API's table holds everything one API has at the top level of a single-API file (spec,
//! base URL, auth, headers, policy) plus `max_calls` and `optional`. What the APIs share (the
//! sandbox's limits, the audit log, the server) stays at the top level. A key that belongs to an
//! API, written at the top level of a file with `[apis.*]` tables, is an error: it would apply to
//! no API, and a rule that silently applies to nothing is worse than no rule.

use anyhow::{Context, bail};
use clap::Args;
use codemode_engine::spec::Spec;
use codemode_engine::upstream::UpstreamConfig;
use codemode_engine::{
    ApiSetup, ConfirmFallback, EngineConfig, PolicyConfig, SessionSettings, check_api_name,
};

use crate::config::{
    ApiSection, ConfigFile, LimitArgs, Shared, UpstreamArgs, credentials, in_range, interpolate,
    ranges, shared_settings, static_headers,
};
use crate::options::SpecSource;

/// `--api NAME=SPEC`, repeatable.
#[derive(Args, Debug, Clone, Default)]
pub struct ApiArgs {
    /// Serve several APIs, each called as `api.NAME.<operation>`: `NAME=SPEC` (repeatable). A
    /// `[apis.NAME]` table of the config file adds its base URL, auth and rules.
    #[arg(long = "api", value_name = "NAME=SPEC")]
    pub apis: Vec<String>,
}

/// The APIs to serve and what they share, ready for `Engine::with_apis`.
pub struct MultiApi {
    pub setups: Vec<ApiSetup>,
    pub shared: EngineConfig,
    /// `github (1083 operations)`, one per API, for the start line.
    pub described: Vec<String>,
    /// Wall-clock time of loading every spec, in parallel.
    pub load_ms: f64,
    /// Where each loaded API's spec came from (a file or a URL), for `--watch`.
    pub sources: Vec<String>,
}

/// Everything a command passes in to build several APIs.
pub struct MultiInputs<'a> {
    pub apis: &'a ApiArgs,
    pub spec_flag: Option<&'a str>,
    pub upstream: &'a UpstreamArgs,
    pub limits: &'a LimitArgs,
    pub file: &'a ConfigFile,
    pub read_only: bool,
    /// Programs will call the APIs: each needs a usable base URL, and its credentials are
    /// read. `false` (search only): neither is read.
    pub needs_upstream: bool,
    pub source: &'a SpecSource,
}

/// One API to load: its name, where its spec is, its table (empty for a bare `--api`).
struct Planned<'a> {
    name: String,
    spec: String,
    section: Option<&'a ApiSection>,
}

/// The APIs the flags and the file ask for, or `None` when they ask for one API the old way
/// (`--spec`, or `spec = …` at the top of the file).
pub fn load(inputs: MultiInputs<'_>) -> anyhow::Result<Option<MultiApi>> {
    let file = inputs.file;
    if inputs.apis.apis.is_empty() && file.apis.is_empty() {
        return Ok(None);
    }
    refuse_single_api_settings(&inputs)?;
    let planned = plan(inputs.apis, file)?;
    let Shared {
        sandbox,
        session,
        audit,
    } = shared_settings(inputs.limits, file)?;
    let started = std::time::Instant::now();
    let loaded = load_specs(&planned, inputs.source);
    let load_ms = started.elapsed().as_secs_f64() * 1e3;
    let mut setups = Vec::new();
    let mut described = Vec::new();
    let mut sources = Vec::new();
    for (api, spec) in planned.iter().zip(loaded) {
        let spec = match spec {
            Ok(spec) => spec,
            Err(error) if api.section.is_some_and(|s| s.optional) => {
                crate::output::eprint_line(&format!(
                    "codemode: warning: API {:?} is left out (optional): {}",
                    api.name,
                    crate::output::chain_text(&error)
                ));
                continue;
            }
            Err(error) => return Err(error),
        };
        let count = spec.operations.len();
        let noun = if count == 1 {
            "operation"
        } else {
            "operations"
        };
        described.push(format!("{} ({count} {noun})", api.name));
        sources.push(api.spec.clone());
        setups.push(setup(api, spec, &inputs, session)?);
    }
    if setups.is_empty() {
        bail!("no API could be loaded: every one is optional and failed");
    }
    warn_on_shared_base_urls(&setups);
    Ok(Some(MultiApi {
        setups,
        shared: EngineConfig {
            sandbox,
            search_budget_tokens: file.limits.search_tokens,
            dry_run_skip_reads: file.dry_run_skip_reads,
            audit,
            ..EngineConfig::default()
        },
        described,
        load_ms,
        sources,
    }))
}

/// With several APIs, the settings of one API (flags and top-level keys) have no API to go to.
fn refuse_single_api_settings(inputs: &MultiInputs<'_>) -> anyhow::Result<()> {
    if inputs.spec_flag.is_some() {
        bail!("--spec and --api cannot go together: give every API as --api NAME=SPEC");
    }
    let up = inputs.upstream;
    let credential_flags = up.base_url.is_some()
        || up.bearer_env.is_some()
        || up.bearer_file.is_some()
        || up.basic_user.is_some()
        || up.basic_password_env.is_some()
        || up.api_key_env.is_some()
        || up.api_key_scheme.is_some()
        || up.oauth_client_id.is_some()
        || up.oauth_client_secret_env.is_some()
        || up.oauth_token_url.is_some()
        || !up.oauth_scope.is_empty()
        || !up.header_env.is_empty();
    if credential_flags {
        bail!(
            "with several APIs, the base URL and credentials are set per API, in the config file's [apis.NAME] tables (flags like --base-url and --bearer-env would not say which API they are for)"
        );
    }
    let file = inputs.file;
    let auth = &file.auth;
    let top_level: [(&str, bool); 11] = [
        ("spec", file.spec.is_some()),
        ("base_url", file.base_url.is_some()),
        (
            "[auth]",
            auth.bearer.is_some()
                || auth.basic_user.is_some()
                || auth.api_key.is_some()
                || auth.oauth_client_id.is_some(),
        ),
        ("[headers]", !file.headers.is_empty()),
        ("read_only", file.read_only),
        ("[[allow]]", !file.allow.is_empty()),
        ("[[deny]]", !file.deny.is_empty()),
        ("[[confirm]]", !file.confirm.is_empty()),
        ("confirm_mutating", file.confirm_mutating),
        (
            "confirm_fallback",
            file.confirm_fallback != ConfirmFallback::default(),
        ),
        ("(none)", false),
    ];
    let misplaced: Vec<&str> = top_level
        .iter()
        .filter(|(_, set)| *set)
        .map(|(key, _)| *key)
        .collect();
    if !misplaced.is_empty() {
        bail!(
            "config: with [apis.*] tables or --api, {} belong{} in each API's table ([apis.NAME]), not at the top level",
            misplaced.join(", "),
            if misplaced.len() == 1 { "s" } else { "" }
        );
    }
    Ok(())
}

/// The APIs in order: the file's tables first, then flags that name no table. A flag for a
/// table's name gives that API its spec.
fn plan<'a>(flags: &ApiArgs, file: &'a ConfigFile) -> anyhow::Result<Vec<Planned<'a>>> {
    let mut from_flags: Vec<(String, String)> = Vec::new();
    for flag in &flags.apis {
        let Some((name, spec)) = flag.split_once('=') else {
            bail!("--api takes NAME=SPEC (e.g. --api github=github.json), got {flag:?}");
        };
        let (name, spec) = (name.trim(), spec.trim());
        check_name(name, "--api")?;
        if spec.is_empty() {
            bail!("--api {name}=: the spec is missing");
        }
        if from_flags.iter().any(|(taken, _)| taken == name) {
            bail!("--api {name} is given twice: each API needs a name of its own");
        }
        from_flags.push((name.to_string(), spec.to_string()));
    }
    let mut planned = Vec::new();
    for (name, section) in &file.apis {
        check_name(name, "config")?;
        let flag = from_flags.iter().find(|(flagged, _)| flagged == name);
        let spec = match (flag, &section.spec) {
            (Some((_, spec)), _) => spec.clone(),
            (None, Some(spec)) => interpolate(spec)?,
            (None, None) => {
                bail!(
                    "config: [apis.{name}] has no spec (add `spec = \"FILE|URL\"`, or pass --api {name}=SPEC)"
                )
            }
        };
        planned.push(Planned {
            name: name.clone(),
            spec,
            section: Some(section),
        });
    }
    for (name, spec) in from_flags {
        if !file.apis.contains_key(&name) {
            planned.push(Planned {
                name,
                spec,
                section: None,
            });
        }
    }
    Ok(planned)
}

fn check_name(name: &str, from: &str) -> anyhow::Result<()> {
    check_api_name(name).map_err(|problem| match from {
        "config" => anyhow::anyhow!("config: [apis.{name}]: {problem}"),
        _ => anyhow::anyhow!("{from} {name}: {problem}"),
    })
}

/// Loads every spec at once, one thread each: start-up takes about as long as the largest spec.
fn load_specs(planned: &[Planned<'_>], source: &SpecSource) -> Vec<anyhow::Result<Spec>> {
    std::thread::scope(|scope| {
        let loading: Vec<_> = planned
            .iter()
            .map(|api| {
                scope.spawn(move || {
                    source
                        .load(&api.spec)
                        .map(|loaded| loaded.spec)
                        .with_context(|| format!("API {:?}: cannot load its spec", api.name))
                })
            })
            .collect();
        loading
            .into_iter()
            .map(|thread| {
                thread
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// One API's setup: its base URL and credentials, its policy (checked against its spec), its
/// call limit.
fn setup(
    api: &Planned<'_>,
    spec: Spec,
    inputs: &MultiInputs<'_>,
    shared_session: SessionSettings,
) -> anyhow::Result<ApiSetup> {
    let empty = ApiSection::default();
    let section = api.section.unwrap_or(&empty);
    let name = &api.name;
    let context = || format!("API {name:?}");
    let policy = PolicyConfig {
        read_only: inputs.read_only || section.read_only,
        allow: section.allow.clone(),
        deny: section.deny.clone(),
        confirm: section.confirm.clone(),
        confirm_mutating: section.confirm_mutating,
        confirm_fallback: section.confirm_fallback,
        write_scope: section.write_scope.clone(),
    };
    policy
        .check(&spec)
        .with_context(|| match &inputs.file.path {
            Some(path) => format!(
                "invalid policy in [apis.{name}] of config file {}",
                path.display()
            ),
            None => format!("invalid policy of API {name:?}"),
        })?;
    let mut session = shared_session;
    if let Some(n) = section.max_calls {
        session.max_calls = in_range(&format!("apis.{name}.max_calls"), n, &ranges::MAX_CALLS)?;
    }
    if !inputs.needs_upstream {
        return Ok(ApiSetup {
            name: name.clone(),
            spec,
            upstream: None,
            policy,
            session,
        });
    }
    let base_url = match &section.base_url {
        Some(url) => Some(interpolate(url).with_context(context)?),
        None => spec
            .default_server_url()
            .filter(|u| u.starts_with("http://") || u.starts_with("https://")),
    };
    let upstream = match base_url {
        Some(base_url) => {
            if !crate::config::is_absolute_http(base_url.trim()) {
                bail!(
                    "API {name:?}: {base_url:?} cannot be the base URL: it is not an absolute http(s) URL with a host (set base_url in [apis.{name}])"
                );
            }
            let none = UpstreamArgs::default();
            Some(UpstreamConfig {
                base_url,
                credentials: credentials(&none, &section.auth).with_context(context)?,
                static_headers: static_headers(&none, &section.headers).with_context(context)?,
                propagate_trace: crate::config::trace_propagation(),
                ..UpstreamConfig::default()
            })
        }
        None => bail!(
            "API {name:?}: no base URL (its spec declares no absolute server URL): set base_url in [apis.{name}]"
        ),
    };
    Ok(ApiSetup {
        name: name.clone(),
        spec,
        upstream,
        policy,
        session,
    })
}

/// Two APIs that send to the same base URL with different credentials are allowed (two accounts
/// of one service), but are more often a copy-paste slip: say so.
fn warn_on_shared_base_urls(setups: &[ApiSetup]) {
    for (i, a) in setups.iter().enumerate() {
        for b in &setups[i + 1..] {
            let (Some(ua), Some(ub)) = (&a.upstream, &b.upstream) else {
                continue;
            };
            if ua.base_url.trim_end_matches('/') == ub.base_url.trim_end_matches('/')
                && !same_credentials(ua, ub)
            {
                crate::output::eprint_line(&format!(
                    "codemode: warning: APIs {:?} and {:?} share the base URL {} with different credentials",
                    a.name, b.name, ua.base_url
                ));
            }
        }
    }
}

/// Whether two upstreams authenticate the same way: the same secrets, compared by value and
/// never printed.
fn same_credentials(a: &UpstreamConfig, b: &UpstreamConfig) -> bool {
    secret_values(a) == secret_values(b)
}

fn secret_values(config: &UpstreamConfig) -> Vec<&str> {
    use codemode_engine::upstream::Credential;
    let credentials = config.credentials.iter().map(|c| match c {
        Credential::Bearer(token) => token.expose(),
        Credential::Basic { password, .. } => password.expose(),
        Credential::ApiKey { value, .. } => value.expose(),
        Credential::OAuth2ClientCredentials { client_secret, .. } => client_secret.expose(),
        // Each request brings its own (two APIs can never read the same header: the engine
        // refuses it), so the header names the credential.
        Credential::FromRequest(forwarded) => forwarded.header.as_str(),
    });
    let headers = config
        .static_headers
        .iter()
        .map(|(_, value)| value.expose());
    credentials.chain(headers).collect()
}
