//! x86-64: PVH boot into long mode, GDT/TSS, IDT and entry stubs, the
//! `syscall` entry, APICs, timekeeping, paging, the serial console, random
//! numbers and the CPU primitives, and the fork child's resume from its
//! parent's record. [`frame`] and [`resume`]'s layout are pure data and
//! build on the host too, as does [`tsc_freq`] (decoding the CPUID leaves
//! that state the TSC's frequency).

pub mod frame;

#[cfg(not(test))]
pub mod apic;
#[cfg(not(test))]
pub mod boot;
#[cfg(not(test))]
pub mod cpu;
#[cfg(not(test))]
pub mod gdt;
#[cfg(not(test))]
pub mod interrupts;
#[cfg(not(test))]
pub mod paging;
#[cfg(not(test))]
pub mod pit;
#[cfg(not(test))]
pub mod port;
#[cfg(not(test))]
pub mod random;
pub mod resume;
#[cfg(not(test))]
pub mod rtc;
#[cfg(not(test))]
pub mod serial;
#[cfg(not(test))]
pub mod string;
#[cfg(not(test))]
pub mod syscall_entry;
#[cfg(not(test))]
pub mod time;
pub mod tsc_freq;
