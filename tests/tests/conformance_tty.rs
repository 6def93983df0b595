//! Conformance: `TTY`, the tree's terminal (spec 1.6.28). The test tree has
//! no host terminal: the daemon is told that its stdin and stderr are one
//! (`set_host_terminals`, as `run` does after asking `isatty`) and given a
//! terminal held in memory (`test_utils::FakeTerminal`) for the modes and
//! the window size. What this cannot check, the real terminal does: that
//! `TCSETS` changes the host's line discipline, that Ctrl-C on it raises
//! the signal the daemon forwards, and that the modes come back at exit
//! (`vhost-user-pipe/src/terminal.rs`'s unit tests on a pseudo-terminal,
//! and `tests/tests/terminal.rs` under tmux).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::files::*;
use common::*;
use system_tests::frontend::TestGuest;
use system_tests::tree::Tree;
use vhost_user_pipe::io::HostIo;
use vhost_user_pipe::process::HOST_PID;
use vhost_user_pipe::test_utils::FakeTerminal;
use virtio_pipe_protocol::fs::O_RDWR;
use virtio_pipe_protocol::signal::{SIGINT, SIGTERM};
use virtio_pipe_protocol::tty::*;
use virtio_pipe_protocol::{Errno, Event, Op, ReqHeader, Request, SetWhen, Termios, Winsize};
use zerocopy::little_endian::U16;
use zerocopy::{FromBytes, IntoBytes};

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(10)
}

/// A tree whose stdin and stderr are a (fake) host terminal, its stdout a
/// pipe; and the terminal.
fn terminal_tree() -> (Tree, Arc<FakeTerminal>) {
    let tree = Tree::new();
    let term = Arc::new(FakeTerminal::default());
    {
        let mut k = tree.sup.kernel();
        k.set_host_terminals([true, false, true]);
        k.set_host_terminal(Some(term.clone()));
    }
    (tree, term)
}

/// One `TTY`: (status, writable payload written).
fn tty(g: &mut TestGuest, fd: u32, ioctl: u32, input: &[u8], out: usize) -> Result<Vec<u8>, Errno> {
    let d = g.call(Op::Tty, 0, [fd as u64, ioctl as u64, 0], input, out);
    d.result().map(|_| d.data.clone())
}

fn get_attr(g: &mut TestGuest, fd: u32) -> Result<Termios, Errno> {
    let b = tty(g, fd, TCGETS, &[], TERMIOS_SIZE)?;
    Ok(Termios::read_from_bytes(&b[..TERMIOS_SIZE]).unwrap())
}

fn get_pgrp(g: &mut TestGuest, fd: u32) -> Result<i32, Errno> {
    let b = tty(g, fd, TIOCGPGRP, &[], PGRP_SIZE)?;
    Ok(i32::from_le_bytes(b[..4].try_into().unwrap()))
}

fn set_pgrp(g: &mut TestGuest, fd: u32, pgrp: i32) -> Result<(), Errno> {
    tty(g, fd, TIOCSPGRP, &pgrp.to_le_bytes(), 0).map(|_| ())
}

/// The host writes `data` to the root's stdin (what the stdin pump does).
fn host_types(tree: &Tree, data: &[u8]) {
    let (io, rx) = HostIo::boxed(data.to_vec(), 0);
    let req = Request::Write {
        fd: 0,
        len: data.len() as u32,
        nonblock: false,
    };
    tree.sup.kernel().submit(HOST_PID, req, io);
    let c = rx.recv_timeout(Duration::from_secs(10)).expect("written");
    assert_eq!(c.resp.result(), Ok(()));
}

// spec: dev-tty-args
#[test]
fn tty_checks_its_ioctl_its_payload_sizes_and_its_fd() {
    let (tree, _term) = terminal_tree();
    let mut root = tree.root();
    assert_eq!(
        tty(&mut root, 0, 0x5421, &[], 0),
        Err(Errno::Enotty),
        "FIONBIO"
    );
    assert_eq!(tty(&mut root, 0, 0x1234, &[], 64), Err(Errno::Enotty));
    let t = Termios::STANDARD;
    assert_eq!(
        tty(&mut root, 0, TCSETS, &t.as_bytes()[..35], 0),
        Err(Errno::Einval)
    );
    let mut long = t.as_bytes().to_vec();
    long.push(0);
    assert_eq!(tty(&mut root, 0, TCSETSF, &long, 0), Err(Errno::Einval));
    assert_eq!(
        tty(&mut root, 0, TCGETS, &[], TERMIOS_SIZE - 1),
        Err(Errno::Einval)
    );
    assert_eq!(tty(&mut root, 0, TIOCGWINSZ, &[], 7), Err(Errno::Einval));
    assert_eq!(tty(&mut root, 0, TIOCSPGRP, &[1, 0], 0), Err(Errno::Einval));
    assert_eq!(tty(&mut root, 0, TIOCNOTTY, &[0], 0), Err(Errno::Einval));
    assert_eq!(
        tty(&mut root, 1 << 31, TCGETS, &[], TERMIOS_SIZE),
        Err(Errno::Ebadf)
    );
    assert_eq!(
        tty(&mut root, 9, TCGETS, &[], TERMIOS_SIZE),
        Err(Errno::Ebadf),
        "not open"
    );
    // A failed TCSETS changed nothing.
    assert_eq!(get_attr(&mut root, 0), Ok(Termios::STANDARD));
}

// spec: dev-tty-enotty
#[test]
fn only_the_trees_terminal_answers_tty() {
    let (tree, _term) = terminal_tree();
    std::fs::write(tree.root_dir().join("file"), b"x").unwrap();
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    let file = open(&mut root, b"/file").unwrap();
    let dir = open(&mut root, b"/").unwrap();
    let null = open(&mut root, b"/dev/null").unwrap();
    // fd 1 is the root's stdout, a pipe to a host stream that is no terminal.
    for fd in [1, r, w, file, dir, null] {
        for ioctl in [TCGETS, TIOCGWINSZ, TIOCGPGRP] {
            assert_eq!(
                tty(&mut root, fd, ioctl, &[], 64),
                Err(Errno::Enotty),
                "fd {fd}, ioctl {ioctl:#x}"
            );
        }
        assert_eq!(tty(&mut root, fd, TIOCSCTTY, &[], 0), Err(Errno::Enotty));
    }
    // A tree whose daemon has no terminal has none at all.
    let plain = Tree::new();
    let mut root = plain.root();
    for fd in 0..3 {
        assert_eq!(get_attr(&mut root, fd), Err(Errno::Enotty));
        assert_eq!(get_pgrp(&mut root, fd), Err(Errno::Enotty));
    }
}

// spec: dev-tty-modes
#[test]
fn the_modes_and_the_window_size_are_the_host_terminals() {
    let (tree, term) = terminal_tree();
    let mut root = tree.root();
    assert_eq!(get_attr(&mut root, 0), Ok(Termios::STANDARD));
    // Raw mode, as a line editor sets it, on the host terminal.
    let mut raw = Termios::STANDARD;
    raw.c_lflag.set(raw.c_lflag.get() & !(ICANON | ECHO));
    tty(&mut root, 0, TCSETSW, raw.as_bytes(), 0).unwrap();
    assert_eq!(term.sets(), vec![(0, SetWhen::Drain)]);
    assert_eq!(get_attr(&mut root, 2), Ok(raw), "one terminal");
    // Through any fd that refers to it: a dup, /dev/tty, a child's.
    let d = dup(&mut root, 2).unwrap();
    tty(&mut root, d, TCSETS, Termios::STANDARD.as_bytes(), 0).unwrap();
    let t = open_flags(&mut root, b"/dev/tty", O_RDWR);
    tty(&mut root, t, TCSETSF, raw.as_bytes(), 0).unwrap();
    assert_eq!(
        term.sets(),
        vec![(0, SetWhen::Drain), (2, SetWhen::Now), (0, SetWhen::Flush)],
        "the host fd behind each: stdin, stderr, /dev/tty's stdin"
    );
    // TCSETSF also drops the input typed ahead, the stdin pipe's too.
    host_types(&tree, b"typed ahead");
    tty(&mut root, 0, TCSETSF, raw.as_bytes(), 0).unwrap();
    host_types(&tree, b"after");
    assert_eq!(root.read(0, 100).unwrap(), b"after");
    let (_, _l, mut c) = spawn_child(&tree, &mut root);
    assert_eq!(get_attr(&mut c, 0), Ok(raw));
    // The window size.
    let ws = tty(&mut root, 0, TIOCGWINSZ, &[], WINSIZE_SIZE).unwrap();
    let ws = Winsize::read_from_bytes(&ws[..WINSIZE_SIZE]).unwrap();
    assert_eq!((ws.ws_row.get(), ws.ws_col.get()), (24, 80));
    let big = Winsize {
        ws_row: U16::new(30),
        ws_col: U16::new(100),
        ..Winsize::default()
    };
    tty(&mut c, 2, TIOCSWINSZ, big.as_bytes(), 0).unwrap();
    let ws = tty(&mut root, 0, TIOCGWINSZ, &[], 64).unwrap();
    assert_eq!(&ws[..WINSIZE_SIZE], big.as_bytes());
}

fn open_flags(g: &mut TestGuest, path: &[u8], flags: u32) -> u32 {
    openat(g, virtio_pipe_protocol::fs::AT_FDCWD, path, flags).unwrap()
}

// spec: dev-tty-pgrp
#[test]
fn the_foreground_group_is_the_devices_record() {
    let (tree, _term) = terminal_tree();
    let mut root = tree.root();
    assert_eq!(get_pgrp(&mut root, 0), Ok(1), "the root's group at first");
    assert_eq!(set_pgrp(&mut root, 0, -1), Err(Errno::Einval));
    assert_eq!(set_pgrp(&mut root, 0, 42), Err(Errno::Esrch));
    let (pid, _l, mut c) = spawn_child(&tree, &mut root);
    // The child is in its parent's group, not one of its own...
    assert_eq!(set_pgrp(&mut c, 2, pid as i32), Err(Errno::Esrch));
    assert_eq!(set_pgrp(&mut c, 2, 1), Ok(()));
    assert_eq!(get_pgrp(&mut c, 0), Ok(1));
    // ... until it makes one (SETPGID, 1.6.26): then it may lead.
    let d = c.call(Op::Setpgid, 0, [0, 0, 0], &[], 0);
    assert_eq!(d.result(), Ok([0; 3]));
    assert_eq!(set_pgrp(&mut root, 0, pid as i32), Ok(()));
    assert_eq!(get_pgrp(&mut root, 2), Ok(pid as i32));
    assert_eq!(tree.sup.kernel().foreground_group(), pid);
    // Taking the terminal makes the caller's group the foreground.
    assert_eq!(tty(&mut root, 0, TIOCSCTTY, &[], 0), Ok(vec![]));
    assert_eq!(get_pgrp(&mut c, 0), Ok(1));
    let d = c.call(Op::Tty, 0, [2, TIOCSCTTY as u64, 1], &[], 0);
    assert_eq!(d.result(), Ok([0; 3]), "with force");
    assert_eq!(get_pgrp(&mut root, 0), Ok(pid as i32));
    assert_eq!(tty(&mut root, 0, TIOCNOTTY, &[], 0), Ok(vec![]));
    assert_eq!(
        get_pgrp(&mut root, 0),
        Ok(pid as i32),
        "TIOCNOTTY changes nothing"
    );
}

// spec: dev-tty-signals
#[test]
fn the_terminals_signals_go_to_the_foreground_group_and_the_ending_ones_to_the_root() {
    let (tree, _term) = terminal_tree();
    let mut root = tree.root();
    root.post_event_buffers(4);
    let (pid, _l, mut c) = spawn_child(&tree, &mut root);
    c.post_event_buffers(4);
    // Ctrl-C on the host terminal: everyone of the foreground group (all
    // of the tree, the root's group), from pid 0.
    assert_eq!(tree.sup.signal_foreground(SIGINT), 2);
    let from_terminal = Some(Event::Signal {
        signo: SIGINT,
        sender: 0,
    });
    assert_eq!(root.wait_event(soon()), from_terminal);
    assert_eq!(c.wait_event(soon()), from_terminal);
    // SIGTERM to the daemon: the root only.
    assert!(tree.sup.signal_root(SIGTERM));
    assert_eq!(
        root.wait_event(soon()),
        Some(Event::Signal {
            signo: SIGTERM,
            sender: 0
        })
    );
    assert_eq!(c.wait_event(Instant::now() + BLOCKED), None);
    // Both still run: a handled signal ends no one.
    assert!(tree.sup.kernel().process(pid).unwrap().is_running());
    // A job in the foreground: the terminal's signals reach its group only.
    let d = c.call(Op::Setpgid, 0, [0, 0, 0], &[], 0);
    assert_eq!(d.result(), Ok([0; 3]));
    set_pgrp(&mut root, 0, pid as i32).unwrap();
    assert_eq!(tree.sup.signal_foreground(SIGINT), 1);
    assert_eq!(c.wait_event(soon()), from_terminal);
    assert_eq!(root.wait_event(Instant::now() + BLOCKED), None);
}

// spec: dev-tty-eof
#[test]
fn a_ctrl_d_ends_one_read_of_stdin_and_the_input_goes_on() {
    let (tree, _term) = terminal_tree();
    let mut root = tree.root();
    host_types(&tree, b"ab\n");
    tree.sup.kernel().mark_end_of_input();
    host_types(&tree, b"cd\n");
    assert_eq!(root.read(0, 100).unwrap(), b"ab\n", "up to the mark");
    assert_eq!(root.read(0, 100).unwrap(), b"", "end of file, once");
    assert_eq!(root.read(0, 100).unwrap(), b"cd\n", "then on");
    // A READ blocked on the empty stdin: the mark ends it, once.
    let t = root.submit_read(0, 100, 0);
    root.assert_pending(t, BLOCKED);
    tree.sup.kernel().mark_end_of_input();
    let d = root.wait(t);
    assert_eq!(d.result().unwrap()[0], 0);
    let t = root.submit_read(0, 100, 0);
    root.assert_pending(t, BLOCKED);
    host_types(&tree, b"e");
    assert_eq!(root.wait(t).data, b"e");
    // A mark makes stdin readable for POLL (1.6.25), as Ctrl-D does a
    // terminal on Linux: a blocked POLL ends, and the READ returns 0.
    let fds = [0u8, 0, 0, 0, 1, 0, 0, 0]; // fd 0, POLLIN
    let t = root.submit(ReqHeader::new(Op::Poll, 0, [1, 0, 0]), &fds, fds.len());
    root.assert_pending(t, BLOCKED);
    tree.sup.kernel().mark_end_of_input();
    let d = root.wait(t);
    assert_eq!(d.result().unwrap()[0], 1);
    assert_eq!(u16::from_le_bytes([d.data[6], d.data[7]]) & 1, 1, "POLLIN");
    assert_eq!(root.read(0, 100).unwrap(), b"");
}

// spec: dev-tty-background
#[test]
fn a_background_read_of_the_terminal_is_eio_and_moves_nothing() {
    let (tree, _term) = terminal_tree();
    let mut root = tree.root();
    let (pid, _l, mut c) = spawn_child(&tree, &mut root);
    // In the root's group, the foreground: the child reads.
    host_types(&tree, b"one\n");
    assert_eq!(c.read(0, 100).unwrap(), b"one\n");
    // In a group of its own it is in the background.
    let d = c.call(Op::Setpgid, 0, [0, 0, 0], &[], 0);
    assert_eq!(d.result(), Ok([0; 3]));
    host_types(&tree, b"two\n");
    let d = c.call(Op::Read, 0, [0, 0, 0], &[], 100);
    assert_eq!(
        (d.result(), d.used),
        (Err(Errno::Eio), 32),
        "EIO, nothing read"
    );
    assert_eq!(root.read(0, 100).unwrap(), b"two\n", "the bytes stayed");
    // Made the foreground group, it reads again (and blocks when empty).
    assert_eq!(set_pgrp(&mut root, 0, pid as i32), Ok(()));
    let t = c.submit_read(0, 100, 0);
    c.assert_pending(t, BLOCKED);
    host_types(&tree, b"three\n");
    assert_eq!(c.wait(t).data, b"three\n");
    // The root, now in the background, gets EIO; a process of another
    // session is not under the terminal's job control.
    let d = root.call(Op::Read, 0, [0, 0, 0], &[], 100);
    assert_eq!(d.result(), Err(Errno::Eio));
    let (_p2, _l2, mut other) = spawn_child(&tree, &mut root);
    let d = other.call(Op::Setsid, 0, [0; 3], &[], 0);
    assert!(d.result().is_ok());
    host_types(&tree, b"four\n");
    assert_eq!(other.read(0, 100).unwrap(), b"four\n");
}

// spec: dev-tty-background
#[test]
fn without_a_terminal_there_is_no_background() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (_pid, _l, mut c) = spawn_child(&tree, &mut root);
    let d = c.call(Op::Setpgid, 0, [0, 0, 0], &[], 0);
    assert_eq!(d.result(), Ok([0; 3]));
    let t = c.submit_read(0, 100, 0);
    c.assert_pending(t, BLOCKED);
    host_types(&tree, b"x");
    assert_eq!(c.wait(t).data, b"x");
}

// spec: dev-tty-background
#[test]
fn a_background_change_of_the_terminal_is_eio_unless_the_caller_ignores_sigttou() {
    let (tree, term) = terminal_tree();
    let mut root = tree.root();
    let (_pid, _l, mut c) = spawn_child(&tree, &mut root);
    let d = c.call(Op::Setpgid, 0, [0, 0, 0], &[], 0);
    assert_eq!(d.result(), Ok([0; 3]));
    let raw = Termios {
        c_lflag: zerocopy::little_endian::U32::new(0),
        ..get_attr(&mut root, 0).unwrap()
    };
    let before = get_attr(&mut root, 0).unwrap();
    // Reading the modes and the group is fine from the background...
    assert_eq!(get_attr(&mut c, 0), Ok(before));
    assert_eq!(get_pgrp(&mut c, 0), Ok(1));
    // ... changing them is not: nothing changes.
    let d = c.call(Op::Tty, 0, [0, TCSETS as u64, 0], raw.as_bytes(), 0);
    assert_eq!(d.result(), Err(Errno::Eio));
    assert_eq!(get_attr(&mut root, 0), Ok(before), "modes unchanged");
    let me = (c.call(Op::Getpgid, 0, [0; 3], &[], 0).result().unwrap()[0]) as i32;
    let d = c.call(Op::Tty, 0, [0, TIOCSPGRP as u64, 0], &me.to_le_bytes(), 0);
    assert_eq!(d.result(), Err(Errno::Eio));
    assert_eq!(get_pgrp(&mut root, 0), Ok(1), "foreground unchanged");
    // With TTY_F_NOJOBCTL (the caller ignores SIGTTOU) the change is made.
    let d = c.call(
        Op::Tty,
        TTY_F_NOJOBCTL,
        [0, TCSETS as u64, 0],
        raw.as_bytes(),
        0,
    );
    assert_eq!(d.result(), Ok([0; 3]));
    assert_eq!(get_attr(&mut root, 0), Ok(raw));
    assert_eq!(term.sets().len(), 1, "one change reached the host");
    // The foreground group changes the terminal without the flag.
    assert_eq!(tty(&mut root, 0, TCSETS, before.as_bytes(), 0), Ok(vec![]));
}
