//! The `codemode` binary: argument parsing and glue only. Each subcommand lives in its own module
//! and calls into the library crates; nothing here is meant to be reused as a library.

mod config;
mod demo;
mod example_upstream;
mod inspect;
mod options;
mod run;
mod search;
mod serve;
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
    /// Print TypeScript declarations for operations.
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
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::from(2)
        }
    }
}
