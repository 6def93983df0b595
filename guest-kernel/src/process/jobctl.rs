//! Job control of the tree's terminal, the driver's half (spec
//! `drv-tty-background`). The device answers `EIO` to a `READ` of the
//! terminal, and to a `TTY` that changes it (`TCSETS*`, `TIOCSPGRP`),
//! from a process group that is not the foreground one; the process's own
//! dispositions decide what that becomes, as Linux's `__tty_check_change`
//! does:
//!
//! * a read: `EIO` if the process blocks or ignores `SIGTTIN`, else
//!   `SIGTTIN` to its whole group (by default the job stops, and reads
//!   again once continued in the foreground);
//! * a change: made anyway if the process blocks or ignores `SIGTTOU`
//!   (the request again, with `TTY_F_NOJOBCTL`), else `SIGTTOU` to its
//!   group, and the change again after it.

use virtio_pipe_protocol::{KillTarget, TtyCmd};

use super::{deliver, device, Process};
use crate::arch::x86_64::time;
use crate::linux::sig::{bit, SIGTTIN, SIGTTOU, SIG_IGN};
use crate::linux::Errno;

/// How long to wait for the signal this process sent its own group to
/// come back to it as an event (it is queued before the `KILL` completes;
/// this only bounds a device that never sends it).
const OWN_SIGNAL_WAIT_NS: u64 = 1_000_000_000;

/// What a refusal of the terminal (`EIO`) came to.
enum Refusal {
    /// Not job control: a real error.
    Error,
    /// The process is in the foreground now: make the call again.
    Again,
    /// The process blocks or ignores the signal.
    Ignored,
    /// The signal went to the process's group and is pending here: the
    /// call runs again after its delivery.
    Signalled,
}

/// Sorts out an `EIO` of terminal `fd` for job control with `signo`.
fn refusal(p: &mut Process, fd: u32, signo: u32) -> Result<Refusal, Errno> {
    let mut pgrp = [0u8; 4];
    if device::tty(fd, TtyCmd::GetPgrp, 0, &[], &mut pgrp).is_err() {
        return Ok(Refusal::Error);
    }
    let Ok(own) = device::getpgid(0) else {
        return Ok(Refusal::Error);
    };
    if u32::from_le_bytes(pgrp) == own {
        return Ok(Refusal::Again);
    }
    let ignored = p.signals.mask & bit(signo) != 0
        || p.signals
            .action(signo)
            .is_some_and(|a| a.handler == SIG_IGN);
    if ignored {
        return Ok(Refusal::Ignored);
    }
    device::kill_target(KillTarget::OwnGroup, signo)?;
    // Our own signal comes back as an event: wait for it, so that the
    // call is not made again (and refused again) before it stops us.
    let deadline = time::monotonic_ns().saturating_add(OWN_SIGNAL_WAIT_NS);
    if !deliver::interrupting_signal(p) {
        time::sleep_until(deadline, &mut || deliver::interrupting_signal(p));
    }
    Ok(Refusal::Signalled)
}

/// Settles a `READ` of `fd` that ended with `r`: an `EIO` of a background
/// read becomes `ERESTARTSYS` once `SIGTTIN` is pending (the read runs
/// again after its delivery), or stays `EIO`; anything else is returned
/// as it is.
pub fn background_read(p: &mut Process, fd: u32, r: Result<usize, Errno>) -> Result<usize, Errno> {
    if r != Err(Errno::EIO) {
        return r;
    }
    match refusal(p, fd, SIGTTIN)? {
        Refusal::Error | Refusal::Ignored => r,
        Refusal::Again | Refusal::Signalled => Err(Errno::ERESTARTSYS),
    }
}

/// Makes a change of terminal `fd` with `change(nojobctl)` (a `TTY` that
/// changes it), settling a refusal from the background as the module
/// docs say.
pub fn background_change(
    p: &mut Process,
    fd: u32,
    mut change: impl FnMut(bool) -> Result<(), Errno>,
) -> Result<(), Errno> {
    let r = change(false);
    if r != Err(Errno::EIO) {
        return r;
    }
    match refusal(p, fd, SIGTTOU)? {
        Refusal::Error => r,
        Refusal::Ignored => change(true),
        Refusal::Again | Refusal::Signalled => Err(Errno::ERESTARTSYS),
    }
}
