//! File descriptors: reading, writing, pipes, duplication, flags. Every fd
//! lives in the device (the daemon holds each process's fd table), so
//! these calls are device requests. `read`, `write`, `readv`, `writev`
//! (and `pread64`, `getdents64` in `file`) pass the program's own pages
//! to the device in place (`AddressSpace::gather`: the frames behind the
//! buffer, up to `MAX_SEGMENTS` runs per request), so the only copy of
//! the payload is the daemon's, straight from the writer's RAM into the
//! reader's. The kernel's reusable bounce buffer (`mem::bounce`) carries
//! the rest: `sendfile`'s bytes (which never reach the program, [`CHUNK`]
//! at a time), a small `writev` (one atomic request whatever its `iovec`s)
//! and a `readv` into overlapping `iovec`s. `FD_CLOEXEC` is kept in the
//! guest (`process::fdflags`).

use alloc::vec::Vec;

use super::{fd, Args, Ctx};
use crate::linux::fcntl::*;
use crate::linux::ioctl::*;
use crate::linux::sig::{SIGPIPE, SI_USER};
use crate::linux::{Errno, Iovec, Siginfo, SysResult, Termios, Winsize};
use crate::mem::address_space::Access;
use crate::mem::bounce;
use crate::mem::segments::Segments;
use crate::process::device::{self, SmallSegments, UserSegments, SMALL_BYTES};
use crate::process::{deliver, jobctl};
use virtio_pipe_protocol::fs::SEEK_CUR;
use virtio_pipe_protocol::TtyCmd;
use zerocopy::IntoBytes;

/// Bytes moved per device request through the bounce buffer (`sendfile`,
/// and in `file` and `memory` the calls that must copy): large enough that
/// few round trips are needed, small enough for the kernel heap.
pub const CHUNK: usize = 128 * 1024;
/// Most bytes one `READ` (or `PREAD`, `GETDENTS`) into a program's buffer
/// asks for. The device writes the program's frames, so every page of the
/// range is populated first (an untouched page gets a zeroed frame), even
/// if fewer bytes come: this bounds that work and memory for a large
/// buffer. At 1 MiB a request's fixed cost (a round trip, about 100 us
/// under TCG) is about as long as the device's copy of the bytes.
pub const READ_MAX: usize = 1 << 20;
/// Most bytes one `WRITE` from a program's buffer carries. Usually the
/// segments bound it first (`MAX_SEGMENTS` runs of contiguous frames); the
/// bound keeps the pages populated ahead of one request in proportion.
pub const WRITE_MAX: usize = 16 << 20;
/// `PIPE_BUF`: a write of at most this many bytes is one request, hence
/// atomic (spec: a pipe takes a `WRITE` of up to `PIPE_BUF` bytes whole).
const PIPE_BUF: usize = 4096;
/// `IOV_MAX`.
const IOV_MAX: usize = 1024;
/// How far `F_DUPFD` looks for a free fd above its minimum.
const DUPFD_SEARCH: u32 = 1024;

/// `EPIPE` raises `SIGPIPE` first (before the call returns, as on Linux).
fn sigpipe_on_epipe(cx: &mut Ctx<'_>, r: Result<usize, Errno>) -> Result<usize, Errno> {
    if r == Err(Errno::EPIPE) {
        let pid = cx.p.pid;
        cx.p.signals
            .raise(SIGPIPE, Siginfo::kill(SIGPIPE, SI_USER, pid, 0));
    }
    r
}

/// Writes kernel bytes `data` to `fd` (`EPIPE` raises `SIGPIPE`).
fn device_write(cx: &mut Ctx<'_>, fd: u32, data: &[u8]) -> Result<usize, Errno> {
    let r = device::write(fd, data, &mut || deliver::interrupting_signal(cx.p));
    sigpipe_on_epipe(cx, r)
}

/// Writes the program's bytes `segs` to `fd` in place (`EPIPE` raises
/// `SIGPIPE`).
fn write_gathered<const N: usize>(
    cx: &mut Ctx<'_>,
    fd: u32,
    segs: &Segments<N>,
) -> Result<usize, Errno> {
    // SAFETY: `segs` was just gathered from this process's address space,
    // which nothing changes until the request completes: the program does
    // not run during its own syscall, and nothing else touches its memory.
    let r = unsafe { device::write_segments(fd, segs, &mut || deliver::interrupting_signal(cx.p)) };
    sigpipe_on_epipe(cx, r)
}

/// Reads from `fd` into the program's bytes `segs` in place.
fn read_gathered<const N: usize>(
    cx: &mut Ctx<'_>,
    fd: u32,
    segs: &Segments<N>,
) -> Result<usize, Errno> {
    // SAFETY: as in `write_gathered`; the caller passes segments of which
    // none shares a byte with another (one range's frames, or `readv`'s
    // checked with `Segments::overlapping`).
    let r = unsafe { device::read_segments(fd, segs, &mut || deliver::interrupting_signal(cx.p)) };
    jobctl::background_read(cx.p, fd, r)
}

/// `read(fd, buf, count)`: one `READ` of up to [`READ_MAX`] bytes, into
/// the program's buffer in place (a short read when the buffer's frames
/// take more than `MAX_SEGMENTS` runs).
pub fn read(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (fd, buf, count) = (fd(a[0])?, a[1], a[2] as usize);
    if count == 0 {
        device::get_flags(fd)?;
        return Ok(0);
    }
    if count <= SMALL_BYTES {
        return read_into(cx, fd, buf, count, SmallSegments::new());
    }
    read_into(cx, fd, buf, count.min(READ_MAX), UserSegments::new())
}

/// One `READ` of up to `want` bytes into the program's buffer at `buf`,
/// gathered into `segs`.
fn read_into<const N: usize>(
    cx: &mut Ctx<'_>,
    fd: u32,
    buf: u64,
    want: usize,
    mut segs: Segments<N>,
) -> SysResult {
    cx.p.space
        .gather(buf, want as u64, Some(Access::Write), &mut segs)?;
    Ok(read_gathered(cx, fd, &segs)? as u64)
}

/// `write(fd, buf, count)`: from the program's buffer in place, one
/// `WRITE` per [`WRITE_MAX`] bytes or `MAX_SEGMENTS` runs of frames; up to
/// [`PIPE_BUF`] bytes (two pages at most) always one.
pub fn write(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (fd, buf, count) = (fd(a[0])?, a[1], a[2] as usize);
    if count == 0 {
        device::get_flags(fd)?;
        return Ok(0);
    }
    if count <= SMALL_BYTES {
        return write_from(cx, fd, buf, count, SmallSegments::new());
    }
    write_from(cx, fd, buf, count, UserSegments::new())
}

/// Writes `count` bytes of the program's buffer at `buf`, in requests of
/// what `segs` (empty) holds; returns how many the pipe took.
fn write_from<const N: usize>(
    cx: &mut Ctx<'_>,
    fd: u32,
    buf: u64,
    count: usize,
    empty: Segments<N>,
) -> SysResult {
    let mut done = 0usize;
    while done < count {
        let mut segs = empty;
        let want = (count - done).min(WRITE_MAX) as u64;
        let n = match cx
            .p
            .space
            .gather(buf + done as u64, want, Some(Access::Read), &mut segs)
        {
            Ok(n) => n as usize,
            Err(e) => return if done > 0 { Ok(done as u64) } else { Err(e) },
        };
        debug_assert!(
            count > PIPE_BUF || n == count,
            "a small write is one request"
        );
        match write_gathered(cx, fd, &segs) {
            Ok(w) => {
                done += w;
                if w < n {
                    break;
                }
            }
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(done as u64)
}

fn iovecs(cx: &mut Ctx<'_>, iov: u64, count: u64) -> Result<Vec<Iovec>, Errno> {
    let count = usize::try_from(count).map_err(|_| Errno::EINVAL)?;
    if count > IOV_MAX {
        return Err(Errno::EINVAL);
    }
    let mut v = Vec::with_capacity(count);
    let mut total = 0u64;
    for i in 0..count {
        let e: Iovec =
            cx.p.space
                .read(iov + (i * core::mem::size_of::<Iovec>()) as u64)?;
        total = total.saturating_add(e.iov_len);
        if e.iov_len > isize::MAX as u64 || total > isize::MAX as u64 {
            return Err(Errno::EINVAL);
        }
        v.push(e);
    }
    Ok(v)
}

/// `readv(fd, iov, iovcnt)`: one `READ` of up to [`READ_MAX`] bytes,
/// scattered over the `iovec`s' pages in place (up to `MAX_SEGMENTS`
/// runs). `iovec`s that overlap (which Linux fills one after the other,
/// the later bytes winning) take the bounce buffer instead.
pub fn readv(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (fd, iov, cnt) = (fd(a[0])?, a[1], a[2]);
    let iovs = iovecs(cx, iov, cnt)?;
    let mut segs = UserSegments::new();
    let mut left = READ_MAX as u64;
    for v in &iovs {
        let take = v.iov_len.min(left);
        let got =
            cx.p.space
                .gather(v.iov_base, take, Some(Access::Write), &mut segs)?;
        left -= got;
        if got < take || left == 0 {
            break;
        }
    }
    if segs.bytes() == 0 {
        device::get_flags(fd)?;
        return Ok(0);
    }
    if segs.overlapping() {
        return readv_bounced(cx, fd, &iovs, segs.bytes().min(CHUNK));
    }
    Ok(read_gathered(cx, fd, &segs)? as u64)
}

/// A `readv` into overlapping `iovec`s: one `READ` of `n` bytes into the
/// bounce buffer, then copied out `iovec` by `iovec`, in order.
fn readv_bounced(cx: &mut Ctx<'_>, fd: u32, iovs: &[Iovec], n: usize) -> SysResult {
    bounce::with(n, |k| {
        let got = device::read(fd, k, &mut || deliver::interrupting_signal(cx.p));
        let got = jobctl::background_read(cx.p, fd, got)?;
        let mut at = 0;
        for v in iovs {
            if at == got {
                break;
            }
            let take = (v.iov_len as usize).min(got - at);
            cx.p.space.copy_out(v.iov_base, &k[at..at + take])?;
            at += take;
        }
        Ok(got as u64)
    })
}

/// `writev(fd, iov, iovcnt)`: the `iovec`s' pages in place, one `WRITE`
/// per [`WRITE_MAX`] bytes or `MAX_SEGMENTS` runs of frames. A `writev` of
/// up to [`PIPE_BUF`] bytes is copied into the bounce buffer instead (its
/// `iovec`s may be more runs than one request carries), so it stays one
/// atomic write.
pub fn writev(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (fd, iov, cnt) = (fd(a[0])?, a[1], a[2]);
    let iovs = iovecs(cx, iov, cnt)?;
    let total: u64 = iovs.iter().map(|v| v.iov_len).sum();
    if total == 0 {
        device::get_flags(fd)?;
        return Ok(0);
    }
    if total <= PIPE_BUF as u64 {
        return writev_small(cx, fd, &iovs, total as usize);
    }
    let mut done = 0u64;
    let (mut i, mut off) = (0usize, 0u64);
    while i < iovs.len() {
        let mut segs = UserSegments::new();
        let mut fault = None;
        while i < iovs.len() && segs.bytes() < WRITE_MAX {
            let v = iovs[i];
            let want = (v.iov_len - off).min((WRITE_MAX - segs.bytes()) as u64);
            match cx
                .p
                .space
                .gather(v.iov_base + off, want, Some(Access::Read), &mut segs)
            {
                Ok(n) => {
                    off += n;
                    if off == v.iov_len {
                        i += 1;
                        off = 0;
                    }
                    if n < want {
                        break;
                    }
                }
                Err(e) => {
                    fault = Some(e);
                    i = iovs.len();
                    break;
                }
            }
        }
        if segs.bytes() == 0 {
            return match fault {
                Some(e) if done == 0 => Err(e),
                _ => Ok(done),
            };
        }
        match write_gathered(cx, fd, &segs) {
            Ok(w) => {
                done += w as u64;
                if w < segs.bytes() {
                    break;
                }
            }
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(done)
}

/// A `writev` of `total` (at most [`PIPE_BUF`]) bytes: gathered into the
/// bounce buffer and written in one request. An `iovec` that is not
/// readable ends the gathering there (`EFAULT` if it is the first byte).
fn writev_small(cx: &mut Ctx<'_>, fd: u32, iovs: &[Iovec], total: usize) -> SysResult {
    bounce::with(total, |chunk| {
        let mut len = 0;
        for v in iovs {
            let take = v.iov_len as usize;
            if let Err(e) = cx.p.space.copy_in(v.iov_base, &mut chunk[len..len + take]) {
                if len == 0 {
                    return Err(e);
                }
                break;
            }
            len += take;
        }
        device_write(cx, fd, &chunk[..len]).map(|w| w as u64)
    })
}

/// `close(fd)`.
pub fn close(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let fd = fd(a[0])?;
    device::close(fd)?;
    cx.p.fd_flags.closed(fd);
    Ok(0)
}

/// `pipe(fds)`.
pub fn pipe(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    pipe2(cx, [a[0], 0, 0, 0, 0, 0])
}

/// `pipe2(fds, flags)`: `O_NONBLOCK` and `O_CLOEXEC` (`O_DIRECT` packet
/// pipes are not supported: `EINVAL`).
pub fn pipe2(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (fds, flags) = (a[0], a[1]);
    if flags & !(O_NONBLOCK | O_CLOEXEC) != 0 {
        if flags & O_DIRECT != 0 {
            log::info!("pid {}: pipe2(O_DIRECT) is not supported", cx.p.pid);
        }
        return Err(Errno::EINVAL);
    }
    cx.p.space.ensure(fds, 8, Access::Write)?;
    let [r, w] = device::pipe(flags & O_NONBLOCK != 0)?;
    let cloexec = flags & O_CLOEXEC != 0;
    cx.p.fd_flags.set_cloexec(r, cloexec);
    cx.p.fd_flags.set_cloexec(w, cloexec);
    cx.p.space.write(fds, &[r as i32, w as i32])?;
    Ok(0)
}

/// `dup(fd)`.
pub fn dup(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let new = device::dup(fd(a[0])?)?;
    cx.p.fd_flags.closed(new);
    Ok(u64::from(new))
}

/// `dup2(oldfd, newfd)`.
pub fn dup2(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (old, new) = (fd(a[0])?, fd(a[1])?);
    if old == new {
        device::get_flags(old)?;
        return Ok(u64::from(new));
    }
    let r = device::dup2(old, new)?;
    cx.p.fd_flags.closed(r);
    Ok(u64::from(r))
}

/// `dup3(oldfd, newfd, flags)`.
pub fn dup3(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (old, new, flags) = (fd(a[0])?, fd(a[1])?, a[2]);
    if old == new || flags & !O_CLOEXEC != 0 {
        return Err(Errno::EINVAL);
    }
    let r = device::dup2(old, new)?;
    cx.p.fd_flags.set_cloexec(r, flags & O_CLOEXEC != 0);
    Ok(u64::from(r))
}

/// The lowest free fd at or above `min`, as a duplicate of `fd`.
fn dup_at_least(fd: u32, min: u32) -> Result<u32, Errno> {
    device::get_flags(fd)?;
    for n in min..min.saturating_add(DUPFD_SEARCH) {
        match device::get_flags(n) {
            Err(Errno::EBADF) => return device::dup2(fd, n),
            Err(e) => return Err(e),
            Ok(_) => {}
        }
    }
    Err(Errno::EMFILE)
}

/// `fcntl(fd, cmd, arg)`: `F_GETFD`/`F_SETFD` (guest-kept `FD_CLOEXEC`),
/// `F_GETFL`/`F_SETFL` (`O_NONBLOCK`, in the device; `O_APPEND` is fixed
/// at open), `F_DUPFD`, `F_DUPFD_CLOEXEC`, and the record locks, granted
/// and not enforced (`syscalls::tree`). Others: `EINVAL`.
pub fn fcntl(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (fd, cmd, arg) = (fd(a[0])?, a[1], a[2]);
    match cmd {
        F_GETFD => {
            device::get_flags(fd)?;
            Ok(if cx.p.fd_flags.cloexec(fd) {
                FD_CLOEXEC
            } else {
                0
            })
        }
        F_SETFD => {
            device::get_flags(fd)?;
            cx.p.fd_flags.set_cloexec(fd, arg & FD_CLOEXEC != 0);
            Ok(0)
        }
        F_GETFL => device::get_status(fd).map(u64::from),
        F_SETFL => {
            let was = device::get_status(fd)?;
            if (u64::from(was) ^ arg) & O_APPEND != 0 {
                // The device fixes O_APPEND when it opens the file.
                log::info!("pid {}: F_SETFL cannot change O_APPEND: ignored", cx.p.pid);
            }
            device::set_flags(fd, (arg & O_NONBLOCK) as u32).map(|()| 0)
        }
        F_GETLK | F_OFD_GETLK => {
            // Nothing holds a lock against anyone (see `tree`): the
            // request's `l_type` (the first field) becomes `F_UNLCK`.
            device::get_flags(fd)?;
            cx.p.space.write(arg, &F_UNLCK)?;
            Ok(0)
        }
        F_SETLK | F_SETLKW | F_OFD_SETLK | F_OFD_SETLKW => {
            device::get_flags(fd)?;
            let _: [u8; 32] = cx.p.space.read(arg)?;
            Ok(0)
        }
        F_DUPFD | F_DUPFD_CLOEXEC => {
            let min = u32::try_from(arg as i32).map_err(|_| Errno::EINVAL)?;
            let new = dup_at_least(fd, min)?;
            cx.p.fd_flags.set_cloexec(new, cmd == F_DUPFD_CLOEXEC);
            Ok(u64::from(new))
        }
        _ => {
            log::info!("pid {}: fcntl command {cmd} is not supported", cx.p.pid);
            Err(Errno::EINVAL)
        }
    }
}

/// `ioctl(fd, request, arg)`. The terminal requests go to the device as
/// `TTY` (spec 1.6.28), which answers them for the tree's terminal (the
/// host's, when the daemon's stdio is one) and `ENOTTY` for any other fd:
/// `TCGETS`/`TCSETS*` (so `isatty`, `tcgetattr`, `tcsetattr`),
/// `TIOCGWINSZ`/`TIOCSWINSZ`, `TIOCGPGRP`/`TIOCSPGRP` (`tcgetpgrp`,
/// `tcsetpgrp`), `TIOCSCTTY`, `TIOCNOTTY`. `FIONBIO` sets `O_NONBLOCK`;
/// anything else is `ENOTTY`.
pub fn ioctl(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (fd, req, arg) = (fd(a[0])?, a[1] as u32, a[2]);
    if req == FIONBIO {
        let flags = device::get_flags(fd)?;
        let on: i32 = cx.p.space.read(arg)?;
        let nb = O_NONBLOCK as u32;
        device::set_flags(fd, if on != 0 { flags | nb } else { flags & !nb })?;
        return Ok(0);
    }
    let Some(cmd) = TtyCmd::from_ioctl(req as u64) else {
        log::info!("pid {}: ioctl {req:#x} on fd {fd}: ENOTTY", cx.p.pid);
        return Err(Errno::ENOTTY);
    };
    match cmd {
        TtyCmd::GetAttr => {
            let mut t = Termios::default();
            device::tty(fd, cmd, 0, &[], t.as_mut_bytes())?;
            cx.p.space.write(arg, &t)?;
        }
        TtyCmd::SetAttr(_) => {
            let t: Termios = cx.p.space.read(arg)?;
            jobctl::background_change(cx.p, fd, |nojobctl| {
                device::tty_change(fd, cmd, 0, nojobctl, t.as_bytes(), &mut [])
            })?;
        }
        TtyCmd::GetWinsize => {
            let mut ws = Winsize::default();
            device::tty(fd, cmd, 0, &[], ws.as_mut_bytes())?;
            cx.p.space.write(arg, &ws)?;
        }
        TtyCmd::SetWinsize => {
            let ws: Winsize = cx.p.space.read(arg)?;
            device::tty(fd, cmd, 0, ws.as_bytes(), &mut [])?;
        }
        TtyCmd::GetPgrp => {
            let mut pgrp = [0u8; 4];
            device::tty(fd, cmd, 0, &[], &mut pgrp)?;
            cx.p.space.write(arg, &i32::from_le_bytes(pgrp))?;
        }
        TtyCmd::SetPgrp => {
            let pgrp: i32 = cx.p.space.read(arg)?;
            jobctl::background_change(cx.p, fd, |nojobctl| {
                device::tty_change(fd, cmd, 0, nojobctl, &pgrp.to_le_bytes(), &mut [])
            })?;
        }
        // The argument is the value itself (force a steal: 0 or 1).
        TtyCmd::SetCtty => device::tty(fd, cmd, arg as u32 as u64, &[], &mut [])?,
        TtyCmd::NoTty => device::tty(fd, cmd, 0, &[], &mut [])?,
    }
    Ok(0)
}

/// Moves up to `n` bytes from `inp` to `out` through the bounce buffer
/// (`sendfile`, `copy_file_range`): read at `off_in` (`PREAD`) or at the
/// fd's offset, written at `off_out` (`PWRITE`) or at the fd's. Returns
/// the bytes written. Bytes read but not written go back to `inp`'s own
/// offset, so nothing is lost when `out` takes fewer.
pub(super) fn copy_through(
    cx: &mut Ctx<'_>,
    (inp, off_in): (u32, Option<u64>),
    (out, off_out): (u32, Option<u64>),
    n: usize,
) -> Result<usize, Errno> {
    let (got, done) = bounce::with(n, |k| {
        let got = match off_in {
            Some(off) => device::pread(inp, off, k)?,
            None => device::read(inp, k, &mut || deliver::interrupting_signal(cx.p))?,
        };
        let mut done = 0;
        while done < got {
            let w = match off_out {
                Some(off) => device::pwrite(out, off + done as u64, &k[done..got]),
                None => device_write(cx, out, &k[done..got]),
            };
            match w {
                Ok(0) => break,
                Ok(w) => done += w,
                Err(e) if done == 0 => {
                    if off_in.is_none() {
                        let _ = device::lseek(inp, -(got as i64), SEEK_CUR);
                    }
                    return Err(e);
                }
                Err(_) => break,
            }
        }
        Ok((got, done))
    })?;
    if off_in.is_none() && done < got {
        let _ = device::lseek(inp, -((got - done) as i64), SEEK_CUR);
    }
    Ok(done)
}

/// `sendfile(out_fd, in_fd, offset, count)`: up to [`CHUNK`] bytes read
/// from `in_fd` (at `*offset` with `PREAD`, which then moves `*offset`
/// and not the file's offset) and written to `out_fd`, through the bounce
/// buffer (the bytes never reach the program). A short write gives the
/// unsent bytes back to a file's offset.
pub fn sendfile(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (out, inp, off_at, count) = (fd(a[0])?, fd(a[1])?, a[2], a[3] as usize);
    let n = count.min(CHUNK);
    if n == 0 {
        device::get_flags(inp)?;
        device::get_flags(out)?;
        return Ok(0);
    }
    let offset = if off_at != 0 {
        let off: i64 = cx.p.space.read(off_at)?;
        Some(u64::try_from(off).map_err(|_| Errno::EINVAL)?)
    } else {
        None
    };
    let done = copy_through(cx, (inp, offset), (out, None), n)?;
    if let Some(off) = offset {
        cx.p.space.write(off_at, &((off + done as u64) as i64))?;
    }
    Ok(done as u64)
}
