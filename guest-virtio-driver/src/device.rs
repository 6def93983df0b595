//! The virtio-pipe device: bring-up, request submission, completions, events.
//!
//! Primer. Each request is one descriptor chain on `requestq`:
//!
//! ```text
//! readable: virtio_pipe_req (32) [+ payload: WRITE data, SPAWN blob]
//! writable: virtio_pipe_resp (32) [+ payload: READ buffer, GET_ARGS blob]
//! ```
//!
//! A payload may be scattered over several buffers ([`VirtioPipe::submit_sg`]:
//! a program's pages, passed in place), one descriptor each; the device
//! sees each part as one run of bytes (the spec does not let it assume any
//! framing).
//!
//! The device may use chains in any order. `eventq` holds 32-byte writable
//! buffers that the device fills with `virtio_pipe_event`s; the driver hands
//! each one back as soon as it has decoded it.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec;
use core::marker::PhantomData;
use core::ptr::NonNull;

use virtio_drivers::queue::VirtQueue;
use virtio_drivers::transport::{DeviceStatus, InterruptStatus, Transport};
use virtio_drivers::Hal;
use virtio_pipe_protocol::{
    ConfigSpace, Errno, Event, ReqHeader, RespHeader, EVENT_SIZE, QUEUE_EVENT, QUEUE_REQUEST,
    REQ_HEADER_SIZE, RESP_HEADER_SIZE,
};

use crate::error::DriverError;
use crate::features::Features;
use crate::slots::{RequestId, SlotState, Slots, MAX_SEGMENTS};

/// Descriptors in `requestq`. The driver does not negotiate
/// `VIRTIO_RING_F_INDIRECT_DESC` (virtio-drivers would then allocate an
/// indirect table for every chain of more than one buffer, `FORK`'s too,
/// which must allocate nothing: `drv-fork-quiesce`), so a chain takes one
/// descriptor of this table per buffer: its two headers and its payload
/// buffers. A request with at most one payload buffer each way takes 2 to
/// 4, so [`MAX_IN_FLIGHT`] of them fit at once; one with [`MAX_SEGMENTS`]
/// payload buffers takes 34, which leaves 30 for the others.
pub const REQUEST_QUEUE_SIZE: usize = 64;
/// Event buffers kept posted on `eventq`.
pub const EVENT_QUEUE_SIZE: usize = 16;
/// Requests that may be in flight at once (a request of up to 4 descriptors
/// each: `REQUEST_QUEUE_SIZE / 4`).
const MAX_IN_FLIGHT: usize = REQUEST_QUEUE_SIZE / 4;
/// Descriptors every chain takes besides its payload: the two headers.
const HEADER_DESCRIPTORS: usize = 2;
const _: () = assert!(HEADER_DESCRIPTORS + MAX_SEGMENTS <= REQUEST_QUEUE_SIZE);

/// A used request: the response header and how much payload the device wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Completion {
    /// The response header as the device wrote it.
    pub resp: RespHeader,
    /// Bytes the device wrote into the writable payload (after the response header).
    pub payload_written: usize,
}

impl Completion {
    /// The three results on success, or the device's errno.
    pub fn rets(&self) -> Result<[u64; 3], Errno> {
        self.resp.result()?;
        Ok([self.resp.ret(0), self.resp.ret(1), self.resp.ret(2)])
    }
}

/// A virtio-pipe device, ready for requests.
pub struct VirtioPipe<H: Hal, T: Transport> {
    transport: T,
    requestq: VirtQueue<H, REQUEST_QUEUE_SIZE>,
    eventq: VirtQueue<H, EVENT_QUEUE_SIZE>,
    slots: Slots,
    event_bufs: Box<[[u8; EVENT_SIZE]]>,
    /// Which event buffer is in the device under each descriptor token.
    event_buf_of_token: [Option<usize>; EVENT_QUEUE_SIZE],
    events: VecDeque<Event>,
    features: Features,
    broken: bool,
    _hal: PhantomData<H>,
}

// SAFETY: the raw payload pointers in the slots refer to buffers whose
// submitters promised they stay valid until completion, wherever the device
// object lives; the queues and transport are Send themselves.
unsafe impl<H: Hal, T: Transport + Send> Send for VirtioPipe<H, T> {}

impl<H: Hal, T: Transport> core::fmt::Debug for VirtioPipe<H, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("VirtioPipe")
            .field("features", &self.features)
            .field("pending_events", &self.events.len())
            .field("broken", &self.broken)
            .finish()
    }
}

impl<H: Hal, T: Transport> VirtioPipe<H, T> {
    /// Initialises the device behind `transport` (virtio 1.2, 3.1.1).
    pub fn new(mut transport: T) -> Result<Self, DriverError> {
        let offered = Features::from_bits_retain(transport.read_device_features());
        if !offered.contains(Features::VERSION_1) {
            transport.set_status(DeviceStatus::FAILED);
            return Err(DriverError::NoVersion1(offered.bits()));
        }
        let features = transport.begin_init(Features::SUPPORTED);
        if !transport.get_status().contains(DeviceStatus::FEATURES_OK) {
            transport.set_status(DeviceStatus::FAILED);
            return Err(DriverError::FeaturesRejected(features.bits()));
        }
        let config: ConfigSpace = match transport.read_config_space(0) {
            Ok(c) => c,
            Err(e) => {
                transport.set_status(DeviceStatus::FAILED);
                return Err(e.into());
            }
        };
        if !config.is_virtio_pipe() {
            transport.set_status(DeviceStatus::FAILED);
            return Err(DriverError::NotVirtioPipe(
                config.magic.get(),
                config.version.get(),
            ));
        }
        let requestq = VirtQueue::new(&mut transport, QUEUE_REQUEST, false, false)?;
        let eventq = VirtQueue::new(&mut transport, QUEUE_EVENT, false, false)?;
        transport.finish_init();
        let mut dev = Self {
            transport,
            requestq,
            eventq,
            slots: Slots::new(MAX_IN_FLIGHT),
            event_bufs: vec![[0u8; EVENT_SIZE]; EVENT_QUEUE_SIZE].into_boxed_slice(),
            event_buf_of_token: [None; EVENT_QUEUE_SIZE],
            events: VecDeque::new(),
            features,
            broken: false,
            _hal: PhantomData,
        };
        for i in 0..EVENT_QUEUE_SIZE {
            dev.post_event_buffer(i)?;
        }
        dev.transport.notify(QUEUE_EVENT);
        Ok(dev)
    }

    /// The features both sides agreed on.
    pub fn features(&self) -> Features {
        self.features
    }

    fn post_event_buffer(&mut self, i: usize) -> Result<(), DriverError> {
        let buf: &mut [u8] = &mut self.event_bufs[i];
        // SAFETY: `event_bufs` is a heap allocation owned by `self` that is
        // neither moved nor touched until `poll` pops this token; dropping
        // `self` drops the queue first, which resets nothing but stops us
        // from ever reading the buffer again.
        let token = unsafe { self.eventq.add(&[], &mut [buf]) }?;
        self.event_buf_of_token[token as usize] = Some(i);
        Ok(())
    }

    /// Submits a request without waiting for it.
    ///
    /// Empty payloads are left out of the chain.
    ///
    /// # Safety
    ///
    /// `readable` and `writable` must stay valid, and must not be accessed,
    /// until [`Self::take_completion`] has returned the completion of the
    /// returned id (or the device has been reset).
    pub unsafe fn submit(
        &mut self,
        hdr: &ReqHeader,
        readable: &[u8],
        writable: &mut [u8],
    ) -> Result<RequestId, DriverError> {
        // SAFETY: the caller's promise, for the one buffer of each part.
        unsafe { self.submit_sg(hdr, &[readable], &mut [writable]) }
    }

    /// Submits a request whose payloads are scattered over several buffers
    /// (the pages of a program's buffer, say), without waiting for it. The
    /// chain is the request header, the `readable` buffers in order, the
    /// response header, then the `writable` buffers in order: the device
    /// sees each part as one run of bytes. Empty buffers are left out.
    ///
    /// At most [`MAX_SEGMENTS`] non-empty buffers (both parts together), or
    /// [`DriverError::TooManySegments`]. Each buffer takes a descriptor
    /// (the driver does not use indirect tables: see
    /// [`REQUEST_QUEUE_SIZE`]), so the chain needs `2 +` that many free
    /// descriptors, or it fails with [`DriverError::QueueFull`]; a caller
    /// with one request in flight at a time always has them.
    ///
    /// # Safety
    ///
    /// Every buffer of `readable` and `writable` must stay valid, and must
    /// not be accessed, until [`Self::take_completion`] has returned the
    /// completion of the returned id (or the device has been reset).
    pub unsafe fn submit_sg(
        &mut self,
        hdr: &ReqHeader,
        readable: &[&[u8]],
        writable: &mut [&mut [u8]],
    ) -> Result<RequestId, DriverError> {
        if self.broken {
            return Err(DriverError::DeviceBroken);
        }
        let n_readable = readable.iter().filter(|b| !b.is_empty()).count();
        let n_writable = writable.iter().filter(|b| !b.is_empty()).count();
        let segments = n_readable + n_writable;
        if segments > MAX_SEGMENTS {
            return Err(DriverError::TooManySegments(segments));
        }
        // A descriptor's length is 32 bits; a chain's whole parts too
        // (virtio 1.2, 2.7.5.2). Callers clamp their transfers below that.
        if !part_fits(REQ_HEADER_SIZE, readable.iter().map(|b| b.len()))
            || !part_fits(RESP_HEADER_SIZE, writable.iter().map(|b| b.len()))
        {
            return Err(DriverError::Errno(Errno::Einval));
        }
        let needed = HEADER_DESCRIPTORS + segments;
        let free = self.requestq.available_desc();
        if free < needed {
            return Err(DriverError::QueueFull(needed, free));
        }
        let (id, slot) = self.slots.claim().ok_or(DriverError::NoFreeSlot)?;
        slot.req = hdr.as_bytes_le();
        slot.n_readable = n_readable;
        slot.n_writable = n_writable;
        // The slot's copy of where each payload is, for `pop_used`.
        for (k, b) in readable.iter().filter(|b| !b.is_empty()).enumerate() {
            slot.payload[k] = NonNull::from(*b);
        }
        for (k, b) in writable.iter_mut().filter(|b| !b.is_empty()).enumerate() {
            slot.payload[n_readable + k] = NonNull::from(&mut **b);
        }
        let ins = readable.iter().copied().filter(|b| !b.is_empty());
        let outs = writable
            .iter_mut()
            .filter(|b| !b.is_empty())
            .map(|b| &mut **b);
        let q = &mut self.requestq;
        // SAFETY: the headers live in the heap-allocated slot, which stays
        // put and untouched while the slot is in flight; the caller promises
        // the same for the payloads. Each part fits the arrays chosen.
        let added = unsafe {
            if n_readable.max(n_writable) <= SMALL_PART {
                add_chain::<H, { 1 + SMALL_PART }>(q, &slot.req, ins, &mut slot.resp, outs)
            } else {
                add_chain::<H, { 1 + MAX_SEGMENTS }>(q, &slot.req, ins, &mut slot.resp, outs)
            }
        };
        match added {
            Ok(token) => {
                slot.state = SlotState::InFlight(token);
                if self.requestq.should_notify() {
                    self.transport.notify(QUEUE_REQUEST);
                }
                Ok(id)
            }
            Err(e) => {
                slot.release();
                Err(e.into())
            }
        }
    }

    /// Acknowledges the device's interrupt; call before [`Self::poll`] so a
    /// completion that arrives after the poll raises a fresh interrupt.
    pub fn ack_interrupt(&mut self) -> InterruptStatus {
        self.transport.ack_interrupt()
    }

    /// Collects every used chain of both queues, restocking `eventq`.
    /// Returns how many chains were used.
    pub fn poll(&mut self) -> Result<usize, DriverError> {
        if self.broken {
            return Err(DriverError::DeviceBroken);
        }
        match self.poll_inner() {
            Ok(n) => Ok(n),
            Err(e) => {
                self.reset_after_protocol_error();
                Err(e)
            }
        }
    }

    fn poll_inner(&mut self) -> Result<usize, DriverError> {
        Ok(self.poll_requestq()? + self.poll_eventq()?)
    }

    /// Collects used chains of `requestq` only. It writes nothing but the
    /// request slots and the queue's own memory, and allocates nothing.
    fn poll_requestq(&mut self) -> Result<usize, DriverError> {
        let mut used = 0;
        while let Some(token) = self.requestq.peek_used() {
            let slot = self
                .slots
                .by_token(token)
                .ok_or(DriverError::UnknownToken(token))?;
            let (n_readable, n_writable) = (slot.n_readable, slot.n_writable);
            let payload = &slot.payload;
            let ins = payload[..n_readable].iter().map(|p| {
                // SAFETY: the submitter promised the payload stays valid
                // and untouched until its completion is taken.
                unsafe { p.as_ref() }
            });
            let outs = payload[n_readable..n_readable + n_writable]
                .iter()
                .map(|p| {
                    let mut p = *p;
                    // SAFETY: as above, for the writable payload; the
                    // buffers of one chain do not overlap (`submit_sg` took
                    // them as distinct `&mut` borrows).
                    unsafe { p.as_mut() }
                });
            let q = &mut self.requestq;
            // SAFETY: these are exactly the buffers `submit_sg` added under
            // `token`, in the same order, in arrays of the same choice.
            let len = unsafe {
                if n_readable.max(n_writable) <= SMALL_PART {
                    pop_chain::<H, { 1 + SMALL_PART }>(
                        q,
                        token,
                        &slot.req,
                        ins,
                        &mut slot.resp,
                        outs,
                    )
                } else {
                    pop_chain::<H, { 1 + MAX_SEGMENTS }>(
                        q,
                        token,
                        &slot.req,
                        ins,
                        &mut slot.resp,
                        outs,
                    )
                }
            }?;
            slot.state = SlotState::Done(len);
            used += 1;
        }
        Ok(used)
    }

    /// Collects used `eventq` buffers, queueing their events and restocking.
    fn poll_eventq(&mut self) -> Result<usize, DriverError> {
        let mut used = 0;
        let mut restocked = false;
        while let Some(token) = self.eventq.peek_used() {
            let i = self
                .event_buf_of_token
                .get_mut(token as usize)
                .and_then(Option::take)
                .ok_or(DriverError::UnknownToken(token))?;
            let buf: &mut [u8] = &mut self.event_bufs[i];
            // SAFETY: this is the one buffer `post_event_buffer` added under `token`.
            let len = unsafe { self.eventq.pop_used(token, &[], &mut [buf]) }?;
            if len as usize >= EVENT_SIZE {
                // Unknown kinds decode to `None`: drivers ignore them.
                if let Ok(Some(ev)) = Event::parse(&self.event_bufs[i]) {
                    self.events.push_back(ev);
                }
            }
            self.post_event_buffer(i)?;
            restocked = true;
            used += 1;
        }
        if restocked && self.eventq.should_notify() {
            self.transport.notify(QUEUE_EVENT);
        }
        Ok(used)
    }

    /// Resets the device (writes 0 to the device status) and waits, a
    /// bounded number of reads, for the status to read back 0 (virtio 1.2,
    /// 2.1.2: the reset is complete then; on vhost-user the front-end has
    /// stopped the rings, `GET_VRING_BASE`, by then). From here on the
    /// device no longer touches any buffer of this driver and every request
    /// is refused (`DeviceBroken`): a fork child that lands on this VM
    /// (spec `drv-start-land`) resets it before the parent's RAM replaces
    /// the queues. Returns whether the status read back 0.
    pub fn reset(&mut self) -> bool {
        const STATUS_READS: u32 = 1_000_000;
        self.transport.set_status(DeviceStatus::empty());
        self.slots.clear();
        self.broken = true;
        (0..STATUS_READS).any(|_| {
            let done = self.transport.get_status() == DeviceStatus::empty();
            if !done {
                core::hint::spin_loop();
            }
            done
        })
    }

    /// The device broke the queue protocol: reset it so that it can no
    /// longer touch any buffer, and refuse further work.
    fn reset_after_protocol_error(&mut self) {
        self.transport.set_status(DeviceStatus::empty());
        self.slots.clear();
        self.broken = true;
    }

    /// Takes the completion of `id` if the device has used it.
    pub fn take_completion(&mut self, id: RequestId) -> Option<Completion> {
        let slot = self.slots.get(id)?;
        let SlotState::Done(len) = slot.state else {
            return None;
        };
        // A chain the device could not use (a buffer outside guest memory,
        // spec: *Malformed chains*) comes back without a response: that is
        // a bad address, never a success with a zeroed header (which read
        // as end of file).
        let resp = if (len as usize) < RESP_HEADER_SIZE {
            RespHeader::err(Errno::Efault)
        } else {
            RespHeader::parse(&slot.resp).unwrap_or_default()
        };
        slot.release();
        Some(Completion {
            resp,
            payload_written: (len as usize).saturating_sub(RESP_HEADER_SIZE),
        })
    }

    /// Whether `id` is still in the device.
    pub fn is_pending(&mut self, id: RequestId) -> bool {
        self.slots
            .get(id)
            .is_some_and(|s| matches!(s.state, SlotState::InFlight(_)))
    }

    /// The oldest event not yet taken.
    pub fn pop_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Whether an event is waiting to be taken.
    pub fn has_event(&self) -> bool {
        !self.events.is_empty()
    }

    /// Submits a request and waits for its completion.
    ///
    /// Between polls it calls `wait`, which should sleep until the device
    /// interrupts (e.g. `hlt`). Events that arrive meanwhile are queued for
    /// [`Self::pop_event`].
    pub fn request(
        &mut self,
        hdr: &ReqHeader,
        readable: &[u8],
        writable: &mut [u8],
        wait: &mut dyn FnMut(),
    ) -> Result<Completion, DriverError> {
        self.request_sg(hdr, &[readable], &mut [writable], wait)
    }

    /// Submits a request with scattered payloads ([`Self::submit_sg`]) and
    /// waits for its completion like [`Self::request`].
    pub fn request_sg(
        &mut self,
        hdr: &ReqHeader,
        readable: &[&[u8]],
        writable: &mut [&mut [u8]],
        wait: &mut dyn FnMut(),
    ) -> Result<Completion, DriverError> {
        // SAFETY: we return only once the device has used the chain (the
        // completion is taken below) or has been reset by `poll`, so the
        // borrowed payloads outlive the device's use of them.
        let id = unsafe { self.submit_sg(hdr, readable, writable) }?;
        loop {
            self.ack_interrupt();
            self.poll()?;
            if let Some(c) = self.take_completion(id) {
                return Ok(c);
            }
            wait();
        }
    }

    /// Submits a request and waits for its completion like [`Self::request`],
    /// but without touching `eventq` meanwhile: used event buffers stay in
    /// the used ring until the next [`Self::poll`], and nothing is allocated
    /// or freed. While it waits, the driver writes only this request's slot
    /// and `requestq`'s rings. `FORK` needs this (spec: `drv-fork-quiesce`):
    /// the device copies the caller's RAM while the request is pending, and
    /// the resume record's copy of the allocator and statics must still
    /// match the heap it copies.
    ///
    /// Fails with [`DriverError::Errno`]`(EINVAL)` if another request is in
    /// flight, without submitting.
    pub fn request_quiesced(
        &mut self,
        hdr: &ReqHeader,
        readable: &[u8],
        writable: &mut [u8],
        wait: &mut dyn FnMut(),
    ) -> Result<Completion, DriverError> {
        if self.any_in_flight() {
            return Err(DriverError::Errno(Errno::Einval));
        }
        // SAFETY: as in `request`: we return only once the chain is used
        // (its completion taken) or the device was reset by a failed poll.
        let id = unsafe { self.submit(hdr, readable, writable) }?;
        loop {
            self.ack_interrupt();
            if self.broken {
                return Err(DriverError::DeviceBroken);
            }
            if let Err(e) = self.poll_requestq() {
                self.reset_after_protocol_error();
                return Err(e);
            }
            if let Some(c) = self.take_completion(id) {
                return Ok(c);
            }
            wait();
        }
    }

    /// Whether any request is still in the device.
    pub fn any_in_flight(&self) -> bool {
        self.slots.any_in_flight()
    }
}

/// A chain whose parts have at most this many payload buffers each (every
/// request but a scattered one) is handed to the queue from arrays of
/// `1 + SMALL_PART` entries. Under TCG, filling arrays sized for
/// [`MAX_SEGMENTS`] on every request (here and in the guest kernel) added
/// about 3 us to each request: 12 us to a 1-byte pipe round trip between
/// two VMs, whose guest code is on the critical path.
const SMALL_PART: usize = 2;

/// One part of a chain in an array of `M` entries: its header, then its
/// payload buffers (`M` must exceed their number).
fn part<R, const M: usize>(
    header: R,
    buffers: impl Iterator<Item = R>,
    empty: impl Fn() -> R,
) -> ([R; M], usize) {
    let mut out: [R; M] = core::array::from_fn(|_| empty());
    out[0] = header;
    let mut n = 1;
    for b in buffers {
        out[n] = b;
        n += 1;
    }
    (out, n)
}

/// Adds the chain `req`, `readable`, `resp`, `writable` to `q` (each part
/// in an array of `M` entries, which must exceed its payload buffers).
///
/// # Safety
///
/// As for `VirtQueue::add`: every buffer must stay valid and untouched
/// until `pop_used` has given it back.
unsafe fn add_chain<'a, H: Hal, const M: usize>(
    q: &mut VirtQueue<H, REQUEST_QUEUE_SIZE>,
    req: &'a [u8],
    readable: impl Iterator<Item = &'a [u8]>,
    resp: &'a mut [u8],
    writable: impl Iterator<Item = &'a mut [u8]>,
) -> Result<u16, virtio_drivers::Error> {
    let (ins, n_in) = part::<_, M>(req, readable, || &[][..]);
    let (mut outs, n_out) = part::<_, M>(resp, writable, || &mut [][..]);
    // SAFETY: the caller's promise.
    unsafe { q.add(&ins[..n_in], &mut outs[..n_out]) }
}

/// Takes the used chain `token` back from `q` with its buffers, as
/// [`add_chain`] added them.
///
/// # Safety
///
/// As for `VirtQueue::pop_used`: the buffers must be those added under
/// `token`, in order.
unsafe fn pop_chain<'a, H: Hal, const M: usize>(
    q: &mut VirtQueue<H, REQUEST_QUEUE_SIZE>,
    token: u16,
    req: &'a [u8],
    readable: impl Iterator<Item = &'a [u8]>,
    resp: &'a mut [u8],
    writable: impl Iterator<Item = &'a mut [u8]>,
) -> Result<u32, virtio_drivers::Error> {
    let (ins, n_in) = part::<_, M>(req, readable, || &[][..]);
    let (mut outs, n_out) = part::<_, M>(resp, writable, || &mut [][..]);
    // SAFETY: the caller's promise.
    unsafe { q.pop_used(token, &ins[..n_in], &mut outs[..n_out]) }
}

/// Whether a chain part of a header and buffers of `lens` bytes stays
/// within a descriptor chain's 32-bit length.
fn part_fits(header: usize, mut lens: impl Iterator<Item = usize>) -> bool {
    lens.try_fold(header, usize::checked_add)
        .is_some_and(|n| u32::try_from(n).is_ok())
}

#[cfg(test)]
mod tests {
    use virtio_pipe_protocol::{Op, REQ_HEADER_SIZE};

    use super::*;
    use crate::fake::{FakeHal, FakeTransport, DEVICE_FEATURES_ALL};

    type Pipe = VirtioPipe<FakeHal, FakeTransport>;

    /// A pid the fake device answers GETPID with.
    const CHILD_PID: u64 = 7;
    /// A parent pid the fake device answers GETPID with.
    const PARENT_PID: u64 = 1;

    fn ready() -> (Pipe, FakeTransport) {
        let t = FakeTransport::new(DEVICE_FEATURES_ALL, ConfigSpace::current());
        let handle = t.clone();
        (Pipe::new(t).unwrap(), handle)
    }

    #[test]
    fn init_accepts_version_1_and_pipe_features() {
        let (pipe, fake) = ready();
        assert_eq!(pipe.features(), Features::SUPPORTED);
        assert_eq!(fake.driver_features(), Features::SUPPORTED.bits());
        assert!(fake.status().contains(DeviceStatus::DRIVER_OK));
    }

    #[test]
    fn init_drops_features_the_device_does_not_offer() {
        let t = FakeTransport::new(Features::VERSION_1.bits(), ConfigSpace::current());
        let pipe = Pipe::new(t).unwrap();
        assert_eq!(pipe.features(), Features::VERSION_1);
    }

    #[test]
    fn device_without_version_1_is_refused() {
        let t = FakeTransport::new(Features::SPAWN.bits(), ConfigSpace::current());
        let fake = t.clone();
        let e = Pipe::new(t).unwrap_err();
        assert_eq!(e, DriverError::NoVersion1(Features::SPAWN.bits()));
        assert!(fake.status().contains(DeviceStatus::FAILED));
    }

    #[test]
    fn gpio_config_is_not_taken_for_virtio_pipe() {
        let mut gpio = ConfigSpace::current();
        gpio.magic.set(8);
        let t = FakeTransport::new(DEVICE_FEATURES_ALL, gpio);
        let fake = t.clone();
        let e = Pipe::new(t).unwrap_err();
        assert_eq!(e, DriverError::NotVirtioPipe(8, 1));
        assert!(fake.status().contains(DeviceStatus::FAILED));
    }

    #[test]
    fn wrong_protocol_version_is_refused() {
        let mut v2 = ConfigSpace::current();
        v2.version.set(2);
        let e = Pipe::new(FakeTransport::new(DEVICE_FEATURES_ALL, v2)).unwrap_err();
        assert!(matches!(e, DriverError::NotVirtioPipe(_, 2)));
    }

    #[test]
    fn eventq_is_stocked_with_event_sized_writable_buffers() {
        let (_pipe, fake) = ready();
        let posted = fake.avail_chains(QUEUE_EVENT);
        assert_eq!(posted.len(), EVENT_QUEUE_SIZE);
        assert!(posted
            .iter()
            .all(|c| c.readable.is_empty() && c.writable == [EVENT_SIZE]));
        assert!(fake.notified(QUEUE_EVENT));
    }

    #[test]
    fn write_puts_header_then_payload_in_the_readable_part() {
        let (mut pipe, fake) = ready();
        let hdr = ReqHeader::new(Op::Write, 0, [1, 0, 0]);
        // SAFETY: the payload is a static literal and nothing is written.
        unsafe { pipe.submit(&hdr, b"hello", &mut []) }.unwrap();
        let chains = fake.avail_chains(QUEUE_REQUEST);
        assert_eq!(chains.len(), 1);
        assert_eq!(chains[0].readable, vec![REQ_HEADER_SIZE, 5]);
        assert_eq!(chains[0].writable, vec![RESP_HEADER_SIZE]);
        assert_eq!(chains[0].header_bytes(), hdr.as_bytes_le());
        assert!(fake.notified(QUEUE_REQUEST));
    }

    #[test]
    fn read_puts_response_then_buffer_in_the_writable_part() {
        let (mut pipe, fake) = ready();
        let mut buf = [0u8; 100];
        let hdr = ReqHeader::new(Op::Read, 0, [0, 0, 0]);
        // SAFETY: `buf` outlives the test and is not touched until completion.
        unsafe { pipe.submit(&hdr, &[], &mut buf) }.unwrap();
        let chains = fake.avail_chains(QUEUE_REQUEST);
        assert_eq!(chains[0].readable, vec![REQ_HEADER_SIZE]);
        assert_eq!(chains[0].writable, vec![RESP_HEADER_SIZE, 100]);
    }

    #[test]
    fn completion_carries_rets_and_payload_length() {
        let (mut pipe, fake) = ready();
        let mut buf = [0u8; 16];
        let hdr = ReqHeader::new(Op::Read, 0, [3, 0, 0]);
        // SAFETY: `buf` is only read after the completion is taken.
        let id = unsafe { pipe.submit(&hdr, &[], &mut buf) }.unwrap();
        fake.complete_next(QUEUE_REQUEST, RespHeader::ok([2, 0, 0]), b"hi");
        pipe.poll().unwrap();
        let c = pipe.take_completion(id).unwrap();
        assert_eq!(c.rets(), Ok([2, 0, 0]));
        assert_eq!(c.payload_written, 2);
        assert_eq!(&buf[..2], b"hi");
    }

    /// Regression: a chain the device could not use came back with used
    /// length 0 and read as success with 0 bytes: a false end of file.
    #[test]
    fn a_completion_without_a_response_is_efault() {
        let (mut pipe, fake) = ready();
        let mut buf = [0u8; 16];
        let hdr = ReqHeader::new(Op::Read, 0, [3, 0, 0]);
        // SAFETY: `buf` is only read after the completion is taken.
        let id = unsafe { pipe.submit(&hdr, &[], &mut buf) }.unwrap();
        fake.use_nth(QUEUE_REQUEST, 0, &[]);
        pipe.poll().unwrap();
        assert_eq!(pipe.take_completion(id).unwrap().rets(), Err(Errno::Efault));
    }

    #[test]
    fn error_status_becomes_the_errno() {
        let (mut pipe, fake) = ready();
        let hdr = ReqHeader::new(Op::Close, 0, [42, 0, 0]);
        // SAFETY: no payloads.
        let id = unsafe { pipe.submit(&hdr, &[], &mut []) }.unwrap();
        fake.complete_next(QUEUE_REQUEST, RespHeader::err(Errno::Ebadf), &[]);
        pipe.poll().unwrap();
        assert_eq!(pipe.take_completion(id).unwrap().rets(), Err(Errno::Ebadf));
    }

    #[test]
    fn requests_complete_out_of_order() {
        let (mut pipe, fake) = ready();
        let mut buf = [0u8; 8];
        // SAFETY: `buf` outlives the pending read.
        let read =
            unsafe { pipe.submit(&ReqHeader::new(Op::Read, 0, [0; 3]), &[], &mut buf) }.unwrap();
        // SAFETY: no payloads.
        let getpid =
            unsafe { pipe.submit(&ReqHeader::new(Op::GetPid, 0, [0; 3]), &[], &mut []) }.unwrap();
        fake.complete_nth(
            QUEUE_REQUEST,
            1,
            RespHeader::ok([CHILD_PID, PARENT_PID, 0]),
            &[],
        );
        pipe.poll().unwrap();
        assert!(pipe.take_completion(read).is_none());
        assert!(pipe.is_pending(read));
        let c = pipe.take_completion(getpid).unwrap();
        assert_eq!(c.rets().unwrap()[..2], [CHILD_PID, PARENT_PID]);
        fake.complete_nth(QUEUE_REQUEST, 0, RespHeader::ok([1, 0, 0]), b"x");
        pipe.poll().unwrap();
        assert_eq!(pipe.take_completion(read).unwrap().payload_written, 1);
    }

    #[test]
    fn blocking_request_waits_until_the_device_answers() {
        let (mut pipe, fake) = ready();
        let mut waits = 0;
        let device = fake.clone();
        let c = pipe
            .request(
                &ReqHeader::new(Op::GetPid, 0, [0; 3]),
                &[],
                &mut [],
                &mut || {
                    waits += 1;
                    device.complete_next(QUEUE_REQUEST, RespHeader::ok([CHILD_PID, 0, 0]), &[]);
                },
            )
            .unwrap();
        assert_eq!(waits, 1);
        assert_eq!(c.rets().unwrap()[0], CHILD_PID);
    }

    #[test]
    fn events_are_decoded_and_the_buffer_is_reposted() {
        let (mut pipe, fake) = ready();
        let ev = Event::ChildExit {
            pid: 5,
            status: virtio_pipe_protocol::wait_status_exited(3),
        };
        fake.deliver_event(ev);
        pipe.poll().unwrap();
        assert_eq!(pipe.pop_event(), Some(ev));
        assert_eq!(pipe.pop_event(), None);
        assert_eq!(fake.avail_chains(QUEUE_EVENT).len(), EVENT_QUEUE_SIZE);
    }

    #[test]
    fn reset_clears_the_status_and_refuses_further_requests() {
        let (mut pipe, fake) = ready();
        assert!(fake.status().contains(DeviceStatus::DRIVER_OK));
        assert!(pipe.reset(), "the fake's status reads back 0 at once");
        assert_eq!(fake.status(), DeviceStatus::empty());
        // SAFETY: no payloads.
        let again = unsafe { pipe.submit(&ReqHeader::new(Op::GetPid, 0, [0; 3]), &[], &mut []) };
        assert_eq!(again, Err(DriverError::DeviceBroken));
    }

    #[test]
    fn unknown_used_token_resets_the_device() {
        let (mut pipe, fake) = ready();
        fake.use_bogus_token(QUEUE_REQUEST, 5);
        assert_eq!(pipe.poll(), Err(DriverError::UnknownToken(5)));
        assert_eq!(fake.status(), DeviceStatus::empty());
        // SAFETY: no payloads.
        let again = unsafe { pipe.submit(&ReqHeader::new(Op::GetPid, 0, [0; 3]), &[], &mut []) };
        assert_eq!(again, Err(DriverError::DeviceBroken));
    }

    #[test]
    fn quiesced_request_leaves_eventq_alone_until_the_next_poll() {
        let (mut pipe, fake) = ready();
        let ev = Event::ChildExit {
            pid: 5,
            status: virtio_pipe_protocol::wait_status_exited(0),
        };
        let device = fake.clone();
        let mut waits = 0;
        let c = pipe
            .request_quiesced(
                &ReqHeader::new(Op::Fork, 0, [0x20_0000, 0, 0]),
                &[],
                &mut [],
                &mut || {
                    waits += 1;
                    device.deliver_event(ev);
                    device.complete_next(QUEUE_REQUEST, RespHeader::ok([2, 0, 0]), &[]);
                },
            )
            .unwrap();
        assert_eq!(waits, 1);
        assert_eq!(c.rets().unwrap()[0], 2);
        // The used event buffer is neither decoded nor handed back yet.
        assert_eq!(pipe.pop_event(), None);
        assert_eq!(fake.avail_chains(QUEUE_EVENT).len(), EVENT_QUEUE_SIZE - 1);
        pipe.poll().unwrap();
        assert_eq!(pipe.pop_event(), Some(ev));
        assert_eq!(fake.avail_chains(QUEUE_EVENT).len(), EVENT_QUEUE_SIZE);
    }

    #[test]
    fn quiesced_request_refuses_to_join_a_pending_one() {
        let (mut pipe, fake) = ready();
        // SAFETY: no payloads.
        unsafe { pipe.submit(&ReqHeader::new(Op::Wait, 0, [u64::MAX, 0, 0]), &[], &mut []) }
            .unwrap();
        let e = pipe
            .request_quiesced(
                &ReqHeader::new(Op::Fork, 0, [0; 3]),
                &[],
                &mut [],
                &mut || {},
            )
            .unwrap_err();
        assert_eq!(e, DriverError::Errno(Errno::Einval));
        assert_eq!(fake.avail_chains(QUEUE_REQUEST).len(), 1);
    }

    #[test]
    fn scattered_write_puts_every_buffer_in_order_after_the_header() {
        let (mut pipe, fake) = ready();
        let hdr = ReqHeader::new(Op::Write, 0, [1, 0, 0]);
        let parts: [&[u8]; 3] = [b"hel", b"lo, ", b"world"];
        // SAFETY: the payloads are static literals and nothing is written.
        unsafe { pipe.submit_sg(&hdr, &parts, &mut []) }.unwrap();
        let chains = fake.avail_chains(QUEUE_REQUEST);
        assert_eq!(chains[0].readable, vec![REQ_HEADER_SIZE, 3, 4, 5]);
        assert_eq!(chains[0].writable, vec![RESP_HEADER_SIZE]);
        assert_eq!(chains[0].readable_payload(), b"hello, world");
    }

    #[test]
    fn scattered_read_fills_the_buffers_in_order() {
        let (mut pipe, fake) = ready();
        let (mut a, mut b) = ([0u8; 3], [0u8; 5]);
        let hdr = ReqHeader::new(Op::Read, 0, [0, 0, 0]);
        let id = {
            let mut bufs: [&mut [u8]; 2] = [&mut a, &mut b];
            // SAFETY: `a` and `b` are only read after the completion is taken.
            unsafe { pipe.submit_sg(&hdr, &[], &mut bufs) }.unwrap()
        };
        let chains = fake.avail_chains(QUEUE_REQUEST);
        assert_eq!(chains[0].writable, vec![RESP_HEADER_SIZE, 3, 5]);
        fake.complete_next(QUEUE_REQUEST, RespHeader::ok([7, 0, 0]), b"abcdefg");
        pipe.poll().unwrap();
        assert_eq!(pipe.take_completion(id).unwrap().payload_written, 7);
        assert_eq!((&a, &b[..4]), (b"abc", &b"defg"[..]));
    }

    #[test]
    fn empty_buffers_are_left_out_of_a_scattered_chain() {
        let (mut pipe, fake) = ready();
        let mut buf = [0u8; 4];
        let hdr = ReqHeader::new(Op::Read, 0, [0, 0, 0]);
        let parts: [&[u8]; 2] = [b"", b"x"];
        let mut bufs: [&mut [u8]; 2] = [&mut [], &mut buf];
        // SAFETY: nothing reads `buf` while the chain is pending.
        unsafe { pipe.submit_sg(&hdr, &parts, &mut bufs) }.unwrap();
        let chains = fake.avail_chains(QUEUE_REQUEST);
        assert_eq!(chains[0].readable, vec![REQ_HEADER_SIZE, 1]);
        assert_eq!(chains[0].writable, vec![RESP_HEADER_SIZE, 4]);
    }

    #[test]
    fn more_buffers_than_max_segments_are_refused_without_submitting() {
        let (mut pipe, fake) = ready();
        let parts: [&[u8]; MAX_SEGMENTS + 1] = [b"x"; MAX_SEGMENTS + 1];
        let hdr = ReqHeader::new(Op::Write, 0, [1, 0, 0]);
        // SAFETY: static payloads.
        let e = unsafe { pipe.submit_sg(&hdr, &parts, &mut []) };
        assert_eq!(e, Err(DriverError::TooManySegments(MAX_SEGMENTS + 1)));
        assert!(fake.avail_chains(QUEUE_REQUEST).is_empty());
    }

    /// Two chains of `MAX_SEGMENTS` buffers do not fit the queue at once
    /// (2 × 34 > 64 descriptors), so a third one after the first completes
    /// proves its descriptors came back.
    #[test]
    fn a_used_scattered_chain_gives_its_descriptors_back() {
        let (mut pipe, fake) = ready();
        let parts: [&[u8]; MAX_SEGMENTS] = [b"x"; MAX_SEGMENTS];
        let hdr = ReqHeader::new(Op::Write, 0, [1, 0, 0]);
        for _ in 0..3 {
            // SAFETY: static payloads.
            let id = unsafe { pipe.submit_sg(&hdr, &parts, &mut []) }.unwrap();
            fake.complete_next(
                QUEUE_REQUEST,
                RespHeader::ok([MAX_SEGMENTS as u64, 0, 0]),
                &[],
            );
            pipe.poll().unwrap();
            let c = pipe.take_completion(id).unwrap();
            assert_eq!(c.rets().unwrap()[0], MAX_SEGMENTS as u64);
        }
    }

    #[test]
    fn a_scattered_chain_without_enough_free_descriptors_is_queue_full() {
        let (mut pipe, fake) = ready();
        let parts: [&[u8]; MAX_SEGMENTS] = [b"x"; MAX_SEGMENTS];
        let hdr = ReqHeader::new(Op::Write, 0, [1, 0, 0]);
        // SAFETY: static payloads.
        unsafe { pipe.submit_sg(&hdr, &parts, &mut []) }.unwrap();
        // SAFETY: static payloads.
        let e = unsafe { pipe.submit_sg(&hdr, &parts, &mut []) };
        let free = REQUEST_QUEUE_SIZE - HEADER_DESCRIPTORS - MAX_SEGMENTS;
        assert_eq!(
            e,
            Err(DriverError::QueueFull(
                HEADER_DESCRIPTORS + MAX_SEGMENTS,
                free
            ))
        );
        // SAFETY: no payloads.
        unsafe { pipe.submit(&ReqHeader::new(Op::GetPid, 0, [0; 3]), &[], &mut []) }.unwrap();
        assert_eq!(fake.avail_chains(QUEUE_REQUEST).len(), 2);
    }

    #[test]
    fn a_part_longer_than_a_chain_may_be_is_einval() {
        let (mut pipe, fake) = ready();
        // 16 views of one lazily zeroed 256 MiB buffer: 4 GiB of payload.
        const VIEW: usize = 256 << 20;
        let big = vec![0u8; VIEW];
        let parts: [&[u8]; 16] = [&big; 16];
        let hdr = ReqHeader::new(Op::Write, 0, [1, 0, 0]);
        // SAFETY: nothing is written; `big` outlives the call, which fails.
        let e = unsafe { pipe.submit_sg(&hdr, &parts, &mut []) };
        assert_eq!(e, Err(DriverError::Errno(Errno::Einval)));
        assert!(fake.avail_chains(QUEUE_REQUEST).is_empty());
    }

    #[test]
    fn blocking_scattered_request_returns_with_the_buffers_filled() {
        let (mut pipe, fake) = ready();
        let (mut a, mut b) = ([0u8; 2], [0u8; 2]);
        let device = fake.clone();
        let c = pipe
            .request_sg(
                &ReqHeader::new(Op::Read, 0, [0; 3]),
                &[],
                &mut [&mut a, &mut b],
                &mut || device.complete_next(QUEUE_REQUEST, RespHeader::ok([4, 0, 0]), b"wxyz"),
            )
            .unwrap();
        assert_eq!(c.payload_written, 4);
        assert_eq!((a, b), (*b"wx", *b"yz"));
    }

    #[test]
    fn too_many_requests_in_flight_is_no_free_slot() {
        let (mut pipe, _fake) = ready();
        for _ in 0..MAX_IN_FLIGHT {
            // SAFETY: no payloads.
            unsafe { pipe.submit(&ReqHeader::new(Op::GetPid, 0, [0; 3]), &[], &mut []) }.unwrap();
        }
        // SAFETY: no payloads.
        let e = unsafe { pipe.submit(&ReqHeader::new(Op::GetPid, 0, [0; 3]), &[], &mut []) };
        assert_eq!(e, Err(DriverError::NoFreeSlot));
    }
}
