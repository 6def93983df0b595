//! The one thing the kernel knows about a request's buffers: [`Io`].
//!
//! A request that may block (READ, WRITE, WAIT) is held by the kernel as a
//! `Box<dyn Io>` until it can complete. In the daemon an `Io` is a descriptor
//! chain in some guest's memory (see `guest_io.rs`); for the host's standard
//! streams and in unit tests it is a plain byte buffer (`HostIo`). The kernel
//! moves bytes through this trait only, so it never touches vhost types.

use std::sync::mpsc;

use virtio_pipe_protocol::RespHeader;

/// Size of the bounce buffer used when two `Io`s cannot copy directly.
const BOUNCE: usize = 4096;

/// The payloads of one request and the way to complete it.
pub trait Io: Send {
    /// Bytes of readable payload (the data of a WRITE).
    fn readable_len(&self) -> usize;
    /// Bytes of writable payload (the buffer of a READ).
    fn writable_len(&self) -> usize;
    /// Copies readable payload bytes from `off` into `out`; returns how many.
    fn read_payload(&self, off: usize, out: &mut [u8]) -> usize;
    /// Copies `data` into the writable payload at `off`; returns how many.
    fn write_payload(&mut self, off: usize, data: &[u8]) -> usize;
    /// Copies `n` readable bytes at `src_off` straight into `dst`'s writable
    /// payload at `dst_off`. Implementations override this to copy guest
    /// memory to guest memory without a bounce buffer.
    fn copy_to(&self, src_off: usize, dst: &mut dyn Io, dst_off: usize, n: usize) -> usize {
        let mut tmp = [0u8; BOUNCE];
        let mut done = 0;
        while done < n {
            let chunk = (n - done).min(BOUNCE);
            let got = self.read_payload(src_off + done, &mut tmp[..chunk]);
            let put = dst.write_payload(dst_off + done, &tmp[..got]);
            done += put;
            if put < chunk {
                break;
            }
        }
        done
    }
    /// Direct access to guest memory, for [`Io::copy_to`] fast paths.
    fn as_guest(&mut self) -> Option<&mut crate::guest_io::GuestIo> {
        None
    }
    /// Completes the request with `resp`; `written` payload bytes were written.
    fn complete(self: Box<Self>, resp: RespHeader, written: usize);
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

    fn read_payload(&self, off: usize, out: &mut [u8]) -> usize {
        let src = self.readable.get(off..).unwrap_or(&[]);
        let n = src.len().min(out.len());
        out[..n].copy_from_slice(&src[..n]);
        n
    }

    fn write_payload(&mut self, off: usize, data: &[u8]) -> usize {
        let dst = self.writable.get_mut(off..).unwrap_or(&mut []);
        let n = dst.len().min(data.len());
        dst[..n].copy_from_slice(&data[..n]);
        n
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
    fn default_copy_to_moves_bytes_between_host_buffers() {
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
}
