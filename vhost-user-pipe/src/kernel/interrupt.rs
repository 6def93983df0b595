//! `INTERRUPT` (spec 1.6.24): a process's blocked requests end now,
//! because its driver has a signal to deliver or a timeout of its own has
//! passed. The device never decides that a signal interrupts: the driver
//! knows the handlers and the mask, and asks.

use virtio_pipe_protocol::Errno;

use super::{done, Kernel};
use crate::process::Pid;

impl Kernel {
    /// Ends every blocked request of `pid` (spec `dev-interrupt`): a READ
    /// or WRITE that moved bytes with its count, anything else (a WAIT, a
    /// POLL) with `EINTR`. Requests that already completed are not touched. Returns
    /// how many it ended.
    pub(super) fn interrupt(&mut self, pid: Pid) -> usize {
        let waits = self
            .procs
            .get_mut(&pid)
            .map(|p| std::mem::take(&mut p.waits))
            .unwrap_or_default();
        let mut ended = waits.len();
        for w in waits {
            done(w.io, Err(Errno::Eintr));
        }
        let blocked: Vec<_> = self
            .pipes
            .iter()
            .enumerate()
            .filter(|(_, p)| p.as_ref().is_some_and(|p| p.has_waiter(pid)))
            .map(|(id, _)| id)
            .collect();
        for id in blocked {
            let (pipe, mut notes) = self.pipe_and_notes(id);
            ended += pipe.interrupt(pid, &mut notes);
            self.free_if_unreferenced(id);
        }
        ended + self.interrupt_polls(pid)
    }
}

#[cfg(test)]
mod tests {
    use virtio_pipe_protocol::{Errno, Request, WaitTarget};

    use crate::kernel::tests::{call, err, kernel, ok, pipe, root, spawn};

    /// spec `dev-interrupt`: a blocked WAIT ends with `EINTR`, and the
    /// child stays waitable afterwards (nothing was reaped).
    #[test]
    fn a_blocked_wait_ends_with_eintr_and_reaps_nothing() {
        let mut k = kernel();
        let r = root(&mut k);
        let c = spawn(&mut k, r, &[]);
        let wait = Request::Wait {
            target: WaitTarget::Pid(c),
            nohang: false,
            untraced: false,
            continued: false,
        };
        let w = call(&mut k, r, wait, &[], 0);
        assert!(w.try_recv().is_err(), "the wait blocks");
        assert_eq!(ok(&call(&mut k, r, Request::Interrupt, &[], 0))[0], 1);
        assert_eq!(err(&w), Errno::Eintr);
        ok(&call(
            &mut k,
            c,
            Request::Exit(virtio_pipe_protocol::ExitKind::Code(3)),
            &[],
            0,
        ));
        assert_eq!(ok(&call(&mut k, r, wait, &[], 0)), [c as u64, 3 << 8, 0]);
    }

    /// spec `dev-interrupt`: with nothing blocked INTERRUPT ends nothing
    /// (ret0 = 0), and a blocked READ on a pipe ends with `EINTR` while
    /// another process's blocked READ on the same pipe stays.
    #[test]
    fn only_the_callers_blocked_requests_end() {
        let mut k = kernel();
        let r = root(&mut k);
        let (rd, _wr) = pipe(&mut k, r);
        let c = spawn(&mut k, r, &[]);
        assert_eq!(ok(&call(&mut k, r, Request::Interrupt, &[], 0))[0], 0);
        let read = |fd| Request::Read {
            fd,
            len: 8,
            nonblock: false,
        };
        let mine = call(&mut k, r, read(rd), &[], 8);
        let theirs = call(&mut k, c, read(rd), &[], 8);
        assert_eq!(ok(&call(&mut k, r, Request::Interrupt, &[], 0))[0], 1);
        assert_eq!(err(&mine), Errno::Eintr);
        assert!(theirs.try_recv().is_err(), "the child's read still blocks");
        assert_eq!(ok(&call(&mut k, c, Request::Interrupt, &[], 0))[0], 1);
        assert_eq!(err(&theirs), Errno::Eintr);
    }
}
