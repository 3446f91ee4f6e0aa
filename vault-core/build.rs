//! Validates the micro-training card library (`assets/cards/*.json`) and embeds it.
//! A library that breaks a rule of assets/cards/SCHEMA.md stops the build with every error.

#[path = "src/cards/library.rs"]
#[allow(dead_code)]
mod library;

use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"))
        .join("../assets/cards");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    let texts: Vec<(String, String)> = paths
        .iter()
        .map(|p| {
            println!("cargo:rerun-if-changed={}", p.display());
            let name = p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(p)
                .unwrap_or_else(|e| panic!("reading {}: {e}", p.display()));
            (name, text)
        })
        .collect();
    let refs: Vec<(&str, &str)> = texts
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    if let Err(errors) = library::Library::parse(&refs) {
        panic!(
            "the card library in assets/cards is invalid:\n  {}",
            errors.join("\n  ")
        );
    }
    // Embedded as compact JSON (the files' indentation would otherwise ship in every wasm
    // module that carries the library).
    let mut out = String::from(
        "/// The card library files, validated at build time, as compact JSON.\npub const FILES: &[(&str, &str)] = &[\n",
    );
    for (name, text) in &texts {
        let value: serde_json::Value =
            serde_json::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let compact = serde_json::to_string(&value).expect("a parsed value serializes");
        out.push_str(&format!("    ({name:?}, {compact:?}),\n"));
    }
    out.push_str("];\n");
    let dest =
        PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it")).join("card_files.rs");
    std::fs::write(dest, out).expect("writing card_files.rs");
}
