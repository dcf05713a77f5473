//! Go's `fmt.Sprintf` for template values: flags `-+ 0#`, width, precision, verbs
//! `v s q d x X o b c t f F e E g G %`, and Go's error forms (`%!d(float64=1.5)`,
//! `%!v(MISSING)`, `%!(EXTRA int=3)`).

use super::super::gofmt::{fmt_g, fmt_v};
use super::value::Val;

/// Most digits a precision or width may ask for.
const MAX_WIDTH: usize = 200;

#[derive(Default)]
struct Spec {
    minus: bool,
    plus: bool,
    space: bool,
    zero: bool,
    sharp: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

fn bad(verb: char, v: &Val) -> String {
    format!("%!{verb}({}={})", v.type_name(), v.show())
}

/// `%e` as Go prints it (two-digit exponent at least).
fn go_e(v: f64, prec: usize, upper: bool) -> String {
    if !v.is_finite() {
        return fmt_v(v);
    }
    let s = format!("{v:.prec$e}");
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    let e: i32 = e.parse().unwrap_or(0);
    let out = format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs());
    if upper {
        out.to_uppercase()
    } else {
        out
    }
}

fn float_verb(verb: char, f: f64, sp: &Spec) -> String {
    let mut s = match verb {
        'v' => fmt_v(f),
        'f' | 'F' => {
            if f.is_finite() {
                format!("{:.*}", sp.prec.unwrap_or(6), f)
            } else {
                fmt_v(f)
            }
        }
        'e' | 'E' => go_e(f, sp.prec.unwrap_or(6), verb == 'E'),
        'g' | 'G' => {
            let s = match sp.prec {
                Some(p) => fmt_g(f, p.max(1)),
                None => fmt_v(f),
            };
            if verb == 'G' {
                s.to_uppercase()
            } else {
                s
            }
        }
        _ => unreachable!(),
    };
    if !s.starts_with(['-', '+']) {
        if sp.plus {
            s.insert(0, '+');
        } else if sp.space {
            s.insert(0, ' ');
        }
    }
    s
}

fn int_verb(verb: char, i: i64, sp: &Spec) -> Option<String> {
    let mag = i.unsigned_abs();
    let body = match verb {
        'v' | 'd' => mag.to_string(),
        'x' => format!("{}{mag:x}", if sp.sharp { "0x" } else { "" }),
        'X' => format!("{}{mag:X}", if sp.sharp { "0X" } else { "" }),
        'o' => format!("{}{mag:o}", if sp.sharp { "0" } else { "" }),
        'b' => format!("{mag:b}"),
        'c' => return char::from_u32(i as u32).map(String::from),
        'q' => return char::from_u32(i as u32).map(|c| format!("{c:?}")),
        'f' | 'F' | 'e' | 'E' | 'g' | 'G' | 's' | 't' => return None,
        _ => return None,
    };
    let sign = if i < 0 {
        "-"
    } else if sp.plus {
        "+"
    } else if sp.space {
        " "
    } else {
        ""
    };
    Some(format!("{sign}{body}"))
}

fn one(verb: char, v: &Val, sp: &Spec) -> String {
    let text = match (verb, v) {
        ('v', _) if !matches!(v, Val::Float(_) | Val::Int(_)) => v.show(),
        ('s', Val::Str(s)) => s.clone(),
        ('s', Val::Time(..) | Val::Duration(_)) => v.show(),
        ('q', Val::Str(s)) => format!("{s:?}"),
        ('x', Val::Str(s)) => s.bytes().map(|b| format!("{b:02x}")).collect(),
        ('X', Val::Str(s)) => s.bytes().map(|b| format!("{b:02X}")).collect(),
        ('t', Val::Bool(b)) => b.to_string(),
        ('v' | 'f' | 'F' | 'e' | 'E' | 'g' | 'G', Val::Float(f)) => float_verb(verb, *f, sp),
        (_, Val::Int(i)) => match int_verb(verb, *i, sp) {
            Some(s) => s,
            None => return bad(verb, v),
        },
        _ => return bad(verb, v),
    };
    let text = match (verb, v, sp.prec) {
        ('s' | 'v', Val::Str(_), Some(p)) => text.chars().take(p).collect(),
        _ => text,
    };
    pad(text, sp, matches!(v, Val::Int(_) | Val::Float(_)))
}

fn pad(s: String, sp: &Spec, numeric: bool) -> String {
    let w = sp.width.unwrap_or(0);
    let n = s.chars().count();
    if n >= w {
        return s;
    }
    let fill = w - n;
    if sp.minus {
        return format!("{s}{}", " ".repeat(fill));
    }
    if sp.zero && numeric {
        let (sign, rest) = match s.chars().next() {
            Some(c @ ('+' | '-' | ' ')) => (c.to_string(), s[1..].to_string()),
            _ => (String::new(), s),
        };
        return format!("{sign}{}{rest}", "0".repeat(fill));
    }
    format!("{}{s}", " ".repeat(fill))
}

/// `fmt.Sprintf(format, args…)`.
pub fn sprintf(format: &str, args: &[Val]) -> String {
    let mut out = String::new();
    let mut next = 0;
    let mut cs = format.chars().peekable();
    while let Some(c) = cs.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut sp = Spec::default();
        while let Some(&f) = cs.peek() {
            match f {
                '-' => sp.minus = true,
                '+' => sp.plus = true,
                ' ' => sp.space = true,
                '0' => sp.zero = true,
                '#' => sp.sharp = true,
                _ => break,
            }
            cs.next();
        }
        let num = |cs: &mut std::iter::Peekable<std::str::Chars>| {
            let mut n: Option<usize> = None;
            while let Some(d) = cs.peek().and_then(|d| d.to_digit(10)) {
                n = Some((n.unwrap_or(0) * 10 + d as usize).min(MAX_WIDTH));
                cs.next();
            }
            n
        };
        sp.width = num(&mut cs);
        if cs.peek() == Some(&'.') {
            cs.next();
            sp.prec = Some(num(&mut cs).unwrap_or(0));
        }
        let Some(verb) = cs.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        match args.get(next) {
            None => out.push_str(&format!("%!{verb}(MISSING)")),
            Some(v) => out.push_str(&one(verb, v, &sp)),
        }
        next += 1;
    }
    if next < args.len() {
        let extra: Vec<String> = args[next..]
            .iter()
            .map(|v| format!("{}={}", v.type_name(), v.show()))
            .collect();
        out.push_str(&format!("%!(EXTRA {})", extra.join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printf_follows_go() {
        let f = Val::Float(1.23456);
        assert_eq!(sprintf("%.2f", std::slice::from_ref(&f)), "1.23");
        assert_eq!(
            sprintf("%v|%g|%e", &[f.clone(), f.clone(), f.clone()]),
            "1.23456|1.23456|1.234560e+00"
        );
        assert_eq!(sprintf("%d", &[Val::Int(42)]), "42");
        assert_eq!(sprintf("%d", &[Val::Float(1.5)]), "%!d(float64=1.5)");
        assert_eq!(sprintf("%.2f", &[Val::Int(80)]), "%!f(int=80)");
        assert_eq!(
            sprintf("%s and %s", &[Val::Str("a".into())]),
            "a and %!s(MISSING)"
        );
        assert_eq!(
            sprintf("%s", &[Val::Str("a".into()), Val::Int(3)]),
            "a%!(EXTRA int=3)"
        );
        assert_eq!(sprintf("%5.1f%%", &[Val::Float(2.26)]), "  2.3%");
        assert_eq!(
            sprintf(
                "%-4s|%04d|%x|%q",
                &[
                    Val::Str("ab".into()),
                    Val::Int(7),
                    Val::Int(255),
                    Val::Str("x\"y".into())
                ]
            ),
            "ab  |0007|ff|\"x\\\"y\""
        );
        assert_eq!(
            sprintf("%v %t", &[Val::Float(1e6), Val::Bool(true)]),
            "1e+06 true"
        );
        // Bounded: a template cannot ask for a gigabyte of digits.
        assert!(sprintf("%.999999999f", &[f]).len() < 250);
    }
}
