//! [`GuestIo`]: an [`Io`] over one descriptor chain in one guest's memory,
//! and [`Completions`], the mailbox through which any thread completes it.
//!
//! A blocked READ of guest B may be completed by the thread serving guest A
//! (A's WRITE supplies the data). That thread copies the bytes into B's
//! memory and writes B's response header, then hands `(head, used_len)` to
//! B's [`Completions`], which puts it on B's used ring and signals B's call
//! eventfd at once (B's device installs its [`UsedRing`]; the vring's own
//! lock serialises it with B's thread). Waking B's thread to do it
//! instead cost two more thread wakeups per pipe round trip. Completions of
//! B's own requests made while B's thread is parsing B's queue are only
//! queued: that thread flushes them, with one signal, when it is done
//! (see [`Completions::draining`]). Without a hook (before B's first queue
//! event) entries are queued and B's eventfd is kicked.

use std::cell::Cell;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use virtio_pipe_protocol::{RespHeader, RESP_HEADER_SIZE};
use vm_memory::{GuestMemoryBackend, GuestMemoryMmap};
use vmm_sys_util::eventfd::{EventFd, EFD_NONBLOCK};

use crate::chain::{ParsedChain, Part};
use crate::io::Io;

/// The owning guest's used ring, for completing its requests from any
/// thread. Implemented by the device (it holds the vring).
pub trait UsedRing: Send + Sync {
    /// Puts `head` on the used ring with `used` bytes written.
    fn add_used(&self, head: u16, used: u32);
    /// Signals the guest that the used ring has new entries.
    fn signal(&self);
}

thread_local! {
    /// The mailbox whose owning thread is parsing its queue on this thread
    /// (its address), or 0: see [`Completions::draining`].
    static DRAINING: Cell<usize> = const { Cell::new(0) };
}

/// Completed requests waiting to be put on a guest's used ring.
pub struct Completions {
    done: Mutex<Vec<(u16, u32)>>,
    wake: EventFd,
    generation: AtomicU64,
    deliver: OnceLock<Box<dyn UsedRing>>,
}

impl std::fmt::Debug for Completions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Completions")
            .field("generation", &self.generation)
            .field("direct", &self.deliver.get().is_some())
            .finish()
    }
}

/// While alive, completions of this mailbox made on this thread are only
/// queued; the owner flushes them after dropping it.
#[derive(Debug)]
pub struct Draining {
    previous: usize,
}

impl Drop for Draining {
    fn drop(&mut self) {
        DRAINING.with(|d| d.set(self.previous));
    }
}

impl Completions {
    /// An empty mailbox with its eventfd.
    pub fn new() -> std::io::Result<Self> {
        Ok(Self {
            done: Mutex::new(Vec::new()),
            wake: EventFd::new(EFD_NONBLOCK)?,
            generation: AtomicU64::new(0),
            deliver: OnceLock::new(),
        })
    }

    /// Installs the used ring that completions go straight to (once;
    /// later calls are ignored).
    pub fn set_used_ring(&self, ring: impl FnOnce() -> Box<dyn UsedRing>) {
        let _ = self.deliver.get_or_init(ring);
    }

    /// Marks this thread as the owner parsing this mailbox's queue until
    /// the guard drops; the owner must flush ([`Completions::take`]) after.
    pub fn draining(&self) -> Draining {
        let previous = DRAINING.with(|d| d.replace(self as *const Self as usize));
        Draining { previous }
    }

    /// The eventfd the owning thread listens on.
    pub fn wake_fd(&self) -> std::os::fd::RawFd {
        self.wake.as_raw_fd()
    }

    /// Kicks the owning thread.
    pub fn kick(&self) {
        // A full eventfd counter already means "wake up"; nothing is lost.
        let _ = self.wake.write(1);
    }

    /// Clears the kick.
    pub fn clear_kick(&self) {
        let _ = self.wake.read();
    }

    /// The current generation; bumped whenever the queues are reset.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Forgets every completion not yet delivered (queues stopped or reset).
    pub fn reset(&self) {
        // Under the lock: no completion of the old generation is delivered
        // once this returns (see `complete`).
        let mut done = self.lock();
        self.generation.fetch_add(1, Ordering::AcqRel);
        done.clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(u16, u32)>> {
        // A panic while holding this lock only interrupted a Vec push: the data is sound.
        self.done.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `(head, used_len)` if `generation` is still current.
    pub fn post(&self, generation: u64, head: u16, used: u32) {
        let mut done = self.lock();
        if generation == self.generation() {
            done.push((head, used));
        }
    }

    /// Completes `head` if `generation` is still current: `respond` writes
    /// the response into the guest's buffer and returns the used length,
    /// under the lock, so that a reset can never come between the check and
    /// the write (the driver may already reuse a reset request's buffer).
    /// The element is queued when this thread is draining this mailbox, else
    /// delivered to the used ring at once, else (no hook yet) queued with a
    /// kick.
    pub fn complete(&self, generation: u64, head: u16, respond: impl FnOnce() -> u32) {
        let mut done = self.lock();
        if generation != self.generation() {
            return;
        }
        let used = respond();
        if DRAINING.with(Cell::get) == self as *const Self as usize {
            done.push((head, used));
        } else if let Some(ring) = self.deliver.get() {
            // Added under the lock, so that `reset` cannot pass in between;
            // signalled after it, so that the woken thread never waits on it.
            ring.add_used(head, used);
            drop(done);
            ring.signal();
        } else {
            done.push((head, used));
            drop(done);
            self.kick();
        }
    }

    /// Whether completions wait to be put on the used ring (the owner is
    /// still parsing its queue, or its device is not ready).
    pub fn has_undelivered(&self) -> bool {
        !self.lock().is_empty()
    }

    /// Takes everything queued.
    pub fn take(&self) -> Vec<(u16, u32)> {
        std::mem::take(&mut *self.lock())
    }
}

/// One request's chain in guest memory.
#[derive(Debug)]
pub struct GuestIo {
    mem: Arc<GuestMemoryMmap>,
    chain: ParsedChain,
    payload_in: usize,
    mailbox: Arc<Completions>,
    generation: u64,
}

impl GuestIo {
    /// Wraps a checked chain whose readable payload starts after `payload_in` bytes.
    pub fn new(
        mem: Arc<GuestMemoryMmap>,
        chain: ParsedChain,
        payload_in: usize,
        mailbox: Arc<Completions>,
    ) -> Self {
        let generation = mailbox.generation();
        Self {
            mem,
            chain,
            payload_in,
            mailbox,
            generation,
        }
    }

    /// The guest memory the chain lives in.
    pub fn memory(&self) -> &Arc<GuestMemoryMmap> {
        &self.mem
    }

    /// Whether other requests of this guest have completed but are not yet
    /// on its used ring: for the driver they are still pending.
    pub fn others_undelivered(&self) -> bool {
        self.mailbox.has_undelivered()
    }

    fn readable(&self) -> &Part {
        &self.chain.readable
    }

    /// Copies `n` readable payload bytes at `src_off` into `dst`'s writable
    /// payload at `dst_off`, guest memory to guest memory.
    fn copy_direct(&self, src_off: usize, dst: &GuestIo, dst_off: usize, n: usize) -> usize {
        let mut copied = 0;
        self.readable()
            .visit(self.payload_in + src_off, n, |src_addr, len| {
                let mut src_done = 0;
                dst.chain.writable.visit(
                    RESP_HEADER_SIZE + dst_off + copied,
                    len,
                    |dst_addr, dlen| {
                        let src = self
                            .mem
                            .get_slice(vm_memory::GuestAddress(src_addr.0 + src_done as u64), dlen);
                        let dstm = dst.mem.get_slice(dst_addr, dlen);
                        match (src, dstm) {
                            (Ok(s), Ok(d)) => {
                                s.copy_to_volatile_slice(d);
                                src_done += dlen;
                                true
                            }
                            _ => false,
                        }
                    },
                );
                copied += src_done;
                src_done == len
            });
        copied
    }
}

impl Io for GuestIo {
    fn readable_len(&self) -> usize {
        self.readable().len - self.payload_in
    }

    fn writable_len(&self) -> usize {
        self.chain.writable.len.saturating_sub(RESP_HEADER_SIZE)
    }

    fn read_payload(&self, off: usize, out: &mut [u8]) -> usize {
        let n = out.len().min(self.readable_len().saturating_sub(off));
        self.readable()
            .read(&self.mem, self.payload_in + off, &mut out[..n])
    }

    fn write_payload(&mut self, off: usize, data: &[u8]) -> usize {
        let n = data.len().min(self.writable_len().saturating_sub(off));
        self.chain
            .writable
            .write(&self.mem, RESP_HEADER_SIZE + off, &data[..n])
    }

    fn copy_to(&self, src_off: usize, dst: &mut dyn Io, dst_off: usize, n: usize) -> usize {
        let n = n
            .min(self.readable_len().saturating_sub(src_off))
            .min(dst.writable_len().saturating_sub(dst_off));
        if let Some(g) = dst.as_guest() {
            return self.copy_direct(src_off, g, dst_off, n);
        }
        // A host destination: go through a small buffer.
        let mut tmp = vec![0u8; n];
        let got = self.read_payload(src_off, &mut tmp);
        dst.write_payload(dst_off, &tmp[..got])
    }

    fn as_guest(&mut self) -> Option<&mut GuestIo> {
        Some(self)
    }

    fn complete(self: Box<Self>, resp: RespHeader, written: usize) {
        self.mailbox.complete(self.generation, self.chain.head, || {
            if self.chain.can_respond() {
                self.chain.writable.write(&self.mem, 0, &resp.as_bytes_le());
                (RESP_HEADER_SIZE + written) as u32
            } else {
                0
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A used ring that records what it was given.
    #[derive(Default)]
    struct Recorder {
        used: Mutex<Vec<(u16, u32)>>,
        signals: AtomicU64,
    }

    impl UsedRing for Arc<Recorder> {
        fn add_used(&self, head: u16, used: u32) {
            self.used.lock().unwrap().push((head, used));
        }

        fn signal(&self) {
            self.signals.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn with_ring() -> (Completions, Arc<Recorder>) {
        let c = Completions::new().unwrap();
        let r = Arc::new(Recorder::default());
        let ring = r.clone();
        c.set_used_ring(|| Box::new(ring));
        (c, r)
    }

    #[test]
    fn completion_from_another_thread_goes_straight_to_the_used_ring() {
        let (c, r) = with_ring();
        c.complete(c.generation(), 7, || 40);
        assert_eq!(*r.used.lock().unwrap(), vec![(7, 40)]);
        assert_eq!(r.signals.load(Ordering::Relaxed), 1);
        assert!(c.take().is_empty());
    }

    #[test]
    fn completion_while_the_owner_drains_is_left_for_its_flush() {
        let (c, r) = with_ring();
        let draining = c.draining();
        c.complete(c.generation(), 3, || 33);
        drop(draining);
        assert!(r.used.lock().unwrap().is_empty());
        assert_eq!(c.take(), vec![(3, 33)]);
        c.complete(c.generation(), 4, || 32);
        assert_eq!(
            *r.used.lock().unwrap(),
            vec![(4, 32)],
            "guard dropped: direct again"
        );
    }

    #[test]
    fn draining_one_mailbox_does_not_hold_back_another() {
        let (mine, _) = with_ring();
        let (other, r) = with_ring();
        let _draining = mine.draining();
        other.complete(other.generation(), 9, || 32);
        assert_eq!(*r.used.lock().unwrap(), vec![(9, 32)]);
    }

    #[test]
    fn completion_of_a_reset_generation_is_dropped() {
        let (c, r) = with_ring();
        let old = c.generation();
        c.reset();
        c.complete(old, 1, || panic!("a reset request is never answered"));
        assert!(r.used.lock().unwrap().is_empty());
        assert!(c.take().is_empty());
    }

    #[test]
    fn without_a_used_ring_completion_is_queued_and_kicks_the_owner() {
        let c = Completions::new().unwrap();
        c.complete(c.generation(), 5, || 32);
        assert_eq!(c.take(), vec![(5, 32)]);
        assert_eq!(c.wake.read().unwrap(), 1, "the owner's eventfd was kicked");
    }
}
