//! Density of real trees: one `vhost-user-pipe run` (the daemon binary,
//! [`crate::daemon`]) whose root, `vupbench density`, grows on command to
//! each size of `plan.density_qemu` (up to 256 processes), started through
//! the pool (`--pool N`) with small VMs (`--memory`), every child blocked
//! reading a pipe. At each size: RSS and PSS of each QEMU, the daemon's
//! memory and everything's as a share per process, idle CPU,
//! the time the growth took; or the first limit hit and why.

use std::thread;
use std::time::{Duration, Instant};

use crate::daemon::{Daemon, Pool, RunTree, TreeOptions};
use crate::guest::Programs;
use crate::plan::Plan;
use crate::pool::tree_cost;

/// Longest one growth step may take.
const STEP_LIMIT: Duration = Duration::from_secs(300);

/// How the tree runs.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// The pool.
    pub pool: Pool,
    /// `--memory`, MiB.
    pub memory_mib: u32,
}

/// One size of the tree.
#[derive(Debug, Clone)]
pub struct Step {
    /// The size asked for, root included.
    pub wanted: usize,
    /// Processes reached, root included.
    pub n: usize,
    /// The first limit hit on the way (the spawn's error and the daemon's
    /// last words), if any.
    pub limit: Option<String>,
    /// How long the growth from the previous size took.
    pub grow: Duration,
    /// VmRSS of each QEMU (the processes' and the parked VMs': a VM taken
    /// from the pool cannot be told from a parked one by its command line),
    /// KiB.
    pub rss_kib: Vec<f64>,
    /// Pss of each QEMU, KiB.
    pub pss_kib: Vec<f64>,
    /// CPU of each QEMU over the idle window, % of a core.
    pub idle_cpu_pct: Vec<f64>,
    /// The daemon's VmRSS and Pss, KiB, and its CPU over the window.
    pub daemon: (f64, f64, f64),
    /// QEMUs beyond the tree's processes: the parked VMs.
    pub parked: usize,
    /// Everything (QEMUs, parked VMs, daemon): Pss / processes, KiB.
    pub total_pss_per_process_kib: f64,
    /// Everything: CPU / processes over the window, % of a core.
    pub total_cpu_per_process_pct: f64,
}

/// Grows one tree through `plan.density_qemu`; stops at the first limit.
pub fn run(
    plan: &Plan,
    daemon: &Daemon,
    programs: &Programs,
    opts: Options,
) -> Result<Vec<Step>, String> {
    if matches!(opts.pool, Pool::On(_)) && !daemon.has_pool {
        return Err(format!(
            "skipped: {} has no --pool option (the pool has not landed on this branch)",
            daemon.bin.display()
        ));
    }
    let biggest = plan.density_qemu.iter().copied().max().unwrap_or(1);
    let tree_opts = TreeOptions {
        pool: opts.pool,
        memory_mib: opts.memory_mib,
        max_processes: biggest + 16,
    };
    let mut tree = RunTree::start(daemon, programs, &tree_opts, &["density".to_string()])?;
    let mut steps = Vec::new();
    for &wanted in &plan.density_qemu {
        eprintln!("  density: growing to {wanted}");
        let t0 = Instant::now();
        tree.stdin(format!("{}\n", wanted - 1).as_bytes())?;
        let (tag, rest) = tree.tagged_any(&["ready", "limit"], STEP_LIMIT)?;
        let grow = t0.elapsed();
        let mut words = rest.splitn(2, ' ');
        let children: usize = words
            .next()
            .and_then(|w| w.parse().ok())
            .ok_or_else(|| format!("density: unexpected line {tag} {rest}"))?;
        let limit = (tag == "limit").then(|| {
            format!(
                "spawn failed at {} processes: {}; daemon: {}",
                children + 1,
                words.next().unwrap_or(""),
                tree.stderr_tail()
            )
        });
        // The last children are blocked in read() once they said ready; let
        // the pool refill and settle before the window.
        thread::sleep(Duration::from_millis(1000));
        let c = tree_cost(&tree, Duration::from_secs_f64(plan.idle_window_s));
        let n = children + 1;
        let (rss_kib, (pss_kib, idle_cpu_pct)) =
            c.per_qemu.iter().map(|&(r, p, u)| (r, (p, u))).unzip();
        steps.push(Step {
            wanted,
            n,
            limit: limit.clone(),
            grow,
            rss_kib,
            pss_kib,
            idle_cpu_pct,
            daemon: (c.daemon_rss_kib, c.daemon_pss_kib, c.daemon_cpu_pct),
            parked: c.qemus.saturating_sub(n),
            total_pss_per_process_kib: c.pss_kib / n as f64,
            total_cpu_per_process_pct: c.cpu_pct / n as f64,
        });
        if limit.is_some() {
            break;
        }
    }
    let _ = tree.stdin(b"q\n");
    tree.finish(Duration::from_secs(120));
    Ok(steps)
}
