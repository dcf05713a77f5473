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
