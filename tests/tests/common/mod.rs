//! Helpers shared by the conformance test files (`conformance*.rs`).
//!
//! Not every file uses every helper.
#![allow(dead_code)]

pub mod files;

use std::time::{Duration, Instant};

use system_tests::frontend::{RawDesc, TestGuest, Ticket, DEADLINE};
use system_tests::tree::Tree;
use vhost_user_pipe::test_utils::Launched;
use virtio_bindings::bindings::virtio_config::VIRTIO_F_VERSION_1;
use virtio_bindings::bindings::virtio_ring::{VRING_DESC_F_NEXT, VRING_DESC_F_WRITE};
use virtio_pipe_protocol::{
    Errno, Op, ReqHeader, RespHeader, FEATURE_FORK, FEATURE_SIGNALS, FEATURE_SPAWN,
    RESP_HEADER_SIZE,
};
use vm_memory::{Bytes, GuestAddress};

/// How long a request must stay pending to count as blocked. Only a device
/// that wrongly completes a request can make a check with it fail, so a
/// short grace is safe on a loaded machine.
pub const BLOCKED: Duration = Duration::from_millis(100);

/// Start of the guest memory the hand-made chains use: above the
/// `TestGuest` arena (1 MiB + 64 slots of 1 MiB) and below its 128 MiB end.
pub const RAW: u64 = 96 << 20;

/// `VIRTIO_F_VERSION_1` alone.
pub const VERSION_1: u64 = 1 << VIRTIO_F_VERSION_1;
/// Every feature a driver of this device can negotiate.
pub const ALL_FEATURES: u64 =
    VERSION_1 | (1 << FEATURE_SPAWN) | (1 << FEATURE_SIGNALS) | (1 << FEATURE_FORK);
/// Everything but `VIRTIO_PIPE_F_SIGNALS`.
pub const NO_SIGNALS: u64 = VERSION_1 | (1 << FEATURE_SPAWN) | (1 << FEATURE_FORK);

/// Polls `cond` until it holds, or panics naming `what` at the deadline.
pub fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let until = Instant::now() + DEADLINE;
    while !cond() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Spawns image "child" from `parent` and connects a guest to it that
/// negotiates everything.
pub fn spawn_child(tree: &Tree, parent: &mut TestGuest) -> (u32, Launched, TestGuest) {
    spawn_child_with(tree, parent, ALL_FEATURES)
}

/// Spawns image "child" from `parent` and connects a guest to it that
/// negotiates `features`.
pub fn spawn_child_with(
    tree: &Tree,
    parent: &mut TestGuest,
    features: u64,
) -> (u32, Launched, TestGuest) {
    let pid = parent.spawn("child", &[b"child"], &[], &[]).unwrap();
    let (l, g) = tree.accept_child_with(features);
    assert_eq!(l.spec.pid, pid);
    (pid, l, g)
}

/// Spawns image "child" from `parent` and does not connect to it.
pub fn spawn_unconnected(tree: &Tree, parent: &mut TestGuest) -> (u32, Launched) {
    let pid = parent.spawn("child", &[b"child"], &[], &[]).unwrap();
    let l = tree.next_launch();
    (pid, l)
}

/// One request with its own status.
pub fn status(g: &mut TestGuest, op: Op, flags: u32, args: [u64; 3]) -> Result<[u64; 3], Errno> {
    g.call(op, flags, args, &[], 0).result()
}

/// WAIT with `NOHANG` for `pid` (-1: any).
pub fn wait_nohang(g: &mut TestGuest, pid: i64) -> Result<(u32, u32), Errno> {
    g.wait_child(pid, virtio_pipe_protocol::WAIT_F_NOHANG)
}

/// KILL.
pub fn kill(g: &mut TestGuest, pid: u32, signo: u32) -> Result<(), Errno> {
    status(g, Op::Kill, 0, [pid as u64, signo as u64, 0]).map(|_| ())
}

/// GET_FLAGS: (status flags, access mode).
pub fn get_flags(g: &mut TestGuest, fd: u32) -> Result<(u64, u64), Errno> {
    status(g, Op::GetFlags, 0, [fd as u64, 0, 0]).map(|r| (r[0], r[1]))
}

/// SET_FLAGS.
pub fn set_flags(g: &mut TestGuest, fd: u32, flags: u32) -> Result<(), Errno> {
    status(g, Op::SetFlags, 0, [fd as u64, flags as u64, 0]).map(|_| ())
}

/// DUP.
pub fn dup(g: &mut TestGuest, fd: u32) -> Result<u32, Errno> {
    status(g, Op::Dup, 0, [fd as u64, 0, 0]).map(|r| r[0] as u32)
}

/// DUP2.
pub fn dup2(g: &mut TestGuest, fd: u32, newfd: u32) -> Result<u32, Errno> {
    status(g, Op::Dup2, 0, [fd as u64, newfd as u64, 0]).map(|r| r[0] as u32)
}

/// A nonblocking WRITE.
pub fn write_nb(g: &mut TestGuest, fd: u32, data: &[u8]) -> Result<u64, Errno> {
    g.call(
        Op::Write,
        virtio_pipe_protocol::REQ_F_NONBLOCK,
        [fd as u64, 0, 0],
        data,
        0,
    )
    .result()
    .map(|r| r[0])
}

/// A nonblocking READ of up to `len` bytes.
pub fn read_nb(g: &mut TestGuest, fd: u32, len: usize) -> Result<Vec<u8>, Errno> {
    let d = g.call(
        Op::Read,
        virtio_pipe_protocol::REQ_F_NONBLOCK,
        [fd as u64, 0, 0],
        &[],
        len,
    );
    d.result().map(|_| d.data)
}

/// Reads until `n` bytes have come (blocking reads of up to `chunk`).
pub fn read_exact(g: &mut TestGuest, fd: u32, n: usize, chunk: usize) -> Vec<u8> {
    let mut got = Vec::new();
    while got.len() < n {
        let want = chunk.min(n - got.len());
        let d = g.call(Op::Read, 0, [fd as u64, 0, 0], &[], want);
        assert!(
            d.result().is_ok() && !d.data.is_empty(),
            "unexpected EOF after {} bytes: {d:?}",
            got.len()
        );
        got.extend(d.data);
    }
    got
}

/// A hand-made request: its ticket and its device-writable descriptors.
#[derive(Debug)]
pub struct Raw {
    /// The request.
    pub ticket: Ticket,
    /// (address, length) of each device-writable descriptor, in order.
    pub writable: Vec<(u64, u32)>,
}

/// Submits a request on `requestq` whose readable part is the descriptors
/// `readable` (each its own descriptor) and whose writable part is
/// descriptors of the lengths `writable`, laid out from `base` and
/// prefilled with `fill`.
pub fn submit_pieces(
    g: &mut TestGuest,
    base: u64,
    readable: &[&[u8]],
    writable: &[u32],
    fill: u8,
) -> Raw {
    let mut at = base;
    let mut descs = Vec::new();
    for piece in readable {
        g.mem.write_slice(piece, GuestAddress(at)).unwrap();
        descs.push(RawDesc {
            addr: at,
            len: piece.len() as u32,
            flags: VRING_DESC_F_NEXT as u16,
            next: 0,
        });
        at += piece.len() as u64 + 64;
    }
    let mut out = Vec::new();
    for &len in writable {
        g.mem
            .write_slice(&vec![fill; len as usize], GuestAddress(at))
            .unwrap();
        descs.push(RawDesc {
            addr: at,
            len,
            flags: (VRING_DESC_F_WRITE | VRING_DESC_F_NEXT) as u16,
            next: 0,
        });
        out.push((at, len));
        at += len as u64 + 64;
    }
    if let Some(last) = descs.last_mut() {
        last.flags &= !(VRING_DESC_F_NEXT as u16);
    }
    let ticket = g.submit_raw(0, &descs, false);
    Raw {
        ticket,
        writable: out,
    }
}

/// The bytes of `pieces` of guest memory, concatenated.
pub fn read_pieces(g: &TestGuest, pieces: &[(u64, u32)]) -> Vec<u8> {
    let mut out = Vec::new();
    for &(addr, len) in pieces {
        let mut buf = vec![0u8; len as usize];
        g.mem.read_slice(&mut buf, GuestAddress(addr)).unwrap();
        out.extend(buf);
    }
    out
}

/// Guest memory at `addr`, `len` bytes.
pub fn peek(g: &TestGuest, addr: u64, len: usize) -> Vec<u8> {
    let mut buf = vec![0u8; len];
    g.mem.read_slice(&mut buf, GuestAddress(addr)).unwrap();
    buf
}

/// Submits `hdr` + `payload` with a single writable descriptor of
/// 32 + `out` bytes prefilled with 0xff, waits, and returns the used length
/// and the whole writable descriptor as the device left it.
pub fn call_prefilled(
    g: &mut TestGuest,
    hdr: ReqHeader,
    payload: &[u8],
    out: usize,
) -> (u32, Vec<u8>) {
    let mut req = hdr.as_bytes_le().to_vec();
    req.extend_from_slice(payload);
    let raw = submit_pieces(g, RAW, &[&req], &[(RESP_HEADER_SIZE + out) as u32], 0xff);
    let d = g.wait(raw.ticket);
    (d.used, read_pieces(g, &raw.writable))
}

/// The response header at the start of `bytes`.
pub fn resp(bytes: &[u8]) -> RespHeader {
    RespHeader::parse(bytes).unwrap()
}
