//! `cargo xtask`: the project's single entry point. See README.md.
//!
//! Each command installs what it needs and is missing (idempotently, fast when present),
//! then does its work. Commands grow as the product does; each says what it covers today.
#![forbid(unsafe_code)]

mod bench;
mod cmd;
mod extension;
mod postgres;
mod test_server;
mod tools;
mod wasm;
mod webapp;

use std::path::PathBuf;
use std::process::ExitCode;

use cmd::{step, Result};

const USAGE: &str = "\
usage: cargo xtask <command>

  run     install what is missing, build everything, start the product on its embedded defaults
  test    install what is missing and run every test (native, and wasm in headless Chromium)
          `test --only a,b` runs only those suites: lint, native, wasm, extension, webapp,
          firefox, product, independent, mcp, api (for a quick loop; CI runs them all)
  dist    build the release artifacts into dist/ (`dist webapp`, `dist extension`: only that part)
  bench   run the benchmarks; writes target/bench/report.json and report.md
  setup   only install what the other commands need";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("run") => run(),
        Some("test") => test(&args[1..]),
        Some("dist") => dist(args.get(1).map(String::as_str)),
        Some("bench") => bench::bench(),
        Some("setup") => tools::Toolchain::ensure(tools::Need::bench()).map(|_| ()),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        other => {
            eprintln!("unknown command {other:?}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nxtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (xtask lives one level below it).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is inside the workspace")
        .to_path_buf()
}

fn run() -> Result<()> {
    let tc = tools::Toolchain::ensure(tools::Need::build())?;
    // Debug profile (dependencies are optimized, see Cargo.toml): the fat-LTO release build
    // takes minutes longer and the server does not need it to run a personal vault.
    step("build the server", || {
        cmd::cargo(&["build", "-p", "sync-server"])
    })?;
    extension::build(&tc)?;
    webapp::build(&tc)?;
    println!(
        "\nWeb app: http://127.0.0.1:8787/ (from {}).",
        webapp::dir().display()
    );
    println!(
        "\nStarting the SelfOS sync server on its embedded SQLite database\n\
         (SELFOS_ADDR, default 127.0.0.1:8787; SELFOS_DATA, default ./data). Ctrl-C stops it.\n\
         Unpacked extensions: {} (chrome://extensions, Load unpacked) and\n\
         {} (about:debugging, Load Temporary Add-on).\n\
         In another terminal, `target/debug/selfos demo` fills a demo account, and\n\
         `target/debug/selfos export ...` reads it back (see README).",
        extension::dir("chrome").display(),
        extension::dir("firefox").join("manifest.json").display(),
    );
    cmd::status(std::process::Command::new(root().join("target/debug/selfos")).arg("serve"))
}

fn test(extra: &[String]) -> Result<()> {
    let tc = tools::Toolchain::ensure(tools::Need::all())?;
    let only = Only::parse(extra)?;
    if only.has("lint") {
        step("rustfmt --check", || {
            cmd::cargo(&["fmt", "--all", "--", "--check"])
        })?;
        step("clippy -D warnings (native)", || {
            cmd::cargo(&[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ])
        })?;
        step("clippy -D warnings (wasm32)", || {
            cmd::cargo(&[
                "clippy",
                "-p",
                "vault-core",
                "-p",
                "selfos-extension",
                "-p",
                "selfos-webapp",
                "--all-targets",
                "--features",
                "vault-core/browser-bench",
                "--target",
                "wasm32-unknown-unknown",
                "--",
                "-D",
                "warnings",
            ])
        })?;
        step(
            "clippy -D warnings (wasm32, the card frame's module alone)",
            || {
                cmd::cargo(&[
                    "clippy",
                    "-p",
                    "selfos-extension",
                    "--no-default-features",
                    "--target",
                    "wasm32-unknown-unknown",
                    "--",
                    "-D",
                    "warnings",
                ])
            },
        )?;
    }
    if only.has("native") {
        let cluster = step(
            "PostgreSQL test cluster (127.0.0.1, throwaway)",
            postgres::Cluster::start,
        )?;
        step(
            "native tests (server suites on SQLite and PostgreSQL)",
            || {
                cmd::status(
                    cmd::cargo_cmd(&["test", "--workspace"])
                        .env("SELFOS_TEST_POSTGRES", &cluster.admin_url)
                        .env("SELFOS_REQUIRE_POSTGRES", "1"),
                )
            },
        )?;
        drop(cluster);
    }
    if only.has("wasm") {
        step("build the server for the browser sync test", || {
            cmd::cargo(&["build", "-p", "sync-server"])
        })?;
        let server = step(
            "sync server for the browser tests",
            test_server::TestServer::start,
        )?;
        step(
            "wasm tests in headless Chromium (page and service worker, syncing through a real server)",
            || {
                cmd::status(
                    tc.browser_cargo_cmd(&[
                        "test",
                        "-p",
                        "vault-core",
                        "--target",
                        "wasm32-unknown-unknown",
                        // The interop tests compare WebCrypto with the raw Rust primitives.
                        "--features",
                        "hazmat",
                        "--test",
                        "browser_page",
                        "--test",
                        "browser_worker",
                    ])
                    .env("WASM_BINDGEN_TEST_ADDRESS", &server.runner_addr)
                    .env("SELFOS_TEST_SERVER", &server.url)
                    .env("SELFOS_REQUIRE_SERVER", "1"),
                )
            },
        )?;
        drop(server);
    }
    // The browser suites below need the server binary, the extension and the web app built.
    let browser_suites = ["extension", "webapp", "firefox", "product"];
    if browser_suites.iter().any(|s| only.has(s)) {
        step("build the server", || {
            cmd::cargo(&["build", "-p", "sync-server"])
        })?;
        step("build the extension (dist/chrome, dist/firefox)", || {
            extension::build(&tc).map(|_| ())
        })?;
        step("web-ext lint (the Firefox build)", || {
            extension::lint_firefox(&tc)
        })?;
    }
    if only.has("extension") {
        step(
            "extension end to end in headless Chromium (fixture AI sites over HTTPS)",
            || cmd::status(&mut extension::e2e_cmd(&tc, false)),
        )?;
    }
    // The mcp suite's browser step decides proposals in the web app.
    if browser_suites[1..].iter().any(|s| only.has(s)) || only.has("mcp") {
        step("build the web app (dist/webapp)", || {
            webapp::build(&tc).map(|_| ())
        })?;
    }
    if only.has("webapp") {
        step(
            "web app end to end in headless Chromium (served by a real `selfos serve`)",
            || cmd::status(&mut webapp::e2e_cmd(&tc, false)),
        )?;
    }
    if only.has("firefox") {
        step(
            "the extension and the web app in headless Firefox (the Firefox build, through geckodriver)",
            || cmd::status(&mut extension::firefox_e2e_cmd(&tc)),
        )?;
    }
    if only.has("product") {
        step(
            "the whole product in headless Chromium: capture in the extension, see and delete in the web app",
            || cmd::status(&mut product_e2e_cmd(&tc)),
        )?;
    }
    if only.has("independent") {
        step(
            "independent decryption of a fresh backup (Python, from docs/FORMAT.md)",
            independent_format_check,
        )?;
    }
    if only.has("mcp") {
        step("build the server (selfos mcp)", || {
            cmd::cargo(&["build", "-p", "sync-server"])
        })?;
        step(
            "selfos mcp driven by the official MCP Python SDK (stdio, a real sync server), proposals decided in the web app (headless Chromium)",
            || mcp_client_test(&tc),
        )?;
    }
    if only.has("api") {
        step("build the server (the api suite)", || {
            cmd::cargo(&["build", "-p", "sync-server"])
        })?;
        step(
            "the API document against the server: schemathesis, every check, authenticated (tests/api)",
            api_conformance_test,
        )?;
    }
    println!("\nall test suites passed");
    Ok(())
}

/// Which suites `cargo xtask test` runs: all of them, or those named by `--only a,b`
/// (`--no-lint` skips only the lints).
struct Only(Option<Vec<String>>);

impl Only {
    const SUITES: [&'static str; 10] = [
        "lint",
        "native",
        "wasm",
        "extension",
        "webapp",
        "firefox",
        "product",
        "independent",
        "mcp",
        "api",
    ];

    fn parse(args: &[String]) -> Result<Self> {
        let mut only: Option<Vec<String>> = None;
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--no-lint" => {
                    let all = || Self::SUITES.iter().map(|s| s.to_string()).collect();
                    let mut suites: Vec<String> = only.take().unwrap_or_else(all);
                    suites.retain(|s| s != "lint");
                    only = Some(suites);
                }
                "--only" => {
                    let list = args
                        .next()
                        .ok_or("--only needs a list of suites, e.g. --only native,webapp")?;
                    let names: Vec<String> =
                        list.split(',').map(|s| s.trim().to_string()).collect();
                    if let Some(bad) = names.iter().find(|n| !Self::SUITES.contains(&n.as_str())) {
                        return Err(format!(
                            "unknown suite {bad:?}; the suites are {}",
                            Self::SUITES.join(", ")
                        ));
                    }
                    only = Some(names);
                }
                other => return Err(format!("unknown test option {other:?}")),
            }
        }
        Ok(Self(only))
    }

    fn has(&self, suite: &str) -> bool {
        self.0.as_ref().is_none_or(|o| o.iter().any(|s| s == suite))
    }
}

/// `tests/product/e2e.mjs`: the extension and the web app against one server.
fn product_e2e_cmd(tc: &tools::Toolchain) -> std::process::Command {
    let mut c = tc.node_suite("product/e2e.mjs");
    c.env("SELFOS_EXTENSION", extension::dir("chrome"))
        .env("SELFOS_WEBAPP", webapp::dir());
    c
}

/// Makes a backup with SelfOS, then decrypts it with `tests/independent/decrypt_backup.py`,
/// an implementation written from docs/FORMAT.md alone, which also recomputes the published
/// test vectors.
fn independent_format_check() -> Result<()> {
    let dir = root().join("target/independent");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let (backup, export, pass) = (
        dir.join("backup.json"),
        dir.join("export.json"),
        dir.join("passphrase"),
    );
    // With a CRLF line ending, as a passphrase file saved on Windows has: both readers must
    // drop it; and typed decomposed (e + U+0300 ...): both key it in NFC (FORMAT.md §1).
    std::fs::write(
        &pass,
        "cre\u{300}me bru\u{302}le\u{301}e, correct horse\r\n",
    )
    .map_err(|e| e.to_string())?;
    let paths = [&backup, &export, &pass].map(|p| p.to_string_lossy().into_owned());
    let mut args = vec![
        "run",
        "-q",
        "-p",
        "vault-core",
        "--example",
        "make_backup",
        "--",
    ];
    args.extend(paths.iter().map(String::as_str));
    cmd::cargo(&args)?;
    cmd::status(
        std::process::Command::new("python3")
            .arg(root().join("tests/independent/decrypt_backup.py"))
            .args([&paths[0], &paths[2], &paths[1]])
            .arg(root().join("vault-core/tests/vectors/selfos-v1.json"))
            .arg(root().join("vault-core/tests/vectors/selfos-v2.json")),
    )
}

/// `tests/mcp/client_test.py`: the official MCP Python SDK as the client of `selfos mcp`,
/// against a throwaway sync server it starts, which also serves dist/webapp: with
/// `--browser` the user accepts and rejects proposals there (`tests/mcp/proposals_browser.mjs`,
/// headless Chromium). About a minute; the script bounds its MCP session to 5 minutes.
/// Writes the transcript README quotes to target/mcp/transcript.txt.
fn mcp_client_test(tc: &tools::Toolchain) -> Result<()> {
    let dir = root().join("target/mcp");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    cmd::status(
        std::process::Command::new("python3")
            .arg(root().join("tests/mcp/client_test.py"))
            .arg(root().join("target/debug/selfos"))
            .arg("--transcript")
            .arg(dir.join("transcript.txt"))
            .arg("--browser")
            .args(tc.inspector.iter().flat_map(|(node, launcher)| {
                [
                    std::ffi::OsStr::new("--inspector"),
                    node.as_os_str(),
                    launcher.as_os_str(),
                ]
            }))
            .env("PYTHONPATH", tools::python_mcp_dir())
            .env("SELFOS_WEBAPP", webapp::dir())
            .env("SELFOS_NODE_MODULES", &tc.node_modules),
    )
}

/// `tests/api/run.py`: schemathesis generates requests from the server's
/// `/api/v1/openapi.json`, valid and invalid, and runs every check on the answers (no 5xx,
/// statuses and bodies as documented, valid requests accepted, invalid ones refused); any
/// failed check fails the suite. The throwaway server lifts the rate limits (they would turn
/// most answers into 429s) and trusts the loopback proxy, so the script's sign-ins name their
/// own addresses and are not throttled by the generated failed logins. Bounded by examples
/// per operation, and by a 300 s timeout in the script.
fn api_conformance_test() -> Result<()> {
    /// Generated requests per operation, besides the coverage phase's boundary cases: about
    /// 1,100 requests in all, under a minute on two cores.
    const API_MAX_EXAMPLES: &str = "80";
    let server = test_server::TestServer::start_with(
        "api",
        &[
            ("SELFOS_ACCOUNT_RATE", "100000"),
            ("SELFOS_ADDRESS_RATE", "1000000"),
            ("SELFOS_TRUSTED_PROXIES", "127.0.0.1"),
        ],
    )?;
    cmd::status(
        std::process::Command::new("python3")
            .arg(root().join("tests/api/run.py"))
            .arg(&server.url)
            .arg(root().join("target/api"))
            .args(["--max-examples", API_MAX_EXAMPLES])
            .env("PYTHONPATH", tools::python_schemathesis_dir()),
    )
}

fn dist(only: Option<&str>) -> Result<()> {
    let (web_app, browser_extension) = match only {
        None => (true, true),
        Some("webapp") => (true, false),
        Some("extension") => (false, true),
        Some(other) => {
            return Err(format!(
                "`dist {other}`: the parts are `webapp` and `extension`"
            ))
        }
    };
    let tc = tools::Toolchain::ensure(tools::Need::build())?;
    if web_app {
        let web = webapp::build(&tc)?;
        println!(
            "\ndist/webapp: the web app; main module {} bytes of wasm ({} gzipped), {} bytes \
             gzipped on a first visit; the modules loaded on demand {} bytes gzipped.",
            web.wasm_bytes, web.wasm_gz_bytes, web.first_visit_gz_bytes, web.chunks_gz_bytes
        );
    }
    if !browser_extension {
        return Ok(());
    }
    let built = extension::build(&tc)?;
    let zips = step("zip both for store upload", extension::zip_all)?;
    println!(
        "\ndist/chrome and dist/firefox: unpacked extensions (load either as it is).\n\
         Rust/WASM module: {} bytes ({} gzipped); host-page script: {} bytes gzipped; \
         card frame (page, style, module): {} bytes gzipped.\n\
         Store archives: {}",
        built.wasm_bytes,
        built.wasm_gz_bytes,
        built.content_gz_bytes,
        built.card_frame_gz_bytes,
        zips.iter()
            .map(|z| z.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Files a reader of this repository follows: sources, scripts, docs, manifests.
    fn each_text_file(dir: &Path, visit: &mut dyn FnMut(&Path, &str)) {
        let skip = ["target", "node_modules", ".tools", "dist", ".git", "data"];
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if !skip.contains(&name.as_str()) {
                    each_text_file(&path, visit);
                }
                continue;
            }
            let text_like = ["rs", "mjs", "js", "md", "toml", "py", "json", "html"];
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            if text_like.contains(&ext) {
                if let Ok(text) = std::fs::read_to_string(&path) {
                    visit(&path, &text);
                }
            }
        }
    }

    /// The team's `shared/` notes live outside the repository: a comment that sends a reader
    /// there leads nowhere on a clone.
    #[test]
    fn no_file_points_outside_the_repository() {
        // Spelled in two halves so that this file does not match itself.
        let needle = ["..", "/shared/"].concat();
        let mut found = Vec::new();
        each_text_file(&crate::root(), &mut |path, text| {
            if text.contains(&needle) {
                found.push(path.display().to_string());
            }
        });
        assert!(found.is_empty(), "these point to {needle}: {found:?}");
    }
}
