//! Backend-only density: one daemon in a child process (this binary,
//! re-executed with the hidden `__daemon` subcommand) serves a tree that
//! grows to N processes, each a [`TestGuest`] in this process with a READ
//! blocked on an empty pipe. The daemon's own VmRSS and CPU time are read
//! from `/proc/<pid>`, so the frontends' memory is not counted.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use system_tests::frontend::TestGuest;
use vhost_user_pipe::image::ImageDir;
use vhost_user_pipe::launcher::{LaunchError, LaunchSpec, Launcher, Vm};
use vhost_user_pipe::supervisor::Supervisor;
use vhost_user_pipe::test_utils::FakeVm;
use vhost_user_pipe::Limits;

use crate::plan::Plan;
use crate::proc;

/// The image name children are spawned from (an empty file: no VM boots).
const CHILD_IMAGE: &str = "idle";

/// Announces each launch on stdout; the parent connects a frontend.
#[derive(Debug)]
struct LineLauncher;

impl Launcher for LineLauncher {
    fn launch(&self, spec: &LaunchSpec) -> Result<Arc<dyn Vm>, LaunchError> {
        let mut out = std::io::stdout().lock();
        writeln!(out, "LAUNCH {}", spec.socket.display())
            .and_then(|_| out.flush())
            .map_err(|_| LaunchError::Closed)?;
        Ok(Arc::new(FakeVm::default()))
    }
}

/// The hidden `__daemon DIR` subcommand: serves a root on `DIR/root.sock`
/// until stdin closes.
pub fn daemon_main(dir: &Path) -> i32 {
    let images = dir.join("images");
    let run = dir.join("run");
    for d in [&images, &run] {
        if let Err(e) = std::fs::create_dir_all(d) {
            eprintln!("__daemon: {}: {e}", d.display());
            return 1;
        }
    }
    if std::fs::write(images.join(CHILD_IMAGE), b"").is_err() {
        return 1;
    }
    let Ok(images) = ImageDir::new(&images) else {
        return 1;
    };
    let limits = Limits {
        max_processes: 100_000,
        max_pipes: 100_000,
        ..Limits::default()
    };
    let sup = Supervisor::new(limits, Arc::new(LineLauncher), Some(images), run);
    if let Err(e) = sup.serve_root(&dir.join("root.sock"), vec![b"root".to_vec()], vec![]) {
        eprintln!("__daemon: {e}");
        return 1;
    }
    println!("READY");
    let _ = std::io::stdout().flush();
    // Serve until the parent closes our stdin (or dies).
    let mut sink = String::new();
    while std::io::stdin().read_line(&mut sink).is_ok_and(|n| n > 0) {}
    sup.shutdown();
    0
}

/// One step: the daemon with `n` processes.
#[derive(Debug, Clone)]
pub struct Step {
    /// Processes, root included.
    pub n: usize,
    /// Daemon VmRSS growth per process since it served nothing, KiB.
    pub rss_per_process_kib: f64,
    /// Daemon VmRSS, KiB.
    pub rss_kib: u64,
    /// Daemon threads.
    pub threads: u64,
    /// Daemon CPU while all processes are blocked, percent of a core.
    pub idle_cpu_pct: f64,
}

struct Daemon {
    child: Child,
    out: BufReader<ChildStdout>,
    dir: PathBuf,
}

impl Daemon {
    fn start() -> Result<Self, String> {
        let dir = std::env::temp_dir().join(format!("vup-bench-daemon-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut child = Command::new(exe)
            .arg("__daemon")
            .arg(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start the daemon process: {e}"))?;
        let out = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let mut d = Self { child, out, dir };
        let l = d.line()?;
        if l != "READY" {
            return Err(format!("daemon said {l:?}"));
        }
        Ok(d)
    }

    fn line(&mut self) -> Result<String, String> {
        let mut l = String::new();
        match self.out.read_line(&mut l) {
            Ok(n) if n > 0 => Ok(l.trim().to_owned()),
            _ => Err("the daemon process ended".into()),
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn threads(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Grows a backend-only tree through `plan.density_backend`.
pub fn backend(plan: &Plan) -> Result<Vec<Step>, String> {
    let mut d = Daemon::start()?;
    let pid = d.pid();
    thread::sleep(Duration::from_millis(100));
    let base = proc::vm_rss_kib(pid).ok_or("no daemon RSS")?;
    let mut root = TestGuest::connect(&d.dir.join("root.sock"));
    let (r, _w) = root.pipe(0).map_err(|e| format!("pipe: {e:?}"))?;
    let mut guests = Vec::new();
    let mut blocked = Vec::new();
    blocked.push(root.submit_read(r, 1, 0));
    let mut steps = Vec::new();
    for &n in &plan.density_backend {
        while guests.len() + 1 < n {
            root_spawn(&mut root)?;
            let l = d.line()?;
            let socket = l
                .strip_prefix("LAUNCH ")
                .ok_or(format!("daemon said {l:?}"))?;
            let mut g = TestGuest::connect(Path::new(socket));
            blocked.push(g.submit_read(r, 1, 0));
            guests.push(g);
        }
        // The last READs are submitted; let the daemon take them.
        thread::sleep(Duration::from_millis(200));
        let rss = proc::vm_rss_kib(pid).ok_or("no daemon RSS")?;
        let c0 = proc::cpu_seconds(pid).ok_or("no daemon CPU")?;
        let w0 = Instant::now();
        thread::sleep(Duration::from_secs_f64(plan.idle_window_s));
        let cpu = proc::cpu_seconds(pid).ok_or("no daemon CPU")? - c0;
        steps.push(Step {
            n,
            rss_per_process_kib: rss.saturating_sub(base) as f64 / n as f64,
            rss_kib: rss,
            threads: threads(pid),
            idle_cpu_pct: cpu / w0.elapsed().as_secs_f64() * 100.0,
        });
    }
    drop(guests);
    drop(root);
    Ok(steps)
}

fn root_spawn(root: &mut TestGuest) -> Result<(), String> {
    root.spawn(CHILD_IMAGE, &[CHILD_IMAGE.as_bytes()], &[], &[])
        .map(drop)
        .map_err(|e| format!("spawn: {e:?}"))
}

/// One step of the host baseline: `n` `cat` processes blocked reading a pipe.
#[derive(Debug, Clone)]
pub struct HostStep {
    /// Processes.
    pub n: usize,
    /// VmRSS of each, KiB.
    pub rss_kib: Vec<f64>,
    /// Pss of each, KiB.
    pub pss_kib: Vec<f64>,
    /// CPU of each over the idle window, percent of a core.
    pub idle_cpu_pct: Vec<f64>,
}

/// Host baseline for density: blocked `cat` processes at each size of
/// `plan.density_qemu`.
pub fn host(plan: &Plan) -> Result<Vec<HostStep>, String> {
    let mut cats: Vec<Child> = Vec::new();
    let mut steps = Vec::new();
    let result = (|| {
        for &n in &plan.density_qemu {
            while cats.len() < n {
                let c = Command::new("cat")
                    .stdin(Stdio::piped())
                    .stdout(Stdio::null())
                    .spawn()
                    .map_err(|e| format!("cannot start cat: {e}"))?;
                cats.push(c);
            }
            thread::sleep(Duration::from_millis(100));
            let pids: Vec<u32> = cats.iter().map(Child::id).collect();
            let proc::Footprint {
                rss_kib,
                pss_kib,
                idle_cpu_pct,
            } = proc::footprint(&pids, Duration::from_secs_f64(plan.idle_window_s.min(1.0)));
            steps.push(HostStep {
                n,
                rss_kib,
                pss_kib,
                idle_cpu_pct,
            });
        }
        Ok::<(), String>(())
    })();
    for mut c in cats {
        drop(c.stdin.take());
        let _ = c.wait();
    }
    result.map(|_| steps)
}
