//! The documentation cannot drift from the code (issue 26). Every Markdown file of the README,
//! `docs/`, `bench/README.md` and `examples/` is read, and:
//!
//! - every ```` ```yaml ```` block is loaded by vz-monitor itself: a configuration with
//!   `vz-monitor check` (offline: nothing is sampled), a file with a top-level `tests:` with
//!   `vz-monitor test`, a Prometheus rule file (top-level `groups:`) through a config that
//!   includes it. ```` ```yaml fragment ```` (part of a file) and ```` ```yaml ci ```` (a
//!   workflow step, a GitLab job) must parse as YAML; a CI block's `vz-monitor` lines are
//!   checked as commands, and a step using the Action only passes inputs `action.yml` has;
//!   a `json` block must parse as JSON;
//! - every `vz-monitor …` command line, in a shell block or in inline code (or a subcommand
//!   with flags, as tables write `watch --duration D`), names only subcommands and flags of
//!   the command-line definition (`vz_monitor::cli::Cli`);
//! - every `VZ_…` variable named is read somewhere in the code, scripts or examples;
//! - every relative link resolves, to a file that exists and a heading anchor it has.
//!
//! The CI examples under `examples/` are checked as `yaml ci` blocks. A failure names
//! file:line and what is wrong.

use clap::CommandFactory;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Pages linked before they exist (a page being written on another branch): a missing one
/// is allowed; once present it is checked like any other. Empty when nothing is pending.
const PENDING_PAGES: &[&str] = &[];

/// Stands in for every `${VAR}` without a default in a checked block (a URL, so URL-typed
/// settings accept it; any string setting does too).
const PLACEHOLDER: &str = "https://placeholder.invalid/docs";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fenced code block: where it starts (1-based line of its first body line), its info
/// string, its body with the fence's indentation removed.
#[derive(Debug)]
struct Block {
    line: usize,
    info: String,
    body: String,
}

/// What one file gave the checks: its blocks, its inline code spans (line, text), its text
/// with code removed (for links and headings).
struct Page {
    label: String,
    dir: PathBuf,
    blocks: Vec<Block>,
    spans: Vec<(usize, String)>,
    prose: Vec<(usize, String)>,
}

/// Reads fenced blocks as CommonMark does for the shapes the docs use: a run of 3 or more
/// backticks or tildes, possibly indented, opens a block (a backtick fence's info string
/// has no backtick); a run of the same character at least as long closes it.
fn parse(label: &str, dir: &Path, text: &str) -> Page {
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks = Vec::new();
    let mut prose: Vec<(usize, String)> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let indent = line.len() - line.trim_start().len();
        let t = line.trim_start();
        let fence_char = t.chars().next().filter(|c| *c == '`' || *c == '~');
        let run = fence_char.map_or(0, |c| t.chars().take_while(|x| *x == c).count());
        let info = t.get(run..).unwrap_or("").trim();
        if run >= 3 && indent < 4 && !(fence_char == Some('`') && info.contains('`')) {
            let c = fence_char.unwrap();
            let mut body = Vec::new();
            let start = i + 2;
            i += 1;
            while i < lines.len() {
                let l = lines[i].trim_start();
                let closing = l.chars().take_while(|x| *x == c).count();
                if closing >= run && l[closing..].trim().is_empty() {
                    break;
                }
                let strip = lines[i].len() - lines[i].trim_start().len();
                body.push(&lines[i][strip.min(indent)..]);
                prose.push((i + 1, String::new()));
                i += 1;
            }
            blocks.push(Block {
                line: start,
                info: info.to_string(),
                body: body.join("\n") + "\n",
            });
            i += 1;
            continue;
        }
        prose.push((i + 1, line.to_string()));
        i += 1;
    }
    let spans = inline_spans(&prose);
    Page {
        label: label.to_string(),
        dir: dir.to_path_buf(),
        blocks,
        spans,
        prose,
    }
}

/// Inline code spans of the prose (a span may cross a line end, never a blank line).
fn inline_spans(prose: &[(usize, String)]) -> Vec<(usize, String)> {
    let mut text = String::new();
    let mut line_of = Vec::new();
    for (n, l) in prose {
        for _ in 0..=l.len() {
            line_of.push(*n);
        }
        text.push_str(l);
        text.push('\n');
    }
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'`' {
            i += 1;
            continue;
        }
        let run = b[i..].iter().take_while(|c| **c == b'`').count();
        let mut j = i + run;
        let mut found = None;
        while j < b.len() {
            if b[j] == b'`' {
                let r = b[j..].iter().take_while(|c| **c == b'`').count();
                if r == run {
                    found = Some(j);
                    break;
                }
                j += r;
            } else {
                j += 1;
            }
        }
        match found {
            Some(end) if !text[i + run..end].contains("\n\n") => {
                out.push((line_of[i], text[i + run..end].replace('\n', " ")));
                i = end + run;
            }
            _ => i += run,
        }
    }
    out
}

fn pages() -> Vec<Page> {
    let root = root();
    let mut files = vec![root.join("README.md"), root.join("bench/README.md")];
    let mut stack = vec![root.join("docs"), root.join("examples")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "md") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            let label = f.strip_prefix(&root).unwrap().display().to_string();
            parse(&label, f.parent().unwrap(), &text)
        })
        .collect()
}

// ---------------------------------------------------------------- command lines

/// Splits a shell line into words (quotes kept together, not expanded), with `#` comments
/// dropped and `&&`, `||`, `;`, `|` as words of their own.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None => match c {
                '"' | '\'' => quote = Some(c),
                '#' if cur.is_empty() => break,
                ' ' | '\t' => {
                    if !cur.is_empty() {
                        out.push(std::mem::take(&mut cur));
                    }
                }
                ';' => {
                    if !cur.is_empty() {
                        out.push(std::mem::take(&mut cur));
                    }
                    out.push(";".into());
                }
                '|' | '&' if chars.peek() == Some(&c) => {
                    chars.next();
                    if !cur.is_empty() {
                        out.push(std::mem::take(&mut cur));
                    }
                    out.push(format!("{c}{c}"));
                }
                '|' if cur.is_empty() => out.push("|".into()),
                _ => cur.push(c),
            },
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The vz-monitor invocations of one shell line: the words after `vz-monitor` (or after
/// `cargo run … --`) of each command of the line.
fn invocations(line: &str) -> Vec<Vec<String>> {
    let w = words(line);
    let mut out = Vec::new();
    for cmd in w.split(|x| ["&&", "||", ";", "|"].contains(&x.as_str())) {
        let mut cmd: Vec<&str> = cmd.iter().map(String::as_str).collect();
        // Prompts, list markers, YAML keys, `time`, `VAR=value` before the command.
        while let Some(first) = cmd.first() {
            let env = first.contains('=') && !first.starts_with('-');
            if [
                "$", "-", "run:", "time", "exec", "if", "!", "then", "else", "do",
            ]
            .contains(first)
                || env
            {
                cmd.remove(0);
            } else {
                break;
            }
        }
        match cmd.first() {
            Some(&"vz-monitor") => out.push(cmd[1..].iter().map(|s| s.to_string()).collect()),
            Some(&"cargo") if cmd.get(1) == Some(&"run") => {
                if let Some(k) = cmd.iter().position(|x| *x == "--") {
                    out.push(cmd[k + 1..].iter().map(|s| s.to_string()).collect());
                }
            }
            _ => {}
        }
    }
    out
}

/// Checks one invocation against the command-line definition: each subcommand exists and
/// each `--flag` / `-f` is one of the subcommand's (global ones included). Placeholder and
/// value words are skipped; a redirection ends the command.
fn check_invocation(cli: &clap::Command, args: &[String]) -> Result<(), String> {
    let mut cur = cli;
    let mut path = vec!["vz-monitor".to_string()];
    let mut i = 0;
    while i < args.len() {
        let raw = args[i].as_str();
        if raw.starts_with('>') || raw.starts_with('<') || raw == "2>" || raw == "2>&1" {
            break;
        }
        let tok = raw
            .trim_start_matches(['[', '('])
            .trim_end_matches([']', ')', ',', '.', ';', ':', '`']);
        i += 1;
        if tok == "--" {
            break;
        }
        let found = if let Some(long) = tok.strip_prefix("--") {
            let (name, inline_value) = match long.split_once('=') {
                Some((n, _)) => (n, true),
                None => (long, false),
            };
            let arg = cur.get_arguments().find(|a| {
                a.get_long() == Some(name)
                    || a.get_all_aliases().is_some_and(|al| al.contains(&name))
            });
            match arg {
                Some(a) => Some((a, inline_value)),
                None => return Err(format!("`{}` has no flag `--{name}`", path.join(" "))),
            }
        } else if tok.len() == 2 && tok.starts_with('-') && tok.as_bytes()[1].is_ascii_alphabetic()
        {
            let c = tok.chars().nth(1).unwrap();
            let arg = cur.get_arguments().find(|a| {
                a.get_short() == Some(c)
                    || a.get_all_short_aliases().is_some_and(|al| al.contains(&c))
            });
            match arg {
                Some(a) => Some((a, false)),
                None => return Err(format!("`{}` has no flag `-{c}`", path.join(" "))),
            }
        } else {
            None
        };
        match found {
            Some((a, inline_value)) if a.get_action().takes_values() && !inline_value => {
                i += 1; // its value
            }
            Some(_) => {}
            // `vz-monitor SUB --help`: a placeholder, not a subcommand to check.
            None if cur.has_subcommands() && is_placeholder(tok) => return Ok(()),
            None if cur.has_subcommands() => match cur.find_subcommand(tok) {
                Some(sub) => {
                    path.push(sub.get_name().to_string());
                    cur = sub;
                }
                None => return Err(format!("`{}` has no subcommand `{tok}`", path.join(" "))),
            },
            None => {} // a positional value
        }
    }
    Ok(())
}

fn is_placeholder(word: &str) -> bool {
    word.chars()
        .all(|c| c.is_ascii_uppercase() || c == '_' || c == '…')
}

fn cli() -> clap::Command {
    let mut c = vz_monitor::cli::Cli::command();
    c.build();
    c
}

// ---------------------------------------------------------------- YAML blocks

#[derive(Default, Debug)]
struct Counts {
    configs: usize,
    rule_tests: usize,
    prom_rules: usize,
    fragments: usize,
    ci: usize,
    json: usize,
    commands: usize,
    links: usize,
    variables: usize,
}

/// A scratch project the blocks run in: the repository's rule packs and examples are there,
/// so `include: [rules/…]`, `rule_files: [../http-service.yaml]` and the demos' files resolve.
struct Scratch {
    dir: tempfile::TempDir,
    n: usize,
}

impl Scratch {
    fn new() -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&root().join("rules"), &dir.path().join("rules"));
        copy_dir(&root().join("examples"), &dir.path().join("examples"));
        Scratch { dir, n: 0 }
    }

    fn run(&self, args: &[&str], body: &str) -> Result<(), String> {
        let mut c = Command::new(env!("CARGO_BIN_EXE_vz-monitor"));
        c.current_dir(self.dir.path())
            .args(args)
            .env("NO_COLOR", "1");
        for (k, _) in std::env::vars() {
            if k.starts_with("VZ_") || k.starts_with("GITHUB_") {
                c.env_remove(k);
            }
        }
        for var in unset_variables(body) {
            c.env(var, PLACEHOLDER);
        }
        let out = c.output().unwrap();
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "`vz-monitor {}` exited {:?}:\n{}{}",
                args.join(" "),
                out.status.code(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// Loads one YAML block as what it is; returns its kind for the counts.
    fn check_yaml(&mut self, b: &Block, counts: &mut Counts) -> Result<(), String> {
        let flags: Vec<&str> = b.info.split_whitespace().skip(1).collect();
        let value: serde_yaml::Value =
            serde_yaml::from_str(&b.body).map_err(|e| format!("not YAML: {e}"))?;
        if flags.contains(&"fragment") {
            counts.fragments += 1;
            return Ok(());
        }
        if flags.contains(&"ci") {
            counts.ci += 1;
            return check_ci(&value, counts);
        }
        if let Some(f) = flags.first() {
            return Err(format!(
                "unknown marker `{f}` (known: fragment, ci; none = a vz-monitor file)"
            ));
        }
        self.n += 1;
        let n = self.n;
        let dir = self.dir.path().to_path_buf();
        let has = |k: &str| value.get(k).is_some();
        if has("tests") {
            counts.rule_tests += 1;
            let f = dir.join(format!("rules/tests/doc-{n}.yaml"));
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(&f, &b.body).unwrap();
            self.run(&["test", f.to_str().unwrap()], &b.body)
        } else if has("groups") {
            counts.prom_rules += 1;
            std::fs::write(dir.join(format!("doc-{n}.rules.yml")), &b.body).unwrap();
            let config = format!(
                "source: {{ prometheus: {{ url: \"http://127.0.0.1:9\" }} }}\ninclude: [doc-{n}.rules.yml]\n"
            );
            let f = dir.join(format!("doc-{n}.yaml"));
            std::fs::write(&f, &config).unwrap();
            self.run(&["check", "--config", f.to_str().unwrap()], &b.body)
        } else {
            counts.configs += 1;
            let f = dir.join(format!("doc-{n}.yaml"));
            std::fs::write(&f, &b.body).unwrap();
            self.run(&["check", "--config", f.to_str().unwrap()], &b.body)
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

/// `${NAME}` references without a default (`${NAME:-x}` needs nothing).
fn unset_variables(body: &str) -> HashSet<String> {
    let re = regex::Regex::new(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}").unwrap();
    re.captures_iter(body).map(|c| c[1].to_string()).collect()
}

/// A CI block or file: its `vz-monitor` lines are commands; a step using the Action passes
/// only inputs `action.yml` declares.
fn check_ci(value: &serde_yaml::Value, counts: &mut Counts) -> Result<(), String> {
    let cli = cli();
    let action: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(root().join("action.yml")).unwrap()).unwrap();
    let inputs: HashSet<String> = action["inputs"]
        .as_mapping()
        .unwrap()
        .keys()
        .filter_map(|k| k.as_str().map(String::from))
        .collect();
    let mut errors = Vec::new();
    walk(value, &mut |v| match v {
        serde_yaml::Value::String(s) => {
            for line in s.lines() {
                for inv in invocations(line) {
                    counts.commands += 1;
                    if let Err(e) = check_invocation(&cli, &inv) {
                        errors.push(format!("{e} (in `{}`)", line.trim()));
                    }
                }
            }
        }
        serde_yaml::Value::Mapping(m) => {
            let uses = m.get("uses").and_then(|u| u.as_str()).unwrap_or("");
            if uses.contains("vz-monitor") {
                if let Some(with) = m.get("with").and_then(|w| w.as_mapping()) {
                    for k in with.keys().filter_map(|k| k.as_str()) {
                        if !inputs.contains(k) {
                            errors.push(format!("the Action has no input `{k}`"));
                        }
                    }
                }
            }
        }
        _ => {}
    });
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

fn walk(v: &serde_yaml::Value, f: &mut dyn FnMut(&serde_yaml::Value)) {
    f(v);
    match v {
        serde_yaml::Value::Mapping(m) => m.values().for_each(|x| walk(x, f)),
        serde_yaml::Value::Sequence(s) => s.iter().for_each(|x| walk(x, f)),
        _ => {}
    }
}

// ---------------------------------------------------------------- links

/// GitHub's anchor of a heading: lower case, letters, digits, `-` and `_` kept, spaces to
/// `-`, everything else dropped; repeats get `-1`, `-2`.
fn anchors(page: &Page) -> HashSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = HashSet::new();
    let link = regex::Regex::new(r"\[([^\]]*)\]\([^)]*\)").unwrap();
    for (_, l) in &page.prose {
        let Some(h) = l.strip_prefix('#') else {
            continue;
        };
        let h = h.trim_start_matches('#');
        if !h.starts_with(' ') {
            continue;
        }
        let text = link.replace_all(h.trim(), "$1");
        let slug: String = text
            .to_lowercase()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                _ => None,
            })
            .collect();
        let k = seen.entry(slug.clone()).or_insert(0);
        out.insert(if *k == 0 {
            slug.clone()
        } else {
            format!("{slug}-{k}")
        });
        *k += 1;
    }
    out
}

fn check_links(pages: &[Page], counts: &mut Counts) -> Vec<String> {
    let root = root();
    let by_path: BTreeMap<PathBuf, &Page> =
        pages.iter().map(|p| (root.join(&p.label), p)).collect();
    let link = regex::Regex::new(r"\]\(([^)\s]+)\)").unwrap();
    let code = regex::Regex::new(r"`[^`]*`").unwrap();
    let mut errors = Vec::new();
    for page in pages {
        for (n, l) in &page.prose {
            let l = code.replace_all(l, "");
            for c in link.captures_iter(&l) {
                let target = &c[1];
                if target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                counts.links += 1;
                let (file, anchor) = match target.split_once('#') {
                    Some((f, a)) => (f, Some(a)),
                    None => (target, None),
                };
                let path = if file.is_empty() {
                    root.join(&page.label)
                } else {
                    normalize(&page.dir.join(file))
                };
                let rel = path
                    .strip_prefix(&root)
                    .unwrap_or(&path)
                    .display()
                    .to_string();
                if !path.exists() {
                    if !PENDING_PAGES.contains(&rel.as_str()) {
                        errors.push(format!(
                            "{}:{n}: link to `{target}`: no file {rel}",
                            page.label
                        ));
                    }
                    continue;
                }
                if let Some(a) = anchor {
                    let other;
                    let target_page = match by_path.get(&path) {
                        Some(p) => *p,
                        None => {
                            let text = std::fs::read_to_string(&path).unwrap_or_default();
                            other = parse(&rel, path.parent().unwrap(), &text);
                            &other
                        }
                    };
                    if !anchors(target_page).contains(a) {
                        errors.push(format!(
                            "{}:{n}: link to `{target}`: {rel} has no heading with anchor #{a}",
                            page.label
                        ));
                    }
                }
            }
        }
    }
    errors
}

fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------- the checks

const SHELL: &[&str] = &["", "sh", "bash", "console", "shell", "text"];

/// Every check over the given pages; the errors, each naming file:line.
fn check_pages(pages: &[Page], counts: &mut Counts) -> Vec<String> {
    let cli = cli();
    let mut scratch = Scratch::new();
    let mut errors = Vec::new();
    for page in pages {
        for b in &page.blocks {
            let lang = b.info.split_whitespace().next().unwrap_or("");
            if lang == "yaml" || lang == "yml" {
                if let Err(e) = scratch.check_yaml(b, counts) {
                    errors.push(format!("{}:{}: yaml block: {e}", page.label, b.line));
                }
            } else if lang == "json" {
                counts.json += 1;
                if let Err(e) = serde_json::from_str::<serde_json::Value>(&b.body) {
                    errors.push(format!("{}:{}: json block: {e}", page.label, b.line));
                }
            } else if SHELL.contains(&lang) {
                let mut joined = String::new();
                for (k, line) in b.body.lines().enumerate() {
                    if let Some(cont) = line.strip_suffix('\\') {
                        joined.push_str(cont);
                        continue;
                    }
                    joined.push_str(line);
                    for inv in invocations(&joined) {
                        counts.commands += 1;
                        if let Err(e) = check_invocation(&cli, &inv) {
                            errors.push(format!("{}:{}: {e}", page.label, b.line + k));
                        }
                    }
                    joined.clear();
                }
            }
        }
        for (n, span) in &page.spans {
            // `vz-monitor …`, or a subcommand with flags as the tables write it
            // (`watch --duration D`, `baseline [--samples N]`).
            let span = span.trim();
            let first = span.split_whitespace().next().unwrap_or("");
            let bare = cli.find_subcommand(first).is_some()
                && span
                    .split_whitespace()
                    .any(|w| w.trim_start_matches('[').starts_with('-'));
            let line = if bare {
                format!("vz-monitor {span}")
            } else if span.starts_with("vz-monitor ") {
                span.to_string()
            } else {
                continue;
            };
            for inv in invocations(&line) {
                counts.commands += 1;
                if let Err(e) = check_invocation(&cli, &inv) {
                    errors.push(format!("{}:{n}: {e} (in `{span}`)", page.label));
                }
            }
        }
    }
    errors.extend(check_links(pages, counts));
    errors.extend(check_variables(pages, counts));
    errors
}

/// Every `VZ_…` variable a page names is read somewhere in the code, scripts, rule packs or
/// examples (Markdown aside): a renamed variable fails here.
fn check_variables(pages: &[Page], counts: &mut Counts) -> Vec<String> {
    let mut code = String::new();
    let root = root();
    let mut stack: Vec<PathBuf> = [
        "src",
        "crates",
        "scripts",
        "rules",
        "examples",
        "bench",
        "tests",
        ".ci",
        ".github",
        "action.yml",
    ]
    .iter()
    .map(|d| root.join(d))
    .collect();
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            for e in std::fs::read_dir(&p).unwrap() {
                stack.push(e.unwrap().path());
            }
        } else if p.extension().is_none_or(|x| x != "md") && p != root.join(file!()) {
            code.push_str(&std::fs::read_to_string(&p).unwrap_or_default());
        }
    }
    let re = regex::Regex::new(r"\bVZ_[A-Z0-9_]*[A-Z0-9]\b").unwrap();
    let mut errors = Vec::new();
    for page in pages {
        let lines =
            page.prose
                .iter()
                .map(|(n, l)| (*n, l.as_str()))
                .chain(page.blocks.iter().flat_map(|b| {
                    b.body
                        .lines()
                        .enumerate()
                        .map(move |(k, l)| (b.line + k, l))
                }));
        for (n, l) in lines {
            for m in re.find_iter(l) {
                counts.variables += 1;
                if !code.contains(m.as_str()) {
                    errors.push(format!(
                        "{}:{n}: `{}` is read nowhere in the code",
                        page.label,
                        m.as_str()
                    ));
                }
            }
        }
    }
    errors
}

#[test]
fn every_example_and_command_line_in_the_docs_is_checked() {
    let pages = pages();
    assert!(pages.len() > 10, "README.md and docs/*.md: {}", pages.len());
    let mut counts = Counts::default();
    let mut errors = check_pages(&pages, &mut counts);
    for ci in [
        "examples/gitlab-ci/.gitlab-ci.yml",
        "examples/github-actions/deploy.yml",
    ] {
        let text = std::fs::read_to_string(root().join(ci)).unwrap();
        match serde_yaml::from_str::<serde_yaml::Value>(&text) {
            Ok(v) => {
                if let Err(e) = check_ci(&v, &mut counts) {
                    errors.push(format!("{ci}: {e}"));
                }
            }
            Err(e) => errors.push(format!("{ci}: not YAML: {e}")),
        }
    }
    println!(
        "docs: {} pages; yaml blocks: {} configs (vz-monitor check), {} rule tests (vz-monitor test), \
         {} Prometheus rule files, {} fragments, {} CI; {} JSON; {} vz-monitor command lines; {} links; {} VZ_ variables",
        pages.len(),
        counts.configs,
        counts.rule_tests,
        counts.prom_rules,
        counts.fragments,
        counts.ci,
        counts.json,
        counts.commands,
        counts.links,
        counts.variables
    );
    assert!(
        errors.is_empty(),
        "{} example(s) in the docs no longer match the code:\n{}",
        errors.len(),
        errors.join("\n")
    );
    assert!(counts.configs >= 15 && counts.commands >= 50, "{counts:?}");
}

/// The check fails, naming the place, for a renamed flag, an unknown subcommand, a key
/// vz-monitor does not know, a rule test whose expectation is wrong, a broken link.
#[test]
fn a_renamed_flag_or_key_is_caught() {
    let md = "# Page\n\n```sh\nvz-monitor watch --duration 1m\nvz-monitor watch --durration 1m\nvz-monitor wach\n```\n\n\
              Run `vz-monitor report latest --fromat html`.\n\n\
              ```yaml\nmetrics:\n  cpu: { probe: { system: cpu_percent } }\nrules:\n  - { name: c, metric: cpu, detector: { treshold: { op: \">\", value: 90 } }, kind: CPU_SPIKE }\n```\n\n\
              ```yaml fragment\nrules: [\n```\n\n\
              ```yaml ci\n- uses: OWNER/vz-monitor@v1\n  with: { comand: watch }\n```\n\n\
              See [the rest](nowhere.md) and [this](#no-such-heading).\n\n\
              Set `VZ_DURATON=15m`.\n\n```json\n{ \"verdict\": }\n```\n";
    let dir = root().join("docs");
    let pages = vec![parse("docs/synthetic.md", &dir, md)];
    let mut counts = Counts::default();
    let errors = check_pages(&pages, &mut counts).join("\n");
    for expected in [
        "docs/synthetic.md:5: `vz-monitor watch` has no flag `--durration`",
        "docs/synthetic.md:6: `vz-monitor` has no subcommand `wach`",
        "docs/synthetic.md:9: `vz-monitor report` has no flag `--fromat`",
        "docs/synthetic.md:12: yaml block: `vz-monitor check",
        "treshold",
        "docs/synthetic.md:19: yaml block: not YAML",
        "docs/synthetic.md:23: yaml block: the Action has no input `comand`",
        "docs/synthetic.md:27: link to `nowhere.md`",
        "docs/synthetic.md:27: link to `#no-such-heading`",
        "docs/synthetic.md:29: `VZ_DURATON` is read nowhere in the code",
        "docs/synthetic.md:32: json block",
    ] {
        assert!(
            errors.contains(expected),
            "missing {expected:?} in:\n{errors}"
        );
    }
    assert!(
        !errors.contains("docs/synthetic.md:4:"),
        "the correct line was flagged:\n{errors}"
    );
    // A rule test whose expectation no longer holds fails `vz-monitor test`.
    let md = "```yaml\nrule_files: [../http-service.yaml]\ninterval: 30s\ntests:\n  - name: wrong\n    input: { error_rate: \"0.5 0.5 8x5\" }\n    expect: { anomalies: [], decision: healthy }\n```\n";
    let pages = vec![parse("docs/synthetic.md", &dir, md)];
    let errors = check_pages(&pages, &mut Counts::default()).join("\n");
    assert!(
        errors.contains("docs/synthetic.md:2: yaml block: `vz-monitor test"),
        "{errors}"
    );
}

/// `init`'s next step is the README's quick start, command for command, and names only
/// flags that exist.
#[test]
fn init_suggests_the_readme_quick_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_vz-monitor"))
        .current_dir(dir.path())
        .arg("init")
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let next = stdout
        .lines()
        .find_map(|l| l.split_once(": ").filter(|(k, _)| k.starts_with("next")))
        .unwrap_or_else(|| panic!("no next step in:\n{stdout}"))
        .1;
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let page = parse("README.md", &root(), &readme);
    let quick: Vec<Vec<String>> = page
        .blocks
        .iter()
        .filter(|b| b.body.starts_with("vz-monitor init"))
        .flat_map(|b| b.body.lines().flat_map(invocations).collect::<Vec<_>>())
        .collect();
    let cli = cli();
    let steps = invocations(next);
    assert!(steps.len() >= 2, "{next}");
    for step in steps {
        check_invocation(&cli, &step).unwrap_or_else(|e| panic!("init's next step: {e}"));
        assert!(
            quick.contains(&step),
            "init suggests `vz-monitor {}`, which is not a line of the README's quick start {quick:?}",
            step.join(" ")
        );
    }
}
