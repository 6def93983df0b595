//! Timekeeping: the TSC calibrated against the PIT for the clock, the LAPIC
//! timer calibrated against the TSC for sleeping (one-shot interrupt + `hlt`).

use core::sync::atomic::{AtomicU64, Ordering};

use super::{apic, cpu, interrupts, pit, rtc};

/// PIT ticks to calibrate over: about 5 ms.
const CALIBRATION_PIT_TICKS: u64 = pit::PIT_HZ / 200;
/// Assumed TSC rate when no PIT answers.
const FALLBACK_TSC_HZ: u64 = 2_000_000_000;

static TSC_HZ: AtomicU64 = AtomicU64::new(FALLBACK_TSC_HZ);
static LAPIC_HZ: AtomicU64 = AtomicU64::new(1_000_000_000);
/// The wall clock (ns since the Unix epoch) at TSC `TSC_AT_EPOCH_READ`.
static EPOCH_NS: AtomicU64 = AtomicU64::new(0);
static TSC_AT_EPOCH_READ: AtomicU64 = AtomicU64::new(0);
/// Monotonic ticks that passed before this VM's first instruction: 0, or
/// for a fork child the parent's monotonic clock at the fork.
static MONO_OFFSET_TICKS: AtomicU64 = AtomicU64::new(0);

/// Calibrates the TSC and the LAPIC timer, and reads the RTC.
pub fn init() {
    if pit::present() {
        pit::start();
        let mut last = pit::read();
        let mut elapsed = 0u64;
        let tsc0 = cpu::rdtsc();
        apic::timer_start_masked(u32::MAX);
        while elapsed < CALIBRATION_PIT_TICKS {
            let now = pit::read();
            elapsed += u64::from(last.wrapping_sub(now));
            last = now;
        }
        let tsc1 = cpu::rdtsc();
        let lapic_ticks = u64::from(u32::MAX - apic::timer_current());
        apic::timer_start_masked(0);
        let hz = |ticks: u64| ticks * pit::PIT_HZ / elapsed;
        TSC_HZ.store(hz(tsc1 - tsc0).max(1), Ordering::Relaxed);
        LAPIC_HZ.store(hz(lapic_ticks).max(1), Ordering::Relaxed);
    }
    EPOCH_NS.store(rtc::unix_seconds() * 1_000_000_000, Ordering::Relaxed);
    TSC_AT_EPOCH_READ.store(cpu::rdtsc(), Ordering::Relaxed);
}

/// A fork child's clocks: the calibration is the parent's (same host, same
/// TSC rate); the monotonic clock continues from the parent's value at the
/// fork (`parent_mono_ticks`) plus the time since this VM's first
/// instruction (so it leaves out the time the new QEMU took to start); the
/// wall clock is re-read from this VM's RTC and kept no earlier than the
/// parent's at the fork plus that same time.
pub fn rebase_after_fork(parent_mono_ticks: u64, parent_real_ns: u64) {
    MONO_OFFSET_TICKS.store(parent_mono_ticks, Ordering::Relaxed);
    let rtc = rtc::unix_seconds();
    let now = cpu::rdtsc();
    let since_entry = tsc_to_ns(now.wrapping_sub(super::boot::entry_tsc()));
    let real = crate::process::fork_record::child_realtime_ns(rtc, parent_real_ns, since_entry);
    EPOCH_NS.store(real, Ordering::Relaxed);
    TSC_AT_EPOCH_READ.store(now, Ordering::Relaxed);
}

/// The calibrated TSC frequency.
pub fn tsc_hz() -> u64 {
    TSC_HZ.load(Ordering::Relaxed)
}

/// Converts TSC ticks to nanoseconds.
pub fn tsc_to_ns(ticks: u64) -> u64 {
    (u128::from(ticks) * 1_000_000_000 / u128::from(tsc_hz())) as u64
}

/// TSC ticks of the monotonic clock: since the guest's first instruction,
/// plus, in a fork child, the parent's clock at the fork.
pub fn monotonic_ticks() -> u64 {
    cpu::rdtsc()
        .wrapping_sub(super::boot::entry_tsc())
        .wrapping_add(MONO_OFFSET_TICKS.load(Ordering::Relaxed))
}

/// Nanoseconds of the monotonic clock (see [`monotonic_ticks`]).
pub fn monotonic_ns() -> u64 {
    tsc_to_ns(monotonic_ticks())
}

/// Nanoseconds since the Unix epoch (RTC at boot + TSC since).
pub fn realtime_ns() -> u64 {
    let since = tsc_to_ns(cpu::rdtsc().wrapping_sub(TSC_AT_EPOCH_READ.load(Ordering::Relaxed)));
    EPOCH_NS.load(Ordering::Relaxed) + since
}

/// Sleeps `ns` nanoseconds with the CPU halted.
pub fn sleep_ns(ns: u64) {
    let deadline = cpu::rdtsc() + (u128::from(ns) * u128::from(tsc_hz()) / 1_000_000_000) as u64;
    loop {
        let now = cpu::rdtsc();
        if now >= deadline {
            break;
        }
        let left_ns = tsc_to_ns(deadline - now);
        let ticks = (u128::from(left_ns) * u128::from(LAPIC_HZ.load(Ordering::Relaxed))
            / 1_000_000_000)
            .clamp(1, u128::from(u32::MAX)) as u32;
        apic::timer_oneshot(ticks);
        cpu::wait_for(&interrupts::TIMER_IRQ);
    }
    apic::timer_oneshot(0);
}
