//! CPU primitives: interrupt flag, halting, the time-stamp counter, MSRs,
//! control registers, CPUID.
//!
//! The kernel runs with interrupts off (`syscall` clears IF through
//! SFMASK, interrupt gates clear it on entry). It opens them only inside
//! [`wait_for`], whose `sti; hlt` is one asm block that does not promise
//! `nostack`: the compiler keeps nothing in the red zone across it, so an
//! interrupt taken there can push its frame on the kernel stack safely.
//! That is why interrupts from ring 0 need no IST stack (see `gdt`).

use core::arch::asm;
use core::sync::atomic::{AtomicBool, Ordering};

/// `IA32_EFER`.
pub const MSR_EFER: u32 = 0xc000_0080;
/// `IA32_STAR`.
pub const MSR_STAR: u32 = 0xc000_0081;
/// `IA32_LSTAR`.
pub const MSR_LSTAR: u32 = 0xc000_0082;
/// `IA32_FMASK`.
pub const MSR_FMASK: u32 = 0xc000_0084;
/// `IA32_FS_BASE`.
pub const MSR_FS_BASE: u32 = 0xc000_0100;
/// `IA32_GS_BASE`.
pub const MSR_GS_BASE: u32 = 0xc000_0101;
/// `IA32_KERNEL_GS_BASE`.
pub const MSR_KERNEL_GS_BASE: u32 = 0xc000_0102;

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

/// Sleeps until an interrupt sets `flag` (or any interrupt arrives), then
/// clears it. The check and the `sti; hlt` pair are atomic with respect to
/// interrupts, so a wakeup between the check and the halt is never lost.
/// Returns with interrupts off.
pub fn wait_for(flag: &AtomicBool) {
    cli();
    if flag.swap(false, Ordering::AcqRel) {
        return;
    }
    // SAFETY: `sti` takes effect after the next instruction, so the
    // interrupt that ends `hlt` cannot slip in between; the IDT is loaded
    // before anything waits. No `nostack`: the interrupt pushes its frame
    // here, so nothing may live in the red zone (see the module docs).
    unsafe { asm!("sti", "hlt", "cli") };
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

/// Writes a model-specific register.
///
/// # Safety
///
/// `msr` must exist and `value` must be valid for it; the caller answers
/// for what the new value does (entry points, segment bases).
pub unsafe fn wrmsr(msr: u32, value: u64) {
    // SAFETY: the caller vouches for the MSR and the value.
    unsafe {
        asm!("wrmsr", in("ecx") msr, in("eax") value as u32, in("edx") (value >> 32) as u32,
             options(nostack))
    };
}

/// CPUID leaf `leaf`, subleaf `sub`: (eax, ebx, ecx, edx).
pub fn cpuid(leaf: u32, sub: u32) -> (u32, u32, u32, u32) {
    let r = core::arch::x86_64::__cpuid_count(leaf, sub);
    (r.eax, r.ebx, r.ecx, r.edx)
}

/// Reads CR2 (the faulting address of the last page fault).
pub fn read_cr2() -> u64 {
    let v: u64;
    // SAFETY: reading CR2 has no side effect.
    unsafe { asm!("mov {}, cr2", out(reg) v, options(nomem, nostack, preserves_flags)) };
    v
}

/// Reads CR3 (the top page table).
pub fn read_cr3() -> u64 {
    let v: u64;
    // SAFETY: reading CR3 has no side effect.
    unsafe { asm!("mov {}, cr3", out(reg) v, options(nomem, nostack, preserves_flags)) };
    v
}

/// Flushes the TLB entry of `addr`.
pub fn invlpg(addr: u64) {
    // SAFETY: invalidating a TLB entry only costs a later page walk.
    unsafe { asm!("invlpg [{}]", in(reg) addr, options(nostack, preserves_flags)) };
}

/// Flushes every non-global TLB entry.
pub fn flush_tlb() {
    // SAFETY: reloading CR3 with its own value flushes the TLB, nothing else.
    unsafe { asm!("mov {t}, cr3", "mov cr3, {t}", t = out(reg) _, options(nostack)) };
}

/// Sets bits in CR4.
///
/// # Safety
///
/// The bits must be supported and their effect wanted.
pub unsafe fn cr4_set(bits: u64) {
    // SAFETY: the caller vouches for the bits.
    unsafe {
        asm!("mov {t}, cr4", "or {t}, {b}", "mov cr4, {t}", t = out(reg) _, b = in(reg) bits,
             options(nostack))
    };
}

/// Whether the CPU can keep the kernel from executing user pages (SMEP).
pub fn has_smep() -> bool {
    cpuid(7, 0).1 & (1 << 7) != 0
}

/// Sets the user FS base (`arch_prctl(ARCH_SET_FS)`). The kernel never
/// uses FS itself: no thread-locals, no stack protector.
pub fn set_fs_base(v: u64) {
    // SAFETY: IA32_FS_BASE exists on every x86-64 CPU; the caller checked
    // that `v` is canonical; only user code uses FS.
    unsafe { wrmsr(MSR_FS_BASE, v) }
}

/// The user FS base.
pub fn fs_base() -> u64 {
    // SAFETY: IA32_FS_BASE exists on every x86-64 CPU.
    unsafe { rdmsr(MSR_FS_BASE) }
}

/// Sets the user GS base (`arch_prctl(ARCH_SET_GS)`). The kernel never
/// uses GS and never runs `swapgs` (see `syscall_entry`).
pub fn set_gs_base(v: u64) {
    // SAFETY: as for `set_fs_base`.
    unsafe { wrmsr(MSR_GS_BASE, v) }
}

/// The user GS base.
pub fn gs_base() -> u64 {
    // SAFETY: IA32_GS_BASE exists on every x86-64 CPU.
    unsafe { rdmsr(MSR_GS_BASE) }
}

/// MXCSR_MASK as `fxsave` reports it (0xffbf where it reports 0).
pub fn mxcsr_mask() -> u32 {
    #[repr(C, align(16))]
    struct Fx([u8; 512]);
    let mut fx = Fx([0; 512]);
    // SAFETY: `fx` is a 16-aligned 512-byte buffer, what fxsave64 writes.
    unsafe { asm!("fxsave64 [{}]", in(reg) fx.0.as_mut_ptr(), options(nostack)) };
    let m = u32::from_le_bytes([fx.0[28], fx.0[29], fx.0[30], fx.0[31]]);
    if m == 0 {
        0xffbf
    } else {
        m
    }
}
