//! The `codemode` binary: argument parsing and glue only. Each subcommand lives in its own module
//! and calls into the library crates; nothing here is meant to be reused as a library.

mod apis;
mod bookshop;
mod config;
mod demo;
mod fetch;
mod inspect;
mod logs;
mod options;
#[cfg(feature = "otel")]
mod otel;
mod output;
mod reload;
mod run;
mod search;
mod serve;
mod spec_arg;
mod types;

use clap::{Parser, Subcommand};

/// Give an AI agent a whole HTTP API through two MCP tools: `search` (find operations, get
/// TypeScript declarations) and `execute` (run one program that calls the API).
///
/// Start with `codemode demo` (no setup), then `codemode serve --spec openapi.yaml --base-url URL`.
#[derive(Parser)]
#[command(name = "codemode", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the MCP server for a spec (stdio by default, or --http ADDR).
    Serve(Box<serve::ServeArgs>),
    /// Serve the MCP server over a small embedded example API; offline, no credentials needed.
    Demo(demo::DemoArgs),
    /// Rank operations for a task and print the answer the search tool gives.
    Search(search::SearchArgs),
    /// Run a program against the API exactly as the execute tool would.
    Run(Box<run::RunArgs>),
    /// Print a .d.ts for some operations (--op) or all of them (--all), with the sandbox globals.
    ///
    /// The output declares the chosen operations as members of `interface Api`, every named type
    /// they use, and the sandbox globals (`api`, `ApiError`, `Binary`, `sleep`, `console`), so it
    /// type-checks on its own: `codemode types --spec spec.yaml --all > api.d.ts`, then
    /// `tsc --strict --noEmit --target es2022 api.d.ts agent.ts`. One of --op or --all is required.
    Types(types::TypesArgs),
    /// Summarize a spec: counts, servers, security schemes, load time and tolerated defects.
    Inspect(inspect::InspectArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(*args),
        Command::Demo(args) => demo::run(args),
        Command::Search(args) => search::run(args),
        Command::Run(args) => run::run(*args),
        Command::Types(args) => types::run(args),
        Command::Inspect(args) => inspect::run(args),
    };
    match result {
        Ok(code) => code,
        // The reader went away (`| head`): nothing left to say, and nobody to say it to.
        Err(error) if output::is_stdout_closed(&error) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            output::eprint_line(&format!("error: {}", output::chain_text(&error)));
            std::process::ExitCode::from(2)
        }
    }
}
