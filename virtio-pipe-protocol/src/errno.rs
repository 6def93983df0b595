//! Error codes: POSIX errno values with Linux numbering. Spec: *Error codes*.

/// A status the device returns in `virtio_pipe_resp.status`. `0` is success.
#[doc(alias = "virtio_pipe_errno")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Errno {
    /// Operation not permitted.
    Eperm = 1,
    /// No such image.
    Enoent = 2,
    /// No such process.
    Esrch = 3,
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
    /// Bad address: a buffer the device cannot use.
    Efault = 14,
    /// Invalid argument.
    Einval = 22,
    /// Too many pipes in the whole device.
    Enfile = 23,
    /// Too many open fds in this process.
    Emfile = 24,
    /// Broken pipe: no reader.
    Epipe = 32,
    /// Result does not fit the buffer.
    Erange = 34,
    /// Name too long.
    Enametoolong = 36,
    /// Operation not supported by this device.
    Enosys = 38,
}

impl Errno {
    /// Every code, for tests and tables.
    pub const ALL: [Errno; 17] = [
        Errno::Eperm,
        Errno::Enoent,
        Errno::Esrch,
        Errno::E2big,
        Errno::Enoexec,
        Errno::Ebadf,
        Errno::Echild,
        Errno::Eagain,
        Errno::Enomem,
        Errno::Efault,
        Errno::Einval,
        Errno::Enfile,
        Errno::Emfile,
        Errno::Epipe,
        Errno::Erange,
        Errno::Enametoolong,
        Errno::Enosys,
    ];

    /// The numeric value on the wire.
    pub const fn code(self) -> u32 {
        self as u32
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
            Errno::E2big => "E2BIG",
            Errno::Enoexec => "ENOEXEC",
            Errno::Ebadf => "EBADF",
            Errno::Echild => "ECHILD",
            Errno::Eagain => "EAGAIN",
            Errno::Enomem => "ENOMEM",
            Errno::Efault => "EFAULT",
            Errno::Einval => "EINVAL",
            Errno::Enfile => "ENFILE",
            Errno::Emfile => "EMFILE",
            Errno::Epipe => "EPIPE",
            Errno::Erange => "ERANGE",
            Errno::Enametoolong => "ENAMETOOLONG",
            Errno::Enosys => "ENOSYS",
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
    fn codes_match_linux_numbering() {
        assert_eq!(Errno::Eagain.code(), 11);
        assert_eq!(Errno::Epipe.code(), 32);
        assert_eq!(Errno::Ebadf.code(), 9);
    }
}
