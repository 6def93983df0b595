//! Process groups and sessions (spec 1.6.26): `SETPGID`, `GETPGID`,
//! `SETSID`, `GETSID`, and the targets of `KILL` and `WAIT` that name a
//! group (1.6.18, 1.6.16). Every process has a pgid and a sid, inherited
//! from its parent (SPAWN, FORK, VFORK) and kept across `EXEC`; the root
//! starts as the leader of group 1 and session 1. There are no users, so
//! `KILL` never fails with `EPERM`; `SETPGID` and `SETSID` do, where
//! POSIX says so.

use virtio_pipe_protocol::{Errno, KillTarget, WaitTarget};

use super::Kernel;
use crate::process::{Pid, HOST_PID, ROOT_PID};

impl Kernel {
    /// The process group of `pid` (live or not yet reaped); `None` for
    /// no such process. What the terminal's foreground group is made of.
    pub fn pgid_of(&self, pid: Pid) -> Option<Pid> {
        self.procs
            .get(&pid)
            .filter(|p| p.pid != HOST_PID)
            .map(|p| p.pgid)
    }

    /// The processes of group `pgid`, live or not yet reaped.
    fn group_members(&self, pgid: Pid) -> Vec<Pid> {
        self.procs
            .values()
            .filter(|p| p.pid != HOST_PID && p.pgid == pgid)
            .map(|p| p.pid)
            .collect()
    }

    /// Sends `signo` from `sender` (`HOST_PID`: the daemon itself, e.g. for
    /// the terminal's Ctrl-C) to every process of group `pgid`; `ESRCH`
    /// when the group has no process.
    pub fn kill_group(&mut self, sender: Pid, pgid: Pid, signo: u32) -> Result<(), Errno> {
        let members = self.group_members(pgid);
        self.kill_each(sender, members, signo)
    }

    /// `KILL` of `target` by `sender` (spec: `dev-kill-group`).
    pub(super) fn kill_target(
        &mut self,
        sender: Pid,
        target: KillTarget,
        signo: u32,
    ) -> Result<(), Errno> {
        let targets = match target {
            KillTarget::Pid(pid) => return self.kill(sender, pid, signo),
            KillTarget::OwnGroup => {
                let pgid = self.pgid_of(sender).ok_or(Errno::Esrch)?;
                self.group_members(pgid)
            }
            KillTarget::Group(pgid) => self.group_members(pgid),
            KillTarget::All => self
                .procs
                .keys()
                .copied()
                .filter(|&p| p != HOST_PID && p != ROOT_PID && p != sender)
                .collect(),
        };
        self.kill_each(sender, targets, signo)
    }

    /// Signals each live process of `targets`, the sender last (a signal
    /// that ends it must not cut the others short). `ESRCH` when
    /// `targets` is empty; a member that has ended but is not yet reaped
    /// counts as found, as on Linux.
    fn kill_each(&mut self, sender: Pid, mut targets: Vec<Pid>, signo: u32) -> Result<(), Errno> {
        if targets.is_empty() {
            return Err(Errno::Esrch);
        }
        targets.sort_by_key(|&p| p == sender);
        for t in targets {
            if self.procs.get(&t).is_some_and(|p| p.is_running()) {
                // Each one is found: only ESRCH could come back, from a
                // process that a signal to an earlier one just ended.
                let _ = self.kill(sender, t, signo);
            }
        }
        Ok(())
    }

    /// Whether `child` is one a `WAIT` for `target` waits for (the
    /// caller's own group already resolved to its pgid).
    pub(super) fn wait_matches(&self, target: WaitTarget, child: Pid) -> bool {
        match target {
            WaitTarget::Any => true,
            WaitTarget::Pid(c) => c == child,
            WaitTarget::Group(g) => self.pgid_of(child) == Some(g),
            WaitTarget::OwnGroup => false,
        }
    }

    /// A process the group ops may name: `pid`, or the caller for 0.
    fn named(&self, caller: Pid, pid: u32) -> Result<Pid, Errno> {
        let pid = if pid == 0 { caller } else { pid };
        self.pgid_of(pid).map(|_| pid).ok_or(Errno::Esrch)
    }

    /// `SETPGID`: the rules of POSIX `setpgid` (spec: `dev-setpgid`).
    pub(super) fn setpgid(&mut self, caller: Pid, pid: u32, pgid: u32) -> Result<(), Errno> {
        let pid = self.named(caller, pid)?;
        let pgid = if pgid == 0 { pid } else { pgid };
        let sid = self.procs[&caller].sid;
        let t = &self.procs[&pid];
        if pid != caller {
            if t.ppid != caller {
                return Err(Errno::Esrch);
            }
            if t.sid != sid {
                return Err(Errno::Eperm);
            }
            if t.execd {
                return Err(Errno::Eacces);
            }
        }
        if t.sid == pid {
            // A session leader stays in its group.
            return Err(Errno::Eperm);
        }
        if pgid != pid
            && !self
                .procs
                .values()
                .any(|p| p.pid != HOST_PID && p.pgid == pgid && p.sid == sid)
        {
            return Err(Errno::Eperm);
        }
        self.proc_mut(pid).pgid = pgid;
        Ok(())
    }

    /// `GETPGID` of `pid` (0: the caller).
    pub(super) fn getpgid(&self, caller: Pid, pid: u32) -> Result<Pid, Errno> {
        let pid = self.named(caller, pid)?;
        Ok(self.procs[&pid].pgid)
    }

    /// `GETSID` of `pid` (0: the caller).
    pub(super) fn getsid(&self, caller: Pid, pid: u32) -> Result<Pid, Errno> {
        let pid = self.named(caller, pid)?;
        Ok(self.procs[&pid].sid)
    }

    /// `SETSID`: the caller leads a new session and a new group, both
    /// named by its pid; `EPERM` when a group of that pgid exists (the
    /// caller leads one).
    pub(super) fn setsid(&mut self, caller: Pid) -> Result<Pid, Errno> {
        if !self.group_members(caller).is_empty() {
            return Err(Errno::Eperm);
        }
        let p = self.proc_mut(caller);
        p.sid = caller;
        p.pgid = caller;
        Ok(caller)
    }
}

#[cfg(test)]
mod tests {
    use virtio_pipe_protocol::signal::SIGKILL;
    use virtio_pipe_protocol::{Errno, KillTarget, Request, WaitTarget};

    use super::super::tests::{call, err, kernel, ok, root, spawn, wait_req};
    use super::super::Kernel;
    use crate::process::Pid;

    fn setpgid(k: &mut Kernel, caller: Pid, pid: u32, pgid: u32) -> Result<(), Errno> {
        let rx = call(k, caller, Request::Setpgid { pid, pgid }, &[], 0);
        match rx.try_recv().unwrap().resp.result() {
            Ok(()) => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn fork(k: &mut Kernel, parent: Pid) -> Pid {
        k.fork(parent, 0x1000).unwrap()
    }

    #[test]
    fn the_root_leads_group_and_session_1_and_children_inherit_both() {
        let mut k = kernel();
        let r = root(&mut k);
        let c = fork(&mut k, r);
        assert_eq!(
            ok(&call(&mut k, c, Request::Getpgid { pid: 0 }, &[], 0))[0],
            1
        );
        assert_eq!(
            ok(&call(&mut k, r, Request::Getsid { pid: c }, &[], 0))[0],
            1
        );
        assert_eq!(
            err(&call(&mut k, r, Request::Getpgid { pid: 77 }, &[], 0)),
            Errno::Esrch
        );
        assert_eq!(err(&call(&mut k, r, Request::Setsid, &[], 0)), Errno::Eperm);
    }

    #[test]
    fn setpgid_follows_posix() {
        let mut k = kernel();
        let r = root(&mut k);
        let a = fork(&mut k, r);
        let b = fork(&mut k, r);
        // A new group led by a, then b joins it (from the parent).
        setpgid(&mut k, r, a, 0).unwrap();
        setpgid(&mut k, r, b, a).unwrap();
        assert_eq!(k.pgid_of(b), Some(a));
        // No such group in the session; not a child; the root leads its session.
        assert_eq!(setpgid(&mut k, r, b, 99), Err(Errno::Eperm));
        assert_eq!(setpgid(&mut k, a, b, 0), Err(Errno::Esrch));
        assert_eq!(setpgid(&mut k, r, 0, a), Err(Errno::Eperm));
        assert_eq!(setpgid(&mut k, r, 99, 0), Err(Errno::Esrch));
        // A child in another session; a child that ran a new program.
        assert_eq!(ok(&call(&mut k, b, Request::Setsid, &[], 0))[0], b as u64);
        assert_eq!(setpgid(&mut k, r, b, 0), Err(Errno::Eperm));
        let s = spawn(&mut k, r, &[]);
        assert_eq!(setpgid(&mut k, r, s, 0), Err(Errno::Eacces));
        // A group leader cannot start a session.
        assert_eq!(err(&call(&mut k, a, Request::Setsid, &[], 0)), Errno::Eperm);
    }

    #[test]
    fn kill_to_a_group_signals_every_member_and_only_them() {
        let mut k = kernel();
        let r = root(&mut k);
        let a = fork(&mut k, r);
        let b = fork(&mut k, r);
        let other = fork(&mut k, r);
        setpgid(&mut k, r, a, 0).unwrap();
        setpgid(&mut k, r, b, a).unwrap();
        let kill = |target| Request::Kill {
            target,
            signo: SIGKILL,
        };
        ok(&call(&mut k, r, kill(KillTarget::Group(a)), &[], 0));
        assert!(!k.process(a).unwrap().is_running());
        assert!(!k.process(b).unwrap().is_running());
        assert!(k.process(other).unwrap().is_running());
        // Both reaped through a WAIT on the group, then none is left.
        for _ in 0..2 {
            let got = ok(&call(
                &mut k,
                r,
                wait_req(WaitTarget::Group(a), false),
                &[],
                0,
            ));
            assert_eq!(got[1], SIGKILL as u64);
        }
        assert_eq!(
            err(&call(
                &mut k,
                r,
                wait_req(WaitTarget::Group(a), false),
                &[],
                0
            )),
            Errno::Echild
        );
        assert_eq!(
            err(&call(&mut k, r, kill(KillTarget::Group(a)), &[], 0)),
            Errno::Esrch
        );
        // Everyone but the root and the caller.
        let last = fork(&mut k, r);
        ok(&call(&mut k, other, kill(KillTarget::All), &[], 0));
        assert!(k.process(r).unwrap().is_running());
        assert!(k.process(other).unwrap().is_running());
        assert!(!k.process(last).unwrap().is_running());
        ok(&call(
            &mut k,
            r,
            wait_req(WaitTarget::Pid(last), false),
            &[],
            0,
        ));
        assert_eq!(
            err(&call(&mut k, other, kill(KillTarget::All), &[], 0)),
            Errno::Esrch
        );
    }

    #[test]
    fn a_wait_on_the_own_group_skips_children_of_other_groups() {
        let mut k = kernel();
        let r = root(&mut k);
        let a = fork(&mut k, r);
        setpgid(&mut k, r, a, 0).unwrap();
        assert_eq!(
            err(&call(
                &mut k,
                r,
                wait_req(WaitTarget::OwnGroup, false),
                &[],
                0
            )),
            Errno::Echild
        );
        let b = fork(&mut k, r);
        let w = call(&mut k, r, wait_req(WaitTarget::OwnGroup, false), &[], 0);
        k.exit(a, virtio_pipe_protocol::ExitKind::Code(1));
        assert!(w.try_recv().is_err(), "a is in another group");
        k.exit(b, virtio_pipe_protocol::ExitKind::Code(2));
        assert_eq!(ok(&w), [b as u64, 0x200, 0]);
    }
}
