//! The browser build pipeline: cargo (wasm32, size profile) -> wasm-bindgen -> wasm-opt.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cmd::{self, step, Result};
use crate::tools::Toolchain;

pub struct WebBuild {
    pub wasm_bytes: u64,
    pub wasm_gz_bytes: u64,
}

/// Builds `krate` for the browser into `out_dir` (ES module + optimized `.wasm`).
pub fn build_web(tc: &Toolchain, krate: &str, out_dir: &Path) -> Result<WebBuild> {
    build_web_variant(tc, krate, &[], out_dir, &krate.replace('-', "_"))
}

/// [`build_web`] with extra cargo arguments (features), written as `out_dir/{name}.js` and
/// `{name}_bg.wasm`: a second, smaller module from the same crate.
pub fn build_web_variant(
    tc: &Toolchain,
    krate: &str,
    cargo_extra: &[&str],
    out_dir: &Path,
    name: &str,
) -> Result<WebBuild> {
    step(&format!("build {name} ({krate}) for the browser"), || {
        let mut args = wasm_build_args(krate, "build");
        args.extend(cargo_extra);
        cmd::cargo(&args)?;
        let stem = krate.replace('-', "_");
        bindgen_and_optimize(tc, &linked(&stem), out_dir, name, &[])
    })
}

/// What [`build_split`] produced: the main module and the chunks it loads on demand.
pub struct SplitBuild {
    pub main: WebBuild,
    /// The chunk files (`*.<digest>.wasm`, optimized) and their loader `__wasm_split.js`, in
    /// `out_dir`.
    pub chunks: Vec<PathBuf>,
}

/// Like [`build_web`], for a crate with `wasm_split` split points: the linked module keeps
/// its relocations (`--emit-relocs`), `wasm-split` cuts it into a main module and one chunk
/// per split point (plus shared chunks), wasm-bindgen processes the main module, and
/// wasm-opt optimizes every piece. The chunks import the main module's memory and table
/// through `__wasm_split.js`, which imports `initSync` from the main module's script.
pub fn build_split(tc: &Toolchain, krate: &str, out_dir: &Path) -> Result<SplitBuild> {
    step(&format!("build {krate} for the browser, split"), || {
        let mut args = wasm_build_args(krate, "rustc");
        args.extend(["--lib", "--", "-C", "link-arg=--emit-relocs"]);
        cmd::cargo(&args)?;
        let stem = krate.replace('-', "_");
        let input = std::fs::read(linked(&stem)).map_err(|e| e.to_string())?;
        let split_dir = crate::root()
            .join("target/wasm")
            .join(format!("{krate}-split"));
        let _ = std::fs::remove_dir_all(&split_dir);
        let main_in = split_dir.join(format!("{stem}.wasm"));
        let main_module = format!("./{stem}.js");
        let split = wasm_split_cli_support::transform({
            let mut o = wasm_split_cli_support::Options::new(&input);
            o.output_dir = &split_dir;
            o.main_out_path = &main_in;
            o.main_module = &main_module;
            o.link_name = "./__wasm_split.js";
            o
        })
        .map_err(|e| format!("wasm-split: {e:#}"))?;
        // The chunks import the function table from the main module: keep its export.
        let main = bindgen_and_optimize(tc, &main_in, out_dir, &stem, &["--keep-lld-exports"])?;
        let loader = copy_into(&split_dir.join("__wasm_split.js"), out_dir)?;
        let mut loader_js = std::fs::read_to_string(&loader).map_err(|e| e.to_string())?;
        let mut chunks = Vec::new();
        for chunk in &split.split_modules {
            let to = copy_into(chunk, out_dir)?;
            optimize(tc, &to)?;
            let named = content_named(&to)?;
            let (old, new) = (file_name(&to), file_name(&named));
            let quoted = format!("\"./{old}\"");
            if !loader_js.contains(&quoted) {
                return Err(format!("__wasm_split.js does not load {old}"));
            }
            loader_js = loader_js.replace(&quoted, &format!("\"./{new}\""));
            chunks.push(named);
        }
        std::fs::write(&loader, loader_js).map_err(|e| e.to_string())?;
        chunks.insert(0, loader);
        Ok(SplitBuild { main, chunks })
    })
}

/// Renames `file` (`name.wasm`) to `name.<digest of its bytes>.wasm`. The loader fetches
/// modules long after the page loaded: a page of one build must never fetch a module of
/// another (both would instantiate against one memory and table, and call the wrong
/// functions). With the digest in the name, a page left open across an update asks for a file
/// that is gone and gets an error, not the new build's module.
fn content_named(file: &Path) -> Result<PathBuf> {
    let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let digest = Fnv1a::default().update(&bytes).finish();
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    let named = file.with_file_name(format!("{stem}.{digest:016x}.wasm"));
    std::fs::rename(file, &named).map_err(|e| format!("{}: {e}", file.display()))?;
    Ok(named)
}

/// FNV-1a, 64 bits: stable across toolchains and Rust releases (unlike `DefaultHasher`, whose
/// algorithm is unspecified), and a build or module name only has to differ per content.
#[derive(Clone, Copy)]
pub struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv1a {
    pub fn update(self, bytes: &[u8]) -> Self {
        Self(bytes.iter().fold(self.0, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
        }))
    }

    pub fn finish(self) -> u64 {
        self.0
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_owned()
}

fn wasm_build_args<'a>(krate: &'a str, verb: &'a str) -> Vec<&'a str> {
    vec![
        verb,
        "-p",
        krate,
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        "wasm-release",
    ]
}

/// The module the linker wrote for `stem` (a crate name with `_`).
fn linked(stem: &str) -> PathBuf {
    crate::root().join(format!(
        "target/wasm32-unknown-unknown/wasm-release/{stem}.wasm"
    ))
}

fn copy_into(file: &Path, dir: &Path) -> Result<PathBuf> {
    let to = dir.join(file.file_name().unwrap_or_default());
    cmd::copy(file, &to)?;
    Ok(to)
}

/// wasm-bindgen (`--target web`) then wasm-opt: `out_dir/{stem}.js` and `{stem}_bg.wasm`.
fn bindgen_and_optimize(
    tc: &Toolchain,
    input: &Path,
    out_dir: &Path,
    stem: &str,
    extra: &[&str],
) -> Result<WebBuild> {
    cmd::status(
        Command::new(&tc.wasm_bindgen)
            .args(["--target", "web", "--no-typescript", "--out-name", stem])
            .args(extra)
            .arg("--out-dir")
            .arg(out_dir)
            .arg(input),
    )?;
    let wasm = out_dir.join(format!("{stem}_bg.wasm"));
    optimize(tc, &wasm)?;
    let wasm_bytes = std::fs::metadata(&wasm).map_err(|e| e.to_string())?.len();
    Ok(WebBuild {
        wasm_bytes,
        wasm_gz_bytes: gzipped_len(&wasm)?,
    })
}

/// `wasm-opt -Oz` in place, with the features wasm-bindgen's output uses.
fn optimize(tc: &Toolchain, wasm: &Path) -> Result<()> {
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
            .arg(wasm)
            .arg(wasm),
    )
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

#[cfg(test)]
mod tests {
    use super::Fnv1a;

    /// The published FNV-1a 64 test values: a name computed today is the name computed by
    /// any later toolchain.
    #[test]
    fn fnv1a_matches_the_reference_values() {
        assert_eq!(Fnv1a::default().finish(), 0xcbf2_9ce4_8422_2325);
        assert_eq!(
            Fnv1a::default().update(b"a").finish(),
            0xaf63_dc4c_8601_ec8c
        );
        assert_eq!(
            Fnv1a::default().update(b"foobar").finish(),
            0x8594_4171_f739_67e8
        );
        let split = Fnv1a::default().update(b"foo").update(b"bar").finish();
        assert_eq!(split, 0x8594_4171_f739_67e8, "streaming equals one call");
    }
}
