//! The initial stack, laid out as Linux's `create_elf_tables` does, and
//! what the x86-64 psABI (3.4.1) requires at the entry point: `rsp` is
//! 16-byte aligned and points at `argc`, followed by the `argv` pointers,
//! a NULL, the `envp` pointers, a NULL, and the auxiliary vector's
//! (type, value) pairs ending with `AT_NULL`. Pure logic, unit-tested on
//! the host.
//!
//! ```text
//! top      8 zero bytes
//!          execfn string ("AT_EXECFN")
//!          env strings, argv strings      (argv lowest)
//!          "x86_64" (AT_PLATFORM), 16 random bytes (AT_RANDOM)
//!          ... padding to 16 ...
//!          auxv pairs, AT_NULL
//!          NULL, envp[envc-1] .. envp[0]
//!          NULL, argv[argc-1] .. argv[0]
//! rsp ->   argc
//! ```
//!
//! No `AT_SYSINFO_EHDR`: there is no vDSO, so libc makes real syscalls
//! for `clock_gettime` and friends.

use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use crate::linux::auxv::*;

/// Most bytes the initial stack may take (strings, pointers, auxv). Linux
/// allows a quarter of `RLIMIT_STACK` (2 MiB); the device's args blob is
/// 64 KiB at most, so this is plenty.
pub const MAX_STACK_IMAGE: usize = 512 * 1024;

/// The values of the auxiliary vector that come from the program and the CPU.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AuxInputs {
    /// `AT_PHDR`.
    pub phdr: u64,
    /// `AT_PHENT`.
    pub phent: u64,
    /// `AT_PHNUM`.
    pub phnum: u64,
    /// `AT_ENTRY`.
    pub entry: u64,
    /// `AT_HWCAP`: CPUID.1:EDX.
    pub hwcap: u64,
    /// `AT_HWCAP2`.
    pub hwcap2: u64,
    /// `AT_UID`, `AT_EUID`.
    pub uid: u64,
    /// `AT_GID`, `AT_EGID`.
    pub gid: u64,
    /// `AT_MINSIGSTKSZ`.
    pub minsigstksz: u64,
}

/// `AT_PAGESZ`.
pub const PAGE_SIZE: u64 = 4096;
/// `AT_CLKTCK`: Linux's `USER_HZ`.
pub const CLKTCK: u64 = 100;
/// `AT_PLATFORM`.
pub const PLATFORM: &[u8] = b"x86_64";

/// The bytes of the initial stack: they go at `[sp, top)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackImage {
    /// The entry `rsp`.
    pub sp: u64,
    /// The bytes from `sp` up to the top.
    pub bytes: Vec<u8>,
}

/// The arguments do not fit [`MAX_STACK_IMAGE`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooBig(pub usize);

impl fmt::Display for TooBig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "initial stack of {} bytes exceeds {MAX_STACK_IMAGE}",
            self.0
        )
    }
}

/// Builds the initial stack for a stack whose top is `top` (page-aligned).
pub fn build(
    top: u64,
    argv: &[&[u8]],
    envp: &[&[u8]],
    execfn: &[u8],
    random: [u8; 16],
    aux: &AuxInputs,
) -> Result<StackImage, TooBig> {
    let strings: usize = argv.iter().chain(envp).map(|s| s.len() + 1).sum::<usize>()
        + execfn.len()
        + 1
        + PLATFORM.len()
        + 1;
    const AUX_PAIRS: usize = 20;
    let pointers = 8 * (1 + argv.len() + 1 + envp.len() + 1 + 2 * AUX_PAIRS);
    // A multiple of 16, so that 16-aligned offsets are 16-aligned addresses
    // (`top` is page-aligned).
    let total = (8 + strings + 16 + 16 + pointers + 16).next_multiple_of(16);
    if total > MAX_STACK_IMAGE {
        return Err(TooBig(total));
    }
    // Build downwards in a buffer that represents [top - total, top).
    let base = top - total as u64;
    let mut buf = vec![0u8; total];
    let mut pos = total - 8; // the 8 zero bytes at the very top
    let mut put = |pos: &mut usize, s: &[u8]| -> u64 {
        *pos -= s.len() + 1;
        buf[*pos..*pos + s.len()].copy_from_slice(s);
        buf[*pos + s.len()] = 0;
        base + *pos as u64
    };
    let execfn_at = put(&mut pos, execfn);
    let mut env_at: Vec<u64> = envp.iter().rev().map(|s| put(&mut pos, s)).collect();
    env_at.reverse();
    let mut arg_at: Vec<u64> = argv.iter().rev().map(|s| put(&mut pos, s)).collect();
    arg_at.reverse();
    let platform_at = put(&mut pos, PLATFORM);
    pos -= 16;
    pos &= !15;
    buf[pos..pos + 16].copy_from_slice(&random);
    let random_at = base + pos as u64;

    let auxv: [(u64, u64); AUX_PAIRS - 1] = [
        (AT_HWCAP, aux.hwcap),
        (AT_PAGESZ, PAGE_SIZE),
        (AT_CLKTCK, CLKTCK),
        (AT_PHDR, aux.phdr),
        (AT_PHENT, aux.phent),
        (AT_PHNUM, aux.phnum),
        (AT_BASE, 0),
        (AT_FLAGS, 0),
        (AT_ENTRY, aux.entry),
        (AT_UID, aux.uid),
        (AT_EUID, aux.uid),
        (AT_GID, aux.gid),
        (AT_EGID, aux.gid),
        (AT_SECURE, 0),
        (AT_RANDOM, random_at),
        (AT_HWCAP2, aux.hwcap2),
        (AT_EXECFN, execfn_at),
        (AT_PLATFORM, platform_at),
        (AT_MINSIGSTKSZ, aux.minsigstksz),
    ];
    let mut words: Vec<u64> = Vec::with_capacity(pointers / 8);
    words.push(argv.len() as u64);
    words.extend(&arg_at);
    words.push(0);
    words.extend(&env_at);
    words.push(0);
    for (k, v) in auxv {
        words.push(k);
        words.push(v);
    }
    words.push(AT_NULL);
    words.push(0);
    let sp_pos = (pos - words.len() * 8) & !15;
    for (i, w) in words.iter().enumerate() {
        let o = sp_pos + i * 8;
        buf[o..o + 8].copy_from_slice(&w.to_le_bytes());
    }
    Ok(StackImage {
        sp: base + sp_pos as u64,
        bytes: buf.split_off(sp_pos),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOP: u64 = 0x7fff_ffff_f000;

    fn word(img: &StackImage, addr: u64) -> u64 {
        let o = (addr - img.sp) as usize;
        u64::from_le_bytes(img.bytes[o..o + 8].try_into().unwrap())
    }

    fn string(img: &StackImage, addr: u64) -> Vec<u8> {
        let o = (addr - img.sp) as usize;
        let n = img.bytes[o..].iter().position(|&b| b == 0).unwrap();
        img.bytes[o..o + n].to_vec()
    }

    fn aux_value(img: &StackImage, key: u64) -> Option<u64> {
        let argc = word(img, img.sp);
        let mut at = img.sp + 8 * (argc + 2);
        while word(img, at) != 0 {
            at += 8;
        }
        at += 8;
        loop {
            let (k, v) = (word(img, at), word(img, at + 8));
            if k == AT_NULL {
                return None;
            }
            if k == key {
                return Some(v);
            }
            at += 16;
        }
    }

    fn sample() -> StackImage {
        let aux = AuxInputs {
            phdr: 0x400040,
            phent: 56,
            phnum: 9,
            entry: 0x401000,
            hwcap: 0x178bfbff,
            minsigstksz: 2048,
            ..Default::default()
        };
        build(
            TOP,
            &[b"busybox", b"echo", b"hi"],
            &[b"A=1", b"PATH=/bin"],
            b"/bin/busybox",
            [7; 16],
            &aux,
        )
        .unwrap()
    }

    #[test]
    fn sp_is_16_aligned_and_the_image_ends_at_the_top() {
        let img = sample();
        assert_eq!(img.sp % 16, 0);
        assert_eq!(img.sp + img.bytes.len() as u64, TOP);
    }

    #[test]
    fn argc_argv_and_envp_read_back() {
        let img = sample();
        assert_eq!(word(&img, img.sp), 3);
        let argv: Vec<Vec<u8>> = (0..3)
            .map(|i| string(&img, word(&img, img.sp + 8 + 8 * i)))
            .collect();
        assert_eq!(
            argv,
            [b"busybox".to_vec(), b"echo".to_vec(), b"hi".to_vec()]
        );
        assert_eq!(word(&img, img.sp + 8 * 4), 0);
        let env0 = word(&img, img.sp + 8 * 5);
        assert_eq!(string(&img, env0), b"A=1");
        assert_eq!(string(&img, word(&img, img.sp + 8 * 6)), b"PATH=/bin");
        assert_eq!(word(&img, img.sp + 8 * 7), 0);
    }

    #[test]
    fn auxv_holds_what_libc_needs() {
        let img = sample();
        assert_eq!(aux_value(&img, AT_PHDR), Some(0x400040));
        assert_eq!(aux_value(&img, AT_PHNUM), Some(9));
        assert_eq!(aux_value(&img, AT_PAGESZ), Some(4096));
        assert_eq!(aux_value(&img, AT_ENTRY), Some(0x401000));
        assert_eq!(aux_value(&img, AT_BASE), Some(0));
        assert_eq!(aux_value(&img, AT_SECURE), Some(0));
        assert_eq!(aux_value(&img, AT_CLKTCK), Some(100));
        assert_eq!(aux_value(&img, AT_MINSIGSTKSZ), Some(2048));
        assert_eq!(aux_value(&img, 33), None, "no vDSO (AT_SYSINFO_EHDR)");
        let random = aux_value(&img, AT_RANDOM).unwrap();
        assert_eq!(random % 16, 0);
        let o = (random - img.sp) as usize;
        assert_eq!(&img.bytes[o..o + 16], &[7; 16]);
        assert_eq!(
            string(&img, aux_value(&img, AT_EXECFN).unwrap()),
            b"/bin/busybox"
        );
        assert_eq!(
            string(&img, aux_value(&img, AT_PLATFORM).unwrap()),
            b"x86_64"
        );
    }

    #[test]
    fn empty_argv_and_env_still_make_a_valid_stack() {
        let img = build(TOP, &[], &[], b"", [0; 16], &AuxInputs::default()).unwrap();
        assert_eq!(img.sp % 16, 0);
        assert_eq!(word(&img, img.sp), 0);
        assert_eq!(word(&img, img.sp + 8), 0);
        assert_eq!(word(&img, img.sp + 16), 0);
    }

    #[test]
    fn oversized_arguments_are_refused() {
        let big = vec![b'x'; MAX_STACK_IMAGE];
        assert!(build(TOP, &[&big], &[], b"", [0; 16], &AuxInputs::default()).is_err());
    }
}
