//! `errno` and the message table behind `strerror`/`perror`.

use core::sync::atomic::{AtomicI32, Ordering};

use virtio_pipe_protocol::Errno;

/// The process's `errno` (one thread, so one variable).
#[cfg_attr(not(test), no_mangle)]
#[allow(non_upper_case_globals)]
pub static mut errno: i32 = 0;

static LAST: AtomicI32 = AtomicI32::new(0);

/// `__errno_location`: where `errno` lives (what `<errno.h>` dereferences).
#[cfg_attr(not(test), no_mangle)]
pub extern "C" fn __errno_location() -> *mut i32 {
    core::ptr::addr_of_mut!(errno)
}

/// Sets `errno`.
pub fn set(e: Errno) {
    set_raw(e.code() as i32);
}

/// Sets `errno` to a raw value.
pub fn set_raw(v: i32) {
    LAST.store(v, Ordering::Relaxed);
    // SAFETY: single-threaded process; no reference to `errno` is held.
    unsafe { __errno_location().write(v) };
}

/// Maps a `Result` to C: the value, or -1 with `errno` set.
pub fn ret<T>(r: Result<T, Errno>, ok: impl FnOnce(T) -> i64) -> i64 {
    match r {
        Ok(v) => ok(v),
        Err(e) => {
            set(e);
            -1
        }
    }
}

/// The message for an errno value, NUL-terminated.
pub fn message(code: i32) -> &'static [u8] {
    match code {
        0 => b"Success\0",
        1 => b"Operation not permitted\0",
        2 => b"No such file or directory\0",
        3 => b"No such process\0",
        4 => b"Interrupted system call\0",
        5 => b"Input/output error\0",
        7 => b"Argument list too long\0",
        8 => b"Exec format error\0",
        9 => b"Bad file descriptor\0",
        10 => b"No child processes\0",
        11 => b"Resource temporarily unavailable\0",
        12 => b"Cannot allocate memory\0",
        14 => b"Bad address\0",
        22 => b"Invalid argument\0",
        23 => b"Too many open files in system\0",
        24 => b"Too many open files\0",
        32 => b"Broken pipe\0",
        34 => b"Numerical result out of range\0",
        36 => b"File name too long\0",
        38 => b"Function not implemented\0",
        _ => b"Unknown error\0",
    }
}
