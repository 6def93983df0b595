//! The GDT and the TSS whose interrupt stack table gives every interrupt and
//! exception its own stack. The linux-gnu target uses the red zone (128 bytes
//! below `rsp` that leaf functions use without moving `rsp`), so no
//! interrupt may ever push onto the interrupted stack.

use core::arch::asm;
use core::cell::UnsafeCell;
use core::mem::size_of;

/// IST slot (1-based, as the IDT encodes it) for CPU exceptions.
pub const IST_EXCEPTION: u8 = 1;
/// IST slot for the double fault, so a fault on the exception stack still lands.
pub const IST_DOUBLE_FAULT: u8 = 2;
/// IST slot for device, timer and spurious interrupts.
pub const IST_IRQ: u8 = 3;

const IST_STACK_SIZE: usize = 32 * 1024;
/// Kernel code selector.
pub const KERNEL_CS: u16 = 0x08;
const KERNEL_DS: u16 = 0x10;
const TSS_SELECTOR: u16 = 0x18;

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
struct Gdt([u64; 5]);

#[repr(C, packed(2))]
struct DescriptorPointer {
    limit: u16,
    base: u64,
}

/// Statics the CPU reads; written once by [`init`] before they are loaded.
struct CpuTables {
    stacks: UnsafeCell<[Stack; 3]>,
    tss: UnsafeCell<Tss>,
    gdt: UnsafeCell<Gdt>,
}

// SAFETY: single CPU; the tables are written only in `init`, with interrupts off,
// before the CPU is told about them.
unsafe impl Sync for CpuTables {}

static TABLES: CpuTables = CpuTables {
    stacks: UnsafeCell::new([const { Stack([0; IST_STACK_SIZE]) }; 3]),
    tss: UnsafeCell::new(Tss {
        reserved0: 0,
        rsp: [0; 3],
        reserved1: 0,
        ist: [0; 7],
        reserved2: 0,
        reserved3: 0,
        iomap_base: size_of::<Tss>() as u16,
    }),
    gdt: UnsafeCell::new(Gdt([0; 5])),
};

/// Builds and loads the GDT and TSS. Call once, with interrupts off.
pub fn init() {
    let stacks = TABLES.stacks.get() as usize;
    let tss = TABLES.tss.get();
    for slot in 0..3 {
        let top = stacks + (slot + 1) * IST_STACK_SIZE;
        // SAFETY: `init` runs once before the TSS is loaded; nothing else aliases it.
        unsafe { (*tss).ist[slot] = top as u64 };
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
            0x00af_9a00_0000_ffff,
            0x00cf_9200_0000_ffff,
            tss_low,
            tss_high,
        ];
    }
    let ptr = DescriptorPointer {
        limit: (size_of::<Gdt>() - 1) as u16,
        base: gdt as u64,
    };
    // SAFETY: the GDT holds a valid 64-bit code segment at KERNEL_CS, data at
    // KERNEL_DS and an available TSS at TSS_SELECTOR; the far return reloads
    // CS from the new table.
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
