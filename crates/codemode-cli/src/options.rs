//! Options shared by several subcommands: where the spec comes from and how to load it.

use std::sync::Arc;

use clap::Args;
use codemode_engine::spec::{LoadOptions, Loaded, load};

use crate::fetch::HttpFetch;

#[derive(Args, Debug, Clone)]
pub struct SpecSource {
    /// Allow `$ref`s to http(s) URLs (off by default: a spec cannot make us fetch arbitrary URLs).
    #[arg(long)]
    pub allow_remote_refs: bool,
}

impl SpecSource {
    pub fn load(&self, spec: &str) -> anyhow::Result<Loaded> {
        let options = LoadOptions {
            allow_remote_refs: self.allow_remote_refs,
            fetcher: Some(Arc::new(HttpFetch::new())),
            ..LoadOptions::default()
        };
        Ok(load(spec, &options)?)
    }
}
