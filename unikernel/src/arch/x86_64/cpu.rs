//! CPU primitives: interrupt flag, halting, the time-stamp counter, MSRs.

use core::arch::asm;
use core::sync::atomic::{AtomicBool, Ordering};

/// Reads the time-stamp counter.
pub fn rdtsc() -> u64 {
    // SAFETY: `rdtsc` only reads the counter (CR4.TSD is clear: we never set it).
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Disables interrupts.
pub fn cli() {
    // SAFETY: masking interrupts cannot break memory safety.
    unsafe { asm!("cli", options(nomem, nostack)) }
}

/// Enables interrupts.
pub fn sti() {
    // SAFETY: the IDT is loaded before anyone calls this (see `interrupts::init`),
    // and every handler runs on an IST stack.
    unsafe { asm!("sti", options(nomem, nostack)) }
}

/// Whether interrupts are enabled.
pub fn interrupts_enabled() -> bool {
    let flags: u64;
    // SAFETY: reading RFLAGS through the stack has no side effect.
    unsafe { asm!("pushfq", "pop {}", out(reg) flags, options(nomem, preserves_flags)) };
    flags & (1 << 9) != 0
}

/// Sleeps until an interrupt sets `flag` (or any interrupt arrives), then
/// clears it. The check and the `sti; hlt` pair are atomic with respect to
/// interrupts, so a wakeup between the check and the halt is never lost.
pub fn wait_for(flag: &AtomicBool) {
    cli();
    if flag.swap(false, Ordering::AcqRel) {
        sti();
        return;
    }
    // SAFETY: `sti` takes effect after the next instruction, so the interrupt
    // that ends `hlt` cannot slip in between; handlers are installed.
    unsafe { asm!("sti", "hlt", options(nomem, nostack)) };
    flag.store(false, Ordering::Release);
}

/// Stops this CPU for good.
pub fn halt_forever() -> ! {
    loop {
        cli();
        // SAFETY: halting with interrupts off only stops the CPU.
        unsafe { asm!("hlt", options(nomem, nostack)) };
    }
}

/// Reads a model-specific register.
///
/// # Safety
///
/// `msr` must exist on this CPU.
pub unsafe fn rdmsr(msr: u32) -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: the caller vouches that the MSR exists.
    unsafe { asm!("rdmsr", in("ecx") msr, out("eax") lo, out("edx") hi, options(nomem, nostack)) };
    (u64::from(hi) << 32) | u64::from(lo)
}
