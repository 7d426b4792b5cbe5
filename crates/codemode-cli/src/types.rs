//! `codemode types`: TypeScript declarations for some or all operations.

use std::process::ExitCode;

use anyhow::bail;
use clap::Args;
use codemode_engine::typescript::{DeclareOptions, GLOBALS, declare_all, declare_operations};

use crate::options::SpecSource;

#[derive(Args, Debug)]
pub struct TypesArgs {
    /// The spec: a file (.json, .yaml, .yml, optionally .gz) or an http(s) URL.
    pub spec: String,
    /// An operation to declare: its name, operationId or `METHOD /path` (repeatable).
    #[arg(long = "op", value_name = "NAME")]
    pub ops: Vec<String>,
    /// Declare every operation as members of `interface Api`, plus the sandbox globals.
    #[arg(long, conflicts_with = "ops")]
    pub all: bool,
    #[command(flatten)]
    pub source: SpecSource,
}

pub fn run(args: TypesArgs) -> anyhow::Result<ExitCode> {
    let spec = args.source.load(&args.spec)?.spec;
    if args.all {
        print!("{}", declare_all(&spec));
        return Ok(ExitCode::SUCCESS);
    }
    if args.ops.is_empty() {
        // No selection: the globals block, which is what every program can use.
        println!("{GLOBALS}");
        return Ok(ExitCode::SUCCESS);
    }
    let mut ops = Vec::new();
    for name in &args.ops {
        match spec.find(name) {
            Some(op) => ops.push(op),
            None => bail!(
                "no operation {name:?} in {} (try `codemode inspect {} --operations`)",
                args.spec,
                args.spec
            ),
        }
    }
    let declarations = declare_operations(&spec, &ops, &DeclareOptions::default());
    print!("{}", declarations.text);
    Ok(ExitCode::SUCCESS)
}
