//! Fuzzing in the normal suite, bounded (~30 s in a debug build): property tests mutate
//! real inputs (the repo's rule pack and its tests, a full config, CSV and JSON rows,
//! Prometheus responses) with hostile edits (brackets, anchors and aliases, huge counts,
//! control characters, `${…}`) and feed them to the parsers. Every case must return, not
//! panic, within the hang bound; a sample of configs also goes through the real binary
//! under a 1 GiB address-space limit. Case counts are printed (`--nocapture`) for the note.

use crate::common;
use crate::common::config::GateConfig;
use crate::common::faultkit;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use vz_monitor::ruletest::series::{expand, SeriesText, MAX_POINTS};

/// A case slower than this is a hang (no case comes near it; speed lives in bench/).
const HANG: Duration = Duration::from_secs(10);

/// Bits of text that have broken parsers before.
const HOSTILE: &[&str] = &[
    "[",
    "]",
    "{",
    "}",
    ": ",
    "- ",
    "&a ",
    "*a",
    "<<: *a",
    "\n",
    "\n  ",
    "'",
    "\"",
    "${X}",
    "${",
    "#",
    "|\n",
    ">-\n",
    "!!binary ",
    "%YAML 1.2\n",
    "x1000000000",
    "x18446744073709551615",
    "1e308",
    "-1e308",
    "NaN",
    "\t",
    "\0",
    "\r",
    "\u{1b}[2J",
    "::error::x",
    "é",
    "\u{feff}",
    "---\n",
    "...\n",
    "?",
    ",",
    "99999999999999999999",
    "down",
    "_",
    "+",
    "~",
];

fn seed(rel: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("seed {}: {e}", p.display()))
}

/// A strategy: `base` with up to 8 edits (insert a hostile bit, delete, duplicate a span,
/// repeat a hostile bit many times) at random places.
fn mutated(base: String) -> impl Strategy<Value = String> {
    let edit = (
        0usize..4,
        any::<prop::sample::Index>(),
        0usize..HOSTILE.len(),
        1usize..200,
    );
    prop::collection::vec(edit, 0..8).prop_map(move |edits| {
        let mut s = base.clone();
        for (kind, at, h, n) in edits {
            let mut i = at.index(s.len() + 1);
            while !s.is_char_boundary(i) {
                i -= 1;
            }
            match kind {
                0 => s.insert_str(i, HOSTILE[h]),
                1 => {
                    let mut j = (i + n).min(s.len());
                    while !s.is_char_boundary(j) {
                        j -= 1;
                    }
                    s.replace_range(i..j, "");
                }
                2 => {
                    let mut j = (i + n).min(s.len());
                    while !s.is_char_boundary(j) {
                        j -= 1;
                    }
                    let span = s[i..j].to_string();
                    s.insert_str(i, &span);
                }
                _ => s.insert_str(i, &HOSTILE[h].repeat(n * 10)),
            }
        }
        s
    })
}

/// Runs `cases` cases of `strategy` through `check`, failing on a panic or a hang; returns
/// how many ran.
fn fuzz<S: Strategy>(
    name: &str,
    cases: u32,
    strategy: S,
    check: impl Fn(S::Value) -> Result<(), String>,
) -> usize
where
    S::Value: std::fmt::Debug,
{
    let ran = AtomicUsize::new(0);
    let slowest = std::cell::Cell::new(Duration::ZERO);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 50,
        ..Config::default()
    });
    let result = runner.run(&strategy, |input| {
        ran.fetch_add(1, Ordering::Relaxed);
        let t = Instant::now();
        check(input).map_err(TestCaseError::fail)?;
        let took = t.elapsed();
        slowest.set(slowest.get().max(took));
        prop_assert!(took < HANG, "hang: a case took {took:?}");
        Ok(())
    });
    let n = ran.load(Ordering::Relaxed);
    eprintln!("fuzz {name}: {n} cases, slowest {:?}", slowest.get());
    if let Err(e) = result {
        panic!("fuzz {name}: {e}");
    }
    n
}

fn env(_: &str) -> Option<String> {
    None
}

#[test]
fn config_text_never_panics() {
    let base = seed("tests/fuzz/config.yaml");
    fuzz("config", 400, mutated(base), |text| {
        let _ = vz_monitor::config::parse_text(&text, None, &env);
        Ok(())
    });
}

#[test]
fn rule_files_and_rule_tests_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("web-app.yaml"), seed("rules/web-app.yaml")).unwrap();
    let main = dir.path().join("vz-monitor.yaml");
    let config = GateConfig::bare()
        .section(r#"source: { prometheus: { url: "http://127.0.0.1:9" } }"#)
        .section("include: [fuzzed.yaml]");
    std::fs::write(&main, config.yaml()).unwrap();
    let rules = prop_oneof![
        mutated(seed("rules/web-app.yaml")),
        mutated(seed("rules/http-service.yaml")),
        mutated(seed("tests/fuzz/prometheus-rules.yaml")),
    ];
    fuzz("rule files", 250, rules, |text| {
        std::fs::write(dir.path().join("fuzzed.yaml"), text).map_err(|e| e.to_string())?;
        let _ = vz_monitor::config::load(Some(&main), &env);
        Ok(())
    });
    let tests =
        mutated(seed("rules/tests/web-app.yaml").replace("../web-app.yaml", "web-app.yaml"));
    let file = dir.path().join("t.yaml");
    fuzz("rule tests", 150, tests, |text| {
        std::fs::write(&file, text).map_err(|e| e.to_string())?;
        let _ = vz_monitor::ruletest::run_file(&file);
        Ok(())
    });
}

#[test]
fn series_notation_is_bounded() {
    let token = prop_oneof![
        "[-+]?[0-9]{1,25}(\\.[0-9]{0,5})?(e[-+]?[0-9]{1,3})?",
        "[-+]?[0-9]{1,6}[-+][0-9]{1,6}x[0-9]{1,22}",
        "(_|down|[0-9]{1,4})x[0-9]{1,22}",
        "[ -~]{0,12}",
    ];
    let text = prop::collection::vec(token, 0..12).prop_map(|t| t.join(" "));
    fuzz("series", 3000, text, |t| {
        if let Ok(points) = expand(&SeriesText::Text(t.clone())) {
            if points.len() > MAX_POINTS {
                return Err(format!("`{t}` expanded to {} points", points.len()));
            }
        }
        Ok(())
    });
}

#[test]
fn csv_and_json_rows_never_panic() {
    let csv = "timestamp,error_rate,latency_ms\n2024-05-01T10:00:00Z,0.5,120\n2024-05-01 10:00:30,,down\n1714557660,1e3,130\n".to_string();
    let json = r#"[{"timestamp": "2024-05-01T10:00:00Z", "error_rate": 0.5, "latency_ms": null}, {"timestamp": 1714557630, "error_rate": "down", "latency_ms": 121.5}]"#.to_string();
    fuzz("csv", 1000, mutated(csv), |t| {
        let _ = vz_monitor::offline::parse_csv("fuzz.csv", &t);
        Ok(())
    });
    fuzz("json rows", 1000, mutated(json), |t| {
        let _ = vz_monitor::offline::parse_json("fuzz.json", &t);
        Ok(())
    });
}

#[test]
fn prometheus_responses_never_panic() {
    use prometheus_http_query::response::Data;
    use vz_monitor::sources::prometheus::interpret;
    let bodies = prop_oneof![
        mutated(r#"{"resultType":"vector","result":[{"metric":{"__name__":"up","pod":"a\r::error::x"},"value":[1700000000.5,"1"]},{"metric":{},"value":[1700000000,"NaN"]}]}"#.to_string()),
        mutated(r#"{"resultType":"scalar","result":[1700000000,"+Inf"]}"#.to_string()),
        mutated(r#"{"resultType":"matrix","result":[{"metric":{"a":"b"},"values":[[1,"1"],[2,"2e308"]]}]}"#.to_string()),
    ];
    fuzz("prometheus", 1500, bodies, |t| {
        if let Ok(data) = serde_json::from_str::<Data>(&t) {
            let _ = interpret("m", true, data.clone());
            let _ = interpret("m", false, data);
        }
        Ok(())
    });
}

#[test]
fn fuzzed_configs_through_the_binary_stay_within_1_gib() {
    let p = common::Project::new();
    let base = seed("tests/fuzz/config.yaml");
    fuzz("binary check", 25, mutated(base), |text| {
        p.write("vz-monitor.yaml", &text);
        let mut c = p.std_cmd();
        c.arg("check");
        let out = faultkit::run_bounded(c);
        match out.status.code() {
            Some(0..=2) => Ok(()),
            other => Err(format!(
                "exit {other:?} (panic, abort or OOM): {}",
                String::from_utf8_lossy(&out.stderr)
            )),
        }
    });
}
