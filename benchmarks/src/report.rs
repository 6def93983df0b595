//! The output: a text table (Markdown, so it pastes into BENCHMARKS.md),
//! `results.json` and `results.svg`.

use std::fmt::Write as _;
use std::path::Path;

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use serde_json::{json, Value};

use crate::proc::Setup;
use crate::stats::{names, unit_name, Row, Unit, Way};

/// The host row with the same group and name, if measured.
fn host_of<'a>(rows: &'a [Row], row: &Row) -> Option<&'a Row> {
    if row.way == Way::Host {
        return None;
    }
    let name = row.vs.as_deref().unwrap_or(&row.name);
    rows.iter()
        .find(|h| h.way == Way::Host && h.group == row.group && h.name == name)
        .filter(|h| h.result.is_ok())
}

/// Figure ÷ host figure in display units: for times "how many times the
/// host's time", for throughput "what share of the host's rate".
pub fn vs_host(rows: &[Row], row: &Row) -> Option<f64> {
    let h = host_of(rows, row)?;
    let a = row.median_display()?;
    let b = h.median_display()?;
    (b > 0.0).then(|| a / b)
}

fn fmt_num(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// The targets for the backend alone: a round trip within 2× of
/// the host pipe's, throughput no worse than the host pipe's.
const RTT_TARGET: f64 = 2.0;
const THROUGHPUT_TARGET: f64 = 1.0;

/// Where one backend pipe row stands against its target.
#[derive(Debug, Clone)]
pub struct Target {
    /// The row's name.
    pub name: String,
    /// Backend ÷ host in display units.
    pub ratio: f64,
    /// The target ratio: a ceiling for times, a floor for rates.
    pub target: f64,
    /// Whether the row is a rate (throughput) rather than a time.
    pub rate: bool,
    /// Whether the target is met.
    pub met: bool,
    /// Same-run notification floors ÷ host, with their row names.
    pub floors: Vec<(String, f64)>,
}

impl Target {
    fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "vs_host": self.ratio,
            "target": self.target,
            "kind": if self.rate { "at least (rate)" } else { "at most (time)" },
            "met": self.met,
            "floors": self.floors.iter().map(|(n, r)| json!({"name": n, "vs_host": r})).collect::<Vec<_>>(),
        })
    }
}

/// Every measured backend pipe row against its target.
pub fn targets(rows: &[Row]) -> Vec<Target> {
    rows.iter()
        .filter(|r| r.group == "pipe" && r.way == Way::Backend)
        .filter_map(|r| {
            let ratio = vs_host(rows, r)?;
            let rate = matches!(r.unit, Unit::Throughput { .. });
            let (target, met) = if rate {
                (THROUGHPUT_TARGET, ratio >= THROUGHPUT_TARGET)
            } else {
                (RTT_TARGET, ratio <= RTT_TARGET)
            };
            let floors = rows
                .iter()
                .filter(|f| f.way == Way::Floor && f.vs.as_deref().unwrap_or(&f.name) == r.name)
                .filter_map(|f| Some((f.name.clone(), vs_host(rows, f)?)))
                .collect();
            Some(Target {
                name: r.name.clone(),
                ratio,
                target,
                rate,
                met,
                floors,
            })
        })
        .collect()
}

/// The targets as lines of text.
pub fn targets_text(targets: &[Target]) -> String {
    let mut t = String::from("Backend alone against the targets (same run):\n");
    for g in targets {
        let (what, goal) = if g.rate {
            ("× the host's rate", format!("≥ {}×", g.target))
        } else {
            ("× the host's time", format!("≤ {}×", g.target))
        };
        let _ = write!(
            t,
            "- {}: {:.2}{what} (target {goal}): {}",
            g.name,
            g.ratio,
            if g.met { "met" } else { "missed" }
        );
        for (i, (name, r)) in g.floors.iter().enumerate() {
            let extra = name.strip_prefix(g.name.as_str()).unwrap_or(name);
            let label = if extra.is_empty() {
                "request/response"
            } else {
                extra.trim_start_matches(", ")
            };
            let _ = write!(
                t,
                "{}{label} {r:.2}×",
                if i == 0 {
                    "; notification floor: "
                } else {
                    ", "
                }
            );
        }
        t.push('\n');
    }
    t
}

/// The setup lines.
pub fn setup_text(s: &Setup) -> String {
    format!(
        "CPU: {} × {} cores, {} MiB RAM; kernel {}; {} (accel {}); commit {}; load at start: {}",
        s.cpu, s.cores, s.mem_total_mib, s.kernel, s.qemu, s.accel, s.commit, s.load_start
    )
}

/// The pool rows side by side: one line per benchmark, with the pool off,
/// each pool size and the host as columns of "median / p99"; `None` when
/// there are no pool rows.
pub fn pool_table(rows: &[Row]) -> Option<String> {
    let pool: Vec<&Row> = rows
        .iter()
        .filter(|r| r.group == crate::pool::GROUP)
        .collect();
    if pool.is_empty() {
        return None;
    }
    let mut benches: Vec<String> = Vec::new();
    let mut columns: Vec<String> = Vec::new();
    for r in &pool {
        let base = r.vs.clone().unwrap_or_else(|| r.name.clone());
        if !benches.contains(&base) {
            benches.push(base.clone());
        }
        let col = match r.way {
            Way::Host => "host".to_string(),
            _ => r
                .name
                .strip_prefix(&base)
                .unwrap_or(&r.name)
                .trim_start_matches(", ")
                .to_string(),
        };
        if col != "host" && !columns.contains(&col) {
            columns.push(col);
        }
    }
    columns.push("host".into());
    let mut t = String::from("| benchmark | unit |");
    for c in &columns {
        let _ = write!(t, " {c}: median / p99 |");
    }
    t.push_str("\n|---|---|");
    t.push_str(&"---:|".repeat(columns.len()));
    t.push('\n');
    for b in &benches {
        let mut unit = "";
        let mut cells = Vec::new();
        for c in &columns {
            let r = pool.iter().find(|r| {
                let base = r.vs.as_deref().unwrap_or(&r.name);
                base == b
                    && if c == "host" {
                        r.way == Way::Host
                    } else {
                        r.way != Way::Host && r.name == format!("{b}, {c}")
                    }
            });
            cells.push(match r {
                Some(r) => {
                    unit = unit_name(r.unit);
                    match (r.median_display(), r.p99_display()) {
                        (Some(m), Some(p)) => format!("{} / {}", fmt_num(m), fmt_num(p)),
                        _ => "n/a".into(),
                    }
                }
                None => String::new(),
            });
        }
        let _ = writeln!(t, "| {b} | {unit} | {} |", cells.join(" | "));
    }
    Some(t)
}

/// The Markdown table of every row.
pub fn table(rows: &[Row]) -> String {
    let mut t = String::new();
    t.push_str("| group | benchmark | way | median | p99 | unit | vs host | iterations | note |\n");
    t.push_str("|---|---|---|---:|---:|---|---:|---|---|\n");
    for r in rows {
        let (median, p99) = match &r.result {
            Ok(_) => (
                fmt_num(r.median_display().unwrap_or(0.0)),
                fmt_num(r.p99_display().unwrap_or(0.0)),
            ),
            Err(_) => ("n/a".to_string(), "n/a".to_string()),
        };
        let vs = vs_host(rows, r).map_or(String::new(), |v| format!("{v:.2}×"));
        let note = match &r.result {
            Err(why) => why.clone(),
            Ok(_) => r.note.clone(),
        };
        let _ = writeln!(
            t,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.group,
            r.name,
            r.way.name(),
            median,
            p99,
            unit_name(r.unit),
            vs,
            r.iterations,
            note
        );
    }
    t
}

/// The JSON document.
pub fn json(setup: &Setup, quick: bool, rows: &[Row], extra: Value) -> Value {
    json!({
        "setup": {
            "cpu": setup.cpu,
            "cores": setup.cores,
            "mem_total_mib": setup.mem_total_mib,
            "kernel": setup.kernel,
            "qemu": setup.qemu,
            "accel": setup.accel,
            "commit": setup.commit,
            "load_at_start": setup.load_start,
            "load_at_end": std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim(),
            "quick": quick,
        },
        "notes": {
            "median_p99": "median and 99th percentile (nearest rank) over the samples; for throughput, p99 is the rate of the slowest 1 % of samples",
            "vs_host": "figure divided by the host's figure in display units: times (us) are 'how many times the host's time'; rates (GiB/s) are 'what share of the host's rate'",
        },
        "rows": rows.iter().map(|r| r.to_json(vs_host(rows, r))).collect::<Vec<_>>(),
        "targets": targets(rows).iter().map(Target::to_json).collect::<Vec<_>>(),
        "density": extra,
    })
}

const WAYS: [Way; 4] = [Way::Backend, Way::Host, Way::Guest, Way::Floor];
/// Bar slots per group: one per way and a gap.
const SLOTS: usize = WAYS.len() + 1;

fn colour(w: Way) -> RGBColor {
    match w {
        Way::Backend => RGBColor(31, 119, 180),
        Way::Host => RGBColor(127, 127, 127),
        Way::Guest => RGBColor(214, 39, 40),
        Way::Floor => RGBColor(44, 160, 44),
    }
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// Grouped bars: one group per row name, one bar per way.
fn bars(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    title: &str,
    y_desc: &str,
    groups: &[(String, [Option<f64>; WAYS.len()])],
    log: bool,
) -> DrawResult {
    let values: Vec<f64> = groups
        .iter()
        .flat_map(|(_, v)| v.iter().flatten().copied())
        .filter(|v| *v > 0.0)
        .collect();
    if values.is_empty() {
        area.titled(title, ("sans-serif", 18))?.draw_text(
            "not measured in this run",
            &("sans-serif", 14).into_text_style(area),
            (40, 60),
        )?;
        return Ok(());
    }
    let max = values.iter().copied().fold(0.0, f64::max).max(1e-9);
    let min = values.iter().copied().fold(f64::MAX, f64::min).min(max);
    let slots = groups.len() * SLOTS;
    let labels: Vec<String> = groups.iter().map(|(n, _)| n.clone()).collect();
    let label = move |v: &SegmentValue<usize>| -> String {
        match v {
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) if i % SLOTS == 1 => {
                labels.get(i / SLOTS).cloned().unwrap_or_default()
            }
            _ => String::new(),
        }
    };
    let mut b = ChartBuilder::on(area);
    b.caption(title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60);
    let x = (0..slots).into_segmented();
    macro_rules! draw {
        ($chart:expr, $floor:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(slots)
                .x_label_formatter(&label)
                .y_labels(8)
                .y_desc(y_desc)
                .draw()?;
            for (wi, way) in WAYS.iter().enumerate() {
                let c = colour(*way);
                let rects: Vec<_> = groups
                    .iter()
                    .enumerate()
                    .filter_map(|(gi, (_, v))| {
                        let val = v[wi]?;
                        let s = gi * SLOTS + wi;
                        Some(Rectangle::new(
                            [
                                (SegmentValue::Exact(s), $floor),
                                (SegmentValue::Exact(s + 1), val.max($floor)),
                            ],
                            c.filled(),
                        ))
                    })
                    .collect();
                chart
                    .draw_series(rects)?
                    .label(way.name())
                    .legend(move |(x, y)| {
                        Rectangle::new([(x, y - 5), (x + 10, y + 5)], c.filled())
                    });
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .border_style(BLACK)
                .background_style(WHITE.mix(0.8))
                .draw()?;
        }};
    }
    if log {
        let floor = min / 2.0;
        draw!(
            b.build_cartesian_2d(x, (floor..max * 2.0).log_scale())?,
            floor
        );
    } else {
        draw!(b.build_cartesian_2d(x, 0.0..max * 1.15)?, 0.0);
    }
    Ok(())
}

/// A label short enough for the plot's x axis.
fn short(name: &str) -> String {
    let map = [
        (names::FORK_RETURNS, "fork returns"),
        (names::FORK_TOTAL, "fork+exit+wait"),
        (names::SPAWN_RETURNS, "spawn returns"),
        (names::SPAWN_RUNS, "child runs"),
        (names::SPAWN_TOTAL, "spawn+exit+wait"),
        (names::COLD_BOOT, "boot (QEMU)"),
        (crate::guest::COLD_BOOT_GUEST, "boot (guest)"),
    ];
    if let Some((_, s)) = map.iter().find(|(n, _)| *n == name) {
        return (*s).to_string();
    }
    for prefix in ["round trip ", "throughput "] {
        if let Some(rest) = name.strip_prefix(prefix) {
            return rest
                .replace(", one CPU", " 1C")
                .replace(", two CPUs", " 2C")
                .replace(", posted writes", " posted");
        }
    }
    name.rsplit(", ").next().unwrap_or(name).to_string()
}

fn grouped(
    rows: &[Row],
    group: &str,
    filter: impl Fn(&Row) -> bool,
) -> Vec<(String, [Option<f64>; WAYS.len()])> {
    let mut out: Vec<(String, [Option<f64>; WAYS.len()])> = Vec::new();
    for r in rows.iter().filter(|r| r.group == group && filter(r)) {
        let wi = WAYS.iter().position(|w| *w == r.way).unwrap_or(0);
        let v = r.median_display();
        let label = short(&r.name);
        match out.iter_mut().find(|(n, _)| *n == label) {
            Some((_, vals)) => vals[wi] = v,
            None => {
                let mut vals = [None; WAYS.len()];
                vals[wi] = v;
                out.push((label, vals));
            }
        }
    }
    out
}

/// Draws `results.svg`: four panels of medians.
pub fn plot(path: &Path, setup: &Setup, rows: &[Row]) -> DrawResult {
    let root = SVGBackend::new(path, (1400, 1000)).into_drawing_area();
    root.fill(&WHITE)?;
    let (top, body) = root.split_vertically(40);
    top.draw_text(
        &format!(
            "vhost-user-pipe benchmarks (medians) — {} × {}, {}, accel {}",
            setup.cpu, setup.cores, setup.qemu, setup.accel
        ),
        &("sans-serif", 16).into_text_style(&top),
        (10, 12),
    )?;
    let panels = body.split_evenly((2, 2));
    let rtt = grouped(rows, "pipe", |r| r.unit == Unit::Nanos);
    bars(
        &panels[0],
        "Pipe round trip, 1 byte (1C: one CPU, 2C: two CPUs)",
        "µs (log)",
        &rtt,
        true,
    )?;
    let tput = grouped(rows, "pipe", |r| matches!(r.unit, Unit::Throughput { .. }));
    bars(
        &panels[1],
        "Pipe throughput (1C: one CPU, 2C: two CPUs)",
        "GiB/s",
        &tput,
        false,
    )?;
    let mut procs = grouped(rows, "process", |_| true);
    for p in &mut procs {
        for v in p.1.iter_mut().flatten() {
            *v /= 1e3; // µs -> ms
        }
    }
    bars(
        &panels[2],
        "fork, spawn and boot latency",
        "ms (log)",
        &procs,
        true,
    )?;
    let dens = grouped(rows, "density", |r| {
        r.unit == Unit::Bytes && r.name.starts_with("RSS")
    });
    let mut dens = dens;
    for p in &mut dens {
        for v in p.1.iter_mut().flatten() {
            *v /= 1024.0; // KiB -> MiB
        }
    }
    bars(
        &panels[3],
        "RSS per process, N processes (QEMU vs host `cat`)",
        "MiB",
        &dens,
        false,
    )?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod pool_table_tests {
    use super::*;

    #[test]
    fn pool_rows_line_up_by_benchmark() {
        let g = crate::pool::GROUP;
        let rows = vec![
            Row::measured(g, "spawn", Way::Host, Unit::Nanos, &[1000.0], "1"),
            Row::measured(g, "spawn, pool off", Way::Guest, Unit::Nanos, &[40e6], "1")
                .compared_with("spawn"),
            Row::measured(g, "spawn, pool 4", Way::Guest, Unit::Nanos, &[2e6], "1")
                .compared_with("spawn"),
            Row::missing(g, "burst, pool 16", Way::Guest, Unit::Nanos, "skipped")
                .compared_with("burst"),
        ];
        let t = pool_table(&rows).unwrap();
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[0],
            "| benchmark | unit | pool off: median / p99 | pool 4: median / p99 | pool 16: median / p99 | host: median / p99 |"
        );
        assert_eq!(
            lines[2],
            "| spawn | us | 40000 / 40000 | 2000 / 2000 |  | 1.00 / 1.00 |"
        );
        assert_eq!(lines[3], "| burst | us |  |  | n/a |  |");
        assert!(pool_table(&rows[..0]).is_none());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, way: Way, unit: Unit, sample: f64) -> Row {
        Row::measured("pipe", name, way, unit, &[sample], "1")
    }

    #[test]
    fn targets_read_times_as_ceilings_and_rates_as_floors() {
        let t = Unit::Throughput { bytes: 1 << 30 };
        let rows = vec![
            row("rtt", Way::Backend, Unit::Nanos, 3000.0),
            row("rtt", Way::Host, Unit::Nanos, 1000.0),
            row("rtt", Way::Floor, Unit::Nanos, 2500.0),
            row("rtt, posted writes", Way::Floor, Unit::Nanos, 1500.0).compared_with("rtt"),
            // 1 GiB in 0.5 s (2 GiB/s) against the host's 1 GiB/s.
            row("tput", Way::Backend, t, 0.5e9),
            row("tput", Way::Host, t, 1e9),
            row("slow", Way::Backend, t, 2e9),
            row("slow", Way::Host, t, 1e9),
            row("no host", Way::Backend, Unit::Nanos, 1.0),
        ];
        let got = targets(&rows);
        assert_eq!(got.len(), 3, "a row without a host row has no target");
        assert!((got[0].ratio - 3.0).abs() < 1e-9 && !got[0].met);
        assert_eq!(
            got[0].floors,
            vec![
                ("rtt".to_string(), 2.5),
                ("rtt, posted writes".to_string(), 1.5)
            ]
        );
        assert!((got[1].ratio - 2.0).abs() < 1e-9 && got[1].met);
        assert!((got[2].ratio - 0.5).abs() < 1e-9 && !got[2].met);
        let text = targets_text(&got);
        assert!(text.contains("- rtt: 3.00× the host's time (target ≤ 2×): missed; notification floor: request/response 2.50×, posted writes 1.50×"), "{text}");
    }
}
