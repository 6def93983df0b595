//! Device conformance tests: process groups and sessions (spec 1.6.26),
//! stopping and continuing processes (1.6.27), and what they add to
//! `WAIT` (1.6.16), `KILL` (1.6.18) and the event queue (1.7). Each test
//! cites the statements it checks (`spec: label`).

mod common;

use std::time::Instant;

use common::*;
use system_tests::frontend::{TestGuest, DEADLINE};
use system_tests::tree::Tree;
use virtio_pipe_protocol::signal::{SIGCONT, SIGKILL, SIGSTOP, SIGTERM, SIGTSTP};
use virtio_pipe_protocol::{
    wait_status_stopped, Errno, Event, Op, ReqHeader, WAIT_F_CONTINUED, WAIT_F_NOHANG,
    WAIT_F_UNTRACED, WAIT_STATUS_CONTINUED,
};

fn soon() -> Instant {
    Instant::now() + DEADLINE
}

fn setpgid(g: &mut TestGuest, pid: u32, pgid: u32) -> Result<(), Errno> {
    status(g, Op::Setpgid, 0, [pid as u64, pgid as u64, 0]).map(|_| ())
}

fn getpgid(g: &mut TestGuest, pid: u32) -> Result<u32, Errno> {
    status(g, Op::Getpgid, 0, [pid as u64, 0, 0]).map(|r| r[0] as u32)
}

fn getsid(g: &mut TestGuest, pid: u32) -> Result<u32, Errno> {
    status(g, Op::Getsid, 0, [pid as u64, 0, 0]).map(|r| r[0] as u32)
}

fn setsid(g: &mut TestGuest) -> Result<u32, Errno> {
    status(g, Op::Setsid, 0, [0; 3]).map(|r| r[0] as u32)
}

/// KILL with a signed target (0, -1, -pgid, or a pid).
fn kill_signed(g: &mut TestGuest, target: i64, signo: u32) -> Result<(), Errno> {
    status(g, Op::Kill, 0, [target as u64, signo as u64, 0]).map(|_| ())
}

/// Events until none comes for a short while.
fn drain_events(g: &mut TestGuest) -> Vec<Event> {
    let mut out = Vec::new();
    while let Some(e) = g.wait_event(Instant::now() + BLOCKED) {
        out.push(e);
    }
    out
}

// ---- 1.6.26 Process groups and sessions ----

// spec: dev-pgid-inherit, dev-getpgid
#[test]
fn the_root_leads_group_and_session_1_and_children_inherit_both() {
    let tree = Tree::new();
    let mut root = tree.root();
    assert_eq!(getpgid(&mut root, 0), Ok(1));
    assert_eq!(getsid(&mut root, 0), Ok(1));
    let (c, _l, mut cg) = spawn_child(&tree, &mut root);
    assert_eq!(getpgid(&mut cg, 0), Ok(1));
    assert_eq!(getsid(&mut root, c), Ok(1));
    // A new group in the child; its own child inherits that one.
    setpgid(&mut cg, 0, 0).unwrap();
    let (g, _gl, mut gg) = spawn_child(&tree, &mut cg);
    assert_eq!(getpgid(&mut gg, 0), Ok(c));
    assert_eq!(getpgid(&mut root, g), Ok(c));
    assert_eq!(getpgid(&mut root, 999), Err(Errno::Esrch));
    assert_eq!(getsid(&mut root, 999), Err(Errno::Esrch));
    assert_eq!(
        status(&mut root, Op::Getpgid, 0, [1 << 32, 0, 0]),
        Err(Errno::Einval)
    );
}

// spec: dev-setpgid
#[test]
fn setpgid_applies_the_posix_rules() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (a, _la, mut ag) = spawn_child(&tree, &mut root);
    let (b, _lb, mut bg) = spawn_child(&tree, &mut root);
    // A child may move itself: a group of its own, then b joins a's.
    setpgid(&mut ag, 0, 0).unwrap();
    setpgid(&mut bg, b, a).unwrap();
    assert_eq!(getpgid(&mut root, b), Ok(a));
    // Not the caller and not its child: ESRCH.
    assert_eq!(setpgid(&mut ag, b, 0), Err(Errno::Esrch));
    assert_eq!(setpgid(&mut root, 999, 0), Err(Errno::Esrch));
    // A child that SPAWN created ran a new program: EACCES.
    assert_eq!(setpgid(&mut root, a, 0), Err(Errno::Eacces));
    // No group 77 in the session: EPERM; the root leads its session: EPERM.
    assert_eq!(setpgid(&mut bg, 0, 77), Err(Errno::Eperm));
    assert_eq!(setpgid(&mut root, 0, a), Err(Errno::Eperm));
    // A group of another session: EPERM.
    let (c, _lc, mut cg) = spawn_child(&tree, &mut root);
    assert_eq!(setsid(&mut cg), Ok(c));
    assert_eq!(setpgid(&mut bg, 0, c), Err(Errno::Eperm));
    assert_eq!(getpgid(&mut root, b), Ok(a), "failures change nothing");
}

// spec: dev-setsid
#[test]
fn setsid_makes_a_new_session_unless_the_caller_leads_a_group() {
    let tree = Tree::new();
    let mut root = tree.root();
    assert_eq!(
        setsid(&mut root),
        Err(Errno::Eperm),
        "the root leads group 1"
    );
    let (c, _l, mut cg) = spawn_child(&tree, &mut root);
    assert_eq!(setsid(&mut cg), Ok(c));
    assert_eq!(getsid(&mut root, c), Ok(c));
    assert_eq!(getpgid(&mut root, c), Ok(c));
    assert_eq!(setsid(&mut cg), Err(Errno::Eperm), "now it leads one");
    assert_eq!(getsid(&mut root, 0), Ok(1));
}

// ---- 1.6.16 WAIT and 1.6.18 KILL on groups ----

// spec: dev-kill-group, dev-wait-group
#[test]
fn kill_and_wait_on_a_group_reach_its_members_only() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (a, la, mut ag) = spawn_child(&tree, &mut root);
    let (b, lb, mut bg) = spawn_child(&tree, &mut root);
    let (o, lo, _og) = spawn_child(&tree, &mut root);
    setpgid(&mut ag, 0, 0).unwrap();
    setpgid(&mut bg, 0, a).unwrap();
    assert_eq!(kill_signed(&mut root, -(a as i64), 0), Ok(()), "probe");
    assert_eq!(kill_signed(&mut root, -(a as i64), SIGKILL), Ok(()));
    assert!(la.vm.was_killed() && lb.vm.was_killed());
    assert!(!lo.vm.was_killed(), "another group");
    let mut reaped = vec![
        root.wait_child(-(a as i64), 0).unwrap(),
        root.wait_child(-(a as i64), 0).unwrap(),
    ];
    reaped.sort();
    assert_eq!(reaped, vec![(a, SIGKILL), (b, SIGKILL)]);
    assert_eq!(root.wait_child(-(a as i64), 0), Err(Errno::Echild));
    assert_eq!(kill_signed(&mut root, -(a as i64), 0), Err(Errno::Esrch));
    // The own group (0): the root and o are in group 1.
    assert_eq!(wait_nohang(&mut root, 0), Ok((0, 0)));
    assert_eq!(kill_signed(&mut root, 0, 0), Ok(()));
    // -1: everyone but pid 1 and the caller.
    assert_eq!(kill_signed(&mut root, -1, SIGKILL), Ok(()));
    assert!(lo.vm.was_killed());
    assert_eq!(root.wait_child(0, 0), Ok((o, SIGKILL)));
    assert_eq!(kill_signed(&mut root, -1, SIGTERM), Err(Errno::Esrch));
    assert_eq!(
        kill_signed(&mut root, -(1i64 << 32), 0),
        Err(Errno::Einval),
        "below -(2^32 - 1)"
    );
}

// ---- 1.6.27 Stopping and continuing ----

// spec: dev-kill-stop, dev-stop-effect, dev-stop-continue, dev-event-child-state
#[test]
fn a_stopped_child_runs_nothing_is_reported_and_carries_on_when_continued() {
    let tree = Tree::new();
    let mut root = tree.root();
    root.post_event_buffers(8);
    let (r, w) = root.pipe(0).unwrap();
    let (c, l, mut cg) = spawn_child(&tree, &mut root);
    cg.post_event_buffers(8);
    assert_eq!(kill(&mut root, c, SIGSTOP), Ok(()));
    // The supervisor stops the VM once the kernel lock is released, just
    // after the KILL completes.
    eventually("its VM to be stopped", || l.vm.is_suspended());
    let stopped = wait_status_stopped(SIGSTOP as u8);
    assert_eq!(
        root.wait_event(soon()),
        Some(Event::ChildState {
            pid: c,
            status: stopped
        })
    );
    // Reported once, to WAIT with UNTRACED only.
    assert_eq!(wait_nohang(&mut root, c as i64), Ok((0, 0)));
    assert_eq!(root.wait_child(c as i64, WAIT_F_UNTRACED), Ok((c, stopped)));
    assert_eq!(
        root.wait_child(c as i64, WAIT_F_UNTRACED | WAIT_F_NOHANG),
        Ok((0, 0))
    );
    // Nothing it submits runs: its WRITE moves no byte.
    let t = cg.submit_write(w, b"late", 0);
    cg.assert_pending(t, BLOCKED);
    assert_eq!(read_nb(&mut root, r, 8), Err(Errno::Eagain));
    // A WAIT with CONTINUED completes when it is continued.
    let waiting = root.submit(
        ReqHeader::new(Op::Wait, WAIT_F_CONTINUED, [c as u64, 0, 0]),
        &[],
        0,
    );
    root.assert_pending(waiting, BLOCKED);
    assert_eq!(kill(&mut root, c, SIGCONT), Ok(()));
    eventually("its VM to run again", || !l.vm.is_suspended());
    assert_eq!(
        root.wait(waiting).result(),
        Ok([c as u64, WAIT_STATUS_CONTINUED as u64, 0])
    );
    assert_eq!(cg.wait(t).result(), Ok([4, 0, 0]));
    assert_eq!(read_nb(&mut root, r, 8), Ok(b"late".to_vec()));
    assert!(drain_events(&mut root).contains(&Event::ChildState {
        pid: c,
        status: WAIT_STATUS_CONTINUED
    }));
    // SIGSTOP never reached it as an event; SIGCONT did, after.
    assert_eq!(
        drain_events(&mut cg),
        vec![Event::Signal {
            signo: SIGCONT,
            sender: 1
        }]
    );
}

// spec: dev-stop-effect, dev-stop-continue
#[test]
fn stop_holds_the_caller_until_it_is_continued() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (c, l, mut cg) = spawn_child(&tree, &mut root);
    assert_eq!(
        status(&mut cg, Op::Stop, 0, [SIGTERM as u64, 0, 0]),
        Err(Errno::Einval)
    );
    let stop = cg.submit(ReqHeader::new(Op::Stop, 0, [SIGTSTP as u64, 0, 0]), &[], 0);
    assert_eq!(
        root.wait_child(-1, WAIT_F_UNTRACED),
        Ok((c, wait_status_stopped(SIGTSTP as u8)))
    );
    eventually("its VM to be stopped", || l.vm.is_suspended());
    cg.assert_pending(stop, BLOCKED);
    assert_eq!(kill(&mut root, c, SIGCONT), Ok(()));
    assert_eq!(cg.wait(stop).result(), Ok([0; 3]));
    assert_eq!(
        root.wait_child(c as i64, WAIT_F_CONTINUED | WAIT_F_UNTRACED),
        Ok((c, WAIT_STATUS_CONTINUED))
    );
    assert_eq!(cg.getpid().0, c, "it runs again");
}

// spec: dev-stop-kill
#[test]
fn sigkill_ends_a_stopped_child_and_drops_what_it_held() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (c, l, mut cg) = spawn_child(&tree, &mut root);
    let stop = cg.submit(ReqHeader::new(Op::Stop, 0, [SIGSTOP as u64, 0, 0]), &[], 0);
    assert_eq!(
        root.wait_child(c as i64, WAIT_F_UNTRACED),
        Ok((c, wait_status_stopped(SIGSTOP as u8)))
    );
    assert_eq!(kill(&mut root, c, SIGKILL), Ok(()));
    assert!(l.vm.was_killed());
    assert_eq!(root.wait_child(c as i64, 0), Ok((c, SIGKILL)));
    cg.assert_pending(stop, BLOCKED);
    tree.wait_for("nothing held", |s| s.waiting == 0);
}
