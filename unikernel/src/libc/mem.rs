//! `memcpy`, `memmove`, `memset`, `memcmp`, `bcmp`: the linux-gnu target
//! expects libc to provide them, and the compiler emits calls to them.
//! Copies use `rep movsb`/`rep stosb`, which cannot be turned back into a
//! call to themselves by the optimiser.

use core::arch::asm;

/// `memcpy`.
///
/// # Safety
///
/// `dst` and `src` must be valid for `n` bytes and must not overlap.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller guarantees both ranges; DF is clear (the ABI says so).
    unsafe {
        asm!("rep movsb", inout("rcx") n => _, inout("rdi") dst => _, inout("rsi") src => _, options(nostack, preserves_flags));
    }
    dst
}

/// `memmove`.
///
/// # Safety
///
/// `dst` and `src` must be valid for `n` bytes; they may overlap.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dst as usize).wrapping_sub(src as usize) >= n {
        // SAFETY: a forward copy never overwrites source bytes not yet read
        // when `dst` is below `src` or the ranges are disjoint.
        unsafe { memcpy(dst, src, n) };
    } else {
        // SAFETY: copying backwards from the last byte (DF set, then cleared
        // again) handles `dst` above an overlapping `src`.
        unsafe {
            asm!(
                "std", "rep movsb", "cld",
                inout("rcx") n => _,
                inout("rdi") dst.add(n).wrapping_sub(1) => _,
                inout("rsi") src.add(n).wrapping_sub(1) => _,
                options(nostack),
            );
        }
    }
    dst
}

/// `memset`.
///
/// # Safety
///
/// `dst` must be valid for `n` bytes.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
    // SAFETY: the caller guarantees the range.
    unsafe {
        asm!("rep stosb", inout("rcx") n => _, inout("rdi") dst => _, in("al") c as u8, options(nostack, preserves_flags));
    }
    dst
}

/// `memcmp`.
///
/// # Safety
///
/// `a` and `b` must be valid for `n` bytes.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    while i < n {
        // SAFETY: `i < n` and the caller guarantees `n` readable bytes.
        let (x, y) = unsafe { (a.add(i).read_volatile(), b.add(i).read_volatile()) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
        i += 1;
    }
    0
}

/// `bcmp`: zero if equal.
///
/// # Safety
///
/// As for [`memcmp`].
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: same contract.
    unsafe { memcmp(a, b, n) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memmove_handles_overlap_both_ways() {
        let mut buf = *b"abcdefgh";
        // SAFETY: both ranges lie inside `buf`.
        unsafe { memmove(buf.as_mut_ptr().add(2), buf.as_ptr(), 5) };
        assert_eq!(&buf, b"ababcdeh");
        let mut buf = *b"abcdefgh";
        // SAFETY: as above.
        unsafe { memmove(buf.as_mut_ptr(), buf.as_ptr().add(2), 5) };
        assert_eq!(&buf, b"cdefgfgh");
    }

    #[test]
    fn memset_and_memcmp_agree() {
        let mut a = [0u8; 9];
        // SAFETY: `a` has 9 bytes.
        unsafe { memset(a.as_mut_ptr(), 7, 9) };
        assert_eq!(a, [7; 9]);
        let b = [7u8, 7, 8];
        // SAFETY: 3 bytes of each.
        assert!(unsafe { memcmp(a.as_ptr(), b.as_ptr(), 3) } < 0);
    }
}
