//! A model vhost-user frontend plus virtio driver, for tests and benchmarks.
//!
//! Guest memory is one memfd mapped at guest-physical 0; the first MiB holds
//! the two split virtqueues, the rest is a buffer arena. Each request uses a
//! readable descriptor (header + payload) and a writable one (response +
//! payload), carved out of a per-descriptor slot of the arena.

use std::collections::HashMap;
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd};
use std::path::Path;
use std::time::{Duration, Instant};

use vhost::vhost_user::message::{VhostUserConfigFlags, VhostUserProtocolFeatures};
use vhost::vhost_user::{Frontend, VhostUserFrontend};
use vhost::{VhostBackend, VhostUserMemoryRegionInfo, VringConfigData};
use virtio_bindings::bindings::virtio_config::VIRTIO_F_VERSION_1;
use virtio_bindings::bindings::virtio_ring::{VRING_DESC_F_NEXT, VRING_DESC_F_WRITE};
use virtio_pipe_protocol::{
    ArgsBlob, ConfigSpace, Errno, Event, FileAction, Op, ReqHeader, RespHeader, SpawnBlob,
    EVENT_SIZE, FEATURE_SIGNALS, FEATURE_SPAWN, REQ_HEADER_SIZE, RESP_HEADER_SIZE,
};
use vm_memory::{Bytes, FileOffset, GuestAddress, GuestMemoryBackend, GuestMemoryMmap};
use vmm_sys_util::eventfd::{EventFd, EFD_NONBLOCK};

/// Guest memory size.
pub const MEM_SIZE: usize = 128 << 20;
/// Entries per queue.
pub const QUEUE_SIZE: u16 = 64;
/// Start of the buffer arena.
const ARENA: u64 = 1 << 20;
/// Bytes of arena per chain head: one request's header, payloads and response.
pub const SLOT: usize = 1 << 20;
/// How long a test waits for a completion that should come.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// A driver-side split virtqueue.
#[derive(Debug)]
struct Ring {
    desc: u64,
    avail: u64,
    used: u64,
    free: Vec<u16>,
    avail_idx: u16,
    last_used: u16,
}

/// Where queue `q`'s ring lives: queues 0 and 1 below the event buffers at
/// 0x10000, further ones (carriers with more queues) above them.
fn ring_base(q: usize) -> u64 {
    match q {
        0 => 0,
        1 => 0x8000,
        q => 0x10000 + 0x8000 * q as u64,
    }
}

impl Ring {
    fn new(base: u64) -> Self {
        let n = QUEUE_SIZE as u64;
        let desc = base;
        let avail = desc + 16 * n;
        let used = (avail + 6 + 2 * n + 3) & !3;
        Self {
            desc,
            avail,
            used,
            free: (0..QUEUE_SIZE).rev().collect(),
            avail_idx: 0,
            last_used: 0,
        }
    }
}

/// A raw descriptor for hand-built (possibly malformed) chains.
#[derive(Debug, Clone, Copy)]
pub struct RawDesc {
    /// Guest-physical address.
    pub addr: u64,
    /// Length.
    pub len: u32,
    /// `VRING_DESC_F_*`.
    pub flags: u16,
    /// Next index.
    pub next: u16,
}

/// A completed request.
#[derive(Debug, Clone)]
pub struct Done {
    /// Used length.
    pub used: u32,
    /// The response header (zero if the used length is below 32).
    pub resp: RespHeader,
    /// The writable payload written.
    pub data: Vec<u8>,
}

impl Done {
    /// `Ok(rets)` or the errno. Panics when the device wrote no response
    /// (a used length below 32): that is neither success nor an error, and
    /// reading the zeroed header as status 0 would pass an `Ok` assertion
    /// against a device that answered nothing.
    pub fn result(&self) -> Result<[u64; 3], Errno> {
        assert!(
            self.used as usize >= RESP_HEADER_SIZE,
            "the device wrote no response (used length {})",
            self.used
        );
        self.resp
            .result()
            .map(|_| [self.resp.ret(0), self.resp.ret(1), self.resp.ret(2)])
    }
}

/// argv and env as GET_ARGS returns them.
pub type Args = (Vec<Vec<u8>>, Vec<Vec<u8>>);

/// A pending request: the head and where its writable part is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ticket(pub u16);

/// A guest process as the daemon sees it, driven from the test.
#[allow(missing_debug_implementations)]
pub struct TestGuest {
    /// The vhost-user connection.
    pub frontend: Frontend,
    /// Guest memory.
    pub mem: GuestMemoryMmap,
    rings: Vec<Ring>,
    kicks: Vec<EventFd>,
    calls: Vec<EventFd>,
    writable: HashMap<(usize, u16), (u64, u32)>,
    chains: HashMap<(usize, u16), Vec<u16>>,
    done: HashMap<u16, u32>,
    events: Vec<Event>,
    event_used: Vec<(u16, u32)>,
    /// The features acknowledged.
    pub features: u64,
    /// While set, submissions are not kicked (see [`TestGuest::batch`]).
    hold_kicks: bool,
    /// Where each queue stopped (`GET_VRING_BASE`), while stopped.
    stopped: Vec<u16>,
}

fn memfd() -> File {
    // SAFETY: memfd_create with a valid NUL-terminated name; the result is checked.
    let fd = unsafe { libc::memfd_create(c"test-guest".as_ptr(), 0) };
    assert!(fd >= 0, "memfd_create failed");
    // SAFETY: fd is a fresh, owned file descriptor.
    unsafe { File::from_raw_fd(fd) }
}

fn wait_readable(fd: &EventFd, until: Instant) -> bool {
    let left = until.saturating_duration_since(Instant::now());
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd for the duration of the call.
    let n = unsafe { libc::poll(&mut pfd, 1, left.as_millis().min(i32::MAX as u128) as i32) };
    n > 0
}

impl TestGuest {
    /// Connects to `socket` and negotiates VERSION_1, SPAWN and SIGNALS.
    pub fn connect(socket: &Path) -> Self {
        Self::connect_with(
            socket,
            (1 << VIRTIO_F_VERSION_1) | (1 << FEATURE_SPAWN) | (1 << FEATURE_SIGNALS),
        )
    }

    /// Connects and negotiates `wanted` (masked by what the device offers).
    pub fn connect_with(socket: &Path, wanted: u64) -> Self {
        Self::connect_opts(socket, wanted, 2, true)
    }

    /// Connects as a carrier with `queues` virtqueues (at least 2) and
    /// negotiates `wanted`; with `enable` false the queues are set up and
    /// started but not enabled (the driver has not set `DRIVER_OK`): see
    /// [`TestGuest::enable_queue`].
    pub fn connect_opts(socket: &Path, wanted: u64, queues: usize, enable: bool) -> Self {
        assert!(queues >= 2, "requestq and eventq at least");
        let until = Instant::now() + DEADLINE;
        // A `serve` daemon closes a root connection at once while its
        // previous tree winds down: try again until one is answered.
        let mut frontend = loop {
            match Frontend::connect(socket, queues as u64) {
                Ok(f) if f.get_features().is_ok() => break f,
                Ok(_) if Instant::now() > until => panic!("{}: refused", socket.display()),
                Ok(_) => std::thread::sleep(Duration::from_millis(10)),
                Err(e) if Instant::now() > until => panic!("connect {}: {e}", socket.display()),
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        };
        frontend.set_owner().unwrap();
        let offered = frontend.get_features().unwrap();
        let protocol_bit = 1u64 << 30;
        let features = (offered & wanted) | (offered & protocol_bit);
        frontend.set_features(features).unwrap();
        let proto = frontend.get_protocol_features().unwrap();
        frontend
            .set_protocol_features(
                proto & (VhostUserProtocolFeatures::CONFIG | VhostUserProtocolFeatures::MQ),
            )
            .unwrap();

        let file = memfd();
        file.set_len(MEM_SIZE as u64).unwrap();
        let mem = GuestMemoryMmap::<()>::from_ranges_with_files(&[(
            GuestAddress(0),
            MEM_SIZE,
            Some(FileOffset::new(file, 0)),
        )])
        .unwrap();
        let region = mem.find_region(GuestAddress(0)).unwrap();
        frontend
            .set_mem_table(&[VhostUserMemoryRegionInfo::from_guest_region(region).unwrap()])
            .unwrap();

        let rings = (0..queues).map(|q| Ring::new(ring_base(q))).collect();
        let kicks = (0..queues)
            .map(|_| EventFd::new(EFD_NONBLOCK).unwrap())
            .collect();
        let calls = (0..queues)
            .map(|_| EventFd::new(EFD_NONBLOCK).unwrap())
            .collect();
        let mut g = Self {
            frontend,
            mem,
            rings,
            kicks,
            calls,
            writable: HashMap::new(),
            chains: HashMap::new(),
            done: HashMap::new(),
            events: Vec::new(),
            event_used: Vec::new(),
            features,
            hold_kicks: false,
            stopped: Vec::new(),
        };
        for q in 0..queues {
            g.start_queue(q);
            if enable {
                g.enable_queue(q, true);
            }
        }
        g
    }

    /// Lays out queue `q` afresh in guest memory and starts it in the
    /// backend (`SET_VRING_NUM`, `_ADDR`, `_BASE`, `_CALL`, `_KICK`).
    fn start_queue(&mut self, q: usize) {
        let ring = Ring::new(ring_base(q));
        let bytes = (ring.used + 4 + 8 * QUEUE_SIZE as u64 + 2 - ring.desc) as usize;
        self.mem
            .write_slice(&vec![0u8; bytes], GuestAddress(ring.desc))
            .unwrap();
        let host = self.mem.get_host_address(GuestAddress(0)).unwrap() as u64;
        self.frontend.set_vring_num(q, QUEUE_SIZE).unwrap();
        let cfg = VringConfigData {
            queue_max_size: QUEUE_SIZE,
            queue_size: QUEUE_SIZE,
            flags: 0,
            desc_table_addr: host + ring.desc,
            used_ring_addr: host + ring.used,
            avail_ring_addr: host + ring.avail,
            log_addr: None,
        };
        self.frontend.set_vring_addr(q, &cfg).unwrap();
        self.frontend.set_vring_base(q, 0).unwrap();
        self.frontend.set_vring_call(q, &self.calls[q]).unwrap();
        self.frontend.set_vring_kick(q, &self.kicks[q]).unwrap();
        self.rings[q] = ring;
    }

    /// Enables or disables queue `q` (`SET_VRING_ENABLE`).
    pub fn enable_queue(&mut self, q: usize, on: bool) {
        self.frontend.set_vring_enable(q, on).unwrap();
    }

    /// Resets the device as a driver does: stops every queue
    /// (`GET_VRING_BASE`), then sets the queues up again from scratch and
    /// enables them. Requests pending before the reset are forgotten: the
    /// device must not complete them.
    pub fn reset(&mut self) {
        for q in 0..self.rings.len() {
            self.frontend.get_vring_base(q).unwrap();
        }
        self.writable.clear();
        self.chains.clear();
        self.done.clear();
        self.events.clear();
        self.event_used.clear();
        for q in 0..self.rings.len() {
            let _ = self.calls[q].read();
            self.start_queue(q);
            self.enable_queue(q, true);
            // QEMU's new host notifiers start signalled.
            self.kick(q);
        }
    }

    /// The descriptor indices the next [`TestGuest::submit_raw`] on queue
    /// `q` will use, in order (for chains whose `next` fields are hand-made).
    pub fn next_free(&self, q: usize, n: usize) -> Vec<u16> {
        self.rings[q].free.iter().rev().take(n).copied().collect()
    }

    /// Makes `head` available on queue `q` as it is, allocating nothing
    /// (for a head index the queue cannot hold), and kicks.
    pub fn push_avail(&mut self, q: usize, head: u16) {
        let ring = &mut self.rings[q];
        let slot = ring.avail + 4 + 2 * (ring.avail_idx % QUEUE_SIZE) as u64;
        self.mem.write_obj(head, GuestAddress(slot)).unwrap();
        ring.avail_idx = ring.avail_idx.wrapping_add(1);
        std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
        self.mem
            .write_obj(ring.avail_idx, GuestAddress(ring.avail + 2))
            .unwrap();
        self.kicks[q].write(1).unwrap();
    }

    /// Runs `f` with kicks held, then kicks `requestq` once: the device sees
    /// every chain `f` submits in one batch.
    pub fn batch<R>(&mut self, f: impl FnOnce(&mut Self) -> R) -> R {
        self.hold_kicks = true;
        let r = f(self);
        self.hold_kicks = false;
        self.kick(0);
        r
    }

    /// Stops every queue as QEMU does when the VM is paused (`GET_VRING_BASE`);
    /// [`TestGuest::resume`] starts them again where they stopped.
    pub fn pause(&mut self) {
        self.stopped = (0..self.rings.len())
            .map(|q| self.frontend.get_vring_base(q).unwrap() as u16)
            .collect();
    }

    /// Restarts the queues stopped by [`TestGuest::pause`] at the same
    /// place and addresses, and kicks them, as QEMU's `cont` does (its new
    /// host notifiers start signalled).
    pub fn resume(&mut self) {
        let host = self.mem.get_host_address(GuestAddress(0)).unwrap() as u64;
        for (q, base) in std::mem::take(&mut self.stopped).into_iter().enumerate() {
            let ring = &self.rings[q];
            self.frontend.set_vring_num(q, QUEUE_SIZE).unwrap();
            let cfg = VringConfigData {
                queue_max_size: QUEUE_SIZE,
                queue_size: QUEUE_SIZE,
                flags: 0,
                desc_table_addr: host + ring.desc,
                used_ring_addr: host + ring.used,
                avail_ring_addr: host + ring.avail,
                log_addr: None,
            };
            self.frontend.set_vring_addr(q, &cfg).unwrap();
            self.frontend.set_vring_base(q, base).unwrap();
            self.frontend.set_vring_kick(q, &self.kicks[q]).unwrap();
            self.frontend.set_vring_call(q, &self.calls[q]).unwrap();
            self.enable_queue(q, true);
            self.kick(q);
        }
    }

    /// Kicks queue `q` without adding anything.
    pub fn kick(&mut self, q: usize) {
        self.kicks[q].write(1).unwrap();
    }

    /// Whether the device has put anything on queue `q`'s used ring that
    /// this guest has not collected yet.
    pub fn used_idx(&self, q: usize) -> u16 {
        std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
        self.mem
            .read_obj(GuestAddress(self.rings[q].used + 2))
            .unwrap()
    }

    /// The config space as the device presents it, `len` bytes.
    pub fn config(&mut self, len: u32) -> Vec<u8> {
        let buf = vec![0u8; len as usize];
        let (_, data) = self
            .frontend
            .get_config(0, len, VhostUserConfigFlags::WRITABLE, &buf)
            .unwrap();
        data
    }

    /// The parsed config space.
    pub fn config_space(&mut self) -> ConfigSpace {
        ConfigSpace::parse(&self.config(ConfigSpace::SIZE as u32)).unwrap()
    }

    fn slot(head: u16) -> u64 {
        ARENA + head as u64 * SLOT as u64
    }

    /// Adds a chain of raw descriptors (indices allocated here; `next`
    /// fields are kept as given when `keep_next`) and kicks.
    pub fn submit_raw(&mut self, q: usize, descs: &[RawDesc], keep_next: bool) -> Ticket {
        let ring = &mut self.rings[q];
        let idx: Vec<u16> = (0..descs.len())
            .map(|_| ring.free.pop().expect("queue full"))
            .collect();
        let mut writable = None;
        for (i, d) in descs.iter().enumerate() {
            let next = if keep_next {
                d.next
            } else {
                idx.get(i + 1).copied().unwrap_or(0)
            };
            let addr = ring.desc + 16 * idx[i] as u64;
            self.mem.write_obj(d.addr, GuestAddress(addr)).unwrap();
            self.mem.write_obj(d.len, GuestAddress(addr + 8)).unwrap();
            self.mem
                .write_obj(d.flags, GuestAddress(addr + 12))
                .unwrap();
            self.mem.write_obj(next, GuestAddress(addr + 14)).unwrap();
            if d.flags & VRING_DESC_F_WRITE as u16 != 0 && writable.is_none() {
                writable = Some((d.addr, d.len));
            }
        }
        let head = idx[0];
        let slot = ring.avail + 4 + 2 * (ring.avail_idx % QUEUE_SIZE) as u64;
        self.mem.write_obj(head, GuestAddress(slot)).unwrap();
        ring.avail_idx = ring.avail_idx.wrapping_add(1);
        std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
        self.mem
            .write_obj(ring.avail_idx, GuestAddress(ring.avail + 2))
            .unwrap();
        self.writable.insert((q, head), writable.unwrap_or((0, 0)));
        self.chains.insert((q, head), idx);
        if !self.hold_kicks {
            self.kicks[q].write(1).unwrap();
        }
        Ticket(head)
    }

    /// Submits a request with `payload` and room for `out` payload bytes.
    pub fn submit(&mut self, hdr: ReqHeader, payload: &[u8], out: usize) -> Ticket {
        let ring = &self.rings[0];
        let head_guess = *ring.free.last().expect("queue full");
        let base = Self::slot(head_guess);
        let rlen = REQ_HEADER_SIZE + payload.len();
        let wlen = RESP_HEADER_SIZE + out;
        assert!(rlen + wlen <= SLOT, "request too big for the test arena");
        self.mem
            .write_slice(&hdr.as_bytes_le(), GuestAddress(base))
            .unwrap();
        self.mem
            .write_slice(payload, GuestAddress(base + REQ_HEADER_SIZE as u64))
            .unwrap();
        let waddr = base + rlen as u64;
        self.mem
            .write_slice(&vec![0u8; wlen], GuestAddress(waddr))
            .unwrap();
        self.submit_raw(
            0,
            &[
                RawDesc {
                    addr: base,
                    len: rlen as u32,
                    flags: VRING_DESC_F_NEXT as u16,
                    next: 0,
                },
                RawDesc {
                    addr: waddr,
                    len: wlen as u32,
                    flags: VRING_DESC_F_WRITE as u16,
                    next: 0,
                },
            ],
            false,
        )
    }

    fn collect_used(&mut self, q: usize) {
        let ring = &mut self.rings[q];
        loop {
            std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
            let idx: u16 = self.mem.read_obj(GuestAddress(ring.used + 2)).unwrap();
            if idx == ring.last_used {
                break;
            }
            let e = ring.used + 4 + 8 * (ring.last_used % QUEUE_SIZE) as u64;
            let id: u32 = self.mem.read_obj(GuestAddress(e)).unwrap();
            let len: u32 = self.mem.read_obj(GuestAddress(e + 4)).unwrap();
            ring.last_used = ring.last_used.wrapping_add(1);
            let head = id as u16;
            if q == 0 {
                // The descriptors stay allocated until the ticket is
                // polled, so the head cannot be reused meanwhile.
                self.done.insert(head, len);
            } else {
                ring.free
                    .extend(self.chains.remove(&(q, head)).unwrap_or_default());
                self.event_used.push((head, len));
                let (addr, _) = self.writable.remove(&(q, head)).unwrap_or((0, 0));
                let mut raw = [0u8; EVENT_SIZE];
                self.mem.read_slice(&mut raw, GuestAddress(addr)).unwrap();
                if len as usize >= EVENT_SIZE {
                    if let Ok(Some(ev)) = Event::parse(&raw) {
                        self.events.push(ev);
                    }
                }
            }
        }
    }

    /// Whether `t` has completed, without waiting.
    pub fn poll(&mut self, t: Ticket) -> Option<Done> {
        self.collect_used(0);
        let used = self.done.remove(&t.0)?;
        self.rings[0]
            .free
            .extend(self.chains.remove(&(0, t.0)).unwrap_or_default());
        let (waddr, wlen) = self.writable.remove(&(0, t.0)).unwrap_or((0, 0));
        let mut resp = RespHeader::default();
        let mut data = Vec::new();
        if used as usize >= RESP_HEADER_SIZE && wlen as usize >= RESP_HEADER_SIZE {
            let mut raw = [0u8; RESP_HEADER_SIZE];
            self.mem.read_slice(&mut raw, GuestAddress(waddr)).unwrap();
            resp = RespHeader::parse(&raw).unwrap();
            data =
                vec![0u8; (used as usize - RESP_HEADER_SIZE).min(wlen as usize - RESP_HEADER_SIZE)];
            self.mem
                .read_slice(&mut data, GuestAddress(waddr + RESP_HEADER_SIZE as u64))
                .unwrap();
        }
        Some(Done { used, resp, data })
    }

    /// Waits for `t` until `deadline` passes.
    pub fn wait_until(&mut self, t: Ticket, deadline: Instant) -> Option<Done> {
        loop {
            if let Some(d) = self.poll(t) {
                return Some(d);
            }
            if !wait_readable(&self.calls[0], deadline) {
                return self.poll(t);
            }
            let _ = self.calls[0].read();
        }
    }

    /// Waits for `t`; panics after [`DEADLINE`].
    pub fn wait(&mut self, t: Ticket) -> Done {
        self.wait_until(t, Instant::now() + DEADLINE)
            .unwrap_or_else(|| panic!("request {t:?} did not complete"))
    }

    /// Asserts that `t` is still pending after a short grace period.
    pub fn assert_pending(&mut self, t: Ticket, grace: Duration) {
        assert!(
            self.wait_until(t, Instant::now() + grace).is_none(),
            "request {t:?} completed but should block"
        );
    }

    /// Submits and waits.
    pub fn call(&mut self, op: Op, flags: u32, args: [u64; 3], payload: &[u8], out: usize) -> Done {
        let t = self.submit(ReqHeader::new(op, flags, args), payload, out);
        self.wait(t)
    }

    /// Makes `n` event buffers available on `eventq`.
    pub fn post_event_buffers(&mut self, n: usize) {
        for _ in 0..n {
            let head = *self.rings[1].free.last().expect("eventq full");
            let addr = 0x10000 + head as u64 * EVENT_SIZE as u64;
            self.mem
                .write_slice(&[0u8; EVENT_SIZE], GuestAddress(addr))
                .unwrap();
            self.submit_raw(
                1,
                &[RawDesc {
                    addr,
                    len: EVENT_SIZE as u32,
                    flags: VRING_DESC_F_WRITE as u16,
                    next: 0,
                }],
                false,
            );
        }
    }

    /// The (head, used length) of every `eventq` buffer returned so far (and taken).
    pub fn take_event_used(&mut self) -> Vec<(u16, u32)> {
        self.collect_used(1);
        std::mem::take(&mut self.event_used)
    }

    /// Events delivered so far (and taken).
    pub fn take_events(&mut self) -> Vec<Event> {
        self.collect_used(1);
        let _ = self.calls[1].read();
        std::mem::take(&mut self.events)
    }

    /// Waits until an event arrives or `deadline` passes.
    pub fn wait_event(&mut self, deadline: Instant) -> Option<Event> {
        loop {
            self.collect_used(1);
            if !self.events.is_empty() {
                return Some(self.events.remove(0));
            }
            if !wait_readable(&self.calls[1], deadline) {
                self.collect_used(1);
                return if self.events.is_empty() {
                    None
                } else {
                    Some(self.events.remove(0))
                };
            }
            let _ = self.calls[1].read();
        }
    }

    // ---- Convenience wrappers over the ops ----

    /// PIPE.
    pub fn pipe(&mut self, flags: u32) -> Result<(u32, u32), Errno> {
        self.call(Op::Pipe, 0, [flags as u64, 0, 0], &[], 0)
            .result()
            .map(|r| (r[0] as u32, r[1] as u32))
    }

    /// WRITE.
    pub fn write(&mut self, fd: u32, data: &[u8]) -> Result<u64, Errno> {
        self.call(Op::Write, 0, [fd as u64, 0, 0], data, 0)
            .result()
            .map(|r| r[0])
    }

    /// READ of up to `len` bytes.
    pub fn read(&mut self, fd: u32, len: usize) -> Result<Vec<u8>, Errno> {
        let d = self.call(Op::Read, 0, [fd as u64, 0, 0], &[], len);
        d.result().map(|_| d.data)
    }

    /// Submits a READ without waiting.
    pub fn submit_read(&mut self, fd: u32, len: usize, flags: u32) -> Ticket {
        self.submit(ReqHeader::new(Op::Read, flags, [fd as u64, 0, 0]), &[], len)
    }

    /// Submits a WRITE without waiting.
    pub fn submit_write(&mut self, fd: u32, data: &[u8], flags: u32) -> Ticket {
        self.submit(ReqHeader::new(Op::Write, flags, [fd as u64, 0, 0]), data, 0)
    }

    /// CLOSE.
    pub fn close(&mut self, fd: u32) -> Result<(), Errno> {
        self.call(Op::Close, 0, [fd as u64, 0, 0], &[], 0)
            .result()
            .map(|_| ())
    }

    /// GETPID: (pid, ppid).
    pub fn getpid(&mut self) -> (u32, u32) {
        let r = self.call(Op::GetPid, 0, [0; 3], &[], 0).result().unwrap();
        (r[0] as u32, r[1] as u32)
    }

    /// SPAWN of `name` with `argv`, `env` and `actions`.
    pub fn spawn(
        &mut self,
        name: &str,
        argv: &[&[u8]],
        env: &[&[u8]],
        actions: &[FileAction],
    ) -> Result<u32, Errno> {
        let mut blob = vec![0u8; SpawnBlob::encoded_len(name, argv, env, actions).unwrap()];
        let n = SpawnBlob::encode(name, argv, env, actions, &mut blob).unwrap();
        self.spawn_raw(&blob[..n])
    }

    /// SPAWN with a raw payload.
    pub fn spawn_raw(&mut self, blob: &[u8]) -> Result<u32, Errno> {
        self.call(Op::Spawn, 0, [0; 3], blob, 0)
            .result()
            .map(|r| r[0] as u32)
    }

    /// WAIT: (pid, status).
    pub fn wait_child(&mut self, pid: i64, flags: u32) -> Result<(u32, u32), Errno> {
        self.call(Op::Wait, flags, [pid as u64, 0, 0], &[], 0)
            .result()
            .map(|r| (r[0] as u32, r[1] as u32))
    }

    /// GET_ARGS into a buffer of `cap` bytes: (argv, env).
    pub fn get_args(&mut self, cap: usize) -> Result<Args, Errno> {
        let d = self.call(Op::GetArgs, 0, [0; 3], &[], cap);
        d.result()?;
        let blob = ArgsBlob::parse(&d.data).expect("args blob parses");
        Ok((
            blob.argv.iter().map(<[u8]>::to_vec).collect(),
            blob.env.iter().map(<[u8]>::to_vec).collect(),
        ))
    }

    /// EXIT with `code`.
    pub fn exit(&mut self, code: u8) -> Done {
        self.call(Op::Exit, 0, [code as u64, 0, 0], &[], 0)
    }
}
