//! A process tree under the daemon binary itself: `vhost-user-pipe run
//! --accel tcg --root target/bench-programs [--pool N] ... /vupbench ARGS`,
//! a child process of the benchmark in its own process group. Its stdout
//! (the root's) comes back as timed lines, its stdin is the root's. This is
//! how the pool rows compare the pool off and on with one binary and an
//! option, and how the density run measures the daemon's own memory.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::guest::{Paths, Programs, IMAGE};

/// The daemon binary, and whether it has the `--pool` option.
#[derive(Debug, Clone)]
pub struct Daemon {
    /// `target/<profile>/vhost-user-pipe`.
    pub bin: PathBuf,
    /// Whether `run --help` lists `--pool` (the pool has landed).
    pub has_pool: bool,
}

impl Daemon {
    /// The `vhost-user-pipe` binary of this benchmark's profile, built
    /// first with cargo (so that it is current), or `explicit`.
    pub fn find(paths: &Paths, explicit: Option<&Path>) -> Result<Self, String> {
        let bin = match explicit {
            Some(p) => p.to_owned(),
            None => {
                let exe = std::env::current_exe().map_err(|e| e.to_string())?;
                let dir = exe.parent().ok_or("the bench binary has no directory")?;
                let release = dir.file_name().is_some_and(|n| n == "release");
                let mut build = Command::new(std::env::var_os("CARGO").unwrap_or("cargo".into()));
                build
                    .args([
                        "build",
                        "-q",
                        "-p",
                        "vhost-user-pipe",
                        "--bin",
                        "vhost-user-pipe",
                    ])
                    .current_dir(&paths.root);
                if release {
                    build.arg("--release");
                }
                match build.status() {
                    Ok(s) if s.success() => {}
                    Ok(s) => eprintln!("building vhost-user-pipe: cargo {s}; using what is there"),
                    Err(e) => eprintln!("cannot run cargo ({e}); using what is there"),
                }
                dir.join("vhost-user-pipe")
            }
        };
        let help = Command::new(&bin)
            .args(["run", "--help"])
            .output()
            .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
        let text = String::from_utf8_lossy(&help.stdout);
        Ok(Self {
            has_pool: text.contains("--pool"),
            bin,
        })
    }
}

/// The pool setting of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pool {
    /// `--pool 0` (or no option where the daemon has none).
    Off,
    /// `--pool N`.
    On(usize),
}

impl Pool {
    /// "pool off", "pool 4".
    pub fn label(self) -> String {
        match self {
            Pool::Off => "pool off".into(),
            Pool::On(n) => format!("pool {n}"),
        }
    }
}

/// Options of one tree.
#[derive(Debug, Clone)]
pub struct TreeOptions {
    /// The pool.
    pub pool: Pool,
    /// `--memory`, MiB.
    pub memory_mib: u32,
    /// `--max-processes`.
    pub max_processes: usize,
}

impl Default for TreeOptions {
    fn default() -> Self {
        Self {
            pool: Pool::Off,
            memory_mib: 64,
            max_processes: 64,
        }
    }
}

/// One `vhost-user-pipe run` and its root's output.
pub struct RunTree {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<(Instant, String)>,
    stderr: Arc<Mutex<Vec<u8>>>,
    /// Holds `run/`, the daemon's run directory (it must not exist yet).
    run_dir: tempfile::TempDir,
}

impl std::fmt::Debug for RunTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunTree")
            .field("pid", &self.child.id())
            .field("run_dir", &self.run_dir.path())
            .finish()
    }
}

impl RunTree {
    /// Starts `vupbench ARGS...` as the root of a tree under `daemon`.
    pub fn start(
        daemon: &Daemon,
        programs: &Programs,
        opts: &TreeOptions,
        args: &[String],
    ) -> Result<Self, String> {
        let run_dir = tempfile::Builder::new()
            .prefix("vup-bench-run-")
            .tempdir()
            .map_err(|e| format!("cannot create a run directory: {e}"))?;
        let mut cmd = Command::new(&daemon.bin);
        cmd.args(["run", "--accel", "tcg", "--root"])
            .arg(&programs.dir)
            .arg("--kernel")
            .arg(&programs.kernel)
            .arg("--run-dir")
            .arg(run_dir.path().join("run"))
            .args(["--memory", &opts.memory_mib.to_string()])
            .args(["--max-processes", &opts.max_processes.to_string()])
            .args(["--max-pipes", &(opts.max_processes * 4 + 64).to_string()]);
        match opts.pool {
            Pool::Off if daemon.has_pool => {
                cmd.args(["--pool", "0"]);
            }
            Pool::Off => {}
            Pool::On(_) if !daemon.has_pool => {
                return Err("the daemon has no --pool option yet".into());
            }
            Pool::On(n) => {
                cmd.args(["--pool", &n.to_string()]);
            }
        }
        cmd.arg(format!("/{IMAGE}"))
            .args(args)
            .env_remove("VHOST_USER_PIPE_POOL")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", daemon.bin.display()))?;
        let stdin = child.stdin.take();
        let out = child.stdout.take().ok_or("no stdout")?;
        let mut err = child.stderr.take().ok_or("no stderr")?;
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for l in BufReader::new(out).lines() {
                let Ok(l) = l else { return };
                if tx.send((Instant::now(), l)).is_err() {
                    return;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let sink = stderr.clone();
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    return;
                }
                sink.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend_from_slice(&buf[..n]);
            }
        });
        Ok(Self {
            child,
            stdin,
            lines,
            stderr,
            run_dir,
        })
    }

    /// The last lines of the daemon's stderr.
    pub fn stderr_tail(&self) -> String {
        let err = self.stderr.lock().unwrap_or_else(|e| e.into_inner());
        let text = String::from_utf8_lossy(&err);
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(3)..].join(" / ")
    }

    /// The next stdout line that starts with one of `tags`: which one, and
    /// the rest of the line.
    pub fn tagged_any<'t>(
        &self,
        tags: &[&'t str],
        limit: Duration,
    ) -> Result<(&'t str, String), String> {
        let until = Instant::now() + limit;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            let (_, l) = self.lines.recv_timeout(left).map_err(|e| {
                let what = match e {
                    mpsc::RecvTimeoutError::Timeout => {
                        format!("no {tags:?} line in {:.0} s", limit.as_secs_f64())
                    }
                    mpsc::RecvTimeoutError::Disconnected => "its stdout closed".to_string(),
                };
                format!(
                    "tree failed ({what}); daemon stderr: {}",
                    self.stderr_tail()
                )
            })?;
            for t in tags {
                if let Some(rest) = l.strip_prefix(t) {
                    return Ok((t, rest.trim().to_owned()));
                }
            }
        }
    }

    /// The next stdout line that starts with `tag`, without the tag.
    pub fn tagged(&self, tag: &str, limit: Duration) -> Result<String, String> {
        self.tagged_any(&[tag], limit).map(|(_, l)| l)
    }

    /// Writes to the root's stdin.
    pub fn stdin(&mut self, data: &[u8]) -> Result<(), String> {
        let s = self.stdin.as_mut().ok_or("stdin closed")?;
        s.write_all(data)
            .and_then(|_| s.flush())
            .map_err(|e| format!("root stdin: {e}"))
    }

    /// The daemon's host pid.
    pub fn daemon_pid(&self) -> u32 {
        self.child.id()
    }

    /// Host pids of this tree's QEMUs (their command lines name the run
    /// directory): the processes' and the parked VMs'. A VM booted for the
    /// pool keeps `pool-K.sock` on its command line when a process takes it, so the
    /// two cannot be told apart from here; the tree's size can.
    pub fn qemu_pids(&self) -> Vec<u32> {
        let needle = self.run_dir.path().to_string_lossy().into_owned();
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        dir.flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|&pid| {
                pid != self.child.id()
                    && std::fs::read(format!("/proc/{pid}/cmdline"))
                        .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&needle))
            })
            .collect()
    }

    /// Closes the root's stdin and waits for the daemon to exit; kills its
    /// process group after `limit`.
    pub fn finish(mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        self.stop(limit)
    }

    fn stop(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        drop(self.stdin.take());
        let until = Instant::now() + limit;
        loop {
            match self.child.try_wait() {
                Ok(Some(s)) => return Some(s),
                Ok(None) if Instant::now() < until => thread::sleep(Duration::from_millis(20)),
                _ => break,
            }
        }
        let pgid = self.child.id() as libc::pid_t;
        // SAFETY: signals the process group this module created for the daemon.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
        let _ = self.child.wait();
        None
    }
}

impl Drop for RunTree {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.stop(Duration::from_secs(20));
        }
    }
}
