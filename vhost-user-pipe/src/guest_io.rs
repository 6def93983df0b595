//! [`GuestIo`]: an [`Io`] over one descriptor chain in one guest's memory.
//!
//! Its readable payload follows the request header, its writable payload
//! the response header; both are lists of pieces of guest memory
//! (`chain::Part`), handed out as volatile slices. Completing it writes the
//! response header and passes the used element to the guest's
//! [`Completions`] mailbox.

use std::sync::Arc;

use virtio_pipe_protocol::{RespHeader, RESP_HEADER_SIZE};
use vm_memory::{GuestMemoryBackend, GuestMemoryMmap, VolatileSlice};

use crate::chain::ParsedChain;
use crate::completions::Completions;
use crate::io::{Fill, Io};

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
}

impl Io for GuestIo {
    fn readable_len(&self) -> usize {
        self.chain.readable.len - self.payload_in
    }

    fn writable_len(&self) -> usize {
        self.chain.writable.len.saturating_sub(RESP_HEADER_SIZE)
    }

    fn read_into(&self, off: usize, dst: &VolatileSlice<'_>) -> usize {
        let n = dst.len().min(self.readable_len().saturating_sub(off));
        let mut done = 0;
        self.chain
            .readable
            .visit(self.payload_in + off, n, |addr, len| {
                match (self.mem.get_slice(addr, len), dst.subslice(done, len)) {
                    (Ok(src), Ok(dst)) => {
                        src.copy_to_volatile_slice(dst);
                        done += len;
                        true
                    }
                    _ => false,
                }
            });
        done
    }

    fn fill_writable(&mut self, off: usize, n: usize, fill: &mut Fill<'_>) -> usize {
        let n = n.min(self.writable_len().saturating_sub(off));
        let mut done = 0;
        self.chain
            .writable
            .visit(RESP_HEADER_SIZE + off, n, |addr, len| {
                let Ok(piece) = self.mem.get_slice(addr, len) else {
                    return false;
                };
                let got = fill(&piece);
                done += got;
                got == len
            });
        done
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
