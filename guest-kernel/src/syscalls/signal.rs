//! Signals: dispositions, the mask, the alternate stack, `rt_sigreturn`,
//! and sending. A signal to this process itself (`kill(getpid(), ..)`,
//! `raise`, `abort`) is raised locally, so it is delivered before the call
//! returns, as on Linux; a signal to another process is the device's
//! `KILL`, which the target receives as a `SIGNAL` event.

use super::{time, Args, Ctx};
use crate::arch::x86_64::frame::{initial_fx, FX_SIZE};
use crate::arch::x86_64::time::{self as clock, Woken};
use crate::linux::sig::*;
use crate::linux::{Errno, KernelSigaction, RtSigframe, Siginfo, StackT, SysResult, Timespec};
use crate::process::signals::{restore_context, UNBLOCKABLE};
use crate::process::{deliver, device};
use virtio_pipe_protocol::KillTarget;

/// The size of the kernel's `sigset_t`.
const SIGSET_SIZE: u64 = 8;

fn signo(raw: u64) -> Result<u32, Errno> {
    u32::try_from(raw)
        .ok()
        .filter(|&s| s <= NSIG)
        .ok_or(Errno::EINVAL)
}

/// `rt_sigaction(signum, act, oldact, sigsetsize)`.
pub fn rt_sigaction(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (sig, act, oact, size) = (signo(a[0])?, a[1], a[2], a[3]);
    if size != SIGSET_SIZE || sig == 0 {
        return Err(Errno::EINVAL);
    }
    let new = if act != 0 {
        Some(cx.p.space.read::<KernelSigaction>(act)?)
    } else {
        None
    };
    let old = cx.p.signals.sigaction(sig, new)?;
    if oact != 0 {
        cx.p.space.write(oact, &old)?;
    }
    Ok(0)
}

/// `rt_sigprocmask(how, set, oldset, sigsetsize)`.
pub fn rt_sigprocmask(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (how, set, oset, size) = (a[0], a[1], a[2], a[3]);
    if size != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let new = if set != 0 {
        Some(cx.p.space.read::<u64>(set)?)
    } else {
        None
    };
    let old = cx.p.signals.sigprocmask(how, new)?;
    if oset != 0 {
        cx.p.space.write(oset, &old)?;
    }
    Ok(0)
}

/// `rt_sigpending(set, sigsetsize)`.
pub fn rt_sigpending(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    if a[1] != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let pending = cx.p.signals.pending();
    cx.p.space.write(a[0], &pending)?;
    Ok(0)
}

/// `rt_sigreturn()`: the handler returned through `sa_restorer`, whose
/// `syscall` finds the frame 8 bytes below its `rsp` (the handler's `ret`
/// popped the return address). Restores registers, FPU state and mask;
/// a bad frame is a SIGSEGV.
pub fn rt_sigreturn(cx: &mut Ctx<'_>, _a: Args) -> SysResult {
    let at = cx.f.rsp.wrapping_sub(8);
    let frame = match cx.p.space.read::<RtSigframe>(at) {
        Ok(fr) => fr,
        Err(_) => {
            cx.p.signals
                .force(SIGSEGV, Siginfo::fault(SIGSEGV, SI_KERNEL, 0));
            return Ok(cx.f.rax);
        }
    };
    let sc = frame.uc.uc_mcontext;
    let fx = if sc.fpstate != 0 {
        match cx.p.space.read::<[u8; FX_SIZE]>(sc.fpstate) {
            Ok(fx) => fx,
            Err(_) => {
                cx.p.signals
                    .force(SIGSEGV, Siginfo::fault(SIGSEGV, SI_KERNEL, 0));
                return Ok(cx.f.rax);
            }
        }
    } else {
        initial_fx()
    };
    restore_context(cx.f, &sc);
    cx.f.set_fx(&fx, cx.p.mxcsr_mask);
    cx.p.signals.mask = frame.uc.uc_sigmask & !UNBLOCKABLE;
    Ok(cx.f.rax)
}

/// `sigaltstack(ss, old_ss)`.
pub fn sigaltstack(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (ss, old_ss) = (a[0], a[1]);
    let new = if ss != 0 {
        Some(cx.p.space.read::<StackT>(ss)?)
    } else {
        None
    };
    let old = cx.p.signals.sigaltstack(new, cx.f.rsp)?;
    if old_ss != 0 {
        cx.p.space.write(old_ss, &old)?;
    }
    Ok(0)
}

/// Raises `sig` in this process.
fn raise_self(cx: &mut Ctx<'_>, sig: u32, code: i32) -> SysResult {
    if sig == 0 {
        return Ok(0);
    }
    let pid = cx.p.pid;
    if sig == SIGKILL {
        // Delivered on the way out, which ends the process (or, for a
        // vfork child, resumes its parent).
        cx.p.signals
            .force(SIGKILL, Siginfo::kill(sig, code, pid, 0));
        return Ok(0);
    }
    cx.p.signals.raise(sig, Siginfo::kill(sig, code, pid, 0));
    Ok(0)
}

/// `kill(pid, sig)`: one process, the caller's group (0), everyone but
/// pid 1 and the caller (-1), or group `-pid`; the device finds the
/// members (spec 1.6.18), the caller among them gets the signal as an
/// event.
pub fn kill(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (pid, sig) = (a[0] as i32, signo(a[1])?);
    let target = match pid {
        p if p > 0 && p as u32 == cx.p.pid => return raise_self(cx, sig, SI_USER),
        p if p > 0 => KillTarget::Pid(p as u32),
        0 => KillTarget::OwnGroup,
        -1 => KillTarget::All,
        i32::MIN => return Err(Errno::ESRCH),
        p => KillTarget::Group(p.unsigned_abs()),
    };
    device::kill_target(target, sig)?;
    Ok(0)
}

/// `tkill(tid, sig)`: one thread per process, so a tid is a pid.
pub fn tkill(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (tid, sig) = (a[0] as i32, signo(a[1])?);
    if tid <= 0 {
        return Err(Errno::EINVAL);
    }
    if tid as u32 == cx.p.pid {
        return raise_self(cx, sig, SI_TKILL);
    }
    device::kill(tid as u32, sig)?;
    Ok(0)
}

/// `tgkill(tgid, tid, sig)`.
pub fn tgkill(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (tgid, tid) = (a[0] as i32, a[1] as i32);
    if tgid <= 0 || tid <= 0 {
        return Err(Errno::EINVAL);
    }
    if tgid != tid {
        return Err(Errno::ESRCH);
    }
    tkill(cx, [a[1], a[2], 0, 0, 0, 0])
}

/// `rt_sigsuspend(mask, sigsetsize)`: waits with `mask` in place until a
/// signal is delivered, then "fails" with `EINTR` once its handler has run
/// (the handler's frame saves the program's own mask, which comes back
/// when it returns). A signal that runs no handler (a stop, then a
/// continue) restarts the wait (`ERESTARTNOHAND`).
pub fn rt_sigsuspend(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    if a[1] != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let mask = cx.p.space.read::<u64>(a[0])? & !UNBLOCKABLE;
    let old = core::mem::replace(&mut cx.p.signals.mask, mask);
    cx.p.signals.saved_mask = Some(old);
    time::sleep(cx.p, None);
    Err(Errno::ERESTARTNOHAND)
}

/// `pause()`: waits until a signal is delivered (as `rt_sigsuspend` with
/// the mask unchanged).
pub fn pause(cx: &mut Ctx<'_>, _a: Args) -> SysResult {
    time::sleep(cx.p, None);
    Err(Errno::ERESTARTNOHAND)
}

/// `rt_sigtimedwait(set, info, timeout, sigsetsize)`: takes a pending
/// signal of `set` without running its handler, waiting for one until
/// `timeout` (`EAGAIN` then; none: forever). Another signal that is
/// delivered meanwhile ends the wait with `EINTR`.
pub fn rt_sigtimedwait(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (set, info, timeout, size) = (a[0], a[1], a[2], a[3]);
    if size != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let set = cx.p.space.read::<u64>(set)? & !UNBLOCKABLE;
    let deadline = if timeout != 0 {
        let t: Timespec = cx.p.space.read(timeout)?;
        let ns = t.to_ns().ok_or(Errno::EINVAL)?;
        clock::monotonic_ns().saturating_add(ns)
    } else {
        u64::MAX
    };
    loop {
        deliver::interrupting_signal(cx.p);
        if let Some((signo, si)) = cx.p.signals.take_pending(set) {
            if info != 0 {
                cx.p.space.write(info, &si)?;
            }
            return Ok(u64::from(signo));
        }
        if cx.p.signals.has_deliverable() {
            return Err(Errno::EINTR);
        }
        let p = &mut *cx.p;
        let woken = clock::sleep_until(deadline, &mut || {
            deliver::interrupting_signal(p);
            p.signals.pending() & set != 0 || p.signals.has_deliverable()
        });
        if woken == Woken::Elapsed {
            return Err(Errno::EAGAIN);
        }
    }
}

/// `rt_sigqueueinfo(tgid, sig, info)`: to this process with the caller's
/// `siginfo` (its `si_code` must be negative, as Linux requires of a
/// process that is not the kernel); to another, a `KILL` (the device
/// carries the signal number and the sender, not the value).
pub fn rt_sigqueueinfo(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (pid, sig, uinfo) = (a[0] as i32, signo(a[1])?, a[2]);
    let info: Siginfo = cx.p.space.read(uinfo)?;
    if info.si_code >= 0 || info.si_code == SI_TKILL {
        return Err(Errno::EPERM);
    }
    if pid <= 0 {
        return Err(Errno::ESRCH);
    }
    if pid as u32 == cx.p.pid {
        if sig != 0 {
            cx.p.signals.raise(
                sig,
                Siginfo {
                    si_signo: sig as i32,
                    ..info
                },
            );
        }
        return Ok(0);
    }
    device::kill(pid as u32, sig)?;
    Ok(0)
}
