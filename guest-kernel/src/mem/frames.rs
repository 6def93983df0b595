//! The physical frame allocator: a bitmap over guest RAM, one bit per
//! 4 KiB frame (set = free). Frames back user pages and page tables; the
//! kernel reaches them through the direct map. The bitmap itself lives on
//! the kernel heap.
//!
//! What is never handed out (see `runtime` for the list it passes): low
//! memory below 1 MiB (firmware, PVH start info), the kernel image, the
//! kernel heap, the fork mailbox page, the PVH modules and the RAM the
//! firmware writes at every boot (`firmware.rs`), so that a fork child's
//! copy of every frame survives its boot (`process::fork`).

use alloc::vec;
use alloc::vec::Vec;

use crate::arch::layout::PAGE_SIZE;

/// A bitmap of frames in `[base, base + 4096 * n)`.
#[derive(Debug)]
pub struct FrameBitmap {
    base: u64,
    frames: usize,
    bits: Vec<u64>,
    free: usize,
    /// Word index where the next search starts.
    hint: usize,
}

impl FrameBitmap {
    /// A bitmap of the frames in `[base, end)`, all in use.
    pub fn new(base: u64, end: u64) -> Self {
        let frames = (end.saturating_sub(base) / PAGE_SIZE) as usize;
        Self {
            base,
            frames,
            bits: vec![0; frames.div_ceil(64)],
            free: 0,
            hint: 0,
        }
    }

    fn index_range(&self, start: u64, end: u64) -> core::ops::Range<usize> {
        let lo = start.max(self.base).div_ceil(PAGE_SIZE) * PAGE_SIZE;
        let hi = (end.min(self.base + self.frames as u64 * PAGE_SIZE) / PAGE_SIZE) * PAGE_SIZE;
        if lo >= hi {
            return 0..0;
        }
        ((lo - self.base) / PAGE_SIZE) as usize..((hi - self.base) / PAGE_SIZE) as usize
    }

    fn is_free(&self, i: usize) -> bool {
        self.bits[i / 64] & (1 << (i % 64)) != 0
    }

    fn set(&mut self, i: usize, free: bool) {
        if self.is_free(i) == free {
            return;
        }
        self.bits[i / 64] ^= 1 << (i % 64);
        if free {
            self.free += 1;
        } else {
            self.free -= 1;
        }
    }

    /// Marks the whole frames inside `[start, end)` free.
    pub fn release_range(&mut self, start: u64, end: u64) {
        for i in self.index_range(start, end) {
            self.set(i, true);
        }
    }

    /// Marks every frame that touches `[start, end)` in use.
    pub fn reserve_range(&mut self, start: u64, end: u64) {
        let lo = start - start % PAGE_SIZE;
        let hi = end.div_ceil(PAGE_SIZE) * PAGE_SIZE;
        for i in self.index_range(lo, hi) {
            self.set(i, false);
        }
    }

    /// Takes a free frame; returns its physical address.
    pub fn alloc(&mut self) -> Option<u64> {
        let words = self.bits.len();
        for k in 0..words {
            let w = (self.hint + k) % words;
            let word = self.bits[w];
            if word != 0 {
                let bit = word.trailing_zeros() as usize;
                let i = w * 64 + bit;
                self.set(i, false);
                self.hint = w;
                return Some(self.base + i as u64 * PAGE_SIZE);
            }
        }
        None
    }

    /// Gives back a frame from [`Self::alloc`].
    pub fn dealloc(&mut self, phys: u64) {
        if phys < self.base || phys % PAGE_SIZE != 0 {
            return;
        }
        let i = ((phys - self.base) / PAGE_SIZE) as usize;
        if i < self.frames {
            debug_assert!(!self.is_free(i), "double free of frame {phys:#x}");
            self.set(i, true);
        }
    }

    /// Frames free.
    pub fn free_frames(&self) -> usize {
        self.free
    }

    /// Bytes the bitmap covers (RAM up to its top, holes included).
    pub fn covered_bytes(&self) -> u64 {
        self.frames as u64 * PAGE_SIZE
    }
}

#[cfg(not(test))]
mod global {
    use spinning_top::Spinlock;

    use super::FrameBitmap;
    use crate::arch::layout::{phys_to_virt, PAGE_SIZE};

    static FRAMES: Spinlock<Option<FrameBitmap>> = Spinlock::new(None);

    /// Installs the allocator. Call once, after the heap is up.
    pub fn init(bitmap: FrameBitmap) {
        *FRAMES.lock() = Some(bitmap);
    }

    /// A zeroed frame, or `None` when RAM is exhausted.
    pub fn alloc_zeroed() -> Option<u64> {
        let pa = FRAMES.lock().as_mut()?.alloc()?;
        // SAFETY: a free RAM frame, now ours, reached through the direct map.
        unsafe { core::ptr::write_bytes(phys_to_virt(pa) as *mut u8, 0, PAGE_SIZE as usize) };
        Some(pa)
    }

    /// Gives a frame back.
    pub fn free(pa: u64) {
        if let Some(b) = FRAMES.lock().as_mut() {
            b.dealloc(pa);
        }
    }

    /// Frames free.
    pub fn free_frames() -> usize {
        FRAMES.lock().as_ref().map_or(0, FrameBitmap::free_frames)
    }

    /// Bytes of RAM the allocator covers.
    pub fn covered_bytes() -> u64 {
        FRAMES.lock().as_ref().map_or(0, FrameBitmap::covered_bytes)
    }
}

#[cfg(not(test))]
pub use global::{alloc_zeroed, covered_bytes, free, free_frames, init};

#[cfg(test)]
mod tests {
    use super::*;

    const P: u64 = PAGE_SIZE;

    #[test]
    fn a_new_bitmap_has_nothing_free() {
        let mut b = FrameBitmap::new(0, 100 * P);
        assert_eq!(b.free_frames(), 0);
        assert_eq!(b.alloc(), None);
    }

    #[test]
    fn released_frames_are_handed_out_once_each() {
        let mut b = FrameBitmap::new(0, 100 * P);
        b.release_range(10 * P, 13 * P);
        let mut got = vec![b.alloc().unwrap(), b.alloc().unwrap(), b.alloc().unwrap()];
        got.sort_unstable();
        assert_eq!(got, vec![10 * P, 11 * P, 12 * P]);
        assert_eq!(b.alloc(), None);
        b.dealloc(11 * P);
        assert_eq!(b.alloc(), Some(11 * P));
    }

    #[test]
    fn release_takes_only_whole_frames_and_reserve_takes_partial_ones() {
        let mut b = FrameBitmap::new(0, 100 * P);
        b.release_range(10 * P + 1, 13 * P - 1);
        assert_eq!(b.free_frames(), 1);
        b.release_range(20 * P, 30 * P);
        b.reserve_range(25 * P + 5, 26 * P + 1);
        assert_eq!(b.free_frames(), 1 + 10 - 2);
    }

    #[test]
    fn ranges_outside_the_bitmap_are_clamped() {
        let mut b = FrameBitmap::new(16 * P, 80 * P);
        b.release_range(0, u64::MAX / 2);
        assert_eq!(b.free_frames(), 64);
        b.dealloc(4 * P);
        b.dealloc(200 * P);
        assert_eq!(b.free_frames(), 64);
    }
}
