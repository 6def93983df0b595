//! The host ends of the root's standard streams.
//!
//! The root's fds 0, 1 and 2 are pipes whose other ends the host
//! pseudo-process (pid 0) holds. Three pump threads move bytes between
//! those pipes and the daemon's own stdin, stdout and stderr, through the
//! same kernel calls a guest makes, so `vhost-user-pipe run app | grep x`
//! and `... < file` behave as for any process.

use std::io::{Read, Write};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use virtio_pipe_protocol::Request;

use crate::io::HostIo;
use crate::process::HOST_PID;
use crate::supervisor::Supervisor;

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

fn pump_in(sup: &Supervisor, mut source: impl Read) {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match source.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let req = Request::Write {
            fd: 0,
            len: n as u32,
            nonblock: false,
        };
        match host_call(sup, req, buf[..n].to_vec(), 0) {
            Some(c) if c.resp.result().is_ok() => {}
            _ => break,
        }
    }
    close(sup, 0);
}

/// Starts the pumps for the daemon's own stdio.
pub fn start(sup: &Arc<Supervisor>) -> Pumps {
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
    let sup = sup.clone();
    // The stdin pump may block in read(2) forever (a terminal); it is
    // never joined and ends with the daemon.
    thread::spawn(move || pump_in(&sup, std::io::stdin()));
    Pumps { done, outputs: 2 }
}

impl Pumps {
    /// Waits until stdout and stderr have drained, or `deadline` passes.
    pub fn finish(self, deadline: Instant) -> bool {
        for _ in 0..self.outputs {
            let left = deadline.saturating_duration_since(Instant::now());
            if self.done.recv_timeout(left).is_err() {
                return false;
            }
        }
        true
    }
}
