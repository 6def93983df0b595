//! vhost-user-pipe-bench: pipe latency and throughput, fork and spawn
//! latency, density and file throughput ([`file`]) of vhost-user-pipe,
//! each side by side with the host
//! measured in the same run. A program that prints numbers, not a test.
//!
//! ```text
//! cargo run --release -p vhost-user-pipe-bench -- [--quick] [--out DIR]
//! ```
//!
//! Three ways of running the same workload:
//! - **backend**: the daemon alone, driven by host-side vhost-user
//!   frontends (`system_tests::frontend::TestGuest`), no QEMU ([`backend`]);
//! - **host**: plain Linux processes and pipes ([`host`]);
//! - **guest**: unikernel VMs under QEMU TCG ([`guest`]);
//!
//! and a fourth that bounds what the design can reach: **floor**, host
//! threads doing only the backend's eventfd wakeups ([`floor`]). Pipe rows
//! are taken in three placements ([`proc::Placement`]): free, one CPU and
//! two CPUs, and the run ends with the backend's standing against the
//! targets ([`report::targets`]).
//!
//! See BENCHMARKS.md at the workspace root for the figures and their reading.

pub mod backend;
pub mod daemon;
pub mod density;
pub mod file;
pub mod floor;
pub mod guest;
pub mod host;
pub mod plan;
pub mod pool;
pub mod proc;
pub mod report;
pub mod stats;
pub mod tree_density;
