//! A process's file-descriptor table.
//!
//! An fd refers to an open file description ([`Ofd`]): which end of which
//! pipe, or which file of the tree's root with its offset, and its status
//! flags. `dup`, `dup2` and inheritance share the
//! description (so `O_NONBLOCK` set through one fd shows through the others),
//! as POSIX says. The table does not count pipe-end references itself: the
//! kernel does, around every call that adds or removes an entry.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

use virtio_pipe_protocol::Errno;

use crate::files::OpenFile;

/// Index of a pipe in the kernel's pipe table.
pub type PipeId = usize;

/// Which end of a pipe an fd is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum End {
    /// The read end.
    Read,
    /// The write end.
    Write,
}

/// What an open file description refers to.
#[derive(Debug)]
pub enum Open {
    /// One end of a pipe.
    Pipe {
        /// The pipe.
        pipe: PipeId,
        /// The end of it.
        end: End,
    },
    /// A file or directory of the tree's root, with the description's offset.
    File {
        /// The host file.
        file: OpenFile,
        /// Where the next `READ` starts.
        offset: AtomicU64,
    },
    /// A device the daemon serves itself (`/dev/null`, `/dev/zero`,
    /// `/dev/urandom`).
    Device {
        /// Which.
        dev: Device,
        /// The access mode it was opened with (`O_RDONLY`, `O_WRONLY`, `O_RDWR`).
        access: u32,
    },
    /// The tree's terminal (`/dev/tty`): the root's standard streams whose
    /// host end is a terminal, read from `input`, written to `output`.
    Tty {
        /// The standard input's pipe, if the access mode reads.
        input: Option<PipeId>,
        /// The standard error's (or output's) pipe, if it writes.
        output: Option<PipeId>,
    },
    /// A listing the daemon makes (`/proc/self/fd`): entries (name, `DT_*`)
    /// and how many `GETDENTS` returned.
    Listing {
        /// The entries, `.` and `..` first.
        entries: Vec<(Vec<u8>, u8)>,
        /// Entries returned so far.
        next: AtomicU64,
    },
    /// Bytes the daemon makes (`/proc/self/cmdline`), read-only.
    Bytes {
        /// The content.
        data: Vec<u8>,
        /// Where the next `READ` starts.
        offset: AtomicU64,
    },
}

/// The devices the daemon serves itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Device {
    /// `/dev/null`: nothing to read, writes discarded.
    Null,
    /// `/dev/zero`: zero bytes, writes discarded.
    Zero,
    /// `/dev/urandom` (and `/dev/random`): the host's random bytes.
    Random,
}

/// An open file description.
#[derive(Debug)]
pub struct Ofd {
    /// What it refers to.
    pub what: Open,
    flags: AtomicU32,
}

impl Ofd {
    /// A description of one end of a pipe.
    pub fn new(pipe: PipeId, end: End, flags: u32) -> Arc<Self> {
        Arc::new(Self {
            what: Open::Pipe { pipe, end },
            flags: AtomicU32::new(flags),
        })
    }

    /// A description of an open file, at offset 0.
    pub fn file(file: OpenFile, flags: u32) -> Arc<Self> {
        Self::file_at(file, flags, 0)
    }

    /// A description of an open file, at `offset`.
    pub fn file_at(file: OpenFile, flags: u32, offset: u64) -> Arc<Self> {
        Arc::new(Self {
            what: Open::File {
                file,
                offset: AtomicU64::new(offset),
            },
            flags: AtomicU32::new(flags),
        })
    }

    /// A description of anything else the daemon serves.
    pub fn special(what: Open, flags: u32) -> Arc<Self> {
        Arc::new(Self {
            what,
            flags: AtomicU32::new(flags),
        })
    }

    /// The access mode: `O_RDONLY` (0), `O_WRONLY` (1) or `O_RDWR` (2).
    pub fn access(&self) -> u32 {
        match &self.what {
            Open::Pipe {
                end: End::Write, ..
            } => 1,
            Open::Pipe { .. } | Open::Listing { .. } | Open::Bytes { .. } => 0,
            Open::File { file, .. } => file.access(),
            Open::Device { access, .. } => *access,
            Open::Tty { input, output } => match (input, output) {
                (Some(_), Some(_)) => 2,
                (None, Some(_)) => 1,
                _ => 0,
            },
        }
    }

    /// The pipe end it is, if it is one.
    pub fn pipe_end(&self) -> Option<(PipeId, End)> {
        match self.what {
            Open::Pipe { pipe, end } => Some((pipe, end)),
            _ => None,
        }
    }

    /// The file it is, with its offset, if it is one.
    pub fn open_file(&self) -> Option<(&OpenFile, &AtomicU64)> {
        match &self.what {
            Open::File { file, offset } => Some((file, offset)),
            _ => None,
        }
    }

    /// The status flags.
    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    /// Sets the status flags.
    pub fn set_flags(&self, flags: u32) {
        self.flags.store(flags, Ordering::Relaxed)
    }
}

/// The fd table of one process.
#[derive(Debug, Clone, Default)]
pub struct FdTable {
    slots: Vec<Option<Arc<Ofd>>>,
}

impl FdTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// The description behind `fd`.
    pub fn get(&self, fd: u32) -> Result<&Arc<Ofd>, Errno> {
        self.slots
            .get(fd as usize)
            .and_then(Option::as_ref)
            .ok_or(Errno::Ebadf)
    }

    /// Installs `ofd` at the lowest free fd below `max`.
    pub fn insert_lowest(&mut self, ofd: Arc<Ofd>, max: usize) -> Result<u32, Errno> {
        let free = self
            .slots
            .iter()
            .position(Option::is_none)
            .unwrap_or(self.slots.len());
        if free >= max {
            return Err(Errno::Emfile);
        }
        self.put(free as u32, ofd);
        Ok(free as u32)
    }

    /// Number of fds `insert_lowest` could still hand out below `max`.
    pub fn free_slots(&self, max: usize) -> usize {
        max.saturating_sub(self.len())
    }

    /// Installs `ofd` at `fd`, returning what was there.
    pub fn put(&mut self, fd: u32, ofd: Arc<Ofd>) -> Option<Arc<Ofd>> {
        let i = fd as usize;
        if self.slots.len() <= i {
            self.slots.resize(i + 1, None);
        }
        self.slots[i].replace(ofd)
    }

    /// Removes `fd`.
    pub fn remove(&mut self, fd: u32) -> Result<Arc<Ofd>, Errno> {
        let ofd = self
            .slots
            .get_mut(fd as usize)
            .and_then(Option::take)
            .ok_or(Errno::Ebadf)?;
        while matches!(self.slots.last(), Some(None)) {
            self.slots.pop();
        }
        Ok(ofd)
    }

    /// Removes every fd.
    pub fn drain(&mut self) -> Vec<Arc<Ofd>> {
        self.slots.drain(..).flatten().collect()
    }

    /// Open fds.
    pub fn len(&self) -> usize {
        self.slots.iter().flatten().count()
    }

    /// Whether no fd is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The open fd numbers, lowest first.
    pub fn numbers(&self) -> impl Iterator<Item = u32> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, o)| o.is_some())
            .map(|(fd, _)| fd as u32)
    }

    /// Every open description, once per fd.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Ofd>> {
        self.slots.iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 4;

    #[test]
    fn insert_takes_the_lowest_free_fd() {
        let mut t = FdTable::new();
        assert_eq!(t.insert_lowest(Ofd::new(0, End::Read, 0), MAX), Ok(0));
        assert_eq!(t.insert_lowest(Ofd::new(0, End::Write, 0), MAX), Ok(1));
        t.remove(0).unwrap();
        assert_eq!(t.insert_lowest(Ofd::new(1, End::Read, 0), MAX), Ok(0));
    }

    #[test]
    fn insert_beyond_the_limit_is_emfile() {
        let mut t = FdTable::new();
        for _ in 0..MAX {
            t.insert_lowest(Ofd::new(0, End::Read, 0), MAX).unwrap();
        }
        assert_eq!(
            t.insert_lowest(Ofd::new(0, End::Read, 0), MAX),
            Err(Errno::Emfile)
        );
    }

    #[test]
    fn removing_a_closed_fd_is_ebadf() {
        let mut t = FdTable::new();
        assert_eq!(t.remove(3).unwrap_err(), Errno::Ebadf);
    }

    #[test]
    fn dup_shares_status_flags() {
        let mut t = FdTable::new();
        let ofd = Ofd::new(0, End::Read, 0);
        t.put(0, ofd.clone());
        t.put(5, ofd);
        t.get(0).unwrap().set_flags(0o4000);
        assert_eq!(t.get(5).unwrap().flags(), 0o4000);
    }
}
