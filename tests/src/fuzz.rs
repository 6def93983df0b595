//! The fuzz harness of the request path, shared by the cargo-fuzz targets
//! in `fuzz/` and the corpus replay test (`tests/tests/fuzz_corpus.rs`).
//! It lives here, in the test crate: the daemon carries no fuzz code.
//!
//! [`process_chain`] runs a *script*: a byte string of commands that play
//! hostile guests against one real [`Supervisor`] (its kernel, its SPAWN and
//! FORK) whose launcher and connector are test doubles: no QEMU starts and
//! no socket is bound. Every guest has its own memfd-backed memory (two
//! adjacent regions and one beyond a hole) with a split `requestq` laid out
//! by virtio-queue's [`MockSplitQueue`]. Commands write descriptors (well
//! formed or not), headers and payloads into that memory, make heads
//! available, kick, reset a device, make a VM vanish or act as the host. A
//! kick calls [`requests::serve_chains`], the very function the daemon's
//! vhost-user backend calls on a kick, then moves completions to the used
//! ring. The script panics, which the fuzzer reports, when:
//!
//! - anything in the path panics (an index, an overflow, an `expect`);
//! - the device completes a chain it was not given, or one more often
//!   than it was made available, or reports more bytes used than the
//!   chain's writable part holds;
//! - once every VM has vanished and the host has closed its fds, a pipe,
//!   fd, buffered byte or blocked request is left (a leak).
//!
//! [`parse_blobs`] feeds bytes to the spawn and args blob parsers and
//! checks that whatever parses encodes back to the same thing.
//!
//! [`Script`] writes scripts, for seed corpora and regression tests.

use std::collections::BTreeMap;
use std::os::fd::FromRawFd;
use std::sync::{Arc, OnceLock};

use vhost_user_pipe::chain::{self, Part};
use vhost_user_pipe::completions::Completions;
use vhost_user_pipe::files::Root;
use vhost_user_pipe::image::ImageDir;
use vhost_user_pipe::io::HostIo;
use vhost_user_pipe::kernel::Kernel;
use vhost_user_pipe::limits::Limits;
use vhost_user_pipe::process::{Pid, HOST_PID};
use vhost_user_pipe::rate_limit::RateLimited;
use vhost_user_pipe::requests::{self, Caller, Host, QueueLayout};
use vhost_user_pipe::supervisor::Supervisor;
use vhost_user_pipe::test_utils::{FakeTerminal, NullConnector, NullLauncher};
use virtio_bindings::bindings::virtio_ring::VIRTIO_RING_F_INDIRECT_DESC;
use virtio_pipe_protocol::fs::ExecBlob;
use virtio_pipe_protocol::{
    ArgsBlob, FileAction, Op, ReqHeader, Request, RespHeader, SpawnBlob, FEATURE_FORK,
    FEATURE_SIGNALS, FEATURE_SPAWN, PIPE_BUF, RESP_HEADER_SIZE,
};
use virtio_queue::desc::split::Descriptor as SplitDescriptor;
use virtio_queue::desc::RawDescriptor;
use virtio_queue::mock::{DescriptorTable, MockSplitQueue};
use virtio_queue::{Queue, QueueOwnedT, QueueT};
use vm_memory::{Bytes, FileOffset, GuestAddress, GuestMemoryMmap};

/// Entries of every fuzzed `requestq`.
pub const QUEUE_SIZE: u16 = 16;
/// Guest memory: two adjacent regions (so chain parts split where they
/// meet) and a small one beyond a hole.
pub const REGIONS: [(u64, usize); 3] = [(0, 0x10000), (0x10000, 0x10000), (0x30000, 0x1000)];
/// Where the request arena starts (the queue lies below).
pub const ARENA: u64 = 0x1000;
/// Bytes between two `place` steps of a request.
pub const PLACE_STEP: u64 = 0x100;
/// Largest payload or response buffer a [`Script::req`] lays out.
pub const MAX_REQ_PAYLOAD: usize = 0x3fff;
/// Image names the fuzzed image directory holds.
pub const IMAGES: [&str; 2] = ["child", "worker"];

/// Limits of the fuzzed tree: small, so every limit is reachable.
pub fn limits() -> Limits {
    Limits {
        max_processes: 4,
        max_fds: 16,
        max_pipes: 6,
        max_buffered: 8 * 2 * PIPE_BUF,
        pipe_capacity: 2 * PIPE_BUF,
        max_open_files: 8,
    }
}

/// What every fuzzed driver negotiates: not `VIRTIO_RING_F_INDIRECT_DESC`
/// (so an indirect table is refused, as the daemon refuses it) unless a
/// script turns it on with [`Script::indirect`].
const ALL_FEATURES: u64 = (1 << FEATURE_SPAWN) | (1 << FEATURE_FORK) | (1 << FEATURE_SIGNALS);

/// Command tags of a script (the tag byte is taken modulo [`CMD_COUNT`]).
mod cmd {
    pub const REQ: u8 = 0;
    pub const RAW: u8 = 1;
    pub const AVAIL: u8 = 2;
    pub const MEM: u8 = 3;
    pub const KICK: u8 = 4;
    pub const VANISH: u8 = 5;
    pub const RESET: u8 = 6;
    pub const HOST: u8 = 7;
    pub const BLOB: u8 = 8;
    pub const EVENTS: u8 = 9;
    pub const INDIRECT: u8 = 10;
}
const CMD_COUNT: u8 = 11;

/// "Do not kick yet": a flag in the `who` byte of REQ, RAW and AVAIL.
pub const NO_KICK: u8 = 0x80;

/// In the `split` byte of a `POLL` REQ: give it payloads that fit its
/// nfds (`arg0` modulo 9), entries made from the payload's bytes.
pub const POLL_SHAPED: u8 = 0x20;

/// The payload and room of a well-formed `POLL` of `nfds % 9` entries:
/// entry `i`'s fd from byte `3i` (-1 to 14: skipped, open or not), its
/// events from the next two bytes.
fn poll_entries(nfds: u64, bytes: &[u8]) -> (Vec<u8>, usize) {
    let n = (nfds % 9) as usize;
    let at = |i: usize| bytes.get(i).copied().unwrap_or(i as u8);
    let entries: Vec<virtio_pipe_protocol::PollFd> = (0..n)
        .map(|i| {
            let fd = (at(3 * i) % 16) as i32 - 1;
            let events = u16::from_le_bytes([at(3 * i + 1), at(3 * i + 2)]);
            virtio_pipe_protocol::PollFd::new(fd, events)
        })
        .collect();
    let payload = virtio_pipe_protocol::PollFd::encode_all(&entries).to_vec();
    let out = payload.len();
    (payload, out)
}

/// Argument encodings of [`Script::req`]: small values take one byte.
const ARG_U64: u8 = 0xff;
const ARG_MINUS_ONE: u8 = 0xfe;

struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.data.len() < n {
            return None;
        }
        let (a, b) = self.data.split_at(n);
        self.data = b;
        Some(a)
    }

    fn u8(&mut self) -> Option<u8> {
        self.bytes(1).map(|b| b[0])
    }

    fn u16(&mut self) -> Option<u16> {
        self.bytes(2).map(|b| u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Option<u32> {
        self.bytes(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Option<u64> {
        let b = self.bytes(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Some(u64::from_le_bytes(a))
    }

    fn arg(&mut self) -> Option<u64> {
        match self.u8()? {
            ARG_U64 => self.u64(),
            ARG_MINUS_ONE => Some(u64::MAX),
            v => Some(v as u64),
        }
    }

    /// Up to `n` bytes: fewer when the input ends first.
    fn up_to(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len());
        self.bytes(n).unwrap_or(&[])
    }
}

/// The pid a `who` byte names: 1 to 8 (pids past the limit exist after reaping).
fn pid_of(who: u8) -> Pid {
    (who & 7) as Pid + 1
}

/// A completion the device owes: how many bytes it may report used, and
/// where the response goes.
type Owed = Vec<(u32, Option<Part>)>;

/// A completed request, as [`trace`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The guest.
    pub pid: Pid,
    /// The chain's head.
    pub head: u16,
    /// The used length.
    pub used: u32,
    /// The response header, when one was written.
    pub resp: Option<RespHeader>,
    /// The payload bytes written after it.
    pub data: Vec<u8>,
}

struct Guest {
    mem: Arc<GuestMemoryMmap>,
    queue: Queue,
    mailbox: Arc<Completions>,
    next_desc: u16,
    avail_idx: u16,
    owed: BTreeMap<u16, Owed>,
}

/// Guest memory as QEMU shares it: memfd regions (FORK copies them).
fn guest_memory() -> GuestMemoryMmap {
    let ranges: Vec<(GuestAddress, usize, Option<FileOffset>)> = REGIONS
        .iter()
        .map(|&(a, n)| {
            // SAFETY: memfd_create with a valid NUL-terminated name; checked below.
            let fd = unsafe { libc::memfd_create(c"fuzz-guest".as_ptr(), libc::MFD_CLOEXEC) };
            assert!(fd >= 0, "memfd_create");
            // SAFETY: a fresh fd that nothing else owns.
            let f = unsafe { std::fs::File::from_raw_fd(fd) };
            f.set_len(n as u64).expect("memfd size");
            (GuestAddress(a), n, Some(FileOffset::new(f, 0)))
        })
        .collect();
    GuestMemoryMmap::from_ranges_with_files(&ranges).expect("guest memory")
}

impl Guest {
    fn new() -> Self {
        let mem = Arc::new(guest_memory());
        let queue = Self::fresh_queue(&mem);
        Self {
            mem,
            queue,
            mailbox: Arc::new(Completions::new().expect("eventfd")),
            next_desc: 0,
            avail_idx: 0,
            owed: BTreeMap::new(),
        }
    }

    /// A queue at guest-physical 0 with zeroed rings, as a driver sets one up.
    fn fresh_queue(mem: &GuestMemoryMmap) -> Queue {
        let mock = MockSplitQueue::create(mem, GuestAddress(0), QUEUE_SIZE);
        mock.create_queue().expect("a valid mock queue")
    }

    fn store_desc(&mut self, addr: u64, len: u32, flags: u16, next: Option<u16>) -> u16 {
        let i = self.next_desc;
        self.next_desc = (self.next_desc + 1) % QUEUE_SIZE;
        let next = next.unwrap_or((i + 1) % QUEUE_SIZE);
        let raw = RawDescriptor::from(SplitDescriptor::new(addr, len, flags, next));
        let table = DescriptorTable::new(
            &*self.mem,
            GuestAddress(self.queue.desc_table()),
            QUEUE_SIZE,
        );
        let _ = table.store(i, raw);
        i
    }

    fn push_avail(&mut self, head: u16) {
        let avail = self.queue.avail_ring();
        let slot = avail + 4 + 2 * (self.avail_idx % QUEUE_SIZE) as u64;
        let _ = self.mem.write_obj(head, GuestAddress(slot));
        self.avail_idx = self.avail_idx.wrapping_add(1);
        let _ = self.mem.write_obj(self.avail_idx, GuestAddress(avail + 2));
    }

    /// Takes the completions posted to this guest and puts them on its used ring.
    fn flush(&mut self, pid: Pid, log: &mut Option<Vec<Completion>>) {
        for (head, used) in self.mailbox.take() {
            let owed = self.owed.get_mut(&head).unwrap_or_else(|| {
                panic!("pid {pid}: chain {head} completed but never made available")
            });
            // A guest may reuse a head while it is pending: match the
            // tightest chain that can hold the completion.
            let i = owed
                .iter()
                .enumerate()
                .filter(|(_, (max, _))| used <= *max)
                .min_by_key(|(_, (max, _))| *max)
                .map(|(i, _)| i)
                .unwrap_or_else(|| {
                    panic!(
                        "pid {pid}: chain {head} used {used} bytes, more than it holds ({owed:?})"
                    )
                });
            let (_, part) = owed.swap_remove(i);

            if let Some(log) = log {
                let mut c = Completion {
                    pid,
                    head,
                    used,
                    resp: None,
                    data: Vec::new(),
                };
                if let (Some(w), true) = (part, used as usize >= RESP_HEADER_SIZE) {
                    let mut raw = [0u8; RESP_HEADER_SIZE];
                    w.read(&self.mem, 0, &mut raw);
                    c.resp = RespHeader::parse(&raw).ok();
                    c.data = vec![0u8; used as usize - RESP_HEADER_SIZE];
                    w.read(&self.mem, RESP_HEADER_SIZE, &mut c.data);
                }
                log.push(c);
            }
            if owed.is_empty() {
                self.owed.remove(&head);
            }
            // A head beyond the queue is the guest's problem; the device logs it.
            let _ = self.queue.add_used(&*self.mem, head, used);
        }
    }
}

fn images() -> Option<&'static ImageDir> {
    static DIR: OnceLock<Option<ImageDir>> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("vup-fuzz-images-{}", std::process::id()));
        std::fs::create_dir_all(&d).ok()?;
        for name in IMAGES {
            std::fs::write(d.join(name), b"not an ELF").ok()?;
        }
        ImageDir::new(&d).ok()
    })
    .as_ref()
}

/// A fresh writable root for one input (what the input writes goes with
/// it): a program, a file, a directory, links in and out; and a secret
/// next to it, outside, that [`World::finish`] checks nothing touched.
fn make_root() -> Option<tempfile::TempDir> {
    let d = tempfile::Builder::new()
        .prefix("vup-fuzz-root-")
        .tempdir()
        .ok()?;
    let r = d.path().join("root");
    std::fs::create_dir_all(r.join("bin")).ok()?;
    std::fs::create_dir_all(r.join("etc/dir")).ok()?;
    std::fs::write(d.path().join("secret"), SECRET).ok()?;
    std::fs::write(r.join("etc/hosts"), b"127.0.0.1 localhost\n").ok()?;
    std::fs::write(r.join("bin/prog"), b"\x7fELF").ok()?;
    std::fs::set_permissions(
        r.join("bin/prog"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .ok()?;
    let _ = std::os::unix::fs::symlink("prog", r.join("bin/sh"));
    let _ = std::os::unix::fs::symlink("../../secret", r.join("etc/out"));
    let _ = std::os::unix::fs::symlink(d.path(), r.join("up"));
    Some(d)
}

/// What the file next to the root holds.
const SECRET: &[u8] = b"outside";

/// The daemon side of a fuzzed tree.
struct World {
    sup: Arc<Supervisor>,
    /// The root's parent directory (removed with the world).
    root_dir: Option<tempfile::TempDir>,
    guests: BTreeMap<Pid, Guest>,
    malformed: RateLimited,
    features: BTreeMap<Pid, u64>,
    log: Option<Vec<Completion>>,
}

impl World {
    fn new() -> Self {
        let root_dir = make_root();
        let root = root_dir
            .as_ref()
            .and_then(|d| Root::open(&d.path().join("root")).ok())
            .map(|r| r.writable(true));
        // The root's stdin and stderr are a (fake) terminal: `TTY` is
        // served, not only refused.
        let sup = Supervisor::builder(limits(), Arc::new(NullLauncher), "/nonexistent".into())
            .host_terminals([true, false, true])
            .host_terminal(Some(Arc::new(FakeTerminal::default())))
            .images(images().cloned())
            .root(root)
            .kernel_image(Some("/nonexistent/guest-kernel".into()))
            .connector(Arc::new(NullConnector))
            .build();
        sup.serve_root(
            "/nonexistent/root.sock".as_ref(),
            vec![b"root".to_vec()],
            vec![b"A=1".to_vec()],
        )
        .expect("the root");
        sup.kernel().set_features(1, ALL_FEATURES);
        Self {
            sup,
            root_dir,
            guests: BTreeMap::new(),
            malformed: RateLimited::default(),
            features: BTreeMap::new(),
            log: None,
        }
    }

    fn kernel(&self) -> std::sync::MutexGuard<'_, Kernel> {
        self.sup.kernel()
    }

    fn guest(&mut self, pid: Pid) -> &mut Guest {
        if !self.guests.contains_key(&pid) {
            let features = *self.features.entry(pid).or_insert(ALL_FEATURES);
            self.sup.kernel().set_features(pid, features);
        }
        self.guests.entry(pid).or_insert_with(Guest::new)
    }

    /// What the backend does on a kick: `requests::serve_chains` on every
    /// chain made available, then the completions go to the used rings.
    fn kick(&mut self, pid: Pid) {
        // A vfork child borrowing a VM has no connection of its own.
        if self
            .kernel()
            .process(pid)
            .is_some_and(|p| p.lender.is_some())
        {
            return;
        }
        let indirect_ok = self
            .features
            .get(&pid)
            .is_some_and(|f| f & (1 << VIRTIO_RING_F_INDIRECT_DESC) != 0);
        let g = self.guest(pid);
        let mem = g.mem.clone();
        let chains: Vec<_> = match g.queue.iter(mem.clone()) {
            Ok(iter) => iter.collect(),
            Err(_) => return,
        };
        let queue = QueueLayout {
            desc_table: g.queue.desc_table(),
            size: QUEUE_SIZE,
            indirect_ok,
        };
        // What each chain may be answered with, for the checks in `flush`.
        for chain in &chains {
            let head = chain.head_index();
            let owed = match chain::walk(chain.clone(), &mem) {
                Ok(p) => (p.writable.len as u32, Some(p.writable)),
                Err(m) => (m.writable.as_ref().map_or(0, |w| w.len as u32), m.writable),
            };
            g.owed.entry(head).or_default().push(owed);
        }
        let mailbox = g.mailbox.clone();
        // On a VM a vfork child borrows, the requests are the child's.
        let acting = self.kernel().acting(pid);
        let mut caller = Caller {
            pid: acting,
            vm: pid,
            memory: mem,
            mailbox,
        };
        let draining = caller.mailbox.draining();
        requests::serve_chains(
            &mut caller,
            self.sup.as_ref(),
            queue,
            &self.malformed,
            chains,
        );
        drop(draining);
        self.settle();
    }

    /// Guests whose process has ended are gone (their connection drops),
    /// and every guest's completions move to its used ring.
    fn settle(&mut self) {
        let ended: Vec<Pid> = {
            let k = self.kernel();
            self.guests
                .keys()
                .copied()
                .filter(|p| !k.process(*p).is_some_and(|p| p.is_running()))
                .collect()
        };
        for pid in ended {
            if let Some(mut g) = self.guests.remove(&pid) {
                g.flush(pid, &mut self.log);
            }
        }
        for (&pid, g) in self.guests.iter_mut() {
            g.flush(pid, &mut self.log);
        }
        let k = self.kernel();
        let s = k.stats();
        let cap = k.limits().pipe_capacity;
        assert!(
            s.buffered <= s.pipes * cap,
            "{} bytes buffered in {} pipes of {cap}",
            s.buffered,
            s.pipes
        );
        // The root's three stdio pipes are outside the pipe limit.
        assert!(s.pipes <= k.limits().max_pipes + 3, "{s:?}");
    }

    fn req(&mut self, inp: &mut Input<'_>) -> Option<()> {
        let who = inp.u8()?;
        let op = inp.u8()?;
        let flags = inp.u8()? as u32;
        let args = [inp.arg()?, inp.arg()?, inp.arg()?];
        let mode = inp.u8()?;
        let plen = (inp.u16()? as usize) & MAX_REQ_PAYLOAD;
        let payload: Vec<u8> = if mode & 0x80 != 0 {
            inp.up_to(plen).to_vec()
        } else {
            (0..plen).map(|i| mode.wrapping_add(i as u8)).collect()
        };
        let out = (inp.u16()? as usize) & MAX_REQ_PAYLOAD;
        let place = inp.u8()?;
        let split = inp.u8()?;
        // Every op code up to the last one and one past it.
        let last = Op::ALL.iter().map(|&o| o as u32).max().unwrap_or(0);
        let code = if op & 0x80 == 0 {
            1 + op as u32 % (last + 1)
        } else {
            op as u32
        };
        let (payload, out) = if code == Op::Poll as u32 && split & POLL_SHAPED != 0 {
            // A POLL whose payloads fit its nfds (random lengths rarely
            // do): up to 8 entries of small fds, from the payload's bytes.
            poll_entries(args[0], &payload)
        } else {
            (payload, out)
        };
        let mut args = args;
        if code == Op::Poll as u32 && split & POLL_SHAPED != 0 {
            args[0] %= 9;
        }
        let pid = pid_of(who);
        let g = self.guest(pid);
        let base = ARENA + place as u64 * PLACE_STEP;
        let mut hdr = ReqHeader::new(Op::GetPid, flags, args);
        hdr.op.set(code);
        let mut readable = hdr.as_bytes_le().to_vec();
        readable.extend_from_slice(&payload);
        let _ = g.mem.write_slice(&readable, GuestAddress(base));
        let wbase = base + readable.len() as u64;
        let wlen = RESP_HEADER_SIZE + out;
        let _ = g.mem.write_slice(&vec![0u8; wlen], GuestAddress(wbase));
        let pieces = |start: u64, len: usize, k: usize| -> Vec<(u64, u32)> {
            let step = len / k;
            (0..k)
                .map(|i| {
                    let off = i * step;
                    let n = if i + 1 == k { len - off } else { step };
                    (start + off as u64, n as u32)
                })
                .collect()
        };
        let rk = 1 + (split & 3) as usize;
        let wk = 1 + ((split >> 2) & 3) as usize;
        let mut descs: Vec<(u64, u32, u16)> = pieces(base, readable.len(), rk)
            .into_iter()
            .map(|(a, n)| (a, n, 0))
            .collect();
        let w: Vec<(u64, u32, u16)> = pieces(wbase, wlen, wk)
            .into_iter()
            .map(|(a, n)| {
                (
                    a,
                    n,
                    virtio_bindings::bindings::virtio_ring::VRING_DESC_F_WRITE as u16,
                )
            })
            .collect();
        if split & 0x10 != 0 {
            // Writable before readable: malformed.
            descs.splice(0..0, w);
        } else {
            descs.extend(w);
        }
        let head = self.chain(pid, &descs, None);
        self.guest(pid).push_avail(head);
        if who & NO_KICK == 0 {
            self.kick(pid);
        }
        Some(())
    }

    /// Stores `descs` at the next free indices, linked in order unless
    /// `nexts` gives each one's raw `next` field; returns the head.
    fn chain(&mut self, pid: Pid, descs: &[(u64, u32, u16)], nexts: Option<&[u16]>) -> u16 {
        let g = self.guest(pid);
        let mut head = None;
        let n = descs.len();
        for (i, &(addr, len, flags)) in descs.iter().enumerate() {
            let (flags, next) = match nexts {
                Some(nx) => (flags, Some(nx[i])),
                None if i + 1 < n => (
                    flags | virtio_bindings::bindings::virtio_ring::VRING_DESC_F_NEXT as u16,
                    None,
                ),
                None => (
                    flags & !(virtio_bindings::bindings::virtio_ring::VRING_DESC_F_NEXT as u16),
                    Some(0),
                ),
            };
            let idx = g.store_desc(addr, len, flags, next);
            head.get_or_insert(idx);
        }
        head.unwrap_or(0)
    }

    fn raw(&mut self, inp: &mut Input<'_>) -> Option<()> {
        let hdr = inp.u8()?;
        let who = inp.u8()?;
        let n = 1 + (hdr & 7) as usize;
        let auto = hdr & 8 != 0;
        let mut descs = Vec::with_capacity(n);
        let mut nexts = Vec::with_capacity(n);
        for _ in 0..n {
            let addr = inp.u32()? as u64;
            // The top bit reaches the end of the address space.
            let addr = if addr & 0x8000_0000 != 0 {
                addr | 0xffff_ffff_0000_0000
            } else {
                addr
            };
            descs.push((addr, inp.u32()?, inp.u16()?));
            nexts.push(inp.u16()?);
        }
        let pid = pid_of(who);
        let head = self.chain(pid, &descs, (!auto).then_some(&nexts[..]));
        self.guest(pid).push_avail(head);
        if who & NO_KICK == 0 {
            self.kick(pid);
        }
        Some(())
    }

    fn host(&mut self, inp: &mut Input<'_>) -> Option<()> {
        let kind = inp.u8()?;
        let fd = (inp.u8()? & 15) as u32;
        let len = (inp.u16()? as usize) & MAX_REQ_PAYLOAD;
        let nonblock = kind & 0x80 != 0;
        let (req, io) = match kind & 3 {
            0 => (
                Request::Read {
                    fd,
                    len: len as u32,
                    nonblock,
                },
                HostIo::boxed(Vec::new(), len).0,
            ),
            1 => (
                Request::Write {
                    fd,
                    len: len as u32,
                    nonblock,
                },
                HostIo::boxed(vec![b'h'; len], 0).0,
            ),
            2 => (Request::Close { fd }, HostIo::boxed(Vec::new(), 0).0),
            // The host terminal: a Ctrl-D, or a signal to the foreground group.
            _ => {
                if nonblock {
                    self.kernel().mark_end_of_input();
                } else {
                    self.sup.signal_foreground(1 + (len % 31) as u32);
                }
                self.settle();
                return Some(());
            }
        };
        self.kernel().submit(HOST_PID, req, io);
        self.settle();
        Some(())
    }

    fn run(&mut self, inp: &mut Input<'_>) -> Option<()> {
        loop {
            let tag = inp.u8()? % CMD_COUNT;
            match tag {
                cmd::REQ => self.req(inp)?,
                cmd::RAW => self.raw(inp)?,
                cmd::AVAIL => {
                    let who = inp.u8()?;
                    let head = inp.u16()?;
                    let pid = pid_of(who);
                    self.guest(pid).push_avail(head);
                    if who & NO_KICK == 0 {
                        self.kick(pid);
                    }
                }
                cmd::MEM => {
                    let who = inp.u8()?;
                    let addr = inp.u16()? as u64;
                    let n = inp.u8()? as usize;
                    let bytes = inp.up_to(n);
                    let _ = self
                        .guest(pid_of(who))
                        .mem
                        .write_slice(bytes, GuestAddress(addr));
                }
                cmd::KICK => {
                    let pid = pid_of(inp.u8()?);
                    self.kick(pid);
                }
                cmd::VANISH => {
                    let pid = pid_of(inp.u8()?);
                    self.sup.fail_process(pid);
                    self.guests.remove(&pid);
                    self.settle();
                }
                cmd::RESET => {
                    // A device reset (`backend.rs::cancel`): pending
                    // requests are forgotten, the driver sets the queue up
                    // afresh.
                    let pid = pid_of(inp.u8()?);
                    let sup = self.sup.clone();
                    let g = self.guest(pid);
                    {
                        let mut k = sup.kernel();
                        k.cancel_pending(pid);
                        g.mailbox.reset();
                    }
                    g.owed.clear();
                    g.queue = Guest::fresh_queue(&g.mem);
                    g.avail_idx = 0;
                    self.settle();
                }
                cmd::HOST => self.host(inp)?,
                cmd::BLOB => {
                    let n = inp.u16()? as usize;
                    parse_blobs(inp.up_to(n));
                }
                cmd::EVENTS => {
                    let pid = pid_of(inp.u8()?);
                    while self.kernel().next_event(pid).is_some() {}
                }
                cmd::INDIRECT => {
                    // The driver of `pid` negotiates VIRTIO_RING_F_INDIRECT_DESC.
                    let pid = pid_of(inp.u8()?);
                    let f = ALL_FEATURES | (1 << VIRTIO_RING_F_INDIRECT_DESC);
                    self.features.insert(pid, f);
                    self.sup.kernel().set_features(pid, f);
                }
                _ => unreachable!("tag < CMD_COUNT"),
            }
        }
    }

    /// Every VM vanishes and the host closes its fds: nothing may be left.
    fn finish(&mut self) {
        self.sup.shutdown();
        // The VMs' threads end before the next input (LeakSanitizer counts
        // a thread still exiting as a leak).
        self.sup.join_threads();
        self.settle();
        let max_fds = self.kernel().limits().max_fds as u32;
        for fd in 0..max_fds {
            let (io, _) = HostIo::boxed(Vec::new(), 0);
            self.kernel().submit(HOST_PID, Request::Close { fd }, io);
        }
        self.settle();
        let s = self.kernel().stats();
        assert_eq!(
            (s.running, s.pipes, s.fds, s.buffered, s.waiting),
            (0, 0, 0, 0, 0),
            "leaked after every process ended: {s:?}"
        );
        // Nothing the guests did reached outside the root.
        if let Some(d) = &self.root_dir {
            let mut names: Vec<_> = std::fs::read_dir(d.path())
                .map(|r| r.flatten().map(|e| e.file_name()).collect())
                .unwrap_or_default();
            names.sort();
            assert_eq!(
                names,
                ["root", "secret"],
                "a name appeared outside the root"
            );
            assert_eq!(
                std::fs::read(d.path().join("secret")).ok().as_deref(),
                Some(SECRET),
                "the file outside the root changed"
            );
        }
    }
}

/// Runs the script `data` (see the module documentation); panics on a bug.
pub fn process_chain(data: &[u8]) {
    let mut world = World::new();
    let mut inp = Input { data };
    let _ = world.run(&mut inp);
    world.finish();
}

/// Runs the script `data` like [`process_chain`] and returns every
/// completion the guests saw, in order (for tests of the scripts).
pub fn trace(data: &[u8]) -> Vec<Completion> {
    let mut world = World::new();
    world.log = Some(Vec::new());
    let mut inp = Input { data };
    let _ = world.run(&mut inp);
    world.finish();
    world.log.take().unwrap_or_default()
}

/// Parses `data` as a spawn blob and as an args blob. Whatever parses
/// must encode and parse back to the same thing; an args blob, which has
/// no reserved fields, must encode to exactly `data`.
pub fn parse_blobs(data: &[u8]) {
    if let Ok(b) = SpawnBlob::parse(data) {
        let argv: Vec<&[u8]> = b.argv.iter().collect();
        let env: Vec<&[u8]> = b.env.iter().collect();
        let actions: Vec<FileAction> = b.actions().collect();
        assert_eq!(argv.len(), b.argv.len());
        assert_eq!(env.len(), b.env.len());
        let need = SpawnBlob::encoded_len(b.name, &argv, &env, &actions).expect("fits");
        assert!(need <= data.len(), "re-encoding grew the blob");
        let mut out = vec![0u8; need];
        let n = SpawnBlob::encode(b.name, &argv, &env, &actions, &mut out)
            .expect("a parsed spawn blob encodes");
        // Reserved fields (and CLOSE's newfd) are not kept: compare parses.
        let again = SpawnBlob::parse(&out[..n]).expect("an encoded spawn blob parses");
        assert_eq!(again.name, b.name);
        assert!(again.argv.iter().eq(b.argv.iter()) && again.env.iter().eq(b.env.iter()));
        assert!(
            again.actions().eq(b.actions()),
            "spawn blob does not round-trip"
        );
    }
    if let Ok(b) = ArgsBlob::parse(data) {
        let argv: Vec<&[u8]> = b.argv.iter().collect();
        let env: Vec<&[u8]> = b.env.iter().collect();
        assert_eq!(argv.len(), b.argv.len());
        assert_eq!(env.len(), b.env.len());
        let need = ArgsBlob::encoded_len(&argv, &env).expect("fits");
        let mut out = vec![0u8; need];
        let n = ArgsBlob::encode(&argv, &env, &mut out).expect("a parsed args blob encodes");
        assert_eq!(&out[..n], data, "args blob does not round-trip");
    }
    if let Ok(b) = ExecBlob::parse(data) {
        let argv: Vec<&[u8]> = b.args.argv.iter().collect();
        let env: Vec<&[u8]> = b.args.env.iter().collect();
        let need = ExecBlob::encoded_len(b.path, &argv, &env).expect("fits");
        let mut out = vec![0u8; need];
        let n =
            ExecBlob::encode(b.path, &argv, &env, &mut out).expect("a parsed exec blob encodes");
        assert_eq!(&out[..n], data, "exec blob does not round-trip");
    }
}

/// One descriptor of [`Script::raw`]: (address, length, flags, next).
pub type RawDesc = (u32, u32, u16, u16);

/// Writes scripts for [`process_chain`].
#[derive(Debug, Clone, Default)]
pub struct Script(pub Vec<u8>);

impl Script {
    /// An empty script.
    pub fn new() -> Self {
        Self::default()
    }

    fn arg(&mut self, v: u64) {
        if v == u64::MAX {
            self.0.push(ARG_MINUS_ONE);
        } else if v < ARG_MINUS_ONE as u64 {
            self.0.push(v as u8);
        } else {
            self.0.push(ARG_U64);
            self.0.extend_from_slice(&v.to_le_bytes());
        }
    }

    /// A request of guest `pid` (1 to 8): header (`op` code, `flags`,
    /// `args`), `payload`, room for `out` bytes, at arena offset
    /// `place * 0x100`, its readable and writable parts split into
    /// `(split & 3) + 1` and `((split >> 2) & 3) + 1` descriptors.
    #[allow(clippy::too_many_arguments)]
    pub fn req(
        mut self,
        pid: Pid,
        op: Op,
        flags: u32,
        args: [u64; 3],
        payload: &[u8],
        out: usize,
        place: u8,
        split: u8,
    ) -> Self {
        assert!((1..=8).contains(&pid) && payload.len() <= MAX_REQ_PAYLOAD);
        self.0.push(cmd::REQ);
        self.0.push((pid - 1) as u8);
        self.0.push(op as u32 as u8 - 1);
        self.0.push(flags as u8);
        for a in args {
            self.arg(a);
        }
        self.0.push(0x80);
        self.0
            .extend_from_slice(&(payload.len() as u16).to_le_bytes());
        self.0.extend_from_slice(payload);
        self.0.extend_from_slice(&(out as u16).to_le_bytes());
        self.0.push(place);
        self.0.push(split);
        self
    }

    /// A simple request: one readable and one writable descriptor at `place`.
    pub fn call(
        self,
        pid: Pid,
        op: Op,
        args: [u64; 3],
        payload: &[u8],
        out: usize,
        place: u8,
    ) -> Self {
        self.req(pid, op, 0, args, payload, out, place, 0)
    }

    /// A request with an op code no op has.
    pub fn unknown_op(mut self, pid: Pid, code: u8) -> Self {
        self.0
            .extend_from_slice(&[cmd::REQ, (pid - 1) as u8, code | 0x80, 0, 0, 0, 0, 0]);
        self.0.extend_from_slice(&[0, 0, 32, 0, 0, 0]);
        self
    }

    /// A hand-made chain of guest `pid`: with `link`, descriptors are linked
    /// in order (their `next` fields ignored), else stored as given.
    pub fn raw(mut self, pid: Pid, descs: &[RawDesc], link: bool) -> Self {
        assert!((1..=8).contains(&descs.len()));
        self.0.push(cmd::RAW);
        self.0
            .push((descs.len() - 1) as u8 | if link { 8 } else { 0 });
        self.0.push((pid - 1) as u8);
        for &(addr, len, flags, next) in descs {
            self.0.extend_from_slice(&addr.to_le_bytes());
            self.0.extend_from_slice(&len.to_le_bytes());
            self.0.extend_from_slice(&flags.to_le_bytes());
            self.0.extend_from_slice(&next.to_le_bytes());
        }
        self
    }

    /// Makes `head` available on guest `pid`'s queue as it is.
    pub fn avail(mut self, pid: Pid, head: u16) -> Self {
        self.0.push(cmd::AVAIL);
        self.0.push((pid - 1) as u8);
        self.0.extend_from_slice(&head.to_le_bytes());
        self
    }

    /// Writes `bytes` (at most 255) at guest-physical `addr` of guest `pid`.
    pub fn mem(mut self, pid: Pid, addr: u16, bytes: &[u8]) -> Self {
        self.0.push(cmd::MEM);
        self.0.push((pid - 1) as u8);
        self.0.extend_from_slice(&addr.to_le_bytes());
        self.0.push(bytes.len() as u8);
        self.0.extend_from_slice(bytes);
        self
    }

    /// The VM of `pid` vanishes (killed, or its connection dropped).
    pub fn vanish(mut self, pid: Pid) -> Self {
        self.0.extend_from_slice(&[cmd::VANISH, (pid - 1) as u8]);
        self
    }

    /// Guest `pid` resets its device.
    pub fn reset(mut self, pid: Pid) -> Self {
        self.0.extend_from_slice(&[cmd::RESET, (pid - 1) as u8]);
        self
    }

    /// The host reads (`kind` 0), writes (1) or closes (2) its `fd`, or
    /// is the tree's terminal (3): with bit 7 a Ctrl-D (an end-of-input
    /// mark on the root's stdin), else signal `1 + len % 31` from the
    /// terminal to the foreground group.
    pub fn host(mut self, kind: u8, fd: u8, len: u16) -> Self {
        self.0.extend_from_slice(&[cmd::HOST, kind, fd]);
        self.0.extend_from_slice(&len.to_le_bytes());
        self
    }

    /// Parses `bytes` as blobs.
    pub fn blob(mut self, bytes: &[u8]) -> Self {
        self.0.push(cmd::BLOB);
        self.0
            .extend_from_slice(&(bytes.len() as u16).to_le_bytes());
        self.0.extend_from_slice(bytes);
        self
    }

    /// Takes guest `pid`'s pending events.
    pub fn events(mut self, pid: Pid) -> Self {
        self.0.extend_from_slice(&[cmd::EVENTS, (pid - 1) as u8]);
        self
    }

    /// The driver of `pid` negotiates `VIRTIO_RING_F_INDIRECT_DESC` (before
    /// its first request).
    pub fn indirect(mut self, pid: Pid) -> Self {
        self.0.extend([cmd::INDIRECT, (pid - 1) as u8]);
        self
    }

    /// The script's bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

/// A spawn blob for `name` with `argv` and `actions` (for seeds).
pub fn spawn_blob(name: &str, argv: &[&[u8]], env: &[&[u8]], actions: &[FileAction]) -> Vec<u8> {
    let mut out = vec![0u8; SpawnBlob::encoded_len(name, argv, env, actions).unwrap_or(0)];
    let n = SpawnBlob::encode(name, argv, env, actions, &mut out).unwrap_or(0);
    out.truncate(n);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_garbage_scripts_run() {
        process_chain(&[]);
        process_chain(&[0xff; 64]);
        process_chain(&(0..=255u8).collect::<Vec<_>>());
    }

    #[test]
    fn a_pipe_round_trip_script_runs() {
        let s = Script::new()
            .call(1, Op::Pipe, [0; 3], &[], 0, 0)
            .call(1, Op::Write, [4, 0, 0], b"hello", 0, 1)
            .req(1, Op::Read, 0, [3, 0, 0], &[], 16, 2, 0b1111);
        let t = trace(&s.into_bytes());
        let rets: Vec<_> = t
            .iter()
            .map(|c| c.resp.map(|r| (r.result(), r.ret(0))))
            .collect();
        assert_eq!(
            rets,
            vec![Some((Ok(()), 3)), Some((Ok(()), 5)), Some((Ok(()), 5))]
        );
        assert_eq!(t[2].data, b"hello");
    }

    #[test]
    fn a_shaped_poll_blocks_until_a_write_and_reports_the_ready_entry() {
        // Entries: fd 3 (byte 4 -> 4 % 16 - 1) POLLIN, fd 4 POLLIN (never).
        let s = Script::new()
            .call(1, Op::Pipe, [0; 3], &[], 0, 0)
            .req(
                1,
                Op::Poll,
                0,
                [2, 0, 0],
                &[4, 1, 0, 5, 1, 0],
                0,
                1,
                POLL_SHAPED,
            )
            .call(1, Op::Write, [4, 0, 0], b"wake", 0, 3);
        let t = trace(&s.into_bytes());
        let poll = t
            .iter()
            .find(|c| c.data.len() == 16)
            .unwrap_or_else(|| panic!("the POLL completed: {t:?}"));
        let r = poll.resp.unwrap();
        assert_eq!((r.result(), r.ret(0)), (Ok(()), 1));
        let e = virtio_pipe_protocol::PollFd::parse_all(&poll.data).unwrap();
        assert_eq!((e[0].fd.get(), e[0].revents.get()), (3, 1));
        assert_eq!((e[1].fd.get(), e[1].revents.get()), (4, 0));
    }

    #[test]
    fn a_spawned_child_shares_the_pipe_and_exit_reaches_wait() {
        let blob = spawn_blob(
            "child",
            &[b"child"],
            &[],
            &[FileAction::Dup2 { fd: 4, newfd: 1 }],
        );
        let s = Script::new()
            .call(1, Op::Pipe, [0; 3], &[], 0, 0)
            .call(1, Op::Spawn, [0; 3], &blob, 0, 1)
            .call(2, Op::Write, [1, 0, 0], b"from child", 0, 0)
            .call(2, Op::Exit, [7, 0, 0], &[], 0, 1)
            .call(1, Op::Read, [3, 0, 0], &[], 64, 2)
            .call(1, Op::Wait, [u64::MAX, 0, 0], &[], 0, 3);
        let t = trace(&s.into_bytes());
        let last = t.last().unwrap().resp.unwrap();
        assert_eq!((last.ret(0), last.ret(1)), (2, 7 << 8), "{t:?}");
        assert_eq!(t[4].data, b"from child");
    }
}
