//! The dashboard's shared state: where the store is, a few open connections to it, the
//! live feed every live page shares, and the limits that keep memory bounded.
//!
//! The store's interface is synchronous, so every read runs on tokio's blocking pool with a
//! connection taken from a small pool (and put back only if the read succeeded: a failed
//! connection is dropped and the next read opens a fresh one). A store that is gone or
//! locked is an [`Unavailable`] answer (a 503 page), never a crash, and the next request
//! tries it again: `serve` outlives the store.

use super::live::Frame;
use crate::store::{Store, StoreError};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{watch, Semaphore};

/// Connections kept open between requests.
const POOL: usize = 4;
/// Live pages (server-sent event streams) open at once; more are refused with a 503.
pub const MAX_LIVE_CLIENTS: usize = 256;

/// Why the store could not answer.
#[derive(Debug, Clone)]
pub struct Unavailable(pub String);

/// What every request handler shares.
pub struct App {
    /// The store: a SQLite file or a `postgres://` URL.
    pub target: PathBuf,
    /// `sqlite` or `postgres`, for the health page.
    pub engine: &'static str,
    /// Connections not in use.
    pool: Mutex<Vec<Store>>,
    /// Runs per deployment the change-failure figures cover.
    pub window: usize,
    /// How often the live feed reads the store.
    pub poll: Duration,
    /// The latest live frame; every live page subscribes.
    pub live: watch::Sender<Arc<Frame>>,
    /// Permits for live pages.
    pub live_clients: Arc<Semaphore>,
    /// Every form of what must never be shown: the dashboard's token, the audit key, the
    /// store URL's password.
    secrets: Vec<String>,
}

impl App {
    /// The state for the store at `target`.
    pub fn new(target: PathBuf, window: usize, poll: Duration, token: Option<&str>) -> Arc<App> {
        let mut secrets: Vec<String> = token.into_iter().map(String::from).collect();
        secrets.extend(
            std::env::var("VZ_AUDIT_KEY")
                .ok()
                .filter(|k| !k.trim().is_empty()),
        );
        secrets.extend(crate::redact::url_with_credentials(
            &target.to_string_lossy(),
        ));
        let engine = if crate::store::is_url(&target.to_string_lossy()) {
            "postgres"
        } else {
            "sqlite"
        };
        let (live, _) = watch::channel(Arc::new(Frame::default()));
        Arc::new(App {
            target,
            engine,
            pool: Mutex::new(Vec::new()),
            window: window.max(1),
            poll,
            live,
            live_clients: Arc::new(Semaphore::new(MAX_LIVE_CLIENTS)),
            secrets,
        })
    }

    /// `text` with every secret masked.
    pub fn mask(&self, text: String) -> String {
        if self.secrets.is_empty() {
            text
        } else {
            crate::redact::redact(&text, &self.secrets)
        }
    }

    /// The store as pages name it (a URL without its password).
    pub fn shown_target(&self) -> String {
        let text = self.target.to_string_lossy();
        if crate::store::is_url(&text) {
            crate::store::postgres::redact(&text)
        } else {
            text.into_owned()
        }
    }

    fn take(&self) -> Result<Store, StoreError> {
        let pooled = self.pool.lock().unwrap_or_else(|p| p.into_inner()).pop();
        match pooled {
            Some(s) => Ok(s),
            None => Store::open(&self.target),
        }
    }

    fn give_back(&self, store: Store) {
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < POOL {
            pool.push(store);
        }
    }

    /// Runs `read` with a connection, off the async runtime. A failure drops the
    /// connection and lets the next call try the store again.
    pub async fn read<T, F>(self: &Arc<Self>, read: F) -> Result<T, Unavailable>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    {
        let text = self.target.to_string_lossy();
        if !crate::store::is_url(&text) && !self.target.exists() {
            // A read never creates a store (nor its folders).
            return Err(Unavailable(format!(
                "no store at {}: nothing has been recorded there yet",
                self.target.display()
            )));
        }
        let app = Arc::clone(self);
        let joined = tokio::task::spawn_blocking(move || {
            let mut store = app.take()?;
            match read(&mut store) {
                Ok(v) => {
                    app.give_back(store);
                    Ok(v)
                }
                Err(e) => Err(e),
            }
        })
        .await;
        match joined {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                // Commands that act stop waiting for a store that failed once; a reader
                // that serves for days tries again with its next request.
                Store::retry_after_failure(&self.target);
                Err(Unavailable(crate::output::sanitize_line(&e.to_string())))
            }
            Err(e) => Err(Unavailable(format!("the store read failed: {e}"))),
        }
    }
}
