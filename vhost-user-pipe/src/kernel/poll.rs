//! `POLL` (spec 1.6.25): one request that waits until one of several fds
//! is ready, as Linux's `poll(2)` does.
//!
//! The readiness of an fd is a function of the state of what it refers to
//! (Linux's `pipe_poll` for a pipe end, always readable and writable for
//! everything else), so a blocked `POLL` needs no queue of its own on each
//! pipe: the kernel keeps the blocked ones in one list and, after every
//! entry point that may have changed a pipe (a request, an exit, a kill, a
//! thaw), evaluates them again ([`Kernel::wake_polls`]); the first
//! evaluation that finds an entry ready completes the request. The list
//! is empty unless a process is blocked in `poll`, and then it holds a few
//! requests of a few fds, so this costs next to nothing.
//!
//! The fds are looked up in the caller's table at each evaluation (a
//! blocked `POLL` holds no reference to what they name): an fd closed
//! meanwhile (by another thread) reads as `POLLNVAL`, which ends the wait.
//!
//! A blocked `POLL` leaves the list while its process's device is stopped
//! (`Parked::Poll`, like a blocked READ or WAIT) and is dropped unanswered
//! when the process ends or its device is reset; `INTERRUPT` ends it with
//! `EINTR` ([`Kernel::interrupt_polls`]).

use virtio_pipe_protocol::poll::{
    PollFd, POLLERR, POLLFD_SIZE, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLRDNORM, POLLWRNORM,
    POLL_ALWAYS,
};
use virtio_pipe_protocol::{Errno, RespHeader};

use super::{done, Kernel};
use crate::fdtable::{End, Ofd, Open, PipeId};
use crate::io::Io;
use crate::pipe::Pipe;
use crate::process::Pid;

/// What a regular file, a directory or a device the daemon serves reports
/// (Linux's `DEFAULT_POLLMASK`: such files never block).
const ALWAYS_READY: u16 = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;

/// A `POLL` held until one of its fds is ready.
pub struct PendingPoll {
    /// The caller.
    pub pid: Pid,
    /// Its entries, as it sent them.
    entries: Vec<PollFd>,
    /// The request.
    io: Box<dyn Io>,
}

impl std::fmt::Debug for PendingPoll {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingPoll")
            .field("pid", &self.pid)
            .field("nfds", &self.entries.len())
            .finish()
    }
}

/// The events of a pipe's read end (Linux's `pipe_poll`): data to read,
/// and a hang-up once no write end is open.
fn read_end(p: &Pipe) -> u16 {
    let mut m = 0;
    if p.has_data() {
        m |= POLLIN | POLLRDNORM;
    }
    if p.writers == 0 {
        m |= POLLHUP;
    }
    m
}

/// The events of a pipe's write end: room to write, and an error once no
/// read end is open.
fn write_end(p: &Pipe) -> u16 {
    let mut m = 0;
    if p.has_room() {
        m |= POLLOUT | POLLWRNORM;
    }
    if p.readers == 0 {
        m |= POLLERR;
    }
    m
}

impl Kernel {
    /// `POLL` of `pid`: `nfds` entries in `io`'s readable payload (the
    /// decoder checked both payloads hold exactly that many).
    pub(super) fn poll(&mut self, pid: Pid, nfds: u32, nonblock: bool, io: Box<dyn Io>) {
        let mut bytes = vec![0u8; nfds as usize * POLLFD_SIZE];
        if io.read_payload(0, &mut bytes) != bytes.len() {
            return done(io, Err(Errno::Efault));
        }
        let entries = PollFd::parse_all(&bytes)
            .expect("a whole number of entries")
            .to_vec();
        let poll = PendingPoll { pid, entries, io };
        if let Some(blocked) = self.complete_if_ready(poll, nonblock) {
            self.polls.push(blocked);
        }
    }

    /// Evaluates every blocked `POLL` again and completes those with an
    /// fd ready. Called after each entry point that may change a pipe.
    pub(super) fn wake_polls(&mut self) {
        if self.polls.is_empty() {
            return;
        }
        for poll in std::mem::take(&mut self.polls) {
            if let Some(blocked) = self.complete_if_ready(poll, false) {
                self.polls.push(blocked);
            }
        }
    }

    /// Ends every blocked `POLL` of `pid` with `EINTR` (`INTERRUPT`, spec
    /// `dev-poll-interrupt`); returns how many.
    pub fn interrupt_polls(&mut self, pid: Pid) -> usize {
        let (mine, others) = std::mem::take(&mut self.polls)
            .into_iter()
            .partition::<Vec<_>, _>(|p| p.pid == pid);
        self.polls = others;
        let n = mine.len();
        for poll in mine {
            done(poll.io, Err(Errno::Eintr));
        }
        n
    }

    /// Takes the blocked `POLL`s of `pid` out of the list, unanswered: its
    /// device stopped ([`Kernel::freeze`]) or it ended.
    pub(super) fn take_polls(&mut self, pid: Pid) -> Vec<PendingPoll> {
        let (mine, others) = std::mem::take(&mut self.polls)
            .into_iter()
            .partition(|p| p.pid == pid);
        self.polls = others;
        mine
    }

    /// Puts back a `POLL` taken while its device was stopped: it completes
    /// if an fd is ready now, else waits again.
    pub(super) fn requeue_poll(&mut self, poll: PendingPoll) {
        if let Some(blocked) = self.complete_if_ready(poll, false) {
            self.polls.push(blocked);
        }
    }

    /// How many `POLL`s are blocked (for `Stats`).
    pub(super) fn blocked_polls(&self) -> usize {
        self.polls.len()
    }

    /// Whether `pid` has a blocked `POLL`.
    pub(super) fn has_blocked_poll(&self, pid: Pid) -> bool {
        self.polls.iter().any(|p| p.pid == pid)
    }

    /// Fills in `revents` of every entry; completes the request with the
    /// number of entries that have any when there is one (or at once with
    /// `now`), else gives it back to be held.
    fn complete_if_ready(&self, mut poll: PendingPoll, now: bool) -> Option<PendingPoll> {
        let mut ready = 0u64;
        for e in poll.entries.iter_mut() {
            let r = self.revents(poll.pid, e.fd.get(), e.events.get());
            e.revents.set(r);
            ready += (r != 0) as u64;
        }
        if ready == 0 && !now {
            return Some(poll);
        }
        let PendingPoll {
            entries, mut io, ..
        } = poll;
        let n = io.write_payload(0, PollFd::encode_all(&entries));
        io.complete(RespHeader::ok([ready, 0, 0]), n);
        None
    }

    /// The events of `fd` of `pid` among those asked for (`events`, and
    /// the ones always reported): 0 for a negative fd, `POLLNVAL` for one
    /// that is not open.
    fn revents(&self, pid: Pid, fd: i32, events: u16) -> u16 {
        if fd < 0 {
            return 0;
        }
        let Some(p) = self.procs.get(&pid) else {
            return POLLNVAL;
        };
        match p.fds.get(fd as u32) {
            Ok(ofd) => self.readiness(ofd) & (events | POLL_ALWAYS),
            Err(_) => POLLNVAL,
        }
    }

    /// Every event an open file description has now.
    fn readiness(&self, ofd: &Ofd) -> u16 {
        let pipe = |id: &PipeId| {
            self.pipes[*id]
                .as_ref()
                .expect("an fd keeps its pipe alive")
        };
        match &ofd.what {
            Open::Pipe { pipe: id, end } => match end {
                End::Read => read_end(pipe(id)),
                End::Write => write_end(pipe(id)),
            },
            Open::Tty { input, output } => {
                input.as_ref().map_or(0, |id| read_end(pipe(id)))
                    | output.as_ref().map_or(0, |id| write_end(pipe(id)))
            }
            Open::File { .. } | Open::Device { .. } | Open::Listing { .. } | Open::Bytes { .. } => {
                ALWAYS_READY
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::Receiver;

    use virtio_pipe_protocol::{Request, PIPE_BUF};

    use super::*;
    use crate::io::{HostCompletion, HostIo};
    use crate::limits::Limits;
    use crate::process::HOST_PID;

    fn kernel() -> (Kernel, Pid) {
        let mut k = Kernel::new(Limits {
            max_processes: 4,
            max_fds: 16,
            max_pipes: 4,
            pipe_capacity: 2 * PIPE_BUF,
            ..Limits::default()
        });
        let root = k.create_root("root", vec![], vec![], true).unwrap();
        (k, root)
    }

    fn call(k: &mut Kernel, pid: Pid, req: Request, data: &[u8], out: usize) -> HostCompletion {
        let (io, rx) = HostIo::boxed(data.to_vec(), out);
        k.submit(pid, req, io);
        rx.try_recv().expect("completed")
    }

    fn pipe(k: &mut Kernel, pid: Pid) -> (i32, i32) {
        let c = call(k, pid, Request::Pipe { flags: 0 }, &[], 0);
        (c.resp.ret(0) as i32, c.resp.ret(1) as i32)
    }

    fn write(k: &mut Kernel, pid: Pid, fd: i32, data: &[u8]) -> HostCompletion {
        let req = Request::Write {
            fd: fd as u32,
            len: data.len() as u32,
            nonblock: false,
        };
        call(k, pid, req, data, 0)
    }

    fn read(k: &mut Kernel, pid: Pid, fd: i32, len: usize) -> Vec<u8> {
        let req = Request::Read {
            fd: fd as u32,
            len: len as u32,
            nonblock: false,
        };
        call(k, pid, req, &[], len).data
    }

    fn close(k: &mut Kernel, pid: Pid, fd: i32) {
        let c = call(k, pid, Request::Close { fd: fd as u32 }, &[], 0);
        assert_eq!(c.resp.result(), Ok(()));
    }

    /// Submits a POLL of `(fd, events)`; the receiver gets its completion.
    fn submit_poll(
        k: &mut Kernel,
        pid: Pid,
        fds: &[(i32, u16)],
        nonblock: bool,
    ) -> Receiver<HostCompletion> {
        let entries: Vec<PollFd> = fds.iter().map(|&(fd, ev)| PollFd::new(fd, ev)).collect();
        let bytes = PollFd::encode_all(&entries).to_vec();
        let len = bytes.len();
        let (io, rx) = HostIo::boxed(bytes, len);
        let req = Request::Poll {
            nfds: fds.len() as u32,
            nonblock,
        };
        k.submit(pid, req, io);
        rx
    }

    /// The count and every entry's `revents` of a completed POLL.
    fn answer(rx: &Receiver<HostCompletion>) -> (u64, Vec<u16>) {
        let c = rx.try_recv().expect("the POLL completed");
        assert_eq!(c.resp.result(), Ok(()), "{:?}", c.resp);
        let entries = PollFd::parse_all(&c.data).expect("whole entries");
        (
            c.resp.ret(0),
            entries.iter().map(|e| e.revents.get()).collect(),
        )
    }

    fn poll_now(k: &mut Kernel, pid: Pid, fds: &[(i32, u16)]) -> (u64, Vec<u16>) {
        answer(&submit_poll(k, pid, fds, true))
    }

    const IN: u16 = POLLIN;
    const OUT: u16 = POLLOUT;

    #[test]
    fn an_empty_pipe_is_writable_not_readable() {
        let (mut k, r) = kernel();
        let (rd, wr) = pipe(&mut k, r);
        assert_eq!(
            poll_now(&mut k, r, &[(rd, IN), (wr, OUT)]),
            (1, vec![0, OUT])
        );
        write(&mut k, r, wr, b"x");
        assert_eq!(
            poll_now(&mut k, r, &[(rd, IN | POLLRDNORM), (wr, OUT)]),
            (2, vec![IN | POLLRDNORM, OUT])
        );
    }

    #[test]
    fn hangup_error_and_nval_are_reported_unasked() {
        let (mut k, r) = kernel();
        let (rd, wr) = pipe(&mut k, r);
        let (rd2, wr2) = pipe(&mut k, r);
        write(&mut k, r, wr, b"last");
        close(&mut k, r, wr);
        close(&mut k, r, rd2);
        assert_eq!(
            poll_now(
                &mut k,
                r,
                &[(rd, 0), (rd, IN), (wr2, 0), (wr, IN), (-1, IN)]
            ),
            (4, vec![POLLHUP, IN | POLLHUP, POLLERR, POLLNVAL, 0]),
            "HUP with the data still readable, as Linux"
        );
    }

    #[test]
    fn a_full_pipe_is_not_writable_until_a_read_makes_room() {
        let (mut k, r) = kernel();
        let (rd, wr) = pipe(&mut k, r);
        write(&mut k, r, wr, &[7; 2 * PIPE_BUF - 1]);
        assert_eq!(poll_now(&mut k, r, &[(wr, OUT)]), (0, vec![0]));
        let rx = submit_poll(&mut k, r, &[(wr, OUT)], false);
        assert!(rx.try_recv().is_err(), "held: less than PIPE_BUF free");
        assert_eq!(k.stats().waiting, 1);
        read(&mut k, r, rd, PIPE_BUF);
        assert_eq!(answer(&rx), (1, vec![OUT]));
        assert_eq!(k.stats().waiting, 0);
    }

    #[test]
    fn a_blocked_poll_wakes_on_another_processes_write() {
        let (mut k, r) = kernel();
        let (rd, wr) = pipe(&mut k, r);
        let (rd2, _wr2) = pipe(&mut k, r);
        let child = k
            .spawn(r, "child", vec![], vec![], std::iter::empty())
            .unwrap();
        let rx = submit_poll(&mut k, r, &[(rd2, IN), (rd, IN)], false);
        assert!(rx.try_recv().is_err());
        assert!(k.has_pending(r));
        write(&mut k, child, wr, b"hi");
        assert_eq!(answer(&rx), (1, vec![0, IN]));
        assert!(!k.has_pending(r));
        assert_eq!(read(&mut k, r, rd, 8), b"hi", "POLL took nothing");
    }

    #[test]
    fn a_blocked_poll_wakes_when_the_last_writer_goes() {
        let (mut k, r) = kernel();
        let (rd, wr) = pipe(&mut k, r);
        let child = k
            .spawn(r, "child", vec![], vec![], std::iter::empty())
            .unwrap();
        close(&mut k, r, wr);
        let rx = submit_poll(&mut k, r, &[(rd, IN)], false);
        assert!(rx.try_recv().is_err(), "the child holds a write end");
        k.exit(child, virtio_pipe_protocol::ExitKind::Code(0));
        assert_eq!(answer(&rx), (1, vec![POLLHUP]));
    }

    #[test]
    fn a_blocked_writer_with_bytes_makes_the_read_end_readable() {
        let (mut k, r) = kernel();
        let (rd, wr) = pipe(&mut k, r);
        let child = k
            .spawn(r, "child", vec![], vec![], std::iter::empty())
            .unwrap();
        write(&mut k, child, wr, &[1; 2 * PIPE_BUF]);
        let (io, blocked) = HostIo::boxed(vec![2; 10], 0);
        let req = Request::Write {
            fd: wr as u32,
            len: 10,
            nonblock: false,
        };
        k.submit(child, req, io);
        assert!(blocked.try_recv().is_err());
        assert_eq!(
            poll_now(&mut k, r, &[(rd, IN), (wr, OUT)]),
            (1, vec![IN, 0])
        );
    }

    #[test]
    fn files_and_devices_are_always_ready_and_the_host_ends_follow_their_pipes() {
        let (mut k, r) = kernel();
        let c = call(
            &mut k,
            r,
            Request::OpenAt {
                dirfd: virtio_pipe_protocol::Dirfd::Cwd,
                flags: 2,
                mode: 0,
                path_len: 9,
            },
            b"/dev/null",
            0,
        );
        let null = c.resp.ret(0) as i32;
        assert_eq!(c.resp.result(), Ok(()), "{:?}", c.resp);
        assert_eq!(
            poll_now(&mut k, r, &[(null, IN | OUT), (0, IN), (1, OUT)]),
            (2, vec![IN | OUT, 0, OUT])
        );
        write(&mut k, HOST_PID, 0, b"typed");
        assert_eq!(poll_now(&mut k, r, &[(0, IN)]), (1, vec![IN]));
    }

    #[test]
    fn nothing_ready_without_nonblock_holds_and_interrupt_ends_it_with_eintr() {
        let (mut k, r) = kernel();
        let (rd, _wr) = pipe(&mut k, r);
        let rx = submit_poll(&mut k, r, &[(rd, IN)], false);
        let none = submit_poll(&mut k, r, &[], false);
        assert!(rx.try_recv().is_err() && none.try_recv().is_err());
        assert_eq!(k.interrupt_polls(r + 1), 0, "another process's POLLs only");
        assert_eq!(k.interrupt_polls(r), 2);
        for rx in [rx, none] {
            let c = rx.try_recv().unwrap();
            assert_eq!(c.resp.result(), Err(Errno::Eintr));
            assert!(c.data.is_empty());
        }
        assert_eq!(k.interrupt_polls(r), 0, "a completed POLL is not touched");
        assert_eq!(poll_now(&mut k, r, &[]), (0, vec![]));
    }

    #[test]
    fn an_interrupt_request_ends_the_poll_and_the_read_of_its_caller() {
        let (mut k, r) = kernel();
        let (rd, _wr) = pipe(&mut k, r);
        let rx = submit_poll(&mut k, r, &[(rd, IN)], false);
        let (io, read) = HostIo::boxed(Vec::new(), 4);
        let req = Request::Read {
            fd: rd as u32,
            len: 4,
            nonblock: false,
        };
        k.submit(r, req, io);
        let c = call(&mut k, r, Request::Interrupt, &[], 0);
        assert_eq!((c.resp.result(), c.resp.ret(0)), (Ok(()), 2));
        for rx in [rx, read] {
            assert_eq!(rx.try_recv().unwrap().resp.result(), Err(Errno::Eintr));
        }
        assert_eq!(k.stats().waiting, 0);
    }

    #[test]
    fn a_poll_is_held_while_frozen_and_dropped_on_reset_or_exit() {
        let (mut k, r) = kernel();
        let (rd, wr) = pipe(&mut k, r);
        let child = k
            .spawn(r, "child", vec![], vec![], std::iter::empty())
            .unwrap();
        let rx = submit_poll(&mut k, r, &[(rd, IN)], false);
        k.freeze(r);
        write(&mut k, child, wr, b"x");
        assert!(
            rx.try_recv().is_err(),
            "not completed while the device is stopped"
        );
        assert!(k.has_pending(r));
        k.thaw(r);
        assert_eq!(answer(&rx), (1, vec![IN]), "completes on resume");

        read(&mut k, r, rd, 1);
        let rx = submit_poll(&mut k, r, &[(rd, IN)], false);
        k.freeze(r);
        k.cancel_pending(r);
        assert!(!k.has_pending(r));
        write(&mut k, child, wr, b"y");
        assert!(matches!(
            rx.try_recv(),
            Err(std::sync::mpsc::TryRecvError::Disconnected)
        ));

        let rx = submit_poll(&mut k, child, &[(rd, OUT)], false);
        k.exit(child, virtio_pipe_protocol::ExitKind::Code(0));
        assert!(matches!(
            rx.try_recv(),
            Err(std::sync::mpsc::TryRecvError::Disconnected)
        ));
        assert_eq!(k.stats().waiting, 0);
    }

    #[test]
    fn a_poll_submitted_while_frozen_runs_on_thaw() {
        let (mut k, r) = kernel();
        let (rd, wr) = pipe(&mut k, r);
        k.freeze(r);
        let rx = submit_poll(&mut k, r, &[(rd, IN)], false);
        assert!(rx.try_recv().is_err());
        k.thaw(r);
        assert!(rx.try_recv().is_err(), "nothing to read yet");
        write(&mut k, r, wr, b"z");
        assert_eq!(answer(&rx), (1, vec![IN]));
    }

    #[test]
    fn an_fd_closed_while_polled_reads_as_nval() {
        let (mut k, r) = kernel();
        let (rd, _wr) = pipe(&mut k, r);
        let (rd2, _wr2) = pipe(&mut k, r);
        let rx = submit_poll(&mut k, r, &[(rd, IN), (rd2, IN)], false);
        close(&mut k, r, rd2);
        assert_eq!(answer(&rx), (1, vec![0, POLLNVAL]));
    }
}
