//! The browser build pipeline: cargo (wasm32, size profile) -> wasm-bindgen -> wasm-opt.

use std::path::Path;
use std::process::Command;

use crate::cmd::{self, step, Result};
use crate::tools::Toolchain;

pub struct WebBuild {
    pub wasm_bytes: u64,
    pub wasm_gz_bytes: u64,
}

/// Builds `krate` for the browser into `out_dir` (ES module + optimized `.wasm`).
pub fn build_web(tc: &Toolchain, krate: &str, out_dir: &Path) -> Result<WebBuild> {
    step(&format!("build {krate} for the browser"), || {
        cmd::cargo(&[
            "build",
            "-p",
            krate,
            "--target",
            "wasm32-unknown-unknown",
            "--profile",
            "wasm-release",
        ])?;
        let stem = krate.replace('-', "_");
        let input = crate::root().join(format!(
            "target/wasm32-unknown-unknown/wasm-release/{stem}.wasm"
        ));
        cmd::status(
            Command::new(&tc.wasm_bindgen)
                .args(["--target", "web", "--no-typescript", "--out-dir"])
                .arg(out_dir)
                .arg(&input),
        )?;
        let wasm = out_dir.join(format!("{stem}_bg.wasm"));
        cmd::status(
            Command::new(&tc.wasm_opt)
                .args([
                    "-Oz",
                    "--enable-bulk-memory",
                    "--enable-nontrapping-float-to-int",
                    "--enable-reference-types",
                    "--enable-sign-ext",
                    "--enable-mutable-globals",
                    "--enable-multivalue",
                    "-o",
                ])
                .arg(&wasm)
                .arg(&wasm),
        )?;
        let wasm_bytes = std::fs::metadata(&wasm).map_err(|e| e.to_string())?.len();
        Ok(WebBuild {
            wasm_bytes,
            wasm_gz_bytes: gzipped_len(&wasm)?,
        })
    })
}

/// Size of a file after `gzip -9`.
pub fn gzipped_len(path: &Path) -> Result<u64> {
    let out = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(path)
        .output()
        .map_err(|e| format!("gzip: {e}"))?;
    if !out.status.success() {
        return Err(format!("gzip {} failed", path.display()));
    }
    Ok(out.stdout.len() as u64)
}
