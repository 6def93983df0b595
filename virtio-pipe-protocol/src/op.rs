//! Request op codes. Spec: *Device Operation*.

/// `VIRTIO_PIPE_OP_*`: the operation a request asks for.
#[doc(alias = "virtio_pipe_op")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Op {
    /// Create a pipe; returns the read and write fds.
    Pipe = 1,
    /// Read from an fd into the writable payload.
    Read = 2,
    /// Write the readable payload to an fd.
    Write = 3,
    /// Close an fd.
    Close = 4,
    /// Duplicate an fd onto the lowest free number.
    Dup = 5,
    /// Duplicate an fd onto a given number.
    Dup2 = 6,
    /// Set an fd's status flags (`O_NONBLOCK`).
    SetFlags = 7,
    /// Get an fd's status flags.
    GetFlags = 8,
    /// Fetch how this process started: fresh (run `main`) or forked (resume).
    Start = 9,
    /// Fetch argv and env.
    GetArgs = 10,
    /// Spawn a named image with argv, env and file actions.
    Spawn = 11,
    /// Clone the calling process.
    Fork = 12,
    /// Wait for a child.
    Wait = 13,
    /// Exit with a status.
    Exit = 14,
    /// Send a signal to a process.
    Kill = 15,
    /// Get the pid and the parent's pid.
    GetPid = 16,
    /// Open a file of the tree's root directory.
    OpenAt = 17,
    /// Read a file at an offset.
    Pread = 18,
    /// Move a file's offset.
    Lseek = 19,
    /// The status of an open fd.
    Fstat = 20,
    /// The status of a path.
    StatAt = 21,
    /// Read a directory's entries.
    Getdents = 22,
    /// Check access to a path.
    AccessAt = 23,
    /// Read a symbolic link.
    ReadlinkAt = 24,
    /// Change the working directory.
    Chdir = 25,
    /// Get the working directory.
    Getcwd = 26,
    /// Replace the program (`execve`).
    Exec = 27,
    /// Create a child that borrows the caller's VM until it execs or exits.
    Vfork = 28,
    /// Get the path of the program the process runs.
    GetExe = 29,
    /// Write a file at an offset.
    Pwrite = 30,
    /// Set a file's length.
    Ftruncate = 31,
    /// Flush a file to the host's storage.
    Fsync = 32,
    /// Make a directory.
    MkdirAt = 33,
    /// Remove a name (a directory with `AT_REMOVEDIR`).
    UnlinkAt = 34,
    /// Rename (or exchange) two names.
    RenameAt = 35,
    /// Make a hard link.
    LinkAt = 36,
    /// Make a symbolic link.
    SymlinkAt = 37,
    /// Change a file's permission bits.
    FchmodAt = 38,
    /// Set a file's access and modification times.
    UtimensAt = 39,
    /// End the caller's blocked requests now (a signal or a timeout).
    Interrupt = 40,
    /// Wait until one of several fds is ready.
    Poll = 41,
    /// Move a process into a process group (`setpgid`).
    Setpgid = 42,
    /// Get a process's process group (`getpgid`).
    Getpgid = 43,
    /// Make the caller a session leader (`setsid`).
    Setsid = 44,
    /// Get a process's session (`getsid`).
    Getsid = 45,
    /// Stop the caller as by a stop signal, until it is continued.
    Stop = 46,
    /// A terminal ioctl on the tree's terminal.
    Tty = 47,
}

impl Op {
    /// Every op, in code order.
    pub const ALL: [Op; 47] = [
        Op::Pipe,
        Op::Read,
        Op::Write,
        Op::Close,
        Op::Dup,
        Op::Dup2,
        Op::SetFlags,
        Op::GetFlags,
        Op::Start,
        Op::GetArgs,
        Op::Spawn,
        Op::Fork,
        Op::Wait,
        Op::Exit,
        Op::Kill,
        Op::GetPid,
        Op::OpenAt,
        Op::Pread,
        Op::Lseek,
        Op::Fstat,
        Op::StatAt,
        Op::Getdents,
        Op::AccessAt,
        Op::ReadlinkAt,
        Op::Chdir,
        Op::Getcwd,
        Op::Exec,
        Op::Vfork,
        Op::GetExe,
        Op::Pwrite,
        Op::Ftruncate,
        Op::Fsync,
        Op::MkdirAt,
        Op::UnlinkAt,
        Op::RenameAt,
        Op::LinkAt,
        Op::SymlinkAt,
        Op::FchmodAt,
        Op::UtimensAt,
        Op::Interrupt,
        Op::Poll,
        Op::Setpgid,
        Op::Getpgid,
        Op::Setsid,
        Op::Getsid,
        Op::Stop,
        Op::Tty,
    ];

    /// Parses a wire op code.
    pub fn from_code(code: u32) -> Option<Self> {
        Self::ALL.iter().copied().find(|op| *op as u32 == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_op_round_trips_through_its_code() {
        for op in Op::ALL {
            assert_eq!(Op::from_code(op as u32), Some(op));
        }
    }

    #[test]
    fn zero_and_unknown_op_codes_are_rejected() {
        assert_eq!(Op::from_code(0), None);
        assert_eq!(Op::from_code(48), None);
        assert_eq!(Op::from_code(1000), None);
        assert_eq!(Op::from_code(u32::MAX), None);
    }
}
