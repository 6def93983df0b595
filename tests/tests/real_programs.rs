//! Real programs that nobody here wrote, built unchanged with
//! `musl-gcc -static`, run as the root of a process tree under the daemon
//! (`vhost-user-pipe run --accel tcg --root ROOT PROGRAM ARGS`, each
//! process its own VM on the guest kernel) and compared with the same
//! program run on the host.
//!
//! The sources are vendored under `tests/real-programs/` (its `SOURCES.md`
//! says where each comes from: the Linux man pages' example programs and
//! small Unix tools from Debian source packages and crates.io), and
//! `tests/real-programs/build` builds them into
//! `target/real-programs/root/bin/` (the root the runs see as `/`, with
//! the data files they read) and, with plain `gcc`, into
//! `target/real-programs/native/`. `docs/real-programs.md` has the table.
//!
//! Every run is compared with two host runs, both with the same argv
//! (`argv[0]` included), environment and stdin, in the root directory:
//!
//! - the **same musl binary** on the host kernel: standard output, exit
//!   status (128 + the signal for a death by signal) and standard error
//!   must be the same byte for byte. Only the kernel differs, so any
//!   difference is ours.
//! - the **native build** (`gcc`, glibc): the same, unless the case names
//!   the C library difference that makes the two differ (stdio buffering);
//!   standard error too, unless the two libraries word a message
//!   differently.
//!
//! Outputs that hold pids are normalised: every number after "PID is " or
//! "PID of child: " becomes `<pid>`. Outputs of processes that run at the
//! same time are compared as sorted lines.
//!
//! The tests skip (pass, with a line on stderr) when QEMU or `musl-gcc` is
//! missing, as the other end-to-end tests need both.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use system_tests::programs;
use system_tests::qemu::{daemon_bin, have_qemu, status_of, workspace, Outcome};

/// A run boots one VM per process under TCG; on a loaded 2-core machine a
/// tree of a few processes takes seconds. This is the hard limit per run.
const LIMIT: Duration = Duration::from_secs(120);
/// The environment every run gets (and nothing else): a `PATH` for
/// `execvp`/`posix_spawnp`/`popen` to search, and a time zone so that
/// `ctime(3)` prints the same on both sides.
const BASE_ENV: &[&str] = &["PATH=/bin:/usr/bin", "TZ=UTC"];

/// How outputs are made comparable before they are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Norm {
    /// Byte for byte.
    Exact,
    /// Pids after "PID is " and "PID of child: " become `<pid>`.
    Pids,
    /// Pids as above, then the lines sorted: for the output of processes
    /// that run at the same time.
    PidsSortedLines,
    /// getdents(2)'s table: its fourth column, `d_off`, is an opaque
    /// position cookie (ext4 gives hashes, the device counts records:
    /// spec `dev-file-dents`) and becomes `<off>`; the order, inodes,
    /// types, lengths and names are compared.
    DirentCookies,
}

/// How standard error is compared (it always is: the daemon logs only
/// errors by default, and a run that passes has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stderr {
    /// Compared with both host runs.
    Compared,
    /// Compared with the host run of the same musl binary only: the C
    /// libraries word the message differently.
    SameLibc,
}

/// One run: the program (a name in `root/bin/` and `native/`), its
/// arguments, stdin (a file in the root, or empty) and extra environment.
#[derive(Debug, Clone, Copy)]
struct Case {
    prog: &'static str,
    args: &'static [&'static str],
    stdin: Option<&'static str>,
    env: &'static [&'static str],
    norm: Norm,
    stderr: Stderr,
    /// Why the glibc build prints something else than the musl one, if it
    /// does: then only the host run of the musl binary is the reference.
    libc_differs: Option<&'static str>,
}

impl Case {
    const fn new(prog: &'static str, args: &'static [&'static str]) -> Self {
        Self {
            prog,
            args,
            stdin: None,
            env: &[],
            norm: Norm::Exact,
            stderr: Stderr::Compared,
            libc_differs: None,
        }
    }
    const fn stdin(mut self, file: &'static str) -> Self {
        self.stdin = Some(file);
        self
    }
    const fn env(mut self, env: &'static [&'static str]) -> Self {
        self.env = env;
        self
    }
    const fn norm(mut self, norm: Norm) -> Self {
        self.norm = norm;
        self
    }
    const fn stderr(mut self, stderr: Stderr) -> Self {
        self.stderr = stderr;
        self
    }
    const fn libc_differs(mut self, why: &'static str) -> Self {
        self.libc_differs = Some(why);
        self
    }
}

/// `target/real-programs` (`$CARGO_TARGET_DIR/real-programs`).
fn out_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"))
        .join("real-programs")
}

fn have_musl_gcc() -> bool {
    Command::new("musl-gcc")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The root directory, or `None` (after saying why) when the tools the
/// tests need are missing. Panics with the build command when they are
/// there but the programs were not built.
fn root() -> Option<PathBuf> {
    if !have_qemu() {
        eprintln!("SKIPPED real programs: qemu-system-x86_64 is missing");
        return None;
    }
    if !have_musl_gcc() {
        eprintln!("SKIPPED real programs: musl-gcc is missing (Debian's musl-tools)");
        return None;
    }
    let root = out_dir().join("root");
    assert!(
        root.join("bin/pipe").is_file() && out_dir().join("native/pipe").is_file(),
        "{} is not built: run `sh tests/real-programs/build` first",
        root.display()
    );
    Some(root)
}

fn stdin_of(root: &Path, case: &Case) -> Stdio {
    match case.stdin {
        Some(f) => Stdio::from(std::fs::File::open(root.join(f)).expect("stdin file")),
        None => Stdio::null(),
    }
}

/// What a finished command left: (stdout, stderr, status).
type Output = (Vec<u8>, Vec<u8>, ExitStatus);

/// Runs `cmd` (with the stdin it was given) in its own process group with
/// a hard time limit; the group is killed at the end whatever happens.
/// `None` when it did not finish in time.
fn run_with_deadline(cmd: Command, limit: Duration) -> Option<Output> {
    system_tests::qemu::run_keeping_stdin(cmd, limit).map(|o| (o.stdout, o.stderr, o.status))
}

/// Runs `exe` on the host as `case` says, in `root`.
fn on_host(root: &Path, exe: &Path, case: &Case) -> Outcome {
    let mut c = Command::new(exe);
    c.arg0(case.prog)
        .args(case.args)
        .current_dir(root)
        .env_clear()
        .stdin(stdin_of(root, case));
    for e in BASE_ENV.iter().chain(case.env) {
        let (k, v) = e.split_once('=').expect("NAME=value");
        c.env(k, v);
    }
    let (stdout, stderr, status) = run_with_deadline(c, LIMIT)
        .unwrap_or_else(|| panic!("{} did not finish on the host", exe.display()));
    Outcome {
        stdout,
        stderr,
        status: status_of(status),
    }
}

/// Runs `case` under the daemon: `vhost-user-pipe run --root ROOT`.
fn in_guest(root: &Path, case: &Case) -> Outcome {
    let mut c = Command::new(daemon_bin());
    c.args(["run", "--accel", "tcg", "--kernel"])
        .arg(programs::kernel())
        .arg("--root")
        .arg(root)
        .env_remove("RUST_LOG")
        .stdin(stdin_of(root, case));
    for e in BASE_ENV.iter().chain(case.env) {
        c.arg("--env").arg(e);
    }
    c.arg(case.prog).args(case.args);
    let (stdout, stderr, status) = run_with_deadline(c, LIMIT).unwrap_or_else(|| {
        panic!(
            "`{} {}` did not finish under the daemon within {LIMIT:?}",
            case.prog,
            case.args.join(" ")
        )
    });
    Outcome {
        stdout,
        stderr,
        status: status_of(status),
    }
}

/// `text` with every number after "PID is " or "PID of child: " replaced.
fn hide_pids(text: &[u8]) -> Vec<u8> {
    const MARKS: [&[u8]; 2] = [b"PID is ", b"PID of child: "];
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if let Some(m) = MARKS.iter().find(|m| text[i..].starts_with(m)) {
            out.extend_from_slice(m);
            i += m.len();
            let digits = text[i..].iter().take_while(|b| b.is_ascii_digit()).count();
            if digits > 0 {
                out.extend_from_slice(b"<pid>");
                i += digits;
            }
        } else {
            out.push(text[i]);
            i += 1;
        }
    }
    out
}

fn normalise(norm: Norm, text: &[u8]) -> Vec<u8> {
    match norm {
        Norm::Exact => text.to_vec(),
        Norm::Pids => hide_pids(text),
        Norm::DirentCookies => {
            let text = String::from_utf8_lossy(text);
            let mut out = String::new();
            for line in text.split_inclusive('\n') {
                let cols: Vec<&str> = line.split_whitespace().collect();
                if cols.len() == 5 && cols[3].parse::<u64>().is_ok() {
                    out += &format!("{} {} {} <off> {}\n", cols[0], cols[1], cols[2], cols[4]);
                } else {
                    out += line;
                }
            }
            out.into_bytes()
        }
        Norm::PidsSortedLines => {
            let text = hide_pids(text);
            let mut lines: Vec<&[u8]> = text.split_inclusive(|&b| b == b'\n').collect();
            lines.sort();
            lines.concat()
        }
    }
}

/// `b` as text for a message, cut to its first 2000 bytes.
fn show(b: &[u8]) -> String {
    const SHOWN: usize = 2000;
    let mut s = String::from_utf8_lossy(&b[..b.len().min(SHOWN)]).into_owned();
    if b.len() > SHOWN {
        s.push_str(&format!("... ({} bytes in all)", b.len()));
    }
    s
}

/// Asserts that two byte strings are equal; on a difference says where.
#[track_caller]
fn assert_bytes_eq(what: &str, left: &[u8], right: &[u8]) {
    if left != right {
        let at = left.iter().zip(right).take_while(|(a, b)| a == b).count();
        panic!(
            "{what}: {} bytes against {}, first difference at byte {at}\n  left: {}\n right: {}",
            left.len(),
            right.len(),
            show(&left[at.saturating_sub(40)..]),
            show(&right[at.saturating_sub(40)..]),
        );
    }
}

/// Asserts that `guest` is `reference` after normalisation.
fn assert_same(case: &Case, what: &str, guest: &Outcome, reference: &Outcome, stderr: bool) {
    let cmd = format!("{} {}", case.prog, case.args.join(" "));
    assert_bytes_eq(
        &format!(
            "`{cmd}`: stdout differs from the {what}'s (guest stderr: {:?})",
            show(&guest.stderr)
        ),
        &normalise(case.norm, &guest.stdout),
        &normalise(case.norm, &reference.stdout),
    );
    assert_eq!(
        guest.status,
        reference.status,
        "`{cmd}`: exit status differs from the {what}'s\nguest stderr:\n{}",
        show(&guest.stderr)
    );
    if stderr {
        assert_bytes_eq(
            &format!("`{cmd}`: stderr differs from the {what}'s"),
            &normalise(case.norm, &guest.stderr),
            &normalise(case.norm, &reference.stderr),
        );
    }
}

/// Runs `case` under the daemon and on the host (the same musl binary,
/// then the native glibc build unless the case says why not), checks that
/// they agree and returns the guest's outcome.
fn same_as_host(root: &Path, case: Case) -> Outcome {
    let musl = on_host(root, &root.join("bin").join(case.prog), &case);
    let guest = in_guest(root, &case);
    assert_same(&case, "same musl binary on the host", &guest, &musl, true);
    if case.libc_differs.is_none() {
        let native = on_host(root, &out_dir().join("native").join(case.prog), &case);
        assert_same(
            &case,
            "native gcc build",
            &guest,
            &native,
            case.stderr == Stderr::Compared,
        );
    }
    guest
}

/// musl's stdout starts out line buffered and only finds out that it is
/// not a terminal at its first write, so a program's first line is written
/// at once; glibc buffers it. Output order across processes then differs.
const MUSL_FIRST_LINE: &str = "musl writes stdout's first line at once, glibc buffers it";

// ---------------------------------------------------------------------
// The Linux man pages' example programs (manpages-dev 6.03).

#[test]
fn pipe2_example_child_echoes_what_the_parent_writes() {
    let Some(root) = root() else { return };
    let g = same_as_host(&root, Case::new("pipe", &["hello through a pipe"]));
    assert_eq!(g.stdout(), "hello through a pipe\n");
}

#[test]
#[ignore = "daemon: `run` ends the tree when the root exits, so the fork child (SIGCHLD ignored, never waited for) is killed before it prints \"Child exiting.\"; on Linux it outlives its parent"]
fn fork2_example_child_and_parent_both_print() {
    let Some(root) = root() else { return };
    let g = same_as_host(&root, Case::new("fork", &[]).norm(Norm::PidsSortedLines));
    assert!(g.stdout().contains("Child exiting.\n"), "{}", g.stdout());
}

#[test]
fn wait2_example_parent_sees_the_child_exit_status() {
    let Some(root) = root() else { return };
    let g = same_as_host(
        &root,
        Case::new("wait", &["7"])
            .norm(Norm::Pids)
            .libc_differs(MUSL_FIRST_LINE),
    );
    assert_eq!(
        show(&hide_pids(&g.stdout)),
        "Child PID is <pid>\nexited, status=7\n"
    );
}

#[test]
fn execve2_example_runs_myecho_in_place() {
    let Some(root) = root() else { return };
    let g = same_as_host(&root, Case::new("execve", &["bin/myecho"]));
    assert_eq!(
        g.stdout(),
        "argv[0]: bin/myecho\nargv[1]: hello\nargv[2]: world\n"
    );
    // A program that is not there: execve fails, perror says why.
    let g = same_as_host(&root, Case::new("execve", &["bin/nosuch"]));
    assert_eq!(g.status, 1);
}

#[test]
fn posix_spawn3_example_spawns_and_waits() {
    let Some(root) = root() else { return };
    let spawn = |args| {
        same_as_host(
            &root,
            Case::new("posix_spawn", args)
                .norm(Norm::PidsSortedLines)
                .libc_differs(MUSL_FIRST_LINE),
        )
    };
    let g = spawn(&["bin/myecho", "one", "two"]);
    assert!(g.stdout().contains("argv[2]: two\n"), "{}", g.stdout());
    assert!(
        g.stdout().ends_with("Child status: exited, status=0\n"),
        "{}",
        g.stdout()
    );
    // -c: the child's stdout is closed by a file action.
    let g = spawn(&["-c", "bin/myecho", "unseen"]);
    assert!(!g.stdout().contains("unseen"), "{}", g.stdout());
    // -s: all signals blocked in the child; a bare name found through PATH.
    spawn(&["-s", "echo", "found", "through", "PATH"]);
}

#[test]
fn stat2_example_describes_a_file() {
    let Some(root) = root() else { return };
    let g = same_as_host(&root, Case::new("stat", &["etc/issue"]));
    assert!(g.stdout().contains("regular file"), "{}", g.stdout());
    // A directory (one no other run reads, so that its access time stays
    // put between the two runs), and a file that is not there.
    same_as_host(&root, Case::new("stat", &["usr/share"]));
    let g = same_as_host(&root, Case::new("stat", &["etc/nosuch"]));
    assert_eq!(g.status, 1);
}

#[test]
fn readlink2_example_reads_a_symlink() {
    let Some(root) = root() else { return };
    let g = same_as_host(&root, Case::new("readlink", &["etc/motd.link"]));
    assert_eq!(g.stdout(), "'etc/motd.link' points to 'motd'\n");
}

#[test]
fn getdents2_example_lists_a_directory_with_the_raw_syscall() {
    let Some(root) = root() else { return };
    let g = same_as_host(
        &root,
        Case::new("getdents", &["etc"]).norm(Norm::DirentCookies),
    );
    assert!(g.stdout().contains("motd.link"), "{}", g.stdout());
}

#[test]
fn ftw3_example_walks_a_tree() {
    let Some(root) = root() else { return };
    let g = same_as_host(&root, Case::new("ftw", &["etc"]));
    assert!(g.stdout().contains("etc/motd.link"), "{}", g.stdout());
    // Depth first ("d"), not following symlinks ("p").
    let g = same_as_host(&root, Case::new("ftw", &["etc", "dp"]));
    assert!(g.stdout().contains("sl "), "{}", g.stdout());
}

#[test]
fn scandir3_example_lists_the_root_sorted() {
    let Some(root) = root() else { return };
    let g = same_as_host(&root, Case::new("scandir", &[]));
    assert!(g.stdout().starts_with("zed.c\n"), "{}", g.stdout());
}

#[test]
fn getline3_example_reads_a_file_line_by_line() {
    let Some(root) = root() else { return };
    let g = same_as_host(&root, Case::new("getline", &["etc/motd"]));
    assert!(
        g.stdout().starts_with("Retrieved line of length 56:\n"),
        "{}",
        g.stdout()
    );
}

#[test]
fn getopt3_example_parses_options() {
    let Some(root) = root() else { return };
    let g = same_as_host(&root, Case::new("getopt", &["-n", "-t", "5", "name"]));
    assert_eq!(
        g.stdout(),
        "flags=1; tfnd=1; nsecs=5; optind=4\nname argument = name\n"
    );
    // An unknown option: the usage on stderr, exit 1.
    let g = same_as_host(&root, Case::new("getopt", &["-x"]).stderr(Stderr::SameLibc));
    assert_eq!(g.status, 1);
}

#[test]
fn qsort3_example_sorts_its_arguments() {
    let Some(root) = root() else { return };
    let g = same_as_host(&root, Case::new("qsort", &["pear", "apple", "fig"]));
    assert_eq!(g.stdout(), "apple\nfig\npear\n");
}

#[test]
fn strtok3_example_splits_strings() {
    let Some(root) = root() else { return };
    same_as_host(
        &root,
        Case::new("strtok", &["a/bbb///cc;xxx:yyy:", ":;", "/"]),
    );
}

#[test]
fn wordexp3_example_expands_a_glob_through_the_shell() {
    // musl's wordexp runs /bin/sh (busybox in the root) in a child.
    let Some(root) = root() else { return };
    let g = same_as_host(&root, Case::new("wordexp", &[]));
    assert_eq!(g.stdout(), "abc.c\nbar.c\ncat.c\n");
}

#[test]
fn fread3_example_reads_an_elf_header() {
    // It reads /bin/sh: busybox in the root, the host's shell on the host.
    let Some(root) = root() else { return };
    let g = same_as_host(&root, Case::new("fread", &[]));
    assert_eq!(g.stdout(), "ELF magic: 0x7f454c46\nClass: 0x02\n");
}

#[test]
fn mmap2_example_maps_part_of_a_file() {
    let Some(root) = root() else { return };
    let g = same_as_host(&root, Case::new("mmap", &["etc/motd", "10", "20"]));
    assert_eq!(g.stdout(), "ss its own VM, all o");
}

// ---------------------------------------------------------------------
// Small Unix tools.

#[test]
fn lua_interpreter_runs_a_script_that_reads_a_file_and_spawns_shells() {
    let Some(root) = root() else { return };
    let g = same_as_host(&root, Case::new("lua", &["-e", "print(_VERSION, 6*7)"]));
    assert_eq!(g.stdout(), "Lua 5.4\t42\n");
    // io.lines on a file, io.popen and os.execute (each a /bin/sh child).
    let g = same_as_host(&root, Case::new("lua", &["etc/count.lua", "etc/motd"]));
    assert!(
        g.stdout().contains("popen read: from a child shell\n"),
        "{}",
        g.stdout()
    );
    assert!(
        g.stdout().contains("execute:\tnil\texit\t3\n"),
        "{}",
        g.stdout()
    );
    // A runtime error: the message on stderr, exit 1.
    let g = same_as_host(&root, Case::new("lua", &["-e", "error('boom')"]));
    assert_eq!(g.status, 1);
}

#[test]
fn bzip2_decompresses_compresses_and_tests() {
    let Some(root) = root() else { return };
    let g = same_as_host(&root, Case::new("bzip2", &["-dc", "etc/sample1.bz2"]));
    let want = std::fs::read(root.join("etc/sample1.ref")).unwrap();
    assert_bytes_eq("bzip2 -dc", &g.stdout, &want);
    same_as_host(&root, Case::new("bzip2", &["-c"]).stdin("etc/motd"));
    let g = same_as_host(&root, Case::new("bzip2", &["-tv", "etc/sample1.bz2"]));
    assert_eq!(show(&g.stderr), "  etc/sample1.bz2: ok\n");
}

#[test]
fn minigzip_round_trips_through_stdin_and_stdout() {
    let Some(root) = root() else { return };
    let g = same_as_host(&root, Case::new("minigzip", &["-d"]).stdin("etc/motd.gz"));
    let want = std::fs::read(root.join("etc/motd")).unwrap();
    assert_bytes_eq("minigzip -d", &g.stdout, &want);
    same_as_host(&root, Case::new("minigzip", &[]).stdin("etc/motd"));
}

#[test]
fn compress_and_uncompress_lzw() {
    let Some(root) = root() else { return };
    let g = same_as_host(
        &root,
        Case::new("compress", &["-c"]).stdin("etc/sample1.ref"),
    );
    let want = std::fs::read(root.join("etc/sample1.Z")).unwrap();
    assert_bytes_eq("compress -c", &g.stdout, &want);
    same_as_host(
        &root,
        Case::new("compress", &["-dc"]).stdin("etc/sample1.Z"),
    );
}

#[test]
fn moreutils_mispipe_returns_the_first_commands_status() {
    let Some(root) = root() else { return };
    let g = same_as_host(&root, Case::new("mispipe", &["echo hi; exit 3", "cat"]));
    assert_eq!((g.stdout().as_str(), g.status), ("hi\n", 3));
}

#[test]
fn moreutils_ifne_runs_a_command_only_if_stdin_is_not_empty() {
    let Some(root) = root() else { return };
    // The command reads what ifne read (a command that does not, like
    // echo, may exit before ifne writes: SIGPIPE or not is a race on Linux).
    let g = same_as_host(&root, Case::new("ifne", &["cat"]).stdin("etc/motd"));
    let want = std::fs::read(root.join("etc/motd")).unwrap();
    assert_bytes_eq("ifne cat", &g.stdout, &want);
    let g = same_as_host(&root, Case::new("ifne", &["echo", "not empty"]));
    assert_eq!(g.stdout(), "");
    let g = same_as_host(&root, Case::new("ifne", &["-n", "echo", "empty"]));
    assert_eq!(g.stdout(), "empty\n");
}

#[test]
fn moreutils_pee_tees_stdin_into_two_commands() {
    let Some(root) = root() else { return };
    let g = same_as_host(
        &root,
        Case::new("pee", &["cat", "cat"])
            .stdin("etc/utf8")
            .norm(Norm::PidsSortedLines),
    );
    assert_eq!(g.stdout().lines().count(), 2, "{}", g.stdout());
}

#[test]
fn moreutils_isutf8_reads_files_and_finds_the_latin1_one() {
    let Some(root) = root() else { return };
    let g = same_as_host(
        &root,
        Case::new("isutf8", &["etc/motd", "etc/utf8", "etc/latin1"]),
    );
    assert_eq!(g.status, 1);
    assert!(g.stdout().starts_with("etc/latin1: "), "{}", g.stdout());
}

#[test]
fn tree_lists_directories() {
    let Some(root) = root() else { return };
    let utf8 = &["LANG=C.UTF-8"];
    let g = same_as_host(&root, Case::new("tree", &["etc"]).env(utf8));
    assert!(g.stdout().contains("motd.link -> motd"), "{}", g.stdout());
    same_as_host(
        &root,
        Case::new("tree", &["-a", "--noreport", "-L", "1", "."]).env(utf8),
    );
}

#[test]
fn figlet_reads_its_font_and_draws() {
    let Some(root) = root() else { return };
    let g = same_as_host(
        &root,
        Case::new("figlet", &["-d", "usr/share/figlet", "Hello, VMs"]),
    );
    assert_eq!(g.stdout().lines().count(), 6, "{}", g.stdout());
}
