//! The pool of parked VMs (`run --pool N`, issue 16), end to end under TCG.
//!
//! The root is `tests/linux/pool_probe.c`, driven through its stdin: each
//! test waits until the daemon says (its debug log) that the pool is ready
//! before it asks the root to spawn, so a process really comes from the pool
//! and not from a cold boot that raced it. What a process from the pool sees
//! is compared with what the same program sees with `--pool 0`.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use system_tests::linux_tree::LinuxRoot;
use system_tests::programs;
use system_tests::qemu::{daemon_bin, qemus_mentioning, status_of, Group};

/// Generous: a loaded 2-core machine boots VMs slowly.
const LIMIT: Duration = Duration::from_secs(120);

/// A tree whose root is the probe, with its stdout, and the daemon's log.
struct Tree {
    group: Group,
    stdin: Option<ChildStdin>,
    out: Receiver<String>,
    log: Arc<Mutex<Vec<String>>>,
    run_dir: PathBuf,
    _runs: tempfile::TempDir,
}

impl Tree {
    /// Starts the probe as the root of a tree with `--pool pool` and `extra`
    /// options.
    fn start(root: &LinuxRoot, pool: usize, extra: &[&str]) -> Self {
        let runs = tempfile::Builder::new()
            .prefix("vup-pool-")
            .tempdir()
            .unwrap();
        let run_dir = runs.path().join("run");
        let mut c = Command::new(daemon_bin());
        c.args(["run", "--accel", "tcg", "--summary", "--root"])
            .arg(root.path())
            .arg("--kernel")
            .arg(programs::images().join("guest-kernel"))
            .arg("--run-dir")
            .arg(&run_dir)
            .arg("--pool")
            .arg(pool.to_string())
            .args(extra)
            .arg("/bin/pool_probe")
            .env("RUST_LOG", "vhost_user_pipe::supervisor=debug")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut group = Group::spawn_keep_stdin(c);
        let stdin = group.child.stdin.take();
        let (tx, out) = channel();
        let stdout = group.child.stdout.take().unwrap();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = log.clone();
        let stderr = group.child.stderr.take().unwrap();
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Self {
            group,
            stdin,
            out,
            log,
            run_dir,
            _runs: runs,
        }
    }

    /// Sends `cmd` and returns the root's output up to its "ready".
    fn ask(&mut self, cmd: &str) -> Vec<String> {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{cmd}").unwrap();
        stdin.flush().unwrap();
        let until = Instant::now() + LIMIT;
        let mut lines = Vec::new();
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.out.recv_timeout(left) {
                Ok(l) if l == "ready" => return lines,
                Ok(l) => lines.push(l),
                Err(e) => panic!(
                    "{cmd}: no \"ready\" ({e}); got {lines:?}; log:\n{}",
                    self.log_text()
                ),
            }
        }
    }

    fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// How many log lines contain `needle`.
    fn count(&self, needle: &str) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    }

    /// Waits until at least `n` log lines contain `needle`.
    fn wait_log(&self, needle: &str, n: usize) {
        let until = Instant::now() + LIMIT;
        while self.count(needle) < n {
            assert!(
                Instant::now() < until,
                "timed out waiting for {n} × {needle:?}; log:\n{}",
                self.log_text()
            );
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Ends the root (end of input) and returns the daemon's exit code.
    fn finish(mut self) -> (i32, String) {
        drop(self.stdin.take());
        let status = self.group.wait_deadline(LIMIT).expect("the tree ends");
        // The log thread ends with the daemon's stderr.
        let until = Instant::now() + Duration::from_secs(10);
        while !self.log_text().contains("vhost-user-pipe: ") && Instant::now() < until {
            thread::sleep(Duration::from_millis(10));
        }
        (status_of(status), self.log_text())
    }
}

/// QEMU processes whose command line mentions `dir`.
fn qemus_in(dir: &Path) -> Vec<u32> {
    qemus_mentioning(&dir.to_string_lossy())
}

fn root() -> LinuxRoot {
    LinuxRoot::new(&["pool_probe"])
}

#[test]
fn a_process_from_the_pool_is_indistinguishable_from_a_cold_one() {
    let root = root();
    let mut cold = Tree::start(&root, 0, &[]);
    let cold_out = cold.ask("identity");
    let (code, cold_log) = cold.finish();
    assert_eq!(code, 0, "{cold_log}");
    assert_eq!(cold_log.matches("takes parked VM").count(), 0);

    // One parked VM for each of the three children: the pool refills only
    // when the tree is quiet, so a refill may not be parked in time.
    let mut warm = Tree::start(&root, 3, &[]);
    warm.wait_log(": parked", 3);
    let warm_out = warm.ask("identity");
    let (code, warm_log) = warm.finish();
    assert_eq!(code, 0, "{warm_log}");
    // The spawned, the vfork+exec'd and the forked child each took a
    // parked VM; the fork child's was landed and given the parent's RAM.
    assert_eq!(warm_log.matches("takes parked VM").count(), 3, "{warm_log}");
    assert!(
        warm_log.contains("pid 4: forked into pool VM"),
        "{warm_log}"
    );
    assert!(warm_log.contains("from the pool"), "{warm_log}");
    assert_eq!(warm_out, cold_out, "pool on against pool off");
    for want in [
        "pid 2 ppid 1",
        "argv[3]=a b",
        "env B=two words",
        "cwd /data",
        "umask 027",
        "fd 5 pipe acc 1 cloexec 0",
        "posix_spawn 0: child 2 exited 7",
        "vfork+execve: child 3 exited 7",
        "fork child: memory as the parent left it",
        "fd 6 file acc 0 cloexec 1",
        "fork: child 4 exited 7",
    ] {
        assert!(
            warm_out.iter().any(|l| l == want),
            "{want:?} in {warm_out:?}"
        );
    }
    // Close-on-exec fd 6 is gone in the exec'd children, as on Linux.
    let execd: Vec<_> = warm_out
        .split(|l| l.starts_with("posix_spawn") || l.starts_with("vfork+execve"))
        .take(2)
        .collect();
    for part in execd {
        assert!(!part.iter().any(|l| l.starts_with("fd 6")), "{part:?}");
    }
}

#[test]
fn the_pool_refills_after_a_burst() {
    let root = root();
    let mut t = Tree::start(&root, 2, &[]);
    t.wait_log(": parked", 2);
    let out = t.ask("burst 12");
    assert_eq!(out, ["burst 12: 12 started, 12 exited 0"]);
    let taken = t.count("takes parked VM");
    assert!(
        taken >= 2,
        "the burst took the parked VMs:\n{}",
        t.log_text()
    );
    // Two more parked than were taken: the pool is full again.
    t.wait_log(": parked", taken + 2);
    let out = t.ask("spawn");
    assert_eq!(out, ["spawn 0: exited 0"]);
    assert_eq!(t.count("takes parked VM"), taken + 1, "{}", t.log_text());
    let (code, log) = t.finish();
    assert_eq!(code, 0, "{log}");
}

#[test]
fn a_killed_parked_vm_is_replaced() {
    let root = root();
    let mut t = Tree::start(&root, 1, &[]);
    t.wait_log("pool VM 0: parked", 1);
    let sock = t.run_dir.join("pool-0.sock");
    let victims = qemus_in(&sock);
    assert_eq!(victims.len(), 1, "one QEMU serves pool VM 0");
    // SAFETY: kill(2) of a QEMU this test's daemon launched.
    unsafe { libc::kill(victims[0] as libc::pid_t, libc::SIGKILL) };
    t.wait_log("pool VM 0: VM ended", 1);
    t.wait_log("pool VM 1: parked", 1);
    let out = t.ask("spawn");
    assert_eq!(out, ["spawn 0: exited 0"]);
    assert!(
        t.log_text().contains("takes parked VM pool VM 1"),
        "{}",
        t.log_text()
    );
    let (code, log) = t.finish();
    assert_eq!(code, 0, "{log}");
    assert!(
        !log.contains("pid 1: QEMU ended"),
        "the root is unharmed: {log}"
    );
}

#[test]
fn the_pool_drains_at_exit_and_leaves_no_qemu_behind() {
    let root = root();
    let t = Tree::start(&root, 3, &[]);
    t.wait_log(": parked", 3);
    let run_dir = t.run_dir.clone();
    assert_eq!(qemus_in(&run_dir).len(), 4, "the root and three parked VMs");
    let (code, log) = t.finish();
    assert_eq!(code, 0, "{log}");
    assert!(qemus_in(&run_dir).is_empty(), "no QEMU left");
    // The run directory is gone, or holds no socket.
    let socks: Vec<_> = std::fs::read_dir(&run_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".sock"))
        .collect();
    assert!(socks.is_empty(), "no socket left: {socks:?}");
}

#[test]
fn the_pool_never_outgrows_the_process_limit() {
    let root = root();
    // Three processes at most: the root and two more, so two parked VMs.
    let t = Tree::start(&root, 8, &["--max-processes", "3"]);
    t.wait_log(": parked", 2);
    let run_dir = t.run_dir.clone();
    let (code, log) = t.finish();
    assert_eq!(code, 0, "{log}");
    assert!(!log.contains("pool VM 2"), "a third pool VM: {log}");
    assert!(qemus_in(&run_dir).is_empty());
}
