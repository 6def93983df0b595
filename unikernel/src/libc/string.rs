//! `<string.h>`: NUL-terminated string functions.

use core::ffi::c_char;

use super::mem::{memcpy, memset};

/// `strlen`.
///
/// # Safety
///
/// `s` must be NUL-terminated.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn strlen(s: *const c_char) -> usize {
    let mut n = 0;
    // SAFETY: the caller guarantees a NUL before the end of the allocation.
    while unsafe { *s.add(n) } != 0 {
        n += 1;
    }
    n
}

/// `strnlen`.
///
/// # Safety
///
/// `s` must be NUL-terminated or have `max` readable bytes.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn strnlen(s: *const c_char, max: usize) -> usize {
    let mut n = 0;
    // SAFETY: as documented.
    while n < max && unsafe { *s.add(n) } != 0 {
        n += 1;
    }
    n
}

/// `strcmp`.
///
/// # Safety
///
/// Both strings must be NUL-terminated.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn strcmp(a: *const c_char, b: *const c_char) -> i32 {
    // SAFETY: same contract; usize::MAX never limits.
    unsafe { strncmp(a, b, usize::MAX) }
}

/// `strncmp`.
///
/// # Safety
///
/// Both strings must be NUL-terminated or have `n` readable bytes.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn strncmp(a: *const c_char, b: *const c_char, n: usize) -> i32 {
    let mut i = 0;
    while i < n {
        // SAFETY: we stop at the first NUL or difference.
        let (x, y) = unsafe { (*a.add(i) as u8, *b.add(i) as u8) };
        if x != y || x == 0 {
            return i32::from(x) - i32::from(y);
        }
        i += 1;
    }
    0
}

/// `strcpy`.
///
/// # Safety
///
/// `src` NUL-terminated; `dst` has room for it and its NUL.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn strcpy(dst: *mut c_char, src: *const c_char) -> *mut c_char {
    // SAFETY: as documented.
    unsafe { memcpy(dst.cast(), src.cast(), strlen(src) + 1) };
    dst
}

/// `strncpy`: copies at most `n` bytes, padding with NULs.
///
/// # Safety
///
/// `dst` has `n` bytes; `src` NUL-terminated or `n` readable bytes.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn strncpy(dst: *mut c_char, src: *const c_char, n: usize) -> *mut c_char {
    // SAFETY: as documented.
    unsafe {
        let k = strnlen(src, n);
        memcpy(dst.cast(), src.cast(), k);
        memset(dst.add(k).cast(), 0, n - k);
    }
    dst
}

/// `strcat`.
///
/// # Safety
///
/// Both NUL-terminated; `dst` has room for the result.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn strcat(dst: *mut c_char, src: *const c_char) -> *mut c_char {
    // SAFETY: as documented.
    unsafe { strcpy(dst.add(strlen(dst)), src) };
    dst
}

/// `strncat`.
///
/// # Safety
///
/// As for [`strcat`], with at most `n` bytes of `src` plus a NUL.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn strncat(dst: *mut c_char, src: *const c_char, n: usize) -> *mut c_char {
    // SAFETY: as documented.
    unsafe {
        let end = dst.add(strlen(dst));
        let k = strnlen(src, n);
        memcpy(end.cast(), src.cast(), k);
        *end.add(k) = 0;
    }
    dst
}

/// `strchr`.
///
/// # Safety
///
/// `s` NUL-terminated.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn strchr(s: *const c_char, c: i32) -> *mut c_char {
    let mut p = s;
    loop {
        // SAFETY: we stop at the NUL.
        let b = unsafe { *p };
        if b as u8 == c as u8 {
            return p as *mut c_char;
        }
        if b == 0 {
            return core::ptr::null_mut();
        }
        // SAFETY: `b` was not the NUL, so `p + 1` is in the string.
        p = unsafe { p.add(1) };
    }
}

/// `strrchr`.
///
/// # Safety
///
/// `s` NUL-terminated.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn strrchr(s: *const c_char, c: i32) -> *mut c_char {
    let mut last = core::ptr::null_mut();
    // SAFETY: `strlen` + 1 covers the NUL, which `c == 0` may match.
    for i in 0..=unsafe { strlen(s) } {
        // SAFETY: `i` is within the string.
        if unsafe { *s.add(i) } as u8 == c as u8 {
            // SAFETY: as above.
            last = unsafe { s.add(i) } as *mut c_char;
        }
    }
    last
}

/// `strstr`.
///
/// # Safety
///
/// Both NUL-terminated.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn strstr(hay: *const c_char, needle: *const c_char) -> *mut c_char {
    // SAFETY: both NUL-terminated.
    let (h, n) = unsafe { (strlen(hay), strlen(needle)) };
    if n == 0 {
        return hay as *mut c_char;
    }
    for i in 0..=h.saturating_sub(n) {
        if h < n {
            break;
        }
        // SAFETY: `i + n <= h`.
        if unsafe { strncmp(hay.add(i), needle, n) } == 0 {
            // SAFETY: as above.
            return unsafe { hay.add(i) } as *mut c_char;
        }
    }
    core::ptr::null_mut()
}

/// `memchr`.
///
/// # Safety
///
/// `s` has `n` readable bytes.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn memchr(s: *const u8, c: i32, n: usize) -> *mut u8 {
    for i in 0..n {
        // SAFETY: `i < n`.
        if unsafe { *s.add(i) } == c as u8 {
            // SAFETY: as above.
            return unsafe { s.add(i) } as *mut u8;
        }
    }
    core::ptr::null_mut()
}

/// `strerror` (the text; the errno name for codes the table lacks).
#[cfg_attr(not(test), no_mangle)]
pub extern "C" fn strerror(errnum: i32) -> *const c_char {
    super::errno::message(errnum).as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &[u8]) -> *const c_char {
        s.as_ptr().cast()
    }

    #[test]
    fn comparisons_follow_byte_order() {
        // SAFETY: NUL-terminated literals.
        unsafe {
            assert_eq!(strcmp(c(b"abc\0"), c(b"abc\0")), 0);
            assert!(strcmp(c(b"ab\0"), c(b"abc\0")) < 0);
            assert_eq!(strncmp(c(b"abcx\0"), c(b"abcy\0"), 3), 0);
        }
    }

    #[test]
    fn searches_find_first_last_and_substrings() {
        let s = b"hello world\0";
        // SAFETY: NUL-terminated literals.
        unsafe {
            assert_eq!(strchr(c(s), b'o' as i32) as usize - s.as_ptr() as usize, 4);
            assert_eq!(strrchr(c(s), b'o' as i32) as usize - s.as_ptr() as usize, 7);
            assert_eq!(strstr(c(s), c(b"wor\0")) as usize - s.as_ptr() as usize, 6);
            assert!(strstr(c(s), c(b"xyz\0")).is_null());
            assert!(strchr(c(s), b'z' as i32).is_null());
        }
    }

    #[test]
    fn strncpy_pads_with_nuls() {
        let mut dst = [b'x'; 6];
        // SAFETY: `dst` has 6 bytes.
        unsafe { strncpy(dst.as_mut_ptr().cast(), c(b"ab\0"), 6) };
        assert_eq!(&dst, b"ab\0\0\0\0");
    }
}
