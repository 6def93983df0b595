//! `vhost-user-pipe-bench [--quick] [--out DIR] [--only GROUPS]`: runs the
//! benchmarks, prints a table, writes `DIR/results.json` and `DIR/results.svg`.

use std::path::PathBuf;
use std::time::Instant;

use clap::{Parser, Subcommand};
use serde_json::json;
use vhost_user_pipe_bench::daemon::{Daemon, Pool};
use vhost_user_pipe_bench::proc::{Placement, Setup};
use vhost_user_pipe_bench::stats::{Row, Unit, Way};
use vhost_user_pipe_bench::{
    backend, density, file, floor, guest, host, plan::Plan, pool, report, tree_density,
};

#[derive(Parser, Debug)]
#[command(
    version,
    about = "vhost-user-pipe benchmarks, side by side with the host"
)]
struct Args {
    /// A short run (about 20 seconds) with fewer iterations.
    #[arg(long)]
    quick: bool,
    /// Where results.json and results.svg go.
    #[arg(long, default_value = "target/bench-results")]
    out: PathBuf,
    /// Only these groups, comma-separated: pipe, process, pool, density,
    /// file (process includes pool).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Skip everything that boots QEMU.
    #[arg(long)]
    no_guests: bool,
    /// Only these ways, comma-separated: backend, host, guest, floor.
    #[arg(long, value_delimiter = ',')]
    ways: Vec<String>,
    /// Throughput write sizes in bytes (default 4096,65536,1048576); 0 for none.
    #[arg(long, value_delimiter = ',')]
    sizes: Vec<usize>,
    /// N of `run --pool N` for the pool rows and the density tree (the
    /// pool-off rows use `--pool 0`).
    #[arg(long, default_value_t = 4)]
    pool: usize,
    /// Pause between pool-row samples, ms, so the pool refills.
    #[arg(long, default_value_t = 500)]
    pool_pause_ms: u64,
    /// Pause between burst samples, ms.
    #[arg(long, default_value_t = 5000)]
    burst_pause_ms: u64,
    /// `--memory` (MiB per VM) of the density tree.
    #[arg(long, default_value_t = 16)]
    density_memory: u32,
    /// The daemon binary for the pool rows and the density tree (default:
    /// vhost-user-pipe of this binary's profile, built first).
    #[arg(long)]
    daemon: Option<PathBuf>,
    #[command(subcommand)]
    hidden: Option<Hidden>,
}

#[derive(Subcommand, Debug)]
enum Hidden {
    /// The daemon process of the backend-only density run.
    #[command(name = "__daemon", hide = true)]
    Daemon {
        /// Its working directory.
        dir: PathBuf,
    },
}

fn main() {
    let args = Args::parse();
    if let Some(Hidden::Daemon { dir }) = &args.hidden {
        std::process::exit(density::daemon_main(dir));
    }
    let started = Instant::now();
    let want = |g: &str| args.only.is_empty() || args.only.iter().any(|o| o == g);
    let way = |w: &str| args.ways.is_empty() || args.ways.iter().any(|o| o == w);
    let mut plan = Plan::new(args.quick);
    if !args.sizes.is_empty() {
        plan.only_sizes(&args.sizes);
    }
    let setup = Setup::probe("qemu-system-x86_64".as_ref());
    println!("{}", report::setup_text(&setup));

    let paths = guest::Paths::detect();
    let ready: guest::Ready = if args.no_guests || !way("guest") {
        Err("guests skipped (--no-guests)".into())
    } else {
        guest::Qemu::probe().and_then(|q| Ok((guest::guests_ready(&paths)?, q)))
    };
    if let Err(why) = &ready {
        eprintln!("guest rows: n/a ({why})");
    }

    let needs_daemon = want("process") || want("pool") || want("density");
    let daemon: Result<Daemon, String> = match &ready {
        Ok(_) if needs_daemon => Daemon::find(&paths, args.daemon.as_deref()),
        Ok(_) => Err("not needed".into()),
        Err(why) => Err(why.clone()),
    };
    if let Ok(d) = &daemon {
        eprintln!(
            "daemon binary {} ({})",
            d.bin.display(),
            if d.has_pool {
                "has --pool"
            } else {
                "no --pool yet: pool-on rows skipped"
            }
        );
    }

    let mut rows: Vec<Row> = Vec::new();
    let step = |what: &str| eprintln!("[{:6.1}s] {what}", started.elapsed().as_secs_f64());
    if want("process") && way("host") {
        // First, while this process is small: fork copies its page tables.
        step("host fork and spawn");
        rows.extend(host::fork_rows(&plan));
        rows.extend(host::spawn_rows(&plan));
        let programs = guest::build_program(&paths);
        rows.extend(host::exec_rows(&plan, programs.as_ref()));
    }
    if want("pipe") {
        let mut pipe = Vec::new();
        for p in Placement::ALL {
            if way("host") {
                step(&format!("host pipe{}", p.suffix()));
                pipe.extend(host::pipe_rows(&plan, p));
            }
            if way("backend") {
                step(&format!("backend-only pipe{}", p.suffix()));
                pipe.extend(backend::pipe_rows(&plan, p));
            }
            if way("floor") && p != Placement::Free {
                step(&format!("notification floor{}", p.suffix()));
                pipe.extend(floor::rtt_rows(&plan, p));
            }
        }
        if way("guest") {
            step("guest pipe");
            pipe.extend(guest::pipe_rows(&plan, &ready));
        }
        // Round trips first, then throughput by size; each benchmark's
        // placements together, the floor's extra rows after their host row.
        let split = |name: &str| -> (String, usize) {
            for (i, p) in Placement::ALL.iter().enumerate().rev() {
                if let Some(base) = name.strip_suffix(p.suffix()) {
                    return (base.to_string(), i);
                }
            }
            (name.to_string(), 0)
        };
        let mut bases: Vec<String> = Vec::new();
        for r in &pipe {
            let (base, _) = split(&r.name);
            if !bases.contains(&base) {
                bases.push(base);
            }
        }
        pipe.sort_by_key(|r| {
            let (base, placement) = split(r.vs.as_deref().unwrap_or(&r.name));
            let kind = matches!(r.unit, Unit::Throughput { .. });
            (
                kind,
                bases.iter().position(|b| *b == base),
                placement,
                r.vs.is_some(),
                way_order(r.way),
            )
        });
        rows.splice(0..0, pipe);
    }
    if want("process") {
        if way("backend") {
            step("backend-only spawn and fork");
            rows.extend(backend::spawn_rows(&plan));
            rows.extend(backend::fork_rows(&plan));
        }
        if way("guest") {
            step("guest spawn, fork and cold boot");
            rows.extend(guest::process_rows(&plan, &ready));
        }
        sort_process_rows(&mut rows);
    }
    if want("process") || want("pool") {
        step("pool rows: pool off, pool on, host");
        let setup = match (&ready, &daemon) {
            (Ok((programs, _)), Ok(d)) => Ok(pool::Setup {
                programs: programs.clone(),
                daemon: d.clone(),
                pool: args.pool,
                pause_ms: args.pool_pause_ms,
                burst_pause_ms: args.burst_pause_ms,
            }),
            (Err(e), _) | (_, Err(e)) => Err(e.clone()),
        };
        let programs = guest::build_program(&paths);
        rows.extend(pool::rows(
            &plan,
            programs.as_ref().map_err(Clone::clone),
            setup.as_ref().map_err(Clone::clone),
            way("host"),
            way("guest"),
        ));
    }
    if want("file") {
        if way("host") {
            step("host file read and write");
            let programs = guest::build_program(&paths);
            rows.extend(file::host_rows(&plan, programs.as_ref()));
        }
        if way("guest") {
            step("guest file read and write");
            rows.extend(file::guest_rows(&plan, &ready));
        }
        // Each benchmark's host row, then its guest row.
        let start = rows.iter().position(|r| r.group == "file").unwrap_or(0);
        let mut names: Vec<String> = Vec::new();
        for r in &rows[start..] {
            if !names.contains(&r.name) {
                names.push(r.name.clone());
            }
        }
        rows[start..].sort_by_key(|r| (names.iter().position(|n| *n == r.name), way_order(r.way)));
    }
    let mut density_json = json!({});
    if want("density") {
        step("density: host, backend-only, QEMU guests");
        let ways = [way("host"), way("backend"), way("guest")];
        // Through the pool; with the pool off where the daemon has none yet.
        let pool = match &daemon {
            Ok(d) if d.has_pool && args.pool > 0 => Pool::On(args.pool),
            _ => Pool::Off,
        };
        let tree = (&ready, &daemon, args.density_memory, pool);
        density_rows(&plan, tree, ways, &mut rows, &mut density_json);
    }
    step("done");

    println!();
    println!("{}", report::table(&rows));
    println!(
        "vs host: times are 'x the host's time'; throughput is 'x the host's rate'. \
         Total run {:.1} s.",
        started.elapsed().as_secs_f64()
    );
    if let Some(t) = report::pool_table(&rows) {
        println!();
        println!("The pool, side by side (median / p99):");
        println!();
        print!("{t}");
    }
    let targets = report::targets(&rows);
    if !targets.is_empty() {
        println!();
        print!("{}", report::targets_text(&targets));
    }
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        eprintln!("cannot create {}: {e}", args.out.display());
        std::process::exit(1);
    }
    let doc = report::json(&setup, args.quick, &rows, density_json);
    let json_path = args.out.join("results.json");
    let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    if let Err(e) = std::fs::write(&json_path, text) {
        eprintln!("cannot write {}: {e}", json_path.display());
        std::process::exit(1);
    }
    let svg_path = args.out.join("results.svg");
    if let Err(e) = report::plot(&svg_path, &setup, &rows) {
        eprintln!("cannot draw {}: {e}", svg_path.display());
        std::process::exit(1);
    }
    println!("wrote {} and {}", json_path.display(), svg_path.display());
}

/// Rows of one benchmark appear in this order of ways.
fn way_order(w: Way) -> u8 {
    match w {
        Way::Backend => 0,
        Way::Host => 1,
        Way::Guest => 2,
        Way::Floor => 3,
    }
}

fn sort_process_rows(rows: &mut [Row]) {
    // Keep the pipe rows where they are; order process rows by name then way.
    let names: Vec<String> = {
        let mut seen = Vec::new();
        for r in rows.iter().filter(|r| r.group == "process") {
            if !seen.contains(&r.name) {
                seen.push(r.name.clone());
            }
        }
        seen
    };
    let start = rows.iter().position(|r| r.group == "process").unwrap_or(0);
    let end = rows
        .iter()
        .rposition(|r| r.group == "process")
        .map_or(0, |e| e + 1);
    rows[start..end].sort_by_key(|r| {
        (
            names
                .iter()
                .position(|n| *n == r.name)
                .unwrap_or(usize::MAX),
            way_order(r.way),
        )
    });
}

/// The QEMU density tree: the guest setup, the daemon binary, `--memory`
/// and the pool.
type TreeSetup<'a> = (&'a guest::Ready, &'a Result<Daemon, String>, u32, Pool);

fn density_rows(
    plan: &Plan,
    (ready, daemon, memory_mib, pool): TreeSetup<'_>,
    [host, backend, guests]: [bool; 3],
    rows: &mut Vec<Row>,
    out: &mut serde_json::Value,
) {
    let g = "density";
    match host.then(|| density::host(plan)) {
        Some(Ok(steps)) => {
            for s in &steps {
                let n = s.n;
                let it = format!("{n} processes");
                let note = "cat blocked reading a pipe";
                rows.push(
                    Row::measured(
                        g,
                        format!("RSS per process, N={n}"),
                        Way::Host,
                        Unit::Bytes,
                        &kib(&s.rss_kib),
                        it.clone(),
                    )
                    .with_note(note),
                );
                rows.push(
                    Row::measured(
                        g,
                        format!("PSS per process, N={n}"),
                        Way::Host,
                        Unit::Bytes,
                        &kib(&s.pss_kib),
                        it.clone(),
                    )
                    .with_note(note),
                );
                rows.push(
                    Row::measured(
                        g,
                        format!("idle CPU per process, N={n}"),
                        Way::Host,
                        Unit::CpuPercent,
                        &s.idle_cpu_pct,
                        it,
                    )
                    .with_note(note),
                );
            }
            out["host"] = json!(steps.iter().map(|s| json!({"n": s.n, "rss_kib": s.rss_kib, "pss_kib": s.pss_kib, "idle_cpu_pct": s.idle_cpu_pct})).collect::<Vec<_>>());
        }
        Some(Err(e)) => eprintln!("host density: {e}"),
        None => {}
    }
    match backend.then(|| density::backend(plan)) {
        Some(Ok(steps)) => {
            for s in &steps {
                let n = s.n;
                let it = format!("{n} processes");
                let note = format!("daemon VmRSS {} KiB, {} threads", s.rss_kib, s.threads);
                rows.push(
                    Row::measured(
                        g,
                        format!("daemon RSS per process, N={n}"),
                        Way::Backend,
                        Unit::Bytes,
                        &[s.rss_per_process_kib * 1024.0],
                        it.clone(),
                    )
                    .with_note(note),
                );
                rows.push(
                    Row::measured(
                        g,
                        format!("daemon idle CPU, N={n}"),
                        Way::Backend,
                        Unit::CpuPercent,
                        &[s.idle_cpu_pct],
                        it,
                    )
                    .with_note("all processes blocked in READ"),
                );
            }
            out["backend"] = json!(steps.iter().map(|s| json!({"n": s.n, "daemon_rss_kib": s.rss_kib, "daemon_rss_per_process_kib": s.rss_per_process_kib, "threads": s.threads, "idle_cpu_pct": s.idle_cpu_pct})).collect::<Vec<_>>());
        }
        Some(Err(e)) => rows.push(Row::missing(
            g,
            "daemon RSS per process",
            Way::Backend,
            Unit::Bytes,
            e,
        )),
        None => {}
    }
    let tree = || -> Result<Vec<tree_density::Step>, String> {
        let (programs, _) = ready.as_ref().map_err(Clone::clone)?;
        let daemon = daemon.as_ref().map_err(Clone::clone)?;
        let opts = tree_density::Options { pool, memory_mib };
        tree_density::run(plan, daemon, programs, opts)
    };
    match guests.then(tree) {
        Some(Ok(steps)) => {
            let how = match pool {
                Pool::Off => format!("run --memory {memory_mib}, pool off"),
                Pool::On(n) => format!("run --pool {n} --memory {memory_mib}"),
            };
            for s in &steps {
                let n = s.n;
                let it = format!("{} QEMUs ({} parked)", s.rss_kib.len(), s.parked);
                let grew = format!("{how}; grew to {n} in {:.2} s", s.grow.as_secs_f64());
                if let Some(why) = &s.limit {
                    rows.push(Row::missing(
                        g,
                        format!("limit hit, N={}", s.wanted),
                        Way::Guest,
                        Unit::Bytes,
                        why.clone(),
                    ));
                }
                rows.push(
                    Row::measured(
                        g,
                        format!("RSS per process, N={n}"),
                        Way::Guest,
                        Unit::Bytes,
                        &kib(&s.rss_kib),
                        it.clone(),
                    )
                    .with_note(format!("each QEMU (parked VMs too); {grew}")),
                );
                rows.push(
                    Row::measured(
                        g,
                        format!("PSS per process, N={n}"),
                        Way::Guest,
                        Unit::Bytes,
                        &kib(&s.pss_kib),
                        it.clone(),
                    )
                    .with_note(format!("each QEMU (parked VMs too); {grew}")),
                );
                rows.push(
                    Row::measured(
                        g,
                        format!("daemon RSS per process, N={n}"),
                        Way::Guest,
                        Unit::Bytes,
                        &[s.daemon.0 * 1024.0 / n as f64],
                        it.clone(),
                    )
                    .with_note(format!(
                        "the daemon's VmRSS {:.0} KiB / N (PSS {:.0} KiB)",
                        s.daemon.0, s.daemon.1
                    )),
                );
                rows.push(
                    Row::measured(
                        g,
                        format!("total PSS per process, N={n}"),
                        Way::Guest,
                        Unit::Bytes,
                        &[s.total_pss_per_process_kib * 1024.0],
                        it.clone(),
                    )
                    .with_note(format!(
                        "(every QEMU, {} of them parked VMs, + the daemon) / N",
                        s.parked
                    )),
                );
                rows.push(
                    Row::measured(
                        g,
                        format!("idle CPU per process, N={n}"),
                        Way::Guest,
                        Unit::CpuPercent,
                        &s.idle_cpu_pct,
                        it.clone(),
                    )
                    .with_note(format!(
                        "QEMU CPU time (schedstat), guest blocked in read(); with the daemon and the pool: {:.3} % per process (daemon {:.3} %)",
                        s.total_cpu_per_process_pct, s.daemon.2
                    )),
                );
                rows.push(
                    Row::measured(
                        g,
                        format!("time to grow, N={n}"),
                        Way::Guest,
                        Unit::Nanos,
                        &[s.grow.as_nanos() as f64],
                        format!(
                            "{} -> {n} processes",
                            steps
                                .iter()
                                .take_while(|x| x.n < n)
                                .last()
                                .map_or(1, |p| p.n)
                        ),
                    )
                    .with_note(format!(
                        "{how}; from the command to the last child's ready byte"
                    )),
                );
            }
            out["guest"] = json!(steps
                .iter()
                .map(|s| json!({
                    "wanted": s.wanted,
                    "n": s.n,
                    "limit": s.limit,
                    "qemu_rss_kib": s.rss_kib,
                    "qemu_pss_kib": s.pss_kib,
                    "idle_cpu_pct": s.idle_cpu_pct,
                    "daemon_rss_kib": s.daemon.0,
                    "daemon_pss_kib": s.daemon.1,
                    "daemon_idle_cpu_pct": s.daemon.2,
                    "parked_vms": s.parked,
                    "total_pss_per_process_kib": s.total_pss_per_process_kib,
                    "total_cpu_per_process_pct": s.total_cpu_per_process_pct,
                    "grow_s": s.grow.as_secs_f64(),
                    "memory_mib": memory_mib,
                }))
                .collect::<Vec<_>>());
        }
        Some(Err(e)) => rows.push(Row::missing(
            g,
            "RSS per process",
            Way::Guest,
            Unit::Bytes,
            e,
        )),
        None => {}
    }
    // Group the density rows by name, host first.
    let start = rows.iter().position(|r| r.group == g).unwrap_or(rows.len());
    let mut names: Vec<String> = Vec::new();
    for r in &rows[start..] {
        if !names.contains(&r.name) {
            names.push(r.name.clone());
        }
    }
    rows[start..].sort_by_key(|r| {
        let n: usize = r
            .name
            .rsplit('=')
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let kind = names
            .iter()
            .position(|x| x.split(',').next() == r.name.split(',').next())
            .unwrap_or(0);
        (n, kind, r.way as u8)
    });
}

fn kib(v: &[f64]) -> Vec<f64> {
    v.iter().map(|k| k * 1024.0).collect()
}
