//! Parsing at the edge: a descriptor chain from `requestq` becomes a
//! [`ParsedChain`] (its readable and writable parts as lists of guest memory
//! pieces) and then a typed [`Request`], or a typed error.
//!
//! The whole chain is walked and checked before anything is written into it
//! (as cloud-hypervisor's `rng.rs` does): every descriptor must lie inside
//! guest memory, writable descriptors must follow readable ones, and the
//! chain must end (no loop, no out-of-range `next`). Spec: *Malformed chains*.

use std::ops::Deref;

use thiserror::Error;
use virtio_pipe_protocol::{
    DecodeError, Errno, ReqHeader, Request, REQ_HEADER_SIZE, RESP_HEADER_SIZE,
};
use virtio_queue::DescriptorChain;
use vm_memory::{Bytes, GuestAddress, GuestMemoryBackend, GuestMemoryMmap};

/// Most bytes one part (readable or writable) of a chain may span: a
/// chain is at most 2^32 - 1 bytes (virtio 1.2, 2.7.5.2), and the spec
/// lets payloads take all of that.
pub const MAX_PART_LEN: usize = u32::MAX as usize;

/// A chain the device cannot use.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ChainError {
    /// The chain uses an indirect table but `VIRTIO_RING_F_INDIRECT_DESC`
    /// was not negotiated.
    #[error("indirect descriptor without VIRTIO_RING_F_INDIRECT_DESC")]
    IndirectNotNegotiated,
    /// The chain ends in a descriptor that still points to a next one: a
    /// loop, an out-of-range index or an unreadable descriptor table.
    #[error("descriptor chain does not terminate")]
    Unterminated,
    /// The chain has no descriptor at all.
    #[error("descriptor chain is empty")]
    Empty,
    /// A descriptor lies outside guest memory: (address, length).
    #[error("descriptor at {0:#x} of {1} bytes is outside guest memory")]
    OutOfRange(u64, u32),
    /// A readable descriptor follows a writable one.
    #[error("readable descriptor after a writable one")]
    ReadableAfterWritable,
    /// A part spans more than [`MAX_PART_LEN`] bytes.
    #[error("chain part of {0} bytes exceeds {MAX_PART_LEN}")]
    TooLong(usize),
}

/// A request the device answers with an error status.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum RequestError {
    /// The readable part is shorter than `virtio_pipe_req`.
    #[error("readable part of {0} bytes is shorter than the request header")]
    ShortHeader(usize),
    /// The header does not decode.
    #[error("bad request: {0}")]
    Decode(DecodeError),
}

impl RequestError {
    /// The status the device answers with (spec: `dev-req-invalid`).
    pub fn errno(&self) -> Errno {
        match self {
            RequestError::Decode(d) => d.errno(),
            RequestError::ShortHeader(_) => Errno::Einval,
        }
    }
}

/// One part of a chain: pieces of guest memory, each inside one region.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Part {
    /// (address, length) pieces, in order.
    pub pieces: Vec<(GuestAddress, usize)>,
    /// Total length.
    pub len: usize,
}

impl Part {
    fn push(
        &mut self,
        mem: &GuestMemoryMmap,
        addr: GuestAddress,
        len: u32,
    ) -> Result<(), ChainError> {
        if len == 0 {
            return Ok(());
        }
        if !mem.check_range(addr, len as usize) {
            return Err(ChainError::OutOfRange(addr.0, len));
        }
        let mut at = addr;
        let mut left = len as usize;
        for slice in mem.get_slices(addr, len as usize) {
            let slice = slice.map_err(|_| ChainError::OutOfRange(addr.0, len))?;
            let n = slice.len().min(left);
            self.pieces.push((at, n));
            at = GuestAddress(at.0 + n as u64);
            left -= n;
        }
        self.len = self
            .len
            .checked_add(len as usize)
            .filter(|&l| l <= MAX_PART_LEN)
            .ok_or(ChainError::TooLong(self.len))?;
        Ok(())
    }

    /// Copies bytes from offset `off` into `out`; returns how many.
    pub fn read(&self, mem: &GuestMemoryMmap, off: usize, out: &mut [u8]) -> usize {
        let mut done = 0;
        self.visit(off, out.len(), |addr, n| {
            let ok = mem.read_slice(&mut out[done..done + n], addr).is_ok();
            done += n;
            ok
        });
        done
    }

    /// Copies `data` in at offset `off`; returns how many bytes.
    pub fn write(&self, mem: &GuestMemoryMmap, off: usize, data: &[u8]) -> usize {
        let mut done = 0;
        self.visit(off, data.len(), |addr, n| {
            let ok = mem.write_slice(&data[done..done + n], addr).is_ok();
            done += n;
            ok
        });
        done
    }

    /// Calls `f(address, length)` for the pieces covering `[off, off + n)`,
    /// clipped to the part; stops when `f` returns false.
    pub fn visit(
        &self,
        mut off: usize,
        mut n: usize,
        mut f: impl FnMut(GuestAddress, usize) -> bool,
    ) {
        for &(addr, len) in &self.pieces {
            if n == 0 {
                break;
            }
            if off >= len {
                off -= len;
                continue;
            }
            let take = (len - off).min(n);
            if !f(GuestAddress(addr.0 + off as u64), take) {
                break;
            }
            n -= take;
            off = 0;
        }
    }
}

/// A walked and checked chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedChain {
    /// The head descriptor index, for the used ring.
    pub head: u16,
    /// The device-readable part.
    pub readable: Part,
    /// The device-writable part.
    pub writable: Part,
}

/// A chain that failed the walk, with its writable part when that part
/// is usable and can hold a response (spec: `dev-chain-answer`).
#[derive(Debug, PartialEq, Eq)]
pub struct Malformed {
    /// What is wrong.
    pub error: ChainError,
    /// The writable part, if the walk ended, every writable descriptor lies
    /// in guest memory and together they hold at least a response.
    pub writable: Option<Part>,
}

/// Walks `chain` and checks every descriptor.
pub fn walk<M>(chain: DescriptorChain<M>, mem: &GuestMemoryMmap) -> Result<ParsedChain, Malformed>
where
    M: Deref,
    M::Target: vm_memory::GuestMemory,
{
    let head = chain.head_index();
    let descs: Vec<_> = chain.collect();
    let fail = |error, writable: Option<Part>| {
        Err(Malformed {
            error,
            writable: writable.filter(|w| w.len >= RESP_HEADER_SIZE),
        })
    };
    match descs.last() {
        None => return fail(ChainError::Empty, None),
        Some(d) if d.has_next() => return fail(ChainError::Unterminated, None),
        Some(_) => {}
    }
    let mut readable = Part::default();
    let mut writable = Part::default();
    let mut writable_ok = true;
    let mut seen_writable = false;
    let mut error = None;
    for desc in &descs {
        if desc.is_write_only() {
            seen_writable = true;
            if let Err(e) = writable.push(mem, desc.addr(), desc.len()) {
                writable_ok = false;
                error.get_or_insert(e);
            }
        } else if seen_writable {
            error.get_or_insert(ChainError::ReadableAfterWritable);
        } else if let Err(e) = readable.push(mem, desc.addr(), desc.len()) {
            error.get_or_insert(e);
        }
    }
    match error {
        None => Ok(ParsedChain {
            head,
            readable,
            writable,
        }),
        Some(e) => fail(e, writable_ok.then_some(writable)),
    }
}

impl ParsedChain {
    /// Whether a `virtio_pipe_resp` fits in the writable part.
    pub fn can_respond(&self) -> bool {
        self.writable.len >= RESP_HEADER_SIZE
    }

    /// Decodes the request header and checks it against the payload sizes.
    pub fn request(&self, mem: &GuestMemoryMmap) -> Result<(ReqHeader, Request), RequestError> {
        if self.readable.len < REQ_HEADER_SIZE {
            return Err(RequestError::ShortHeader(self.readable.len));
        }
        let mut raw = [0u8; REQ_HEADER_SIZE];
        if self.readable.read(mem, 0, &mut raw) < REQ_HEADER_SIZE {
            return Err(RequestError::ShortHeader(self.readable.len));
        }
        let hdr =
            ReqHeader::parse(&raw).map_err(|_| RequestError::ShortHeader(self.readable.len))?;
        let req = Request::decode(
            &hdr,
            self.readable.len - REQ_HEADER_SIZE,
            self.writable.len.saturating_sub(RESP_HEADER_SIZE),
        )
        .map_err(RequestError::Decode)?;
        Ok((hdr, req))
    }
}

#[cfg(test)]
mod tests {
    use virtio_bindings::bindings::virtio_ring::{VRING_DESC_F_NEXT, VRING_DESC_F_WRITE};
    use virtio_pipe_protocol::{Op, Request};
    use virtio_queue::desc::{split::Descriptor as SplitDescriptor, RawDescriptor};
    use virtio_queue::mock::MockSplitQueue;
    use virtio_queue::{Queue, QueueOwnedT};

    use super::*;

    const MEM_SIZE: usize = 0x10000;
    const DATA: u64 = 0x4000;

    fn mem() -> GuestMemoryMmap {
        GuestMemoryMmap::from_ranges(&[(GuestAddress(0), MEM_SIZE)]).unwrap()
    }

    fn desc(addr: u64, len: u32, flags: u32, next: u16) -> RawDescriptor {
        RawDescriptor::from(SplitDescriptor::new(addr, len, flags as u16, next))
    }

    fn walk_descs(m: &GuestMemoryMmap, descs: &[RawDescriptor]) -> Result<ParsedChain, ChainError> {
        walk_full(m, descs).map_err(|e| e.error)
    }

    fn walk_full(m: &GuestMemoryMmap, descs: &[RawDescriptor]) -> Result<ParsedChain, Malformed> {
        let vq = MockSplitQueue::new(m, 16);
        vq.add_desc_chains(descs, 0).unwrap();
        let mut q: Queue = vq.create_queue().unwrap();
        let chain = q.iter(m).unwrap().next().unwrap();
        walk(chain, m)
    }

    #[test]
    fn malformed_chain_keeps_a_usable_writable_part_for_the_answer() {
        let m = mem();
        let e = walk_full(
            &m,
            &[
                desc(DATA, 32, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1),
                desc(DATA + 64, 32, 0, 0),
            ],
        )
        .unwrap_err();
        assert_eq!(e.writable.map(|w| w.len), Some(32));
    }

    #[test]
    fn looping_chain_has_no_writable_part_to_answer_in() {
        let m = mem();
        let e = walk_full(
            &m,
            &[
                desc(DATA, 32, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1),
                desc(DATA, 32, VRING_DESC_F_NEXT, 0),
            ],
        )
        .unwrap_err();
        assert_eq!((e.error, e.writable), (ChainError::Unterminated, None));
    }

    #[test]
    fn well_formed_chain_splits_into_readable_and_writable_parts() {
        let m = mem();
        let hdr = ReqHeader::new(Op::GetPid, 0, [0; 3]);
        m.write_slice(&hdr.as_bytes_le(), GuestAddress(DATA))
            .unwrap();
        let c = walk_descs(
            &m,
            &[
                desc(DATA, 32, VRING_DESC_F_NEXT, 1),
                desc(DATA + 64, 32, VRING_DESC_F_WRITE, 0),
            ],
        )
        .unwrap();
        assert_eq!((c.readable.len, c.writable.len), (32, 32));
        assert_eq!(c.request(&m).unwrap().1, Request::GetPid);
    }

    #[test]
    fn descriptor_outside_guest_memory_is_rejected() {
        let m = mem();
        let e = walk_descs(&m, &[desc(MEM_SIZE as u64 - 8, 32, 0, 0)]).unwrap_err();
        assert_eq!(e, ChainError::OutOfRange(MEM_SIZE as u64 - 8, 32));
    }

    #[test]
    fn readable_after_writable_is_rejected() {
        let m = mem();
        let e = walk_descs(
            &m,
            &[
                desc(DATA, 32, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1),
                desc(DATA + 64, 32, 0, 0),
            ],
        )
        .unwrap_err();
        assert_eq!(e, ChainError::ReadableAfterWritable);
    }

    #[test]
    fn readable_after_an_empty_writable_descriptor_is_rejected() {
        let m = mem();
        let e = walk_full(
            &m,
            &[
                desc(DATA, 32, VRING_DESC_F_NEXT, 1),
                desc(DATA + 64, 0, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2),
                desc(DATA + 128, 32, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 3),
                desc(DATA + 256, 8, 0, 0),
            ],
        )
        .unwrap_err();
        assert_eq!(e.error, ChainError::ReadableAfterWritable);
        assert_eq!(e.writable.map(|w| w.len), Some(32));
    }

    #[test]
    fn parts_beyond_16_mib_are_accepted() {
        let m = GuestMemoryMmap::from_ranges(&[(GuestAddress(0), 40 << 20)]).unwrap();
        let c = walk_descs(
            &m,
            &[
                desc(DATA, 32, VRING_DESC_F_NEXT, 1),
                desc(1 << 20, 20 << 20, VRING_DESC_F_WRITE, 0),
            ],
        )
        .unwrap();
        assert_eq!(c.writable.len, 20 << 20);
    }

    #[test]
    fn looping_chain_is_unterminated() {
        let m = mem();
        let e = walk_descs(
            &m,
            &[
                desc(DATA, 32, VRING_DESC_F_NEXT, 1),
                desc(DATA, 32, VRING_DESC_F_NEXT, 0),
            ],
        )
        .unwrap_err();
        assert_eq!(e, ChainError::Unterminated);
    }

    #[test]
    fn next_index_beyond_the_queue_is_unterminated() {
        let m = mem();
        let e = walk_descs(&m, &[desc(DATA, 32, VRING_DESC_F_NEXT, 200)]).unwrap_err();
        assert_eq!(e, ChainError::Unterminated);
    }

    #[test]
    fn short_header_is_a_request_error() {
        let m = mem();
        let c = walk_descs(
            &m,
            &[
                desc(DATA, 16, VRING_DESC_F_NEXT, 1),
                desc(DATA + 64, 32, VRING_DESC_F_WRITE, 0),
            ],
        )
        .unwrap();
        assert_eq!(c.request(&m).unwrap_err(), RequestError::ShortHeader(16));
        assert!(c.can_respond());
    }

    #[test]
    fn header_split_across_descriptors_is_read_as_one_stream() {
        let m = mem();
        let hdr = ReqHeader::new(Op::Close, 0, [5, 0, 0]).as_bytes_le();
        m.write_slice(&hdr[..10], GuestAddress(DATA)).unwrap();
        m.write_slice(&hdr[10..], GuestAddress(DATA + 0x100))
            .unwrap();
        let c = walk_descs(
            &m,
            &[
                desc(DATA, 10, VRING_DESC_F_NEXT, 1),
                desc(DATA + 0x100, 22, VRING_DESC_F_NEXT, 2),
                desc(DATA + 0x200, 32, VRING_DESC_F_WRITE, 0),
            ],
        )
        .unwrap();
        assert_eq!(c.request(&m).unwrap().1, Request::Close { fd: 5 });
    }

    #[test]
    fn part_reads_and_writes_across_pieces() {
        let m = mem();
        let part = Part {
            pieces: vec![(GuestAddress(DATA), 3), (GuestAddress(DATA + 100), 5)],
            len: 8,
        };
        assert_eq!(part.write(&m, 1, b"abcdefg"), 7);
        let mut out = [0u8; 8];
        assert_eq!(part.read(&m, 0, &mut out), 8);
        assert_eq!(&out, b"\0abcdefg");
    }
}
