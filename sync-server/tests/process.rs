//! The real `selfos serve` process on loopback: it starts on the embedded database, answers
//! health checks, and shuts down cleanly on SIGTERM.
#![cfg(unix)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::Backend;

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

fn free_addr() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("127.0.0.1:{port}")
}

/// A server process that is killed if a test fails before stopping it.
struct Running(std::process::Child);

impl std::ops::Deref for Running {
    type Target = std::process::Child;
    fn deref(&self) -> &std::process::Child {
        &self.0
    }
}

impl std::ops::DerefMut for Running {
    fn deref_mut(&mut self) -> &mut std::process::Child {
        &mut self.0
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// `selfos serve` on `backend` at `addr` (plus `env`), up and answering `/healthz`.
fn start_server(backend: &Backend, addr: &str, env: &[(&str, &str)]) -> Running {
    let (var, value) = backend.env();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_selfos"));
    cmd.arg("serve")
        .env("SELFOS_ADDR", addr)
        .env_remove("DATABASE_URL")
        .env(var, value)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let start = Instant::now();
    loop {
        if let Some(r) = get(addr, "/healthz") {
            assert!(r.starts_with("HTTP/1.1 200"), "{r}");
            return Running(child);
        }
        if let Some(st) = child.try_wait().unwrap() {
            panic!("server exited early: {st}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "server did not come up"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn sigterm(child: &std::process::Child) {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
}

fn wait_exit(child: &mut std::process::Child) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no clean shutdown after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts, answers, then on SIGTERM finishes a request already in flight and exits 0.
fn graceful_shutdown_on(backend: &Backend) {
    let addr = free_addr();
    let mut child = start_server(backend, &addr, &[]);
    assert!(get(&addr, "/readyz").unwrap().starts_with("HTTP/1.1 200"));
    if let Backend::Sqlite(dir) = backend {
        assert!(
            dir.join("selfos.sqlite3").exists(),
            "SQLite file in SELFOS_DATA"
        );
    }
    // A login whose body is still on its way when the signal comes.
    let body = r#"{"username":"nobody","credential":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","device":"d"}"#;
    let (first, rest) = body.split_at(20);
    let mut s = TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "POST /api/v1/sessions HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{first}",
        body.len()
    )
    .unwrap();
    s.flush().unwrap();
    // Let the server start on it (ordering only; nothing is timed).
    std::thread::sleep(Duration::from_millis(300));
    sigterm(&child);
    // Shutdown has begun once new connections are refused.
    let start = Instant::now();
    while TcpStream::connect(&addr).is_ok() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "still accepting after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    s.write_all(rest.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    assert!(
        answer.starts_with("HTTP/1.1 401"),
        "the in-flight request was not finished: {answer:?}"
    );
    let status = wait_exit(&mut child);
    assert!(status.success(), "{status}");
}

#[test]
fn serve_finishes_in_flight_requests_and_exits_0_on_sigterm_sqlite() {
    graceful_shutdown_on(&Backend::sqlite("sigterm"));
}

#[test]
fn serve_finishes_in_flight_requests_and_exits_0_on_sigterm_postgres() {
    if let Some(backend) = Backend::postgres("sigterm") {
        graceful_shutdown_on(&backend);
    }
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
    assert!(err.contains("refused"), "the cause is missing: {err}");
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
    let addr = free_addr();
    let url = format!("http://{addr}");
    let dir = std::env::temp_dir().join(format!("selfos-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("data");
    let mut server = start_server(
        &Backend::sqlite("cli"),
        &addr,
        &[("SELFOS_DATA", data.to_str().unwrap())],
    );
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
    let sessions = || {
        let db = rusqlite::Connection::open(dir.join("data").join("selfos.sqlite3")).unwrap();
        db.query_row("SELECT COUNT(*) FROM sessions", [], |r| r.get::<_, i64>(0))
            .unwrap()
    };
    let before = sessions();
    let json: serde_json::Value = serde_json::from_slice(&export("json")).unwrap();
    assert_eq!(json["records"].as_array().unwrap().len(), pushed);
    assert_eq!(sessions(), before, "export left its session open");
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
    for agent in ["# ChatGPT", "# Claude", "# Gemini", "# Perplexity"] {
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
    assert_eq!(
        fields, 5,
        "ChatGPT's two fields, Claude's, Gemini's and Perplexity's one"
    );
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

/// Reads whatever the server sends until it closes the connection, or `None` if it is still
/// open after `patience` (the server left it hanging).
fn read_until_closed(s: &mut TcpStream, patience: Duration) -> Option<String> {
    s.set_read_timeout(Some(patience)).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Some(String::from_utf8_lossy(&out).into_owned()),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Some(String::from_utf8_lossy(&out).into_owned())
            }
            Err(_) => return None,
        }
    }
}

/// Header, body and idle timeouts, 413 from a declared length, an HTTP/2 preface: none of
/// them leaves a connection hanging. The timeouts are set short; the test's patience (20 s)
/// is only how long "hanging" is given to show.
#[test]
fn slow_idle_oversized_and_http2_connections_do_not_hang() {
    let backend = Backend::sqlite("slow");
    let addr = free_addr();
    let mut child = start_server(
        &backend,
        &addr,
        &[
            ("SELFOS_HEADER_TIMEOUT_MS", "500"),
            ("SELFOS_BODY_TIMEOUT_MS", "500"),
            ("SELFOS_IDLE_TIMEOUT_MS", "700"),
        ],
    );
    let patience = Duration::from_secs(20);
    let connect = || TcpStream::connect(&addr).unwrap();

    // Headers that never finish.
    let mut s = connect();
    write!(s, "GET /healthz HTTP/1.1\r\nHost: x\r\n").unwrap();
    assert!(
        read_until_closed(&mut s, patience).is_some(),
        "unfinished headers kept the connection open"
    );

    // A body that never finishes: 408.
    let mut s = connect();
    write!(
        s,
        "POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"user"
    )
    .unwrap();
    let answer = read_until_closed(&mut s, patience).expect("unfinished body kept it open");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");

    // An idle kept-alive connection is closed after its answer.
    let mut s = connect();
    write!(s, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let answer = read_until_closed(&mut s, patience).expect("idle connection kept open");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // A declared body over the limit: 413 at once, without sending a byte of it.
    let mut s = connect();
    write!(
        s,
        "POST /api/v1/push HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n"
    )
    .unwrap();
    let mut head = [0u8; 12];
    s.set_read_timeout(Some(patience)).unwrap();
    s.read_exact(&mut head)
        .expect("no answer to an oversized declared body");
    assert_eq!(&head, b"HTTP/1.1 413");

    // HTTP/2's preface on this HTTP/1.1 port: refused, not left waiting.
    let mut s = connect();
    s.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").unwrap();
    assert!(
        read_until_closed(&mut s, patience).is_some(),
        "an HTTP/2 preface hung"
    );

    sigterm(&child);
    assert!(wait_exit(&mut child).success());
}

/// Open connections are capped per client address; past the cap a new one is closed at once,
/// and a freed place can be used again.
#[test]
fn connections_are_capped_per_address() {
    let backend = Backend::sqlite("caps");
    let addr = free_addr();
    let mut child = start_server(
        &backend,
        &addr,
        &[("SELFOS_MAX_CONNECTIONS_PER_ADDRESS", "3")],
    );
    // Each held connection is served once and kept open (keep-alive): an answer proves the
    // server accepted and counts it. (A fixed pause was not enough on a loaded machine: the
    // kernel completes a connect before the server accepts it, and the fourth could be
    // accepted first.)
    let held: Vec<TcpStream> = (0..3)
        .map(|_| {
            let mut s = TcpStream::connect(&addr).unwrap();
            write!(s, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            let (mut got, mut buf) = (Vec::new(), [0u8; 512]);
            while !got.ends_with(b"\r\n\r\nok") {
                let n = s.read(&mut buf).expect("a held connection is served");
                assert!(n > 0, "a held connection was closed: {got:?}");
                got.extend_from_slice(&buf[..n]);
            }
            s
        })
        .collect();
    let mut fourth = TcpStream::connect(&addr).unwrap();
    let _ = write!(fourth, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    let answer = read_until_closed(&mut fourth, Duration::from_secs(20))
        .expect("the connection over the cap was left open");
    assert!(answer.is_empty(), "served over the cap: {answer}");
    drop(held);
    let start = Instant::now();
    while get(&addr, "/healthz").is_none_or(|r| !r.starts_with("HTTP/1.1 200")) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "places not freed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    sigterm(&child);
    assert!(wait_exit(&mut child).success());
}

/// With a certificate, the server speaks TLS 1.3 and refuses TLS 1.2. The certificate is
/// made by the test (openssl), and so is the client (openssl s_client).
#[test]
fn tls_is_1_3_only() {
    let backend = Backend::sqlite("tls");
    let dir = std::env::temp_dir().join(format!("selfos-tls-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .expect("openssl (Debian's openssl package) makes the test certificate");
    assert!(made.success());
    let addr = free_addr();
    let (c, k) = (cert.to_str().unwrap(), key.to_str().unwrap());
    // Up once the TLS port answers a TLS 1.3 handshake (start_server speaks plain HTTP).
    let (var, value) = backend.env();
    let mut child = Running(
        Command::new(env!("CARGO_BIN_EXE_selfos"))
            .arg("serve")
            .env("SELFOS_ADDR", &addr)
            .env_remove("DATABASE_URL")
            .env(var, value)
            .env("SELFOS_TLS_CERT", c)
            .env("SELFOS_TLS_KEY", k)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let handshake = |version: &str| {
        let mut client = Command::new("openssl")
            .args(["s_client", "-connect", &addr, version, "-brief"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(client.stdin.take()); // EOF: end the session after the handshake
        let out = client.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let start = Instant::now();
    let (ok, said) = loop {
        let (ok, said) = handshake("-tls1_3");
        if ok || start.elapsed() > Duration::from_secs(30) {
            break (ok, said);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(ok && said.contains("TLSv1.3"), "TLS 1.3 refused: {said}");
    let (ok, said) = handshake("-tls1_2");
    assert!(
        !ok && !said.contains("Protocol version: TLSv1.2"),
        "TLS 1.2 accepted: {said}"
    );
    sigterm(&child);
    assert!(wait_exit(&mut child).success());
    let _ = std::fs::remove_dir_all(&dir);
}

/// PostgreSQL going away under a running server: /readyz says so with the cause (503), not
/// a bare "internal error", and without the URL's password.
#[test]
fn a_lost_database_is_reported_with_its_cause() {
    let Some(backend) = Backend::postgres("lost") else {
        return;
    };
    let addr = free_addr();
    let mut child = start_server(&backend, &addr, &[]);
    assert!(get(&addr, "/readyz").unwrap().starts_with("HTTP/1.1 200"));
    let Backend::Postgres { admin, name } = &backend else {
        unreachable!()
    };
    let mut client = postgres::Client::connect(admin, postgres::NoTls).unwrap();
    client
        .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .unwrap();
    // The first answer may come from a pooled connection that just died; both are reported.
    for _ in 0..2 {
        let answer = get(&addr, "/readyz").unwrap();
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
        assert!(
            answer.contains("database is unavailable") && !answer.contains("internal error"),
            "{answer}"
        );
        assert!(
            answer.contains("does not exist")
                || answer.contains("connection")
                || answer.contains("terminating"),
            "no cause: {answer}"
        );
    }
    sigterm(&child);
    assert!(wait_exit(&mut child).success());
}
/// `selfos import` restores an encrypted backup (issue 17, item 12) with the web app's checks
/// (`Vault::import_backup`): the published format-2 backup adds its three answers to an
/// account made under another passphrase (`--backup-passphrase-file`); an entry whose
/// `deleted` flag and envelope disagree is reported and skipped, never imported; the
/// format-1 backup of the same answers opens and finds them present; a wrong backup
/// passphrase fails with exit 1 and imports nothing.
#[test]
fn import_restores_an_encrypted_backup_with_every_check() {
    let addr = free_addr();
    let url = format!("http://{addr}");
    let dir = std::env::temp_dir().join(format!("selfos-import-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("data");
    let mut server = start_server(
        &Backend::sqlite("import"),
        &addr,
        &[("SELFOS_DATA", data.to_str().unwrap())],
    );
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
    // Three answers, the delivery record and the proposal record of the sample backup.
    assert!(
        stdout.contains("imported 5 new, 0 unchanged, 1 skipped"),
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
    assert_eq!(exported["proposals"].as_array().unwrap().len(), 1);

    server.kill().unwrap();
    server.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
