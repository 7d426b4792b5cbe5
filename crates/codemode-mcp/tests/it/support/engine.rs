//! The one place tests (and the fixture server binary) build an [`Engine`]: when the engine's
//! constructor changes, only this file changes.

use std::sync::Arc;

use codemode_engine::upstream::UpstreamConfig;
use codemode_engine::{Engine, EngineConfig, SandboxConfig};

/// The fixture spec every test serves.
pub const PETSTORE: &str = include_str!("../../fixtures/petstore.yaml");

/// Builds an engine for `spec_text`; API calls go to `upstream` when given. Call inside a runtime.
pub fn build_engine(spec_text: &str, upstream: Option<&str>) -> Arc<Engine> {
    build_engine_with(spec_text, upstream, SandboxConfig::default())
}

/// [`build_engine`] with explicit sandbox limits (the 10 MB result test raises the result cap).
pub fn build_engine_with(
    spec_text: &str,
    upstream: Option<&str>,
    sandbox: SandboxConfig,
) -> Arc<Engine> {
    build_engine_from(
        spec_text,
        upstream,
        EngineConfig {
            sandbox,
            ..Default::default()
        },
    )
}

/// [`build_engine`] with a whole engine configuration (a policy, for example).
pub fn build_engine_from(
    spec_text: &str,
    upstream: Option<&str>,
    config: EngineConfig,
) -> Arc<Engine> {
    let spec = codemode_engine::spec::load_str("fixture", spec_text).expect("fixture spec loads");
    let config = EngineConfig {
        upstream: upstream.map(|base_url| UpstreamConfig {
            base_url: base_url.to_string(),
            ..Default::default()
        }),
        ..config
    };
    Arc::new(Engine::new(spec, config).expect("engine builds"))
}
