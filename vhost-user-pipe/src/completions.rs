//! [`Completions`]: the mailbox through which any thread completes a
//! guest's requests.
//!
//! A blocked READ of guest B may be completed by the thread serving guest A
//! (A's WRITE supplies the data). That thread copies the bytes into B's
//! memory and writes B's response header, then hands `(head, used_len)` to
//! B's [`Completions`], which puts it on B's used ring and signals B's call
//! eventfd at once (B's backend installs its [`UsedRing`]; the vring's own
//! lock serialises it with B's thread). Waking B's thread to do it
//! instead cost two more thread wakeups per pipe round trip. Completions of
//! B's own requests made while B's thread is parsing B's queue are only
//! queued: that thread flushes them, with one signal, when it is done
//! (see [`Completions::draining`]). Without a hook (before B's first queue
//! event) entries are queued and B's eventfd is kicked.
//!
//! A reset bumps the mailbox's generation: completions of requests made
//! before it are dropped, under the mailbox lock, so that no response is
//! ever written into a buffer the driver has already taken back.

use std::cell::Cell;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use vmm_sys_util::eventfd::{EventFd, EFD_NONBLOCK};

use crate::sync::lock;

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
        lock(&self.done)
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

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
