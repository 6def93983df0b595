//! Device conformance tests: malformed descriptor chains (spec 1.9). Each
//! malformed chain must be answered with `EINVAL` in the first 32 bytes of
//! its writable part (used length 32) when that part can hold a response,
//! else returned with used length 0 and nothing written; never a panic, and
//! the daemon keeps serving. Each test cites the statements it checks
//! (`spec: label`).

mod common;

use common::*;
use system_tests::frontend::{RawDesc, TestGuest, MEM_SIZE};
use system_tests::tree::Tree;
use virtio_bindings::bindings::virtio_ring::{
    VIRTIO_RING_F_INDIRECT_DESC, VRING_DESC_F_INDIRECT, VRING_DESC_F_NEXT, VRING_DESC_F_WRITE,
};
use virtio_pipe_protocol::{Errno, Op, ReqHeader, REQ_F_NONBLOCK};
use vm_memory::{Bytes, GuestAddress};

const R: u16 = VRING_DESC_F_NEXT as u16;
const W: u16 = (VRING_DESC_F_WRITE | VRING_DESC_F_NEXT) as u16;

/// Bytes the device may not touch are prefilled with this.
const FILL: u8 = 0xab;

fn getpid_hdr() -> [u8; 32] {
    ReqHeader::new(Op::GetPid, 0, [0; 3]).as_bytes_le()
}

/// A descriptor over `len` bytes at `addr`, prefilled with `FILL` when it
/// is inside guest memory.
fn desc(g: &mut TestGuest, addr: u64, len: u32, flags: u16) -> RawDesc {
    if addr + len as u64 <= MEM_SIZE as u64 {
        g.mem
            .write_slice(&vec![FILL; len as usize], GuestAddress(addr))
            .unwrap();
    }
    RawDesc {
        addr,
        len,
        flags,
        next: 0,
    }
}

/// A readable descriptor holding `bytes` at `addr`.
fn data(g: &mut TestGuest, addr: u64, bytes: &[u8]) -> RawDesc {
    g.mem.write_slice(bytes, GuestAddress(addr)).unwrap();
    RawDesc {
        addr,
        len: bytes.len() as u32,
        flags: R,
        next: 0,
    }
}

/// Submits `descs` (the last one's NEXT flag is cleared), waits, and
/// returns the used length.
fn submit(g: &mut TestGuest, mut descs: Vec<RawDesc>) -> u32 {
    if let Some(last) = descs.last_mut() {
        last.flags &= !(VRING_DESC_F_NEXT as u16);
    }
    let t = g.submit_raw(0, &descs, false);
    g.wait(t).used
}

/// Asserts that a status `EINVAL` response is in guest memory at `addr`.
fn assert_einval_at(g: &TestGuest, addr: u64) {
    let r = resp(&peek(g, addr, 32));
    assert_eq!(r.result(), Err(Errno::Einval));
    assert_eq!(
        (r.reserved.get(), r.ret(0), r.ret(1), r.ret(2)),
        (0, 0, 0, 0)
    );
}

fn assert_untouched(g: &TestGuest, addr: u64, len: usize) {
    assert!(
        peek(g, addr, len).iter().all(|&b| b == FILL),
        "{len} bytes at {addr:#x} must be untouched"
    );
}

/// The device still serves this guest.
fn assert_serving(g: &mut TestGuest) {
    let pid = g.getpid().0;
    assert_eq!(g.getpid().0, pid);
}

// spec: dev-chain-answer
#[test]
fn short_request_header_is_einval_with_used_length_32() {
    let tree = Tree::new();
    let mut root = tree.root();
    let hdr = getpid_hdr();
    let d = vec![
        data(&mut root, RAW, &hdr[..16]),
        desc(&mut root, RAW + 0x100, 32, W),
    ];
    assert_eq!(submit(&mut root, d), 32);
    assert_einval_at(&root, RAW + 0x100);
    // 31 bytes across two descriptors.
    let d = vec![
        data(&mut root, RAW, &hdr[..20]),
        data(&mut root, RAW + 0x40, &hdr[20..31]),
        desc(&mut root, RAW + 0x100, 32, W),
    ];
    assert_eq!(submit(&mut root, d), 32);
    assert_einval_at(&root, RAW + 0x100);
    // No readable part at all.
    let d = vec![desc(&mut root, RAW + 0x100, 40, W)];
    assert_eq!(submit(&mut root, d), 32);
    assert_einval_at(&root, RAW + 0x100);
    assert_untouched(&root, RAW + 0x120, 8);
    assert_serving(&mut root);
}

// spec: dev-chain-answer
#[test]
fn writable_part_under_32_bytes_is_returned_unused_and_untouched() {
    let tree = Tree::new();
    let mut root = tree.root();
    let hdr = getpid_hdr();
    let d = vec![
        data(&mut root, RAW, &hdr),
        desc(&mut root, RAW + 0x100, 31, W),
    ];
    assert_eq!(submit(&mut root, d), 0);
    assert_untouched(&root, RAW + 0x100, 31);
    let d = vec![
        data(&mut root, RAW, &hdr),
        desc(&mut root, RAW + 0x100, 16, W),
        desc(&mut root, RAW + 0x200, 15, W),
    ];
    assert_eq!(submit(&mut root, d), 0);
    assert_untouched(&root, RAW + 0x100, 16);
    assert_untouched(&root, RAW + 0x200, 15);
    assert_serving(&mut root);
}

// spec: dev-chain-answer, dev-chain-validate
#[test]
fn chain_without_a_writable_part_is_returned_unused_with_no_effect() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    let d = vec![data(&mut root, RAW, &getpid_hdr())];
    assert_eq!(submit(&mut root, d), 0);
    let hdr = ReqHeader::new(Op::Write, 0, [w as u64, 0, 0]).as_bytes_le();
    let d = vec![
        data(&mut root, RAW, &hdr),
        data(&mut root, RAW + 0x100, b"lost"),
    ];
    assert_eq!(submit(&mut root, d), 0);
    assert_eq!(
        read_nb(&mut root, r, 8),
        Err(Errno::Eagain),
        "the WRITE had no effect"
    );
}

// spec: dev-chain-answer
#[test]
fn readable_descriptor_after_a_writable_one_is_einval() {
    let tree = Tree::new();
    let mut root = tree.root();
    let hdr = getpid_hdr();
    let d = vec![
        data(&mut root, RAW, &hdr),
        desc(&mut root, RAW + 0x100, 32, W),
        data(&mut root, RAW + 0x200, b"trailing"),
    ];
    assert_eq!(submit(&mut root, d), 32);
    assert_einval_at(&root, RAW + 0x100);
    // An empty writable descriptor before a readable one counts too.
    let (r, w) = root.pipe(0).unwrap();
    let write = ReqHeader::new(Op::Write, 0, [w as u64, 0, 0]).as_bytes_le();
    let d = vec![
        data(&mut root, RAW, &write),
        desc(&mut root, RAW + 0x300, 0, W),
        data(&mut root, RAW + 0x200, b"data"),
        desc(&mut root, RAW + 0x100, 32, W),
    ];
    assert_eq!(submit(&mut root, d), 32);
    assert_einval_at(&root, RAW + 0x100);
    assert_eq!(
        read_nb(&mut root, r, 8),
        Err(Errno::Eagain),
        "nothing written"
    );
    // The writable part is the writable descriptors in chain order.
    let d = vec![
        desc(&mut root, RAW + 0x100, 20, W),
        data(&mut root, RAW, &hdr),
        desc(&mut root, RAW + 0x400, 12, W),
    ];
    assert_eq!(submit(&mut root, d), 32);
    let mut out = peek(&root, RAW + 0x100, 20);
    out.extend(peek(&root, RAW + 0x400, 12));
    assert_eq!(resp(&out).result(), Err(Errno::Einval));
    assert_serving(&mut root);
}

// spec: dev-chain-answer
#[test]
fn descriptor_outside_guest_memory_gets_einval_or_used_length_0() {
    let tree = Tree::new();
    let mut root = tree.root();
    let end = MEM_SIZE as u64;
    for addr in [end - 16, end, 1 << 40, u64::MAX - 8] {
        let d = vec![
            RawDesc {
                addr,
                len: 32,
                flags: R,
                next: 0,
            },
            desc(&mut root, RAW + 0x100, 32, W),
        ];
        assert_eq!(submit(&mut root, d), 32, "readable at {addr:#x}");
        assert_einval_at(&root, RAW + 0x100);
        // A writable descriptor outside: no part to answer in.
        let hdr = getpid_hdr();
        let d = vec![
            data(&mut root, RAW, &hdr),
            desc(&mut root, RAW + 0x100, 32, W),
            RawDesc {
                addr,
                len: 32,
                flags: W,
                next: 0,
            },
        ];
        assert_eq!(submit(&mut root, d), 0, "writable at {addr:#x}");
        assert_untouched(&root, RAW + 0x100, 32);
    }
    assert_serving(&mut root);
}

// spec: dev-chain-answer
#[test]
fn looping_chain_is_returned_with_used_length_0() {
    let tree = Tree::new();
    let mut root = tree.root();
    let idx = root.next_free(0, 2);
    let mut a = data(&mut root, RAW, &getpid_hdr());
    a.next = idx[1];
    let mut b = desc(&mut root, RAW + 0x100, 32, W);
    b.next = idx[0];
    let t = root.submit_raw(0, &[a, b], true);
    assert_eq!(root.wait(t).used, 0);
    assert_untouched(&root, RAW + 0x100, 32);
    let idx = root.next_free(0, 1);
    let mut a = data(&mut root, RAW, &getpid_hdr());
    a.next = idx[0];
    let t = root.submit_raw(0, &[a], true);
    assert_eq!(root.wait(t).used, 0, "a descriptor that is its own next");
    assert_serving(&mut root);
}

// spec: dev-chain-answer
#[test]
fn next_index_beyond_the_queue_is_returned_with_used_length_0() {
    let tree = Tree::new();
    let mut root = tree.root();
    for next in [64, 200, u16::MAX] {
        let idx = root.next_free(0, 2);
        let mut a = data(&mut root, RAW, &getpid_hdr());
        a.next = idx[1];
        let mut b = desc(&mut root, RAW + 0x100, 32, W);
        b.next = next;
        let t = root.submit_raw(0, &[a, b], true);
        assert_eq!(root.wait(t).used, 0, "next {next}");
        assert_untouched(&root, RAW + 0x100, 32);
    }
    assert_serving(&mut root);
}

// spec: dev-chain-validate
#[test]
fn malformed_write_is_checked_before_any_data_moves() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    let (_pid, _l, mut c) = spawn_child(&tree, &mut root);
    let reader = c.submit_read(r, 16, 0);
    tree.wait_for("the child's read to block", |s| s.waiting == 1);
    let hdr = ReqHeader::new(Op::Write, 0, [w as u64, 0, 0]).as_bytes_le();
    let d = vec![
        data(&mut root, RAW, &hdr),
        data(&mut root, RAW + 0x40, b"must not leak"),
        desc(&mut root, RAW + 0x100, 32, W),
        data(&mut root, RAW + 0x200, b"x"),
    ];
    assert_eq!(submit(&mut root, d), 32);
    assert_einval_at(&root, RAW + 0x100);
    c.assert_pending(reader, BLOCKED);
    assert_eq!(tree.sup.stats().buffered, 0);
    root.write(w, b"good").unwrap();
    assert_eq!(c.wait(reader).data, b"good");
}

// spec: dev-chain-validate
#[test]
fn malformed_read_consumes_nothing_and_writes_only_the_status() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    root.write(w, b"secret").unwrap();
    let hdr = ReqHeader::new(Op::Read, REQ_F_NONBLOCK, [r as u64, 0, 0]).as_bytes_le();
    let d = vec![
        data(&mut root, RAW, &hdr),
        desc(&mut root, RAW + 0x100, 64, W),
        RawDesc {
            addr: MEM_SIZE as u64,
            len: 8,
            flags: W,
            next: 0,
        },
    ];
    assert_eq!(
        submit(&mut root, d),
        0,
        "a writable descriptor outside memory"
    );
    assert_untouched(&root, RAW + 0x100, 64);
    let d = vec![
        data(&mut root, RAW, &hdr),
        desc(&mut root, RAW + 0x100, 64, W),
        data(&mut root, RAW + 0x200, b"x"),
    ];
    assert_eq!(submit(&mut root, d), 32);
    assert_einval_at(&root, RAW + 0x100);
    assert_untouched(&root, RAW + 0x120, 32);
    assert_eq!(tree.sup.stats().buffered, 6);
    assert_eq!(root.read(r, 10).unwrap(), b"secret");
}

// spec: dev-chain-isolation
#[test]
fn malformed_chains_leave_other_requests_and_processes_served() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    let (pid, _l, mut c) = spawn_child(&tree, &mut root);
    let pending = root.submit_read(r, 8, 0);
    root.assert_pending(pending, BLOCKED);
    let hdr = getpid_hdr();
    for _ in 0..3 {
        let d = vec![
            data(&mut root, RAW, &hdr[..8]),
            desc(&mut root, RAW + 0x100, 32, W),
        ];
        assert_eq!(submit(&mut root, d), 32);
        let d = vec![
            data(&mut root, RAW, &hdr),
            desc(&mut root, RAW + 0x100, 8, W),
        ];
        assert_eq!(submit(&mut root, d), 0);
        let idx = root.next_free(0, 1);
        let mut a = data(&mut root, RAW, &hdr);
        a.next = idx[0];
        let t = root.submit_raw(0, &[a], true);
        assert_eq!(root.wait(t).used, 0);
        assert_eq!(c.getpid(), (pid, 1), "other processes are served");
    }
    root.assert_pending(pending, BLOCKED);
    c.write(w, b"fine").unwrap();
    assert_eq!(
        root.wait(pending).data,
        b"fine",
        "the earlier request is intact"
    );
    assert_eq!(root.getpid(), (1, 0));
}

// spec: dev-chain-isolation
#[test]
fn head_index_beyond_the_queue_affects_at_most_that_queue_until_reset() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (pid, _l, mut c) = spawn_child(&tree, &mut root);
    c.push_avail(0, 200);
    c.push_avail(0, u16::MAX);
    assert_eq!(root.getpid(), (1, 0), "other processes are served");
    c.reset();
    assert_eq!(c.getpid(), (pid, 1), "served again after a reset");
    assert_eq!(wait_nohang(&mut root, pid as i64), Ok((0, 0)), "still live");
}

// spec: dev-req-invalid, dev-read-available
#[test]
fn buffers_larger_than_16_mib_are_served_not_rejected() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    root.write(w, &[5; 100]).unwrap();
    let hdr = ReqHeader::new(Op::Read, 0, [r as u64, 0, 0]).as_bytes_le();
    let raw = submit_pieces(&mut root, RAW, &[&hdr], &[20 << 20], 0);
    let d = root.wait(raw.ticket);
    assert_eq!((d.resp.result(), d.used), (Ok(()), 132));
    let hdr = ReqHeader::new(Op::Write, REQ_F_NONBLOCK, [w as u64, 0, 0]).as_bytes_le();
    let big = vec![6u8; 17 << 20];
    let raw = submit_pieces(&mut root, RAW, &[&hdr, &big], &[32], 0);
    let d = root.wait(raw.ticket);
    assert_eq!(
        d.result(),
        Ok([65_536, 0, 0]),
        "a partial nonblocking write"
    );
}

/// Writes an indirect table at `table` holding a GETPID request (header at
/// `RAW`, response at `RAW + 0x100`) and returns the one main-table
/// descriptor that points to it.
fn indirect_getpid(g: &mut TestGuest, table: u64) -> RawDesc {
    g.mem.write_slice(&getpid_hdr(), GuestAddress(RAW)).unwrap();
    g.mem
        .write_slice(&[FILL; 32], GuestAddress(RAW + 0x100))
        .unwrap();
    let entries: [(u64, u32, u16, u16); 2] = [
        (RAW, 32, R, 1),
        (RAW + 0x100, 32, VRING_DESC_F_WRITE as u16, 0),
    ];
    for (i, (addr, len, flags, next)) in entries.into_iter().enumerate() {
        let at = table + 16 * i as u64;
        g.mem.write_obj(addr, GuestAddress(at)).unwrap();
        g.mem.write_obj(len, GuestAddress(at + 8)).unwrap();
        g.mem.write_obj(flags, GuestAddress(at + 12)).unwrap();
        g.mem.write_obj(next, GuestAddress(at + 14)).unwrap();
    }
    RawDesc {
        addr: table,
        len: 32,
        flags: VRING_DESC_F_INDIRECT as u16,
        next: 0,
    }
}

// spec: dev-chain-answer
#[test]
fn indirect_table_without_the_indirect_feature_is_returned_with_used_length_0() {
    let tree = Tree::new();
    let mut root = tree.root();
    assert_eq!(root.features & (1 << VIRTIO_RING_F_INDIRECT_DESC), 0);
    let d = indirect_getpid(&mut root, RAW + 0x1000);
    let t = root.submit_raw(0, &[d], false);
    assert_eq!(root.wait(t).used, 0);
    assert_untouched(&root, RAW + 0x100, 32);
    assert_serving(&mut root);
}

#[test]
fn indirect_table_with_the_indirect_feature_is_served() {
    let tree = Tree::new();
    let features = (1 << 32) | (1 << VIRTIO_RING_F_INDIRECT_DESC);
    let mut root = tree.root_connect(vec![b"root".to_vec()], vec![], |s| {
        TestGuest::connect_with(s, features)
    });
    assert_ne!(root.features & (1 << VIRTIO_RING_F_INDIRECT_DESC), 0);
    let d = indirect_getpid(&mut root, RAW + 0x1000);
    let t = root.submit_raw(0, &[d], false);
    assert_eq!(root.wait(t).used, 32);
    let r = resp(&peek(&root, RAW + 0x100, 32));
    assert_eq!((r.result(), r.ret(0)), (Ok(()), 1));
}
