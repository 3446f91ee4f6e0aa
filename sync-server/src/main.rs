//! `selfos`: the SelfOS command line: the sync server and its command-line clients.
//!
//! Exit status: 0 done; 1 the command failed (one line on stderr says why); 2 the command
//! line was wrong (clap's usage errors, and flags that do not fit together).
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use sync_server::cli::{Cli, CliError, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // `selfos mcp` speaks the protocol on stdout: its logs go to stderr, warnings only
    // unless RUST_LOG says otherwise (rmcp logs every refused request as a warning; the
    // client already got it as an error response).
    let mcp = matches!(cli.command, Command::Mcp(_));
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| if mcp { "warn,rmcp=error" } else { "info" }.into()),
        )
        .with_writer(move || -> Box<dyn std::io::Write> {
            if mcp {
                Box::new(std::io::stderr())
            } else {
                Box::new(std::io::stdout())
            }
        })
        .init();
    let (name, outcome) = match &cli.command {
        Command::Serve(args) => return serve(args),
        Command::Export(args) => ("export", sync_server::cli::export(args)),
        Command::Import(args) => ("import", sync_server::cli::import(args)),
        Command::Demo(args) => ("demo", sync_server::cli::demo(args)),
        Command::Mcp(args) => ("mcp", sync_server::mcp::run(args)),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Usage(why)) => {
            let mut cmd = Cli::command();
            cmd.build(); // names the subcommand `selfos <name>` in the usage line
            let sub = cmd.find_subcommand_mut(name).cloned();
            // clap prints it the way it prints its own usage errors, and exits 2.
            sub.unwrap_or(cmd)
                .error(clap::error::ErrorKind::ArgumentConflict, why)
                .exit()
        }
        Err(CliError::Failed(why)) => {
            eprintln!("selfos {name}: {why}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: &sync_server::config::ServeArgs) -> ExitCode {
    let config = match sync_server::Config::from_args(args) {
        Ok(c) => c,
        Err(e) => {
            // A setting the user gave is wrong: a usage error, like clap's.
            eprintln!("selfos: {e}");
            return ExitCode::from(2);
        }
    };
    sync_server::memory::return_freed_memory_to_the_system();
    // Blocking threads run database calls and Argon2id (itself bounded to one run per core,
    // `credential::KdfGate`); bounding them bounds the memory a burst can pin, the excess
    // waits in tokio's queue.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("selfos: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(sync_server::serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("selfos: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Threads for blocking work: the SQLite writer and readers or the PostgreSQL pool (16), the
/// credential checks (one per core), with room to spare.
const MAX_BLOCKING_THREADS: usize = 48;
