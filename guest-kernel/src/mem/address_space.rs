//! The program's address space: the area map ([`VmaMap`]) and the page
//! tables, kept in step. User pages are populated on demand: a mapping
//! only records an area, and the first touch (a page fault from ring 3, or
//! the kernel copying to or from user memory) gives the page a zeroed
//! frame. So a program may reserve far more than the VM has (Rust's and
//! glibc's allocators do), and pays only for what it touches.
//!
//! Copies between the kernel and user memory ([`AddressSpace::copy_in`],
//! [`AddressSpace::copy_out`]) first check that the whole range is mapped
//! with the needed protection and populate it, then copy through the
//! user address (the kernel runs on the same page tables; SMAP is off).
//! A bad user pointer is `EFAULT`, never a kernel page fault.
//!
//! Payloads for the device do not copy at all: [`AddressSpace::gather`]
//! checks and populates a user range the same way and returns the frames
//! behind it as runs of physically contiguous bytes ([`Segments`]), which
//! the device reads or writes in place.

use alloc::vec::Vec;
use core::fmt;

use super::frames;
use super::pod::{self, Pod};
use super::segments::Segments;
use super::vma::{Prot, Vma, VmaError, VmaKind, VmaMap};
use crate::arch::layout::{
    is_user_range, page_down, page_up, phys_to_virt, MMAP_TOP, PAGE_SIZE, USER_START,
};
use crate::arch::x86_64::paging::{self, ADDR_MASK, PTE_NX, PTE_P, PTE_SOFT_NONE, PTE_W};

/// PTE accessed bit (set by the CPU).
const PTE_ACCESSED: u64 = 1 << 5;
/// PTE dirty bit (set by the CPU).
const PTE_DIRTY: u64 = 1 << 6;
use crate::linux::Errno;

/// Why a change to the address space failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemError {
    /// No frame was left.
    OutOfMemory,
    /// No free range of that size.
    NoSpace(u64),
    /// The area map refused.
    Vma(VmaError),
    /// The range is not in the user half.
    NotUser(u64, u64),
}

impl MemError {
    /// The errno a syscall returns for it.
    pub fn errno(self) -> Errno {
        match self {
            MemError::OutOfMemory | MemError::NoSpace(_) => Errno::ENOMEM,
            MemError::Vma(VmaError::NotMapped(_)) => Errno::ENOMEM,
            MemError::Vma(VmaError::Overlap(..)) => Errno::EEXIST,
            MemError::Vma(VmaError::BadRange(..)) | MemError::NotUser(..) => Errno::EINVAL,
        }
    }
}

impl From<VmaError> for MemError {
    fn from(e: VmaError) -> Self {
        MemError::Vma(e)
    }
}

impl fmt::Display for MemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MemError::OutOfMemory => write!(f, "out of memory"),
            MemError::NoSpace(n) => write!(f, "no free range of {n:#x} bytes"),
            MemError::Vma(e) => write!(f, "{e}"),
            MemError::NotUser(a, n) => write!(f, "{a:#x}+{n:#x} is not in the user half"),
        }
    }
}

/// What a user page fault comes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// No area holds the address (`SEGV_MAPERR`).
    Unmapped,
    /// The area's protection forbids the access (`SEGV_ACCERR`).
    Protection,
    /// No frame was left to populate the page.
    OutOfMemory,
}

/// The access that faulted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// A read.
    Read,
    /// A write.
    Write,
    /// An instruction fetch.
    Execute,
}

/// The PTE bits for `prot` (without `PTE_U`, which `paging` adds).
fn pte_flags(prot: Prot) -> u64 {
    if prot == Prot::NONE {
        return PTE_SOFT_NONE;
    }
    let mut f = PTE_P;
    if prot.writable() {
        f |= PTE_W;
    }
    if !prot.executable() {
        f |= PTE_NX;
    }
    f
}

fn has_frame(pte: u64) -> bool {
    pte & (PTE_P | PTE_SOFT_NONE) != 0
}

fn allowed(prot: Prot, access: Access) -> bool {
    match access {
        Access::Read => prot != Prot::NONE,
        Access::Write => prot.writable(),
        Access::Execute => prot.executable(),
    }
}

/// The program's address space.
#[derive(Debug)]
pub struct AddressSpace {
    /// The mapped areas.
    pub vmas: VmaMap,
    /// Where `brk` started (page-aligned end of the program image).
    pub brk_start: u64,
    /// The current break (not page-aligned).
    pub brk: u64,
}

impl Default for AddressSpace {
    fn default() -> Self {
        Self::new()
    }
}

impl AddressSpace {
    /// An empty address space.
    pub fn new() -> Self {
        Self {
            vmas: VmaMap::new(),
            brk_start: USER_START,
            brk: USER_START,
        }
    }

    /// Maps `[start, end)` (page-aligned) with `prot`. With `replace`,
    /// whatever was mapped there goes first (`MAP_FIXED`); else an overlap
    /// is an error.
    pub fn map(
        &mut self,
        start: u64,
        end: u64,
        prot: Prot,
        kind: VmaKind,
        replace: bool,
    ) -> Result<(), MemError> {
        if !is_user_range(start, end.wrapping_sub(start)) {
            return Err(MemError::NotUser(start, end.wrapping_sub(start)));
        }
        if replace {
            self.unmap(start, end)?;
        }
        self.vmas.insert(Vma::new(start, end, prot, kind))?;
        Ok(())
    }

    /// The highest free range of `len` bytes below the `mmap` top.
    pub fn find_free(&self, len: u64) -> Result<u64, MemError> {
        self.vmas
            .find_free_below(MMAP_TOP, len, self.brk_start.max(USER_START))
            .ok_or(MemError::NoSpace(len))
    }

    /// Unmaps `[start, end)`, freeing the frames behind it.
    pub fn unmap(&mut self, start: u64, end: u64) -> Result<(), MemError> {
        for v in self.vmas.remove(start, end)? {
            self.drop_pages(v.start, v.end);
        }
        Ok(())
    }

    /// Unmaps everything (`execve`): the areas go and their frames are
    /// freed; the page tables stay for the next program.
    pub fn clear(&mut self) {
        let areas: Vec<(u64, u64)> = self.vmas.iter().map(|v| (v.start, v.end)).collect();
        for (start, end) in areas {
            // Every range is one the map holds, so removing it cannot fail.
            let _ = self.unmap(start, end);
        }
        self.brk_start = USER_START;
        self.brk = USER_START;
    }

    /// Removes the PTEs of `[start, end)` and frees their frames.
    fn drop_pages(&mut self, start: u64, end: u64) {
        let mut va = start;
        while va < end {
            let old = paging::set_user_entry(va, 0);
            if has_frame(old) {
                frames::free(old & ADDR_MASK);
            }
            va += PAGE_SIZE;
        }
    }

    /// `MADV_DONTNEED`: the pages of `[start, end)` read as zero again
    /// (their frames go back; the areas stay).
    pub fn discard(&mut self, start: u64, end: u64) -> Result<(), MemError> {
        if !self.vmas.covers(start, end, Prot::NONE) {
            return Err(MemError::Vma(VmaError::NotMapped(start)));
        }
        self.drop_pages(start, end);
        Ok(())
    }

    /// Changes the protection of `[start, end)`, all of which must be mapped.
    pub fn protect(&mut self, start: u64, end: u64, prot: Prot) -> Result<(), MemError> {
        self.vmas.protect(start, end, prot)?;
        let flags = pte_flags(prot);
        let mut va = start;
        while va < end {
            let e = paging::user_entry(va);
            if has_frame(e) {
                paging::set_user_entry(va, (e & ADDR_MASK) | flags | paging::PTE_U);
            }
            va += PAGE_SIZE;
        }
        Ok(())
    }

    /// Gives the page at `va` a frame if it has none, with the protection
    /// of its area; returns the frame.
    fn populate(&mut self, va: u64, prot: Prot) -> Result<u64, Fault> {
        self.populate_from(va, prot, paging::user_entry(page_down(va)))
    }

    /// [`Self::populate`] for a caller that has read the page's PTE `e`.
    fn populate_from(&mut self, va: u64, prot: Prot, e: u64) -> Result<u64, Fault> {
        let page = page_down(va);
        if has_frame(e) {
            // Accessed and dirty are the CPU's; the rest must match the area.
            let want = (e & ADDR_MASK) | pte_flags(prot) | paging::PTE_U;
            if e & !(PTE_ACCESSED | PTE_DIRTY) != want {
                paging::set_user_entry(page, want);
            }
            return Ok(e & ADDR_MASK);
        }
        let frame = frames::alloc_zeroed().ok_or(Fault::OutOfMemory)?;
        if paging::map_user(page, frame, pte_flags(prot), &mut || frames::alloc_zeroed()).is_err() {
            frames::free(frame);
            return Err(Fault::OutOfMemory);
        }
        Ok(frame)
    }

    /// Handles a page fault from ring 3 at `addr`.
    pub fn fault(&mut self, addr: u64, access: Access) -> Result<(), Fault> {
        let vma = self.vmas.find(addr).copied().ok_or(Fault::Unmapped)?;
        if !allowed(vma.prot, access) {
            return Err(Fault::Protection);
        }
        self.populate(addr, vma.prot).map(drop)
    }

    /// Checks that `[addr, addr + len)` is user memory mapped for
    /// `access`, and populates it.
    pub fn ensure(&mut self, addr: u64, len: u64, access: Access) -> Result<(), Errno> {
        if len == 0 {
            return Ok(());
        }
        if !is_user_range(addr, len) {
            return Err(Errno::EFAULT);
        }
        let mut page = page_down(addr);
        let end = addr + len;
        while page < end {
            let vma = self.vmas.find(page).copied().ok_or(Errno::EFAULT)?;
            if !allowed(vma.prot, access) {
                return Err(Errno::EFAULT);
            }
            while page < end && page < vma.end {
                self.populate(page, vma.prot).map_err(|_| Errno::EFAULT)?;
                page += PAGE_SIZE;
            }
        }
        Ok(())
    }

    /// Appends the frames behind `[addr, addr + len)` to `out`, as runs of
    /// physically contiguous bytes, for the device to read (`Access::Read`:
    /// a `write`) or write (`Access::Write`: a `read`) in place; `None`
    /// takes any mapped range whatever its protection (the kernel filling
    /// a read-only mapping, as [`Self::fill`] does).
    ///
    /// Each page is checked and populated as [`Self::ensure`] does (`EFAULT`
    /// for a range that is not user memory mapped for `access`), so the
    /// device always gets the process's own frames: a page that had none
    /// gets a zeroed one first. There are no shared, copy-on-write or zero
    /// pages in this kernel, so a populated page is the process's alone and
    /// writing its frame is writing the page.
    ///
    /// Stops early when `out` is full (the next byte would need another
    /// segment) and returns how many bytes it appended; the caller sends
    /// the rest in a further request. On an error `out` is as it was.
    pub fn gather<const N: usize>(
        &mut self,
        addr: u64,
        len: u64,
        access: Option<Access>,
        out: &mut Segments<N>,
    ) -> Result<u64, Errno> {
        if len == 0 {
            return Ok(0);
        }
        if !is_user_range(addr, len) {
            return Err(Errno::EFAULT);
        }
        let before = out.bytes();
        let end = addr + len;
        let mut at = addr;
        let mut ptes = paging::UserPtes::new();
        while at < end {
            let Some(vma) = self.vmas.find(at).copied() else {
                out.truncate(before);
                return Err(Errno::EFAULT);
            };
            if access.is_some_and(|a| !allowed(vma.prot, a)) {
                out.truncate(before);
                return Err(Errno::EFAULT);
            }
            // What a populated page of this area holds besides its frame
            // and the CPU's accessed and dirty bits.
            let current = pte_flags(vma.prot) | paging::PTE_U;
            while at < end && at < vma.end {
                let e = ptes.entry(page_down(at));
                let frame =
                    if has_frame(e) && e & !(ADDR_MASK | PTE_ACCESSED | PTE_DIRTY) == current {
                        e & ADDR_MASK
                    } else {
                        let Ok(frame) = self.populate_from(at, vma.prot, e) else {
                            out.truncate(before);
                            return Err(Errno::EFAULT);
                        };
                        frame
                    };
                let off = at % PAGE_SIZE;
                let n = (PAGE_SIZE - off).min(end - at);
                if !out.push(frame + off, n as usize) {
                    return Ok(at - addr);
                }
                at += n;
            }
        }
        Ok(len)
    }

    /// Copies user memory at `addr` into `buf`.
    pub fn copy_in(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
        self.ensure(addr, buf.len() as u64, Access::Read)?;
        // SAFETY: `ensure` checked that the range is mapped user memory,
        // readable and populated, in the current page tables; `buf` is
        // kernel memory, so the two do not overlap.
        unsafe { core::ptr::copy_nonoverlapping(addr as *const u8, buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }

    /// Copies `data` to user memory at `addr`.
    pub fn copy_out(&mut self, addr: u64, data: &[u8]) -> Result<(), Errno> {
        self.ensure(addr, data.len() as u64, Access::Write)?;
        // SAFETY: as in `copy_in`, for a writable range.
        unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), addr as *mut u8, data.len()) };
        Ok(())
    }

    /// Reads a `T` from user memory.
    pub fn read<T: Pod>(&mut self, addr: u64) -> Result<T, Errno> {
        let mut b = [0u8; 512];
        let n = core::mem::size_of::<T>();
        if n <= b.len() {
            self.copy_in(addr, &mut b[..n])?;
            return pod::from_bytes(&b[..n]).ok_or(Errno::EFAULT);
        }
        let mut v = alloc::vec![0u8; n];
        self.copy_in(addr, &mut v)?;
        pod::from_bytes(&v).ok_or(Errno::EFAULT)
    }

    /// Writes `v` to user memory.
    pub fn write<T: Pod>(&mut self, addr: u64, v: &T) -> Result<(), Errno> {
        self.copy_out(addr, pod::bytes_of(v))
    }

    /// Reads a NUL-terminated string of at most `max` bytes (without the NUL).
    pub fn read_cstr(&mut self, addr: u64, max: usize) -> Result<Vec<u8>, Errno> {
        let mut out = Vec::new();
        let mut at = addr;
        loop {
            let page_end = page_down(at) + PAGE_SIZE;
            let mut chunk = alloc::vec![0u8; (page_end - at) as usize];
            self.copy_in(at, &mut chunk)?;
            if let Some(n) = chunk.iter().position(|&b| b == 0) {
                out.extend_from_slice(&chunk[..n]);
                return Ok(out);
            }
            out.extend_from_slice(&chunk);
            if out.len() > max {
                return Err(Errno::ENAMETOOLONG);
            }
            at = page_end;
        }
    }

    /// Writes `data` at user address `va` through the frames, whatever the
    /// pages' protection (the loader fills read-only segments this way).
    /// The range must be mapped.
    pub fn fill(&mut self, va: u64, data: &[u8]) -> Result<(), MemError> {
        let mut done = 0;
        while done < data.len() {
            let at = va + done as u64;
            let prot = self
                .vmas
                .find(at)
                .ok_or(MemError::Vma(VmaError::NotMapped(at)))?
                .prot;
            let frame = self.populate(at, prot).map_err(|_| MemError::OutOfMemory)?;
            let off = (at % PAGE_SIZE) as usize;
            let n = (PAGE_SIZE as usize - off).min(data.len() - done);
            // SAFETY: `frame` is a RAM frame owned by this address space,
            // reached through the direct map; `off + n` stays inside it.
            unsafe {
                core::ptr::copy_nonoverlapping(
                    data[done..].as_ptr(),
                    (phys_to_virt(frame) + off as u64) as *mut u8,
                    n,
                );
            }
            done += n;
        }
        Ok(())
    }

    /// `brk`: moves the break to `new` if it can (not below where it
    /// started, not into another mapping); returns the break.
    pub fn set_brk(&mut self, new: u64) -> u64 {
        if new < self.brk_start {
            return self.brk;
        }
        let (Some(old_end), Some(new_end)) = (page_up(self.brk), page_up(new)) else {
            return self.brk;
        };
        if new_end > old_end {
            if !is_user_range(old_end, new_end - old_end)
                || !self.vmas.is_free(old_end, new_end)
                || self
                    .vmas
                    .insert(Vma::new(old_end, new_end, Prot::RW, VmaKind::Brk))
                    .is_err()
            {
                return self.brk;
            }
        } else if new_end < old_end && self.unmap(new_end, old_end).is_err() {
            return self.brk;
        }
        self.brk = new;
        new
    }

    /// `mremap` of `[old, old + old_len)` to `new_len` bytes: shrinks in
    /// place, grows in place when the following range is free, else moves
    /// (with `may_move`, or to `fixed`) by moving the page-table entries,
    /// never the bytes. Returns the new address.
    pub fn remap(
        &mut self,
        old: u64,
        old_len: u64,
        new_len: u64,
        may_move: bool,
        fixed: Option<u64>,
    ) -> Result<u64, MemError> {
        let old_end = old + old_len;
        let vma = self
            .vmas
            .find(old)
            .copied()
            .filter(|v| old_end <= v.end)
            .ok_or(MemError::Vma(VmaError::NotMapped(old)))?;
        if fixed.is_none() {
            if new_len <= old_len {
                if new_len < old_len {
                    self.unmap(old + new_len, old_end)?;
                }
                return Ok(old);
            }
            let grow_end = old.checked_add(new_len).ok_or(MemError::NoSpace(new_len))?;
            if is_user_range(old_end, grow_end - old_end) && self.vmas.is_free(old_end, grow_end) {
                self.vmas
                    .insert(Vma::new(old_end, grow_end, vma.prot, vma.kind))?;
                return Ok(old);
            }
            if !may_move {
                return Err(MemError::NoSpace(new_len));
            }
        }
        let new = match fixed {
            Some(at) => {
                if !is_user_range(at, new_len) || (at < old_end && old < at + new_len) {
                    return Err(MemError::NotUser(at, new_len));
                }
                self.unmap(at, at + new_len)?;
                at
            }
            None => self.find_free(new_len)?,
        };
        // A moved area is plain anonymous memory, whatever it was (a moved
        // brk or stack area is no longer the break or the stack).
        self.vmas
            .insert(Vma::new(new, new + new_len, vma.prot, VmaKind::Anon))?;
        let moved = old_len.min(new_len);
        let mut off = 0;
        while off < moved {
            let e = paging::set_user_entry(old + off, 0);
            if has_frame(e) {
                let r = paging::map_user(
                    new + off,
                    e & ADDR_MASK,
                    e & !ADDR_MASK & !paging::PTE_U,
                    &mut || frames::alloc_zeroed(),
                );
                if r.is_err() {
                    frames::free(e & ADDR_MASK);
                }
            }
            off += PAGE_SIZE;
        }
        self.unmap(old, old_end)?;
        Ok(new)
    }
}
