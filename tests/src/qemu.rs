//! Helpers for tests that boot real QEMU: process groups, deadlines, paths.

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The workspace root.
pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// The daemon binary built by cargo for this test run.
pub fn daemon_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/<test> -> target/<profile>/vhost-user-pipe
    exe.parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("vhost-user-pipe")
}

/// Whether a usable QEMU is installed.
pub fn have_qemu() -> bool {
    Command::new("qemu-system-x86_64")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A child in its own process group, killed with its whole group on drop.
#[derive(Debug)]
pub struct Group {
    /// The child.
    pub child: Child,
}

impl Group {
    /// Spawns `cmd` as the leader of a new process group.
    pub fn spawn(mut cmd: Command) -> Self {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0).stdin(Stdio::null());
        Self {
            child: cmd.spawn().expect("spawn"),
        }
    }

    /// Like [`Group::spawn`], but keeps the stdin `cmd` was given.
    pub fn spawn_keep_stdin(mut cmd: Command) -> Self {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
        Self {
            child: cmd.spawn().expect("spawn"),
        }
    }

    /// Waits for the child to exit until `deadline`; kills the group if it does not.
    pub fn wait_deadline(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let until = Instant::now() + limit;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return Some(s);
            }
            if Instant::now() > until {
                self.kill();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the whole group.
    pub fn kill(&mut self) {
        // SAFETY: kill(2) of our own child's process group (pgid = its pid).
        unsafe { libc::kill(-(self.child.id() as libc::pid_t), libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs `cmd` in its own process group with a hard time limit; the group
/// is killed at the end whatever happens.
pub fn run_with_deadline(mut cmd: Command, limit: Duration) -> Option<Output> {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut g = Group::spawn(cmd);
    let out = g.child.stdout.take().unwrap();
    let err = g.child.stderr.take().unwrap();
    let t1 = std::thread::spawn(move || read_all(out));
    let t2 = std::thread::spawn(move || read_all(err));
    let status = g.wait_deadline(limit);
    // SAFETY: kill(2) of our child's group, so no straggler holds the pipes.
    unsafe { libc::kill(-(g.child.id() as libc::pid_t), libc::SIGKILL) };
    let stdout = t1.join().unwrap_or_default();
    let stderr = t2.join().unwrap_or_default();
    status.map(|status| Output {
        status,
        stdout,
        stderr,
    })
}

fn read_all(mut r: impl std::io::Read) -> Vec<u8> {
    let mut v = Vec::new();
    let _ = r.read_to_end(&mut v);
    v
}
