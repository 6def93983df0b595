//! Ending on a signal. `SIGINT`, `SIGTERM` or `SIGHUP` to the daemon (a
//! Ctrl-C, a `kill`, a closed terminal) removes its run directory and exits
//! with 128 + the signal number, as a shell reports a process killed by it.
//! The VMs end with the daemon: each is tied to it by `PR_SET_PDEATHSIG`
//! (`launcher.rs`).

use std::sync::Arc;
use std::thread::JoinHandle;

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::{Handle, Signals};

use crate::run_dir::RunDir;

/// The signals that end the daemon.
pub const ENDING: [i32; 3] = [SIGINT, SIGTERM, SIGHUP];

/// While alive, an ending signal cleans up and exits.
#[derive(Debug)]
pub struct CleanupOnSignal {
    handle: Handle,
    thread: Option<JoinHandle<()>>,
}

impl CleanupOnSignal {
    /// Watches for the ending signals; on one, removes `run_dir` (unless it
    /// is kept) and exits the process.
    pub fn install(run_dir: Arc<RunDir>) -> std::io::Result<Self> {
        let mut signals = Signals::new(ENDING)?;
        let handle = signals.handle();
        let thread = std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                if let Some(signo) = signals.forever().next() {
                    log::info!("signal {signo}: ending the tree");
                    run_dir.remove();
                    std::process::exit(128 + signo);
                }
            })?;
        Ok(Self {
            handle,
            thread: Some(thread),
        })
    }
}

impl Drop for CleanupOnSignal {
    fn drop(&mut self) {
        self.handle.close();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
