//! The GDT and the TSS.
//!
//! The selectors are Linux's, so that `sigcontext.cs`/`ss` read as they do
//! on Linux and `STAR` is set up the same way:
//!
//! | selector | segment |
//! |---|---|
//! | 0x10 | kernel code (64-bit) |
//! | 0x18 | kernel data |
//! | 0x23 | user code (32-bit, unused; `sysret` needs it at STAR's base) |
//! | 0x2b | user data |
//! | 0x33 | user code (64-bit) |
//! | 0x40 | the TSS |
//!
//! The TSS gives ring-3 interrupts and exceptions their stack: `rsp0` is
//! the top of the kernel stack, the same one the `syscall` entry switches
//! to (one CPU, one user thread: the program never runs while the kernel
//! stack is in use, so the two never meet). Interrupts taken in ring 0 stay
//! on the kernel stack: they only happen inside `cpu::wait_for`'s
//! `sti; hlt`, where no red zone is live. The double fault, NMI and
//! machine check have IST stacks of their own, so that a fault on a bad
//! kernel stack still reports.

use core::arch::asm;
use core::cell::UnsafeCell;
use core::mem::size_of;

/// IST slot (1-based, as the IDT encodes it) for the double fault.
pub const IST_DOUBLE_FAULT: u8 = 1;
/// IST slot for NMI and machine check.
pub const IST_NMI: u8 = 2;

const IST_STACK_SIZE: usize = 16 * 1024;
/// Kernel code selector.
pub const KERNEL_CS: u16 = 0x10;
/// Kernel data selector.
pub const KERNEL_DS: u16 = 0x18;
/// The 32-bit user code selector: `STAR[63:48]`, the base `sysret` adds to.
pub const USER32_CS: u16 = 0x23;
/// User data selector.
pub const USER_DS: u16 = 0x2b;
/// User 64-bit code selector.
pub const USER_CS: u16 = 0x33;
const TSS_SELECTOR: u16 = 0x40;

const _: () = assert!(USER_CS as u64 == super::frame::USER_CS);
const _: () = assert!(USER_DS as u64 == super::frame::USER_DS);

#[repr(C, align(16))]
struct Stack([u8; IST_STACK_SIZE]);

#[repr(C, packed(4))]
struct Tss {
    reserved0: u32,
    rsp: [u64; 3],
    reserved1: u64,
    ist: [u64; 7],
    reserved2: u64,
    reserved3: u16,
    iomap_base: u16,
}

#[repr(C, align(16))]
struct Gdt([u64; 10]);

#[repr(C, packed(2))]
struct DescriptorPointer {
    limit: u16,
    base: u64,
}

/// Statics the CPU reads; written by [`init`] before they are loaded.
struct CpuTables {
    stacks: UnsafeCell<[Stack; 2]>,
    tss: UnsafeCell<Tss>,
    gdt: UnsafeCell<Gdt>,
}

// SAFETY: single CPU; the tables are written only in `init`, with
// interrupts off, before the CPU is told about them.
unsafe impl Sync for CpuTables {}

static TABLES: CpuTables = CpuTables {
    stacks: UnsafeCell::new([const { Stack([0; IST_STACK_SIZE]) }; 2]),
    tss: UnsafeCell::new(Tss {
        reserved0: 0,
        rsp: [0; 3],
        reserved1: 0,
        ist: [0; 7],
        reserved2: 0,
        reserved3: 0,
        iomap_base: size_of::<Tss>() as u16,
    }),
    gdt: UnsafeCell::new(Gdt([0; 10])),
};

/// Builds and loads the GDT and TSS, with `rsp0` = `kernel_stack_top`.
/// Call once per boot, with interrupts off.
pub fn init(kernel_stack_top: u64) {
    let stacks = TABLES.stacks.get() as usize;
    let tss = TABLES.tss.get();
    // SAFETY: `init` runs before the TSS is loaded; nothing else aliases it.
    unsafe {
        (*tss).rsp[0] = kernel_stack_top;
        (*tss).ist[IST_DOUBLE_FAULT as usize - 1] = (stacks + IST_STACK_SIZE) as u64;
        (*tss).ist[IST_NMI as usize - 1] = (stacks + 2 * IST_STACK_SIZE) as u64;
    }
    let base = tss as u64;
    let limit = (size_of::<Tss>() - 1) as u64;
    let tss_low = (limit & 0xffff)
        | ((base & 0xff_ffff) << 16)
        | (0x89 << 40)
        | ((limit & 0xf_0000) << 32)
        | ((base & 0xff00_0000) << 32);
    let tss_high = base >> 32;
    let gdt = TABLES.gdt.get();
    // SAFETY: as above, the GDT is not loaded yet.
    unsafe {
        (*gdt).0 = [
            0,
            0x00cf_9a00_0000_ffff, // 0x08: 32-bit kernel code (unused)
            0x00af_9a00_0000_ffff, // 0x10: kernel code
            0x00cf_9200_0000_ffff, // 0x18: kernel data
            0x00cf_fa00_0000_ffff, // 0x23: 32-bit user code
            0x00cf_f200_0000_ffff, // 0x2b: user data
            0x00af_fa00_0000_ffff, // 0x33: user code
            0,
            tss_low, // 0x40: TSS
            tss_high,
        ];
    }
    let ptr = DescriptorPointer {
        limit: (size_of::<Gdt>() - 1) as u16,
        base: gdt as u64,
    };
    // SAFETY: the GDT holds a 64-bit code segment at KERNEL_CS, data at
    // KERNEL_DS and an available TSS at TSS_SELECTOR; the far return
    // reloads CS from the new table.
    unsafe {
        asm!(
            "lgdt [{ptr}]",
            "push {cs}",
            "lea {tmp}, [rip + 2f]",
            "push {tmp}",
            "retfq",
            "2:",
            "mov ss, {ds:x}",
            "mov ds, {ds:x}",
            "mov es, {ds:x}",
            "ltr {tss:x}",
            ptr = in(reg) &ptr,
            cs = in(reg) u64::from(KERNEL_CS),
            ds = in(reg) KERNEL_DS,
            tss = in(reg) TSS_SELECTOR,
            tmp = out(reg) _,
        );
    }
}
