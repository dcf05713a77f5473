//! AWS Signature Version 4 (`AWS4-HMAC-SHA256`) for one request: canonical request, string
//! to sign, signing key, `Authorization` header.
//!
//! Our own ~150 lines rather than the `aws-sigv4` crate: that crate signs through the
//! `aws-smithy-runtime-api` / `aws-credential-types` / `aws-smithy-http` type stack (several
//! crates and a second HTTP type world) for what is, here, one POST to `/` with a JSON body;
//! `hmac`, `sha2` and `hex`, which sign the audit chain and webhooks, are already
//! dependencies. Correctness is pinned by AWS's published Signature Version 4 test suite
//! (the vectors below) and, end to end, by moto_server in IAM mode, which recomputes every
//! signature with botocore and answers `SignatureDoesNotMatch` to a wrong one
//! (tests/it/cloudwatch.rs).
//!
//! Scope: services other than S3 (no `x-amz-content-sha256`, path encoded once from its
//! decoded form, no dot-segment normalisation beyond what the caller's URL already did).

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// What signs: the key pair and, for temporary credentials, the session token.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    /// Never prints the secret or the token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"***")
            .field("session_token", &self.session_token.as_ref().map(|_| "***"))
            .finish()
    }
}

/// The parts of a request that the signature covers.
pub struct Request<'a> {
    pub method: &'a str,
    /// The path as the server decodes it (`/`, `/ሴ`): encoded here.
    pub path: &'a str,
    /// Decoded query parameters, in any order.
    pub query: &'a [(String, String)],
    /// Every header to sign, `host` and `x-amz-date` (and `x-amz-security-token`) included.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// Where and when: the credential scope and the request time (`YYYYMMDDTHHMMSSZ`).
pub struct Scope<'a> {
    pub region: &'a str,
    pub service: &'a str,
    pub amz_date: &'a str,
}

/// `x-amz-date` for a Unix time in seconds: `20150830T123600Z`.
pub fn amz_date(unix_seconds: i64) -> String {
    chrono::DateTime::from_timestamp(unix_seconds, 0)
        .unwrap_or_default()
        .format("%Y%m%dT%H%M%SZ")
        .to_string()
}

/// RFC 3986 percent-encoding of everything but the unreserved characters, as SigV4 wants.
fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b'/' if keep_slash => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Header values trimmed, runs of spaces collapsed to one.
fn trim_value(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The canonical request and its `SignedHeaders` list.
pub fn canonical_request(req: &Request) -> (String, String) {
    let mut query: Vec<(String, String)> = req
        .query
        .iter()
        .map(|(k, v)| (uri_encode(k, false), uri_encode(v, false)))
        .collect();
    query.sort();
    let query = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    // Same-name headers join with commas, in the order given; names sort.
    let mut headers: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (k, v) in req.headers {
        headers
            .entry(k.to_ascii_lowercase())
            .or_default()
            .push(trim_value(v));
    }
    let canonical_headers: String = headers
        .iter()
        .map(|(k, v)| format!("{k}:{}\n", v.join(",")))
        .collect();
    let signed = headers.keys().cloned().collect::<Vec<_>>().join(";");
    let path = if req.path.is_empty() { "/" } else { req.path };
    let text = format!(
        "{}\n{}\n{query}\n{canonical_headers}\n{signed}\n{}",
        req.method,
        uri_encode(path, true),
        hex::encode(Sha256::digest(req.body))
    );
    (text, signed)
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    // An HMAC key may have any length: `new_from_slice` cannot fail for it.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// The string to sign for a canonical request.
pub fn string_to_sign(canonical: &str, scope: &Scope) -> String {
    format!(
        "AWS4-HMAC-SHA256\n{}\n{}/{}/{}/aws4_request\n{}",
        scope.amz_date,
        &scope.amz_date[..8.min(scope.amz_date.len())],
        scope.region,
        scope.service,
        hex::encode(Sha256::digest(canonical.as_bytes()))
    )
}

/// The `Authorization` header value for `req`, signed with `creds` in `scope`.
pub fn authorization(req: &Request, creds: &Credentials, scope: &Scope) -> String {
    let (canonical, signed) = canonical_request(req);
    let date = &scope.amz_date[..8.min(scope.amz_date.len())];
    let key = [scope.region, scope.service, "aws4_request"].iter().fold(
        hmac(format!("AWS4{}", creds.secret_access_key).as_bytes(), date),
        |k, part| hmac(&k, part),
    );
    let signature = hex::encode(hmac(&key, &string_to_sign(&canonical, scope)));
    format!(
        "AWS4-HMAC-SHA256 Credential={}/{date}/{}/{}/aws4_request, SignedHeaders={signed}, \
         Signature={signature}",
        creds.access_key_id, scope.region, scope.service
    )
}

/// The headers to add to `req` so that it is signed: `x-amz-date`, `x-amz-security-token`
/// (temporary credentials) and `authorization`. `req.headers` are the request's other
/// headers to sign, `host` included (e.g. `content-type`, `x-amz-target`).
pub fn sign(
    req: &Request,
    creds: &Credentials,
    region: &str,
    service: &str,
    unix_seconds: i64,
) -> Vec<(String, String)> {
    let date = amz_date(unix_seconds);
    let mut added = vec![("x-amz-date".to_string(), date.clone())];
    if let Some(t) = &creds.session_token {
        added.push(("x-amz-security-token".to_string(), t.clone()));
    }
    let all: Vec<(String, String)> = req.headers.iter().chain(&added).cloned().collect();
    let full = Request {
        headers: &all,
        ..*req
    };
    let scope = Scope {
        region,
        service,
        amz_date: &date,
    };
    added.push((
        "authorization".to_string(),
        authorization(&full, creds, &scope),
    ));
    added
}

#[cfg(test)]
mod tests {
    //! AWS's Signature Version 4 test suite (formerly published in the AWS General Reference,
    //! "Signature Version 4 test suite"; the same vectors ship with the AWS SDKs, e.g.
    //! `@aws-sdk/signature-v4`'s `suite.fixture`): credentials AKIDEXAMPLE, region us-east-1,
    //! service `service`, 2015-08-30T12:36:00Z. Each expected value is AWS's, not ours.
    use super::*;

    const DATE: &str = "20150830T123600Z";
    /// Name/value pairs of a vector (query parameters or headers).
    type Pairs = &'static [(&'static str, &'static str)];
    const HOST: &str = "example.amazonaws.com";

    fn creds(token: Option<&str>) -> Credentials {
        Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: token.map(String::from),
        }
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// The signature AWS expects for the vector: method, path, query, extra headers, body.
    fn signature(
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        extra: &[(&str, &str)],
        body: &str,
        token: Option<&str>,
    ) -> String {
        let mut headers = pairs(&[("Host", HOST), ("X-Amz-Date", DATE)]);
        headers.extend(pairs(extra));
        if let Some(t) = token {
            headers.push(("X-Amz-Security-Token".into(), t.into()));
        }
        let query = pairs(query);
        let req = Request {
            method,
            path,
            query: &query,
            headers: &headers,
            body: body.as_bytes(),
        };
        let scope = Scope {
            region: "us-east-1",
            service: "service",
            amz_date: DATE,
        };
        let auth = authorization(&req, &creds(token), &scope);
        auth.rsplit_once("Signature=").unwrap().1.to_string()
    }

    #[test]
    fn get_vanilla() {
        let canonical = "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let headers = pairs(&[("Host", HOST), ("X-Amz-Date", DATE)]);
        let req = Request {
            method: "GET",
            path: "/",
            query: &[],
            headers: &headers,
            body: b"",
        };
        assert_eq!(canonical_request(&req).0, canonical);
        let scope = Scope {
            region: "us-east-1",
            service: "service",
            amz_date: DATE,
        };
        assert_eq!(
            authorization(&req, &creds(None), &scope),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    #[test]
    fn get_vectors() {
        let cases: &[(&str, Pairs, Pairs, &str)] = &[
            (
                "/",
                &[("Param2", "value2"), ("Param1", "value1")],
                &[],
                "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
            ),
            (
                "/",
                &[(
                    "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                    "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                )],
                &[],
                "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
            ),
            (
                "/",
                &[("ሴ", "bar")],
                &[],
                "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
            ),
            (
                "/ሴ",
                &[],
                &[],
                "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
            ),
            (
                "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                &[],
                &[],
                "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f",
            ),
            (
                "/",
                &[],
                &[("My-Header1", "value1"), ("My-Header2", "\"a   b   c\"")],
                "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
            ),
            (
                "/",
                &[],
                &[("My-Header1", "value4,value1,value3,value2")],
                "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01",
            ),
        ];
        for (path, query, extra, want) in cases {
            assert_eq!(
                signature("GET", path, query, extra, "", None),
                *want,
                "GET {path} {query:?} {extra:?}"
            );
        }
    }

    #[test]
    fn post_vectors() {
        const FORM: Pairs = &[("Content-Type", "application/x-www-form-urlencoded")];
        const FORM_UTF8: Pairs = &[(
            "Content-Type",
            "application/x-www-form-urlencoded; charset=utf8",
        )];
        let cases: &[(Pairs, Pairs, &str, &str)] = &[
            (
                &[],
                &[],
                "",
                "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
            ),
            (
                &[("Param1", "value1")],
                &[],
                "",
                "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11",
            ),
            (
                &[("@#$%^", ""), ("+", "/,?><`\";:\\|][{}")],
                &[],
                "",
                "66c82657c86e26fb25238d0e69f011edc4c6df5ae71119d7cb98ed9b87393c1e",
            ),
            (
                &[],
                &[("My-Header1", "value1")],
                "",
                "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c",
            ),
            (
                &[],
                FORM,
                "Param1=value1",
                "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
            ),
            (
                &[],
                FORM_UTF8,
                "Param1=value1",
                "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe",
            ),
        ];
        for (query, extra, body, want) in cases {
            assert_eq!(
                signature("POST", "/", query, extra, body, None),
                *want,
                "POST {query:?} {extra:?} {body:?}"
            );
        }
    }

    /// post-sts-header-before: temporary credentials sign their token as a header.
    #[test]
    fn session_token_is_signed() {
        let token = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";
        assert_eq!(
            signature("POST", "/", &[], &[], "", Some(token)),
            "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"
        );
    }

    /// The worked example of the AWS General Reference ("Create a signed AWS API request"):
    /// IAM ListUsers, whose signature AWS documents as 5d672d79….
    #[test]
    fn iam_list_users_example() {
        let headers = pairs(&[
            (
                "Content-Type",
                "application/x-www-form-urlencoded; charset=utf-8",
            ),
            ("Host", "iam.amazonaws.com"),
            ("X-Amz-Date", DATE),
        ]);
        let query = pairs(&[("Action", "ListUsers"), ("Version", "2010-05-08")]);
        let req = Request {
            method: "GET",
            path: "/",
            query: &query,
            headers: &headers,
            body: b"",
        };
        let scope = Scope {
            region: "us-east-1",
            service: "iam",
            amz_date: DATE,
        };
        let (canonical, _) = canonical_request(&req);
        assert_eq!(
            hex::encode(Sha256::digest(canonical.as_bytes())),
            "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"
        );
        assert!(authorization(&req, &creds(None), &scope).ends_with(
            "SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        ));
    }

    /// `sign` adds exactly the date, the token and the authorization, and signs them.
    #[test]
    fn sign_adds_and_signs_its_headers() {
        let host = pairs(&[("host", HOST)]);
        let req = Request {
            method: "POST",
            path: "/",
            query: &[],
            headers: &host,
            body: b"",
        };
        // 1440938160 = 2015-08-30T12:36:00Z
        let added = sign(
            &req,
            &creds(Some("tok")),
            "us-east-1",
            "service",
            1_440_938_160,
        );
        let names: Vec<&str> = added.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            ["x-amz-date", "x-amz-security-token", "authorization"]
        );
        assert_eq!(added[0].1, DATE);
        assert!(added[2]
            .1
            .contains("SignedHeaders=host;x-amz-date;x-amz-security-token,"));
        let no_token = sign(&req, &creds(None), "us-east-1", "service", 1_440_938_160);
        // post-vanilla, produced through `sign`.
        assert!(no_token[1].1.ends_with(
            "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        ));
    }

    #[test]
    fn debug_hides_the_secret() {
        let s = format!("{:?}", creds(Some("session-secret")));
        assert!(!s.contains("wJalr") && !s.contains("session-secret"), "{s}");
    }
}
