//! `codemode types`: a self-contained `.d.ts` for some or all operations: the operations as
//! members of `interface Api`, the named types they reach, and the sandbox globals (`api`,
//! `ApiError`, `Binary`, `sleep`, `console`), so agent code can be checked with `tsc --strict`.

use std::process::ExitCode;

use anyhow::bail;
use clap::{ArgGroup, Args};
use codemode_engine::spec::Spec;
use codemode_engine::typescript::{DeclareOptions, GLOBALS, declare_all, declare_operations};

use crate::options::SpecSource;
use crate::spec_arg::SpecArg;

// The help text is the `Types` variant's doc comment in main.rs.
#[derive(Args, Debug)]
#[command(group(ArgGroup::new("selection").required(true).args(["ops", "all"])))]
pub struct TypesArgs {
    #[command(flatten)]
    pub spec: SpecArg,
    /// An operation to declare: its name, operationId or `METHOD /path` (repeatable).
    #[arg(long = "op", value_name = "NAME")]
    pub ops: Vec<String>,
    /// Declare every operation as members of `interface Api`.
    #[arg(long, conflicts_with = "ops")]
    pub all: bool,
    #[command(flatten)]
    pub source: SpecSource,
}

pub fn run(args: TypesArgs) -> anyhow::Result<ExitCode> {
    let spec = args.source.load(args.spec.get())?.spec;
    let declarations = if args.all {
        declare_all(&spec)
    } else {
        declare_chosen(&spec, &args)?
    };
    crate::output::print(&with_globals(&declarations))?;
    Ok(ExitCode::SUCCESS)
}

/// The `--op` operations, declared in full: a `.d.ts` has no token budget, and cutting types at
/// a depth would leave names undeclared.
fn declare_chosen(spec: &Spec, args: &TypesArgs) -> anyhow::Result<String> {
    let mut ops = Vec::new();
    for name in &args.ops {
        match spec.find(name) {
            Some(op) => ops.push(op),
            None => bail!(
                "no operation {name:?} in {spec} (try `codemode inspect --spec {spec} --operations`)",
                spec = args.spec.get()
            ),
        }
    }
    let options = DeclareOptions {
        max_depth: usize::MAX,
        ..DeclareOptions::default()
    };
    Ok(declare_operations(spec, &ops, &options).text)
}

/// The operations' declarations, then the globals; `interface Api` merges across the two.
fn with_globals(declarations: &str) -> String {
    let mut text = String::with_capacity(declarations.len() + GLOBALS.len() + 1);
    text.push_str(declarations);
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(GLOBALS);
    text
}
