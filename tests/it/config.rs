//! `init`, `check` and config errors through the real binary.

use crate::common;

use common::{exits, Project};

#[test]
fn broken_config_exits_2_naming_file_line_and_field_and_writes_nothing() {
    let p = Project::new();
    p.write(
        "vz-monitor.yaml",
        "deployment: web\nmetrics:\n  cpu:\n    probe: { system: cpu_percent }\nrules:\n  - name: cpu\n    metric: cpu\n    detector: { zscor: { threshold: 3 } }\n",
    );
    for args in [
        vec!["check"],
        vec!["watch"],
        vec!["baseline"],
        vec!["rollback", "--reason", "x"],
    ] {
        let out = p.cmd().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(
            err.starts_with("error: vz-monitor.yaml:8:"),
            "{args:?}: {err}"
        );
        assert!(
            err.contains("rules[0].detector") && err.contains("`zscor`"),
            "{err}"
        );
    }
    assert!(
        !p.path(".vz-monitor").exists(),
        "nothing may be written when the config is bad"
    );
}

#[test]
fn semantic_errors_and_missing_env_point_at_the_line() {
    let p = Project::new();
    p.write("vz-monitor.yaml", "metrics:\n  cpu:\n    probe: { system: cpu_percent }\nrules:\n  - name: r\n    metric: memory\n    detector: { threshold: { op: \">\", value: 1 } }\n");
    let out = p.cmd().arg("check").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("vz-monitor.yaml:6:5: rules[0].metric: unknown metric `memory`"),
        "{err}"
    );

    p.write("vz-monitor.yaml", "deployment: ${VZ_TEST_UNSET_VAR}\n");
    let out = p.cmd().arg("check").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("vz-monitor.yaml:1:13: environment variable `VZ_TEST_UNSET_VAR`"));
    let out = p
        .cmd()
        .arg("check")
        .env("VZ_TEST_UNSET_VAR", "shop")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("deployment shop"));
}

#[test]
fn prometheus_max_connections_is_checked_with_its_line() {
    let p = Project::new();
    let config = |n: &str| {
        format!("source:\n  prometheus:\n    url: http://127.0.0.1:9\n    max_connections: {n}\nmetrics:\n  up:\n    query: up\n")
    };
    for bad in ["0", "65"] {
        p.write("vz-monitor.yaml", &config(bad));
        let out = p.cmd().arg("check").output().unwrap();
        assert_eq!(out.status.code(), Some(2), "max_connections: {bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("vz-monitor.yaml:4:")
                && err.contains(&format!(
                    "source.prometheus.max_connections: {bad} is not between 1 and 64"
                )),
            "{err}"
        );
        assert!(err.contains("--web.max-connections"), "{err}");
    }
    p.write("vz-monitor.yaml", &config("-1"));
    let out = p.cmd().arg("check").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("vz-monitor.yaml:4:"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    p.write("vz-monitor.yaml", &config("8"));
    let out = p.cmd().arg("check").output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn explicit_config_must_exist() {
    let p = Project::new();
    let out = p
        .cmd()
        .args(["--config", "nope.yaml", "check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.yaml: cannot read config"));
}

#[test]
fn init_writes_a_config_that_checks_and_refuses_to_overwrite() {
    let p = Project::new();
    p.cmd().arg("init").assert().success();
    assert!(p.path("vz-monitor.yaml").exists() && p.path("rules/local.yaml").exists());
    let out = exits(p.cmd().args(["check", "--output", "json"]), 0);
    let r = common::json(&out.stdout);
    assert_eq!(r["rules"], 3);
    p.cmd().arg("init").assert().code(2);
    p.cmd().args(["init", "--force"]).assert().success();
}

#[test]
fn built_in_defaults_work_without_a_config_file() {
    let p = Project::new();
    let out = p.cmd().args(["check"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("built-in defaults"));
    let out = p
        .cmd()
        .args([
            "watch",
            "--duration",
            "1s",
            "--interval",
            "500ms",
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    let s = common::json(&out.stdout);
    // Whatever this machine's load, the verdict and exit code agree and nothing is rolled back.
    let code = out.status.code().unwrap();
    assert!(code == 0 || code == 1, "{code}");
    assert_eq!(s["exit_code"], code);
    assert_eq!(
        s["rollback"]["ran"], false,
        "defaults have no rollback command"
    );
    assert_eq!(s["rules"].as_array().unwrap().len(), 3);
}
