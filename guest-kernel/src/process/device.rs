//! The calls that need another process: each one is one virtio-pipe
//! request on `requestq`, and the CPU sleeps in `hlt` until the device
//! completes it. Buffers are kernel memory (the syscall layer copies the
//! program's bytes through bounce buffers). Events that arrive meanwhile
//! (signals, child exits) stay queued in the driver until the way back to
//! user mode collects them (`process::deliver`).

use alloc::vec;
use alloc::vec::Vec;

use virtio_pipe_protocol::{ArgsBlob, ExitKind, Request, StartKind, WaitTarget, O_NONBLOCK};

use crate::drivers::{debug_exit, pipe as dev};
use crate::linux::Errno;

/// First guess at the args blob's size; the device says if it needs more.
const ARGS_FIRST_TRY: usize = 4096;

fn call(req: Request, readable: &[u8], writable: &mut [u8]) -> Result<[u64; 3], Errno> {
    let done =
        dev::request(&req.header(), readable, writable).map_err(|e| Errno::from(e.errno()))?;
    done.rets().map_err(Errno::from)
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

/// `START`: how this process starts, and (forked) the resume record's
/// address its parent passed to `FORK`.
pub fn start() -> Result<(StartKind, u64), Errno> {
    let r = simple(Request::Start)?;
    Ok(if r[0] == StartKind::Forked as u64 {
        (StartKind::Forked, r[1])
    } else {
        (StartKind::Fresh, 0)
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
pub fn read(fd: u32, buf: &mut [u8]) -> Result<usize, Errno> {
    if buf.is_empty() {
        return Ok(0);
    }
    let req = Request::Read {
        fd: fd_arg(fd)?,
        len: len32(buf.len()),
        nonblock: false,
    };
    let r = call(req, &[], buf)?;
    Ok((r[0] as usize).min(buf.len()))
}

/// `WRITE` of `buf`: how many bytes the pipe took.
pub fn write(fd: u32, buf: &[u8]) -> Result<usize, Errno> {
    if buf.is_empty() {
        return Ok(0);
    }
    let req = Request::Write {
        fd: fd_arg(fd)?,
        len: len32(buf.len()),
        nonblock: false,
    };
    let r = call(req, buf, &mut [])?;
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

/// `SET_FLAGS`.
pub fn set_flags(fd: u32, flags: u32) -> Result<(), Errno> {
    simple(Request::SetFlags {
        fd: fd_arg(fd)?,
        flags: flags & O_NONBLOCK,
    })
    .map(drop)
}

/// `WAIT` for child `pid` (or any child for `None`); `Ok(None)` with
/// `nohang` when none has ended. Returns (pid, wait status).
pub fn wait(pid: Option<u32>, nohang: bool) -> Result<Option<(u32, u32)>, Errno> {
    let target = match pid {
        None => WaitTarget::Any,
        Some(p) => WaitTarget::Pid(p),
    };
    let r = simple(Request::Wait { target, nohang })?;
    Ok((r[0] != 0).then_some((r[0] as u32, r[1] as u32)))
}

/// `GETPID`: (pid, parent pid).
pub fn getpid() -> Result<(u32, u32), Errno> {
    simple(Request::GetPid).map(|r| (r[0] as u32, r[1] as u32))
}

/// `KILL` of another process (`signo` 0 probes).
pub fn kill(pid: u32, signo: u32) -> Result<(), Errno> {
    simple(Request::Kill { pid, signo }).map(drop)
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
