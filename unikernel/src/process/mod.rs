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
use virtio_pipe_protocol::{
    ExitKind, Op, ReqHeader, SpawnBlob, EXIT_F_SIGNALED, O_NONBLOCK, WAIT_F_NOHANG,
};

use crate::drivers::{debug_exit, pipe as dev};

/// A file descriptor.
pub type Fd = i32;
/// A process ID.
pub type Pid = i32;

fn call(
    op: Op,
    flags: u32,
    args: [u64; 3],
    readable: &[u8],
    writable: &mut [u8],
) -> Result<([u64; 3], usize), Errno> {
    let hdr = ReqHeader::new(op, flags, args);
    let done = dev::request(&hdr, readable, writable);
    signal::deliver_pending();
    let done = done.map_err(|e| e.errno())?;
    Ok((done.rets()?, done.payload_written))
}

fn simple(op: Op, args: [u64; 3]) -> Result<[u64; 3], Errno> {
    call(op, 0, args, &[], &mut []).map(|(r, _)| r)
}

fn fd_arg(fd: Fd) -> Result<u64, Errno> {
    u64::try_from(fd).map_err(|_| Errno::Ebadf)
}

/// Creates a pipe: `[read end, write end]`.
pub fn pipe() -> Result<[Fd; 2], Errno> {
    pipe2(0)
}

/// Creates a pipe with status flags (`O_NONBLOCK`) on both ends.
pub fn pipe2(flags: u32) -> Result<[Fd; 2], Errno> {
    let r = simple(Op::Pipe, [u64::from(flags & O_NONBLOCK), 0, 0])?;
    Ok([r[0] as Fd, r[1] as Fd])
}

/// Reads up to `buf.len()` bytes; 0 means end of file.
pub fn read(fd: Fd, buf: &mut [u8]) -> Result<usize, Errno> {
    if buf.is_empty() {
        return Ok(0);
    }
    let (r, written) = call(Op::Read, 0, [fd_arg(fd)?, 0, 0], &[], buf)?;
    let _ = written;
    Ok((r[0] as usize).min(buf.len()))
}

/// Writes `buf`, returning how many bytes the pipe took.
pub fn write(fd: Fd, buf: &[u8]) -> Result<usize, Errno> {
    if buf.is_empty() {
        return Ok(0);
    }
    let (r, _) = call(Op::Write, 0, [fd_arg(fd)?, 0, 0], buf, &mut [])?;
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
    simple(Op::Close, [fd_arg(fd)?, 0, 0]).map(drop)
}

/// Duplicates `fd` onto the lowest free number.
pub fn dup(fd: Fd) -> Result<Fd, Errno> {
    simple(Op::Dup, [fd_arg(fd)?, 0, 0]).map(|r| r[0] as Fd)
}

/// Duplicates `fd` onto `newfd`, closing what `newfd` was.
pub fn dup2(fd: Fd, newfd: Fd) -> Result<Fd, Errno> {
    simple(Op::Dup2, [fd_arg(fd)?, fd_arg(newfd)?, 0]).map(|r| r[0] as Fd)
}

/// An fd's status flags (`O_NONBLOCK`).
pub fn get_flags(fd: Fd) -> Result<u32, Errno> {
    simple(Op::GetFlags, [fd_arg(fd)?, 0, 0]).map(|r| r[0] as u32)
}

/// Sets an fd's status flags.
pub fn set_flags(fd: Fd, flags: u32) -> Result<(), Errno> {
    simple(
        Op::SetFlags,
        [fd_arg(fd)?, u64::from(flags & O_NONBLOCK), 0],
    )
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
    let (r, _) = call(Op::Spawn, 0, [0; 3], &blob[..n], &mut [])?;
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
    let flags = if nohang { WAIT_F_NOHANG } else { 0 };
    let (r, _) = call(Op::Wait, flags, [pid as i64 as u64, 0, 0], &[], &mut [])?;
    Ok((r[0] != 0).then(|| (r[0] as Pid, WaitStatus(r[1] as u32))))
}

/// This process's ID.
pub fn getpid() -> Pid {
    simple(Op::GetPid, [0; 3])
        .map(|r| r[0] as Pid)
        .unwrap_or(-1)
}

/// The parent's process ID.
pub fn getppid() -> Pid {
    simple(Op::GetPid, [0; 3])
        .map(|r| r[1] as Pid)
        .unwrap_or(-1)
}

/// Sends signal `signo` (0 probes) to `pid`.
pub fn kill(pid: Pid, signo: i32) -> Result<(), Errno> {
    if pid <= 0 {
        return Err(Errno::Einval);
    }
    simple(Op::Kill, [pid as u64, signo as u64, 0]).map(drop)
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
    let (flags, args, value) = match kind {
        ExitKind::Code(c) => (0, [u64::from(c), 0, 0], debug_exit::value_for_code(c)),
        ExitKind::Signaled(s) => (
            EXIT_F_SIGNALED,
            [0, u64::from(s), 0],
            debug_exit::value_for_signal(s),
        ),
    };
    if dev::is_up() {
        dev::request_final(&ReqHeader::new(Op::Exit, flags, args));
    }
    debug_exit::poweroff(value)
}
