//! Tidy checks: tests that read the workspace and enforce the project's structural rules.
//!
//! Each check names the rule it enforces (DESIGN.md / STYLE.md section) and prints every
//! violation, not just the first, so one run shows all there is to fix.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The allowed workspace-internal dependencies (DESIGN §3, STYLE §2), normal, dev and build
/// dependencies alike. Adding an edge means editing this table in the same change, and that
/// change gets "new dependency" review.
const CRATE_GRAPH: &[(&str, &[&str])] = &[
    ("tsumugi-model", &[]),
    ("tsumugi-formats", &["tsumugi-model"]),
    ("tsumugi-store", &["tsumugi-model"]),
    ("tsumugi-identity", &["tsumugi-model", "tsumugi-store"]),
    ("tsumugi-anon", &["tsumugi-model", "tsumugi-store"]),
    ("tsumugi-stats", &["tsumugi-model", "tsumugi-store"]),
    ("tsumugi-govern", &["tsumugi-model", "tsumugi-store"]),
    ("tsumugi-synth", &["tsumugi-model", "tsumugi-formats"]),
    (
        "tsumugi-app",
        &[
            "tsumugi-model",
            "tsumugi-formats",
            "tsumugi-identity",
            "tsumugi-store",
            "tsumugi-anon",
            "tsumugi-stats",
            "tsumugi-govern",
            "tsumugi-synth",
        ],
    ),
    ("tsumugi-server", &["tsumugi-app", "tsumugi-model"]),
    ("tsumugi", &["tsumugi-app", "tsumugi-model"]),
];

/// The crate that holds plaintext identifiers.
const IDENTITY: &str = "tsumugi-identity";

/// Crates whose dependency closure must not contain [`IDENTITY`]: they must not be able to open
/// the identity zone (DESIGN §3 "Never").
const IDENTITY_FREE: &[&str] = &[
    "tsumugi-model",
    "tsumugi-formats",
    "tsumugi-store",
    "tsumugi-anon",
    "tsumugi-stats",
    "tsumugi-govern",
    "tsumugi-synth",
];

type Graph = BTreeMap<String, BTreeSet<String>>;

#[test]
fn crate_graph_matches_table() -> Result<()> {
    let actual = workspace_graph()?;
    let expected: Graph = CRATE_GRAPH
        .iter()
        .map(|(krate, deps)| {
            (
                (*krate).to_owned(),
                deps.iter().map(|d| (*d).to_owned()).collect(),
            )
        })
        .collect();

    let mut report = String::new();
    let krates: BTreeSet<&String> = actual.keys().chain(expected.keys()).collect();
    for krate in krates {
        match (expected.get(krate), actual.get(krate)) {
            (None, Some(_)) => {
                let _ = writeln!(
                    report,
                    "  {krate}: not in the table; add it to CRATE_GRAPH (DESIGN §3) in this change"
                );
            }
            (Some(_), None) => {
                let _ = writeln!(
                    report,
                    "  {krate}: in the table but not in the workspace; remove it from CRATE_GRAPH"
                );
            }
            (Some(want), Some(have)) => {
                for extra in have.difference(want) {
                    let _ = writeln!(
                        report,
                        "  + {krate} -> {extra}   (not allowed by the table)"
                    );
                }
                for missing in want.difference(have) {
                    let _ = writeln!(
                        report,
                        "  - {krate} -> {missing}   (in the table, not in Cargo.toml)"
                    );
                }
            }
            (None, None) => {}
        }
    }
    for krate in IDENTITY_FREE {
        let closure = closure(&actual, krate);
        if closure.contains(IDENTITY) {
            let _ = writeln!(
                report,
                "  ! {krate} reaches {IDENTITY} (closure: {}); only tsumugi-app may",
                closure.iter().cloned().collect::<Vec<_>>().join(", ")
            );
        }
    }
    if !report.is_empty() {
        bail!(
            "the crate graph differs from the table in DESIGN.md §3 \
             (+ edge present but not allowed, - edge allowed but absent, ! identity reachable):\n{report}"
        );
    }
    Ok(())
}

#[test]
fn every_source_file_starts_with_a_module_doc() -> Result<()> {
    let root = workspace_root();
    let mut missing = Vec::new();
    for file in source_files(&root, &["src", "tests"])? {
        let text = fs::read_to_string(&file).with_context(|| file.display().to_string())?;
        let first = text.lines().map(str::trim).find(|l| !l.is_empty());
        if !first.is_some_and(|l| l.starts_with("//!")) {
            missing.push(relative(&root, &file));
        }
    }
    if !missing.is_empty() {
        bail!(
            "these files do not start with a `//!` module doc (STYLE §3):\n  {}",
            missing.join("\n  ")
        );
    }
    Ok(())
}

#[test]
fn no_print_in_libraries() -> Result<()> {
    const MACROS: &[&str] = &["println!", "eprintln!", "print!", "eprint!", "dbg!"];
    let root = workspace_root();
    let mut hits = Vec::new();
    for krate in crate_dirs(&root)? {
        if !krate.join("src/lib.rs").exists() {
            continue; // a binary crate: the CLI prints, from its output module
        }
        for file in rust_files(&krate.join("src"))? {
            let text = fs::read_to_string(&file).with_context(|| file.display().to_string())?;
            if text.contains("#![allow(clippy::print_stdout") {
                continue;
            }
            for (idx, line) in text.lines().enumerate() {
                let code = line.trim_start();
                if code.starts_with("//") {
                    continue;
                }
                for mac in MACROS {
                    if contains_macro(code, mac) {
                        hits.push(format!("{}:{}: {mac}", relative(&root, &file), idx + 1));
                    }
                }
            }
        }
    }
    if !hits.is_empty() {
        bail!(
            "library crates must not print (use tracing, or return the value; STYLE §7):\n  {}",
            hits.join("\n  ")
        );
    }
    Ok(())
}

#[test]
fn no_rusqlite() -> Result<()> {
    let lock = workspace_root().join("Cargo.lock");
    let text = fs::read_to_string(&lock).with_context(|| lock.display().to_string())?;
    if text.lines().any(|l| l.trim() == r#"name = "rusqlite""#) {
        bail!(
            "Cargo.lock contains rusqlite: it links a second sqlite3 beside sqlx; use sqlx (DESIGN §9)"
        );
    }
    Ok(())
}

/// The workspace root: the folder above this crate.
fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_owned()
}

/// Direct workspace-internal edges of every `tsumugi*` package, all dependency kinds.
fn workspace_graph() -> Result<Graph> {
    let root = workspace_root();
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(&root)
        .output()
        .context("running cargo metadata")?;
    if !out.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("parsing cargo metadata")?;
    let packages = meta["packages"]
        .as_array()
        .context("cargo metadata: no packages")?;
    // With --no-deps, `packages` holds exactly the workspace members.
    let members: BTreeSet<&str> = packages.iter().filter_map(|p| p["name"].as_str()).collect();
    let mut graph = Graph::new();
    for package in packages {
        let name = package["name"].as_str().context("package without a name")?;
        if !name.starts_with("tsumugi") {
            continue;
        }
        let deps = graph.entry(name.to_owned()).or_default();
        for dep in package["dependencies"].as_array().into_iter().flatten() {
            let Some(dep_name) = dep["name"].as_str() else {
                continue;
            };
            // A path dependency on a member (registry crates have a `source`).
            if dep["source"].is_null() && members.contains(dep_name) {
                deps.insert(dep_name.to_owned());
            }
        }
    }
    Ok(graph)
}

/// Everything `krate` reaches through `graph` (not including itself unless in a cycle).
fn closure(graph: &Graph, krate: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<&str> = vec![krate];
    while let Some(k) = todo.pop() {
        for dep in graph.get(k).into_iter().flatten() {
            if seen.insert(dep.clone()) {
                todo.push(dep);
            }
        }
    }
    seen
}

/// `crates/*` folders.
fn crate_dirs(root: &Path) -> Result<Vec<PathBuf>> {
    let dir = root.join("crates");
    let mut out = Vec::new();
    for entry in fs::read_dir(&dir).with_context(|| dir.display().to_string())? {
        let path = entry?.path();
        if path.join("Cargo.toml").exists() {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// `.rs` files under `crates/*/{subdirs}` and `xtask/src`.
fn source_files(root: &Path, subdirs: &[&str]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for krate in crate_dirs(root)? {
        for sub in subdirs {
            out.extend(rust_files(&krate.join(sub))?);
        }
    }
    out.extend(rust_files(&root.join("xtask/src"))?);
    Ok(out)
}

/// `.rs` files under `dir`, recursively, sorted; none when `dir` does not exist.
fn rust_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        for entry in fs::read_dir(&d).with_context(|| d.display().to_string())? {
            let path = entry?.path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Whether `line` invokes `mac` (e.g. `print!`) as a whole word, so `eprint!` is not `print!`.
fn contains_macro(line: &str, mac: &str) -> bool {
    line.match_indices(mac).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

fn relative(root: &Path, file: &Path) -> String {
    file.strip_prefix(root)
        .unwrap_or(file)
        .display()
        .to_string()
}

#[test]
fn contains_macro_matches_whole_words() {
    assert!(contains_macro("    println!(\"x\");", "println!"));
    assert!(!contains_macro("    eprintln!(\"x\");", "println!"));
    assert!(!contains_macro("    eprint!(\"x\");", "print!"));
    assert!(contains_macro("{ dbg!(x) }", "dbg!"));
}

#[test]
fn closure_follows_edges_transitively() {
    let graph: Graph = [("a", &["b"][..]), ("b", &["c"][..]), ("c", &[][..])]
        .iter()
        .map(|(k, ds)| {
            (
                (*k).to_owned(),
                ds.iter().map(|d| (*d).to_owned()).collect(),
            )
        })
        .collect();
    assert_eq!(
        closure(&graph, "a").into_iter().collect::<Vec<_>>(),
        ["b", "c"]
    );
    assert!(closure(&graph, "c").is_empty());
}
