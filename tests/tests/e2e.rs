//! End-to-end tests: real unikernel guests under QEMU/TCG, one VM per
//! process, all attached to one `vhost-user-pipe run` daemon. Guest
//! programs: `example-apps/` and `tests/guest/probe.c`.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use system_tests::programs;
use system_tests::qemu::{cpu_seconds, daemon_bin, qemu_of, run_with_deadline, Group};

/// A tree of a few guests under TCG on a loaded 2-core machine finishes well within this.
const LIMIT: Duration = Duration::from_secs(120);

fn daemon(args: &[&str]) -> Command {
    let mut c = Command::new(daemon_bin());
    c.args(["run", "--accel", "tcg"]).args(args);
    c
}

fn run(args: &[&str]) -> Output {
    run_with_deadline(daemon(args), LIMIT).expect("the daemon finished in time")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn image(name: &str) -> String {
    programs::program(name).display().to_string()
}

#[test]
fn pipeline_output_through_three_guests_is_exact() {
    const LINES: usize = 50;
    let out = run(&[&image("pipeline"), &LINES.to_string()]);
    let mut expected = String::new();
    let (mut kept, mut bytes) = (0, 0);
    for i in (1..=LINES).filter(|i| i % 3 != 0) {
        let line = format!("LINE {i:03}: THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG\n");
        kept += 1;
        bytes += line.len();
        expected += &format!("[{kept:2}] {line}");
    }
    expected += &format!("consumer: {kept} lines, {bytes} bytes\n");
    assert_eq!(stdout(&out), expected);
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn parallel_job_collects_every_worker_and_checks_their_statuses() {
    let out = run(&[&image("parallel"), "4", "1000000"]);
    let text = stdout(&out);
    assert!(text.contains("4/4 workers reported"), "{text}");
    assert!(text.contains("parallel: OK"), "{text}");
    assert!(out.status.success());
}

#[test]
fn reader_sees_eof_when_the_writer_exits() {
    let out = run(&[&image("probe"), "eof", "100000"]);
    assert_eq!(stdout(&out), "eof after 100000 bytes, writer status 0\n");
}

#[test]
fn writer_whose_readers_have_exited_gets_epipe() {
    let out = run(&[&image("probe"), "epipe"]);
    assert_eq!(stdout(&out), "epipe result -1 errno=32\n");
}

#[test]
fn exit_codes_arrive_through_wait_and_as_the_daemons_status() {
    let out = run(&[&image("probe"), "status", "7"]);
    assert_eq!(stdout(&out), "exited 7\n");
    let root = run(&[&image("probe"), "exit", "3"]);
    assert_eq!(root.status.code(), Some(3));
}

#[test]
fn crashed_child_is_reported_to_its_parent_as_killed_by_a_signal() {
    let out = run(&[&image("probe"), "crash"]);
    // The child's own output shares the inherited stdout.
    assert_eq!(stdout(&out), "crash: abort\nsignaled 6\n");
    let root = run(&[&image("crash"), "abort"]);
    assert_eq!(
        root.status.code(),
        Some(128 + 6),
        "a crashed root ends the daemon with 128 + SIGABRT"
    );
}

#[test]
fn host_stdin_feeds_the_roots_stdin() {
    let mut c = daemon(&[&image("probe"), "reader"]);
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut g = Group::spawn_keep_stdin(c);
    g.child.stdin.take().unwrap().write_all(b"z").unwrap();
    let status = g.wait_deadline(LIMIT).expect("finished");
    let mut text = String::new();
    std::io::Read::read_to_string(&mut g.child.stdout.take().unwrap(), &mut text).unwrap();
    assert_eq!(text, "reader got 1\n");
    assert!(status.success());
}

#[test]
fn a_blocked_reader_uses_almost_no_host_cpu() {
    // The reader boots, blocks in read() and should then halt until the
    // device's interrupt: measure its QEMU's CPU time from the host.
    const BLOCK_SECS: &str = "6";
    const SETTLE: Duration = Duration::from_millis(2000);
    const WINDOW: Duration = Duration::from_millis(2000);
    const MAX_SHARE: f64 = 0.10;
    let run_dir = std::env::temp_dir().join(format!("vup-e2e-block-{}", std::process::id()));
    let mut c = daemon(&[
        "--run-dir",
        run_dir.to_str().unwrap(),
        &image("probe"),
        "block",
        BLOCK_SECS,
    ]);
    c.stdout(Stdio::piped()).stderr(Stdio::null());
    let mut g = Group::spawn(c);
    let mut lines = BufReader::new(g.child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("a line").unwrap();
    let guest: u32 = first
        .strip_prefix("blocked pid ")
        .expect("blocked pid N")
        .parse()
        .unwrap();
    let until = Instant::now() + LIMIT;
    let qemu = loop {
        if let Some(q) = qemu_of(&run_dir, guest) {
            break q;
        }
        assert!(Instant::now() < until, "no QEMU for guest {guest}");
        std::thread::sleep(Duration::from_millis(20));
    };
    std::thread::sleep(SETTLE);
    let (t0, c0) = (Instant::now(), cpu_seconds(qemu).expect("QEMU runs"));
    std::thread::sleep(WINDOW);
    let share = (cpu_seconds(qemu).expect("QEMU runs") - c0) / t0.elapsed().as_secs_f64();
    eprintln!("blocked guest's QEMU: {:.2}% of a core", share * 100.0);
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(
        share < MAX_SHARE,
        "blocked guest's QEMU used {:.1}% of a core",
        share * 100.0
    );
    assert_eq!(
        rest,
        vec!["reader got 1".to_string(), "reader status 0".to_string()]
    );
    assert!(g.wait_deadline(LIMIT).is_some_and(|s| s.success()));
    let _ = std::fs::remove_dir_all(&run_dir);
}

/// The main job (`scripts/demo`): Debian's busybox-static runs an
/// eight-stage pipeline, every process its own VM; the output is the host
/// busybox's on the same files, and `--summary` accounts for every VM.
#[test]
fn the_demo_busybox_pipeline_matches_the_host_and_is_summarised() {
    const SCRIPT: &str = "cat docs/*.md | tr -cs A-Za-z '\\n' | tr A-Z a-z | \
                          grep -E '^.{6,}$' | sort | uniq -c | sort -rn | head -n 5";
    let busybox = std::path::Path::new("/bin/busybox");
    assert!(busybox.is_file(), "install Debian's busybox-static");
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("bin")).unwrap();
    std::fs::create_dir_all(root.path().join("docs")).unwrap();
    std::fs::copy(busybox, root.path().join("bin/busybox")).unwrap();
    let ws = system_tests::qemu::workspace();
    for doc in ["README.md", "ARCHITECTURE.md", "RELIABILITY.md"] {
        std::fs::copy(ws.join(doc), root.path().join("docs").join(doc)).unwrap();
    }
    let mut host = Command::new(busybox);
    host.args(["sh", "-c", SCRIPT]).current_dir(root.path());
    let host = run_with_deadline(host, LIMIT).expect("the host's busybox finished");
    assert!(host.status.success() && !host.stdout.is_empty());

    let out = run(&[
        "--summary",
        "--root",
        root.path().to_str().unwrap(),
        "busybox",
        "sh",
        "-c",
        SCRIPT,
    ]);
    assert_eq!(stdout(&out), String::from_utf8_lossy(&host.stdout));
    assert!(out.status.success(), "{out:?}");
    // The shell and eight stages, each forked: nine VMs. All exit 0, but
    // for `sort`, which may die of SIGPIPE when `head` has its five lines
    // and exits before sort's last write, as on Linux.
    let err = String::from_utf8_lossy(&out.stderr);
    // Some of the forks may have landed in parked VMs of the pool.
    let summary = err
        .lines()
        .find_map(|l| {
            let rest = l.strip_prefix("vhost-user-pipe: 9 processes, 9 VMs (8 forked")?;
            let rest = match rest.strip_prefix(", ") {
                Some(pooled) => pooled.split_once(" from the pool")?.1,
                None => rest,
            };
            rest.strip_prefix("); ended: ")
        })
        .unwrap_or_else(|| panic!("no summary line: {err}"));
    assert!(
        summary == "9 × exit 0" || summary == "8 × exit 0, 1 × SIGPIPE",
        "{summary}"
    );
}
