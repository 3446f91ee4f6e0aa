//! `selfos`: the SelfOS command line. Today: `serve`.

use std::process::ExitCode;

const USAGE: &str =
    "usage: selfos serve\n\n  serve   run the sync server (SELFOS_ADDR, SELFOS_DATA; see README)";

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    match std::env::args().nth(1).as_deref() {
        Some("serve") => {
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
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
