//! Accepting a guest's memory from its vhost-user frontend.
//!
//! `SET_MEM_TABLE` and `ADD_MEM_REG` hand the daemon a file per region and
//! the daemon maps it. A region longer than what its file holds maps fine,
//! but the first access past the file's end raises `SIGBUS`, which would
//! kill the daemon and every process of the tree with it. So before the
//! device uses a memory table, every region must lie inside its file
//! (`fstat`); a table that fails is refused, and the frontend gets an error.
//! The received fds are also made close-on-exec: the vhost-user library
//! receives them without it, and no QEMU the daemon launches later may
//! inherit another guest's RAM.

use std::os::fd::AsRawFd;

use thiserror::Error;
use vm_memory::{GuestMemoryBackend, GuestMemoryMmap, GuestMemoryRegion};

/// A memory table the device refuses.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum MemoryError {
    /// A region is not backed by a file: the daemon could not share it.
    #[error("guest region at {0:#x} has no backing file")]
    NotShared(u64),
    /// A region reaches past the end of its file: (guest address, region
    /// end in the file, file size).
    #[error("guest region at {0:#x} ends at file offset {1:#x}, past the end of its file ({2:#x} bytes)")]
    PastEndOfFile(u64, u64, u64),
    /// The file's size could not be read.
    #[error("cannot read the size of the file of guest region at {0:#x}: {1}")]
    Stat(u64, String),
}

/// Checks that every region of `mem` lies inside its backing file, and
/// makes those files close-on-exec.
pub fn accept(mem: &GuestMemoryMmap) -> Result<(), MemoryError> {
    for region in mem.iter() {
        let at = region.start_addr().0;
        let fo = region.file_offset().ok_or(MemoryError::NotShared(at))?;
        let file = fo.file();
        rustix::io::fcntl_setfd(file, rustix::io::FdFlags::CLOEXEC)
            .map_err(|e| MemoryError::Stat(at, e.to_string()))?;
        let size = rustix::fs::fstat(file)
            .map_err(|e| MemoryError::Stat(at, e.to_string()))?
            .st_size as u64;
        let end = fo.start().saturating_add(region.len());
        if end > size {
            return Err(MemoryError::PastEndOfFile(at, end, size));
        }
        log::trace!("guest region at {at:#x}: fd {} checked", file.as_raw_fd());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::fs::File;

    use vm_memory::{FileOffset, GuestAddress};

    use super::*;

    const MIB: usize = 1 << 20;

    fn file(len: u64) -> File {
        let f = tempfile::tempfile().unwrap();
        f.set_len(len).unwrap();
        f
    }

    fn mem_over(f: File, region: usize) -> GuestMemoryMmap {
        GuestMemoryMmap::from_ranges_with_files(&[(
            GuestAddress(0),
            region,
            Some(FileOffset::new(f, 0)),
        )])
        .unwrap()
    }

    #[test]
    fn a_region_inside_its_file_is_accepted_and_made_close_on_exec() {
        let mem = mem_over(file(4 * MIB as u64), 4 * MIB);
        assert_eq!(accept(&mem), Ok(()));
        let r = mem.iter().next().unwrap();
        let flags = rustix::io::fcntl_getfd(r.file_offset().unwrap().file()).unwrap();
        assert!(flags.contains(rustix::io::FdFlags::CLOEXEC));
    }

    /// Regression: such a region mapped fine and the first descriptor in
    /// it killed the daemon with SIGBUS.
    #[test]
    fn a_region_longer_than_its_file_is_refused() {
        let mem = mem_over(file(MIB as u64), 4 * MIB);
        assert_eq!(
            accept(&mem),
            Err(MemoryError::PastEndOfFile(0, 4 * MIB as u64, MIB as u64))
        );
    }

    #[test]
    fn anonymous_memory_is_refused() {
        let mem = GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0), MIB)]).unwrap();
        assert_eq!(accept(&mem), Err(MemoryError::NotShared(0)));
    }
}
