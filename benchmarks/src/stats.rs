//! Samples, their summaries and the rows of the report.

use serde_json::{json, Value};

/// Median, p99 and friends of one set of samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Number of samples.
    pub n: usize,
    /// Median.
    pub median: f64,
    /// 99th percentile (nearest rank).
    pub p99: f64,
    /// Smallest sample.
    pub min: f64,
    /// Mean.
    pub mean: f64,
}

impl Summary {
    /// Summarises `samples` (any order); `None` when there are none.
    pub fn of(samples: &[f64]) -> Option<Self> {
        if samples.is_empty() {
            return None;
        }
        let mut s = samples.to_vec();
        s.sort_by(f64::total_cmp);
        let rank = |q: f64| {
            let i = (q * s.len() as f64).ceil() as usize;
            s[i.clamp(1, s.len()) - 1]
        };
        Some(Self {
            n: s.len(),
            median: rank(0.5),
            p99: rank(0.99),
            min: s[0],
            mean: s.iter().sum::<f64>() / s.len() as f64,
        })
    }
}

/// Row names shared by the three ways, so that rows line up with the host's.
pub mod names {
    /// 1-byte ping-pong.
    pub const RTT: &str = "round trip 1 B";
    /// fork() until it returns in the parent.
    pub const FORK_RETURNS: &str = "fork: call returns";
    /// fork + exit in the child + wait in the parent.
    pub const FORK_TOTAL: &str = "fork + exit + wait";
    /// posix_spawn (a vfork and an exec, in musl and glibc) until it
    /// returns in the parent.
    pub const SPAWN_RETURNS: &str = "vfork+exec (posix_spawn): call returns";
    /// posix_spawn until the child's first output reaches the parent.
    pub const SPAWN_RUNS: &str = "vfork+exec (posix_spawn): child runs user code";
    /// posix_spawn + exit + wait.
    pub const SPAWN_TOTAL: &str = "vfork+exec + exit + wait";
    /// execve in place, from the call to the new program's `main`.
    pub const EXEC: &str = "exec: execve -> new program's main";
    /// VMM start until `main` of one guest.
    pub const COLD_BOOT: &str = "cold boot: QEMU start -> main";

    /// Throughput with writes of `size` bytes.
    pub fn throughput(size: usize) -> String {
        format!("throughput {}", super::size_label(size))
    }

    /// 1-byte ping-pong in placement `p`.
    pub fn rtt_at(p: crate::proc::Placement) -> String {
        format!("{RTT}{}", p.suffix())
    }

    /// Throughput with writes of `size` bytes in placement `p`.
    pub fn throughput_at(size: usize, p: crate::proc::Placement) -> String {
        format!("{}{}", throughput(size), p.suffix())
    }
}

/// "4 KiB", "64 KiB", "1 MiB".
pub fn size_label(size: usize) -> String {
    if size >= 1 << 20 && size % (1 << 20) == 0 {
        format!("{} MiB", size >> 20)
    } else if size >= 1024 && size % 1024 == 0 {
        format!("{} KiB", size >> 10)
    } else {
        format!("{size} B")
    }
}

/// Where a figure was measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// The daemon alone, driven by host-side vhost-user frontends (TestGuest).
    Backend,
    /// Plain Linux on this host.
    Host,
    /// Unikernel guests under QEMU (TCG).
    Guest,
    /// Host threads that only pass the backend path's eventfd wakeups,
    /// with no vring and no pipe work: the cost of the notifications alone.
    Floor,
}

impl Way {
    /// The short name used in the table and the JSON.
    pub fn name(self) -> &'static str {
        match self {
            Way::Backend => "backend",
            Way::Host => "host",
            Way::Guest => "guest",
            Way::Floor => "floor",
        }
    }
}

/// How a row's numbers read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A duration; samples are nanoseconds, lower is better.
    Nanos,
    /// Throughput; samples are nanoseconds per `bytes`, shown as GiB/s.
    Throughput {
        /// Bytes moved per sample.
        bytes: u64,
    },
    /// A size in bytes, lower is better.
    Bytes,
    /// CPU time as a share of one core, in percent.
    CpuPercent,
}

/// One line of the report.
#[derive(Debug, Clone)]
pub struct Row {
    /// Group: "pipe", "process", "density".
    pub group: &'static str,
    /// What was measured, e.g. "round trip 1 B".
    pub name: String,
    /// Where.
    pub way: Way,
    /// How the samples read.
    pub unit: Unit,
    /// The figures, or why there are none.
    pub result: Result<Summary, String>,
    /// What one sample is ("20 × 2048 writes of 4 KiB").
    pub iterations: String,
    /// A remark printed after the numbers.
    pub note: String,
    /// The host row this row is compared with, when its name differs.
    pub vs: Option<String>,
}

impl Row {
    /// A row with figures.
    pub fn measured(
        group: &'static str,
        name: impl Into<String>,
        way: Way,
        unit: Unit,
        samples: &[f64],
        iterations: impl Into<String>,
    ) -> Self {
        let name = name.into();
        Self {
            group,
            result: Summary::of(samples).ok_or_else(|| "no samples".to_string()),
            name,
            way,
            unit,
            iterations: iterations.into(),
            note: String::new(),
            vs: None,
        }
    }

    /// A row that could not be measured, with the reason.
    pub fn missing(
        group: &'static str,
        name: impl Into<String>,
        way: Way,
        unit: Unit,
        why: impl Into<String>,
    ) -> Self {
        Self {
            group,
            name: name.into(),
            way,
            unit,
            result: Err(why.into()),
            iterations: String::new(),
            note: String::new(),
            vs: None,
        }
    }

    /// The round-trip and throughput rows of `way` in placement `p`, all
    /// missing for `why` (the placement cannot be set up here).
    pub fn missing_pipe_rows(
        transfers: &[crate::plan::Transfer],
        way: Way,
        p: crate::proc::Placement,
        why: &str,
    ) -> Vec<Self> {
        let mut rows = vec![Self::missing(
            "pipe",
            names::rtt_at(p),
            way,
            Unit::Nanos,
            why,
        )];
        rows.extend(transfers.iter().map(|t| {
            Self::missing(
                "pipe",
                names::throughput_at(t.size, p),
                way,
                Unit::Throughput { bytes: 1 },
                why,
            )
        }));
        rows
    }

    /// Compares this row with the host row named `name`.
    pub fn compared_with(mut self, name: impl Into<String>) -> Self {
        self.vs = Some(name.into());
        self
    }

    /// Adds a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }

    /// The median in display units (µs, GiB/s, KiB, %).
    pub fn median_display(&self) -> Option<f64> {
        self.result
            .as_ref()
            .ok()
            .map(|s| display(self.unit, s.median))
    }

    /// The p99 in display units; for throughput the slowest 1 % of samples.
    pub fn p99_display(&self) -> Option<f64> {
        self.result.as_ref().ok().map(|s| display(self.unit, s.p99))
    }

    /// Median cost of this row relative to `host` (>1: slower than the host).
    pub fn ratio_to(&self, host: &Row) -> Option<f64> {
        let a = self.result.as_ref().ok()?.median;
        let b = host.result.as_ref().ok()?.median;
        (b > 0.0).then(|| a / b)
    }

    /// The row as JSON.
    pub fn to_json(&self, ratio: Option<f64>) -> Value {
        let mut v = json!({
            "group": self.group,
            "name": self.name,
            "way": self.way.name(),
            "unit": unit_name(self.unit),
            "iterations": self.iterations,
            "note": self.note,
        });
        match &self.result {
            Ok(s) => {
                v["samples"] = json!(s.n);
                v["median"] = json!(display(self.unit, s.median));
                v["p99"] = json!(display(self.unit, s.p99));
                v["best"] = json!(display(self.unit, s.min));
                v["raw_median"] = json!(s.median);
                v["raw_p99"] = json!(s.p99);
                if let Some(r) = ratio {
                    v["vs_host"] = json!(r);
                }
            }
            Err(why) => v["missing"] = json!(why),
        }
        v
    }
}

/// The display unit's name.
pub fn unit_name(u: Unit) -> &'static str {
    match u {
        Unit::Nanos => "us",
        Unit::Throughput { .. } => "GiB/s",
        Unit::Bytes => "KiB",
        Unit::CpuPercent => "% of a core",
    }
}

/// A raw sample in display units.
pub fn display(u: Unit, raw: f64) -> f64 {
    match u {
        Unit::Nanos => raw / 1e3,
        Unit::Throughput { bytes } => bytes as f64 / raw * 1e9 / (1u64 << 30) as f64,
        Unit::Bytes => raw / 1024.0,
        Unit::CpuPercent => raw,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_p99_use_nearest_rank() {
        let samples: Vec<f64> = (1..=100).map(f64::from).collect();
        let s = Summary::of(&samples).unwrap();
        assert_eq!((s.median, s.p99, s.min), (50.0, 99.0, 1.0));
    }

    #[test]
    fn throughput_shows_gib_per_second() {
        let one_gib = 1u64 << 30;
        assert_eq!(display(Unit::Throughput { bytes: one_gib }, 1e9), 1.0);
    }
}
