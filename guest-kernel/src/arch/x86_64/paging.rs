//! Page tables: one 4-level hierarchy (one address space per VM). The
//! boot code builds the first one in `.bss`; [`move_to_frames`] copies it
//! into frames at boot, so that every live table is RAM that a fork
//! child's copy keeps (its ELF loader zeroes `.bss`). The kernel reaches
//! every table through the direct map. User mappings are 4 KiB pages below
//! `USER_END`; device registers are 4 KiB uncached pages in the MMIO
//! window. Tables are taken from the caller's frame allocator (the layer
//! above), so this module allocates nothing itself.

use core::arch::asm;
use core::sync::atomic::{AtomicU64, Ordering};

use super::cpu;
use crate::arch::layout::{
    phys_to_virt, DIRECT_MAP_BASE, LARGE_PAGE_SIZE, MMIO_BASE, PAGE_SIZE, PHYS_LIMIT, USER_END,
};

/// Present.
pub const PTE_P: u64 = 1 << 0;
/// Writable.
pub const PTE_W: u64 = 1 << 1;
/// User-accessible.
pub const PTE_U: u64 = 1 << 2;
/// Write-through.
pub const PTE_PWT: u64 = 1 << 3;
/// Cache disable.
pub const PTE_PCD: u64 = 1 << 4;
/// Large page (in a PD or PDPT entry).
pub const PTE_PS: u64 = 1 << 7;
/// Software bit: a user page that has a frame but is `PROT_NONE` (not
/// present to the CPU, so every access faults, but the frame is kept).
pub const PTE_SOFT_NONE: u64 = 1 << 9;
/// No execute.
pub const PTE_NX: u64 = 1 << 63;
/// The frame address bits of an entry.
pub const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;

/// A source of zeroed frames for page tables: returns a physical address.
pub type FrameSource<'a> = &'a mut dyn FnMut() -> Option<u64>;

/// No frame was left for a page table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutOfFrames;

/// The physical address of the live PML4 (0: still the boot one).
static ROOT: AtomicU64 = AtomicU64::new(0);

/// The physical address of the live PML4.
pub fn root() -> u64 {
    match ROOT.load(Ordering::Relaxed) {
        0 => super::boot::pml4_phys(),
        r => r,
    }
}

fn pml4() -> *mut u64 {
    phys_to_virt(root()) as *mut u64
}

/// Copies the table at `pa` into a fresh frame; returns the frame.
fn copy_table(pa: u64, alloc: FrameSource<'_>) -> Result<u64, OutOfFrames> {
    let frame = alloc().ok_or(OutOfFrames)?;
    // SAFETY: both are 4 KiB page tables in RAM, reached through the
    // direct map; the new frame is ours and does not overlap the old.
    unsafe {
        core::ptr::copy_nonoverlapping(
            phys_to_virt(pa) as *const u64,
            phys_to_virt(frame) as *mut u64,
            512,
        )
    };
    Ok(frame)
}

/// Copies the table at `pa` and every table below it into frames (`level`
/// is the table's: 3 for the PML4, 0 for a page table); leaf entries and
/// large pages are kept as they are. Returns the new table.
fn copy_tree(pa: u64, level: u32, alloc: FrameSource<'_>) -> Result<u64, OutOfFrames> {
    let new = copy_table(pa, &mut *alloc)?;
    if level == 0 {
        return Ok(new);
    }
    let t = phys_to_virt(new) as *mut u64;
    for i in 0..512 {
        // SAFETY: `t` is the table just copied; `i` is below 512.
        let e = unsafe { *t.add(i) };
        if e & PTE_P != 0 && e & PTE_PS == 0 {
            let child = copy_tree(e & ADDR_MASK, level - 1, &mut *alloc)?;
            // SAFETY: as above.
            unsafe { *t.add(i) = child | (e & !ADDR_MASK) };
        }
    }
    Ok(new)
}

/// Moves the live page tables from the boot code's `.bss` into frames and
/// switches to them. Call once, before any user mapping exists.
pub fn move_to_frames(alloc: FrameSource<'_>) -> Result<(), OutOfFrames> {
    let new = copy_tree(root(), 3, alloc)?;
    ROOT.store(new, Ordering::Relaxed);
    // SAFETY: the copy maps exactly what the current tables map (same
    // leaves, same flags), so the kernel keeps running where it is.
    unsafe { asm!("mov cr3, {}", in(reg) new, options(nostack)) };
    Ok(())
}

fn index(va: u64, level: u32) -> usize {
    ((va >> (12 + 9 * level)) & 511) as usize
}

/// The entry for `va` at level 0 (the PTE), creating missing tables with
/// `alloc` when given. Large pages on the way end the walk with `None`.
///
/// # Safety
///
/// The hierarchy must be well formed (every present non-leaf entry points
/// at a table in RAM, reachable through the direct map).
unsafe fn walk(
    va: u64,
    mut alloc: Option<FrameSource<'_>>,
    user: bool,
) -> Result<Option<*mut u64>, OutOfFrames> {
    let mut table = pml4();
    for level in (1..=3).rev() {
        // SAFETY: `table` is a live page table (the caller's invariant) and
        // the index is below 512.
        let e = unsafe { table.add(index(va, level)) };
        // SAFETY: as above.
        let v = unsafe { *e };
        if v & PTE_P == 0 {
            let Some(a) = alloc.as_mut() else {
                return Ok(None);
            };
            let frame = a().ok_or(OutOfFrames)?;
            let flags = PTE_P | PTE_W | if user { PTE_U } else { 0 };
            // SAFETY: `e` is a valid entry; `frame` is a fresh zeroed frame.
            unsafe { *e = frame | flags };
        } else if v & PTE_PS != 0 {
            return Ok(None);
        } else if user && v & PTE_U == 0 {
            // SAFETY: as above; upper levels of user mappings need the U bit.
            unsafe { *e = v | PTE_U };
        }
        // SAFETY: as above.
        table = phys_to_virt(unsafe { *e } & ADDR_MASK) as *mut u64;
    }
    // SAFETY: `table` is the level-0 table of `va`.
    Ok(Some(unsafe { table.add(index(va, 0)) }))
}

/// Maps the 4 KiB page at user address `va` to frame `pa` with `flags`
/// (plus `PTE_U`). Replaces whatever was there; returns the old entry.
pub fn map_user(va: u64, pa: u64, flags: u64, alloc: FrameSource<'_>) -> Result<u64, OutOfFrames> {
    debug_assert!(va < USER_END && va % PAGE_SIZE == 0);
    // SAFETY: the hierarchy is the kernel's own, well formed; user
    // addresses never meet the boot tables' large pages except below 4 MiB,
    // which the caller never maps.
    let e = unsafe { walk(va, Some(alloc), true) }?.ok_or(OutOfFrames)?;
    // SAFETY: `e` is the live PTE of `va`.
    let old = unsafe { core::ptr::replace(e, (pa & ADDR_MASK) | flags | PTE_U) };
    if old & PTE_P != 0 {
        cpu::invlpg(va);
    }
    Ok(old)
}

/// The PTE of user address `va` (0 if there is none).
pub fn user_entry(va: u64) -> u64 {
    // SAFETY: as in `map_user`; no table is created.
    match unsafe { walk(va, None, false) } {
        // SAFETY: `e` is the live PTE of `va`.
        Ok(Some(e)) => unsafe { *e },
        _ => 0,
    }
}

/// Reads the PTEs of user pages in order, walking the hierarchy once per
/// level-0 table (2 MiB of pages) instead of once per page, for a caller
/// that looks at many consecutive pages (`AddressSpace::gather`). Mapping
/// pages meanwhile is fine: a walk only ever adds missing tables, so a
/// table found once stays the table of its 2 MiB while the cursor lives.
#[derive(Debug, Default)]
pub struct UserPtes {
    /// The 2 MiB region whose level-0 table `table` is.
    region: u64,
    table: Option<core::ptr::NonNull<u64>>,
}

impl UserPtes {
    /// A cursor that has found no table yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The PTE of user address `va` (0 if there is none), as
    /// [`user_entry`] reads it.
    #[inline]
    pub fn entry(&mut self, va: u64) -> u64 {
        let region = va & !(LARGE_PAGE_SIZE - 1);
        let table = match self.table {
            Some(t) if self.region == region => t,
            _ => {
                // SAFETY: as in `user_entry`; no table is created.
                let Ok(Some(e)) = (unsafe { walk(va, None, false) }) else {
                    return 0;
                };
                // SAFETY: `e` is entry `index(va, 0)` of its table, so the
                // table starts that many entries before it.
                let t = unsafe { e.sub(index(va, 0)) };
                let Some(t) = core::ptr::NonNull::new(t) else {
                    return 0;
                };
                self.region = region;
                self.table = Some(t);
                t
            }
        };
        // SAFETY: `table` is the live level-0 table of `va`'s 2 MiB region
        // (see the type's comment) and the index is below 512.
        unsafe { *table.as_ptr().add(index(va, 0)) }
    }
}

/// Replaces the PTE of `va` with `entry` (0 to unmap) if a table exists;
/// returns the old entry.
pub fn set_user_entry(va: u64, entry: u64) -> u64 {
    // SAFETY: as in `map_user`; no table is created.
    let Ok(Some(e)) = (unsafe { walk(va, None, false) }) else {
        return 0;
    };
    // SAFETY: `e` is the live PTE of `va`.
    let old = unsafe { core::ptr::replace(e, entry) };
    if old & PTE_P != 0 {
        cpu::invlpg(va);
    }
    old
}

/// Maps `[phys, phys + size)` into the MMIO window, uncached, and returns
/// its virtual address. Mapping the same registers twice is harmless.
pub fn map_mmio(phys: u64, size: u64, alloc: FrameSource<'_>) -> Result<u64, OutOfFrames> {
    if phys >= PHYS_LIMIT {
        return Err(OutOfFrames);
    }
    let start = phys & !(PAGE_SIZE - 1);
    let end = phys.saturating_add(size.max(1)).div_ceil(PAGE_SIZE) * PAGE_SIZE;
    let mut pa = start;
    while pa < end {
        let va = MMIO_BASE + pa;
        // SAFETY: the MMIO window is the kernel's own and holds no large pages.
        let e = unsafe { walk(va, Some(&mut *alloc), false) }?.ok_or(OutOfFrames)?;
        // SAFETY: `e` is the live PTE of `va`.
        unsafe { *e = pa | PTE_P | PTE_W | PTE_PCD | PTE_PWT | PTE_NX };
        cpu::invlpg(va);
        pa += PAGE_SIZE;
    }
    Ok(MMIO_BASE + phys)
}

/// Unmaps the direct map's 2 MiB pages that hold no RAM, so device
/// registers are only ever reached through the uncached MMIO window.
/// `is_ram(start, end)` says whether a physical range overlaps RAM.
pub fn trim_direct_map(is_ram: &dyn Fn(u64, u64) -> bool) {
    const MAPPED: u64 = 4 << 30;
    let mut pa = 0;
    while pa < MAPPED {
        let va = DIRECT_MAP_BASE + pa;
        if !is_ram(pa, pa + LARGE_PAGE_SIZE) {
            // SAFETY: the direct map's PDs are the boot tables: present
            // PML4, PDPT entries pointing at PDs of 2 MiB pages.
            unsafe {
                let pdpt = phys_to_virt(*pml4().add(index(va, 3)) & ADDR_MASK) as *mut u64;
                let pd = phys_to_virt(*pdpt.add(index(va, 2)) & ADDR_MASK) as *mut u64;
                *pd.add(index(va, 1)) = 0;
            }
        }
        pa += LARGE_PAGE_SIZE;
    }
    cpu::flush_tlb();
}
