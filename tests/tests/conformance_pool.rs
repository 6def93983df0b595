//! Conformance: the pool of parked VMs at the protocol level (spec 1.6.12,
//! START's land answer; 1.6.15, FORK into a parked VM). Model guests stand
//! for the parked VMs: each `START` a pool VM submits is held; a SPAWN takes
//! one and answers it fresh; a FORK with a mailbox answers another "land",
//! writes nothing into it until its driver has landed, then gives it the
//! parent's RAM with the mailbox word last.

mod common;

use std::time::Instant;

use common::{status, ALL_FEATURES, BLOCKED};
use system_tests::frontend::{TestGuest, Ticket, DEADLINE};
use system_tests::tree::Tree;
use vhost_user_pipe::test_utils::Launched;
use virtio_pipe_protocol::{Op, ReqHeader, FORK_LANDED_MAGIC};
use vm_memory::{Bytes, GuestAddress};

/// Where the parent's resume record is (any address inside its RAM).
const RECORD_AT: u64 = 72 << 20;
/// The mailbox page (the guest kernel's is the page after its image).
const MAILBOX_AT: u64 = 0x19_9000;
/// A region the parent fills before it forks.
const DATA_AT: u64 = 40 << 20;
/// A region only the parked VM has written: a hole in the parent.
const STALE_AT: u64 = 96 << 20;

/// Accepts the pool's next VM and submits its `START`, which the device
/// holds: the VM is parked.
fn park(tree: &Tree) -> (Launched, TestGuest, Ticket) {
    let (l, mut g) = tree.accept_child_with(ALL_FEATURES);
    assert!(l.spec.pid >= 1 << 30, "a pool VM has a VM id, not a pid");
    let t = g.submit(ReqHeader::new(Op::Start, 0, [0; 3]), &[], 0);
    g.assert_pending(t, BLOCKED);
    (l, g, t)
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + (i >> 12)) as u8).collect()
}

// spec: dev-start-kind
#[test]
fn a_spawn_takes_a_parked_vm_whose_held_start_answers_fresh_for_the_child() {
    let tree = Tree::with_pool(1);
    let mut root = tree.root();
    let (_l, mut p, t) = park(&tree);
    let pid = root
        .spawn("child", &[b"child", b"x y"], &[b"A=1"], &[])
        .unwrap();
    assert_eq!(p.wait(t).result().unwrap(), [0, 0, 0o022], "fresh");
    assert_eq!(p.getpid(), (pid, 1));
    let args = p.get_args(4096).unwrap();
    assert_eq!(args.0, [b"child".to_vec(), b"x y".to_vec()]);
    assert_eq!(args.1, [b"A=1".to_vec()]);
    // No VM was launched for the child; the next launch refills the pool.
    let next = tree.next_launch();
    assert!(next.spec.pid >= 1 << 30, "{:?}", next.spec);
}

// spec: dev-start-land, dev-fork-land, drv-start-land
#[test]
fn a_fork_lands_in_a_parked_vm_that_gets_the_parents_ram_with_the_mailbox_word_last() {
    let tree = Tree::with_pool(1);
    let mut root = tree.root();
    // The parent: a spawned child, itself in a parked VM (its image is the
    // process kernel's), then the pool's refill parks the next VM.
    let (_l0, mut c, t0) = park(&tree);
    let cpid = root.spawn("child", &[b"child"], &[], &[]).unwrap();
    assert_eq!(c.wait(t0).result().unwrap(), [0, 0, 0o022]);
    let (_l1, mut v, t1) = park(&tree);
    v.mem
        .write_slice(&[0xAA; 4096], GuestAddress(STALE_AT))
        .unwrap();
    // The parent's RAM: data, and a published mailbox (`drv-fork-mailbox`:
    // nonzero, not the landed magic).
    let data = pattern(256 << 10);
    c.mem.write_slice(&data, GuestAddress(DATA_AT)).unwrap();
    c.mem
        .write_obj(0x5354_4f50_5550_u64, GuestAddress(MAILBOX_AT))
        .unwrap();
    let fork = status(&mut c, Op::Fork, 0, [RECORD_AT, MAILBOX_AT, 0]).unwrap();
    let child = fork[0] as u32;
    // The parked VM is told to land; nothing is written into it before it
    // has (the parent's data is not there yet, its own junk is).
    assert_eq!(v.wait(t1).result().unwrap(), [2, 0, 0], "land");
    std::thread::sleep(BLOCKED);
    let mut stale = [0u8; 4096];
    v.mem
        .read_slice(&mut stale, GuestAddress(STALE_AT))
        .unwrap();
    assert_eq!(stale, [0xAA; 4096], "untouched before it landed");
    let mut got = vec![0u8; data.len()];
    v.mem.read_slice(&mut got, GuestAddress(DATA_AT)).unwrap();
    assert!(got.iter().all(|&b| b == 0), "no copy before it landed");
    // The driver lands: its device reset, then the landed word.
    v.reset();
    v.mem
        .write_obj(FORK_LANDED_MAGIC, GuestAddress(MAILBOX_AT))
        .unwrap();
    // The copy comes, the mailbox word last: once it is the parent's, the
    // rest is there.
    let until = Instant::now() + DEADLINE;
    while v.mem.read_obj::<u64>(GuestAddress(MAILBOX_AT)).unwrap() != 0x5354_4f50_5550 {
        assert!(Instant::now() < until, "the mailbox word never came");
        std::thread::yield_now();
    }
    v.mem.read_slice(&mut got, GuestAddress(DATA_AT)).unwrap();
    assert!(got == data, "the parent's data");
    v.mem
        .read_slice(&mut stale, GuestAddress(STALE_AT))
        .unwrap();
    assert_eq!(stale, [0; 4096], "a hole in the parent reads as zeroes");
    // Resumed from the record, the child brings its device up from reset
    // (the copy brought the parent's rings) and starts as a fork child.
    v.reset();
    assert_eq!(
        status(&mut v, Op::Start, 0, [0; 3]).unwrap(),
        [1, RECORD_AT, 0o022]
    );
    assert_eq!(v.getpid(), (child, cpid));
}
