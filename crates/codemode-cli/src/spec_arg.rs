//! The `--spec` argument of `inspect` and `types`, which also take the spec positionally (their
//! older form, kept as an alias so existing scripts keep working). Knows only the argument, not
//! how a spec is loaded (that is `options::SpecSource`).

use clap::Args;

/// Exactly one of `--spec SPEC` or a positional `SPEC`.
#[derive(Args, Debug)]
#[group(required = true, multiple = false)]
pub struct SpecArg {
    /// The spec: a file (.json, .yaml, .yml, optionally .gz) or an http(s) URL.
    #[arg(long = "spec", value_name = "SPEC")]
    flag: Option<String>,
    /// The spec, as the first argument instead of --spec.
    #[arg(value_name = "SPEC", hide = true)]
    positional: Option<String>,
}

impl SpecArg {
    /// The spec, whichever way it was given (clap requires one).
    pub fn get(&self) -> &str {
        self.flag
            .as_deref()
            .or(self.positional.as_deref())
            .unwrap_or_default()
    }
}
