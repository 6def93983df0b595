//! Timekeeping: the TSC for the clocks, its frequency stated by the CPU
//! or the daemon (`tsc_freq`) or else calibrated against the PIT; the
//! LAPIC timer, calibrated against the TSC, for sleeping (one-shot
//! interrupt + `hlt`).

use core::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};

use super::tsc_freq::{self, Known};
use super::{apic, cpu, interrupts, pit, rtc};

/// PIT ticks to calibrate over: about 5 ms.
const CALIBRATION_PIT_TICKS: u64 = pit::PIT_HZ / 200;
/// The LAPIC timer is timed against a known TSC for this long: 0.5 ms.
const LAPIC_CALIBRATION_DIVISOR: u64 = 2000;
/// Assumed TSC rate when no PIT answers.
const FALLBACK_TSC_HZ: u64 = 2_000_000_000;

static TSC_HZ: AtomicU64 = AtomicU64::new(FALLBACK_TSC_HZ);
static LAPIC_HZ: AtomicU64 = AtomicU64::new(1_000_000_000);
/// The wall clock (ns since the Unix epoch) at TSC `TSC_AT_EPOCH_READ`.
static EPOCH_NS: AtomicU64 = AtomicU64::new(0);
static TSC_AT_EPOCH_READ: AtomicU64 = AtomicU64::new(0);
/// The monotonic clock at this VM's first instruction: 0, or for a fork
/// child its parent's clock at the fork.
static MONO_AT_ENTRY_NS: AtomicU64 = AtomicU64::new(0);

/// Where the TSC's frequency came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TscSource {
    /// Stated: by the CPU or the command line.
    Stated(tsc_freq::Source),
    /// Timed against the PIT.
    Pit,
    /// Nothing answered: [`FALLBACK_TSC_HZ`] assumed.
    Assumed,
}

static SOURCE: AtomicU8 = AtomicU8::new(0);

/// Finds the TSC's frequency (the CPU's statement, else `tsc_khz` from the
/// command line, else the PIT), calibrates the LAPIC timer and reads the
/// RTC.
pub fn init(tsc_khz: Option<u64>) {
    let known = tsc_freq::from_cpu(&cpu::cpuid).or_else(|| tsc_khz.and_then(tsc_freq::from_khz));
    let source = match known {
        Some(Known {
            tsc_hz,
            lapic_hz,
            source,
        }) => {
            TSC_HZ.store(tsc_hz, Ordering::Relaxed);
            let lapic_hz = lapic_hz.unwrap_or_else(|| lapic_against_tsc(tsc_hz));
            LAPIC_HZ.store(lapic_hz.max(1), Ordering::Relaxed);
            TscSource::Stated(source)
        }
        None if pit::present() => {
            calibrate_against_pit();
            TscSource::Pit
        }
        None => TscSource::Assumed,
    };
    // Whether or not it was used: a PIT left running wakes the VMM.
    pit::stop();
    SOURCE.store(
        match source {
            TscSource::Stated(tsc_freq::Source::HypervisorLeaf) => 1,
            TscSource::Stated(tsc_freq::Source::Cpuid15) => 2,
            TscSource::Stated(tsc_freq::Source::CommandLine) => 3,
            TscSource::Pit => 4,
            TscSource::Assumed => 0,
        },
        Ordering::Relaxed,
    );
    EPOCH_NS.store(rtc::unix_seconds() * 1_000_000_000, Ordering::Relaxed);
    TSC_AT_EPOCH_READ.store(cpu::rdtsc(), Ordering::Relaxed);
}

/// Where [`tsc_hz`] came from.
pub fn tsc_source() -> TscSource {
    match SOURCE.load(Ordering::Relaxed) {
        1 => TscSource::Stated(tsc_freq::Source::HypervisorLeaf),
        2 => TscSource::Stated(tsc_freq::Source::Cpuid15),
        3 => TscSource::Stated(tsc_freq::Source::CommandLine),
        4 => TscSource::Pit,
        _ => TscSource::Assumed,
    }
}

/// Times the TSC and the LAPIC timer against ~5 ms of PIT ticks.
fn calibrate_against_pit() {
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

/// The LAPIC timer's rate, timed against a TSC of known frequency over
/// half a millisecond. Each read of the counter is bracketed by TSC reads
/// and placed at their midpoint, so the cost of the (emulated) register
/// read does not bias the result.
fn lapic_against_tsc(tsc_hz: u64) -> u64 {
    let read = || {
        let before = cpu::rdtsc();
        let count = apic::timer_current();
        let after = cpu::rdtsc();
        (before / 2 + after / 2, count)
    };
    apic::timer_start_masked(u32::MAX);
    let (t0, c0) = read();
    let window = tsc_hz / LAPIC_CALIBRATION_DIVISOR;
    while cpu::rdtsc().wrapping_sub(t0) < window {
        core::hint::spin_loop();
    }
    let (t1, c1) = read();
    apic::timer_start_masked(0);
    let tsc_ticks = t1.wrapping_sub(t0).max(1);
    (u128::from(c0.wrapping_sub(c1)) * u128::from(tsc_hz) / u128::from(tsc_ticks)) as u64
}

/// The calibrated TSC frequency.
pub fn tsc_hz() -> u64 {
    TSC_HZ.load(Ordering::Relaxed)
}

/// Converts TSC ticks to nanoseconds.
pub fn tsc_to_ns(ticks: u64) -> u64 {
    (u128::from(ticks) * 1_000_000_000 / u128::from(tsc_hz())) as u64
}

/// Nanoseconds of this VM's run: since its first instruction.
pub fn since_entry_ns() -> u64 {
    tsc_to_ns(cpu::rdtsc().wrapping_sub(super::boot::entry_tsc()))
}

/// Nanoseconds of the monotonic clock: since the process's first VM
/// booted (a fork child continues its parent's clock).
pub fn monotonic_ns() -> u64 {
    MONO_AT_ENTRY_NS.load(Ordering::Relaxed) + since_entry_ns()
}

/// A fork child's clocks: the calibration is the parent's (carried with
/// the statics); the monotonic clock continues from the parent's value at
/// the fork (`parent_mono_ns`) plus this VM's own run time, and the wall
/// clock is the later of the RTC and the parent's at the fork plus that
/// run time (`fork::child_realtime_ns`).
pub fn rebase_after_fork(parent_mono_ns: u64, parent_real_ns: u64) {
    let since = since_entry_ns();
    MONO_AT_ENTRY_NS.store(parent_mono_ns, Ordering::Relaxed);
    let real = child_realtime_ns(rtc::unix_seconds(), parent_real_ns, since);
    EPOCH_NS.store(real, Ordering::Relaxed);
    TSC_AT_EPOCH_READ.store(cpu::rdtsc(), Ordering::Relaxed);
}

/// The child's wall clock at its resume: never earlier than the parent's at
/// the fork plus the time the child has run (`since_entry_ns`), and never
/// earlier than its own RTC reading (whole seconds).
fn child_realtime_ns(rtc_seconds: u64, parent_real_ns: u64, since_entry_ns: u64) -> u64 {
    rtc_seconds
        .saturating_mul(1_000_000_000)
        .max(parent_real_ns.saturating_add(since_entry_ns))
}

/// Nanoseconds since the Unix epoch (RTC at boot + TSC since).
pub fn realtime_ns() -> u64 {
    let since = tsc_to_ns(cpu::rdtsc().wrapping_sub(TSC_AT_EPOCH_READ.load(Ordering::Relaxed)));
    EPOCH_NS.load(Ordering::Relaxed) + since
}

/// How a sleep ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Woken {
    /// The time passed.
    Elapsed,
    /// `interrupted()` said stop, with this many nanoseconds left.
    Interrupted(u64),
}

/// When the real-time interval timer (`alarm`, `setitimer`) next expires
/// (monotonic ns; `u64::MAX`: never). Every sleep wakes for it as well,
/// and the way back to user mode arms the LAPIC for it
/// ([`arm_for_alarm`]), so `SIGALRM` arrives on time whether the program
/// runs, sleeps or waits for the device.
pub static ALARM_AT_NS: AtomicU64 = AtomicU64::new(u64::MAX);

/// Whether the alarm's time has come.
pub fn alarm_due() -> bool {
    monotonic_ns() >= ALARM_AT_NS.load(Ordering::Relaxed)
}

/// LAPIC ticks from now until `deadline_ns` (at least 1).
fn ticks_until(deadline_ns: u64) -> u32 {
    let left_ns = deadline_ns.saturating_sub(monotonic_ns());
    (u128::from(left_ns) * u128::from(LAPIC_HZ.load(Ordering::Relaxed)) / 1_000_000_000)
        .clamp(1, u128::from(u32::MAX)) as u32
}

/// Arms the LAPIC for the alarm, if one is set: its interrupt brings the
/// CPU back into the kernel, whose way out delivers `SIGALRM`.
pub fn arm_for_alarm() {
    let at = ALARM_AT_NS.load(Ordering::Relaxed);
    if at != u64::MAX {
        apic::timer_oneshot(ticks_until(at));
    }
}

/// Sleeps until the monotonic clock reads `deadline_ns`, with the CPU
/// halted. After every device interrupt, and when the alarm is due,
/// `interrupted` is asked whether to stop early (it should poll the
/// device, the interrupt flag is consumed, and settle the alarm).
pub fn sleep_until(deadline_ns: u64, interrupted: &mut dyn FnMut() -> bool) -> Woken {
    let result = loop {
        let now = monotonic_ns();
        if now >= deadline_ns {
            break Woken::Elapsed;
        }
        let irq = interrupts::DEVICE_IRQ.swap(false, Ordering::AcqRel);
        if (irq || alarm_due()) && interrupted() {
            break Woken::Interrupted(deadline_ns - now);
        }
        let wake = deadline_ns.min(ALARM_AT_NS.load(Ordering::Relaxed).max(now + 1));
        apic::timer_oneshot(ticks_until(wake));
        wait_either();
    };
    apic::timer_oneshot(0);
    result
}

/// Halts until the device interrupts or, with a deadline, until the
/// monotonic clock reads `deadline_ns` (at once if it has); the alarm's
/// time ends the halt too. The caller polls the device afterwards
/// whatever woke it.
pub fn wait_device(deadline_ns: Option<u64>) {
    let wake = deadline_ns
        .unwrap_or(u64::MAX)
        .min(ALARM_AT_NS.load(Ordering::Relaxed));
    if wake == u64::MAX {
        cpu::wait_for(&interrupts::DEVICE_IRQ);
        return;
    }
    if monotonic_ns() >= wake {
        return;
    }
    apic::timer_oneshot(ticks_until(wake));
    wait_either();
    apic::timer_oneshot(0);
}

static ANY_IRQ: AtomicBool = AtomicBool::new(false);

/// Halts until the timer or the device interrupts.
fn wait_either() {
    cpu::cli();
    if interrupts::TIMER_IRQ.swap(false, Ordering::AcqRel)
        || interrupts::DEVICE_IRQ.load(Ordering::Acquire)
    {
        return;
    }
    // Any interrupt ends the halt; `ANY_IRQ` is only the flag `wait_for`
    // clears, the timer and device flags stay for their owners.
    cpu::wait_for(&ANY_IRQ);
    interrupts::TIMER_IRQ.store(false, Ordering::Release);
}
