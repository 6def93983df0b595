//! Page tables. `boot` identity-maps the first 4 GiB with 2 MiB pages;
//! [`identity_map`] extends the identity map for MMIO above 4 GiB (64-bit
//! PCI BARs), taking tables from a small static pool.

use core::arch::asm;
use core::cell::UnsafeCell;

const PRESENT_WRITABLE: u64 = 0b11;
const HUGE: u64 = 1 << 7;
/// Page-level cache disable + write-through: MMIO must not be cached.
const UNCACHED: u64 = (1 << 4) | (1 << 3);
const TWO_MIB: u64 = 2 * 1024 * 1024;
const POOL_TABLES: usize = 8;

#[repr(C, align(4096))]
struct Table([u64; 512]);

struct Pool {
    tables: UnsafeCell<[Table; POOL_TABLES]>,
    used: UnsafeCell<usize>,
}

// SAFETY: single CPU; only `identity_map` touches the pool, and it is not
// called from interrupt handlers.
unsafe impl Sync for Pool {}

static POOL: Pool = Pool {
    tables: UnsafeCell::new([const { Table([0; 512]) }; POOL_TABLES]),
    used: UnsafeCell::new(0),
};

extern "C" {
    static boot_pml4: u8;
}

/// Identity-mapping would need more page tables than the pool holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfPageTables;

fn next_table() -> Result<*mut u64, OutOfPageTables> {
    // SAFETY: see `Pool`'s Sync impl: no concurrent caller.
    unsafe {
        let used = &mut *POOL.used.get();
        if *used == POOL_TABLES {
            return Err(OutOfPageTables);
        }
        let t = (*POOL.tables.get())[*used].0.as_mut_ptr();
        *used += 1;
        Ok(t)
    }
}

/// Makes `[paddr, paddr + size)` identity-mapped (uncached above 4 GiB).
pub fn identity_map(paddr: u64, size: u64) -> Result<(), OutOfPageTables> {
    const FOUR_GIB: u64 = 4 << 30;
    let end = paddr.saturating_add(size.max(1));
    if end <= FOUR_GIB {
        return Ok(());
    }
    let pml4 = core::ptr::addr_of!(boot_pml4) as *mut u64;
    let mut page = paddr.max(FOUR_GIB) & !(TWO_MIB - 1);
    while page < end {
        let (i4, i3, i2) = ((page >> 39) & 511, (page >> 30) & 511, (page >> 21) & 511);
        // SAFETY: `pml4` is the live top-level table (identity-mapped, in .bss);
        // entries are only added, never changed, so no TLB entry goes stale.
        unsafe {
            let pdpt = walk(pml4.add(i4 as usize))?;
            let pd = walk(pdpt.add(i3 as usize))?;
            let e = pd.add(i2 as usize);
            if *e == 0 {
                *e = page | PRESENT_WRITABLE | HUGE | UNCACHED;
            }
        }
        page += TWO_MIB;
    }
    // SAFETY: reloading CR3 with its own value flushes the TLB.
    unsafe { asm!("mov {t}, cr3", "mov cr3, {t}", t = out(reg) _, options(nostack)) };
    Ok(())
}

/// The table an entry points at, allocating it if the entry is empty.
///
/// # Safety
///
/// `entry` must point at a valid, non-huge page-table entry.
unsafe fn walk(entry: *mut u64) -> Result<*mut u64, OutOfPageTables> {
    // SAFETY: the caller guarantees `entry` is valid.
    unsafe {
        if *entry & 1 == 0 {
            let t = next_table()?;
            *entry = t as u64 | PRESENT_WRITABLE;
        }
        Ok((*entry & 0x000f_ffff_ffff_f000) as *mut u64)
    }
}
