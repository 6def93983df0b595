//! Device conformance tests: limits (spec 1.11). Each test cites the
//! statements it checks (`spec: label`).

mod common;

use common::*;
use system_tests::tree::Tree;
use vhost_user_pipe::Limits;
use virtio_pipe_protocol::signal::SIGKILL;
use virtio_pipe_protocol::{Errno, Op, ARGS_MAX};

/// A spawn blob for image "child" whose strings region is `strings`.
fn spawn_blob(argc: u32, strings: &[u8]) -> Vec<u8> {
    let mut b: Vec<u8> = [5u32, argc, 0, 0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    b.extend_from_slice(b"child");
    b.extend_from_slice(strings);
    b
}

/// One argv string of `len` bytes plus its NUL.
fn one_string(len: usize) -> Vec<u8> {
    let mut s = vec![b'a'; len];
    s.push(0);
    s
}

// spec: dev-limit-processes
#[test]
fn process_limit_counts_unreaped_processes_and_is_eagain() {
    let tree = Tree::with_limits(Limits {
        max_processes: 3,
        ..Limits::default()
    });
    let mut root = tree.root();
    let (first, _l1, _c1) = spawn_child(&tree, &mut root);
    let (_second, _l2, mut c2) = spawn_child(&tree, &mut root);
    assert_eq!(
        root.spawn("child", &[b"child"], &[], &[]),
        Err(Errno::Eagain)
    );
    assert_eq!(
        status(&mut c2, Op::Fork, 0, [0x1000, 0, 0]),
        Err(Errno::Eagain),
        "FORK too"
    );
    kill(&mut root, first, SIGKILL).unwrap();
    assert_eq!(
        root.spawn("child", &[b"child"], &[], &[]),
        Err(Errno::Eagain),
        "an ended, unreaped child still counts"
    );
    assert_eq!(tree.sup.stats().processes, 3, "nothing created");
    root.wait_child(first as i64, 0).unwrap();
    assert!(
        root.spawn("child", &[b"child"], &[], &[]).is_ok(),
        "reaped: room again"
    );
}

// spec: dev-limit-fds
#[test]
fn fd_limit_is_emfile_and_fds_at_or_beyond_it_are_not_open() {
    let tree = Tree::with_limits(Limits {
        max_fds: 8,
        ..Limits::default()
    });
    let mut root = tree.root();
    assert_eq!(root.pipe(0), Ok((3, 4)));
    assert_eq!(root.pipe(0), Ok((5, 6)));
    assert_eq!(
        root.pipe(0),
        Err(Errno::Emfile),
        "one free fd is not enough"
    );
    assert_eq!(dup(&mut root, 3), Ok(7));
    assert_eq!(dup(&mut root, 3), Err(Errno::Emfile));
    for fd in [8, 9, 1000] {
        assert_eq!(root.close(fd), Err(Errno::Ebadf), "fd {fd}");
        assert_eq!(get_flags(&mut root, fd), Err(Errno::Ebadf));
        assert_eq!(root.read(fd, 1), Err(Errno::Ebadf));
        assert_eq!(dup2(&mut root, 3, fd), Err(Errno::Ebadf));
    }
    assert_eq!(
        tree.sup.stats().pipes,
        3 + 2,
        "the failed PIPE created nothing"
    );
}

// spec: dev-limit-files
#[test]
fn open_files_are_emfile_per_process_and_enfile_per_tree() {
    let tree = Tree::with_limits(Limits {
        max_fds: 6,
        max_open_files: 4,
        ..Limits::default()
    });
    std::fs::write(tree.root_dir().join("f"), b"x").unwrap();
    let mut root = tree.root();
    let opened: Vec<u32> = (0..3)
        .map(|_| common::files::open(&mut root, b"/f").unwrap())
        .collect();
    assert_eq!(opened, [3, 4, 5]);
    assert_eq!(
        common::files::open(&mut root, b"/f"),
        Err(Errno::Emfile),
        "no fd left in the process"
    );
    // The child inherits three more references (inheriting checks no
    // limit, as fork does not); once it closes them, one more file fills
    // the tree.
    let (_pid, _l, mut c) = spawn_child(&tree, &mut root);
    for fd in [3, 4, 5] {
        c.close(fd).unwrap();
    }
    assert_eq!(common::files::open(&mut c, b"/f"), Ok(3));
    assert_eq!(
        common::files::open(&mut c, b"/f"),
        Err(Errno::Enfile),
        "the limit is the tree's"
    );
    root.close(5).unwrap();
    assert!(
        common::files::open(&mut c, b"/f").is_ok(),
        "a closed reference no longer counts"
    );
}

// spec: dev-limit-pipes
#[test]
fn pipe_limit_is_enfile_and_the_standard_streams_are_not_pipes() {
    let tree = Tree::with_limits(Limits {
        max_pipes: 2,
        ..Limits::default()
    });
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    root.pipe(0).unwrap();
    assert_eq!(root.pipe(0), Err(Errno::Enfile));
    let (_pid, _l, mut c) = spawn_child(&tree, &mut root);
    assert_eq!(c.pipe(0), Err(Errno::Enfile), "the limit is device-wide");
    root.close(r).unwrap();
    root.close(w).unwrap();
    c.close(r).unwrap();
    assert_eq!(
        c.pipe(0),
        Err(Errno::Enfile),
        "the child still holds a write end"
    );
    c.close(w).unwrap();
    assert!(
        c.pipe(0).is_ok(),
        "a pipe with no end left no longer counts"
    );
}

// spec: dev-limit-bytes
#[test]
fn buffered_bytes_limit_is_enomem_and_a_destroyed_pipe_returns_its_capacity() {
    let tree = Tree::with_limits(Limits {
        pipe_capacity: 4096,
        max_buffered: 3 * 4096,
        ..Limits::default()
    });
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    root.pipe(0).unwrap();
    root.pipe(0).unwrap();
    assert_eq!(root.pipe(0), Err(Errno::Enomem));
    root.close(r).unwrap();
    assert_eq!(
        root.pipe(0),
        Err(Errno::Enomem),
        "one end left: the pipe exists"
    );
    root.close(w).unwrap();
    assert!(root.pipe(0).is_ok(), "its capacity is back");
    assert_eq!(root.pipe(0), Err(Errno::Enomem));
}

// spec: dev-limit-args
#[test]
fn spawn_strings_beyond_args_max_are_e2big() {
    let tree = Tree::new();
    let mut root = tree.root();
    assert_eq!(
        root.spawn_raw(&spawn_blob(1, &one_string(ARGS_MAX))),
        Err(Errno::E2big)
    );
    let mut two = one_string(ARGS_MAX / 2);
    two.extend(one_string(ARGS_MAX / 2 - 1));
    assert_eq!(root.spawn_raw(&spawn_blob(2, &two)), Err(Errno::E2big));
    assert_eq!(tree.sup.stats().processes, 1);
    let pid = root
        .spawn_raw(&spawn_blob(1, &one_string(ARGS_MAX - 1)))
        .expect("exactly ARGS_MAX bytes fit");
    let (l, mut c) = tree.accept_child();
    assert_eq!(l.spec.pid, pid);
    let (argv, _env) = c.get_args(ARGS_MAX + 64).unwrap();
    assert_eq!(argv[0].len(), ARGS_MAX - 1);
}

// spec: dev-limit-args
#[test]
fn tree_whose_root_args_exceed_args_max_is_refused() {
    let tree = Tree::new();
    let socket = tree.sup.run_dir().join("big-root.sock");
    // One byte more than ARGS_MAX.
    let argv = vec![b"root".to_vec(), vec![b'a'; ARGS_MAX - 5]];
    assert!(tree.sup.serve_root(&socket, argv, vec![]).is_err());
    assert_eq!(tree.sup.stats().processes, 0);
    // "root\0" + the string and its NUL + "E=x\0": exactly ARGS_MAX.
    let argv = vec![b"root".to_vec(), vec![b'a'; ARGS_MAX - 10]];
    let env = vec![b"E=x".to_vec()];
    let bytes: usize = argv.iter().chain(&env).map(|s| s.len() + 1).sum();
    assert_eq!(bytes, ARGS_MAX);
    let pid = tree
        .sup
        .serve_root(&socket, argv, env)
        .expect("exactly ARGS_MAX bytes");
    assert_eq!(pid, 1);
}

// spec: dev-limit-isolation
#[test]
fn reaching_a_limit_fails_only_that_request() {
    let tree = Tree::with_limits(Limits {
        max_pipes: 1,
        max_processes: 2,
        ..Limits::default()
    });
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    let pending = root.submit_read(r, 8, 0);
    assert_eq!(root.pipe(0), Err(Errno::Enfile));
    let (pid, _l, mut c) = spawn_child(&tree, &mut root);
    assert_eq!(c.spawn("child", &[b"child"], &[], &[]), Err(Errno::Eagain));
    assert_eq!(c.pipe(0), Err(Errno::Enfile));
    assert_eq!(c.getpid(), (pid, 1));
    root.assert_pending(pending, BLOCKED);
    c.write(w, b"served").unwrap();
    assert_eq!(root.wait(pending).data, b"served");
    assert_eq!(root.getpid(), (1, 0));
}
