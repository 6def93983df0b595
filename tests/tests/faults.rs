//! Faults: guests that die (kill -9 of their QEMU), reset their device or
//! drop their vhost-user connection at the worst moment. After each, the
//! daemon keeps serving the other guests, pipe ends close (readers see EOF,
//! writers EPIPE), waiters get signal 9, and every object count, the
//! daemon's guest-memory mappings and its fds go back to where they were.
//!
//! The first part drives the daemon with model guests (`TestGuest`; a
//! `FakeVm` stands for the QEMU: ending it is a kill -9, dropping the
//! guest closes the connection as a dead QEMU's does). The second part,
//! `qemu_*`, kills real QEMU processes under `vhost-user-pipe run`
//! (guest program `tests/guest/faults.c`).
//!
//! The tests of this file run one at a time ([`serial`]): the mapping and
//! fd counts are the whole test process's.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use system_tests::frontend::{TestGuest, DEADLINE};
use system_tests::programs;
use system_tests::qemu::{daemon_bin, qemu_of, Group};
use system_tests::tree::Tree;
use vhost_user_pipe::kernel::Stats;
use vhost_user_pipe::test_utils::Launched;
use virtio_pipe_protocol::{Errno, Op, WAIT_F_NOHANG};

/// One test at a time: counts of mappings and fds are per process. The
/// previous test's daemon threads may still be tearing down: start once no
/// model-guest memory is mapped any more.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    let guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    eventually("the previous test's guests to be unmapped", || {
        guest_mappings() == 0
    });
    guard
}

/// Polls `cond` until it holds or the deadline passes.
fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let until = Instant::now() + DEADLINE;
    while !cond() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Mappings of model-guest memory in this process (the guests' own and the daemon's).
fn guest_mappings() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .filter(|l| l.contains("memfd:test-guest"))
        .count()
}

/// Open fds of this process.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Open fds of this process once the count holds still for 20 ms (threads
/// of an earlier tree may still be closing theirs).
fn settled_fds() -> usize {
    let mut fds = open_fds();
    eventually("the fd count to settle", || {
        std::thread::sleep(Duration::from_millis(20));
        let now = open_fds();
        std::mem::replace(&mut fds, now) == now
    });
    fds
}

/// What must come back after a fault: kernel objects, mappings and fds.
struct Baseline {
    stats: Stats,
    maps: usize,
    fds: usize,
}

impl Baseline {
    /// Counts once `root` is fully set up: a request it made has completed,
    /// so the daemon has mapped its memory and taken its queues' eventfds.
    fn take(tree: &Tree, root: &mut TestGuest) -> Self {
        root.getpid();
        let fds = settled_fds();
        Self {
            stats: tree.sup.stats(),
            maps: guest_mappings(),
            fds,
        }
    }

    /// Waits until the tree is back to the baseline; panics with the difference.
    fn check(&self, tree: &Tree) {
        let until = Instant::now() + DEADLINE;
        loop {
            let (s, m, f) = (tree.sup.stats(), guest_mappings(), open_fds());
            if s == self.stats && m == self.maps && f == self.fds {
                return;
            }
            assert!(
                Instant::now() < until,
                "leak: stats {s:?} (was {:?}), guest mappings {m} (was {}), fds {f} (was {})",
                self.stats,
                self.maps,
                self.fds
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// A child connected by two pipes to the root, for round trips that prove
/// the daemon still serves.
struct Pair {
    pid: u32,
    _launch: Launched,
    child: TestGuest,
    /// root -> child.
    down: (u32, u32),
    /// child -> root.
    up: (u32, u32),
}

impl Pair {
    fn new(tree: &Tree, root: &mut TestGuest) -> Self {
        let down = root.pipe(0).unwrap();
        let up = root.pipe(0).unwrap();
        let pid = root.spawn("child", &[b"child"], &[], &[]).unwrap();
        let (l, child) = tree.accept_child();
        assert_eq!(l.spec.pid, pid);
        Self {
            pid,
            _launch: l,
            child,
            down,
            up,
        }
    }

    /// ping from the root to the child and pong back; returns how long it took.
    fn round_trip(&mut self, root: &mut TestGuest) -> Duration {
        let t0 = Instant::now();
        let pong = root.submit_read(self.up.0, 16, 0);
        assert_eq!(root.write(self.down.1, b"ping"), Ok(4));
        assert_eq!(self.child.read(self.down.0, 16).unwrap(), b"ping");
        assert_eq!(self.child.write(self.up.1, b"pong"), Ok(4));
        assert_eq!(root.wait(pong).data, b"pong");
        t0.elapsed()
    }

    /// The child exits, the root reaps it and closes the pipes.
    fn finish(mut self, root: &mut TestGuest) {
        self.child.exit(0);
        assert_eq!(root.wait_child(self.pid as i64, 0), Ok((self.pid, 0)));
        for fd in [self.down.0, self.down.1, self.up.0, self.up.1] {
            root.close(fd).unwrap();
        }
    }
}

/// Kills the "VM" of a model guest as kill -9 of its QEMU does: the VM ends
/// and its vhost-user connection closes.
fn kill9(l: &Launched, g: TestGuest) {
    l.vm.end();
    drop(g);
}

fn spawn_child(tree: &Tree, root: &mut TestGuest) -> (u32, Launched, TestGuest) {
    let pid = root.spawn("child", &[b"child"], &[], &[]).unwrap();
    let (l, g) = tree.accept_child();
    assert_eq!(l.spec.pid, pid);
    (pid, l, g)
}

/// Reads until EOF; returns the bytes.
fn read_to_eof(g: &mut TestGuest, fd: u32) -> Vec<u8> {
    let mut got = Vec::new();
    loop {
        let d = g.read(fd, 65536).unwrap();
        if d.is_empty() {
            return got;
        }
        got.extend(d);
    }
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

#[test]
fn kill9_of_a_child_in_the_middle_of_a_transfer() {
    let _s = serial();
    let tree = Tree::new();
    let mut root = tree.root();
    let base = Baseline::take(&tree, &mut root);
    let mut other = Pair::new(&tree, &mut root);
    let (r, w) = root.pipe(0).unwrap();
    let (pid, l, mut child) = spawn_child(&tree, &mut root);
    root.close(w).unwrap();
    child.close(r).unwrap();
    // 256 KiB: a quarter fits the pipe, the rest waits in the child's memory.
    let data = pattern(256 * 1024);
    let _t = child.submit_write(w, &data, 0);
    tree.wait_for("the child's write to block", |s| {
        s.waiting == base.stats.waiting + 1
    });
    let first = read_exact(&mut root, r, 100_000);
    kill9(&l, child);
    // The kill is carried out by the daemon's reaper thread; until then a
    // READ may still take the blocked WRITE's bytes straight from the
    // child's memory (spec `dev-read-available`), as a read on Linux may
    // win the race with a kill. Read the rest once the child has ended
    // (regression: under load the whole write arrived and the test failed).
    tree.wait_for("the child to end", |s| s.running == base.stats.running + 1);
    let rest = read_to_eof(&mut root, r);
    let got = [first, rest].concat();
    assert!(got.len() >= 100_000 && got.len() < data.len());
    assert_eq!(got, data[..got.len()], "what arrived is a prefix, in order");
    assert_eq!(root.wait_child(pid as i64, 0), Ok((pid, 9)));
    other.round_trip(&mut root);
    root.close(r).unwrap();
    other.finish(&mut root);
    base.check(&tree);
}

fn read_exact(g: &mut TestGuest, fd: u32, n: usize) -> Vec<u8> {
    let mut got = Vec::new();
    while got.len() < n {
        let d = g.read(fd, n - got.len()).unwrap();
        assert!(!d.is_empty(), "EOF after {} bytes", got.len());
        got.extend(d);
    }
    got
}

#[test]
fn kill9_of_a_reader_blocked_in_read_gives_its_writers_epipe() {
    let _s = serial();
    let tree = Tree::new();
    let mut root = tree.root();
    let base = Baseline::take(&tree, &mut root);
    let mut other = Pair::new(&tree, &mut root);
    let (r, w) = root.pipe(0).unwrap();
    let (pid, l, mut child) = spawn_child(&tree, &mut root);
    root.close(r).unwrap();
    let read = child.submit_read(r, 100, 0);
    child.assert_pending(read, Duration::from_millis(50));
    tree.wait_for("the child's read to block", |s| {
        s.waiting == base.stats.waiting + 1
    });
    kill9(&l, child);
    assert_eq!(root.wait_child(pid as i64, 0), Ok((pid, 9)));
    assert_eq!(
        root.write(w, b"anyone?"),
        Err(Errno::Epipe),
        "the only reader is gone"
    );
    other.round_trip(&mut root);
    root.close(w).unwrap();
    other.finish(&mut root);
    base.check(&tree);
}

#[test]
fn kill9_of_a_writer_blocked_in_write_gives_its_reader_the_data_then_eof() {
    let _s = serial();
    let tree = Tree::new();
    let mut root = tree.root();
    let base = Baseline::take(&tree, &mut root);
    let mut other = Pair::new(&tree, &mut root);
    let (r, w) = root.pipe(0).unwrap();
    let (pid, l, mut child) = spawn_child(&tree, &mut root);
    root.close(w).unwrap();
    let data = pattern(65536 + 4096);
    let write = child.submit_write(w, &data, 0);
    child.assert_pending(write, Duration::from_millis(50));
    tree.wait_for("the pipe to fill", |s| {
        s.buffered == 65536 && s.waiting == base.stats.waiting + 1
    });
    kill9(&l, child);
    assert_eq!(root.wait_child(pid as i64, 0), Ok((pid, 9)));
    assert_eq!(read_to_eof(&mut root, r), data[..65536]);
    other.round_trip(&mut root);
    root.close(r).unwrap();
    other.finish(&mut root);
    base.check(&tree);
}

#[test]
fn kill9_of_a_process_blocked_in_wait_reparents_its_child() {
    let _s = serial();
    let tree = Tree::new();
    let mut root = tree.root();
    let base = Baseline::take(&tree, &mut root);
    let mut other = Pair::new(&tree, &mut root);
    let (pid, l, mut child) = spawn_child(&tree, &mut root);
    let (grandchild, _gl, mut g) = spawn_child(&tree, &mut child);
    let wait = child.submit(
        virtio_pipe_protocol::ReqHeader::new(Op::Wait, 0, [u64::MAX, 0, 0]),
        &[],
        0,
    );
    child.assert_pending(wait, Duration::from_millis(50));
    tree.wait_for("the wait to block", |s| s.waiting == base.stats.waiting + 1);
    kill9(&l, child);
    assert_eq!(root.wait_child(pid as i64, 0), Ok((pid, 9)));
    assert_eq!(
        g.getpid(),
        (grandchild, 1),
        "the orphan now belongs to the root"
    );
    other.round_trip(&mut root);
    g.exit(3);
    drop(g);
    assert_eq!(
        root.wait_child(grandchild as i64, 0),
        Ok((grandchild, 3 << 8))
    );
    other.finish(&mut root);
    base.check(&tree);
}

#[test]
fn kill9_of_the_root_ends_the_tree_and_every_other_vm() {
    let _s = serial();
    let maps = guest_mappings();
    let fds = settled_fds();
    let tree = Tree::new();
    let mut root = tree.root();
    let (r1, w1) = root.pipe(0).unwrap();
    let (r2, _w2) = root.pipe(0).unwrap();
    let (_, la, mut a) = spawn_child(&tree, &mut root);
    let (_, lb, mut b) = spawn_child(&tree, &mut root);
    // a fills a pipe nobody reads and blocks; b waits on a pipe nobody writes.
    let write = a.submit_write(w1, &pattern(100_000), 0);
    let blocked = b.submit_read(r2, 8, 0);
    tree.wait_for("a's write and b's read to block", |s| s.waiting == 2);
    let _ = r1;
    // The root's QEMU dies: its connection drops.
    drop(root);
    assert_eq!(
        tree.sup.wait_tree(Some(Instant::now() + DEADLINE)),
        Some(9),
        "the tree ends with the root's SIGKILL"
    );
    // spec: dev-exit-root: the rest of the tree ends as by SIGKILL.
    eventually("every other VM to be killed", || {
        la.vm.was_killed() && lb.vm.was_killed()
    });
    tree.wait_for("nothing left running or blocked", |s| {
        s.running == 0 && s.waiting == 0
    });
    assert!(b.poll(blocked).is_none() && a.poll(write).is_none());
    let s = tree.sup.stats();
    assert_eq!(
        (s.pipes, s.fds, s.buffered),
        (3, 3, 0),
        "only the stdio pipes' host ends remain: {s:?}"
    );
    drop((a, b));
    drop(tree);
    eventually(
        "the guests' memory to be unmapped and their fds closed",
        || guest_mappings() == maps && open_fds() == fds,
    );
}

#[test]
fn device_reset_with_requests_pending_drops_them_and_releases_their_pipe_ends() {
    let _s = serial();
    let tree = Tree::new();
    let mut root = tree.root();
    let base = Baseline::take(&tree, &mut root);
    let mut other = Pair::new(&tree, &mut root);
    let waiting0 = tree.sup.stats().waiting;
    let (r1, w1) = root.pipe(0).unwrap();
    let (r2, w2) = root.pipe(0).unwrap();
    let (pid, _l, mut child) = spawn_child(&tree, &mut root);
    // The root blocks in a read, a large write and a wait.
    root.submit_read(r1, 64, 0);
    root.submit_write(w2, &pattern(100_000), 0);
    root.submit(
        virtio_pipe_protocol::ReqHeader::new(Op::Wait, 0, [u64::MAX, 0, 0]),
        &[],
        0,
    );
    tree.wait_for("three blocked requests", |s| s.waiting == waiting0 + 3);
    // The root closes the fds its requests name; the requests hold the ends.
    root.close(r1).unwrap();
    root.close(w2).unwrap();
    root.reset();
    tree.wait_for("the blocked requests to go", |s| s.waiting == waiting0);
    // The read was dropped: the child's write finds no reader but itself.
    child.close(r1).unwrap();
    assert_eq!(child.write(w1, b"x"), Err(Errno::Epipe));
    // The write was dropped with what it had moved: the child reads that, then EOF.
    child.close(w2).unwrap();
    assert_eq!(read_to_eof(&mut child, r2), pattern(65536));
    // The reset guest and the others are served.
    other.round_trip(&mut root);
    assert_eq!(root.getpid(), (1, 0));
    child.exit(0);
    drop(child);
    assert_eq!(root.wait_child(pid as i64, 0), Ok((pid, 0)));
    root.close(w1).unwrap();
    root.close(r2).unwrap();
    other.finish(&mut root);
    base.check(&tree);
}

#[test]
fn a_dropped_connection_kills_the_vm_and_closes_the_processes_fds() {
    let _s = serial();
    let tree = Tree::new();
    let mut root = tree.root();
    let base = Baseline::take(&tree, &mut root);
    let mut other = Pair::new(&tree, &mut root);
    let (r, w) = root.pipe(0).unwrap();
    let (pid, l, mut child) = spawn_child(&tree, &mut root);
    root.close(w).unwrap();
    let read = root.submit_read(r, 8, 0);
    child.submit_write(w, b"half", 0);
    child.close(r).unwrap();
    assert_eq!(root.wait(read).data, b"half");
    // The child is blocked in a read of its own and in nothing else.
    let (r2, w2) = child.pipe(0).unwrap();
    child.submit_read(r2, 8, 0);
    tree.wait_for("the child's read to block", |s| {
        s.waiting == base.stats.waiting + 1
    });
    let _ = w2;
    drop(child);
    eventually("the daemon to kill the VM", || l.vm.was_killed());
    assert_eq!(root.wait_child(pid as i64, 0), Ok((pid, 9)));
    assert_eq!(root.read(r, 8).unwrap(), b"", "the writer is gone: EOF");
    other.round_trip(&mut root);
    root.close(r).unwrap();
    other.finish(&mut root);
    base.check(&tree);
}

#[test]
fn a_child_that_dies_before_connecting_is_reaped_as_killed() {
    let _s = serial();
    let tree = Tree::new();
    let mut root = tree.root();
    let base = Baseline::take(&tree, &mut root);
    let pid = root.spawn("child", &[b"child"], &[], &[]).unwrap();
    let l = tree.next_launch();
    l.vm.end();
    assert_eq!(root.wait_child(pid as i64, 0), Ok((pid, 9)));
    assert_eq!(
        root.wait_child(-1, WAIT_F_NOHANG),
        Err(Errno::Echild),
        "reaped once"
    );
    base.check(&tree);
}

/// Regression: vhost-user-backend never closes the exit eventfd of a
/// connection's epoll thread; the daemon closes it once the connection's
/// handler is gone (one fd leaked per process before).
#[test]
fn many_short_lived_children_leave_no_fd_or_mapping_behind() {
    let _s = serial();
    let tree = Tree::new();
    let mut root = tree.root();
    let base = Baseline::take(&tree, &mut root);
    for i in 0..20 {
        let (pid, l, mut child) = spawn_child(&tree, &mut root);
        match i % 3 {
            0 => {
                child.exit(0);
                drop(child);
                assert_eq!(root.wait_child(pid as i64, 0), Ok((pid, 0)));
            }
            1 => {
                kill9(&l, child);
                assert_eq!(root.wait_child(pid as i64, 0), Ok((pid, 9)));
            }
            _ => {
                drop(child);
                assert_eq!(root.wait_child(pid as i64, 0), Ok((pid, 9)));
            }
        }
    }
    base.check(&tree);
}

// ---- Real QEMU guests ----

/// A tree of a few guests under TCG on a loaded 2-core machine finishes well within this.
const LIMIT: Duration = Duration::from_secs(180);

/// `vhost-user-pipe run faults MODE` with its run directory kept in a fresh place.
struct Run {
    group: Group,
    /// The root's stdout, line by line, from a reader thread (so that a
    /// hung daemon fails the test at a deadline instead of blocking it).
    lines: std::sync::mpsc::Receiver<String>,
    run_dir: PathBuf,
}

impl Run {
    fn start(mode: &str) -> Self {
        let run_dir =
            std::env::temp_dir().join(format!("vup-faults-{mode}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&run_dir);
        let mut c = Command::new(daemon_bin());
        c.args(["run", "--accel", "tcg", "--run-dir"])
            .arg(&run_dir)
            .arg(programs::program("faults"))
            .arg(mode)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut group = Group::spawn(c);
        let stdout = BufReader::new(group.child.stdout.take().unwrap());
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            group,
            lines,
            run_dir,
        }
    }

    /// The next line of the root's stdout.
    fn line(&mut self) -> String {
        self.lines
            .recv_timeout(LIMIT)
            .expect("a line before the daemon exits, within the limit")
    }

    /// The next line, which must start with `prefix`; the number after it.
    fn number_after(&mut self, prefix: &str) -> u32 {
        let l = self.line();
        l.strip_prefix(prefix)
            .unwrap_or_else(|| panic!("expected '{prefix}N', got '{l}'"))
            .trim()
            .parse()
            .unwrap()
    }

    /// The host pid of the QEMU of guest `pid`.
    fn qemu(&self, pid: u32) -> u32 {
        let until = Instant::now() + LIMIT;
        loop {
            if let Some(q) = qemu_of(&self.run_dir, pid) {
                return q;
            }
            assert!(Instant::now() < until, "no QEMU for guest {pid}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The rest of the output and the daemon's exit status.
    fn finish(mut self) -> (Vec<String>, Option<i32>) {
        let until = Instant::now() + LIMIT;
        let mut rest = Vec::new();
        // The channel closes when the daemon's stdout does.
        while let Ok(line) = self
            .lines
            .recv_timeout(until.saturating_duration_since(Instant::now()))
        {
            rest.push(line);
        }
        let status = self.group.wait_deadline(LIMIT).and_then(|s| s.code());
        (rest, status)
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        self.group.kill();
        let _ = std::fs::remove_dir_all(&self.run_dir);
    }
}

/// QEMUs still running for any guest of the daemon whose run directory is `run_dir`.
fn qemus_left(run_dir: &Path) -> Vec<u32> {
    let needle = format!("{}/pid-", run_dir.display());
    std::fs::read_dir("/proc")
        .map(|d| {
            d.flatten()
                .filter_map(|e| {
                    let pid: u32 = e.file_name().to_str()?.parse().ok()?;
                    let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
                    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
                    let zombie = stat.rsplit(')').next()?.trim_start().starts_with('Z');
                    let cmd = String::from_utf8_lossy(&cmd);
                    (cmd.contains("qemu-system") && cmd.contains(&needle) && !zombie).then_some(pid)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn sigkill(pid: u32) {
    // SAFETY: kill(2) of a QEMU this test's daemon started.
    assert_eq!(unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) }, 0);
}

/// Modes whose root reports the victim's status, a round trip through a
/// fresh child, and exits 0.
fn qemu_victim(mode: &str, prefix: &str, expect: &[&str]) {
    let _s = serial();
    let mut run = Run::start(mode);
    let victim = run.number_after(prefix);
    let qemu = run.qemu(victim);
    sigkill(qemu);
    let run_dir = run.run_dir.clone();
    let (rest, status) = run.finish();
    assert_eq!(rest, expect, "mode {mode}");
    assert_eq!(status, Some(0), "the daemon exits cleanly");
    eventually("every QEMU of the tree to end", || {
        qemus_left(&run_dir).is_empty()
    });
}

#[test]
fn qemu_kill9_of_a_child_in_the_middle_of_a_transfer() {
    qemu_victim(
        "transfer",
        "transfer from pid ",
        &["eof, data intact", "child signaled 9", "round trip ok"],
    );
}

#[test]
fn qemu_kill9_of_a_child_blocked_in_read() {
    qemu_victim(
        "blocked-read",
        "reader pid ",
        &["child signaled 9", "write: errno 32", "round trip ok"],
    );
}

#[test]
fn qemu_kill9_of_a_child_blocked_in_write() {
    qemu_victim(
        "blocked-write",
        "writer pid ",
        &[
            "child signaled 9",
            "read 65536 bytes then eof",
            "round trip ok",
        ],
    );
}

#[test]
fn qemu_kill9_of_a_child_blocked_in_wait() {
    qemu_victim(
        "blocked-wait",
        "waiter pid ",
        &["child signaled 9", "orphan exited 0", "round trip ok"],
    );
}

#[test]
fn qemu_kill9_of_the_root_ends_the_daemon_with_137_and_every_vm() {
    let _s = serial();
    let mut run = Run::start("root");
    let _reader = run.number_after("reader pid ");
    let qemu = run.qemu(1);
    sigkill(qemu);
    let run_dir = run.run_dir.clone();
    let (_rest, status) = run.finish();
    assert_eq!(status, Some(128 + 9), "the root was killed by SIGKILL");
    eventually("every QEMU of the tree to end", || {
        qemus_left(&run_dir).is_empty()
    });
}
