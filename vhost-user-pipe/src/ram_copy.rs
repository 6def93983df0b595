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

use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use thiserror::Error;
use vm_memory::{GuestMemoryBackend, GuestMemoryMmap, GuestMemoryRegion};

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

fn copy_range(src: &File, dst: &File, mut off: u64, end: u64) -> std::io::Result<u64> {
    let mut copied = 0;
    while off < end {
        let mut in_off = off as libc::loff_t;
        let mut out_off = off as libc::loff_t;
        let want = (end - off).min(1 << 30) as usize;
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
            break;
        }
        off += n as u64;
        copied += n as u64;
    }
    Ok(copied)
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
            copied += copy_range(src, &file, data, hole).map_err(RamCopyError::Copy)?;
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

    #[test]
    fn path_names_this_process_fd() {
        let mem = guest();
        let snap = copy(&mem, SIZE as u64).unwrap();
        assert!(std::fs::metadata(snap.path()).is_ok());
    }
}
