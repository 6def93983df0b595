//! The RAM that QEMU's x86 firmware writes at every boot, which the heap
//! and the frame allocator must leave alone for `fork()` (`process::fork`): a fork
//! child's VM boots on a copy of its parent's RAM, and whatever its
//! firmware writes there is lost to it. Copied from the unikernel
//! (`unikernel/src/mem/firmware.rs`), where it was measured.
//!
//! The firmware on both machines is SeaBIOS (`bios-256k.bin` on q35,
//! `bios-microvm.bin` on microvm). Besides low memory (< 1 MiB, unused
//! here) and the tables it keeps (reserved in the memory map), it makes
//! temporary allocations during POST (relocated init code, the fw_cfg file
//! list, table staging) top-down from the base of its high zone, which is
//! 16 MiB or 256 KiB below the end of RAM below 4 GiB (the larger one when
//! RAM allows), and frees them before the kernel runs: the memory map
//! then reports that RAM as free, but every boot writes it again. Measured
//! with QEMU 10.0: 84 KiB (microvm) and 136 KiB (q35) right below
//! `top - 16 MiB` for 64 MiB of RAM, below `top - 256 KiB` for 32 MiB. The
//! heap leaves out [`SCRATCH_WINDOW`] below each possible base, and the
//! top of RAM from the lower base up.

/// Sizes SeaBIOS gives its high zone, largest first.
pub const HIGH_ZONE_SIZES: [u64; 2] = [16 << 20, 256 << 10];
/// Bytes below a high-zone base kept out of the heap (about 8 times what
/// POST was seen to use).
pub const SCRATCH_WINDOW: u64 = 1 << 20;
/// Most pieces the heap can be split into.
pub const MAX_REGIONS: usize = HIGH_ZONE_SIZES.len() + 1;

/// The end of RAM as the firmware saw it: the end of the RAM region that
/// holds the image, extended over the memory-map entries (the firmware's
/// reserved tables) that directly follow it.
pub fn ram_top(region_end: u64, entries: &[(u64, u64)]) -> u64 {
    let mut top = region_end;
    while let Some(&(addr, size)) = entries.iter().find(|&&(a, s)| a == top && s > 0) {
        top = addr + size;
    }
    top
}

/// The ranges a boot may write above the image, for RAM ending at `top`.
pub fn scratch(top: u64) -> [(u64, u64); 2] {
    let low_base = top.saturating_sub(HIGH_ZONE_SIZES[0]);
    let high_base = top.saturating_sub(HIGH_ZONE_SIZES[1]);
    [
        (low_base.saturating_sub(SCRATCH_WINDOW), low_base),
        (high_base.saturating_sub(SCRATCH_WINDOW), top),
    ]
}

/// The parts of `[start, end)` outside `holes`, lowest first, each at least
/// a page; `n` of the returned entries are used.
pub fn regions(start: u64, end: u64, holes: &[(u64, u64)]) -> ([(u64, u64); MAX_REGIONS], usize) {
    let mut out = [(0, 0); MAX_REGIONS];
    let mut n = 0;
    let mut sorted = [(0u64, 0u64); 4];
    let k = holes.len().min(sorted.len());
    sorted[..k].copy_from_slice(&holes[..k]);
    sorted[..k].sort_unstable();
    let mut at = start;
    for &(lo, hi) in sorted[..k].iter().chain(core::iter::once(&(end, u64::MAX))) {
        let piece_end = lo.min(end);
        if piece_end >= at.saturating_add(4096) && n < MAX_REGIONS {
            out[n] = (at, piece_end);
            n += 1;
        }
        at = at.max(hi);
        if at >= end {
            break;
        }
    }
    (out, n)
}

/// Whether a boot may write into `[lo, hi)` (the image and the fork mailbox).
pub fn overlaps_scratch(top: u64, lo: u64, hi: u64) -> bool {
    scratch(top).iter().any(|&(a, b)| a < hi && lo < b)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    #[test]
    fn top_extends_over_the_reserved_tail() {
        // microvm 64 MiB: RAM to 0x3fff000, reserved 0x3fff000..0x4000000.
        let map = [
            (0, 0x9fc00),
            (0x9fc00, 0x400),
            (0xf0000, 0x10000),
            (0x10_0000, 0x3eff000),
            (0x3fff000, 0x1000),
            (0xfffc_0000, 0x40000),
        ];
        assert_eq!(ram_top(0x3fff000, &map), 64 * MIB);
        assert_eq!(ram_top(0x3fe0000, &[(0x3fe0000, 0x20000)]), 64 * MIB);
        assert_eq!(ram_top(0x2000000, &[]), 32 * MIB);
    }

    #[test]
    fn observed_post_scratch_lies_inside_the_windows() {
        // Measured: microvm 0x2feb000..0x3000000, q35 0x2fde000..0x3000000 for
        // 64 MiB; microvm 0x1fab000..0x1fc0000, q35 0x1f9e000..0x1fc0000 for 32 MiB.
        for (top, lo, hi) in [
            (64 * MIB, 0x2feb000, 0x3000000),
            (64 * MIB, 0x2fde000, 0x3000000),
            (32 * MIB, 0x1fab000, 0x1fc0000),
            (32 * MIB, 0x1f9e000, 0x1fc0000),
            (256 * MIB, 0xefeb000, 0xf000000),
        ] {
            assert!(
                scratch(top).iter().any(|&(a, b)| a <= lo && hi <= b),
                "{lo:#x}..{hi:#x} for top {top:#x}"
            );
        }
    }

    #[test]
    fn heap_is_split_around_the_windows() {
        let (r, n) = regions(0x1c8000, 0x3fff000, &scratch(64 * MIB));
        assert_eq!(
            &r[..n],
            &[
                (0x1c8000, 47 * MIB),
                (48 * MIB, 64 * MIB - MIB - 256 * 1024)
            ]
        );
    }

    #[test]
    fn windows_below_the_start_or_overlapping_each_other_are_handled() {
        // 16 MiB of RAM: the 16 MiB base is 0; both windows near the top.
        let (r, n) = regions(0x200000, 16 * MIB, &scratch(16 * MIB));
        assert_eq!(&r[..n], &[(0x200000, 16 * MIB - MIB - 256 * 1024)]);
        let (r, n) = regions(0x1000, 0x9000, &[(0x3000, 0x6000), (0x2000, 0x4000)]);
        assert_eq!(&r[..n], &[(0x1000, 0x2000), (0x6000, 0x9000)]);
        let (_, n) = regions(0x1000, 0x9000, &[(0, 0x10000)]);
        assert_eq!(n, 0);
    }

    #[test]
    fn image_overlap_is_detected_only_for_tiny_ram() {
        assert!(!overlaps_scratch(64 * MIB, 0x100000, 0x1c8000));
        assert!(!overlaps_scratch(32 * MIB, 0x100000, 0x1c8000));
        assert!(overlaps_scratch(3 * MIB, 0x100000, 0x1c8000));
    }
}
