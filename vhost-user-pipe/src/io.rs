//! The one thing the kernel knows about a request's buffers: [`Io`].
//!
//! A request that may block (READ, WRITE, WAIT) is held by the kernel as a
//! `Box<dyn Io>` until it can complete. In the daemon an `Io` is a descriptor
//! chain in some guest's memory (`guest_io.rs`); for the host's standard
//! streams and in unit tests it is a plain byte buffer ([`HostIo`]). The
//! kernel moves bytes through this trait only, so it never touches vhost
//! types.
//!
//! Both kinds hand their memory out as [`VolatileSlice`]s (guest memory is
//! shared with the guest, so never a plain `&mut [u8]`): a copy from one
//! `Io` to another goes straight from the source's memory into the
//! destination's, guest to guest included, with no bounce buffer and
//! without either side knowing what the other is.

use std::sync::mpsc;

use virtio_pipe_protocol::{Errno, RespHeader};
use vm_memory::VolatileSlice;

/// Receives one piece of a writable payload and returns how many bytes it
/// wrote into it (fewer than the piece holds stops the walk).
pub type Fill<'f> = dyn FnMut(&VolatileSlice<'_>) -> usize + 'f;

/// The payloads of one request and the way to complete it.
pub trait Io: Send {
    /// Bytes of readable payload (the data of a WRITE).
    fn readable_len(&self) -> usize;
    /// Bytes of writable payload (the buffer of a READ).
    fn writable_len(&self) -> usize;
    /// Copies readable payload bytes from `off` into `dst` (as many as fit);
    /// returns how many.
    fn read_into(&self, off: usize, dst: &VolatileSlice<'_>) -> usize;
    /// Hands the writable payload from `off`, at most `n` bytes of it, to
    /// `fill` one contiguous piece at a time; returns the bytes filled.
    fn fill_writable(&mut self, off: usize, n: usize, fill: &mut Fill<'_>) -> usize;
    /// Completes the request with `resp`; `written` payload bytes were written.
    fn complete(self: Box<Self>, resp: RespHeader, written: usize);

    /// Copies readable payload bytes from `off` into `out`; returns how many.
    fn read_payload(&self, off: usize, out: &mut [u8]) -> usize {
        self.read_into(off, &VolatileSlice::from(out))
    }

    /// The first `len` bytes of the readable payload, a blob of at most
    /// `max` bytes (`SPAWN`, `EXEC`, a path): `E2BIG` beyond `max`, `EFAULT`
    /// when the payload holds fewer.
    fn read_blob(&self, len: usize, max: usize) -> Result<Vec<u8>, Errno> {
        if len > max {
            return Err(Errno::E2big);
        }
        let mut buf = vec![0u8; len];
        if self.read_payload(0, &mut buf) != len {
            return Err(Errno::Efault);
        }
        Ok(buf)
    }

    /// Copies `data` into the writable payload at `off`; returns how many.
    fn write_payload(&mut self, off: usize, data: &[u8]) -> usize {
        let mut done = 0;
        self.fill_writable(off, data.len(), &mut |piece| {
            let n = piece.len().min(data.len() - done);
            piece.copy_from(&data[done..done + n]);
            done += n;
            n
        })
    }

    /// Copies `n` readable bytes at `src_off` straight into `dst`'s
    /// writable payload at `dst_off`; returns how many.
    fn copy_to(&self, src_off: usize, dst: &mut dyn Io, dst_off: usize, n: usize) -> usize {
        let n = n.min(self.readable_len().saturating_sub(src_off));
        let mut done = 0;
        dst.fill_writable(dst_off, n, &mut |piece| {
            let got = self.read_into(src_off + done, piece);
            done += got;
            got
        })
    }
}

/// What a completed [`HostIo`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostCompletion {
    /// The response header.
    pub resp: RespHeader,
    /// The writable payload, truncated to the bytes written.
    pub data: Vec<u8>,
}

/// An `Io` backed by host memory; completion goes to a channel.
#[derive(Debug)]
pub struct HostIo {
    readable: Vec<u8>,
    writable: Vec<u8>,
    done: mpsc::Sender<HostCompletion>,
}

impl HostIo {
    /// A request carrying `readable` bytes and room for `writable_len` bytes.
    pub fn new(readable: Vec<u8>, writable_len: usize) -> (Self, mpsc::Receiver<HostCompletion>) {
        let (tx, rx) = mpsc::channel();
        (
            Self {
                readable,
                writable: vec![0; writable_len],
                done: tx,
            },
            rx,
        )
    }

    /// Boxed, as the kernel takes it.
    pub fn boxed(
        readable: Vec<u8>,
        writable_len: usize,
    ) -> (Box<dyn Io>, mpsc::Receiver<HostCompletion>) {
        let (io, rx) = Self::new(readable, writable_len);
        (Box::new(io), rx)
    }
}

impl Io for HostIo {
    fn readable_len(&self) -> usize {
        self.readable.len()
    }

    fn writable_len(&self) -> usize {
        self.writable.len()
    }

    fn read_into(&self, off: usize, dst: &VolatileSlice<'_>) -> usize {
        let src = self.readable.get(off..).unwrap_or(&[]);
        let n = src.len().min(dst.len());
        dst.copy_from(&src[..n]);
        n
    }

    fn fill_writable(&mut self, off: usize, n: usize, fill: &mut Fill<'_>) -> usize {
        let dst = self.writable.get_mut(off..).unwrap_or(&mut []);
        let n = dst.len().min(n);
        fill(&VolatileSlice::from(&mut dst[..n]))
    }

    fn complete(self: Box<Self>, resp: RespHeader, written: usize) {
        let mut data = self.writable;
        data.truncate(written);
        // The receiver may be gone (its owner stopped waiting); nothing to do then.
        let _ = self.done.send(HostCompletion { resp, data });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_to_moves_bytes_between_host_buffers() {
        let (src, _rx1) = HostIo::new(b"hello world".to_vec(), 0);
        let (mut dst, rx2) = HostIo::new(Vec::new(), 8);
        assert_eq!(src.copy_to(6, &mut dst, 1, 5), 5);
        Box::new(dst).complete(RespHeader::ok([5, 0, 0]), 6);
        assert_eq!(rx2.recv().unwrap().data, b"\0world");
    }

    #[test]
    fn copy_to_stops_at_the_destination_end() {
        let (src, _rx1) = HostIo::new(vec![7; 100], 0);
        let (mut dst, _rx2) = HostIo::new(Vec::new(), 10);
        assert_eq!(src.copy_to(0, &mut dst, 0, 100), 10);
    }

    #[test]
    fn copy_to_stops_at_the_source_end() {
        let (src, _rx1) = HostIo::new(vec![7; 4], 0);
        let (mut dst, _rx2) = HostIo::new(Vec::new(), 10);
        assert_eq!(src.copy_to(1, &mut dst, 0, 10), 3);
    }

    #[test]
    fn payload_reads_and_writes_clip_to_the_buffers() {
        let (mut io, rx) = HostIo::new(b"abc".to_vec(), 4);
        let mut out = [0u8; 8];
        assert_eq!(io.read_payload(1, &mut out), 2);
        assert_eq!(&out[..2], b"bc");
        assert_eq!(io.write_payload(2, b"xyz"), 2);
        Box::new(io).complete(RespHeader::ok([0; 3]), 4);
        assert_eq!(rx.recv().unwrap().data, b"\0\0xy");
    }
}
