//! A process group the rollback command leads: ended as a whole (SIGTERM, a short grace,
//! SIGKILL), and known to be gone only when no live member is left, so that a retry never
//! overlaps what the previous attempt started and nothing outlives vz-monitor.

use std::time::{Duration, Instant};

/// How long members get between SIGTERM and SIGKILL.
pub const GRACE: Duration = Duration::from_secs(2);
/// How long to wait for the kernel to tear a SIGKILLed group down before giving up.
const KILL_WAIT: Duration = Duration::from_secs(5);
/// How often the group is looked at while waiting for it to go.
const POLL: Duration = Duration::from_millis(20);

/// The group of a spawned command (its id is the leader's pid). Dropping it SIGKILLs
/// whatever is left, so an abandoned future (runtime shutdown, a panic) leaves nothing.
#[derive(Debug)]
pub struct Group {
    pgid: i32,
    done: bool,
}

impl Group {
    /// The group led by `pid` (spawned with `process_group(0)`).
    pub fn led_by(pid: u32) -> Option<Group> {
        let pgid = i32::try_from(pid).ok().filter(|p| *p > 1)?;
        Some(Group { pgid, done: false })
    }

    /// The group id.
    pub fn id(&self) -> i32 {
        self.pgid
    }

    /// Sends `signal` to every member; false when none is left.
    fn signal(&self, signal: i32) -> bool {
        // SAFETY: killpg only sends a signal; pgid > 1 so it never targets our own group
        // implicitly (0) or every process (-1).
        unsafe { libc::killpg(self.pgid, signal) == 0 }
    }

    /// Whether a live (not zombie) process is still in the group.
    pub fn alive(&self) -> bool {
        if !self.signal(0) {
            return false;
        }
        // killpg(0) also succeeds for zombies awaiting a parent that never reaps (PID 1 in
        // some containers): look at the members' states when /proc tells.
        match live_members(self.pgid) {
            Some(n) => n > 0,
            None => true,
        }
    }

    /// Waits until no live member is left or `limit` passes; true when the group is gone.
    pub async fn wait_gone(&self, limit: Duration) -> bool {
        let until = Instant::now() + limit;
        loop {
            if !self.alive() {
                return true;
            }
            if Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Ends the group: SIGTERM, up to `grace` for it to leave, then SIGKILL, and waits
    /// until it is gone. Returns false if something survived even SIGKILL (a process
    /// stuck in the kernel), which the caller reports.
    pub async fn terminate(&mut self, grace: Duration) -> bool {
        if !self.alive() {
            self.done = true;
            return true;
        }
        self.signal(libc::SIGTERM);
        if self.wait_gone(grace).await {
            self.done = true;
            return true;
        }
        self.kill().await
    }

    /// SIGKILLs the group at once and waits until it is gone.
    pub async fn kill(&mut self) -> bool {
        self.signal(libc::SIGKILL);
        let gone = self.wait_gone(KILL_WAIT).await;
        self.done = gone;
        gone
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if !self.done {
            self.signal(libc::SIGKILL);
        }
    }
}

/// Number of live processes whose process group is `pgid`, from /proc; None without /proc.
pub fn live_members(pgid: i32) -> Option<usize> {
    let dir = std::fs::read_dir("/proc").ok()?;
    let mut n = 0;
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // Fields after the command name (which may hold spaces and parentheses):
        // state ppid pgrp …
        let Some(rest) = stat.rsplit_once(')').map(|r| r.1) else {
            continue;
        };
        let mut f = rest.split_whitespace();
        let (Some(state), Some(_ppid), Some(pgrp)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        if pgrp.parse::<i32>().ok() == Some(pgid) && state != "Z" && state != "X" {
            n += 1;
        }
    }
    Some(n)
}

/// Makes this process the reaper of its orphaned descendants (Linux
/// `PR_SET_CHILD_SUBREAPER`): a rollback descendant that leaves the command's process group
/// (`setsid`) and loses its parent is re-parented here rather than to init, so it can still
/// be found, and ended, as this process's descendant ([`end_marked_descendants`]).
pub fn become_subreaper() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with PR_SET_CHILD_SUBREAPER takes plain integers and changes only this
    // process's own attribute.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
}

/// The environment variable that marks every process a rollback attempt starts: its
/// value is unique to the attempt and inherited by every descendant (unless one clears its
/// environment), so descendants that left the process group are still known as its own.
pub const MARKER: &str = "VZ_ROLLBACK_ATTEMPT";

/// Ends (SIGKILL) every descendant of this process whose environment holds
/// `VZ_ROLLBACK_ATTEMPT=marker`, with their own descendants, and reaps the ones re-parented
/// here. Returns how many were signalled. Without /proc: 0.
pub fn end_marked_descendants(marker: &str) -> usize {
    let needle = format!("{MARKER}={marker}");
    let mut ended = 0;
    // A few passes: a member may fork while the previous pass signals.
    for _ in 0..3 {
        let Some(tree) = process_tree() else {
            return ended;
        };
        let me = std::process::id() as i32;
        let mut doomed = Vec::new();
        let mut stack: Vec<(i32, bool)> = vec![(me, false)];
        while let Some((pid, inherited)) = stack.pop() {
            for &(child, parent) in &tree {
                if parent != pid {
                    continue;
                }
                let marked = inherited || carries(child, &needle);
                if marked {
                    doomed.push(child);
                }
                stack.push((child, marked));
            }
        }
        if doomed.is_empty() {
            break;
        }
        for &pid in &doomed {
            // SAFETY: kill only sends a signal, to a descendant carrying this attempt's mark.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        ended += doomed.len();
        std::thread::sleep(POLL);
        for &(pid, parent) in &tree {
            if parent == me && doomed.contains(&pid) {
                // SAFETY: reaps an adopted, killed child; WNOHANG never blocks.
                unsafe { libc::waitpid(pid, std::ptr::null_mut(), libc::WNOHANG) };
            }
        }
    }
    ended
}

/// Whether `pid`'s environment holds the entry `needle` (`KEY=VALUE`).
fn carries(pid: i32, needle: &str) -> bool {
    std::fs::read(format!("/proc/{pid}/environ"))
        .map(|env| env.split(|&b| b == 0).any(|e| e == needle.as_bytes()))
        .unwrap_or(false)
}

/// Every live process as (pid, parent pid), from /proc.
fn process_tree() -> Option<Vec<(i32, i32)>> {
    let dir = std::fs::read_dir("/proc").ok()?;
    let mut out = Vec::new();
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some(rest) = stat.rsplit_once(')').map(|r| r.1) else {
            continue;
        };
        let mut f = rest.split_whitespace();
        let (Some(state), Some(ppid)) = (f.next(), f.next().and_then(|p| p.parse().ok())) else {
            continue;
        };
        if state != "Z" && state != "X" {
            out.push((pid, ppid));
        }
    }
    Some(out)
}

/// A watchdog that ends the group if this process dies first (kill -9, OOM, a lost runner):
/// a small `sh` in a group of its own, ignoring interrupts, blocked reading a pipe only this
/// process holds. When this process dies the pipe closes and it SIGKILLs the group, so a
/// holder's command never outlives the holder. Dropped (the normal end), it is killed first.
pub struct Guardian {
    child: std::process::Child,
}

impl Guardian {
    /// Starts the watchdog of group `pgid`; None if `sh` cannot be started (then only the
    /// in-process ends apply).
    pub fn watch(pgid: i32) -> Option<Guardian> {
        use std::os::unix::process::CommandExt;
        use std::process::{Command, Stdio};
        let child = Command::new("/bin/sh")
            .args([
                "-c",
                "trap '' INT TERM HUP; read _line; kill -9 -\"$0\" 2>/dev/null",
                &pgid.to_string(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .ok()?;
        Some(Guardian { child })
    }
}

impl Drop for Guardian {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
