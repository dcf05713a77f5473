//! The GitHub Action (`action.yml`), the release workflow and the example pipelines are
//! valid against the schemas GitHub publishes (vendored by `check-jsonschema`, installed
//! into a venv by `.ci/setup.sh`), and the action's run step behaves: it runs the
//! subcommand with its inputs and records `exit-code` in `$GITHUB_OUTPUT`.

mod common;

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

/// The run step of action.yml, run with bash as the runner would (inputs as env).
fn run_step(p: &Project, command: &str, args: &str, fail: &str) -> (Option<i32>, String) {
    let action: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(Path::new(ROOT).join("action.yml")).unwrap())
            .unwrap();
    let step = action["runs"]["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|s| s["id"].as_str() == Some("run"))
        .expect("a step with id: run");
    let script = step["run"].as_str().unwrap();
    let output = p.path("github_output");
    std::fs::write(&output, "").unwrap();
    let bin = PathBuf::from(assert_cmd::cargo::cargo_bin("vz-monitor"));
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
    (out.status.code(), std::fs::read_to_string(output).unwrap())
}

#[test]
fn the_action_runs_the_command_and_records_its_exit_code() {
    let p = Project::new();
    // Empty inputs are unset, not passed as empty values: `check` with no config passes.
    let (code, out) = run_step(&p, "check", "--output json", "true");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("exit-code=0"), "{out}");
    // A usage error fails the step with vz-monitor's code, and the output says so.
    let (code, out) = run_step(&p, "history", "--verdict \"no such\"", "true");
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("exit-code=2"), "{out}");
    // fail-on-unhealthy: false keeps the step green and still records the code.
    let (code, out) = run_step(&p, "history", "--verdict nope", "false");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("exit-code=2"), "{out}");
}
