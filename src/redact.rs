//! Secrets out of everything printed or stored: URL credentials, header values and tokens
//! from the config are replaced by `***` in every encoding in which a server, a library or
//! a log can echo them back: literal, percent-encoded, and base64 (standard and URL-safe,
//! padded or not) — the last being how `user:password` travels in a Basic `Authorization`
//! header that a hostile or careless server puts in its error body.

/// What replaces a secret.
pub const MASK: &str = "***";

/// Secrets shorter than this are not redacted on their own: replacing every `a` or `pw`
/// would mangle messages. (Their encoded forms, e.g. base64 of `user:pw`, still are.)
pub const MIN_LEN: usize = 4;

/// The first `cap` bytes of an HTTP response body, as text: an error body that never ends
/// (or is huge) is never read whole into memory.
pub async fn capped_text(mut resp: reqwest::Response, cap: usize) -> String {
    let mut kept = Vec::new();
    while kept.len() < cap {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                let room = cap - kept.len();
                kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            _ => break,
        }
    }
    String::from_utf8_lossy(&kept).into_owned()
}

/// Replaces every form of every secret in `text` by [`MASK`].
pub fn redact(text: &str, secrets: &[String]) -> String {
    let mut forms: Vec<String> = secrets.iter().flat_map(|s| forms_of(s)).collect();
    // Longest first, so a URL goes before the password inside it.
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    forms.dedup();
    let mut out = text.to_string();
    for f in &forms {
        if out.contains(f.as_str()) {
            out = out.replace(f.as_str(), MASK);
        }
    }
    out
}

/// Every form in which `secret` may appear. A URL with `user:password@` also yields its
/// credentials (raw and decoded), the password, and the Basic-auth token of the pair.
pub fn forms_of(secret: &str) -> Vec<String> {
    let mut plain = vec![secret.to_string()];
    if let Some((user, password)) = url_credentials(secret) {
        plain.push(format!("{user}:{password}"));
        plain.push(password.clone());
        let (u, p) = (percent_decode(&user), percent_decode(&password));
        plain.push(format!("{u}:{p}"));
        plain.push(p);
    }
    let mut out = Vec::new();
    for p in plain {
        let decoded = percent_decode(&p);
        for v in [p.clone(), percent_encode(&p), decoded] {
            for b in base64_forms(v.as_bytes()) {
                push(&mut out, b);
            }
            push(&mut out, v);
        }
    }
    out
}

fn push(out: &mut Vec<String>, form: String) {
    if form.len() >= MIN_LEN && !out.contains(&form) {
        out.push(form);
    }
}

/// The secrets of a URL that is not itself secret: the URL when it carries
/// `user:password@` (from which [`forms_of`] derives every encoding), else nothing.
pub fn url_with_credentials(url: &str) -> Vec<String> {
    url_credentials(url)
        .map(|_| url.to_string())
        .into_iter()
        .collect()
}

/// The `user` and `password` (as written, percent-encoded) of a URL's authority.
fn url_credentials(url: &str) -> Option<(String, String)> {
    let rest = url.split_once("://")?.1;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    Some((user.to_string(), password.to_string()))
}

/// A URL with any `user:password@` replaced by `***@`, for messages.
pub fn redact_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let cut = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let (authority, path) = rest.split_at(cut);
            match authority.rsplit_once('@') {
                Some((_, host)) => format!("{scheme}://{MASK}@{host}{path}"),
                None => url.to_string(),
            }
        }
        None => url.to_string(),
    }
}

/// `%XX` for every byte outside RFC 3986's unreserved set.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` sequences; anything malformed is kept as written.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Base64 of `bytes`: standard and URL-safe alphabets, padded and unpadded.
fn base64_forms(bytes: &[u8]) -> Vec<String> {
    let std = base64(bytes, b"+/");
    let url = base64(bytes, b"-_");
    let mut v = vec![std.clone(), std.trim_end_matches('=').to_string()];
    if url != std {
        v.push(url.trim_end_matches('=').to_string());
        v.push(url);
    }
    v
}

fn base64(bytes: &[u8], last_two: &[u8; 2]) -> String {
    const ALPHA: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let sym = |i: u32| -> char {
        let i = (i & 63) as usize;
        if i < 62 {
            ALPHA[i] as char
        } else {
            last_two[i - 62] as char
        }
    };
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, b| (n << 8) | *b as u32) << (8 * (3 - chunk.len()));
        out.push(sym(n >> 18));
        out.push(sym(n >> 12));
        out.push(if chunk.len() > 1 { sym(n >> 6) } else { '=' });
        out.push(if chunk.len() > 2 { sym(n) } else { '=' });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        // RFC 4648 §10.
        let cases = [
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, enc) in cases {
            assert_eq!(base64(plain.as_bytes(), b"+/"), enc);
        }
        // `Aladdin:open sesame`, RFC 7617's Basic-auth example.
        assert_eq!(
            base64(b"Aladdin:open sesame", b"+/"),
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }

    #[test]
    fn literal_secrets_are_hidden_short_ones_are_not() {
        let s = vec!["https://hooks.example/T0/B0/xyz".to_string(), "pw".into()];
        assert_eq!(
            redact("posting to https://hooks.example/T0/B0/xyz failed: pw", &s),
            "posting to *** failed: pw"
        );
    }

    #[test]
    fn url_credentials_are_hidden_in_every_encoding() {
        let s = vec!["http://alice:s3cr%40t@am.example:9093".to_string()];
        let basic = base64(b"alice:s3cr@t", b"+/");
        let text = format!(
            "HTTP 401: got Authorization: Basic {basic}; user alice:s3cr@t, raw s3cr%40t, \
             encoded s3cr%2540t, again s3cr@t"
        );
        let out = redact(&text, &s);
        assert!(!out.contains(&basic), "{out}");
        assert!(!out.contains("s3cr"), "{out}");
        assert!(out.contains("Basic ***"), "{out}");
    }

    #[test]
    fn header_tokens_are_hidden_encoded_too() {
        let s = vec!["tok-123/abc+=".to_string()];
        let text = format!(
            "{} {} {}",
            percent_encode("tok-123/abc+="),
            base64(b"tok-123/abc+=", b"+/"),
            base64(b"tok-123/abc+=", b"-_").trim_end_matches('=')
        );
        assert_eq!(redact(&text, &s), "*** *** ***");
    }

    #[test]
    fn redact_url_hides_credentials_only() {
        assert_eq!(
            redact_url("https://u:secret@grafana.example/x"),
            "https://***@grafana.example/x"
        );
        assert_eq!(
            redact_url("https://u:p@h.example?q=a@b"),
            "https://***@h.example?q=a@b"
        );
        assert_eq!(redact_url("http://127.0.0.1:9091"), "http://127.0.0.1:9091");
    }

    #[test]
    fn percent_decoding_keeps_malformed_escapes() {
        assert_eq!(percent_decode("a%40b%zz%4"), "a@b%zz%4");
    }
}
