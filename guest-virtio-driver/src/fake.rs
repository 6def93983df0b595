//! Test doubles: a [`Hal`] over the host heap (physical address = virtual
//! address) and a [`Transport`] whose "device" is driven by the test: it reads
//! the chains the driver made available and uses them on request, in any
//! order. Modelled on virtio-drivers' own (test-only) `FakeTransport`.

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::ptr::NonNull;
use std::sync::{Arc, Mutex};

use virtio_drivers::transport::{DeviceStatus, DeviceType, InterruptStatus, Transport};
use virtio_drivers::{BufferDirection, Hal, PhysAddr, PAGE_SIZE};
use virtio_pipe_protocol::{ConfigSpace, Event, RespHeader};
use zerocopy::{FromBytes, Immutable, IntoBytes};

use crate::features::Features;

/// Every feature bit a complete virtio-pipe device offers, plus one the driver must ignore.
pub const DEVICE_FEATURES_ALL: u64 = Features::SUPPORTED.bits() | (1 << 29);

const MAX_QUEUE_SIZE: u32 = 256;
const DESC_F_NEXT: u16 = 1;
const DESC_F_WRITE: u16 = 2;

/// A [`Hal`] for host tests: DMA memory from the heap, identity "physical" addresses.
#[derive(Debug)]
pub struct FakeHal;

fn dma_layout(pages: usize) -> Layout {
    Layout::from_size_align(pages * PAGE_SIZE, PAGE_SIZE).unwrap()
}

// SAFETY: allocations are zeroed, page aligned, exclusively owned until
// dealloc, and their "physical" address is their virtual address, which is
// what the fake device dereferences.
unsafe impl Hal for FakeHal {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (PhysAddr, NonNull<u8>) {
        // SAFETY: the layout has a non-zero size (pages >= 1 for every queue part).
        let p = NonNull::new(unsafe { alloc_zeroed(dma_layout(pages)) }).unwrap();
        (p.as_ptr() as PhysAddr, p)
    }

    unsafe fn dma_dealloc(_paddr: PhysAddr, vaddr: NonNull<u8>, pages: usize) -> i32 {
        // SAFETY: `vaddr` came from `dma_alloc` with the same page count.
        unsafe { dealloc(vaddr.as_ptr(), dma_layout(pages)) };
        0
    }

    unsafe fn mmio_phys_to_virt(paddr: PhysAddr, _size: usize) -> NonNull<u8> {
        NonNull::new(paddr as *mut u8).unwrap()
    }

    unsafe fn share(buffer: NonNull<[u8]>, _direction: BufferDirection) -> PhysAddr {
        buffer.cast::<u8>().as_ptr() as PhysAddr
    }

    unsafe fn unshare(_paddr: PhysAddr, _buffer: NonNull<[u8]>, _direction: BufferDirection) {}
}

#[derive(Debug, Default, Clone)]
struct QueueState {
    size: u32,
    desc: PhysAddr,
    avail: PhysAddr,
    used: PhysAddr,
    notified: bool,
    /// Avail-ring positions (free-running) the device has already used.
    consumed: Vec<u16>,
    used_idx: u16,
}

#[derive(Debug)]
struct State {
    device_features: u64,
    driver_features: u64,
    status: DeviceStatus,
    config: ConfigSpace,
    queues: [QueueState; 2],
    interrupt_pending: bool,
}

/// One chain the driver made available: descriptor lengths and addresses.
#[derive(Debug, Clone)]
pub struct Chain {
    /// Lengths of the readable descriptors, in order.
    pub readable: Vec<usize>,
    /// Lengths of the writable descriptors, in order.
    pub writable: Vec<usize>,
    head: u16,
    readable_addrs: Vec<u64>,
    writable_addrs: Vec<u64>,
    avail_pos: u16,
}

impl Chain {
    /// The bytes of the first readable descriptor (the request header).
    pub fn header_bytes(&self) -> Vec<u8> {
        let len = self.readable[0];
        // SAFETY: the driver shared this buffer with the device (identity mapped) and keeps it
        // alive while the chain is available.
        unsafe { std::slice::from_raw_parts(self.readable_addrs[0] as *const u8, len) }.to_vec()
    }

    /// The bytes of the readable descriptors after the header, joined: the
    /// payload as the device reads it.
    pub fn readable_payload(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (addr, len) in self.readable_addrs.iter().zip(&self.readable).skip(1) {
            // SAFETY: as in `header_bytes`, for each readable descriptor.
            out.extend_from_slice(unsafe { std::slice::from_raw_parts(*addr as *const u8, *len) });
        }
        out
    }
}

/// The fake transport; clones share the same device state.
#[derive(Debug, Clone)]
pub struct FakeTransport {
    state: Arc<Mutex<State>>,
}

impl FakeTransport {
    pub fn new(device_features: u64, config: ConfigSpace) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                device_features,
                driver_features: 0,
                status: DeviceStatus::empty(),
                config,
                queues: Default::default(),
                interrupt_pending: false,
            })),
        }
    }

    pub fn driver_features(&self) -> u64 {
        self.state.lock().unwrap().driver_features
    }

    pub fn status(&self) -> DeviceStatus {
        self.state.lock().unwrap().status
    }

    /// Whether the driver notified `queue` since the last call.
    pub fn notified(&self, queue: u16) -> bool {
        std::mem::take(&mut self.state.lock().unwrap().queues[queue as usize].notified)
    }

    /// The chains available on `queue` that the device has not used yet, oldest first.
    pub fn avail_chains(&self, queue: u16) -> Vec<Chain> {
        let st = self.state.lock().unwrap();
        let q = &st.queues[queue as usize];
        let avail_idx = read_u16(q.avail + 2);
        (0..avail_idx)
            .filter(|pos| !q.consumed.contains(pos))
            .map(|pos| {
                let head = read_u16(q.avail + 4 + 2 * (pos as u64 % q.size as u64));
                walk_chain(q, head, pos)
            })
            .collect()
    }

    /// Uses the `n`th pending chain of `queue`, writing `parts` one after the
    /// other across its writable descriptors, and raises the interrupt.
    pub fn use_nth(&self, queue: u16, n: usize, parts: &[&[u8]]) {
        let chain = self.avail_chains(queue).remove(n);
        let bytes: Vec<u8> = parts.concat();
        let mut written = 0usize;
        for (addr, len) in chain.writable_addrs.iter().zip(&chain.writable) {
            let take = (*len).min(bytes.len() - written);
            // SAFETY: the descriptor describes a writable buffer of `len`
            // bytes the driver shared; `take <= len`.
            unsafe {
                std::ptr::copy_nonoverlapping(bytes[written..].as_ptr(), *addr as *mut u8, take)
            };
            written += take;
        }
        self.push_used(queue, chain.head, written as u32, chain.avail_pos);
    }

    fn push_used(&self, queue: u16, id: u16, len: u32, avail_pos: u16) {
        let mut st = self.state.lock().unwrap();
        st.interrupt_pending = true;
        let q = &mut st.queues[queue as usize];
        q.consumed.push(avail_pos);
        let slot = q.used + 4 + 8 * (q.used_idx as u64 % q.size as u64);
        write_u32(slot, id as u32);
        write_u32(slot + 4, len);
        q.used_idx = q.used_idx.wrapping_add(1);
        write_u16(q.used + 2, q.used_idx);
    }

    /// Answers the oldest pending request of `queue` with `resp` and `payload`.
    pub fn complete_next(&self, queue: u16, resp: RespHeader, payload: &[u8]) {
        self.complete_nth(queue, 0, resp, payload);
    }

    /// Answers the `n`th pending request of `queue`.
    pub fn complete_nth(&self, queue: u16, n: usize, resp: RespHeader, payload: &[u8]) {
        self.use_nth(queue, n, &[resp.as_bytes(), payload]);
    }

    /// Fills the oldest posted event buffer with `ev`.
    pub fn deliver_event(&self, ev: Event) {
        self.use_nth(virtio_pipe_protocol::QUEUE_EVENT, 0, &[&ev.to_bytes()]);
    }

    /// Puts a chain the driver never submitted in the used ring.
    pub fn use_bogus_token(&self, queue: u16, token: u16) {
        self.push_used(queue, token, 0, u16::MAX);
    }
}

fn walk_chain(q: &QueueState, head: u16, avail_pos: u16) -> Chain {
    let mut chain = Chain {
        readable: vec![],
        writable: vec![],
        head,
        readable_addrs: vec![],
        writable_addrs: vec![],
        avail_pos,
    };
    let mut i = head;
    loop {
        let d = q.desc + 16 * i as u64;
        let (addr, len, flags, next) = (
            read_u64(d),
            read_u32(d + 8),
            read_u16(d + 12),
            read_u16(d + 14),
        );
        if flags & DESC_F_WRITE != 0 {
            chain.writable.push(len as usize);
            chain.writable_addrs.push(addr);
        } else {
            chain.readable.push(len as usize);
            chain.readable_addrs.push(addr);
        }
        if flags & DESC_F_NEXT == 0 {
            return chain;
        }
        i = next;
    }
}

fn read_u16(addr: u64) -> u16 {
    // SAFETY: the address lies in a queue area the driver allocated through FakeHal.
    unsafe { (addr as *const u16).read_volatile() }
}
fn read_u32(addr: u64) -> u32 {
    // SAFETY: as for `read_u16`.
    unsafe { (addr as *const u32).read_volatile() }
}
fn read_u64(addr: u64) -> u64 {
    // SAFETY: as for `read_u16`.
    unsafe { (addr as *const u64).read_volatile() }
}
fn write_u16(addr: u64, v: u16) {
    // SAFETY: the address lies in the used ring the driver allocated through FakeHal.
    unsafe { (addr as *mut u16).write_volatile(v) }
}
fn write_u32(addr: u64, v: u32) {
    // SAFETY: as for `write_u16`.
    unsafe { (addr as *mut u32).write_volatile(v) }
}

impl Transport for FakeTransport {
    fn device_type(&self) -> DeviceType {
        crate::transport::STAND_IN_DEVICE_TYPE
    }

    fn read_device_features(&mut self) -> u64 {
        self.state.lock().unwrap().device_features
    }

    fn write_driver_features(&mut self, driver_features: u64) {
        self.state.lock().unwrap().driver_features = driver_features;
    }

    fn max_queue_size(&mut self, _queue: u16) -> u32 {
        MAX_QUEUE_SIZE
    }

    fn notify(&mut self, queue: u16) {
        self.state.lock().unwrap().queues[queue as usize].notified = true;
    }

    fn get_status(&self) -> DeviceStatus {
        self.state.lock().unwrap().status
    }

    fn set_status(&mut self, status: DeviceStatus) {
        self.state.lock().unwrap().status = status;
    }

    fn set_guest_page_size(&mut self, _guest_page_size: u32) {}

    fn requires_legacy_layout(&self) -> bool {
        false
    }

    fn queue_set(
        &mut self,
        queue: u16,
        size: u32,
        descriptors: PhysAddr,
        driver_area: PhysAddr,
        device_area: PhysAddr,
    ) {
        let mut st = self.state.lock().unwrap();
        st.queues[queue as usize] = QueueState {
            size,
            desc: descriptors,
            avail: driver_area,
            used: device_area,
            ..Default::default()
        };
    }

    fn queue_unset(&mut self, queue: u16) {
        self.state.lock().unwrap().queues[queue as usize] = QueueState::default();
    }

    fn queue_used(&mut self, queue: u16) -> bool {
        self.state.lock().unwrap().queues[queue as usize].desc != 0
    }

    fn ack_interrupt(&mut self) -> InterruptStatus {
        if std::mem::take(&mut self.state.lock().unwrap().interrupt_pending) {
            InterruptStatus::QUEUE_INTERRUPT
        } else {
            InterruptStatus::empty()
        }
    }

    fn read_config_generation(&self) -> u32 {
        0
    }

    fn read_config_space<T: FromBytes + IntoBytes>(
        &self,
        offset: usize,
    ) -> Result<T, virtio_drivers::Error> {
        let st = self.state.lock().unwrap();
        let bytes = st.config.as_bytes();
        let end = offset + size_of::<T>();
        if end > bytes.len() {
            return Err(virtio_drivers::Error::ConfigSpaceTooSmall);
        }
        Ok(T::read_from_bytes(&bytes[offset..end]).unwrap())
    }

    fn write_config_space<T: IntoBytes + Immutable>(
        &mut self,
        _offset: usize,
        _value: T,
    ) -> Result<(), virtio_drivers::Error> {
        Err(virtio_drivers::Error::Unsupported)
    }
}
