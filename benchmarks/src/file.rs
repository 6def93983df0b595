//! File throughput (issue 14): `vupbench file` writes a file in calls of
//! 4 KiB or 1 MiB and reads it back, natively on the host and as a guest
//! whose `--writable` root is a directory on the same host file system,
//! in the same run. The file stays in the host's page cache (no `fsync`),
//! so the rows compare the path of a `write`/`read` call, not the disk.
//! A sample is one pass over the whole file, from `open` to `close`
//! (`O_TRUNC` for the writes: the previous pass's pages are freed inside
//! the sample, on both sides alike).

use std::path::Path;
use std::time::Duration;

use crate::guest::{GuestTree, Programs, Ready, IMAGE};
use crate::plan::Plan;
use crate::stats::{size_label, Row, Unit, Way};

/// The group of every row here.
const GROUP: &str = "file";
/// Longest one guest run may take.
const RUN_LIMIT: Duration = Duration::from_secs(600);

/// "write 4 KiB", "read 1 MiB".
fn name(op: &str, size: usize) -> String {
    format!("{op} {}", size_label(size))
}

fn args(plan: &Plan, dir: &str) -> Vec<String> {
    let mut a = vec![
        "file".to_string(),
        dir.to_string(),
        plan.file_samples.to_string(),
    ];
    a.extend(plan.file_transfers.iter().map(|(s, t)| format!("{s}:{t}")));
    a
}

/// Every row of `way`, missing for `why`.
fn missing(plan: &Plan, way: Way, why: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    for op in ["write", "read"] {
        for &(size, total) in &plan.file_transfers {
            rows.push(Row::missing(
                GROUP,
                name(op, size),
                way,
                Unit::Throughput { bytes: total },
                why,
            ));
        }
    }
    rows
}

/// The rows of `vupbench file`'s "fwrite SIZE TOTAL NS..." and "fread ..."
/// lines, writes first.
fn parse(plan: &Plan, way: Way, text: &str, note: &str) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    for (tag, op) in [("fwrite", "write"), ("fread", "read")] {
        for &(size, _) in &plan.file_transfers {
            let line = text
                .lines()
                .find(|l| {
                    let mut w = l.split_whitespace();
                    w.next() == Some(tag) && w.next() == Some(&size.to_string())
                })
                .ok_or_else(|| format!("no '{tag} {size}' line in {text:?}"))?;
            let v: Vec<f64> = line
                .split_whitespace()
                .skip(2)
                .filter_map(|w| w.parse().ok())
                .collect();
            let total = v.first().copied().unwrap_or(0.0) as u64;
            let samples = &v[1.min(v.len())..];
            rows.push(
                Row::measured(
                    GROUP,
                    name(op, size),
                    way,
                    Unit::Throughput { bytes: total },
                    samples,
                    format!(
                        "{} × {} {op}s of {} ({} MiB)",
                        samples.len(),
                        total / size as u64,
                        size_label(size),
                        total >> 20
                    ),
                )
                .with_note(note),
            );
        }
    }
    Ok(rows)
}

/// A fresh directory on the host's temp file system, removed on drop.
fn scratch(tag: &str) -> Result<tempfile::TempDir, String> {
    tempfile::Builder::new()
        .prefix(&format!("vup-bench-file-{tag}-"))
        .tempdir()
        .map_err(|e| format!("cannot make a temp dir: {e}"))
}

/// `vupbench file` natively, in a temp directory.
pub fn host_rows(plan: &Plan, programs: Result<&Programs, &String>) -> Vec<Row> {
    let run = || -> Result<Vec<Row>, String> {
        let programs = programs.map_err(Clone::clone)?;
        let dir = scratch("host")?;
        let out = std::process::Command::new(programs.dir.join(IMAGE))
            .args(args(plan, &dir.path().to_string_lossy()))
            .output()
            .map_err(|e| format!("cannot run vupbench: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "vupbench file failed: {}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let note = format!(
            "vupbench (musl, static) natively; file in {}, page cache",
            std::env::temp_dir().display()
        );
        parse(
            plan,
            Way::Host,
            &String::from_utf8_lossy(&out.stdout),
            &note,
        )
    };
    run().unwrap_or_else(|e| missing(plan, Way::Host, &e))
}

/// `vupbench file /` as the root of a tree whose `--writable` root is a
/// temp directory holding a copy of `vupbench`.
pub fn guest_rows(plan: &Plan, ready: &Ready) -> Vec<Row> {
    let run = || -> Result<Vec<Row>, String> {
        let (programs, qemu) = ready.as_ref().map_err(Clone::clone)?;
        let root = scratch("root")?;
        copy(&programs.dir.join(IMAGE), &root.path().join(IMAGE))?;
        let tree = GuestTree::start_in(qemu, programs, root.path(), true, &args(plan, "/"))?;
        let (host0, guest0) = tree.tagged_at("clock", RUN_LIMIT)?;
        let mut text = String::new();
        for _ in 0..2 * plan.file_transfers.len() {
            let (_, l) = tree.line(RUN_LIMIT)?;
            text.push_str(&l);
            text.push('\n');
        }
        let (host1, guest1) = tree.tagged_at("clock", RUN_LIMIT)?;
        tree.wait(RUN_LIMIT);
        let num = |s: &str| s.trim().parse::<f64>().unwrap_or(0.0);
        let note = format!(
            "guest clock ({:.3} s guest / {:.3} s host); same binary, --writable root in {}",
            (num(&guest1) - num(&guest0)) / 1e9,
            (host1 - host0).as_secs_f64(),
            std::env::temp_dir().display()
        );
        parse(plan, Way::Guest, &text, &note)
    };
    run().unwrap_or_else(|e| missing(plan, Way::Guest, &format!("guest run failed: {e}")))
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("cannot copy {}: {e}", from.display()))
}
