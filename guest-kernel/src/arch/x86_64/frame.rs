//! The register frame every entry from user mode builds on the kernel
//! stack: the `syscall` entry, interrupts and exceptions alike, so that
//! one piece of code can read a program's registers, deliver a signal by
//! rewriting them, and restore them from a signal frame.
//!
//! ```text
//! low   fx[512]        fxsave image of the x87/SSE state (16-aligned)
//!       r15 .. rax     the 15 general registers, pushed rax first
//!       vector, error  what entered (SYSCALL_VECTOR for syscall)
//!       rip cs rflags rsp ss   the hardware interrupt frame
//! high                 = the kernel stack's top for entries from ring 3
//! ```

/// `vector` of a frame built by the `syscall` entry.
pub const SYSCALL_VECTOR: u64 = 0x100;
/// Bytes of the `fxsave` image.
pub const FX_SIZE: usize = 512;
/// Offset of MXCSR in the `fxsave` image.
pub const FX_MXCSR: usize = 24;
/// Offset of MXCSR_MASK in the `fxsave` image.
pub const FX_MXCSR_MASK: usize = 28;

/// The user code selector (Linux's `__USER_CS`).
pub const USER_CS: u64 = 0x33;
/// The user data selector (Linux's `__USER_DS`).
pub const USER_DS: u64 = 0x2b;
/// RFLAGS.IF.
pub const RFLAGS_IF: u64 = 1 << 9;
/// The RFLAGS a program starts with: IF, and the always-one bit 1.
pub const RFLAGS_USER_START: u64 = RFLAGS_IF | 0x2;
/// RFLAGS bits a program may change through `rt_sigreturn` (Linux's
/// `FIX_EFLAGS`): AC, OF, DF, TF, SF, ZF, AF, PF, CF, RF.
pub const RFLAGS_USER_MASK: u64 = (1 << 18)
    | (1 << 11)
    | (1 << 10)
    | (1 << 8)
    | (1 << 7)
    | (1 << 6)
    | (1 << 4)
    | (1 << 2)
    | 1
    | (1 << 16);

/// The FPU state of a fresh program: x87 control word 0x37f, MXCSR 0x1f80.
pub fn initial_fx() -> [u8; FX_SIZE] {
    let mut fx = [0u8; FX_SIZE];
    fx[0..2].copy_from_slice(&0x037fu16.to_le_bytes());
    fx[FX_MXCSR..FX_MXCSR + 4].copy_from_slice(&0x1f80u32.to_le_bytes());
    fx
}

/// The saved state of the interrupted program (see the module docs).
#[repr(C, align(16))]
#[derive(Clone, Debug)]
pub struct TrapFrame {
    /// The `fxsave` image: x87, MMX and SSE registers, MXCSR.
    pub fx: [u8; FX_SIZE],
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub rbp: u64,
    pub rbx: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rax: u64,
    /// The vector, or [`SYSCALL_VECTOR`].
    pub vector: u64,
    /// The CPU's error code (0 where it pushes none).
    pub error: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

impl Default for TrapFrame {
    fn default() -> Self {
        Self {
            fx: [0; FX_SIZE],
            r15: 0,
            r14: 0,
            r13: 0,
            r12: 0,
            rbp: 0,
            rbx: 0,
            r11: 0,
            r10: 0,
            r9: 0,
            r8: 0,
            rdi: 0,
            rsi: 0,
            rdx: 0,
            rcx: 0,
            rax: 0,
            vector: 0,
            error: 0,
            rip: 0,
            cs: USER_CS,
            rflags: RFLAGS_USER_START,
            rsp: 0,
            ss: USER_DS,
        }
    }
}

impl TrapFrame {
    /// The registers a program starts with: its entry and stack, the
    /// initial FPU state, every other register zero.
    pub fn program_start(rip: u64, rsp: u64) -> Self {
        Self {
            fx: initial_fx(),
            rip,
            rsp,
            rflags: RFLAGS_USER_START,
            cs: USER_CS,
            ss: USER_DS,
            ..Self::default()
        }
    }

    /// Whether the frame was taken in ring 3.
    pub fn from_user(&self) -> bool {
        self.cs & 3 == 3
    }

    /// The six syscall arguments (`rdi, rsi, rdx, r10, r8, r9`).
    pub fn syscall_args(&self) -> [u64; 6] {
        [self.rdi, self.rsi, self.rdx, self.r10, self.r8, self.r9]
    }

    /// MXCSR as saved.
    pub fn mxcsr(&self) -> u32 {
        u32::from_le_bytes(self.fx[FX_MXCSR..FX_MXCSR + 4].try_into().expect("4 bytes"))
    }

    /// Replaces the FPU state with `image` from user memory, clearing the
    /// MXCSR bits the CPU does not support (`fxrstor` would fault on them
    /// in the kernel).
    pub fn set_fx(&mut self, image: &[u8; FX_SIZE], mxcsr_mask: u32) {
        self.fx.copy_from_slice(image);
        let m = self.mxcsr() & mxcsr_mask;
        self.fx[FX_MXCSR..FX_MXCSR + 4].copy_from_slice(&m.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use core::mem::{offset_of, size_of};

    use super::*;

    #[test]
    fn layout_matches_the_entry_code() {
        assert_eq!(offset_of!(TrapFrame, r15), 512);
        assert_eq!(offset_of!(TrapFrame, rax), 512 + 14 * 8);
        assert_eq!(offset_of!(TrapFrame, vector), 512 + 15 * 8);
        assert_eq!(offset_of!(TrapFrame, rip), 512 + 17 * 8);
        assert_eq!(offset_of!(TrapFrame, ss), 512 + 21 * 8);
        assert_eq!(size_of::<TrapFrame>(), 688);
        assert_eq!(size_of::<TrapFrame>() % 16, 0);
    }

    #[test]
    fn restored_mxcsr_loses_unsupported_bits() {
        let mut f = TrapFrame::default();
        let mut img = [0u8; FX_SIZE];
        img[FX_MXCSR..FX_MXCSR + 4].copy_from_slice(&0xdead_1f80u32.to_le_bytes());
        f.set_fx(&img, 0xffbf);
        assert_eq!(f.mxcsr(), 0x1f80);
    }
}
