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
    rows.iter()
        .find(|h| h.way == Way::Host && h.group == row.group && h.name == row.name)
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

/// The setup lines.
pub fn setup_text(s: &Setup) -> String {
    format!(
        "CPU: {} × {} cores, {} MiB RAM; kernel {}; {} (accel {}); commit {}; load at start: {}",
        s.cpu, s.cores, s.mem_total_mib, s.kernel, s.qemu, s.accel, s.commit, s.load_start
    )
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
        "density": extra,
    })
}

const WAYS: [Way; 3] = [Way::Backend, Way::Host, Way::Guest];

fn colour(w: Way) -> RGBColor {
    match w {
        Way::Backend => RGBColor(31, 119, 180),
        Way::Host => RGBColor(127, 127, 127),
        Way::Guest => RGBColor(214, 39, 40),
    }
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// Grouped bars: one group per row name, one bar per way.
fn bars(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    title: &str,
    y_desc: &str,
    groups: &[(String, [Option<f64>; 3])],
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
    let slots = groups.len() * 4;
    let labels: Vec<String> = groups.iter().map(|(n, _)| n.clone()).collect();
    let label = move |v: &SegmentValue<usize>| -> String {
        match v {
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) if i % 4 == 1 => {
                labels.get(i / 4).cloned().unwrap_or_default()
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
                        let s = gi * 4 + wi;
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
        (names::RTT, "1 B"),
        (names::RTT_ONE_CPU, "1 B, one CPU"),
    ];
    if let Some((_, s)) = map.iter().find(|(n, _)| *n == name) {
        return (*s).to_string();
    }
    name.trim_start_matches("throughput ")
        .rsplit(", ")
        .next()
        .unwrap_or(name)
        .to_string()
}

fn grouped(
    rows: &[Row],
    group: &str,
    filter: impl Fn(&Row) -> bool,
) -> Vec<(String, [Option<f64>; 3])> {
    let mut out: Vec<(String, [Option<f64>; 3])> = Vec::new();
    for r in rows.iter().filter(|r| r.group == group && filter(r)) {
        let wi = WAYS.iter().position(|w| *w == r.way).unwrap_or(0);
        let v = r.median_display();
        let label = short(&r.name);
        match out.iter_mut().find(|(n, _)| *n == label) {
            Some((_, vals)) => vals[wi] = v,
            None => {
                let mut vals = [None; 3];
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
        "Pipe round trip, 1 byte",
        "µs (log)",
        &rtt,
        true,
    )?;
    let tput = grouped(rows, "pipe", |r| matches!(r.unit, Unit::Throughput { .. }));
    bars(&panels[1], "Pipe throughput", "GiB/s", &tput, false)?;
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
