//! Signal dispositions and delivery of device events.
//!
//! Signals arrive as `SIGNAL` events on `eventq` and are acted on after the
//! next process call completes: `SIG_IGN` drops them, a handler is called,
//! and the default action ends the process (reported as `EXIT` with
//! `VIRTIO_PIPE_EXIT_F_SIGNALED`) unless the signal is one whose default is
//! to be ignored (`SIGCHLD`, `SIGURG`, `SIGWINCH`) or to stop or continue
//! (`SIGCONT`, `SIGTSTP`, `SIGTTIN`, `SIGTTOU`: without job control they
//! are discarded, spec 1.6.18).

use core::sync::atomic::{AtomicUsize, Ordering};

use virtio_pipe_protocol::signal::{SIGCHLD, SIG_MAX};
use virtio_pipe_protocol::{Event, ExitKind};

use crate::drivers::pipe as dev;

/// `SIG_DFL`.
pub const SIG_DFL: usize = 0;
/// `SIG_IGN`.
pub const SIG_IGN: usize = 1;
/// `SIG_ERR`.
pub const SIG_ERR: usize = usize::MAX;

const SIGCONT: u32 = 18;
const SIGTTOU: u32 = 22;
const SIGURG: u32 = 23;
const SIGWINCH: u32 = 28;

static DISPOSITIONS: [AtomicUsize; 32] = [const { AtomicUsize::new(SIG_DFL) }; 32];

/// Whether the default action of `signo` is to do nothing: "ignore", and
/// "stop" or "continue", which there is no job control for (spec 1.6.18).
pub fn default_is_ignore(signo: u32) -> bool {
    matches!(signo, SIGCHLD | SIGCONT..=SIGTTOU | SIGURG | SIGWINCH)
}

/// Sets the disposition of `signo` (`SIG_DFL`, `SIG_IGN` or the address of an
/// `extern "C" fn(i32)`), returning the previous one, or `None` for a bad signal.
pub fn set_disposition(signo: i32, disposition: usize) -> Option<usize> {
    let s = u32::try_from(signo)
        .ok()
        .filter(|s| (1..=SIG_MAX).contains(s))?;
    if s == 9 || s == 19 {
        return None; // SIGKILL and SIGSTOP cannot be caught or ignored.
    }
    Some(DISPOSITIONS[s as usize].swap(disposition, Ordering::AcqRel))
}

fn act(signo: u32) {
    let Some(d) = DISPOSITIONS.get(signo as usize) else {
        return;
    };
    match d.load(Ordering::Acquire) {
        SIG_IGN => {}
        SIG_DFL => {
            if !default_is_ignore(signo) {
                super::exit_with(ExitKind::Signaled(signo as u8));
            }
        }
        handler => {
            // SAFETY: only `signal()` stores non-default dispositions, and it
            // stores the address of a C `void (*)(int)` handler.
            let f: extern "C" fn(i32) = unsafe { core::mem::transmute(handler) };
            f(signo as i32);
        }
    }
}

/// Acts on every event the device has sent.
pub fn deliver_pending() {
    while let Some(ev) = dev::pop_event() {
        match ev {
            Event::ChildExit { .. } => act(SIGCHLD),
            Event::Signal { signo, .. } => act(signo),
        }
    }
}
