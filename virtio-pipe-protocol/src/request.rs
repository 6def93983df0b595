//! Typed requests: a [`ReqHeader`] plus the sizes of a chain's payloads,
//! checked and turned into a [`Request`]. Spec: *Device Operation*.

use crate::errno::Errno;
use crate::fs::{
    AT_EACCESS, AT_EMPTY_PATH, AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, AT_SYMLINK_NOFOLLOW,
    CHDIR_F_FD, FSYNC_F_DATA, MODE_BITS, OPEN_FLAGS, PATH_MAX, RENAME_EXCHANGE, RENAME_NOREPLACE,
    R_OK, SEEK_END, STAT_SIZE, TIMES_SIZE, UMASK_BITS, W_OK, X_OK,
};
use crate::op::Op;
use crate::poll::{POLLFD_SIZE, POLL_MAX};
use crate::tty::{TtyCmd, TTY_F_NOJOBCTL};
use crate::wire::ReqHeader;
use crate::{
    EXIT_F_SIGNALED, O_NONBLOCK, REQ_F_NONBLOCK, WAIT_F_CONTINUED, WAIT_F_NOHANG, WAIT_F_UNTRACED,
};

/// How a process started, as `START` reports it in `ret0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum StartKind {
    /// Booted from its image: run `main` with the args of `GET_ARGS`.
    Fresh = 0,
    /// Cloned by `FORK`: resume the record at `ret1`.
    Forked = 1,
    /// A parked VM about to become a `FORK` child (spec `drv-start-land`):
    /// reset the device, publish [`FORK_LANDED_MAGIC`] in the mailbox the
    /// parent's `FORK` named and wait there for the parent's RAM.
    Land = 2,
}

impl StartKind {
    /// The kind `ret0` of `START` names, if any.
    pub fn from_ret(ret0: u64) -> Option<Self> {
        match ret0 {
            0 => Some(StartKind::Fresh),
            1 => Some(StartKind::Forked),
            2 => Some(StartKind::Land),
            _ => None,
        }
    }
}

/// The word a landing VM writes at offset 0 of its fork mailbox once it
/// runs on its boot page tables and waits for the parent's RAM ("vppLAND\0"
/// read little-endian). Spec: `drv-start-land`.
pub const FORK_LANDED_MAGIC: u64 = 0x0044_4e41_4c70_7076;

/// The alignment of a `FORK` mailbox (`arg1`): one 4 KiB page.
pub const FORK_MAILBOX_ALIGN: u64 = 4096;

/// A request that names something the device does not understand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The op code is not one of `VIRTIO_PIPE_OP_*`.
    UnknownOp(u32),
    /// A flag bit is set that the op does not define: (op, flags).
    UnknownFlags(Op, u32),
    /// An fd argument is not a valid fd number.
    BadFd(u64),
    /// A pid argument is not a pid this op accepts.
    BadPid(u64),
    /// A signal number out of range.
    BadSignal(u64),
    /// An exit code out of 0..=255.
    BadExitCode(u64),
    /// The op takes no readable payload but got this many bytes.
    UnexpectedPayload(Op, usize),
    /// The op needs a writable payload but the chain has none.
    MissingWritablePayload(Op),
    /// A payload length does not fit the 32-bit length the spec allows.
    LengthOverflow(usize),
    /// A path payload is empty or longer than `PATH_MAX`.
    BadPath(usize),
    /// A writable payload is shorter than the op's result: (op, bytes).
    ShortWritablePayload(Op, usize),
    /// An argument out of the op's range.
    BadArg(Op, u64),
    /// `TTY`: an ioctl request number the device does not serve.
    UnknownIoctl(u64),
    /// `TTY`: a readable payload of the wrong size for its ioctl: (ioctl, bytes).
    BadTtyPayload(u32, usize),
    /// A payload whose length is not the one the arguments give:
    /// (op, readable bytes, writable bytes).
    PayloadMismatch(Op, usize, usize),
}

impl DecodeError {
    /// The errno the device answers with. Spec: *Error codes*.
    pub fn errno(&self) -> Errno {
        match self {
            DecodeError::UnknownOp(_) => Errno::Enosys,
            DecodeError::BadFd(_) => Errno::Ebadf,
            DecodeError::BadPid(_) => Errno::Einval,
            DecodeError::LengthOverflow(_) => Errno::Einval,
            DecodeError::BadPath(0) => Errno::Enoent,
            DecodeError::BadPath(_) => Errno::Enametoolong,
            DecodeError::UnknownIoctl(_) => Errno::Enotty,
            _ => Errno::Einval,
        }
    }
}

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            DecodeError::UnknownOp(c) => write!(f, "unknown op code {c}"),
            DecodeError::UnknownFlags(op, fl) => write!(f, "unknown flags {fl:#x} for {op:?}"),
            DecodeError::BadFd(fd) => write!(f, "bad fd {fd}"),
            DecodeError::BadPid(p) => write!(f, "bad pid {p}"),
            DecodeError::BadSignal(s) => write!(f, "bad signal {s}"),
            DecodeError::BadExitCode(c) => write!(f, "exit code {c} out of range"),
            DecodeError::UnexpectedPayload(op, n) => {
                write!(f, "{op:?} takes no payload, got {n} bytes")
            }
            DecodeError::MissingWritablePayload(op) => write!(f, "{op:?} needs a writable payload"),
            DecodeError::LengthOverflow(n) => write!(f, "payload of {n} bytes overflows 32 bits"),
            DecodeError::BadPath(n) => write!(f, "path of {n} bytes"),
            DecodeError::ShortWritablePayload(op, n) => {
                write!(f, "{op:?} needs a larger writable payload than {n} bytes")
            }
            DecodeError::BadArg(op, v) => write!(f, "{op:?}: argument {v:#x} out of range"),
            DecodeError::UnknownIoctl(n) => write!(f, "TTY: unknown ioctl {n:#x}"),
            DecodeError::BadTtyPayload(n, len) => {
                write!(f, "TTY: ioctl {n:#x} with a payload of {len} bytes")
            }
            DecodeError::PayloadMismatch(op, r, w) => write!(
                f,
                "{op:?}: payloads of {r} readable and {w} writable bytes do not match its arguments"
            ),
        }
    }
}

/// The child a `WAIT` waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitTarget {
    /// Any child (`pid == -1`).
    Any,
    /// One child.
    Pid(u32),
    /// Any child in the caller's process group (`pid == 0`).
    OwnGroup,
    /// Any child in process group `pgid` (`pid == -pgid`).
    Group(u32),
}

impl WaitTarget {
    /// From `arg0` read as signed: −1, 0, a pid, or −pgid.
    fn decode(v: u64) -> Result<Self, DecodeError> {
        let max = u32::MAX as i64;
        Ok(match v as i64 {
            -1 => WaitTarget::Any,
            0 => WaitTarget::OwnGroup,
            p if p > 0 && p <= max => WaitTarget::Pid(p as u32),
            p if p < -1 && p >= -max => WaitTarget::Group((-p) as u32),
            _ => return Err(DecodeError::BadPid(v)),
        })
    }

    /// `arg0` of this target.
    fn arg(self) -> u64 {
        match self {
            WaitTarget::Any => u64::MAX,
            WaitTarget::OwnGroup => 0,
            WaitTarget::Pid(p) => p as u64,
            WaitTarget::Group(g) => (-(g as i64)) as u64,
        }
    }
}

/// The processes a `KILL` signals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KillTarget {
    /// One process (`pid > 0`).
    Pid(u32),
    /// Every process in the caller's process group (`pid == 0`).
    OwnGroup,
    /// Every process of the tree but pid 1 and the caller (`pid == -1`).
    All,
    /// Every process in process group `pgid` (`pid == -pgid`).
    Group(u32),
}

impl KillTarget {
    /// From `arg0` read as signed, as `WaitTarget::decode`.
    fn decode(v: u64) -> Result<Self, DecodeError> {
        Ok(match WaitTarget::decode(v)? {
            WaitTarget::Any => KillTarget::All,
            WaitTarget::OwnGroup => KillTarget::OwnGroup,
            WaitTarget::Pid(p) => KillTarget::Pid(p),
            WaitTarget::Group(g) => KillTarget::Group(g),
        })
    }

    /// `arg0` of this target.
    fn arg(self) -> u64 {
        match self {
            KillTarget::All => WaitTarget::Any.arg(),
            KillTarget::OwnGroup => WaitTarget::OwnGroup.arg(),
            KillTarget::Pid(p) => WaitTarget::Pid(p).arg(),
            KillTarget::Group(g) => WaitTarget::Group(g).arg(),
        }
    }
}

/// The directory a path is relative to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dirfd {
    /// The working directory (`AT_FDCWD`).
    Cwd,
    /// An open directory.
    Fd(u32),
}

impl Dirfd {
    fn decode(v: u64) -> Result<Self, DecodeError> {
        if v as i64 == AT_FDCWD {
            Ok(Dirfd::Cwd)
        } else {
            fd_arg(v).map(Dirfd::Fd)
        }
    }

    fn arg(self) -> u64 {
        match self {
            Dirfd::Cwd => AT_FDCWD as u64,
            Dirfd::Fd(fd) => fd as u64,
        }
    }
}

/// How an `EXIT` says the process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitKind {
    /// Exited with a code.
    Code(u8),
    /// Died of a signal (the default action, or a guest panic as `SIGABRT`).
    Signaled(u8),
}

/// One decoded request. Payload bytes are not copied here: `len` fields say
/// how many there are, and the device moves them guest-to-guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// `PIPE`: `arg0` = status flags for both ends (`O_NONBLOCK`).
    Pipe { flags: u32 },
    /// `READ`: `arg0` = fd; up to `len` bytes into the writable payload.
    Read { fd: u32, len: u32, nonblock: bool },
    /// `WRITE`: `arg0` = fd; the `len` bytes of the readable payload.
    Write { fd: u32, len: u32, nonblock: bool },
    /// `CLOSE`: `arg0` = fd.
    Close { fd: u32 },
    /// `DUP`: `arg0` = fd.
    Dup { fd: u32 },
    /// `DUP2`: `arg0` = fd, `arg1` = newfd.
    Dup2 { fd: u32, newfd: u32 },
    /// `SET_FLAGS`: `arg0` = fd, `arg1` = status flags.
    SetFlags { fd: u32, flags: u32 },
    /// `GET_FLAGS`: `arg0` = fd.
    GetFlags { fd: u32 },
    /// `START`.
    Start,
    /// `GET_ARGS`: the args blob goes into a writable payload of `capacity` bytes.
    GetArgs { capacity: u32 },
    /// `SPAWN`: a spawn blob of `len` bytes is the readable payload.
    Spawn { len: u32 },
    /// `FORK`: `arg0` = guest-physical address of the resume record (opaque
    /// to the device), `arg1` = guest-physical address of the driver's fork
    /// mailbox page (page-aligned; 0: no landing, the child boots cold).
    Fork { resume: u64, mailbox: u64 },
    /// `WAIT`: `arg0` = pid as a signed 64-bit value (-1 any child, 0 the
    /// caller's group, -pgid a group); `untraced`/`continued` also report
    /// children that stopped or were continued.
    Wait {
        target: WaitTarget,
        nohang: bool,
        untraced: bool,
        continued: bool,
    },
    /// `EXIT`: `arg0` = code, or `arg1` = signal with `EXIT_F_SIGNALED`.
    Exit(ExitKind),
    /// `KILL`: `arg0` = pid as a signed 64-bit value (0 the caller's group,
    /// -1 everyone, -pgid a group), `arg1` = signal (0 probes).
    Kill { target: KillTarget, signo: u32 },
    /// `GETPID`.
    GetPid,
    /// `INTERRUPT`: end the caller's blocked requests now.
    Interrupt,
    /// `OPENAT`: `arg0` = dirfd, `arg1` = `O_*` flags, `arg2` = mode; the
    /// path is the readable payload.
    OpenAt {
        dirfd: Dirfd,
        flags: u32,
        mode: u32,
        path_len: u32,
    },
    /// `PREAD`: `arg0` = fd, `arg1` = offset; up to `len` bytes.
    Pread { fd: u32, offset: u64, len: u32 },
    /// `LSEEK`: `arg0` = fd, `arg1` = offset (signed), `arg2` = whence.
    Lseek { fd: u32, offset: i64, whence: u32 },
    /// `FSTAT`: `arg0` = fd; the stat goes into the writable payload.
    Fstat { fd: u32 },
    /// `STATAT`: `arg0` = dirfd, `arg1` = `AT_*` flags; path in, stat out.
    StatAt {
        dirfd: Dirfd,
        flags: u32,
        path_len: u32,
    },
    /// `GETDENTS`: `arg0` = fd; records into a writable payload of `len` bytes.
    Getdents { fd: u32, len: u32 },
    /// `ACCESSAT`: `arg0` = dirfd, `arg1` = mode (`R_OK`...), `arg2` = flags.
    AccessAt {
        dirfd: Dirfd,
        mode: u32,
        flags: u32,
        path_len: u32,
    },
    /// `READLINKAT`: `arg0` = dirfd; path in, target out (`len` bytes of room).
    ReadlinkAt {
        dirfd: Dirfd,
        path_len: u32,
        len: u32,
    },
    /// `CHDIR`: to a path payload, or (`CHDIR_F_FD`) to the directory `arg0`.
    Chdir { target: ChdirTarget },
    /// `GETCWD`: the working directory into `len` bytes of room.
    Getcwd { len: u32 },
    /// `EXEC`: an exec blob of `len` bytes is the readable payload;
    /// `arg0` = the caller's umask, which the process keeps.
    Exec { len: u32, umask: u32 },
    /// `VFORK`.
    Vfork,
    /// `GET_EXE`: the program's path into `len` bytes of room.
    GetExe { len: u32 },
    /// `PWRITE`: `arg0` = fd, `arg1` = offset; the `len` bytes of the
    /// readable payload.
    Pwrite { fd: u32, offset: u64, len: u32 },
    /// `FTRUNCATE`: `arg0` = fd, `arg1` = the new length.
    Ftruncate { fd: u32, length: u64 },
    /// `FSYNC`: `arg0` = fd; `FSYNC_F_DATA` for `fdatasync`.
    Fsync { fd: u32, data_only: bool },
    /// `MKDIRAT`: `arg0` = dirfd, `arg1` = mode; the path is the payload.
    MkdirAt {
        dirfd: Dirfd,
        mode: u32,
        path_len: u32,
    },
    /// `UNLINKAT`: `arg0` = dirfd, `arg1` = `AT_REMOVEDIR` or 0; the path.
    UnlinkAt {
        dirfd: Dirfd,
        flags: u32,
        path_len: u32,
    },
    /// `RENAMEAT`: `arg0` = old dirfd, `arg1` = new dirfd, `arg2` =
    /// `RENAME_*`; a path pair of `len` bytes.
    RenameAt {
        old: Dirfd,
        new: Dirfd,
        flags: u32,
        len: u32,
    },
    /// `LINKAT`: `arg0` = old dirfd, `arg1` = new dirfd, `arg2` =
    /// `AT_SYMLINK_FOLLOW` or 0; a path pair of `len` bytes.
    LinkAt {
        old: Dirfd,
        new: Dirfd,
        flags: u32,
        len: u32,
    },
    /// `SYMLINKAT`: `arg0` = the new link's dirfd; a path pair (target,
    /// link) of `len` bytes.
    SymlinkAt { dirfd: Dirfd, len: u32 },
    /// `FCHMODAT`: `arg0` = dirfd, `arg1` = mode, `arg2` = `AT_EMPTY_PATH`
    /// (the fd itself, `path_len` 0) or 0; the path.
    FchmodAt {
        dirfd: Dirfd,
        mode: u32,
        flags: u32,
        path_len: u32,
    },
    /// `UTIMENSAT`: `arg0` = dirfd, `arg1` = `AT_SYMLINK_NOFOLLOW`,
    /// `AT_EMPTY_PATH`; the two times then the path, `len` bytes in all.
    UtimensAt { dirfd: Dirfd, flags: u32, len: u32 },
    /// `POLL`: `arg0` = nfds (at most `POLL_MAX`); `nfds` entries of
    /// `virtio_pipe_pollfd` in, the same entries with `revents` out.
    Poll { nfds: u32, nonblock: bool },
    /// `SETPGID`: `arg0` = pid (0: the caller), `arg1` = pgid (0: the pid).
    Setpgid { pid: u32, pgid: u32 },
    /// `GETPGID`: `arg0` = pid (0: the caller).
    Getpgid { pid: u32 },
    /// `SETSID`.
    Setsid,
    /// `GETSID`: `arg0` = pid (0: the caller).
    Getsid { pid: u32 },
    /// `STOP`: `arg0` = the stop signal (`SIGSTOP`, `SIGTSTP`, `SIGTTIN`,
    /// `SIGTTOU`); completes when the caller is continued.
    Stop { signo: u32 },
    /// `TTY`: `arg0` = fd, `arg1` = the ioctl request number, `arg2` = its
    /// integer argument; the struct the ioctl passes in is the readable
    /// payload, the one it returns the writable payload (sizes per
    /// [`TtyCmd`], checked here).
    /// With `nojobctl` (`TTY_F_NOJOBCTL`) the caller blocks or ignores
    /// `SIGTTOU`.
    Tty {
        fd: u32,
        cmd: TtyCmd,
        arg: u64,
        nojobctl: bool,
    },
}

/// Where `CHDIR` goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChdirTarget {
    /// The path of `len` bytes in the readable payload.
    Path(u32),
    /// An open directory (`fchdir`).
    Fd(u32),
}

fn fd_arg(v: u64) -> Result<u32, DecodeError> {
    if v <= i32::MAX as u64 {
        Ok(v as u32)
    } else {
        Err(DecodeError::BadFd(v))
    }
}

/// A pid argument of the group ops: 0 (the caller, or "the same as the
/// pid") to 2^32 − 1.
fn pid_arg(v: u64) -> Result<u32, DecodeError> {
    u32::try_from(v).map_err(|_| DecodeError::BadPid(v))
}

fn len32(n: usize) -> Result<u32, DecodeError> {
    u32::try_from(n).map_err(|_| DecodeError::LengthOverflow(n))
}

impl Request {
    /// Decodes a request.
    ///
    /// `readable_payload` is the number of readable bytes after the header,
    /// `writable_payload` the number of writable bytes after the response header.
    pub fn decode(
        hdr: &ReqHeader,
        readable_payload: usize,
        writable_payload: usize,
    ) -> Result<Self, DecodeError> {
        let code = hdr.op.get();
        let op = Op::from_code(code).ok_or(DecodeError::UnknownOp(code))?;
        let flags = hdr.flags.get();
        let allowed = match op {
            Op::Read | Op::Write | Op::Poll => REQ_F_NONBLOCK,
            Op::Wait => WAIT_F_NOHANG | WAIT_F_UNTRACED | WAIT_F_CONTINUED,
            Op::Exit => EXIT_F_SIGNALED,
            Op::Chdir => CHDIR_F_FD,
            Op::Fsync => FSYNC_F_DATA,
            Op::Tty => TTY_F_NOJOBCTL,
            _ => 0,
        };
        if flags & !allowed != 0 {
            return Err(DecodeError::UnknownFlags(op, flags));
        }
        let takes_path = matches!(
            op,
            Op::OpenAt
                | Op::StatAt
                | Op::AccessAt
                | Op::ReadlinkAt
                | Op::MkdirAt
                | Op::UnlinkAt
                | Op::FchmodAt
        ) || (op == Op::Chdir && flags & CHDIR_F_FD == 0);
        let takes_pair = matches!(op, Op::RenameAt | Op::LinkAt | Op::SymlinkAt);
        let takes_payload = takes_path
            || takes_pair
            || matches!(
                op,
                Op::Write | Op::Spawn | Op::Exec | Op::Pwrite | Op::UtimensAt | Op::Poll | Op::Tty
            );
        if !takes_payload && readable_payload != 0 {
            return Err(DecodeError::UnexpectedPayload(op, readable_payload));
        }
        if takes_path && readable_payload > PATH_MAX {
            return Err(DecodeError::BadPath(readable_payload));
        }
        if takes_pair && !(6..=4 + 2 * PATH_MAX).contains(&readable_payload) {
            return Err(DecodeError::BadPath(readable_payload));
        }
        let path = || -> Result<u32, DecodeError> {
            if readable_payload == 0 {
                return Err(DecodeError::BadPath(0));
            }
            len32(readable_payload)
        };
        let room = |need: usize| -> Result<u32, DecodeError> {
            if writable_payload < need.max(1) {
                return Err(DecodeError::ShortWritablePayload(op, writable_payload));
            }
            len32(writable_payload)
        };
        let nonblock = flags & REQ_F_NONBLOCK != 0;
        let a = |i| hdr.arg(i);
        Ok(match op {
            Op::Pipe => {
                let fl = a(0);
                if fl & !(O_NONBLOCK as u64) != 0 {
                    return Err(DecodeError::UnknownFlags(op, fl as u32));
                }
                Request::Pipe { flags: fl as u32 }
            }
            Op::Read => {
                if writable_payload == 0 {
                    return Err(DecodeError::MissingWritablePayload(op));
                }
                Request::Read {
                    fd: fd_arg(a(0))?,
                    len: len32(writable_payload)?,
                    nonblock,
                }
            }
            Op::Write => Request::Write {
                fd: fd_arg(a(0))?,
                len: len32(readable_payload)?,
                nonblock,
            },
            Op::Close => Request::Close { fd: fd_arg(a(0))? },
            Op::Dup => Request::Dup { fd: fd_arg(a(0))? },
            Op::Dup2 => Request::Dup2 {
                fd: fd_arg(a(0))?,
                newfd: fd_arg(a(1))?,
            },
            Op::SetFlags => {
                let fl = a(1);
                if fl & !(O_NONBLOCK as u64) != 0 {
                    return Err(DecodeError::UnknownFlags(op, fl as u32));
                }
                Request::SetFlags {
                    fd: fd_arg(a(0))?,
                    flags: fl as u32,
                }
            }
            Op::GetFlags => Request::GetFlags { fd: fd_arg(a(0))? },
            Op::Start => Request::Start,
            Op::GetArgs => Request::GetArgs {
                capacity: len32(writable_payload)?,
            },
            Op::Spawn => Request::Spawn {
                len: len32(readable_payload)?,
            },
            Op::Fork => {
                let mailbox = a(1);
                if mailbox % FORK_MAILBOX_ALIGN != 0 {
                    return Err(DecodeError::BadArg(op, mailbox));
                }
                Request::Fork {
                    resume: a(0),
                    mailbox,
                }
            }
            Op::Wait => Request::Wait {
                target: WaitTarget::decode(a(0))?,
                nohang: flags & WAIT_F_NOHANG != 0,
                untraced: flags & WAIT_F_UNTRACED != 0,
                continued: flags & WAIT_F_CONTINUED != 0,
            },
            Op::Exit => {
                if flags & EXIT_F_SIGNALED != 0 {
                    let s = a(1);
                    if s == 0 || s > crate::signal::SIG_MAX as u64 {
                        return Err(DecodeError::BadSignal(s));
                    }
                    Request::Exit(ExitKind::Signaled(s as u8))
                } else {
                    let c = a(0);
                    if c > 255 {
                        return Err(DecodeError::BadExitCode(c));
                    }
                    Request::Exit(ExitKind::Code(c as u8))
                }
            }
            Op::Kill => {
                let target = KillTarget::decode(a(0))?;
                let s = a(1);
                if s > crate::signal::SIG_MAX as u64 {
                    return Err(DecodeError::BadSignal(s));
                }
                Request::Kill {
                    target,
                    signo: s as u32,
                }
            }
            Op::Setpgid => Request::Setpgid {
                pid: pid_arg(a(0))?,
                pgid: pid_arg(a(1))?,
            },
            Op::Getpgid => Request::Getpgid {
                pid: pid_arg(a(0))?,
            },
            Op::Setsid => Request::Setsid,
            Op::Getsid => Request::Getsid {
                pid: pid_arg(a(0))?,
            },
            Op::Stop => {
                let s = a(0);
                if s > u32::MAX as u64 || !crate::signal::is_stop(s as u32) {
                    return Err(DecodeError::BadSignal(s));
                }
                Request::Stop { signo: s as u32 }
            }
            Op::GetPid => Request::GetPid,
            Op::Interrupt => Request::Interrupt,
            Op::OpenAt => {
                let fl = a(1);
                if fl & !(OPEN_FLAGS as u64) != 0 || fl & 3 == 3 {
                    return Err(DecodeError::UnknownFlags(op, fl as u32));
                }
                let mode = a(2);
                if mode > 0o7777 {
                    return Err(DecodeError::BadArg(op, mode));
                }
                Request::OpenAt {
                    dirfd: Dirfd::decode(a(0))?,
                    flags: fl as u32,
                    mode: mode as u32,
                    path_len: path()?,
                }
            }
            Op::Pread => Request::Pread {
                fd: fd_arg(a(0))?,
                offset: if (a(1) as i64) < 0 {
                    return Err(DecodeError::BadArg(op, a(1)));
                } else {
                    a(1)
                },
                len: room(1)?,
            },
            Op::Lseek => {
                if a(2) > SEEK_END as u64 {
                    return Err(DecodeError::BadArg(op, a(2)));
                }
                Request::Lseek {
                    fd: fd_arg(a(0))?,
                    offset: a(1) as i64,
                    whence: a(2) as u32,
                }
            }
            Op::Fstat => {
                room(STAT_SIZE)?;
                Request::Fstat { fd: fd_arg(a(0))? }
            }
            Op::StatAt => {
                let fl = a(1);
                if fl & !((AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) as u64) != 0 {
                    return Err(DecodeError::UnknownFlags(op, fl as u32));
                }
                room(STAT_SIZE)?;
                let empty_ok = fl & AT_EMPTY_PATH as u64 != 0;
                Request::StatAt {
                    dirfd: Dirfd::decode(a(0))?,
                    flags: fl as u32,
                    path_len: if empty_ok && readable_payload == 0 {
                        0
                    } else {
                        path()?
                    },
                }
            }
            Op::Getdents => Request::Getdents {
                fd: fd_arg(a(0))?,
                len: room(1)?,
            },
            Op::AccessAt => {
                if a(1) & !((R_OK | W_OK | X_OK) as u64) != 0 {
                    return Err(DecodeError::BadArg(op, a(1)));
                }
                if a(2) & !((AT_EACCESS | AT_SYMLINK_NOFOLLOW) as u64) != 0 {
                    return Err(DecodeError::UnknownFlags(op, a(2) as u32));
                }
                Request::AccessAt {
                    dirfd: Dirfd::decode(a(0))?,
                    mode: a(1) as u32,
                    flags: a(2) as u32,
                    path_len: path()?,
                }
            }
            Op::ReadlinkAt => Request::ReadlinkAt {
                dirfd: Dirfd::decode(a(0))?,
                path_len: path()?,
                len: room(1)?,
            },
            Op::Chdir => Request::Chdir {
                target: if flags & CHDIR_F_FD != 0 {
                    ChdirTarget::Fd(fd_arg(a(0))?)
                } else {
                    ChdirTarget::Path(path()?)
                },
            },
            Op::Getcwd => Request::Getcwd { len: room(2)? },
            Op::Exec => {
                if a(0) > UMASK_BITS as u64 {
                    return Err(DecodeError::BadArg(op, a(0)));
                }
                Request::Exec {
                    len: len32(readable_payload)?,
                    umask: a(0) as u32,
                }
            }
            Op::Vfork => Request::Vfork,
            Op::GetExe => Request::GetExe { len: room(1)? },
            Op::Pwrite => Request::Pwrite {
                fd: fd_arg(a(0))?,
                offset: if (a(1) as i64) < 0 {
                    return Err(DecodeError::BadArg(op, a(1)));
                } else {
                    a(1)
                },
                len: len32(readable_payload)?,
            },
            Op::Ftruncate => {
                if (a(1) as i64) < 0 {
                    return Err(DecodeError::BadArg(op, a(1)));
                }
                Request::Ftruncate {
                    fd: fd_arg(a(0))?,
                    length: a(1),
                }
            }
            Op::Fsync => Request::Fsync {
                fd: fd_arg(a(0))?,
                data_only: flags & FSYNC_F_DATA != 0,
            },
            Op::MkdirAt => {
                if a(1) > MODE_BITS as u64 {
                    return Err(DecodeError::BadArg(op, a(1)));
                }
                Request::MkdirAt {
                    dirfd: Dirfd::decode(a(0))?,
                    mode: a(1) as u32,
                    path_len: path()?,
                }
            }
            Op::UnlinkAt => {
                if a(1) & !(AT_REMOVEDIR as u64) != 0 {
                    return Err(DecodeError::UnknownFlags(op, a(1) as u32));
                }
                Request::UnlinkAt {
                    dirfd: Dirfd::decode(a(0))?,
                    flags: a(1) as u32,
                    path_len: path()?,
                }
            }
            Op::RenameAt => {
                let fl = a(2);
                if fl & !((RENAME_NOREPLACE | RENAME_EXCHANGE) as u64) != 0
                    || fl == (RENAME_NOREPLACE | RENAME_EXCHANGE) as u64
                {
                    return Err(DecodeError::UnknownFlags(op, fl as u32));
                }
                Request::RenameAt {
                    old: Dirfd::decode(a(0))?,
                    new: Dirfd::decode(a(1))?,
                    flags: fl as u32,
                    len: len32(readable_payload)?,
                }
            }
            Op::LinkAt => {
                if a(2) & !(AT_SYMLINK_FOLLOW as u64) != 0 {
                    return Err(DecodeError::UnknownFlags(op, a(2) as u32));
                }
                Request::LinkAt {
                    old: Dirfd::decode(a(0))?,
                    new: Dirfd::decode(a(1))?,
                    flags: a(2) as u32,
                    len: len32(readable_payload)?,
                }
            }
            Op::SymlinkAt => Request::SymlinkAt {
                dirfd: Dirfd::decode(a(0))?,
                len: len32(readable_payload)?,
            },
            Op::FchmodAt => {
                if a(1) > MODE_BITS as u64 {
                    return Err(DecodeError::BadArg(op, a(1)));
                }
                if a(2) & !(AT_EMPTY_PATH as u64) != 0 {
                    return Err(DecodeError::UnknownFlags(op, a(2) as u32));
                }
                let empty_ok = a(2) & AT_EMPTY_PATH as u64 != 0;
                Request::FchmodAt {
                    dirfd: Dirfd::decode(a(0))?,
                    mode: a(1) as u32,
                    flags: a(2) as u32,
                    path_len: if empty_ok && readable_payload == 0 {
                        0
                    } else {
                        path()?
                    },
                }
            }
            Op::UtimensAt => {
                let fl = a(1);
                if fl & !((AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) as u64) != 0 {
                    return Err(DecodeError::UnknownFlags(op, fl as u32));
                }
                let path_len = readable_payload.saturating_sub(TIMES_SIZE);
                if readable_payload < TIMES_SIZE
                    || path_len > PATH_MAX
                    || (path_len == 0 && fl & AT_EMPTY_PATH as u64 == 0)
                {
                    return Err(DecodeError::BadPath(path_len));
                }
                Request::UtimensAt {
                    dirfd: Dirfd::decode(a(0))?,
                    flags: fl as u32,
                    len: len32(readable_payload)?,
                }
            }
            Op::Tty => {
                let fd = fd_arg(a(0))?;
                let cmd = TtyCmd::from_ioctl(a(1)).ok_or(DecodeError::UnknownIoctl(a(1)))?;
                if readable_payload != cmd.readable() {
                    return Err(DecodeError::BadTtyPayload(cmd.ioctl(), readable_payload));
                }
                if writable_payload < cmd.writable() {
                    return Err(DecodeError::ShortWritablePayload(op, writable_payload));
                }
                Request::Tty {
                    fd,
                    cmd,
                    arg: a(2),
                    nojobctl: flags & TTY_F_NOJOBCTL != 0,
                }
            }
            Op::Poll => {
                let nfds = a(0);
                if nfds > POLL_MAX as u64 {
                    return Err(DecodeError::BadArg(op, nfds));
                }
                let bytes = nfds as usize * POLLFD_SIZE;
                if readable_payload != bytes || writable_payload != bytes {
                    return Err(DecodeError::PayloadMismatch(
                        op,
                        readable_payload,
                        writable_payload,
                    ));
                }
                Request::Poll {
                    nfds: nfds as u32,
                    nonblock,
                }
            }
        })
    }

    /// The header that carries this request: the inverse of [`Request::decode`]
    /// (payload lengths travel as payload sizes, not in the header). Drivers
    /// build every header with this, so the argument layout of each op is
    /// written down once.
    pub fn header(&self) -> ReqHeader {
        let nb = |on: bool| if on { REQ_F_NONBLOCK } else { 0 };
        let (flags, args) = match *self {
            Request::Pipe { flags } => (0, [flags as u64, 0, 0]),
            Request::Read { fd, nonblock, .. } | Request::Write { fd, nonblock, .. } => {
                (nb(nonblock), [fd as u64, 0, 0])
            }
            Request::Close { fd } | Request::Dup { fd } | Request::GetFlags { fd } => {
                (0, [fd as u64, 0, 0])
            }
            Request::Dup2 { fd, newfd } => (0, [fd as u64, newfd as u64, 0]),
            Request::SetFlags { fd, flags } => (0, [fd as u64, flags as u64, 0]),
            Request::Start
            | Request::GetArgs { .. }
            | Request::Spawn { .. }
            | Request::GetPid
            | Request::Interrupt
            | Request::Setsid => (0, [0; 3]),
            Request::Setpgid { pid, pgid } => (0, [pid as u64, pgid as u64, 0]),
            Request::Getpgid { pid } | Request::Getsid { pid } => (0, [pid as u64, 0, 0]),
            Request::Stop { signo } => (0, [signo as u64, 0, 0]),
            Request::Fork { resume, mailbox } => (0, [resume, mailbox, 0]),
            Request::Wait {
                target,
                nohang,
                untraced,
                continued,
            } => {
                let flags = if nohang { WAIT_F_NOHANG } else { 0 }
                    | if untraced { WAIT_F_UNTRACED } else { 0 }
                    | if continued { WAIT_F_CONTINUED } else { 0 };
                (flags, [target.arg(), 0, 0])
            }
            Request::Exit(ExitKind::Code(c)) => (0, [c as u64, 0, 0]),
            Request::Exit(ExitKind::Signaled(s)) => (EXIT_F_SIGNALED, [0, s as u64, 0]),
            Request::Kill { target, signo } => (0, [target.arg(), signo as u64, 0]),
            Request::OpenAt {
                dirfd, flags, mode, ..
            } => (0, [dirfd.arg(), flags as u64, mode as u64]),
            Request::Pread { fd, offset, .. } => (0, [fd as u64, offset, 0]),
            Request::Lseek { fd, offset, whence } => (0, [fd as u64, offset as u64, whence as u64]),
            Request::Fstat { fd } | Request::Getdents { fd, .. } => (0, [fd as u64, 0, 0]),
            Request::StatAt { dirfd, flags, .. } => (0, [dirfd.arg(), flags as u64, 0]),
            Request::AccessAt {
                dirfd, mode, flags, ..
            } => (0, [dirfd.arg(), mode as u64, flags as u64]),
            Request::ReadlinkAt { dirfd, .. } => (0, [dirfd.arg(), 0, 0]),
            Request::Chdir {
                target: ChdirTarget::Fd(fd),
            } => (CHDIR_F_FD, [fd as u64, 0, 0]),
            Request::Exec { umask, .. } => (0, [umask as u64, 0, 0]),
            Request::Chdir { .. }
            | Request::Getcwd { .. }
            | Request::Vfork
            | Request::GetExe { .. } => (0, [0; 3]),
            Request::Pwrite { fd, offset, .. } => (0, [fd as u64, offset, 0]),
            Request::Ftruncate { fd, length } => (0, [fd as u64, length, 0]),
            Request::Fsync { fd, data_only } => {
                (if data_only { FSYNC_F_DATA } else { 0 }, [fd as u64, 0, 0])
            }
            Request::MkdirAt { dirfd, mode, .. } => (0, [dirfd.arg(), mode as u64, 0]),
            Request::UnlinkAt { dirfd, flags, .. } => (0, [dirfd.arg(), flags as u64, 0]),
            Request::RenameAt {
                old, new, flags, ..
            }
            | Request::LinkAt {
                old, new, flags, ..
            } => (0, [old.arg(), new.arg(), flags as u64]),
            Request::SymlinkAt { dirfd, .. } => (0, [dirfd.arg(), 0, 0]),
            Request::FchmodAt {
                dirfd, mode, flags, ..
            } => (0, [dirfd.arg(), mode as u64, flags as u64]),
            Request::UtimensAt { dirfd, flags, .. } => (0, [dirfd.arg(), flags as u64, 0]),
            Request::Tty {
                fd,
                cmd,
                arg,
                nojobctl,
            } => (
                if nojobctl { TTY_F_NOJOBCTL } else { 0 },
                [fd as u64, cmd.ioctl() as u64, arg],
            ),
            Request::Poll { nfds, nonblock } => (
                if nonblock { REQ_F_NONBLOCK } else { 0 },
                [nfds as u64, 0, 0],
            ),
        };
        ReqHeader::new(self.op(), flags, args)
    }

    /// The op this request is.
    pub fn op(&self) -> Op {
        match self {
            Request::Pipe { .. } => Op::Pipe,
            Request::Read { .. } => Op::Read,
            Request::Write { .. } => Op::Write,
            Request::Close { .. } => Op::Close,
            Request::Dup { .. } => Op::Dup,
            Request::Dup2 { .. } => Op::Dup2,
            Request::SetFlags { .. } => Op::SetFlags,
            Request::GetFlags { .. } => Op::GetFlags,
            Request::Start => Op::Start,
            Request::GetArgs { .. } => Op::GetArgs,
            Request::Spawn { .. } => Op::Spawn,
            Request::Fork { .. } => Op::Fork,
            Request::Wait { .. } => Op::Wait,
            Request::Exit(_) => Op::Exit,
            Request::Kill { .. } => Op::Kill,
            Request::GetPid => Op::GetPid,
            Request::Interrupt => Op::Interrupt,
            Request::OpenAt { .. } => Op::OpenAt,
            Request::Pread { .. } => Op::Pread,
            Request::Lseek { .. } => Op::Lseek,
            Request::Fstat { .. } => Op::Fstat,
            Request::StatAt { .. } => Op::StatAt,
            Request::Getdents { .. } => Op::Getdents,
            Request::AccessAt { .. } => Op::AccessAt,
            Request::ReadlinkAt { .. } => Op::ReadlinkAt,
            Request::Chdir { .. } => Op::Chdir,
            Request::Getcwd { .. } => Op::Getcwd,
            Request::Exec { .. } => Op::Exec,
            Request::Vfork => Op::Vfork,
            Request::GetExe { .. } => Op::GetExe,
            Request::Pwrite { .. } => Op::Pwrite,
            Request::Ftruncate { .. } => Op::Ftruncate,
            Request::Fsync { .. } => Op::Fsync,
            Request::MkdirAt { .. } => Op::MkdirAt,
            Request::UnlinkAt { .. } => Op::UnlinkAt,
            Request::RenameAt { .. } => Op::RenameAt,
            Request::LinkAt { .. } => Op::LinkAt,
            Request::SymlinkAt { .. } => Op::SymlinkAt,
            Request::FchmodAt { .. } => Op::FchmodAt,
            Request::UtimensAt { .. } => Op::UtimensAt,
            Request::Poll { .. } => Op::Poll,
            Request::Setpgid { .. } => Op::Setpgid,
            Request::Getpgid { .. } => Op::Getpgid,
            Request::Setsid => Op::Setsid,
            Request::Getsid { .. } => Op::Getsid,
            Request::Stop { .. } => Op::Stop,
            Request::Tty { .. } => Op::Tty,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hdr(op: Op, flags: u32, args: [u64; 3]) -> ReqHeader {
        ReqHeader::new(op, flags, args)
    }

    #[test]
    fn exec_carries_the_umask_and_refuses_bits_beyond_it() {
        let r = Request::decode(&hdr(Op::Exec, 0, [0o077, 0, 0]), 40, 0).unwrap();
        assert_eq!(
            r,
            Request::Exec {
                len: 40,
                umask: 0o077
            }
        );
        assert_eq!(r.header(), hdr(Op::Exec, 0, [0o077, 0, 0]));
        assert_eq!(
            Request::decode(&hdr(Op::Exec, 0, [0o1000, 0, 0]), 40, 0),
            Err(DecodeError::BadArg(Op::Exec, 0o1000))
        );
    }

    #[test]
    fn write_takes_its_length_from_the_readable_payload() {
        let r = Request::decode(&hdr(Op::Write, REQ_F_NONBLOCK, [4, 0, 0]), 100, 0).unwrap();
        assert_eq!(
            r,
            Request::Write {
                fd: 4,
                len: 100,
                nonblock: true
            }
        );
    }

    #[test]
    fn read_takes_its_length_from_the_writable_payload() {
        let r = Request::decode(&hdr(Op::Read, 0, [0, 0, 0]), 0, 4096).unwrap();
        assert_eq!(
            r,
            Request::Read {
                fd: 0,
                len: 4096,
                nonblock: false
            }
        );
    }

    #[test]
    fn read_without_a_writable_payload_is_rejected() {
        let e = Request::decode(&hdr(Op::Read, 0, [0, 0, 0]), 0, 0).unwrap_err();
        assert_eq!(e, DecodeError::MissingWritablePayload(Op::Read));
        assert_eq!(e.errno(), Errno::Einval);
    }

    #[test]
    fn unknown_op_code_is_enosys() {
        let mut h = hdr(Op::Pipe, 0, [0; 3]);
        h.op.set(999);
        let e = Request::decode(&h, 0, 0).unwrap_err();
        assert_eq!(e, DecodeError::UnknownOp(999));
        assert_eq!(e.errno(), Errno::Enosys);
    }

    #[test]
    fn fd_beyond_i32_is_ebadf() {
        let e = Request::decode(&hdr(Op::Close, 0, [1 << 31, 0, 0]), 0, 0).unwrap_err();
        assert_eq!(e.errno(), Errno::Ebadf);
    }

    #[test]
    fn undefined_flag_bits_are_rejected() {
        let e = Request::decode(&hdr(Op::Close, 1, [3, 0, 0]), 0, 0).unwrap_err();
        assert_eq!(e, DecodeError::UnknownFlags(Op::Close, 1));
        let e = Request::decode(&hdr(Op::Pipe, 0, [0o1, 0, 0]), 0, 0).unwrap_err();
        assert!(matches!(e, DecodeError::UnknownFlags(Op::Pipe, _)));
    }

    #[test]
    fn payload_on_an_op_that_takes_none_is_rejected() {
        let e = Request::decode(&hdr(Op::GetPid, 0, [0; 3]), 8, 0).unwrap_err();
        assert_eq!(e, DecodeError::UnexpectedPayload(Op::GetPid, 8));
    }

    #[test]
    fn payload_length_beyond_32_bits_overflows() {
        let huge = (u32::MAX as usize) + 1;
        let e = Request::decode(&hdr(Op::Write, 0, [1, 0, 0]), huge, 0).unwrap_err();
        assert_eq!(e, DecodeError::LengthOverflow(huge));
    }

    fn wait_req(target: WaitTarget, nohang: bool) -> Request {
        Request::Wait {
            target,
            nohang,
            untraced: false,
            continued: false,
        }
    }

    #[test]
    fn wait_targets_any_a_pid_the_own_group_or_a_group() {
        let any = Request::decode(&hdr(Op::Wait, WAIT_F_NOHANG, [u64::MAX, 0, 0]), 0, 0).unwrap();
        assert_eq!(any, wait_req(WaitTarget::Any, true));
        let one = Request::decode(&hdr(Op::Wait, 0, [7, 0, 0]), 0, 0).unwrap();
        assert_eq!(one, wait_req(WaitTarget::Pid(7), false));
        let own = Request::decode(&hdr(Op::Wait, 0, [0, 0, 0]), 0, 0).unwrap();
        assert_eq!(own, wait_req(WaitTarget::OwnGroup, false));
        let group = Request::decode(&hdr(Op::Wait, 0, [(-5i64) as u64, 0, 0]), 0, 0).unwrap();
        assert_eq!(group, wait_req(WaitTarget::Group(5), false));
        let far = (-(u32::MAX as i64) - 1) as u64;
        assert_eq!(
            Request::decode(&hdr(Op::Wait, 0, [far, 0, 0]), 0, 0),
            Err(DecodeError::BadPid(far))
        );
        assert!(Request::decode(&hdr(Op::Wait, 0, [1 << 32, 0, 0]), 0, 0).is_err());
        let flags = WAIT_F_UNTRACED | WAIT_F_CONTINUED;
        let r = Request::decode(&hdr(Op::Wait, flags, [7, 0, 0]), 0, 0).unwrap();
        assert_eq!(
            r,
            Request::Wait {
                target: WaitTarget::Pid(7),
                nohang: false,
                untraced: true,
                continued: true
            }
        );
        assert!(Request::decode(&hdr(Op::Wait, 1 << 3, [7, 0, 0]), 0, 0).is_err());
    }

    #[test]
    fn group_ops_check_their_pids_and_stop_its_signal() {
        let r = Request::decode(&hdr(Op::Setpgid, 0, [0, 9, 0]), 0, 0).unwrap();
        assert_eq!(r, Request::Setpgid { pid: 0, pgid: 9 });
        assert_eq!(
            Request::decode(&hdr(Op::Setpgid, 0, [0, u64::MAX, 0]), 0, 0),
            Err(DecodeError::BadPid(u64::MAX))
        );
        assert_eq!(
            Request::decode(&hdr(Op::Getsid, 0, [1 << 32, 0, 0]), 0, 0)
                .unwrap_err()
                .errno(),
            Errno::Einval
        );
        for s in [19, 20, 21, 22] {
            assert_eq!(
                Request::decode(&hdr(Op::Stop, 0, [s, 0, 0]), 0, 0),
                Ok(Request::Stop { signo: s as u32 })
            );
        }
        for s in [0, 9, 18, 23] {
            assert_eq!(
                Request::decode(&hdr(Op::Stop, 0, [s, 0, 0]), 0, 0),
                Err(DecodeError::BadSignal(s))
            );
        }
    }

    #[test]
    fn exit_code_and_signal_are_range_checked() {
        let ok = Request::decode(&hdr(Op::Exit, 0, [42, 0, 0]), 0, 0).unwrap();
        assert_eq!(ok, Request::Exit(ExitKind::Code(42)));
        let sig = Request::decode(&hdr(Op::Exit, EXIT_F_SIGNALED, [0, 6, 0]), 0, 0).unwrap();
        assert_eq!(sig, Request::Exit(ExitKind::Signaled(6)));
        assert!(Request::decode(&hdr(Op::Exit, 0, [256, 0, 0]), 0, 0).is_err());
        assert!(Request::decode(&hdr(Op::Exit, EXIT_F_SIGNALED, [0, 0, 0]), 0, 0).is_err());
        assert!(Request::decode(&hdr(Op::Exit, EXIT_F_SIGNALED, [0, 64, 0]), 0, 0).is_err());
    }

    #[test]
    fn kill_targets_a_pid_a_group_or_everyone_and_rejects_large_signals() {
        assert!(Request::decode(&hdr(Op::Kill, 0, [2, 32, 0]), 0, 0).is_err());
        let ok = Request::decode(&hdr(Op::Kill, 0, [2, 0, 0]), 0, 0).unwrap();
        assert_eq!(
            ok,
            Request::Kill {
                target: KillTarget::Pid(2),
                signo: 0
            }
        );
        let cases = [
            (0u64, KillTarget::OwnGroup),
            (u64::MAX, KillTarget::All),
            ((-7i64) as u64, KillTarget::Group(7)),
        ];
        for (arg, target) in cases {
            let r = Request::decode(&hdr(Op::Kill, 0, [arg, 15, 0]), 0, 0).unwrap();
            assert_eq!(r, Request::Kill { target, signo: 15 });
            assert_eq!(r.header(), hdr(Op::Kill, 0, [arg, 15, 0]));
        }
        assert!(Request::decode(&hdr(Op::Kill, 0, [1 << 32, 9, 0]), 0, 0).is_err());
    }

    #[test]
    fn fork_mailbox_is_0_or_page_aligned() {
        let fork = |mailbox| Request::decode(&hdr(Op::Fork, 0, [0x20_0000, mailbox, 0]), 0, 0);
        assert_eq!(
            fork(0),
            Ok(Request::Fork {
                resume: 0x20_0000,
                mailbox: 0
            }),
            "0: no landing"
        );
        assert_eq!(
            fork(0x13_f000),
            Ok(Request::Fork {
                resume: 0x20_0000,
                mailbox: 0x13_f000
            })
        );
        for bad in [1, 8, 0x13_f008, 0xfff, u64::MAX] {
            let e = fork(bad).unwrap_err();
            assert_eq!(e, DecodeError::BadArg(Op::Fork, bad));
            assert_eq!(e.errno(), Errno::Einval);
        }
    }

    #[test]
    fn start_kinds_round_trip_through_ret0() {
        for k in [StartKind::Fresh, StartKind::Forked, StartKind::Land] {
            assert_eq!(StartKind::from_ret(k as u64), Some(k));
        }
        assert_eq!(StartKind::Land as u64, 2);
        assert_eq!(StartKind::from_ret(3), None);
        assert_eq!(&FORK_LANDED_MAGIC.to_le_bytes(), b"vppLAND\0");
    }

    #[test]
    fn header_is_the_inverse_of_decode() {
        let cases = [
            (Request::Pipe { flags: O_NONBLOCK }, 0, 0),
            (
                Request::Read {
                    fd: 3,
                    len: 64,
                    nonblock: true,
                },
                0,
                64,
            ),
            (
                Request::Write {
                    fd: 4,
                    len: 10,
                    nonblock: false,
                },
                10,
                0,
            ),
            (Request::Close { fd: 5 }, 0, 0),
            (Request::Dup { fd: 6 }, 0, 0),
            (Request::Dup2 { fd: 6, newfd: 1 }, 0, 0),
            (
                Request::SetFlags {
                    fd: 2,
                    flags: O_NONBLOCK,
                },
                0,
                0,
            ),
            (Request::GetFlags { fd: 2 }, 0, 0),
            (Request::Start, 0, 0),
            (Request::GetArgs { capacity: 128 }, 0, 128),
            (Request::Spawn { len: 40 }, 40, 0),
            (
                Request::Fork {
                    resume: 0x20_0000,
                    mailbox: 0,
                },
                0,
                0,
            ),
            (
                Request::Fork {
                    resume: 0x20_0000,
                    mailbox: 0x13_f000,
                },
                0,
                0,
            ),
            (wait_req(WaitTarget::Any, true), 0, 0),
            (wait_req(WaitTarget::Pid(9), false), 0, 0),
            (wait_req(WaitTarget::Group(4), false), 0, 0),
            (Request::Exit(ExitKind::Code(3)), 0, 0),
            (Request::Exit(ExitKind::Signaled(6)), 0, 0),
            (
                Request::Kill {
                    target: KillTarget::Pid(2),
                    signo: 15,
                },
                0,
                0,
            ),
            (Request::GetPid, 0, 0),
            (Request::Setpgid { pid: 3, pgid: 0 }, 0, 0),
            (Request::Getpgid { pid: 0 }, 0, 0),
            (Request::Setsid, 0, 0),
            (Request::Getsid { pid: 5 }, 0, 0),
            (Request::Stop { signo: 20 }, 0, 0),
            (Request::Interrupt, 0, 0),
        ];
        for (req, readable, writable) in cases {
            assert_eq!(
                Request::decode(&req.header(), readable, writable),
                Ok(req),
                "{req:?}"
            );
        }
    }

    #[test]
    fn every_op_decodes_from_a_well_formed_header() {
        for op in Op::ALL {
            let args = match op {
                Op::Wait | Op::Kill => [1, 0, 0],
                Op::Tty => [0, crate::tty::TCGETS as u64, 0],
                Op::Stop => [19, 0, 0],
                _ => [0, 0, 0],
            };
            let readable = match op {
                Op::Write
                | Op::Spawn
                | Op::Exec
                | Op::OpenAt
                | Op::StatAt
                | Op::AccessAt
                | Op::ReadlinkAt
                | Op::Chdir
                | Op::Pwrite
                | Op::MkdirAt
                | Op::UnlinkAt
                | Op::RenameAt
                | Op::LinkAt
                | Op::SymlinkAt
                | Op::FchmodAt => 16,
                Op::UtimensAt => TIMES_SIZE + 4,
                _ => 0,
            };
            let (args, readable, writable) = match op {
                Op::Poll => ([2, 0, 0], 2 * POLLFD_SIZE, 2 * POLLFD_SIZE),
                _ => (args, readable, 256),
            };
            let r = Request::decode(&hdr(op, 0, args), readable, writable).unwrap();
            assert_eq!(r.op(), op);
            // The header round-trips through `Request::header`.
            assert_eq!(
                Request::decode(&r.header(), readable, writable).unwrap(),
                r,
                "{op:?}"
            );
        }
    }

    #[test]
    fn write_side_ops_check_their_flags_modes_and_payloads() {
        let bad = |op, flags, args: [u64; 3], readable| {
            Request::decode(&hdr(op, flags, args), readable, 0).unwrap_err()
        };
        assert_eq!(
            bad(Op::UnlinkAt, 0, [0, 1, 0], 4),
            DecodeError::UnknownFlags(Op::UnlinkAt, 1)
        );
        assert_eq!(
            bad(Op::MkdirAt, 0, [0, 0o10000, 0], 4),
            DecodeError::BadArg(Op::MkdirAt, 0o10000)
        );
        let both = (RENAME_NOREPLACE | RENAME_EXCHANGE) as u64;
        assert!(matches!(
            bad(Op::RenameAt, 0, [0, 0, both], 8),
            DecodeError::UnknownFlags(..)
        ));
        assert_eq!(bad(Op::RenameAt, 0, [0; 3], 5), DecodeError::BadPath(5));
        assert_eq!(
            bad(Op::Pwrite, 0, [0, u64::MAX, 0], 4).errno(),
            Errno::Einval
        );
        assert_eq!(
            bad(Op::Ftruncate, 0, [0, u64::MAX, 0], 0).errno(),
            Errno::Einval
        );
        assert_eq!(
            bad(Op::Fsync, 2, [0; 3], 0),
            DecodeError::UnknownFlags(Op::Fsync, 2)
        );
        // UTIMENSAT: the two times, then a path (none only with AT_EMPTY_PATH).
        assert_eq!(
            bad(Op::UtimensAt, 0, [0; 3], TIMES_SIZE),
            DecodeError::BadPath(0)
        );
        assert!(Request::decode(
            &hdr(Op::UtimensAt, 0, [3, AT_EMPTY_PATH as u64, 0]),
            TIMES_SIZE,
            0
        )
        .is_ok());
        assert_eq!(
            bad(Op::FchmodAt, 0, [3, 0o644, 0], 0),
            DecodeError::BadPath(0),
            "a path, unless AT_EMPTY_PATH"
        );
        assert_eq!(
            Request::decode(&hdr(Op::Fsync, FSYNC_F_DATA, [4, 0, 0]), 0, 0),
            Ok(Request::Fsync {
                fd: 4,
                data_only: true
            })
        );
    }

    #[test]
    fn poll_checks_nfds_and_both_payload_lengths() {
        let h = |flags, nfds| hdr(Op::Poll, flags, [nfds, 0, 0]);
        assert_eq!(
            Request::decode(&h(REQ_F_NONBLOCK, 3), 24, 24),
            Ok(Request::Poll {
                nfds: 3,
                nonblock: true
            })
        );
        assert_eq!(
            Request::decode(&h(0, 0), 0, 0),
            Ok(Request::Poll {
                nfds: 0,
                nonblock: false
            }),
            "no fds: a wait that only INTERRUPT ends"
        );
        let max = POLL_MAX * POLLFD_SIZE;
        assert!(Request::decode(&h(0, POLL_MAX as u64), max, max).is_ok());
        let too_many = POLL_MAX as u64 + 1;
        assert_eq!(
            Request::decode(&h(0, too_many), max + 8, max + 8),
            Err(DecodeError::BadArg(Op::Poll, too_many))
        );
        assert_eq!(
            Request::decode(&h(0, u64::MAX), 0, 0).unwrap_err().errno(),
            Errno::Einval
        );
        for (r, w) in [(16, 24), (24, 16), (23, 24), (0, 24), (24, 0)] {
            let e = Request::decode(&h(0, 3), r, w).unwrap_err();
            assert_eq!(e, DecodeError::PayloadMismatch(Op::Poll, r, w));
            assert_eq!(e.errno(), Errno::Einval);
        }
        assert_eq!(
            Request::decode(&h(2, 1), 8, 8),
            Err(DecodeError::UnknownFlags(Op::Poll, 2))
        );
    }

    #[test]
    fn a_dirfd_is_at_fdcwd_or_an_fd() {
        let h = hdr(Op::OpenAt, 0, [AT_FDCWD as u64, 0, 0]);
        assert!(matches!(
            Request::decode(&h, 4, 0),
            Ok(Request::OpenAt {
                dirfd: Dirfd::Cwd,
                path_len: 4,
                ..
            })
        ));
        let h = hdr(Op::OpenAt, 0, [7, 0, 0]);
        assert!(matches!(
            Request::decode(&h, 4, 0),
            Ok(Request::OpenAt {
                dirfd: Dirfd::Fd(7),
                ..
            })
        ));
        let h = hdr(Op::OpenAt, 0, [(-5i64) as u64, 0, 0]);
        assert_eq!(
            Request::decode(&h, 4, 0),
            Err(DecodeError::BadFd((-5i64) as u64))
        );
    }

    #[test]
    fn paths_must_be_present_and_at_most_path_max() {
        let h = hdr(Op::StatAt, 0, [AT_FDCWD as u64, 0, 0]);
        assert_eq!(
            Request::decode(&h, 0, STAT_SIZE).unwrap_err().errno(),
            Errno::Enoent
        );
        assert_eq!(
            Request::decode(&h, PATH_MAX + 1, STAT_SIZE)
                .unwrap_err()
                .errno(),
            Errno::Enametoolong
        );
        let empty = hdr(Op::StatAt, 0, [3, AT_EMPTY_PATH as u64, 0]);
        assert!(
            Request::decode(&empty, 0, STAT_SIZE).is_ok(),
            "AT_EMPTY_PATH"
        );
        assert_eq!(
            Request::decode(&h, 4, STAT_SIZE - 1),
            Err(DecodeError::ShortWritablePayload(Op::StatAt, STAT_SIZE - 1))
        );
    }

    #[test]
    fn tty_checks_its_ioctl_and_payload_sizes_at_the_edge() {
        use crate::tty::*;
        let h = |n: u32| hdr(Op::Tty, 0, [0, n as u64, 0]);
        assert_eq!(
            Request::decode(&h(TCGETS), 0, TERMIOS_SIZE),
            Ok(Request::Tty {
                fd: 0,
                cmd: TtyCmd::GetAttr,
                arg: 0,
                nojobctl: false,
            })
        );
        assert_eq!(
            Request::decode(&h(TCGETS), 0, TERMIOS_SIZE - 1),
            Err(DecodeError::ShortWritablePayload(Op::Tty, TERMIOS_SIZE - 1))
        );
        assert_eq!(
            Request::decode(&h(TCSETSW), TERMIOS_SIZE, 0),
            Ok(Request::Tty {
                fd: 0,
                cmd: TtyCmd::SetAttr(SetWhen::Drain),
                arg: 0,
                nojobctl: false,
            })
        );
        for (n, len) in [(TCSETS, 35), (TCSETSF, 37), (TIOCSWINSZ, 4), (TIOCSPGRP, 8)] {
            let e = Request::decode(&h(n), len, 0).unwrap_err();
            assert_eq!(e, DecodeError::BadTtyPayload(n, len));
            assert_eq!(e.errno(), Errno::Einval);
        }
        assert_eq!(
            Request::decode(&h(TIOCGWINSZ), 0, 7).unwrap_err().errno(),
            Errno::Einval
        );
        assert_eq!(
            Request::decode(&h(TIOCNOTTY), 1, 0).unwrap_err().errno(),
            Errno::Einval,
            "TIOCNOTTY takes nothing"
        );
        let unknown = Request::decode(&h(0x5421), 0, 0).unwrap_err();
        assert_eq!(unknown, DecodeError::UnknownIoctl(0x5421));
        assert_eq!(unknown.errno(), Errno::Enotty);
        let ctty = Request::decode(&hdr(Op::Tty, 0, [2, TIOCSCTTY as u64, 1]), 0, 0).unwrap();
        assert_eq!(ctty.header(), hdr(Op::Tty, 0, [2, TIOCSCTTY as u64, 1]));
        assert_eq!(
            Request::decode(&hdr(Op::Tty, 0, [1 << 31, TCGETS as u64, 0]), 0, 36)
                .unwrap_err()
                .errno(),
            Errno::Ebadf
        );
        for (c, nojobctl) in TtyCmd::ALL
            .into_iter()
            .zip([false, true].into_iter().cycle())
        {
            let r = Request::Tty {
                fd: 1,
                cmd: c,
                arg: 0,
                nojobctl,
            };
            assert_eq!(
                Request::decode(&r.header(), c.readable(), c.writable()),
                Ok(r)
            );
        }
        let e = Request::decode(&hdr(Op::Tty, 2, [0, TCGETS as u64, 0]), 0, 36).unwrap_err();
        assert_eq!(e.errno(), Errno::Einval, "flag bit 1 is not defined");
    }

    #[test]
    fn open_flags_outside_the_set_and_access_mode_3_are_einval() {
        for fl in [3u64, 0o10000000, 1 << 40] {
            let h = hdr(Op::OpenAt, 0, [AT_FDCWD as u64, fl, 0]);
            assert_eq!(
                Request::decode(&h, 4, 0).unwrap_err().errno(),
                Errno::Einval,
                "{fl:#o}"
            );
        }
    }
}
