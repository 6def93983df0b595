//! The host's TSC frequency, measured once per daemon and passed to every
//! guest kernel as `kernel.tsc_khz=` so that no VM times its TSC against
//! the PIT at boot (~6 ms of every cold boot).
//!
//! It is the guest's rate too: under TCG QEMU's `rdtsc` reads the host's
//! TSC (offset only), and under KVM the guest's TSC runs at the host's
//! unless QEMU asks for TSC scaling (`tsc-frequency=`), in which case QEMU
//! states the guest's rate in CPUID leaf `0x4000_0010`, which the guest
//! kernel prefers. It is the same for every VM of the daemon, so a VM
//! booted before it knows which process it becomes (a pool) gets it too.
//!
//! Only a TSC the host kernel calls invariant (`constant_tsc` and
//! `nonstop_tsc` in `/proc/cpuinfo`) is measured; otherwise the guest
//! falls back to the PIT.

use std::sync::OnceLock;
use std::time::Duration;

/// How long the TSC is counted against `CLOCK_MONOTONIC`.
const WINDOW: Duration = Duration::from_millis(10);
/// Readings of the pair (TSC, clock) taken at each end; the tightest wins.
const TRIES: usize = 8;
/// Frequencies believed, in kHz: 100 MHz to 100 GHz.
const PLAUSIBLE_KHZ: std::ops::RangeInclusive<u64> = 100_000..=100_000_000;

static KHZ: OnceLock<Option<u64>> = OnceLock::new();

/// The host's TSC frequency in kHz, `None` where it is not invariant or
/// cannot be read. The first call measures (about 10 ms); later ones,
/// from any thread, return the same value (waiting for a measurement
/// under way).
pub fn khz() -> Option<u64> {
    *KHZ.get_or_init(measure)
}

/// Starts the measurement on a thread of its own, so that it runs while
/// the daemon does other start-up work; [`khz`] then waits at most for
/// what is left of it.
pub fn measure_in_background() {
    if KHZ.get().is_none() {
        let _ = std::thread::Builder::new()
            .name("tsc-measure".into())
            .spawn(khz);
    }
}

/// Whether the host kernel says the TSC runs at a constant rate in every
/// state (`constant_tsc` and `nonstop_tsc`).
fn invariant(cpuinfo: &str) -> bool {
    let flags: Vec<&str> = cpuinfo
        .lines()
        .find(|l| l.starts_with("flags"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, f)| f.split_whitespace().collect())
        .unwrap_or_default();
    flags.contains(&"constant_tsc") && flags.contains(&"nonstop_tsc")
}

#[cfg(target_arch = "x86_64")]
fn measure() -> Option<u64> {
    if !invariant(&std::fs::read_to_string("/proc/cpuinfo").ok()?) {
        return None;
    }
    let (tsc0, ns0) = reading()?;
    std::thread::sleep(WINDOW);
    let (tsc1, ns1) = reading()?;
    khz_from(tsc1.checked_sub(tsc0)?, ns1.checked_sub(ns0)?)
}

#[cfg(not(target_arch = "x86_64"))]
fn measure() -> Option<u64> {
    None
}

/// kHz from `ticks` over `ns` nanoseconds, if the window was long enough
/// and the result plausible.
fn khz_from(ticks: u64, ns: u64) -> Option<u64> {
    if ns < WINDOW.as_nanos() as u64 / 2 {
        return None;
    }
    let khz = (u128::from(ticks) * 1_000_000 / u128::from(ns)) as u64;
    PLAUSIBLE_KHZ.contains(&khz).then_some(khz)
}

/// One (TSC, `CLOCK_MONOTONIC` ns) pair: the clock read between two TSC
/// reads, the TSC taken at their midpoint, from the tightest of a few
/// tries (a preemption in between widens one try, not all of them).
#[cfg(target_arch = "x86_64")]
fn reading() -> Option<(u64, u64)> {
    let mut best: Option<(u64, u64, u64)> = None;
    for _ in 0..TRIES {
        let before = rdtsc();
        let ns = monotonic_ns()?;
        let after = rdtsc();
        let width = after.wrapping_sub(before);
        if after >= before && best.map_or(true, |b| width < b.2) {
            best = Some((before + width / 2, ns, width));
        }
    }
    best.map(|(tsc, ns, _)| (tsc, ns))
}

#[cfg(target_arch = "x86_64")]
fn rdtsc() -> u64 {
    // SAFETY: `rdtsc` exists on every x86-64 CPU and only reads the counter.
    unsafe { core::arch::x86_64::_rdtsc() }
}

#[cfg(target_arch = "x86_64")]
fn monotonic_ns() -> Option<u64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime(2) writes one timespec into `ts`.
    if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) } != 0 {
        return None;
    }
    Some(ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invariance_needs_both_flags_of_the_flags_line() {
        let both = "processor\t: 0\nflags\t\t: fpu tsc constant_tsc rep_good nonstop_tsc\n";
        assert!(invariant(both));
        assert!(!invariant("flags\t\t: fpu tsc constant_tsc\n"));
        assert!(!invariant("flags\t\t: fpu tsc nonstop_tsc\n"));
        // The words elsewhere do not count.
        assert!(!invariant(
            "bugs\t\t: constant_tsc nonstop_tsc\nflags\t\t: fpu\n"
        ));
        assert!(!invariant(""));
    }

    #[test]
    fn khz_from_ticks_and_window() {
        // 25,961,300 ticks in 10 ms: 2.5961300 GHz.
        assert_eq!(khz_from(25_961_300, 10_000_000), Some(2_596_130));
        // A window cut short is not trusted.
        assert_eq!(khz_from(2_596_130, 1_000_000), None);
        // Absurd rates are refused.
        assert_eq!(khz_from(10, 10_000_000), None);
        assert_eq!(khz_from(u64::MAX, 10_000_000), None);
    }

    /// On an invariant-TSC host the measurement is there and agrees with
    /// a second, independent one to 0.1 %.
    #[test]
    fn measured_rate_is_stable() {
        let Some(first) = khz() else {
            let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
            assert!(
                !invariant(&cpuinfo) || !cfg!(target_arch = "x86_64"),
                "an invariant TSC was not measured"
            );
            return;
        };
        let second = measure().expect("a second measurement");
        let diff = first.abs_diff(second);
        assert!(diff * 1000 <= first, "{first} kHz then {second} kHz");
    }
}
