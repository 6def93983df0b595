//! A small C library with POSIX names over the process API.
//!
//! Pure parts (formatting, strings, memory) build and are unit-tested on the
//! host; everything that talks to the device is kernel-only. Functions are
//! exported with `#[no_mangle]` only in kernel builds, so host test binaries
//! keep the host libc.

pub mod errno;
pub mod format;
pub mod mem;
pub mod string;
pub mod va;

#[cfg(not(test))]
pub mod signal;
#[cfg(not(test))]
pub mod spawn;
#[cfg(not(test))]
pub mod start;
#[cfg(not(test))]
pub mod stdio;
#[cfg(not(test))]
pub mod stdlib;
#[cfg(not(test))]
pub mod time;
#[cfg(not(test))]
pub mod unistd;
#[cfg(not(test))]
pub mod wait;

/// Borrows a C string as bytes (without the NUL).
///
/// # Safety
///
/// `s` must be NUL-terminated and outlive the returned slice.
pub unsafe fn cstr<'a>(s: *const core::ffi::c_char) -> &'a [u8] {
    // SAFETY: as documented.
    unsafe { core::slice::from_raw_parts(s.cast(), string::strlen(s)) }
}
