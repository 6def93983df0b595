//! One pipe: a bounded byte buffer, its open-end counts and the requests
//! blocked on it. Spec: *Flow control*.
//!
//! Writers are served strictly in arrival order (FIFO), one at a time, so a
//! write of at most `PIPE_BUF` bytes is never interleaved with another: it
//! starts only when all of it fits (free space, plus the buffers of readers
//! already waiting when the pipe is empty). A larger write moves whatever
//! fits and stays at the head until it is done. When a reader is already
//! waiting on an empty pipe, the writer's bytes go straight into that
//! reader's buffer (`Io::copy_to`, guest memory to guest memory); otherwise
//! they go through this pipe's buffer: at most one intermediate copy. A
//! READ takes what the buffer holds and then, in order, the bytes of the
//! blocked writers, straight from their buffers.
//!
//! **References.** `readers` and `writers` count what keeps each end open:
//! the fds that refer to it (the kernel adds and drops those) and the
//! blocked requests queued here, which this file counts itself: a request
//! holds its end from the moment it starts waiting until it completes or is
//! dropped (spec: `dev-inherit-refcount`). So a READ blocked on a pipe keeps
//! writers from seeing EPIPE even after its fd is closed. Requests taken
//! out with [`Pipe::take_waiters`] keep their reference until they are put
//! back or [`Pipe::release`]d. When both counts reach zero the kernel frees
//! the pipe.
//!
//! **End-of-input marks.** The root's stdin pipe, fed from a host terminal,
//! carries a terminal's Ctrl-D as a mark between bytes
//! ([`Pipe::mark_end_of_input`]): a READ never reads past a mark, and a
//! READ that starts at one returns 0 and consumes it, so one `read` sees
//! end of file and the next reads on (as a terminal in canonical mode).

use std::collections::VecDeque;

use virtio_pipe_protocol::{Errno, RespHeader, PIPE_BUF};

use crate::fdtable::End;
use crate::io::Io;
use crate::process::Pid;

/// A request blocked on the pipe.
pub struct Waiter {
    /// The process that made the request.
    pub pid: Pid,
    /// Its buffers.
    pub io: Box<dyn Io>,
    /// Bytes moved so far (writers).
    pub done: usize,
    /// Bytes asked for.
    pub len: usize,
}

impl std::fmt::Debug for Waiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Waiter")
            .field("pid", &self.pid)
            .field("done", &self.done)
            .field("len", &self.len)
            .finish()
    }
}

/// What a pipe operation asks the kernel to do besides completing requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note {
    /// A write hit a pipe with no reader: send `SIGPIPE` to this process.
    SigPipe(Pid),
}

/// Where a pipe reports its [`Note`]s. The kernel acts on each at once,
/// before the request that caused it completes (a `SIGPIPE` is queued no
/// later than the `EPIPE` completes, spec: `dev-write-epipe`).
pub trait Notes {
    /// Takes one note.
    fn note(&mut self, note: Note);
}

impl Notes for Vec<Note> {
    fn note(&mut self, note: Note) {
        self.push(note);
    }
}

/// The result of submitting a read or write.
#[derive(Debug)]
pub enum Submit {
    /// Completed at once (the `Io` was consumed).
    Done,
    /// Held until data or space arrives.
    Blocked,
}

/// A pipe.
#[derive(Debug)]
pub struct Pipe {
    buf: VecDeque<u8>,
    capacity: usize,
    /// Fd references to the read end, in every process and the host.
    pub readers: usize,
    /// Fd references to the write end.
    pub writers: usize,
    read_waiters: VecDeque<Waiter>,
    write_waiters: VecDeque<Waiter>,
    /// End-of-input marks, as offsets into `buf` (ascending): the bytes
    /// before each are read first, then one READ returns 0.
    marks: VecDeque<usize>,
}

fn ok(io: Box<dyn Io>, n: usize, written: usize) {
    io.complete(RespHeader::ok([n as u64, 0, 0]), written);
}

fn fail(io: Box<dyn Io>, e: Errno) {
    io.complete(RespHeader::err(e), 0);
}

impl Pipe {
    /// A pipe with one reader and one writer reference.
    pub fn new(capacity: usize) -> Self {
        Self {
            buf: VecDeque::new(),
            capacity,
            readers: 1,
            writers: 1,
            read_waiters: VecDeque::new(),
            write_waiters: VecDeque::new(),
            marks: VecDeque::new(),
        }
    }

    /// Puts an end-of-input mark after every byte written so far (the
    /// blocked writers' included: they come first, as the writes that
    /// were made before it). A READ stops at it, and the READ that starts
    /// at it returns 0 and takes it away.
    pub fn mark_end_of_input(&mut self, notes: &mut dyn Notes) {
        // Blocked writers are rare here (the host writes its stdin pipe
        // one chunk at a time and waits): let what can settle first.
        self.pump(notes);
        let unsent: usize = self.write_waiters.iter().map(|w| w.len - w.done).sum();
        self.marks.push_back(self.buf.len() + unsent);
        self.pump(notes);
    }

    /// Drops the bytes and marks buffered (a terminal's `TCSETSF`
    /// discards the input typed ahead); returns how many bytes.
    pub fn discard_buffered(&mut self) -> usize {
        let n = self.buf.len();
        self.buf.clear();
        self.marks.clear();
        n
    }

    /// Whether a READ starting now returns 0 at a mark.
    fn at_mark(&self) -> bool {
        self.marks.front() == Some(&0)
    }

    /// Takes away the mark a READ that returns 0 stopped at.
    fn take_mark(&mut self) {
        self.marks.pop_front();
    }

    /// Bytes buffered now.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Capacity in bytes.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    fn free(&self) -> usize {
        self.capacity - self.buf.len()
    }

    /// Submits a READ of up to `io.writable_len()` bytes.
    pub fn read(
        &mut self,
        pid: Pid,
        io: Box<dyn Io>,
        nonblock: bool,
        notes: &mut dyn Notes,
    ) -> Submit {
        let len = io.writable_len();
        let mut w = Waiter {
            pid,
            io,
            done: 0,
            len,
        };
        if self.read_waiters.is_empty() {
            if self.at_mark() {
                self.take_mark();
                ok(w.io, 0, 0);
                return Submit::Done;
            }
            if self.buf.is_empty() {
                // Blocked writers may be able to fill the buffer now.
                self.pump(notes);
            }
            if !self.buf.is_empty() {
                self.fill_reader(&mut w);
                ok(w.io, w.done, w.done);
                self.pump(notes);
                return Submit::Done;
            }
        }
        if self.writers == 0 && self.buf.is_empty() && self.write_waiters.is_empty() {
            ok(w.io, 0, 0);
            return Submit::Done;
        }
        if nonblock {
            fail(w.io, Errno::Eagain);
            return Submit::Done;
        }
        self.readers += 1;
        self.read_waiters.push_back(w);
        self.pump(notes);
        Submit::Blocked
    }

    /// Submits a WRITE of `io.readable_len()` bytes.
    pub fn write(
        &mut self,
        pid: Pid,
        io: Box<dyn Io>,
        nonblock: bool,
        notes: &mut dyn Notes,
    ) -> Submit {
        let len = io.readable_len();
        if len == 0 {
            // No effect at all, with or without a reader (spec: `dev-write-zero`).
            ok(io, 0, 0);
            return Submit::Done;
        }
        if self.readers == 0 {
            notes.note(Note::SigPipe(pid));
            fail(io, Errno::Epipe);
            return Submit::Done;
        }
        let mut w = Waiter {
            pid,
            io,
            done: 0,
            len,
        };
        if nonblock {
            // A nonblocking WRITE never waits, so it never queues behind the
            // blocking ones: it takes the space free now, ahead of the bytes
            // they have not placed (spec: `dev-write-nonblock-pending`).
            if len <= PIPE_BUF && self.room() < len {
                fail(w.io, Errno::Eagain);
                return Submit::Done;
            }
            self.move_from_writer(&mut w);
            if w.done == 0 {
                fail(w.io, Errno::Eagain);
            } else {
                ok(w.io, w.done, 0);
            }
            self.serve_readers_from_buffer();
            return Submit::Done;
        }
        self.writers += 1;
        self.write_waiters.push_back(w);
        self.pump(notes);
        if self.write_waiters.is_empty() {
            Submit::Done
        } else {
            Submit::Blocked
        }
    }

    /// Bytes a writer could place right now without blocking.
    fn room(&self) -> usize {
        let direct: usize = if self.buf.is_empty() && self.marks.is_empty() {
            self.read_waiters.iter().map(|r| r.len).sum()
        } else {
            0
        };
        self.free() + direct
    }

    fn take_from_buffer(&mut self, r: &mut Waiter) {
        let upto = self.marks.front().copied().unwrap_or(usize::MAX);
        let n = r.len.min(self.buf.len()).min(upto);
        let (a, b) = self.buf.as_slices();
        let from_a = n.min(a.len());
        r.io.write_payload(0, &a[..from_a]);
        if n > from_a {
            r.io.write_payload(from_a, &b[..n - from_a]);
        }
        self.buf.drain(..n);
        for m in self.marks.iter_mut() {
            *m -= n;
        }
        r.done = n;
    }

    /// Fills reader `r` (nothing read yet) from the buffer and then, once
    /// the buffer is empty, straight from the blocked writers, oldest first:
    /// the bytes a READ may take are those held followed by those the
    /// blocked WRITEs have not placed yet (spec: `dev-read-available`). A
    /// writer drained to its end completes. Without this, a writer that got
    /// ahead of its reader streamed through the buffer one capacity per
    /// READ (1 MiB writes: 16 READs and 32 wakeups per write).
    fn fill_reader(&mut self, r: &mut Waiter) {
        self.take_from_buffer(r);
        while self.buf.is_empty() && self.marks.is_empty() && r.done < r.len {
            let Some(mut w) = self.write_waiters.pop_front() else {
                break;
            };
            let n = (w.len - w.done).min(r.len - r.done);
            let moved = w.io.copy_to(w.done, r.io.as_mut(), r.done, n);
            w.done += moved;
            r.done += moved;
            if w.done == w.len {
                self.finish_writer(w, Ok(()));
            } else {
                // The reader is full, or a payload was shorter than it
                // claimed: the writer keeps its place.
                self.write_waiters.push_front(w);
                break;
            }
        }
    }

    /// Moves as much of `w` as fits: straight into waiting readers while the
    /// buffer is empty, then into the buffer.
    fn move_from_writer(&mut self, w: &mut Waiter) {
        while self.buf.is_empty() && self.marks.is_empty() && w.done < w.len {
            let Some(mut r) = self.read_waiters.pop_front() else {
                break;
            };
            let n = (w.len - w.done).min(r.len);
            let moved = w.io.copy_to(w.done, r.io.as_mut(), 0, n);
            w.done += moved;
            r.done = moved;
            self.finish_reader(r);
        }
        let n = (w.len - w.done).min(self.free());
        if n > 0 {
            let start = self.buf.len();
            self.buf.resize(start + n, 0);
            let (a, b) = self.buf.as_mut_slices();
            // The new bytes are at [start, start+n) of the logical buffer.
            let mut got = 0;
            if start < a.len() {
                let end = (start + n).min(a.len());
                got += w.io.read_payload(w.done, &mut a[start..end]);
                let rest = n - (end - start);
                if rest > 0 {
                    got += w.io.read_payload(w.done + got, &mut b[..rest]);
                }
            } else {
                let s = start - a.len();
                got += w.io.read_payload(w.done, &mut b[s..s + n]);
            }
            // A payload shorter than it claimed leaves zeros; trim them.
            self.buf.truncate(start + got);
            w.done += got;
        }
    }

    fn serve_readers_from_buffer(&mut self) -> bool {
        let mut progressed = false;
        while !self.buf.is_empty() || self.at_mark() {
            let Some(mut r) = self.read_waiters.pop_front() else {
                break;
            };
            if self.at_mark() {
                self.take_mark();
                self.finish_reader(r);
                progressed = true;
                continue;
            }
            self.fill_reader(&mut r);
            self.finish_reader(r);
            progressed = true;
        }
        progressed
    }

    /// Completes whatever can complete now.
    pub fn pump(&mut self, notes: &mut dyn Notes) {
        loop {
            let mut progressed = self.serve_readers_from_buffer();
            if let Some(w) = self.write_waiters.pop_front() {
                if self.readers == 0 {
                    if w.done > 0 {
                        self.finish_writer(w, Ok(()));
                    } else {
                        notes.note(Note::SigPipe(w.pid));
                        self.finish_writer(w, Err(Errno::Epipe));
                    }
                    progressed = true;
                } else if w.len <= PIPE_BUF && self.room() < w.len - w.done {
                    self.write_waiters.push_front(w);
                } else {
                    let mut w = w;
                    let before = w.done;
                    self.move_from_writer(&mut w);
                    progressed |= w.done > before;
                    if w.done == w.len {
                        self.finish_writer(w, Ok(()));
                        progressed = true;
                    } else {
                        self.write_waiters.push_front(w);
                    }
                }
            }
            if !progressed {
                break;
            }
        }
        if self.writers == 0 && self.buf.is_empty() && self.write_waiters.is_empty() {
            while let Some(r) = self.read_waiters.pop_front() {
                self.finish_reader(r);
            }
        }
    }

    /// Completes a blocked reader with the `done` bytes it got; it lets go
    /// of its read end.
    fn finish_reader(&mut self, r: Waiter) {
        self.readers -= 1;
        ok(r.io, r.done, r.done);
    }

    /// Completes a blocked writer with its count, or `e`; it lets go of its
    /// write end.
    fn finish_writer(&mut self, w: Waiter, r: Result<(), Errno>) {
        self.writers -= 1;
        match r {
            Ok(()) => ok(w.io, w.done, 0),
            Err(e) => fail(w.io, e),
        }
    }

    /// Lets go of the end a request taken by [`Pipe::take_waiters`] held,
    /// without completing it (it was dropped); the caller pumps.
    pub fn release(&mut self, end: End) {
        match end {
            End::Read => self.readers -= 1,
            End::Write => self.writers -= 1,
        }
    }

    /// Whether nothing refers to the pipe any more: the kernel frees it.
    pub fn is_unreferenced(&self) -> bool {
        self.readers == 0 && self.writers == 0
    }

    /// Drops the blocked requests of `pid` without completing them (its VM
    /// is gone) and lets go of their ends; then completes what can.
    pub fn cancel(&mut self, pid: Pid, notes: &mut dyn Notes) {
        for (end, _) in self.take_waiters(pid) {
            self.release(end);
        }
        self.pump(notes);
    }

    /// Ends the blocked requests of `pid` now (spec `dev-interrupt`): one
    /// that moved bytes completes with its count, as POSIX has an
    /// interrupted `read`/`write` return; one that moved none with
    /// `EINTR`. Each lets go of its end; then completes what can. Returns
    /// how many it ended.
    pub fn interrupt(&mut self, pid: Pid, notes: &mut dyn Notes) -> usize {
        let taken = self.take_waiters(pid);
        let n = taken.len();
        for (end, w) in taken {
            match (end, w.done) {
                (End::Read, 0) => {
                    self.readers -= 1;
                    fail(w.io, Errno::Eintr);
                }
                (End::Read, _) => self.finish_reader(w),
                (End::Write, 0) => self.finish_writer(w, Err(Errno::Eintr)),
                (End::Write, _) => self.finish_writer(w, Ok(())),
            }
        }
        self.pump(notes);
        n
    }

    /// Takes the blocked requests of `pid` out of the pipe, without
    /// completing them, to be put back with [`Pipe::requeue`].
    pub fn take_waiters(&mut self, pid: Pid) -> Vec<(End, Waiter)> {
        let mut taken = Vec::new();
        for (end, queue) in [
            (End::Read, &mut self.read_waiters),
            (End::Write, &mut self.write_waiters),
        ] {
            let (mine, others): (VecDeque<Waiter>, VecDeque<Waiter>) =
                queue.drain(..).partition(|w| w.pid == pid);
            *queue = others;
            taken.extend(mine.into_iter().map(|w| (end, w)));
        }
        taken
    }

    /// Puts back a request taken by [`Pipe::take_waiters`], behind the
    /// requests waiting now, and completes whatever can complete.
    pub fn requeue(&mut self, end: End, waiter: Waiter, notes: &mut dyn Notes) {
        match end {
            End::Read => self.read_waiters.push_back(waiter),
            End::Write => self.write_waiters.push_back(waiter),
        }
        self.pump(notes);
    }

    /// Whether `pid` has a request blocked here.
    pub fn has_waiter(&self, pid: Pid) -> bool {
        self.read_waiters
            .iter()
            .chain(&self.write_waiters)
            .any(|w| w.pid == pid)
    }

    /// Whether a READ would complete with bytes now: some are buffered, or
    /// a blocked writer holds some (what `POLLIN` reports, spec:
    /// `dev-poll-pipe`); or at once with 0 at an end-of-input mark (a
    /// terminal's Ctrl-D is readable, as on Linux).
    pub fn has_data(&self) -> bool {
        !self.buf.is_empty() || self.write_waiters.iter().any(|w| w.done < w.len) || self.at_mark()
    }

    /// Whether a WRITE of up to `PIPE_BUF` bytes would move at once: no
    /// writer is queued ahead of it and that much room is free (or the
    /// whole capacity, for a pipe smaller than that). What `POLLOUT`
    /// reports, as Linux's "the pipe is not full" does.
    pub fn has_room(&self) -> bool {
        self.write_waiters.is_empty() && self.room() >= PIPE_BUF.min(self.capacity)
    }

    /// Number of blocked requests.
    pub fn waiting(&self) -> usize {
        self.read_waiters.len() + self.write_waiters.len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::Receiver;

    use super::*;
    use crate::io::{HostCompletion, HostIo};

    const CAP: usize = 64 * 1024;
    const A: Pid = 1;
    const B: Pid = 2;

    fn read(p: &mut Pipe, len: usize, nonblock: bool) -> Receiver<HostCompletion> {
        let (io, rx) = HostIo::boxed(Vec::new(), len);
        p.read(B, io, nonblock, &mut Vec::new());
        rx
    }

    fn write(
        p: &mut Pipe,
        data: &[u8],
        nonblock: bool,
        notes: &mut dyn Notes,
    ) -> Receiver<HostCompletion> {
        let (io, rx) = HostIo::boxed(data.to_vec(), 0);
        p.write(A, io, nonblock, notes);
        rx
    }

    fn ret(rx: &Receiver<HostCompletion>) -> Result<u64, Errno> {
        let c = rx.try_recv().expect("request should have completed");
        c.resp.result().map(|_| c.resp.ret(0))
    }

    fn data(rx: &Receiver<HostCompletion>) -> Vec<u8> {
        let c = rx.try_recv().expect("request should have completed");
        assert!(c.resp.result().is_ok());
        c.data
    }

    #[test]
    fn a_mark_ends_one_read_and_the_stream_goes_on() {
        let mut p = Pipe::new(CAP);
        let mut notes = Vec::new();
        // Ctrl-D on an empty line: one READ returns 0...
        p.mark_end_of_input(&mut notes);
        assert_eq!(ret(&read(&mut p, 10, false)), Ok(0));
        // ... and the next blocks, then reads on.
        let rx = read(&mut p, 10, false);
        assert!(rx.try_recv().is_err(), "blocked: the stream is still open");
        assert_eq!(ret(&write(&mut p, b"more", false, &mut notes)), Ok(4));
        assert_eq!(data(&rx), b"more");
    }

    #[test]
    fn a_read_stops_at_a_mark_and_the_next_one_returns_zero() {
        let mut p = Pipe::new(CAP);
        let mut notes = Vec::new();
        write(&mut p, b"abc\n", false, &mut notes);
        p.mark_end_of_input(&mut notes);
        write(&mut p, b"after", false, &mut notes);
        assert_eq!(data(&read(&mut p, 100, false)), b"abc\n");
        assert_eq!(ret(&read(&mut p, 100, false)), Ok(0));
        assert_eq!(data(&read(&mut p, 100, false)), b"after");
        assert_eq!(p.marks.len(), 0);
    }

    #[test]
    fn a_short_read_before_a_mark_leaves_it_in_place() {
        let mut p = Pipe::new(CAP);
        let mut notes = Vec::new();
        write(&mut p, b"hello", false, &mut notes);
        p.mark_end_of_input(&mut notes);
        p.mark_end_of_input(&mut notes);
        assert_eq!(data(&read(&mut p, 2, false)), b"he");
        assert_eq!(data(&read(&mut p, 10, false)), b"llo");
        assert_eq!(ret(&read(&mut p, 10, true)), Ok(0), "even nonblocking");
        assert_eq!(ret(&read(&mut p, 10, false)), Ok(0), "two marks, two ends");
        assert_eq!(ret(&read(&mut p, 10, true)), Err(Errno::Eagain));
    }

    #[test]
    fn discarding_drops_the_typed_ahead_bytes_and_marks_only() {
        let mut p = Pipe::new(CAP);
        let mut notes = Vec::new();
        write(&mut p, b"typed ahead", false, &mut notes);
        p.mark_end_of_input(&mut notes);
        assert_eq!(p.discard_buffered(), 11);
        assert_eq!(ret(&read(&mut p, 10, true)), Err(Errno::Eagain));
        write(&mut p, b"new", false, &mut notes);
        assert_eq!(data(&read(&mut p, 10, false)), b"new");
    }

    #[test]
    fn a_blocked_reader_is_ended_by_a_mark() {
        let mut p = Pipe::new(CAP);
        let mut notes = Vec::new();
        let first = read(&mut p, 10, false);
        let second = read(&mut p, 10, false);
        p.mark_end_of_input(&mut notes);
        assert_eq!(ret(&first), Ok(0));
        assert!(second.try_recv().is_err(), "only one READ sees the end");
        write(&mut p, b"x", false, &mut notes);
        assert_eq!(data(&second), b"x");
        // Every reference a blocked READ held was given back.
        assert_eq!((p.readers, p.writers), (1, 1));
    }

    /// spec `dev-interrupt`: a blocked reader that got nothing ends with
    /// `EINTR`, and lets go of its end (the pipe can be freed once the
    /// fds close too).
    #[test]
    fn interrupt_ends_a_blocked_read_with_eintr() {
        let mut p = Pipe::new(CAP);
        let r = read(&mut p, 10, false);
        assert!(r.try_recv().is_err(), "the read blocks");
        assert_eq!(p.interrupt(B, &mut Vec::new()), 1);
        assert_eq!(ret(&r), Err(Errno::Eintr));
        assert_eq!(p.waiting(), 0);
        // Nothing else of the pipe changed: a later write is read whole.
        let w = write(&mut p, b"after", false, &mut Vec::new());
        assert_eq!(ret(&w), Ok(5));
        let r = read(&mut p, 10, false);
        assert_eq!(ret(&r), Ok(5));
    }

    /// spec `dev-interrupt`: a blocked writer that moved part of its bytes
    /// completes with that count; those bytes stay readable, in order,
    /// and the rest were never taken.
    #[test]
    fn interrupt_of_a_part_written_write_returns_the_count_moved() {
        let mut p = Pipe::new(CAP);
        let data: Vec<u8> = (0..CAP + 100).map(|i| i as u8).collect();
        let w = write(&mut p, &data, false, &mut Vec::new());
        assert!(w.try_recv().is_err(), "the write blocks on a full pipe");
        assert_eq!(p.interrupt(A, &mut Vec::new()), 1);
        assert_eq!(ret(&w), Ok(CAP as u64));
        let r = read(&mut p, 2 * CAP, false);
        let c = r.try_recv().unwrap();
        assert_eq!(c.data, &data[..CAP]);
    }

    /// spec `dev-interrupt`: a writer that moved nothing ends with `EINTR`;
    /// another process's blocked request is not touched.
    #[test]
    fn interrupt_ends_only_the_callers_requests() {
        let mut p = Pipe::new(4);
        let first = write(&mut p, b"abcd", false, &mut Vec::new());
        assert_eq!(ret(&first), Ok(4));
        let w = write(&mut p, b"ef", false, &mut Vec::new());
        assert_eq!(p.interrupt(B, &mut Vec::new()), 0, "B has nothing blocked");
        assert!(w.try_recv().is_err(), "A's write still blocks");
        assert_eq!(p.interrupt(A, &mut Vec::new()), 1);
        assert_eq!(ret(&w), Err(Errno::Eintr));
        let r = read(&mut p, 10, false);
        assert_eq!(r.try_recv().unwrap().data, b"abcd");
    }

    #[test]
    fn read_after_write_returns_the_bytes() {
        let mut p = Pipe::new(CAP);
        let w = write(&mut p, b"abc", false, &mut Vec::new());
        assert_eq!(ret(&w), Ok(3));
        let r = read(&mut p, 10, false);
        let c = r.try_recv().unwrap();
        assert_eq!(c.data, b"abc");
    }

    #[test]
    fn blocked_reader_gets_data_straight_from_the_writer() {
        let mut p = Pipe::new(CAP);
        let r = read(&mut p, 10, false);
        assert!(r.try_recv().is_err());
        let w = write(&mut p, b"xyz", false, &mut Vec::new());
        assert_eq!(ret(&w), Ok(3));
        assert_eq!(r.try_recv().unwrap().data, b"xyz");
        assert_eq!(p.buffered(), 0);
    }

    #[test]
    fn read_on_empty_pipe_with_no_writers_returns_eof() {
        let mut p = Pipe::new(CAP);
        p.writers = 0;
        assert_eq!(ret(&read(&mut p, 10, false)), Ok(0));
    }

    #[test]
    fn blocked_reader_gets_eof_when_last_writer_closes() {
        let mut p = Pipe::new(CAP);
        let r = read(&mut p, 10, false);
        p.writers = 0;
        p.pump(&mut Vec::new());
        assert_eq!(ret(&r), Ok(0));
    }

    #[test]
    fn nonblocking_read_on_empty_pipe_is_eagain() {
        let mut p = Pipe::new(CAP);
        assert_eq!(ret(&read(&mut p, 10, true)), Err(Errno::Eagain));
    }

    #[test]
    fn write_with_no_readers_is_epipe_and_notes_sigpipe() {
        let mut p = Pipe::new(CAP);
        p.readers = 0;
        let mut notes = Vec::new();
        assert_eq!(
            ret(&write(&mut p, b"a", false, &mut notes)),
            Err(Errno::Epipe)
        );
        assert_eq!(notes, vec![Note::SigPipe(A)]);
    }

    #[test]
    fn empty_write_without_readers_returns_zero_and_notes_nothing() {
        let mut p = Pipe::new(CAP);
        p.readers = 0;
        let mut notes = Vec::new();
        assert_eq!(ret(&write(&mut p, b"", false, &mut notes)), Ok(0));
        assert!(notes.is_empty(), "no SIGPIPE for an empty write");
    }

    #[test]
    fn write_blocks_when_full_and_completes_when_drained() {
        let mut p = Pipe::new(PIPE_BUF);
        assert_eq!(
            ret(&write(&mut p, &[1; PIPE_BUF], false, &mut Vec::new())),
            Ok(PIPE_BUF as u64)
        );
        let w = write(&mut p, &[2; 10], false, &mut Vec::new());
        assert!(w.try_recv().is_err(), "the pipe is full");
        let r = read(&mut p, 100, false);
        assert_eq!(r.try_recv().unwrap().data.len(), 100);
        assert_eq!(ret(&w), Ok(10));
    }

    #[test]
    fn atomic_write_waits_for_room_for_all_of_it() {
        let mut p = Pipe::new(PIPE_BUF * 2);
        write(&mut p, &[1; PIPE_BUF * 2 - 10], false, &mut Vec::new());
        let w = write(&mut p, &[2; 100], false, &mut Vec::new());
        assert!(w.try_recv().is_err());
        assert_eq!(p.buffered(), PIPE_BUF * 2 - 10, "no partial atomic write");
        read(&mut p, 50, false);
        assert!(w.try_recv().is_err(), "60 bytes free is still too little");
        read(&mut p, 50, false);
        assert_eq!(ret(&w), Ok(100));
    }

    #[test]
    fn nonblocking_atomic_write_that_does_not_fit_is_eagain() {
        let mut p = Pipe::new(PIPE_BUF);
        write(&mut p, &[1; PIPE_BUF - 1], false, &mut Vec::new());
        assert_eq!(
            ret(&write(&mut p, &[2; 2], true, &mut Vec::new())),
            Err(Errno::Eagain)
        );
    }

    #[test]
    fn nonblocking_large_write_is_partial() {
        let mut p = Pipe::new(CAP);
        let w = write(&mut p, &vec![3; CAP + 100], true, &mut Vec::new());
        assert_eq!(ret(&w), Ok(CAP as u64));
    }

    #[test]
    fn large_blocking_write_streams_through_a_reader() {
        let mut p = Pipe::new(PIPE_BUF);
        let data: Vec<u8> = (0..20_000u32).map(|i| i as u8).collect();
        let w = write(&mut p, &data, false, &mut Vec::new());
        let mut got = Vec::new();
        while got.len() < data.len() {
            let r = read(&mut p, 3000, false);
            got.extend(r.try_recv().unwrap().data);
        }
        assert_eq!(got, data);
        assert_eq!(ret(&w), Ok(data.len() as u64));
    }

    #[test]
    fn read_takes_the_buffer_then_the_blocked_writers_bytes() {
        let mut p = Pipe::new(PIPE_BUF);
        let data: Vec<u8> = (0..3 * PIPE_BUF as u32).map(|i| (i % 251) as u8).collect();
        let w = write(&mut p, &data, false, &mut Vec::new());
        assert!(
            w.try_recv().is_err(),
            "a capacity buffered, the rest pending"
        );
        let first = read(&mut p, 2 * PIPE_BUF + 100, false).try_recv().unwrap();
        assert_eq!(
            first.data,
            data[..2 * PIPE_BUF + 100],
            "held bytes, then the writer's"
        );
        // The rest fit in the buffer once the READ emptied it.
        assert_eq!(ret(&w), Ok(data.len() as u64));
        let rest = read(&mut p, 3 * PIPE_BUF, false).try_recv().unwrap();
        assert_eq!(rest.data, data[2 * PIPE_BUF + 100..]);
        assert_eq!(p.buffered(), 0);
    }

    #[test]
    fn read_that_drains_a_blocked_writer_completes_it() {
        let mut p = Pipe::new(PIPE_BUF);
        let w1 = write(&mut p, &vec![1; PIPE_BUF + 10], false, &mut Vec::new());
        let w2 = write(&mut p, &[2; 5], false, &mut Vec::new());
        let got = read(&mut p, PIPE_BUF + 12, false).try_recv().unwrap().data;
        assert_eq!(got.len(), PIPE_BUF + 12);
        assert!(got[..PIPE_BUF + 10].iter().all(|&b| b == 1));
        assert_eq!(
            &got[PIPE_BUF + 10..],
            &[2, 2],
            "then the next writer's, in order"
        );
        assert_eq!(ret(&w1), Ok(PIPE_BUF as u64 + 10));
        assert_eq!(ret(&w2), Ok(5), "its last 3 bytes fit in the buffer");
        assert_eq!(p.buffered(), 3);
    }

    #[test]
    fn writers_are_not_interleaved() {
        let mut p = Pipe::new(PIPE_BUF);
        write(&mut p, &[0; PIPE_BUF], false, &mut Vec::new());
        let w1 = write(&mut p, &[1; 3000], false, &mut Vec::new());
        let w2 = write(&mut p, &[2; 3000], false, &mut Vec::new());
        let mut got = Vec::new();
        while got.len() < PIPE_BUF + 6000 {
            got.extend(read(&mut p, 1000, false).try_recv().unwrap().data);
        }
        assert!(got[PIPE_BUF..PIPE_BUF + 3000].iter().all(|&b| b == 1));
        assert!(got[PIPE_BUF + 3000..].iter().all(|&b| b == 2));
        assert_eq!((ret(&w1), ret(&w2)), (Ok(3000), Ok(3000)));
    }

    #[test]
    fn blocked_writer_gets_epipe_when_readers_go_away() {
        let mut p = Pipe::new(PIPE_BUF);
        write(&mut p, &[0; PIPE_BUF], false, &mut Vec::new());
        let mut notes = Vec::new();
        let w = write(&mut p, b"x", false, &mut notes);
        p.readers = 0;
        p.pump(&mut notes);
        assert_eq!(ret(&w), Err(Errno::Epipe));
        assert_eq!(notes, vec![Note::SigPipe(A)]);
    }

    #[test]
    fn partly_done_large_write_reports_its_count_when_readers_go_away() {
        let mut p = Pipe::new(PIPE_BUF);
        let w = write(&mut p, &[0; PIPE_BUF * 3], false, &mut Vec::new());
        p.readers = 0;
        p.pump(&mut Vec::new());
        assert_eq!(ret(&w), Ok(PIPE_BUF as u64));
    }

    #[test]
    fn data_and_room_follow_the_buffer_and_the_blocked_writers() {
        let mut p = Pipe::new(2 * PIPE_BUF);
        assert!(!p.has_data() && p.has_room());
        write(&mut p, &[1; PIPE_BUF + 1], false, &mut Vec::new());
        assert!(p.has_data());
        assert!(!p.has_room(), "less than PIPE_BUF free");
        write(&mut p, &[1; PIPE_BUF - 6], false, &mut Vec::new());
        let w = write(&mut p, &[2; 10], false, &mut Vec::new());
        assert!(w.try_recv().is_err(), "5 bytes free");
        read(&mut p, 2 * PIPE_BUF - 5, false);
        assert_eq!(ret(&w), Ok(10), "the blocked writer moved");
        assert!(p.has_data() && p.has_room());
        read(&mut p, 10, false);
        assert!(!p.has_data());
        let mut small = Pipe::new(16);
        assert!(
            small.has_room(),
            "a pipe smaller than PIPE_BUF: room for all of it"
        );
        write(&mut small, &[0; 16], false, &mut Vec::new());
        assert!(!small.has_room());
    }

    #[test]
    fn cancel_drops_only_that_processes_waiters() {
        let mut p = Pipe::new(CAP);
        let r = read(&mut p, 10, false);
        p.cancel(A, &mut Vec::new());
        assert_eq!(p.waiting(), 1);
        p.cancel(B, &mut Vec::new());
        assert_eq!(p.waiting(), 0);
        assert!(r.try_recv().is_err());
    }
}
