//! The i8254 PIT, used only as a known-frequency reference to calibrate the
//! TSC when nothing states its frequency (`tsc_freq`). Channel 0 runs as a
//! free rate generator and is read back by latching, so no gate (port
//! 0x61, absent on microvm) and no interrupt are needed; afterwards it is
//! stopped, so the VMM does not tick it 18 times a second for nothing.

use super::port::{inb, outb};

/// The PIT's input clock in Hz.
pub const PIT_HZ: u64 = 1_193_182;

/// Starts channel 0 counting down from 0x10000 in mode 2.
pub fn start() {
    // SAFETY: PIT command and channel-0 data ports; IRQ0 is masked everywhere.
    unsafe {
        outb(0x43, 0b0011_0100);
        outb(0x40, 0);
        outb(0x40, 0);
    }
}

/// Latches and reads channel 0's counter.
pub fn read() -> u16 {
    // SAFETY: latch command then two reads of channel 0, low byte first.
    unsafe {
        outb(0x43, 0);
        let lo = inb(0x40);
        let hi = inb(0x40);
        u16::from_le_bytes([lo, hi])
    }
}

/// Stops channel 0: mode 0 (interrupt on terminal count) does not reload,
/// so after one count nothing runs (QEMU then keeps no timer for it).
pub fn stop() {
    // SAFETY: PIT command and channel-0 data ports; IRQ0 is masked everywhere.
    unsafe {
        outb(0x43, 0b0011_0000);
        outb(0x40, 1);
        outb(0x40, 0);
    }
}

/// Whether a PIT answers: its counter moves.
pub fn present() -> bool {
    start();
    let a = read();
    (0..10_000).any(|_| read() != a)
}
