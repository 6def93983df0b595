//! Process identity, exit and wait; the calls that create processes and
//! replace programs. Ids and waits are the device's (the daemon holds the
//! process table); `fork` and its `clone` forms are `process::fork`.

use alloc::vec::Vec;

use virtio_pipe_protocol::fs::PATH_MAX;
use virtio_pipe_protocol::{ExitKind, WaitTarget, ARGS_MAX};

use super::{Args, Ctx};
use crate::arch::layout::PAGE_SIZE;
use crate::linux::clone::CLONE_ARGS_SIZE_VER0;
use crate::linux::wait::*;
use crate::linux::{CloneArgs, Errno, Siginfo, SysResult, Timespec};
use crate::process::clone::{CloneError, CloneKind, CloneRequest};
use crate::process::device::WaitFor;
use crate::process::{deliver, device, exec, fork, vfork, Process};

/// `getpid()`.
pub fn getpid(cx: &mut Ctx<'_>, _a: Args) -> SysResult {
    Ok(u64::from(cx.p.pid))
}

/// `getppid()`: asked of the device, since the parent may have changed
/// (an orphan is re-parented to pid 1).
pub fn getppid(cx: &mut Ctx<'_>, _a: Args) -> SysResult {
    let (_, ppid) = device::getpid()?;
    cx.p.ppid = ppid;
    Ok(u64::from(ppid))
}

/// `gettid()`: one thread, whose tid is the pid.
pub fn gettid(cx: &mut Ctx<'_>, _a: Args) -> SysResult {
    Ok(u64::from(cx.p.pid))
}

/// `exit(status)`: with one thread, the same as `exit_group`.
pub fn exit(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    exit_group(cx, a)
}

/// `exit_group(status)`: reports the code (its low 8 bits) to the device,
/// which wakes the parent's `wait`, and powers off; a vfork child's exit
/// resumes its parent instead.
pub fn exit_group(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let code = a[0] as u8;
    log::debug!("pid {}: exit {code}", cx.p.pid);
    if vfork::is_child(cx.p) {
        return Ok(vfork::exit(cx.p, cx.f, ExitKind::Code(code)));
    }
    device::exit(ExitKind::Code(code))
}

/// A child's (pid, wait status) from the device, for `target` and the
/// `wait4`/`waitid` options.
fn wait_child(
    p: &mut Process,
    target: WaitTarget,
    options: u64,
) -> Result<Option<(u32, u32)>, Errno> {
    let how = WaitFor {
        nohang: options & WNOHANG != 0,
        untraced: options & WUNTRACED != 0,
        continued: options & WCONTINUED != 0,
    };
    device::wait(target, how, &mut || deliver::interrupting_signal(p))
}

/// `wait4(pid, wstatus, options, rusage)`. A signal to deliver ends a
/// blocked wait (`INTERRUPT`): `EINTR`, or a restart after an
/// `SA_RESTART` handler.
pub fn wait4(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (pid, wstatus, options, rusage) = (a[0] as i32, a[1], a[2], a[3]);
    if options & !(WNOHANG | WUNTRACED | WCONTINUED | WALL | WCLONE | WNOTHREAD) != 0 {
        return Err(Errno::EINVAL);
    }
    // -1 any child, 0 one in the caller's group, -pgid one in that group.
    let target = match pid {
        -1 => WaitTarget::Any,
        0 => WaitTarget::OwnGroup,
        p if p > 0 => WaitTarget::Pid(p as u32),
        i32::MIN => return Err(Errno::ESRCH),
        p => WaitTarget::Group(p.unsigned_abs()),
    };
    let Some((child, status)) = wait_child(cx.p, target, options)? else {
        return Ok(0);
    };
    if wstatus != 0 {
        cx.p.space.write(wstatus, &(status as i32))?;
    }
    if rusage != 0 {
        cx.p.space.copy_out(rusage, &[0u8; 144])?;
    }
    Ok(u64::from(child))
}

/// `waitid(idtype, id, infop, options, rusage)`: `P_ALL`, `P_PID` and
/// `P_PGID` (0: the caller's group), `WEXITED` (required), `WSTOPPED`,
/// `WCONTINUED`, `WNOHANG`. `WNOWAIT` is not supported.
pub fn waitid(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (idtype, id, infop, options, rusage) = (a[0], a[1] as i32, a[2], a[3], a[4]);
    if options & WEXITED == 0
        || options
            & !(WNOHANG | WEXITED | WUNTRACED | WCONTINUED | WNOWAIT | WALL | WCLONE | WNOTHREAD)
            != 0
    {
        return Err(Errno::EINVAL);
    }
    if options & WNOWAIT != 0 {
        log::info!("pid {}: waitid(WNOWAIT) is not supported", cx.p.pid);
        return Err(Errno::EINVAL);
    }
    let target = match idtype {
        P_ALL => WaitTarget::Any,
        P_PID if id > 0 => WaitTarget::Pid(id as u32),
        P_PGID if id == 0 => WaitTarget::OwnGroup,
        P_PGID if id > 0 => WaitTarget::Group(id as u32),
        _ => return Err(Errno::EINVAL),
    };
    let got = wait_child(cx.p, target, options)?;
    let info = match got {
        None => Siginfo::default(),
        Some((child, status)) => deliver::child_siginfo(child, status),
    };
    if infop != 0 {
        cx.p.space.write(infop, &info)?;
    }
    if rusage != 0 {
        cx.p.space.copy_out(rusage, &[0u8; 144])?;
    }
    Ok(0)
}

/// `set_tid_address(tidptr)`: remembered (a thread's exit would clear it);
/// returns the tid.
pub fn set_tid_address(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    cx.p.clear_child_tid = a[0];
    Ok(u64::from(cx.p.pid))
}

/// `futex(uaddr, op, val, timeout, uaddr2, val3)` for one thread: no one
/// else can wait or wake, so `FUTEX_WAKE` wakes nobody (0), and a
/// `FUTEX_WAIT` whose word still holds `val` sleeps until its timeout
/// (`ETIMEDOUT`) or a signal (`EINTR`); a changed word is `EAGAIN`. Rust's
/// and glibc's locks call these even in single-threaded programs.
pub fn futex(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    const FUTEX_WAIT: u64 = 0;
    const FUTEX_WAKE: u64 = 1;
    const FUTEX_WAIT_BITSET: u64 = 9;
    const FUTEX_WAKE_BITSET: u64 = 10;
    const FUTEX_PRIVATE_FLAG: u64 = 128;
    const FUTEX_CLOCK_REALTIME: u64 = 256;
    let (uaddr, op, val, timeout) = (a[0], a[1], a[2] as u32, a[3]);
    let cmd = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    match cmd {
        FUTEX_WAKE | FUTEX_WAKE_BITSET => Ok(0),
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            if uaddr % 4 != 0 {
                return Err(Errno::EINVAL);
            }
            let word: u32 = cx.p.space.read(uaddr)?;
            if word != val {
                return Err(Errno::EAGAIN);
            }
            let ns = if timeout == 0 {
                None
            } else {
                let t: Timespec = cx.p.space.read(timeout)?;
                let t = t.to_ns().ok_or(Errno::EINVAL)?;
                Some(if cmd == FUTEX_WAIT_BITSET {
                    // An absolute deadline on the monotonic or wall clock.
                    let clk = if op & FUTEX_CLOCK_REALTIME != 0 { 0 } else { 1 };
                    t.saturating_sub(super::time::now(clk)?)
                } else {
                    t
                })
            };
            match super::time::sleep(cx.p, ns) {
                None => Err(Errno::ETIMEDOUT),
                Some(_) => Err(Errno::EINTR),
            }
        }
        _ => {
            log::info!(
                "pid {}: futex op {op:#x} is not supported: ENOSYS",
                cx.p.pid
            );
            Err(Errno::ENOSYS)
        }
    }
}

/// `set_robust_list(head, len)`: remembered; with one thread nothing ever
/// walks it.
pub fn set_robust_list(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    const ROBUST_LIST_HEAD_SIZE: u64 = 24;
    if a[1] != ROBUST_LIST_HEAD_SIZE {
        return Err(Errno::EINVAL);
    }
    cx.p.robust_list = (a[0], a[1]);
    Ok(0)
}

/// Creates a process as `req` says.
fn create(cx: &mut Ctx<'_>, req: &CloneRequest) -> SysResult {
    match req.kind {
        CloneKind::Fork => {
            let pid = fork::fork(cx.p, cx.f, req)?;
            if let Some(at) = req.parent_settid {
                cx.p.space.write(at, &(pid as i32))?;
            }
            Ok(u64::from(pid))
        }
        CloneKind::Vfork => vfork::vfork(cx.p, cx.f, req),
    }
}

fn refused(cx: &Ctx<'_>, call: &str, e: CloneError) -> Errno {
    match e {
        CloneError::Unsupported(what) => {
            log::info!("pid {}: {call}: {what} are not supported: ENOSYS", cx.p.pid)
        }
        CloneError::Invalid(what) => log::info!("pid {}: {call}: {what}: EINVAL", cx.p.pid),
    }
    e.errno()
}

/// `clone(flags, newsp, parent_tid, child_tid, tls)`: a fork (no
/// `CLONE_VM`) or a vfork (`CLONE_VM | CLONE_VFORK`); threads and shared
/// tables are `ENOSYS` with a log line.
pub fn clone(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let req = CloneRequest::from_clone(a[0], a[1], a[2], a[3], a[4])
        .map_err(|e| refused(cx, "clone", e))?;
    create(cx, &req)
}

/// `clone3(args, size)`: as `clone`, from a `struct clone_args` (glibc's
/// `posix_spawn`, and so Rust's `Command::spawn`, use it).
pub fn clone3(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (at, size) = (a[0], a[1]);
    if !(CLONE_ARGS_SIZE_VER0..=PAGE_SIZE).contains(&size) {
        return Err(Errno::EINVAL);
    }
    let args: CloneArgs = cx.p.space.read(at)?;
    let req = CloneRequest::from_clone3(&args).map_err(|e| refused(cx, "clone3", e))?;
    create(cx, &req)
}

/// `fork()`.
pub fn fork(cx: &mut Ctx<'_>, _a: Args) -> SysResult {
    create(cx, &CloneRequest::FORK)
}

/// `vfork()`.
pub fn vfork(cx: &mut Ctx<'_>, _a: Args) -> SysResult {
    create(cx, &CloneRequest::VFORK)
}

/// The strings of a NULL-terminated array of pointers at `at` (NULL: none),
/// `E2BIG` beyond the device's `ARGS_MAX` bytes.
fn strings(cx: &mut Ctx<'_>, at: u64, budget: &mut usize) -> Result<Vec<Vec<u8>>, Errno> {
    let mut out = Vec::new();
    if at == 0 {
        return Ok(out);
    }
    for i in 0.. {
        let ptr: u64 = cx.p.space.read(at + i * 8)?;
        if ptr == 0 {
            break;
        }
        let s = cx.p.space.read_cstr(ptr, *budget).map_err(|e| {
            if e == Errno::ENAMETOOLONG {
                Errno::E2BIG
            } else {
                e
            }
        })?;
        *budget = budget.checked_sub(s.len() + 1).ok_or(Errno::E2BIG)?;
        out.push(s);
    }
    Ok(out)
}

/// `execve(path, argv, envp)`: checks and opens the program
/// (`process::exec::Program`, `#!` scripts included), then replaces this
/// process's program in place, or for a vfork child gives it a VM of its
/// own running the program and resumes the parent. Errors before the
/// point of no return come back to the caller.
pub fn execve(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (path_at, argv_at, envp_at) = (a[0], a[1], a[2]);
    let path = cx.p.space.read_cstr(path_at, PATH_MAX)?;
    if path.len() > PATH_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    let mut budget = ARGS_MAX;
    let argv = strings(cx, argv_at, &mut budget)?;
    let env = strings(cx, envp_at, &mut budget)?;
    let prog = exec::Program::open(&path, argv)?;
    if cx.p.strace {
        log::info!(target: "strace", "execve({}) as {}", exec::Bytes(&path), exec::Bytes(&prog.path));
    }
    if vfork::is_child(cx.p) {
        return vfork::exec(cx.p, cx.f, prog, &env);
    }
    exec::exec_in_place(cx.p, cx.f, prog, &env, &path)?;
    Ok(0)
}
