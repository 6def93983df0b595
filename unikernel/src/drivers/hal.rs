//! virtio-drivers' platform boundary for this kernel: memory is
//! identity-mapped, so a buffer's physical address is its virtual address,
//! and DMA memory is simply zeroed, page-aligned heap memory.

use alloc::alloc::{alloc_zeroed, dealloc, Layout};
use core::ptr::NonNull;

use virtio_drivers::{BufferDirection, Hal, PhysAddr, PAGE_SIZE};

use crate::arch::x86_64::paging;

/// The kernel's [`Hal`].
#[derive(Debug)]
pub struct KernelHal;

fn layout(pages: usize) -> Layout {
    Layout::from_size_align(pages.max(1) * PAGE_SIZE, PAGE_SIZE).expect("page layout")
}

// SAFETY: `dma_alloc` returns zeroed, page-aligned memory exclusively owned
// until `dma_dealloc`; all RAM is identity-mapped, so physical = virtual is
// the address the device must use; `share` passes buffers in place, which is
// valid because the device (a vhost-user backend) sees all guest RAM.
unsafe impl Hal for KernelHal {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (PhysAddr, NonNull<u8>) {
        // SAFETY: the layout has a non-zero size.
        match NonNull::new(unsafe { alloc_zeroed(layout(pages)) }) {
            Some(p) => (p.as_ptr() as PhysAddr, p),
            None => (0, NonNull::dangling()),
        }
    }

    unsafe fn dma_dealloc(_paddr: PhysAddr, vaddr: NonNull<u8>, pages: usize) -> i32 {
        // SAFETY: `vaddr` came from `dma_alloc` with the same page count.
        unsafe { dealloc(vaddr.as_ptr(), layout(pages)) };
        0
    }

    unsafe fn mmio_phys_to_virt(paddr: PhysAddr, size: usize) -> NonNull<u8> {
        paging::identity_map(paddr, size as u64).expect("page tables for MMIO");
        NonNull::new(paddr as *mut u8).expect("MMIO at address 0")
    }

    unsafe fn share(buffer: NonNull<[u8]>, _direction: BufferDirection) -> PhysAddr {
        buffer.cast::<u8>().as_ptr() as PhysAddr
    }

    unsafe fn unshare(_paddr: PhysAddr, _buffer: NonNull<[u8]>, _direction: BufferDirection) {}
}
