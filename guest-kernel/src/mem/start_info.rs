//! The PVH `hvm_start_info` (Xen's `arch-x86/hvm/start_info.h`): where RAM
//! is, the command line, and the modules (QEMU's `-initrd`: the program
//! of a VM launched by hand). Everything is read through the direct map.

use crate::arch::layout::phys_to_virt;

/// `XEN_HVM_START_MAGIC_VALUE`.
const MAGIC: u32 = 0x336e_c578;
const E820_RAM: u32 = 1;
/// Most bytes of a command line read.
const CMDLINE_MAX: usize = 4096;

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

#[repr(C)]
#[derive(Debug, Clone, Copy)]
struct ModlistEntry {
    paddr: u64,
    size: u64,
    cmdline_paddr: u64,
    reserved: u64,
}

/// Reads a `T` at physical address `pa`.
///
/// # Safety
///
/// `[pa, pa + size_of::<T>())` must be RAM inside the direct map holding a `T`.
unsafe fn read_phys<T: Copy>(pa: u64) -> T {
    // SAFETY: the caller vouches for the range; unaligned reads are fine.
    unsafe { (phys_to_virt(pa) as *const T).read_unaligned() }
}

fn info() -> Option<HvmStartInfo> {
    let addr = crate::arch::x86_64::boot::start_info_addr();
    if addr == 0 {
        return None;
    }
    // SAFETY: QEMU put a start_info at `addr` in low RAM (direct-mapped),
    // and its frames are never handed out (`boot_data`).
    let info: HvmStartInfo = unsafe { read_phys(addr) };
    (info.magic == MAGIC).then_some(info)
}

/// The memory map's entries as `(address, size, is_ram)`, up to
/// `out.len()` of them; returns how many were written.
pub fn memmap(out: &mut [(u64, u64, bool)]) -> usize {
    let Some(info) = info() else { return 0 };
    if info.version < 1 || info.memmap_paddr == 0 {
        return 0;
    }
    let n = (info.memmap_entries as usize).min(out.len());
    for (i, slot) in out[..n].iter_mut().enumerate() {
        // SAFETY: the memory map has `memmap_entries` entries at
        // `memmap_paddr`, in RAM the kernel never hands out.
        let e: MemmapEntry = unsafe {
            read_phys(info.memmap_paddr + (i * core::mem::size_of::<MemmapEntry>()) as u64)
        };
        *slot = (e.addr, e.size, e.kind == E820_RAM);
    }
    n
}

/// The kernel command line, if any (copied: at most 4 KiB).
pub fn cmdline() -> alloc::vec::Vec<u8> {
    let Some(info) = info() else {
        return alloc::vec::Vec::new();
    };
    cstring(info.cmdline_paddr)
}

fn cstring(pa: u64) -> alloc::vec::Vec<u8> {
    let mut out = alloc::vec::Vec::new();
    if pa == 0 {
        return out;
    }
    while out.len() < CMDLINE_MAX {
        // SAFETY: a NUL-terminated string the loader placed in RAM; the
        // scan is bounded.
        let b: u8 = unsafe { read_phys(pa + out.len() as u64) };
        if b == 0 {
            break;
        }
        out.push(b);
    }
    out
}

/// Module `i` as (physical address, size).
pub fn module(i: u32) -> Option<(u64, u64)> {
    let info = info()?;
    if i >= info.nr_modules || info.modlist_paddr == 0 {
        return None;
    }
    // SAFETY: `nr_modules` entries at `modlist_paddr`, in RAM never handed out.
    let m: ModlistEntry = unsafe {
        read_phys(info.modlist_paddr + u64::from(i) * core::mem::size_of::<ModlistEntry>() as u64)
    };
    Some((m.paddr, m.size))
}

/// The physical ranges the loader's boot data occupies: the start info,
/// the memory map, the command line, the module list and the modules.
/// The frame allocator keeps them out.
pub fn boot_data(out: &mut [(u64, u64); 8]) -> usize {
    let Some(info) = info() else { return 0 };
    let mut n = 0;
    let mut add = |lo: u64, len: u64| {
        if lo != 0 && len != 0 && n < out.len() {
            out[n] = (lo, lo + len);
            n += 1;
        }
    };
    add(
        crate::arch::x86_64::boot::start_info_addr(),
        core::mem::size_of::<HvmStartInfo>() as u64,
    );
    add(
        info.memmap_paddr,
        u64::from(info.memmap_entries) * core::mem::size_of::<MemmapEntry>() as u64,
    );
    add(
        info.cmdline_paddr,
        cstring(info.cmdline_paddr).len() as u64 + 1,
    );
    add(
        info.modlist_paddr,
        u64::from(info.nr_modules) * core::mem::size_of::<ModlistEntry>() as u64,
    );
    for i in 0..info.nr_modules.min(4) {
        if let Some((pa, size)) = module(i) {
            add(pa, size);
        }
    }
    n
}
