//! `<signal.h>`: `signal`, `kill`, `raise`.

use virtio_pipe_protocol::{Errno, ExitKind};

use super::errno::{self, ret};
use crate::process::{self, signal};

/// `signal`: `SIG_DFL` (0), `SIG_IGN` (1) or a handler; returns the old one.
#[no_mangle]
pub extern "C" fn signal(signo: i32, handler: usize) -> usize {
    match signal::set_disposition(signo, handler) {
        Some(old) => old,
        None => {
            errno::set(Errno::Einval);
            signal::SIG_ERR
        }
    }
}

/// `kill`.
#[no_mangle]
pub extern "C" fn kill(pid: i32, signo: i32) -> i32 {
    ret(process::kill(pid, signo), |_| 0) as i32
}

/// `raise`: sends the signal to this process.
#[no_mangle]
pub extern "C" fn raise(signo: i32) -> i32 {
    if !(1..=31).contains(&signo) {
        errno::set(Errno::Einval);
        return -1;
    }
    let old = signal::set_disposition(signo, signal::SIG_DFL).unwrap_or(signal::SIG_DFL);
    let _ = signal::set_disposition(signo, old);
    match old {
        signal::SIG_IGN => 0,
        signal::SIG_DFL if signal::default_is_ignore(signo as u32) => 0,
        signal::SIG_DFL => {
            super::stdio::flush_all();
            process::exit_with(ExitKind::Signaled(signo as u8))
        }
        h => {
            // SAFETY: non-default dispositions are C handler addresses (see `signal`).
            let f: extern "C" fn(i32) = unsafe { core::mem::transmute(h) };
            f(signo);
            0
        }
    }
}
