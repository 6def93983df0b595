//! Loading a program: where its bytes come from ([`ProgramFile`]), its ELF
//! headers ([`elf`]), its initial stack and auxiliary vector ([`stack`]),
//! and the command line that gives its argv ([`cmdline`]).
//!
//! The program is a file of the tree's root read with the device's
//! `PREAD` (`process::exec::DeviceFile`), or the first PVH module (QEMU's
//! `-initrd`, [`MemoryFile`]) in a VM launched by hand; both are a
//! [`ProgramFile`] to the ELF loader. A `#!` script names its interpreter
//! ([`script`]).

pub mod cmdline;
pub mod elf;
#[cfg(not(test))]
pub mod load;
pub mod script;
pub mod stack;

use core::fmt;

/// A read error from a [`ProgramFile`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadError {
    /// Where the failed read started.
    pub offset: u64,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "read failed at offset {}", self.offset)
    }
}

/// The bytes of a program, wherever they come from.
pub trait ProgramFile {
    /// The file's size in bytes.
    fn size(&self) -> u64;
    /// Fills all of `buf` from offset `off`; reading past the end fails.
    fn read_at(&self, off: u64, buf: &mut [u8]) -> Result<(), ReadError>;
}

/// A program held in memory the kernel can read (a PVH module through
/// the direct map; a byte vector in tests).
#[derive(Debug)]
pub struct MemoryFile<'a>(pub &'a [u8]);

impl ProgramFile for MemoryFile<'_> {
    fn size(&self) -> u64 {
        self.0.len() as u64
    }

    fn read_at(&self, off: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        let start = usize::try_from(off).map_err(|_| ReadError { offset: off })?;
        let src = start
            .checked_add(buf.len())
            .and_then(|end| self.0.get(start..end))
            .ok_or(ReadError { offset: off })?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

#[cfg(test)]
pub mod tests {
    use alloc::vec::Vec;

    use super::*;

    /// An owned in-memory program for tests.
    #[derive(Debug)]
    pub struct MemFile(pub Vec<u8>);

    impl ProgramFile for MemFile {
        fn size(&self) -> u64 {
            self.0.len() as u64
        }

        fn read_at(&self, off: u64, buf: &mut [u8]) -> Result<(), ReadError> {
            MemoryFile(&self.0).read_at(off, buf)
        }
    }

    #[test]
    fn reads_past_the_end_fail() {
        let f = MemoryFile(b"0123456789");
        let mut b = [0u8; 4];
        f.read_at(6, &mut b).unwrap();
        assert_eq!(&b, b"6789");
        assert_eq!(f.read_at(7, &mut b), Err(ReadError { offset: 7 }));
        assert_eq!(
            f.read_at(u64::MAX, &mut b),
            Err(ReadError { offset: u64::MAX })
        );
    }
}
