//! `<stdlib.h>`: the allocator, number parsing, exit and abort.

use alloc::alloc::{alloc, alloc_zeroed, dealloc, Layout};
use core::ffi::c_char;

use spinning_top::Spinlock;
use virtio_pipe_protocol::signal::SIGABRT;
use virtio_pipe_protocol::{Errno, ExitKind};

use super::{errno, stdio};
use crate::process;

/// Bytes before each block holding its size (keeps 16-byte alignment).
const HEADER: usize = 16;

fn layout(size: usize) -> Option<Layout> {
    Layout::from_size_align(size.checked_add(HEADER)?, 16).ok()
}

/// `malloc`.
#[no_mangle]
pub extern "C" fn malloc(size: usize) -> *mut u8 {
    let Some(l) = layout(size) else {
        errno::set(Errno::Enomem);
        return core::ptr::null_mut();
    };
    // SAFETY: the layout is non-zero-sized.
    let p = unsafe { alloc(l) };
    if p.is_null() {
        errno::set(Errno::Enomem);
        return p;
    }
    // SAFETY: the block has HEADER bytes before the user part.
    unsafe {
        (p as *mut usize).write(size);
        p.add(HEADER)
    }
}

/// `calloc`.
#[no_mangle]
pub extern "C" fn calloc(n: usize, size: usize) -> *mut u8 {
    let Some(l) = n.checked_mul(size).and_then(layout) else {
        errno::set(Errno::Enomem);
        return core::ptr::null_mut();
    };
    // SAFETY: non-zero-sized layout.
    let p = unsafe { alloc_zeroed(l) };
    if p.is_null() {
        errno::set(Errno::Enomem);
        return p;
    }
    // SAFETY: as in `malloc`.
    unsafe {
        (p as *mut usize).write(n * size);
        p.add(HEADER)
    }
}

/// `free`.
///
/// # Safety
///
/// `p` is NULL or came from this allocator and is not used again.
#[no_mangle]
pub unsafe extern "C" fn free(p: *mut u8) {
    if p.is_null() {
        return;
    }
    // SAFETY: `p` came from `malloc`/`calloc`/`realloc`, so the header precedes it.
    unsafe {
        let base = p.sub(HEADER);
        let size = (base as *const usize).read();
        dealloc(base, layout(size).expect("size was valid at allocation"));
    }
}

/// `realloc`.
///
/// # Safety
///
/// As for [`free`].
#[no_mangle]
pub unsafe extern "C" fn realloc(p: *mut u8, size: usize) -> *mut u8 {
    if p.is_null() {
        return malloc(size);
    }
    let q = malloc(size);
    if q.is_null() {
        return q;
    }
    // SAFETY: both blocks are valid for the smaller of their sizes.
    unsafe {
        let old = (p.sub(HEADER) as *const usize).read();
        core::ptr::copy_nonoverlapping(p, q, old.min(size));
        free(p);
    }
    q
}

fn parse_signed(s: &[u8], base: u32) -> (i64, usize) {
    let mut i = 0;
    while i < s.len() && (s[i] == b' ' || (b'\t'..=b'\r').contains(&s[i])) {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let mut base = base;
    if (base == 0 || base == 16)
        && s.get(i) == Some(&b'0')
        && matches!(s.get(i + 1), Some(b'x' | b'X'))
    {
        i += 2;
        base = 16;
    } else if base == 0 && s.get(i) == Some(&b'0') {
        base = 8;
    } else if base == 0 {
        base = 10;
    }
    let start = i;
    let mut v: i64 = 0;
    while let Some(d) = s.get(i).and_then(|c| (*c as char).to_digit(base)) {
        v = v.wrapping_mul(i64::from(base)).wrapping_add(i64::from(d));
        i += 1;
    }
    if i == start {
        return (0, 0);
    }
    (if neg { v.wrapping_neg() } else { v }, i)
}

/// `strtol`.
///
/// # Safety
///
/// `s` NUL-terminated; `end` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strtol(s: *const c_char, end: *mut *mut c_char, base: i32) -> i64 {
    // SAFETY: as documented.
    let (v, n) = parse_signed(unsafe { super::cstr(s) }, base as u32);
    if !end.is_null() {
        // SAFETY: as documented; `n` is within the string.
        unsafe { *end = s.add(n) as *mut c_char };
    }
    v
}

/// `strtoll`.
///
/// # Safety
///
/// As for [`strtol`].
#[no_mangle]
pub unsafe extern "C" fn strtoll(s: *const c_char, end: *mut *mut c_char, base: i32) -> i64 {
    // SAFETY: same contract.
    unsafe { strtol(s, end, base) }
}

/// `strtoul`.
///
/// # Safety
///
/// As for [`strtol`].
#[no_mangle]
pub unsafe extern "C" fn strtoul(s: *const c_char, end: *mut *mut c_char, base: i32) -> u64 {
    // SAFETY: same contract.
    unsafe { strtol(s, end, base) as u64 }
}

/// `strtoull`.
///
/// # Safety
///
/// As for [`strtol`].
#[no_mangle]
pub unsafe extern "C" fn strtoull(s: *const c_char, end: *mut *mut c_char, base: i32) -> u64 {
    // SAFETY: same contract.
    unsafe { strtol(s, end, base) as u64 }
}

/// `atoi`.
///
/// # Safety
///
/// `s` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn atoi(s: *const c_char) -> i32 {
    // SAFETY: as documented.
    unsafe { strtol(s, core::ptr::null_mut(), 10) as i32 }
}

/// `atol`.
///
/// # Safety
///
/// `s` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn atol(s: *const c_char) -> i64 {
    // SAFETY: as documented.
    unsafe { strtol(s, core::ptr::null_mut(), 10) }
}

/// `atoll`.
///
/// # Safety
///
/// `s` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn atoll(s: *const c_char) -> i64 {
    // SAFETY: as documented.
    unsafe { atol(s) }
}

/// `abs`.
#[no_mangle]
pub extern "C" fn abs(v: i32) -> i32 {
    v.wrapping_abs()
}

/// `labs`.
#[no_mangle]
pub extern "C" fn labs(v: i64) -> i64 {
    v.wrapping_abs()
}

const ATEXIT_MAX: usize = 32;
static ATEXIT: Spinlock<([Option<extern "C" fn()>; ATEXIT_MAX], usize)> =
    Spinlock::new(([None; ATEXIT_MAX], 0));

/// `atexit`.
#[no_mangle]
pub extern "C" fn atexit(f: extern "C" fn()) -> i32 {
    let mut t = ATEXIT.lock();
    let n = t.1;
    if n == ATEXIT_MAX {
        return -1;
    }
    t.0[n] = Some(f);
    t.1 += 1;
    0
}

/// What `exit` runs: atexit handlers (last first), then flushes stdio.
pub fn run_exit_hooks() {
    loop {
        let f = {
            let mut t = ATEXIT.lock();
            if t.1 == 0 {
                break;
            }
            t.1 -= 1;
            let n = t.1;
            t.0[n].take()
        };
        if let Some(f) = f {
            f();
        }
    }
    stdio::flush_all();
}

/// `exit`: runs atexit handlers, flushes stdio, reports `EXIT`, powers off.
#[no_mangle]
pub extern "C" fn exit(code: i32) -> ! {
    run_exit_hooks();
    process::exit_immediately(code)
}

/// `_exit`: no handlers, no flushing.
#[no_mangle]
pub extern "C" fn _exit(code: i32) -> ! {
    process::exit_immediately(code)
}

/// `_Exit`.
#[no_mangle]
pub extern "C" fn _Exit(code: i32) -> ! {
    process::exit_immediately(code)
}

/// `abort`: dies of `SIGABRT`.
#[no_mangle]
pub extern "C" fn abort() -> ! {
    stdio::flush_all();
    process::exit_with(ExitKind::Signaled(SIGABRT as u8))
}

/// `getenv`.
///
/// # Safety
///
/// `name` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn getenv(name: *const c_char) -> *mut c_char {
    // SAFETY: as documented.
    let name = unsafe { super::cstr(name) };
    for var in process::args::env() {
        if var.len() > name.len() && var.starts_with(name) && var[name.len()] == b'=' {
            return var[name.len() + 1..].as_ptr() as *mut c_char;
        }
    }
    core::ptr::null_mut()
}

/// `strdup`.
///
/// # Safety
///
/// `s` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn strdup(s: *const c_char) -> *mut c_char {
    // SAFETY: as documented.
    unsafe { strndup(s, usize::MAX) }
}

/// `strndup`.
///
/// # Safety
///
/// `s` NUL-terminated or `n` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn strndup(s: *const c_char, n: usize) -> *mut c_char {
    // SAFETY: as documented.
    let len = unsafe { super::string::strnlen(s, n) };
    let p = malloc(len + 1);
    if !p.is_null() {
        // SAFETY: `p` has `len + 1` bytes; `s` has `len` readable bytes.
        unsafe {
            core::ptr::copy_nonoverlapping(s.cast(), p, len);
            *p.add(len) = 0;
        }
    }
    p.cast()
}
