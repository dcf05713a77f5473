//! The root manifest lists only crates the root package uses (issue 25: `anyhow`, `statrs`
//! and `csv` were listed but only `vz-core` used the last two, and nothing used `anyhow`).

use std::path::Path;

/// The `[dependencies]` keys of a Cargo.toml (one `name = …` per line, as ours is written).
fn dependencies(manifest: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            inside = line == "[dependencies]";
            continue;
        }
        if let Some((name, _)) = line.split_once('=').filter(|_| inside) {
            out.push(name.trim().to_string());
        }
    }
    out
}

/// Every `.rs` file's text under `dir`.
fn sources(dir: &Path, out: &mut String) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push_str(&std::fs::read_to_string(&p).unwrap_or_default());
        }
    }
}

#[test]
fn every_root_dependency_is_used_by_the_root_package() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let deps = dependencies(&manifest);
    assert!(deps.contains(&"clap".to_string()), "parsed: {deps:?}");
    let mut code = String::new();
    for dir in ["src", "bench", "benches", "build.rs"] {
        sources(&root.join(dir), &mut code);
    }
    let unused: Vec<&String> = deps
        .iter()
        .filter(|d| {
            let ident = d.replace('-', "_");
            !(code.contains(&format!("{ident}::")) || code.contains(&format!("use {ident}")))
        })
        .collect();
    assert!(
        unused.is_empty(),
        "listed in Cargo.toml, used nowhere in the root package: {unused:?}"
    );
}
