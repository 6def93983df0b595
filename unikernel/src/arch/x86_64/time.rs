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
static EPOCH_SECONDS: AtomicU64 = AtomicU64::new(0);
static TSC_AT_EPOCH_READ: AtomicU64 = AtomicU64::new(0);

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
    EPOCH_SECONDS.store(rtc::unix_seconds(), Ordering::Relaxed);
    TSC_AT_EPOCH_READ.store(cpu::rdtsc(), Ordering::Relaxed);
}

/// The calibrated TSC frequency.
pub fn tsc_hz() -> u64 {
    TSC_HZ.load(Ordering::Relaxed)
}

/// Converts TSC ticks to nanoseconds.
pub fn tsc_to_ns(ticks: u64) -> u64 {
    (u128::from(ticks) * 1_000_000_000 / u128::from(tsc_hz())) as u64
}

/// Nanoseconds since the guest's first instruction.
pub fn monotonic_ns() -> u64 {
    tsc_to_ns(cpu::rdtsc().wrapping_sub(super::boot::entry_tsc()))
}

/// Nanoseconds since the Unix epoch (RTC at boot + TSC since).
pub fn realtime_ns() -> u64 {
    let since = tsc_to_ns(cpu::rdtsc().wrapping_sub(TSC_AT_EPOCH_READ.load(Ordering::Relaxed)));
    EPOCH_SECONDS.load(Ordering::Relaxed) * 1_000_000_000 + since
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
