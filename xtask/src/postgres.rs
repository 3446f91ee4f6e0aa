//! A throwaway PostgreSQL cluster for the test suite: installed from Debian's packages when
//! missing, initialised in a temporary folder, listening on 127.0.0.1 only (trust auth, no
//! socket in /var/run), stopped and deleted when the guard drops.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cmd::{self, Result};

pub struct Cluster {
    bin: PathBuf,
    data: PathBuf,
    /// `postgres://postgres@127.0.0.1:PORT/postgres`: a superuser URL for creating databases.
    pub admin_url: String,
}

/// The newest installed server's `bin` folder (`/usr/lib/postgresql/<major>/bin`).
fn server_bin() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let major = e.file_name().to_string_lossy().parse().ok()?;
            let bin = e.path().join("bin");
            (bin.join("postgres").exists() && bin.join("initdb").exists()).then_some((major, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, b)| b)
}

fn is_root() -> bool {
    cmd::probe("id", &["-u"]).is_some_and(|u| u.trim() == "0")
}

/// Runs a server tool as the `postgres` user when we are root (PostgreSQL refuses to run as
/// root), as ourselves otherwise.
fn as_owner(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

impl Cluster {
    pub fn start() -> Result<Cluster> {
        let bin = match server_bin() {
            Some(b) => b,
            None => {
                crate::tools::apt_install(&["postgresql"])?;
                server_bin().ok_or("postgresql installed but no server in /usr/lib/postgresql")?
            }
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("finding a free port: {e}"))?
            .port();
        let data = std::env::temp_dir().join(format!("selfos-pg-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data);
        std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
        if is_root() {
            cmd::status(Command::new("chown").arg("postgres:postgres").arg(&data))?;
        }
        let cluster = Cluster {
            bin,
            data,
            admin_url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        };
        cmd::status(
            as_owner(&cluster.bin.join("initdb"))
                .args([
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "-E",
                    "UTF8",
                    "--no-sync",
                    "-D",
                ])
                .arg(&cluster.data)
                .stdout(std::process::Stdio::null()),
        )?;
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off -c max_connections=200",
            cluster.data.display()
        );
        cmd::status(
            as_owner(&cluster.bin.join("pg_ctl"))
                .args(["-w", "-t", "60", "-l"])
                .arg(cluster.data.join("server.log"))
                .arg("-D")
                .arg(&cluster.data)
                .args(["-o", &options, "start"])
                .stdout(std::process::Stdio::null()),
        )?;
        println!("PostgreSQL test cluster at {}", cluster.admin_url);
        Ok(cluster)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = as_owner(&self.bin.join("pg_ctl"))
            .args(["-w", "-m", "fast", "-D"])
            .arg(&self.data)
            .arg("stop")
            .stdout(std::process::Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}
