//! SIGINT and SIGTERM, caught from the moment a watch starts: registered synchronously
//! before the run is recorded, so no signal can leave a run `running` behind.

/// The watch's signal handlers; `recv` resolves at each SIGINT or SIGTERM.
pub struct Signals {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    /// Signals received so far.
    pub count: u32,
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
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Signals { count: 0 })
        }
    }

    /// Waits for the next SIGINT or SIGTERM.
    pub async fn recv(&mut self) {
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
