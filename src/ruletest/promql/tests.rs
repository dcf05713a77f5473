use super::*;

fn storage() -> Storage {
    // A counter per instance, +60 a minute, sampled every minute from 0 to 10m; `up` 1 then
    // 0 from 5m for b.
    let mut s = Storage::default();
    for inst in ["a", "b"] {
        let l = parse_labels(&format!(
            "http_requests_total{{job=\"web\", instance=\"{inst}\"}}"
        ))
        .unwrap();
        let up = parse_labels(&format!("up{{job=\"web\", instance=\"{inst}\"}}")).unwrap();
        for k in 0..=10 {
            let rate = if inst == "a" { 60.0 } else { 120.0 };
            s.add(&l, k * 60_000, Some(rate * k as f64));
            let down = inst == "b" && k >= 5;
            s.add(&up, k * 60_000, Some(if down { 0.0 } else { 1.0 }));
        }
    }
    s
}

fn at(q: &str, t_min: i64) -> Value {
    let s = storage();
    query(
        q,
        &Ctx {
            storage: &s,
            t: t_min * 60_000,
            step: 60_000,
        },
    )
    .unwrap()
}

fn vec_of(v: Value) -> Vec<(String, f64)> {
    let Value::Vector(v) = v else { panic!("{v:?}") };
    let mut out: Vec<(String, f64)> = v
        .into_iter()
        .map(|(l, x)| {
            (
                l.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(","),
                x,
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn selectors_rates_and_aggregations_follow_prometheus() {
    assert_eq!(
        vec_of(at("up == 0", 6)),
        [("__name__=up,instance=b,job=web".to_string(), 0.0)]
    );
    assert_eq!(
        vec_of(at("sum by (job) (rate(http_requests_total[5m]))", 10)),
        [("job=web".to_string(), 3.0)]
    );
    assert_eq!(
        vec_of(at("increase(http_requests_total{instance=\"a\"}[5m])", 10)),
        [("instance=a,job=web".to_string(), 300.0)]
    );
    assert_eq!(at("scalar(sum(up))", 6), Value::Scalar(1.0));
    assert_eq!(
        vec_of(at("count without (instance) (up)", 6)),
        [("job=web".to_string(), 2.0)]
    );
    assert_eq!(
        vec_of(at("absent(nope{job=\"x\"})", 1)),
        [("job=x".to_string(), 1.0)]
    );
    // group_left copying a label. At 3m the range holds 4 samples from 0: extrapolated to
    // zero at the start, not to the range start (180 over 300 s: 0.6, as Prometheus 2.x).
    assert_eq!(
        vec_of(at(
            "rate(http_requests_total[5m]) / on (instance) group_left (job) up",
            3
        )),
        [
            ("instance=a,job=web".to_string(), 0.6),
            ("instance=b,job=web".to_string(), 1.2)
        ]
    );
    assert_eq!(vec_of(at("up offset 5m == 0", 6)), []);
    assert_eq!(
        vec_of(at("max_over_time(up[10m:1m])", 10)),
        [
            ("instance=a,job=web".to_string(), 1.0),
            ("instance=b,job=web".to_string(), 1.0)
        ]
    );
    // Past the 5 m lookback a series is gone.
    assert_eq!(vec_of(at("up", 16)), []);
}

#[test]
fn what_is_not_supported_is_named() {
    let s = storage();
    let ctx = Ctx {
        storage: &s,
        t: 0,
        step: 60_000,
    };
    let e = query("predict_linear(x[5m], 60)", &ctx).unwrap_err();
    assert!(e.contains("`predict_linear` is not supported"), "{e}");
    let e = query("max_over_time(up[1000d:1s])", &ctx).unwrap_err();
    assert!(e.contains("more than 11000 steps"), "{e}");
    let e = query("up @ 100", &ctx).unwrap_err();
    assert!(e.contains("`@` modifier"), "{e}");
}
