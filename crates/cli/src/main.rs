//! `mvcam`: the command line of the mvcam camera stack.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench_cmd;
mod genapi_cmd;
mod synthetic;

/// mvcam: GenICam / USB3 Vision camera tools.
#[derive(Debug, Parser)]
#[command(name = "mvcam", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Inspect and exercise GenICam description files.
    #[command(subcommand)]
    Genapi(genapi_cmd::GenapiCommand),
    /// Measure the speed of mvcam's kernels.
    #[command(subcommand)]
    Bench(bench_cmd::BenchCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Genapi(c) => genapi_cmd::run(c),
        Command::Bench(c) => bench_cmd::run(c),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mvcam: {e}");
            ExitCode::FAILURE
        }
    }
}
