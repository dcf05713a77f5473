//! What every request passes before a page: only GET and HEAD (anything else is 405), the
//! bearer token when one is configured, a `Host` that names this machine when none is (so a
//! web page elsewhere cannot reach a loopback dashboard by DNS rebinding), and on every
//! answer a strict Content-Security-Policy and its companions.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Scripts, styles and images from this server only; no inline script or style, no
/// frames, no form posts, no other host to connect to.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The access rule of one server.
#[derive(Clone)]
pub struct Access {
    /// The token clients must present (`Authorization: Bearer TOKEN`, or as the password of
    /// Basic authentication, which browsers send with every request of the page).
    pub token: Option<Arc<str>>,
}

/// Equal in time independent of where the inputs differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether the request carries `token`.
fn authorized(headers: &HeaderMap, token: &str) -> bool {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if scheme.eq_ignore_ascii_case("bearer") {
        return same(rest.trim().as_bytes(), token.as_bytes());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        use base64::Engine;
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(rest.trim()) else {
            return false;
        };
        let password = match bytes.iter().position(|b| *b == b':') {
            Some(i) => &bytes[i + 1..],
            None => &bytes[..],
        };
        return same(password, token.as_bytes());
    }
    false
}

/// Whether `Host` names this machine: `localhost`, a loopback address, or no host at all.
fn loopback_host(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let name = match host.rsplit_once(':') {
        Some((n, port)) if port.chars().all(|c| c.is_ascii_digit()) => n,
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn plain(status: StatusCode, text: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text.to_string(),
    )
        .into_response()
}

/// The guard: method, token or host, then the page, then the security headers.
pub async fn guard(State(access): State<Access>, req: Request<Body>, next: Next) -> Response {
    let mut res = if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "405: this dashboard is read-only; only GET and HEAD are answered\n",
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        r
    } else {
        match &access.token {
            Some(token) if !authorized(req.headers(), token) => {
                let mut r = plain(
                    StatusCode::UNAUTHORIZED,
                    "401: send the dashboard's token (Authorization: Bearer TOKEN)\n",
                );
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"vz-monitor\", charset=\"UTF-8\""),
                );
                r
            }
            None if !loopback_host(req.headers()) => plain(
                StatusCode::MISDIRECTED_REQUEST,
                "421: this dashboard answers requests for localhost only\n",
            ),
            _ => next.run(req).await,
        }
    };
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn the_token_is_accepted_as_bearer_or_basic_password_and_nothing_else() {
        let t = "s3cret-token-0123456789";
        assert!(authorized(
            &with(header::AUTHORIZATION, &format!("Bearer {t}")),
            t
        ));
        // "any:s3cret-token-0123456789" in base64.
        use base64::Engine;
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("any:{t}"));
        assert!(authorized(
            &with(header::AUTHORIZATION, &format!("Basic {basic}")),
            t
        ));
        assert!(!authorized(
            &with(header::AUTHORIZATION, "Bearer s3cret"),
            t
        ));
        assert!(!authorized(
            &with(header::AUTHORIZATION, &format!("Token {t}")),
            t
        ));
        assert!(!authorized(&HeaderMap::new(), t));
    }

    #[test]
    fn only_loopback_host_names_pass_without_a_token() {
        for ok in ["127.0.0.1:8080", "localhost:1", "[::1]:80", "127.1.2.3"] {
            assert!(loopback_host(&with(header::HOST, ok)), "{ok}");
        }
        for bad in ["evil.example:8080", "10.0.0.1", "0.0.0.0:80"] {
            assert!(!loopback_host(&with(header::HOST, bad)), "{bad}");
        }
    }
}
