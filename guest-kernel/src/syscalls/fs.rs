//! File descriptors: reading, writing, pipes, duplication, flags. Every fd
//! lives in the device (the daemon holds each process's fd table), so
//! these calls are device requests; the program's buffers travel through
//! kernel bounce buffers of at most [`CHUNK`] bytes. `FD_CLOEXEC` is kept
//! in the guest (`process::fdflags`).

use alloc::vec;
use alloc::vec::Vec;

use super::{fd, Args, Ctx};
use crate::linux::fcntl::*;
use crate::linux::ioctl::*;
use crate::linux::poll::*;
use crate::linux::sig::{SIGPIPE, SI_USER};
use crate::linux::{Errno, Iovec, Pollfd, Siginfo, SysResult};
use crate::mem::address_space::Access;
use crate::process::device;
use virtio_pipe_protocol::fs::SEEK_CUR;

/// Bytes moved per device request: large enough that a big `write` takes
/// few round trips, small enough for the kernel heap. Writes up to
/// `PIPE_BUF` (4096) are one request, hence atomic.
pub const CHUNK: usize = 128 * 1024;
/// `IOV_MAX`.
const IOV_MAX: usize = 1024;
/// Most fds `poll` takes (Linux: `RLIMIT_NOFILE`).
const POLL_MAX: usize = 1024;
/// How far `F_DUPFD` looks for a free fd above its minimum.
const DUPFD_SEARCH: u32 = 1024;

/// Writes `data` to `fd`; `EPIPE` raises `SIGPIPE` first (before the call
/// returns, as on Linux).
fn device_write(cx: &mut Ctx<'_>, fd: u32, data: &[u8]) -> Result<usize, Errno> {
    match device::write(fd, data) {
        Err(Errno::EPIPE) => {
            let pid = cx.p.pid;
            cx.p.signals
                .raise(SIGPIPE, Siginfo::kill(SIGPIPE, SI_USER, pid, 0));
            Err(Errno::EPIPE)
        }
        r => r,
    }
}

/// `read(fd, buf, count)`.
pub fn read(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (fd, buf, count) = (fd(a[0])?, a[1], a[2] as usize);
    if count == 0 {
        device::get_flags(fd)?;
        return Ok(0);
    }
    let n = count.min(CHUNK);
    cx.p.space.ensure(buf, n as u64, Access::Write)?;
    let mut k = vec![0u8; n];
    let got = device::read(fd, &mut k)?;
    cx.p.space.copy_out(buf, &k[..got])?;
    Ok(got as u64)
}

/// `write(fd, buf, count)`.
pub fn write(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (fd, buf, count) = (fd(a[0])?, a[1], a[2] as usize);
    if count == 0 {
        device::get_flags(fd)?;
        return Ok(0);
    }
    let mut done = 0usize;
    let mut k = vec![0u8; count.min(CHUNK)];
    while done < count {
        let n = (count - done).min(CHUNK);
        if let Err(e) = cx.p.space.copy_in(buf + done as u64, &mut k[..n]) {
            return if done > 0 { Ok(done as u64) } else { Err(e) };
        }
        match device_write(cx, fd, &k[..n]) {
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
    for i in 0..count {
        let e: Iovec =
            cx.p.space
                .read(iov + (i * core::mem::size_of::<Iovec>()) as u64)?;
        if e.iov_len > isize::MAX as u64 {
            return Err(Errno::EINVAL);
        }
        v.push(e);
    }
    Ok(v)
}

/// `readv(fd, iov, iovcnt)`: one read of up to [`CHUNK`] bytes, scattered.
pub fn readv(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (fd, iov, cnt) = (fd(a[0])?, a[1], a[2]);
    let iovs = iovecs(cx, iov, cnt)?;
    let total: u64 = iovs.iter().map(|v| v.iov_len).sum();
    let n = total.min(CHUNK as u64) as usize;
    let mut left = n as u64;
    for v in &iovs {
        let take = v.iov_len.min(left);
        cx.p.space.ensure(v.iov_base, take, Access::Write)?;
        left -= take;
    }
    if n == 0 {
        device::get_flags(fd)?;
        return Ok(0);
    }
    let mut k = vec![0u8; n];
    let got = device::read(fd, &mut k)?;
    let mut at = 0;
    for v in &iovs {
        if at == got {
            break;
        }
        let take = (v.iov_len as usize).min(got - at);
        cx.p.space.copy_out(v.iov_base, &k[at..at + take])?;
        at += take;
    }
    Ok(got as u64)
}

/// `writev(fd, iov, iovcnt)`: gathered into chunks of up to [`CHUNK`]
/// bytes, so a small `writev` is one atomic write.
pub fn writev(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (fd, iov, cnt) = (fd(a[0])?, a[1], a[2]);
    let iovs = iovecs(cx, iov, cnt)?;
    let total: u64 = iovs.iter().map(|v| v.iov_len).sum();
    if total == 0 {
        device::get_flags(fd)?;
        return Ok(0);
    }
    let mut done = 0u64;
    let mut chunk: Vec<u8> = Vec::with_capacity(total.min(CHUNK as u64) as usize);
    let (mut i, mut off) = (0usize, 0u64);
    while done < total {
        chunk.clear();
        while chunk.len() < CHUNK && i < iovs.len() {
            let v = iovs[i];
            let take = (v.iov_len - off).min((CHUNK - chunk.len()) as u64) as usize;
            let start = chunk.len();
            chunk.resize(start + take, 0);
            if let Err(e) = cx.p.space.copy_in(v.iov_base + off, &mut chunk[start..]) {
                if done == 0 && start == 0 {
                    return Err(e);
                }
                chunk.truncate(start);
                i = iovs.len();
                break;
            }
            off += take as u64;
            if off == v.iov_len {
                i += 1;
                off = 0;
            }
        }
        if chunk.is_empty() {
            break;
        }
        match device_write(cx, fd, &chunk) {
            Ok(w) => {
                done += w as u64;
                if w < chunk.len() {
                    break;
                }
            }
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(done)
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
/// `F_GETFL`/`F_SETFL` (`O_NONBLOCK`, in the device), `F_DUPFD`,
/// `F_DUPFD_CLOEXEC`. Others: `EINVAL`.
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
        F_SETFL => device::set_flags(fd, (arg & O_NONBLOCK) as u32).map(|()| 0),
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

/// `ioctl(fd, request, arg)`: no fd is a terminal in this phase (the
/// daemon does not yet say whether the host's stdio is one), so terminal
/// requests answer `ENOTTY` and `isatty` is false, which is also what a
/// program sees on the host when its output goes to a pipe. `FIONBIO`
/// sets `O_NONBLOCK`.
pub fn ioctl(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (fd, req, arg) = (fd(a[0])?, a[1] as u32 as u64, a[2]);
    let flags = device::get_flags(fd)?;
    match req {
        TCGETS | TIOCGWINSZ | TIOCGPGRP => Err(Errno::ENOTTY),
        FIONBIO => {
            let on: i32 = cx.p.space.read(arg)?;
            let nb = O_NONBLOCK as u32;
            device::set_flags(fd, if on != 0 { flags | nb } else { flags & !nb })?;
            Ok(0)
        }
        _ => {
            log::info!("pid {}: ioctl {req:#x} on fd {fd}: ENOTTY", cx.p.pid);
            Err(Errno::ENOTTY)
        }
    }
}

/// `poll(fds, nfds, timeout)`, simple: an open fd reports the events it
/// asks for as ready (so a following `read` may still block), a closed
/// one `POLLNVAL`. With nothing ready it sleeps for the timeout (a signal
/// ends the sleep with `EINTR`).
pub fn poll(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (fds, nfds, timeout_ms) = (a[0], a[1] as usize, a[2] as i32);
    if nfds > POLL_MAX {
        return Err(Errno::EINVAL);
    }
    let size = core::mem::size_of::<Pollfd>() as u64;
    let mut ready = 0;
    for i in 0..nfds as u64 {
        let mut p: Pollfd = cx.p.space.read(fds + i * size)?;
        p.revents = 0;
        if p.fd >= 0 {
            p.revents = match device::get_flags(p.fd as u32) {
                Err(Errno::EBADF) => POLLNVAL,
                Err(e) => return Err(e),
                Ok(_) => p.events & (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM),
            };
        }
        if p.revents != 0 {
            ready += 1;
        }
        cx.p.space.write(fds + i * size, &p)?;
    }
    if ready == 0 && timeout_ms != 0 {
        let ns = (timeout_ms >= 0).then(|| timeout_ms as u64 * 1_000_000);
        if super::time::sleep(cx.p, ns).is_some() {
            return Err(Errno::EINTR);
        }
    }
    Ok(ready)
}

/// `sendfile(out_fd, in_fd, offset, count)`: up to [`CHUNK`] bytes read
/// from `in_fd` (at `*offset` with `PREAD`, which then moves `*offset`
/// and not the file's offset) and written to `out_fd`. A short write
/// gives the unsent bytes back to a file's offset.
pub fn sendfile(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (out, inp, off_at, count) = (fd(a[0])?, fd(a[1])?, a[2], a[3] as usize);
    let n = count.min(CHUNK);
    if n == 0 {
        device::get_flags(inp)?;
        device::get_flags(out)?;
        return Ok(0);
    }
    let mut k = vec![0u8; n];
    let offset = if off_at != 0 {
        let off: i64 = cx.p.space.read(off_at)?;
        Some(u64::try_from(off).map_err(|_| Errno::EINVAL)?)
    } else {
        None
    };
    let got = match offset {
        Some(off) => device::pread(inp, off, &mut k)?,
        None => device::read(inp, &mut k)?,
    };
    let mut done = 0;
    while done < got {
        match device_write(cx, out, &k[done..got]) {
            Ok(0) => break,
            Ok(w) => done += w,
            Err(e) if done == 0 => {
                if offset.is_none() {
                    let _ = device::lseek(inp, -(got as i64), SEEK_CUR);
                }
                return Err(e);
            }
            Err(_) => break,
        }
    }
    match offset {
        Some(off) => cx.p.space.write(off_at, &((off + done as u64) as i64))?,
        None if done < got => {
            let _ = device::lseek(inp, -((got - done) as i64), SEEK_CUR);
        }
        None => {}
    }
    Ok(done as u64)
}
