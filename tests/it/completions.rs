//! The committed shell completions and man page match the command line they were
//! generated from. When a flag or subcommand changes, regenerate them (README,
//! "Shell completions and man page").

use crate::common;

use common::{exits, Project};
use std::path::Path;

/// Runs `vz-monitor ARGS` with a clean environment and returns stdout.
fn generate(args: &[&str]) -> String {
    let p = Project::new();
    let out = exits(p.cmd().args(args), 0);
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn committed(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn check(args: &[&str], rel: &str) {
    let fresh = generate(args);
    assert!(
        !fresh.trim().is_empty(),
        "`vz-monitor {}` printed nothing",
        args.join(" ")
    );
    let regen = format!("run `vz-monitor {} > {rel}`", args.join(" "));
    assert!(
        fresh == committed(rel),
        "{rel} is stale: it no longer matches the command line; {regen} (or `bash completions/regenerate.sh` for every file)"
    );
}

#[test]
fn bash_completions_match() {
    check(&["completions", "bash"], "completions/vz-monitor.bash");
}

#[test]
fn zsh_completions_match() {
    check(&["completions", "zsh"], "completions/_vz-monitor");
}

#[test]
fn fish_completions_match() {
    check(&["completions", "fish"], "completions/vz-monitor.fish");
}

#[test]
fn powershell_completions_match() {
    check(
        &["completions", "powershell"],
        "completions/_vz-monitor.ps1",
    );
}

#[test]
fn man_page_matches() {
    let man = generate(&["man"]);
    assert!(man.contains(".TH vz-monitor 1"), "{man}");
    assert!(man.contains("watch"), "the man page lists the subcommands");
    check(&["man"], "man/vz-monitor.1");
}

#[test]
fn subcommand_man_pages_match() {
    use clap::CommandFactory;
    let names: Vec<String> = vz_monitor::cli::Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    for name in &names {
        check(&["man", name], &format!("man/vz-monitor-{name}.1"));
    }
    // No page left behind for a subcommand that is gone.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    for entry in std::fs::read_dir(dir).unwrap() {
        let file = entry.unwrap().file_name().to_string_lossy().to_string();
        if let Some(sub) = file
            .strip_prefix("vz-monitor-")
            .and_then(|f| f.strip_suffix(".1"))
        {
            assert!(
                names.iter().any(|n| n == sub),
                "man/{file} is stale: `{sub}` is no longer a subcommand; delete it"
            );
        }
    }
}

#[test]
fn completions_know_the_subcommands_and_watch_flags() {
    let bash = generate(&["completions", "bash"]);
    for word in [
        "watch",
        "baseline",
        "rollback",
        "completions",
        "--pushgateway",
        "--listen",
    ] {
        assert!(bash.contains(word), "bash completion lacks {word}");
    }
    let p = Project::new();
    let out = p.cmd().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}
