//! The `codemode` binary: argument parsing and glue only. Each subcommand lives in its own module
//! and calls into the library crates; nothing here is meant to be reused as a library.

mod inspect;
mod options;

use clap::{Parser, Subcommand};

/// Give an AI agent a whole HTTP API through two MCP tools: `search` and `execute`.
#[derive(Parser)]
#[command(name = "codemode", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Summarize a spec: counts, servers, security schemes, load time and tolerated defects.
    Inspect(inspect::InspectArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
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
