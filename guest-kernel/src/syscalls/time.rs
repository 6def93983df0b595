//! Clocks and sleeping, all local: the monotonic clock is the TSC since
//! this VM's first instruction, the wall clock the RTC at boot plus the
//! TSC since. A sleep halts the CPU on a LAPIC one-shot and ends early,
//! with `EINTR`, when a signal arrives that would be delivered.

use super::{Args, Ctx};
use crate::arch::x86_64::time::{self as clock_hw, Woken};
use crate::linux::clock::*;
use crate::linux::{Errno, Itimerval, SysResult, Timespec, Timeval, ITIMER_REAL};
use crate::process::{alarm, deliver, Process};

/// Sleeps `ns` nanoseconds (`None`: until a signal). Returns the time
/// left if a deliverable signal cut the sleep short.
pub fn sleep(p: &mut Process, ns: Option<u64>) -> Option<u64> {
    if deliver::interrupting_signal(p) {
        return Some(ns.unwrap_or(0));
    }
    let deadline = ns.map_or(u64::MAX, |n| clock_hw::monotonic_ns().saturating_add(n));
    match clock_hw::sleep_until(deadline, &mut || deliver::interrupting_signal(p)) {
        Woken::Elapsed => None,
        Woken::Interrupted(left) => Some(left),
    }
}

/// The value of clock `clk` in nanoseconds.
pub(super) fn now(clk: u64) -> Result<u64, Errno> {
    match clk {
        CLOCK_REALTIME | CLOCK_REALTIME_COARSE | 8 | 11 => Ok(clock_hw::realtime_ns()),
        CLOCK_MONOTONIC
        | CLOCK_MONOTONIC_RAW
        | CLOCK_MONOTONIC_COARSE
        | CLOCK_BOOTTIME
        | CLOCK_PROCESS_CPUTIME_ID
        | CLOCK_THREAD_CPUTIME_ID
        | 9 => Ok(clock_hw::monotonic_ns()),
        _ => Err(Errno::EINVAL),
    }
}

/// `clock_gettime(clockid, tp)`. The CPU-time clocks read the monotonic
/// clock: the VM runs nothing but this process.
pub fn clock_gettime(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (clk, tp) = (a[0], a[1]);
    let t = Timespec::from_ns(now(clk)?);
    cx.p.space.write(tp, &t)?;
    Ok(0)
}

/// `clock_getres(clockid, res)`: 1 ns.
pub fn clock_getres(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (clk, res) = (a[0], a[1]);
    now(clk)?;
    if res != 0 {
        cx.p.space.write(res, &Timespec::from_ns(1))?;
    }
    Ok(0)
}

/// `gettimeofday(tv, tz)`.
pub fn gettimeofday(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (tv, tz) = (a[0], a[1]);
    if tv != 0 {
        let ns = clock_hw::realtime_ns();
        let t = Timeval {
            tv_sec: (ns / 1_000_000_000) as i64,
            tv_usec: ((ns / 1_000) % 1_000_000) as i64,
        };
        cx.p.space.write(tv, &t)?;
    }
    if tz != 0 {
        cx.p.space.write(tz, &[0i32; 2])?;
    }
    Ok(0)
}

/// `time(tloc)`.
pub fn time(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let tloc = a[0];
    let secs = clock_hw::realtime_ns() / 1_000_000_000;
    if tloc != 0 {
        cx.p.space.write(tloc, &secs)?;
    }
    Ok(secs)
}

fn read_timespec(cx: &mut Ctx<'_>, at: u64) -> Result<u64, Errno> {
    let t: Timespec = cx.p.space.read(at)?;
    t.to_ns().ok_or(Errno::EINVAL)
}

/// `nanosleep(req, rem)`.
pub fn nanosleep(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (req, rem) = (a[0], a[1]);
    let ns = read_timespec(cx, req)?;
    match sleep(cx.p, Some(ns)) {
        None => Ok(0),
        Some(left) => {
            if rem != 0 {
                cx.p.space.write(rem, &Timespec::from_ns(left))?;
            }
            Err(Errno::EINTR)
        }
    }
}

/// `clock_nanosleep(clockid, flags, req, rem)`.
pub fn clock_nanosleep(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (clk, flags, req, rem) = (a[0], a[1], a[2], a[3]);
    let t = read_timespec(cx, req)?;
    let base = now(clk)?;
    let absolute = flags & TIMER_ABSTIME != 0;
    let ns = if absolute { t.saturating_sub(base) } else { t };
    match sleep(cx.p, Some(ns)) {
        None => Ok(0),
        Some(left) => {
            if rem != 0 && !absolute {
                cx.p.space.write(rem, &Timespec::from_ns(left))?;
            }
            Err(Errno::EINTR)
        }
    }
}

/// The real-time timer as `getitimer` shows it. A value that rounds to
/// 0 us but is armed shows as 1 us (Linux does the same), not "disarmed".
fn itimerval_now() -> Itimerval {
    let (left, interval) = alarm::get();
    let mut value = Timeval::from_ns(left);
    if left > 0 && value == Timeval::default() {
        value.tv_usec = 1;
    }
    Itimerval {
        it_interval: Timeval::from_ns(interval),
        it_value: value,
    }
}

/// `getitimer(which, curr)`: `ITIMER_REAL` only (the VM runs nothing but
/// this process, so the CPU-time timers would count the same; they are
/// `EINVAL` with a log line rather than a guess).
pub fn getitimer(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (which, curr) = (a[0], a[1]);
    if which != ITIMER_REAL {
        log::info!("pid {}: getitimer({which}): only ITIMER_REAL", cx.p.pid);
        return Err(Errno::EINVAL);
    }
    cx.p.space.write(curr, &itimerval_now())?;
    Ok(0)
}

/// `setitimer(which, new, old)`: `ITIMER_REAL`, as [`getitimer`].
pub fn setitimer(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (which, new, old) = (a[0], a[1], a[2]);
    if which != ITIMER_REAL {
        log::info!("pid {}: setitimer({which}): only ITIMER_REAL", cx.p.pid);
        return Err(Errno::EINVAL);
    }
    let previous = itimerval_now();
    if new != 0 {
        let v: Itimerval = cx.p.space.read(new)?;
        let value = v.it_value.to_ns().ok_or(Errno::EINVAL)?;
        let interval = v.it_interval.to_ns().ok_or(Errno::EINVAL)?;
        alarm::set(value, interval);
    }
    if old != 0 {
        cx.p.space.write(old, &previous)?;
    }
    Ok(0)
}

/// `alarm(seconds)`: the seconds left of the previous alarm (rounded to
/// the nearest, at least 1 if one was armed), as Linux's `alarm_setitimer`.
pub fn alarm(_cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let secs = a[0] as u32;
    let (left, _) = alarm::set(u64::from(secs) * 1_000_000_000, 0);
    let old = (left + 500_000_000) / 1_000_000_000;
    Ok(if left > 0 { old.max(1) } else { 0 })
}
