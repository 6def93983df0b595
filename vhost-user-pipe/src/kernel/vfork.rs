//! EXEC and VFORK (spec 1.6.21, 1.6.22).
//!
//! A vfork child *borrows* the VM of its parent: it has no VM and no
//! connection of its own, and while it borrows, the requests that arrive on
//! the lender's connection are the child's ([`Kernel::acting`]). It gives the
//! VM back when it EXECs (it then gets a VM of its own: the
//! [`Effect::LaunchVm`] the supervisor carries out) or ends. A kill that
//! would end a borrowing child waits until it gives the VM back: the guest
//! is running the child's code in the lender's VM, and only the child's own
//! EXEC or EXIT tells the guest to resume the parent.

use virtio_pipe_protocol::signal::SIGKILL;
use virtio_pipe_protocol::{Dirfd, Errno, ExecBlob, ExitKind, ARGS_MAX};

use super::{Effect, Kernel};
use crate::io::Io;
use crate::limits::args_bytes;
use crate::process::{Pid, Start};

/// Largest EXEC payload the device reads: a path, and `ARGS_MAX` bytes of
/// strings with the args blob's header.
pub const EXEC_MAX: usize = 4 + virtio_pipe_protocol::fs::PATH_MAX + 8 + ARGS_MAX;

/// What a successful EXEC leaves to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecOutcome {
    /// The caller's VM loads the new program itself.
    InPlace,
    /// The caller borrowed its VM: it needs one of its own
    /// ([`Effect::LaunchVm`] is queued).
    NeedsVm,
    /// The caller was killed while it borrowed: it ended instead.
    Ended,
}

impl Kernel {
    /// The process whose requests arrive on the connection of `vm`: the
    /// innermost vfork child borrowing it, else `vm` itself.
    pub fn acting(&self, vm: Pid) -> Pid {
        self.borrowers
            .get(&vm)
            .and_then(|b| b.last().copied())
            .unwrap_or(vm)
    }

    /// `VFORK` of `parent`: a child that borrows the VM `parent` runs in.
    pub(super) fn vfork(&mut self, parent: Pid) -> Result<Pid, Errno> {
        let p = &self.procs[&parent];
        let vm = p.lender.unwrap_or(parent);
        let (image, argv, env, fds) = (
            p.image.clone(),
            p.argv.clone(),
            p.env.clone(),
            p.fds.clone(),
        );
        let features = p.features;
        let child = self.add_child(parent, &image, argv, env, Start::Fresh, fds)?;
        let c = self.proc_mut(child);
        c.lender = Some(vm);
        c.features = features;
        self.borrowers.entry(vm).or_default().push(child);
        Ok(child)
    }

    /// `EXEC` of `pid`, its exec blob the `len` bytes of `io`'s payload.
    pub(super) fn exec_blob(
        &mut self,
        pid: Pid,
        len: usize,
        umask: u32,
        io: &dyn Io,
    ) -> Result<ExecOutcome, Errno> {
        let buf = io.read_blob(len, EXEC_MAX)?;
        let blob = ExecBlob::parse(&buf).map_err(|e| e.errno())?;
        let argv: Vec<Vec<u8>> = blob.args.argv.iter().map(<[u8]>::to_vec).collect();
        let env: Vec<Vec<u8>> = blob.args.env.iter().map(<[u8]>::to_vec).collect();
        if args_bytes(&argv, &env) > ARGS_MAX {
            return Err(Errno::E2big);
        }
        let path = self.program_path(pid, self.join_at(pid, Dirfd::Cwd, blob.path)?)?;
        let exe = self.root.as_ref().ok_or(Errno::Enoent)?.executable(&path)?;
        let p = self.proc_mut(pid);
        p.image =
            String::from_utf8_lossy(exe.rsplit(|&b| b == b'/').next().unwrap_or(&exe)).into_owned();
        p.exe = Some(exe);
        p.argv = argv;
        p.env = env;
        p.umask = umask;
        p.execd = true;
        let Some(vm) = p.lender.take() else {
            return Ok(ExecOutcome::InPlace);
        };
        let killed = p.deferred_kill.take();
        self.stop_borrowing(vm, pid);
        if let Some(signo) = killed {
            self.end(pid, ExitKind::Signaled(signo), Effect::KillVm(pid));
            return Ok(ExecOutcome::Ended);
        }
        self.effects.push(Effect::LaunchVm(pid));
        Ok(ExecOutcome::NeedsVm)
    }

    /// `pid` no longer borrows `vm`.
    pub(super) fn stop_borrowing(&mut self, vm: Pid, pid: Pid) {
        if let Some(b) = self.borrowers.get_mut(&vm) {
            b.retain(|&c| c != pid);
            if b.is_empty() {
                self.borrowers.remove(&vm);
            }
        }
    }

    /// Ends the children borrowing `vm` (its VM or its driver is gone).
    pub(super) fn end_borrowers(&mut self, vm: Pid) {
        for child in self.borrowers.remove(&vm).unwrap_or_default() {
            if let Some(c) = self.procs.get_mut(&child) {
                c.lender = None;
            }
            self.end(
                child,
                ExitKind::Signaled(SIGKILL as u8),
                Effect::KillVm(child),
            );
        }
    }
}
