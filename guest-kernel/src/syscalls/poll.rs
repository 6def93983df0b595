//! Waiting on several fds at once: `poll`, `ppoll`, `select`, `pselect6`.
//! Each call is one `POLL` request (spec 1.6.25): the device holds it
//! until an fd is ready, so nothing here loops while it waits. A timeout
//! of 0 is a `NONBLOCK` `POLL`; a timeout, or a signal that would be
//! delivered, ends a blocked one through `INTERRUPT` (the driver's
//! blocking request). As on Linux, `revents` and the fd sets are written
//! back, `select`/`pselect6`/`ppoll` write back the time left, the mask of
//! `ppoll`/`pselect6` is in force while they wait (and while the handler
//! of the signal that ends the wait runs), and a call a handled signal
//! interrupts fails with `EINTR` whatever the handler's `SA_RESTART`
//! (`ERESTARTNOHAND`: a signal that runs no handler, a stop then a
//! continue, restarts it; `select`, `pselect6` and `ppoll` then wait for
//! the time left, `poll` for its whole timeout again).

use alloc::vec;
use alloc::vec::Vec;

use virtio_pipe_protocol::{PollFd, POLL_MAX};

use super::fdset::{self, Sets, FD_SETSIZE};
use super::{Args, Ctx};
use crate::arch::x86_64::time as clock_hw;
use crate::linux::{Errno, Pollfd, SysResult, Timespec, Timeval};
use crate::process::deliver;
use crate::process::device::{self, Cut};
use crate::process::signals::UNBLOCKABLE;

/// How a wait ended.
enum Ended {
    /// This many entries are ready.
    Ready(usize),
    /// The deadline passed with none ready.
    TimedOut,
    /// A signal that would be delivered arrived first.
    Signal,
}

/// Waits until an entry is ready, `deadline_ns` (monotonic) passes or a
/// deliverable signal arrives; the entries get their `revents`. One
/// `POLL`: `NONBLOCK` once the deadline has passed (a timeout of 0),
/// else held by the device and ended by `INTERRUPT` at the deadline or
/// for a signal. With no entries, a sleep.
fn wait(
    cx: &mut Ctx<'_>,
    entries: &mut [PollFd],
    deadline_ns: Option<u64>,
) -> Result<Ended, Errno> {
    for e in entries.iter_mut() {
        e.revents.set(0);
    }
    let now = clock_hw::monotonic_ns();
    if entries.is_empty() {
        let ns = deadline_ns.map(|d| d.saturating_sub(now));
        return Ok(match super::time::sleep(cx.p, ns) {
            Some(_) => Ended::Signal,
            None => Ended::TimedOut,
        });
    }
    if deadline_ns.is_some_and(|d| now >= d) {
        let n = device::poll(entries, true)?;
        return Ok(if n > 0 {
            Ended::Ready(n)
        } else if deliver::interrupting_signal(cx.p) {
            // As Linux: a pending signal wins over a timeout of 0.
            Ended::Signal
        } else {
            Ended::TimedOut
        });
    }
    let p = &mut *cx.p;
    let (r, cut) = device::poll_blocking(entries, deadline_ns, &mut || {
        deliver::interrupting_signal(p)
    })?;
    match (r, cut) {
        (Ok(n), _) => Ok(Ended::Ready(n)),
        (Err(Errno::EINTR), Cut::TimedOut) => Ok(Ended::TimedOut),
        (Err(Errno::EINTR), _) => Ok(Ended::Signal),
        (Err(e), _) => Err(e),
    }
}

/// Runs `f` with the signal mask `mask` in force, when there is one
/// (`ppoll`, `pselect6`). When a signal ends the wait (`f` says so), the
/// program's mask comes back only once that signal has been delivered
/// (`saved_mask`: the handler's frame saves it), as Linux does.
fn with_mask<R>(
    cx: &mut Ctx<'_>,
    mask: Option<u64>,
    f: impl FnOnce(&mut Ctx<'_>) -> Result<(R, bool), Errno>,
) -> Result<R, Errno> {
    let Some(mask) = mask else {
        return f(cx).map(|(r, _)| r);
    };
    let old = core::mem::replace(&mut cx.p.signals.mask, mask & !UNBLOCKABLE);
    let r = f(cx);
    if matches!(r, Ok((_, true))) {
        cx.p.signals.saved_mask = Some(old);
    } else {
        cx.p.signals.mask = old;
    }
    r.map(|(r, _)| r)
}

/// The deadline of a timeout of `ns` from now.
fn deadline(ns: Option<u64>) -> Option<u64> {
    ns.map(|ns| clock_hw::monotonic_ns().saturating_add(ns))
}

/// The time left until `deadline_ns` (0 once past).
fn left(deadline_ns: u64) -> u64 {
    deadline_ns.saturating_sub(clock_hw::monotonic_ns())
}

/// A `struct timespec` timeout (`ppoll`, `pselect6`): `None` for NULL.
fn read_timespec(cx: &mut Ctx<'_>, at: u64) -> Result<Option<u64>, Errno> {
    if at == 0 {
        return Ok(None);
    }
    let t: Timespec = cx.p.space.read(at)?;
    t.to_ns().map(Some).ok_or(Errno::EINVAL)
}

/// A signal mask argument of `sigsetsize` bytes: `None` for NULL.
fn read_sigmask(cx: &mut Ctx<'_>, at: u64, size: u64) -> Result<Option<u64>, Errno> {
    if at == 0 {
        return Ok(None);
    }
    if size != 8 {
        return Err(Errno::EINVAL);
    }
    cx.p.space.read::<u64>(at).map(Some)
}

/// `poll`'s and `ppoll`'s wait: reads the entries, waits, writes every
/// `revents` back (on `EINTR` too, as Linux does).
fn poll_fds(
    cx: &mut Ctx<'_>,
    fds: u64,
    nfds: usize,
    deadline_ns: Option<u64>,
    mask: Option<u64>,
) -> SysResult {
    if nfds > POLL_MAX {
        return Err(Errno::EINVAL);
    }
    let size = core::mem::size_of::<Pollfd>() as u64;
    let mut entries = Vec::with_capacity(nfds);
    for i in 0..nfds as u64 {
        let p: Pollfd = cx.p.space.read(fds + i * size)?;
        entries.push(PollFd::new(p.fd, p.events as u16));
    }
    let ended = with_mask(cx, mask, |cx| {
        let e = wait(cx, &mut entries, deadline_ns)?;
        let signal = matches!(e, Ended::Signal);
        Ok((e, signal))
    })?;
    for (i, e) in entries.iter().enumerate() {
        let at = fds + i as u64 * size + 6;
        cx.p.space.write(at, &(e.revents.get() as i16))?;
    }
    match ended {
        Ended::Ready(n) => Ok(n as u64),
        Ended::TimedOut => Ok(0),
        Ended::Signal => Err(Errno::ERESTARTNOHAND),
    }
}

/// `poll(fds, nfds, timeout_ms)`: a negative timeout waits for ever.
pub fn poll(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (fds, nfds, timeout_ms) = (a[0], a[1] as usize, a[2] as i32);
    let ns = (timeout_ms >= 0).then(|| timeout_ms as u64 * 1_000_000);
    poll_fds(cx, fds, nfds, deadline(ns), None)
}

/// `ppoll(fds, nfds, tmo_p, sigmask, sigsetsize)`: the time left goes
/// back to `tmo_p`, as Linux's system call does.
pub fn ppoll(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (fds, nfds, tsp, sigmask, size) = (a[0], a[1] as usize, a[2], a[3], a[4]);
    let mask = read_sigmask(cx, sigmask, size)?;
    let ns = read_timespec(cx, tsp)?;
    let until = deadline(ns);
    let r = poll_fds(cx, fds, nfds, until, mask);
    if let Some(d) = until.filter(|_| ns != Some(0)) {
        // A timeout in read-only memory stays as it is (Linux).
        let _ = cx.p.space.write(tsp, &Timespec::from_ns(left(d)));
    }
    r
}

/// `select`'s and `pselect6`'s wait over the sets at `ptrs` (read,
/// write, exception; 0 for none): `EBADF` if a set names an fd that is not
/// open; on success every set given is rewritten to its ready fds.
fn select_fds(
    cx: &mut Ctx<'_>,
    nfds: u64,
    ptrs: [u64; 3],
    deadline_ns: Option<u64>,
    mask: Option<u64>,
) -> SysResult {
    let nfds = nfds as i32;
    if nfds < 0 {
        return Err(Errno::EINVAL);
    }
    let nfds = (nfds as usize).min(FD_SETSIZE);
    let bytes = fdset::words(nfds) * 8;
    let mut sets = Sets::default();
    for (set, &at) in sets.0.iter_mut().zip(&ptrs) {
        if at != 0 {
            let mut raw = vec![0u8; bytes];
            cx.p.space.copy_in(at, &mut raw)?;
            for (w, chunk) in set.iter_mut().zip(raw.chunks_exact(8)) {
                *w = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
            }
        }
    }
    let mut entries = fdset::entries(&sets, nfds);
    let ended = with_mask(cx, mask, |cx| loop {
        let e = wait(cx, &mut entries, deadline_ns)?;
        if fdset::any_closed(&entries) {
            return Err(Errno::EBADF);
        }
        match e {
            Ended::Ready(_) if !entries.iter().any(fdset::counts) => {
                // Only events select does not count (a hang-up on an fd
                // of the exception set): those fds will not become ready
                // for it; wait on the others.
                entries.retain(|e| e.revents.get() == 0);
            }
            Ended::Signal => return Ok((Ended::Signal, true)),
            e => return Ok((e, false)),
        }
    })?;
    if matches!(ended, Ended::Signal) {
        return Err(Errno::ERESTARTNOHAND);
    }
    let (ready, n) = fdset::ready(&entries);
    for (set, &at) in ready.0.iter().zip(&ptrs) {
        if at != 0 {
            let raw: Vec<u8> = set[..bytes / 8]
                .iter()
                .flat_map(|w| w.to_le_bytes())
                .collect();
            cx.p.space.copy_out(at, &raw)?;
        }
    }
    Ok(n as u64)
}

/// `select(nfds, readfds, writefds, exceptfds, timeout)`: the time left
/// goes back to `timeout`, as Linux does.
pub fn select(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (nfds, ptrs, tvp) = (a[0], [a[1], a[2], a[3]], a[4]);
    let ns = if tvp == 0 {
        None
    } else {
        let tv: Timeval = cx.p.space.read(tvp)?;
        if tv.tv_sec < 0 || !(0..1_000_000).contains(&tv.tv_usec) {
            return Err(Errno::EINVAL);
        }
        Some((tv.tv_sec as u64).saturating_mul(1_000_000_000) + tv.tv_usec as u64 * 1000)
    };
    let until = deadline(ns);
    let r = select_fds(cx, nfds, ptrs, until, None);
    if let Some(d) = until.filter(|_| ns != Some(0)) {
        let ns = left(d);
        let tv = Timeval {
            tv_sec: (ns / 1_000_000_000) as i64,
            tv_usec: ((ns % 1_000_000_000) / 1000) as i64,
        };
        // A timeout in read-only memory stays as it is (Linux).
        let _ = cx.p.space.write(tvp, &tv);
    }
    r
}

/// `pselect6(nfds, readfds, writefds, exceptfds, timeout, sig)`: `sig`
/// points to `{ const sigset_t *ss; size_t ss_len; }`.
pub fn pselect6(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (nfds, ptrs, tsp, sig) = (a[0], [a[1], a[2], a[3]], a[4], a[5]);
    let mask = if sig == 0 {
        None
    } else {
        let [ss, len]: [u64; 2] = cx.p.space.read(sig)?;
        read_sigmask(cx, ss, len)?
    };
    let ns = read_timespec(cx, tsp)?;
    let until = deadline(ns);
    let r = select_fds(cx, nfds, ptrs, until, mask);
    if let Some(d) = until.filter(|_| ns != Some(0)) {
        // A timeout in read-only memory stays as it is (Linux).
        let _ = cx.p.space.write(tsp, &Timespec::from_ns(left(d)));
    }
    r
}
