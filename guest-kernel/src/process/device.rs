//! The calls that need another process: each one is one virtio-pipe
//! request on `requestq`, and the CPU sleeps in `hlt` until the device
//! completes it. Buffers are kernel memory, or, for the payload of
//! `READ`, `WRITE`, `PREAD` and `GETDENTS`, the program's own frames
//! ([`UserSegments`], from `AddressSpace::gather`), which the device reads
//! or writes in place. Events that arrive meanwhile (signals, child
//! exits) stay queued in the driver until the way back to user mode
//! collects them (`process::deliver`).

use alloc::vec;
use alloc::vec::Vec;

use guest_virtio_driver::MAX_SEGMENTS;

use virtio_pipe_protocol::fs::{encode_times, PathPair, PATH_MAX, STAT_SIZE, TIMES_SIZE};
use virtio_pipe_protocol::{
    ArgsBlob, ChdirTarget, Dirfd, ExecBlob, ExitKind, KillTarget, PollFd, Request, StartKind, Stat,
    TtyCmd, WaitTarget, O_NONBLOCK,
};

use crate::drivers::{debug_exit, pipe as dev};
use crate::linux::Errno;
use crate::mem::segments::Segments;

/// A program's buffer as frames, as many runs as one request carries.
pub type UserSegments = Segments<MAX_SEGMENTS>;
/// A buffer of at most a page lies in at most two pages, so in at most two
/// runs: the small lists that small reads and writes use. Under TCG,
/// filling a list of `MAX_SEGMENTS` and arrays to match on every request
/// (here and in the driver) added about 3 us to each: 12 us to a 1-byte
/// pipe round trip between two VMs, about a tenth of it.
pub type SmallSegments = Segments<2>;
/// The most bytes a [`SmallSegments`] list always holds whole.
pub const SMALL_BYTES: usize = 4096;

/// First guess at the args blob's size; the device says if it needs more.
const ARGS_FIRST_TRY: usize = 4096;

fn call(req: Request, readable: &[u8], writable: &mut [u8]) -> Result<[u64; 3], Errno> {
    let done =
        dev::request(&req.header(), readable, writable).map_err(|e| Errno::from(e.errno()))?;
    done.rets().map_err(Errno::from)
}

/// A request whose failure may still carry a result (`ERANGE` with the
/// length needed): (status, rets).
fn call_full(
    req: Request,
    readable: &[u8],
    writable: &mut [u8],
) -> Result<(Result<(), Errno>, [u64; 3]), Errno> {
    let done =
        dev::request(&req.header(), readable, writable).map_err(|e| Errno::from(e.errno()))?;
    let r = &done.resp;
    Ok((
        r.result().map_err(Errno::from),
        [r.ret(0), r.ret(1), r.ret(2)],
    ))
}

/// A request whose payload is `segs`: the readable part for `WRITE`
/// (`to_device`), else the writable part.
///
/// # Safety
///
/// Every segment must be RAM that nothing else reads or writes until this
/// returns: frames of the calling process that `AddressSpace::gather` just
/// checked and populated, which nothing unmaps while the syscall runs (one
/// CPU, one thread, and the program does not run until it returns). For
/// the device to write (`!to_device`), no two segments may share a byte.
unsafe fn call_segments<const N: usize>(
    req: Request,
    segs: &Segments<N>,
    to_device: bool,
    stop: Option<Stop<'_>>,
) -> Result<[u64; 3], Errno> {
    let (hdr, n) = (req.header(), segs.as_slice().len());
    // The slices live in arrays of `N`: a small list makes small arrays.
    let done = if to_device {
        let mut bufs: [&[u8]; N] = [&[]; N];
        for (b, s) in bufs.iter_mut().zip(segs.as_slice()) {
            // SAFETY: the caller's promise (the device only reads them).
            *b = unsafe { s.as_slice() };
        }
        match stop {
            Some(stop) => dev::request_blocking(&hdr, &bufs[..n], &mut [], None, stop).map(|d| d.0),
            None => dev::request_sg(&hdr, &bufs[..n], &mut []),
        }
    } else {
        let mut bufs: [&mut [u8]; N] = core::array::from_fn(|_| &mut [][..]);
        for (b, s) in bufs.iter_mut().zip(segs.as_slice()) {
            // SAFETY: the caller's promise, which includes that no two
            // segments share a byte.
            *b = unsafe { s.as_mut_slice() };
        }
        match stop {
            Some(stop) => dev::request_blocking(&hdr, &[], &mut bufs[..n], None, stop).map(|d| d.0),
            None => dev::request_sg(&hdr, &[], &mut bufs[..n]),
        }
    };
    done.map_err(|e| Errno::from(e.errno()))?
        .rets()
        .map_err(Errno::from)
}

/// What a request that may block asks after every wakeup: whether to stop
/// waiting because a signal would be delivered (`deliver::interrupting_signal`).
/// It is then ended with `INTERRUPT` (spec `drv-interrupt`): its count if
/// it moved bytes, else `EINTR`.
pub type Stop<'a> = &'a mut dyn FnMut() -> bool;

pub use dev::Cut;

/// A request that may block, interrupted when `stop` says so or at
/// `deadline_ns` (monotonic): (its status and rets, what cut it short).
pub fn blocking(
    req: Request,
    readable: &[u8],
    writable: &mut [u8],
    deadline_ns: Option<u64>,
    stop: Stop<'_>,
) -> Result<(Result<[u64; 3], Errno>, Cut), Errno> {
    let (done, cut) = dev::request_blocking(
        &req.header(),
        &[readable],
        &mut [writable],
        deadline_ns,
        stop,
    )
    .map_err(|e| Errno::from(e.errno()))?;
    Ok((done.rets().map_err(Errno::from), cut))
}

fn call_blocking(
    req: Request,
    readable: &[u8],
    writable: &mut [u8],
    stop: Stop<'_>,
) -> Result<[u64; 3], Errno> {
    blocking(req, readable, writable, None, stop)?.0
}

fn simple(req: Request) -> Result<[u64; 3], Errno> {
    call(req, &[], &mut [])
}

fn fd_arg(fd: u32) -> Result<u32, Errno> {
    if fd <= i32::MAX as u32 {
        Ok(fd)
    } else {
        Err(Errno::EBADF)
    }
}

fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A path's length as the device takes it: 1 to `PATH_MAX` bytes.
fn path_len(path: &[u8]) -> Result<u32, Errno> {
    match path.len() {
        0 => Err(Errno::ENOENT),
        n if n > PATH_MAX => Err(Errno::ENAMETOOLONG),
        n => Ok(n as u32),
    }
}

/// Asks for a path the device writes (`GETCWD`, `GET_EXE`), growing the
/// buffer when it answers `ERANGE` with the length it needs.
fn fetch_path(make: impl Fn(u32) -> Request) -> Result<Vec<u8>, Errno> {
    let mut buf = vec![0u8; 256];
    loop {
        let (status, r) = call_full(make(len32(buf.len())), &[], &mut buf)?;
        match status {
            Ok(()) => {
                buf.truncate((r[0] as usize).min(buf.len()));
                return Ok(buf);
            }
            Err(Errno::ERANGE) if r[0] as usize > buf.len() && r[0] as usize <= PATH_MAX + 1 => {
                buf = vec![0u8; r[0] as usize];
            }
            Err(e) => return Err(e),
        }
    }
}

/// How a process starts (`START`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Started {
    /// Fresh, forked, or a parked VM about to land a fork child.
    pub kind: StartKind,
    /// A forked child's resume record (its parent's `FORK` argument).
    pub record: u64,
    /// The umask the device keeps for the process (what its last `EXEC`
    /// passed: a VM that an `EXEC` launched starts with it).
    pub umask: u32,
}

/// `START`: how this process starts.
pub fn start() -> Result<Started, Errno> {
    let r = simple(Request::Start)?;
    // An answer this kernel does not know is not a reason to land or
    // resume: read it as fresh, which the boot path then checks.
    let kind = StartKind::from_ret(r[0]).unwrap_or(StartKind::Fresh);
    Ok(Started {
        kind,
        record: if kind == StartKind::Forked { r[1] } else { 0 },
        umask: r[2] as u32 & virtio_pipe_protocol::fs::UMASK_BITS,
    })
}

/// A list of strings (argv or env).
pub type Strings = Vec<Vec<u8>>;

/// `GET_ARGS`: argv and env.
pub fn get_args() -> Result<(Strings, Strings), Errno> {
    let mut buf = vec![0u8; ARGS_FIRST_TRY];
    loop {
        let hdr = Request::GetArgs {
            capacity: len32(buf.len()),
        }
        .header();
        let done = dev::request(&hdr, &[], &mut buf).map_err(|e| Errno::from(e.errno()))?;
        match done.resp.result() {
            Ok(()) => {
                buf.truncate(done.resp.ret(0) as usize);
                break;
            }
            Err(virtio_pipe_protocol::Errno::Erange) if done.resp.ret(0) as usize > buf.len() => {
                buf = vec![0u8; done.resp.ret(0) as usize];
            }
            Err(e) => return Err(e.into()),
        }
    }
    let blob = ArgsBlob::parse(&buf).map_err(|e| Errno::from(e.errno()))?;
    Ok((
        blob.argv.iter().map(<[u8]>::to_vec).collect(),
        blob.env.iter().map(<[u8]>::to_vec).collect(),
    ))
}

/// `PIPE`: `[read end, write end]` with status flags (`O_NONBLOCK`).
pub fn pipe(nonblock: bool) -> Result<[u32; 2], Errno> {
    let r = simple(Request::Pipe {
        flags: if nonblock { O_NONBLOCK } else { 0 },
    })?;
    Ok([r[0] as u32, r[1] as u32])
}

/// `READ` of up to `buf.len()` bytes; 0 is end of file.
pub fn read(fd: u32, buf: &mut [u8], stop: Stop<'_>) -> Result<usize, Errno> {
    if buf.is_empty() {
        return Ok(0);
    }
    let req = Request::Read {
        fd: fd_arg(fd)?,
        len: len32(buf.len()),
        nonblock: false,
    };
    let r = call_blocking(req, &[], buf, stop)?;
    Ok((r[0] as usize).min(buf.len()))
}

/// `READ` of up to `segs.bytes()` bytes into a program's buffer, in
/// place; 0 is end of file.
///
/// # Safety
///
/// As for [`call_segments`].
pub unsafe fn read_segments<const N: usize>(
    fd: u32,
    segs: &Segments<N>,
    stop: Stop<'_>,
) -> Result<usize, Errno> {
    if segs.bytes() == 0 {
        return Ok(0);
    }
    let req = Request::Read {
        fd: fd_arg(fd)?,
        len: len32(segs.bytes()),
        nonblock: false,
    };
    // SAFETY: the caller's promise.
    let r = unsafe { call_segments(req, segs, false, Some(stop)) }?;
    Ok((r[0] as usize).min(segs.bytes()))
}

/// `WRITE` of a program's buffer, in place: how many bytes the pipe took.
///
/// # Safety
///
/// As for [`call_segments`].
pub unsafe fn write_segments<const N: usize>(
    fd: u32,
    segs: &Segments<N>,
    stop: Stop<'_>,
) -> Result<usize, Errno> {
    if segs.bytes() == 0 {
        return Ok(0);
    }
    let req = Request::Write {
        fd: fd_arg(fd)?,
        len: len32(segs.bytes()),
        nonblock: false,
    };
    // SAFETY: the caller's promise.
    let r = unsafe { call_segments(req, segs, true, Some(stop)) }?;
    Ok((r[0] as usize).min(segs.bytes()))
}

/// `WRITE` of `buf`: how many bytes the pipe took.
pub fn write(fd: u32, buf: &[u8], stop: Stop<'_>) -> Result<usize, Errno> {
    if buf.is_empty() {
        return Ok(0);
    }
    let req = Request::Write {
        fd: fd_arg(fd)?,
        len: len32(buf.len()),
        nonblock: false,
    };
    let r = call_blocking(req, buf, &mut [], stop)?;
    Ok(r[0] as usize)
}

/// `CLOSE`.
pub fn close(fd: u32) -> Result<(), Errno> {
    simple(Request::Close { fd: fd_arg(fd)? }).map(drop)
}

/// `DUP`: the lowest free fd.
pub fn dup(fd: u32) -> Result<u32, Errno> {
    simple(Request::Dup { fd: fd_arg(fd)? }).map(|r| r[0] as u32)
}

/// `DUP2`.
pub fn dup2(fd: u32, newfd: u32) -> Result<u32, Errno> {
    simple(Request::Dup2 {
        fd: fd_arg(fd)?,
        newfd: fd_arg(newfd)?,
    })
    .map(|r| r[0] as u32)
}

/// `GET_FLAGS`: the status flags of `fd` (`EBADF` if it is not open).
pub fn get_flags(fd: u32) -> Result<u32, Errno> {
    simple(Request::GetFlags { fd: fd_arg(fd)? }).map(|r| r[0] as u32)
}

/// `GET_FLAGS`: the status flags and the access mode (`O_RDONLY`,
/// `O_WRONLY`, `O_RDWR`), as `F_GETFL` returns them together.
pub fn get_status(fd: u32) -> Result<u32, Errno> {
    simple(Request::GetFlags { fd: fd_arg(fd)? }).map(|r| r[0] as u32 | (r[1] as u32 & 3))
}

/// `SET_FLAGS`.
pub fn set_flags(fd: u32, flags: u32) -> Result<(), Errno> {
    simple(Request::SetFlags {
        fd: fd_arg(fd)?,
        flags: flags & O_NONBLOCK,
    })
    .map(drop)
}

/// `POLL` of `entries` (spec 1.6.25), which get their `revents`: how many
/// are ready. With `nonblock` it answers at once; without, it waits until
/// one is.
pub fn poll(entries: &mut [PollFd], nonblock: bool) -> Result<usize, Errno> {
    let req = Request::Poll {
        nfds: len32(entries.len()),
        nonblock,
    };
    let mut out = vec![0u8; core::mem::size_of_val(entries)];
    let r = call(req, PollFd::encode_all(entries), &mut out)?;
    take_revents(entries, &out);
    Ok(r[0] as usize)
}

/// `POLL` of `entries` that waits until one is ready, ended by `INTERRUPT`
/// when `stop` says so or at `deadline_ns` (as [`blocking`]): how many are
/// ready (the entries get their `revents`), or `EINTR`, and what cut it
/// short.
pub fn poll_blocking(
    entries: &mut [PollFd],
    deadline_ns: Option<u64>,
    stop: Stop<'_>,
) -> Result<(Result<usize, Errno>, Cut), Errno> {
    let req = Request::Poll {
        nfds: len32(entries.len()),
        nonblock: false,
    };
    let mut out = vec![0u8; core::mem::size_of_val(entries)];
    let (r, cut) = blocking(
        req,
        PollFd::encode_all(entries),
        &mut out,
        deadline_ns,
        stop,
    )?;
    if r.is_ok() {
        take_revents(entries, &out);
    }
    Ok((r.map(|r| r[0] as usize), cut))
}

/// Copies the `revents` the device wrote in `out` into `entries`.
fn take_revents(entries: &mut [PollFd], out: &[u8]) {
    if let Some(answered) = PollFd::parse_all(out) {
        for (e, a) in entries.iter_mut().zip(answered) {
            e.revents = a.revents;
        }
    }
}

/// What a `WAIT` reports besides children that ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WaitFor {
    /// Return at once when no matching child has changed state.
    pub nohang: bool,
    /// Children that stopped (`WUNTRACED`).
    pub untraced: bool,
    /// Children that were continued (`WCONTINUED`).
    pub continued: bool,
}

/// `WAIT` for a child of `target`; `Ok(None)` with `nohang` when none has
/// changed state; `stop` says when to interrupt a blocked wait. Returns
/// (pid, wait status).
pub fn wait(target: WaitTarget, how: WaitFor, stop: Stop<'_>) -> Result<Option<(u32, u32)>, Errno> {
    let req = Request::Wait {
        target,
        nohang: how.nohang,
        untraced: how.untraced,
        continued: how.continued,
    };
    let r = call_blocking(req, &[], &mut [], stop)?;
    Ok((r[0] != 0).then_some((r[0] as u32, r[1] as u32)))
}

/// `GETPID`: (pid, parent pid).
pub fn getpid() -> Result<(u32, u32), Errno> {
    simple(Request::GetPid).map(|r| (r[0] as u32, r[1] as u32))
}

/// `KILL` of another process (`signo` 0 probes).
pub fn kill(pid: u32, signo: u32) -> Result<(), Errno> {
    kill_target(KillTarget::Pid(pid), signo)
}

/// `KILL` of a process, a process group or everyone.
pub fn kill_target(target: KillTarget, signo: u32) -> Result<(), Errno> {
    simple(Request::Kill { target, signo }).map(drop)
}

/// `SETPGID` of `pid` (0: this process) into group `pgid` (0: `pid`).
pub fn setpgid(pid: u32, pgid: u32) -> Result<(), Errno> {
    simple(Request::Setpgid { pid, pgid }).map(drop)
}

/// `GETPGID` of `pid` (0: this process).
pub fn getpgid(pid: u32) -> Result<u32, Errno> {
    simple(Request::Getpgid { pid }).map(|r| r[0] as u32)
}

/// `SETSID`: the new session's id.
pub fn setsid() -> Result<u32, Errno> {
    simple(Request::Setsid).map(|r| r[0] as u32)
}

/// `GETSID` of `pid` (0: this process).
pub fn getsid(pid: u32) -> Result<u32, Errno> {
    simple(Request::Getsid { pid }).map(|r| r[0] as u32)
}

/// `STOP`: this process stops as by `signo`; returns once it is continued.
pub fn stop(signo: u32) -> Result<(), Errno> {
    simple(Request::Stop { signo }).map(drop)
}

/// `OPENAT`: the lowest free fd, open on `path`.
pub fn openat(dirfd: Dirfd, path: &[u8], flags: u32, mode: u32) -> Result<u32, Errno> {
    let req = Request::OpenAt {
        dirfd,
        flags,
        mode,
        path_len: path_len(path)?,
    };
    call(req, path, &mut []).map(|r| r[0] as u32)
}

/// `PREAD` of up to `buf.len()` bytes at `offset`; 0 at the end.
pub fn pread(fd: u32, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
    if buf.is_empty() {
        return Ok(0);
    }
    let req = Request::Pread {
        fd: fd_arg(fd)?,
        offset,
        len: len32(buf.len()),
    };
    let r = call(req, &[], buf)?;
    Ok((r[0] as usize).min(buf.len()))
}

/// `PREAD` at `offset` into a program's buffer, in place; 0 at the end.
///
/// # Safety
///
/// As for [`call_segments`].
pub unsafe fn pread_segments<const N: usize>(
    fd: u32,
    offset: u64,
    segs: &Segments<N>,
) -> Result<usize, Errno> {
    if segs.bytes() == 0 {
        return Ok(0);
    }
    let req = Request::Pread {
        fd: fd_arg(fd)?,
        offset,
        len: len32(segs.bytes()),
    };
    // SAFETY: the caller's promise.
    let r = unsafe { call_segments(req, segs, false, None) }?;
    Ok((r[0] as usize).min(segs.bytes()))
}

/// `PWRITE` of a program's buffer at `offset`, in place: how many bytes
/// the file took.
///
/// # Safety
///
/// As for [`call_segments`].
pub unsafe fn pwrite_segments<const N: usize>(
    fd: u32,
    offset: u64,
    segs: &Segments<N>,
) -> Result<usize, Errno> {
    if segs.bytes() == 0 {
        return Ok(0);
    }
    let req = Request::Pwrite {
        fd: fd_arg(fd)?,
        offset,
        len: len32(segs.bytes()),
    };
    // SAFETY: the caller's promise.
    let r = unsafe { call_segments(req, segs, true, None) }?;
    Ok((r[0] as usize).min(segs.bytes()))
}

/// `PWRITE` of kernel bytes `buf` at `offset`.
pub fn pwrite(fd: u32, offset: u64, buf: &[u8]) -> Result<usize, Errno> {
    if buf.is_empty() {
        return Ok(0);
    }
    let req = Request::Pwrite {
        fd: fd_arg(fd)?,
        offset,
        len: len32(buf.len()),
    };
    let r = call(req, buf, &mut [])?;
    Ok((r[0] as usize).min(buf.len()))
}

/// `FTRUNCATE` to `length` bytes.
pub fn ftruncate(fd: u32, length: u64) -> Result<(), Errno> {
    simple(Request::Ftruncate {
        fd: fd_arg(fd)?,
        length,
    })
    .map(drop)
}

/// `FSYNC` (`data_only`: `fdatasync`).
pub fn fsync(fd: u32, data_only: bool) -> Result<(), Errno> {
    simple(Request::Fsync {
        fd: fd_arg(fd)?,
        data_only,
    })
    .map(drop)
}

/// `MKDIRAT` with exactly `mode` (the caller applied the umask).
pub fn mkdirat(dirfd: Dirfd, path: &[u8], mode: u32) -> Result<(), Errno> {
    let req = Request::MkdirAt {
        dirfd,
        mode,
        path_len: path_len(path)?,
    };
    call(req, path, &mut []).map(drop)
}

/// `UNLINKAT` (`AT_REMOVEDIR` in `flags` removes a directory).
pub fn unlinkat(dirfd: Dirfd, path: &[u8], flags: u32) -> Result<(), Errno> {
    let req = Request::UnlinkAt {
        dirfd,
        flags,
        path_len: path_len(path)?,
    };
    call(req, path, &mut []).map(drop)
}

/// A request whose payload is the path pair (`first`, `second`).
fn call_pair(make: impl FnOnce(u32) -> Request, first: &[u8], second: &[u8]) -> Result<(), Errno> {
    path_len(first)?;
    path_len(second)?;
    let mut blob = vec![0u8; PathPair::encoded_len(first, second)];
    let n = PathPair::encode(first, second, &mut blob).map_err(|e| Errno::from(e.errno()))?;
    call(make(len32(n)), &blob[..n], &mut []).map(drop)
}

/// `RENAMEAT` (`RENAME_NOREPLACE`, `RENAME_EXCHANGE` in `flags`).
pub fn renameat(
    old: Dirfd,
    old_path: &[u8],
    new: Dirfd,
    new_path: &[u8],
    flags: u32,
) -> Result<(), Errno> {
    call_pair(
        |len| Request::RenameAt {
            old,
            new,
            flags,
            len,
        },
        old_path,
        new_path,
    )
}

/// `LINKAT` (`AT_SYMLINK_FOLLOW` in `flags`).
pub fn linkat(
    old: Dirfd,
    old_path: &[u8],
    new: Dirfd,
    new_path: &[u8],
    flags: u32,
) -> Result<(), Errno> {
    call_pair(
        |len| Request::LinkAt {
            old,
            new,
            flags,
            len,
        },
        old_path,
        new_path,
    )
}

/// `SYMLINKAT`: a link at `path` (from `dirfd`) holding `target`.
pub fn symlinkat(target: &[u8], dirfd: Dirfd, path: &[u8]) -> Result<(), Errno> {
    call_pair(|len| Request::SymlinkAt { dirfd, len }, target, path)
}

/// `FCHMODAT`; with `AT_EMPTY_PATH` and an empty `path`, `dirfd` itself.
pub fn fchmodat(dirfd: Dirfd, path: &[u8], mode: u32, flags: u32) -> Result<(), Errno> {
    let path_len = if path.is_empty() && flags & virtio_pipe_protocol::fs::AT_EMPTY_PATH != 0 {
        0
    } else {
        path_len(path)?
    };
    let req = Request::FchmodAt {
        dirfd,
        mode,
        flags,
        path_len,
    };
    call(req, path, &mut []).map(drop)
}

/// `UTIMENSAT`: the access and modification times (`UTIME_NOW`,
/// `UTIME_OMIT` in a nanosecond field); with `AT_EMPTY_PATH` and an empty
/// `path`, `dirfd` itself.
pub fn utimensat(
    dirfd: Dirfd,
    path: &[u8],
    times: [(i64, i64); 2],
    flags: u32,
) -> Result<(), Errno> {
    if !(path.is_empty() && flags & virtio_pipe_protocol::fs::AT_EMPTY_PATH != 0) {
        path_len(path)?;
    }
    let mut blob = vec![0u8; TIMES_SIZE + path.len()];
    blob[..TIMES_SIZE].copy_from_slice(&encode_times(times));
    blob[TIMES_SIZE..].copy_from_slice(path);
    let req = Request::UtimensAt {
        dirfd,
        flags,
        len: len32(blob.len()),
    };
    call(req, &blob, &mut []).map(drop)
}

/// `LSEEK`: the new offset.
pub fn lseek(fd: u32, offset: i64, whence: u32) -> Result<u64, Errno> {
    simple(Request::Lseek {
        fd: fd_arg(fd)?,
        offset,
        whence,
    })
    .map(|r| r[0])
}

fn stat_of(buf: &[u8; STAT_SIZE]) -> Result<Stat, Errno> {
    Stat::parse(buf).ok_or(Errno::EIO)
}

/// `FSTAT`.
pub fn fstat(fd: u32) -> Result<Stat, Errno> {
    let mut buf = [0u8; STAT_SIZE];
    call(Request::Fstat { fd: fd_arg(fd)? }, &[], &mut buf)?;
    stat_of(&buf)
}

/// `TTY`: terminal ioctl `cmd` on `fd` with integer argument `arg`; `input`
/// is the struct it passes in (`cmd.readable()` bytes), `output` receives
/// the one it returns (`cmd.writable()` bytes). `ENOTTY` unless `fd` is
/// the tree's terminal.
pub fn tty(fd: u32, cmd: TtyCmd, arg: u64, input: &[u8], output: &mut [u8]) -> Result<(), Errno> {
    tty_change(fd, cmd, arg, false, input, output)
}

/// `TTY` as [`tty`], saying with `nojobctl` (`TTY_F_NOJOBCTL`) that the
/// process blocks or ignores `SIGTTOU` (`process::jobctl`).
pub fn tty_change(
    fd: u32,
    cmd: TtyCmd,
    arg: u64,
    nojobctl: bool,
    input: &[u8],
    output: &mut [u8],
) -> Result<(), Errno> {
    let req = Request::Tty {
        fd: fd_arg(fd)?,
        cmd,
        arg,
        nojobctl,
    };
    call(req, input, output).map(|_| ())
}

/// `STATAT` (`AT_SYMLINK_NOFOLLOW`, `AT_EMPTY_PATH`: an empty `path`
/// then names `dirfd` itself).
pub fn statat(dirfd: Dirfd, path: &[u8], flags: u32) -> Result<Stat, Errno> {
    let path_len = if path.is_empty() && flags & virtio_pipe_protocol::fs::AT_EMPTY_PATH != 0 {
        0
    } else {
        path_len(path)?
    };
    let mut buf = [0u8; STAT_SIZE];
    let req = Request::StatAt {
        dirfd,
        flags,
        path_len,
    };
    call(req, path, &mut buf)?;
    stat_of(&buf)
}

/// `GETDENTS`: whole `linux_dirent64` records into `buf`; 0 at the end.
pub fn getdents(fd: u32, buf: &mut [u8]) -> Result<usize, Errno> {
    let req = Request::Getdents {
        fd: fd_arg(fd)?,
        len: len32(buf.len()),
    };
    let r = call(req, &[], buf)?;
    Ok((r[0] as usize).min(buf.len()))
}

/// `GETDENTS` into a program's buffer, in place: whole `linux_dirent64`
/// records; 0 at the end.
///
/// # Safety
///
/// As for [`call_segments`].
pub unsafe fn getdents_segments<const N: usize>(
    fd: u32,
    segs: &Segments<N>,
) -> Result<usize, Errno> {
    let req = Request::Getdents {
        fd: fd_arg(fd)?,
        len: len32(segs.bytes()),
    };
    // SAFETY: the caller's promise.
    let r = unsafe { call_segments(req, segs, false, None) }?;
    Ok((r[0] as usize).min(segs.bytes()))
}

/// `ACCESSAT`.
pub fn accessat(dirfd: Dirfd, path: &[u8], mode: u32, flags: u32) -> Result<(), Errno> {
    let req = Request::AccessAt {
        dirfd,
        mode,
        flags,
        path_len: path_len(path)?,
    };
    call(req, path, &mut []).map(drop)
}

/// `READLINKAT`: the link's target, truncated to `buf`.
pub fn readlinkat(dirfd: Dirfd, path: &[u8], buf: &mut [u8]) -> Result<usize, Errno> {
    let req = Request::ReadlinkAt {
        dirfd,
        path_len: path_len(path)?,
        len: len32(buf.len()),
    };
    let r = call(req, path, buf)?;
    Ok((r[0] as usize).min(buf.len()))
}

/// `CHDIR` to a path.
pub fn chdir(path: &[u8]) -> Result<(), Errno> {
    let req = Request::Chdir {
        target: ChdirTarget::Path(path_len(path)?),
    };
    call(req, path, &mut []).map(drop)
}

/// `CHDIR` to an open directory (`fchdir`).
pub fn fchdir(fd: u32) -> Result<(), Errno> {
    simple(Request::Chdir {
        target: ChdirTarget::Fd(fd_arg(fd)?),
    })
    .map(drop)
}

/// `GETCWD` into `buf`: the bytes written, NUL included; `ERANGE` when
/// it does not fit.
pub fn getcwd(buf: &mut [u8]) -> Result<usize, Errno> {
    let r = call(
        Request::Getcwd {
            len: len32(buf.len()),
        },
        &[],
        buf,
    )?;
    Ok((r[0] as usize).min(buf.len()))
}

/// `GET_EXE`: the program's path.
pub fn get_exe() -> Result<Vec<u8>, Errno> {
    fetch_path(|len| Request::GetExe { len })
}

/// `EXEC`: the device's side of `execve` (spec 1.6.21): checks the
/// program and makes it this process's (or, for a vfork child, launches
/// the child's own VM running it, which starts with `umask`).
pub fn exec(path: &[u8], argv: &[&[u8]], env: &[&[u8]], umask: u32) -> Result<(), Errno> {
    let n = ExecBlob::encoded_len(path, argv, env).ok_or(Errno::E2BIG)?;
    let mut blob = vec![0u8; n];
    let n = ExecBlob::encode(path, argv, env, &mut blob).map_err(|e| Errno::from(e.errno()))?;
    let req = Request::Exec {
        len: len32(n),
        umask: umask & virtio_pipe_protocol::fs::UMASK_BITS,
    };
    call(req, &blob[..n], &mut []).map(drop)
}

/// `VFORK`: the child's pid; from now on this VM's requests act for it
/// until its `EXEC` or `EXIT` completes (spec 1.6.22).
pub fn vfork() -> Result<u32, Errno> {
    simple(Request::Vfork).map(|r| r[0] as u32)
}

/// `EXIT` of a vfork child: the device ends it and acts for the parent
/// again; the VM goes on.
pub fn exit_borrowed(kind: ExitKind) -> Result<(), Errno> {
    simple(Request::Exit(kind)).map(drop)
}

/// Reports the end to the device (`EXIT`) and powers off. A process that
/// dies of a signal says so, and the parent's `wait` sees it.
pub fn exit(kind: ExitKind) -> ! {
    let value = match kind {
        ExitKind::Code(c) => debug_exit::value_for_code(c),
        ExitKind::Signaled(s) => debug_exit::value_for_signal(s),
    };
    if dev::is_up() {
        dev::request_final(&Request::Exit(kind).header());
    }
    debug_exit::poweroff(value)
}
