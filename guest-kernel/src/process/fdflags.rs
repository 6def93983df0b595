//! The fd flags the guest keeps itself until the device knows them:
//! `FD_CLOEXEC`, by fd number. Pure logic, unit-tested on the host.
//!
//! The flag belongs to the fd (not to the open file description), so the
//! device's `DUP`/`DUP2` results start without it and `CLOSE` forgets it.
//! `execve` closes the fds that have it (`exec::close_cloexec`).

use alloc::collections::BTreeSet;

/// The set of fds with `FD_CLOEXEC`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FdFlags {
    cloexec: BTreeSet<u32>,
}

impl FdFlags {
    /// Sets or clears `FD_CLOEXEC` on `fd`.
    pub fn set_cloexec(&mut self, fd: u32, on: bool) {
        if on {
            self.cloexec.insert(fd);
        } else {
            self.cloexec.remove(&fd);
        }
    }

    /// Whether `fd` has `FD_CLOEXEC`.
    pub fn cloexec(&self, fd: u32) -> bool {
        self.cloexec.contains(&fd)
    }

    /// `fd` was closed (or reused by `dup2`): it forgets its flags.
    pub fn closed(&mut self, fd: u32) {
        self.cloexec.remove(&fd);
    }

    /// The fds that `execve` must close, lowest first.
    pub fn cloexec_fds(&self) -> impl Iterator<Item = u32> + '_ {
        self.cloexec.iter().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloexec_is_per_fd_and_forgotten_on_close() {
        let mut f = FdFlags::default();
        f.set_cloexec(3, true);
        f.set_cloexec(5, true);
        assert!(f.cloexec(3) && !f.cloexec(4));
        f.closed(3);
        assert!(!f.cloexec(3));
        assert_eq!(f.cloexec_fds().collect::<Vec<_>>(), vec![5]);
        f.set_cloexec(5, false);
        assert!(!f.cloexec(5));
    }
}
