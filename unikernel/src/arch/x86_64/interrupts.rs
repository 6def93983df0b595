//! The IDT, the entry stubs and the dispatcher.
//!
//! Every vector enters on an IST stack (see `gdt`): exceptions on
//! [`IST_EXCEPTION`], the double fault on its own, device and timer
//! interrupts on [`IST_IRQ`]. The common stub saves the caller-saved
//! registers and the whole SSE state (`fxsave`), since handlers are ordinary
//! Rust code that may use `xmm` registers.

use core::arch::{asm, global_asm};
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

use super::gdt::{IST_DOUBLE_FAULT, IST_EXCEPTION, IST_IRQ, KERNEL_CS};

/// Vector of the LAPIC timer.
pub const VECTOR_TIMER: u8 = 32;
/// Vector of the virtio-pipe device's interrupt.
pub const VECTOR_DEVICE: u8 = 33;
/// Vector of the LAPIC spurious interrupt.
pub const VECTOR_SPURIOUS: u8 = 255;

/// Set by the device interrupt; consumed by [`super::cpu::wait_for`].
pub static DEVICE_IRQ: AtomicBool = AtomicBool::new(false);
/// Set by the LAPIC timer interrupt.
pub static TIMER_IRQ: AtomicBool = AtomicBool::new(false);

global_asm!(
    r#"
    .macro ISR_NOERR n
    .global isr_stub_\n
isr_stub_\n:
    push 0
    push \n
    jmp isr_common
    .endm

    .macro ISR_ERR n
    .global isr_stub_\n
isr_stub_\n:
    push \n
    jmp isr_common
    .endm

    .section .text.isr, "ax"
    ISR_NOERR 0
    ISR_NOERR 1
    ISR_NOERR 2
    ISR_NOERR 3
    ISR_NOERR 4
    ISR_NOERR 5
    ISR_NOERR 6
    ISR_NOERR 7
    ISR_ERR 8
    ISR_NOERR 9
    ISR_ERR 10
    ISR_ERR 11
    ISR_ERR 12
    ISR_ERR 13
    ISR_ERR 14
    ISR_NOERR 15
    ISR_NOERR 16
    ISR_ERR 17
    ISR_NOERR 18
    ISR_NOERR 19
    ISR_NOERR 20
    ISR_ERR 21
    ISR_NOERR 22
    ISR_NOERR 23
    ISR_NOERR 24
    ISR_NOERR 25
    ISR_NOERR 26
    ISR_NOERR 27
    ISR_NOERR 28
    ISR_ERR 29
    ISR_ERR 30
    ISR_NOERR 31
    ISR_NOERR 32
    ISR_NOERR 33
    ISR_NOERR 255

isr_common:
    push rax
    push rcx
    push rdx
    push rsi
    push rdi
    push r8
    push r9
    push r10
    push r11
    sub rsp, 512
    fxsave64 [rsp]
    lea rdi, [rsp + 512]
    cld
    call interrupt_dispatch
    fxrstor64 [rsp]
    add rsp, 512
    pop r11
    pop r10
    pop r9
    pop r8
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rax
    add rsp, 16
    iretq

    .section .rodata.isr, "a"
    .balign 8
    .global isr_stub_table
isr_stub_table:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,255
    .quad isr_stub_\n
    .endr
"#
);

/// Vectors that have a stub, in the order of `isr_stub_table`.
const STUB_VECTORS: [u8; 35] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25,
    26, 27, 28, 29, 30, 31, 32, 33, 255,
];

extern "C" {
    static isr_stub_table: [u64; 35];
}

/// What the stubs leave on the stack, lowest address first.
#[repr(C)]
#[derive(Debug)]
pub struct InterruptFrame {
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rax: u64,
    pub vector: u64,
    pub error_code: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

#[derive(Clone, Copy)]
#[repr(C)]
struct IdtEntry {
    offset_low: u16,
    selector: u16,
    ist: u8,
    type_attr: u8,
    offset_mid: u16,
    offset_high: u32,
    reserved: u32,
}

const MISSING: IdtEntry = IdtEntry {
    offset_low: 0,
    selector: 0,
    ist: 0,
    type_attr: 0,
    offset_mid: 0,
    offset_high: 0,
    reserved: 0,
};

#[repr(C, align(16))]
struct Idt(UnsafeCell<[IdtEntry; 256]>);

// SAFETY: written only by `init`, once, with interrupts off, before `lidt`.
unsafe impl Sync for Idt {}

static IDT: Idt = Idt(UnsafeCell::new([MISSING; 256]));

#[repr(C, packed(2))]
struct IdtPointer {
    limit: u16,
    base: u64,
}

/// Fills and loads the IDT. Call once, after `gdt::init`, interrupts off.
pub fn init() {
    // SAFETY: the table is defined by the global_asm above and never written.
    let stubs = unsafe { core::ptr::addr_of!(isr_stub_table).read() };
    let idt = IDT.0.get();
    for (i, &vector) in STUB_VECTORS.iter().enumerate() {
        let handler = stubs[i];
        let ist = match vector {
            8 => IST_DOUBLE_FAULT,
            0..=31 => IST_EXCEPTION,
            _ => IST_IRQ,
        };
        let entry = IdtEntry {
            offset_low: handler as u16,
            selector: KERNEL_CS,
            ist,
            type_attr: 0x8e,
            offset_mid: (handler >> 16) as u16,
            offset_high: (handler >> 32) as u32,
            reserved: 0,
        };
        // SAFETY: `init` runs once before the IDT is loaded; nothing aliases it.
        unsafe { (*idt)[vector as usize] = entry };
    }
    let ptr = IdtPointer {
        limit: (core::mem::size_of::<[IdtEntry; 256]>() - 1) as u16,
        base: idt as u64,
    };
    // SAFETY: the IDT is fully initialised and static; every present entry
    // points at a stub that ends in `iretq` or never returns.
    unsafe { asm!("lidt [{}]", in(reg) &ptr, options(readonly, nostack, preserves_flags)) };
}

fn read_cr2() -> u64 {
    let v: u64;
    // SAFETY: reading CR2 has no side effect.
    unsafe { asm!("mov {}, cr2", out(reg) v, options(nomem, nostack, preserves_flags)) };
    v
}

/// Called by `isr_common` with the saved frame.
#[no_mangle]
extern "C" fn interrupt_dispatch(frame: &mut InterruptFrame) {
    match frame.vector as u8 {
        VECTOR_TIMER => {
            TIMER_IRQ.store(true, Ordering::Release);
            super::apic::eoi();
        }
        VECTOR_DEVICE => {
            DEVICE_IRQ.store(true, Ordering::Release);
            super::apic::eoi();
        }
        VECTOR_SPURIOUS => {}
        v => crate::runtime::fatal_exception(v, frame.error_code, frame.rip, read_cr2(), frame.rsp),
    }
}
