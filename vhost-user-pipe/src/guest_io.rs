//! [`GuestIo`]: an [`Io`] over one descriptor chain in one guest's memory,
//! and [`Completions`], the mailbox through which any thread completes it.
//!
//! A blocked READ of guest B may be completed by the thread serving guest A
//! (A's WRITE supplies the data). That thread copies the bytes into B's
//! memory and writes B's response header, then posts `(head, used_len)` to
//! B's [`Completions`] and kicks B's eventfd. B's own thread, woken in its
//! epoll loop, moves the entry to B's used ring and signals B. Only the
//! owning thread ever touches a vring: no cross-thread queue locking.

use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use virtio_pipe_protocol::{RespHeader, RESP_HEADER_SIZE};
use vm_memory::{GuestMemoryBackend, GuestMemoryMmap};
use vmm_sys_util::eventfd::{EventFd, EFD_NONBLOCK};

use crate::chain::{ParsedChain, Part};
use crate::io::Io;

/// Completed requests waiting to be put on a guest's used ring.
#[derive(Debug)]
pub struct Completions {
    done: Mutex<Vec<(u16, u32)>>,
    wake: EventFd,
    generation: AtomicU64,
}

impl Completions {
    /// An empty mailbox with its eventfd.
    pub fn new() -> std::io::Result<Self> {
        Ok(Self {
            done: Mutex::new(Vec::new()),
            wake: EventFd::new(EFD_NONBLOCK)?,
            generation: AtomicU64::new(0),
        })
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
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.lock().clear();
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
        if self.generation != self.mailbox.generation() {
            return;
        }
        let used = if self.chain.can_respond() {
            self.chain.writable.write(&self.mem, 0, &resp.as_bytes_le());
            (RESP_HEADER_SIZE + written) as u32
        } else {
            0
        };
        self.mailbox.post(self.generation, self.chain.head, used);
        self.mailbox.kick();
    }
}
