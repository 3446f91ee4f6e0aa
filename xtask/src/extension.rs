//! Assembles the browser extension: the Rust/WASM module, the thin JavaScript shims, the
//! pages and icons, and one Manifest V3 per browser generated from `manifest/`.
//!
//! Layout of `dist/<browser>/`: `manifest.json`, `background.js`, `content.js`, `boot.js`,
//! `card.html`, `popup.html`, `options.html`, `*.css`, `icons/`, `pkg/` (wasm-bindgen output:
//! `selfos_extension` for the background and pages, `selfos_card` for the card frame).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::cmd::{self, step, Result};
use crate::root;
use crate::tools::Toolchain;
use crate::wasm;

pub const BROWSERS: [&str; 2] = ["chrome", "firefox"];

/// What `dist` produced, for the summary and the benchmarks.
pub struct Built {
    pub wasm_bytes: u64,
    pub wasm_gz_bytes: u64,
    pub content_gz_bytes: u64,
    /// Everything the card frame in each AI tab downloads, each file gzipped.
    pub card_frame_gz_bytes: u64,
}

pub fn dir(browser: &str) -> PathBuf {
    root().join("dist").join(browser)
}

/// Builds `dist/chrome` and `dist/firefox` (unpacked, loadable as they are).
pub fn build(tc: &Toolchain) -> Result<Built> {
    let pkg = root().join("target/wasm/selfos-extension");
    let _ = std::fs::remove_dir_all(&pkg);
    // The card frame's own module first: the same crate without its pages (background,
    // popup, options), so the full build below leaves the linker's output as it was.
    wasm::build_web_variant(
        tc,
        "selfos-extension",
        &["--no-default-features"],
        &pkg,
        CARD_MODULE,
    )?;
    let out = wasm::build_web(tc, "selfos-extension", &pkg)?;
    let patterns = site_patterns()?;
    let version = crate_version()?;
    step("assemble dist/chrome and dist/firefox", || {
        for browser in BROWSERS {
            let dir = dir(browser);
            let _ = std::fs::remove_dir_all(&dir);
            copy_dir(&root().join("extension/static"), &dir)?;
            strip_comment_lines(&dir.join("content.js"))?;
            copy_dir(&root().join("assets/icons"), &dir.join("icons"))?;
            for name in [
                "selfos_extension.js",
                "selfos_extension_bg.wasm",
                "selfos_card.js",
                "selfos_card_bg.wasm",
            ] {
                cmd::copy(&pkg.join(name), &dir.join("pkg").join(name))?;
            }
            let manifest = manifest(browser, &patterns, &version)?;
            let text = serde_json::to_string_pretty(&manifest).map_err(|e| e.to_string())?;
            std::fs::write(dir.join("manifest.json"), text + "\n").map_err(|e| e.to_string())?;
        }
        Ok(())
    })?;
    let chrome = dir("chrome");
    let mut card_frame_gz_bytes = 0;
    for file in CARD_FRAME_FILES {
        card_frame_gz_bytes += wasm::gzipped_len(&chrome.join(file))?;
    }
    Ok(Built {
        wasm_bytes: out.wasm_bytes,
        wasm_gz_bytes: out.wasm_gz_bytes,
        content_gz_bytes: wasm::gzipped_len(&chrome.join("content.js"))?,
        card_frame_gz_bytes,
    })
}

/// The card frame's module (`pkg/selfos_card.js` and `_bg.wasm`).
const CARD_MODULE: &str = "selfos_card";

/// Everything an AI tab's card frame downloads (`card.html` and what it loads).
const CARD_FRAME_FILES: [&str; 5] = [
    "card.html",
    "card.css",
    "boot.js",
    "pkg/selfos_card.js",
    "pkg/selfos_card_bg.wasm",
];

/// The host-page script ships without its whole-line `//` comments: it is injected into every
/// AI site's page and its budget is 4 KB gzipped; the source keeps the explanations.
fn strip_comment_lines(path: &Path) -> Result<()> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect();
    std::fs::write(path, kept.join("\n") + "\n").map_err(|e| format!("{}: {e}", path.display()))
}

/// `web-ext lint` on `dist/firefox`: errors fail the step; warnings are printed.
pub fn lint_firefox(tc: &Toolchain) -> Result<()> {
    let web_ext = tc.node_modules.join("web-ext/bin/web-ext.js");
    let out = Command::new("node")
        .arg(&web_ext)
        .args([
            "lint",
            "--output",
            "json",
            "--no-config-discovery",
            "--source-dir",
        ])
        .arg(dir("firefox"))
        .output()
        .map_err(|e| format!("could not start web-ext: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(text.trim())
        .map_err(|e| format!("web-ext printed no JSON report ({e}): {text}"))?;
    let list = |kind: &str| -> Vec<String> {
        report[kind]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| {
                format!(
                    "{} {}: {}",
                    m["code"].as_str().unwrap_or("?"),
                    m["file"].as_str().unwrap_or(""),
                    m["message"].as_str().unwrap_or("")
                )
            })
            .collect()
    };
    let (errors, warnings) = (list("errors"), list("warnings"));
    for w in &warnings {
        println!("warning: {w}");
    }
    println!(
        "web-ext lint: {} errors, {} warnings",
        errors.len(),
        warnings.len()
    );
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("web-ext lint found errors:\n{}", errors.join("\n")))
    }
}

/// `node tests/extension/e2e.mjs [--bench]` against `dist/chrome`.
pub fn e2e_cmd(tc: &Toolchain, bench: bool) -> Command {
    let mut c = tc.node_suite("extension/e2e.mjs");
    c.env("SELFOS_EXTENSION", dir("chrome"));
    if bench {
        c.arg("--bench");
    }
    c
}

/// `tests/firefox/e2e.mjs`: the Firefox build in headless Firefox ESR, through geckodriver,
/// syncing to a server that serves the web app (so `dist/webapp` must be built).
pub fn firefox_e2e_cmd(tc: &Toolchain) -> Command {
    let mut c = tc.node_suite("firefox/e2e.mjs");
    c.env("SELFOS_EXTENSION", dir("firefox"))
        .env("SELFOS_WEBAPP", crate::webapp::dir())
        .env("SELFOS_GECKODRIVER", &tc.geckodriver)
        .env("SELFOS_FIREFOX", crate::tools::FIREFOX);
    c
}

/// Zips each unpacked build for store upload: `dist/selfos-<browser>.zip`.
pub fn zip_all() -> Result<Vec<PathBuf>> {
    BROWSERS
        .iter()
        .map(|browser| {
            let zip = root().join(format!("dist/selfos-{browser}.zip"));
            let _ = std::fs::remove_file(&zip);
            cmd::status(
                Command::new("python3")
                    .args(["-m", "zipfile", "-c"])
                    .arg(&zip)
                    .args(zip_entries(&dir(browser))?)
                    .current_dir(dir(browser)),
            )?;
            Ok(zip)
        })
        .collect()
}

/// Top-level entries of a directory, relative (so the zip has `manifest.json` at its root).
fn zip_entries(dir: &Path) -> Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok(names)
}

/// Every match pattern of the built-in site adapters in `assets/sites/`.
fn site_patterns() -> Result<Vec<Value>> {
    let dir = root().join("assets/sites");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
        let site: Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", f.display()))?;
        let matches = site["matches"]
            .as_array()
            .ok_or_else(|| format!("{}: `matches` must be a list", f.display()))?;
        out.extend(matches.iter().cloned());
    }
    Ok(out)
}

fn crate_version() -> Result<String> {
    let toml =
        std::fs::read_to_string(root().join("extension/Cargo.toml")).map_err(|e| e.to_string())?;
    toml.lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .map(str::to_owned)
        .ok_or_else(|| "extension/Cargo.toml has no `version = \"...\"` line".into())
}

/// `base.json` merged with the browser's overlay, placeholders filled.
pub fn manifest(browser: &str, patterns: &[Value], version: &str) -> Result<Value> {
    let read = |name: &str| -> Result<Value> {
        let path = root().join("manifest").join(name);
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    };
    let mut m = read("base.json")?;
    merge(&mut m, read(&format!("{browser}.json"))?);
    fill(&mut m, &Value::Array(patterns.to_vec()), version);
    Ok(m)
}

/// Objects merge key by key; anything else in `over` replaces what `base` had.
fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                merge(b.entry(k).or_insert(Value::Null), v);
            }
        }
        (b, o) => *b = o,
    }
}

fn fill(v: &mut Value, patterns: &Value, version: &str) {
    match v {
        Value::String(s) if s == "from assets/sites" => *v = patterns.clone(),
        Value::String(s) if s == "from extension/Cargo.toml" => *v = json!(version),
        Value::Array(a) => a.iter_mut().for_each(|x| fill(x, patterns, version)),
        Value::Object(o) => o.values_mut().for_each(|x| fill(x, patterns, version)),
        _ => {}
    }
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(|e| e.to_string())?;
    for entry in std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_file() {
            cmd::copy(&path, &to.join(path.file_name().unwrap_or_default()))?;
        }
    }
    Ok(())
}
