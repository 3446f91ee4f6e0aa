//! `selfos`'s command line: the arguments of every subcommand (clap), and `export | import |
//! demo`, the command line's sync clients. Each signs in with the passphrase (derived
//! locally; the server never sees it) through [`Account`], pulls the vault into memory with
//! the same engine the extension and web app use, and works on the decrypted copy.

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};
use vault_core::graph::export::{self, ExportFormat};
use vault_core::graph::KnowledgeGraph;
use vault_core::store::block_on;
use vault_core::sync::{Account, AccountError, Change, SyncError};
use vault_core::{AnswerRecord, KdfParams, MemoryStore, Passphrase, RecordId, Vault};

use crate::config::ServeArgs;
use crate::http_client::BlockingTransport;

/// SelfOS: the sync server and its command-line clients.
#[derive(Debug, Parser)]
#[command(
    name = "selfos",
    version,
    after_help = "Exit status: 0 done; 1 the command failed (one line on stderr says why); 2 the command line was wrong."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the sync server (each setting: a flag or its environment variable)
    Serve(Box<ServeArgs>),
    /// Write what the web app's export writes, from the account's vault
    Export(ExportArgs),
    /// Add the answers of a JSON export (`--format json`) or an encrypted backup
    /// (`--format backup`) to an account
    Import(ImportArgs),
    /// Fill an account with realistic sample answers (created if missing)
    Demo(DemoArgs),
    /// Serve the profile to desktop and coding agents (Model Context Protocol over stdio)
    Mcp(crate::mcp::McpArgs),
}

/// Where the account is and how to open it.
#[derive(Debug, Clone, Args)]
pub struct RemoteArgs {
    /// The sync server's base URL, e.g. http://127.0.0.1:8787
    #[arg(long, value_name = "URL")]
    pub server: String,
    /// The account's username
    #[arg(long, value_name = "NAME")]
    pub user: String,
    /// A file holding the passphrase (never given on the command line)
    #[arg(long, env = "SELFOS_PASSPHRASE_FILE", value_name = "FILE")]
    pub passphrase_file: PathBuf,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// json, csv, markdown (a directory of notes, or one .zip when --out ends in .zip),
    /// graphml, jgf, instructions or backup
    #[arg(long, value_name = "FORMAT", value_parser = parse_format)]
    pub format: ExportFormat,
    /// Where to write
    #[arg(long, value_name = "PATH")]
    pub out: PathBuf,
    /// With --format instructions: only this agent (chatgpt, claude, gemini, ...)
    #[arg(long, value_name = "NAME")]
    pub agent: Option<String>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// The file to import: a JSON export (`selfos-export`) or an encrypted backup
    /// (`selfos-backup`), told apart by its `format` field
    #[arg(long = "in", value_name = "FILE")]
    pub input: PathBuf,
    /// For a backup made under another passphrase: a file holding that passphrase
    /// [default: the account's, from --passphrase-file]
    #[arg(long, value_name = "FILE")]
    pub backup_passphrase_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The sync server's base URL
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8787")]
    pub server: String,
    /// The demo account's username
    #[arg(long, value_name = "NAME", default_value = "demo")]
    pub user: String,
    /// A file holding the passphrase [default: the printed demo passphrase]
    #[arg(long, env = "SELFOS_PASSPHRASE_FILE", value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// That many answers of the synthetic benchmark user instead of 90 days of answers
    #[arg(long, value_name = "N")]
    pub answers: Option<usize>,
}

/// `--format`: one of vault-core's export formats (the web app offers the same files).
fn parse_format(s: &str) -> Result<ExportFormat, String> {
    s.parse()
        .map_err(|e: vault_core::graph::GraphError| format!("unknown --format: {e}"))
}

/// How a command failed: its arguments did not fit together (exit 2, like clap's own usage
/// errors), or the work itself failed (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Failed(String),
}

impl From<String> for CliError {
    fn from(e: String) -> Self {
        CliError::Failed(e)
    }
}

impl From<AccountError> for CliError {
    fn from(e: AccountError) -> Self {
        CliError::Failed(e.to_string())
    }
}

impl From<vault_core::VaultError> for CliError {
    fn from(e: vault_core::VaultError) -> Self {
        CliError::Failed(e.to_string())
    }
}

/// Reads a passphrase file (one line; a trailing newline is not part of it). Shared by
/// every subcommand that opens a vault, `selfos mcp` included.
pub(crate) fn read_passphrase(path: &Path) -> Result<Passphrase, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("reading the passphrase file {}: {e}", path.display()))?;
    let pass = text.trim_end_matches(['\n', '\r']);
    if pass.is_empty() {
        return Err(format!("the passphrase file {} is empty", path.display()).into());
    }
    Ok(Passphrase::new(pass))
}

fn account(server: &str, user: &str, device: &str) -> Result<Account<BlockingTransport>, CliError> {
    Ok(Account::new(BlockingTransport::new(server)?, user, device))
}

/// Signs in and pulls the whole vault into memory.
fn open_remote(
    remote: &RemoteArgs,
) -> Result<(Vault<MemoryStore>, Account<BlockingTransport>), CliError> {
    open_remote_as(remote, "selfos command line", &mut |_| {})
}

/// [`open_remote`] under another device name (`selfos mcp` signs in as its own device, so
/// the account's device list tells the two apart), handing what the pull brings to `observe`
/// (opened already: `selfos mcp` keeps it in memory without decrypting the vault again).
pub(crate) fn open_remote_as(
    remote: &RemoteArgs,
    device: &str,
    observe: &mut impl FnMut(Vec<Change>),
) -> Result<(Vault<MemoryStore>, Account<BlockingTransport>), CliError> {
    let pass = read_passphrase(&remote.passphrase_file)?;
    let mut account = account(&remote.server, &remote.user, device)?;
    let mut vault = block_on(account.join(MemoryStore::new(), &pass))?;
    tracing::debug!("signed in");
    let report = block_on(account.sync_observing(&mut vault, observe))?;
    if report.refused > 0 {
        eprintln!(
            "warning: {} entries on the server did not open (tampered or damaged) and were skipped",
            report.refused
        );
    }
    Ok((vault, account))
}

pub fn export(args: &ExportArgs) -> Result<(), CliError> {
    if args.agent.is_some() && args.format != ExportFormat::Instructions {
        return Err(CliError::Usage(
            "--agent applies to --format instructions only".into(),
        ));
    }
    let out = &args.out;
    let (vault, mut account) = open_remote(&args.remote)?;
    // Everything is in memory now: end the session this command opened.
    block_on(account.sign_out())?;
    let bytes = match args.format {
        ExportFormat::Json => block_on(vault.export_json())?.0,
        ExportFormat::Backup => block_on(vault.export_backup())?.0,
        format => {
            let listing = block_on(vault.list())?;
            let lib = vault_core::cards::builtin();
            let kg = KnowledgeGraph::build(lib, &listing.records, vault_core::time::now_ms());
            let is_zip = out
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
            if format == ExportFormat::Markdown && !is_zip {
                return Ok(write_markdown(&kg, out)?);
            }
            let agents = match (&args.agent, format) {
                (Some(a), _) => vec![export::instructions::for_agent(&kg, lib, a)
                    .map_err(|e| CliError::Failed(e.to_string()))?],
                (None, ExportFormat::Instructions) => export::instructions::for_all(&kg, lib),
                (None, _) => Vec::new(),
            };
            format
                .graph_file(&listing.records, &kg, &agents)
                .map_err(|e| CliError::Failed(e.to_string()))?
        }
    };
    std::fs::write(out, &bytes).map_err(|e| format!("writing {}: {e}", out.display()))?;
    let name = args.format.id();
    println!("wrote {} ({} bytes, {name})", out.display(), bytes.len());
    Ok(())
}

/// The Markdown vault as a directory of notes (created if missing; notes of the same name are
/// overwritten, other files are left alone). A path ending in `.zip` gets the zip that the
/// web app downloads instead (`ExportFormat::graph_file`).
fn write_markdown(kg: &KnowledgeGraph, out: &Path) -> Result<(), String> {
    let files = export::markdown::markdown_vault(kg);
    if out.is_file() {
        return Err(format!(
            "{} is a file: give a directory for the Markdown vault, or a path ending in .zip",
            out.display()
        ));
    }
    for (rel, text) in &files {
        // The exporter makes safe relative paths; check anyway before touching the disk.
        if rel
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == "..")
        {
            return Err(format!("refusing unsafe note path `{rel}`"));
        }
        let path = out.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        }
        std::fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    println!("wrote {} ({} notes, markdown)", out.display(), files.len());
    Ok(())
}

/// Imports a plain JSON export (`selfos-export`) or an encrypted backup (`selfos-backup`)
/// into the account: records are sealed anew under the account's vault key and pushed. A
/// backup goes through [`Vault::import_backup`], the web app's import: every entry is checked
/// (flag and envelope agree, it opens under the backup's key for its identity, clock and
/// state) and only answers the account lacks are added.
pub fn import(args: &ImportArgs) -> Result<(), CliError> {
    let path = &args.input;
    let bytes = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let format = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v.get("format")?.as_str().map(str::to_owned));
    let is_backup = format.as_deref() == Some(vault_core::backup::BACKUP_FORMAT);
    let backup_pass = match (&args.backup_passphrase_file, is_backup) {
        (Some(file), true) => Some(read_passphrase(file)?),
        (Some(_), false) => {
            return Err(CliError::Usage(format!(
                "--backup-passphrase-file applies to an encrypted backup; {} is not one",
                path.display()
            )))
        }
        (None, true) => Some(read_passphrase(&args.remote.passphrase_file)?),
        (None, false) => None,
    };
    let (mut vault, mut account) = open_remote(&args.remote)?;
    let report = match &backup_pass {
        Some(pass) => block_on(vault.import_backup(&bytes, pass))?,
        None => block_on(vault.import_json(&bytes))?,
    };
    for f in &report.failures {
        eprintln!("skipped {}: {}", f.key, f.error);
    }
    let pushed = block_on(account.sync(&mut vault))?;
    block_on(account.sign_out())?;
    println!(
        "imported {} new, {} unchanged, {} skipped; pushed {}",
        report.imported,
        report.unchanged,
        report.failures.len(),
        pushed.pushed
    );
    Ok(())
}

/// Answers an everyday user would have given over the last `days` days
/// ([`vault_core::graph::synthetic::Pace::DAILY`]: a hidden profile kept ~85% of the time,
/// about one session of one to five cards a day, a few skips, three agents). The answers are
/// the same each time; the record ids are fresh, so running the demo again tops the account
/// up rather than rewriting the same records.
pub fn demo_records(days: u64, now_ms: u64, seed: u64) -> Result<Vec<AnswerRecord>, String> {
    use vault_core::graph::synthetic::{days_until, Pace};
    let mut records = days_until(
        vault_core::cards::builtin(),
        days,
        now_ms,
        &Pace::DAILY,
        seed,
    );
    for r in &mut records {
        r.id = RecordId::generate().map_err(|e| e.to_string())?;
    }
    Ok(records)
}

/// `n` answers of the graph benchmark's synthetic user, the newest a minute old (a heavy
/// user's vault, for the web app's benchmark).
pub fn synthetic_records(n: usize, now_ms: u64) -> Vec<AnswerRecord> {
    vault_core::graph::synthetic::answers_until(vault_core::cards::builtin(), n, now_ms, 0x5e1f05)
}

/// Creates (or tops up) a demo account with ~90 days of answers (`--answers N`: that many
/// answers of the synthetic benchmark user instead).
pub fn demo(args: &DemoArgs) -> Result<(), CliError> {
    let (server, user) = (args.server.as_str(), args.user.as_str());
    let pass = match &args.passphrase_file {
        Some(path) => read_passphrase(path)?,
        None => Passphrase::new("demo passphrase for SelfOS"),
    };
    let mut account = account(server, user, "selfos demo")?;
    let mut vault = match block_on(account.join(MemoryStore::new(), &pass)) {
        Ok(vault) => vault,
        Err(AccountError::Sync(SyncError::BadCredentials)) => {
            let (vault, auth) = block_on(Vault::create(
                MemoryStore::new(),
                &pass,
                KdfParams::generate().map_err(|e| e.to_string())?,
            ))?;
            block_on(account.register(&vault, auth)).map_err(|e| match e {
                AccountError::Sync(SyncError::Rejected { status: 409, .. }) => CliError::Failed(format!("the account `{user}` exists with another passphrase: pass --passphrase-file, or --user with a new name")),
                other => other.into(),
            })?;
            vault
        }
        Err(e) => return Err(e.into()),
    };
    block_on(account.sync(&mut vault))?;
    let now = vault_core::time::now_ms();
    let records = match args.answers {
        None => demo_records(90, now, 0x5e1f05)?,
        Some(n) => synthetic_records(n, now),
    };
    for r in &records {
        block_on(vault.insert(r))?;
    }
    let report = block_on(account.sync(&mut vault))?;
    let span_days = match (records.first(), records.last()) {
        (Some(a), Some(b)) => (b.captured_at_ms - a.captured_at_ms) / 86_400_000 + 1,
        _ => 0,
    };
    println!(
        "demo account `{user}` on {server}: {} answers pushed over {span_days} days{}",
        report.pushed,
        if args.passphrase_file.is_none() {
            " (passphrase: \"demo passphrase for SelfOS\")"
        } else {
            ""
        }
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use vault_core::graph::synthetic::texts_for;
    use vault_core::Answer;

    /// The demo's free text answers the question asked (its instructions read like a person):
    /// each free-text answer is one of that question's own answers.
    #[test]
    fn demo_free_text_answers_fit_their_question() {
        let lib = vault_core::cards::builtin();
        let mut texts = 0;
        for seed in [0x5e1f05, 7, 11] {
            let records = demo_records(90, 1_800_000_000_000, seed).expect("demo records");
            for r in &records {
                let Answer::ShortText { text } = &r.answer else {
                    continue;
                };
                let facet = lib.card(&r.prompt_id).map_or("", |c| c.facet.as_str());
                assert!(
                    texts_for(facet).contains(&text.as_str()),
                    "{text:?} answers {}",
                    r.prompt_id
                );
                texts += 1;
            }
        }
        assert!(texts > 0, "the demo has free-text answers");
    }
}
