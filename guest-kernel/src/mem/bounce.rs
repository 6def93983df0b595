//! The kernel buffer for payloads that cannot go to the device in place:
//! bytes that never reach the program (`sendfile`, a program file being
//! loaded), or that are rewritten or copied on their way (old-style
//! `getdents`, `readlink`, `getcwd`, a file's bytes copied into a mapping).
//! `read`, `write` and friends hand the program's own pages to the device
//! and need none ([`super::segments`]).
//!
//! One buffer is kept and reused, so a call neither allocates nor zeroes
//! (under TCG each pass over memory is expensive); it grows, zeroed, to the
//! largest length asked. What it holds from an earlier call is never shown:
//! callers use only the bytes the device wrote in the current one. A
//! nested use (none today) gets a buffer of its own instead of waiting.

use alloc::vec::Vec;

use spinning_top::Spinlock;

/// A reusable buffer: the spare one, while nobody is using it.
#[derive(Debug)]
pub struct Bounce(Spinlock<Vec<u8>>);

impl Bounce {
    /// No buffer yet.
    pub const fn new() -> Self {
        Self(Spinlock::new(Vec::new()))
    }

    /// Calls `f` with a buffer of `len` bytes, whose contents are whatever
    /// an earlier call left (zeroes the first time).
    pub fn with<R>(&self, len: usize, f: impl FnOnce(&mut [u8]) -> R) -> R {
        let mut buf = core::mem::take(&mut *self.0.lock());
        if buf.len() < len {
            buf.resize(len, 0);
        }
        let r = f(&mut buf[..len]);
        let mut spare = self.0.lock();
        if spare.len() < buf.len() {
            *spare = buf;
        }
        r
    }
}

impl Default for Bounce {
    fn default() -> Self {
        Self::new()
    }
}

/// The kernel's buffer.
static BOUNCE: Bounce = Bounce::new();

/// Calls `f` with the kernel's buffer, `len` bytes long ([`Bounce::with`]).
pub fn with<R>(len: usize, f: impl FnOnce(&mut [u8]) -> R) -> R {
    BOUNCE.with(len, f)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Any length; the tests only tell one call's bytes from another's.
    const LEN: usize = 1000;

    #[test]
    fn the_buffer_has_the_length_asked_and_is_kept_for_the_next_call() {
        let bounce = Bounce::new();
        bounce.with(LEN, |b| {
            assert_eq!(b.len(), LEN);
            b[LEN - 1] = 7;
        });
        assert_eq!(bounce.with(LEN, |b| b[LEN - 1]), 7);
    }

    #[test]
    fn a_shorter_call_reuses_the_larger_buffer() {
        let bounce = Bounce::new();
        bounce.with(LEN, |b| b[0] = 9);
        bounce.with(1, |b| assert_eq!(b, [9]));
    }

    #[test]
    fn a_nested_call_gets_a_buffer_of_its_own() {
        let bounce = Bounce::new();
        bounce.with(LEN, |outer| {
            outer[0] = 1;
            bounce.with(LEN, |inner| inner[0] = 2);
            assert_eq!(outer[0], 1);
        });
    }
}
