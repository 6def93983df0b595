//! C variadic functions on stable Rust.
//!
//! Rust cannot define `printf(const char *, ...)` without the unstable
//! `c_variadic` feature, so each variadic C entry is a small assembly shim
//! that spills the argument registers into a System V register save area,
//! builds a `va_list` over it, and calls the `v*` variant (`vprintf`, ...)
//! with that `va_list` in place of the `...`. [`VaList`] then reads it the
//! way `va_arg` does (System V AMD64 ABI, 3.5.7).

use super::format::ArgSource;

/// The System V `va_list` element (`__va_list_tag`).
#[repr(C)]
#[derive(Debug)]
pub struct VaListTag {
    gp_offset: u32,
    fp_offset: u32,
    overflow_arg_area: *mut u64,
    reg_save_area: *mut u8,
}

/// A `va_list` being consumed.
#[derive(Debug)]
pub struct VaList(pub *mut VaListTag);

/// Bytes of general-purpose registers in the save area (6 × 8).
const GP_END: u32 = 48;
/// End of the SSE part of the save area (48 + 8 × 16).
const FP_END: u32 = 176;

impl ArgSource for VaList {
    fn next_int(&mut self) -> u64 {
        // SAFETY: `self.0` points at a live va_list built by a shim or by C
        // code's `va_start`; reading it as va_arg does stays inside the save
        // area (offsets < GP_END) or walks the caller's stack arguments.
        unsafe {
            let t = &mut *self.0;
            if t.gp_offset < GP_END {
                let v = (t.reg_save_area.add(t.gp_offset as usize) as *const u64).read();
                t.gp_offset += 8;
                v
            } else {
                let v = t.overflow_arg_area.read();
                t.overflow_arg_area = t.overflow_arg_area.add(1);
                v
            }
        }
    }

    fn next_double(&mut self) -> f64 {
        // SAFETY: as for `next_int`, for the SSE part of the save area.
        unsafe {
            let t = &mut *self.0;
            if t.fp_offset < FP_END {
                let v = (t.reg_save_area.add(t.fp_offset as usize) as *const f64).read();
                t.fp_offset += 16;
                v
            } else {
                let v = (t.overflow_arg_area as *const f64).read();
                t.overflow_arg_area = t.overflow_arg_area.add(1);
                v
            }
        }
    }
}

#[cfg(not(test))]
core::arch::global_asm!(
    r#"
    .macro VARIADIC name, target, named, vareg
    .section .text.\name, "ax"
    .global \name
    .type \name, @function
\name:
    push rbp
    mov rbp, rsp
    sub rsp, 208
    mov [rsp], rdi
    mov [rsp + 8], rsi
    mov [rsp + 16], rdx
    mov [rsp + 24], rcx
    mov [rsp + 32], r8
    mov [rsp + 40], r9
    test al, al
    je 1f
    movaps [rsp + 48], xmm0
    movaps [rsp + 64], xmm1
    movaps [rsp + 80], xmm2
    movaps [rsp + 96], xmm3
    movaps [rsp + 112], xmm4
    movaps [rsp + 128], xmm5
    movaps [rsp + 144], xmm6
    movaps [rsp + 160], xmm7
1:
    mov dword ptr [rsp + 176], \named * 8
    mov dword ptr [rsp + 180], 48
    lea rax, [rbp + 16]
    mov [rsp + 184], rax
    mov [rsp + 192], rsp
    lea \vareg, [rsp + 176]
    call \target
    leave
    ret
    .endm

    VARIADIC printf, vprintf, 1, rsi
    VARIADIC fprintf, vfprintf, 2, rdx
    VARIADIC dprintf, vdprintf, 2, rdx
    VARIADIC sprintf, vsprintf, 2, rdx
    VARIADIC snprintf, vsnprintf, 3, rcx
    VARIADIC fcntl, unikernel_vfcntl, 2, rdx
"#
);
