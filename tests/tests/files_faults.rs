//! Faults while a tree writes files (issue 14), with the guest program
//! `tests/linux/files_faults.c` (static musl) under `vhost-user-pipe run
//! --accel tcg --root DIR --writable`:
//!
//! * kill -9 of a process's QEMU in the middle of a large write: a child
//!   writes a known pattern in 1 MiB writes and prints each acknowledged
//!   byte count; once 16 MiB are acknowledged the test kills the child's
//!   QEMU. Afterwards the file holds at least the acknowledged bytes, at
//!   most one write more, and every byte it holds is the pattern's (no
//!   hole, no garbage); the parent sees signal 9, the daemon serves its
//!   `stat`, and the tree ends with the root's status.
//! * a full disk: the root is a 1 MiB tmpfs (mounted here as root; the test
//!   skips with a message where `mount` fails), holding the program too.
//!   The program writes until a write fails: it sees `ENOSPC`, the file
//!   system and the daemon keep working (fsync, close, unlink, a new file
//!   written and read back, by the process and by a forked child) and the
//!   run's exit status is the program's (7). The same binary on the host in
//!   the same tmpfs prints the same, the byte count aside.
//!
//! Needs `sh tests/linux/build`, `sh guest-kernel/build-image` and
//! `cargo build -p vhost-user-pipe`; skips without QEMU.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use system_tests::programs;
use system_tests::qemu::{daemon_bin, have_qemu, qemu_of, run_with_deadline, Group};

/// Hard limit of one run (a few VMs under TCG on a loaded 2-core machine).
const LIMIT: Duration = Duration::from_secs(300);
const MIB: u64 = 1 << 20;
/// How much the writer would write if nothing stopped it.
const BIG_MIB: &str = "1024";
/// Acknowledged bytes after which the test kills the writer.
const KILL_AT: u64 = 16 * MIB;

fn program() -> PathBuf {
    system_tests::programs::linux("files_faults")
}

fn skip() -> bool {
    if !have_qemu() {
        eprintln!("skipped: no qemu-system-x86_64");
        return true;
    }
    false
}

/// `root/bin/files_faults`.
fn install(root: &Path) {
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::copy(program(), root.join("bin/files_faults")).unwrap();
}

/// `vhost-user-pipe run --root ROOT --writable files_faults ARGS`, its
/// stdout as lines from a reader thread.
struct Run {
    group: Group,
    lines: mpsc::Receiver<String>,
    /// Holds the run directory (QEMU command lines name its sockets).
    run: tempfile::TempDir,
}

impl Run {
    fn start(root: &Path, args: &[&str]) -> Self {
        let run = tempfile::Builder::new()
            .prefix("vup-ffaults-run-")
            .tempdir()
            .unwrap();
        let mut c = Command::new(daemon_bin());
        c.args(["run", "--accel", "tcg", "--writable", "--root"])
            .arg(root)
            .arg("--kernel")
            .arg(programs::kernel())
            .arg("--run-dir")
            .arg(run.path().join("run"))
            .arg("files_faults")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut group = Group::spawn(c);
        let stdout = BufReader::new(group.child.stdout.take().unwrap());
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self { group, lines, run }
    }

    fn line(&self) -> String {
        self.lines
            .recv_timeout(LIMIT)
            .expect("a line before the daemon exits, within the limit")
    }

    fn run_dir(&self) -> PathBuf {
        self.run.path().join("run")
    }

    /// The rest of the output and the daemon's exit code.
    fn finish(mut self) -> (Vec<String>, Option<i32>) {
        let until = Instant::now() + LIMIT;
        let mut rest = Vec::new();
        while let Ok(l) = self
            .lines
            .recv_timeout(until.saturating_duration_since(Instant::now()))
        {
            rest.push(l);
        }
        let status = self.group.wait_deadline(LIMIT).and_then(|s| s.code());
        (rest, status)
    }
}

/// The pattern's bytes from `offset` (a multiple of 4) on, `len` of them.
fn pattern(offset: u64, len: usize) -> Vec<u8> {
    (0..len.div_ceil(4) as u64)
        .flat_map(|i| ((offset / 4 + i + 1) as u32).to_le_bytes())
        .take(len)
        .collect()
}

#[test]
fn kill9_in_the_middle_of_a_large_write_leaves_the_acknowledged_bytes() {
    if skip() {
        return;
    }
    let root = tempfile::Builder::new()
        .prefix("vup-ffaults-")
        .tempdir()
        .unwrap();
    install(root.path());
    let run = Run::start(root.path(), &["bigwrite", "/big", BIG_MIB]);
    // "writer pid P" (the parent's) and the child's "ack N" lines, in
    // whatever order they arrive.
    let mut writer = None;
    let mut acked = 0;
    let mut lines = Vec::new();
    while writer.is_none() || acked < KILL_AT {
        let l = run.line();
        if let Some(p) = l.strip_prefix("writer pid ") {
            writer = Some(p.parse::<u32>().unwrap());
        } else {
            acked = l
                .strip_prefix("ack ")
                .unwrap_or_else(|| panic!("expected 'ack N', got {l:?}"))
                .parse()
                .unwrap();
            lines.push(l);
        }
    }
    let writer = writer.unwrap();
    let until = Instant::now() + LIMIT;
    let qemu = loop {
        if let Some(q) = qemu_of(&run.run_dir(), writer) {
            break q;
        }
        assert!(Instant::now() < until, "no QEMU for guest {writer}");
        std::thread::sleep(Duration::from_millis(5));
    };
    // SAFETY: kill(2) of the QEMU this test's daemon started for the writer.
    assert_eq!(unsafe { libc::kill(qemu as libc::pid_t, libc::SIGKILL) }, 0);
    let (rest, status) = run.finish();
    lines.extend(rest);
    assert_eq!(status, Some(0), "the root exits 0:\n{lines:?}");
    assert!(
        !lines.iter().any(|l| l == "writer finished"),
        "the writer finished before the kill: write more"
    );
    let acked: u64 = lines
        .iter()
        .filter_map(|l| l.strip_prefix("ack ")?.parse().ok())
        .max()
        .unwrap();
    let tail: Vec<&String> = lines.iter().filter(|l| !l.starts_with("ack ")).collect();
    assert_eq!(tail.len(), 2, "{tail:?}");
    assert_eq!(tail[0], "writer signaled 9");
    let guest_size: u64 = tail[1]
        .strip_prefix("size ")
        .unwrap_or_else(|| panic!("{tail:?}"))
        .parse()
        .unwrap();
    // The file on the host, as the daemon left it.
    let path = root.path().join("big");
    let size = std::fs::metadata(&path).unwrap().len();
    eprintln!(
        "acknowledged {acked} bytes ({} MiB), file {size} bytes",
        acked / MIB
    );
    assert_eq!(size, guest_size, "the guest's stat says the host's size");
    assert!(
        size >= acked,
        "acknowledged {acked} bytes, but the file has {size}"
    );
    assert!(
        size <= acked + MIB,
        "acknowledged {acked} bytes, the file has {size}: more than one write more"
    );
    let mut f = std::fs::File::open(&path).unwrap();
    let mut offset = 0;
    let mut buf = vec![0u8; MIB as usize];
    while offset < size {
        let n = ((size - offset) as usize).min(buf.len());
        std::io::Read::read_exact(&mut f, &mut buf[..n]).unwrap();
        if buf[..n] != pattern(offset, n)[..] {
            let at = (0..n)
                .find(|&i| buf[i] != pattern(offset + (i as u64 & !3), 4)[i & 3])
                .unwrap();
            panic!("byte {} of {size} is not the pattern's", offset + at as u64);
        }
        offset += n as u64;
    }
}

/// A tmpfs, unmounted on drop (panics included).
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Option<Self> {
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o"])
            .arg(format!("size={size},mode=0755"))
            .arg("tmpfs")
            .arg(at)
            .output()
            .ok()?;
        if !out.status.success() {
            eprintln!(
                "skipped: cannot mount a tmpfs: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            return None;
        }
        Some(Self(at.to_owned()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.0)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
}

/// The lines of a fill run with the byte count hidden (it depends on the
/// file system's block accounting, not on who writes).
fn without_count(out: &str) -> Vec<String> {
    out.lines()
        .map(|l| match l.strip_prefix("wrote ") {
            Some(rest) => format!("wrote N{}", &rest[rest.find(' ').unwrap_or(0)..]),
            None => l.to_owned(),
        })
        .collect()
}

#[test]
fn a_full_disk_is_enospc_and_the_tree_goes_on() {
    if skip() {
        return;
    }
    let dir = tempfile::Builder::new()
        .prefix("vup-ffaults-disk-")
        .tempdir()
        .unwrap();
    let mnt = dir.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    // Declared after `dir`: unmounted before the directory goes.
    let Some(_tmpfs) = Tmpfs::mount(&mnt, "1m") else {
        return;
    };
    install(&mnt);
    let c = {
        let mut c = Command::new(daemon_bin());
        c.args(["run", "--accel", "tcg", "--writable", "--root"])
            .arg(&mnt)
            .arg("--kernel")
            .arg(programs::kernel())
            .arg("--run-dir")
            .arg(dir.path().join("run"))
            .args(["files_faults", "fill", "big"]);
        c
    };
    let g = run_with_deadline(c, LIMIT).expect("the tree finished in time");
    let stdout = String::from_utf8_lossy(&g.stdout).into_owned();
    print!("guest:\n{stdout}");
    assert_eq!(
        g.status.code(),
        Some(7),
        "the run's status is the program's (7 after ENOSPC)\nstdout:\n{stdout}\ndaemon:\n{}",
        String::from_utf8_lossy(&g.stderr)
    );
    let first = stdout.lines().next().unwrap_or("");
    assert!(first.ends_with(" bytes, then ENOSPC"), "{stdout}");
    let count: u64 = first
        .strip_prefix("wrote ")
        .and_then(|r| r.split(' ').next()?.parse().ok())
        .unwrap();
    assert!(count > 512 * 1024, "a 1 MiB tmpfs took only {count} bytes");
    assert!(!mnt.join("big").exists(), "the program removed its file");

    let mut h = Command::new(mnt.join("bin/files_faults"));
    h.args(["fill", "big"]).current_dir(&mnt);
    let h = run_with_deadline(h, LIMIT).expect("the host run finished in time");
    let host = String::from_utf8_lossy(&h.stdout).into_owned();
    assert_eq!(h.status.code(), Some(7), "{host}");
    assert_eq!(without_count(&stdout), without_count(&host));
}
