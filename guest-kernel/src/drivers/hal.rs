//! virtio-drivers' platform boundary for this kernel. The kernel's own
//! memory is the identity-mapped image or the direct map, so a buffer's
//! physical address is its virtual address less the direct map's base
//! ([`kernel_virt_to_phys`]); DMA memory is zeroed, page-aligned heap
//! memory (the heap is physically contiguous). Programs' buffers reach the
//! device as kernel slices over their frames through the direct map
//! (`mem::segments`), so they translate the same way as the heap's:
//! a RAM frame's direct-map address less the base. Device registers are
//! mapped into the uncached MMIO window.

use alloc::alloc::{alloc_zeroed, dealloc, Layout};
use core::ptr::NonNull;

use virtio_drivers::{BufferDirection, Hal, PhysAddr, PAGE_SIZE};

use crate::arch::layout::kernel_virt_to_phys;
use crate::arch::x86_64::paging;
use crate::mem::frames;

/// The kernel's [`Hal`].
#[derive(Debug)]
pub struct KernelHal;

fn layout(pages: usize) -> Layout {
    Layout::from_size_align(pages.max(1) * PAGE_SIZE, PAGE_SIZE).expect("page layout")
}

/// The physical address of a kernel buffer.
fn phys(p: *const u8) -> PhysAddr {
    kernel_virt_to_phys(p as u64).expect("device buffers are kernel memory") as PhysAddr
}

/// Maps device registers at `paddr` and returns their virtual address.
pub fn map_mmio(paddr: u64, size: u64) -> Option<u64> {
    paging::map_mmio(paddr, size, &mut || frames::alloc_zeroed()).ok()
}

// SAFETY: `dma_alloc` returns zeroed, page-aligned memory exclusively owned
// until `dma_dealloc`, with its physical address (the heap is physically
// contiguous and direct-mapped); `share` passes kernel buffers in place,
// which is valid because the device (a vhost-user backend) sees all guest
// RAM; `mmio_phys_to_virt` maps the registers uncached.
unsafe impl Hal for KernelHal {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (PhysAddr, NonNull<u8>) {
        // SAFETY: the layout has a non-zero size.
        match NonNull::new(unsafe { alloc_zeroed(layout(pages)) }) {
            Some(p) => (phys(p.as_ptr()), p),
            None => (0, NonNull::dangling()),
        }
    }

    unsafe fn dma_dealloc(_paddr: PhysAddr, vaddr: NonNull<u8>, pages: usize) -> i32 {
        // SAFETY: `vaddr` came from `dma_alloc` with the same page count.
        unsafe { dealloc(vaddr.as_ptr(), layout(pages)) };
        0
    }

    unsafe fn mmio_phys_to_virt(paddr: PhysAddr, size: usize) -> NonNull<u8> {
        let va = map_mmio(paddr, size as u64).expect("page tables for MMIO");
        NonNull::new(va as *mut u8).expect("MMIO window is not at 0")
    }

    unsafe fn share(buffer: NonNull<[u8]>, _direction: BufferDirection) -> PhysAddr {
        phys(buffer.cast::<u8>().as_ptr())
    }

    unsafe fn unshare(_paddr: PhysAddr, _buffer: NonNull<[u8]>, _direction: BufferDirection) {}
}
