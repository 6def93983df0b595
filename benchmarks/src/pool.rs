//! Issue 16's rows: how fast a process starts with the pool of parked VMs
//! off (`run --pool 0`) and on (`run --pool N`), the same daemon binary
//! with an option ([`crate::daemon`]), next to the same C program
//! (`vupbench`) run natively; and what the pool costs at idle.
//!
//! "Child runs user code" is when the child's first write reaches the
//! parent through a pipe, on the parent's clock: each VM's clock starts at
//! its own boot (a parked VM booted long before it became the child), so
//! the child's own stamp cannot be compared with the parent's. The host
//! rows pay the same pipe hop. Guest samples sleep `pause` between them so
//! that the pool refills (in the background) before the next; the burst
//! runs once with the pause and once back to back.

use std::time::Duration;

use crate::daemon::{Daemon, Pool, RunTree, TreeOptions};
use crate::guest::{triples, Programs};
use crate::plan::Plan;
use crate::proc;
use crate::stats::{Row, Unit, Way};

/// The group of these rows (`--only pool`; also run with `process`).
pub const GROUP: &str = "pool";
/// posix_spawn until the child's first write reaches the parent.
pub const SPAWN_RUNS: &str = "posix_spawn -> child runs user code";
/// posix_spawn until it returns in the parent.
pub const SPAWN_RETURNS: &str = "posix_spawn: call returns in the parent";
/// vfork() until it returns in the parent (after the child's execve).
pub const VFORK_RETURNS: &str = "vfork+exec: call returns in the parent";
/// vfork() + execve in the child until its first write reaches the parent.
pub const VFORK_RUNS: &str = "vfork+exec -> child runs user code";
/// fork() until the child's first write reaches the parent.
pub const FORK_RUNS: &str = "fork -> child runs";
/// fork() until it returns in the parent.
pub const FORK_RETURNS: &str = "fork: call returns in the parent";
/// The burst, with the pause between samples.
pub const BURST: &str = "burst: 16-stage pipeline, byte through all stages";
/// The burst, samples back to back.
pub const BURST_NO_PAUSE: &str = "burst: 16-stage pipeline, back to back";
/// RSS of an idle tree: the daemon and every QEMU.
pub const IDLE_RSS: &str = "idle tree: daemon + QEMUs RSS";
/// PSS of an idle tree.
pub const IDLE_PSS: &str = "idle tree: daemon + QEMUs PSS";
/// CPU of an idle tree.
pub const IDLE_CPU: &str = "idle tree: daemon + QEMUs CPU";

/// Stages of the burst.
const STAGES: usize = 16;
/// Longest any one run may take.
const RUN_LIMIT: Duration = Duration::from_secs(300);

/// What the pool rows need: the programs, the daemon binary, the pool size
/// to compare with the pool off, and the pauses between guest samples.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The guest program and kernel.
    pub programs: Programs,
    /// The daemon binary.
    pub daemon: Daemon,
    /// N of `--pool N`.
    pub pool: usize,
    /// Pause between single-process samples, ms.
    pub pause_ms: u64,
    /// Pause between burst samples, ms.
    pub burst_pause_ms: u64,
}

/// One benchmark mode of `vupbench` and how its samples become rows.
struct Mode {
    /// `vupbench` mode.
    arg: &'static str,
    /// The output tag (`<tag>_ns`).
    tag: &'static str,
    /// (index into each sample's triple, row name).
    rows: &'static [(usize, &'static str)],
}

const MODES: [Mode; 3] = [
    Mode {
        arg: "spawn",
        tag: "spawn",
        rows: &[(1, SPAWN_RUNS), (0, SPAWN_RETURNS)],
    },
    Mode {
        arg: "vfork",
        tag: "vfork",
        rows: &[(1, VFORK_RUNS), (0, VFORK_RETURNS)],
    },
    Mode {
        arg: "fork",
        tag: "fork",
        rows: &[(1, FORK_RUNS), (0, FORK_RETURNS)],
    },
];

fn every_name() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = MODES
        .iter()
        .flat_map(|m| m.rows.iter().map(|(_, n)| *n))
        .collect();
    v.extend([BURST, BURST_NO_PAUSE]);
    v
}

/// The row name of a guest figure: "NAME, pool off" / "NAME, pool 4".
pub fn guest_name(name: &str, pool: Pool) -> String {
    format!("{name}, {}", pool.label())
}

fn guest_row(name: &str, pool: Pool, samples: &[f64], what: &str) -> Row {
    Row::measured(
        GROUP,
        guest_name(name, pool),
        Way::Guest,
        Unit::Nanos,
        samples,
        format!("{} {what}", samples.len()),
    )
    .compared_with(name)
}

fn missing(name: &str, pool: Pool, why: &str) -> Row {
    Row::missing(GROUP, guest_name(name, pool), Way::Guest, Unit::Nanos, why).compared_with(name)
}

/// Every pool row: host, pool off, pool on for each benchmark, then the
/// idle costs. `programs` is what the host rows run, `ready` the guest
/// setup; each is `Err` with the reason it is missing.
pub fn rows(
    plan: &Plan,
    programs: Result<&Programs, String>,
    ready: Result<&Setup, String>,
    host: bool,
    guests: bool,
) -> Vec<Row> {
    let mut out = Vec::new();
    let host_rows = if host {
        host_rows(plan, programs)
    } else {
        Vec::new()
    };
    let pools = |s: &Setup| [Pool::Off, Pool::On(s.pool)];
    let mut guest_rows: Vec<Row> = Vec::new();
    if guests {
        match &ready {
            Ok(s) => {
                for pool in pools(s) {
                    guest_rows.extend(guest_latency_rows(plan, s, pool));
                }
                // The burst once more with a pool as big as the burst.
                if s.pool < STAGES {
                    guest_rows.extend(burst_rows(plan, s, Pool::On(STAGES), true));
                }
            }
            Err(why) => {
                for name in every_name() {
                    guest_rows.push(missing(name, Pool::Off, why));
                    guest_rows.push(
                        Row::missing(
                            GROUP,
                            format!("{name}, pool on"),
                            Way::Guest,
                            Unit::Nanos,
                            why,
                        )
                        .compared_with(name),
                    );
                }
            }
        }
    }
    // Each benchmark: host, then its guest rows in the order measured.
    for name in every_name() {
        out.extend(host_rows.iter().filter(|r| r.name == name).cloned());
        out.extend(
            guest_rows
                .iter()
                .filter(|r| r.vs.as_deref() == Some(name))
                .cloned(),
        );
    }
    if guests {
        if let Ok(s) = &ready {
            for pool in pools(s) {
                out.extend(idle_rows(plan, s, pool));
            }
        }
    }
    out
}

fn skip_reason(s: &Setup, pool: Pool) -> Option<String> {
    (matches!(pool, Pool::On(_)) && !s.daemon.has_pool).then(|| {
        format!(
            "skipped: {} has no --pool option (the pool has not landed on this branch)",
            s.daemon.bin.display()
        )
    })
}

fn options(pool: Pool) -> TreeOptions {
    TreeOptions {
        pool,
        max_processes: 64,
        ..TreeOptions::default()
    }
}

fn series(s: &Setup, pool: Pool, args: &[String], tag: &str) -> Result<Vec<[f64; 3]>, String> {
    let tree = RunTree::start(&s.daemon, &s.programs, &options(pool), args)?;
    let out = tree.tagged(&format!("{tag}_ns"), RUN_LIMIT)?;
    if out.starts_with("enosys") {
        return Err("fork() is ENOSYS in the guest".into());
    }
    tree.finish(Duration::from_secs(30));
    let t = triples(&out);
    if t.is_empty() {
        return Err(format!("no samples in {out:?}"));
    }
    Ok(t)
}

fn guest_latency_rows(plan: &Plan, s: &Setup, pool: Pool) -> Vec<Row> {
    let mut rows = Vec::new();
    if let Some(why) = skip_reason(s, pool) {
        for name in every_name() {
            rows.push(missing(name, pool, &why));
        }
        return rows;
    }
    let pause = format!("{} ms pause between samples (pool refill)", s.pause_ms);
    for m in &MODES {
        let args = [
            m.arg.to_string(),
            plan.guest_spawns.to_string(),
            s.pause_ms.to_string(),
        ];
        eprintln!("  {} {}", m.arg, pool.label());
        match series(s, pool, &args, m.tag) {
            Ok(t) => {
                for (i, name) in m.rows {
                    let v: Vec<f64> = t.iter().map(|x| x[*i]).collect();
                    rows.push(guest_row(name, pool, &v, "samples").with_note(format!(
                        "guest clock (the parent's); {pause}{}",
                        if *i == 1 {
                            "; includes one pipe hop to the parent"
                        } else {
                            ""
                        }
                    )));
                }
            }
            Err(e) => {
                for (_, name) in m.rows {
                    rows.push(missing(name, pool, &e));
                }
            }
        }
    }
    rows.extend(burst_rows(plan, s, pool, true));
    rows.extend(burst_rows(plan, s, pool, false));
    rows
}

fn burst_rows(plan: &Plan, s: &Setup, pool: Pool, paused: bool) -> Vec<Row> {
    let name = if paused { BURST } else { BURST_NO_PAUSE };
    if let Some(why) = skip_reason(s, pool) {
        return vec![missing(name, pool, &why)];
    }
    let pause_ms = if paused { s.burst_pause_ms } else { 0 };
    let count = burst_samples(plan);
    let args = [
        "pipeline".to_string(),
        STAGES.to_string(),
        count.to_string(),
        pause_ms.to_string(),
    ];
    eprintln!(
        "  burst {} {}",
        pool.label(),
        if paused { "paused" } else { "back to back" }
    );
    match series(s, pool, &args, "pipeline") {
        Ok(t) => {
            let through: Vec<f64> = t.iter().map(|x| x[1]).collect();
            let spawned = crate::stats::Summary::of(&t.iter().map(|x| x[0]).collect::<Vec<_>>())
                .map_or(0.0, |s| s.median / 1e3);
            let when = if paused {
                format!("{pause_ms} ms pause between samples (pool refill)")
            } else {
                "no pause: the pool has not refilled".into()
            };
            vec![guest_row(name, pool, &through, "bursts").with_note(format!(
                "guest clock; {when}; the {STAGES} spawns return after {spawned:.0} µs (median)"
            ))]
        }
        Err(e) => vec![missing(name, pool, &e)],
    }
}

fn burst_samples(plan: &Plan) -> usize {
    (plan.guest_spawns / 3).max(3)
}

/// The same program natively, in its directory.
fn host_series(programs: &Programs, args: &[String], tag: &str) -> Result<Vec<[f64; 3]>, String> {
    let out = std::process::Command::new(programs.dir.join(crate::guest::IMAGE))
        .args(args)
        .current_dir(&programs.dir)
        .output()
        .map_err(|e| format!("cannot run vupbench: {e}"))?;
    if !out.status.success() {
        return Err(format!("vupbench {args:?}: {}", out.status));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let t = triples(
        text.trim()
            .strip_prefix(&format!("{tag}_ns"))
            .unwrap_or_default(),
    );
    if t.is_empty() {
        return Err(format!("no samples from vupbench {args:?}"));
    }
    Ok(t)
}

fn host_rows(plan: &Plan, programs: Result<&Programs, String>) -> Vec<Row> {
    let programs = match programs {
        Ok(p) => p,
        Err(why) => {
            return every_name()
                .into_iter()
                .map(|n| Row::missing(GROUP, n, Way::Host, Unit::Nanos, why.clone()))
                .collect()
        }
    };
    let n = plan.process_iters_host.min(10_000);
    let note = "vupbench natively, no pause; includes one pipe hop";
    let mut rows = Vec::new();
    for m in &MODES {
        let args = [m.arg.to_string(), n.to_string(), "0".into()];
        match host_series(programs, &args, m.tag) {
            Ok(t) => {
                for (i, name) in m.rows {
                    let v: Vec<f64> = t.iter().map(|x| x[*i]).collect();
                    rows.push(
                        Row::measured(
                            GROUP,
                            *name,
                            Way::Host,
                            Unit::Nanos,
                            &v,
                            format!("{} samples", v.len()),
                        )
                        .with_note(note),
                    );
                }
            }
            Err(e) => {
                for (_, name) in m.rows {
                    rows.push(Row::missing(
                        GROUP,
                        *name,
                        Way::Host,
                        Unit::Nanos,
                        e.clone(),
                    ));
                }
            }
        }
    }
    let bursts = (n / 10).max(10);
    let args = [
        "pipeline".to_string(),
        STAGES.to_string(),
        bursts.to_string(),
        "0".into(),
    ];
    let burst = host_series(programs, &args, "pipeline");
    for name in [BURST, BURST_NO_PAUSE] {
        match &burst {
            Ok(t) => {
                let v: Vec<f64> = t.iter().map(|x| x[1]).collect();
                rows.push(
                    Row::measured(
                        GROUP,
                        name,
                        Way::Host,
                        Unit::Nanos,
                        &v,
                        format!("{} bursts", v.len()),
                    )
                    .with_note("vupbench natively: 16 `vupbench cat` spawned back to back"),
                );
            }
            Err(e) => rows.push(Row::missing(GROUP, name, Way::Host, Unit::Nanos, e.clone())),
        }
    }
    rows
}

/// What a tree's host processes cost: the daemon and every QEMU.
#[derive(Debug, Clone, Default)]
pub struct TreeCost {
    /// QEMUs: the processes' and the parked VMs'.
    pub qemus: usize,
    /// Sum of VmRSS, KiB.
    pub rss_kib: f64,
    /// Sum of Pss, KiB.
    pub pss_kib: f64,
    /// Sum of CPU time over the window, percent of a core.
    pub cpu_pct: f64,
    /// The daemon's own VmRSS, KiB.
    pub daemon_rss_kib: f64,
    /// The daemon's own Pss, KiB.
    pub daemon_pss_kib: f64,
    /// The daemon's CPU over the window.
    pub daemon_cpu_pct: f64,
    /// Per QEMU: (RSS, PSS, CPU %).
    pub per_qemu: Vec<(f64, f64, f64)>,
}

/// Measures `tree` over `window`: each process's RSS and PSS at the start,
/// its CPU over the window (from schedstat, in ns, where there is one: a
/// tick of `stat` is 10 ms, 0.33 % of a 3 s window); processes that end
/// meanwhile are left out.
pub fn tree_cost(tree: &RunTree, window: Duration) -> TreeCost {
    let daemon = tree.daemon_pid();
    let mut pids: Vec<u32> = vec![daemon];
    pids.extend(tree.qemu_pids());
    let first: Vec<Option<(f64, f64, f64)>> = pids
        .iter()
        .map(|&p| {
            Some((
                proc::vm_rss_kib(p)? as f64,
                proc::pss_kib(p)? as f64,
                cpu_time(p)?,
            ))
        })
        .collect();
    let w0 = std::time::Instant::now();
    std::thread::sleep(window);
    let secs = w0.elapsed().as_secs_f64();
    let mut c = TreeCost::default();
    for (&pid, f) in pids.iter().zip(first) {
        let Some((rss, pss, cpu0)) = f else { continue };
        let Some(cpu1) = cpu_time(pid) else {
            continue;
        };
        let cpu = (cpu1 - cpu0).max(0.0) / secs * 100.0;
        c.rss_kib += rss;
        c.pss_kib += pss;
        c.cpu_pct += cpu;
        if pid == daemon {
            c.daemon_rss_kib = rss;
            c.daemon_pss_kib = pss;
            c.daemon_cpu_pct = cpu;
        } else {
            c.qemus += 1;
            c.per_qemu.push((rss, pss, cpu));
        }
    }
    c
}

fn cpu_time(pid: u32) -> Option<f64> {
    proc::run_seconds(pid).or_else(|| proc::cpu_seconds(pid))
}

fn idle_rows(plan: &Plan, s: &Setup, pool: Pool) -> Vec<Row> {
    let names = [IDLE_RSS, IDLE_PSS, IDLE_CPU];
    let unit = |n: &str| {
        if n == IDLE_CPU {
            Unit::CpuPercent
        } else {
            Unit::Bytes
        }
    };
    let fail = |why: &str| -> Vec<Row> {
        names
            .iter()
            .map(|n| {
                Row::missing(GROUP, guest_name(n, pool), Way::Guest, unit(n), why).compared_with(*n)
            })
            .collect()
    };
    if let Some(why) = skip_reason(s, pool) {
        return fail(&why);
    }
    eprintln!("  idle cost {}", pool.label());
    let r = (|| -> Result<TreeCost, String> {
        let mut tree = RunTree::start(
            &s.daemon,
            &s.programs,
            &options(pool),
            &["density".to_string()],
        )?;
        // The root alone, blocked reading stdin once it says so.
        tree.stdin(b"0\n")?;
        tree.tagged("ready", RUN_LIMIT)?;
        // Let the pool fill and settle.
        std::thread::sleep(Duration::from_millis(500 + 300 * s.pool as u64));
        let cost = tree_cost(&tree, Duration::from_secs_f64(plan.idle_window_s));
        tree.stdin(b"q\n")?;
        tree.finish(Duration::from_secs(30));
        Ok(cost)
    })();
    match r {
        Ok(c) => {
            let it = format!(
                "root + {} parked VM(s) + daemon, {:.0} s window",
                c.qemus.saturating_sub(1),
                plan.idle_window_s
            );
            let note = format!(
                "daemon RSS {:.0} KiB PSS {:.0} KiB CPU {:.2} %; {} QEMU(s) PSS {:.0} KiB",
                c.daemon_rss_kib,
                c.daemon_pss_kib,
                c.daemon_cpu_pct,
                c.qemus,
                c.pss_kib - c.daemon_pss_kib
            );
            vec![
                Row::measured(
                    GROUP,
                    guest_name(IDLE_RSS, pool),
                    Way::Guest,
                    Unit::Bytes,
                    &[c.rss_kib * 1024.0],
                    it.clone(),
                )
                .compared_with(IDLE_RSS)
                .with_note(note.clone()),
                Row::measured(
                    GROUP,
                    guest_name(IDLE_PSS, pool),
                    Way::Guest,
                    Unit::Bytes,
                    &[c.pss_kib * 1024.0],
                    it.clone(),
                )
                .compared_with(IDLE_PSS)
                .with_note(note),
                Row::measured(
                    GROUP,
                    guest_name(IDLE_CPU, pool),
                    Way::Guest,
                    Unit::CpuPercent,
                    &[c.cpu_pct],
                    it,
                )
                .compared_with(IDLE_CPU)
                .with_note(
                    "CPU time (schedstat) of the daemon and every QEMU; root blocked in read()",
                ),
            ]
        }
        Err(e) => fail(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_rows_compare_with_the_host_row_of_their_benchmark() {
        let r = guest_row(SPAWN_RUNS, Pool::On(4), &[1.0], "samples");
        assert_eq!(r.name, format!("{SPAWN_RUNS}, pool 4"));
        assert_eq!(r.vs.as_deref(), Some(SPAWN_RUNS));
        assert_eq!(
            guest_name(FORK_RUNS, Pool::Off),
            format!("{FORK_RUNS}, pool off")
        );
    }

    #[test]
    fn every_benchmark_has_a_name() {
        let names = every_name();
        assert_eq!(names.len(), 8);
        let mut dedup = names.clone();
        dedup.sort();
        dedup.dedup();
        assert_eq!(dedup.len(), names.len());
    }
}
