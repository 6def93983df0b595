//! Device conformance tests: a model frontend drives the daemon over real
//! vhost-user sockets with memfd guest memory; no QEMU. Each test cites the
//! normative statement of `spec/virtio-pipe.md` it checks (`spec: label`);
//! `spec/conformance-report.md` maps them back.
//!
//! This file: virtqueues, feature bits, configuration space, initialization
//! and reset, processes and connections, requests and responses, error
//! codes (spec 1.2 to 1.6.2 and 1.8). The other `conformance_*.rs` files
//! cover the rest.

mod common;

use std::os::unix::fs::FileTypeExt;
use std::time::{Duration, Instant};

use common::*;
use system_tests::frontend::TestGuest;
use system_tests::tree::Tree;
use vhost::vhost_user::message::VhostUserConfigFlags;
use vhost::vhost_user::VhostUserFrontend;
use vhost::VhostBackend;
use virtio_pipe_protocol::signal::{SIGKILL, SIGPIPE, SIGUSR1};

/// `SIGURG`: ignored by default.
const SIGURG: u32 = 23;
use virtio_pipe_protocol::{
    ConfigSpace, Errno, Event, Op, ReqHeader, FEATURE_FORK, FEATURE_SIGNALS, FEATURE_SPAWN, MAGIC,
    O_NONBLOCK, REQ_F_NONBLOCK, VERSION, WAIT_F_NOHANG,
};

// ---- 1.2 Virtqueues ----

// spec: dev-vq-roles
#[test]
fn carrier_with_four_queues_is_served_and_queues_2_and_3_are_never_used() {
    let tree = Tree::new();
    let mut root = tree.root_connect(vec![b"root".to_vec()], vec![], |s| {
        TestGuest::connect_opts(s, ALL_FEATURES, 4, true)
    });
    for q in [2, 3] {
        let hdr = ReqHeader::new(Op::GetPid, 0, [0; 3]).as_bytes_le();
        submit_pieces_on(&mut root, q, RAW + q as u64 * 0x1000, &hdr);
    }
    root.post_event_buffers(1);
    assert_eq!(root.getpid(), (1, 0), "requestq answers requests");
    let (child, _l, mut c) = spawn_child(&tree, &mut root);
    c.exit(0);
    assert_eq!(
        root.wait_event(Instant::now() + system_tests::frontend::DEADLINE),
        Some(Event::ChildExit {
            pid: child,
            status: 0
        }),
        "eventq carries events"
    );
    std::thread::sleep(BLOCKED);
    assert_eq!(
        (root.used_idx(2), root.used_idx(3)),
        (0, 0),
        "nothing is used on queues 2 and 3"
    );
}

/// A request-shaped chain on queue `q`.
fn submit_pieces_on(g: &mut TestGuest, q: usize, base: u64, hdr: &[u8]) {
    use system_tests::frontend::RawDesc;
    use virtio_bindings::bindings::virtio_ring::{VRING_DESC_F_NEXT, VRING_DESC_F_WRITE};
    use vm_memory::{Bytes, GuestAddress};
    g.mem.write_slice(hdr, GuestAddress(base)).unwrap();
    g.submit_raw(
        q,
        &[
            RawDesc {
                addr: base,
                len: hdr.len() as u32,
                flags: VRING_DESC_F_NEXT as u16,
                next: 0,
            },
            RawDesc {
                addr: base + 0x100,
                len: 32,
                flags: VRING_DESC_F_WRITE as u16,
                next: 0,
            },
        ],
        false,
    );
}

// spec: dev-vq-roles
#[test]
fn eventq_buffers_are_only_used_for_events() {
    let tree = Tree::new();
    let mut root = tree.root();
    root.post_event_buffers(2);
    assert_eq!(root.getpid(), (1, 0));
    let (r, w) = root.pipe(0).unwrap();
    root.write(w, b"x").unwrap();
    assert_eq!(root.read(r, 1).unwrap(), b"x");
    assert_eq!(root.wait_event(Instant::now() + BLOCKED), None);
    assert!(
        root.take_event_used().is_empty(),
        "no event arose: no eventq buffer is used"
    );
    let (child, _l, mut c) = spawn_child(&tree, &mut root);
    c.exit(0);
    assert_eq!(
        root.wait_event(Instant::now() + system_tests::frontend::DEADLINE),
        Some(Event::ChildExit {
            pid: child,
            status: 0
        })
    );
    assert_eq!(root.take_event_used().len(), 1, "one buffer per event");
}

// ---- 1.3 Feature bits ----

// spec: dev-feat-offer
#[test]
fn device_offers_version_1_and_no_undefined_device_bits() {
    let tree = Tree::new();
    let root = tree.root();
    let offered = root.frontend.get_features().unwrap();
    assert_ne!(offered & (1 << 32), 0, "VIRTIO_F_VERSION_1 offered");
    for bit in (3..=23).chain(41..=42).chain(50..=63) {
        assert_eq!(offered & (1u64 << bit), 0, "bit {bit} must not be offered");
    }
}

// spec: dev-feat-offer
#[test]
fn fork_is_offered_only_to_a_process_whose_vm_the_daemon_launched() {
    let tree = Tree::new();
    let mut root = tree.root();
    let offered = root.frontend.get_features().unwrap();
    assert_eq!(
        offered & (1 << FEATURE_FORK),
        0,
        "a served root has no image to fork"
    );
    root.spawn("child", &[b"child"], &[], &[]).unwrap();
    let (_l, child) = tree.accept_child();
    let offered = child.frontend.get_features().unwrap();
    assert_ne!(offered & (1 << FEATURE_FORK), 0, "a spawned child can fork");
}

// spec: dev-feat-unnegotiated
#[test]
fn spawn_without_the_spawn_feature_is_enosys_and_creates_nothing() {
    let tree = Tree::new();
    let mut root = tree.root_connect(vec![b"root".to_vec()], vec![], |s| {
        TestGuest::connect_with(s, VERSION_1 | (1 << FEATURE_SIGNALS))
    });
    assert_eq!(root.features & (1 << FEATURE_SPAWN), 0);
    assert_eq!(
        root.spawn("child", &[b"child"], &[], &[]),
        Err(Errno::Enosys)
    );
    assert_eq!(tree.sup.stats().processes, 1);
    assert!(tree.try_launch().is_none());
}

// spec: dev-feat-unnegotiated
#[test]
fn fork_without_the_fork_feature_is_enosys_and_creates_nothing() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (_pid, _l, mut c) = spawn_child_with(&tree, &mut root, NO_SIGNALS & !(1 << FEATURE_FORK));
    assert_eq!(c.features & (1 << FEATURE_FORK), 0);
    let d = c.call(Op::Fork, 0, [0x1000, 0, 0], &[], 0);
    assert_eq!(d.result(), Err(Errno::Enosys));
    assert_eq!(tree.sup.stats().processes, 2);
    assert!(tree.try_launch().is_none());
}

// spec: dev-feat-unnegotiated
#[test]
fn no_signal_event_reaches_a_driver_without_the_signals_feature() {
    let tree = Tree::new();
    let mut root = tree.root_connect(vec![b"root".to_vec()], vec![], |s| {
        TestGuest::connect_with(s, VERSION_1 | (1 << FEATURE_SPAWN))
    });
    root.post_event_buffers(4);
    let (r, w) = root.pipe(0).unwrap();
    root.close(r).unwrap();
    assert_eq!(root.write(w, b"x"), Err(Errno::Epipe), "no SIGPIPE event");
    let (child, _l, mut c) = spawn_child(&tree, &mut root);
    kill(&mut c, 1, SIGURG).unwrap();
    c.exit(0);
    // CHILD_EXIT is sent whatever the features: it is the first event.
    assert_eq!(
        root.wait_event(Instant::now() + system_tests::frontend::DEADLINE),
        Some(Event::ChildExit {
            pid: child,
            status: 0
        })
    );
    assert_eq!(root.wait_event(Instant::now() + BLOCKED), None);
}

// spec: dev-feat-unnegotiated, dev-reset-persist
/// Regression: SIGNAL events held across a renegotiation that dropped
/// `VIRTIO_PIPE_F_SIGNALS` were still delivered.
#[test]
fn held_signal_events_are_dropped_when_signals_are_no_longer_negotiated() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (child, _l, mut c) = spawn_child(&tree, &mut root);
    // Two signals held: the child has no eventq buffer yet.
    kill(&mut root, child, SIGUSR1).unwrap();
    kill(&mut root, child, SIGURG).unwrap();
    c.reset();
    c.frontend.set_features(VERSION_1 | (1 << 30)).unwrap();
    // A request with a reply: SET_FEATURES has been handled once it returns.
    c.frontend.get_features().unwrap();
    c.post_event_buffers(4);
    assert_eq!(c.wait_event(Instant::now() + BLOCKED), None);
    assert_eq!(wait_nohang(&mut root, child as i64), Ok((0, 0)));
}

// ---- 1.4 Device configuration layout ----

// spec: dev-cfg-layout
#[test]
fn config_space_holds_magic_and_version_and_zero_padding() {
    let tree = Tree::new();
    let mut root = tree.root();
    let c = root.config_space();
    assert_eq!(
        (c.magic.get(), c.version.get(), c.reserved.get()),
        (MAGIC, VERSION, 0)
    );
    assert_eq!(&root.config(8), &[0x70, 0x69, 0x70, 0x65, 1, 0, 0, 0]);
    assert_eq!(
        &root.config(12)[8..],
        &[0, 0, 0, 0],
        "bytes past 8 read as zero (snd carrier)"
    );
    assert_eq!(
        root.config(ConfigSpace::SIZE as u32),
        root.config(ConfigSpace::SIZE as u32)
    );
}

// spec: dev-cfg-layout
#[test]
fn config_writes_are_ignored() {
    let tree = Tree::new();
    let mut root = tree.root();
    let before = root.config(12);
    let _ = root
        .frontend
        .set_config(0, VhostUserConfigFlags::WRITABLE, &[0xaa; 8]);
    let _ = root
        .frontend
        .set_config(8, VhostUserConfigFlags::WRITABLE, &[0x55; 4]);
    assert_eq!(root.config(12), before);
    assert_eq!(root.getpid(), (1, 0), "the device keeps serving");
}

// ---- 1.5 Device initialization and reset ----

// spec: dev-init-ready
#[test]
fn nothing_is_used_before_the_queues_are_enabled() {
    let tree = Tree::new();
    let mut root = tree.root_connect(vec![b"root".to_vec()], vec![], |s| {
        TestGuest::connect_opts(s, ALL_FEATURES, 2, false)
    });
    let t = root.submit(ReqHeader::new(Op::GetPid, 0, [0; 3]), &[], 0);
    root.assert_pending(t, BLOCKED);
    root.enable_queue(0, true);
    assert_eq!(root.wait(t).result().unwrap()[0], 1);
    // eventq is still disabled: an event that arises waits for it.
    root.post_event_buffers(1);
    let (child, _l, mut c) = spawn_child(&tree, &mut root);
    c.exit(5);
    tree.wait_for("the child to end", |s| s.running == 1);
    assert_eq!(root.wait_event(Instant::now() + BLOCKED), None);
    root.enable_queue(1, true);
    root.kick(1);
    assert_eq!(
        root.wait_event(Instant::now() + system_tests::frontend::DEADLINE),
        Some(Event::ChildExit {
            pid: child,
            status: 5 << 8
        })
    );
}

// spec: dev-init-ready, dev-start-kind
#[test]
fn start_and_other_requests_work_after_repeated_resets() {
    let tree = Tree::new();
    let mut root = tree.root();
    for _ in 0..3 {
        assert_eq!(status(&mut root, Op::Start, 0, [0; 3]), Ok([0, 0, 0o022]));
        assert_eq!(root.getpid(), (1, 0));
        let (r, w) = root.pipe(0).unwrap();
        assert_eq!(root.write(w, b"ok").unwrap(), 2);
        assert_eq!(root.read(r, 2).unwrap(), b"ok");
        root.reset();
    }
    assert_eq!(status(&mut root, Op::Start, 0, [0; 3]), Ok([0, 0, 0o022]));
}

// spec: dev-reset-persist
#[test]
fn reset_keeps_pid_fds_children_and_undelivered_events() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    root.write(w, b"kept").unwrap();
    let (ended, _l1, mut c1) = spawn_child(&tree, &mut root);
    let (live, _l2, mut c2) = spawn_child(&tree, &mut root);
    c1.exit(3);
    tree.wait_for("the first child to end", |s| s.running == 2);
    root.reset();
    assert_eq!(root.getpid(), (1, 0));
    assert_eq!(c2.getpid(), (live, 1), "a child keeps its parent");
    assert_eq!(root.read(r, 10).unwrap(), b"kept", "fds stay open");
    assert_eq!(root.write(w, b"!").unwrap(), 1);
    assert_eq!(kill(&mut root, live, 0), Ok(()), "the live child lives");
    root.post_event_buffers(2);
    assert_eq!(
        root.wait_event(Instant::now() + system_tests::frontend::DEADLINE),
        Some(Event::ChildExit {
            pid: ended,
            status: 3 << 8
        }),
        "the held event is delivered after the reset"
    );
    assert_eq!(wait_nohang(&mut root, ended as i64), Ok((ended, 3 << 8)));
    assert_eq!(wait_nohang(&mut root, live as i64), Ok((0, 0)));
}

// spec: dev-reset-cancel
#[test]
fn reset_discards_pending_requests_and_keeps_their_effects() {
    let tree = Tree::with_limits(vhost_user_pipe::Limits {
        pipe_capacity: 4096,
        ..Default::default()
    });
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    let (r2, w2) = root.pipe(0).unwrap();
    let (_child, _l, mut c) = spawn_child(&tree, &mut root);
    let read = root.submit_read(r, 16, 0);
    let wait = root.submit(ReqHeader::new(Op::Wait, 0, [u64::MAX, 0, 0]), &[], 0);
    let big = root.submit_write(w2, &[7u8; 6000], 0);
    root.assert_pending(read, BLOCKED);
    tree.wait_for("three blocked requests", |s| s.waiting == 3);
    root.reset();
    tree.wait_for("the blocked requests to go", |s| s.waiting == 0);
    assert_eq!(c.write(w, b"after").unwrap(), 5);
    // The discarded READ did not take the data: it is still in the pipe.
    assert_eq!(c.read(r, 16).unwrap(), b"after");
    // The 4096 bytes the discarded WRITE had placed stay in the pipe.
    assert_eq!(read_exact(&mut c, r2, 4096, 4096), vec![7u8; 4096]);
    assert_eq!(read_nb(&mut c, r2, 10), Err(Errno::Eagain));
    c.exit(0);
    tree.wait_for("the child to end", |s| s.running == 1);
    assert_eq!(
        root.used_idx(0),
        0,
        "no used element for any discarded request"
    );
    let _ = (read, wait, big);
}

// spec: dev-reset-pause
#[test]
fn a_pause_keeps_pending_requests_and_they_complete_after_it() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    let (child, _l, mut c) = spawn_child(&tree, &mut root);
    let read = root.submit_read(r, 16, 0);
    let wait = root.submit(ReqHeader::new(Op::Wait, 0, [child as u64, 0, 0]), &[], 0);
    tree.wait_for("two blocked requests", |s| s.waiting == 2);
    let used = root.used_idx(0);
    root.pause();
    // While the VM is paused the pipe gets data and the child exits: none
    // of that may be lost, and nothing may reach the stopped rings.
    assert_eq!(c.write(w, b"paused").unwrap(), 6);
    c.exit(3);
    tree.wait_for("the child to end", |s| s.running == 1);
    std::thread::sleep(BLOCKED);
    assert_eq!(root.used_idx(0), used, "nothing completes while paused");
    root.resume();
    assert_eq!(root.wait(read).data, b"paused");
    assert_eq!(
        root.wait(wait).result(),
        Ok([child as u64, 3 << 8, 0]),
        "the WAIT pending across the pause reaps the child"
    );
}

// spec: dev-reset-cancel
/// Regression: requests collected before the queues stopped were run after,
/// and a WAIT could reap a child whose status then went nowhere. Many
/// rounds, because the window was narrow: each round a WAIT races a reset.
#[test]
fn a_reset_never_loses_a_childs_exit_status() {
    const ROUNDS: usize = 30;
    let tree = Tree::new();
    let mut root = tree.root();
    for round in 0..ROUNDS {
        let (child, _l, mut c) = spawn_child(&tree, &mut root);
        c.exit(round as u8);
        tree.wait_for("the child to end", |s| s.running == 1);
        let wait = root.submit(ReqHeader::new(Op::Wait, 0, [child as u64, 0, 0]), &[], 0);
        // The queues stop; what completed before is on the used ring now.
        root.pause();
        let before = root.poll(wait);
        root.reset();
        let status = match before {
            Some(d) => d.result().map(|r| r[1]),
            // Discarded unrun: the child is still there to reap.
            None => root.wait_child(child as i64, 0).map(|(_, s)| s as u64),
        };
        assert_eq!(status, Ok((round as u64) << 8), "round {round}");
    }
}

// spec: dev-start-cancel
#[test]
fn start_drops_requests_left_pending_by_an_earlier_driver() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    let stale = root.submit_read(r, 16, 0);
    tree.wait_for("a blocked read", |s| s.waiting == 1);
    // A driver that booted again without the device seeing a reset.
    assert_eq!(status(&mut root, Op::Start, 0, [0; 3]), Ok([0, 0, 0o022]));
    tree.wait_for("the stale read to go", |s| s.waiting == 0);
    assert_eq!(root.write(w, b"fresh").unwrap(), 5);
    assert_eq!(
        root.read(r, 16).unwrap(),
        b"fresh",
        "the stale READ took nothing"
    );
    assert!(root.poll(stale).is_none(), "and was never answered");
}

// ---- 1.6.1 Processes and connections ----

// spec: dev-proc-identity, dev-getpid-ids
#[test]
fn root_is_pid_1_with_parent_0() {
    let tree = Tree::new();
    let mut root = tree.root();
    assert_eq!(root.getpid(), (1, 0));
}

// spec: dev-proc-identity
#[test]
fn every_process_has_its_own_listening_socket_and_an_unused_pid() {
    let tree = Tree::new();
    let mut root = tree.root();
    let mut pids = vec![1];
    let mut guests = Vec::new();
    for _ in 0..3 {
        let pid = root.spawn("child", &[b"child"], &[], &[]).unwrap();
        let l = tree.next_launch();
        let meta = std::fs::metadata(&l.spec.socket).expect("socket exists at launch");
        assert!(meta.file_type().is_socket(), "listening before the launch");
        assert!((2..=i32::MAX as u32).contains(&pid));
        assert!(!pids.contains(&pid), "pid {pid} reused");
        pids.push(pid);
        let g = TestGuest::connect(&l.spec.socket);
        guests.push((pid, l, g));
    }
    for (pid, _l, g) in &mut guests {
        assert_eq!(
            g.getpid(),
            (*pid, 1),
            "requests are attributed to the connection's process"
        );
    }
    let (gone, _, g) = guests.remove(0);
    drop(g);
    assert_eq!(root.wait_child(gone as i64, 0), Ok((gone, 9)));
    let next = root.spawn("child", &[b"child"], &[], &[]).unwrap();
    assert!(
        guests.iter().all(|(p, _, _)| *p != next) && next != 1,
        "a new pid is not one of an unreaped process"
    );
}

// ---- 1.6.2 Requests and responses ----

// spec: dev-req-layout
#[test]
fn header_and_payloads_are_byte_streams_across_descriptors() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    let hdr = ReqHeader::new(Op::Write, 0, [w as u64, 0, 0]).as_bytes_le();
    // The header spans two descriptors; the payload starts inside the second.
    let mut second = hdr[20..].to_vec();
    second.extend_from_slice(b"hello");
    let raw = submit_pieces(
        &mut root,
        RAW,
        &[&hdr[..20], &second, b" world"],
        &[10, 22],
        0xee,
    );
    let d = root.wait(raw.ticket);
    let out = read_pieces(&root, &raw.writable);
    assert_eq!(d.used, 32);
    assert_eq!(resp(&out).result(), Ok(()));
    assert_eq!(resp(&out).ret(0), 11);
    // A READ whose response and data straddle descriptors.
    let hdr = ReqHeader::new(Op::Read, 0, [r as u64, 0, 0]).as_bytes_le();
    let raw = submit_pieces(&mut root, RAW, &[&hdr], &[7, 30, 4, 100], 0xee);
    let d = root.wait(raw.ticket);
    let out = read_pieces(&root, &raw.writable);
    assert_eq!(d.used, 32 + 11);
    assert_eq!(resp(&out).ret(0), 11);
    assert_eq!(&out[32..43], b"hello world");
}

// spec: dev-req-layout
#[test]
fn arguments_an_op_does_not_use_are_ignored() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (r, _w) = root.pipe(0).unwrap();
    let junk = 0xdead_beef_dead_beef;
    assert_eq!(
        status(&mut root, Op::GetPid, 0, [junk, junk, junk]),
        Ok([1, 0, 0])
    );
    assert_eq!(
        status(&mut root, Op::Start, 0, [junk, junk, junk]),
        Ok([0, 0, 0o022])
    );
    assert_eq!(
        status(&mut root, Op::GetFlags, 0, [r as u64, junk, junk]),
        Ok([0, 0, 0])
    );
    assert_eq!(
        status(&mut root, Op::Dup, 0, [r as u64, junk, junk]).map(|x| x[0]),
        Ok(5)
    );
    assert_eq!(status(&mut root, Op::Close, 0, [5, junk, junk]), Ok([0; 3]));
    assert_eq!(
        root.call(Op::Write, 0, [4, junk, junk], b"ab", 0).result(),
        Ok([2, 0, 0])
    );
}

// spec: dev-req-resp
#[test]
fn used_length_and_undefined_return_fields_are_exact() {
    let tree = Tree::new();
    let mut root = tree.root_with(vec![b"root".to_vec()], vec![b"A=1".to_vec()]);
    let (r, w) = root.pipe(0).unwrap();
    let ok_rets = |out: &[u8]| (resp(out).reserved.get(), resp(out).ret(1), resp(out).ret(2));

    let (used, out) = call_prefilled(&mut root, ReqHeader::new(Op::GetPid, 0, [0; 3]), &[], 0);
    assert_eq!((used, resp(&out).ret(0), ok_rets(&out)), (32, 1, (0, 0, 0)));

    let (used, out) = call_prefilled(
        &mut root,
        ReqHeader::new(Op::Write, 0, [w as u64, 0, 0]),
        b"abc",
        0,
    );
    assert_eq!((used, resp(&out).ret(0), ok_rets(&out)), (32, 3, (0, 0, 0)));

    let (used, out) = call_prefilled(
        &mut root,
        ReqHeader::new(Op::Read, 0, [r as u64, 0, 0]),
        &[],
        10,
    );
    assert_eq!((used, resp(&out).ret(0), ok_rets(&out)), (35, 3, (0, 0, 0)));
    assert_eq!(&out[32..35], b"abc");

    let (used, out) = call_prefilled(&mut root, ReqHeader::new(Op::Pipe, 0, [0; 3]), &[], 0);
    assert_eq!(
        (used, resp(&out).ret(2), resp(&out).reserved.get()),
        (32, 0, 0)
    );

    let (used, out) = call_prefilled(&mut root, ReqHeader::new(Op::Close, 0, [99, 0, 0]), &[], 0);
    assert_eq!(used, 32);
    assert_eq!(resp(&out).result(), Err(Errno::Ebadf));
    assert_eq!(
        (
            resp(&out).reserved.get(),
            resp(&out).ret(0),
            resp(&out).ret(1),
            resp(&out).ret(2)
        ),
        (0, 0, 0, 0),
        "an error leaves every ret 0"
    );

    // GET_ARGS: ERANGE keeps ret0 = the length needed, nothing else.
    let (used, out) = call_prefilled(&mut root, ReqHeader::new(Op::GetArgs, 0, [0; 3]), &[], 4);
    let need = 8 + 5 + 4;
    assert_eq!(used, 32);
    assert_eq!(resp(&out).result(), Err(Errno::Erange));
    assert_eq!(
        (resp(&out).ret(0), resp(&out).ret(1), resp(&out).ret(2)),
        (need, 0, 0)
    );
    assert_eq!(&out[32..], &[0xff; 4], "no payload written");
    let (used, out) = call_prefilled(
        &mut root,
        ReqHeader::new(Op::GetArgs, 0, [0; 3]),
        &[],
        need as usize + 3,
    );
    assert_eq!(used, 32 + need as u32);
    assert_eq!(
        (resp(&out).ret(0), resp(&out).ret(1), resp(&out).ret(2)),
        (need, 1, 1)
    );
}

// spec: dev-read-block, dev-write-direct, dev-req-out-of-order
#[test]
fn blocked_read_in_one_guest_is_woken_by_a_write_in_another() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    let child = root.spawn("child", &[b"child"], &[], &[]).unwrap();
    let (_l, mut c) = tree.accept_child();
    assert_eq!(c.getpid(), (child, 1));
    let t = root.submit_read(r, 100, 0);
    root.assert_pending(t, BLOCKED);
    assert_eq!(
        root.getpid().0,
        1,
        "a later request completes while the read blocks"
    );
    assert_eq!(c.write(w, b"hello").unwrap(), 5);
    let d = root.wait(t);
    assert_eq!(d.data, b"hello");
}

// spec: dev-req-out-of-order
#[test]
fn blocked_requests_delay_no_later_request_of_any_process() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    let (child, _l, mut c) = spawn_child(&tree, &mut root);
    let read = root.submit_read(r, 8, 0);
    let wait = root.submit(ReqHeader::new(Op::Wait, 0, [child as u64, 0, 0]), &[], 0);
    tree.wait_for("the root's read and wait to block", |s| s.waiting == 2);
    let child_read = c.submit_read(r, 8, 0);
    tree.wait_for("the child's read to block", |s| s.waiting == 3);
    for _ in 0..3 {
        assert_eq!(root.getpid(), (1, 0));
        assert_eq!(c.getpid(), (child, 1));
        let (r2, w2) = root.pipe(0).unwrap();
        root.write(w2, b"z").unwrap();
        assert_eq!(root.read(r2, 1).unwrap(), b"z");
        root.close(r2).unwrap();
        root.close(w2).unwrap();
    }
    root.assert_pending(read, Duration::ZERO);
    root.assert_pending(wait, Duration::ZERO);
    root.write(w, b"ab").unwrap();
    assert_eq!(root.wait(read).data, b"ab");
    root.write(w, b"cd").unwrap();
    assert_eq!(c.wait(child_read).data, b"cd");
    c.exit(1);
    assert_eq!(root.wait(wait).result(), Ok([child as u64, 1 << 8, 0]));
}

// spec: dev-req-invalid
#[test]
fn unknown_op_is_enosys() {
    let tree = Tree::new();
    let mut root = tree.root();
    for code in [0, 48, 77, u32::MAX] {
        let mut hdr = ReqHeader::new(Op::GetPid, 0, [0; 3]);
        hdr.op.set(code);
        let t = root.submit(hdr, &[], 0);
        assert_eq!(root.wait(t).result(), Err(Errno::Enosys), "op {code}");
    }
}

/// A request: op, flags, args, readable payload, writable payload size.
type Case<'a> = (Op, u32, [u64; 3], &'a [u8], usize);

// spec: dev-req-invalid
#[test]
fn undefined_flags_status_flags_and_stray_payloads_are_einval() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    let cases: &[Case<'_>] = &[
        (Op::Pipe, 1, [0; 3], &[], 0),
        (Op::Close, 1, [r as u64, 0, 0], &[], 0),
        (Op::Dup, 1 << 31, [r as u64, 0, 0], &[], 0),
        (Op::GetPid, 2, [0; 3], &[], 0),
        (Op::Start, 1, [0; 3], &[], 0),
        (Op::GetArgs, 1, [0; 3], &[], 64),
        (Op::Read, 2, [r as u64, 0, 0], &[], 8),
        (Op::Write, 2, [w as u64, 0, 0], b"x", 0),
        (Op::Wait, 8, [u64::MAX, 0, 0], &[], 0),
        (Op::Setsid, 1, [0; 3], &[], 0),
        (Op::Stop, 1, [19, 0, 0], &[], 0),
        (Op::Exit, 2, [0, 0, 0], &[], 0),
        (Op::Kill, 1, [1, 0, 0], &[], 0),
        (Op::Pipe, 0, [1, 0, 0], &[], 0),
        (Op::Pipe, 0, [(O_NONBLOCK | 0o2) as u64, 0, 0], &[], 0),
        (Op::SetFlags, 0, [r as u64, 0o2000, 0], &[], 0),
        (Op::SetFlags, 0, [r as u64, 1 << 40, 0], &[], 0),
        (Op::GetPid, 0, [0; 3], b"payload!", 0),
        (Op::Close, 0, [r as u64, 0, 0], b"x", 0),
        (Op::Read, 0, [r as u64, 0, 0], b"x", 8),
        (Op::Exit, 0, [0, 0, 0], b"bye", 0),
    ];
    for (op, flags, args, payload, out) in cases {
        let d = root.call(*op, *flags, *args, payload, *out);
        assert_eq!(
            d.result(),
            Err(Errno::Einval),
            "{op:?} flags {flags:#x} args {args:?}"
        );
    }
    // None of them had an effect: the pipe is intact and the root lives.
    assert_eq!(root.getpid(), (1, 0));
    root.write(w, b"still").unwrap();
    assert_eq!(root.read(r, 9).unwrap(), b"still");
    assert_eq!(get_flags(&mut root, r), Ok((0, 0)));
}

// spec: dev-req-fd-range
#[test]
fn fd_arguments_above_2_31_minus_1_are_ebadf() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (_r, _w) = root.pipe(0).unwrap();
    for bad in [1u64 << 31, u32::MAX as u64, 1 << 32, u64::MAX] {
        let cases: &[(Op, [u64; 3], &[u8], usize)] = &[
            (Op::Read, [bad, 0, 0], &[], 8),
            (Op::Write, [bad, 0, 0], b"x", 0),
            (Op::Close, [bad, 0, 0], &[], 0),
            (Op::Dup, [bad, 0, 0], &[], 0),
            (Op::Dup2, [bad, 3, 0], &[], 0),
            (Op::Dup2, [3, bad, 0], &[], 0),
            (Op::SetFlags, [bad, 0, 0], &[], 0),
            (Op::GetFlags, [bad, 0, 0], &[], 0),
        ];
        for (op, args, payload, out) in cases {
            let d = root.call(*op, 0, *args, payload, *out);
            assert_eq!(d.result(), Err(Errno::Ebadf), "{op:?} {args:?}");
        }
    }
    assert_eq!(get_flags(&mut root, 3), Ok((0, 0)), "fd 3 untouched");
}

// ---- 1.8 Error codes ----

// spec: dev-err-values
#[test]
fn every_status_is_in_the_error_table_and_never_eperm() {
    let table = [
        0u32, 2, 3, 7, 8, 9, 10, 11, 12, 14, 22, 23, 24, 32, 34, 36, 38,
    ];
    let tree = Tree::with_limits(vhost_user_pipe::Limits {
        max_fds: 8,
        max_pipes: 2,
        ..Default::default()
    });
    let mut root = tree.root();
    let (_r, w) = root.pipe(0).unwrap();
    let (r2, _w2) = root.pipe(0).unwrap();
    root.close(r2).unwrap();
    let args = [0u64, 1, 3, 4, 99, 1 << 31, 1 << 32, u64::MAX];
    let mut seen = std::collections::BTreeSet::new();
    for code in 0..=20u32 {
        for flags in [0u32, 1, 2] {
            for &a0 in &args {
                for &a1 in &[0u64, 9, 32, u64::MAX] {
                    let op = Op::from_code(code);
                    // Requests that would end the caller or block are left out.
                    let valid_exit =
                        op == Some(Op::Exit) && (a0 <= 255 || (flags == 1 && a1 <= 31));
                    // KILL of pid 1 or of its own group (0).
                    let kills_self = op == Some(Op::Kill) && a0 <= 1 && a1 != 0;
                    let blocks = matches!(op, Some(Op::Read)) && flags & 1 == 0 && (a0 <= 3);
                    let reads_stdin = matches!(op, Some(Op::Write | Op::Read)) && a0 <= 2;
                    if valid_exit || kills_self || blocks || reads_stdin {
                        continue;
                    }
                    let payload: &[u8] = if a1 == 32 { b"xyz" } else { b"" };
                    let mut hdr = ReqHeader::new(Op::GetPid, flags, [a0, a1, 0]);
                    hdr.op.set(code);
                    let t = root.submit(hdr, payload, 8);
                    let d = root.wait(t);
                    let s = d.resp.status.get();
                    assert!(
                        table.contains(&s),
                        "op {code} flags {flags} args {a0} {a1}: status {s}"
                    );
                    assert_ne!(s, Errno::Eperm as u32);
                    seen.insert(s);
                }
            }
        }
    }
    // The sweep reached a good part of the table.
    assert!(seen.len() >= 8, "statuses seen: {seen:?}");
    let _ = w;
}

// spec: dev-err-no-effect
#[test]
fn failed_requests_have_no_effect() {
    let tree = Tree::with_limits(vhost_user_pipe::Limits {
        max_fds: 6,
        pipe_capacity: 4096,
        ..Default::default()
    });
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    assert_eq!(write_nb(&mut root, w, &[1; 4000]), Ok(4000));
    let before = tree.sup.stats();
    // fds 0..=4 are taken: one free fd is too few for PIPE.
    assert_eq!(root.pipe(0), Err(Errno::Emfile));
    assert_eq!(dup2(&mut root, 99, r), Err(Errno::Ebadf));
    assert_eq!(dup2(&mut root, r, 6), Err(Errno::Ebadf));
    assert_eq!(write_nb(&mut root, w, &[2; 200]), Err(Errno::Eagain));
    assert_eq!(set_flags(&mut root, r, 0o1), Err(Errno::Einval));
    assert_eq!(root.spawn("nope", &[b"nope"], &[], &[]), Err(Errno::Enoent));
    assert_eq!(
        root.call(Op::Exit, 0, [256, 0, 0], &[], 0).result(),
        Err(Errno::Einval)
    );
    assert_eq!(kill(&mut root, 77, SIGKILL), Err(Errno::Esrch));
    assert_eq!(root.wait_child(-1, WAIT_F_NOHANG), Err(Errno::Echild));
    assert_eq!(tree.sup.stats(), before);
    assert_eq!(get_flags(&mut root, r), Ok((0, 0)));
    assert_eq!(dup(&mut root, r), Ok(5), "fd 5 was still free");
    assert_eq!(read_exact(&mut root, r, 4000, 4096), vec![1; 4000]);
    assert_eq!(
        read_nb(&mut root, r, 1),
        Err(Errno::Eagain),
        "nothing of the EAGAIN write"
    );
    let _ = (SIGPIPE, SIGUSR1, REQ_F_NONBLOCK);
}
