//! Stopping and continuing processes (spec 1.6.27): the `STOP` op, `KILL`
//! with a stop signal or `SIGCONT`, and how a parent hears of it (a
//! `CHILD_STATE` event, `WAIT` with `UNTRACED` or `CONTINUED`).
//!
//! A stopped process's VM really stops (the supervisor sends its QEMU
//! `SIGSTOP`, [`Effect::SuspendVm`]), and the kernel holds its requests
//! meanwhile, as it does for a stopped device (`Kernel::freeze`): its
//! blocked READs, WRITEs and WAITs leave their queues, so no byte moves
//! to or from a stopped process, and what it submits before its VM has
//! stopped waits unrun. Continuing it puts them back, completes its own
//! `STOP`, and resumes the VM.

use virtio_pipe_protocol::{wait_status_stopped, Event, WAIT_STATUS_CONTINUED};

use super::{done, Effect, Kernel};
use crate::process::{Pid, StateReport, HOST_PID};

impl Kernel {
    /// Whether `pid` is stopped.
    pub fn is_stopped(&self, pid: Pid) -> bool {
        self.procs.get(&pid).is_some_and(|p| p.stopped.is_some())
    }

    /// Whether VM `vm` should be stopped: a process that runs in it is
    /// stopped (what the supervisor checks before it suspends or resumes
    /// the VM, [`Effect::SuspendVm`]).
    pub fn vm_paused(&self, vm: Pid) -> bool {
        self.procs
            .values()
            .any(|p| p.is_running() && p.stopped.is_some() && self.vm_to_pause(p.pid) == Some(vm))
    }

    /// Stops `pid` as by `signo` (spec: `dev-stop-effect`); nothing if it
    /// has ended or is stopped already.
    pub(super) fn stop(&mut self, pid: Pid, signo: u32) {
        let Some(p) = self
            .procs
            .get_mut(&pid)
            .filter(|p| p.is_running() && p.pid != HOST_PID && p.stopped.is_none())
        else {
            return;
        };
        p.stopped = Some(signo);
        p.report = Some(StateReport::Stopped(signo));
        let ppid = p.ppid;
        self.park(pid);
        if let Some(vm) = self.vm_to_pause(pid) {
            self.effects.push(Effect::SuspendVm(vm));
        }
        self.child_state(ppid, pid, wait_status_stopped(signo as u8));
    }

    /// Continues `pid` if it is stopped (spec: `dev-stop-continue`): its
    /// VM resumes, its `STOP` completes, its held requests run again.
    pub(super) fn cont(&mut self, pid: Pid) {
        let Some(p) = self
            .procs
            .get_mut(&pid)
            .filter(|p| p.is_running() && p.stopped.is_some())
        else {
            return;
        };
        p.stopped = None;
        p.report = Some(StateReport::Continued);
        let (io, frozen, ppid) = (p.stop_io.take(), p.frozen, p.ppid);
        if let Some(vm) = self.vm_to_pause(pid) {
            self.effects.push(Effect::ResumeVm(vm));
        }
        if let Some(io) = io {
            done(io, Ok([0; 3]));
        }
        if !frozen {
            self.unpark(pid);
        }
        self.child_state(ppid, pid, WAIT_STATUS_CONTINUED);
    }

    /// `STOP` of the caller: it stops, and the request completes when it
    /// is continued.
    pub(super) fn stop_self(&mut self, pid: Pid, signo: u32, io: Box<dyn crate::io::Io>) {
        self.stop(pid, signo);
        match self.procs.get_mut(&pid) {
            Some(p) if p.stopped.is_some() && p.stop_io.is_none() => p.stop_io = Some(io),
            _ => done(io, Ok([0; 3])),
        }
    }

    /// The VM to stop or resume with `pid`: the one it runs in (a vfork
    /// child's is its lender's), unless a vfork child borrows it now.
    fn vm_to_pause(&self, pid: Pid) -> Option<Pid> {
        if self.borrowers.get(&pid).is_some_and(|b| !b.is_empty()) {
            return None;
        }
        Some(self.procs.get(&pid)?.lender.unwrap_or(pid))
    }

    /// Tells `parent` that `child` stopped or was continued (`status`):
    /// a `CHILD_STATE` event, and a pending `WAIT` that asked for such
    /// changes completes with it.
    fn child_state(&mut self, parent: Pid, child: Pid, status: u32) {
        if parent == HOST_PID {
            return;
        }
        let Some(p) = self.procs.get(&parent).filter(|p| p.is_running()) else {
            return;
        };
        let continued = status == WAIT_STATUS_CONTINUED;
        let first = p.waits.iter().position(|w| {
            (if continued { w.continued } else { w.untraced }) && self.wait_matches(w.target, child)
        });
        let p = self.proc_mut(parent);
        p.post(Event::ChildState { pid: child, status });
        if let Some(i) = first {
            let w = p.waits.remove(i);
            self.proc_mut(child).report = None;
            done(w.io, Ok([child as u64, status as u64, 0]));
        }
    }

    /// The stop or continue of `child` a `WAIT` reports, if it asked for
    /// it, taken so that it is reported once.
    pub(super) fn take_report(
        &mut self,
        child: Pid,
        untraced: bool,
        continued: bool,
    ) -> Option<u32> {
        let c = self.procs.get_mut(&child)?;
        let status = match c.report? {
            StateReport::Stopped(s) if untraced => wait_status_stopped(s as u8),
            StateReport::Continued if continued => WAIT_STATUS_CONTINUED,
            _ => return None,
        };
        c.report = None;
        Some(status)
    }
}

#[cfg(test)]
mod tests {
    use virtio_pipe_protocol::signal::{SIGCONT, SIGKILL, SIGSTOP, SIGTSTP};
    use virtio_pipe_protocol::{
        wait_status_stopped, Event, KillTarget, Request, WaitTarget, FEATURE_SIGNALS,
        WAIT_STATUS_CONTINUED,
    };

    use super::super::tests::{call, kernel, ok, pipe, root};
    use super::super::Effect;

    fn wait(target: WaitTarget, nohang: bool, untraced: bool, continued: bool) -> Request {
        Request::Wait {
            target,
            nohang,
            untraced,
            continued,
        }
    }

    fn kill(pid: u32, signo: u32) -> Request {
        Request::Kill {
            target: KillTarget::Pid(pid),
            signo,
        }
    }

    #[test]
    fn a_stopped_child_is_reported_once_then_continued_and_its_writes_wait() {
        let mut k = kernel();
        let r = root(&mut k);
        let (rd, wr) = pipe(&mut k, r);
        let c = k.fork(r, 0x1000).unwrap();
        k.set_features(c, 1 << FEATURE_SIGNALS);
        k.take_effects();
        ok(&call(&mut k, r, kill(c, SIGSTOP), &[], 0));
        assert_eq!(k.take_effects(), vec![Effect::SuspendVm(c)]);
        assert!(k.vm_paused(c));
        // The parent hears of it: an event, and one WAIT with UNTRACED.
        let stopped = wait_status_stopped(SIGSTOP as u8);
        assert!(k.process(r).unwrap().events.contains(&Event::ChildState {
            pid: c,
            status: stopped
        }));
        assert_eq!(
            ok(&call(
                &mut k,
                r,
                wait(WaitTarget::Any, true, false, false),
                &[],
                0
            )),
            [0; 3]
        );
        let got = ok(&call(
            &mut k,
            r,
            wait(WaitTarget::Pid(c), true, true, false),
            &[],
            0,
        ));
        assert_eq!(got, [c as u64, stopped as u64, 0]);
        assert_eq!(
            ok(&call(
                &mut k,
                r,
                wait(WaitTarget::Any, true, true, false),
                &[],
                0
            )),
            [0; 3]
        );
        // What it submits while stopped waits: no byte moves.
        let write = call(
            &mut k,
            c,
            Request::Write {
                fd: wr,
                len: 1,
                nonblock: false,
            },
            b"x",
            0,
        );
        assert!(write.try_recv().is_err());
        let read = call(
            &mut k,
            r,
            Request::Read {
                fd: rd,
                len: 1,
                nonblock: true,
            },
            &[],
            1,
        );
        assert!(read.try_recv().unwrap().resp.result().is_err(), "EAGAIN");
        // A pending WAIT with CONTINUED completes when it is continued.
        let w = call(
            &mut k,
            r,
            wait(WaitTarget::Pid(c), false, false, true),
            &[],
            0,
        );
        ok(&call(&mut k, r, kill(c, SIGCONT), &[], 0));
        assert_eq!(k.take_effects(), vec![Effect::ResumeVm(c)]);
        assert!(!k.vm_paused(c));
        assert_eq!(ok(&w), [c as u64, WAIT_STATUS_CONTINUED as u64, 0]);
        ok(&write);
        // SIGCONT itself is then delivered as a signal.
        assert_eq!(
            k.next_event(c),
            Some(Event::Signal {
                signo: SIGCONT,
                sender: r
            })
        );
    }

    #[test]
    fn a_read_blocked_before_the_stop_takes_no_byte_until_continued() {
        let mut k = kernel();
        let r = root(&mut k);
        let (rd, wr) = pipe(&mut k, r);
        let c = k.fork(r, 0x1000).unwrap();
        let read = |nonblock| Request::Read {
            fd: rd,
            len: 8,
            nonblock,
        };
        let blocked = call(&mut k, c, read(false), &[], 8);
        ok(&call(&mut k, r, kill(c, SIGSTOP), &[], 0));
        let write = Request::Write {
            fd: wr,
            len: 2,
            nonblock: false,
        };
        ok(&call(&mut k, r, write, b"hi", 0));
        assert!(blocked.try_recv().is_err(), "held while stopped");
        // The bytes wait in the pipe, where another reader finds them.
        let other = call(&mut k, r, read(true), &[], 8);
        assert_eq!(other.try_recv().unwrap().data, b"hi");
        ok(&call(&mut k, r, write, b"yo", 0));
        ok(&call(&mut k, r, kill(c, SIGCONT), &[], 0));
        let got = blocked.try_recv().expect("completed once continued");
        assert_eq!(got.data, b"yo");
    }

    #[test]
    fn stop_completes_when_continued_and_sigkill_ends_a_stopped_process() {
        let mut k = kernel();
        let r = root(&mut k);
        let c = k.fork(r, 0x1000).unwrap();
        let stop = call(&mut k, c, Request::Stop { signo: SIGTSTP }, &[], 0);
        assert!(stop.try_recv().is_err());
        assert!(k.is_stopped(c));
        assert!(k.has_pending(c));
        ok(&call(&mut k, r, kill(c, SIGCONT), &[], 0));
        ok(&stop);
        let again = call(&mut k, c, Request::Stop { signo: SIGSTOP }, &[], 0);
        ok(&call(&mut k, r, kill(c, SIGKILL), &[], 0));
        assert!(again.try_recv().is_err(), "dropped with the process");
        assert!(!k.process(c).unwrap().is_running());
        let got = ok(&call(
            &mut k,
            r,
            wait(WaitTarget::Any, false, true, true),
            &[],
            0,
        ));
        assert_eq!(got, [c as u64, SIGKILL as u64, 0]);
    }
}
