//! `codemode run`: runs one program exactly as the execute tool would. The result JSON goes to
//! stdout; console lines, the call list and errors go to stderr; the exit code is 1 when the
//! program failed.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use codemode_engine::{ExecuteOutcome, ExecuteRequest};

use crate::config::{ConfigFile, LimitArgs, UpstreamArgs};
use crate::options::SpecSource;

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The spec: a file (.json, .yaml, .yml, optionally .gz) or an http(s) URL. May come from --config.
    #[arg(long)]
    pub spec: Option<String>,
    /// The program: a .js or .ts file, or `-` for stdin.
    pub file: PathBuf,
    #[command(flatten)]
    pub upstream: UpstreamArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
    /// Refuse every call that changes data (only GET and HEAD go out).
    #[arg(long)]
    pub read_only: bool,
    /// Do not send mutating calls; print what would have been sent.
    #[arg(long)]
    pub dry_run: bool,
    /// A TOML config file with the same settings as `serve` (flags win).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub source: SpecSource,
    #[command(flatten)]
    pub apis: crate::apis::ApiArgs,
}

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let code = read_program(&args.file)?;
    let file = match &args.config {
        Some(path) => ConfigFile::read(path)?,
        None => ConfigFile::default(),
    };
    let prepared = crate::serve::prepare(
        crate::serve::EngineArgs {
            spec: args.spec.as_deref(),
            apis: &args.apis,
            upstream: &args.upstream,
            limits: &args.limits,
            read_only: args.read_only,
            source: &args.source,
        },
        &file,
    )?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let outcome = runtime.block_on(async move {
        let engine = prepared.build()?;
        anyhow::Ok(
            engine
                .execute(ExecuteRequest {
                    code,
                    dry_run: args.dry_run,
                    confirm: None,
                    ..Default::default()
                })
                .await,
        )
    })?;
    Ok(report(&outcome)?)
}

fn read_program(file: &PathBuf) -> anyhow::Result<String> {
    if file.as_os_str() == "-" {
        let mut code = String::new();
        std::io::stdin()
            .read_to_string(&mut code)
            .context("cannot read the program from stdin")?;
        return Ok(code);
    }
    std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))
}

fn report(outcome: &ExecuteOutcome) -> std::io::Result<ExitCode> {
    for line in &outcome.logs {
        crate::output::eprint_line(&format!("[{}] {}", line.level, line.text));
    }
    for call in &outcome.calls {
        crate::output::eprint_line(&format!("call: {call}"));
    }
    for planned in &outcome.planned {
        crate::output::eprint_line(&format!(
            "dry run, not sent: {}",
            serde_json::to_string(planned).unwrap_or_default()
        ));
    }
    match &outcome.result {
        Ok(value) => {
            crate::output::print(&format!("{value}\n"))?;
            Ok(ExitCode::SUCCESS)
        }
        Err(failure) => {
            let at = match (failure.line, failure.col) {
                (Some(l), Some(c)) => format!(" at line {l}:{c}"),
                _ => String::new(),
            };
            crate::output::eprint_line(&format!(
                "error ({}){at}: {}",
                failure.kind, failure.message
            ));
            Ok(ExitCode::from(1))
        }
    }
}
