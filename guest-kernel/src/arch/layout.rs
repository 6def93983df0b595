//! The virtual memory map: where the kernel, the program and the kernel's
//! views of RAM and devices live. Pure constants and arithmetic.
//!
//! ```text
//! 0x0000_0000_0000_0000  page 0: never mapped (NULL)
//! 0x0000_0000_0000_1000  identity map of low RAM and the kernel image
//!                        (linked at 1 MiB), supervisor-only
//! 0x0000_0000_0040_0000  USER_START: the user half begins (ld's non-PIE base)
//!                        ET_EXEC segments where they are linked; brk after them
//! 0x0000_5555_5555_4000  PIE_BASE: a static-pie program's load address
//! 0x0000_7fff_f7ff_f000  MMAP_TOP: anonymous mmap grows down from here
//! 0x0000_7fff_ff7f_f000  the stack area (STACK_SIZE below STACK_TOP)
//! 0x0000_7fff_ffff_f000  STACK_TOP = USER_END (Linux's TASK_SIZE)
//! 0xffff_8000_0000_0000  DIRECT_MAP_BASE: all RAM, phys + base, supervisor, NX
//! 0xffff_c000_0000_0000  MMIO_BASE: device registers, phys + base, uncached, NX
//! ```
//!
//! Why the kernel sits at 1 MiB and ends below 4 MiB: QEMU's PVH loader
//! puts the image at its physical link address, and below 4 MiB it never
//! meets a program linked at `ld`'s default base (0x400000). `link.ld`
//! asserts the bound at link time; a test reads the image's headers.

/// Bytes in a page.
pub const PAGE_SIZE: u64 = 4096;
/// Bytes in a large (2 MiB) page.
pub const LARGE_PAGE_SIZE: u64 = 2 << 20;
/// The kernel's physical and virtual load address.
pub const KERNEL_BASE: u64 = 0x10_0000;
/// The end of the identity map (and the bound on the kernel image).
pub const IDENTITY_END: u64 = 0x40_0000;
/// The lowest user address: `ld`'s default base for non-PIE executables.
pub const USER_START: u64 = IDENTITY_END;
/// One past the highest user address (Linux's `TASK_SIZE`).
pub const USER_END: u64 = 0x0000_7fff_ffff_f000;
/// The top of the initial stack.
pub const STACK_TOP: u64 = USER_END;
/// The stack area's size: `RLIMIT_STACK`'s usual 8 MiB, populated on demand.
pub const STACK_SIZE: u64 = 8 << 20;
/// Where anonymous `mmap` starts, growing down: 128 MiB below the stack
/// top, Linux's minimum gap (`mmap_base` without randomisation).
pub const MMAP_TOP: u64 = STACK_TOP - (128 << 20);
/// Where a static-pie (`ET_DYN`) program is loaded: Linux's
/// `ELF_ET_DYN_BASE` without randomisation, far from `brk`, `mmap` and the
/// stack.
pub const PIE_BASE: u64 = 0x0000_5555_5555_4000;
/// Where the kernel sees all of RAM: physical address + this.
pub const DIRECT_MAP_BASE: u64 = 0xffff_8000_0000_0000;
/// Where the kernel sees device registers: physical address + this.
pub const MMIO_BASE: u64 = 0xffff_c000_0000_0000;
/// The most physical address space the direct map and the MMIO window cover.
pub const PHYS_LIMIT: u64 = 1 << 46;

const _: () = {
    assert!(KERNEL_BASE < IDENTITY_END);
    assert!(USER_START < PIE_BASE);
    assert!(PIE_BASE < MMAP_TOP);
    assert!(MMAP_TOP < STACK_TOP - STACK_SIZE);
    assert!(STACK_TOP <= USER_END);
    assert!(USER_END < DIRECT_MAP_BASE);
    assert!(DIRECT_MAP_BASE + PHYS_LIMIT <= MMIO_BASE);
};

/// `x` rounded down to a page boundary.
pub const fn page_down(x: u64) -> u64 {
    x & !(PAGE_SIZE - 1)
}

/// `x` rounded up to a page boundary, or `None` on overflow.
pub const fn page_up(x: u64) -> Option<u64> {
    match x.checked_add(PAGE_SIZE - 1) {
        Some(v) => Some(v & !(PAGE_SIZE - 1)),
        None => None,
    }
}

/// Whether `[addr, addr + len)` lies inside the user half.
pub const fn is_user_range(addr: u64, len: u64) -> bool {
    match addr.checked_add(len) {
        Some(end) => addr >= USER_START && end <= USER_END,
        None => false,
    }
}

/// The direct-map address of physical address `phys`.
pub const fn phys_to_virt(phys: u64) -> u64 {
    DIRECT_MAP_BASE + phys
}

/// The physical address behind a kernel address: the identity map below
/// [`IDENTITY_END`] or the direct map. `None` for anything else (user
/// addresses, MMIO).
pub const fn kernel_virt_to_phys(virt: u64) -> Option<u64> {
    if virt < IDENTITY_END {
        Some(virt)
    } else if virt >= DIRECT_MAP_BASE && virt < DIRECT_MAP_BASE + PHYS_LIMIT {
        Some(virt - DIRECT_MAP_BASE)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_range_excludes_kernel_and_upper_half() {
        assert!(is_user_range(USER_START, PAGE_SIZE));
        assert!(!is_user_range(0, PAGE_SIZE));
        assert!(!is_user_range(USER_START - 1, 2));
        assert!(!is_user_range(USER_END - 1, 2));
        assert!(!is_user_range(u64::MAX - 1, 4));
        assert!(is_user_range(USER_END - PAGE_SIZE, PAGE_SIZE));
    }

    #[test]
    fn kernel_addresses_translate_and_user_addresses_do_not() {
        assert_eq!(kernel_virt_to_phys(0x20_0000), Some(0x20_0000));
        assert_eq!(kernel_virt_to_phys(DIRECT_MAP_BASE + 0x1234), Some(0x1234));
        assert_eq!(kernel_virt_to_phys(USER_START), None);
        assert_eq!(kernel_virt_to_phys(MMIO_BASE), None);
    }

    #[test]
    fn page_rounding() {
        assert_eq!(page_down(0x1fff), 0x1000);
        assert_eq!(page_up(0x1001), Some(0x2000));
        assert_eq!(page_up(0x1000), Some(0x1000));
        assert_eq!(page_up(u64::MAX), None);
    }
}
