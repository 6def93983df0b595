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
        cmd.stdin(Stdio::null());
        Self::spawn_keep_stdin(cmd)
    }

    /// Like [`Group::spawn`], but keeps the stdin `cmd` was given.
    pub fn spawn_keep_stdin(mut cmd: Command) -> Self {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
        // A program a test has just copied (a root's `/bin`) can be busy
        // for a moment: another test thread's fork may still hold the
        // copy's write fd open while it execs (`ETXTBSY`, the usual
        // copy-then-exec race of multi-threaded test runners).
        let mut tries = 0;
        let child = loop {
            match cmd.spawn() {
                Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && tries < 100 => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
                r => break r.expect("spawn"),
            }
        };
        Self { child }
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
pub fn run_with_deadline(cmd: Command, limit: Duration) -> Option<Output> {
    run_group(cmd, limit, false)
}

/// A process's end as a shell reports it: the exit code, or 128 + the
/// signal that ended it.
pub fn status_of(s: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    s.code()
        .or_else(|| s.signal().map(|sig| 128 + sig))
        .unwrap_or(-1)
}

/// What one run of a command produced, compared between a tree and the
/// host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Its standard output.
    pub stdout: Vec<u8>,
    /// Its standard error.
    pub stderr: Vec<u8>,
    /// [`status_of`] its end.
    pub status: i32,
}

impl Outcome {
    /// The standard output as text.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// The standard error as text.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

impl From<Output> for Outcome {
    fn from(o: Output) -> Self {
        Self {
            stdout: o.stdout,
            stderr: o.stderr,
            status: status_of(o.status),
        }
    }
}

/// [`run_with_deadline`], with the stdin `cmd` was given (a file, a pipe)
/// instead of none.
pub fn run_keeping_stdin(cmd: Command, limit: Duration) -> Option<Output> {
    run_group(cmd, limit, true)
}

fn run_group(mut cmd: Command, limit: Duration, keep_stdin: bool) -> Option<Output> {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut g = if keep_stdin {
        Group::spawn_keep_stdin(cmd)
    } else {
        Group::spawn(cmd)
    };
    let out = g.child.stdout.take().unwrap();
    let err = g.child.stderr.take().unwrap();
    let t1 = std::thread::spawn(move || read_all(out));
    let t2 = std::thread::spawn(move || read_all(err));
    let status = g.wait_deadline(limit);
    // No straggler of the group may keep the pipes open.
    g.kill();
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

/// Every guest's serial log in the run directory `run_dir`, each under a
/// `== NAME` line, in name order: what a failing end-to-end test prints.
pub fn serial_logs(run_dir: &std::path::Path) -> String {
    let mut logs: Vec<std::path::PathBuf> = std::fs::read_dir(run_dir)
        .map(|r| r.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    logs.sort();
    logs.iter()
        .filter(|p| p.to_string_lossy().ends_with(".serial.log"))
        .map(|p| {
            format!(
                "== {}\n{}",
                p.file_name().unwrap_or_default().to_string_lossy(),
                std::fs::read_to_string(p).unwrap_or_default()
            )
        })
        .collect()
}

/// Host pids of the QEMU processes whose command line mentions `needle`
/// (a run directory, a socket).
pub fn qemus_mentioning(needle: &str) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let cmd = String::from_utf8_lossy(&cmd);
            (cmd.contains("qemu-system") && cmd.contains(needle)).then_some(pid)
        })
        .collect()
}

/// The host pid of the QEMU that runs guest `guest_pid` of the daemon
/// whose run directory is `run_dir`: its socket is on QEMU's command line,
/// or, for a VM the process took from the pool (booted as `pool-K`), QEMU
/// has its serial log open under the name the daemon gave it then
/// (`pid-N.serial.log`).
pub fn qemu_of(run_dir: &std::path::Path, guest_pid: u32) -> Option<u32> {
    let socket = format!("{}/pid-{guest_pid}.sock", run_dir.display());
    let serial = run_dir.join(format!("pid-{guest_pid}.serial.log"));
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let cmd = String::from_utf8_lossy(&cmd);
        if !cmd.contains("qemu-system") {
            return None;
        }
        if cmd.contains(&socket) {
            return Some(pid);
        }
        let pooled = cmd.contains(&format!("{}/pool-", run_dir.display()))
            && std::fs::read_dir(format!("/proc/{pid}/fd"))
                .ok()?
                .flatten()
                .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|t| t == serial));
        pooled.then_some(pid)
    })
}

/// CPU seconds a process has used (utime + stime), or `None` once it is gone.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &text[text.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat(5); `rest` starts at field 3.
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf(3) has no memory-safety preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Some(ticks as f64 / hz)
}
