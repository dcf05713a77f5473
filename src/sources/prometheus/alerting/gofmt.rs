//! The few Go number formats alert templates print with, and Prometheus's `humanize*`: `%v` of a float64 (what
//! `{{ $value }}` shows) and `%.Ng` (inside `humanize`); `printf` is the template's own.

/// Decimal digits and exponent of `v` rounded to `prec` significant digits (None: shortest
/// round-trip), trailing zeros removed: (digits, exp) meaning 0.d1d2… × 10^(exp+1).
fn digits(v: f64, prec: Option<usize>) -> (String, i32) {
    let s = match prec {
        Some(p) => format!("{:.*e}", p.max(1) - 1, v.abs()),
        None => format!("{:e}", v.abs()),
    };
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    (digits.to_string(), exp.parse().unwrap_or(0))
}

/// Go's `%g` (`prec` significant digits; None: shortest digits, exponent form from 1e6 on,
/// as `%v` does).
fn go_g(v: f64, prec: Option<usize>) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    if v == 0.0 {
        return "0".into();
    }
    let (d, exp) = digits(v, prec);
    let sign = if v < 0.0 { "-" } else { "" };
    let eprec = match prec {
        None => 6,
        Some(p) => p.max(1) as i32,
    };
    if exp < -4 || exp >= eprec {
        let (first, rest) = d.split_at(1);
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let es = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{frac}e{es}{:02}", exp.abs());
    }
    let point = exp + 1;
    let body = if point <= 0 {
        format!("0.{}{d}", "0".repeat((-point) as usize))
    } else if point as usize >= d.len() {
        format!("{d}{}", "0".repeat(point as usize - d.len()))
    } else {
        format!("{}.{}", &d[..point as usize], &d[point as usize..])
    };
    format!("{sign}{body}")
}

/// Go's `%.{prec}g`.
pub fn fmt_g(v: f64, prec: usize) -> String {
    go_g(v, Some(prec))
}

/// Go's `%v` of a float64 (shortest digits; exponent form from 1e6 on and below 1e-4).
pub fn fmt_v(v: f64) -> String {
    go_g(v, None)
}

/// Prometheus's `humanize`: SI prefixes, 4 significant digits.
pub fn humanize(mut v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return fmt_g(v, 4);
    }
    let mut prefix = "";
    if v.abs() >= 1.0 {
        for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
            if v.abs() < 1000.0 {
                break;
            }
            prefix = p;
            v /= 1000.0;
        }
    } else {
        for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if v.abs() >= 1.0 {
                break;
            }
            prefix = p;
            v *= 1000.0;
        }
    }
    format!("{}{prefix}", fmt_g(v, 4))
}

pub fn humanize1024(mut v: f64) -> String {
    if v.abs() <= 1.0 || !v.is_finite() {
        return fmt_g(v, 4);
    }
    let mut prefix = "";
    for p in ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"] {
        if v.abs() < 1024.0 {
            break;
        }
        prefix = p;
        v /= 1024.0;
    }
    format!("{}{prefix}", fmt_g(v, 4))
}

pub fn humanize_duration(mut v: f64) -> String {
    if !v.is_finite() {
        return fmt_g(v, 4);
    }
    if v == 0.0 {
        return format!("{}s", fmt_g(v, 4));
    }
    if v.abs() >= 1.0 {
        let sign = if v < 0.0 { "-" } else { "" };
        v = v.abs();
        let d = v as i64;
        let (s, m, h, days) = (d % 60, d / 60 % 60, d / 3600 % 24, d / 86400);
        return match (days, h, m) {
            (0, 0, 0) => format!("{sign}{}s", fmt_g(v, 4)),
            (0, 0, _) => format!("{sign}{m}m {s}s"),
            (0, _, _) => format!("{sign}{h}h {m}m {s}s"),
            _ => format!("{sign}{days}d {h}h {m}m {s}s"),
        };
    }
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}s", fmt_g(v, 4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go() {
        assert_eq!(fmt_v(0.25), "0.25");
        assert_eq!(fmt_v(3.0), "3");
        assert_eq!(fmt_v(123456.0), "123456");
        assert_eq!(fmt_v(1e6), "1e+06");
        assert_eq!(fmt_v(1234567.0), "1.234567e+06");
        assert_eq!(fmt_v(0.00001), "1e-05");
        assert_eq!(fmt_g(1234.5678, 4), "1235");
        assert_eq!(fmt_g(12345.0, 4), "1.234e+04");
        assert_eq!(fmt_g(0.5, 4), "0.5");
        assert_eq!(fmt_g(-2.5, 4), "-2.5");
        assert_eq!(fmt_g(1000.0, 4), "1000");
        assert_eq!(fmt_g(f64::NAN, 4), "NaN");
    }
}
