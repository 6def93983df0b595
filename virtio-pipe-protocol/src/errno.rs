//! Error codes: POSIX errno values with Linux numbering. Spec: *Error codes*.

/// A status the device returns in `virtio_pipe_resp.status`. `0` is success.
#[doc(alias = "virtio_pipe_errno")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Errno {
    /// Operation not permitted.
    Eperm = 1,
    /// No such file, directory or image.
    Enoent = 2,
    /// No such process.
    Esrch = 3,
    /// Interrupted (by a signal).
    Eintr = 4,
    /// Input/output error on the host.
    Eio = 5,
    /// No such device or address (`/dev/tty` without a terminal).
    Enxio = 6,
    /// Argument list too long.
    E2big = 7,
    /// Image is not bootable.
    Enoexec = 8,
    /// Bad file descriptor.
    Ebadf = 9,
    /// No child processes.
    Echild = 10,
    /// Try again: would block, or a process limit was reached.
    Eagain = 11,
    /// Out of memory: the buffered-bytes or a similar limit was reached.
    Enomem = 12,
    /// Permission denied.
    Eacces = 13,
    /// Bad address: a buffer the device cannot use.
    Efault = 14,
    /// Resource busy.
    Ebusy = 16,
    /// File exists.
    Eexist = 17,
    /// Cross-device link.
    Exdev = 18,
    /// Not a directory.
    Enotdir = 20,
    /// Is a directory.
    Eisdir = 21,
    /// Invalid argument.
    Einval = 22,
    /// Too many pipes in the whole device.
    Enfile = 23,
    /// Too many open fds in this process.
    Emfile = 24,
    /// Not a terminal.
    Enotty = 25,
    /// Text file busy.
    Etxtbsy = 26,
    /// File too large.
    Efbig = 27,
    /// No space left on the host's file system.
    Enospc = 28,
    /// Illegal seek: not a file.
    Espipe = 29,
    /// Read-only file system: the tree's root is not writable.
    Erofs = 30,
    /// Too many links.
    Emlink = 31,
    /// Broken pipe: no reader.
    Epipe = 32,
    /// Result does not fit the buffer.
    Erange = 34,
    /// Name too long.
    Enametoolong = 36,
    /// Operation not supported by this device.
    Enosys = 38,
    /// Directory not empty.
    Enotempty = 39,
    /// Too many symbolic links, or a link where none may be.
    Eloop = 40,
    /// Value too large for its type.
    Eoverflow = 75,
    /// Operation not supported on this file.
    Eopnotsupp = 95,
    /// Quota exceeded.
    Edquot = 122,
}

impl Errno {
    /// Every code, for tests and tables.
    pub const ALL: [Errno; 38] = [
        Errno::Eperm,
        Errno::Enoent,
        Errno::Esrch,
        Errno::Eintr,
        Errno::Eio,
        Errno::Enxio,
        Errno::E2big,
        Errno::Enoexec,
        Errno::Ebadf,
        Errno::Echild,
        Errno::Eagain,
        Errno::Enomem,
        Errno::Eacces,
        Errno::Efault,
        Errno::Ebusy,
        Errno::Eexist,
        Errno::Exdev,
        Errno::Enotdir,
        Errno::Eisdir,
        Errno::Einval,
        Errno::Enfile,
        Errno::Emfile,
        Errno::Enotty,
        Errno::Etxtbsy,
        Errno::Efbig,
        Errno::Enospc,
        Errno::Espipe,
        Errno::Erofs,
        Errno::Emlink,
        Errno::Epipe,
        Errno::Erange,
        Errno::Enametoolong,
        Errno::Enosys,
        Errno::Enotempty,
        Errno::Eloop,
        Errno::Eoverflow,
        Errno::Eopnotsupp,
        Errno::Edquot,
    ];

    /// The numeric value on the wire.
    pub const fn code(self) -> u32 {
        self as u32
    }

    /// The errno for a host (Linux) error number, as the device passes host
    /// errors on (spec: *Error codes*): the same number when the spec has
    /// it, else `EIO`.
    pub fn from_host(errno: i32) -> Self {
        u32::try_from(errno)
            .ok()
            .and_then(Self::from_code)
            .unwrap_or(Errno::Eio)
    }

    /// Parses a wire status; `None` for `0` or an unknown value.
    pub fn from_code(code: u32) -> Option<Self> {
        Self::ALL.iter().copied().find(|e| e.code() == code)
    }

    /// The symbolic name, as `strerror`-style tables print it.
    pub const fn name(self) -> &'static str {
        match self {
            Errno::Eperm => "EPERM",
            Errno::Enoent => "ENOENT",
            Errno::Esrch => "ESRCH",
            Errno::Eintr => "EINTR",
            Errno::Eio => "EIO",
            Errno::Enxio => "ENXIO",
            Errno::E2big => "E2BIG",
            Errno::Enoexec => "ENOEXEC",
            Errno::Ebadf => "EBADF",
            Errno::Echild => "ECHILD",
            Errno::Eagain => "EAGAIN",
            Errno::Enomem => "ENOMEM",
            Errno::Eacces => "EACCES",
            Errno::Efault => "EFAULT",
            Errno::Ebusy => "EBUSY",
            Errno::Eexist => "EEXIST",
            Errno::Exdev => "EXDEV",
            Errno::Enotdir => "ENOTDIR",
            Errno::Eisdir => "EISDIR",
            Errno::Einval => "EINVAL",
            Errno::Enfile => "ENFILE",
            Errno::Emfile => "EMFILE",
            Errno::Enotty => "ENOTTY",
            Errno::Etxtbsy => "ETXTBSY",
            Errno::Efbig => "EFBIG",
            Errno::Enospc => "ENOSPC",
            Errno::Espipe => "ESPIPE",
            Errno::Erofs => "EROFS",
            Errno::Emlink => "EMLINK",
            Errno::Epipe => "EPIPE",
            Errno::Erange => "ERANGE",
            Errno::Enametoolong => "ENAMETOOLONG",
            Errno::Enosys => "ENOSYS",
            Errno::Enotempty => "ENOTEMPTY",
            Errno::Eloop => "ELOOP",
            Errno::Eoverflow => "EOVERFLOW",
            Errno::Eopnotsupp => "EOPNOTSUPP",
            Errno::Edquot => "EDQUOT",
        }
    }
}

impl core::fmt::Display for Errno {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips() {
        for e in Errno::ALL {
            assert_eq!(Errno::from_code(e.code()), Some(e));
        }
    }

    #[test]
    fn zero_and_unknown_codes_are_not_errors() {
        assert_eq!(Errno::from_code(0), None);
        assert_eq!(Errno::from_code(4095), None);
    }

    #[test]
    fn host_errors_pass_through_and_unknown_ones_are_eio() {
        assert_eq!(Errno::from_host(30), Errno::Erofs);
        assert_eq!(Errno::from_host(2), Errno::Enoent);
        assert_eq!(Errno::from_host(133), Errno::Eio);
        assert_eq!(Errno::from_host(-1), Errno::Eio);
    }

    #[test]
    fn codes_match_linux_numbering() {
        assert_eq!(Errno::Eagain.code(), 11);
        assert_eq!(Errno::Epipe.code(), 32);
        assert_eq!(Errno::Ebadf.code(), 9);
    }
}
