//! `selfos export | import | demo`: the command line's sync clients. Each logs in with the
//! passphrase (derived locally; the server never sees it), pulls the vault into memory with
//! the same engine the extension and web app use, and works on the decrypted copy.

use std::path::{Path, PathBuf};

use vault_core::graph::{export, KnowledgeGraph};
use vault_core::store::block_on;
use vault_core::sync::{sync, Client, Session};
use vault_core::{AnswerRecord, KdfParams, MemoryStore, Passphrase, RecordId, Vault};

use crate::http_client::BlockingTransport;

/// Flags as `--name value` pairs.
pub struct Args(Vec<(String, String)>);

impl Args {
    pub fn parse(raw: &[String]) -> Result<Args, String> {
        let mut out = Vec::new();
        let mut it = raw.iter();
        while let Some(flag) = it.next() {
            let name = flag
                .strip_prefix("--")
                .ok_or_else(|| format!("unexpected argument `{flag}` (flags are --name value)"))?;
            let value = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
            out.push((name.to_owned(), value.clone()));
        }
        Ok(Args(out))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn need(&self, name: &str) -> Result<&str, String> {
        self.get(name).ok_or_else(|| format!("missing --{name}"))
    }

    fn passphrase(&self) -> Result<Passphrase, String> {
        let path = self.need("passphrase-file")?;
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading the passphrase file {path}: {e}"))?;
        let pass = text.trim_end_matches(['\n', '\r']);
        if pass.is_empty() {
            return Err(format!("the passphrase file {path} is empty"));
        }
        Ok(Passphrase::new(pass))
    }
}

fn client(server: &str) -> Result<Client<BlockingTransport>, String> {
    Ok(Client::new(BlockingTransport::new(server)?))
}

/// Logs in and pulls the whole vault into memory.
fn open_remote(
    args: &Args,
) -> Result<
    (
        Vault<MemoryStore>,
        Client<BlockingTransport>,
        Session,
        Passphrase,
    ),
    String,
> {
    let client = client(args.need("server")?)?;
    let pass = args.passphrase()?;
    let user = args.need("user")?;
    let (session, header) =
        block_on(client.login_with_passphrase(user, &pass, "selfos command line"))
            .map_err(|e| e.to_string())?;
    let (mut vault, _) =
        block_on(Vault::join(MemoryStore::new(), header, &pass)).map_err(|e| e.to_string())?;
    let report = block_on(sync(&mut vault, &client, &session)).map_err(|e| e.to_string())?;
    if report.refused > 0 {
        eprintln!(
            "warning: {} entries on the server did not open (tampered or damaged) and were skipped",
            report.refused
        );
    }
    Ok((vault, client, session, pass))
}

const FORMATS: &str = "json, csv, markdown, graphml, jgf, instructions or backup";

pub fn export(args: &Args) -> Result<(), String> {
    let format = args.need("format")?;
    let out = PathBuf::from(args.need("out")?);
    if !matches!(
        format,
        "json" | "csv" | "backup" | "markdown" | "graphml" | "jgf" | "instructions"
    ) {
        return Err(format!("unknown --format `{format}`: {FORMATS}"));
    }
    let agent = args.get("agent");
    if agent.is_some() && format != "instructions" {
        return Err("--agent applies to --format instructions only".into());
    }
    let (vault, _, _, _) = open_remote(args)?;
    let bytes = match format {
        "json" => block_on(vault.export_json()).map_err(|e| e.to_string())?.0,
        "backup" => {
            block_on(vault.export_backup())
                .map_err(|e| e.to_string())?
                .0
        }
        "csv" => {
            let listing = block_on(vault.list()).map_err(|e| e.to_string())?;
            vault_core::backup::csv(&listing.records).into_bytes()
        }
        graph_format => {
            let listing = block_on(vault.list()).map_err(|e| e.to_string())?;
            let lib = vault_core::cards::builtin();
            let kg = KnowledgeGraph::build(lib, &listing.records, vault_core::time::now_ms());
            match graph_format {
                "graphml" => export::graphml::graphml(&kg).into_bytes(),
                "jgf" => export::jgf::jgf_string(&kg).into_bytes(),
                "instructions" => {
                    let all = match agent {
                        Some(a) => vec![export::instructions::for_agent(&kg, lib, a)
                            .map_err(|e| e.to_string())?],
                        None => export::instructions::for_all(&kg, lib),
                    };
                    export::instructions::to_text(&all).into_bytes()
                }
                _ => return write_markdown(&kg, &out),
            }
        }
    };
    std::fs::write(&out, &bytes).map_err(|e| format!("writing {}: {e}", out.display()))?;
    println!("wrote {} ({} bytes, {format})", out.display(), bytes.len());
    Ok(())
}

/// The Markdown vault: a zip when `out` ends in `.zip`, else a directory of notes (created if
/// missing; notes of the same name are overwritten, other files are left alone).
fn write_markdown(kg: &KnowledgeGraph, out: &Path) -> Result<(), String> {
    let files = export::markdown::markdown_vault(kg);
    let is_zip = out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    if is_zip {
        let bytes = export::zip::zip_store(&files, kg.as_of_ms()).map_err(|e| e.to_string())?;
        std::fs::write(out, &bytes).map_err(|e| format!("writing {}: {e}", out.display()))?;
        println!(
            "wrote {} ({} notes, {} bytes, markdown zip)",
            out.display(),
            files.len(),
            bytes.len()
        );
        return Ok(());
    }
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

/// Imports a plain JSON export (`selfos-export`) into the account: records are sealed anew
/// under the account's vault key and pushed.
pub fn import(args: &Args) -> Result<(), String> {
    let path = args.need("in")?;
    let bytes = std::fs::read(path).map_err(|e| format!("reading {path}: {e}"))?;
    let (mut vault, client, session, _) = open_remote(args)?;
    let report = block_on(vault.import_json(&bytes)).map_err(|e| e.to_string())?;
    for f in &report.failures {
        eprintln!("skipped {}: {}", f.key, f.error);
    }
    let pushed = block_on(sync(&mut vault, &client, &session)).map_err(|e| e.to_string())?;
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
pub fn demo(args: &Args) -> Result<(), String> {
    let server = args.get("server").unwrap_or("http://127.0.0.1:8787");
    let user = args.get("user").unwrap_or("demo");
    let pass = match args.get("passphrase-file") {
        Some(_) => args.passphrase()?,
        None => Passphrase::new("demo passphrase for SelfOS"),
    };
    let client = client(server)?;
    let (mut vault, session) = match block_on(client.login_with_passphrase(
        user,
        &pass,
        "selfos demo",
    )) {
        Ok((session, header)) => {
            let (v, _) = block_on(Vault::join(MemoryStore::new(), header, &pass))
                .map_err(|e| e.to_string())?;
            (v, session)
        }
        Err(vault_core::sync::SyncError::BadCredentials) => {
            let (v, auth) = block_on(Vault::create(
                MemoryStore::new(),
                &pass,
                KdfParams::generate().map_err(|e| e.to_string())?,
            ))
            .map_err(|e| e.to_string())?;
            block_on(client.register(user, v.header(), &auth)).map_err(|e| match e {
                vault_core::sync::SyncError::Rejected { status: 409, .. } => format!("the account `{user}` exists with another passphrase: pass --passphrase-file, or --user with a new name"),
                other => other.to_string(),
            })?;
            let (session, _) =
                block_on(client.login(user, &auth, "selfos demo")).map_err(|e| e.to_string())?;
            (v, session)
        }
        Err(e) => return Err(e.to_string()),
    };
    block_on(sync(&mut vault, &client, &session)).map_err(|e| e.to_string())?;
    let now = vault_core::time::now_ms();
    let records = match args.get("answers") {
        None => demo_records(90, now, 0x5e1f05)?,
        Some(n) => {
            let n: usize = n
                .parse()
                .map_err(|_| format!("--answers {n}: give a number of answers, e.g. 10000"))?;
            synthetic_records(n, now)
        }
    };
    for r in &records {
        block_on(vault.insert(r)).map_err(|e| e.to_string())?;
    }
    let report = block_on(sync(&mut vault, &client, &session)).map_err(|e| e.to_string())?;
    let span_days = match (records.first(), records.last()) {
        (Some(a), Some(b)) => (b.captured_at_ms - a.captured_at_ms) / 86_400_000 + 1,
        _ => 0,
    };
    println!(
        "demo account `{user}` on {server}: {} answers pushed over {span_days} days{}",
        report.pushed,
        if args.get("passphrase-file").is_none() {
            " (passphrase: \"demo passphrase for SelfOS\")"
        } else {
            ""
        }
    );
    Ok(())
}
