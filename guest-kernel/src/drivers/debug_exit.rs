//! Powering off through QEMU's `isa-debug-exit` device
//! (`-device isa-debug-exit,iobase=0xf4,iosize=4`).
//!
//! QEMU exits with `(value << 1) | 1`. The guest writes the exit code
//! (0..=63), or `0x40 | signo` for a death by signal, so the QEMU status is
//! `2 * code + 1` below 128 and `128 + 2 * signo + 1` for signals.

use crate::arch::x86_64::{cpu, port::outb};

const PORT: u16 = 0xf4;

/// Ends the VM. If no debug-exit device is present, halts forever.
pub fn poweroff(value: u8) -> ! {
    // SAFETY: writing to the debug-exit port ends the VM; if the device is
    // absent the write is ignored.
    unsafe { outb(PORT, value) };
    cpu::halt_forever()
}

/// The value for a normal exit with `code`.
pub fn value_for_code(code: u8) -> u8 {
    code & 0x3f
}

/// The value for a death by `signo`.
pub fn value_for_signal(signo: u8) -> u8 {
    0x40 | (signo & 0x3f)
}
