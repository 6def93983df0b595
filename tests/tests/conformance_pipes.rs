//! Device conformance tests: pipes and file descriptors (spec 1.6.3 to
//! 1.6.11: PIPE, READ, WRITE, CLOSE, DUP, DUP2, SET_FLAGS/GET_FLAGS,
//! inheritance, standard streams) and flow control (1.10). Each test cites
//! the statements it checks (`spec: label`).

mod common;

use std::sync::mpsc::Receiver;
use std::time::Instant;

use common::*;
use system_tests::frontend::{TestGuest, DEADLINE};
use system_tests::tree::Tree;
use vhost_user_pipe::io::{HostCompletion, HostIo};
use vhost_user_pipe::process::HOST_PID;
use vhost_user_pipe::Limits;
use virtio_pipe_protocol::signal::SIGPIPE;
use virtio_pipe_protocol::{Errno, Event, Op, Request, O_NONBLOCK, PIPE_BUF, REQ_F_NONBLOCK};

const NB: u64 = O_NONBLOCK as u64;

/// A tree whose pipes hold `capacity` bytes.
fn tree_with_capacity(capacity: usize) -> Tree {
    Tree::with_limits(Limits {
        pipe_capacity: capacity,
        ..Limits::default()
    })
}

/// A request of the host (the daemon's own end of the root's stdio).
fn host(tree: &Tree, req: Request, data: &[u8], out: usize) -> Receiver<HostCompletion> {
    let (io, rx) = HostIo::boxed(data.to_vec(), out);
    tree.sup.kernel().submit(HOST_PID, req, io);
    rx
}

fn host_done(rx: &Receiver<HostCompletion>) -> HostCompletion {
    rx.recv_timeout(DEADLINE).expect("host request completes")
}

// ---- 1.6.3 PIPE ----

// spec: dev-pipe-create
#[test]
fn pipe_binds_the_two_lowest_free_fds_with_the_given_status_flags() {
    let tree = Tree::new();
    let mut root = tree.root();
    assert_eq!(root.pipe(0), Ok((3, 4)), "read end lowest, write end next");
    root.close(1).unwrap();
    assert_eq!(root.pipe(0), Ok((1, 5)));
    let (r, w) = root.pipe(O_NONBLOCK).unwrap();
    assert_eq!((r, w), (6, 7));
    assert_eq!(get_flags(&mut root, r), Ok((NB, 0)));
    assert_eq!(get_flags(&mut root, w), Ok((NB, 1)));
    assert_eq!(get_flags(&mut root, 3), Ok((0, 0)));
    assert_eq!(get_flags(&mut root, 4), Ok((0, 1)));
    // Empty, with the configured capacity.
    assert_eq!(root.read(r, 10), Err(Errno::Eagain), "a new pipe is empty");
    assert_eq!(root.write(w, &vec![1; 70_000]), Ok(65_536));
    assert_eq!(tree.sup.stats().buffered, 65_536);
}

// ---- 1.6.4 READ ----

// spec: dev-read-available
#[test]
fn read_returns_what_the_pipe_holds_up_to_its_length() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    root.write(w, b"abcdef").unwrap();
    let d = root.call(Op::Read, 0, [r as u64, 0, 0], &[], 4);
    assert_eq!((d.used, d.data.as_slice()), (36, &b"abcd"[..]));
    let d = root.call(Op::Read, 0, [r as u64, 0, 0], &[], 100);
    assert_eq!(
        (d.used, d.resp.ret(0), d.data.as_slice()),
        (34, 2, &b"ef"[..])
    );
    assert_eq!(tree.sup.stats().buffered, 0, "read bytes leave the pipe");
}

// spec: dev-read-available
#[test]
fn pending_reads_of_one_pipe_are_served_in_arrival_order() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    let (_pid, _l, mut c) = spawn_child(&tree, &mut root);
    let first = root.submit_read(r, 3, 0);
    tree.wait_for("the first read", |s| s.waiting == 1);
    let second = c.submit_read(r, 3, 0);
    tree.wait_for("the second read", |s| s.waiting == 2);
    let third = root.submit_read(r, 3, 0);
    tree.wait_for("the third read", |s| s.waiting == 3);
    root.write(w, b"111222333").unwrap();
    assert_eq!(root.wait(first).data, b"111");
    assert_eq!(c.wait(second).data, b"222");
    assert_eq!(root.wait(third).data, b"333");
}

// spec: dev-read-block
#[test]
fn blocking_read_waits_for_data_or_the_last_writer() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    let t = root.submit_read(r, 10, 0);
    root.assert_pending(t, BLOCKED);
    root.write(w, b"data").unwrap();
    assert_eq!(root.wait(t).data, b"data");
    let t = root.submit_read(r, 10, 0);
    root.assert_pending(t, BLOCKED);
    root.close(w).unwrap();
    let d = root.wait(t);
    assert_eq!((d.result(), d.used), (Ok([0, 0, 0]), 32));
}

// spec: dev-read-nonblock
#[test]
fn nonblocking_read_on_an_empty_pipe_is_eagain() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (r, _w) = root.pipe(0).unwrap();
    assert_eq!(
        read_nb(&mut root, r, 8),
        Err(Errno::Eagain),
        "REQ_F_NONBLOCK"
    );
    set_flags(&mut root, r, O_NONBLOCK).unwrap();
    assert_eq!(
        root.read(r, 8),
        Err(Errno::Eagain),
        "O_NONBLOCK description"
    );
    assert_eq!(tree.sup.stats().waiting, 0);
}

// spec: dev-read-eof
#[test]
fn read_on_empty_pipe_with_no_writers_returns_eof() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    root.write(w, b"last").unwrap();
    root.close(w).unwrap();
    assert_eq!(root.read(r, 10).unwrap(), b"last", "data first");
    for _ in 0..2 {
        let d = root.call(Op::Read, 0, [r as u64, 0, 0], &[], 10);
        assert_eq!((d.result(), d.used), (Ok([0, 0, 0]), 32));
    }
    assert_eq!(read_nb(&mut root, r, 10), Ok(vec![]), "EOF, not EAGAIN");
}

// spec: dev-read-invalid
#[test]
fn read_of_a_closed_fd_or_write_end_is_ebadf_and_without_buffer_einval() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    root.write(w, b"keep").unwrap();
    assert_eq!(root.read(w, 4), Err(Errno::Ebadf), "write end");
    assert_eq!(root.read(1, 4), Err(Errno::Ebadf), "stdout");
    assert_eq!(root.read(9, 4), Err(Errno::Ebadf), "not open");
    let d = root.call(Op::Read, 0, [r as u64, 0, 0], &[], 0);
    assert_eq!(d.result(), Err(Errno::Einval), "no writable payload");
    assert_eq!(root.read(r, 4).unwrap(), b"keep", "nothing consumed");
}

// ---- 1.6.5 WRITE ----

// spec: dev-write-atomic
#[test]
fn concurrent_atomic_writes_from_two_processes_never_interleave() {
    let tree = tree_with_capacity(2 * PIPE_BUF);
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    let (_pid, _l, mut c) = spawn_child(&tree, &mut root);
    let mut mine = Vec::new();
    let mut theirs = Vec::new();
    for i in 0..8u8 {
        mine.push(root.submit_write(w, &[1 + i; PIPE_BUF], 0));
        theirs.push(c.submit_write(w, &[101 + i; PIPE_BUF], 0));
    }
    let got = read_exact(&mut root, r, 16 * PIPE_BUF, 1000);
    for t in mine {
        assert_eq!(root.wait(t).result(), Ok([PIPE_BUF as u64, 0, 0]));
    }
    for t in theirs {
        assert_eq!(c.wait(t).result(), Ok([PIPE_BUF as u64, 0, 0]));
    }
    let blocks: Vec<u8> = got
        .chunks(PIPE_BUF)
        .map(|b| {
            assert!(b.iter().all(|&x| x == b[0]), "a write was interleaved");
            b[0]
        })
        .collect();
    let parent: Vec<u8> = blocks.iter().copied().filter(|&b| b < 100).collect();
    let child: Vec<u8> = blocks.iter().copied().filter(|&b| b > 100).collect();
    assert_eq!(
        parent,
        (1..=8).collect::<Vec<u8>>(),
        "each writer's order kept"
    );
    assert_eq!(child, (101..=108).collect::<Vec<u8>>());
}

// spec: dev-write-atomic
#[test]
fn blocking_atomic_write_waits_until_all_of_it_fits() {
    let tree = tree_with_capacity(2 * PIPE_BUF);
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    assert_eq!(
        write_nb(&mut root, w, &[1; 2 * PIPE_BUF - 10]),
        Ok(2 * PIPE_BUF as u64 - 10)
    );
    let t = root.submit_write(w, &[2; 100], 0);
    root.assert_pending(t, BLOCKED);
    assert_eq!(
        tree.sup.stats().buffered,
        2 * PIPE_BUF - 10,
        "no part written"
    );
    root.read(r, 50).unwrap();
    root.assert_pending(t, BLOCKED);
    assert_eq!(
        tree.sup.stats().buffered,
        2 * PIPE_BUF - 60,
        "60 bytes free is too few"
    );
    root.read(r, 50).unwrap();
    assert_eq!(root.wait(t).result(), Ok([100, 0, 0]));
    let rest = read_exact(&mut root, r, 2 * PIPE_BUF - 10, 4096);
    assert_eq!(&rest[rest.len() - 100..], &[2; 100]);
}

// spec: dev-write-atomic-nonblock
#[test]
fn nonblocking_atomic_write_that_does_not_fit_is_eagain_and_writes_nothing() {
    let tree = tree_with_capacity(2 * PIPE_BUF);
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    write_nb(&mut root, w, &[1; 2 * PIPE_BUF - 10]).unwrap();
    assert_eq!(write_nb(&mut root, w, &[2; 100]), Err(Errno::Eagain));
    set_flags(&mut root, w, O_NONBLOCK).unwrap();
    assert_eq!(root.write(w, &[2; 11]), Err(Errno::Eagain), "O_NONBLOCK");
    assert_eq!(tree.sup.stats().buffered, 2 * PIPE_BUF - 10);
    assert_eq!(
        root.write(w, &[3; 10]),
        Ok(10),
        "exactly the free space fits"
    );
    let got = read_exact(&mut root, r, 2 * PIPE_BUF, 4096);
    assert!(!got.contains(&2));
}

// spec: dev-write-large-block, dev-read-available
#[test]
fn blocking_large_write_completes_only_when_every_byte_is_written() {
    let tree = tree_with_capacity(2 * PIPE_BUF);
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    let data: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
    let t = root.submit_write(w, &data, 0);
    root.assert_pending(t, BLOCKED);
    // The READ takes the 8192 bytes held, then 1808 of the pending WRITE's
    // own; of its last 10000, 8192 fit in the buffer and 1808 still wait.
    let mut got = root.read(r, 10_000).unwrap();
    assert_eq!(got.len(), 10_000, "held bytes, then the pending WRITE's");
    root.assert_pending(t, BLOCKED);
    assert_eq!(tree.sup.stats().buffered, 2 * PIPE_BUF);
    // This READ takes everything left, so the WRITE completes.
    got.extend(root.read(r, 20_000).unwrap());
    assert_eq!(root.wait(t).result(), Ok([20_000, 0, 0]));
    assert_eq!(got, data);
}

// spec: dev-write-large-nonblock
#[test]
fn nonblocking_large_write_writes_what_fits_or_is_eagain() {
    let tree = tree_with_capacity(2 * PIPE_BUF);
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    assert_eq!(write_nb(&mut root, w, &[b'a'; 5000]), Ok(5000));
    assert_eq!(
        write_nb(&mut root, w, &[b'b'; 5000]),
        Ok(2 * PIPE_BUF as u64 - 5000),
        "partial"
    );
    assert_eq!(
        write_nb(&mut root, w, &[b'c'; 5000]),
        Err(Errno::Eagain),
        "nothing fits"
    );
    let got = read_exact(&mut root, r, 2 * PIPE_BUF, 4096);
    assert_eq!(&got[..5000], &[b'a'; 5000]);
    assert!(got[5000..].iter().all(|&b| b == b'b'));
    assert_eq!(read_nb(&mut root, r, 1), Err(Errno::Eagain));
}

// spec: dev-write-nonblock-pending, dev-write-large-nonblock, dev-write-atomic-nonblock
/// Regression: a nonblocking WRITE got `EAGAIN` whenever a blocking one was
/// pending, even with room for it.
#[test]
fn a_nonblocking_write_takes_the_free_space_ahead_of_a_blocked_writer() {
    const FREE: usize = 10;
    let tree = Tree::new();
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    let cap = tree.sup.kernel().limits().pipe_capacity;
    assert_eq!(
        write_nb(&mut root, w, &vec![b'a'; cap - 2 * FREE]),
        Ok((cap - 2 * FREE) as u64)
    );
    // A blocking atomic WRITE that cannot fit waits.
    let blocked = root.submit_write(w, &[b'z'; 100], 0);
    root.assert_pending(blocked, BLOCKED);
    assert_eq!(
        write_nb(&mut root, w, &[b'b'; FREE]),
        Ok(FREE as u64),
        "an atomic nonblocking write that fits is placed"
    );
    assert_eq!(
        write_nb(&mut root, w, &[b'c'; 5000]),
        Ok(FREE as u64),
        "a large nonblocking write places what fits"
    );
    assert_eq!(
        write_nb(&mut root, w, &[b'd'; 1]),
        Err(Errno::Eagain),
        "full"
    );
    let got = read_exact(&mut root, r, cap + 100, 4096);
    assert!(got[..cap - 2 * FREE].iter().all(|&b| b == b'a'));
    assert_eq!(&got[cap - 2 * FREE..cap - FREE], &[b'b'; FREE]);
    assert_eq!(&got[cap - FREE..cap], &[b'c'; FREE]);
    assert_eq!(&got[cap..], &[b'z'; 100], "then the blocked writer's bytes");
    assert_eq!(root.wait(blocked).result(), Ok([100, 0, 0]));
}

// spec: dev-write-epipe
#[test]
fn write_without_a_read_end_is_epipe_and_queues_sigpipe_from_the_device() {
    let tree = Tree::new();
    let mut root = tree.root();
    root.post_event_buffers(2);
    let (r, w) = root.pipe(0).unwrap();
    root.close(r).unwrap();
    assert_eq!(root.write(w, b"lost"), Err(Errno::Epipe));
    assert_eq!(write_nb(&mut root, w, &[0; 10_000]), Err(Errno::Epipe));
    assert_eq!(tree.sup.stats().buffered, 0, "nothing written");
    assert_eq!(
        root.wait_event(Instant::now() + DEADLINE),
        Some(Event::Signal {
            signo: SIGPIPE,
            sender: 0
        }),
        "SIGPIPE from pid 0, the device"
    );
}

// spec: dev-write-zero
#[test]
fn empty_write_returns_zero_and_has_no_effect() {
    let tree = tree_with_capacity(PIPE_BUF);
    let mut root = tree.root();
    root.post_event_buffers(2);
    let (r, w) = root.pipe(0).unwrap();
    let t = root.submit_read(r, 8, 0);
    assert_eq!(root.write(w, b""), Ok(0));
    root.assert_pending(t, BLOCKED);
    root.write(w, b"x").unwrap();
    assert_eq!(root.wait(t).data, b"x");
    write_nb(&mut root, w, &[1; PIPE_BUF]).unwrap();
    assert_eq!(root.write(w, b""), Ok(0), "a full pipe does not block it");
    assert_eq!(tree.sup.stats().buffered, PIPE_BUF);
    root.close(r).unwrap();
    assert_eq!(root.write(w, b""), Ok(0), "no read end: still 0, not EPIPE");
    assert_eq!(
        root.wait_event(Instant::now() + BLOCKED),
        None,
        "and no SIGPIPE"
    );
}

// spec: dev-write-ebadf
#[test]
fn write_to_a_closed_fd_or_read_end_is_ebadf() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (r, _w) = root.pipe(0).unwrap();
    assert_eq!(root.write(r, b"x"), Err(Errno::Ebadf), "read end");
    assert_eq!(root.write(0, b"x"), Err(Errno::Ebadf), "stdin");
    assert_eq!(root.write(42, b"x"), Err(Errno::Ebadf), "not open");
    assert_eq!(
        read_nb(&mut root, r, 4),
        Err(Errno::Eagain),
        "nothing written"
    );
}

// spec: dev-write-direct
#[test]
fn write_to_a_pending_reader_lands_in_its_buffer() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    let (_pid, _l, mut c) = spawn_child(&tree, &mut root);
    let t = root.submit_read(r, 10, 0);
    tree.wait_for("the read to block", |s| s.waiting == 1);
    c.write(w, b"abcd").unwrap();
    assert_eq!(root.wait(t).data, b"abcd");
    assert_eq!(tree.sup.stats().buffered, 0);
    let t = root.submit_read(r, 10, 0);
    tree.wait_for("the read to block", |s| s.waiting == 1);
    let data: Vec<u8> = (0..100).collect();
    c.write(w, &data).unwrap();
    assert_eq!(
        root.wait(t).data,
        &data[..10],
        "the reader's share goes first"
    );
    assert_eq!(tree.sup.stats().buffered, 90, "only the rest is buffered");
    assert_eq!(root.read(r, 100).unwrap(), &data[10..]);
}

// ---- 1.6.6 CLOSE ----

// spec: dev-close-fd
#[test]
fn close_removes_the_fd_and_closing_it_again_is_ebadf() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    let d = dup(&mut root, w).unwrap();
    assert_eq!(root.close(w), Ok(()));
    assert_eq!(root.write(w, b"x"), Err(Errno::Ebadf));
    assert_eq!(get_flags(&mut root, w), Err(Errno::Ebadf));
    assert_eq!(root.close(w), Err(Errno::Ebadf), "second close");
    assert_eq!(root.close(77), Err(Errno::Ebadf));
    assert_eq!(
        read_nb(&mut root, r, 1),
        Err(Errno::Eagain),
        "the dup keeps the end open"
    );
    root.close(d).unwrap();
    assert_eq!(root.read(r, 1), Ok(vec![]), "last reference gone: EOF");
    assert_eq!(root.pipe(0), Ok((w, d)), "the fd numbers are free again");
}

// ---- 1.6.7 DUP and 1.6.8 DUP2 ----

// spec: dev-dup-lowest
#[test]
fn dup_binds_the_lowest_free_fd_to_the_same_description() {
    let tree = Tree::with_limits(Limits {
        max_fds: 8,
        ..Limits::default()
    });
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    root.close(0).unwrap();
    assert_eq!(dup(&mut root, w), Ok(0), "lowest free fd");
    root.write(0, b"via dup").unwrap();
    assert_eq!(root.read(r, 10).unwrap(), b"via dup");
    set_flags(&mut root, 0, O_NONBLOCK).unwrap();
    assert_eq!(get_flags(&mut root, w), Ok((NB, 1)), "same description");
    assert_eq!(dup(&mut root, 99), Err(Errno::Ebadf));
    assert_eq!(dup(&mut root, r), Ok(5));
    assert_eq!(dup(&mut root, r), Ok(6));
    assert_eq!(dup(&mut root, r), Ok(7));
    assert_eq!(
        dup(&mut root, r),
        Err(Errno::Emfile),
        "no fd below the limit"
    );
}

// spec: dev-dup2-replace
#[test]
fn dup2_closes_newfd_silently_then_binds_it_to_the_description() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (r1, w1) = root.pipe(0).unwrap();
    let (r2, w2) = root.pipe(0).unwrap();
    assert_eq!(dup2(&mut root, w1, w2), Ok(w2));
    assert_eq!(
        root.read(r2, 4),
        Ok(vec![]),
        "the old newfd was closed: EOF"
    );
    root.write(w2, b"one").unwrap();
    assert_eq!(root.read(r1, 4).unwrap(), b"one");
    assert_eq!(dup2(&mut root, r1, 9), Ok(9), "newfd not open");
    assert_eq!(get_flags(&mut root, 9), Ok((0, 0)));
    set_flags(&mut root, 9, O_NONBLOCK).unwrap();
    assert_eq!(get_flags(&mut root, r1), Ok((NB, 0)), "same description");
}

// spec: dev-dup2-same
#[test]
fn dup2_onto_itself_changes_nothing_and_bad_fds_are_ebadf() {
    let tree = Tree::with_limits(Limits {
        max_fds: 16,
        ..Limits::default()
    });
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    assert_eq!(dup2(&mut root, w, w), Ok(w));
    root.write(w, b"still").unwrap();
    assert_eq!(root.read(r, 9).unwrap(), b"still");
    assert_eq!(
        dup2(&mut root, 7, 7),
        Err(Errno::Ebadf),
        "fd = newfd, not open"
    );
    assert_eq!(dup2(&mut root, 9, r), Err(Errno::Ebadf), "fd not open");
    assert_eq!(get_flags(&mut root, r), Ok((0, 0)), "newfd left alone");
    assert_eq!(
        dup2(&mut root, w, 16),
        Err(Errno::Ebadf),
        "newfd at the limit"
    );
    assert_eq!(dup2(&mut root, w, 15), Ok(15));
}

// ---- 1.6.9 SET_FLAGS and GET_FLAGS ----

// spec: dev-flags-set
#[test]
fn status_flags_set_through_one_fd_show_through_every_fd_and_process() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (r, _w) = root.pipe(0).unwrap();
    let d = dup(&mut root, r).unwrap();
    let (_pid, _l, mut c) = spawn_child(&tree, &mut root);
    set_flags(&mut c, r, O_NONBLOCK).unwrap();
    assert_eq!(get_flags(&mut root, d), Ok((NB, 0)));
    assert_eq!(
        root.read(r, 1),
        Err(Errno::Eagain),
        "the parent's reads stop blocking"
    );
    set_flags(&mut root, d, 0).unwrap();
    assert_eq!(get_flags(&mut c, r), Ok((0, 0)), "replaced, not or-ed");
}

// spec: dev-flags-get
#[test]
fn get_flags_reports_status_flags_and_access_mode() {
    let tree = Tree::new();
    let mut root = tree.root();
    assert_eq!(get_flags(&mut root, 0), Ok((0, 0)), "stdin: O_RDONLY");
    assert_eq!(get_flags(&mut root, 1), Ok((0, 1)), "stdout: O_WRONLY");
    assert_eq!(get_flags(&mut root, 2), Ok((0, 1)), "stderr: O_WRONLY");
    let (r, w) = root.pipe(O_NONBLOCK).unwrap();
    assert_eq!(get_flags(&mut root, r), Ok((NB, 0)));
    assert_eq!(get_flags(&mut root, w), Ok((NB, 1)));
    assert_eq!(get_flags(&mut root, 99), Err(Errno::Ebadf));
    assert_eq!(set_flags(&mut root, 99, 0), Err(Errno::Ebadf));
}

// ---- 1.6.10 Inheritance ----

// spec: dev-inherit-copy
#[test]
fn spawned_child_starts_with_the_parents_fds_on_the_same_descriptions() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    let (r2, w2) = root.pipe(0).unwrap();
    root.close(r2).unwrap();
    let (_pid, _l, mut c) = spawn_child(&tree, &mut root);
    for fd in [0, 1, 2, r, w, w2] {
        assert_eq!(get_flags(&mut c, fd), get_flags(&mut root, fd), "fd {fd}");
    }
    assert_eq!(
        get_flags(&mut c, r2),
        Err(Errno::Ebadf),
        "closed before the spawn"
    );
    c.write(w, b"from child").unwrap();
    assert_eq!(root.read(r, 20).unwrap(), b"from child");
    set_flags(&mut c, w2, O_NONBLOCK).unwrap();
    assert_eq!(get_flags(&mut root, w2), Ok((NB, 1)), "same description");
    // The child's table is a copy: closing there leaves the parent's fd.
    c.close(w).unwrap();
    root.write(w, b"x").unwrap();
}

// spec: dev-inherit-refcount
#[test]
fn pending_read_keeps_the_read_end_open_after_its_fd_is_closed() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    let t = root.submit_read(r, 10, 0);
    root.assert_pending(t, BLOCKED);
    root.close(r).unwrap();
    root.assert_pending(t, BLOCKED);
    assert_eq!(
        root.write(w, b"late"),
        Ok(4),
        "the pending READ holds the read end"
    );
    assert_eq!(root.wait(t).data, b"late");
    assert_eq!(
        root.write(w, b"x"),
        Err(Errno::Epipe),
        "closed once the READ is done"
    );
}

// spec: dev-inherit-refcount
#[test]
fn pending_write_keeps_the_write_end_open_after_its_fd_is_closed() {
    let tree = tree_with_capacity(PIPE_BUF);
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    write_nb(&mut root, w, &[1; PIPE_BUF]).unwrap();
    let t = root.submit_write(w, b"tail", 0);
    root.assert_pending(t, BLOCKED);
    root.close(w).unwrap();
    let mut got = read_exact(&mut root, r, PIPE_BUF, PIPE_BUF);
    got.extend(root.read(r, 10).unwrap());
    assert_eq!(
        &got[PIPE_BUF..],
        b"tail",
        "no EOF before the pending WRITE's data"
    );
    assert_eq!(root.wait(t).result(), Ok([4, 0, 0]));
    assert_eq!(root.read(r, 10), Ok(vec![]), "then EOF");
}

// spec: dev-inherit-refcount
#[test]
fn pipe_end_stays_open_while_any_process_holds_it() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    let (_pid, _l, mut c) = spawn_child(&tree, &mut root);
    root.close(w).unwrap();
    let t = root.submit_read(r, 4, 0);
    root.assert_pending(t, BLOCKED);
    c.close(w).unwrap();
    assert_eq!(
        root.wait(t).result(),
        Ok([0, 0, 0]),
        "EOF once nobody holds it"
    );
}

// ---- 1.6.11 Standard streams ----

// spec: dev-stdio-root
#[test]
fn root_starts_with_stdin_stdout_stderr_and_no_status_flags() {
    let tree = Tree::new();
    let mut root = tree.root();
    assert_eq!(get_flags(&mut root, 0), Ok((0, 0)));
    assert_eq!(get_flags(&mut root, 1), Ok((0, 1)));
    assert_eq!(get_flags(&mut root, 2), Ok((0, 1)));
    assert_eq!(get_flags(&mut root, 3), Err(Errno::Ebadf), "nothing else");
    assert_eq!(
        read_nb(&mut root, 0, 4),
        Err(Errno::Eagain),
        "stdin: open, no input"
    );
    assert_eq!(root.write(0, b"x"), Err(Errno::Ebadf), "stdin is read-only");
    assert_eq!(root.read(1, 4), Err(Errno::Ebadf), "stdout is write-only");
    assert_eq!(root.write(1, b"o"), Ok(1));
    assert_eq!(root.write(2, b"e"), Ok(1));
    // Three descriptions: flags set on one do not show on the others.
    set_flags(&mut root, 1, O_NONBLOCK).unwrap();
    assert_eq!(get_flags(&mut root, 2), Ok((0, 1)));
}

// spec: dev-stdio-pipe-like
#[test]
fn standard_streams_behave_like_pipe_ends_of_the_host() {
    let tree = Tree::new();
    let mut root = tree.root();
    let t = root.submit_read(0, 16, 0);
    root.assert_pending(t, BLOCKED);
    assert_eq!(
        root.getpid(),
        (1, 0),
        "served while host input is not ready"
    );
    let w = host(
        &tree,
        Request::Write {
            fd: 0,
            len: 2,
            nonblock: false,
        },
        b"in",
        0,
    );
    assert_eq!(host_done(&w).resp.ret(0), 2);
    assert_eq!(root.wait(t).data, b"in");
    root.write(1, b"out").unwrap();
    root.write(2, b"err").unwrap();
    let read_host = |fd| {
        host(
            &tree,
            Request::Read {
                fd,
                len: 16,
                nonblock: false,
            },
            &[],
            16,
        )
    };
    assert_eq!(host_done(&read_host(1)).data, b"out");
    assert_eq!(host_done(&read_host(2)).data, b"err");
    // Host input at end of file: READ returns 0.
    host_done(&host(&tree, Request::Close { fd: 0 }, &[], 0));
    assert_eq!(root.read(0, 16), Ok(vec![]));
    // Host output broken: WRITE is EPIPE.
    host_done(&host(&tree, Request::Close { fd: 1 }, &[], 0));
    assert_eq!(root.write(1, b"x"), Err(Errno::Epipe));
    assert_eq!(root.write(2, b"y"), Ok(1), "stderr is its own stream");
}

// ---- 1.10 Flow control ----

// spec: dev-flow-capacity
#[test]
fn pipe_holds_exactly_its_configured_capacity() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (_r, w) = root.pipe(0).unwrap();
    assert_eq!(
        write_nb(&mut root, w, &vec![7; 70_000]),
        Ok(65_536),
        "default 65536"
    );
    assert_eq!(write_nb(&mut root, w, b"x"), Err(Errno::Eagain));
    assert_eq!(tree.sup.stats().buffered, 65_536);
    let small = tree_with_capacity(PIPE_BUF);
    let mut root = small.root();
    let (_r, w) = root.pipe(0).unwrap();
    assert_eq!(
        write_nb(&mut root, w, &[7; 5000]),
        Ok(PIPE_BUF as u64),
        "configured"
    );
    assert_eq!(small.sup.stats().buffered, PIPE_BUF);
}

// spec: dev-flow-fifo
#[test]
fn bytes_arrive_in_order_exactly_once() {
    let tree = tree_with_capacity(PIPE_BUF);
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    let (_pid, _l, mut c) = spawn_child(&tree, &mut root);
    let data: Vec<u8> = (0..50_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let t = c.submit_write(w, &data, 0);
    let mut got = Vec::new();
    let mut size = 1;
    while got.len() < data.len() {
        got.extend(root.read(r, size).unwrap());
        size = size * 3 % 3001 + 1;
    }
    assert_eq!(c.wait(t).result(), Ok([50_000, 0, 0]));
    assert_eq!(got, data);
    assert_eq!(
        read_nb(&mut root, r, 1),
        Err(Errno::Eagain),
        "nothing twice"
    );
}

// spec: dev-flow-fifo
#[test]
fn blocked_writes_are_accepted_in_arrival_order() {
    let tree = tree_with_capacity(PIPE_BUF);
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    let (_pid, _l, mut c) = spawn_child(&tree, &mut root);
    write_nb(&mut root, w, &[0; PIPE_BUF]).unwrap();
    let t1 = root.submit_write(w, &[1; 100], 0);
    tree.wait_for("the first write to block", |s| s.waiting == 1);
    let t2 = c.submit_write(w, &[2; 100], 0);
    tree.wait_for("the second write to block", |s| s.waiting == 2);
    let t3 = root.submit_write(w, &[3; 100], 0);
    tree.wait_for("the third write to block", |s| s.waiting == 3);
    let got = read_exact(&mut root, r, PIPE_BUF + 300, 1000);
    let tail: Vec<u8> = got[PIPE_BUF..].to_vec();
    let want: Vec<u8> = [[1u8; 100], [2; 100], [3; 100]].concat();
    assert_eq!(tail, want);
    for t in [t1, t3] {
        assert_eq!(root.wait(t).result(), Ok([100, 0, 0]));
    }
    assert_eq!(c.wait(t2).result(), Ok([100, 0, 0]));
}

// spec: dev-flow-last-writer
#[test]
fn last_writer_closing_wakes_every_pending_reader_with_eof() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    let (_pid, _l, mut c) = spawn_child(&tree, &mut root);
    let t1 = root.submit_read(r, 8, 0);
    let t2 = c.submit_read(r, 8, 0);
    let t3 = root.submit_read(r, 8, 0);
    tree.wait_for("three blocked reads", |s| s.waiting == 3);
    root.close(w).unwrap();
    root.assert_pending(t1, BLOCKED);
    c.close(w).unwrap();
    for (g, t) in [(&mut root, t1), (&mut c, t2)] {
        let d = g.wait(t);
        assert_eq!((d.result(), d.used), (Ok([0, 0, 0]), 32));
    }
    assert_eq!(root.wait(t3).result(), Ok([0, 0, 0]));
}

// spec: dev-flow-last-reader
#[test]
fn last_reader_closing_completes_pending_writes_with_their_count_or_epipe() {
    let tree = tree_with_capacity(PIPE_BUF);
    let mut root = tree.root();
    root.post_event_buffers(2);
    let (r, w) = root.pipe(0).unwrap();
    let (_pid, _l, mut c) = spawn_child(&tree, &mut root);
    let large = root.submit_write(w, &[1; 3 * PIPE_BUF], 0);
    let small = root.submit_write(w, &[2; 10], 0);
    tree.wait_for("two blocked writes", |s| s.waiting == 2);
    root.close(r).unwrap();
    root.assert_pending(large, BLOCKED);
    c.close(r).unwrap();
    assert_eq!(
        root.wait(large).result(),
        Ok([PIPE_BUF as u64, 0, 0]),
        "partial count"
    );
    assert_eq!(root.wait(small).result(), Err(Errno::Epipe));
    assert_eq!(
        root.wait_event(Instant::now() + DEADLINE),
        Some(Event::Signal {
            signo: SIGPIPE,
            sender: 0
        })
    );
    assert_eq!(
        root.wait_event(Instant::now() + BLOCKED),
        None,
        "one SIGPIPE: none for the partial write"
    );
}

// spec: dev-flow-peer-exit
#[test]
fn ending_process_drops_its_fds_and_its_discarded_requests_references() {
    let tree = tree_with_capacity(PIPE_BUF);
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    let (r2, w2) = root.pipe(0).unwrap();
    let (child, l, mut c) = spawn_child(&tree, &mut root);
    root.close(r).unwrap();
    root.close(r2).unwrap();
    // Only the child holds p1's read end; only its pending READ holds p2's.
    let t = c.submit_read(r2, 4, 0);
    tree.wait_for("the child's read to block", |s| s.waiting == 1);
    c.close(r2).unwrap();
    write_nb(&mut root, w, &[0; PIPE_BUF]).unwrap();
    let blocked = root.submit_write(w, b"more", 0);
    root.assert_pending(blocked, BLOCKED);
    l.vm.end();
    assert_eq!(root.wait(blocked).result(), Err(Errno::Epipe));
    assert_eq!(root.write(w2, b"x"), Err(Errno::Epipe));
    assert_eq!(root.wait_child(child as i64, 0), Ok((child, 9)));
    c.assert_pending(t, std::time::Duration::ZERO);
    let _ = (
        REQ_F_NONBLOCK,
        TestGuest::connect as fn(&std::path::Path) -> TestGuest,
    );
}
