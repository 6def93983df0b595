//! Job control of the tree's terminal, the driver's half (spec
//! `drv-tty-background`): the device answers `EIO` to a `READ` of the
//! terminal from a process group that is not the foreground one, and the
//! process's own dispositions decide what that becomes, as Linux's
//! `__tty_check_change` does: `EIO` if it blocks or ignores `SIGTTIN`,
//! else `SIGTTIN` to its whole group (by default the job stops, and reads
//! again once continued in the foreground).

use virtio_pipe_protocol::{KillTarget, TtyCmd};

use super::{deliver, device, Process};
use crate::arch::x86_64::time;
use crate::linux::sig::{bit, SIGTTIN, SIG_IGN};
use crate::linux::Errno;

/// How long to wait for the `SIGTTIN` this process sent its own group to
/// come back to it as an event (it is queued before the `KILL` completes;
/// this only bounds a device that never sends it).
const OWN_SIGNAL_WAIT_NS: u64 = 1_000_000_000;

/// Settles a `READ` of `fd` that failed with `r`: an `EIO` of a
/// background read becomes `ERESTARTSYS` once `SIGTTIN` is pending (the
/// read runs again after its delivery), or stays `EIO`; anything else is
/// returned as it is.
pub fn background_read(p: &mut Process, fd: u32, r: Result<usize, Errno>) -> Result<usize, Errno> {
    if r != Err(Errno::EIO) {
        return r;
    }
    let mut pgrp = [0u8; 4];
    if device::tty(fd, TtyCmd::GetPgrp, 0, &[], &mut pgrp).is_err() {
        // Not the terminal: a real I/O error.
        return r;
    }
    let Ok(own) = device::getpgid(0) else {
        return r;
    };
    if u32::from_le_bytes(pgrp) == own {
        // Brought to the foreground meanwhile: read again.
        return Err(Errno::ERESTARTSYS);
    }
    let ignored = p.signals.mask & bit(SIGTTIN) != 0
        || p.signals
            .action(SIGTTIN)
            .is_some_and(|a| a.handler == SIG_IGN);
    if ignored {
        return r;
    }
    device::kill_target(KillTarget::OwnGroup, SIGTTIN)?;
    // Our own SIGTTIN comes back as an event: wait for it, so that the
    // read is not made again (and refused again) before it stops us.
    let deadline = time::monotonic_ns().saturating_add(OWN_SIGNAL_WAIT_NS);
    if !deliver::interrupting_signal(p) {
        time::sleep_until(deadline, &mut || deliver::interrupting_signal(p));
    }
    Err(Errno::ERESTARTSYS)
}
