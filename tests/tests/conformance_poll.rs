//! Device conformance tests: POLL (spec 1.6.25), one request that waits
//! until one of several fds is ready. A model frontend drives the daemon
//! over real vhost-user sockets; each test cites the statements it checks
//! (`spec: label`).

mod common;

use std::fs;

use common::files::openat;
use common::*;
use system_tests::frontend::{Done, TestGuest, Ticket};
use system_tests::tree::Tree;
use vhost_user_pipe::Limits;
use virtio_pipe_protocol::fs::{AT_FDCWD, O_RDONLY, O_RDWR};
use virtio_pipe_protocol::poll::{
    POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI, POLLRDNORM, POLLWRNORM,
};
use virtio_pipe_protocol::{
    Errno, Op, PollFd, ReqHeader, PIPE_BUF, POLLFD_SIZE, POLL_MAX, REQ_F_NONBLOCK,
};

/// The payload of a POLL of `(fd, events)`, `revents` set to garbage the
/// device must ignore.
fn entries(fds: &[(i32, u16)]) -> Vec<u8> {
    let mut v: Vec<PollFd> = fds.iter().map(|&(fd, ev)| PollFd::new(fd, ev)).collect();
    for e in &mut v {
        e.revents.set(0xffff);
    }
    PollFd::encode_all(&v).to_vec()
}

fn submit_poll(g: &mut TestGuest, fds: &[(i32, u16)], flags: u32) -> Ticket {
    let payload = entries(fds);
    let hdr = ReqHeader::new(Op::Poll, flags, [fds.len() as u64, 0, 0]);
    g.submit(hdr, &payload, payload.len())
}

/// ret0 and each entry's `revents` of a completed POLL, after checking
/// that the entries came back as sent.
fn answer(d: &Done, fds: &[(i32, u16)]) -> (u64, Vec<u16>) {
    let r = d.result().expect("POLL succeeds");
    assert_eq!(d.used as usize, 32 + fds.len() * POLLFD_SIZE);
    let out = PollFd::parse_all(&d.data).expect("whole entries");
    assert_eq!(out.len(), fds.len());
    for (e, &(fd, ev)) in out.iter().zip(fds) {
        assert_eq!((e.fd.get(), e.events.get()), (fd, ev), "entries as sent");
    }
    (r[0], out.iter().map(|e| e.revents.get()).collect())
}

/// A NONBLOCK POLL of `fds`: ret0 and the `revents`.
fn poll_now(g: &mut TestGuest, fds: &[(i32, u16)]) -> (u64, Vec<u16>) {
    let t = submit_poll(g, fds, REQ_F_NONBLOCK);
    let d = g.wait(t);
    answer(&d, fds)
}

const IN: u16 = POLLIN;
const OUT: u16 = POLLOUT;

// spec: dev-poll-args
#[test]
fn poll_checks_nfds_its_payload_lengths_and_its_flags() {
    let tree = Tree::new();
    let mut root = tree.root();
    let one = entries(&[(0, IN)]);
    let bad = |g: &mut TestGuest, flags, nfds: u64, payload: &[u8], out| {
        g.call(Op::Poll, flags, [nfds, 0, 0], payload, out).result()
    };
    assert_eq!(
        bad(&mut root, 0, 1, &one, 4),
        Err(Errno::Einval),
        "short out"
    );
    assert_eq!(
        bad(&mut root, 0, 1, &one, 16),
        Err(Errno::Einval),
        "long out"
    );
    assert_eq!(
        bad(&mut root, 0, 2, &one, 16),
        Err(Errno::Einval),
        "short in"
    );
    assert_eq!(bad(&mut root, 0, 1, &one[..7], 8), Err(Errno::Einval));
    assert_eq!(
        bad(&mut root, 2, 1, &one, 8),
        Err(Errno::Einval),
        "flag bit 1"
    );
    let over = POLL_MAX as u64 + 1;
    assert_eq!(bad(&mut root, 0, over, &[], 0), Err(Errno::Einval));
    assert_eq!(bad(&mut root, 0, u64::MAX, &[], 0), Err(Errno::Einval));
    // The most entries, all skipped, with NONBLOCK: 0 ready.
    let max: Vec<(i32, u16)> = vec![(-1, IN); POLL_MAX];
    assert_eq!(poll_now(&mut root, &max).0, 0);
    assert_eq!(poll_now(&mut root, &[]), (0, vec![]));
    // A failed POLL changed nothing: the fds still work.
    assert_eq!(root.write(1, b"ok"), Ok(2));
}

// spec: dev-poll-events
#[test]
fn pipe_ends_report_data_room_hangup_and_error_as_linux() {
    let tree = Tree::with_limits(Limits {
        pipe_capacity: 2 * PIPE_BUF,
        ..Limits::default()
    });
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    let (r, w) = (r as i32, w as i32);
    let all = IN | OUT | POLLRDNORM | POLLWRNORM | POLLPRI;
    assert_eq!(
        poll_now(&mut root, &[(r, all), (w, all)]),
        (1, vec![0, OUT | POLLWRNORM]),
        "empty: the write end only"
    );
    root.write(w as u32, b"abc").unwrap();
    assert_eq!(
        poll_now(&mut root, &[(r, all), (r, IN), (r, POLLRDNORM), (w, OUT)]),
        (4, vec![IN | POLLRDNORM, IN, POLLRDNORM, OUT]),
        "only the events asked for"
    );
    // Less than PIPE_BUF free: not writable.
    root.write(w as u32, &vec![0; PIPE_BUF + 10]).unwrap();
    assert_eq!(poll_now(&mut root, &[(w, OUT)]), (0, vec![0]));
    // The last write end goes: POLLHUP, unasked, with the data still there.
    root.close(w as u32).unwrap();
    assert_eq!(
        poll_now(&mut root, &[(r, IN), (r, 0)]),
        (2, vec![IN | POLLHUP, POLLHUP])
    );
    assert_eq!(
        root.read(r as u32, 3 * PIPE_BUF).unwrap().len(),
        PIPE_BUF + 13
    );
    assert_eq!(poll_now(&mut root, &[(r, IN)]), (1, vec![POLLHUP]));
    // The last read end goes: POLLERR on the write end, unasked.
    let (r2, w2) = root.pipe(0).unwrap();
    root.close(r2).unwrap();
    assert_eq!(
        poll_now(&mut root, &[(w2 as i32, 0), (w2 as i32, OUT)]),
        (2, vec![POLLERR, POLLERR | OUT])
    );
}

// spec: dev-poll-events
#[test]
fn files_devices_closed_and_negative_fds() {
    let tree = Tree::new();
    fs::write(tree.root_dir().join("data"), b"x").unwrap();
    let mut root = tree.root();
    let file = openat(&mut root, AT_FDCWD, b"/data", O_RDONLY).unwrap() as i32;
    let dir = openat(&mut root, AT_FDCWD, b"/", O_RDONLY).unwrap() as i32;
    let null = openat(&mut root, AT_FDCWD, b"/dev/null", O_RDWR).unwrap() as i32;
    let always = IN | OUT | POLLRDNORM | POLLWRNORM;
    let asked = always | POLLPRI;
    assert_eq!(
        poll_now(
            &mut root,
            &[
                (file, asked),
                (dir, asked),
                (null, IN),
                (-5, IN),
                (60, 0),
                (1, IN)
            ]
        ),
        (4, vec![always, always, IN, 0, POLLNVAL, 0]),
        "a negative fd is skipped, a closed one is POLLNVAL even unasked"
    );
}

// spec: dev-poll-ready
#[test]
fn a_poll_takes_nothing_and_counts_the_ready_entries() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    root.write(w, b"kept").unwrap();
    let fds = [(r as i32, IN), (r as i32, IN), (w as i32, IN), (-1, IN)];
    // Without NONBLOCK, something is ready: it completes at once.
    let t = submit_poll(&mut root, &fds, 0);
    let d = root.wait(t);
    assert_eq!(answer(&d, &fds), (2, vec![IN, IN, 0, 0]));
    assert_eq!(root.read(r, 100), Ok(b"kept".to_vec()), "POLL read nothing");
    assert_eq!(tree.sup.stats().waiting, 0);
}

// spec: dev-poll-block
#[test]
fn a_blocked_poll_completes_when_another_process_writes() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    let (r2, _w2) = root.pipe(0).unwrap();
    let (_pid, _l, mut child) = spawn_child(&tree, &mut root);
    let fds = [(r2 as i32, IN), (r as i32, IN)];
    let t = submit_poll(&mut root, &fds, 0);
    root.assert_pending(t, BLOCKED);
    assert_eq!(tree.sup.stats().waiting, 1);
    // Another process's request that changes nothing relevant: still held.
    assert_eq!(child.write(1, b"noise"), Ok(5));
    root.assert_pending(t, BLOCKED);
    child.write(w, b"go").unwrap();
    let d = root.wait(t);
    assert_eq!(answer(&d, &fds), (1, vec![0, IN]));
    assert_eq!(root.read(r, 10), Ok(b"go".to_vec()));
}

// spec: dev-poll-block
#[test]
fn a_blocked_poll_completes_when_the_last_writer_exits_or_room_frees() {
    let tree = Tree::with_limits(Limits {
        pipe_capacity: PIPE_BUF,
        ..Limits::default()
    });
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    let (_pid, _l, mut child) = spawn_child(&tree, &mut root);
    root.close(w).unwrap();
    let fds = [(r as i32, IN)];
    let t = submit_poll(&mut root, &fds, 0);
    root.assert_pending(t, BLOCKED);
    child.exit(0);
    let d = root.wait(t);
    assert_eq!(answer(&d, &fds), (1, vec![POLLHUP]));

    // A full pipe: the write end waits for a reader to make room.
    let (r, w) = root.pipe(0).unwrap();
    root.write(w, &vec![1; PIPE_BUF]).unwrap();
    let fds = [(w as i32, OUT)];
    let t = submit_poll(&mut root, &fds, 0);
    root.assert_pending(t, BLOCKED);
    let (_pid, _l, mut reader) = spawn_child(&tree, &mut root);
    assert_eq!(reader.read(r, PIPE_BUF).unwrap().len(), PIPE_BUF);
    let d = root.wait(t);
    assert_eq!(answer(&d, &fds), (1, vec![OUT]));
}

// spec: dev-poll-block
#[test]
fn a_blocked_poll_does_not_hold_up_other_requests() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    let t = submit_poll(&mut root, &[(r as i32, IN)], 0);
    root.assert_pending(t, BLOCKED);
    // The same process goes on: its own WRITE makes the POLL ready.
    assert_eq!(root.write(w, b"x"), Ok(1));
    let d = root.wait(t);
    assert_eq!(answer(&d, &[(r as i32, IN)]), (1, vec![IN]));
}

// spec: dev-poll-interrupt
#[test]
fn a_blocked_poll_is_discarded_by_a_reset_and_ended_by_interrupt() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    let t = submit_poll(&mut root, &[(r as i32, IN)], 0);
    root.assert_pending(t, BLOCKED);
    root.reset();
    tree.wait_for("the reset to drop the POLL", |s| s.waiting == 0);
    assert_eq!(root.write(w, b"x"), Ok(1));
    assert_eq!(root.read(r, 10), Ok(b"x".to_vec()), "nothing was taken");

    let (r2, w2) = root.pipe(0).unwrap();
    let fds = [(r2 as i32, IN)];
    let t = submit_poll(&mut root, &fds, 0);
    root.assert_pending(t, BLOCKED);
    // Another process's INTERRUPT leaves it alone.
    let (_pid, _l, mut child) = spawn_child(&tree, &mut root);
    assert_eq!(
        child.call(Op::Interrupt, 0, [0; 3], &[], 0).result(),
        Ok([0, 0, 0])
    );
    root.assert_pending(t, BLOCKED);
    let i = root.call(Op::Interrupt, 0, [0; 3], &[], 0);
    assert_eq!(i.result(), Ok([1, 0, 0]), "one request ended");
    let d = root.wait(t);
    assert_eq!((d.result(), d.used), (Err(Errno::Eintr), 32), "no payload");
    // Nothing changed: the pipe still works, and a new POLL sees its data.
    root.write(w2, b"z").unwrap();
    let (n, rev) = poll_now(&mut root, &fds);
    assert_eq!((n, rev), (1, vec![IN]));
    assert_eq!(tree.sup.stats().waiting, 0);
}
