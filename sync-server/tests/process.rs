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
