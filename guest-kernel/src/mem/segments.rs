//! A program's buffer as the device sees it: runs of physically contiguous
//! bytes ([`Segment`]s) in the frames behind it, so a `read` or `write`
//! can hand the program's own pages to the device in place (one descriptor
//! per run) instead of copying them through a kernel buffer.
//! [`AddressSpace::gather`] walks the pages and fills a [`Segments`] list;
//! this file holds the list itself, which is pure and host-tested.
//!
//! [`AddressSpace::gather`]: super::address_space::AddressSpace::gather

use crate::arch::layout::phys_to_virt;

/// Bytes `[phys, phys + len)` of guest RAM.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Segment {
    /// Physical address of the first byte.
    pub phys: u64,
    /// Length in bytes (never 0 in a [`Segments`] list).
    pub len: usize,
}

impl Segment {
    fn end(self) -> u64 {
        self.phys + self.len as u64
    }

    fn overlaps(self, other: Segment) -> bool {
        self.phys < other.end() && other.phys < self.end()
    }

    /// The bytes, through the direct map.
    ///
    /// # Safety
    ///
    /// The segment must be RAM (the direct map covers it) that nothing
    /// writes for `'a`.
    pub unsafe fn as_slice<'a>(self) -> &'a [u8] {
        // SAFETY: the caller's promise; RAM is direct-mapped.
        unsafe { core::slice::from_raw_parts(phys_to_virt(self.phys) as *const u8, self.len) }
    }

    /// The bytes, through the direct map, for writing.
    ///
    /// # Safety
    ///
    /// The segment must be RAM (the direct map covers it) that nothing
    /// else reads or writes for `'a`.
    pub unsafe fn as_mut_slice<'a>(self) -> &'a mut [u8] {
        // SAFETY: the caller's promise; RAM is direct-mapped.
        unsafe { core::slice::from_raw_parts_mut(phys_to_virt(self.phys) as *mut u8, self.len) }
    }
}

/// Up to `N` segments in order, a piece that starts where the last one
/// ends joining it (adjacent frames make one run).
#[derive(Clone, Copy, Debug)]
pub struct Segments<const N: usize> {
    list: [Segment; N],
    count: usize,
    bytes: usize,
}

impl<const N: usize> Default for Segments<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Segments<N> {
    /// An empty list.
    pub const fn new() -> Self {
        Self {
            list: [Segment { phys: 0, len: 0 }; N],
            count: 0,
            bytes: 0,
        }
    }

    /// Appends `[phys, phys + len)`: onto the last segment when it ends at
    /// `phys`, else as a new one. `false`, and nothing changed, when that
    /// needs a new segment and all `N` are taken.
    #[inline]
    pub fn push(&mut self, phys: u64, len: usize) -> bool {
        if len == 0 {
            return true;
        }
        match self.count.checked_sub(1).map(|i| &mut self.list[i]) {
            Some(last) if last.end() == phys => last.len += len,
            _ if self.count == N => return false,
            _ => {
                self.list[self.count] = Segment { phys, len };
                self.count += 1;
            }
        }
        self.bytes += len;
        true
    }

    /// The segments, in order.
    pub fn as_slice(&self) -> &[Segment] {
        &self.list[..self.count]
    }

    /// Bytes the segments cover.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Keeps the first `n` bytes (no-op if there are fewer).
    pub fn truncate(&mut self, n: usize) {
        if n >= self.bytes {
            return;
        }
        let mut left = n;
        let mut keep = 0;
        while keep < self.count && left > 0 {
            let s = &mut self.list[keep];
            s.len = s.len.min(left);
            left -= s.len;
            keep += 1;
        }
        self.count = keep;
        self.bytes = n;
    }

    /// Whether two segments share a byte: the device must not be handed
    /// the same byte twice to write (`readv` with overlapping `iovec`s).
    pub fn overlapping(&self) -> bool {
        let list = self.as_slice();
        (1..list.len()).any(|i| list[..i].iter().any(|s| s.overlaps(list[i])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame's size, for pieces that end where the next frame starts.
    const FRAME: usize = 4096;
    const THREE: usize = 3;

    #[test]
    fn a_piece_that_starts_where_the_last_ends_joins_it() {
        let mut s = Segments::<THREE>::new();
        assert!(s.push(0x10_0000, FRAME));
        assert!(s.push(0x10_1000, FRAME));
        assert_eq!(
            s.as_slice(),
            [Segment {
                phys: 0x10_0000,
                len: 2 * FRAME
            }]
        );
        assert_eq!(s.bytes(), 2 * FRAME);
    }

    #[test]
    fn a_piece_elsewhere_starts_a_new_segment() {
        let mut s = Segments::<THREE>::new();
        s.push(0x20_0000, 100);
        s.push(0x10_0000, FRAME);
        assert_eq!(s.as_slice().len(), 2);
        assert_eq!(s.as_slice()[1].phys, 0x10_0000);
    }

    #[test]
    fn a_full_list_refuses_a_new_segment_but_still_grows_the_last() {
        let mut s = Segments::<1>::new();
        assert!(s.push(0x10_0000, FRAME));
        assert!(!s.push(0x30_0000, FRAME));
        assert_eq!(s.bytes(), FRAME);
        assert!(s.push(0x10_1000, 10));
        assert_eq!(s.bytes(), FRAME + 10);
    }

    #[test]
    fn an_empty_piece_changes_nothing() {
        let mut s = Segments::<1>::new();
        assert!(s.push(0x10_0000, 0));
        assert!(s.as_slice().is_empty());
    }

    #[test]
    fn truncate_shortens_the_last_kept_segment() {
        let mut s = Segments::<THREE>::new();
        s.push(0x10_0000, 100);
        s.push(0x30_0000, 100);
        s.push(0x50_0000, 100);
        s.truncate(150);
        assert_eq!(
            s.as_slice(),
            [
                Segment {
                    phys: 0x10_0000,
                    len: 100
                },
                Segment {
                    phys: 0x30_0000,
                    len: 50
                }
            ]
        );
        assert_eq!(s.bytes(), 150);
    }

    #[test]
    fn segments_that_share_a_byte_are_overlapping() {
        let mut s = Segments::<THREE>::new();
        s.push(0x10_0000, 100);
        s.push(0x30_0000, 100);
        s.push(0x10_0063, 10);
        assert!(s.overlapping());
    }

    #[test]
    fn segments_that_only_touch_are_not_overlapping() {
        let mut s = Segments::<THREE>::new();
        s.push(0x10_0064, 100);
        s.push(0x10_0000, 100);
        assert_eq!(s.as_slice().len(), 2);
        assert!(!s.overlapping());
    }
}
