//! Running commands, with the output a person can follow.

use std::process::{Command, Stdio};
use std::time::Instant;

pub type Result<T> = std::result::Result<T, String>;

/// Runs `f` as a named step and prints how long it took.
pub fn step<T>(name: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    println!("\n==> {name}");
    let t = Instant::now();
    let out = f().map_err(|e| format!("{name}: {e}"))?;
    println!("<== {name} ({:.1} s)", t.elapsed().as_secs_f64());
    Ok(out)
}

fn describe(c: &Command) -> String {
    let mut s = c.get_program().to_string_lossy().into_owned();
    for a in c.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Runs a command with inherited output; an error names the command and its exit status.
pub fn status(c: &mut Command) -> Result<()> {
    let shown = describe(c);
    println!("$ {shown}");
    let st = c
        .status()
        .map_err(|e| format!("could not start `{shown}`: {e}"))?;
    if st.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` failed ({st})"))
    }
}

/// Runs a command and returns its stdout, echoing it as it comes is not needed here.
pub fn output(c: &mut Command) -> Result<String> {
    let shown = describe(c);
    let out = c
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("could not start `{shown}`: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        // What it printed says why; keep it with the error.
        let tail: Vec<&str> = stdout.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "`{shown}` failed ({}); its last output:\n{}",
            out.status,
            tail.join("\n")
        ));
    }
    Ok(stdout)
}

/// Stdout of a command if it runs and succeeds, `None` otherwise (probing for tools).
pub fn probe(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

pub fn cargo_cmd(args: &[&str]) -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.args(args).current_dir(crate::root());
    c
}

pub fn cargo(args: &[&str]) -> Result<()> {
    status(&mut cargo_cmd(args))
}

/// Copies one file, creating the destination's folder; an error names both paths.
pub fn copy(from: &std::path::Path, to: &std::path::Path) -> Result<()> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("copying {} to {}: {e}", from.display(), to.display()))
}
