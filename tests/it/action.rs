//! The GitHub Action (`action.yml`), the release workflow and the example pipelines are
//! valid against the schemas GitHub publishes (vendored by `check-jsonschema`, installed
//! into a venv by `.ci/setup.sh`), and the action's run step behaves: it runs the
//! subcommand with its inputs and records `exit-code` in `$GITHUB_OUTPUT`.

use crate::common;

use common::Project;
use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// `check-jsonschema`: `$VZ_CHECK_JSONSCHEMA`, the venv `.ci/setup.sh` makes, or `PATH`.
fn check_jsonschema() -> PathBuf {
    let candidates = [
        std::env::var_os("VZ_CHECK_JSONSCHEMA").map(PathBuf::from),
        Some(PathBuf::from(
            "/opt/vz-monitor-ci-venv/bin/check-jsonschema",
        )),
    ];
    for c in candidates.into_iter().flatten() {
        if c.is_file() {
            return c;
        }
    }
    let on_path = Command::new("check-jsonschema").arg("--version").output();
    if on_path.is_ok_and(|o| o.status.success()) {
        return PathBuf::from("check-jsonschema");
    }
    panic!(
        "check-jsonschema is missing: run `bash .ci/setup.sh` (it installs it into \
         /opt/vz-monitor-ci-venv from PyPI) or set VZ_CHECK_JSONSCHEMA to its path"
    );
}

/// Validates `files` against a vendored schema; Err(output) when invalid.
fn validate(schema: &str, files: &[PathBuf]) -> Result<(), String> {
    let out = Command::new(check_jsonschema())
        .args(["--builtin-schema", schema])
        .args(files)
        .output()
        .expect("running check-jsonschema");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(())
    } else {
        Err(text)
    }
}

/// Every workflow of the repository and of the examples.
fn workflows() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in [".github/workflows", "examples/github-actions"] {
        for e in std::fs::read_dir(Path::new(ROOT).join(dir)).unwrap() {
            let p = e.unwrap().path();
            if matches!(p.extension().and_then(|x| x.to_str()), Some("yml" | "yaml")) {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn workflows_and_the_action_match_githubs_schemas() {
    let files = workflows();
    assert!(
        files.iter().any(|f| f.ends_with("release.yml"))
            && files.iter().any(|f| f.ends_with("deploy.yml")),
        "{files:?}"
    );
    if let Err(e) = validate("vendor.github-workflows", &files) {
        panic!("a workflow does not match GitHub's schema:\n{e}");
    }
    if let Err(e) = validate(
        "vendor.github-actions",
        &[Path::new(ROOT).join("action.yml")],
    ) {
        panic!("action.yml does not match GitHub's schema:\n{e}");
    }
}

#[test]
fn the_schema_check_rejects_a_broken_workflow_and_action() {
    let p = Project::new();
    let wf = p.write("bad.yml", "name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n        run: echo both\n");
    assert!(validate("vendor.github-workflows", &[wf]).is_err());
    let action = p.write(
        "action.yml",
        "name: x\ndescription: y\nruns:\n  using: composite\n  steps:\n    - run: echo no shell\n",
    );
    assert!(validate("vendor.github-actions", &[action]).is_err());
}

/// The steps of action.yml, as written.
fn action_steps() -> Vec<serde_yaml::Value> {
    let action: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(Path::new(ROOT).join("action.yml")).unwrap())
            .unwrap();
    action["runs"]["steps"].as_sequence().unwrap().clone()
}

/// The run step of action.yml, run with bash as the runner would (inputs as env): the
/// step's own `run:` text, with `$GITHUB_ACTION_PATH` the repository root.
fn run_step(p: &Project, command: &str, args: &str, fail: &str) -> (Option<i32>, String) {
    let steps = action_steps();
    let step = steps
        .iter()
        .find(|s| s["id"].as_str() == Some("run"))
        .expect("a step with id: run");
    let script = step["run"].as_str().unwrap();
    let output = p.path("github_output");
    std::fs::write(&output, "").unwrap();
    let bin = assert_cmd::cargo::cargo_bin("vz-monitor");
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let cmd = p.std_cmd();
    let out = Command::new("bash")
        .args(["-c", script])
        .current_dir(p.dir.path())
        .env_clear()
        .envs(
            cmd.get_envs()
                .filter_map(|(k, v)| Some((k.to_owned(), v?.to_owned()))),
        )
        .env("PATH", path)
        .env("GITHUB_ACTION_PATH", ROOT)
        .env("GITHUB_OUTPUT", &output)
        .env("VZ_CONFIG", "")
        .env("VZ_DURATION", "")
        .env("VZ_INTERVAL", "")
        .env("VZ_DEPLOYMENT", "web")
        .env("VZ_BASELINE", "")
        .env("VZ_COMMAND", command)
        .env("VZ_ARGS", args)
        .env("VZ_FAIL", fail)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let written = std::fs::read_to_string(output).unwrap();
    (out.status.code(), format!("{written}{stderr}"))
}

#[test]
fn the_action_runs_the_command_and_records_its_exit_code() {
    let p = Project::new();
    // Empty inputs are unset, not passed as empty values: `check` with no config passes.
    let (code, out) = run_step(&p, "check", "--output\njson", "true");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("exit-code=0"), "{out}");
    // A usage error fails the step with vz-monitor's code, and the output says so.
    let (code, out) = run_step(&p, "history", "--verdict\nno such", "true");
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("exit-code=2"), "{out}");
    // fail-on-unhealthy: false keeps the step green and still records the code.
    let (code, out) = run_step(&p, "history", "--verdict=nope", "false");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("exit-code=2"), "{out}");
}

/// `args` is data: a `$(...)` or backticks in it (a commit message) is never run, quotes are
/// not interpreted, and each line is one argument, spaces and all.
#[test]
fn the_action_never_evaluates_its_args() {
    let p = Project::new();
    let marker = p.path("PWNED");
    let hostile = format!(
        "--reason=$(touch {m}) `touch {m}` \"x\" ; touch {m}\n--dry-run",
        m = marker.display()
    );
    let (code, out) = run_step(&p, "check", &hostile, "true");
    assert!(!marker.exists(), "the args input was executed: {out}");
    // `check` takes no --reason: the whole line reached vz-monitor as one literal argument.
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("--reason"), "{out}");
    // A blank line and Windows line ends are not arguments.
    let (code, out) = run_step(&p, "check", "--output\r\n\njson\r\n", "true");
    assert_eq!(code, Some(0), "{out}");
}

/// Every output vz-monitor writes is declared, so `uses:` callers can read it.
#[test]
fn the_action_declares_every_output_vz_monitor_writes() {
    let action: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(Path::new(ROOT).join("action.yml")).unwrap())
            .unwrap();
    let outputs = action["outputs"].as_mapping().unwrap();
    for name in [
        "verdict",
        "exit-code",
        "run-id",
        "anomalies",
        "rolled-back",
        "deployment",
    ] {
        let declared = outputs
            .get(name)
            .unwrap_or_else(|| panic!("output {name} is not declared"));
        assert_eq!(
            declared["value"].as_str(),
            Some(format!("${{{{ steps.run.outputs.{name} }}}}").as_str())
        );
    }
    let text = std::fs::read_to_string(Path::new(ROOT).join("action.yml")).unwrap();
    assert!(!text.contains("eval "), "action.yml must not eval anything");
    assert!(!text.contains("action_repository"));
}

/// Runs `scripts/action/install.sh` as the install step does, with a stand-in `gh` (the
/// release is a local tarball) and a stand-in `cargo` that log how they were called.
fn install(p: &Project, env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let bin = p.path("fakebin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = p.path("calls.log");
    let gh = format!(
        "#!/bin/sh\necho \"gh $*\" >> {log}\nwhile [ $# -gt 0 ]; do [ \"$1\" = --dir ] && dir=$2; shift; done\ncp {rel}/* \"$dir\"/\n",
        log = log.display(),
        rel = p.path("release").display()
    );
    let cargo = format!(
        "#!/bin/sh\necho \"cargo $*\" >> {log}\nwhile [ $# -gt 0 ]; do [ \"$1\" = --root ] && root=$2; shift; done\nmkdir -p \"$root/bin\" && printf '#!/bin/sh\\n' > \"$root/bin/vz-monitor\" && chmod +x \"$root/bin/vz-monitor\"\n",
        log = log.display()
    );
    for (name, text) in [("gh", gh), ("cargo", cargo)] {
        let f = bin.join(name);
        std::fs::write(&f, text).unwrap();
        Command::new("chmod").arg("+x").arg(&f).status().unwrap();
    }
    let github_path = p.path("github_path");
    std::fs::write(&github_path, "").unwrap();
    std::fs::create_dir_all(p.path("tmp")).unwrap();
    let mut cmd = Command::new("bash");
    cmd.arg(Path::new(ROOT).join("scripts/action/install.sh"))
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("RUNNER_TEMP", p.path("tmp"))
        .env("GITHUB_PATH", &github_path)
        .env("RUNNER_OS", "Linux")
        .env(
            "GITHUB_ACTION_PATH",
            "/home/runner/work/_actions/acme/vz-monitor/v1",
        );
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let calls = std::fs::read_to_string(&log).unwrap_or_default();
    let said = format!(
        "{}{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(&github_path).unwrap()
    );
    (out.status.code(), calls, said)
}

/// A release tarball for this machine's CPU in `release/`, with its checksum file.
fn fake_release(p: &Project, tag: &str) -> String {
    let arch = match std::env::consts::ARCH {
        "aarch64" => "aarch64",
        _ => "x86_64",
    };
    let asset = format!("vz-monitor-{tag}-{arch}-unknown-linux-musl.tar.gz");
    let stage = p.path("stage");
    std::fs::create_dir_all(&stage).unwrap();
    std::fs::create_dir_all(p.path("release")).unwrap();
    std::fs::write(stage.join("vz-monitor"), "#!/bin/sh\necho fake\n").unwrap();
    Command::new("chmod")
        .arg("+x")
        .arg(stage.join("vz-monitor"))
        .status()
        .unwrap();
    let ok = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "tar -czf ../release/{asset} -C . vz-monitor && cd ../release && sha256sum {asset} > {asset}.sha256"
        ))
        .current_dir(&stage)
        .status()
        .unwrap();
    assert!(ok.success());
    asset
}

#[test]
fn the_install_step_checks_the_release_and_where_it_comes_from() {
    let p = Project::new();
    let asset = fake_release(&p, "v1.2.3");
    // The repository is read from where the runner checked the action out.
    let (code, calls, said) = install(&p, &[("VZ_VERSION", "v1.2.3")]);
    assert_eq!(code, Some(0), "{said}");
    assert!(calls.contains("--repo acme/vz-monitor"), "{calls}");
    assert!(
        said.contains(&p.path("tmp/vz-monitor").display().to_string()),
        "{said}"
    );
    assert!(p.path("tmp/vz-monitor/vz-monitor").is_file());
    // The repository input wins.
    let (code, calls, _) = install(&p, &[("VZ_VERSION", "v1.2.3"), ("VZ_REPO", "other/fork")]);
    assert_eq!(code, Some(0));
    assert!(calls.contains("--repo other/fork"), "{calls}");
    // A tarball that does not match its checksum is refused, and nothing is put on PATH.
    let tar = p.path("release").join(&asset);
    let mut bytes = std::fs::read(&tar).unwrap();
    bytes.push(0);
    std::fs::write(&tar, bytes).unwrap();
    let (code, _, said) = install(&p, &[("VZ_VERSION", "v1.2.3")]);
    assert_eq!(code, Some(2), "{said}");
    assert!(said.contains("checksum"), "{said}");
    assert!(!said.contains("tmp/vz-monitor\n"), "{said}");
}

#[test]
fn the_install_step_refuses_what_cannot_run() {
    let p = Project::new();
    fake_release(&p, "v1.2.3");
    // macOS and Windows runners cannot run the static Linux binary: say so, download nothing.
    let (code, calls, said) = install(&p, &[("VZ_VERSION", "v1.2.3"), ("RUNNER_OS", "macOS")]);
    assert_eq!(code, Some(2), "{said}");
    assert!(
        said.contains("macOS") && said.contains("version: source"),
        "{said}"
    );
    assert!(calls.is_empty(), "{calls}");
    // A version that is neither a tag nor `source`.
    let (code, _, said) = install(&p, &[("VZ_VERSION", "latest; rm -rf /")]);
    assert_eq!(code, Some(2), "{said}");
    // No repository to be found.
    let (code, _, said) = install(
        &p,
        &[
            ("VZ_VERSION", "v1.2.3"),
            ("GITHUB_ACTION_PATH", "/somewhere/else"),
        ],
    );
    assert_eq!(code, Some(2), "{said}");
    assert!(said.contains("repository"), "{said}");
}

#[test]
fn the_install_step_builds_from_source_once() {
    let p = Project::new();
    let root = p.path("cache-root");
    let root_s = root.display().to_string();
    let env = [
        ("VZ_VERSION", "source"),
        ("VZ_ROOT", root_s.as_str()),
        ("GITHUB_ACTION_PATH", ROOT),
    ];
    let (code, calls, said) = install(&p, &env);
    assert_eq!(code, Some(0), "{said}");
    assert!(calls.contains("cargo install --locked --path"), "{calls}");
    assert!(said.contains(&format!("{root_s}/bin")), "{said}");
    // The cached build (restored by actions/cache into VZ_ROOT) is used as it is.
    std::fs::remove_file(p.path("calls.log")).unwrap();
    let (code, calls, said) = install(&p, &env);
    assert_eq!(code, Some(0), "{said}");
    assert!(calls.is_empty(), "cargo ran again: {calls}");
    assert!(said.contains("cached build"), "{said}");
}
