//! Plain old data: the types the kernel copies between user memory and its
//! own as raw bytes.

use crate::linux::{
    CloneArgs, Iovec, Itimerval, KernelSigaction, Pollfd, Rlimit, RtSigframe, Sigcontext, Siginfo,
    StackT, Statx, Sysinfo, Termios, Timespec, Timeval, Ucontext, Utsname, Winsize,
};

/// A type that may be copied to and from user memory byte for byte.
///
/// # Safety
///
/// Implementors must be `#[repr(C)]` (or primitive) with no padding
/// bytes, and every bit pattern must be a valid value.
pub unsafe trait Pod: Copy {}

macro_rules! pod {
    ($($t:ty),* $(,)?) => {
        // SAFETY: integers and arrays of them: no padding, any bits valid;
        // the linux.rs structs are #[repr(C)] of integers laid out without
        // padding (explicit `_pad` fields where the C layout has holes).
        $(unsafe impl Pod for $t {})*
    };
}

pod!(
    u8,
    u16,
    u32,
    u64,
    i16,
    i32,
    i64,
    [u8; 16],
    [u8; 32],
    [u8; 512],
    [u64; 2],
    [i32; 2],
    [i64; 2],
    [i64; 4],
    Termios,
    Winsize,
    Timespec,
    Timeval,
    Itimerval,
    Iovec,
    CloneArgs,
    Statx,
    Sysinfo,
    Pollfd,
    Rlimit,
    Utsname,
    KernelSigaction,
    StackT,
    Sigcontext,
    Ucontext,
    Siginfo,
    RtSigframe,
);

/// The bytes of `v`.
pub fn bytes_of<T: Pod>(v: &T) -> &[u8] {
    // SAFETY: `T: Pod` has no padding, so all `size_of::<T>()` bytes are
    // initialised; the slice borrows `v`.
    unsafe { core::slice::from_raw_parts((v as *const T).cast::<u8>(), core::mem::size_of::<T>()) }
}

/// A `T` made from `bytes` (which must be `size_of::<T>()` long).
pub fn from_bytes<T: Pod>(bytes: &[u8]) -> Option<T> {
    if bytes.len() != core::mem::size_of::<T>() {
        return None;
    }
    // SAFETY: the length matches and every bit pattern is a valid `T`;
    // the read is unaligned-safe.
    Some(unsafe { bytes.as_ptr().cast::<T>().read_unaligned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip() {
        let t = Timespec {
            tv_sec: 3,
            tv_nsec: 4,
        };
        let b = bytes_of(&t);
        assert_eq!(b.len(), 16);
        assert_eq!(from_bytes::<Timespec>(b), Some(t));
        assert_eq!(from_bytes::<Timespec>(&b[..8]), None);
    }
}
