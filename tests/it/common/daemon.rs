//! Servers shared by every test of one test binary (one start, not one per test, so a
//! backend's whole test file pays its start-up once), torn down when the binary exits.
//!
//! A `static` is never dropped, so the usual kill-on-drop cannot apply. Instead every
//! process is started under a small `sh` supervisor that the kernel sends SIGTERM when the
//! test process ends (`PR_SET_PDEATHSIG`, set from one spawner thread that lives as long as
//! the process: the signal follows the *thread* that forked). The supervisor then ends the
//! server and removes its temp dir. Per-test servers (`Daemon::start`) are killed on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A server process and its log file.
pub struct Daemon {
    pub name: String,
    child: Option<Child>,
    log: PathBuf,
}

type Job = (Command, Sender<std::io::Result<Child>>);

/// The spawner thread's inbox: it forks every shared server, and lives until the process ends.
fn spawner() -> &'static Mutex<Sender<Job>> {
    static SPAWNER: OnceLock<Mutex<Sender<Job>>> = OnceLock::new();
    SPAWNER.get_or_init(|| {
        let (tx, rx) = channel::<Job>();
        std::thread::spawn(move || {
            for (mut cmd, reply) in rx {
                let _ = reply.send(cmd.spawn());
            }
            // The sender lives in a static: this loop never ends while the process lives.
            loop {
                std::thread::park();
            }
        });
        Mutex::new(tx)
    })
}

impl Daemon {
    /// Starts `program args` with its output in `log`; killed on drop.
    pub fn start(
        name: &str,
        program: &Path,
        args: &[String],
        env: &[(&str, String)],
        log: &Path,
    ) -> Daemon {
        let mut cmd = Command::new(program);
        cmd.args(args);
        Daemon::spawn(name, cmd, env, log)
    }

    /// Starts `program args` for the rest of the test process: when it ends, the server gets
    /// SIGTERM (then SIGKILL after 2 s) and `dir` is removed.
    pub fn start_shared(
        name: &str,
        program: &Path,
        args: &[String],
        env: &[(&str, String)],
        dir: &Path,
        log: &Path,
    ) -> Daemon {
        let script = r#"dir="$1"; shift
"$@" & pid=$!
end() { kill "$pid" 2>/dev/null; for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done; kill -9 "$pid" 2>/dev/null; rm -rf "$dir"; exit 0; }
trap end TERM INT HUP
wait "$pid""#;
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(script)
            .arg("sh")
            .arg(dir)
            .arg(program)
            .args(args);
        unsafe_pdeathsig(&mut cmd);
        let (tx, rx) = channel();
        let mut d = Daemon::spawn_with(name, cmd, env, log, |cmd| {
            spawner()
                .lock()
                .unwrap()
                .send((cmd, tx))
                .expect("spawner thread");
            rx.recv().expect("spawner reply")
        });
        d.name = name.to_string();
        d
    }

    fn spawn(name: &str, cmd: Command, env: &[(&str, String)], log: &Path) -> Daemon {
        Daemon::spawn_with(name, cmd, env, log, |mut c| c.spawn())
    }

    fn spawn_with(
        name: &str,
        mut cmd: Command,
        env: &[(&str, String)],
        log: &Path,
        run: impl FnOnce(Command) -> std::io::Result<Child>,
    ) -> Daemon {
        let file = std::fs::File::create(log).expect("log file");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file);
        let child = run(cmd).unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Daemon {
            name: name.to_string(),
            child: Some(child),
            log: log.to_path_buf(),
        }
    }

    /// The server's output so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Polls `ready` every 50 ms until it holds; fails the test with the server's log after
    /// `limit`, or at once if the server exited. Returns how long it took.
    pub fn wait_until(&mut self, limit: Duration, ready: impl Fn() -> bool) -> Duration {
        let start = Instant::now();
        while start.elapsed() < limit {
            if ready() {
                return start.elapsed();
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                panic!(
                    "{} exited ({status}) before it was ready; its log:\n{}",
                    self.name,
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "{} was not ready within {limit:?}; its log:\n{}",
            self.name,
            self.log()
        );
    }

    /// Kills the server now.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The supervisor gets SIGTERM when the thread that forked it (the spawner, alive as long as
/// the test process) ends.
fn unsafe_pdeathsig(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
}

/// Whether something accepts TCP connections on 127.0.0.1:`port`.
pub fn listening(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(200),
    )
    .is_ok()
}

/// A temp dir that outlives this scope (the shared server's supervisor removes it).
pub fn kept_dir(prefix: &str) -> PathBuf {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .expect("temp dir")
        .keep()
}

/// A name unique within this test process, for a test's own database / namespace / prefix.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}{}x{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}
