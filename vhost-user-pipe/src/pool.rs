//! The pool of parked VMs: what it is for, its ids and how big it should be.
//!
//! A process VM spends most of its cold start before the program's first
//! instruction: QEMU's start-up, the vhost-user set-up, the firmware and the
//! guest kernel's boot (`BENCHMARKS.md`, "Issue 16"). None of that depends on
//! which process the VM becomes: every Linux program's VM boots the same
//! process kernel. So the process manager (`supervisor/`) keeps a few VMs
//! booted ahead of time. Each has connected, negotiated and submitted
//! `START`, which the supervisor holds: the guest halts waiting for the
//! answer (parked: no CPU, nothing running). A spawn or an exec into a new
//! VM then re-binds a parked VM's connection to the new process and lets its
//! `START` answer "fresh"; a fork answers "land" and copies the parent's RAM
//! into the parked VM (spec 1.6.12, 1.6.15). A background thread refills the
//! pool, one VM at a time.
//!
//! This file holds the parts that are plain data: the VM ids, the size
//! policy, and the refill state. The supervisor holds the VMs themselves in
//! its one map of host records, under their VM ids until they are taken.

use std::time::Duration;

use crate::process::Pid;

pub use crate::process::FIRST_VM_ID;

/// Parked VMs `run` keeps by default (`--pool`). Measured (`BENCHMARKS.md`,
/// "Issue 16"): each parked VM costs about 15 MiB of PSS and no CPU at
/// idle, and a pipeline gets a parked VM per stage up to the pool's size;
/// four covers the pipelines a shell usually starts.
pub const DEFAULT_SIZE: usize = 4;

/// After this many parked VMs in a row fail to boot, the pool gives up:
/// something is wrong with the image or QEMU, and a cold launch reports it.
pub const MAX_FAILURES_IN_A_ROW: u32 = 3;

/// How long a taken parked VM may take to land for a fork (spec:
/// `drv-start-land`) before the fork falls back to a cold VM.
pub const LAND_DEADLINE: Duration = Duration::from_secs(2);

/// How long after a parked VM is taken the pool waits before it boots a
/// replacement (and it never boots one while a process's VM is still
/// booting cold): the new process's own start, tens of milliseconds of
/// CPU under TCG, should not share two cores with a QEMU starting up.
/// Measured: with the refill right after the take, a pool spawn's child
/// ran user code 24 ms after the call; see `BENCHMARKS.md`, "Issue 16".
pub const REFILL_DELAY: Duration = Duration::from_millis(30);

/// Whether `pid` is a VM id of the pool rather than a process.
pub fn is_vm_id(pid: Pid) -> bool {
    pid >= FIRST_VM_ID
}

/// How many VMs the pool should hold: `size`, less what the process limit
/// leaves no room for (`spare` processes can still be created), so a parked
/// VM never stands for a process the tree may not have.
pub fn wanted(size: usize, spare: usize) -> usize {
    size.min(spare)
}

/// The refill thread's state.
#[derive(Debug, Default)]
pub struct PoolState {
    /// The next VM id to give.
    next_id: u32,
    /// Parked VMs that failed to boot, in a row.
    pub failures: u32,
    /// No more VMs: the tree is ending, or booting them kept failing.
    pub closed: bool,
    /// Parked VMs given to processes.
    pub taken: usize,
    /// When a parked VM was last given to a process.
    pub last_take: Option<std::time::Instant>,
}

impl PoolState {
    /// A fresh VM id.
    pub fn next_id(&mut self) -> Pid {
        let id = FIRST_VM_ID + self.next_id;
        self.next_id = self.next_id.wrapping_add(1) % FIRST_VM_ID;
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_ids_are_never_pids_and_wrap_within_their_range() {
        let mut s = PoolState::default();
        assert_eq!(s.next_id(), FIRST_VM_ID);
        assert!(is_vm_id(s.next_id()));
        assert!(!is_vm_id(FIRST_VM_ID - 1));
        s.next_id = FIRST_VM_ID - 1;
        assert_eq!(s.next_id(), 2 * FIRST_VM_ID - 1);
        assert_eq!(s.next_id(), FIRST_VM_ID);
    }

    #[test]
    fn the_pool_never_outgrows_the_process_limit() {
        assert_eq!(wanted(4, 100), 4);
        assert_eq!(wanted(4, 2), 2);
        assert_eq!(wanted(4, 0), 0);
        assert_eq!(wanted(0, 10), 0);
    }
}
