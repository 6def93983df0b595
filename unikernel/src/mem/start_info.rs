//! The PVH `hvm_start_info` (Xen's `arch-x86/hvm/start_info.h`): where RAM
//! is, and the command line.

/// `XEN_HVM_START_MAGIC_VALUE`.
const MAGIC: u32 = 0x336e_c578;
const E820_RAM: u32 = 1;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
struct HvmStartInfo {
    magic: u32,
    version: u32,
    flags: u32,
    nr_modules: u32,
    modlist_paddr: u64,
    cmdline_paddr: u64,
    rsdp_paddr: u64,
    memmap_paddr: u64,
    memmap_entries: u32,
    reserved: u32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
struct MemmapEntry {
    addr: u64,
    size: u64,
    kind: u32,
    reserved: u32,
}

fn info() -> Option<HvmStartInfo> {
    let addr = crate::arch::x86_64::boot::start_info_addr();
    if addr == 0 {
        return None;
    }
    // SAFETY: QEMU put a start_info at `addr` in identity-mapped low RAM, and
    // nothing has overwritten it (it lies below the kernel, outside the heap).
    let info = unsafe { (addr as *const HvmStartInfo).read_unaligned() };
    (info.magic == MAGIC).then_some(info)
}

/// The RAM region `[start, end)` that contains `addr`, from the memory map.
pub fn ram_region_containing(addr: u64) -> Option<(u64, u64)> {
    let info = info()?;
    if info.version < 1 || info.memmap_paddr == 0 {
        return None;
    }
    (0..info.memmap_entries as usize).find_map(|i| {
        // SAFETY: the memory map has `memmap_entries` entries at `memmap_paddr`,
        // identity-mapped and untouched, like the start info itself.
        let e = unsafe {
            (info.memmap_paddr as *const MemmapEntry)
                .add(i)
                .read_unaligned()
        };
        (e.kind == E820_RAM && e.addr <= addr && addr < e.addr + e.size)
            .then_some((e.addr, e.addr + e.size))
    })
}

/// The memory map's entries (of any type) as `(address, size)`, up to
/// `out.len()` of them; returns how many were written.
pub fn memmap(out: &mut [(u64, u64)]) -> usize {
    let Some(info) = info() else { return 0 };
    if info.version < 1 || info.memmap_paddr == 0 {
        return 0;
    }
    let n = (info.memmap_entries as usize).min(out.len());
    for (i, slot) in out[..n].iter_mut().enumerate() {
        // SAFETY: as in `ram_region_containing`.
        let e = unsafe {
            (info.memmap_paddr as *const MemmapEntry)
                .add(i)
                .read_unaligned()
        };
        *slot = (e.addr, e.size);
    }
    n
}

/// The kernel command line, if any.
pub fn cmdline() -> &'static [u8] {
    let Some(info) = info() else { return b"" };
    if info.cmdline_paddr == 0 {
        return b"";
    }
    let p = info.cmdline_paddr as *const u8;
    let mut n = 0;
    // SAFETY: a NUL-terminated string QEMU placed in low RAM; bounded scan.
    while n < 4096 && unsafe { p.add(n).read() } != 0 {
        n += 1;
    }
    // SAFETY: the `n` bytes just scanned, never written again.
    unsafe { core::slice::from_raw_parts(p, n) }
}
