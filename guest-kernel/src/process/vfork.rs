//! `vfork()` and `clone(CLONE_VM | CLONE_VFORK)`: a child that runs in
//! this VM, on this memory, while its parent waits, until it `execve`s
//! (it then gets a VM of its own) or ends. Nothing is copied (spec
//! 1.6.22, `VFORK`).
//!
//! The switch is a swap of what makes a process in this kernel: the
//! registers (the syscall's frame on the kernel stack is what the way
//! back to ring 3 restores), the ids, the guest-side fd flags
//! (`FD_CLOEXEC`), the signal state, the TLS bases and a few names. On
//! `VFORK` the parent's are saved in a [`Suspended`] record pushed on
//! `Process::vfork_parents` (vforks nest), and the frame becomes the
//! child's: `rax` = 0, and the stack `clone` gave. The child then runs;
//! the device attributes every request to it. When its `EXEC` (the
//! device launches its VM) or `EXIT` completes, the device acts for the
//! parent again, and [`resume_parent`] pops the record back: the parent
//! returns from its `vfork` with the child's pid.
//!
//! Events that arrive meanwhile are the VM owner's (the device holds a
//! borrowing child's own, spec 1.6.22): `deliver` raises them in the
//! outermost suspended parent's signal state.

use alloc::vec::Vec;

use virtio_pipe_protocol::ExitKind;

use super::clone::CloneRequest;
use super::exec::{self, Program};
use super::fdflags::FdFlags;
use super::signals::SignalState;
use super::{device, Process};
use crate::arch::x86_64::cpu;
use crate::arch::x86_64::frame::TrapFrame;
use crate::linux::Errno;

/// A parent suspended by `vfork` while its child runs.
#[derive(Debug)]
pub struct Suspended {
    /// Its registers at the `vfork` (`rax` is set at the resume).
    frame: TrapFrame,
    pid: u32,
    ppid: u32,
    fd_flags: FdFlags,
    /// Its signal state: events for the VM's owner land here meanwhile.
    pub signals: SignalState,
    fs_base: u64,
    gs_base: u64,
    comm: [u8; 16],
    exe: Vec<u8>,
    umask: u32,
    clear_child_tid: u64,
    robust_list: (u64, u64),
}

/// Starts a vfork child (see the module docs): returns 0, the child's
/// `vfork` result, with `f` now the child's frame.
pub fn vfork(p: &mut Process, f: &mut TrapFrame, req: &CloneRequest) -> Result<u64, Errno> {
    let child = device::vfork()?;
    if let Some(at) = req.parent_settid {
        // The parent's memory is the child's: one write serves both.
        let _ = p.space.write(at, &(child as i32));
    }
    let fs_base = cpu::fs_base();
    p.vfork_parents.push(Suspended {
        frame: f.clone(),
        pid: p.pid,
        ppid: p.ppid,
        fd_flags: p.fd_flags.clone(),
        signals: p.signals.clone(),
        fs_base,
        gs_base: cpu::gs_base(),
        comm: p.comm,
        exe: p.exe.clone(),
        umask: p.umask,
        clear_child_tid: p.clear_child_tid,
        robust_list: p.robust_list,
    });
    p.ppid = p.pid;
    p.pid = child;
    p.signals.clear_pending();
    if req.clear_sighand {
        p.signals.reset_handlers();
    }
    p.clear_child_tid = req.child_cleartid.unwrap_or(0);
    p.robust_list = (0, 0);
    if let Some(at) = req.child_settid {
        let _ = p.space.write(at, &(child as i32));
    }
    if let Some(tls) = req.tls {
        cpu::set_fs_base(tls);
    }
    if let Some(sp) = req.stack {
        f.rsp = sp;
    }
    log::debug!("pid {}: vfork child {child} runs", p.ppid);
    Ok(0)
}

/// Whether the current process is a vfork child borrowing this VM.
pub fn is_child(p: &Process) -> bool {
    !p.vfork_parents.is_empty()
}

/// The child has its own VM or has ended: the innermost suspended parent
/// comes back. Returns the child's pid, the parent's `vfork` result;
/// `f` is the parent's frame.
pub fn resume_parent(p: &mut Process, f: &mut TrapFrame) -> u64 {
    let s = p
        .vfork_parents
        .pop()
        .expect("only a vfork child resumes a parent");
    let child = p.pid;
    *f = s.frame;
    p.pid = s.pid;
    p.ppid = s.ppid;
    p.fd_flags = s.fd_flags;
    p.signals = s.signals;
    p.comm = s.comm;
    p.exe = s.exe;
    p.umask = s.umask;
    p.clear_child_tid = s.clear_child_tid;
    p.robust_list = s.robust_list;
    cpu::set_fs_base(s.fs_base);
    cpu::set_gs_base(s.gs_base);
    log::debug!(
        "pid {}: vfork child {child} is done; the parent resumes",
        p.pid
    );
    f.rax = u64::from(child);
    u64::from(child)
}

/// A vfork child's `execve`: its close-on-exec fds are closed and `EXEC`
/// launches its own VM running `prog`; then the parent resumes (the
/// result is the child's pid, for the parent's `vfork`).
///
/// The fds are closed before `EXEC`, since once it completes the device
/// acts for the parent; every check that can fail is made before (see
/// `Program::open`), so only an `EXEC` failing for another reason (a
/// limit of the device) leaves the child with them closed.
pub fn exec(
    p: &mut Process,
    f: &mut TrapFrame,
    prog: Program,
    env: &[Vec<u8>],
) -> Result<u64, Errno> {
    let argv_owned = prog.argv.clone();
    let path = prog.path.clone();
    prog.close();
    exec::close_cloexec(p);
    let argv: Vec<&[u8]> = argv_owned.iter().map(Vec::as_slice).collect();
    let env: Vec<&[u8]> = env.iter().map(Vec::as_slice).collect();
    device::exec(&path, &argv, &env, p.umask)?;
    Ok(resume_parent(p, f))
}

/// A vfork child ends (`_exit`, or a signal's default action): `EXIT`,
/// then the parent resumes. Returns the child's pid.
pub fn exit(p: &mut Process, f: &mut TrapFrame, kind: ExitKind) -> u64 {
    if let Err(e) = device::exit_borrowed(kind) {
        log::warn!("pid {}: EXIT of a vfork child failed: {e}", p.pid);
    }
    resume_parent(p, f)
}
