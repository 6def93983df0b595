//! Whom one vhost-user connection serves. A connection is opened for a
//! process, or for a parked VM of the pool (`pool.rs`) under a VM id; the
//! process manager re-binds a parked VM to the process it becomes, and the
//! backend, which reads the binding on every use, serves that process from
//! the next request on.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use crate::process::{Pid, Waker};

/// Whom a connection serves: a process, or, for a parked VM of the pool
/// (`pool.rs`), a VM id until the process manager gives that VM a process
/// ([`Binding::rebind`]). The backend reads it on every use, so a re-bound
/// VM's next request is the new process's.
#[derive(Default)]
pub struct Binding {
    pid: AtomicU32,
    /// The feature bits the driver acknowledged last.
    features: AtomicU64,
    /// Wakes the connection's thread (set by the connector).
    waker: OnceLock<Waker>,
}

impl std::fmt::Debug for Binding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Binding").field("pid", &self.pid()).finish()
    }
}

impl Binding {
    /// A connection that serves `pid`.
    pub fn new(pid: Pid) -> Arc<Self> {
        Arc::new(Self {
            pid: AtomicU32::new(pid),
            ..Self::default()
        })
    }

    /// The process (or VM id) served now.
    pub fn pid(&self) -> Pid {
        self.pid.load(Ordering::Acquire)
    }

    /// Serves `pid` from now on. The caller (the process manager) makes
    /// the move atomic for everyone who looks the VM up by its pid.
    pub fn rebind(&self, pid: Pid) {
        self.pid.store(pid, Ordering::Release);
    }

    /// The feature bits the driver acknowledged last.
    pub fn features(&self) -> u64 {
        self.features.load(Ordering::Acquire)
    }

    /// Records the feature bits the driver acknowledged.
    pub fn set_features(&self, features: u64) {
        self.features.store(features, Ordering::Release);
    }

    /// What wakes the connection's thread, once it serves.
    pub fn waker(&self) -> Option<Waker> {
        self.waker.get().cloned()
    }

    /// Sets what wakes the connection's thread (once).
    pub fn set_waker(&self, waker: Waker) {
        let _ = self.waker.set(waker);
    }
}
