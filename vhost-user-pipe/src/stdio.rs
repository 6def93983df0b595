//! The host ends of the root's standard streams.
//!
//! The root's fds 0, 1 and 2 are pipes whose other ends the host
//! pseudo-process (pid 0) holds. Three pump threads move bytes between
//! those pipes and the daemon's own stdin, stdout and stderr, through the
//! same kernel calls a guest makes, so `vhost-user-pipe run app | grep x`
//! and `... < file` behave as for any process.
//!
//! A terminal on stdin reads 0 bytes for a Ctrl-D (canonical mode) and goes
//! on: that is an end-of-input mark in the root's stdin pipe (one `READ`
//! returns 0, `pipe.rs`), not the end of the stream, which comes only with
//! the end of a file or pipe, or a terminal that hung up.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::thread;
use std::time::Instant;

use virtio_pipe_protocol::Request;

use crate::io::HostIo;
use crate::process::HOST_PID;
use crate::supervisor::Supervisor;

/// Which of the daemon's own stdin, stdout and stderr are terminals: the
/// root's standard streams report it (spec: `dev-file-tty`), so a program's
/// `isatty` tells the truth about the host's.
pub fn host_terminals() -> [bool; 3] {
    use std::io::IsTerminal;
    [
        std::io::stdin().is_terminal(),
        std::io::stdout().is_terminal(),
        std::io::stderr().is_terminal(),
    ]
}

/// Bytes a pump moves per request.
const CHUNK: usize = 64 * 1024;

/// The running output pumps.
#[derive(Debug)]
pub struct Pumps {
    done: mpsc::Receiver<()>,
    outputs: usize,
}

fn host_call(
    sup: &Supervisor,
    req: Request,
    data: Vec<u8>,
    out: usize,
) -> Option<crate::io::HostCompletion> {
    let (io, rx) = HostIo::boxed(data, out);
    sup.kernel().submit(HOST_PID, req, io);
    rx.recv().ok()
}

fn close(sup: &Supervisor, fd: u32) {
    let _ = host_call(sup, Request::Close { fd }, Vec::new(), 0);
}

fn pump_out(sup: &Supervisor, fd: u32, mut sink: impl Write) {
    let read = || {
        host_call(
            sup,
            Request::Read {
                fd,
                len: CHUNK as u32,
                nonblock: false,
            },
            Vec::new(),
            CHUNK,
        )
    };
    while let Some(c) = read() {
        if c.resp.result().is_err() || c.data.is_empty() {
            break;
        }
        if sink.write_all(&c.data).and_then(|_| sink.flush()).is_err() {
            break;
        }
    }
    close(sup, fd);
}

/// One read of the daemon's stdin.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Input {
    /// Bytes.
    Bytes(Vec<u8>),
    /// A terminal's end of input (Ctrl-D): one READ returns 0.
    Mark,
    /// The end of the stream, for good.
    End,
}

/// What one `read(2)` of stdin means: `terminal` says whether stdin is a
/// terminal, and `still_a_terminal` asks whether it still is one (a
/// terminal that hung up reads 0 bytes for ever and no longer answers
/// `TCGETS`). `None`: read again (a signal interrupted it).
fn classify(
    read: std::io::Result<&[u8]>,
    terminal: bool,
    still_a_terminal: impl FnOnce() -> bool,
) -> Option<Input> {
    match read {
        Ok([]) if terminal && still_a_terminal() => Some(Input::Mark),
        Ok([]) => Some(Input::End),
        Ok(bytes) => Some(Input::Bytes(bytes.to_vec())),
        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => None,
        Err(_) => Some(Input::End),
    }
}

/// The daemon's stdin, read by one thread for the daemon's whole life and
/// handed to the current tree's root: a `serve` daemon runs tree after
/// tree, and a reader per tree would steal the next tree's input.
struct StdinHub {
    chunks: Mutex<VecDeque<Input>>,
    more: Condvar,
}

impl StdinHub {
    fn get() -> &'static StdinHub {
        static HUB: OnceLock<StdinHub> = OnceLock::new();
        HUB.get_or_init(|| {
            // The reader may block in read(2) forever (a terminal); it is
            // never joined and ends with the daemon.
            thread::spawn(|| {
                let hub = StdinHub::get();
                let terminal = host_terminals()[0];
                let still = || crate::terminal::get_attr(std::io::stdin().as_fd()).is_ok();
                let mut stdin = std::io::stdin();
                let mut buf = vec![0u8; CHUNK];
                loop {
                    let read = stdin.read(&mut buf).map(|n| &buf[..n]);
                    let Some(input) = classify(read, terminal, still) else {
                        continue;
                    };
                    let end = input == Input::End;
                    hub.push_back(input);
                    if end {
                        break;
                    }
                }
            });
            StdinHub {
                chunks: Mutex::new(VecDeque::new()),
                more: Condvar::new(),
            }
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Input>> {
        self.chunks.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push_back(&self, input: Input) {
        self.lock().push_back(input);
        self.more.notify_all();
    }

    /// Puts back input its tree could not take, for the next tree.
    fn unget(&self, input: Input) {
        self.lock().push_front(input);
        self.more.notify_all();
    }

    /// The next input (`End` stays for every later tree), or nothing once
    /// `done` says the tree is over.
    fn next(&self, done: &dyn Fn() -> bool) -> Option<Input> {
        let mut chunks = self.lock();
        loop {
            if done() {
                return None;
            }
            match chunks.front() {
                Some(Input::End) => return Some(Input::End),
                Some(_) => return chunks.pop_front(),
                None => {}
            }
            // A tree's end wakes us through `Pumps::finish`.
            chunks = self.more.wait(chunks).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Wakes every pump waiting for input (its tree may have ended).
    fn wake(&self) {
        let _chunks = self.lock();
        self.more.notify_all();
    }
}

fn pump_in(sup: &Supervisor) {
    let hub = StdinHub::get();
    let done = || sup.tree_status().is_some();
    while let Some(input) = hub.next(&done) {
        let data = match input {
            Input::Bytes(data) => data,
            Input::Mark => {
                // After every byte written before it: each WRITE above
                // completed before this.
                sup.kernel().mark_end_of_input();
                continue;
            }
            Input::End => break,
        };
        let req = Request::Write {
            fd: 0,
            len: data.len() as u32,
            nonblock: false,
        };
        match host_call(sup, req, data.clone(), 0) {
            Some(c) if c.resp.result().is_ok() => {}
            _ => {
                hub.unget(Input::Bytes(data));
                break;
            }
        }
    }
    close(sup, 0);
}

/// Starts the pumps for the daemon's own stdio (stdin only with
/// `pump_stdin`: a redirected file is the root's fd 0 itself).
pub fn start(sup: &Arc<Supervisor>, pump_stdin: bool) -> Pumps {
    let (tx, done) = mpsc::channel();
    for fd in [1u32, 2] {
        let (sup, tx) = (sup.clone(), tx.clone());
        thread::spawn(move || {
            if fd == 1 {
                pump_out(&sup, fd, std::io::stdout());
            } else {
                pump_out(&sup, fd, std::io::stderr());
            }
            let _ = tx.send(());
        });
    }
    if pump_stdin {
        let sup = sup.clone();
        thread::spawn(move || pump_in(&sup));
    }
    Pumps { done, outputs: 2 }
}

impl Pumps {
    /// Waits until stdout and stderr have drained, or `deadline` passes;
    /// the stdin pump lets go of the daemon's stdin.
    pub fn finish(self, deadline: Instant) -> bool {
        StdinHub::get().wake();
        for _ in 0..self.outputs {
            let left = deadline.saturating_duration_since(Instant::now());
            if self.done.recv_timeout(left).is_err() {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify_ok(bytes: &[u8], terminal: bool, still: bool) -> Option<Input> {
        classify(Ok(bytes), terminal, || still)
    }

    #[test]
    fn a_terminals_zero_byte_read_is_a_mark_and_a_pipes_the_end() {
        assert_eq!(classify_ok(b"", true, true), Some(Input::Mark), "Ctrl-D");
        assert_eq!(classify_ok(b"", false, true), Some(Input::End));
        assert_eq!(
            classify_ok(b"", true, false),
            Some(Input::End),
            "a terminal that hung up"
        );
        assert_eq!(
            classify_ok(b"ls\n", true, true),
            Some(Input::Bytes(b"ls\n".to_vec()))
        );
    }

    #[test]
    fn an_interrupted_read_is_read_again_and_an_error_ends() {
        let eintr = std::io::Error::from(std::io::ErrorKind::Interrupted);
        assert_eq!(classify(Err(eintr), true, || true), None);
        let eio = std::io::Error::from_raw_os_error(libc::EIO);
        assert_eq!(classify(Err(eio), true, || true), Some(Input::End));
    }
}
