//! `selfos`: the SelfOS command line: the sync server and its command-line clients.
#![forbid(unsafe_code)]

use std::process::ExitCode;

const USAGE: &str = "usage: selfos <command> [flags]

  serve    run the sync server (SELFOS_ADDR, SELFOS_DATA, DATABASE_URL, ...; see README)
  export   --server URL --user NAME --passphrase-file FILE --out PATH
           --format json|csv|backup|graphml|jgf|markdown|instructions [--agent NAME]
           (markdown: a directory of notes, or one .zip when PATH ends in .zip;
            instructions: every agent, or only --agent chatgpt|claude|gemini|...)
  import   --server URL --user NAME --passphrase-file FILE --in EXPORT.json
  demo     [--server URL] [--user NAME] [--passphrase-file FILE] [--answers N]
           fill an account with sample answers (90 days; or N synthetic ones)";

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(command) = args.first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let client_command =
        |f: fn(&sync_server::cli::Args) -> Result<(), String>| match sync_server::cli::Args::parse(
            &args[1..],
        )
        .and_then(|a| f(&a))
        {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("selfos {command}: {e}");
                ExitCode::FAILURE
            }
        };
    match command.as_str() {
        "serve" => serve(),
        "export" => client_command(sync_server::cli::export),
        "import" => client_command(sync_server::cli::import),
        "demo" => client_command(sync_server::cli::demo),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        other => {
            eprintln!("selfos: unknown command `{other}`\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn serve() -> ExitCode {
    let config = match sync_server::Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("selfos: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
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
