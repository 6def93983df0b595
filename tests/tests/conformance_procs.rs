//! Device conformance tests: processes (spec 1.6.12 to 1.6.19: START,
//! GET_ARGS, SPAWN, FORK, WAIT, EXIT, KILL, GETPID) and the event queue
//! (1.7). Each test cites the statements it checks (`spec: label`).

mod common;

use std::time::Instant;

use common::*;
use system_tests::frontend::{RawDesc, TestGuest, DEADLINE, MEM_SIZE};
use system_tests::tree::Tree;
use vhost_user_pipe::launcher::{QemuLauncher, Template};
use vhost_user_pipe::qemu::Machine;
use vhost_user_pipe::Limits;
use virtio_bindings::bindings::virtio_ring::{VRING_DESC_F_NEXT, VRING_DESC_F_WRITE};
use virtio_pipe_protocol::signal::{SIGKILL, SIGTERM, SIGUSR1, SIGUSR2};
use virtio_pipe_protocol::ReqHeader;
use virtio_pipe_protocol::{
    Errno, Event, FileAction, Op, EVENT_SIZE, EXIT_F_SIGNALED, WAIT_F_NOHANG,
};
use vm_memory::{Bytes, GuestAddress};

fn start(g: &mut TestGuest) -> [u64; 3] {
    status(g, Op::Start, 0, [0; 3]).unwrap()
}

fn soon() -> Instant {
    Instant::now() + DEADLINE
}

fn exit_signaled(g: &mut TestGuest, signo: u64) -> Result<[u64; 3], Errno> {
    status(g, Op::Exit, EXIT_F_SIGNALED, [0, signo, 0])
}

/// Every event that arrives until none comes for a short while.
fn drain_events(g: &mut TestGuest) -> Vec<Event> {
    let mut out = Vec::new();
    while let Some(e) = g.wait_event(Instant::now() + BLOCKED) {
        out.push(e);
    }
    out
}

/// A spawn blob by hand: header fields, raw actions, name and strings.
fn blob(hdr: [u32; 4], actions: &[[u32; 4]], name: &[u8], strings: &[u8]) -> Vec<u8> {
    let mut b: Vec<u8> = hdr.iter().flat_map(|v| v.to_le_bytes()).collect();
    for a in actions {
        b.extend(a.iter().flat_map(|v| v.to_le_bytes()));
    }
    b.extend_from_slice(name);
    b.extend_from_slice(strings);
    b
}

// ---- 1.6.12 START ----

// spec: dev-start-kind, dev-exec-umask
#[test]
fn start_reports_fresh_for_the_root_and_spawned_children_every_time() {
    let tree = Tree::new();
    let mut root = tree.root();
    assert_eq!(start(&mut root), [0, 0, 0o022]);
    assert_eq!(start(&mut root), [0, 0, 0o022], "the same each time");
    let (_pid, _l, mut c) = spawn_child(&tree, &mut root);
    assert_eq!(start(&mut c), [0, 0, 0o022]);
    c.reset();
    assert_eq!(start(&mut c), [0, 0, 0o022], "and after a reset");
}

// ---- 1.6.13 GET_ARGS ----

// spec: dev-args-blob
#[test]
fn get_args_writes_the_blob_or_erange_with_the_length_needed() {
    let tree = Tree::new();
    let argv = vec![b"prog".to_vec(), b"-x".to_vec()];
    let env = vec![b"A=1".to_vec(), b"B=two".to_vec()];
    let mut root = tree.root_with(argv, env);
    let mut want = vec![2, 0, 0, 0, 2, 0, 0, 0];
    want.extend_from_slice(b"prog\0-x\0A=1\0B=two\0");
    for cap in [want.len(), want.len() + 50] {
        let d = root.call(Op::GetArgs, 0, [0; 3], &[], cap);
        assert_eq!(d.result(), Ok([want.len() as u64, 2, 2]));
        assert_eq!(d.used as usize, 32 + want.len());
        assert_eq!(d.data, want);
    }
    for cap in [0, 1, want.len() - 1] {
        let (used, out) = call_prefilled(
            &mut root,
            virtio_pipe_protocol::ReqHeader::new(Op::GetArgs, 0, [0; 3]),
            &[],
            cap,
        );
        assert_eq!(used, 32, "capacity {cap}");
        assert_eq!(resp(&out).result(), Err(Errno::Erange));
        assert_eq!(resp(&out).ret(0), want.len() as u64, "the length needed");
        assert!(out[32..].iter().all(|&b| b == 0xff), "no payload written");
    }
}

// spec: dev-args-source
#[test]
fn root_gets_the_configured_args_and_a_child_those_of_its_spawn_blob() {
    let tree = Tree::new();
    let mut root = tree.root_with(
        vec![b"root".to_vec(), b"r1".to_vec()],
        vec![b"R=1".to_vec()],
    );
    assert_eq!(
        root.get_args(4096),
        Ok((
            vec![b"root".to_vec(), b"r1".to_vec()],
            vec![b"R=1".to_vec()]
        ))
    );
    let pid = root
        .spawn("child", &[b"child", b"secret-arg"], &[b"SECRET=env"], &[])
        .unwrap();
    let l = tree.next_launch();
    let mut c = TestGuest::connect(&l.spec.socket);
    assert_eq!(c.getpid().0, pid);
    assert_eq!(
        c.get_args(4096),
        Ok((
            vec![b"child".to_vec(), b"secret-arg".to_vec()],
            vec![b"SECRET=env".to_vec()]
        ))
    );
    // Never on the QEMU command line.
    for machine in [
        Machine::MicrovmCarrier,
        Machine::MicrovmGeneric,
        Machine::Q35Carrier,
    ] {
        let qemu = QemuLauncher {
            qemu: "qemu-system-x86_64".into(),
            accel: "tcg".into(),
            memory_mib: 64,
            template: Template::parse(machine.template()),
            firmware: "/usr/share/qemu/qboot.rom".into(),
            tsc_khz: Some(2_596_130),
        };
        let line = qemu.args(&l.spec).join(" ");
        assert!(
            !line.contains("secret-arg") && !line.contains("SECRET"),
            "{line}"
        );
    }
}

// ---- 1.6.14 SPAWN ----

// spec: dev-spawn-reject
#[test]
fn malformed_spawn_blobs_and_bad_names_are_rejected_creating_nothing() {
    let tree = Tree::new();
    let mut root = tree.root();
    let ok_action = [1u32, 1, 0, 0];
    let long = vec![b'n'; 256];
    let cases: Vec<(&str, Vec<u8>, Errno)> = vec![
        (
            "shorter than its header",
            vec![5, 0, 0, 0, 1, 0, 0, 0],
            Errno::Einval,
        ),
        (
            "name cut short",
            blob([5, 1, 0, 0], &[], b"chi", b""),
            Errno::Einval,
        ),
        (
            "strings cut short",
            blob([5, 2, 0, 0], &[], b"child", b"a\0"),
            Errno::Einval,
        ),
        (
            "string without NUL",
            blob([5, 1, 0, 0], &[], b"child", b"abc"),
            Errno::Einval,
        ),
        (
            "actions cut short",
            blob([5, 1, 0, 2], &[ok_action], b"", b""),
            Errno::Einval,
        ),
        (
            "bytes after the last string",
            blob([5, 1, 0, 0], &[], b"child", b"c\0x"),
            Errno::Einval,
        ),
        (
            "65 actions",
            blob([5, 1, 0, 65], &[ok_action; 65], b"child", b"c\0"),
            Errno::Einval,
        ),
        (
            "action kind 3",
            blob([5, 1, 0, 1], &[[3, 1, 0, 0]], b"child", b"c\0"),
            Errno::Einval,
        ),
        (
            "action fd 2^31",
            blob([5, 1, 0, 1], &[[1, 1 << 31, 0, 0]], b"child", b"c\0"),
            Errno::Einval,
        ),
        (
            "action newfd 2^31",
            blob([5, 1, 0, 1], &[[2, 1, 1 << 31, 0]], b"child", b"c\0"),
            Errno::Einval,
        ),
        (
            "name not UTF-8",
            blob([2, 1, 0, 0], &[], b"\xff\xfe", b"c\0"),
            Errno::Einval,
        ),
        (
            "name with a NUL",
            blob([5, 1, 0, 0], &[], b"ch\0ld", b"c\0"),
            Errno::Einval,
        ),
        (
            "empty name",
            blob([0, 1, 0, 0], &[], b"", b"c\0"),
            Errno::Einval,
        ),
        (
            "name .",
            blob([1, 1, 0, 0], &[], b".", b"c\0"),
            Errno::Einval,
        ),
        (
            "name ..",
            blob([2, 1, 0, 0], &[], b"..", b"c\0"),
            Errno::Einval,
        ),
        (
            "name with /",
            blob([7, 1, 0, 0], &[], b"x/child", b"c\0"),
            Errno::Einval,
        ),
        (
            "absolute name",
            blob([6, 1, 0, 0], &[], b"/child", b"c\0"),
            Errno::Einval,
        ),
        (
            "name of 256 bytes",
            blob([256, 1, 0, 0], &[], &long, b"c\0"),
            Errno::Enametoolong,
        ),
        (
            "no such image",
            blob([7, 1, 0, 0], &[], b"missing", b"c\0"),
            Errno::Enoent,
        ),
    ];
    for (what, b, errno) in cases {
        assert_eq!(root.spawn_raw(&b), Err(errno), "{what}");
    }
    assert_eq!(tree.sup.stats().processes, 1, "no process created");
    assert!(tree.try_launch().is_none(), "no VM launched");
    // The same blob, well formed, works.
    assert!(root
        .spawn_raw(&blob([5, 1, 0, 0], &[], b"child", b"c\0"))
        .is_ok());
}

// spec: dev-spawn-reject
#[test]
fn spawn_of_a_file_that_is_not_a_bootable_image_is_enoexec() {
    let tree = Tree::new();
    std::fs::create_dir(tree.images().join("subdir")).unwrap();
    let mut root = tree.root();
    assert_eq!(
        root.spawn("subdir", &[b"subdir"], &[], &[]),
        Err(Errno::Enoexec)
    );
    assert_eq!(tree.sup.stats().processes, 1);
}

// spec: dev-spawn-actions
#[test]
fn file_actions_apply_in_order_to_a_copy_of_the_callers_table() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    let actions = [
        FileAction::Dup2 { fd: w, newfd: 1 },
        FileAction::Close { fd: w },
        FileAction::Close { fd: r },
        FileAction::Dup2 { fd: 1, newfd: 9 },
    ];
    root.spawn("child", &[b"child"], &[], &actions).unwrap();
    let (_l, mut c) = tree.accept_child();
    assert_eq!(get_flags(&mut c, w), Err(Errno::Ebadf));
    assert_eq!(get_flags(&mut c, r), Err(Errno::Ebadf));
    assert_eq!(get_flags(&mut c, 1), Ok((0, 1)));
    c.write(1, b"a").unwrap();
    c.write(9, b"b").unwrap();
    assert_eq!(
        read_exact(&mut root, r, 2, 2),
        b"ab",
        "fds 1 and 9 are the pipe"
    );
    assert_eq!(
        get_flags(&mut root, w),
        Ok((0, 1)),
        "the caller's table is untouched"
    );
    assert_eq!(get_flags(&mut root, 9), Err(Errno::Ebadf));
}

// spec: dev-spawn-actions
#[test]
fn file_action_on_a_closed_fd_or_beyond_the_limit_is_ebadf_creating_nothing() {
    let tree = Tree::with_limits(Limits {
        max_fds: 16,
        ..Limits::default()
    });
    let mut root = tree.root();
    let (r, _w) = root.pipe(0).unwrap();
    let before = tree.sup.stats();
    let cases: [&[FileAction]; 4] = [
        &[FileAction::Close { fd: 9 }],
        &[FileAction::Dup2 { fd: 9, newfd: 5 }],
        &[FileAction::Dup2 { fd: r, newfd: 16 }],
        &[
            FileAction::Close { fd: r },
            FileAction::Dup2 { fd: r, newfd: 5 },
        ],
    ];
    for actions in cases {
        assert_eq!(
            root.spawn("child", &[b"child"], &[], actions),
            Err(Errno::Ebadf),
            "{actions:?}"
        );
    }
    assert_eq!(
        tree.sup.stats(),
        before,
        "nothing created, no reference leaked"
    );
    assert!(tree.try_launch().is_none());
}

// spec: dev-spawn-create
#[test]
fn spawn_creates_a_live_child_of_the_caller_and_completes_before_it_boots() {
    let tree = Tree::new();
    let mut root = tree.root();
    let pid = root
        .spawn("worker", &[b"worker", b"7"], &[b"W=1"], &[])
        .unwrap();
    // Completed while the child has not connected, let alone booted.
    let l = tree.next_launch();
    assert_eq!(l.spec.pid, pid);
    assert_eq!(l.spec.image.file_name().unwrap(), "worker");
    assert_eq!(
        l.spec.image.parent().unwrap().canonicalize().unwrap(),
        tree.images().canonicalize().unwrap(),
        "the named image of the image directory"
    );
    assert_eq!(kill(&mut root, pid, 0), Ok(()), "live");
    assert_eq!(
        wait_nohang(&mut root, pid as i64),
        Ok((0, 0)),
        "a child of the caller"
    );
    let mut c = TestGuest::connect(&l.spec.socket);
    assert_eq!(c.getpid(), (pid, 1));
    assert_eq!(start(&mut c), [0, 0, 0o022]);
    assert_eq!(
        c.get_args(4096),
        Ok((
            vec![b"worker".to_vec(), b"7".to_vec()],
            vec![b"W=1".to_vec()]
        ))
    );
}

// ---- 1.6.15 FORK ----

const MARK_AT: u64 = 80 << 20;
const RECORD_AT: u64 = 72 << 20;

// spec: dev-fork-copy
#[test]
fn fork_child_ram_is_a_copy_of_the_callers_ram() {
    use std::os::unix::fs::FileExt;
    let tree = Tree::new();
    let mut root = tree.root();
    let (_pid, cl, mut c) = spawn_child(&tree, &mut root);
    c.mem
        .write_slice(b"fork marker", GuestAddress(MARK_AT))
        .unwrap();
    let fc = status(&mut c, Op::Fork, 0, [RECORD_AT, 0, 0]).unwrap()[0] as u32;
    c.mem
        .write_slice(b"later write", GuestAddress(MARK_AT))
        .unwrap();
    let l = tree.next_launch();
    assert_eq!(l.spec.pid, fc);
    assert_eq!(l.spec.image, cl.spec.image, "the caller's image");
    let ram = l
        .spec
        .memory
        .clone()
        .expect("the child boots on a copy of the RAM");
    let file = std::fs::File::open(&ram).unwrap();
    assert_eq!(
        file.metadata().unwrap().len(),
        MEM_SIZE as u64,
        "same RAM size"
    );
    let mut got = [0u8; 11];
    file.read_exact_at(&mut got, MARK_AT).unwrap();
    assert_eq!(&got, b"fork marker", "RAM as it was at the FORK");
}

// spec: dev-fork-result, dev-start-kind
#[test]
fn fork_child_gets_the_callers_fds_args_and_parent_and_nothing_else() {
    let tree = Tree::new();
    let mut root = tree.root();
    let pid = root
        .spawn("child", &[b"child", b"x"], &[b"E=1"], &[])
        .unwrap();
    let (_cl, mut c) = tree.accept_child_with(ALL_FEATURES);
    let (r, w) = c.pipe(0).unwrap();
    let (_g, _gl, mut gc) = spawn_child(&tree, &mut c);
    gc.exit(0);
    tree.wait_for("the grandchild to end", |s| s.running == 2);
    // The caller now has a child and an undelivered CHILD_EXIT event.
    let fc = status(&mut c, Op::Fork, 0, [RECORD_AT, 0, 0]).unwrap()[0] as u32;
    let (_l, mut f) = tree.accept_child_with(ALL_FEATURES);
    assert_eq!(f.getpid(), (fc, pid), "the caller is the parent");
    assert_eq!(
        start(&mut f),
        [1, RECORD_AT, 0o022],
        "forked, with the record"
    );
    f.reset();
    assert_eq!(start(&mut f), [1, RECORD_AT, 0o022], "every time");
    assert_eq!(
        f.get_args(4096),
        Ok((
            vec![b"child".to_vec(), b"x".to_vec()],
            vec![b"E=1".to_vec()]
        ))
    );
    f.write(w, b"from the fork").unwrap();
    assert_eq!(
        c.read(r, 20).unwrap(),
        b"from the fork",
        "a copy of the fd table"
    );
    assert_eq!(f.wait_child(-1, 0), Err(Errno::Echild), "no children");
    f.post_event_buffers(4);
    assert_eq!(
        f.wait_event(Instant::now() + BLOCKED),
        None,
        "no pending events"
    );
    assert_eq!(wait_nohang(&mut c, fc as i64), Ok((0, 0)));
}

// spec: dev-fork-reject
#[test]
fn fork_with_another_request_pending_is_einval_and_outside_ram_is_efault() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (_pid, _l, mut c) = spawn_child(&tree, &mut root);
    let (r, w) = c.pipe(0).unwrap();
    let t = c.submit_read(r, 4, 0);
    c.assert_pending(t, BLOCKED);
    let before = tree.sup.stats().processes;
    assert_eq!(
        status(&mut c, Op::Fork, 0, [RECORD_AT, 0, 0]),
        Err(Errno::Einval)
    );
    c.write(w, b"done").unwrap();
    assert_eq!(c.wait(t).data, b"done");
    for addr in [MEM_SIZE as u64, MEM_SIZE as u64 + 4096, u64::MAX] {
        assert_eq!(
            status(&mut c, Op::Fork, 0, [addr, 0, 0]),
            Err(Errno::Efault),
            "{addr:#x}"
        );
    }
    assert_eq!(tree.sup.stats().processes, before, "nothing created");
    assert!(tree.try_launch().is_none());
}

// spec: dev-fork-reject, dev-start-land
#[test]
fn fork_mailbox_must_be_page_aligned_and_a_cold_child_is_told_forked_not_land() {
    /// A page of the caller's RAM, as the guest kernel's mailbox is.
    const MAILBOX_AT: u64 = 0x19_9000;
    let tree = Tree::new();
    let mut root = tree.root();
    let (_pid, cl, mut c) = spawn_child(&tree, &mut root);
    let before = tree.sup.stats().processes;
    for mailbox in [1, 8, 0x800, MAILBOX_AT + 0x10, u64::MAX] {
        assert_eq!(
            status(&mut c, Op::Fork, 0, [RECORD_AT, mailbox, 0]),
            Err(Errno::Einval),
            "mailbox {mailbox:#x}"
        );
    }
    assert_eq!(tree.sup.stats().processes, before, "nothing created");
    assert!(tree.try_launch().is_none());
    // Page-aligned: valid. This tree parks no VM, so the child boots cold
    // on a copy of the RAM and its START says forked, never land.
    let fc = status(&mut c, Op::Fork, 0, [RECORD_AT, MAILBOX_AT, 0]).unwrap()[0] as u32;
    let (l, mut f) = tree.accept_child_with(ALL_FEATURES);
    assert_eq!(l.spec.pid, fc);
    assert_eq!(l.spec.image, cl.spec.image);
    assert!(l.spec.memory.is_some(), "a new VM on a copy of the RAM");
    assert_eq!(start(&mut f), [1, RECORD_AT, 0o022], "forked, not land");
    f.reset();
    assert_eq!(start(&mut f), [1, RECORD_AT, 0o022], "every time");
}

// ---- 1.6.16 WAIT ----

// spec: dev-wait-args
#[test]
fn wait_for_pid_beyond_2_32_minus_1_either_way_is_einval() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (_pid, _l, _c) = spawn_child(&tree, &mut root);
    // 0 and -pgid name groups (1.6.26): only the range's edges are EINVAL.
    for pid in [-(1i64 << 32), i64::MIN, 1 << 32, i64::MAX] {
        for flags in [0, WAIT_F_NOHANG] {
            assert_eq!(root.wait_child(pid, flags), Err(Errno::Einval), "pid {pid}");
        }
    }
    assert_eq!(
        root.wait_child(u32::MAX as i64, 0),
        Err(Errno::Echild),
        "in range"
    );
    assert_eq!(
        root.wait_child(-(u32::MAX as i64), 0),
        Err(Errno::Echild),
        "in range: no child in that group"
    );
}

// spec: dev-wait-block
#[test]
fn wait_blocks_until_a_matching_child_ends_then_reaps_it() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (p1, _l1, mut c1) = spawn_child(&tree, &mut root);
    let (p2, _l2, mut c2) = spawn_child(&tree, &mut root);
    let t = root.submit(
        virtio_pipe_protocol::ReqHeader::new(Op::Wait, 0, [p2 as u64, 0, 0]),
        &[],
        0,
    );
    root.assert_pending(t, BLOCKED);
    c1.exit(1);
    tree.wait_for("the first child to end", |s| s.running == 2);
    root.assert_pending(t, BLOCKED);
    c2.exit(4);
    assert_eq!(root.wait(t).result(), Ok([p2 as u64, 4 << 8, 0]));
    assert_eq!(root.wait_child(p2 as i64, 0), Err(Errno::Echild), "reaped");
    assert_eq!(
        root.wait_child(-1, 0),
        Ok((p1, 1 << 8)),
        "an ended child at once"
    );
    assert_eq!(root.wait_child(-1, 0), Err(Errno::Echild));
}

// spec: dev-wait-nohang
#[test]
fn wait_nohang_completes_at_once() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (pid, _l, mut c) = spawn_child(&tree, &mut root);
    assert_eq!(wait_nohang(&mut root, -1), Ok((0, 0)));
    assert_eq!(wait_nohang(&mut root, pid as i64), Ok((0, 0)));
    c.exit(2);
    tree.wait_for("the child to end", |s| s.running == 1);
    assert_eq!(wait_nohang(&mut root, -1), Ok((pid, 2 << 8)));
    assert_eq!(wait_nohang(&mut root, -1), Err(Errno::Echild), "reaped");
}

// spec: dev-wait-echild
#[test]
fn wait_without_a_matching_child_is_echild() {
    let tree = Tree::new();
    let mut root = tree.root();
    assert_eq!(
        root.wait_child(-1, 0),
        Err(Errno::Echild),
        "no child at all"
    );
    let (pid, _l, mut c) = spawn_child(&tree, &mut root);
    let (grandchild, _gl, _g) = spawn_child(&tree, &mut c);
    assert_eq!(root.wait_child(pid as i64 + 100, 0), Err(Errno::Echild));
    assert_eq!(
        root.wait_child(grandchild as i64, 0),
        Err(Errno::Echild),
        "not the caller's"
    );
    assert_eq!(
        c.wait_child(1, 0),
        Err(Errno::Echild),
        "a parent is no child"
    );
}

// spec: dev-wait-echild
#[test]
fn pending_wait_gets_echild_when_another_wait_reaps_its_child() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (pid, _l, mut c) = spawn_child(&tree, &mut root);
    let wait = |g: &mut TestGuest, target: i64| {
        g.submit(
            virtio_pipe_protocol::ReqHeader::new(Op::Wait, 0, [target as u64, 0, 0]),
            &[],
            0,
        )
    };
    let any = wait(&mut root, -1);
    let one = wait(&mut root, pid as i64);
    root.assert_pending(any, BLOCKED);
    root.assert_pending(one, BLOCKED);
    c.exit(6);
    assert_eq!(root.wait(any).result(), Ok([pid as u64, 6 << 8, 0]));
    assert_eq!(
        root.wait(one).result(),
        Err(Errno::Echild),
        "its child was reaped"
    );
}

// spec: dev-wait-status
#[test]
fn wait_status_is_the_code_shifted_by_8_or_the_signal_number() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (a, _la, mut ca) = spawn_child(&tree, &mut root);
    let (b, _lb, mut cb) = spawn_child(&tree, &mut root);
    let (s, _ls, mut cs) = spawn_child(&tree, &mut root);
    let (k, _lk, _ck) = spawn_child(&tree, &mut root);
    let (t, _lt, _ct) = spawn_child_with(&tree, &mut root, NO_SIGNALS);
    ca.exit(0);
    cb.exit(255);
    exit_signaled(&mut cs, 6).unwrap();
    kill(&mut root, k, SIGKILL).unwrap();
    kill(&mut root, t, SIGTERM).unwrap();
    for (pid, status) in [(a, 0), (b, 0xff00), (s, 6), (k, 9), (t, 15)] {
        assert_eq!(
            root.wait_child(pid as i64, 0),
            Ok((pid, status)),
            "pid {pid}"
        );
    }
}

// ---- 1.6.17 EXIT ----

// spec: dev-exit-args
#[test]
fn exit_with_a_bad_code_or_signal_is_einval_and_the_process_lives() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (pid, _l, mut c) = spawn_child(&tree, &mut root);
    assert_eq!(status(&mut c, Op::Exit, 0, [256, 0, 0]), Err(Errno::Einval));
    assert_eq!(
        status(&mut c, Op::Exit, 0, [u64::MAX, 0, 0]),
        Err(Errno::Einval)
    );
    assert_eq!(exit_signaled(&mut c, 0), Err(Errno::Einval));
    assert_eq!(exit_signaled(&mut c, 32), Err(Errno::Einval));
    assert_eq!(c.getpid(), (pid, 1), "still served");
    assert_eq!(wait_nohang(&mut root, pid as i64), Ok((0, 0)), "still live");
    assert_eq!(exit_signaled(&mut c, 31), Ok([0, 0, 0]), "31 is a signal");
    assert_eq!(root.wait_child(pid as i64, 0), Ok((pid, 31)));
}

// spec: dev-exit-sequence
#[test]
fn exit_closes_fds_discards_requests_reparents_children_then_completes() {
    let tree = Tree::new();
    let mut root = tree.root();
    root.post_event_buffers(4);
    let (r, w) = root.pipe(0).unwrap();
    let (pid, _l, mut c) = spawn_child(&tree, &mut root);
    root.close(w).unwrap();
    let eof = root.submit_read(r, 8, 0);
    let actions = [FileAction::Close { fd: r }, FileAction::Close { fd: w }];
    let g = c.spawn("child", &[b"child"], &[], &actions).unwrap();
    let (_gl, mut gc) = tree.accept_child_with(ALL_FEATURES);
    let (cr, _cw) = c.pipe(0).unwrap();
    let discarded = c.submit_read(cr, 8, 0);
    let discarded_wait = c.submit(
        virtio_pipe_protocol::ReqHeader::new(Op::Wait, 0, [u64::MAX, 0, 0]),
        &[],
        0,
    );
    tree.wait_for("three blocked requests", |s| s.waiting == 3);
    assert_eq!(c.exit(7).result(), Ok([0, 0, 0]), "EXIT completes with 0");
    // Its fds are closed: the parent's reader sees EOF.
    assert_eq!(root.wait(eof).result(), Ok([0, 0, 0]));
    assert_eq!(
        root.wait_event(soon()),
        Some(Event::ChildExit {
            pid,
            status: 7 << 8
        })
    );
    assert_eq!(gc.getpid(), (g, 1), "re-parented to pid 1");
    // Its other requests are discarded, and nothing more is processed.
    c.assert_pending(discarded, BLOCKED);
    c.assert_pending(discarded_wait, std::time::Duration::ZERO);
    let after = c.submit(
        virtio_pipe_protocol::ReqHeader::new(Op::GetPid, 0, [0; 3]),
        &[],
        0,
    );
    c.assert_pending(after, BLOCKED);
    assert_eq!(root.wait_child(pid as i64, 0), Ok((pid, 7 << 8)));
}

// spec: dev-exit-vanish
#[test]
fn vm_that_ends_without_exit_ends_the_process_as_by_sigkill() {
    let tree = Tree::new();
    let mut root = tree.root();
    root.post_event_buffers(2);
    let (r, w) = root.pipe(0).unwrap();
    let (pid, l, mut c) = spawn_child(&tree, &mut root);
    root.close(w).unwrap();
    let eof = root.submit_read(r, 8, 0);
    let (cr, _cw) = c.pipe(0).unwrap();
    let pending = c.submit_read(cr, 8, 0);
    tree.wait_for("two blocked reads", |s| s.waiting == 2);
    l.vm.end();
    assert_eq!(
        root.wait(eof).result(),
        Ok([0, 0, 0]),
        "its pipe ends close"
    );
    assert_eq!(
        root.wait_event(soon()),
        Some(Event::ChildExit { pid, status: 9 })
    );
    assert_eq!(root.wait_child(pid as i64, 0), Ok((pid, 9)));
    c.assert_pending(pending, BLOCKED);
}

// spec: dev-exit-vanish
#[test]
fn dropped_connection_ends_the_process_as_by_sigkill() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    let (pid, l, c) = spawn_child(&tree, &mut root);
    root.close(r).unwrap();
    let wait = root.submit(
        virtio_pipe_protocol::ReqHeader::new(Op::Wait, 0, [pid as u64, 0, 0]),
        &[],
        0,
    );
    root.assert_pending(wait, BLOCKED);
    drop(c);
    assert_eq!(root.wait(wait).result(), Ok([pid as u64, 9, 0]));
    assert_eq!(
        root.write(w, b"x"),
        Err(Errno::Epipe),
        "its read end is closed"
    );
    eventually("the VM to be stopped", || l.vm.was_killed());
}

// spec: dev-exit-root
#[test]
fn root_adopts_orphans_and_gets_events_for_those_already_ended() {
    let tree = Tree::new();
    let mut root = tree.root();
    root.post_event_buffers(8);
    let (c, _l, mut cg) = spawn_child(&tree, &mut root);
    let (g1, _l1, mut g1g) = spawn_child(&tree, &mut cg);
    let (g2, _l2, mut g2g) = spawn_child(&tree, &mut cg);
    g1g.exit(1);
    tree.wait_for("the first grandchild to end", |s| s.running == 3);
    cg.exit(0);
    let mut got = vec![
        root.wait_event(soon()).unwrap(),
        root.wait_event(soon()).unwrap(),
    ];
    got.sort_by_key(|e| format!("{e:?}"));
    let mut want = vec![
        Event::ChildExit { pid: c, status: 0 },
        Event::ChildExit {
            pid: g1,
            status: 1 << 8,
        },
    ];
    want.sort_by_key(|e| format!("{e:?}"));
    assert_eq!(got, want, "an event for the adopted child that had ended");
    assert_eq!(g2g.getpid(), (g2, 1));
    assert_eq!(
        root.wait_child(g1 as i64, 0),
        Ok((g1, 1 << 8)),
        "waitable by pid 1"
    );
    g2g.exit(2);
    assert_eq!(
        root.wait_event(soon()),
        Some(Event::ChildExit {
            pid: g2,
            status: 2 << 8
        })
    );
    let mut reaped = vec![
        root.wait_child(-1, 0).unwrap(),
        root.wait_child(-1, 0).unwrap(),
    ];
    reaped.sort();
    assert_eq!(reaped, vec![(c, 0), (g2, 2 << 8)]);
}

// spec: dev-exit-root
#[test]
fn root_exit_ends_every_process_and_the_tree() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (_c, lc, mut c) = spawn_child(&tree, &mut root);
    let (_g, lg, _gg) = spawn_child(&tree, &mut c);
    assert_eq!(root.exit(3).result(), Ok([0, 0, 0]));
    let status = tree.sup.wait_tree(Some(soon())).expect("the tree ends");
    assert_eq!(status, 3 << 8);
    assert_eq!(
        vhost_user_pipe::exit_code(status),
        3,
        "the daemon exits with 3"
    );
    eventually("every VM to be stopped", || {
        lc.vm.was_killed() && lg.vm.was_killed()
    });
    assert_eq!(tree.sup.stats().running, 0);
    let late = c.submit(
        virtio_pipe_protocol::ReqHeader::new(Op::Spawn, 0, [0; 3]),
        &blob([5, 1, 0, 0], &[], b"child", b"c\0"),
        0,
    );
    c.assert_pending(late, BLOCKED);
    assert!(tree.try_launch().is_none(), "no process is created");
}

// ---- 1.6.18 KILL ----

// spec: dev-kill-args
#[test]
fn kill_checks_pid_and_signal_and_needs_a_live_target() {
    let tree = Tree::new();
    let mut root = tree.root();
    // 0, -1 and -pgid name groups now (1.6.26): the edges of the range.
    assert_eq!(
        status(&mut root, Op::Kill, 0, [1 << 32, 0, 0]),
        Err(Errno::Einval)
    );
    assert_eq!(
        status(&mut root, Op::Kill, 0, [(-(1i64 << 32)) as u64, 0, 0]),
        Err(Errno::Einval)
    );
    assert_eq!(
        status(&mut root, Op::Kill, 0, [i64::MIN as u64, 0, 0]),
        Err(Errno::Einval)
    );
    assert_eq!(kill(&mut root, 1, 32), Err(Errno::Einval));
    assert_eq!(
        status(&mut root, Op::Kill, 0, [1, u64::MAX, 0]),
        Err(Errno::Einval)
    );
    assert_eq!(kill(&mut root, 77, 0), Err(Errno::Esrch), "never created");
    let (ended, _l, mut c) = spawn_child(&tree, &mut root);
    c.exit(0);
    tree.wait_for("the child to end", |s| s.running == 1);
    assert_eq!(kill(&mut root, ended, 0), Err(Errno::Esrch), "ended");
    root.wait_child(ended as i64, 0).unwrap();
    assert_eq!(kill(&mut root, ended, SIGTERM), Err(Errno::Esrch), "reaped");
    let (live, _l2, mut c2) = spawn_child(&tree, &mut root);
    c2.post_event_buffers(2);
    assert_eq!(kill(&mut root, live, 0), Ok(()), "a probe");
    assert_eq!(
        c2.wait_event(Instant::now() + BLOCKED),
        None,
        "sends nothing"
    );
    assert_eq!(wait_nohang(&mut root, live as i64), Ok((0, 0)));
}

// spec: dev-kill-sigkill
#[test]
fn sigkill_stops_the_target_vm_and_is_never_an_event() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (pid, l, mut c) = spawn_child(&tree, &mut root);
    c.post_event_buffers(2);
    assert_eq!(kill(&mut root, pid, SIGKILL), Ok(()));
    assert_eq!(
        wait_nohang(&mut root, pid as i64),
        Ok((pid, 9)),
        "ended before the KILL completed"
    );
    eventually("the VM to be stopped", || l.vm.was_killed());
    assert_eq!(
        c.wait_event(Instant::now() + BLOCKED),
        None,
        "no SIGKILL event"
    );
}

// spec: dev-kill-sigkill
#[test]
fn sigkill_of_the_caller_ends_it_without_completing_the_kill() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (pid, l, mut c) = spawn_child(&tree, &mut root);
    let t = c.submit(
        virtio_pipe_protocol::ReqHeader::new(Op::Kill, 0, [pid as u64, SIGKILL as u64, 0]),
        &[],
        0,
    );
    assert_eq!(root.wait_child(pid as i64, 0), Ok((pid, 9)));
    eventually("the VM to be stopped", || l.vm.was_killed());
    c.assert_pending(t, BLOCKED);
}

// spec: dev-kill-stop
/// Regression: `kill(self, SIGSTOP)` was queued as an event, and the
/// runtime's default action ended the process with "signaled 19". Now it
/// stops the target (1.6.27), and is still never an event.
#[test]
fn sigstop_is_never_an_event_and_ends_no_one() {
    const SIGSTOP: u32 = 19;
    const SIGCONT: u32 = 18;
    let tree = Tree::new();
    let mut root = tree.root();
    let (pid, l, mut c) = spawn_child(&tree, &mut root);
    c.post_event_buffers(4);
    assert_eq!(kill(&mut c, pid, SIGSTOP), Ok(()), "to itself");
    eventually("its VM to be stopped", || l.vm.is_suspended());
    assert_eq!(
        wait_nohang(&mut root, pid as i64),
        Ok((0, 0)),
        "the target lives"
    );
    assert_eq!(kill(&mut root, pid, SIGCONT), Ok(()));
    assert_eq!(
        c.wait_event(Instant::now() + BLOCKED),
        Some(Event::Signal {
            signo: SIGCONT,
            sender: 1
        }),
        "SIGCONT only"
    );
    assert_eq!(c.wait_event(Instant::now() + BLOCKED), None);
    assert_eq!(c.getpid().0, pid);
}

// spec: dev-exit-sequence
/// Regression: a malformed chain after EXIT in the same batch was answered.
#[test]
fn nothing_after_exit_in_the_same_batch_is_answered() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (_pid, _l, mut c) = spawn_child(&tree, &mut root);
    let used_before = c.used_idx(0);
    let (exit, malformed) = c.batch(|c| {
        let exit = c.submit(ReqHeader::new(Op::Exit, 0, [5, 0, 0]), &[], 0);
        // A readable descriptor after a writable one, with room to answer.
        let malformed = c.submit_raw(
            0,
            &[
                RawDesc {
                    addr: RAW,
                    len: 32,
                    flags: (VRING_DESC_F_WRITE | VRING_DESC_F_NEXT) as u16,
                    next: 0,
                },
                RawDesc {
                    addr: RAW + 0x100,
                    len: 32,
                    flags: 0,
                    next: 0,
                },
            ],
            false,
        );
        (exit, malformed)
    });
    assert_eq!(c.wait(exit).result(), Ok([0, 0, 0]));
    tree.wait_for("the child to end", |s| s.running == 1);
    std::thread::sleep(BLOCKED);
    assert!(
        c.poll(malformed).is_none(),
        "the malformed chain was not answered"
    );
    assert_eq!(c.used_idx(0), used_before.wrapping_add(1), "only EXIT");
}

// spec: dev-fork-reject
/// Regression: a request completed earlier in the same batch but not yet on
/// the used ring did not count as pending.
#[test]
fn fork_after_another_request_in_the_same_batch_is_einval() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (_pid, _l, mut c) = spawn_child(&tree, &mut root);
    let before = tree.sup.stats().processes;
    let (getpid, fork) = c.batch(|c| {
        (
            c.submit(ReqHeader::new(Op::GetPid, 0, [0; 3]), &[], 0),
            c.submit(ReqHeader::new(Op::Fork, 0, [RECORD_AT, 0, 0]), &[], 0),
        )
    });
    assert!(c.wait(getpid).result().is_ok());
    assert_eq!(c.wait(fork).result(), Err(Errno::Einval));
    assert_eq!(tree.sup.stats().processes, before, "nothing created");
    assert!(tree.try_launch().is_none());
}

// spec: dev-kill-deliver
#[test]
fn catchable_signal_is_queued_as_an_event_from_the_sender() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (pid, _l, mut c) = spawn_child(&tree, &mut root);
    let (other, _l2, mut o) = spawn_child(&tree, &mut root);
    c.post_event_buffers(4);
    assert_eq!(kill(&mut root, pid, SIGUSR1), Ok(()));
    assert_eq!(
        c.wait_event(soon()),
        Some(Event::Signal {
            signo: SIGUSR1,
            sender: 1
        })
    );
    assert_eq!(kill(&mut o, pid, SIGTERM), Ok(()));
    assert_eq!(
        c.wait_event(soon()),
        Some(Event::Signal {
            signo: SIGTERM,
            sender: other
        })
    );
    assert_eq!(kill(&mut c, pid, SIGUSR2), Ok(()), "to itself");
    assert_eq!(
        c.wait_event(soon()),
        Some(Event::Signal {
            signo: SIGUSR2,
            sender: pid
        })
    );
    assert_eq!(
        wait_nohang(&mut root, pid as i64),
        Ok((0, 0)),
        "the target lives"
    );
}

// spec: dev-kill-default
#[test]
fn without_the_signals_feature_the_default_action_applies() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (pid, l, mut c) = spawn_child_with(&tree, &mut root, NO_SIGNALS);
    c.post_event_buffers(8);
    for ignored in [17, 18, 19, 20, 21, 22, 23, 28] {
        assert_eq!(kill(&mut root, pid, ignored), Ok(()), "signal {ignored}");
    }
    assert_eq!(
        wait_nohang(&mut root, pid as i64),
        Ok((0, 0)),
        "ignore, stop, continue: discarded"
    );
    assert_eq!(c.wait_event(Instant::now() + BLOCKED), None, "and no event");
    assert_eq!(kill(&mut root, pid, SIGTERM), Ok(()));
    assert_eq!(
        wait_nohang(&mut root, pid as i64),
        Ok((pid, SIGTERM)),
        "terminate"
    );
    eventually("the VM to be stopped", || l.vm.was_killed());
    // A child still booting has negotiated nothing yet.
    let (booting, lb) = spawn_unconnected(&tree, &mut root);
    assert_eq!(kill(&mut root, booting, SIGUSR1), Ok(()));
    assert_eq!(
        wait_nohang(&mut root, booting as i64),
        Ok((booting, SIGUSR1))
    );
    eventually("its VM to be stopped", || lb.vm.was_killed());
    // A signal that ends its own sender: the KILL is not completed.
    let (me, _lm, mut m) = spawn_child_with(&tree, &mut root, NO_SIGNALS);
    let t = m.submit(
        virtio_pipe_protocol::ReqHeader::new(Op::Kill, 0, [me as u64, 1, 0]),
        &[],
        0,
    );
    assert_eq!(root.wait_child(me as i64, 0), Ok((me, 1)));
    m.assert_pending(t, BLOCKED);
}

// spec: dev-kill-deliver
#[test]
fn a_fork_child_still_booting_gets_signals_as_events_like_its_parent() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (_pid, _cl, mut c) = spawn_child(&tree, &mut root);
    let fc = status(&mut c, Op::Fork, 0, [RECORD_AT, 0, 0]).unwrap()[0] as u32;
    let l = tree.next_launch();
    assert_eq!(l.spec.pid, fc);
    // Its VM has not connected: its runtime is still its parent's, which
    // negotiated signals, so SIGUSR1 waits for it instead of killing it.
    assert_eq!(kill(&mut root, fc, SIGUSR1), Ok(()));
    assert_eq!(wait_nohang(&mut c, fc as i64), Ok((0, 0)), "still alive");
    let mut child = TestGuest::connect_with(&l.spec.socket, ALL_FEATURES);
    child.post_event_buffers(4);
    assert_eq!(
        child.wait_event(Instant::now() + DEADLINE),
        Some(Event::Signal {
            signo: SIGUSR1,
            sender: 1
        })
    );
}

// ---- 1.6.19 GETPID ----

// spec: dev-getpid-ids
#[test]
fn getpid_reports_the_caller_and_its_current_parent() {
    let tree = Tree::new();
    let mut root = tree.root();
    assert_eq!(root.getpid(), (1, 0));
    let (c, _l, mut cg) = spawn_child(&tree, &mut root);
    assert_eq!(cg.getpid(), (c, 1));
    let (g, _gl, mut gg) = spawn_child(&tree, &mut cg);
    assert_eq!(gg.getpid(), (g, c));
    cg.exit(0);
    assert_eq!(gg.getpid(), (g, 1), "1 after re-parenting");
}

// ---- 1.7 The event queue ----

/// The raw bytes of the `eventq` buffer `head` of `post_event_buffers`.
fn event_bytes(g: &TestGuest, head: u16) -> Vec<u8> {
    peek(g, 0x10000 + head as u64 * EVENT_SIZE as u64, EVENT_SIZE)
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn le64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

// spec: dev-event-format
#[test]
fn events_are_32_bytes_with_the_documented_fields() {
    let tree = Tree::new();
    let mut root = tree.root();
    root.post_event_buffers(2);
    let (pid, _l, mut c) = spawn_child(&tree, &mut root);
    let (other, _l2, mut o) = spawn_child(&tree, &mut root);
    kill(&mut o, 1, SIGUSR2).unwrap();
    c.exit(2);
    drain_events(&mut root);
    let used = root.take_event_used();
    assert_eq!(used.len(), 2);
    let raw: Vec<Vec<u8>> = used
        .iter()
        .map(|&(head, len)| {
            assert_eq!(len, 32, "used length 32");
            event_bytes(&root, head)
        })
        .collect();
    let signal = &raw[0];
    assert_eq!(
        (
            le32(signal, 0),
            le32(signal, 4),
            le64(signal, 8),
            le64(signal, 16),
            le64(signal, 24)
        ),
        (2, SIGUSR2, other as u64, 0, 0),
        "SIGNAL: signo, sender, status 0, reserved 0"
    );
    let exit = &raw[1];
    assert_eq!(
        (
            le32(exit, 0),
            le32(exit, 4),
            le64(exit, 8),
            le64(exit, 16),
            le64(exit, 24)
        ),
        (1, 17, pid as u64, 2 << 8, 0),
        "CHILD_EXIT: SIGCHLD, the child, its status, reserved 0"
    );
}

// spec: dev-event-format, dev-event-hold
#[test]
fn unusable_eventq_buffers_are_returned_empty_and_the_event_waits() {
    let tree = Tree::new();
    let mut root = tree.root();
    let bad = [
        RawDesc {
            addr: RAW,
            len: 32,
            flags: 0,
            next: 0,
        },
        RawDesc {
            addr: RAW + 0x100,
            len: 16,
            flags: VRING_DESC_F_WRITE as u16,
            next: 0,
        },
    ];
    for d in bad {
        root.mem
            .write_slice(&[0xab; 32], GuestAddress(d.addr))
            .unwrap();
        root.submit_raw(1, &[d], false);
    }
    let (pid, _l, mut c) = spawn_child(&tree, &mut root);
    c.exit(0);
    tree.wait_for("the child to end", |s| s.running == 1);
    let mut used = Vec::new();
    eventually("both buffers to come back", || {
        used.extend(root.take_event_used());
        used.len() == 2
    });
    assert!(
        used.iter().all(|&(_, len)| len == 0),
        "used length 0: {used:?}"
    );
    assert_eq!(peek(&root, RAW, 32), vec![0xab; 32], "nothing written");
    assert_eq!(
        peek(&root, RAW + 0x100, 32),
        vec![0xab; 32],
        "nothing written"
    );
    root.post_event_buffers(1);
    assert_eq!(
        root.wait_event(soon()),
        Some(Event::ChildExit { pid, status: 0 }),
        "kept"
    );
}

// spec: dev-event-child-exit
#[test]
fn child_exit_event_goes_to_the_current_parent() {
    let tree = Tree::new();
    let mut root = tree.root();
    root.post_event_buffers(4);
    let (c, _l, mut cg) = spawn_child(&tree, &mut root);
    cg.post_event_buffers(4);
    let (g, _gl, mut gg) = spawn_child(&tree, &mut cg);
    let (g2, _gl2, mut gg2) = spawn_child(&tree, &mut cg);
    exit_signaled(&mut gg2, 11).unwrap();
    assert_eq!(
        cg.wait_event(soon()),
        Some(Event::ChildExit {
            pid: g2,
            status: 11
        })
    );
    assert_eq!(
        root.wait_event(Instant::now() + BLOCKED),
        None,
        "only the parent hears"
    );
    assert_eq!(cg.wait_child(g2 as i64, 0), Ok((g2, 11)));
    cg.exit(5);
    assert_eq!(
        root.wait_event(soon()),
        Some(Event::ChildExit {
            pid: c,
            status: 5 << 8
        })
    );
    gg.exit(1);
    assert_eq!(
        root.wait_event(soon()),
        Some(Event::ChildExit {
            pid: g,
            status: 1 << 8
        }),
        "the new parent"
    );
}

// spec: dev-event-hold
#[test]
fn events_wait_for_buffers_in_order_and_duplicate_signals_coalesce() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (pid, _l, mut c) = spawn_child(&tree, &mut root);
    for signo in [SIGUSR1, SIGUSR1, SIGUSR2, SIGUSR1] {
        kill(&mut c, 1, signo).unwrap();
    }
    kill(&mut root, pid, SIGKILL).unwrap();
    root.post_event_buffers(8);
    assert_eq!(
        drain_events(&mut root),
        vec![
            Event::Signal {
                signo: SIGUSR1,
                sender: pid
            },
            Event::Signal {
                signo: SIGUSR2,
                sender: pid
            },
            Event::ChildExit { pid, status: 9 },
        ]
    );
    // Once delivered, the same signal is a new event.
    let (p2, _l2, mut c2) = spawn_child(&tree, &mut root);
    kill(&mut c2, 1, SIGUSR1).unwrap();
    assert_eq!(
        root.wait_event(soon()),
        Some(Event::Signal {
            signo: SIGUSR1,
            sender: p2
        })
    );
}

// spec: dev-event-hold
#[test]
fn signals_are_kept_when_the_event_backlog_is_full() {
    let children = 70;
    let tree = Tree::with_limits(Limits {
        max_processes: children + 2,
        ..Limits::default()
    });
    let mut root = tree.root();
    let mut pids = Vec::new();
    for _ in 0..children {
        let (pid, _l) = spawn_unconnected(&tree, &mut root);
        kill(&mut root, pid, SIGKILL).unwrap();
        pids.push(pid);
    }
    let (sender, _l, mut c) = spawn_child(&tree, &mut root);
    kill(&mut c, 1, SIGUSR1).unwrap();
    kill(&mut c, 1, SIGUSR2).unwrap();
    let mut events = Vec::new();
    loop {
        root.post_event_buffers(16);
        let got = drain_events(&mut root);
        if got.is_empty() {
            break;
        }
        events.extend(got);
    }
    for signo in [SIGUSR1, SIGUSR2] {
        assert!(
            events.contains(&Event::Signal { signo, sender }),
            "{signo} kept"
        );
    }
    let exits = events
        .iter()
        .filter(|e| matches!(e, Event::ChildExit { .. }))
        .count();
    assert!(exits <= children);
    // Dropped CHILD_EXIT events stay recoverable through WAIT.
    for _ in 0..children {
        let (pid, status) = wait_nohang(&mut root, -1).unwrap();
        assert!(pids.contains(&pid) && status == 9);
    }
    assert_eq!(
        wait_nohang(&mut root, -1),
        Ok((0, 0)),
        "only the sender is left"
    );
}
