//! Address-space bookkeeping: which user ranges are mapped, with which
//! protection, and for what. Pure logic, unit-tested on the host;
//! [`super::address_space`] keeps the page tables in step with it.
//!
//! Every range is page-aligned. Adjacent areas with the same protection
//! and kind are merged, so that a program that `mprotect`s a page back
//! and forth does not grow the map.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt;

use crate::arch::layout::PAGE_SIZE;

/// Page protection: `PROT_READ | PROT_WRITE | PROT_EXEC` bits.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Prot(pub u8);

impl Prot {
    /// `PROT_NONE`.
    pub const NONE: Prot = Prot(0);
    /// `PROT_READ`.
    pub const READ: Prot = Prot(1);
    /// `PROT_WRITE`.
    pub const WRITE: Prot = Prot(2);
    /// `PROT_EXEC`.
    pub const EXEC: Prot = Prot(4);
    /// Read and write.
    pub const RW: Prot = Prot(3);

    /// From the low bits of a `prot` argument.
    pub fn from_bits(bits: u64) -> Self {
        Prot((bits & 7) as u8)
    }

    /// Whether every bit of `other` is set here.
    pub fn contains(self, other: Prot) -> bool {
        self.0 & other.0 == other.0
    }

    /// Readable.
    pub fn readable(self) -> bool {
        self.0 & 1 != 0
    }

    /// Writable.
    pub fn writable(self) -> bool {
        self.0 & 2 != 0
    }

    /// Executable.
    pub fn executable(self) -> bool {
        self.0 & 4 != 0
    }
}

impl core::ops::BitOr for Prot {
    type Output = Prot;
    fn bitor(self, o: Prot) -> Prot {
        Prot(self.0 | o.0)
    }
}

impl fmt::Debug for Prot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = |b: bool, ch: char| if b { ch } else { '-' };
        write!(
            f,
            "{}{}{}",
            c(self.readable(), 'r'),
            c(self.writable(), 'w'),
            c(self.executable(), 'x')
        )
    }
}

/// What an area is for (kept for log lines and for `brk`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VmaKind {
    /// A segment of the program's ELF image.
    Image,
    /// The `brk` heap.
    Brk,
    /// The main stack.
    Stack,
    /// Anonymous `mmap`.
    Anon,
}

/// One mapped area `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vma {
    /// First byte (page-aligned).
    pub start: u64,
    /// One past the last byte (page-aligned).
    pub end: u64,
    /// Protection.
    pub prot: Prot,
    /// Purpose.
    pub kind: VmaKind,
}

impl Vma {
    /// A new area.
    pub fn new(start: u64, end: u64, prot: Prot, kind: VmaKind) -> Self {
        Self {
            start,
            end,
            prot,
            kind,
        }
    }

    fn mergeable(&self, next: &Vma) -> bool {
        self.end == next.start && self.prot == next.prot && self.kind == next.kind
    }
}

/// Why a change to the map was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VmaError {
    /// The new area overlaps `[.0, .1)`, which is mapped.
    Overlap(u64, u64),
    /// Part of the range is not mapped.
    NotMapped(u64),
    /// The range is empty, unaligned or wraps.
    BadRange(u64, u64),
}

impl fmt::Display for VmaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VmaError::Overlap(a, b) => write!(f, "overlaps the mapped area {a:#x}..{b:#x}"),
            VmaError::NotMapped(a) => write!(f, "{a:#x} is not mapped"),
            VmaError::BadRange(a, b) => write!(f, "bad range {a:#x}..{b:#x}"),
        }
    }
}

fn check_range(start: u64, end: u64) -> Result<(), VmaError> {
    if start >= end || start % PAGE_SIZE != 0 || end % PAGE_SIZE != 0 {
        return Err(VmaError::BadRange(start, end));
    }
    Ok(())
}

/// The set of mapped areas, keyed by start address.
#[derive(Debug, Default)]
pub struct VmaMap {
    areas: BTreeMap<u64, Vma>,
}

impl VmaMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// The areas, lowest first.
    pub fn iter(&self) -> impl Iterator<Item = &Vma> + '_ {
        self.areas.values()
    }

    /// Number of areas.
    pub fn len(&self) -> usize {
        self.areas.len()
    }

    /// Whether nothing is mapped.
    pub fn is_empty(&self) -> bool {
        self.areas.is_empty()
    }

    /// The area holding `addr`.
    pub fn find(&self, addr: u64) -> Option<&Vma> {
        self.areas
            .range(..=addr)
            .next_back()
            .map(|(_, v)| v)
            .filter(|v| addr < v.end)
    }

    /// The first mapped area that overlaps `[start, end)`.
    fn first_overlap(&self, start: u64, end: u64) -> Option<&Vma> {
        if let Some(v) = self.find(start) {
            return Some(v);
        }
        self.areas.range(start..end).next().map(|(_, v)| v)
    }

    /// Whether nothing in `[start, end)` is mapped.
    pub fn is_free(&self, start: u64, end: u64) -> bool {
        self.first_overlap(start, end).is_none()
    }

    /// Whether all of `[start, end)` is mapped with at least `need`.
    pub fn covers(&self, start: u64, end: u64, need: Prot) -> bool {
        let mut at = start;
        while at < end {
            match self.find(at) {
                Some(v) if v.prot.contains(need) => at = v.end,
                _ => return false,
            }
        }
        true
    }

    /// Adds an area where nothing is mapped.
    pub fn insert(&mut self, vma: Vma) -> Result<(), VmaError> {
        check_range(vma.start, vma.end)?;
        if let Some(o) = self.first_overlap(vma.start, vma.end) {
            return Err(VmaError::Overlap(o.start, o.end));
        }
        self.areas.insert(vma.start, vma);
        self.merge_around(vma.start, vma.end);
        Ok(())
    }

    /// Splits the area holding `addr` so that an area starts there.
    fn split_at(&mut self, addr: u64) {
        let Some(v) = self.find(addr).copied() else {
            return;
        };
        if v.start == addr {
            return;
        }
        self.areas.insert(v.start, Vma { end: addr, ..v });
        self.areas.insert(addr, Vma { start: addr, ..v });
    }

    /// Merges mergeable neighbours in and around `[start, end)`.
    fn merge_around(&mut self, start: u64, end: u64) {
        let from = self
            .find(start.saturating_sub(1))
            .map_or(start, |v| v.start);
        let keys: Vec<u64> = self.areas.range(from..=end).map(|(k, _)| *k).collect();
        let mut cur: Option<u64> = None;
        for k in keys {
            let Some(next) = self.areas.get(&k).copied() else {
                continue;
            };
            match cur.and_then(|c| self.areas.get(&c).copied()) {
                Some(prev) if prev.mergeable(&next) => {
                    self.areas.remove(&k);
                    if let Some(p) = self.areas.get_mut(&prev.start) {
                        p.end = next.end;
                    }
                }
                _ => cur = Some(k),
            }
        }
    }

    /// Unmaps `[start, end)`, splitting areas at its edges. Returns the
    /// ranges that were mapped (and their protection), lowest first.
    pub fn remove(&mut self, start: u64, end: u64) -> Result<Vec<Vma>, VmaError> {
        check_range(start, end)?;
        self.split_at(start);
        self.split_at(end);
        let keys: Vec<u64> = self.areas.range(start..end).map(|(k, _)| *k).collect();
        Ok(keys
            .into_iter()
            .filter_map(|k| self.areas.remove(&k))
            .collect())
    }

    /// Sets the protection of `[start, end)`, all of which must be mapped
    /// (else nothing changes). Returns the areas as they are now.
    pub fn protect(&mut self, start: u64, end: u64, prot: Prot) -> Result<Vec<Vma>, VmaError> {
        check_range(start, end)?;
        if !self.covers(start, end, Prot::NONE) {
            let hole = (start..end)
                .step_by(PAGE_SIZE as usize)
                .find(|&a| self.find(a).is_none())
                .unwrap_or(start);
            return Err(VmaError::NotMapped(hole));
        }
        self.split_at(start);
        self.split_at(end);
        let mut changed = Vec::new();
        for (_, v) in self.areas.range_mut(start..end) {
            v.prot = prot;
            changed.push(*v);
        }
        self.merge_around(start, end);
        Ok(changed)
    }

    /// The highest `a` with `[a, a + len)` free, `a >= floor` and
    /// `a + len <= top`.
    pub fn find_free_below(&self, top: u64, len: u64, floor: u64) -> Option<u64> {
        if len == 0 || top < floor || top - floor < len {
            return None;
        }
        let mut hi = top;
        for v in self.areas.range(..top).rev().map(|(_, v)| v) {
            if v.end <= hi && hi - v.end >= len {
                return Some(hi - len).filter(|&a| a >= floor);
            }
            hi = hi.min(v.start);
            if hi < floor || hi - floor < len {
                return None;
            }
        }
        Some(hi - len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: u64 = PAGE_SIZE;

    fn anon(start: u64, end: u64, prot: Prot) -> Vma {
        Vma::new(start, end, prot, VmaKind::Anon)
    }

    fn ranges(m: &VmaMap) -> Vec<(u64, u64, Prot)> {
        m.iter().map(|v| (v.start, v.end, v.prot)).collect()
    }

    #[test]
    fn overlapping_insert_is_refused() {
        let mut m = VmaMap::new();
        m.insert(anon(10 * P, 20 * P, Prot::RW)).unwrap();
        assert_eq!(
            m.insert(anon(15 * P, 25 * P, Prot::RW)),
            Err(VmaError::Overlap(10 * P, 20 * P))
        );
        assert_eq!(
            m.insert(anon(5 * P, 11 * P, Prot::RW)),
            Err(VmaError::Overlap(10 * P, 20 * P))
        );
    }

    #[test]
    fn adjacent_areas_with_the_same_protection_merge() {
        let mut m = VmaMap::new();
        m.insert(anon(10 * P, 20 * P, Prot::RW)).unwrap();
        m.insert(anon(20 * P, 30 * P, Prot::RW)).unwrap();
        m.insert(anon(5 * P, 10 * P, Prot::RW)).unwrap();
        assert_eq!(ranges(&m), vec![(5 * P, 30 * P, Prot::RW)]);
    }

    #[test]
    fn remove_from_the_middle_splits_an_area() {
        let mut m = VmaMap::new();
        m.insert(anon(10 * P, 20 * P, Prot::RW)).unwrap();
        let gone = m.remove(12 * P, 14 * P).unwrap();
        assert_eq!(gone, vec![anon(12 * P, 14 * P, Prot::RW)]);
        assert_eq!(
            ranges(&m),
            vec![(10 * P, 12 * P, Prot::RW), (14 * P, 20 * P, Prot::RW)]
        );
    }

    #[test]
    fn remove_of_an_unmapped_range_removes_nothing() {
        let mut m = VmaMap::new();
        m.insert(anon(10 * P, 20 * P, Prot::RW)).unwrap();
        assert!(m.remove(30 * P, 40 * P).unwrap().is_empty());
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn protect_splits_and_merges_back() {
        let mut m = VmaMap::new();
        m.insert(anon(10 * P, 20 * P, Prot::RW)).unwrap();
        m.protect(12 * P, 13 * P, Prot::NONE).unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(m.find(12 * P).unwrap().prot, Prot::NONE);
        m.protect(12 * P, 13 * P, Prot::RW).unwrap();
        assert_eq!(ranges(&m), vec![(10 * P, 20 * P, Prot::RW)]);
    }

    #[test]
    fn protect_over_a_hole_fails_without_changes() {
        let mut m = VmaMap::new();
        m.insert(anon(10 * P, 12 * P, Prot::RW)).unwrap();
        m.insert(anon(13 * P, 15 * P, Prot::RW)).unwrap();
        assert_eq!(
            m.protect(10 * P, 15 * P, Prot::READ),
            Err(VmaError::NotMapped(12 * P))
        );
        assert_eq!(m.find(10 * P).unwrap().prot, Prot::RW);
    }

    #[test]
    fn covers_checks_protection_and_holes() {
        let mut m = VmaMap::new();
        m.insert(anon(10 * P, 12 * P, Prot::RW)).unwrap();
        m.insert(anon(12 * P, 14 * P, Prot::READ)).unwrap();
        assert!(m.covers(10 * P, 14 * P, Prot::READ));
        assert!(!m.covers(10 * P, 14 * P, Prot::WRITE));
        assert!(!m.covers(10 * P, 15 * P, Prot::READ));
    }

    #[test]
    fn free_space_is_found_top_down_between_areas() {
        let mut m = VmaMap::new();
        m.insert(anon(90 * P, 100 * P, Prot::RW)).unwrap();
        m.insert(anon(80 * P, 88 * P, Prot::RW)).unwrap();
        assert_eq!(m.find_free_below(100 * P, 2 * P, 0), Some(88 * P));
        assert_eq!(m.find_free_below(100 * P, 3 * P, 0), Some(77 * P));
        assert_eq!(m.find_free_below(100 * P, 3 * P, 78 * P), None);
        assert_eq!(m.find_free_below(200 * P, 50 * P, 0), Some(150 * P));
    }

    #[test]
    fn an_area_straddling_the_top_is_skipped() {
        let mut m = VmaMap::new();
        m.insert(anon(95 * P, 105 * P, Prot::RW)).unwrap();
        assert_eq!(m.find_free_below(100 * P, P, 0), Some(94 * P));
    }

    #[test]
    fn unaligned_ranges_are_refused() {
        let mut m = VmaMap::new();
        assert!(matches!(
            m.insert(anon(10, 20 * P, Prot::RW)),
            Err(VmaError::BadRange(..))
        ));
        assert!(matches!(m.remove(P, P), Err(VmaError::BadRange(..))));
    }
}
