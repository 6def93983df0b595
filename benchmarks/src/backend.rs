//! Backend-only figures: the daemon driven by two host-side vhost-user
//! frontends ([`TestGuest`]s: the root and a spawned child) in this process,
//! no QEMU. This is the device's own cost: vring processing, the kernel,
//! the guest-to-guest copy and the eventfd wakeups between threads.
//!
//! Requests are submitted as a real driver would: a header descriptor, the
//! payload in place in guest memory (filled once, never rewritten) and the
//! response in its own descriptor, so the frontend copies no payload.

use std::sync::mpsc;
use std::thread;
use std::time::Instant;

use system_tests::frontend::{RawDesc, TestGuest, Ticket, MEM_SIZE};
use system_tests::tree::Tree;
use vhost_user_pipe::Limits;
use virtio_bindings::bindings::virtio_config::VIRTIO_F_VERSION_1;
use virtio_bindings::bindings::virtio_ring::{VRING_DESC_F_NEXT, VRING_DESC_F_WRITE};
use virtio_pipe_protocol::fs::ExecBlob;
use virtio_pipe_protocol::{
    Op, ReqHeader, FEATURE_FORK, FEATURE_SIGNALS, FEATURE_SPAWN, REQ_HEADER_SIZE, RESP_HEADER_SIZE,
};
use vm_memory::{Bytes, GuestAddress};

use crate::plan::Plan;
use crate::proc::{pin, Pinned, Placement};
use crate::stats::{names, Row, Unit, Way};

const MIB: u64 = 1 << 20;
/// Payload of WRITEs: past the TestGuest's slot arena (1 MiB + 64 × 1 MiB).
const DATA_OUT: u64 = 66 * MIB;
/// Payload of READs.
const DATA_IN: u64 = 68 * MIB;
/// Request and response headers, one pair per lane.
const HEADERS: u64 = 70 * MIB;
/// Largest payload this layout holds.
const MAX_PAYLOAD: usize = 2 * MIB as usize;
const _: () = assert!(HEADERS + 4096 <= MEM_SIZE as u64);

/// A lane: the header and response slots of one outstanding request.
#[derive(Clone, Copy)]
enum Lane {
    Write = 0,
    Read = 1,
}

const NEXT: u16 = VRING_DESC_F_NEXT as u16;
const WRITE: u16 = VRING_DESC_F_WRITE as u16;

/// Submits a READ or WRITE of `len` bytes on `fd` with in-place payload.
fn submit(g: &mut TestGuest, lane: Lane, fd: u32, len: usize) -> Ticket {
    let hdr_at = HEADERS + lane as u64 * 128;
    let resp_at = hdr_at + 64;
    let (op, data) = match lane {
        Lane::Write => (Op::Write, DATA_OUT),
        Lane::Read => (Op::Read, DATA_IN),
    };
    let hdr = ReqHeader::new(op, 0, [u64::from(fd), 0, 0]);
    g.mem
        .write_slice(&hdr.as_bytes_le(), GuestAddress(hdr_at))
        .expect("header in guest memory");
    let h = RawDesc {
        addr: hdr_at,
        len: REQ_HEADER_SIZE as u32,
        flags: NEXT,
        next: 0,
    };
    let resp = |flags| RawDesc {
        addr: resp_at,
        len: RESP_HEADER_SIZE as u32,
        flags,
        next: 0,
    };
    match lane {
        Lane::Write => g.submit_raw(
            0,
            &[
                h,
                RawDesc {
                    addr: data,
                    len: len as u32,
                    flags: NEXT,
                    next: 0,
                },
                resp(WRITE),
            ],
            false,
        ),
        Lane::Read => g.submit_raw(
            0,
            &[
                h,
                resp(WRITE | NEXT),
                RawDesc {
                    addr: data,
                    len: len as u32,
                    flags: WRITE,
                    next: 0,
                },
            ],
            false,
        ),
    }
}

/// Waits for `t` and returns its byte count.
fn finish(g: &mut TestGuest, t: Ticket) -> usize {
    let d = g.wait(t);
    d.result().expect("READ/WRITE succeeds")[0] as usize
}

fn write(g: &mut TestGuest, fd: u32, len: usize) -> usize {
    let t = submit(g, Lane::Write, fd, len);
    finish(g, t)
}

fn read(g: &mut TestGuest, fd: u32, len: usize) -> usize {
    let t = submit(g, Lane::Read, fd, len);
    finish(g, t)
}

/// What the child thread does next.
enum Job {
    /// Echo `n` one-byte messages from `a` to `b`.
    Echo(usize),
    /// Read `total` bytes from `a` in reads of `chunk`, then write one byte to `b`; `samples` times.
    Sink {
        chunk: usize,
        total: u64,
        samples: usize,
    },
    /// Pin this thread to a CPU.
    Pin(usize),
    Quit,
}

/// The root and child of one tree, with two pipes: `a` (root → child)
/// and `b` (child → root).
struct Pair {
    _tree: Tree,
    root: TestGuest,
    a_w: u32,
    b_r: u32,
    jobs: mpsc::Sender<Job>,
    done: mpsc::Receiver<()>,
    child: Option<thread::JoinHandle<TestGuest>>,
}

impl Pair {
    fn new() -> Self {
        let tree = Tree::with_limits(Limits {
            max_processes: 4096,
            ..Limits::default()
        });
        let mut root = tree.root();
        let (a_r, a_w) = root.pipe(0).expect("pipe a");
        let (b_r, b_w) = root.pipe(0).expect("pipe b");
        root.spawn("child", &[b"child"], &[], &[])
            .expect("spawn the child");
        let (launched, mut child) = tree.accept_child();
        let fill = vec![0x5au8; MAX_PAYLOAD];
        for g in [&mut root, &mut child] {
            g.mem
                .write_slice(&fill, GuestAddress(DATA_OUT))
                .expect("payload in guest memory");
        }
        let (jobs, job_rx) = mpsc::channel();
        let (done_tx, done) = mpsc::channel();
        let handle = thread::Builder::new()
            .name("bench-child".into())
            .spawn(move || {
                let _launched = launched;
                while let Ok(job) = job_rx.recv() {
                    match job {
                        Job::Echo(n) => {
                            for _ in 0..n {
                                read(&mut child, a_r, 1);
                                write(&mut child, b_w, 1);
                            }
                        }
                        Job::Sink {
                            chunk,
                            total,
                            samples,
                        } => {
                            for _ in 0..samples {
                                let mut left = total;
                                while left > 0 {
                                    left -= read(&mut child, a_r, chunk.min(left as usize)) as u64;
                                }
                                write(&mut child, b_w, 1);
                            }
                        }
                        Job::Pin(cpu) => {
                            pin(0, cpu);
                        }
                        Job::Quit => break,
                    }
                    let _ = done_tx.send(());
                }
                child
            })
            .expect("child thread");
        Self {
            _tree: tree,
            root,
            a_w,
            b_r,
            jobs,
            done,
            child: Some(handle),
        }
    }

    fn rtt(&mut self, warmup: usize, iters: usize) -> Vec<f64> {
        self.jobs
            .send(Job::Echo(warmup + iters))
            .expect("child alive");
        let mut samples = Vec::with_capacity(iters);
        for i in 0..warmup + iters {
            let t0 = Instant::now();
            write(&mut self.root, self.a_w, 1);
            read(&mut self.root, self.b_r, 1);
            if i >= warmup {
                samples.push(t0.elapsed().as_nanos() as f64);
            }
        }
        self.done.recv().expect("child finished");
        samples
    }

    fn throughput(&mut self, chunk: usize, total: u64, samples: usize) -> Vec<f64> {
        self.jobs
            .send(Job::Sink {
                chunk,
                total,
                samples: samples + 1,
            })
            .expect("child alive");
        let mut out = Vec::with_capacity(samples);
        for s in 0..=samples {
            let t0 = Instant::now();
            let mut sent = 0;
            while sent < total {
                sent += write(&mut self.root, self.a_w, chunk) as u64;
            }
            read(&mut self.root, self.b_r, 1);
            if s > 0 {
                out.push(t0.elapsed().as_nanos() as f64);
            }
        }
        self.done.recv().expect("child finished");
        out
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        let _ = self.jobs.send(Job::Quit);
        if let Some(h) = self.child.take() {
            let _ = h.join();
        }
    }
}

/// Backend-only pipe rows in placement `p`: the same measurements as
/// [`crate::host::pipe_rows`]. For [`Placement::OneCpu`] the frontends and
/// the daemon's threads (created after the pin) all run on CPU 0; for
/// [`Placement::TwoCpus`] the root's frontend runs on CPU 0 and the child's
/// on CPU 1, and the daemon's threads where the scheduler puts them.
pub fn pipe_rows(plan: &Plan, p: Placement) -> Vec<Row> {
    if let Some(why) = p.unavailable() {
        return Row::missing_pipe_rows(&plan.transfers, Way::Backend, p, &why);
    }
    // Declared before the pair, so dropped after it: its threads are
    // created and ended under the pin.
    let _one_cpu = (p == Placement::OneCpu).then(|| Pinned::to(0)).flatten();
    let mut pair = Pair::new();
    let _two_cpus = (p == Placement::TwoCpus).then(|| {
        let _ = pair.jobs.send(Job::Pin(1));
        let _ = pair.done.recv();
        Pinned::to(0)
    });
    let mut rows = vec![Row::measured(
        "pipe",
        names::rtt_at(p),
        Way::Backend,
        Unit::Nanos,
        &pair.rtt(plan.warmup, plan.rtt_iters),
        format!("{} round trips", plan.rtt_iters),
    )];
    for t in &plan.transfers {
        assert!(t.size <= MAX_PAYLOAD);
        let samples = pair.throughput(t.size, t.total, plan.tput_samples);
        rows.push(Row::measured(
            "pipe",
            names::throughput_at(t.size, p),
            Way::Backend,
            Unit::Throughput { bytes: t.total },
            &samples,
            format!(
                "{} × {} writes of {}",
                plan.tput_samples,
                t.total / t.size as u64,
                t.label()
            ),
        ));
    }
    rows
}

/// A guest-physical address inside the TestGuest's RAM for FORK's resume
/// record (the daemon only checks that it is in range).
const RESUME_AT: u64 = 0x20_0000;

/// Backend-only fork: FORK of a spawned child (a parent needs an image to
/// fork) until it returns (the daemon copies the parent's touched RAM into a
/// memfd and "launches" the copy); until the fork child's frontend has
/// connected and GETPID is answered; EXIT of the fork child + WAIT.
pub fn fork_rows(plan: &Plan) -> Vec<Row> {
    let run = || -> Result<[Vec<f64>; 3], String> {
        let tree = Tree::with_limits(Limits {
            max_processes: 4096,
            ..Limits::default()
        });
        let mut root = tree.root();
        root.spawn("child", &[b"child"], &[], &[])
            .map_err(|e| format!("spawn: {e:?}"))?;
        let until = Instant::now() + std::time::Duration::from_secs(10);
        let launched = loop {
            if let Some(l) = tree.try_launch() {
                break l;
            }
            if Instant::now() > until {
                return Err("no launch".into());
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        };
        let features = (1 << VIRTIO_F_VERSION_1)
            | (1 << FEATURE_SPAWN)
            | (1 << FEATURE_SIGNALS)
            | (1 << FEATURE_FORK);
        let mut parent = TestGuest::connect_with(&launched.spec.socket, features);
        let (mut ret, mut ran, mut total) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..plan.guest_spawns.max(plan.process_iters_host / 10) {
            let t0 = Instant::now();
            let d = parent.call(Op::Fork, 0, [RESUME_AT, 0, 0], &[], 0);
            let pid = d.result().map_err(|e| format!("FORK: {e:?}"))?[0];
            let t1 = Instant::now();
            let (l, mut child) = tree.accept_child();
            child.getpid();
            let t2 = Instant::now();
            child.exit(0);
            parent
                .wait_child(pid as i64, 0)
                .map_err(|e| format!("WAIT: {e:?}"))?;
            let t3 = Instant::now();
            l.vm.end();
            ret.push((t1 - t0).as_nanos() as f64);
            ran.push((t2 - t0).as_nanos() as f64);
            total.push((t3 - t0).as_nanos() as f64);
        }
        launched.vm.end();
        Ok([ret, ran, total])
    };
    let names = [names::FORK_RETURNS, names::FORK_TOTAL];
    match run() {
        Ok([ret, _ran, total]) => {
            let n = format!("{} forks", ret.len());
            let note = "no VM: copies the TestGuest's touched RAM (a few MiB of 128 MiB)";
            vec![
                Row::measured(
                    "process",
                    names[0],
                    Way::Backend,
                    Unit::Nanos,
                    &ret,
                    n.clone(),
                )
                .with_note(note),
                Row::measured("process", names[1], Way::Backend, Unit::Nanos, &total, n)
                    .with_note("until the fork child's frontend connected, exited and was reaped"),
            ]
        }
        Err(e) => names
            .iter()
            .map(|n| Row::missing("process", *n, Way::Backend, Unit::Nanos, e.clone()))
            .collect(),
    }
}

/// Backend-only posix_spawn, as musl and glibc make it: VFORK, then the
/// child's EXEC on the borrowed connection, until the EXEC returns (the
/// daemon resolves the program in the root, creates the child's socket and
/// serving thread and "launches" its VM); until the child's frontend has
/// connected and its first request (GETPID) is answered; EXIT of the child
/// + WAIT in the parent.
pub fn spawn_rows(plan: &Plan) -> Vec<Row> {
    let tree = Tree::with_limits(Limits {
        max_processes: 4096,
        ..Limits::default()
    });
    let prog = tree.root_dir().join("prog");
    std::fs::write(&prog, b"\x7fELF").expect("the root is writable");
    std::fs::set_permissions(&prog, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("the root is writable");
    let mut blob = vec![0u8; 256];
    let len = ExecBlob::encode(b"/prog", &[b"prog"], &[], &mut blob).expect("fits");
    let mut root = tree.root();
    let n = plan.guest_spawns.max(plan.process_iters_host / 10);
    let (mut ret, mut ran, mut total) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n {
        let t0 = Instant::now();
        let pid = root
            .call(Op::Vfork, 0, [0; 3], &[], 0)
            .result()
            .expect("VFORK")[0];
        root.call(Op::Exec, 0, [0; 3], &blob[..len], 0)
            .result()
            .expect("EXEC");
        let t1 = Instant::now();
        let (launched, mut child) = tree.accept_child();
        child.getpid();
        let t2 = Instant::now();
        child.exit(0);
        root.wait_child(pid as i64, 0).expect("wait");
        let t3 = Instant::now();
        launched.vm.end();
        ret.push((t1 - t0).as_nanos() as f64);
        ran.push((t2 - t0).as_nanos() as f64);
        total.push((t3 - t0).as_nanos() as f64);
    }
    let iters = format!("{n} spawns");
    let note = "no VM: VFORK + EXEC; the frontend connects in-process";
    vec![
        Row::measured(
            "process",
            names::SPAWN_RETURNS,
            Way::Backend,
            Unit::Nanos,
            &ret,
            iters.clone(),
        )
        .with_note(note),
        Row::measured(
            "process",
            names::SPAWN_RUNS,
            Way::Backend,
            Unit::Nanos,
            &ran,
            iters.clone(),
        )
        .with_note("until the child's frontend connected and GETPID answered"),
        Row::measured(
            "process",
            names::SPAWN_TOTAL,
            Way::Backend,
            Unit::Nanos,
            &total,
            iters,
        )
        .with_note(note),
    ]
}
