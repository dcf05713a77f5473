//! SIGINT and SIGTERM, caught from the first instruction of `main` ([`arm`]): a signal that
//! arrives before a command's own handlers exist is kept and delivered to them when they
//! are installed ([`Signals::install`]), or, for a command that takes no signals, acted on
//! as the default would ([`release`]). No signal can kill a run before it is recorded, or
//! leave one `running` behind.

use std::sync::atomic::{AtomicU32, Ordering};

/// Signals caught before a command's handlers existed (SIGINT or SIGTERM), and the last one.
static EARLY: AtomicU32 = AtomicU32::new(0);
static EARLY_SIGNAL: AtomicU32 = AtomicU32::new(0);

#[cfg(unix)]
extern "C" fn keep(sig: libc::c_int) {
    // Async-signal-safe: two atomic stores.
    EARLY.fetch_add(1, Ordering::SeqCst);
    EARLY_SIGNAL.store(sig as u32, Ordering::SeqCst);
}

/// First thing in `main`: keeps SIGINT and SIGTERM for the handlers to come, ignores SIGXFSZ
/// (a write past `ulimit -f` then fails with EFBIG like a full disk — the store degrades, the
/// gate goes on — instead of killing the watch), and makes this process the reaper of its
/// orphaned descendants (a rollback child that calls `setsid` still ends with the rollback).
pub fn arm() {
    #[cfg(unix)]
    // SAFETY: installs an async-signal-safe handler (atomics only) and SIG_IGN.
    unsafe {
        libc::signal(
            libc::SIGINT,
            keep as extern "C" fn(libc::c_int) as libc::sighandler_t,
        );
        libc::signal(
            libc::SIGTERM,
            keep as extern "C" fn(libc::c_int) as libc::sighandler_t,
        );
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    crate::rollback::group::become_subreaper();
}

/// For a command that handles no signals: back to the default actions, and a signal that
/// arrived since [`arm`] is acted on now (the process ends as it would have).
pub fn release() {
    #[cfg(unix)]
    // SAFETY: restores the default actions and re-raises a signal this process received.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_DFL);
        libc::signal(libc::SIGTERM, libc::SIG_DFL);
        if EARLY.swap(0, Ordering::SeqCst) > 0 {
            libc::raise(EARLY_SIGNAL.load(Ordering::SeqCst) as libc::c_int);
        }
    }
}

/// The watch's signal handlers; `recv` resolves at each SIGINT or SIGTERM.
pub struct Signals {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    /// Signals received so far.
    pub count: u32,
    /// Signals caught before these handlers existed, not yet handed out by `recv`.
    early: u32,
}

impl Signals {
    /// Installs the handlers now (not on first poll). Needs a running tokio runtime.
    pub fn install() -> std::io::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Signals {
                int: signal(SignalKind::interrupt())?,
                term: signal(SignalKind::terminate())?,
                count: 0,
                early: EARLY.swap(0, Ordering::SeqCst),
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Signals { count: 0, early: 0 })
        }
    }

    /// Whether a SIGINT or SIGTERM has arrived and not been handed out yet (it is then
    /// counted): looked at without waiting beyond a millisecond for the runtime to see it.
    pub async fn arrived(&mut self) -> bool {
        tokio::select! {
            biased;
            _ = self.recv() => true,
            _ = tokio::time::sleep(std::time::Duration::from_millis(1)) => false,
        }
    }

    /// Waits for the next SIGINT or SIGTERM.
    pub async fn recv(&mut self) {
        if self.early > 0 {
            self.early -= 1;
            self.count += 1;
            return;
        }
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.int.recv() => {}
                _ = self.term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        self.count += 1;
    }
}
