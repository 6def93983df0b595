//! `<time.h>` and `<sys/time.h>`.

use virtio_pipe_protocol::Errno;

use super::errno;
use crate::arch::x86_64::time;

/// `struct timespec`.
#[repr(C)]
#[derive(Debug)]
pub struct Timespec {
    tv_sec: i64,
    tv_nsec: i64,
}

/// `struct timeval`.
#[repr(C)]
#[derive(Debug)]
pub struct Timeval {
    tv_sec: i64,
    tv_usec: i64,
}

const CLOCK_REALTIME: i32 = 0;
const CLOCK_MONOTONIC: i32 = 1;

/// `clock_gettime` (REALTIME, MONOTONIC and the other monotonic clocks).
///
/// # Safety
///
/// `ts` writable.
#[no_mangle]
pub unsafe extern "C" fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32 {
    let ns = match clock {
        CLOCK_REALTIME => time::realtime_ns(),
        CLOCK_MONOTONIC | 2..=7 => time::monotonic_ns(),
        _ => {
            errno::set(Errno::Einval);
            return -1;
        }
    };
    // SAFETY: as documented.
    unsafe {
        *ts = Timespec {
            tv_sec: (ns / 1_000_000_000) as i64,
            tv_nsec: (ns % 1_000_000_000) as i64,
        }
    };
    0
}

/// `gettimeofday`.
///
/// # Safety
///
/// `tv` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gettimeofday(tv: *mut Timeval, _tz: *mut u8) -> i32 {
    let ns = time::realtime_ns();
    if !tv.is_null() {
        // SAFETY: as documented.
        unsafe {
            *tv = Timeval {
                tv_sec: (ns / 1_000_000_000) as i64,
                tv_usec: ((ns / 1_000) % 1_000_000) as i64,
            }
        };
    }
    0
}

/// `time`.
///
/// # Safety
///
/// `t` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn time(t: *mut i64) -> i64 {
    let s = (time::realtime_ns() / 1_000_000_000) as i64;
    if !t.is_null() {
        // SAFETY: as documented.
        unsafe { *t = s };
    }
    s
}

/// `nanosleep`.
///
/// # Safety
///
/// `req` readable; `rem` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn nanosleep(req: *const Timespec, rem: *mut Timespec) -> i32 {
    // SAFETY: as documented.
    let r = unsafe { &*req };
    if r.tv_nsec < 0 || r.tv_nsec >= 1_000_000_000 || r.tv_sec < 0 {
        errno::set(Errno::Einval);
        return -1;
    }
    time::sleep_ns(r.tv_sec as u64 * 1_000_000_000 + r.tv_nsec as u64);
    if !rem.is_null() {
        // SAFETY: as documented.
        unsafe {
            *rem = Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            }
        };
    }
    0
}

/// `clock`: processor time, approximated by time since boot, in microseconds.
#[no_mangle]
pub extern "C" fn clock() -> i64 {
    (time::monotonic_ns() / 1_000) as i64
}
