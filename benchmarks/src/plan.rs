//! How much of everything to measure: the default run (about 2 minutes on
//! a 2-core TCG host) and `--quick` (about 20 seconds).

use crate::stats::size_label;

/// One throughput configuration: writes of `size` bytes.
#[derive(Debug, Clone, Copy)]
pub struct Transfer {
    /// Bytes per WRITE.
    pub size: usize,
    /// Bytes per sample, backend and host.
    pub total: u64,
    /// Bytes per sample between guests (TCG is slow).
    pub guest_total: u64,
}

impl Transfer {
    /// "4 KiB".
    pub fn label(&self) -> String {
        size_label(self.size)
    }

    /// Bytes per host sample.
    pub fn host_total(&self) -> u64 {
        self.total
    }
}

/// Iteration counts and caps.
#[derive(Debug, Clone)]
pub struct Plan {
    /// `--quick`.
    pub quick: bool,
    /// Round trips before measuring.
    pub warmup: usize,
    /// Measured 1-byte round trips (backend and host).
    pub rtt_iters: usize,
    /// Measured 1-byte round trips between guests.
    pub guest_rtt_iters: usize,
    /// Throughput samples per size (all ways).
    pub tput_samples: usize,
    /// Throughput configurations.
    pub transfers: Vec<Transfer>,
    /// Host fork and spawn repetitions.
    pub process_iters_host: usize,
    /// Guest spawns (each is a QEMU start).
    pub guest_spawns: usize,
    /// Cold boots of one guest.
    pub cold_boots: usize,
    /// Tree sizes for the backend-only density steps.
    pub density_backend: Vec<usize>,
    /// Tree sizes (processes, root included) for the QEMU density steps.
    pub density_qemu: Vec<usize>,
    /// Seconds over which idle CPU is measured at each step.
    pub idle_window_s: f64,
    /// Passes over the file per size (file rows, host and guest alike).
    pub file_samples: usize,
    /// File rows: (bytes per `write`/`read` call, file size).
    pub file_transfers: Vec<(usize, u64)>,
}

const KIB: usize = 1024;
const MIB: usize = 1024 * 1024;

impl Plan {
    /// The plan for a default or `--quick` run.
    pub fn new(quick: bool) -> Self {
        let t = |size: usize, total: usize, guest_total: usize| Transfer {
            size,
            total: total as u64,
            guest_total: guest_total as u64,
        };
        if quick {
            Self {
                quick,
                warmup: 200,
                rtt_iters: 2_000,
                guest_rtt_iters: 300,
                tput_samples: 5,
                transfers: vec![
                    t(4 * KIB, 4 * MIB, MIB),
                    t(64 * KIB, 16 * MIB, 4 * MIB),
                    t(MIB, 32 * MIB, 16 * MIB),
                ],
                process_iters_host: 100,
                guest_spawns: 5,
                cold_boots: 5,
                density_backend: vec![1, 16, 64],
                density_qemu: vec![1, 4, 16],
                idle_window_s: 1.0,
                file_samples: 3,
                file_transfers: vec![(4 * KIB, 16 * MIB as u64), (MIB, 64 * MIB as u64)],
            }
        } else {
            Self {
                quick,
                warmup: 1_000,
                rtt_iters: 20_000,
                guest_rtt_iters: 5_000,
                tput_samples: 20,
                transfers: vec![
                    t(4 * KIB, 16 * MIB, 2 * MIB),
                    t(64 * KIB, 64 * MIB, 8 * MIB),
                    t(MIB, 128 * MIB, 32 * MIB),
                ],
                process_iters_host: 1_000,
                guest_spawns: 30,
                cold_boots: 30,
                density_backend: vec![1, 16, 64, 256],
                density_qemu: vec![1, 16, 64, 128, 256],
                idle_window_s: 3.0,
                file_samples: 10,
                file_transfers: vec![(4 * KIB, 16 * MIB as u64), (MIB, 64 * MIB as u64)],
            }
        }
    }

    /// Keeps only the transfers with these write sizes; sizes the plan
    /// does not have get totals scaled from the nearest one it has.
    pub fn only_sizes(&mut self, sizes: &[usize]) {
        let known = self.transfers.clone();
        self.transfers = sizes
            .iter()
            .filter(|&&s| s > 0 && s <= 2 * MIB)
            .map(|&size| {
                let near = known
                    .iter()
                    .min_by_key(|t| t.size.abs_diff(size))
                    .copied()
                    .expect("the plan has transfers");
                let scale = |total: u64| (total / near.size as u64).max(1) * size as u64;
                Transfer {
                    size,
                    total: scale(near.total),
                    guest_total: scale(near.guest_total),
                }
            })
            .collect();
    }
}
