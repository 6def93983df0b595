//! Guest figures: VMs under QEMU (TCG), served by a daemon in this
//! process. The guest program is `benchmarks/guest/vupbench.c`, an ordinary
//! static Linux program built with `musl-gcc -static` into
//! `target/bench-programs/`, the tree's root; every VM boots the process
//! kernel, which loads it. The same binary runs natively for the host
//! rows that compare programs (exec). Guests
//! time themselves with their CLOCK_MONOTONIC and print the samples on
//! stdout, which this module reads through the root's host pipe (the same
//! kernel calls the daemon's stdio pumps make). Cold boot is timed here,
//! from the launcher's QEMU start to the root's first output.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use vhost_user_pipe::files::Root;
use vhost_user_pipe::io::HostIo;
use vhost_user_pipe::launcher::{LaunchError, LaunchSpec, Launcher, QemuLauncher, Vm};
use vhost_user_pipe::process::{Pid, HOST_PID};
use vhost_user_pipe::qemu;
use vhost_user_pipe::supervisor::Supervisor;
use vhost_user_pipe::Limits;
use virtio_pipe_protocol::Request;

use crate::plan::Plan;

use crate::stats::{names, Row, Unit, Way};

/// The program's name; it starts its children by this name too.
pub const IMAGE: &str = "vupbench";
/// Guest RAM, as the daemon's default.
const GUEST_MIB: u32 = 64;
/// Longest any one guest run may take.
const RUN_LIMIT: Duration = Duration::from_secs(300);

/// Paths of the workspace.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The workspace root.
    pub root: PathBuf,
    /// Cargo's target directory.
    pub target: PathBuf,
}

impl Paths {
    /// The workspace this binary was built from.
    pub fn detect() -> Self {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("benchmarks/ has a parent")
            .to_owned();
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target"));
        Self { root, target }
    }
}

fn mtime(p: &Path) -> Option<SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

/// Where the guests run from: the directory that is their tree's root
/// (it holds `vupbench`), and the process kernel every VM boots.
#[derive(Debug, Clone)]
pub struct Programs {
    /// The root directory.
    pub dir: PathBuf,
    /// The process kernel image (`guest-kernel/build-image`).
    pub kernel: PathBuf,
}

/// Builds the guest program with `musl-gcc -static` if it is missing or
/// older than its source; returns where it is, or why there is none.
pub fn build_program(paths: &Paths) -> Result<Programs, String> {
    let kernel = paths.target.join("images/guest-kernel");
    let src = paths.root.join("benchmarks/guest/vupbench.c");
    let dir = paths.target.join("bench-programs");
    let program = dir.join(IMAGE);
    let built = Programs {
        dir: dir.clone(),
        kernel,
    };
    if mtime(&program).is_some_and(|m| Some(m) >= mtime(&src)) {
        return Ok(built);
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    eprintln!("building the guest program {} ...", program.display());
    let out = Command::new("musl-gcc")
        .args(["-static", "-O2", "-Wall", "-o"])
        .arg(&program)
        .arg(&src)
        .output()
        .map_err(|e| format!("no guests yet: cannot run musl-gcc (Debian's musl-tools): {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().last().unwrap_or("").to_owned();
        return Err(format!("no guests yet: musl-gcc failed: {last}"));
    }
    Ok(built)
}

/// The programs, and a process kernel to boot them on; or why not.
pub fn guests_ready(paths: &Paths) -> Result<Programs, String> {
    let p = build_program(paths)?;
    if !p.kernel.is_file() {
        return Err(format!(
            "no guests yet: {} is missing (sh guest-kernel/build-image)",
            p.kernel.display()
        ));
    }
    Ok(p)
}

/// A QEMU launcher that records when each VM was started.
#[derive(Debug)]
struct TimedLauncher {
    inner: QemuLauncher,
    starts: Mutex<Vec<(Pid, Instant)>>,
}

impl Launcher for TimedLauncher {
    fn launch(&self, spec: &LaunchSpec) -> Result<Arc<dyn Vm>, LaunchError> {
        let t = Instant::now();
        let vm = self.inner.launch(spec)?;
        self.starts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((spec.pid, t));
        Ok(vm)
    }
}

/// The QEMU to use and how.
#[derive(Debug, Clone)]
pub struct Qemu {
    launcher: QemuLauncher,
}

impl Qemu {
    /// Checks the QEMU on PATH.
    pub fn probe() -> Result<Self, String> {
        let bin = PathBuf::from("qemu-system-x86_64");
        let v = qemu::probe(&bin).map_err(|e| e.to_string())?;
        let launcher = QemuLauncher::new(bin, "tcg".into(), GUEST_MIB, qemu::machine_for(v))
            .map_err(|e| e.to_string())?;
        Ok(Self { launcher })
    }
}

fn host_call(sup: &Supervisor, req: Request, data: Vec<u8>, out: usize) -> Option<HostIoDone> {
    let (io, rx) = HostIo::boxed(data, out);
    sup.kernel().submit(HOST_PID, req, io);
    rx.recv().ok()
}

type HostIoDone = vhost_user_pipe::io::HostCompletion;

/// A process tree of guests with its root's stdout as timed lines.
pub struct GuestTree {
    sup: Arc<Supervisor>,
    launcher: Arc<TimedLauncher>,
    lines: mpsc::Receiver<(Instant, String)>,
    stderr: Arc<Mutex<Vec<u8>>>,
    run_dir: PathBuf,
}

impl std::fmt::Debug for GuestTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuestTree")
            .field("run_dir", &self.run_dir)
            .finish()
    }
}

fn unique_run_dir() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("vup-bench-{}-{n}", std::process::id()))
}

impl GuestTree {
    /// Boots `vupbench ARGS...` as the root of a new tree.
    pub fn start(qemu: &Qemu, programs: &Programs, args: &[String]) -> Result<Self, String> {
        Self::start_in(qemu, programs, &programs.dir, false, args)
    }

    /// Boots `vupbench ARGS...` as the root of a new tree whose root
    /// directory is `dir` (it must hold `vupbench`), writable or not.
    pub fn start_in(
        qemu: &Qemu,
        programs: &Programs,
        dir: &Path,
        writable: bool,
        args: &[String],
    ) -> Result<Self, String> {
        let run_dir = unique_run_dir();
        std::fs::create_dir_all(&run_dir).map_err(|e| e.to_string())?;
        let launcher = Arc::new(TimedLauncher {
            inner: qemu.launcher.clone(),
            starts: Mutex::new(Vec::new()),
        });
        let limits = Limits {
            max_processes: 1024,
            ..Limits::default()
        };
        let root = Root::open(dir)
            .map_err(|e| e.to_string())?
            .writable(writable);
        let sup = Supervisor::builder(limits, launcher.clone(), run_dir.clone())
            .root(Some(root))
            .kernel_image(Some(programs.kernel.clone()))
            .build();
        let argv = std::iter::once(IMAGE.to_string())
            .chain(args.iter().cloned())
            .map(String::into_bytes)
            .collect();
        // The host ends of the root's stdio exist once the root does: start
        // the readers after it (the QEMU takes tens of ms to say anything).
        sup.start_program(format!("/{IMAGE}").as_bytes(), argv, vec![])
            .map_err(|e| e.to_string())?;
        let (tx, lines) = mpsc::channel();
        let stderr = Arc::new(Mutex::new(Vec::new()));
        {
            let out = sup.clone();
            thread::spawn(move || pump_lines(&out, tx));
            let err_sup = sup.clone();
            let err = stderr.clone();
            thread::spawn(move || pump_err(&err_sup, &err));
        }
        Ok(Self {
            sup,
            launcher,
            lines,
            stderr,
            run_dir,
        })
    }

    /// The next stdout line and when its bytes arrived.
    pub fn line(&self, limit: Duration) -> Result<(Instant, String), String> {
        self.lines.recv_timeout(limit).map_err(|e| {
            let err = self.stderr.lock().unwrap_or_else(|e| e.into_inner());
            let what = match e {
                mpsc::RecvTimeoutError::Timeout => {
                    format!("no output in {:.0} s", limit.as_secs_f64())
                }
                mpsc::RecvTimeoutError::Disconnected => "its stdout closed".to_string(),
            };
            format!(
                "guest failed ({what}); its stderr: {:?}; logs in {}",
                String::from_utf8_lossy(&err).trim(),
                self.run_dir.display()
            )
        })
    }

    /// The next stdout line that starts with `tag`, without the tag.
    pub fn tagged(&self, tag: &str, limit: Duration) -> Result<String, String> {
        self.tagged_at(tag, limit).map(|(_, l)| l)
    }

    /// Like [`GuestTree::tagged`], with the line's arrival time.
    pub fn tagged_at(&self, tag: &str, limit: Duration) -> Result<(Instant, String), String> {
        let until = Instant::now() + limit;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            let (at, l) = self.line(left)?;
            if let Some(rest) = l.strip_prefix(tag) {
                return Ok((at, rest.trim().to_owned()));
            }
        }
    }

    /// Writes to the root's stdin.
    pub fn stdin(&self, data: &[u8]) {
        let req = Request::Write {
            fd: 0,
            len: data.len() as u32,
            nonblock: false,
        };
        host_call(&self.sup, req, data.to_vec(), 0);
    }

    /// When the VM of `pid` was started.
    pub fn started(&self, pid: Pid) -> Option<Instant> {
        let starts = self
            .launcher
            .starts
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        starts.iter().find(|(p, _)| *p == pid).map(|(_, t)| *t)
    }

    /// Waits for the root to exit.
    pub fn wait(&self, limit: Duration) -> Option<u32> {
        self.sup.wait_tree(Some(Instant::now() + limit))
    }

    /// Host pids of this tree's QEMUs (their command lines name the run directory).
    pub fn qemu_pids(&self) -> Vec<u32> {
        let needle = self.run_dir.to_string_lossy().into_owned();
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        dir.flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&needle))
            })
            .collect()
    }
}

impl Drop for GuestTree {
    fn drop(&mut self) {
        self.sup.shutdown();
        let _ = std::fs::remove_dir_all(&self.run_dir);
    }
}

fn pump_lines(sup: &Supervisor, tx: mpsc::Sender<(Instant, String)>) {
    let mut pending = Vec::new();
    loop {
        let req = Request::Read {
            fd: 1,
            len: 64 * 1024,
            nonblock: false,
        };
        let Some(c) = host_call(sup, req, Vec::new(), 64 * 1024) else {
            return;
        };
        if c.resp.result().is_err() || c.data.is_empty() {
            return;
        }
        let at = Instant::now();
        pending.extend_from_slice(&c.data);
        while let Some(i) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=i).collect();
            let line = String::from_utf8_lossy(&line[..i]).into_owned();
            if tx.send((at, line)).is_err() {
                return;
            }
        }
    }
}

fn pump_err(sup: &Supervisor, sink: &Mutex<Vec<u8>>) {
    loop {
        let req = Request::Read {
            fd: 2,
            len: 4096,
            nonblock: false,
        };
        let Some(c) = host_call(sup, req, Vec::new(), 4096) else {
            return;
        };
        if c.resp.result().is_err() || c.data.is_empty() {
            return;
        }
        eprint!("guest: {}", String::from_utf8_lossy(&c.data));
        sink.lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(&c.data);
    }
}

fn numbers(text: &str) -> Vec<f64> {
    text.split_whitespace()
        .filter_map(|w| w.parse::<f64>().ok())
        .collect()
}

/// What the guest rows need: the programs and QEMU, or why not.
pub type Ready = Result<(Programs, Qemu), String>;

/// Guest pipe rows: round trip and throughput between two guests.
pub fn pipe_rows(plan: &Plan, ready: &Ready) -> Vec<Row> {
    let missing = |why: &str| {
        let mut rows = vec![Row::missing(
            "pipe",
            names::RTT,
            Way::Guest,
            Unit::Nanos,
            why,
        )];
        for t in &plan.transfers {
            rows.push(Row::missing(
                "pipe",
                names::throughput(t.size),
                Way::Guest,
                Unit::Throughput {
                    bytes: t.guest_total,
                },
                why,
            ));
        }
        rows
    };
    let (programs, qemu) = match ready {
        Ok(r) => r,
        Err(why) => return missing(why),
    };
    let mut args = vec![
        "pingpong".to_string(),
        plan.guest_rtt_iters.to_string(),
        plan.tput_samples.to_string(),
    ];
    args.extend(
        plan.transfers
            .iter()
            .map(|t| format!("{}:{}", t.size, t.guest_total)),
    );
    let run = || -> Result<Vec<Row>, String> {
        let tree = GuestTree::start(qemu, programs, &args)?;
        let (host0, guest0) = tree.tagged_at("clock", RUN_LIMIT)?;
        let rtt = numbers(&tree.tagged("rtt_ns", RUN_LIMIT)?);
        let mut rows = vec![Row::measured(
            "pipe",
            names::RTT,
            Way::Guest,
            Unit::Nanos,
            &rtt,
            format!("{} round trips", rtt.len()),
        )
        .with_note("guest clock")];
        for t in &plan.transfers {
            let v = numbers(&tree.tagged("tput", RUN_LIMIT)?);
            let (size, total) = (v[0] as usize, v[1] as u64);
            rows.push(
                Row::measured(
                    "pipe",
                    names::throughput(size),
                    Way::Guest,
                    Unit::Throughput { bytes: total },
                    &v[2..],
                    format!(
                        "{} × {} writes of {}",
                        v.len() - 2,
                        total / size as u64,
                        t.label()
                    ),
                )
                .with_note("guest clock"),
            );
        }
        let (host1, guest1) = tree.tagged_at("clock", RUN_LIMIT)?;
        tree.wait(RUN_LIMIT);
        // The guest clock against the host's over the whole run.
        let guest_s = (numbers(&guest1).first().copied().unwrap_or(0.0)
            - numbers(&guest0).first().copied().unwrap_or(0.0))
            / 1e9;
        let host_s = (host1 - host0).as_secs_f64();
        let note = format!(
            "guest clock ({:.3} s guest / {:.3} s host)",
            guest_s, host_s
        );
        for r in &mut rows {
            r.note.clone_from(&note);
        }
        Ok(rows)
    };
    run().unwrap_or_else(|e| missing(&format!("guest run failed: {e}")))
}

/// `A:B:C` words of a sample line as triples.
pub fn triples(text: &str) -> Vec<[f64; 3]> {
    text.split_whitespace()
        .filter_map(|w| {
            let v: Vec<f64> = w.split(':').filter_map(|x| x.parse().ok()).collect();
            (v.len() == 3).then(|| [v[0], v[1], v[2]])
        })
        .collect()
}

/// Guest spawn, fork and cold boot rows.
pub fn process_rows(plan: &Plan, ready: &Ready) -> Vec<Row> {
    let all = [
        names::SPAWN_RETURNS,
        names::SPAWN_RUNS,
        names::SPAWN_TOTAL,
        names::EXEC,
        names::FORK_RETURNS,
        names::FORK_TOTAL,
        names::COLD_BOOT,
        COLD_BOOT_GUEST,
    ];
    let (programs, qemu) = match ready {
        Ok(r) => r,
        Err(why) => {
            return all
                .iter()
                .map(|n| Row::missing("process", *n, Way::Guest, Unit::Nanos, why.clone()))
                .collect()
        }
    };
    let mut rows = Vec::new();
    let series = |tag: &str, count: usize| -> Result<String, String> {
        let tree = GuestTree::start(qemu, programs, &[tag.to_string(), count.to_string()])?;
        let out = tree.tagged(&format!("{tag}_ns"), RUN_LIMIT)?;
        tree.wait(RUN_LIMIT);
        Ok(out)
    };
    let spawn_names = [names::SPAWN_RETURNS, names::SPAWN_RUNS, names::SPAWN_TOTAL];
    match series("spawn", plan.guest_spawns) {
        Ok(text) => {
            let t = triples(&text);
            let notes = [
                "guest clock",
                "guest clock; until the child's first write reaches the parent (one pipe hop)",
                "guest clock",
            ];
            for (i, name) in spawn_names.iter().enumerate() {
                let s: Vec<f64> = t.iter().map(|x| x[i]).collect();
                rows.push(
                    Row::measured(
                        "process",
                        *name,
                        Way::Guest,
                        Unit::Nanos,
                        &s,
                        format!("{} spawns", s.len()),
                    )
                    .with_note(notes[i]),
                );
            }
        }
        Err(e) => {
            for name in spawn_names {
                rows.push(Row::missing(
                    "process",
                    name,
                    Way::Guest,
                    Unit::Nanos,
                    e.clone(),
                ));
            }
        }
    }
    match series("exec", plan.guest_spawns.clamp(1, 64)) {
        Ok(text) => {
            let s: Vec<f64> = text
                .split_whitespace()
                .filter_map(|w| w.parse().ok())
                .collect();
            rows.push(
                Row::measured(
                    "process",
                    names::EXEC,
                    Way::Guest,
                    Unit::Nanos,
                    &s,
                    format!("{} execs", s.len()),
                )
                .with_note(
                    "guest clock; the kernel loads the program from the root through the device",
                ),
            );
        }
        Err(e) => rows.push(Row::missing(
            "process",
            names::EXEC,
            Way::Guest,
            Unit::Nanos,
            e,
        )),
    }
    let fork_names = [names::FORK_RETURNS, names::FORK_TOTAL];
    match series("fork", plan.guest_spawns) {
        Ok(text) if text.starts_with("enosys") => {
            for name in fork_names {
                rows.push(Row::missing(
                    "process",
                    name,
                    Way::Guest,
                    Unit::Nanos,
                    "fork() is ENOSYS in the guest yet (the daemon side exists; the guest side is a later issue)",
                ));
            }
        }
        Ok(text) => {
            let t = triples(&text);
            for (i, name) in [(0, fork_names[0]), (2, fork_names[1])] {
                let s: Vec<f64> = t.iter().map(|x| x[i]).collect();
                rows.push(
                    Row::measured(
                        "process",
                        name,
                        Way::Guest,
                        Unit::Nanos,
                        &s,
                        format!("{} forks", s.len()),
                    )
                    .with_note("guest clock"),
                );
            }
        }
        Err(e) => {
            for name in fork_names {
                rows.push(Row::missing(
                    "process",
                    name,
                    Way::Guest,
                    Unit::Nanos,
                    e.clone(),
                ));
            }
        }
    }
    rows.extend(cold_boot_rows(plan, programs, qemu));
    rows
}

/// Guest-measured part of the cold boot.
pub const COLD_BOOT_GUEST: &str = "cold boot: first guest instruction -> main";

fn cold_boot_rows(plan: &Plan, programs: &Programs, qemu: &Qemu) -> Vec<Row> {
    let mut total = Vec::new();
    let mut guest = Vec::new();
    let mut err = None;
    for _ in 0..plan.cold_boots {
        let r = (|| -> Result<(f64, f64), String> {
            let tree = GuestTree::start(qemu, programs, &["hello".to_string()])?;
            let (at, line) = tree.line(RUN_LIMIT)?;
            let start = tree.started(1).ok_or("the root was not launched")?;
            let ns: f64 = line
                .trim_start_matches('!')
                .trim()
                .parse()
                .map_err(|_| format!("unexpected output {line:?}"))?;
            tree.wait(RUN_LIMIT);
            Ok(((at - start).as_nanos() as f64, ns))
        })();
        match r {
            Ok((t, g)) => {
                total.push(t);
                guest.push(g);
            }
            Err(e) => {
                err = Some(e);
                break;
            }
        }
    }
    if let Some(e) = err {
        return vec![
            Row::missing(
                "process",
                names::COLD_BOOT,
                Way::Guest,
                Unit::Nanos,
                e.clone(),
            ),
            Row::missing("process", COLD_BOOT_GUEST, Way::Guest, Unit::Nanos, e),
        ];
    }
    let n = format!("{} boots", total.len());
    vec![
        Row::measured(
            "process",
            names::COLD_BOOT,
            Way::Guest,
            Unit::Nanos,
            &total,
            n.clone(),
        )
        .with_note("host clock: QEMU spawned -> root's first write reaches the daemon's host end"),
        Row::measured(
            "process",
            COLD_BOOT_GUEST,
            Way::Guest,
            Unit::Nanos,
            &guest,
            n,
        )
        .with_note("guest clock (TSC since the PVH entry)"),
    ]
}
