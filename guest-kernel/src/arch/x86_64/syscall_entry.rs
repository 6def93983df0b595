//! The `syscall` entry and its way back.
//!
//! Programs run in ring 3 and enter with `syscall`: the CPU loads `rip`
//! from LSTAR, saves the user `rip` in `rcx` and RFLAGS in `r11`, clears
//! the RFLAGS bits in SFMASK (IF, TF, DF, AC, NT: the kernel runs with
//! interrupts off, not single-stepped, with a forward direction flag and
//! without alignment checks) and switches CS/SS to the kernel's. It does
//! not switch stacks: the entry saves the user `rsp` in a static scratch
//! word and moves to the top of the kernel stack, then builds the same
//! [`TrapFrame`] the interrupt stubs build.
//!
//! Why no `swapgs`: Linux needs GS to find the per-CPU kernel stack. Here
//! there is one CPU and one user thread, so the kernel stack and the
//! scratch word are plain statics reached `rip`-relative; the program's
//! GS base (and FS base, its TLS) are never touched by the kernel, which
//! uses neither. Interrupts are off from the `syscall` instruction until
//! the stack switch is done (SFMASK), so nothing can observe the moment
//! the kernel runs on the user stack.
//!
//! The way back is `sysretq` when the frame still says what `sysret`
//! restores (Linux's rule: `rcx == rip`, `r11 == rflags`, a canonical user
//! `rip`, no TF/RF), which is the fast path under KVM; otherwise, after a
//! signal frame was pushed or `rt_sigreturn` restored a context, the full
//! `iretq`. `sysret` with a non-canonical `rcx` would fault in ring 0 on
//! Intel CPUs: the check is what makes it safe.

use core::arch::global_asm;

use super::cpu::{wrmsr, MSR_FMASK, MSR_LSTAR, MSR_STAR};
use super::frame::{TrapFrame, SYSCALL_VECTOR};
use super::gdt::{KERNEL_CS, USER32_CS};
use crate::arch::layout::USER_END;

/// Bytes of the kernel stack (syscalls and interrupts from ring 3).
pub const KERNEL_STACK_SIZE: usize = 64 * 1024;
/// `frame.vector` after a syscall that must return with `iretq`.
const IRET_MARK: u64 = SYSCALL_VECTOR + 1;

global_asm!(
    r#"
    .section .bss.kstack, "aw", @nobits
    .balign 16
    .global kernel_stack_bottom
kernel_stack_bottom:
    .skip {stack_size}
    .global kernel_stack_top
kernel_stack_top:
    .balign 8
syscall_user_rsp:
    .skip 8

    .section .text.syscall, "ax"
    .global syscall_entry
syscall_entry:
    mov [rip + syscall_user_rsp], rsp
    lea rsp, [rip + kernel_stack_top]
    push {user_ds}
    push qword ptr [rip + syscall_user_rsp]
    push r11
    push {user_cs}
    push rcx
    push 0
    push {vector}
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
    call syscall_dispatch
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
    cmp qword ptr [rsp], {vector}
    jne 2f
    // sysret: rcx = rip, r11 = rflags (equal to the popped ones), user rsp.
    add rsp, 16
    pop rcx
    add rsp, 8
    pop r11
    pop rsp
    sysretq
2:
    add rsp, 16
    iretq
    "#,
    stack_size = const KERNEL_STACK_SIZE,
    user_ds = const super::frame::USER_DS,
    user_cs = const super::frame::USER_CS,
    vector = const SYSCALL_VECTOR,
);

extern "C" {
    fn syscall_entry();
    #[link_name = "kernel_stack_top"]
    static KERNEL_STACK_TOP: u8;
}

/// The top of the kernel stack (TSS `rsp0` and the `syscall` entry's stack).
pub fn kernel_stack_top() -> u64 {
    core::ptr::addr_of!(KERNEL_STACK_TOP) as u64
}

/// Enables `syscall`: STAR (kernel CS at 0x10, `sysret` base at 0x23),
/// LSTAR, SFMASK. EFER.SCE is set at boot.
pub fn init() {
    const RFLAGS_TF: u64 = 1 << 8;
    const RFLAGS_IF: u64 = 1 << 9;
    const RFLAGS_DF: u64 = 1 << 10;
    const RFLAGS_NT: u64 = 1 << 14;
    const RFLAGS_AC: u64 = 1 << 18;
    let star = (u64::from(USER32_CS) << 48) | (u64::from(KERNEL_CS) << 32);
    // SAFETY: the three MSRs exist on every x86-64 CPU; the selectors are
    // the GDT's (gdt.rs), LSTAR points at the entry above, and the mask
    // keeps interrupts off until the entry has switched stacks.
    unsafe {
        wrmsr(MSR_STAR, star);
        wrmsr(MSR_LSTAR, syscall_entry as *const () as u64);
        wrmsr(
            MSR_FMASK,
            RFLAGS_IF | RFLAGS_TF | RFLAGS_DF | RFLAGS_AC | RFLAGS_NT,
        );
    }
}

/// Whether `sysret` may return to the context in `f` (see the module docs).
fn sysret_ok(f: &TrapFrame) -> bool {
    const RFLAGS_TF: u64 = 1 << 8;
    const RFLAGS_RF: u64 = 1 << 16;
    f.rcx == f.rip
        && f.r11 == f.rflags
        && f.rip < USER_END
        && f.rflags & (RFLAGS_TF | RFLAGS_RF) == 0
        && f.cs == super::frame::USER_CS
        && f.ss == super::frame::USER_DS
}

/// Called by the entry with the saved frame.
#[no_mangle]
extern "C" fn syscall_dispatch(frame: &mut TrapFrame) {
    let hooks = super::interrupts::hooks();
    (hooks.syscall)(frame);
    (hooks.return_to_user)(frame);
    super::cpu::cli();
    frame.vector = if sysret_ok(frame) {
        SYSCALL_VECTOR
    } else {
        IRET_MARK
    };
}
