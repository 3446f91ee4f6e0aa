//! `selfos mcp`: the user's profile for desktop and coding agents (Claude Desktop, Claude
//! Code, Cursor, ...) over the Model Context Protocol, on stdio.
//!
//! The process opens the vault locally, like every other client: it signs in and pulls
//! through the same account code as `selfos export` ([`crate::cli`]), or restores an
//! encrypted backup file (`--backup`). The decrypted profile lives in this process's memory
//! only. Stdout carries the protocol and nothing else; logs and errors go to stderr.
//!
//! - [`profile`]: the opened vault, its refresh (an incremental pull when a call comes more
//!   than a minute after the last one) and the delivery records each answer leaves behind.
//! - [`tools`]: the tools' names, schemas, descriptions and argument checks.
//! - [`server`]: the `rmcp` handler that routes requests to them.
//! - [`worker`]: the thread the profile lives on (the vault's store is single-threaded).
//! - [`setup`]: `--print-config`, the snippets for each MCP client.

pub mod profile;
pub mod server;
pub mod setup;
pub mod tools;
pub mod worker;

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::cli::{CliError, RemoteArgs};

/// `selfos mcp`'s arguments. Either `--server` and `--user` (the account) or `--backup`
/// (an encrypted backup file), and a passphrase file in both cases.
#[derive(Debug, Args)]
pub struct McpArgs {
    /// The sync server's base URL, e.g. http://127.0.0.1:8787
    #[arg(long, value_name = "URL", conflicts_with = "backup")]
    pub server: Option<String>,
    /// The account's username
    #[arg(long, value_name = "NAME", conflicts_with = "backup")]
    pub user: Option<String>,
    /// A file holding the passphrase (never given on the command line)
    #[arg(long, env = "SELFOS_PASSPHRASE_FILE", value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// Serve an encrypted backup (`selfos export --format backup`) instead of an account;
    /// proposals and deliveries then stay in this process's memory
    #[arg(long, value_name = "FILE")]
    pub backup: Option<PathBuf>,
    /// Pull again before a call when the last pull is older than this many seconds
    #[arg(long, value_name = "SECONDS", default_value_t = profile::PULL_EVERY.as_secs())]
    pub pull_every: u64,
    /// Print the configuration snippet for an MCP client and exit: claude-desktop,
    /// claude-code or cursor
    #[arg(long, value_name = "CLIENT", value_parser = setup::parse_client)]
    pub print_config: Option<setup::Client>,
}

/// Where the vault comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// An account on a sync server (kept fresh by pulls).
    Remote(RemoteArgs),
    /// An encrypted backup file, read once.
    Backup { file: PathBuf, passphrase: PathBuf },
}

impl McpArgs {
    /// The vault source the flags name, or a usage error saying what is missing.
    pub fn source(&self) -> Result<Source, CliError> {
        let passphrase = self.passphrase_file.clone().ok_or_else(|| {
            CliError::Usage(
                "give --passphrase-file FILE (or set SELFOS_PASSPHRASE_FILE to a file): the passphrase is never taken on the command line".into(),
            )
        })?;
        match (&self.backup, &self.server, &self.user) {
            (Some(file), _, _) => Ok(Source::Backup {
                file: file.clone(),
                passphrase,
            }),
            (None, Some(server), Some(user)) => Ok(Source::Remote(RemoteArgs {
                server: server.clone(),
                user: user.clone(),
                passphrase_file: passphrase,
            })),
            _ => Err(CliError::Usage(
                "give --server URL and --user NAME (an account), or --backup FILE".into(),
            )),
        }
    }
}

/// Runs `selfos mcp`: prints a configuration snippet, or opens the vault and serves MCP on
/// stdio until the client closes it.
pub fn run(args: &McpArgs) -> Result<(), CliError> {
    if let Some(client) = args.print_config {
        println!("{}", setup::snippet(client, args)?);
        return Ok(());
    }
    let source = args.source()?;
    // The vault opens on its own thread while the protocol starts; `initialize` is answered
    // only once it is open, so a wrong passphrase still ends the process with a message on
    // stderr and nothing on stdout.
    let (profile, opening) =
        worker::ProfileWorker::start(source, Duration::from_secs(args.pull_every))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let served = runtime.block_on(server::serve(profile, opening));
    // The stdin reader may still be blocked in a read (the client keeps stdin open after a
    // failed start): do not wait for it.
    runtime.shutdown_background();
    served
}
