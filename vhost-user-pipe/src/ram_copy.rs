//! The memory half of FORK: a copy of a guest's RAM in a new memfd.
//!
//! The daemon already maps every guest's RAM (vhost-user shares it as
//! memfd regions). To fork, it copies the parent's regions into a fresh
//! memfd at the same file offsets, so a QEMU started on that file
//! (`memory-backend-file,mem-path=/proc/<daemon>/fd/<n>,share=on`) sees the
//! parent's memory at the same guest-physical addresses. Only the data
//! ranges of the parent's memfd are copied (`SEEK_DATA`/`SEEK_HOLE`, then
//! `copy_file_range`): the pages a guest never touched are holes and cost
//! nothing. The QEMU firmware and ELF loader then overwrite low memory,
//! `.data` and `.bss`; the guest runtime restores those from its resume
//! record (spec: `drv-fork-record`).
//!
//! A fork into a parked VM (spec `dev-fork-land`) needs no new memfd:
//! [`overlay`] makes the landed VM's own RAM byte-equal to the parent's
//! while its CPU spins on the boot page tables ([`wait_landed`] sees it
//! get there): the parent's data ranges are copied, the child's data
//! where the parent has holes is punched out, and the mailbox page is
//! written last, its first word after everything else, since that word
//! is what ends the child's spin.

use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::atomic::{fence, Ordering};
use std::time::{Duration, Instant};

use rustix::fs::FallocateFlags;
use thiserror::Error;
use virtio_pipe_protocol::{FORK_LANDED_MAGIC, FORK_MAILBOX_ALIGN};
use vm_memory::{
    Bytes, FileOffset, GuestAddress, GuestMemoryBackend, GuestMemoryMmap, GuestMemoryRegion,
};

/// Why a fork's memory could not be made.
#[derive(Debug, Error)]
pub enum RamCopyError {
    /// memfd_create failed.
    #[error("cannot create the child's memory file: {0}")]
    Create(#[source] std::io::Error),
    /// A region has no backing file (not shared memory).
    #[error("guest region at {0:#x} is not backed by a shared file")]
    NotShared(u64),
    /// Copying failed.
    #[error("cannot copy guest memory: {0}")]
    Copy(#[source] std::io::Error),
    /// The parent's and the child's RAM are not laid out alike (guest
    /// addresses and sizes of their regions): the child must boot cold.
    #[error("the child's guest memory regions differ from the parent's")]
    RegionsDiffer,
    /// The mailbox is 0, not page-aligned, or not a page of guest RAM.
    #[error("fork mailbox {0:#x} is not a page-aligned page of guest RAM")]
    BadMailbox(u64),
    /// Punching out the child's pages failed.
    #[error("cannot punch a hole in the child's memory: {0}")]
    Punch(#[source] std::io::Error),
    /// The child did not publish `FORK_LANDED_MAGIC` by the deadline.
    #[error("the parked VM did not land within the deadline")]
    LandTimeout,
    /// The child's VM ended before it landed.
    #[error("the parked VM ended before it landed")]
    LandGone,
}

/// The child's RAM.
#[derive(Debug)]
pub struct RamCopy {
    /// The memfd; keep it open until the child's QEMU has opened the path.
    pub file: File,
    /// Bytes of guest RAM it backs.
    pub size: u64,
    /// Bytes actually copied (data ranges).
    pub copied: u64,
    /// How long the copy took.
    pub elapsed: Duration,
}

impl RamCopy {
    /// This copy mapped as guest memory laid out like `like` (the memory it
    /// was copied from): the same regions at the same file offsets, so it
    /// can be the parent side of [`overlay_held`].
    pub fn memory(&self, like: &GuestMemoryMmap) -> Result<GuestMemoryMmap, RamCopyError> {
        let ranges = like
            .iter()
            .map(|r| {
                let fo = r
                    .file_offset()
                    .ok_or(RamCopyError::NotShared(r.start_addr().0))?;
                let file = self.file.try_clone().map_err(RamCopyError::Copy)?;
                Ok((
                    r.start_addr(),
                    r.len() as usize,
                    Some(FileOffset::new(file, fo.start())),
                ))
            })
            .collect::<Result<Vec<_>, RamCopyError>>()?;
        GuestMemoryMmap::from_ranges_with_files(&ranges)
            .map_err(|e| RamCopyError::Copy(std::io::Error::other(e)))
    }

    /// A path another process (QEMU) can open to reach this memfd.
    pub fn path(&self) -> PathBuf {
        PathBuf::from(format!(
            "/proc/{}/fd/{}",
            std::process::id(),
            self.file.as_raw_fd()
        ))
    }
}

fn memfd(name: &std::ffi::CStr) -> std::io::Result<File> {
    // Close-on-exec: the child's QEMU opens it by path
    // (`/proc/<daemon>/fd/N`), and no other QEMU may inherit it.
    // SAFETY: a valid NUL-terminated name and flags; the result is checked.
    let fd = unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor that nothing else owns.
    Ok(unsafe { File::from_raw_fd(fd) })
}

fn seek(file: &File, off: u64, whence: libc::c_int) -> Option<u64> {
    // SAFETY: lseek(2) on an open fd; no memory is passed.
    let r = unsafe { libc::lseek(file.as_raw_fd(), off as libc::off_t, whence) };
    (r >= 0).then_some(r as u64)
}

/// Copies the RAM of `mem` into a new memfd of at least `min_size` bytes.
pub fn copy(mem: &GuestMemoryMmap, min_size: u64) -> Result<RamCopy, RamCopyError> {
    let start = Instant::now();
    let file = memfd(c"vhost-user-pipe-fork").map_err(RamCopyError::Create)?;
    let mut size = min_size;
    let mut copied = 0;
    for region in mem.iter() {
        let fo = region
            .file_offset()
            .ok_or(RamCopyError::NotShared(region.start_addr().0))?;
        let (src, base, len) = (fo.file(), fo.start(), region.len());
        size = size.max(base + len);
        file.set_len(size).map_err(RamCopyError::Copy)?;
        let end = base + len;
        let mut off = base;
        while off < end {
            let Some(data) = seek(src, off, libc::SEEK_DATA).filter(|&d| d < end) else {
                break;
            };
            let hole = seek(src, data, libc::SEEK_HOLE).unwrap_or(end).min(end);
            copied +=
                copy_between(src, data, &file, data, hole - data).map_err(RamCopyError::Copy)?;
            off = hole;
        }
    }
    file.set_len(size).map_err(RamCopyError::Copy)?;
    Ok(RamCopy {
        file,
        size,
        copied,
        elapsed: start.elapsed(),
    })
}

/// What [`overlay`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OverlayStats {
    /// Bytes copied from the parent (its data ranges and the mailbox page).
    pub copied: u64,
    /// Bytes of the child's data punched out (holes in the parent).
    pub punched: u64,
    /// How long it took.
    pub elapsed: Duration,
}

/// The data ranges of `file` within `[start, end)`, as file offsets.
fn data_ranges(file: &File, start: u64, end: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut off = start;
    while off < end {
        let Some(data) = seek(file, off, libc::SEEK_DATA).filter(|&d| d < end) else {
            break;
        };
        let hole = seek(file, data, libc::SEEK_HOLE).unwrap_or(end).min(end);
        if hole <= data {
            break;
        }
        out.push((data, hole));
        off = hole;
    }
    out
}

/// `ranges` (sorted, disjoint) less `[cut_lo, cut_hi)`.
fn without(ranges: &[(u64, u64)], cut_lo: u64, cut_hi: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::with_capacity(ranges.len() + 1);
    for &(lo, hi) in ranges {
        if hi <= cut_lo || cut_hi <= lo {
            out.push((lo, hi));
            continue;
        }
        if lo < cut_lo {
            out.push((lo, cut_lo));
        }
        if cut_hi < hi {
            out.push((cut_hi, hi));
        }
    }
    out
}

/// The parts of `ranges` that no range of `keep` covers (both sorted and
/// disjoint).
fn not_covered(ranges: &[(u64, u64)], keep: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut out = ranges.to_vec();
    for &(lo, hi) in keep {
        out = without(&out, lo, hi);
    }
    out
}

/// One region of each memory: its guest address, length, and the file and
/// offset behind it.
struct Pair<'a> {
    guest: u64,
    len: u64,
    parent: (&'a File, u64),
    child: (&'a File, u64),
}

fn pairs<'a>(
    parent: &'a GuestMemoryMmap,
    child: &'a GuestMemoryMmap,
) -> Result<Vec<Pair<'a>>, RamCopyError> {
    let p: Vec<_> = parent.iter().collect();
    let c: Vec<_> = child.iter().collect();
    if p.len() != c.len() {
        return Err(RamCopyError::RegionsDiffer);
    }
    p.into_iter()
        .zip(c)
        .map(|(p, c)| {
            if p.start_addr() != c.start_addr() || p.len() != c.len() {
                return Err(RamCopyError::RegionsDiffer);
            }
            let pf = p
                .file_offset()
                .ok_or(RamCopyError::NotShared(p.start_addr().0))?;
            let cf = c
                .file_offset()
                .ok_or(RamCopyError::NotShared(c.start_addr().0))?;
            Ok(Pair {
                guest: p.start_addr().0,
                len: p.len(),
                parent: (pf.file(), pf.start()),
                child: (cf.file(), cf.start()),
            })
        })
        .collect()
}

/// Checks that `mailbox` is a nonzero, page-aligned page inside one region.
fn check_mailbox(pairs: &[Pair<'_>], mailbox: u64) -> Result<(), RamCopyError> {
    let page = FORK_MAILBOX_ALIGN;
    let inside = pairs
        .iter()
        .any(|r| r.guest <= mailbox && mailbox.saturating_add(page) <= r.guest + r.len);
    if mailbox == 0 || mailbox % page != 0 || !inside {
        return Err(RamCopyError::BadMailbox(mailbox));
    }
    Ok(())
}

/// Whether [`overlay`] can make `child` a copy of `parent` with its mailbox
/// at `mailbox`: the same regions (guest addresses and sizes), each backed
/// by a file, and `mailbox` a nonzero page-aligned page of RAM. Writes
/// nothing: ask before answering a parked VM's `START` with land, since a
/// VM told to land cannot be used for anything else.
pub fn check_overlay(
    parent: &GuestMemoryMmap,
    child: &GuestMemoryMmap,
    mailbox: u64,
) -> Result<(), RamCopyError> {
    check_mailbox(&pairs(parent, child)?, mailbox)
}

/// Makes `child`'s RAM byte-equal to `parent`'s (spec `dev-fork-land`),
/// the page at guest-physical `mailbox` last and its first 8 bytes after
/// everything else (one atomic store, release-ordered), so that a child
/// spinning on that word sees all of the parent's RAM once it changes.
///
/// Both must have the same regions (guest addresses and sizes), each
/// backed by a file; else [`RamCopyError::RegionsDiffer`] before anything
/// is written. The parent must not run meanwhile (it is inside `FORK`),
/// and the child must write nothing but the mailbox's first word (it
/// spins there: `wait_landed`). Only the parent's data ranges are copied
/// (`SEEK_DATA`/`SEEK_HOLE`, `copy_file_range`); the child's data ranges
/// that are holes in the parent are punched out
/// (`FALLOC_FL_PUNCH_HOLE`), so they read as the zeroes the parent's do.
pub fn overlay(
    parent: &GuestMemoryMmap,
    child: &GuestMemoryMmap,
    mailbox: u64,
) -> Result<OverlayStats, RamCopyError> {
    overlay_held(parent, child, mailbox)?.release(child)
}

/// An [`overlay`] done but for the mailbox's first word: the child still
/// spins. [`Held::release`] stores the word; between the two the caller
/// can make the VM the child's (re-bind its connection) before the child
/// can run.
#[derive(Debug)]
#[must_use = "the child spins until the mailbox word is released"]
pub struct Held {
    word: u64,
    mailbox: u64,
    stats: OverlayStats,
    start: Instant,
}

impl Held {
    /// Stores the mailbox's first word (release-ordered, after a fence):
    /// the child sees all of the parent's RAM and resumes.
    pub fn release(self, child: &GuestMemoryMmap) -> Result<OverlayStats, RamCopyError> {
        fence(Ordering::SeqCst);
        child
            .store(self.word, GuestAddress(self.mailbox), Ordering::Release)
            .map_err(|e| RamCopyError::Copy(std::io::Error::other(e)))?;
        let mut stats = self.stats;
        stats.elapsed = self.start.elapsed();
        Ok(stats)
    }
}

/// [`overlay`] up to the mailbox's first word.
pub fn overlay_held(
    parent: &GuestMemoryMmap,
    child: &GuestMemoryMmap,
    mailbox: u64,
) -> Result<Held, RamCopyError> {
    let start = Instant::now();
    let pairs = pairs(parent, child)?;
    check_mailbox(&pairs, mailbox)?;
    let page = FORK_MAILBOX_ALIGN;
    let mut stats = OverlayStats::default();
    for r in &pairs {
        let ((pf, pbase), (cf, cbase)) = (r.parent, r.child);
        // Region-relative ranges, the mailbox page left out of both.
        let rel = |v: Vec<(u64, u64)>, base: u64| -> Vec<(u64, u64)> {
            let v: Vec<_> = v.into_iter().map(|(a, b)| (a - base, b - base)).collect();
            let m = mailbox.wrapping_sub(r.guest);
            without(&v, m, m.saturating_add(page))
        };
        let pdata = rel(data_ranges(pf, pbase, pbase + r.len), pbase);
        let cdata = rel(data_ranges(cf, cbase, cbase + r.len), cbase);
        for (lo, hi) in not_covered(&cdata, &pdata) {
            rustix::fs::fallocate(
                cf,
                FallocateFlags::PUNCH_HOLE | FallocateFlags::KEEP_SIZE,
                cbase + lo,
                hi - lo,
            )
            .map_err(|e| RamCopyError::Punch(e.into()))?;
            stats.punched += hi - lo;
        }
        for (lo, hi) in pdata {
            stats.copied += copy_between(pf, pbase + lo, cf, cbase + lo, hi - lo)
                .map_err(RamCopyError::Copy)?;
        }
    }
    // The mailbox page: everything but its first word, then that word.
    let r = pairs
        .iter()
        .find(|r| r.guest <= mailbox && mailbox < r.guest + r.len)
        .expect("check_mailbox found it");
    let mut bytes = vec![0u8; page as usize];
    // From the file: a hole reads as zeroes without becoming a page.
    let (pf, pbase) = r.parent;
    pf.read_exact_at(&mut bytes, pbase + (mailbox - r.guest))
        .map_err(RamCopyError::Copy)?;
    let (cf, cbase) = r.child;
    cf.write_all_at(&bytes[8..], cbase + (mailbox - r.guest) + 8)
        .map_err(RamCopyError::Copy)?;
    let word = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
    stats.copied += page;
    Ok(Held {
        word,
        mailbox,
        stats,
        start,
    })
}

/// `copy_file_range` of `len` bytes from `src` at `from` to `dst` at `to`.
fn copy_between(src: &File, from: u64, dst: &File, to: u64, len: u64) -> std::io::Result<u64> {
    let mut copied = 0;
    while copied < len {
        let mut in_off = (from + copied) as libc::loff_t;
        let mut out_off = (to + copied) as libc::loff_t;
        let want = (len - copied).min(1 << 30) as usize;
        // SAFETY: copy_file_range(2) between two open fds with offsets
        // that live on this stack frame for the whole call.
        let n = unsafe {
            libc::copy_file_range(
                src.as_raw_fd(),
                &mut in_off,
                dst.as_raw_fd(),
                &mut out_off,
                want,
                0,
            )
        };
        if n < 0 {
            return Err(std::io::Error::last_os_error());
        }
        if n == 0 {
            return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof));
        }
        copied += n as u64;
    }
    Ok(copied)
}

/// How long [`wait_landed`] sleeps between two looks.
const LAND_POLL: Duration = Duration::from_micros(30);

/// Waits until the parked VM whose RAM is `child` has landed (spec
/// `drv-start-land`, step 3): the first word of the page at `mailbox`
/// reads `FORK_LANDED_MAGIC`. `alive` is asked between looks; `false`
/// ends the wait with [`RamCopyError::LandGone`], the deadline with
/// [`RamCopyError::LandTimeout`].
pub fn wait_landed(
    child: &GuestMemoryMmap,
    mailbox: u64,
    deadline: Instant,
    alive: impl Fn() -> bool,
) -> Result<(), RamCopyError> {
    if mailbox == 0 || mailbox % FORK_MAILBOX_ALIGN != 0 {
        return Err(RamCopyError::BadMailbox(mailbox));
    }
    loop {
        let word: u64 = child
            .load(GuestAddress(mailbox), Ordering::Acquire)
            .map_err(|_| RamCopyError::BadMailbox(mailbox))?;
        if word == FORK_LANDED_MAGIC {
            return Ok(());
        }
        if !alive() {
            return Err(RamCopyError::LandGone);
        }
        if Instant::now() >= deadline {
            return Err(RamCopyError::LandTimeout);
        }
        std::thread::sleep(LAND_POLL);
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::FileExt;

    use vm_memory::{Bytes, FileOffset, GuestAddress};

    use super::*;

    const SIZE: usize = 16 << 20;
    const MARK_AT: u64 = 8 << 20;

    fn guest() -> GuestMemoryMmap {
        let f = memfd(c"test").unwrap();
        f.set_len(SIZE as u64).unwrap();
        GuestMemoryMmap::from_ranges_with_files(&[(
            GuestAddress(0),
            SIZE,
            Some(FileOffset::new(f, 0)),
        )])
        .unwrap()
    }

    #[test]
    fn snapshot_copies_the_bytes_at_the_same_offsets() {
        let mem = guest();
        mem.write_slice(b"fork me", GuestAddress(MARK_AT)).unwrap();
        let snap = copy(&mem, SIZE as u64).unwrap();
        let mut got = [0u8; 7];
        snap.file.read_exact_at(&mut got, MARK_AT).unwrap();
        assert_eq!(&got, b"fork me");
        assert_eq!(snap.size, SIZE as u64);
    }

    #[test]
    fn untouched_memory_is_not_copied() {
        let mem = guest();
        mem.write_slice(&[1u8; 4096], GuestAddress(0)).unwrap();
        let snap = copy(&mem, SIZE as u64).unwrap();
        assert!(
            snap.copied < SIZE as u64 / 4,
            "copied {} of {SIZE}",
            snap.copied
        );
    }

    #[test]
    fn later_writes_to_the_parent_do_not_reach_the_copy() {
        let mem = guest();
        mem.write_slice(b"before", GuestAddress(MARK_AT)).unwrap();
        let snap = copy(&mem, SIZE as u64).unwrap();
        mem.write_slice(b"after!", GuestAddress(MARK_AT)).unwrap();
        let mut got = [0u8; 6];
        snap.file.read_exact_at(&mut got, MARK_AT).unwrap();
        assert_eq!(&got, b"before");
    }

    /// Regression: fork memfds were inherited by every QEMU launched later.
    #[test]
    fn the_copy_is_close_on_exec() {
        let mem = guest();
        let snap = copy(&mem, SIZE as u64).unwrap();
        let flags = rustix::io::fcntl_getfd(&snap.file).unwrap();
        assert!(flags.contains(rustix::io::FdFlags::CLOEXEC));
    }

    /// Two regions, as a q35 VM with RAM on both sides of a hole has:
    /// `[0, 8 MiB)` and `[16 MiB, 24 MiB)`, each its own memfd.
    fn two_regions(second_len: usize) -> GuestMemoryMmap {
        let (a, b) = (memfd(c"lo").unwrap(), memfd(c"hi").unwrap());
        a.set_len(8 << 20).unwrap();
        b.set_len(second_len as u64).unwrap();
        GuestMemoryMmap::from_ranges_with_files(&[
            (GuestAddress(0), 8 << 20, Some(FileOffset::new(a, 0))),
            (
                GuestAddress(16 << 20),
                second_len,
                Some(FileOffset::new(b, 0)),
            ),
        ])
        .unwrap()
    }

    const MAILBOX: u64 = 0x19_9000;
    /// What the guest kernel's mailbox holds when published.
    const PUBLISHED: u64 = 0x004b_524f_4670_7076;

    /// Every byte of guest RAM, read from the files (reading a shared
    /// mapping would fill its holes with pages).
    fn all_bytes(mem: &GuestMemoryMmap) -> Vec<u8> {
        let mut out = Vec::new();
        for r in mem.iter() {
            let fo = r.file_offset().unwrap();
            let mut b = vec![0u8; r.len() as usize];
            fo.file().read_exact_at(&mut b, fo.start()).unwrap();
            out.extend_from_slice(&b);
        }
        out
    }

    /// A parent with data here and there and a published mailbox, and a
    /// landed child with data of its own, some where the parent has none.
    fn parent_and_child() -> (GuestMemoryMmap, GuestMemoryMmap) {
        let (parent, child) = (two_regions(8 << 20), two_regions(8 << 20));
        parent
            .write_slice(&[0x11; 3 * 4096], GuestAddress(0x10_0000))
            .unwrap();
        parent
            .write_slice(&[0x22; 5000], GuestAddress(0x40_0800))
            .unwrap();
        parent
            .write_slice(&[0x33; 64 << 10], GuestAddress((16 << 20) + 0x1000))
            .unwrap();
        let mut mb = [0u8; 24];
        mb[..8].copy_from_slice(&PUBLISHED.to_le_bytes());
        mb[8..16].copy_from_slice(&0x30_0000u64.to_le_bytes());
        mb[16..].copy_from_slice(&(0x30_0000u64 ^ PUBLISHED).to_le_bytes());
        parent.write_slice(&mb, GuestAddress(MAILBOX)).unwrap();
        // The child's own boot: the image (overlapping the parent's), its
        // heap (where the parent has nothing), and the landed mailbox.
        child
            .write_slice(&[0xaa; 8 * 4096], GuestAddress(0x10_0000))
            .unwrap();
        child
            .write_slice(&[0xbb; 100 << 10], GuestAddress(0x60_0000))
            .unwrap();
        child
            .write_slice(&[0xcc; 4096], GuestAddress((20 << 20) + 0x3000))
            .unwrap();
        child
            .store(FORK_LANDED_MAGIC, GuestAddress(MAILBOX), Ordering::Release)
            .unwrap();
        (parent, child)
    }

    #[test]
    fn overlay_makes_the_child_byte_equal_to_the_parent() {
        let (parent, child) = parent_and_child();
        assert_ne!(all_bytes(&parent), all_bytes(&child));
        let stats = overlay(&parent, &child, MAILBOX).unwrap();
        assert!(
            all_bytes(&parent) == all_bytes(&child),
            "the child's RAM equals the parent's"
        );
        assert!(
            stats.punched >= (100 << 10) + 4096,
            "the child's heap and high page were punched: {stats:?}"
        );
        assert!(
            stats.copied < 1 << 20,
            "only the parent's data ranges were copied: {stats:?}"
        );
        // Punched, not written with zeroes: the child's file has a hole there.
        let r = child.iter().next().unwrap();
        let f = r.file_offset().unwrap().file();
        assert_eq!(
            seek(f, 0x60_0000, libc::SEEK_HOLE),
            Some(0x60_0000),
            "a hole where only the child had data"
        );
        assert_eq!(
            child
                .load::<u64>(GuestAddress(MAILBOX), Ordering::Acquire)
                .unwrap(),
            PUBLISHED
        );
    }

    #[test]
    fn overlay_twice_is_harmless_and_copies_nothing_new_into_holes() {
        let (parent, child) = parent_and_child();
        overlay(&parent, &child, MAILBOX).unwrap();
        let again = overlay(&parent, &child, MAILBOX).unwrap();
        assert_eq!(again.punched, 0, "{again:?}");
        assert!(all_bytes(&parent) == all_bytes(&child));
    }

    /// The mailbox's first word is written after everything else: a CPU
    /// spinning on it (here a thread) sees the whole parent once it
    /// changes, never a half-copied RAM.
    #[test]
    fn a_child_that_sees_the_mailbox_change_sees_all_of_the_parent() {
        let (parent, child) = parent_and_child();
        // Much data after the mailbox, so that a mailbox written in
        // address order would be seen long before the end.
        let big = vec![0x5a; 6 << 20];
        parent
            .write_slice(&big, GuestAddress(MAILBOX + 4096))
            .unwrap();
        parent
            .write_slice(&big[..4 << 20], GuestAddress(17 << 20))
            .unwrap();
        let want = all_bytes(&parent);
        std::thread::scope(|s| {
            let spinner = s.spawn(|| {
                let deadline = Instant::now() + Duration::from_secs(60);
                loop {
                    let w: u64 = child
                        .load(GuestAddress(MAILBOX), Ordering::Acquire)
                        .unwrap();
                    if w != FORK_LANDED_MAGIC {
                        assert_eq!(w, PUBLISHED, "the word goes from landed to published");
                        // The last byte copied, looked at first.
                        let last: u8 = child
                            .load(GuestAddress((21 << 20) - 1), Ordering::Acquire)
                            .unwrap();
                        assert_eq!(last, 0x5a, "the end of the copy is there");
                        return all_bytes(&child);
                    }
                    assert!(Instant::now() < deadline, "the mailbox never changed");
                    std::hint::spin_loop();
                }
            });
            overlay(&parent, &child, MAILBOX).unwrap();
            let seen = spinner.join().unwrap();
            assert!(seen == want, "the child saw a RAM that is not the parent's");
        });
    }

    #[test]
    fn regions_that_differ_are_refused_before_anything_is_written() {
        let parent = two_regions(8 << 20);
        parent.write_slice(b"parent", GuestAddress(0x1000)).unwrap();
        for child in [two_regions(4 << 20), guest()] {
            let before = all_bytes(&child);
            let e = overlay(&parent, &child, MAILBOX).unwrap_err();
            assert!(matches!(e, RamCopyError::RegionsDiffer), "{e}");
            let e = check_overlay(&parent, &child, MAILBOX).unwrap_err();
            assert!(matches!(e, RamCopyError::RegionsDiffer), "{e}");
            assert!(all_bytes(&child) == before, "nothing written");
        }
    }

    #[test]
    fn a_mailbox_that_is_not_a_page_of_ram_is_refused() {
        let (parent, child) = parent_and_child();
        let before = all_bytes(&child);
        for bad in [
            0,
            MAILBOX + 8,
            MAILBOX + 0x800,
            (8 << 20) - 0x800,
            10 << 20,
            24 << 20,
            !0xfff,
        ] {
            let e = overlay(&parent, &child, bad).unwrap_err();
            assert!(matches!(e, RamCopyError::BadMailbox(m) if m == bad), "{e}");
            assert!(check_overlay(&parent, &child, bad).is_err());
        }
        check_overlay(&parent, &child, MAILBOX).unwrap();
        assert!(all_bytes(&child) == before, "nothing written");
    }

    #[test]
    fn wait_landed_sees_the_magic_and_gives_up_on_a_deadline_or_a_dead_vm() {
        let mem = guest();
        let soon = || Instant::now() + Duration::from_millis(50);
        assert!(matches!(
            wait_landed(&mem, MAILBOX, soon(), || true),
            Err(RamCopyError::LandTimeout)
        ));
        assert!(matches!(
            wait_landed(
                &mem,
                MAILBOX,
                Instant::now() + Duration::from_secs(60),
                || false
            ),
            Err(RamCopyError::LandGone)
        ));
        assert!(matches!(
            wait_landed(&mem, MAILBOX + 8, soon(), || true),
            Err(RamCopyError::BadMailbox(_))
        ));
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(20));
                mem.store(FORK_LANDED_MAGIC, GuestAddress(MAILBOX), Ordering::Release)
                    .unwrap();
            });
            let t0 = Instant::now();
            wait_landed(&mem, MAILBOX, t0 + Duration::from_secs(60), || true).unwrap();
        });
    }

    #[test]
    fn path_names_this_process_fd() {
        let mem = guest();
        let snap = copy(&mem, SIZE as u64).unwrap();
        assert!(std::fs::metadata(snap.path()).is_ok());
    }
}
