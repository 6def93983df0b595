//! Signals to the daemon.
//!
//! `serve` ends on `SIGINT`, `SIGTERM` or `SIGHUP` (a Ctrl-C, a `kill`, a
//! closed terminal): it puts the host terminal's modes back, removes its
//! run directory and exits with 128 + the signal number, as a shell
//! reports a process killed by it ([`CleanupOnSignal`]).
//!
//! `run` hands its signals to the tree instead ([`OnSignal`], wired in
//! `lib.rs`): the host terminal's `SIGINT`, `SIGQUIT`, `SIGTSTP` and
//! `SIGWINCH` go to the foreground process group, `SIGTERM` and `SIGHUP`
//! (and `SIGINT` when stdin is not a terminal) to the root, and `run`
//! exits as the root does. With a handler installed the daemon neither
//! stops nor dies of them itself.
//!
//! The VMs end with the daemon: each is tied to it by `PR_SET_PDEATHSIG`
//! (`launcher.rs`), and each runs in its own process group, so the
//! terminal's signals reach the daemon only.

use std::sync::Arc;
use std::thread::JoinHandle;

use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGTSTP, SIGWINCH};
use signal_hook::iterator::{Handle, Signals};

use crate::run_dir::RunDir;

/// The signals that end `serve`, and that `run` forwards to the root.
pub const ENDING: [i32; 3] = [SIGINT, SIGTERM, SIGHUP];

/// The signals a terminal sends its foreground process group: `run` with
/// a terminal on stdin gives them to the tree's foreground group.
pub const FROM_TERMINAL: [i32; 4] = [SIGINT, SIGQUIT, SIGTSTP, SIGWINCH];

/// The signals `run` gives the root.
pub fn for_the_root(stdin_is_terminal: bool) -> &'static [i32] {
    if stdin_is_terminal {
        &[SIGTERM, SIGHUP]
    } else {
        &ENDING
    }
}

/// While alive, an ending signal cleans up and exits.
#[derive(Debug)]
pub struct CleanupOnSignal {
    _watch: OnSignal,
}

impl CleanupOnSignal {
    /// Watches for the ending signals; on one, puts the terminal's modes
    /// back, removes `run_dir` (unless it is kept) and exits the process.
    pub fn install(run_dir: Arc<RunDir>) -> std::io::Result<Self> {
        let watch = OnSignal::install(&ENDING, move |signo| {
            log::info!("signal {signo}: ending the tree");
            crate::terminal::restore_saved();
            run_dir.remove();
            std::process::exit(128 + signo);
        })?;
        Ok(Self { _watch: watch })
    }
}

/// While alive, runs a handler on a thread of its own for each of some
/// signals as they arrive.
#[derive(Debug)]
pub struct OnSignal {
    handle: Handle,
    thread: Option<JoinHandle<()>>,
}

impl OnSignal {
    /// Catches `signals` and calls `on` with each one that arrives.
    pub fn install(
        signals: &[i32],
        mut on: impl FnMut(i32) + Send + 'static,
    ) -> std::io::Result<Self> {
        let mut signals = Signals::new(signals)?;
        let handle = signals.handle();
        let thread = std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                for signo in signals.forever() {
                    on(signo);
                }
            })?;
        Ok(Self {
            handle,
            thread: Some(thread),
        })
    }
}

impl Drop for OnSignal {
    fn drop(&mut self) {
        self.handle.close();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_caught_signal_runs_the_handler_and_not_the_default() {
        let (tx, rx) = mpsc::channel();
        // SIGWINCH: ignored by default, so a miss cannot end the test run.
        let watch = OnSignal::install(&[SIGWINCH], move |s| {
            let _ = tx.send(s);
        })
        .unwrap();
        // SAFETY: raise(3) sends a signal to this process, which handles it.
        assert_eq!(unsafe { libc::raise(SIGWINCH) }, 0);
        assert_eq!(rx.recv_timeout(Duration::from_secs(20)), Ok(SIGWINCH));
        drop(watch);
    }

    #[test]
    fn the_root_gets_sigint_only_without_a_terminal() {
        assert!(for_the_root(false).contains(&SIGINT));
        assert!(!for_the_root(true).contains(&SIGINT));
        assert!(FROM_TERMINAL.contains(&SIGINT) && FROM_TERMINAL.contains(&SIGTSTP));
    }
}
