//! The PVH entry: QEMU's `-kernel` loader finds the `XEN_ELFNOTE_PHYS32_ENTRY`
//! note and jumps to `pvh_entry` in 32-bit protected mode, paging off, with
//! `ebx` pointing at a `hvm_start_info`.
//!
//! The entry records the TSC (for the boot-to-main time) and the start info,
//! zeroes `.bss`, identity-maps the first 4 GiB with 2 MiB pages (RAM, the
//! virtio-mmio windows, the IOAPICs and the LAPIC all live there), enables
//! SSE (CR0.MP, !CR0.EM, CR4.OSFXSR|OSXMMEXCPT), PAE and long mode, and calls
//! [`crate::runtime::rust_entry`] on the boot stack, unless the fork mailbox
//! after the image names a resume record: then it is a fork child, and
//! `fork_child_restore` (`process::fork`) resumes the parent's `fork()`.

use core::arch::global_asm;

/// Bytes of the boot (and main) stack.
pub const BOOT_STACK_SIZE: usize = 512 * 1024;

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
boot_pdpt:
    .skip 4096
boot_pd:
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
    mov esp, ebx
    rdtsc
    mov esi, eax
    mov ebp, edx

    mov edi, offset __bss_start
    mov ecx, offset __bss_end
    sub ecx, edi
    xor eax, eax
    rep stosb

    mov dword ptr [boot_start_info], esp
    mov dword ptr [boot_tsc], esi
    mov dword ptr [boot_tsc + 4], ebp

    mov eax, offset boot_pdpt
    or eax, 3
    mov dword ptr [boot_pml4], eax

    mov eax, offset boot_pd
    or eax, 3
    mov dword ptr [boot_pdpt], eax
    add eax, 4096
    mov dword ptr [boot_pdpt + 8], eax
    add eax, 4096
    mov dword ptr [boot_pdpt + 16], eax
    add eax, 4096
    mov dword ptr [boot_pdpt + 24], eax

    mov edi, offset boot_pd
    mov eax, 0x83
    mov ecx, 2048
2:
    mov dword ptr [edi], eax
    mov dword ptr [edi + 4], 0
    add eax, 0x200000
    add edi, 8
    dec ecx
    jnz 2b

    mov eax, offset boot_pml4
    mov cr3, eax

    mov eax, cr4
    or eax, 0x620
    mov cr4, eax

    mov ecx, 0xC0000080
    rdmsr
    or eax, 0x100
    wrmsr

    mov eax, cr0
    and eax, 0xFFFFFFFB
    or eax, 0x80000003
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

    // A fork child? Its parent left the record's address in the mailbox
    // right after the image (zero in every VM that is not a fork child).
    mov rax, [rip + __kernel_end]
    movabs rcx, {mailbox_magic}
    cmp rax, rcx
    jne 3f
    mov rdi, [rip + __kernel_end + 8]
    mov rax, rdi
    xor rax, rcx
    cmp rax, [rip + __kernel_end + 16]
    jne 3f
    lea rax, [rip + __kernel_end]
    cmp rdi, rax
    jbe 3f
    mov eax, {mapped_end}
    cmp rdi, rax
    jae 3f
    movabs rcx, {record_magic}
    cmp [rdi], rcx
    jne 3f
    jmp fork_child_restore
3:
    call rust_entry
    ud2
    "#,
    stack_size = const BOOT_STACK_SIZE,
    mailbox_magic = const crate::process::fork_record::MAILBOX_MAGIC,
    record_magic = const crate::process::fork_record::RECORD_MAGIC,
    mapped_end = const 0xc000_0000u32,
);

extern "C" {
    static boot_start_info: u64;
    static boot_tsc: u64;
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
