//! Charts without a library: one inline SVG per judged series for the HTML page, and a
//! Mermaid `xychart-beta` block for GitHub Markdown (the job summary).

use super::series::{Chart, Guide};
use crate::model::fmt_num;

const W: f64 = 960.0;
const H: f64 = 300.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 44.0;

/// Escapes text for SVG/HTML content and attributes.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

struct Scale {
    t0: f64,
    t1: f64,
    lo: f64,
    hi: f64,
}

impl Scale {
    fn x(&self, t: i64) -> f64 {
        let span = (self.t1 - self.t0).max(1.0);
        LEFT + (t as f64 - self.t0) / span * (W - LEFT - RIGHT)
    }
    fn y(&self, v: f64) -> f64 {
        let span = (self.hi - self.lo).max(f64::EPSILON);
        TOP + (1.0 - (v - self.lo) / span) * (H - TOP - BOTTOM)
    }
}

/// One series as an inline SVG: axes, baseline range, the rules' bands and thresholds,
/// the watched values (gaps where samples were missing), anomaly markers and the decision.
pub fn svg(c: &Chart) -> String {
    let (lo, hi) = c.y_range();
    let s = Scale {
        t0: c.start as f64,
        t1: c.end as f64,
        lo,
        hi,
    };
    let (x0, x1, y0, y1) = (LEFT, W - RIGHT, TOP, H - BOTTOM);
    let mut o = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" role=\"img\" aria-label=\"{}\">\n",
        esc(&format!("chart of {}", c.series))
    );
    o.push_str(&format!(
        "<rect x=\"{x0}\" y=\"{y0}\" width=\"{}\" height=\"{}\" fill=\"#fbfbfd\" stroke=\"#c8ccd4\"/>\n",
        x1 - x0,
        y1 - y0
    ));
    // Horizontal grid and value labels at round steps.
    for v in nice_ticks(lo, hi) {
        let y = s.y(v);
        o.push_str(&format!(
            "<line x1=\"{x0}\" x2=\"{x1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e3e6ec\"/><text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"end\">{}</text>\n",
            x0 - 6.0,
            y + 4.0,
            esc(&fmt_num(v))
        ));
    }
    // The value axis says what it counts: the series and, when known, its unit.
    let ym = (y0 + y1) / 2.0;
    o.push_str(&format!(
        "<text x=\"14\" y=\"{ym:.1}\" class=\"tick\" text-anchor=\"middle\" transform=\"rotate(-90 14 {ym:.1})\">{}</text>\n",
        esc(&c.axis_title())
    ));
    // Time labels: seconds after the start of the window.
    for i in 0..=4 {
        let t = c.start + (c.end - c.start) * i / 4;
        o.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"middle\">+{}</text>\n",
            s.x(t),
            y1 + 16.0,
            secs(t - c.start, c.end - c.start)
        ));
    }
    if let Some((blo, bhi)) = c.baseline_range() {
        let (ya, yb) = (s.y(bhi), s.y(blo));
        o.push_str(&format!(
            "<rect x=\"{x0}\" y=\"{ya:.1}\" width=\"{}\" height=\"{:.1}\" fill=\"#9aa3b2\" fill-opacity=\"0.22\"><title>{}</title></rect>\n",
            x1 - x0,
            (yb - ya).max(1.0),
            esc(&format!("baseline range {} – {} ({} samples)", fmt_num(blo), fmt_num(bhi), c.baseline.len()))
        ));
    }
    for g in &c.guides {
        o.push_str(&guide(&s, g, x0, x1));
    }
    for a in &c.anomalies {
        let xa = s.x(a.fired_at);
        let xb = s.x(a.resolved_at.unwrap_or(c.end));
        // Near the right edge the label goes to the left of the marker.
        let right = xa > x1 - 200.0;
        o.push_str(&format!(
            "<rect x=\"{xa:.1}\" y=\"{y0}\" width=\"{:.1}\" height=\"{}\" fill=\"#d62728\" fill-opacity=\"0.08\"/><line x1=\"{xa:.1}\" x2=\"{xa:.1}\" y1=\"{y0}\" y2=\"{y1}\" stroke=\"#d62728\" stroke-width=\"2\"><title>{}</title></line><text x=\"{:.1}\" y=\"{:.1}\" class=\"mark\" fill=\"#d62728\" text-anchor=\"{}\">▲ {} fired</text>\n",
            (xb - xa).max(0.0),
            y1 - y0,
            esc(&format!("{} fired: {}", a.rule, a.reason)),
            if right { xa - 4.0 } else { xa + 4.0 },
            y0 + 14.0,
            if right { "end" } else { "start" },
            esc(&a.rule)
        ));
    }
    for (a, b) in &c.spans {
        o.push_str(&format!(
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"5\" fill=\"#9aa3b2\"/>\n",
            s.x(*a),
            y1 - 6.0,
            (s.x(*b) - s.x(*a)).max(1.0)
        ));
    }
    o.push_str(&values(&s, c.points));
    o.push_str(&downs(&s, c, y1));
    if c.marks_decision() {
        let xd = s.x(c.decided_at);
        o.push_str(&format!(
            "<line x1=\"{xd:.1}\" x2=\"{xd:.1}\" y1=\"{}\" y2=\"{y1}\" stroke=\"#111\" stroke-width=\"2\" stroke-dasharray=\"6 3\"/><text x=\"{:.1}\" y=\"{:.1}\" class=\"mark\" text-anchor=\"end\">decision: {}</text>\n",
            y0 - 12.0,
            xd - 4.0,
            y0 - 16.0,
            esc(&c.verdict.to_uppercase())
        ));
    }
    if c.points.iter().all(|p| p.1.is_none()) && c.down.is_empty() {
        o.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"empty\" text-anchor=\"middle\">no stored samples for this series</text>\n",
            (x0 + x1) / 2.0,
            (y0 + y1) / 2.0
        ));
    }
    o.push_str("</svg>\n");
    o
}

/// Milliseconds as seconds, to 0.01 s in windows under 10 s and whole seconds above; in
/// hours past six hours (a backtest's history).
fn secs(ms: i64, span_ms: i64) -> String {
    if span_ms > 6 * 3_600_000 {
        return format!("{}h", fmt_num((ms as f64 / 3_600_000.0).round()));
    }
    let s = if span_ms < 10_000 {
        fmt_num((ms as f64 / 10.0).round() / 100.0)
    } else {
        fmt_num((ms as f64 / 1000.0).round())
    };
    format!("{s}s")
}

/// Round values between `lo` and `hi` for the value axis: steps of 1, 2 or 5 × 10^k,
/// about five of them.
fn nice_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let raw = (hi - lo) / 5.0;
    if !(raw.is_finite() && raw > 0.0) {
        return vec![lo];
    }
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let mut v = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while v <= hi + step * 1e-9 && out.len() < 12 {
        out.push(round_label(v, step * 40.0));
        v += step;
    }
    out
}

/// A label value rounded to a precision that fits the axis span.
fn round_label(v: f64, span: f64) -> f64 {
    let step = if span > 0.0 {
        10f64.powf((span / 4.0).log10().floor() - 1.0)
    } else {
        0.01
    };
    (v / step).round() * step
}

fn guide(s: &Scale, g: &Guide, x0: f64, x1: f64) -> String {
    match g {
        Guide::Band { label, low, high } => {
            let (ya, yb) = (s.y(*high), s.y(*low));
            format!(
                "<rect x=\"{x0}\" y=\"{ya:.1}\" width=\"{}\" height=\"{:.1}\" fill=\"#2ca02c\" fill-opacity=\"0.14\" stroke=\"#2ca02c\" stroke-opacity=\"0.5\"><title>{}</title></rect>\n",
                x1 - x0,
                (yb - ya).max(1.0),
                esc(label)
            )
        }
        Guide::Threshold { label, value } => {
            let y = s.y(*value);
            format!(
                "<line x1=\"{x0}\" x2=\"{x1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#ff7f0e\" stroke-width=\"2\" stroke-dasharray=\"8 4\"/><text x=\"{:.1}\" y=\"{:.1}\" class=\"mark\" fill=\"#c25e00\" text-anchor=\"end\">threshold {}</text>\n",
                x1 - 4.0,
                y - 5.0,
                esc(label)
            )
        }
        Guide::Level { label, value } => {
            let y = s.y(*value);
            format!(
                "<line x1=\"{x0}\" x2=\"{x1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#6b7280\" stroke-width=\"1.5\" stroke-dasharray=\"2 3\"/><text x=\"{:.1}\" y=\"{:.1}\" class=\"mark\" fill=\"#4b5563\" text-anchor=\"end\">{}</text>\n",
                x1 - 4.0,
                y - 5.0,
                esc(label)
            )
        }
    }
}

/// The watched values: one polyline per run of present samples, a dot per sample.
fn values(s: &Scale, points: &[(i64, Option<f64>)]) -> String {
    let mut o = String::new();
    let mut run: Vec<String> = Vec::new();
    let flush = |run: &mut Vec<String>, o: &mut String| {
        if run.len() > 1 {
            o.push_str(&format!(
                "<polyline fill=\"none\" stroke=\"#1f5fbf\" stroke-width=\"2.5\" points=\"{}\"/>\n",
                run.join(" ")
            ));
        }
        run.clear();
    };
    for (t, v) in points {
        match v {
            Some(v) => run.push(format!("{:.1},{:.1}", s.x(*t), s.y(*v))),
            None => flush(&mut run, &mut o),
        }
    }
    flush(&mut run, &mut o);
    for (t, v) in points {
        if let Some(v) = v {
            o.push_str(&format!(
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"#1f5fbf\"><title>{}</title></circle>\n",
                s.x(*t),
                s.y(*v),
                esc(&fmt_num(*v))
            ));
        }
    }
    o
}

/// The readings where the probe answered "down": a red mark at the foot of the chart at each,
/// and one line saying how many, so an outage never looks like missing data.
fn downs(s: &Scale, c: &Chart, y1: f64) -> String {
    if c.down.is_empty() {
        return String::new();
    }
    let mut o = String::new();
    for t in c.down {
        let x = s.x(*t);
        o.push_str(&format!(
            "<g class=\"down\"><title>the probe answered down</title><line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{:.1}\" y2=\"{y1:.1}\" stroke=\"#d62728\" stroke-width=\"3\"/><text x=\"{x:.1}\" y=\"{:.1}\" class=\"mark\" fill=\"#d62728\" text-anchor=\"middle\">✕</text></g>\n",
            y1 - 12.0,
            y1 - 16.0
        ));
    }
    o.push_str(&format!(
        "<text x=\"{LEFT}\" y=\"{:.1}\" class=\"mark\" fill=\"#d62728\">✕ down at {} of {} samples</text>\n",
        y1 + 34.0,
        c.down.len(),
        c.points.len()
    ));
    o
}

/// A Mermaid `xychart-beta` block for GitHub Markdown: the watched values as a line and,
/// for a threshold rule, the threshold as a second line. At most 60 points (every n-th);
/// a missing sample repeats the previous value (xychart has no gaps).
pub fn mermaid(c: &Chart) -> Option<String> {
    let present: Vec<(i64, f64)> = {
        let mut last = None;
        c.points
            .iter()
            .filter_map(|(t, v)| {
                last = v.or(last);
                last.map(|x| (*t, x))
            })
            .collect()
    };
    if present.len() < 2 {
        return None;
    }
    let step = present.len().div_ceil(60);
    let pts: Vec<(i64, f64)> = present.iter().copied().step_by(step).collect();
    let (lo, hi) = c.y_range();
    let num = |v: f64| fmt_num(round_label(v, hi - lo));
    let xs: Vec<String> = pts
        .iter()
        .map(|(t, _)| format!("\"+{}\"", secs(t - c.start, c.end - c.start)))
        .collect();
    let ys: Vec<String> = pts.iter().map(|(_, v)| num(*v)).collect();
    let mut o = format!(
        "```mermaid\nxychart-beta\n    title \"{}\"\n    x-axis [{}]\n    y-axis \"{}\" {} --> {}\n    line [{}]\n",
        mermaid_text(&format!(
            "{} — {}{}",
            c.series,
            c.rules.iter().map(|r| r.rule.as_str()).collect::<Vec<_>>().join(", "),
            match c.down.len() {
                0 => String::new(),
                n => format!(" (down at {n} of {} samples)", c.points.len()),
            }
        )),
        xs.join(", "),
        mermaid_text(&c.axis_title()),
        num(lo),
        num(hi),
        ys.join(", ")
    );
    for g in &c.guides {
        if let Guide::Threshold { value, .. } = g {
            o.push_str(&format!(
                "    line [{}]\n",
                vec![num(*value); pts.len()].join(", ")
            ));
        }
    }
    o.push_str("```\n");
    Some(o)
}

/// Text safe inside a Mermaid quoted string.
fn mermaid_text(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '"' | '`' | '\n' | '\r' | '[' | ']' => '\'',
            c => c,
        })
        .collect()
}
