//! Locking, and what a panic while holding a lock means.
//!
//! The daemon's shared state (the kernel above all: pipes, fd tables, the
//! process table) is changed under mutexes by many threads, one per guest.
//! A thread that panics while holding one of them may have stopped an
//! update halfway: a pipe pumped to the middle, a process half ended, a
//! reference count not yet dropped. Nothing can prove such a state
//! consistent, and serving on from it could hand one guest's bytes to
//! another or leak every fd of the tree. So a poisoned lock is fatal, as in
//! Firecracker: the daemon says which lock and stops with
//! [`EXIT_POISONED`]; its VMs end with it (`PR_SET_PDEATHSIG`), and its run
//! directory stays behind for the logs.
//!
//! A panic *outside* every lock (in a guest's chain parsing, say) poisons
//! nothing: the worker that caught it ends only that guest's process
//! (`backend.rs`), and the others go on.

use std::sync::{Condvar, Mutex, MutexGuard, WaitTimeoutResult};
use std::time::Duration;

/// The daemon's exit code when a lock was poisoned (`EX_SOFTWARE`).
pub const EXIT_POISONED: i32 = 70;

/// What to do just before that exit (the host terminal's modes are put
/// back: `lib.rs` registers `terminal::restore_saved`).
static BEFORE_FATAL_EXIT: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

/// Registers `f` to run just before a poisoned lock ends the daemon (the
/// first registration holds).
pub fn before_fatal_exit(f: fn()) {
    let _ = BEFORE_FATAL_EXIT.set(f);
}

#[cold]
fn poisoned() -> ! {
    let what = std::thread::current()
        .name()
        .map(str::to_owned)
        .unwrap_or_default();
    log::error!(
        "fatal: a thread panicked while updating the daemon's shared state \
         (seen by thread '{what}'); it cannot be trusted any more, ending the daemon"
    );
    eprintln!("vhost-user-pipe: fatal: internal state lost to a panic; see the log above");
    if let Some(f) = BEFORE_FATAL_EXIT.get() {
        f();
    }
    std::process::exit(EXIT_POISONED)
}

/// Locks `m`; a poisoned lock ends the daemon (see the module docs).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|_| poisoned())
}

/// Waits on `cv` with `guard`; a poisoned lock ends the daemon.
pub fn wait<'a, T>(cv: &Condvar, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
    cv.wait(guard).unwrap_or_else(|_| poisoned())
}

/// Waits on `cv` with `guard` for at most `limit`; a poisoned lock ends the daemon.
pub fn wait_timeout<'a, T>(
    cv: &Condvar,
    guard: MutexGuard<'a, T>,
    limit: Duration,
) -> (MutexGuard<'a, T>, WaitTimeoutResult) {
    cv.wait_timeout(guard, limit).unwrap_or_else(|_| poisoned())
}
