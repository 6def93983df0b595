//! The kernel heap: `linked_list_allocator` over the RAM after the image
//! and the fork mailbox, less the RAM the firmware writes at every boot
//! ([`super::firmware`]), so that a fork child's copy of the heap survives
//! its boot. That can split the heap into a few regions, tried lowest first.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicBool, Ordering};

use linked_list_allocator::Heap;
use spinning_top::Spinlock;

use super::firmware::{self, MAX_REGIONS};
use super::start_info;

/// RAM assumed when the memory map is missing: QEMU's default is 128 MiB;
/// 32 MiB is the least a guest is started with.
const FALLBACK_RAM_END: u64 = 32 * 1024 * 1024;
/// Keep the heap within the boot identity map.
const MAPPED_END: u64 = 3 << 30;

struct Regions {
    heaps: [Heap; MAX_REGIONS],
    n: usize,
}

/// The allocator: each region is its own first-fit heap.
struct KernelAllocator(Spinlock<Regions>);

#[global_allocator]
static HEAP_REGIONS: KernelAllocator = KernelAllocator(Spinlock::new(Regions {
    heaps: [const { Heap::empty() }; MAX_REGIONS],
    n: 0,
}));

// SAFETY: every block comes from one region's `allocate_first_fit` and goes
// back to the region whose range holds it, under the lock.
unsafe impl GlobalAlloc for KernelAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let mut r = self.0.lock();
        let n = r.n;
        r.heaps[..n]
            .iter_mut()
            .find_map(|h| h.allocate_first_fit(layout).ok())
            .map_or(ptr::null_mut(), NonNull::as_ptr)
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        let mut r = self.0.lock();
        let n = r.n;
        if let Some(h) = r.heaps[..n]
            .iter_mut()
            .find(|h| h.bottom() <= p && p < h.top())
        {
            // SAFETY: `p` was allocated from this region with `layout` (the
            // caller's contract; regions do not overlap).
            unsafe { h.deallocate(NonNull::new_unchecked(p), layout) };
        }
    }
}

extern "C" {
    static __kernel_start: u8;
    static __kernel_end: u8;
}

/// The page after the image that the heap leaves alone: `fork()`'s mailbox
/// (`process::fork_record`).
pub const FORK_MAILBOX_BYTES: u64 = 4096;

/// Whether a fork child's boot leaves the image and the mailbox alone (set
/// by [`init`]; false only for RAM too small to keep clear of the firmware).
static FORK_SAFE: AtomicBool = AtomicBool::new(false);

/// Gives the allocator the RAM between the fork mailbox after the image and
/// the end of its RAM region, less the firmware's boot scratch. Returns the
/// heap's bounds.
pub fn init() -> (u64, u64) {
    let image = core::ptr::addr_of!(__kernel_start) as u64;
    let start = core::ptr::addr_of!(__kernel_end) as u64 + FORK_MAILBOX_BYTES;
    let end = start_info::ram_region_containing(start)
        .map(|(_, end)| end)
        .unwrap_or(FALLBACK_RAM_END)
        .min(MAPPED_END);
    let mut map = [(0, 0); 32];
    let n = start_info::memmap(&mut map);
    let top = firmware::ram_top(end, &map[..n]);
    let scratch = firmware::scratch(top);
    let (pieces, count) = firmware::regions(start, end, &scratch);
    let mut r = HEAP_REGIONS.0.lock();
    for (heap, &(lo, hi)) in r.heaps.iter_mut().zip(&pieces[..count]) {
        // SAFETY: `[lo, hi)` is RAM past the loaded image (its .bss and the
        // mailbox), not used by anything else, identity-mapped, disjoint
        // from the other regions; `init` runs once.
        unsafe { heap.init(lo as *mut u8, (hi - lo) as usize) };
    }
    r.n = count;
    FORK_SAFE.store(
        !firmware::overlaps_scratch(top, image, start),
        Ordering::Relaxed,
    );
    (start, end)
}

/// Bytes still free in the heap.
pub fn free_bytes() -> usize {
    let r = HEAP_REGIONS.0.lock();
    r.heaps[..r.n].iter().map(Heap::free).sum()
}

/// Whether `fork()` can work: the firmware's boot scratch misses the image
/// and the fork mailbox.
pub fn fork_safe() -> bool {
    FORK_SAFE.load(Ordering::Relaxed)
}
