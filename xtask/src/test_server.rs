//! A `selfos serve` process for browser tests: SQLite in a temporary folder, on a free
//! loopback port, admitting (CORS) the origin the wasm-bindgen test runner will serve from.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::cmd::Result;

pub struct TestServer {
    child: Child,
    data: std::path::PathBuf,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// Where the test runner must listen (`WASM_BINDGEN_TEST_ADDRESS`) for CORS to admit it.
    pub runner_addr: String,
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("finding a free port: {e}"))?
        .port())
}

impl TestServer {
    pub fn start() -> Result<TestServer> {
        Self::start_with("browser-sync", &[])
    }

    /// A server whose data folder is named after `purpose`, with extra `SELFOS_*` settings.
    pub fn start_with(purpose: &str, settings: &[(&str, &str)]) -> Result<TestServer> {
        let (port, runner) = (free_port()?, free_port()?);
        let data = std::env::temp_dir().join(format!("selfos-{purpose}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data);
        let addr = format!("127.0.0.1:{port}");
        let child = Command::new(crate::root().join("target/debug/selfos"))
            .arg("serve")
            .env("SELFOS_ADDR", &addr)
            .env("SELFOS_DATA", &data)
            .env_remove("DATABASE_URL")
            .env(
                "SELFOS_ALLOWED_ORIGINS",
                format!("http://127.0.0.1:{runner}"),
            )
            .envs(settings.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("starting target/debug/selfos: {e}"))?;
        let mut server = TestServer {
            child,
            data,
            url: format!("http://{addr}"),
            runner_addr: format!("127.0.0.1:{runner}"),
        };
        let start = Instant::now();
        while TcpStream::connect(&addr).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!("selfos serve exited at start ({status})"));
            }
            if start.elapsed() > Duration::from_secs(30) {
                let _ = server.child.kill();
                return Err("selfos serve did not listen within 30 s".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        println!(
            "sync server at {} (runner origin http://{})",
            server.url, server.runner_addr
        );
        Ok(server)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}
