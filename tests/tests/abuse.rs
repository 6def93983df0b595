//! Limits and abuse: guests that try to exhaust the daemon or starve the
//! others. Each test states its bound; the daemon must fail only the
//! abusive request (spec: `dev-limit-isolation`) and keep serving.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use system_tests::frontend::{TestGuest, DEADLINE};
use system_tests::tree::Tree;
use vhost_user_pipe::process::EVENT_BACKLOG;
use vhost_user_pipe::test_utils::Launched;
use vhost_user_pipe::Limits;
use virtio_pipe_protocol::signal::SIGUSR1;
use virtio_pipe_protocol::{
    Errno, FileAction, Op, ReqHeader, ARGS_MAX, FILE_ACTIONS_MAX, IMAGE_NAME_MAX, O_NONBLOCK,
    PIPE_BUF, PIPE_CAPACITY_DEFAULT, REQ_F_NONBLOCK,
};

/// The round-trip bound under a flood, on this loaded 2-core machine
/// (RELIABILITY.md states it).
const FLOOD_P99: Duration = Duration::from_millis(100);

fn spawn_child(tree: &Tree, parent: &mut TestGuest) -> (u32, Launched, TestGuest) {
    let pid = parent.spawn("child", &[b"child"], &[], &[]).unwrap();
    let (l, g) = tree.accept_child();
    assert_eq!(l.spec.pid, pid);
    (pid, l, g)
}

fn write_nb(g: &mut TestGuest, fd: u32, data: &[u8]) -> Result<u64, Errno> {
    g.call(Op::Write, REQ_F_NONBLOCK, [fd as u64, 0, 0], data, 0)
        .result()
        .map(|r| r[0])
}

/// A spawn blob laid out by hand, so that it can break the limits the
/// encoder enforces.
fn raw_spawn_blob(name: &[u8], argv: &[&[u8]], env: &[&[u8]], actions: &[FileAction]) -> Vec<u8> {
    let mut b = Vec::new();
    for v in [
        name.len() as u32,
        argv.len() as u32,
        env.len() as u32,
        actions.len() as u32,
    ] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    for a in actions {
        let (kind, fd, newfd) = match *a {
            FileAction::Close { fd } => (1u32, fd, 0u32),
            FileAction::Dup2 { fd, newfd } => (2, fd, newfd),
        };
        for v in [kind, fd, newfd, 0] {
            b.extend_from_slice(&v.to_le_bytes());
        }
    }
    b.extend_from_slice(name);
    for s in argv.iter().chain(env) {
        b.extend_from_slice(s);
        b.push(0);
    }
    b
}

#[test]
fn spawn_bomb_stops_at_the_process_limit_with_eagain() {
    const MAX: usize = 8;
    let tree = Tree::with_limits(Limits {
        max_processes: MAX,
        ..Limits::default()
    });
    let mut root = tree.root();
    let mut kids = Vec::new();
    // The root and a child of its both spawn as fast as they can.
    let (first, l, mut c) = spawn_child(&tree, &mut root);
    kids.push((first, l));
    loop {
        let r = c.spawn("child", &[b"bomb"], &[], &[]);
        match r {
            Ok(pid) => kids.push((pid, tree.next_launch())),
            Err(e) => {
                assert_eq!(e, Errno::Eagain);
                break;
            }
        }
        match root.spawn("child", &[b"bomb"], &[], &[]) {
            Ok(pid) => kids.push((pid, tree.next_launch())),
            Err(e) => {
                assert_eq!(e, Errno::Eagain);
                break;
            }
        }
    }
    assert_eq!(kids.len(), MAX - 1, "the root and {} children", MAX - 1);
    assert_eq!(tree.sup.stats().processes, MAX);
    for _ in 0..3 {
        assert_eq!(root.spawn("child", &[], &[], &[]), Err(Errno::Eagain));
        assert_eq!(c.spawn("child", &[], &[], &[]), Err(Errno::Eagain));
    }
    assert!(
        tree.try_launch().is_none(),
        "a refused spawn launches nothing"
    );
    // Everything else still works.
    let (r, w) = root.pipe(0).unwrap();
    assert_eq!(root.write(w, b"ok"), Ok(2));
    assert_eq!(root.read(r, 2).unwrap(), b"ok");
    // An ended child holds its slot until it is reaped.
    let (pid, l) = kids.pop().unwrap();
    l.vm.end();
    tree.wait_for("the killed child to end", |s| s.running == MAX - 1);
    assert_eq!(root.spawn("child", &[], &[], &[]), Err(Errno::Eagain));
    // The last spawn came from the root or from c: its reaping frees the slot.
    let reaped = root
        .wait_child(pid as i64, virtio_pipe_protocol::WAIT_F_NOHANG)
        .or_else(|_| c.wait_child(pid as i64, 0));
    assert_eq!(reaped, Ok((pid, 9)));
    let again = root.spawn("child", &[], &[], &[]).unwrap();
    assert!(again > pid, "pids are not reused");
    let _ = tree.next_launch();
}

#[test]
fn a_writer_without_reader_cannot_make_the_daemon_buffer_more_than_the_capacity() {
    let tree = Tree::new();
    let mut root = tree.root();
    let base = tree.sup.stats().buffered;
    // Blocking fds; the first writes ask for REQ_F_NONBLOCK each.
    let (r, w) = root.pipe(0).unwrap();
    let mut written = 0;
    loop {
        match write_nb(&mut root, w, &[7; PIPE_BUF]) {
            Ok(n) => written += n as usize,
            Err(e) => {
                assert_eq!(e, Errno::Eagain);
                break;
            }
        }
    }
    assert_eq!(written, PIPE_CAPACITY_DEFAULT);
    assert_eq!(tree.sup.stats().buffered - base, PIPE_CAPACITY_DEFAULT);
    // Atomic, large and tiny nonblocking writes are all refused now.
    assert_eq!(write_nb(&mut root, w, &[1; 1]), Err(Errno::Eagain));
    assert_eq!(write_nb(&mut root, w, &[1; 300_000]), Err(Errno::Eagain));
    // Blocking writes wait in the guest's memory, not in the daemon's.
    let (_, _l, mut c) = spawn_child(&tree, &mut root);
    root.close(r).unwrap();
    let mut tickets = Vec::new();
    for _ in 0..20 {
        tickets.push(c.submit_write(w, &[9; 200_000], 0));
    }
    tree.wait_for("twenty blocked writes", |s| s.waiting == 20);
    assert_eq!(
        tree.sup.stats().buffered - base,
        PIPE_CAPACITY_DEFAULT,
        "4 MB waiting to be written, 64 KiB buffered"
    );
    // Many full pipes: the buffered-bytes limit is reserved at creation.
    let limits = Limits {
        max_pipes: 100,
        max_buffered: 4 * PIPE_CAPACITY_DEFAULT,
        ..Limits::default()
    };
    let tree2 = Tree::with_limits(limits);
    let mut g = tree2.root();
    let mut pipes = Vec::new();
    let refused = loop {
        match g.pipe(O_NONBLOCK) {
            Ok(p) => pipes.push(p),
            Err(e) => break e,
        }
    };
    assert_eq!(refused, Errno::Enomem);
    for &(_, w) in &pipes {
        while write_nb(&mut g, w, &[3; PIPE_BUF]).is_ok() {}
    }
    let s = tree2.sup.stats();
    assert!(
        s.buffered <= limits.max_buffered,
        "{} bytes buffered, limit {}",
        s.buffered,
        limits.max_buffered
    );
    assert_eq!(pipes.len(), 4);
    assert_eq!(g.getpid(), (1, 0), "the guest is still served");
}

/// One model guest floods its queue from a thread (GETPID, and nonblocking
/// writes and reads on its own pipe, 30 requests in flight) while two
/// others play ping-pong: the round trips stay within [`FLOOD_P99`].
#[test]
fn a_flooding_guest_cannot_starve_another_guests_pipe() {
    /// Round trips go on for this long (and at least 300 of them).
    const WINDOW: Duration = Duration::from_secs(3);
    let tree = Tree::new();
    let mut root = tree.root();
    let down = root.pipe(0).unwrap();
    let up = root.pipe(0).unwrap();
    let (_, _lp, mut peer) = spawn_child(&tree, &mut root);
    let (_, _lf, mut flooder) = spawn_child(&tree, &mut root);
    let stop = Arc::new(AtomicBool::new(false));
    let flood = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let (r, w) = flooder.pipe(O_NONBLOCK).unwrap();
            let mut done = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let mut t = Vec::new();
                // 30 requests of 2 descriptors in flight: the queue holds 64.
                for i in 0..10 {
                    t.push(flooder.submit(ReqHeader::new(Op::GetPid, 0, [0; 3]), &[], 0));
                    t.push(flooder.submit_write(w, &[i as u8; 2048], REQ_F_NONBLOCK));
                    t.push(flooder.submit_read(r, 4096, REQ_F_NONBLOCK));
                }
                for t in t {
                    flooder.wait(t);
                    done += 1;
                }
            }
            done
        })
    };
    let mut rtts = Vec::new();
    let t0 = Instant::now();
    for i in 0.. {
        if i >= 300 && t0.elapsed() > WINDOW {
            break;
        }
        let msg = [i as u8; 64];
        let start = Instant::now();
        let pong = root.submit_read(up.0, 64, 0);
        assert_eq!(root.write(down.1, &msg), Ok(64));
        assert_eq!(peer.read(down.0, 64).unwrap(), msg);
        assert_eq!(peer.write(up.1, &msg), Ok(64));
        assert_eq!(root.wait(pong).data, msg);
        rtts.push(start.elapsed());
    }
    let elapsed = t0.elapsed();
    stop.store(true, Ordering::Relaxed);
    let flooded = flood.join().unwrap();
    rtts.sort();
    let n = rtts.len();
    let (p50, p99, max) = (rtts[n / 2], rtts[n * 99 / 100], rtts[n - 1]);
    eprintln!(
        "flood: {flooded} flood requests in {elapsed:?} ({:.0}/s); {n} round trips: p50 {p50:?} p99 {p99:?} max {max:?}",
        flooded as f64 / elapsed.as_secs_f64()
    );
    assert!(flooded as usize > n, "the flood ran ({flooded} requests)");
    assert!(
        p99 < FLOOD_P99,
        "round trip p99 {p99:?} under a flood (bound {FLOOD_P99:?})"
    );
}

#[test]
fn image_names_that_leave_the_image_directory_are_refused() {
    let tree = Tree::new();
    let mut root = tree.root();
    std::os::unix::fs::symlink("/bin/sh", tree.images().join("escape")).unwrap();
    let before = tree.sup.stats();
    let cases: &[(&[u8], Errno)] = &[
        (b"..", Errno::Einval),
        (b".", Errno::Einval),
        (b"../child", Errno::Einval),
        (b"../../../../bin/sh", Errno::Einval),
        (b"/bin/sh", Errno::Einval),
        (b"/", Errno::Einval),
        (b"images/child", Errno::Einval),
        (b"child/", Errno::Einval),
        (b"", Errno::Einval),
        (b"chi\0ld", Errno::Einval),
        (b"\xff\xfe", Errno::Einval),
        (b"escape", Errno::Enoent),
        (b"missing", Errno::Enoent),
    ];
    for &(name, errno) in cases {
        let blob = raw_spawn_blob(name, &[b"x"], &[], &[]);
        assert_eq!(
            root.spawn_raw(&blob),
            Err(errno),
            "name {:?}",
            String::from_utf8_lossy(name)
        );
    }
    let long = vec![b'a'; IMAGE_NAME_MAX + 1];
    assert_eq!(
        root.spawn_raw(&raw_spawn_blob(&long, &[], &[], &[])),
        Err(Errno::Enametoolong)
    );
    assert!(tree.try_launch().is_none(), "nothing was launched");
    assert_eq!(tree.sup.stats(), before, "nothing was created");
    assert!(root.spawn("child", &[b"child"], &[], &[]).is_ok());
}

#[test]
fn argv_env_and_spawn_payload_sizes_are_bounded() {
    let tree = Tree::new();
    let mut root = tree.root();
    let before = tree.sup.stats();
    // ARGS_MAX counts argv and env strings with their NULs.
    let half = vec![b'a'; ARGS_MAX / 2 - 1];
    let one_more = vec![b'b'; ARGS_MAX / 2];
    for (argv, env) in [
        (vec![&half[..], &one_more[..]], vec![]),
        (vec![], vec![&half[..], &one_more[..]]),
        (vec![&half[..]], vec![&one_more[..]]),
        (vec![&[][..]; ARGS_MAX + 1], vec![]),
    ] {
        let blob = raw_spawn_blob(b"child", &argv, &env, &[]);
        assert_eq!(root.spawn_raw(&blob), Err(Errno::E2big));
    }
    // A payload beyond the largest SPAWN the device reads.
    assert_eq!(root.spawn_raw(&vec![0u8; 300_000]), Err(Errno::E2big));
    // Too many file actions.
    let actions = vec![FileAction::Close { fd: 0 }; FILE_ACTIONS_MAX + 1];
    assert_eq!(
        root.spawn_raw(&raw_spawn_blob(b"child", &[], &[], &actions)),
        Err(Errno::Einval)
    );
    assert!(tree.try_launch().is_none());
    assert_eq!(tree.sup.stats(), before);
    // Exactly ARGS_MAX is allowed, and GET_ARGS hands it all back.
    let exact = vec![b'c'; ARGS_MAX / 2 - 1];
    let blob = raw_spawn_blob(b"child", &[&exact[..]], &[&exact[..]], &[]);
    let pid = root.spawn_raw(&blob).unwrap();
    let (l, mut c) = tree.accept_child();
    assert_eq!(l.spec.pid, pid);
    let small = c.call(Op::GetArgs, 0, [0; 3], &[], 100);
    assert_eq!(small.result(), Err(Errno::Erange));
    let need = small.resp.ret(0) as usize;
    assert_eq!(need, 8 + ARGS_MAX);
    let (argv, env) = c.get_args(need).unwrap();
    assert_eq!((argv, env), (vec![exact.clone()], vec![exact]));
}

#[test]
fn events_for_a_guest_that_never_reads_them_stay_bounded() {
    let tree = Tree::new();
    let mut root = tree.root();
    // The root posts no eventq buffers; a child signals it over and over,
    // and children end without the root reading CHILD_EXIT events.
    let (_, _l, mut c) = spawn_child(&tree, &mut root);
    for _ in 0..200 {
        assert_eq!(
            c.call(Op::Kill, 0, [1, SIGUSR1 as u64, 0], &[], 0).result(),
            Ok([0; 3])
        );
    }
    for _ in 0..(EVENT_BACKLOG + 20) {
        let (pid, _l, mut k) = spawn_child(&tree, &mut root);
        k.exit(0);
        drop(k);
        assert_eq!(root.wait_child(pid as i64, 0), Ok((pid, 0)));
    }
    let held = tree.sup.kernel().process(1).unwrap().events.len();
    assert!(held <= EVENT_BACKLOG, "{held} events held");
    let until = Instant::now() + DEADLINE;
    root.post_event_buffers(8);
    assert!(root.wait_event(until).is_some(), "the events are delivered");
}
