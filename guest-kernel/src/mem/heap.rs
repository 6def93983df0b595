//! The kernel heap: `linked_list_allocator` over one physically contiguous
//! range of RAM, used through the direct map. Being contiguous, any heap
//! buffer can be handed to the device as one descriptor (the bounce
//! buffers of `read`/`write`, the virtqueues).

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::{self, NonNull};

use linked_list_allocator::Heap;
use spinning_top::Spinlock;

use crate::arch::layout::phys_to_virt;

/// The allocator.
struct KernelAllocator(Spinlock<Heap>);

#[global_allocator]
static HEAP: KernelAllocator = KernelAllocator(Spinlock::new(Heap::empty()));

// SAFETY: every block comes from `allocate_first_fit` and goes back to the
// same heap with its layout, under the lock.
unsafe impl GlobalAlloc for KernelAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.0
            .lock()
            .allocate_first_fit(layout)
            .map_or(ptr::null_mut(), NonNull::as_ptr)
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        if let Some(p) = NonNull::new(p) {
            // SAFETY: `p` was allocated here with `layout` (the caller's contract).
            unsafe { self.0.lock().deallocate(p, layout) };
        }
    }
}

/// Gives the allocator the physical range `[start, end)`. Call once.
pub fn init(start: u64, end: u64) {
    // SAFETY: `[start, end)` is RAM nothing else uses (the runtime keeps it
    // out of the frame allocator), direct-mapped; `init` runs once.
    unsafe {
        HEAP.0
            .lock()
            .init(phys_to_virt(start) as *mut u8, (end - start) as usize)
    };
}

/// Bytes still free in the heap.
pub fn free_bytes() -> usize {
    HEAP.0.lock().free()
}

/// Takes the heap lock even if a dying context holds it.
pub fn force_unlock() {
    if HEAP.0.is_locked() {
        // SAFETY: only on the way to powering off from a panic or a kernel
        // fault; the interrupted holder never resumes.
        unsafe { HEAP.0.force_unlock() };
    }
}
