//! Regression tests for the defects a hostile local user, a careless user
//! and a paused VM found (RELIABILITY.md, "Hardening"): the run directory,
//! fds inherited by VMs, firmware looked up in the working directory, silent
//! QEMU failures, signals to the daemon, `serve` serving tree after tree, and
//! requests pending across a QMP `stop`/`cont`. Real QEMU under TCG.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use system_tests::programs;
use system_tests::qemu::{daemon_bin, qemu_of, qemus_mentioning, run_with_deadline, Group};

/// A tree of two guests under TCG on a loaded 2-core machine finishes well within this.
const LIMIT: Duration = Duration::from_secs(120);

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("vup-harden-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn daemon(args: &[&str]) -> Command {
    let mut c = Command::new(daemon_bin());
    c.args(["run", "--accel", "tcg"]).args(args);
    c
}

fn image(name: &str) -> String {
    programs::program(name).display().to_string()
}

/// Runs `cmd` with umask 000, as the careless user did.
fn with_umask_000(cmd: &mut Command) {
    // SAFETY: umask(2) in the child between fork and exec; async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            libc::umask(0);
            Ok(())
        });
    }
}

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().mode() & 0o777
}

/// Waits for `cond` until `limit` passes; whether it held.
fn within(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    cond()
}

// ---- 1, 5: the run directory, sockets and logs ----

/// Regression: the run directory was `$TMPDIR/vhost-user-pipe.<pid>`,
/// accepted if it existed, and its files followed the umask.
#[test]
fn the_run_directory_is_fresh_private_and_randomly_named() {
    let tmp = scratch("tmpdir");
    let mut c = daemon(&["--keep-run-dir", &image("probe"), "exit", "3"]);
    c.env("TMPDIR", &tmp);
    with_umask_000(&mut c);
    let out = run_with_deadline(c, LIMIT).expect("finished");
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let dirs: Vec<PathBuf> = std::fs::read_dir(&tmp)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    let name = dirs[0].file_name().unwrap().to_string_lossy().into_owned();
    let suffix = name.strip_prefix("vhost-user-pipe.").expect("the prefix");
    assert!(
        !suffix.chars().all(|c| c.is_ascii_digit()),
        "not a predictable pid: {name}"
    );
    assert_eq!(mode(&dirs[0]), 0o700);
    for log in ["pid-1.qemu.log", "pid-1.serial.log"] {
        assert_eq!(mode(&dirs[0].join(log)), 0o600, "{log}");
    }
    let _ = std::fs::remove_dir_all(&tmp);
}

/// Regression: an attacker's directory full of symlinks was accepted, and
/// the daemon truncated and wrote the files they pointed to.
#[test]
fn an_existing_run_directory_is_refused_and_nothing_in_it_is_touched() {
    let d = scratch("planted");
    let victim = d.join("victim");
    std::fs::write(&victim, b"precious").unwrap();
    let run_dir = d.join("run");
    std::fs::create_dir(&run_dir).unwrap();
    for log in ["pid-1.qemu.log", "pid-1.serial.log"] {
        std::os::unix::fs::symlink(&victim, run_dir.join(log)).unwrap();
    }
    let c = daemon(&[
        "--run-dir",
        run_dir.to_str().unwrap(),
        &image("probe"),
        "exit",
        "0",
    ]);
    let out = run_with_deadline(c, LIMIT).expect("refused at once");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    let _ = std::fs::remove_dir_all(&d);
}

// ---- 2: fds inherited by VMs ----

/// Regression: received guest RAM fds were not close-on-exec, so a spawned
/// child's QEMU held its parent's RAM (and every later QEMU all earlier ones).
#[test]
fn no_qemu_holds_memory_or_sockets_that_are_not_its_own() {
    let d = scratch("fds");
    let run_dir = d.join("run");
    let mut c = daemon(&[
        "--run-dir",
        run_dir.to_str().unwrap(),
        &image("probe"),
        "block",
        "30",
    ]);
    with_umask_000(&mut c);
    c.stdout(Stdio::piped()).stderr(Stdio::null());
    let mut g = Group::spawn(c);
    let mut lines = BufReader::new(g.child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("a line").unwrap();
    let child: u32 = first
        .strip_prefix("blocked pid ")
        .expect("blocked pid N")
        .parse()
        .unwrap();
    let mut qemus = Vec::new();
    assert!(within(LIMIT, || {
        qemus = [1, child]
            .iter()
            .filter_map(|&p| qemu_of(&run_dir, p))
            .collect();
        qemus.len() == 2
    }));
    let links = |q: u32| -> Vec<String> {
        std::fs::read_dir(format!("/proc/{q}/fd"))
            .map(|d| {
                d.flatten()
                    .filter_map(|e| std::fs::read_link(e.path()).ok())
                    .map(|l| l.display().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let memfds = |q: u32| links(q).iter().filter(|l| l.starts_with("/memfd:")).count();
    for q in qemus {
        // Once QEMU has made its own RAM, that must be the only one it holds.
        assert!(within(LIMIT, || memfds(q) >= 1), "QEMU {q} made its RAM");
        assert_eq!(
            memfds(q),
            1,
            "QEMU {q} holds its own RAM only: {:?}",
            links(q)
        );
    }
    for sock in [1, child] {
        assert_eq!(mode(&run_dir.join(format!("pid-{sock}.sock"))), 0o600);
    }
    g.kill();
    let _ = std::fs::remove_dir_all(&d);
}

// ---- 3: firmware ----

/// Regression: `-bios qboot.rom` made QEMU take `./qboot.rom` first; a
/// zero-filled one hung every guest of the tree.
#[test]
fn a_firmware_file_in_the_working_directory_is_not_used() {
    let d = scratch("firmware");
    for name in ["qboot.rom", "bios-microvm.bin", "bios-256k.bin"] {
        std::fs::write(d.join(name), vec![0u8; 64 * 1024]).unwrap();
    }
    let mut c = daemon(&[&image("probe"), "exit", "3"]);
    c.current_dir(&d);
    let out = run_with_deadline(c, LIMIT).expect("finished");
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let _ = std::fs::remove_dir_all(&d);
}

// ---- 7: silent failures ----

/// A fake QEMU: passes the version and data-directory probes, then runs
/// `script` for the real launch.
fn fake_qemu(dir: &Path, script: &str) -> PathBuf {
    let path = dir.join("qemu-system-x86_64");
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\n\
             case \"$1\" in\n\
             --version) echo 'QEMU emulator version 10.0.2'; exit 0;;\n\
             -L) echo /usr/share/qemu; exit 0;;\n\
             esac\n\
             {script}\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// Regression: a QEMU that failed at start gave exit 137, nothing on
/// stderr, and its log went with the run directory.
#[test]
fn a_qemu_that_fails_at_start_is_reported_with_its_message() {
    let d = scratch("failing");
    let qemu = fake_qemu(
        &d,
        "echo 'qemu: could not load kernel: fake failure' >&2; exit 1",
    );
    let tmp = d.join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let mut c = daemon(&[
        "--qemu",
        qemu.to_str().unwrap(),
        &image("probe"),
        "exit",
        "0",
    ]);
    c.env("TMPDIR", &tmp);
    let out = run_with_deadline(c, LIMIT).expect("finished");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{err}");
    assert!(err.contains("fake failure"), "QEMU's words: {err}");
    assert!(err.contains("run directory kept"), "{err}");
    let kept: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
    assert_eq!(kept.len(), 1, "the run directory stays for its logs");
    let _ = std::fs::remove_dir_all(&d);
}

/// Regression: a guest that never started (here: zero-filled firmware) hung
/// the tree forever at 100 % CPU.
#[test]
fn a_guest_that_never_starts_is_killed_at_the_start_deadline() {
    let d = scratch("hung");
    let zeros = d.join("zeros.rom");
    std::fs::write(&zeros, vec![0u8; 64 * 1024]).unwrap();
    let qemu = fake_qemu(
        &d,
        &format!(
            "for a; do shift; if [ \"$prev\" = -bios ]; then a={}; fi; set -- \"$@\" \"$a\"; prev=$a; done\n\
             exec qemu-system-x86_64 \"$@\"",
            zeros.display()
        ),
    );
    let c = daemon(&[
        "--qemu",
        qemu.to_str().unwrap(),
        "--start-timeout",
        "3",
        &image("probe"),
        "exit",
        "0",
    ]);
    let started = Instant::now();
    let out = run_with_deadline(c, LIMIT).expect("the deadline ends it");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{err}");
    assert!(err.contains("did not start the program within 3s"), "{err}");
    assert!(started.elapsed() < LIMIT / 2);
    let _ = std::fs::remove_dir_all(&d);
}

/// Regression: `--memory 1` hung forever.
#[test]
fn guest_memory_below_the_minimum_is_refused() {
    let out = run_with_deadline(daemon(&["--memory", "1", &image("probe")]), LIMIT).unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("16"), "names the minimum: {err}");
}

/// Regression: a comma in the run directory broke `-chardev socket,path=`.
#[test]
fn a_run_directory_with_a_comma_works() {
    let d = scratch("comma");
    let run_dir = d.join("a,b");
    let c = daemon(&[
        "--run-dir",
        run_dir.to_str().unwrap(),
        &image("probe"),
        "exit",
        "3",
    ]);
    let out = run_with_deadline(c, LIMIT).expect("finished");
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let _ = std::fs::remove_dir_all(&d);
}

/// Regression: Ctrl-C, SIGTERM or SIGHUP left the run directory behind.
#[test]
fn an_ending_signal_removes_the_run_directory_and_every_vm() {
    for (signo, name) in [
        (libc::SIGTERM, "TERM"),
        (libc::SIGINT, "INT"),
        (libc::SIGHUP, "HUP"),
    ] {
        let tmp = scratch(&format!("signal-{name}"));
        let mut c = daemon(&[&image("probe"), "block", "60"]);
        c.env("TMPDIR", &tmp)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut g = Group::spawn(c);
        let mut lines = BufReader::new(g.child.stdout.take().unwrap()).lines();
        assert!(lines
            .next()
            .expect("a line")
            .unwrap()
            .starts_with("blocked pid"));
        // The root and its child, and the pool's parked VMs if any.
        assert!(qemus_mentioning(tmp.to_str().unwrap()).len() >= 2);
        // SAFETY: kill(2) of the daemon we started.
        unsafe { libc::kill(g.child.id() as libc::pid_t, signo) };
        let status = g.wait_deadline(LIMIT).expect("the daemon ends");
        assert_eq!(status.code(), Some(128 + signo), "SIG{name}");
        assert!(
            std::fs::read_dir(&tmp).unwrap().next().is_none(),
            "SIG{name}: the run directory is gone"
        );
        assert!(
            within(LIMIT, || qemus_mentioning(tmp.to_str().unwrap()).is_empty()),
            "SIG{name}: every VM ended"
        );
        let _ = std::fs::remove_dir_all(&tmp);
    }
}

// ---- 10: huge reads ----

/// Regression: `read(fd, buf, 2^32)` panicked the guest, and a read into
/// memory that is not RAM returned 0, a false end of file.
#[test]
fn huge_and_unmapped_reads_fail_cleanly_and_lose_no_byte() {
    let out = run_with_deadline(daemon(&[&image("probe"), "huge"]), LIMIT).expect("finished");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "huge read -1 errno 14\nunmapped read -1 errno 14\nthen read 5\n"
    );
    assert_eq!(out.status.code(), Some(0));
}

// ---- 6: serve, tree after tree ----

/// QEMU as `qemu-configs/README.md` launches a root by hand: the process
/// kernel, with `program` as its PVH module (argv from the device).
fn qemu_by_hand(socket: &Path, program: &Path, dir: &Path, extra: &[&str]) -> Command {
    let mut q = Command::new("qemu-system-x86_64");
    q.args([
        "-machine",
        "microvm,memory-backend=mem,pit=on,pic=on,rtc=on,isa-serial=on",
        "-bios",
        "/usr/share/qemu/qboot.rom",
        "-accel",
        "tcg",
        "-cpu",
        "max",
        "-m",
        "64M",
        "-object",
        "memory-backend-memfd,id=mem,size=64M,share=on",
        "-device",
        "vhost-user-gpio-device,chardev=vpipe",
        "-global",
        "virtio-mmio.force-legacy=false",
        "-device",
        "isa-debug-exit,iobase=0xf4,iosize=4",
        "-display",
        "none",
        "-monitor",
        "none",
        "-nodefaults",
        "-no-reboot",
    ])
    .arg("-chardev")
    .arg(format!("socket,id=vpipe,path={}", socket.display()))
    .arg("-kernel")
    .arg(programs::kernel())
    .arg("-initrd")
    .arg(program)
    .arg("-serial")
    .arg(format!("file:{}", dir.join("serial.log").display()))
    .args(extra)
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    q
}

fn serve(socket: &Path, run_dir: &Path, args: &[&str]) -> Group {
    let mut c = Command::new(daemon_bin());
    c.args(["serve", "--accel", "tcg", "--socket-path"])
        .arg(socket)
        .arg("--root")
        .arg(programs::dir())
        .arg("--run-dir")
        .arg(run_dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let g = Group::spawn_keep_stdin(c);
    assert!(within(LIMIT, || socket.exists()), "the daemon listens");
    g
}

/// Regression: `serve` exited after its first root, and a second frontend
/// that connected meanwhile was never answered.
#[test]
fn serve_serves_tree_after_tree_and_refuses_a_second_root() {
    let d = scratch("serve");
    let socket = d.join("v.sock");
    let mut daemon = serve(&socket, &d.join("run"), &["reader"]);
    let mut stdin = daemon.child.stdin.take().unwrap();
    let mut out = BufReader::new(daemon.child.stdout.take().unwrap()).lines();
    let program = programs::program("probe");
    for tree in 1..=2 {
        let mut qemu = Group::spawn(qemu_by_hand(&socket, &program, &d, &[]));
        // The root blocks reading the daemon's stdin; meanwhile a second
        // frontend is refused at once.
        std::thread::sleep(Duration::from_millis(500));
        let mut second = UnixStream::connect(&socket).expect("the socket accepts");
        second.set_read_timeout(Some(LIMIT / 4)).unwrap();
        let mut buf = [0u8; 1];
        assert_eq!(
            second.read(&mut buf).expect("closed, not left waiting"),
            0,
            "tree {tree}: the second root is refused"
        );
        stdin.write_all(b"x").unwrap();
        assert_eq!(out.next().unwrap().unwrap(), "reader got 1", "tree {tree}");
        assert!(
            qemu.wait_deadline(LIMIT).is_some(),
            "tree {tree}: the root ends"
        );
        assert!(
            daemon.child.try_wait().unwrap().is_none(),
            "tree {tree}: the daemon goes on serving"
        );
    }
    drop(daemon);
    let _ = std::fs::remove_dir_all(&d);
}

// ---- 13: requests pending across a VM pause ----

/// A QMP client: one command, its answer.
fn qmp(socket: &Path, command: &str) {
    let s = UnixStream::connect(socket).expect("QMP socket");
    s.set_read_timeout(Some(LIMIT / 4)).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut w = s;
    let mut line = String::new();
    r.read_line(&mut line).unwrap(); // greeting
    for cmd in ["qmp_capabilities", command] {
        writeln!(w, "{{\"execute\": \"{cmd}\"}}").unwrap();
        loop {
            line.clear();
            r.read_line(&mut line).unwrap();
            if line.contains("\"return\"") {
                break;
            }
            assert!(
                !line.contains("\"error\"") && !line.is_empty(),
                "{cmd}: {line}"
            );
        }
    }
}

/// Regression: QEMU stops the rings on a pause (`GET_VRING_BASE`) and the
/// device took that for a reset: the root's WAIT was dropped, and after
/// `cont` the root waited forever.
#[test]
fn a_wait_pending_across_a_vm_pause_completes_after_it() {
    let d = scratch("pause");
    let socket = d.join("v.sock");
    let run_dir = d.join("run");
    let mut daemon = serve(&socket, &run_dir, &["--once", "root"]);
    let out = daemon.child.stdout.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = BufReader::new(out).read_to_string(&mut s);
        s
    });
    let qmp_socket = d.join("qmp.sock");
    let qmp_arg = format!("unix:{},server=on,wait=off", qmp_socket.display());
    let mut root = Group::spawn(qemu_by_hand(
        &socket,
        &programs::program("faults"),
        &d,
        &["-qmp", &qmp_arg],
    ));
    // The root spawns a reader and waits for it.
    let tree = run_dir.join("tree-1");
    let mut child = None;
    assert!(within(LIMIT, || {
        child = qemu_of(&tree, 2);
        child.is_some()
    }));
    std::thread::sleep(Duration::from_millis(500));
    qmp(&qmp_socket, "stop");
    // SAFETY: kill(2) of the child's QEMU, found by its command line.
    unsafe { libc::kill(child.unwrap() as libc::pid_t, libc::SIGKILL) };
    assert!(within(LIMIT, || qemu_of(&tree, 2).is_none()));
    std::thread::sleep(Duration::from_millis(300));
    qmp(&qmp_socket, "cont");
    assert!(root.wait_deadline(LIMIT).is_some(), "the root finishes");
    let status = daemon
        .wait_deadline(LIMIT)
        .expect("the daemon ends with its tree");
    assert_eq!(out.join().unwrap(), "reader pid 2\nchild signaled 9\n");
    assert_eq!(status.code(), Some(4));
    let _ = std::fs::remove_dir_all(&d);
}
