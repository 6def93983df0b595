//! The process API: POSIX process and pipe calls as virtio-pipe requests.
//!
//! Every call is one request on `requestq`; the calling CPU sleeps in `hlt`
//! until the device completes it. After each call, pending events (signals,
//! child exits) are delivered, so a default-action signal ends the process
//! at the next call, the way a signal interrupts a blocked syscall.
//!
//! ```ignore
//! use unikernel::process;
//! let [r, w] = process::pipe()?;
//! process::write(w, b"hi")?;
//! let mut buf = [0u8; 2];
//! assert_eq!(process::read(r, &mut buf)?, 2);
//! ```

pub mod args;
mod fork;
pub mod fork_record;
pub mod signal;
pub mod status;

use alloc::vec::Vec;

pub use fork::fork;
pub use status::WaitStatus;
pub use virtio_pipe_protocol::{Errno, FileAction};
use virtio_pipe_protocol::{ExitKind, Request, SpawnBlob, WaitTarget, O_NONBLOCK};

use crate::drivers::{debug_exit, pipe as dev};

/// A file descriptor.
pub type Fd = i32;
/// A process ID.
pub type Pid = i32;

/// Makes one request; its header comes from `Request::header`, so the
/// argument layout of every op lives in `virtio-pipe-protocol` only.
fn call(req: Request, readable: &[u8], writable: &mut [u8]) -> Result<([u64; 3], usize), Errno> {
    let done = dev::request(&req.header(), readable, writable);
    signal::deliver_pending();
    let done = done.map_err(|e| e.errno())?;
    Ok((done.rets()?, done.payload_written))
}

fn simple(req: Request) -> Result<[u64; 3], Errno> {
    call(req, &[], &mut []).map(|(r, _)| r)
}

fn fd_arg(fd: Fd) -> Result<u32, Errno> {
    u32::try_from(fd).map_err(|_| Errno::Ebadf)
}

fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Most bytes one `read` or `write` moves, as Linux's `MAX_RW_COUNT`: a
/// larger request moves that much (a short count, as POSIX allows). A
/// transfer must fit in one descriptor chain (32-bit lengths).
pub const MAX_RW: usize = 0x7fff_f000;

/// Creates a pipe: `[read end, write end]`.
pub fn pipe() -> Result<[Fd; 2], Errno> {
    pipe2(0)
}

/// Creates a pipe with status flags (`O_NONBLOCK`) on both ends.
pub fn pipe2(flags: u32) -> Result<[Fd; 2], Errno> {
    let r = simple(Request::Pipe {
        flags: flags & O_NONBLOCK,
    })?;
    Ok([r[0] as Fd, r[1] as Fd])
}

/// Reads up to `buf.len()` bytes; 0 means end of file.
pub fn read(fd: Fd, buf: &mut [u8]) -> Result<usize, Errno> {
    if buf.is_empty() {
        return Ok(0);
    }
    let n = buf.len().min(MAX_RW);
    let buf = &mut buf[..n];
    let req = Request::Read {
        fd: fd_arg(fd)?,
        len: len32(buf.len()),
        nonblock: false,
    };
    let (r, written) = call(req, &[], buf)?;
    let _ = written;
    Ok((r[0] as usize).min(buf.len()))
}

/// Writes `buf`, returning how many bytes the pipe took.
pub fn write(fd: Fd, buf: &[u8]) -> Result<usize, Errno> {
    if buf.is_empty() {
        return Ok(0);
    }
    let buf = &buf[..buf.len().min(MAX_RW)];
    let req = Request::Write {
        fd: fd_arg(fd)?,
        len: len32(buf.len()),
        nonblock: false,
    };
    let (r, _) = call(req, buf, &mut [])?;
    Ok(r[0] as usize)
}

/// Writes all of `buf`, looping over short writes.
pub fn write_all(fd: Fd, mut buf: &[u8]) -> Result<(), Errno> {
    while !buf.is_empty() {
        let n = write(fd, buf)?;
        if n == 0 {
            return Err(Errno::Epipe);
        }
        buf = &buf[n..];
    }
    Ok(())
}

/// Closes an fd.
pub fn close(fd: Fd) -> Result<(), Errno> {
    simple(Request::Close { fd: fd_arg(fd)? }).map(drop)
}

/// Duplicates `fd` onto the lowest free number.
pub fn dup(fd: Fd) -> Result<Fd, Errno> {
    simple(Request::Dup { fd: fd_arg(fd)? }).map(|r| r[0] as Fd)
}

/// Duplicates `fd` onto `newfd`, closing what `newfd` was.
pub fn dup2(fd: Fd, newfd: Fd) -> Result<Fd, Errno> {
    simple(Request::Dup2 {
        fd: fd_arg(fd)?,
        newfd: fd_arg(newfd)?,
    })
    .map(|r| r[0] as Fd)
}

/// An fd's status flags (`O_NONBLOCK`).
pub fn get_flags(fd: Fd) -> Result<u32, Errno> {
    simple(Request::GetFlags { fd: fd_arg(fd)? }).map(|r| r[0] as u32)
}

/// Sets an fd's status flags.
pub fn set_flags(fd: Fd, flags: u32) -> Result<(), Errno> {
    simple(Request::SetFlags {
        fd: fd_arg(fd)?,
        flags: flags & O_NONBLOCK,
    })
    .map(drop)
}

/// Spawns image `name` from the device's image directory.
pub fn spawn(
    name: &str,
    argv: &[&[u8]],
    env: &[&[u8]],
    actions: &[FileAction],
) -> Result<Pid, Errno> {
    let len = SpawnBlob::encoded_len(name, argv, env, actions).ok_or(Errno::E2big)?;
    let mut blob = Vec::new();
    blob.try_reserve_exact(len).map_err(|_| Errno::Enomem)?;
    blob.resize(len, 0);
    let n = SpawnBlob::encode(name, argv, env, actions, &mut blob).map_err(|e| e.errno())?;
    let (r, _) = call(Request::Spawn { len: len32(n) }, &blob[..n], &mut [])?;
    Ok(r[0] as Pid)
}

/// Waits for any child to end.
pub fn wait() -> Result<(Pid, WaitStatus), Errno> {
    waitpid(-1, false).map(|r| r.expect("a blocking wait returns a child"))
}

/// Waits for child `pid` (or any child for -1); with `nohang`, `Ok(None)`
/// when none has ended yet.
pub fn waitpid(pid: Pid, nohang: bool) -> Result<Option<(Pid, WaitStatus)>, Errno> {
    if pid == 0 || pid < -1 {
        return Err(Errno::Einval);
    }
    let target = if pid == -1 {
        WaitTarget::Any
    } else {
        WaitTarget::Pid(pid as u32)
    };
    let (r, _) = call(Request::Wait { target, nohang }, &[], &mut [])?;
    Ok((r[0] != 0).then(|| (r[0] as Pid, WaitStatus(r[1] as u32))))
}

/// This process's ID.
pub fn getpid() -> Pid {
    simple(Request::GetPid).map(|r| r[0] as Pid).unwrap_or(-1)
}

/// The parent's process ID.
pub fn getppid() -> Pid {
    simple(Request::GetPid).map(|r| r[1] as Pid).unwrap_or(-1)
}

/// Sends signal `signo` (0 probes) to `pid`.
pub fn kill(pid: Pid, signo: i32) -> Result<(), Errno> {
    if pid <= 0 {
        return Err(Errno::Einval);
    }
    let signo = u32::try_from(signo).map_err(|_| Errno::Einval)?;
    simple(Request::Kill {
        pid: pid as u32,
        signo,
    })
    .map(drop)
}

/// Runs the at-exit handlers and flushes stdio, then ends the process with `code`.
pub fn exit(code: i32) -> ! {
    crate::libc::stdlib::run_exit_hooks();
    exit_immediately(code)
}

/// Ends the process without running at-exit hooks (`_exit`).
pub fn exit_immediately(code: i32) -> ! {
    exit_with(ExitKind::Code(code as u8))
}

/// Reports the end to the device and powers off.
pub fn exit_with(kind: ExitKind) -> ! {
    let value = match kind {
        ExitKind::Code(c) => debug_exit::value_for_code(c),
        ExitKind::Signaled(s) => debug_exit::value_for_signal(s),
    };
    if dev::is_up() {
        dev::request_final(&Request::Exit(kind).header());
    }
    debug_exit::poweroff(value)
}
