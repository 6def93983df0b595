//! The kernel heap: `linked_list_allocator` over the RAM after the image.

use linked_list_allocator::LockedHeap;

use super::start_info;

/// RAM assumed when the memory map is missing: QEMU's default is 128 MiB;
/// 32 MiB is the least a guest is started with.
const FALLBACK_RAM_END: u64 = 32 * 1024 * 1024;
/// Keep the heap within the boot identity map.
const MAPPED_END: u64 = 3 << 30;

#[global_allocator]
static HEAP: LockedHeap = LockedHeap::empty();

extern "C" {
    static __kernel_end: u8;
}

/// The page after the image that the heap leaves alone: `fork()`'s mailbox
/// (`process::fork_record`).
pub const FORK_MAILBOX_BYTES: u64 = 4096;

/// Gives the allocator every byte between the fork mailbox after the image
/// and the end of its RAM region.
pub fn init() -> (u64, u64) {
    let start = core::ptr::addr_of!(__kernel_end) as u64 + FORK_MAILBOX_BYTES;
    let end = start_info::ram_region_containing(start)
        .map(|(_, end)| end)
        .unwrap_or(FALLBACK_RAM_END)
        .min(MAPPED_END);
    // SAFETY: `[start, end)` is RAM past the loaded image (its .bss and the mailbox), not
    // used by anything else, identity-mapped; `init` runs once.
    unsafe { HEAP.lock().init(start as *mut u8, (end - start) as usize) };
    (start, end)
}

/// Bytes still free in the heap.
pub fn free_bytes() -> usize {
    HEAP.lock().free()
}
