//! The PVH entry: QEMU's `-kernel` loader (through qboot or SeaBIOS's
//! `pvh.bin`) finds the `XEN_ELFNOTE_PHYS32_ENTRY` note and jumps to
//! `pvh_entry` in 32-bit protected mode, paging off, with `ebx` pointing
//! at a `hvm_start_info`.
//!
//! The entry records the TSC and the start info, zeroes `.bss`, and builds
//! the boot page tables (all in `.bss`):
//!
//! * the identity map of `[4 KiB, 4 MiB)`, supervisor-only: low RAM and
//!   the kernel image (page 0 stays unmapped, so NULL faults in the kernel
//!   too). `PML4[0]` and `PDPT[0]` carry the user bit, because user page
//!   tables hang below them from 4 MiB up; the kernel's own leaf entries
//!   do not, so a program cannot touch them;
//! * the direct map of the first 4 GiB at `DIRECT_MAP_BASE` with 2 MiB
//!   pages, supervisor-only and NX (`paging::init` later unmaps what is
//!   not RAM).
//!
//! Then it enables SSE (CR0.MP, !CR0.EM, CR4.OSFXSR|OSXMMEXCPT), PAE,
//! long mode with NXE and SCE (for `syscall`), write protection in ring 0
//! (CR0.WP, so the kernel cannot write a read-only user page by mistake),
//! alignment checking for programs that set RFLAGS.AC (CR0.AM, as Linux:
//! a misaligned access then raises #AC, SIGBUS), and calls `rust_entry`
//! on the boot stack, unless `resume::resume_if_forked` finds that this VM
//! is a fork child and resumes the parent's kernel instead.

use core::arch::global_asm;

use crate::arch::layout::DIRECT_MAP_BASE;

/// Bytes of the boot stack (the kernel runs on it until the program starts).
pub const BOOT_STACK_SIZE: usize = 64 * 1024;

global_asm!(
    r#"
    .section .note.Xen, "a", @note
    .balign 4
    .long 4
    .long 8
    .long 18
    .asciz "Xen"
    .balign 4
    .quad pvh_entry
    .balign 4

    .section .bss.boot, "aw", @nobits
    .balign 4096
    .global boot_pml4
boot_pml4:
    .skip 4096
boot_pdpt_low:
    .skip 4096
boot_pd_low:
    .skip 4096
boot_pt_low:
    .skip 4096
boot_pdpt_high:
    .skip 4096
boot_pd_high:
    .skip 4096 * 4
    .balign 16
    .global boot_stack_bottom
boot_stack_bottom:
    .skip {stack_size}
    .global boot_stack_top
boot_stack_top:
    .balign 8
    .global boot_start_info
boot_start_info:
    .skip 8
    .global boot_tsc
boot_tsc:
    .skip 8

    .section .rodata.boot, "a"
    .balign 16
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff
    .quad 0x00cf92000000ffff
boot_gdt_ptr:
    .word boot_gdt_ptr - boot_gdt - 1
    .long boot_gdt

    .section .text.boot, "ax"
    .code32
    .global pvh_entry
pvh_entry:
    cli
    cld
    rdtsc
    mov esi, eax
    mov ebp, edx

    mov edi, offset __bss_start
    mov ecx, offset __bss_end
    sub ecx, edi
    xor eax, eax
    rep stosb

    mov dword ptr [boot_start_info], ebx
    mov dword ptr [boot_tsc], esi
    mov dword ptr [boot_tsc + 4], ebp

    // PML4[0] -> low PDPT (present, writable, user: see the module docs).
    mov eax, offset boot_pdpt_low
    or eax, 7
    mov dword ptr [boot_pml4], eax
    mov eax, offset boot_pd_low
    or eax, 7
    mov dword ptr [boot_pdpt_low], eax
    // PD[0] -> the 4 KiB table of the first 2 MiB; PD[1] = 2..4 MiB.
    mov eax, offset boot_pt_low
    or eax, 3
    mov dword ptr [boot_pd_low], eax
    mov dword ptr [boot_pd_low + 8], 0x200083
    // PT entries 1..511: identity, present + writable (page 0 absent).
    mov edi, offset boot_pt_low + 8
    mov eax, 0x1003
    mov ecx, 511
2:
    mov dword ptr [edi], eax
    add eax, 0x1000
    add edi, 8
    dec ecx
    jnz 2b

    // PML4[256] -> the direct map's PDPT; four PDs of 2 MiB pages, NX.
    mov eax, offset boot_pdpt_high
    or eax, 3
    mov dword ptr [boot_pml4 + 256 * 8], eax
    mov eax, offset boot_pd_high
    or eax, 3
    mov edi, offset boot_pdpt_high
    mov ecx, 4
3:
    mov dword ptr [edi], eax
    add eax, 4096
    add edi, 8
    dec ecx
    jnz 3b
    mov edi, offset boot_pd_high
    mov eax, 0x83
    mov ecx, 2048
4:
    mov dword ptr [edi], eax
    mov dword ptr [edi + 4], 0x80000000
    add eax, 0x200000
    add edi, 8
    dec ecx
    jnz 4b

    mov eax, offset boot_pml4
    mov cr3, eax

    // CR4: PAE | OSFXSR | OSXMMEXCPT.
    mov eax, cr4
    or eax, 0x620
    mov cr4, eax

    // EFER: SCE | LME | NXE.
    mov ecx, 0xC0000080
    rdmsr
    or eax, 0x901
    wrmsr

    // CR0: PG | AM | WP | MP | PE, EM clear.
    mov eax, cr0
    and eax, 0xFFFFFFFB
    or eax, 0x80050003
    mov cr0, eax

    lgdt [boot_gdt_ptr]
    mov eax, 0x08
    push eax
    mov eax, offset pvh_long_mode
    push eax
    retf

    .code64
pvh_long_mode:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    mov rsp, offset boot_stack_top
    xor ebp, ebp
    // A fork child resumes from its parent's record instead (resume.rs).
    call resume_if_forked
    call rust_entry
    ud2
    "#,
    stack_size = const BOOT_STACK_SIZE,
);

const _: () = assert!(
    DIRECT_MAP_BASE == 0xffff_8000_0000_0000,
    "PML4 slot 256 above"
);

extern "C" {
    static boot_start_info: u64;
    static boot_tsc: u64;
    static boot_pml4: u8;
}

/// The physical address of the `hvm_start_info` QEMU passed in `ebx`.
pub fn start_info_addr() -> u64 {
    // SAFETY: written once by `pvh_entry` before any Rust code runs; never written again.
    unsafe { core::ptr::addr_of!(boot_start_info).read() }
}

/// The TSC value read at the very first instruction of the guest.
pub fn entry_tsc() -> u64 {
    // SAFETY: as for `start_info_addr`.
    unsafe { core::ptr::addr_of!(boot_tsc).read() }
}

/// The physical (= identity) address of the top page table.
pub fn pml4_phys() -> u64 {
    core::ptr::addr_of!(boot_pml4) as u64
}
