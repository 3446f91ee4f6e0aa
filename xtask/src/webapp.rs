//! Assembles the companion web app into `dist/webapp/`, which `selfos serve` serves at `/`
//! (`SELFOS_WEBAPP`, default `dist/webapp`): `index.html`, `boot.js`, `app.css`, `sw.js`
//! (offline cache) and `pkg/`: the wasm-bindgen output (optimized by wasm-opt) for the main
//! module, which holds the unlock screen and the overview, and the chunks the other views load
//! on demand with their loader `__wasm_split.js` (see `webapp/src/web/lazy.rs`). Every file
//! also gets a `.gz` twin, which the server sends to browsers that accept gzip.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cmd::{self, step, Result};
use crate::root;
use crate::tools::Toolchain;
use crate::wasm;

/// What the build produced, for the summary and the benchmarks.
pub struct Built {
    /// The main module (unlock and overview).
    pub wasm_bytes: u64,
    pub wasm_gz_bytes: u64,
    /// Gzipped bytes of what a first visit needs to show the overview (page, scripts, style,
    /// main module); the views' chunks come after it.
    pub first_visit_gz_bytes: u64,
    /// Gzipped bytes of the chunks the other views load on demand, all of them.
    pub chunks_gz_bytes: u64,
}

pub fn dir() -> PathBuf {
    root().join("dist/webapp")
}

/// Builds the crate for the browser and writes `dist/webapp/`.
pub fn build(tc: &Toolchain) -> Result<Built> {
    let pkg = root().join("target/wasm/selfos-webapp");
    let _ = std::fs::remove_dir_all(&pkg);
    let out = wasm::build_split(tc, "selfos-webapp", &pkg)?;
    step("assemble dist/webapp", || {
        let dir = dir();
        let _ = std::fs::remove_dir_all(&dir);
        let mut files = Vec::new();
        for entry in std::fs::read_dir(root().join("webapp/static")).map_err(|e| e.to_string())? {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_file() {
                let to = dir.join(path.file_name().unwrap_or_default());
                cmd::copy(&path, &to)?;
                files.push(to);
            }
        }
        for name in ["selfos_webapp.js", "selfos_webapp_bg.wasm"] {
            let to = dir.join("pkg").join(name);
            cmd::copy(&pkg.join(name), &to)?;
            files.push(to);
        }
        let mut chunks = Vec::new();
        for chunk in &out.chunks {
            let to = dir.join("pkg").join(chunk.file_name().unwrap_or_default());
            cmd::copy(chunk, &to)?;
            chunks.push(to);
        }
        stamp_build(&dir.join("sw.js"), &files, &chunks)?;
        let (mut first_visit, mut chunks_gz) = (0, 0);
        for f in files.iter().chain(&chunks) {
            cmd::status(Command::new("gzip").args(["-9", "-k", "-f", "-n"]).arg(f))?;
            let len = std::fs::metadata(gz(f)).map_err(|e| e.to_string())?.len();
            let name = f.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if name.ends_with(".wasm") && chunks.contains(f) {
                chunks_gz += len;
            } else if name != "sw.js" {
                // The loader script is imported by the main module's script: first visit.
                first_visit += len;
            }
        }
        Ok(Built {
            wasm_bytes: out.main.wasm_bytes,
            wasm_gz_bytes: out.main.wasm_gz_bytes,
            first_visit_gz_bytes: first_visit,
            chunks_gz_bytes: chunks_gz,
        })
    })
}

/// Replaces `__SELFOS_BUILD__` in the service worker with a digest of every other file of the build, so
/// each build caches into a cache of its own (see `webapp/static/sw.js`).
fn stamp_build(sw: &Path, files: &[PathBuf], chunks: &[PathBuf]) -> Result<()> {
    let mut digest = crate::wasm::Fnv1a::default();
    for f in files.iter().chain(chunks).filter(|f| f.as_path() != sw) {
        digest = digest.update(&std::fs::read(f).map_err(|e| format!("{}: {e}", f.display()))?);
    }
    let text = std::fs::read_to_string(sw).map_err(|e| format!("{}: {e}", sw.display()))?;
    const PLACEHOLDER: &str = "__SELFOS_BUILD__";
    if !text.contains(PLACEHOLDER) {
        return Err(format!("{} has no {PLACEHOLDER} placeholder", sw.display()));
    }
    let stamped = text.replace(PLACEHOLDER, &format!("{:016x}", digest.finish()));
    std::fs::write(sw, stamped).map_err(|e| format!("{}: {e}", sw.display()))
}

fn gz(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".gz");
    PathBuf::from(s)
}

/// `tests/webapp/e2e.mjs` (with `--bench`, its benchmarks) against `dist/webapp`.
pub fn e2e_cmd(tc: &Toolchain, bench: bool) -> Command {
    let mut c = tc.node_suite("webapp/e2e.mjs");
    c.env("SELFOS_WEBAPP", dir());
    if bench {
        c.arg("--bench");
    }
    c
}
