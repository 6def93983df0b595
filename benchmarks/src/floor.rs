//! The notification floor: what the backend's pipe round trip would cost if
//! the device did no work at all, only the wakeups.
//!
//! A vhost-user device that never polls (the house style) moves every
//! request through eventfds: the driver kicks, the device's thread wakes in
//! `epoll_wait`, reads the kick, completes, and writes the driver's call
//! eventfd. This module runs exactly that pattern with four host threads
//! (two "frontends", two "device threads") and nothing else: no vring, no
//! guest memory, no pipe, one mutex for the shared state. Same-run ratios
//! `backend / floor` are then the device's own overhead, and `floor / host`
//! is what the notification scheme alone costs against a host pipe.
//!
//! Two protocols are modelled:
//! - [`Protocol::RequestResponse`], virtio-pipe as specified: `write()` is a
//!   WRITE request the driver waits for, `read()` a READ request. A 1-byte
//!   round trip is four requests and eight wakeups.
//! - [`Protocol::Posted`]: a hypothetical driver that submits the WRITE and
//!   the READ with one kick and waits only for the READ (posted writes
//!   with credit, as virtio-vsock does). Four wakeups: the least any
//!   design can do where the data passes through a third party.

use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use vmm_sys_util::epoll::{ControlOperation, Epoll, EpollEvent, EventSet};
use vmm_sys_util::eventfd::{EventFd, EFD_NONBLOCK};

use crate::plan::Plan;
use crate::proc::{pin, Pinned, Placement};
use crate::stats::{names, Row, Unit, Way};

/// Which driver protocol the model runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Each `write()` and `read()` is a request the driver waits for.
    RequestResponse,
    /// WRITE and READ submitted with one kick; only the READ is waited for.
    Posted,
}

/// How long any one wait may take before the run is abandoned.
const DEADLINE: Duration = Duration::from_secs(10);

/// One end: its driver's kick and call eventfds and its request counters.
struct End {
    kick: EventFd,
    call: EventFd,
    /// Requests submitted (the avail index).
    submitted: AtomicU64,
    /// Requests completed (the used index).
    completed: AtomicU64,
}

impl End {
    fn new() -> std::io::Result<Self> {
        Ok(Self {
            kick: EventFd::new(EFD_NONBLOCK)?,
            call: EventFd::new(EFD_NONBLOCK)?,
            submitted: AtomicU64::new(0),
            completed: AtomicU64::new(0),
        })
    }

    /// The driver: adds `n` requests and kicks.
    fn submit(&self, n: u64) {
        self.submitted.fetch_add(n, Ordering::SeqCst);
        let _ = self.kick.write(1);
    }

    /// The driver: waits until `want` requests have completed, as the
    /// TestGuest does (poll on the call eventfd, then read it).
    fn wait(&self, want: u64) -> bool {
        let until = Instant::now() + DEADLINE;
        while self.completed.load(Ordering::SeqCst) < want {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            let mut pfd = libc::pollfd {
                fd: self.call.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd for the duration of the call.
            unsafe { libc::poll(&mut pfd, 1, left.as_millis().max(1) as i32) };
            let _ = self.call.read();
        }
        true
    }

    /// The device: completes one request; signalled later by the caller.
    fn complete(&self) {
        self.completed.fetch_add(1, Ordering::SeqCst);
    }
}

/// The one pipe direction into each end: whether its READ waits, and the
/// bytes written that no READ has taken yet.
#[derive(Default)]
struct Inbox {
    read_pending: bool,
    buffered: u64,
}

struct Model {
    ends: [End; 2],
    inbox: Mutex<[Inbox; 2]>,
    protocol: Protocol,
    stop: AtomicBool,
}

impl Model {
    /// Whether request `seq` (0-based) of end `me` is a WRITE: the root
    /// (end 0) writes then reads, the child (end 1) reads then writes.
    fn is_write(me: usize, seq: u64) -> bool {
        (seq % 2 == 0) == (me == 0)
    }

    /// Processes request `seq` of end `me`; returns whether one of `me`'s
    /// READs completed (a WRITE always completes at once).
    fn process(&self, me: usize, seq: u64) -> bool {
        let peer = 1 - me;
        let mut inbox = self.inbox.lock().unwrap_or_else(|e| e.into_inner());
        if Self::is_write(me, seq) {
            // WRITE 1 byte to the peer: completes the peer's waiting READ
            // (signalled at once, from this thread, as the daemon does) or
            // is buffered.
            let wake_peer = std::mem::take(&mut inbox[peer].read_pending);
            if !wake_peer {
                inbox[peer].buffered += 1;
            }
            drop(inbox);
            if wake_peer {
                self.ends[peer].complete();
                let _ = self.ends[peer].call.write(1);
            }
            self.ends[me].complete();
            false
        } else if inbox[me].buffered > 0 {
            inbox[me].buffered -= 1;
            drop(inbox);
            self.ends[me].complete();
            true
        } else {
            inbox[me].read_pending = true;
            false
        }
    }

    /// A device thread: like vhost-user-backend's epoll loop, it waits for
    /// the kick, reads it, processes what was submitted and signals its own
    /// completions once at the end.
    fn device(&self, me: usize) {
        let end = &self.ends[me];
        let Ok(epoll) = Epoll::new() else { return };
        let ev = EpollEvent::new(EventSet::IN, 0);
        if epoll
            .ctl(ControlOperation::Add, end.kick.as_raw_fd(), ev)
            .is_err()
        {
            return;
        }
        let mut seen = 0u64;
        let mut events = [EpollEvent::default(); 4];
        while !self.stop.load(Ordering::SeqCst) {
            if epoll.wait(100, &mut events).unwrap_or(0) == 0 {
                continue;
            }
            let _ = end.kick.read();
            let upto = end.submitted.load(Ordering::SeqCst);
            let (mut any, mut reads) = (false, false);
            while seen < upto {
                let read_done = self.process(me, seen);
                any |= read_done || Self::is_write(me, seen);
                reads |= read_done;
                seen += 1;
            }
            // Posted WRITEs are never waited for: no interrupt for them
            // (what VIRTIO_RING_F_EVENT_IDX lets a driver ask for).
            let signal = match self.protocol {
                Protocol::RequestResponse => any,
                Protocol::Posted => reads,
            };
            if signal {
                let _ = end.call.write(1);
            }
        }
    }

    /// The root's side: `n` round trips (WRITE, then READ of the echo),
    /// each timed.
    fn root(&self, n: usize) -> Option<Vec<f64>> {
        let end = &self.ends[0];
        let mut samples = Vec::with_capacity(n);
        let mut want = 0u64;
        for _ in 0..n {
            let t0 = Instant::now();
            match self.protocol {
                Protocol::RequestResponse => {
                    end.submit(1);
                    want += 1;
                    end.wait(want).then_some(())?;
                    end.submit(1);
                    want += 1;
                    end.wait(want).then_some(())?;
                }
                Protocol::Posted => {
                    end.submit(2);
                    want += 2;
                    end.wait(want).then_some(())?;
                }
            }
            samples.push(t0.elapsed().as_nanos() as f64);
        }
        Some(samples)
    }

    /// The child's side: `n` times READ, then WRITE the byte back.
    fn child(&self, n: usize) -> bool {
        let end = &self.ends[1];
        let mut want = 0u64;
        match self.protocol {
            Protocol::RequestResponse => {
                for _ in 0..n {
                    for _ in 0..2 {
                        end.submit(1);
                        want += 1;
                        if !end.wait(want) {
                            return false;
                        }
                    }
                }
            }
            Protocol::Posted => {
                // The first READ alone; then each WRITE goes with the next
                // READ, and the last WRITE alone (not waited for).
                end.submit(1);
                want += 1;
                for i in 0..n {
                    if !end.wait(want) {
                        return false;
                    }
                    let more = if i + 1 < n { 2 } else { 1 };
                    end.submit(more);
                    want += more;
                }
            }
        }
        true
    }
}

/// Runs `n` round trips of the model in placement `p`; the root's samples.
pub fn run(protocol: Protocol, p: Placement, warmup: usize, n: usize) -> Result<Vec<f64>, String> {
    let _pin = match p {
        Placement::OneCpu => Some(Pinned::to(0).ok_or("cannot pin to CPU 0")?),
        Placement::Free | Placement::TwoCpus => None,
    };
    let ends = [End::new(), End::new()];
    let [Ok(a), Ok(b)] = ends else {
        return Err("cannot create eventfds".into());
    };
    let model = Arc::new(Model {
        ends: [a, b],
        inbox: Mutex::new(Default::default()),
        protocol,
        stop: AtomicBool::new(false),
    });
    let spawn = |name: &str, f: Box<dyn FnOnce() -> bool + Send>| {
        thread::Builder::new()
            .name(name.into())
            .spawn(f)
            .map_err(|e| format!("thread: {e}"))
    };
    let devices = (0..2)
        .map(|me| {
            let m = model.clone();
            spawn(
                "floor-device",
                Box::new(move || {
                    m.device(me);
                    true
                }),
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let m = model.clone();
    let two_cpus = p == Placement::TwoCpus;
    let child = spawn(
        "floor-child",
        Box::new(move || {
            if two_cpus {
                pin(0, 1);
            }
            m.child(warmup + n)
        }),
    )?;
    let _root_pin = if two_cpus { Pinned::to(0) } else { None };
    let samples = model.root(warmup + n);
    let child_ok = child.join().unwrap_or(false);
    model.stop.store(true, Ordering::SeqCst);
    for d in devices {
        let _ = d.join();
    }
    match samples {
        Some(s) if child_ok => Ok(s[warmup..].to_vec()),
        _ => Err("a wait passed its deadline".into()),
    }
}

/// The floor rows for placement `p`: request/response (named like the host
/// row it compares with) and posted writes (compared with that same row).
pub fn rtt_rows(plan: &Plan, p: Placement) -> Vec<Row> {
    let name = names::rtt_at(p);
    let mut rows = Vec::new();
    for protocol in [Protocol::RequestResponse, Protocol::Posted] {
        let (row_name, note) = match protocol {
            Protocol::RequestResponse => (
                name.clone(),
                "eventfd wakeups only, 4 requests (8 wakeups) per round trip as virtio-pipe does",
            ),
            Protocol::Posted => (
                format!("{name}, posted writes"),
                "eventfd wakeups only, WRITE+READ in one kick (4 wakeups): no design with a third party does fewer",
            ),
        };
        let row = match p
            .unavailable()
            .map_or_else(|| run(protocol, p, plan.warmup, plan.rtt_iters), Err)
        {
            Ok(samples) => Row::measured(
                "pipe",
                row_name,
                Way::Floor,
                Unit::Nanos,
                &samples,
                format!("{} round trips", plan.rtt_iters),
            ),
            Err(why) => Row::missing("pipe", row_name, Way::Floor, Unit::Nanos, why),
        };
        let row = row.with_note(note);
        rows.push(match protocol {
            Protocol::RequestResponse => row,
            Protocol::Posted => row.compared_with(name.clone()),
        });
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_protocols_complete_every_round_trip() {
        for protocol in [Protocol::RequestResponse, Protocol::Posted] {
            let samples = run(protocol, Placement::Free, 5, 200)
                .unwrap_or_else(|e| panic!("{protocol:?}: {e}"));
            assert_eq!(
                samples.len(),
                200,
                "{protocol:?}: warmup dropped, rest kept"
            );
            assert!(samples.iter().all(|&ns| ns > 0.0));
        }
    }
}
