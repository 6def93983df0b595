//! x86_64: PVH boot into long mode, GDT/TSS with IST stacks, IDT, APICs,
//! timekeeping, paging, the serial console, and the CPU primitives.

pub mod apic;
pub mod boot;
pub mod cpu;
pub mod gdt;
pub mod interrupts;
pub mod paging;
pub mod pit;
pub mod port;
pub mod rtc;
pub mod serial;
pub mod time;
