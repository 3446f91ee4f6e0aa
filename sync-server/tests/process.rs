//! The real `selfos serve` process on loopback: it starts on the embedded database, answers
//! health checks, and shuts down cleanly on SIGTERM.
#![cfg(unix)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn get(addr: &str, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

#[test]
fn serve_starts_answers_and_stops_on_sigterm() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let data = std::env::temp_dir().join(format!("selfos-process-{}", std::process::id()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_selfos"))
        .arg("serve")
        .env("SELFOS_ADDR", &addr)
        .env("SELFOS_DATA", &data)
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let health = loop {
        if let Some(r) = get(&addr, "/healthz") {
            break r;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "server did not come up"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(get(&addr, "/readyz").unwrap().starts_with("HTTP/1.1 200"));
    assert!(
        data.join("selfos.sqlite3").exists(),
        "SQLite file in SELFOS_DATA"
    );
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no clean shutdown after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn an_unreachable_database_is_reported_clearly() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // Nothing listens on `port`: the server must say so and exit non-zero, not hang or panic.
    let out = Command::new(env!("CARGO_BIN_EXE_selfos"))
        .arg("serve")
        .env("SELFOS_ADDR", "127.0.0.1:0")
        .env(
            "DATABASE_URL",
            format!("postgres://selfos:secret@127.0.0.1:{port}/selfos"),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot connect to the PostgreSQL database"),
        "{err}"
    );
    assert!(
        !err.contains("secret"),
        "password leaked into the message: {err}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_selfos"))
        .arg("serve")
        .env("DATABASE_URL", "mysql://localhost/selfos")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a postgres:// URL"));
}

/// `selfos demo` fills an account; `selfos export` gets it back in each format through the
/// real sync protocol; `selfos import` brings an export into another account; a wrong
/// passphrase and an unknown format fail clearly.
#[test]
fn demo_export_and_import_through_a_running_server() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let url = format!("http://{addr}");
    let dir = std::env::temp_dir().join(format!("selfos-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_selfos"))
        .arg("serve")
        .env("SELFOS_ADDR", &addr)
        .env("SELFOS_DATA", dir.join("data"))
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while get(&addr, "/healthz").is_none() {
        assert!(start.elapsed() < Duration::from_secs(20));
        std::thread::sleep(Duration::from_millis(50));
    }
    let selfos = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_selfos"))
            .args(args)
            .output()
            .unwrap()
    };
    let pass = dir.join("pass");
    std::fs::write(&pass, "a passphrase for the demo\n").unwrap();
    let pass = pass.to_str().unwrap();
    let out = selfos(&[
        "demo",
        "--server",
        &url,
        "--user",
        "dana",
        "--passphrase-file",
        pass,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    let pushed: usize = said
        .split_whitespace()
        .find_map(|w| w.parse().ok())
        .unwrap_or(0);
    assert!(pushed > 90, "{said}");

    let export_to = |format: &str, path: &std::path::Path, extra: &[&str]| {
        let mut args = vec![
            "export",
            "--server",
            &url,
            "--user",
            "dana",
            "--passphrase-file",
            pass,
            "--format",
            format,
            "--out",
            path.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let out = selfos(&args);
        assert!(
            out.status.success(),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let export = |format: &str| {
        let path = dir.join(format!("export.{format}"));
        export_to(format, &path, &[]);
        std::fs::read(path).unwrap()
    };
    let json: serde_json::Value = serde_json::from_slice(&export("json")).unwrap();
    assert_eq!(json["records"].as_array().unwrap().len(), pushed);
    let csv = String::from_utf8(export("csv")).unwrap();
    assert_eq!(
        csv.lines().count(),
        pushed + 1,
        "header + one row per answer"
    );
    let backup: serde_json::Value = serde_json::from_slice(&export("backup")).unwrap();
    assert_eq!(backup["format"], "selfos-backup");
    assert!(
        !String::from_utf8_lossy(&export("backup")).contains("Rust and WebAssembly"),
        "backup is sealed"
    );

    // The knowledge-graph exports, built from the same answers.
    let graphml = String::from_utf8(export("graphml")).unwrap();
    assert!(graphml.starts_with("<?xml") && graphml.trim_end().ends_with("</graphml>"));
    assert!(graphml.contains("edgedefault=\"undirected\""));
    let graphml_nodes = graphml.matches("<node id=").count();
    assert!(graphml_nodes > 200, "{graphml_nodes} nodes");
    assert!(graphml.contains("<data key=\"d_relation\">co_occurs</data>"));
    let jgf: serde_json::Value = serde_json::from_slice(&export("jgf")).unwrap();
    let jgf_nodes = jgf["graph"]["nodes"].as_object().unwrap();
    assert_eq!(jgf_nodes.len(), graphml_nodes);
    assert_eq!(
        jgf["graph"]["edges"].as_array().unwrap().len(),
        graphml.matches("<edge id=").count()
    );
    assert!(jgf_nodes
        .values()
        .any(|n| n["metadata"]["supports"].as_u64() > Some(0)));
    let instructions = String::from_utf8(export("instructions")).unwrap();
    for agent in ["# ChatGPT", "# Claude", "# Gemini"] {
        assert!(instructions.contains(agent), "{agent}: {instructions}");
    }
    let mut fields = 0;
    for line in instructions.lines().filter(|l| l.starts_with("## ")) {
        // "## <title> (<length>/<limit> characters)"
        let figures = line.rsplit('(').next().unwrap();
        let (len, limit) = figures
            .trim_end_matches(" characters)")
            .split_once('/')
            .unwrap();
        let (len, limit): (usize, usize) = (len.parse().unwrap(), limit.parse().unwrap());
        assert!(len > 0 && len <= limit, "{line}");
        fields += 1;
    }
    assert_eq!(fields, 4, "ChatGPT's two fields, Claude's and Gemini's one");
    let one = dir.join("chatgpt.txt");
    export_to("instructions", &one, &["--agent", "chatgpt"]);
    let one = std::fs::read_to_string(one).unwrap();
    assert!(one.contains("# ChatGPT") && !one.contains("# Claude"));
    assert!(one.contains("How would you like ChatGPT to respond?"));
    let notes = dir.join("vault");
    export_to("markdown", &notes, &[]);
    let index = std::fs::read_to_string(notes.join("index.md")).unwrap();
    assert!(index.contains("# SelfOS profile") && index.contains("[["));
    let mut note_files = Vec::new();
    let mut stack = vec![notes.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                note_files.push(p);
            }
        }
    }
    assert!(note_files.len() > 50, "{} notes", note_files.len());
    let zip = dir.join("vault.zip");
    export_to("markdown", &zip, &[]);
    let zipped =
        vault_core::graph::export::zip::read_stored(&std::fs::read(&zip).unwrap()).unwrap();
    assert_eq!(zipped.len(), note_files.len());
    // Same notes in the archive as in the directory (contents differ only by the moment).
    let mut from_dir: Vec<String> = note_files
        .iter()
        .map(|p| {
            p.strip_prefix(&notes)
                .unwrap()
                .to_str()
                .unwrap()
                .replace('\\', "/")
        })
        .collect();
    let mut from_zip: Vec<String> = zipped.iter().map(|(p, _)| p.clone()).collect();
    from_dir.sort();
    from_zip.sort();
    assert_eq!(from_dir, from_zip);
    // --agent belongs to the instructions only.
    let out = selfos(&[
        "export",
        "--server",
        &url,
        "--user",
        "dana",
        "--passphrase-file",
        pass,
        "--format",
        "jgf",
        "--agent",
        "claude",
        "--out",
        "/dev/null",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--agent applies to"));

    let wrong = dir.join("wrong");
    std::fs::write(&wrong, "not it").unwrap();
    let out = selfos(&[
        "export",
        "--server",
        &url,
        "--user",
        "dana",
        "--passphrase-file",
        wrong.to_str().unwrap(),
        "--format",
        "json",
        "--out",
        "/dev/null",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong username or passphrase"));
    let out = selfos(&[
        "export",
        "--server",
        &url,
        "--user",
        "dana",
        "--passphrase-file",
        pass,
        "--format",
        "pdf",
        "--out",
        "/dev/null",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown --format"));

    // Import the JSON export into a fresh account: every answer arrives, re-sealed.
    let out = selfos(&[
        "demo",
        "--server",
        &url,
        "--user",
        "erik",
        "--passphrase-file",
        pass,
    ]);
    assert!(out.status.success());
    let json_path = dir.join("export.json");
    let out = selfos(&[
        "import",
        "--server",
        &url,
        "--user",
        "erik",
        "--passphrase-file",
        pass,
        "--in",
        json_path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("imported {pushed} new")),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // The server is down: a clear, retryable error.
    server.kill().unwrap();
    server.wait().unwrap();
    let out = selfos(&[
        "export",
        "--server",
        &url,
        "--user",
        "dana",
        "--passphrase-file",
        pass,
        "--format",
        "json",
        "--out",
        "/dev/null",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach the sync server"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every subcommand answers `--help` (exit 0, naming its flags and the environment variables
/// they fall back to); an unknown flag or a missing one is a usage error (exit 2); a
/// passphrase is never taken on the command line.
#[test]
fn every_subcommand_answers_help_and_usage_errors_exit_2() {
    let selfos = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_selfos"))
            .args(args)
            .env_remove("SELFOS_PASSPHRASE_FILE")
            .output()
            .unwrap()
    };
    let help = |args: &[&str], wants: &[&str]| {
        let out = selfos(args);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {text}");
        for w in wants {
            assert!(text.contains(w), "{args:?} should mention {w}: {text}");
        }
    };
    help(&["--help"], &["serve", "export", "import", "demo"]);
    help(
        &["demo", "--help"],
        &[
            "--server",
            "--user",
            "--passphrase-file",
            "--answers",
            "SELFOS_PASSPHRASE_FILE",
        ],
    );
    help(
        &["export", "--help"],
        &[
            "--server",
            "--user",
            "--passphrase-file",
            "--format",
            "--out",
            "--agent",
            "instructions",
        ],
    );
    help(
        &["import", "--help"],
        &["--in", "--passphrase-file", "--backup-passphrase-file"],
    );
    help(
        &["serve", "--help"],
        &[
            "SELFOS_ADDR",
            "SELFOS_DATA",
            "DATABASE_URL",
            "SELFOS_ALLOWED_ORIGINS",
            "SELFOS_WEBAPP",
        ],
    );
    help(&["help", "export"], &["--format"]);

    let usage = |args: &[&str], wants: &str| {
        let out = selfos(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(wants), "{args:?} should say {wants}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    };
    usage(&["demo", "--no-such-flag"], "--no-such-flag");
    usage(&["export", "--server", "http://127.0.0.1:9"], "--user");
    usage(&["frobnicate"], "frobnicate");
    usage(&[], "Usage");
    usage(&["demo", "--answers", "many"], "--answers");
    usage(&["export", "--passphrase", "hunter2"], "--passphrase");
    // Flags that parse but do not fit together are usage errors too, before any network.
    usage(
        &[
            "export",
            "--server",
            "http://127.0.0.1:9",
            "--user",
            "x",
            "--passphrase-file",
            "/dev/null",
            "--format",
            "jgf",
            "--agent",
            "claude",
            "--out",
            "/dev/null",
        ],
        "--agent applies to",
    );
}

/// `selfos import` restores an encrypted backup (issue 17, item 12) with the web app's checks
/// (`Vault::import_backup`): the published format-2 backup adds its three answers to an
/// account made under another passphrase (`--backup-passphrase-file`); an entry whose
/// `deleted` flag and envelope disagree is reported and skipped, never imported; the
/// format-1 backup of the same answers opens and finds them present; a wrong backup
/// passphrase fails with exit 1 and imports nothing.
#[test]
fn import_restores_an_encrypted_backup_with_every_check() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let url = format!("http://{addr}");
    let dir = std::env::temp_dir().join(format!("selfos-import-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_selfos"))
        .arg("serve")
        .env("SELFOS_ADDR", &addr)
        .env("SELFOS_DATA", dir.join("data"))
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while get(&addr, "/healthz").is_none() {
        assert!(start.elapsed() < Duration::from_secs(20));
        std::thread::sleep(Duration::from_millis(50));
    }
    let selfos = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_selfos"))
            .args(args)
            .output()
            .unwrap()
    };
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let pass = write("pass", "the account's own passphrase\n");
    // The vectors' passphrase, with a CRLF line ending (FORMAT.md §1: dropped).
    let backup_pass = write("backup-pass", "correct horse battery staple\r\n");
    let wrong_pass = write("wrong-pass", "not the backup's passphrase\n");
    let out = selfos(&[
        "demo",
        "--server",
        &url,
        "--user",
        "gus",
        "--passphrase-file",
        &pass,
        "--answers",
        "2",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let vectors = concat!(env!("CARGO_MANIFEST_DIR"), "/../vault-core/tests/vectors/");
    let import = |file: &str, backup_pass: &str| {
        selfos(&[
            "import",
            "--server",
            &url,
            "--user",
            "gus",
            "--passphrase-file",
            &pass,
            "--backup-passphrase-file",
            backup_pass,
            "--in",
            file,
        ])
    };

    // One inconsistent entry first: a format-1 record envelope marked deleted.
    let mut backup: serde_json::Value =
        serde_json::from_slice(&std::fs::read(format!("{vectors}backup-v2.json")).unwrap())
            .unwrap();
    let v1: serde_json::Value =
        serde_json::from_slice(&std::fs::read(format!("{vectors}backup-v1.json")).unwrap())
            .unwrap();
    let mut bad = v1["records"][0].clone();
    bad["deleted"] = true.into();
    backup["records"].as_array_mut().unwrap().insert(0, bad);
    let with_bad = write("with-bad.json", &backup.to_string());

    let out = import(&with_bad, &wrong_pass);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("wrong passphrase"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = import(&with_bad, &backup_pass);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("imported 3 new, 0 unchanged, 1 skipped"),
        "{stdout}"
    );
    assert!(
        stderr.contains("skipped records[0]") && stderr.contains("disagree"),
        "{stderr}"
    );

    let out = import(&format!("{vectors}backup-v1.json"), &backup_pass);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("imported 0 new, 3 unchanged, 0 skipped"),
        "{stdout}"
    );

    // The account holds the two demo answers and the three imported ones.
    let export = dir.join("after.json");
    let out = selfos(&[
        "export",
        "--server",
        &url,
        "--user",
        "gus",
        "--passphrase-file",
        &pass,
        "--format",
        "json",
        "--out",
        export.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let exported: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&export).unwrap()).unwrap();
    assert_eq!(exported["records"].as_array().unwrap().len(), 5);

    server.kill().unwrap();
    server.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
