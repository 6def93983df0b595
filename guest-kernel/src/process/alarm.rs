//! The real-time interval timer: `alarm(2)` and `setitimer(ITIMER_REAL)`.
//! One per process, hence per VM: its expiry is
//! `arch::time::ALARM_AT_NS` (every sleep and every wait for the device
//! wakes for it, and the way back to user mode arms the LAPIC for it), its
//! interval lives here. When it expires the process gets `SIGALRM`, then
//! again every interval. A fork child starts without one ([`forget`]).

use core::sync::atomic::{AtomicU64, Ordering};

use super::Process;
use crate::arch::x86_64::time::{self, ALARM_AT_NS};
use crate::linux::sig::{SIGALRM, SI_KERNEL};
use crate::linux::Siginfo;

/// The interval (ns; 0: one shot).
static INTERVAL_NS: AtomicU64 = AtomicU64::new(0);

/// The timer as `getitimer` shows it: (ns until it expires, 0 if
/// disarmed; interval ns).
pub fn get() -> (u64, u64) {
    let at = ALARM_AT_NS.load(Ordering::Relaxed);
    let left = if at == u64::MAX {
        0
    } else {
        // An expiry not yet noticed shows as 1 ns left, not "disarmed".
        at.saturating_sub(time::monotonic_ns()).max(1)
    };
    (left, INTERVAL_NS.load(Ordering::Relaxed))
}

/// Arms the timer to expire in `value_ns` (0 disarms it), then every
/// `interval_ns`; returns what it was (as [`get`]).
pub fn set(value_ns: u64, interval_ns: u64) -> (u64, u64) {
    let old = get();
    let at = if value_ns == 0 {
        u64::MAX
    } else {
        time::monotonic_ns().saturating_add(value_ns)
    };
    INTERVAL_NS.store(
        if value_ns == 0 { 0 } else { interval_ns },
        Ordering::Relaxed,
    );
    ALARM_AT_NS.store(at, Ordering::Relaxed);
    old
}

/// Raises `SIGALRM` if the timer has expired, and re-arms it (an
/// interval timer that fell behind skips the expiries it missed: standard
/// signals do not queue anyway).
pub fn check(p: &mut Process) {
    let at = ALARM_AT_NS.load(Ordering::Relaxed);
    let now = time::monotonic_ns();
    if now < at {
        return;
    }
    let interval = INTERVAL_NS.load(Ordering::Relaxed);
    let next = match (now - at).checked_div(interval) {
        None => u64::MAX,
        Some(missed) => at + (missed + 1) * interval,
    };
    ALARM_AT_NS.store(next, Ordering::Relaxed);
    // A vfork child borrowing the VM: the timer is the suspended owner's.
    let signals = match p.vfork_parents.first_mut() {
        Some(owner) => &mut owner.signals,
        None => &mut p.signals,
    };
    signals.raise(SIGALRM, Siginfo::kill(SIGALRM, SI_KERNEL, 0, 0));
}

/// A fork child has no timer of its own (POSIX `fork`).
pub fn forget() {
    set(0, 0);
}
