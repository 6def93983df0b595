//! The host ends of the root's standard streams.
//!
//! The root's fds 0, 1 and 2 are pipes whose other ends the host
//! pseudo-process (pid 0) holds. Three pump threads move bytes between
//! those pipes and the daemon's own stdin, stdout and stderr, through the
//! same kernel calls a guest makes, so `vhost-user-pipe run app | grep x`
//! and `... < file` behave as for any process.

use std::collections::VecDeque;
use std::io::{Read, Write};
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

/// The daemon's stdin, read by one thread for the daemon's whole life and
/// handed to the current tree's root: a `serve` daemon runs tree after
/// tree, and a reader per tree would steal the next tree's input.
struct StdinHub {
    chunks: Mutex<VecDeque<Option<Vec<u8>>>>,
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
                let mut stdin = std::io::stdin();
                let mut buf = vec![0u8; CHUNK];
                loop {
                    let chunk = match stdin.read(&mut buf) {
                        Ok(0) | Err(_) => None,
                        Ok(n) => Some(buf[..n].to_vec()),
                    };
                    let eof = chunk.is_none();
                    hub.push_back(chunk);
                    if eof {
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

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Option<Vec<u8>>>> {
        self.chunks.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push_back(&self, chunk: Option<Vec<u8>>) {
        self.lock().push_back(chunk);
        self.more.notify_all();
    }

    /// Puts back a chunk its tree could not take, for the next tree.
    fn unget(&self, chunk: Option<Vec<u8>>) {
        self.lock().push_front(chunk);
        self.more.notify_all();
    }

    /// The next chunk (`None` at end of file, which stays for every later
    /// tree), or nothing once `done` says the tree is over.
    fn next(&self, done: &dyn Fn() -> bool) -> Option<Option<Vec<u8>>> {
        let mut chunks = self.lock();
        loop {
            if done() {
                return None;
            }
            match chunks.front() {
                Some(None) => return Some(None),
                Some(Some(_)) => return chunks.pop_front(),
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
    while let Some(chunk) = hub.next(&done) {
        let Some(data) = chunk else { break };
        let req = Request::Write {
            fd: 0,
            len: data.len() as u32,
            nonblock: false,
        };
        match host_call(sup, req, data.clone(), 0) {
            Some(c) if c.resp.result().is_ok() => {}
            _ => {
                hub.unget(Some(data));
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
