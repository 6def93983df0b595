//! The IDT, the entry stubs, the dispatcher, and the hooks by which the
//! upper layers handle what arrives from user mode.
//!
//! Every stub builds a [`TrapFrame`] (all general registers and the
//! `fxsave` image, since handlers are ordinary Rust code that may use SSE
//! registers and signal delivery must see and rewrite the program's whole
//! state). From ring 3 the CPU has switched to the kernel stack (TSS
//! `rsp0`); from ring 0 it stays on the kernel stack, which is safe
//! because ring-0 interrupts only happen in `cpu::wait_for` (see `cpu` and
//! `gdt`). Exceptions in ring 0 are kernel bugs and end the process.
//!
//! Layers point one way: this module calls upward only through [`Hooks`],
//! which the runtime registers before the first interrupt.

use core::arch::{asm, global_asm};
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

use super::frame::TrapFrame;
use super::gdt::{IST_DOUBLE_FAULT, IST_NMI, KERNEL_CS};

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

/// What the upper layers do with entries from user mode.
#[derive(Clone, Copy, Debug)]
pub struct Hooks {
    /// A `syscall`: handle it, leaving the result in `rax`.
    pub syscall: fn(&mut TrapFrame),
    /// A CPU exception in ring 3 (vector in the frame, CR2 for page faults).
    pub user_exception: fn(&mut TrapFrame, u64),
    /// A CPU exception in ring 0: a kernel bug.
    pub kernel_exception: fn(&TrapFrame, u64) -> !,
    /// On every way back to ring 3: deliver events and signals.
    pub return_to_user: fn(&mut TrapFrame),
}

struct HookCell(UnsafeCell<Option<Hooks>>);

// SAFETY: written once by `set_hooks` at boot, interrupts off, before any
// entry from user mode or any exception can read it.
unsafe impl Sync for HookCell {}

static HOOKS: HookCell = HookCell(UnsafeCell::new(None));

/// Registers the upper layers' hooks. Call once, at boot, interrupts off.
pub fn set_hooks(h: Hooks) {
    // SAFETY: see `HookCell`: no reader runs yet.
    unsafe { *HOOKS.0.get() = Some(h) };
}

/// The registered hooks.
pub fn hooks() -> Hooks {
    // SAFETY: see `HookCell`: written before any reader, never again.
    unsafe { (*HOOKS.0.get()).expect("hooks registered at boot") }
}

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

    // Saves the general registers and the FPU state as a TrapFrame
    // (frame.rs), calls `interrupt_dispatch`, restores, returns.
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
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    sub rsp, 512
    fxsave64 [rsp]
    mov rdi, rsp
    cld
    call interrupt_dispatch
    .global trap_return
trap_return:
    fxrstor64 [rsp]
    add rsp, 512
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
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
    fn trap_return();
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

/// A present 64-bit interrupt gate, DPL 0.
const GATE_KERNEL: u8 = 0x8e;
/// A present 64-bit interrupt gate, DPL 3: `int3` and `into` from ring 3
/// reach their handlers (SIGTRAP) instead of faulting with #GP.
const GATE_USER: u8 = 0xee;

#[repr(C, align(16))]
struct Idt(UnsafeCell<[IdtEntry; 256]>);

// SAFETY: written only by `init`, with interrupts off, before `lidt`.
unsafe impl Sync for Idt {}

static IDT: Idt = Idt(UnsafeCell::new([MISSING; 256]));

#[repr(C, packed(2))]
struct IdtPointer {
    limit: u16,
    base: u64,
}

/// Fills and loads the IDT. Call once per boot, after `gdt::init`,
/// interrupts off.
pub fn init() {
    // SAFETY: the table is defined by the global_asm above and never written.
    let stubs = unsafe { core::ptr::addr_of!(isr_stub_table).read() };
    let idt = IDT.0.get();
    for (i, &vector) in STUB_VECTORS.iter().enumerate() {
        let handler = stubs[i];
        let ist = match vector {
            8 => IST_DOUBLE_FAULT,
            2 | 18 => IST_NMI,
            _ => 0,
        };
        let entry = IdtEntry {
            offset_low: handler as u16,
            selector: KERNEL_CS,
            ist,
            type_attr: if matches!(vector, 3 | 4) {
                GATE_USER
            } else {
                GATE_KERNEL
            },
            offset_mid: (handler >> 16) as u16,
            offset_high: (handler >> 32) as u32,
            reserved: 0,
        };
        // SAFETY: `init` runs before the IDT is loaded; nothing aliases it.
        unsafe { (*idt)[vector as usize] = entry };
    }
    let ptr = IdtPointer {
        limit: (core::mem::size_of::<[IdtEntry; 256]>() - 1) as u16,
        base: idt as u64,
    };
    // SAFETY: the IDT is fully initialised and static; every present entry
    // points at a stub that ends in `iretq`.
    unsafe { asm!("lidt [{}]", in(reg) &ptr, options(readonly, nostack, preserves_flags)) };
}

/// Called by `isr_common` with the saved frame.
#[no_mangle]
extern "C" fn interrupt_dispatch(frame: &mut TrapFrame) {
    let vector = frame.vector as u8;
    match vector {
        VECTOR_TIMER => {
            TIMER_IRQ.store(true, Ordering::Release);
            super::apic::eoi();
        }
        VECTOR_DEVICE => {
            DEVICE_IRQ.store(true, Ordering::Release);
            super::apic::eoi();
        }
        VECTOR_SPURIOUS => {}
        0..=31 => {
            let cr2 = super::cpu::read_cr2();
            if frame.from_user() {
                (hooks().user_exception)(frame, cr2);
            } else {
                (hooks().kernel_exception)(frame, cr2);
            }
        }
        _ => {}
    }
    if frame.from_user() {
        (hooks().return_to_user)(frame);
    }
}

/// Starts the program: loads `frame` (a ring-3 frame: `cs`/`ss` user
/// selectors, IF set) and returns to it through the common exit path.
///
/// # Safety
///
/// `frame` must describe a valid user context in the current address
/// space; the kernel stack must be free (nothing below its top is in use).
pub unsafe fn enter_user(frame: &TrapFrame) -> ! {
    // SAFETY: `trap_return` pops exactly a TrapFrame from `rsp` and
    // `iretq`s; the caller vouches for its contents.
    unsafe {
        asm!(
            "mov rsp, {f}",
            "jmp {ret}",
            f = in(reg) frame as *const TrapFrame,
            ret = sym trap_return,
            options(noreturn)
        )
    }
}
