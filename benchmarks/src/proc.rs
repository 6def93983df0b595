//! Reading `/proc`: memory and CPU time of a process, and the machine.

use std::path::Path;

fn status_field_kib(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status_value(&text, field)
}

fn status_value(text: &str, field: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// `VmRSS` of `pid`, in KiB.
pub fn vm_rss_kib(pid: u32) -> Option<u64> {
    status_field_kib(pid, "VmRSS")
}

/// `Pss` of `pid` from `smaps_rollup`, in KiB (shared pages split among their users).
pub fn pss_kib(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    status_value(&text, "Pss")
}

pub use system_tests::qemu::cpu_seconds;

/// CPU time of `pid`'s live threads in seconds: the sum of the first field
/// (time on a CPU, ns) of `/proc/PID/task/*/schedstat`. Exact, where
/// [`cpu_seconds`] counts 10 ms ticks; a thread that ends takes its time
/// with it. `None` when the process is gone or schedstat is not there.
pub fn run_seconds(pid: u32) -> Option<f64> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut ns: u64 = 0;
    let mut any = false;
    for t in tasks.flatten() {
        let Ok(text) = std::fs::read_to_string(t.path().join("schedstat")) else {
            continue;
        };
        if let Some(v) = text
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<u64>().ok())
        {
            ns += v;
            any = true;
        }
    }
    any.then(|| ns as f64 / 1e9)
}

/// What a set of processes costs: RSS and PSS of each (KiB), and the CPU
/// each used (% of a core) over an idle window of `window`.
#[derive(Debug, Default)]
pub struct Footprint {
    /// VmRSS per process.
    pub rss_kib: Vec<f64>,
    /// Pss per process.
    pub pss_kib: Vec<f64>,
    /// utime + stime over the window, per process.
    pub idle_cpu_pct: Vec<f64>,
}

/// Samples the [`Footprint`] of `pids`, sleeping `window` to measure CPU.
pub fn footprint(pids: &[u32], window: std::time::Duration) -> Footprint {
    let rss_kib = pids
        .iter()
        .filter_map(|&p| vm_rss_kib(p))
        .map(|k| k as f64)
        .collect();
    let pss_kib = pids
        .iter()
        .filter_map(|&p| pss_kib(p))
        .map(|k| k as f64)
        .collect();
    let before: Vec<Option<f64>> = pids.iter().map(|&p| cpu_seconds(p)).collect();
    let w0 = std::time::Instant::now();
    std::thread::sleep(window);
    let secs = w0.elapsed().as_secs_f64();
    let idle_cpu_pct = pids
        .iter()
        .zip(before)
        .filter_map(|(&p, b)| Some((cpu_seconds(p)? - b?) / secs * 100.0))
        .collect();
    Footprint {
        rss_kib,
        pss_kib,
        idle_cpu_pct,
    }
}

/// Where the two ends of a pipe benchmark run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Wherever the scheduler puts them. On this nested VM the result is
    /// bimodal: a wakeup on the same CPU costs ~2 µs, one across CPUs
    /// ~20 µs, and which one a run gets is chance.
    Free,
    /// Everything on CPU 0: both ends, and for the backend the daemon's
    /// threads too. No cross-CPU wakeups.
    OneCpu,
    /// The first end on CPU 0, the second on CPU 1; the backend's daemon
    /// threads go where the scheduler puts them (the daemon never pins).
    TwoCpus,
}

impl Placement {
    /// Every placement, in report order.
    pub const ALL: [Placement; 3] = [Placement::Free, Placement::OneCpu, Placement::TwoCpus];

    /// What row names get appended: "", ", one CPU", ", two CPUs".
    pub fn suffix(self) -> &'static str {
        match self {
            Placement::Free => "",
            Placement::OneCpu => ", one CPU",
            Placement::TwoCpus => ", two CPUs",
        }
    }

    /// Why this placement cannot be set up here, if it cannot.
    pub fn unavailable(self) -> Option<String> {
        let needed: &[usize] = match self {
            Placement::Free => &[],
            Placement::OneCpu => &[0],
            Placement::TwoCpus => &[0, 1],
        };
        let cpus = allowed_cpus().unwrap_or_default();
        (!needed.iter().all(|c| cpus.contains(c)))
            .then(|| format!("needs CPUs {needed:?}; allowed here: {cpus:?}"))
    }
}

/// The CPUs this thread may run on; `None` if the mask cannot be read.
fn allowed_cpus() -> Option<Vec<usize>> {
    // SAFETY: cpu_set_t is plain data; all-zero is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    let size = std::mem::size_of::<libc::cpu_set_t>();
    // SAFETY: `set` is a valid cpu_set_t of `size` bytes; pid 0 is this thread.
    if unsafe { libc::sched_getaffinity(0, size, &mut set) } != 0 {
        return None;
    }
    Some(
        (0..libc::CPU_SETSIZE as usize)
            // SAFETY: `i` is within the set's capacity.
            .filter(|&i| unsafe { libc::CPU_ISSET(i, &set) })
            .collect(),
    )
}

/// Pins thread or process `tid` (0: the calling thread) to `cpu`; threads
/// and processes it creates afterwards inherit the pin.
pub fn pin(tid: libc::pid_t, cpu: usize) -> bool {
    // SAFETY: cpu_set_t is plain data; all-zero is the empty set.
    let mut one: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: callers pass CPUs below CPU_SETSIZE (0 or 1).
    unsafe { libc::CPU_SET(cpu, &mut one) };
    let size = std::mem::size_of::<libc::cpu_set_t>();
    // SAFETY: `one` is a valid cpu_set_t of `size` bytes.
    unsafe { libc::sched_setaffinity(tid, size, &one) == 0 }
}

/// Pins the calling thread (and the threads and processes it creates
/// afterwards) to one CPU until the guard drops.
#[derive(Debug)]
pub struct Pinned {
    old: libc::cpu_set_t,
}

impl Pinned {
    /// Pins to `cpu`, or `None` if the affinity cannot be read or set.
    pub fn to(cpu: usize) -> Option<Self> {
        // SAFETY: cpu_set_t is plain data; all-zero is the empty set.
        let mut old: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        let size = std::mem::size_of::<libc::cpu_set_t>();
        // SAFETY: `old` is a valid cpu_set_t of `size` bytes; pid 0 is this thread.
        if unsafe { libc::sched_getaffinity(0, size, &mut old) } != 0 {
            return None;
        }
        pin(0, cpu).then_some(Self { old })
    }
}

impl Drop for Pinned {
    fn drop(&mut self) {
        let size = std::mem::size_of::<libc::cpu_set_t>();
        // SAFETY: `old` is the valid set read in `to`.
        unsafe { libc::sched_setaffinity(0, size, &self.old) };
    }
}

/// The machine the numbers were taken on.
#[derive(Debug, Clone)]
pub struct Setup {
    /// CPU model from /proc/cpuinfo.
    pub cpu: String,
    /// Online cores.
    pub cores: usize,
    /// Kernel release.
    pub kernel: String,
    /// QEMU's version line, or why there is none.
    pub qemu: String,
    /// The accelerator the guests ran under.
    pub accel: String,
    /// Load average when the run started.
    pub load_start: String,
    /// Total memory.
    pub mem_total_mib: u64,
    /// The commit measured.
    pub commit: String,
}

fn first_line(path: &str) -> String {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| t.lines().next().map(str::to_owned))
        .unwrap_or_default()
}

impl Setup {
    /// Reads the machine's description.
    pub fn probe(qemu_bin: &Path) -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_else(|| "unknown".into());
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let qemu = std::process::Command::new(qemu_bin)
            .arg("--version")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|t| t.lines().next().map(str::to_owned))
            .unwrap_or_else(|| format!("{} not found", qemu_bin.display()));
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let commit = std::process::Command::new("git")
            .args(["rev-parse", "--short", "HEAD"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|s| s.trim().to_owned())
            .unwrap_or_default();
        Self {
            cpu,
            cores,
            kernel: first_line("/proc/sys/kernel/osrelease"),
            qemu,
            accel: "tcg".into(),
            load_start: first_line("/proc/loadavg"),
            mem_total_mib: status_value(&meminfo, "MemTotal").unwrap_or(0) / 1024,
            commit,
        }
    }
}
