//! Device conformance tests: `INTERRUPT` (spec 1.6.24), the driver's way to
//! end its blocked requests when a signal or a timeout of its own says so.
//! Each test cites the statements it checks (`spec: label`).

mod common;

use common::*;
use system_tests::frontend::TestGuest;
use system_tests::tree::Tree;
use vhost_user_pipe::Limits;
use virtio_pipe_protocol::{Errno, Op, ReqHeader, PIPE_BUF};

fn interrupt(g: &mut TestGuest) -> u64 {
    g.call(Op::Interrupt, 0, [0; 3], &[], 0).result().unwrap()[0]
}

// spec: dev-interrupt
#[test]
fn interrupt_ends_a_blocked_read_with_eintr_and_nothing_else() {
    let tree = Tree::new();
    let mut root = tree.root();
    assert_eq!(interrupt(&mut root), 0, "nothing blocked: nothing ended");
    let (r, w) = root.pipe(0).unwrap();
    let t = root.submit_read(r, 10, 0);
    root.assert_pending(t, BLOCKED);
    assert_eq!(interrupt(&mut root), 1);
    let d = root.wait(t);
    assert_eq!((d.result(), d.used), (Err(Errno::Eintr), 32));
    // The pipe is as it was: the next write is read whole.
    root.write(w, b"later").unwrap();
    assert_eq!(root.read(r, 10).unwrap(), b"later");
    assert_eq!(tree.sup.stats().waiting, 0);
}

// spec: dev-interrupt
#[test]
fn an_interrupted_write_returns_the_bytes_it_moved_and_keeps_them() {
    let cap = 2 * PIPE_BUF;
    let tree = Tree::with_limits(Limits {
        pipe_capacity: cap,
        ..Limits::default()
    });
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    let data: Vec<u8> = (0..cap + 1000).map(|i| (i % 251) as u8).collect();
    let t = root.submit_write(w, &data, 0);
    root.assert_pending(t, BLOCKED);
    assert_eq!(interrupt(&mut root), 1);
    assert_eq!(
        root.wait(t).result(),
        Ok([cap as u64, 0, 0]),
        "partial count"
    );
    assert_eq!(read_exact(&mut root, r, cap, cap), &data[..cap]);
    assert_eq!(read_nb(&mut root, r, 10), Err(Errno::Eagain), "no more");
}

// spec: dev-interrupt
#[test]
fn an_interrupted_small_write_moves_nothing() {
    let tree = Tree::with_limits(Limits {
        pipe_capacity: PIPE_BUF,
        ..Limits::default()
    });
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    root.write(w, &[1u8; PIPE_BUF - 10]).unwrap();
    // 20 bytes are atomic: they wait for room for all 20.
    let t = root.submit_write(w, &[2u8; 20], 0);
    root.assert_pending(t, BLOCKED);
    assert_eq!(interrupt(&mut root), 1);
    assert_eq!(root.wait(t).result(), Err(Errno::Eintr));
    let got = read_exact(&mut root, r, PIPE_BUF - 10, PIPE_BUF);
    assert!(got.iter().all(|&b| b == 1), "none of the 20 bytes went in");
    assert_eq!(read_nb(&mut root, r, 10), Err(Errno::Eagain));
}

// spec: dev-interrupt
#[test]
fn an_interrupted_wait_reaps_nothing_and_other_processes_keep_waiting() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (pid, _l, mut child) = spawn_child(&tree, &mut root);
    let wait = ReqHeader::new(Op::Wait, 0, [pid as u64, 0, 0]);
    let t = root.submit(wait, &[], 0);
    root.assert_pending(t, BLOCKED);
    // A blocked READ of another process, on a pipe of its own.
    let (cr, _cw) = child.pipe(0).unwrap();
    let ct = child.submit_read(cr, 4, 0);
    child.assert_pending(ct, BLOCKED);
    assert_eq!(interrupt(&mut root), 1, "the root's WAIT only");
    assert_eq!(root.wait(t).result(), Err(Errno::Eintr));
    child.assert_pending(ct, BLOCKED);
    assert_eq!(interrupt(&mut child), 1);
    assert_eq!(child.wait(ct).result(), Err(Errno::Eintr));
    child.exit(7);
    let t = root.submit(wait, &[], 0);
    assert_eq!(
        root.wait(t).result(),
        Ok([pid as u64, 7 << 8, 0]),
        "still waitable"
    );
}
