//! Email over SMTP (lettre): STARTTLS by default, plain for local relays, optional auth;
//! a plain-text and an HTML body in one multipart/alternative message.

use super::message::{anomaly_line, html_escape, Message};
use super::settings::{err, non_empty, ChannelSettings, FieldError};
use super::{Channel, Delivery};
use futures::future::BoxFuture;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::Deserialize;
use std::time::Duration;
use vz_core::units as dur;

/// `email:` — SMTP, STARTTLS by default.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    pub smtp_host: String,
    pub smtp_port: Option<u16>,
    pub from: String,
    pub to: Vec<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    /// Upgrade with STARTTLS (default true); false for a plain local relay.
    pub starttls: Option<bool>,
    #[serde(default, deserialize_with = "dur::opt_duration")]
    pub timeout: Option<Duration>,
}

impl ChannelSettings for EmailConfig {
    fn validate(&self, at: &str) -> Result<(), FieldError> {
        non_empty(format!("{at}.smtp_host"), &self.smtp_host)?;
        if self.from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(err(
                format!("{at}.from"),
                format!("`{}` is not an address", self.from),
            ));
        }
        if self.to.is_empty() {
            return Err(err(format!("{at}.to"), "needs at least one address"));
        }
        for t in &self.to {
            if t.parse::<lettre::message::Mailbox>().is_err() {
                return Err(err(format!("{at}.to"), format!("`{t}` is not an address")));
            }
        }
        if self.password.is_some() && self.username.is_none() {
            return Err(err(
                format!("{at}.username"),
                "required when a password is given",
            ));
        }
        Ok(())
    }
}

/// Default time one SMTP conversation may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

/// Sends mail through one SMTP server.
pub struct Email {
    config: EmailConfig,
    from: Mailbox,
    to: Vec<Mailbox>,
    timeout: Duration,
}

impl Email {
    /// A channel from a validated config.
    pub fn new(c: &EmailConfig) -> Result<Email, String> {
        let from = c
            .from
            .parse()
            .map_err(|_| "email.from is not an address".to_string())?;
        let to =
            c.to.iter()
                .map(|t| {
                    t.parse()
                        .map_err(|_| format!("email.to `{t}` is not an address"))
                })
                .collect::<Result<Vec<Mailbox>, String>>()?;
        Ok(Email {
            config: c.clone(),
            from,
            to,
            timeout: c.timeout.unwrap_or(DEFAULT_TIMEOUT),
        })
    }

    fn transport(&self) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
        let c = &self.config;
        let starttls = c.starttls.unwrap_or(true);
        let mut b = if starttls {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&c.smtp_host)
                .map_err(|e| format!("STARTTLS setup failed: {e}"))?
        } else {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&c.smtp_host)
        };
        b = b.port(c.smtp_port.unwrap_or(if starttls { 587 } else { 25 }));
        b = b.timeout(Some(self.timeout));
        if let Some(user) = &c.username {
            b = b.credentials(Credentials::new(
                user.clone(),
                c.password.clone().unwrap_or_default(),
            ));
        }
        Ok(b.build())
    }

    fn message(&self, msg: &Message) -> Result<lettre::Message, String> {
        let mut b = lettre::Message::builder()
            .from(self.from.clone())
            .subject(format!("[vz-monitor] {}", msg.summary));
        for t in &self.to {
            b = b.to(t.clone());
        }
        b.multipart(MultiPart::alternative_plain_html(msg.text(), html(msg)))
            .map_err(|e| format!("cannot build the mail: {e}"))
    }
}

/// The HTML body: the same facts as the plain text, as a small table and list.
pub fn html(msg: &Message) -> String {
    let e = html_escape;
    let colour = if msg.is_bad() { "#c0392b" } else { "#27ae60" };
    let mut out = format!(
        "<html><body><h2 style=\"color:{colour}\">{}</h2><table>\
         <tr><th align=left>Deployment</th><td>{}</td></tr>\
         <tr><th align=left>Verdict</th><td>{}</td></tr>\
         <tr><th align=left>Severity</th><td>{}</td></tr>",
        e(&msg.summary),
        e(&msg.deployment),
        e(msg.verdict.as_deref().unwrap_or("pending (watch running)")),
        msg.severity
    );
    if let Some(r) = &msg.run_id {
        out.push_str(&format!(
            "<tr><th align=left>Run</th><td>{}</td></tr>",
            e(r)
        ));
    }
    out.push_str("</table>");
    if !msg.reasons.is_empty() {
        out.push_str("<h3>Why</h3><ul>");
        for r in &msg.reasons {
            out.push_str(&format!("<li>{}</li>", e(r)));
        }
        out.push_str("</ul>");
    }
    if !msg.anomalies.is_empty() {
        out.push_str("<h3>Anomalies</h3><ul>");
        for a in &msg.anomalies {
            out.push_str(&format!("<li>{}</li>", e(&anomaly_line(a))));
        }
        out.push_str("</ul>");
    }
    if let Some(l) = &msg.link {
        out.push_str(&format!("<p><a href=\"{}\">details</a></p>", e(l)));
    }
    out.push_str("</body></html>");
    out
}

impl Channel for Email {
    fn kind(&self) -> &'static str {
        "email"
    }

    fn send<'a>(&'a self, msg: &'a Message) -> BoxFuture<'a, Delivery> {
        Box::pin(async move {
            let (transport, mail) = match (self.transport(), self.message(msg)) {
                (Ok(t), Ok(m)) => (t, m),
                (Err(e), _) | (_, Err(e)) => return Delivery::failed(1, e),
            };
            match tokio::time::timeout(self.timeout, transport.send(mail)).await {
                Ok(Ok(r)) => Delivery::sent(1, format!("SMTP {}", r.code())),
                Ok(Err(e)) => Delivery::failed(1, format!("SMTP: {e}")),
                Err(_) => Delivery::failed(1, "timed out"),
            }
        })
    }

    fn bound(&self) -> Duration {
        self.timeout
    }

    fn secrets(&self) -> Vec<String> {
        self.config.password.iter().cloned().collect()
    }
}
