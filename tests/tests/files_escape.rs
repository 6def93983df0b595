//! Escape tests of the write side (issue 14): a hostile program
//! (`tests/linux/files_escape.c`, static musl) in a tree whose root is
//! writable tries to create, write, truncate, remove, rename, link, chmod
//! and touch host files outside the root, through `../`, absolute paths,
//! symbolic links to outside (absolute and relative), a symbolic link
//! swapped in while paths resolve (a race between two processes of the
//! tree), `/proc/self/root` and other magic links, hard links, device
//! nodes, and, on a read-only root, every write op.
//!
//! Each attempt prints "CASE: RESULT" (`ok` or the errno's name), and each
//! test checks:
//! * the results against a table of expected errnos. The table is Linux's:
//!   as root, the same program also runs on the host in a `chroot(2)` to
//!   a copy of the root (for the read-only root, a read-only bind mount of
//!   it), and must print the same; the resulting directory trees (paths,
//!   types, modes, link counts, contents, link targets) must be the same
//!   too. Where the device's answer is not what a chroot gives (device
//!   nodes, `/proc`, which the chroot lacks), the table says which errno
//!   and why;
//! * that nothing outside the root changed: the root's parent directory
//!   (which holds `SECRET` and `outside/`) is snapshot before and after,
//!   content byte for byte and metadata (type, mode, owner, link count,
//!   inode, size, mtime and ctime; not atime), and must be identical;
//! * where a write "succeeds", that it landed inside the root.
//!
//! The same program run natively, unconfined, on a copy does change the
//! outside (asserted): the checks can fail.
//!
//! Needs `sh tests/linux/build`, `sh guest-kernel/build-image` and
//! `cargo build -p vhost-user-pipe`; skips without QEMU.

use std::collections::BTreeMap;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use system_tests::programs;
use system_tests::qemu::{daemon_bin, have_qemu, run_with_deadline};

/// A tree of one or two processes under TCG on a loaded 2-core machine;
/// the race runs thousands of ops through the device.
const LIMIT: Duration = Duration::from_secs(300);
/// Iterations of the race (each: six ops through the swapped name).
const RACE_ITERS: &str = "2000";

fn program() -> PathBuf {
    system_tests::programs::linux("files_escape")
}

fn skip() -> bool {
    if !have_qemu() {
        eprintln!("skipped: no qemu-system-x86_64");
        return true;
    }
    false
}

fn is_root() -> bool {
    // SAFETY: geteuid(2) has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A host directory `t` (a fresh temp dir) holding the root and what lies
/// outside it:
/// ```text
/// t/SECRET             "HOST-SECRET\n", mode 0640
/// t/outside/file       "OUTSIDE\n"
/// t/outside/sub/inner  "INNER\n"
/// t/<root>/bin/files_escape
/// t/<root>/w/          the program's working directory
/// ```
/// `<root>` is `root`, or `x/y/root` for native runs (whose `../../../`
/// must stay inside `t`).
struct Fixture {
    t: tempfile::TempDir,
    root: PathBuf,
    /// `t` as a string: the program's P.
    p: String,
}

impl Fixture {
    fn new(root_at: &str) -> Self {
        let t = tempfile::Builder::new()
            .prefix("vup-escape-")
            .tempdir()
            .unwrap();
        let root = t.path().join(root_at);
        std::fs::create_dir_all(root.join("bin")).unwrap();
        std::fs::create_dir_all(root.join("w")).unwrap();
        std::fs::copy(program(), root.join("bin/files_escape")).unwrap();
        let secret = t.path().join("SECRET");
        std::fs::write(&secret, "HOST-SECRET\n").unwrap();
        set_mode(&secret, 0o640);
        std::fs::create_dir_all(t.path().join("outside/sub")).unwrap();
        std::fs::write(t.path().join("outside/file"), "OUTSIDE\n").unwrap();
        std::fs::write(t.path().join("outside/sub/inner"), "INNER\n").unwrap();
        let p = t.path().to_str().unwrap().to_owned();
        Self { t, root, p }
    }

    /// `rel` (a path from the root's parent, such as `outside`) as made
    /// inside the root: `root/P/rel`, where the tree's absolute path `P/rel`
    /// resolves.
    fn inside_p(&self, rel: &str) -> PathBuf {
        self.root.join(self.p.trim_start_matches('/')).join(rel)
    }

    /// Everything in `t` but the root's contents: the outside the tree
    /// must never change.
    fn outside(&self) -> Snapshot {
        snapshot(self.t.path(), Some(&self.root))
    }

    /// Everything in `t`, the root's contents included.
    fn everything(&self) -> Snapshot {
        snapshot(self.t.path(), None)
    }

    /// The root's tree, P written as `<P>` (two fixtures have different Ps).
    fn tree(&self) -> BTreeMap<String, String> {
        let p = self.p.trim_start_matches('/');
        let mut out = BTreeMap::new();
        walk(&self.root, &self.root, None, &mut |rel, path, m| {
            let desc = match kind(m) {
                "link" => format!(
                    "link -> {}",
                    std::fs::read_link(path)
                        .unwrap()
                        .to_string_lossy()
                        .replace(&self.p, "<P>")
                ),
                "file" => format!(
                    "file {:o} nlink {} {:?}",
                    m.mode() & 0o7777,
                    m.nlink(),
                    String::from_utf8_lossy(&std::fs::read(path).unwrap())
                ),
                k => format!("{k} {:o}", m.mode() & 0o7777),
            };
            out.insert(rel.replace(p, "<P>"), desc);
        });
        out
    }

    /// Runs `files_escape ARGS` as the root of a tree in this root.
    fn in_guest(&self, writable: bool, args: &[&str]) -> Outcome {
        let run = tempfile::Builder::new()
            .prefix("vup-escape-run-")
            .tempdir()
            .unwrap();
        let mut c = Command::new(daemon_bin());
        c.args(["run", "--accel", "tcg", "--root"])
            .arg(&self.root)
            .arg("--kernel")
            .arg(programs::kernel())
            .arg("--run-dir")
            .arg(run.path().join("run"))
            .env("RUST_LOG", "info");
        if writable {
            c.arg("--writable");
        }
        c.arg("files_escape").args(args);
        let out = run_with_deadline(c, LIMIT);
        let serial = system_tests::qemu::serial_logs(&run.path().join("run"));
        let out =
            out.unwrap_or_else(|| panic!("the tree did not finish in time; serial:\n{serial}"));
        Outcome {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            status: out.status.code().unwrap_or(-1),
            log: format!(
                "{serial}\ndaemon:\n{}",
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }

    /// Runs the program on the host in a chroot to the root.
    fn in_chroot(&self, root: &Path, args: &[&str]) -> Outcome {
        let mut c = Command::new("chroot");
        c.arg(root).arg("/bin/files_escape").args(args);
        host_outcome(c)
    }

    /// Runs the program on the host, unconfined, in the root's `w/`.
    fn unconfined(&self, args: &[&str]) -> Outcome {
        let mut c = Command::new(self.root.join("bin/files_escape"));
        c.args(args).current_dir(self.root.join("w"));
        host_outcome(c)
    }
}

fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// What a run printed and how it ended.
struct Outcome {
    stdout: String,
    status: i32,
    /// The guest kernels' logs and the daemon's stderr (empty on the host).
    log: String,
}

impl Outcome {
    /// "CASE: RESULT" lines, each case once.
    fn results(&self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        for l in self.stdout.lines() {
            if let Some((case, result)) = l.split_once(": ") {
                let dup = m.insert(case.to_owned(), result.to_owned());
                assert!(dup.is_none(), "case {case} printed twice:\n{}", self.stdout);
            }
        }
        m
    }
}

fn host_outcome(c: Command) -> Outcome {
    let out = run_with_deadline(c, LIMIT).expect("the host run finished in time");
    Outcome {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        status: out.status.code().unwrap_or(-1),
        log: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

type Snapshot = BTreeMap<String, String>;

fn kind(m: &std::fs::Metadata) -> &'static str {
    let t = m.file_type();
    if t.is_symlink() {
        "link"
    } else if t.is_dir() {
        "dir"
    } else if t.is_file() {
        "file"
    } else if t.is_char_device() {
        "char"
    } else if t.is_block_device() {
        "block"
    } else if t.is_fifo() {
        "fifo"
    } else {
        "other"
    }
}

/// Calls `f(relative path, path, lstat)` for `dir` (as "."), then for
/// everything under it, in name order, not descending into `skip`.
fn walk(
    top: &Path,
    dir: &Path,
    skip: Option<&Path>,
    f: &mut dyn FnMut(&str, &Path, &std::fs::Metadata),
) {
    if dir == top {
        f(".", dir, &std::fs::symlink_metadata(dir).unwrap());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for e in entries {
        let m = std::fs::symlink_metadata(&e).unwrap();
        let rel = e.strip_prefix(top).unwrap().to_string_lossy().into_owned();
        f(&rel, &e, &m);
        if m.is_dir() && Some(e.as_path()) != skip {
            walk(top, &e, skip, f);
        }
    }
}

/// Every entry under `top` with its metadata (not atime) and, for regular
/// files and links, content or target; `skip` (the root) is listed by
/// name only: its own times change with every write inside it.
fn snapshot(top: &Path, skip: Option<&Path>) -> Snapshot {
    let mut out = BTreeMap::new();
    walk(top, top, skip, &mut |rel, path, m| {
        if Some(path) == skip {
            out.insert(rel.to_owned(), "the root".to_owned());
            return;
        }
        let what = match kind(m) {
            "file" => format!(
                "{:?}",
                String::from_utf8_lossy(&std::fs::read(path).unwrap())
            ),
            "link" => format!(
                "-> {:?}",
                std::fs::read_link(path).unwrap().as_os_str().as_bytes()
            ),
            "char" | "block" => format!("rdev {:x}", m.rdev()),
            _ => String::new(),
        };
        out.insert(
            rel.to_owned(),
            format!(
                "{} mode {:o} uid {} gid {} nlink {} ino {} size {} mtime {}.{} ctime {}.{} {what}",
                kind(m),
                m.mode(),
                m.uid(),
                m.gid(),
                m.nlink(),
                m.ino(),
                m.size(),
                m.mtime(),
                m.mtime_nsec(),
                m.ctime(),
                m.ctime_nsec()
            ),
        );
    });
    out
}

/// Panics with the entries that differ.
fn assert_unchanged(what: &str, before: &Snapshot, after: &Snapshot, log: &str) {
    if before == after {
        return;
    }
    let mut diff = String::new();
    for k in before.keys().chain(after.keys()) {
        if before.get(k) != after.get(k) && !diff.contains(&format!("{k}:\n")) {
            diff += &format!(
                "{k}:\n  before {:?}\n  after  {:?}\n",
                before.get(k),
                after.get(k)
            );
        }
    }
    panic!("ESCAPE: {what} changed on the host:\n{diff}\nlog:\n{log}");
}

/// Checks every case against `expected` (alternatives separated by `|`),
/// and that the run printed exactly these cases.
fn check_results(who: &str, o: &Outcome, expected: &[(&str, &str)]) {
    let got = o.results();
    let mut bad = Vec::new();
    for (case, want) in expected {
        match got.get(*case) {
            Some(r) if want.split('|').any(|w| w == r) => {}
            r => bad.push(format!("{case}: got {r:?}, expected {want}")),
        }
    }
    for case in got.keys() {
        if !expected.iter().any(|(c, _)| c == case) && !case.ends_with(" target") {
            bad.push(format!("{case}: not in the table ({})", got[case]));
        }
    }
    assert!(
        bad.is_empty(),
        "{who}: results differ from the table:\n{}\nstdout:\n{}\nlog:\n{}",
        bad.join("\n"),
        o.stdout,
        o.log
    );
    assert!(o.stdout.ends_with("done\n"), "{who}:\n{}", o.stdout);
    assert_eq!(o.status, 0, "{who}:\n{}\n{}", o.stdout, o.log);
}

/// `/proc` in the tree: no entry of it leads to the host's `/`. The chroot
/// has no `/proc` (`ENOENT`); the device never follows magic links
/// (`ELOOP` or `EXDEV` from `RESOLVE_NO_MAGICLINKS`/`RESOLVE_IN_ROOT`, or
/// `ENOENT`: the root has no `proc/`), and `/proc/self/fd/N` is not a
/// directory to the device (`ENOTDIR`).
const PROC: &str = "ENOENT|ELOOP|EXDEV";

/// `files_escape cases`: Linux's results in a chroot (checked by
/// [`writes_through_dotdot_absolute_paths_and_links_stay_inside_the_root`]
/// when run as root).
const CASES: &[(&str, &str)] = &[
    ("dd_open_trunc", "ENOENT"),
    ("dd_open_rdwr", "ENOENT"),
    ("dd_open_append", "ENOENT"),
    ("dd_creat_in_outside", "ENOENT"),
    ("dd_creat", "ok"),
    ("dd_truncate", "ENOENT"),
    ("dd_unlink", "ENOENT"),
    ("dd_rmdir", "ENOENT"),
    ("dd_mkdir", "ENOENT"),
    ("dd_mkdir_top", "ok"),
    ("dd_rename_src", "ENOENT"),
    ("dd_rename_dir_src", "ENOENT"),
    ("dd_rename_dst", "ENOENT"),
    ("dd_link_src", "ENOENT"),
    ("dd_link_dst", "ENOENT"),
    ("dd_symlink_dst", "ENOENT"),
    ("dd_chmod", "ENOENT"),
    ("dd_utimens", "ENOENT"),
    ("dd_at_open_root", "ok"),
    ("dd_at_write", "ENOENT"),
    ("dd_at_unlink", "ENOENT"),
    ("dd_at_mkdir", "ENOENT"),
    ("abs_open_trunc", "ENOENT"),
    ("abs_open_write", "ENOENT"),
    ("abs_creat", "ok"),
    ("abs_truncate", "ENOENT"),
    ("abs_unlink", "ENOENT"),
    // root/P/outside (inside) holds abs-new by now.
    ("abs_rmdir", "ENOTEMPTY"),
    ("abs_mkdir", "ok"),
    ("abs_rename_src", "ENOENT"),
    ("abs_rename_dst", "ok"),
    ("abs_link_src", "ENOENT"),
    ("abs_link_dst", "ok"),
    ("abs_symlink", "ok"),
    ("abs_chmod", "ENOENT"),
    ("abs_chmod_dir", "ok"),
    ("abs_utimens", "ENOENT"),
    ("abs_utimens_dir", "ok"),
    ("sl_abs_trunc", "ENOENT"),
    ("sl_rel_trunc", "ENOENT"),
    ("sl_rel_rdwr", "ENOENT"),
    ("sl_absdir_write", "ENOENT"),
    ("sl_reldir_write", "ENOENT"),
    ("sl_reldir_creat", "ENOENT"),
    ("sl_absdir_creat", "ok"),
    ("sl_reldir_mkdir", "ENOENT"),
    ("sl_absdir_mkdir", "ok"),
    ("sl_mkdir_on_link", "EEXIST"),
    ("sl_creat_excl", "EEXIST"),
    ("sl_nofollow", "ELOOP"),
    ("sl_creat_nofollow", "ELOOP"),
    ("sl_reldir_unlink", "ENOENT"),
    ("sl_absdir_unlink", "ENOENT"),
    ("sl_unlink_link", "ok"),
    ("sl_rmdir_link", "ENOTDIR"),
    ("sl_reldir_rename_src", "ENOENT"),
    ("sl_reldir_rename_dst", "ENOENT"),
    ("sl_rename_link", "ok"),
    ("sl_rename_over_link", "ok"),
    ("sl_rename_into_absdir", "ok"),
    ("sl_link_nofollow", "ok"),
    ("sl_link_follow_abs", "ENOENT"),
    ("sl_link_follow_rel", "ENOENT"),
    ("sl_link_follow_dir", "ENOENT"),
    ("sl_link_dst_reldir", "ENOENT"),
    ("sl_link_dst_absdir", "ok"),
    ("sl_chmod_abs", "ENOENT"),
    ("sl_chmod_rel", "ENOENT"),
    ("sl_chmod_reldir", "ENOENT"),
    ("sl_utimens_abs", "ENOENT"),
    ("sl_utimens_rel", "ENOENT"),
    ("sl_utimens_nofollow", "ok"),
    ("sl_truncate_abs", "ENOENT"),
    ("sl_truncate_rel", "ENOENT"),
    ("sl_symlink_abs", "ok"),
    ("sl_sw_append", "ENOENT"),
    ("sl_symlink_rel", "ok"),
    ("sl_sr_write", "ENOENT"),
    ("sl_reldir_open_dir", "ENOENT"),
    ("proc_root_creat", PROC),
    ("proc_root_trunc", PROC),
    ("proc_1_root_trunc", PROC),
    ("proc_root_unlink", PROC),
    ("proc_root_mkdir", PROC),
    ("proc_root_rename", PROC),
    ("proc_root_link", PROC),
    ("proc_root_chmod", PROC),
    ("proc_root_truncate", PROC),
    ("proc_magic_trunc", PROC),
    ("proc_magic_creat", PROC),
    ("proc_fd_trunc", "ENOENT|ELOOP|EXDEV|ENOTDIR"),
    // Whatever the guest sees there, checked below to be "/" if anything.
    ("proc_root_readlink", "ENOENT|ok"),
    ("sl_abs_creat", "ok"),
    ("sl_rel_creat", "ok"),
    ("sl_absdir_open_dir", "ok"),
    ("sl_at_creat", "ok"),
];

/// What the successful writes of `cases` made, inside the root: (path from
/// the root, `<P>` for P, what must be there).
fn landed(f: &Fixture) -> Vec<(PathBuf, &'static str)> {
    vec![
        (f.root.join("dd-new"), "dd_creat\n"),
        (f.root.join("SECRET"), "sl_rel_creat\n"),
        (f.inside_p("SECRET"), "sl_abs_creat\n"),
        (f.inside_p("at-new"), "sl_at_creat\n"),
        (f.inside_p("outside/abs-new"), "abs_creat\n"),
        (f.inside_p("outside/sl-new"), "sl_absdir_creat\n"),
        (f.inside_p("outside/abs-moved"), "mine2\n"),
        (f.inside_p("outside/sl-moved"), "mine4\n"),
        (f.inside_p("outside/abs-hl"), "mine\n"),
        (f.inside_p("outside/sl-hl"), "mine\n"),
        (f.root.join("w/lr3"), "mine3\n"),
    ]
}

#[test]
fn writes_through_dotdot_absolute_paths_and_links_stay_inside_the_root() {
    if skip() {
        return;
    }
    let f = Fixture::new("root");
    // Absolute paths resolve from the root: give P/outside a place there.
    std::fs::create_dir_all(f.inside_p("outside")).unwrap();
    let before = f.outside();
    let g = f.in_guest(true, &["cases", &f.p, "/w"]);
    print!("guest:\n{}", g.stdout);
    assert_unchanged("the root's parent", &before, &f.outside(), &g.log);
    check_results("guest", &g, CASES);
    if let Some(t) = g.results().get("proc_root_readlink target") {
        assert_eq!(
            t, "/",
            "/proc/self/root must show the tree's root, if anything"
        );
    }
    for (path, content) in landed(&f) {
        assert_eq!(
            std::fs::read_to_string(&path).ok().as_deref(),
            Some(content),
            "{} inside the root\nlog:\n{}",
            path.display(),
            g.log
        );
    }
    assert!(f.root.join("dd-dir").is_dir(), "dd-dir");
    for dir in ["outside/abs-dir", "outside/sl-dir"] {
        assert!(f.inside_p(dir).is_dir(), "{dir}");
    }
    assert_eq!(
        std::fs::read_link(f.inside_p("outside/abs-sl")).unwrap(),
        Path::new("x")
    );
    let hl = std::fs::symlink_metadata(f.root.join("w/hl-la")).unwrap();
    assert!(
        hl.file_type().is_symlink(),
        "a hard link to the link itself"
    );
    assert_eq!(hl.nlink(), 2);
    assert_eq!(
        std::fs::metadata(f.root.join("w/mine")).unwrap().nlink(),
        3,
        "w/mine, P/outside/abs-hl, P/outside/sl-hl inside the root"
    );

    // Linux in a chroot: the same results and the same tree.
    if is_root() {
        let c = Fixture::new("root");
        std::fs::create_dir_all(c.inside_p("outside")).unwrap();
        let before = c.outside();
        let h = c.in_chroot(&c.root, &["cases", &c.p, "/w"]);
        assert_unchanged("the chroot's parent", &before, &c.outside(), &h.log);
        check_results("chroot", &h, CASES);
        assert_eq!(
            f.tree(),
            c.tree(),
            "the tree differs from the chroot's\nguest log:\n{}",
            g.log
        );
    } else {
        eprintln!("not root: no chroot comparison");
    }

    // Unconfined, the same program does change the outside.
    let n = Fixture::new("x/y/root");
    let before = n.outside();
    let w = n.root.join("w");
    let h = n.unconfined(&["cases", &n.p, w.to_str().unwrap()]);
    assert_eq!(h.status, 0, "{}", h.stdout);
    assert_ne!(before, n.outside(), "the unconfined run changed nothing?");
    assert_ne!(
        std::fs::read_to_string(n.t.path().join("SECRET")).unwrap(),
        "HOST-SECRET\n"
    );
}

/// A child swaps `race/x` between a directory and a symbolic link to
/// outside (absolute and relative in turn, moving the directory aside,
/// holding each state for a few calls) while the parent creates, makes directories, renames and links through
/// `race/x/` 2000 times. The outside never changes; both states of `x` were
/// hit (some ops succeeded inside, some failed with `ENOENT`).
#[test]
fn a_symlink_swapped_in_while_paths_resolve_never_leads_outside() {
    if skip() {
        return;
    }
    let f = Fixture::new("root");
    let before = f.outside();
    let g = f.in_guest(true, &["race", &f.p, "/w", RACE_ITERS]);
    print!("guest:\n{}", g.stdout);
    assert_unchanged("the root's parent", &before, &f.outside(), &g.log);
    assert_eq!(g.status, 0, "{}\n{}", g.stdout, g.log);
    assert!(g.stdout.ends_with("done\n"), "{}\n{}", g.stdout, g.log);
    assert!(!g.stdout.contains("swapper ended"), "{}", g.stdout);
    let counts = race_counts(&g.stdout);
    assert_eq!(counts.len(), 6, "{}", g.stdout);
    for (op, [ok, enoent, other]) in &counts {
        assert_eq!(
            ok + enoent + other,
            RACE_ITERS.parse::<u64>().unwrap(),
            "{op}"
        );
    }
    let creat = counts["creat"];
    assert!(
        creat[0] > 0 && creat[1] > 0,
        "the race must hit both a directory and a link: {creat:?}\n{}",
        g.stdout
    );
    // What was made through x landed in x (a directory of the root), or in
    // xd, where the swapper had moved it (empty or not: the last op of an
    // iteration truncates it).
    let made = ["x/r-new", "xd/r-new"].iter().any(|p| {
        std::fs::read_to_string(f.root.join("w/race").join(p))
            .is_ok_and(|s| s.is_empty() || s == "race\n")
    });
    assert!(made, "r-new inside the root");

    // Unconfined, the same race reaches the outside (the host schedules
    // the two processes as it likes: a few tries).
    let reached = (0..5).any(|_| {
        let n = Fixture::new("x/y/root");
        let before = n.outside();
        let w = n.root.join("w");
        let h = n.unconfined(&["race", &n.p, w.to_str().unwrap(), RACE_ITERS]);
        assert_eq!(h.status, 0, "{}", h.stdout);
        before != n.outside()
    });
    assert!(reached, "the unconfined race never changed the outside");
}

/// "race OP: ok A enoent B other C ..." lines.
fn race_counts(stdout: &str) -> BTreeMap<String, [u64; 3]> {
    stdout
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("race ")?;
            let (op, nums) = rest.split_once(": ")?;
            let w: Vec<&str> = nums.split_whitespace().collect();
            let n = |i: usize| w.get(i).and_then(|v| v.parse().ok());
            Some((op.to_owned(), [n(1)?, n(3)?, n(5)?]))
        })
        .collect()
}

/// Device nodes: the tree makes none, and never opens one that the host
/// placed in the root (a char device, the host's disk as a block device,
/// a FIFO, links to them and to the host's `/dev`).
#[test]
fn device_nodes_are_neither_made_nor_opened() {
    if skip() {
        return;
    }
    let f = Fixture::new("root");
    let w = f.root.join("w");
    let mut made_nodes = is_root();
    if made_nodes {
        let disk = std::fs::metadata("/").unwrap().dev();
        for (name, mode, dev) in [
            ("hostnull", libc::S_IFCHR | 0o666, libc::makedev(1, 3)),
            ("hostzero", libc::S_IFCHR | 0o666, libc::makedev(1, 5)),
            ("hostdisk", libc::S_IFBLK | 0o600, disk),
        ] {
            let path = std::ffi::CString::new(w.join(name).as_os_str().as_bytes()).unwrap();
            // SAFETY: mknod(2) with a NUL-terminated path inside our temp dir.
            if unsafe { libc::mknod(path.as_ptr(), mode, dev) } != 0 {
                eprintln!("mknod {name}: {}", std::io::Error::last_os_error());
                made_nodes = false;
            }
        }
    }
    if !made_nodes {
        eprintln!("cannot make device nodes (not root): their cases expect ENOENT");
    }
    let fifo = std::ffi::CString::new(w.join("hostfifo").as_os_str().as_bytes()).unwrap();
    // SAFETY: mkfifo(3) with a NUL-terminated path inside our temp dir.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    std::os::unix::fs::symlink("hostnull", w.join("link-hostnull")).unwrap();
    std::os::unix::fs::symlink("/dev/sda", w.join("link-sda")).unwrap();
    std::os::unix::fs::symlink("/dev/null", w.join("link-devnull")).unwrap();
    let before = f.everything();
    let g = f.in_guest(true, &["devices", "/w"]);
    print!("guest:\n{}", g.stdout);
    assert_unchanged("the root and its parent", &before, &f.everything(), &g.log);
    // Only regular files and directories are opened (spec dev-file-open):
    // anything else in the root is the host's, EACCES.
    let node = if made_nodes { "EACCES" } else { "ENOENT" };
    let expected = [
        // The guest kernel refuses mknod itself: EPERM as Linux gives an
        // unprivileged process (a chroot as root would make the node), or
        // ENOSYS while the syscall is not implemented.
        ("mknod_chr", "EPERM|ENOSYS"),
        ("mknod_blk", "EPERM|ENOSYS"),
        ("mknodat_chr", "EPERM|ENOSYS"),
        ("open_host_null_rdwr", node),
        ("open_host_null_rdonly", node),
        ("open_host_zero", node),
        ("open_host_disk", node),
        ("open_host_fifo_read", "EACCES"),
        ("open_host_fifo_write", "EACCES"),
        ("open_link_to_host_null", node),
        // Links resolve inside the root, which has no dev/; the device's own
        // /dev/null would be harmless, but a link is not its path.
        ("open_link_to_dev_sda", "ENOENT"),
        ("open_link_to_dev_null", "ENOENT|ok"),
        ("open_dev_sda", "ENOENT"),
        ("open_dev_vda", "ENOENT"),
        ("open_dev_mem", "ENOENT"),
    ];
    check_results("guest", &g, &expected);
    let mknod = g.results()["mknod_chr"].clone();
    eprintln!("mknod in the tree: {mknod}");
}

/// A read-only root (no `--writable`): every write op is `EROFS` and the
/// tree, root included, is unchanged byte for byte and in its metadata.
/// As root, the same program runs in a chroot to a read-only bind mount of
/// a copy, and must print the same.
#[test]
fn a_read_only_root_answers_every_write_with_erofs() {
    if skip() {
        return;
    }
    let ro_fixture = || {
        let f = Fixture::new("root");
        let w = f.root.join("w");
        std::fs::write(w.join("ro-file"), "RO\n").unwrap();
        std::fs::create_dir(w.join("ro-dir")).unwrap();
        std::os::unix::fs::symlink("ro-file", w.join("ro-link")).unwrap();
        f
    };
    let expected = [
        ("ro_open_wronly", "EROFS"),
        ("ro_open_rdwr", "EROFS"),
        ("ro_open_append", "EROFS"),
        ("ro_open_trunc", "EROFS"),
        ("ro_open_link_write", "EROFS"),
        ("ro_creat_new", "EROFS"),
        ("ro_creat_excl", "EROFS"),
        ("ro_creat", "EROFS"),
        ("ro_truncate", "EROFS"),
        ("ro_mkdir", "EROFS"),
        ("ro_rmdir", "EROFS"),
        ("ro_unlink", "EROFS"),
        ("ro_unlink_link", "EROFS"),
        ("ro_rename", "EROFS"),
        ("ro_rename_dir", "EROFS"),
        ("ro_link", "EROFS"),
        ("ro_symlink", "EROFS"),
        ("ro_chmod", "EROFS"),
        ("ro_chmod_dir", "EROFS"),
        ("ro_utimens", "EROFS"),
        ("ro_utimens_link", "EROFS"),
        ("ro_access_w", "EROFS"),
        // Linux on a read-only mount: EROFS; the guest kernel may refuse
        // mknod before the root is asked (EPERM, or ENOSYS while missing).
        ("ro_mknod", "EROFS|EPERM|ENOSYS"),
        // mknod of a regular file is a create.
        ("ro_mknod_reg", "EROFS"),
        ("ro_open_rdonly", "ok"),
        ("ro_fchmod", "EROFS"),
        ("ro_futimens", "EROFS"),
        // Linux checks the description's access mode before the mount:
        // ftruncate of a read-only fd is EINVAL, write/pwrite EBADF.
        ("ro_ftruncate", "EINVAL"),
        ("ro_write", "EBADF"),
        ("ro_pwrite", "EBADF"),
        // The device's /dev/null, not the root's (the chroot gets a
        // char 1:3 node at root/dev/null).
        ("ro_dev_null_write", "ok"),
    ];
    let f = ro_fixture();
    let before = f.everything();
    let g = f.in_guest(false, &["readonly", "/w"]);
    print!("guest:\n{}", g.stdout);
    assert_unchanged("the read-only root", &before, &f.everything(), &g.log);
    check_results("guest", &g, &expected);

    if !is_root() {
        eprintln!("not root: no read-only chroot comparison");
        return;
    }
    let c = ro_fixture();
    std::fs::create_dir(c.root.join("dev")).unwrap();
    let null = std::ffi::CString::new(c.root.join("dev/null").as_os_str().as_bytes()).unwrap();
    // SAFETY: mknod(2) with a NUL-terminated path inside our temp dir.
    let made = unsafe { libc::mknod(null.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) };
    let mnt = c.t.path().join("ro-mount");
    std::fs::create_dir(&mnt).unwrap();
    let Some(_m) = Mount::read_only_bind(&c.root, &mnt) else {
        eprintln!("cannot bind-mount read-only: no chroot comparison");
        return;
    };
    if made != 0 {
        eprintln!("cannot make dev/null: no chroot comparison");
        return;
    }
    let h = c.in_chroot(&mnt, &["readonly", "/w"]);
    check_results("read-only chroot", &h, &expected);
    // mknod of a device: the guest kernel refuses it before it asks the
    // device (EPERM); Linux checks the mount first (EROFS).
    let without_mknod = |o: &Outcome| {
        let mut r = o.results();
        r.remove("ro_mknod");
        r
    };
    assert_eq!(
        without_mknod(&g),
        without_mknod(&h),
        "the guest and the read-only chroot differ"
    );
}

/// A read-only bind mount, unmounted on drop (panics included).
struct Mount(PathBuf);

impl Mount {
    fn read_only_bind(from: &Path, at: &Path) -> Option<Self> {
        let ok = |c: &mut Command| c.status().is_ok_and(|s| s.success());
        if !ok(Command::new("mount").arg("--bind").arg(from).arg(at)) {
            return None;
        }
        let m = Self(at.to_owned());
        ok(Command::new("mount")
            .args(["-o", "remount,bind,ro"])
            .arg(at))
        .then_some(m)
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}
