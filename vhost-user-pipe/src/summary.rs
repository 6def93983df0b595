//! The one-line account of a tree that `run --summary` prints at the end:
//! how many processes there were, how many VMs ran them, and how they
//! ended.

use std::fmt;

use virtio_pipe_protocol::signal;

use crate::kernel::Tally;

/// What a tree did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Its processes and how they ended.
    pub tally: Tally,
    /// VMs launched (a vfork child borrows its parent's until it execs).
    pub vms: usize,
    /// Of those, fork children booted on a copy of their parent's RAM.
    pub fork_copies: usize,
    /// Of those, VMs taken from the pool of parked VMs.
    pub pooled: usize,
}

/// A signal's name, as `kill -l` prints it.
fn signal_name(signo: u32) -> Option<&'static str> {
    const NAMES: [&str; 31] = [
        "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
        "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
        "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
    ];
    debug_assert_eq!(NAMES.len() as u32, signal::SIG_MAX);
    NAMES.get((signo as usize).checked_sub(1)?).copied()
}

/// A wait status in words: `exit 0`, `SIGPIPE`.
fn describe(status: u32) -> String {
    let sig = status & 0x7f;
    if sig == 0 {
        return format!("exit {}", (status >> 8) & 0xff);
    }
    match signal_name(sig) {
        Some(n) => format!("SIG{n}"),
        None => format!("signal {sig}"),
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.tally.created;
        write!(
            f,
            "{n} process{}, {} VM{}",
            if n == 1 { "" } else { "es" },
            self.vms,
            if self.vms == 1 { "" } else { "s" }
        )?;
        match (self.fork_copies, self.pooled) {
            (0, 0) => {}
            (forked, 0) => write!(f, " ({forked} forked)")?,
            (0, pooled) => write!(f, " ({pooled} from the pool)")?,
            (forked, pooled) => write!(f, " ({forked} forked, {pooled} from the pool)")?,
        }
        let ended: Vec<String> = self
            .tally
            .ended
            .iter()
            .map(|(&status, &count)| format!("{count} × {}", describe(status)))
            .collect();
        if !ended.is_empty() {
            write!(f, "; ended: {}", ended.join(", "))?;
        }
        let running = n.saturating_sub(self.tally.ended.values().sum());
        if running > 0 {
            write!(f, "; {running} still running")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_as_a_shell_would_say_them() {
        let mut s = Summary {
            tally: Tally {
                created: 5,
                ended: [(0, 3), (1 << 8, 1), (13, 1)].into_iter().collect(),
            },
            vms: 4,
            fork_copies: 1,
            pooled: 0,
        };
        assert_eq!(
            s.to_string(),
            "5 processes, 4 VMs (1 forked); ended: 3 × exit 0, 1 × SIGPIPE, 1 × exit 1"
        );
        s.tally.ended.clear();
        s.tally.created = 1;
        s.vms = 1;
        s.fork_copies = 0;
        assert_eq!(s.to_string(), "1 process, 1 VM; 1 still running");
        assert_eq!(describe(9), "SIGKILL");
        assert_eq!(describe(40), "signal 40");
    }
}
