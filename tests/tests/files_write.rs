//! Writing files end to end (issue 14's acceptance): `busybox sh` scripts
//! and small real C tools create, write, rename, link and remove files in
//! the tree's root under the daemon (`vhost-user-pipe run --accel tcg
//! --root ROOT --writable ...`, every process its own VM on the guest
//! kernel), and each run is compared with the same command run on the host
//! by the same binary.
//!
//! Every test builds one starting root twice in a temporary directory,
//! `guest/` and `host/` ([`Pair`]): Debian's busybox-static as
//! `bin/busybox` (`bin/sh` a link to it; its shell runs its own applets
//! whatever `PATH` says), the tools a test needs from
//! `target/real-programs/root/bin/` (the musl builds of
//! `tests/real-programs/build`), `etc/fruits`, an empty `tmp/`, and what the
//! test adds. The command runs under the daemon with `guest/` as the root,
//! and on the host with `host/` as its working directory, with the same
//! argv, environment (`PATH=/bin`, `TZ=UTC`) and stdin and umask 022. The
//! commands name files by relative paths, so both name the same files and
//! no chroot is needed. Compared after each run:
//!
//! - standard output, standard error and the exit status (128 + signal),
//!   byte for byte;
//! - the resulting trees ([`snapshot`]): every entry's path, type,
//!   permission bits, and a file's size and content or a link's target,
//!   and its modification time: every file starts with a fixed one
//!   ([`FIXED`]), which must stay where nothing changed it or where a
//!   command sets a time of its own (`touch -d`, `cp -a`, `fromdos -p`,
//!   `bzip2` copying the input's time); a time set by the clock during the
//!   run is shown as `new` on both sides (the two runs are seconds apart).
//!
//! Nothing else is normalised. Where a script would print something that
//! differs by nature (a `mktemp` name, the absolute working directory) it
//! prints something derived from it that must not differ.
//!
//! Shell scripts run the C tools as `bin/NAME`: a bare name would be a
//! busybox applet (`ed`) or, on the host, a program of the host's `/bin`.
//!
//! One test runs a writing script on a root without `--writable`: every
//! write fails with "Read-only file system" and the tree is unchanged. One
//! is ignored: it shows the one difference found, the root's stdin (a
//! regular file on the host) reaching the guest as a pipe.
//!
//! The tests skip (pass, with a line on stderr) when QEMU, Debian's
//! busybox-static or, for the C tools, `musl-gcc` is missing.
//! `docs/real-programs.md` ("Writing files") lists the runs and results.

use std::collections::BTreeSet;
use std::fs;
use std::hash::{Hash, Hasher};
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use system_tests::programs;
use system_tests::qemu::{daemon_bin, have_qemu, workspace, Outcome};

/// A run boots one VM per process under TCG (a script forks one per
/// command that is not a shell builtin); on a loaded 2-core machine that
/// takes seconds. This is the hard limit per run.
const LIMIT: Duration = Duration::from_secs(120);
/// Debian's `busybox-static`.
const BUSYBOX: &str = "/bin/busybox";
/// The environment of every run, on both sides (and nothing else).
const ENV: &[&str] = &["PATH=/bin", "TZ=UTC"];
/// The modification time every file and directory of a starting root gets:
/// 2021-02-03 04:05:06 UTC.
const FIXED: i64 = 1_612_325_106;
/// How far before a test's start a time still counts as set by the clock
/// during the test (`new`): generous, so that a guest clock a little behind
/// the host's does not matter; any time older than this (a fixed time, a
/// time some command set on purpose) is compared exactly.
const CLOCK_SLACK: Duration = Duration::from_secs(3600);

fn have_musl_gcc() -> bool {
    Command::new("musl-gcc")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether the busybox tests can run; says why not on stderr.
fn ready() -> bool {
    if !have_qemu() {
        eprintln!("SKIPPED writing files: qemu-system-x86_64 is missing");
        return false;
    }
    if !Path::new(BUSYBOX).is_file() {
        eprintln!("SKIPPED writing files: {BUSYBOX} is missing (Debian's busybox-static)");
        return false;
    }
    true
}

/// `target/real-programs/root/bin`, where the tools' musl builds are, or
/// `None` (after saying why) when the tests cannot run. Panics with the
/// build command when the tools are there but the programs are not built.
fn tools() -> Option<PathBuf> {
    if !ready() {
        return None;
    }
    if !have_musl_gcc() {
        eprintln!("SKIPPED writing files with C tools: musl-gcc is missing (Debian's musl-tools)");
        return None;
    }
    let bin = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"))
        .join("real-programs/root/bin");
    assert!(
        bin.join("sponge").is_file() && bin.join("ed").is_file(),
        "{} is not built: run `sh tests/real-programs/build` first",
        bin.display()
    );
    Some(bin)
}

// ---------------------------------------------------------------------
// Trees: what a root holds, to compare.

/// A file's content as a snapshot shows it: the text when it is short (so
/// that a difference reads), else its size and a hash.
fn content(bytes: &[u8]) -> String {
    if bytes.len() <= 160 {
        format!("{:?}", String::from_utf8_lossy(bytes))
    } else {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        bytes.hash(&mut h);
        format!("{} bytes, hash {:016x}", bytes.len(), h.finish())
    }
}

/// A modification time as a snapshot shows it: `new` if set by the clock
/// during the test (at or after `new_since`), else the seconds.
fn shown_time(mtime: i64, new_since: i64) -> String {
    if mtime >= new_since {
        "new".to_owned()
    } else {
        mtime.to_string()
    }
}

/// Every entry under `root` (not following symlinks), one line each,
/// sorted: `path type mode size-and-content|target mtime`. A modification
/// time at or after `new_since` is `new` (see the file's doc); mtimes of the
/// paths in `clock_only` are left out (a test says why).
fn snapshot(root: &Path, new_since: i64, clock_only: &[&str]) -> Vec<String> {
    let m = fs::metadata(root).unwrap();
    let mut out = vec![format!(
        ".: dir {:04o} mtime {}",
        m.mode() & 0o7777,
        shown_time(m.mtime(), new_since)
    )];
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        for e in fs::read_dir(root.join(&rel)).unwrap() {
            let rel = rel.join(e.unwrap().file_name());
            let p = root.join(&rel);
            let m = fs::symlink_metadata(&p).unwrap();
            let what = if m.file_type().is_symlink() {
                format!("link -> {}", fs::read_link(&p).unwrap().display())
            } else if m.is_dir() {
                stack.push(rel.clone());
                format!("dir {:04o}", m.mode() & 0o7777)
            } else if m.is_file() {
                format!(
                    "file {:04o} {}",
                    m.mode() & 0o7777,
                    content(&fs::read(&p).unwrap())
                )
            } else {
                format!("other {:o}", m.mode())
            };
            let shown = rel.to_string_lossy().into_owned();
            let time = if clock_only.contains(&shown.as_str()) {
                String::new()
            } else {
                format!(" mtime {}", shown_time(m.mtime(), new_since))
            };
            out.push(format!("{shown}: {what}{time}"));
        }
    }
    out.sort();
    out
}

/// Asserts that two snapshots are equal; on a difference lists the lines
/// that are only in one of them.
#[track_caller]
fn assert_trees_eq(
    what: &str,
    left_name: &str,
    left: &[String],
    right_name: &str,
    right: &[String],
) {
    if left != right {
        let l: BTreeSet<&String> = left.iter().collect();
        let r: BTreeSet<&String> = right.iter().collect();
        let only = |a: &BTreeSet<&String>, b: &BTreeSet<&String>| {
            a.difference(b)
                .map(|s| format!("    {s}\n"))
                .collect::<String>()
        };
        panic!(
            "{what}: the trees differ\n  only in the {left_name}'s:\n{}  only in the {right_name}'s:\n{}",
            only(&l, &r),
            only(&r, &l)
        );
    }
}

/// Sets the modification time of everything under `dir` (not symlinks,
/// which std cannot change) to [`FIXED`], children before their directory.
fn fix_times(dir: &Path) {
    let t = UNIX_EPOCH + Duration::from_secs(FIXED as u64);
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let m = fs::symlink_metadata(&p).unwrap();
        if m.is_dir() {
            fix_times(&p);
        } else if m.is_file() {
            fs::File::options()
                .write(true)
                .open(&p)
                .unwrap()
                .set_modified(t)
                .unwrap();
        }
    }
    fs::File::open(dir).unwrap().set_modified(t).unwrap();
}

/// Writes `text` to `root/rel` with the permission bits `mode`, making its
/// directories.
fn put(root: &Path, rel: &str, text: &[u8], mode: u32) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, text).unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
}

// ---------------------------------------------------------------------
// Runs.

/// Runs `cmd` in its own process group with a hard time limit, the group
/// killed at the end whatever happens; `None` when it did not finish.
fn run_with_deadline(cmd: Command) -> Option<Outcome> {
    system_tests::qemu::run_keeping_stdin(cmd, LIMIT).map(Outcome::from)
}

/// `b` as text for a message, cut to its first 3000 bytes.
fn show(b: &[u8]) -> String {
    const SHOWN: usize = 3000;
    let mut s = String::from_utf8_lossy(&b[..b.len().min(SHOWN)]).into_owned();
    if b.len() > SHOWN {
        s.push_str(&format!("... ({} bytes in all)", b.len()));
    }
    s
}

/// The lines of the guest kernels' logs in `run_dir` that say something
/// went wrong (a syscall not implemented, a warning, an error), for a
/// failure message.
fn guest_complaints(run_dir: &Path) -> String {
    let mut logs: Vec<PathBuf> = fs::read_dir(run_dir)
        .map(|r| r.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    logs.sort();
    let mut out = String::new();
    for p in logs {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".serial.log") {
            continue;
        }
        for line in fs::read_to_string(&p).unwrap_or_default().lines() {
            if line.contains("not implemented")
                || line.contains(" WARN ")
                || line.contains(" ERROR ")
            {
                out += &format!("  {name}: {line}\n");
            }
        }
    }
    if out.is_empty() {
        "  (none)\n".to_owned()
    } else {
        out
    }
}

/// One command: argv (`argv[0]` a program of the root's `bin/`), extra
/// environment, and stdin (a file of the root, or empty).
#[derive(Debug, Clone, Copy)]
struct Cmd<'a> {
    argv: &'a [&'a str],
    env: &'a [&'a str],
    stdin: Option<&'a str>,
}

impl<'a> Cmd<'a> {
    fn new(argv: &'a [&'a str]) -> Self {
        Self {
            argv,
            env: &[],
            stdin: None,
        }
    }
    fn env(mut self, env: &'a [&'a str]) -> Self {
        self.env = env;
        self
    }
    fn stdin(mut self, file: &'a str) -> Self {
        self.stdin = Some(file);
        self
    }
    fn stdin_in(&self, root: &Path) -> Stdio {
        match self.stdin {
            Some(f) => Stdio::from(fs::File::open(root.join(f)).expect("stdin file")),
            None => Stdio::null(),
        }
    }
    /// How a failure message names it.
    fn shown(&self) -> String {
        let s = self.argv.join(" ");
        let s = if s.chars().count() > 300 {
            format!("{}...", s.chars().take(300).collect::<String>())
        } else {
            s
        };
        match self.stdin {
            Some(f) => format!("`{s}` < {f}"),
            None => format!("`{s}`"),
        }
    }
}

/// The two copies of one starting root, in a temporary directory that
/// also holds the daemon's run directories.
struct Pair {
    dir: tempfile::TempDir,
    guest: PathBuf,
    host: PathBuf,
    /// Times at or after this are `new` in snapshots.
    new_since: i64,
    /// Paths whose mtimes the snapshots leave out.
    clock_only: &'static [&'static str],
    runs: AtomicUsize,
}

impl Pair {
    /// A starting root with busybox, `tools` (names in `tool_dir`, copied
    /// into `bin/`, or links to one of them written `name=target`),
    /// `etc/fruits`, `tmp/`, and what `more` adds, built twice.
    fn new(tool_dir: Option<&Path>, tools: &[&str], more: impl Fn(&Path)) -> Self {
        let start = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .saturating_sub(CLOCK_SLACK);
        let dir = tempfile::tempdir().unwrap();
        let guest = dir.path().join("guest");
        let host = dir.path().join("host");
        for root in [&guest, &host] {
            let bin = root.join("bin");
            fs::create_dir_all(&bin).unwrap();
            fs::copy(BUSYBOX, bin.join("busybox")).unwrap();
            symlink("busybox", bin.join("sh")).unwrap();
            for t in tools {
                match t.split_once('=') {
                    Some((name, target)) => symlink(target, bin.join(name)).unwrap(),
                    None => {
                        fs::copy(tool_dir.expect("a tool directory").join(t), bin.join(t)).unwrap();
                    }
                }
            }
            put(root, "etc/fruits", b"pear\napple\nfig\n", 0o644);
            fs::create_dir(root.join("tmp")).unwrap();
            fs::set_permissions(root.join("tmp"), fs::Permissions::from_mode(0o1777)).unwrap();
            more(root);
            fix_times(root);
        }
        let pair = Self {
            dir,
            guest,
            host,
            new_since: start.as_secs() as i64,
            clock_only: &[],
            runs: AtomicUsize::new(0),
        };
        assert_trees_eq(
            "the starting roots",
            "guest",
            &pair.snapshot(&pair.guest),
            "host",
            &pair.snapshot(&pair.host),
        );
        pair
    }

    /// A starting root with busybox only (and what `more` adds).
    fn busybox(more: impl Fn(&Path)) -> Self {
        Self::new(None, &[], more)
    }

    /// Leaves the mtimes of `paths` out of the snapshots.
    fn clock_only(mut self, paths: &'static [&'static str]) -> Self {
        self.clock_only = paths;
        self
    }

    fn snapshot(&self, root: &Path) -> Vec<String> {
        snapshot(root, self.new_since, self.clock_only)
    }

    /// Runs `cmd` on the host, in `host/`.
    fn on_host(&self, cmd: Cmd<'_>) -> Outcome {
        let mut c = Command::new(self.host.join("bin").join(cmd.argv[0]));
        c.arg0(cmd.argv[0])
            .args(&cmd.argv[1..])
            .current_dir(&self.host)
            .env_clear()
            .stdin(cmd.stdin_in(&self.host));
        for e in ENV.iter().chain(cmd.env) {
            let (k, v) = e.split_once('=').expect("NAME=value");
            c.env(k, v);
        }
        // SAFETY: umask(2) is async-signal-safe and touches no memory; the
        // guest's processes start with 022 too.
        unsafe {
            c.pre_exec(|| {
                libc::umask(0o022);
                Ok(())
            });
        }
        run_with_deadline(c).unwrap_or_else(|| panic!("{} did not finish on the host", cmd.shown()))
    }

    /// Runs `cmd` under the daemon with `guest/` as the root, writable or
    /// not; returns the outcome and the run directory (the guest logs).
    fn in_guest(&self, cmd: Cmd<'_>, writable: bool) -> (Outcome, PathBuf) {
        let run_dir = self
            .dir
            .path()
            .join(format!("run-{}", self.runs.fetch_add(1, Ordering::Relaxed)));
        let mut c = Command::new(daemon_bin());
        c.args(["run", "--accel", "tcg", "--kernel"])
            .arg(programs::kernel())
            .arg("--root")
            .arg(&self.guest)
            .arg("--run-dir")
            .arg(&run_dir)
            .env_remove("RUST_LOG")
            .stdin(cmd.stdin_in(&self.guest));
        if writable {
            c.arg("--writable");
        }
        for e in ENV.iter().chain(cmd.env) {
            c.arg("--env").arg(e);
        }
        c.args(cmd.argv);
        let out = run_with_deadline(c).unwrap_or_else(|| {
            panic!(
                "{} did not finish under the daemon within {LIMIT:?}; guest logs:\n{}",
                cmd.shown(),
                guest_complaints(&run_dir)
            )
        });
        (out, run_dir)
    }

    /// Runs `cmd` under the daemon (writable root) and on the host, asserts
    /// that outputs, status and the resulting trees are the same, and
    /// returns the guest's outcome.
    #[track_caller]
    fn same(&self, cmd: Cmd<'_>) -> Outcome {
        let host = self.on_host(cmd);
        let (guest, run_dir) = self.in_guest(cmd, true);
        let context = || {
            format!(
                "{}\n guest stdout:\n{}\n guest stderr:\n{}\n host stdout:\n{}\n host stderr:\n{}\n guest kernel logs:\n{}",
                cmd.shown(),
                show(&guest.stdout),
                show(&guest.stderr),
                show(&host.stdout),
                show(&host.stderr),
                guest_complaints(&run_dir)
            )
        };
        assert!(
            guest.stdout == host.stdout,
            "stdout differs from the host's: {}",
            context()
        );
        assert!(
            guest.stderr == host.stderr,
            "stderr differs from the host's: {}",
            context()
        );
        assert!(
            guest.status == host.status,
            "exit status {} differs from the host's {}: {}",
            guest.status,
            host.status,
            context()
        );
        assert_trees_eq(
            &format!("after {}", cmd.shown()),
            "guest",
            &self.snapshot(&self.guest),
            "host",
            &self.snapshot(&self.host),
        );
        guest
    }

    /// [`Pair::same`] for `busybox sh -c SCRIPT`.
    #[track_caller]
    fn sh(&self, script: &str) -> Outcome {
        self.same(Cmd::new(&["busybox", "sh", "-c", script]))
    }
}

// ---------------------------------------------------------------------
// busybox sh scripts.

#[test]
fn sh_redirections_here_documents_and_noclobber() {
    if !ready() {
        return;
    }
    let p = Pair::busybox(|_| {});
    let g = p.sh(r#"
echo first > out.txt
echo second >> out.txt
printf 'no newline' >> out.txt
cat < out.txt; echo
wc -l < out.txt
ls nosuchfile > err.txt 2>&1; echo "ls status $?"
cat err.txt
{ echo to-stdout; echo to-stderr >&2; } > both.txt 2>&1
cat both.txt
cat <<EOF > heredoc.txt
not \$HOME, two is $((1 + 1))
	a tab kept
EOF
cat <<-'EOF' >> heredoc.txt
	quoted: $NOT expanded, tab stripped
	EOF
cat heredoc.txt
wc -c heredoc.txt out.txt
: > emptied.txt
echo long line > trunc.txt; echo y > trunc.txt; cat trunc.txt
exec 3> fd3.txt; echo via fd 3 >&3; exec 3>&-
exec 4>> fd3.txt; echo appended via fd 4 >&4; exec 4>&-
cat fd3.txt
while read -r line; do echo "read: $line"; done < etc/fruits > loop.txt
cat loop.txt
set -C; echo clobber > out.txt; echo "noclobber status $?"; set +C
echo clobber > out.txt; cat out.txt
echo to stderr >&2
exit 7
"#);
    assert_eq!(g.status, 7);
    assert!(
        g.stdout()
            .starts_with("first\nsecond\nno newline\n2\nls status 1\n"),
        "{}",
        g.stdout()
    );
    assert!(
        g.stdout().contains("to-stdout\nto-stderr\n"),
        "{}",
        g.stdout()
    );
    assert!(
        g.stdout().contains("via fd 3\nappended via fd 4\n"),
        "{}",
        g.stdout()
    );
    assert!(
        g.stdout().contains("noclobber status 1\nclobber\n"),
        "{}",
        g.stdout()
    );
    assert!(g.stderr().contains("File exists"), "{}", g.stderr());
    assert!(p.guest.join("emptied.txt").metadata().unwrap().len() == 0);
}

#[test]
fn sh_script_file_cd_mkdir_p_cp_r_mv_rm_r_and_find() {
    if !ready() {
        return;
    }
    // The script is a file in the root, run by name.
    let p = Pair::busybox(|root| {
        put(root, "job.sh", JOB_SH.as_bytes(), 0o644);
        symlink("fruits", root.join("etc/fruits.link")).unwrap();
    });
    let g = p.same(Cmd::new(&["busybox", "sh", "job.sh", "arg1"]));
    assert!(
        g.stdout().starts_with("job.sh arg1\n/a/b\n/a\n"),
        "{}",
        g.stdout()
    );
    assert_eq!(g.status, 0, "{}", g.stderr());
    assert!(p.guest.join("a2/moved/rel.txt").is_file());
    assert!(!p.guest.join("gone").exists());
}

/// The script of [`sh_script_file_cd_mkdir_p_cp_r_mv_rm_r_and_find`]. It
/// prints the working directory relative to where it started (`pwd`
/// itself is a different absolute path on each side).
const JOB_SH: &str = r#"echo "$0 $1"
top=$(pwd)
mkdir -p a/b/c
mkdir -p a/b/c
cd a/b
echo "${PWD#"${top%/}"}"
echo deep > c/file
mkdir ../d
cd ..
pwd | sed "s|^${top%/}||"
echo rel > d/rel.txt
cp d/rel.txt b/c/copy.txt
cd ..
cp -r a a2
mv a2/d a2/moved
mv a/b/c/file a/top
mkdir gone gone/sub
echo x > gone/sub/y
ln -s y gone/sub/link
rm -r gone
rmdir a/d 2>&1 || echo "rmdir status $?"
rm a/d/rel.txt
rmdir a/d
cp -r etc etc2
cp -a etc2 etc3
mv etc/fruits etc/fruits.old
cp etc/fruits.old etc/fruits
mv a/top a2/top
mv a2/b a2/c
rm -f nosuch
rm nosuch2 || echo "rm status $?"
echo "--- find"
find . -path ./bin -prune -o -print | sort
echo "--- find -type f -name"
find a a2 -type f -name '*.txt' | sort
find . -type l | sort
echo "--- contents"
cat a2/c/c/copy.txt a2/top etc3/fruits.link
ls -R a a2 etc etc2 etc3
"#;

/// The issue's own example, `tar c dir | gzip > out.tgz`, read back with
/// `gunzip | tar x` into another directory (the archive itself is removed
/// after: its headers name the owner, which the host's `/etc/passwd`
/// knows and the tree's root does not); `find -exec` and `xargs`
/// (commands run per file, each a VM); `dd` with `conv=notrunc`.
#[test]
fn sh_tar_gzip_find_exec_xargs_and_dd() {
    if !ready() {
        return;
    }
    let p = Pair::busybox(|root| {
        put(root, "src/a.txt", b"alpha\n", 0o644);
        put(root, "src/sub/b.txt", b"beta\nbeta\n", 0o600);
        put(root, "src/sub/c.log", b"gamma\n", 0o644);
    });
    let g = p.sh(r#"
tar c src | gzip > out.tgz
mkdir back
gunzip -c out.tgz | tar x -C back
gunzip -c out.tgz | tar t | sort
rm out.tgz
find back -type f | sort
cmp back/src/sub/b.txt src/sub/b.txt && echo "round trip ok"
find src -name '*.txt' -exec cat {} +
find src -name '*.log' | xargs rm
find src | sort
ls src/*.txt | xargs -n 1 wc -c
printf 'XY' | dd of=src/a.txt bs=1 seek=2 conv=notrunc 2>/dev/null
cat src/a.txt
"#);
    assert!(g.stdout().contains("round trip ok\n"), "{}", g.stdout());
    assert!(!p.guest.join("src/sub/c.log").exists());
    assert_eq!(fs::read(p.guest.join("src/a.txt")).unwrap(), b"alXYa\n");
}

#[test]
fn sh_sort_o_tee_uniq_head_cat_wc() {
    if !ready() {
        return;
    }
    let p = Pair::busybox(|root| {
        put(
            root,
            "list",
            b"pear\napple\nfig\napple\npear\nkiwi\npear\n",
            0o644,
        );
    });
    let g = p.sh(r#"
sort -o sorted list
cat sorted
sort -o list list
uniq list > uniq.txt
uniq -c list
sort -r list | tee rev.txt | wc -l
tee -a rev.txt < etc/fruits > /dev/null
cat rev.txt
head -n 3 list > head.txt
head -c 10 uniq.txt > head-c.txt
cat head.txt head-c.txt | cat -n
wc list uniq.txt rev.txt head.txt head-c.txt
sort -u -o etc/fruits etc/fruits etc/fruits
cat etc/fruits
seq 1 5 | tee t1 t2 t3 > /dev/null
cat t1 t2 t3 | uniq -c
"#);
    assert!(
        g.stdout()
            .starts_with("apple\napple\nfig\nkiwi\npear\npear\npear\n"),
        "{}",
        g.stdout()
    );
    assert_eq!(
        fs::read_to_string(p.guest.join("etc/fruits")).unwrap(),
        "apple\nfig\npear\n"
    );
}

#[test]
fn sh_chmod_ln_s_touch_ls_l_umask_and_mktemp() {
    if !ready() {
        return;
    }
    let p = Pair::busybox(|_| {});
    // `ls -l` shows modification times: every entry it lists gets a fixed
    // one first (`touch -h -d`, not following links), so nothing is
    // normalised. Names from `mktemp` are random: the script shows only
    // that they match the template and the modes they got.
    let g = p.sh(r#"
echo data > f
chmod 640 f
chmod u+x,g-r f
ln -s f link
ln -s nowhere dangling
mkdir d
ln -s ../f d/up
echo more >> d/up
cat d/up
touch new
umask 077
echo secret > private
mkdir privdir
umask 022
umask
umask 027
bin/busybox sh -c 'echo exec > umask-exec; mkdir umask-dir; umask'
umask 022
touch -c notmade
chmod 755 new
chmod g+s privdir
touch -h -d '2020-05-06 07:08:09' f new link dangling private privdir d d/up
ls -ln f new link dangling private
ls -lnd privdir d
ls -ln d
t=$(mktemp tmp/job.XXXXXX) || echo "mktemp failed"
case $t in tmp/job.??????) echo "mktemp: named like its template" ;; *) echo "mktemp: $t" ;; esac
ls -ln "$t" | cut -c1-10
echo result > "$t"
mv "$t" tmp/job.done
t=$(mktemp -d tmp/dir.XXXXXX) || echo "mktemp -d failed"
ls -lnd "$t" | cut -c1-10
rmdir "$t"
mktemp tmp/job.done/XXXXXX; echo "mktemp in a file: status $?"
printf '#!/bin/sh\necho "made, then run: $1"\n' > run.sh
chmod +x run.sh
./run.sh ok
readlink link; readlink d/up; readlink dangling
"#);
    let out = g.stdout();
    assert!(out.contains("-rwx------    1 "), "{out}");
    assert!(out.contains("May  6  2020 link -> f\n"), "{out}");
    assert!(out.contains("-rw-------"), "{out}");
    assert!(
        out.contains("mktemp: named like its template\n-rw-------\ndrwx------\n"),
        "{out}"
    );
    assert!(out.contains("made, then run: ok\n"), "{out}");
    assert!(p.guest.join("tmp/job.done").is_file());
    // The umask reached the exec'd shell (a VM of its own).
    assert!(out.contains("0022\n0027\n"), "{out}");
    let mode = |f: &str| fs::metadata(p.guest.join(f)).unwrap().mode() & 0o7777;
    assert_eq!((mode("umask-exec"), mode("umask-dir")), (0o640, 0o750));
}

#[test]
fn a_pipeline_writes_a_file_and_a_second_pipeline_reads_it_back() {
    if !ready() {
        return;
    }
    let p = Pair::busybox(|_| {});
    let g = p.sh("seq 1 2000 | sort -r | tee out | wc -l > count; cat count");
    assert_eq!(g.stdout().trim(), "2000");
    let out = fs::read_to_string(p.guest.join("out")).unwrap();
    assert!(out.starts_with("999\n998\n"), "{}", &out[..40]);
    // A second tree, on what the first left.
    let g = p.sh("sort -n out | uniq | head -5; sort -n out | tail -n 2 >> count; cat count");
    assert_eq!(g.stdout(), "1\n2\n3\n4\n5\n2000\n1999\n2000\n");
}

#[test]
fn a_root_without_writable_refuses_every_write_and_changes_nothing() {
    if !ready() {
        return;
    }
    let p = Pair::busybox(|root| {
        put(root, "etc/log", b"old\n", 0o644);
        fs::create_dir(root.join("empty")).unwrap();
    });
    // Each line is a command that writes; each must fail.
    const WRITES: &[&str] = &[
        "echo new > out",
        "echo more >> etc/log",
        "echo gone > etc/log",
        "mkdir newdir",
        "rmdir empty",
        "rm etc/fruits",
        "mv etc/fruits etc/moved",
        "touch etc/fruits",
        "touch made",
        "ln -s fruits etc/link",
        "ln etc/fruits etc/hard",
        "chmod 600 etc/fruits",
        "cp etc/fruits etc/copy",
        "mktemp tmp/job.XXXXXX",
        "sort -o etc/fruits etc/fruits",
    ];
    let script: String = WRITES
        .iter()
        .map(|w| format!("{w} || echo \"refused: {w}\"\n"))
        .collect();
    let before = p.snapshot(&p.guest);
    let (g, run_dir) = p.in_guest(Cmd::new(&["busybox", "sh", "-c", &script]), false);
    let after = p.snapshot(&p.guest);
    assert_trees_eq("a read-only root", "before", &before, "after", &after);
    let want: String = WRITES.iter().map(|w| format!("refused: {w}\n")).collect();
    assert_eq!(
        g.stdout(),
        want,
        "stderr:\n{}\nguest logs:\n{}",
        g.stderr(),
        guest_complaints(&run_dir)
    );
    let err = g.stderr();
    assert_eq!(err.lines().count(), WRITES.len(), "{err}");
    for line in err.lines() {
        assert!(
            line.ends_with("Read-only file system"),
            "{line}\nall of stderr:\n{err}"
        );
    }
    assert_eq!(g.status, 0, "{err}");
}

// ---------------------------------------------------------------------
// Real C tools (musl builds of tests/real-programs/build).

#[test]
fn moreutils_sponge_soaks_up_stdin_and_replaces_the_file() {
    let Some(tools) = tools() else { return };
    let p = Pair::new(Some(&tools), &["sponge"], |root| {
        put(root, "log", b"first entry\n", 0o640);
    });
    // The shell runs `bin/sponge` by its path (a bare name would be looked
    // up in the host's /bin on the host). sponge writes a temporary file in $TMPDIR (a relative path on both
    // sides: tmp/ of the root), then renames it over the target.
    const TMP: &[&str] = &["TMPDIR=tmp"];
    p.same(
        Cmd::new(&[
            "busybox",
            "sh",
            "-c",
            "sort etc/fruits | bin/sponge etc/fruits",
        ])
        .env(TMP),
    );
    assert_eq!(
        fs::read_to_string(p.guest.join("etc/fruits")).unwrap(),
        "apple\nfig\npear\n"
    );
    p.same(
        Cmd::new(&["sponge", "-a", "log"])
            .env(TMP)
            .stdin("etc/fruits"),
    );
    p.same(Cmd::new(&["sponge", "new"]).env(TMP).stdin("log"));
    let g = p.same(Cmd::new(&["sponge"]).env(TMP).stdin("new"));
    assert_eq!(g.stdout(), "first entry\napple\nfig\npear\n");
    // Through a symlink: sponge writes the file the link points to.
    p.same(
        Cmd::new(&[
            "busybox",
            "sh",
            "-c",
            "ln -s log link && echo via link | bin/sponge link",
        ])
        .env(TMP),
    );
    assert_eq!(
        fs::read_to_string(p.guest.join("log")).unwrap(),
        "via link\n"
    );
}

#[test]
fn tofrodos_converts_files_in_place_through_a_temporary_file() {
    let Some(tools) = tools() else { return };
    let p = Pair::new(Some(&tools), &["fromdos", "todos=fromdos"], |root| {
        put(root, "dos.txt", b"one\r\ntwo\r\nthree\r\n", 0o640);
        put(root, "unix.txt", b"alpha\nbeta\n", 0o600);
        put(root, "keep.txt", b"x\r\ny\r\n", 0o644);
        put(root, "d/dos2.txt", b"a\r\nb\r\n", 0o644);
    });
    p.same(Cmd::new(&["fromdos", "dos.txt", "d/dos2.txt"]));
    assert_eq!(
        fs::read(p.guest.join("dos.txt")).unwrap(),
        b"one\ntwo\nthree\n"
    );
    // -b: the original kept as .bak; -p: its time kept (compared exactly).
    p.same(Cmd::new(&["todos", "-b", "unix.txt"]));
    p.same(Cmd::new(&["fromdos", "-p", "keep.txt"]));
    assert_eq!(
        fs::metadata(p.guest.join("keep.txt")).unwrap().mtime(),
        FIXED
    );
    // As a filter, and a file that is not there.
    let g = p.same(Cmd::new(&["todos"]).stdin("etc/fruits"));
    assert_eq!(g.stdout, b"pear\r\napple\r\nfig\r\n");
    let g = p.same(Cmd::new(&["fromdos", "nosuch.txt"]));
    assert_ne!(g.status, 0);
}

#[test]
fn gnu_ed_edits_and_writes_files() {
    let Some(tools) = tools() else { return };
    // ed keeps its buffer in a tmpfile(3), which musl makes (and unlinks at
    // once) in /tmp: the root's tmp/ under the daemon, the host's /tmp on
    // the host. The root's tmp/ therefore changes only in the guest run:
    // its mtime is left out.
    let p = Pair::new(Some(&tools), &["ed"], |root| {
        put(root, "text", b"pear\napple\nfig\n", 0o640);
        put(root, "script.ed", ED_SCRIPT.as_bytes(), 0o644);
        put(root, "new.ed", b"a\nmade by ed\n.\nw\nq\n", 0o644);
    })
    .clock_only(&["tmp"]);
    // The shell runs `bin/ed` by its path: a bare `ed` would be busybox's
    // own applet. The scripts are redirected inside the tree: ed tells a script in a
    // regular file (it stops at the first error) from a pipe or terminal
    // (it goes on); the root's own stdin is covered by
    // `ed_sees_a_regular_file_on_stdin_as_on_linux`.
    let sh = |script| p.same(Cmd::new(&["busybox", "sh", "-c", script]));
    let g = sh("bin/ed text < script.ed");
    assert_eq!(
        fs::read_to_string(p.guest.join("text")).unwrap(),
        "PEAR\ninserted\nAPPLE\nfig\nkiwi\n"
    );
    assert!(g.stdout().starts_with("15\n"), "{}", g.stdout());
    // A file that is not there: a script from a file stops (status 2),
    // one from a pipe makes it.
    let g = sh("bin/ed new < new.ed; echo \"ed status $?\"");
    assert_eq!(g.stdout(), "ed status 2\n");
    sh("cat new.ed | bin/ed new");
    assert_eq!(
        fs::read_to_string(p.guest.join("new")).unwrap(),
        "made by ed\n"
    );
    // An error: a write to a directory.
    sh("printf 'a\\nx\\n.\\nw tmp\\nq\\n' | bin/ed -s; echo \"ed status $?\"");
}

/// `run PROGRAM < FILE` gives the root the file as fd 0 (spec
/// `dev-stdio-root`): it stats as a regular file, its size and offset are
/// the file's, `/dev/stdin` and `/proc/self/fd/0` open it anew (for
/// reading only: the host's file is not the tree's to write); a pipe stays
/// a pipe.
// spec: dev-stdio-root
#[test]
fn a_file_on_the_roots_stdin_is_that_file() {
    let p = Pair::busybox(|root| put(root, "input", b"one\ntwo\nthree\n", 0o644));
    let script = "[ -f /dev/stdin ] && echo regular; [ -p /dev/stdin ] && echo fifo; \
                  wc -c; tail -n 1 /dev/stdin; head -c 3 /dev/stdin; echo; \
                  cat /proc/self/fd/0 | wc -l";
    let g = p.same(Cmd::new(&["busybox", "sh", "-c", script]).stdin("input"));
    assert_eq!(g.stdout(), "regular\n14\nthree\none\n3\n");
    let (g, _) = p.in_guest(
        Cmd::new(&["busybox", "sh", "-c", "echo x > /dev/stdin || echo refused"]).stdin("input"),
        true,
    );
    assert_eq!(g.stdout(), "refused\n");
    assert_eq!(
        fs::read(p.guest.join("input")).unwrap(),
        b"one\ntwo\nthree\n"
    );
}

/// `run PROGRAM < FILE`: the root's fd 0 is the file itself (spec
/// `dev-stdio-root`), as on Linux, so ed tells a script in a file (it stops
/// at the first error) from an interactive session.
#[test]
fn ed_sees_a_regular_file_on_stdin_as_on_linux() {
    let Some(tools) = tools() else { return };
    let p = Pair::new(Some(&tools), &["ed"], |root| {
        put(root, "new.ed", b"a\nmade by ed\n.\nw\nq\n", 0o644);
    })
    .clock_only(&["tmp"]);
    // On Linux: "new: No such file or directory", exit 2, nothing written.
    let g = p.same(Cmd::new(&["ed", "new"]).stdin("new.ed"));
    assert_eq!(g.status, 2);
}

/// What [`gnu_ed_edits_and_writes_files`] feeds ed: substitutions,
/// insertions, writes of part of the buffer (`w`, and `W`, which appends),
/// a print, a write to another file, then `wq`.
const ED_SCRIPT: &str = r#"H
,s/pear/PEAR/
,s/apple/APPLE/
1a
inserted
.
$a
kiwi
.
1,2w part
3W part
,p
w copy
wq
"#;

#[test]
fn compressors_replace_files_with_their_compressed_forms_and_back() {
    let Some(tools) = tools() else { return };
    let text: Vec<u8> = (0..3000)
        .flat_map(|i| format!("line {i}\n").into_bytes())
        .collect();
    let p = Pair::new(Some(&tools), &["bzip2", "minigzip", "compress"], |root| {
        put(root, "data/b", &text, 0o640);
        put(root, "data/g", &text, 0o600);
        put(root, "data/z", &text, 0o644);
    });
    // bzip2 and compress give the new file the old one's mode and times
    // (compared exactly), then remove the original.
    p.same(Cmd::new(&["bzip2", "data/b"]));
    p.same(Cmd::new(&["minigzip", "data/g"]));
    p.same(Cmd::new(&["compress", "data/z"]));
    assert!(p.guest.join("data/b.bz2").is_file() && !p.guest.join("data/b").exists());
    assert!(p.guest.join("data/g.gz").is_file() && !p.guest.join("data/g").exists());
    assert!(p.guest.join("data/z.Z").is_file() && !p.guest.join("data/z").exists());
    p.same(Cmd::new(&["bzip2", "-d", "data/b.bz2"]));
    p.same(Cmd::new(&["minigzip", "-d", "data/g.gz"]));
    p.same(Cmd::new(&["compress", "-d", "data/z.Z"]));
    for f in ["data/b", "data/g", "data/z"] {
        assert!(fs::read(p.guest.join(f)).unwrap() == text, "{f}");
    }
}
