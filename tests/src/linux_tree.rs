//! Running static Linux programs as a tree (`vhost-user-pipe run --root`)
//! and natively, to compare the two. [`LinuxRoot`] is a tree's root
//! directory, removed when dropped:
//!
//! ```text
//! bin/busybox, bin/sh, bin/echo, ... -> busybox
//! bin/PROGRAM          each tests/linux program it was made with
//! bin/hello.sh         a `#!/bin/sh` script that exits with 5
//! bin/noshebang        a script without `#!` (the shell runs it)
//! etc/fruits           "pear\napple\nfig\n"
//! data/a.txt           "hello, files\n"
//! data/link -> a.txt, data/sub/
//! ```
//! (`/dev/null` is the device's own.)

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::programs;
use crate::qemu::{daemon_bin, run_with_deadline, serial_logs, status_of};

/// One boot and run under TCG on a loaded 2-core machine takes seconds;
/// this is the hard limit of one run.
pub const LIMIT: Duration = Duration::from_secs(120);
/// Debian's `busybox-static`.
pub const BUSYBOX: &str = "/bin/busybox";
/// The busybox applets the root has in `/bin`, as links to busybox.
const APPLETS: &[&str] = &[
    "sh", "echo", "tr", "wc", "sort", "ls", "cat", "true", "false", "seq", "head", "sleep", "kill",
];

/// What one run produced.
#[derive(Debug, Clone)]
pub struct Run {
    /// Its standard output.
    pub stdout: String,
    /// The exit code, or 128 + the signal that ended it.
    pub status: i32,
    /// The guest kernels' logs and the daemon's (empty for a host run).
    pub serial: String,
}

/// A tree's root directory (see the module docs).
#[derive(Debug)]
pub struct LinuxRoot {
    dir: tempfile::TempDir,
    /// Runs with `--writable`.
    writable: bool,
}

impl LinuxRoot {
    /// A root with busybox, the data files and `programs` (names of
    /// `tests/linux/` programs, built by `tests/linux/build`).
    pub fn new(programs: &[&str]) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("vup-root-")
            .tempdir()
            .expect("a temporary root");
        let at = |p: &str| dir.path().join(p);
        for d in ["bin", "etc", "data/sub"] {
            std::fs::create_dir_all(at(d)).unwrap();
        }
        assert!(
            Path::new(BUSYBOX).is_file(),
            "{BUSYBOX} is missing: install Debian's busybox-static"
        );
        std::fs::copy(BUSYBOX, at("bin/busybox")).unwrap();
        for a in APPLETS {
            std::os::unix::fs::symlink("busybox", at("bin").join(a)).unwrap();
        }
        for p in programs {
            std::fs::copy(programs::linux(p), at("bin").join(p)).unwrap();
        }
        std::fs::write(at("etc/fruits"), "pear\napple\nfig\n").unwrap();
        std::fs::write(at("data/a.txt"), "hello, files\n").unwrap();
        std::os::unix::fs::symlink("a.txt", at("data/link")).unwrap();
        let script = |name: &str, text: &str| {
            let p = at("bin").join(name);
            std::fs::write(&p, text).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        };
        script("hello.sh", "#!/bin/sh\necho \"script says $1\"\nexit 5\n");
        script("noshebang", "echo \"no shebang: $1\"\n");
        Self {
            dir,
            writable: false,
        }
    }

    /// The same root, which the tree may write (`run --writable`).
    pub fn writable(mut self) -> Self {
        self.writable = true;
        self
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The kernel image the tree boots.
    fn kernel() -> PathBuf {
        let p = programs::images().join("guest-kernel");
        assert!(
            p.is_file(),
            "{} is missing: run `sh guest-kernel/build-image` first",
            p.display()
        );
        p
    }

    /// Runs `argv` (`argv[0]` a program of `/bin`) as the root process of
    /// a tree in this root, with `env` (`NAME=value` strings).
    pub fn run(&self, argv: &[&str], env: &[&str]) -> Run {
        let runs = tempfile::Builder::new()
            .prefix("vup-run-")
            .tempdir()
            .expect("a temporary run directory");
        let run = runs.path().join("run");
        let mut c = Command::new(daemon_bin());
        c.args(["run", "--accel", "tcg", "--root"])
            .arg(self.path())
            .arg("--kernel")
            .arg(Self::kernel())
            .arg("--run-dir")
            .arg(&run)
            .env("RUST_LOG", "info");
        if self.writable {
            c.arg("--writable");
        }
        for e in env {
            c.arg("--env").arg(e);
        }
        c.args(argv);
        let out = run_with_deadline(c, LIMIT);
        let serial = serial_logs(&run);
        let out =
            out.unwrap_or_else(|| panic!("the tree did not finish in time; serial:\n{serial}"));
        Run {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            status: status_of(out.status),
            serial: format!(
                "{serial}\ndaemon:\n{}",
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }

    /// Runs `/bin/argv[0]` of the root natively, in the root directory,
    /// with `env` only (a `PATH` there looks in the root's `/bin` first,
    /// as the tree does).
    pub fn run_on_host(&self, argv: &[&str], env: &[&str]) -> Run {
        let mut c = Command::new(self.path().join("bin").join(argv[0]));
        c.arg0(argv[0])
            .args(&argv[1..])
            .current_dir(self.path())
            .env_clear();
        for e in env {
            let (k, v) = e.split_once('=').expect("NAME=value");
            if k == "PATH" {
                c.env(k, format!("{}:{v}", self.path().join("bin").display()));
            } else {
                c.env(k, v);
            }
        }
        run_natively(c)
    }

    /// Runs `argv` in a tree and on the host, checks that both print the
    /// same and end the same, and returns the tree's run.
    pub fn same_as_host(&self, argv: &[&str], env: &[&str]) -> Run {
        let host = self.run_on_host(argv, env);
        let guest = self.run(argv, env);
        assert_same(&guest, &host);
        guest
    }
}

/// Runs `c` natively with [`LIMIT`]: what it printed and how it ended.
pub fn run_natively(c: Command) -> Run {
    let out = run_with_deadline(c, LIMIT).expect("the host run finished in time");
    Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        status: status_of(out.status),
        serial: String::new(),
    }
}

/// Asserts that a tree's run printed what the host's did and ended the
/// same way, showing the guests' logs if not.
pub fn assert_same(guest: &Run, host: &Run) {
    assert_eq!(
        guest.stdout, host.stdout,
        "stdout differs from the host's\nguest serial:\n{}",
        guest.serial
    );
    assert_eq!(
        guest.status, host.status,
        "exit status differs from the host's\nguest serial:\n{}",
        guest.serial
    );
}
