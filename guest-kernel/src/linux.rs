//! The Linux x86-64 ABI as programs see it: errno values, signal numbers,
//! flag bits and the `#[repr(C)]` layouts the kernel reads from and writes
//! to user memory. Values are Linux's (`include/uapi/asm-generic/*.h`,
//! `arch/x86/include/uapi/asm/*.h`); names follow Linux's so that a reader
//! can grep for them. Pure data, unit-tested on the host.

use core::fmt;

/// A Linux errno value; a syscall returns `-errno` in `rax`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub i32);

macro_rules! errnos {
    ($($name:ident = $v:literal,)*) => {
        impl Errno {
            $(
                #[doc = concat!("`", stringify!($name), "`.")]
                pub const $name: Errno = Errno($v);
            )*

            /// The symbolic name, for log lines.
            pub fn name(self) -> &'static str {
                match self.0 {
                    $($v => stringify!($name),)*
                    _ => "E?",
                }
            }
        }
    };
}

errnos! {
    EPERM = 1,
    ENOENT = 2,
    ESRCH = 3,
    EINTR = 4,
    EIO = 5,
    E2BIG = 7,
    ENOEXEC = 8,
    EBADF = 9,
    ECHILD = 10,
    EAGAIN = 11,
    ENOMEM = 12,
    EACCES = 13,
    EFAULT = 14,
    EEXIST = 17,
    EXDEV = 18,
    ENODEV = 19,
    ENOTDIR = 20,
    EISDIR = 21,
    EINVAL = 22,
    ENFILE = 23,
    EMFILE = 24,
    ENOTTY = 25,
    ENOSPC = 28,
    ESPIPE = 29,
    EROFS = 30,
    EPIPE = 32,
    ERANGE = 34,
    ENAMETOOLONG = 36,
    ENOSYS = 38,
    ENOTEMPTY = 39,
    ELOOP = 40,
    EOVERFLOW = 75,
    EOPNOTSUPP = 95,
    ETIMEDOUT = 110,
    ERESTARTSYS = 512,
    ERESTARTNOHAND = 514,
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.0)
    }
}

impl From<virtio_pipe_protocol::Errno> for Errno {
    /// The device's errno values are Linux's (spec: *Error codes*).
    fn from(e: virtio_pipe_protocol::Errno) -> Self {
        Errno(e.code() as i32)
    }
}

/// What a syscall handler returns: the value for `rax`, or an errno.
pub type SysResult = Result<u64, Errno>;

/// The raw `rax` for a result: the value, or `-errno`.
pub fn sysret(r: SysResult) -> u64 {
    match r {
        Ok(v) => v,
        Err(e) => (-(e.0 as i64)) as u64,
    }
}

/// Signal numbers (`asm/signal.h`) and signal ABI constants.
pub mod sig {
    /// Hangup.
    pub const SIGHUP: u32 = 1;
    /// Interrupt.
    pub const SIGINT: u32 = 2;
    /// Quit.
    pub const SIGQUIT: u32 = 3;
    /// Illegal instruction.
    pub const SIGILL: u32 = 4;
    /// Trace trap.
    pub const SIGTRAP: u32 = 5;
    /// Abort.
    pub const SIGABRT: u32 = 6;
    /// Bus error.
    pub const SIGBUS: u32 = 7;
    /// Arithmetic exception.
    pub const SIGFPE: u32 = 8;
    /// Kill.
    pub const SIGKILL: u32 = 9;
    /// User signal 1.
    pub const SIGUSR1: u32 = 10;
    /// Segmentation fault.
    pub const SIGSEGV: u32 = 11;
    /// User signal 2.
    pub const SIGUSR2: u32 = 12;
    /// Broken pipe.
    pub const SIGPIPE: u32 = 13;
    /// Alarm clock.
    pub const SIGALRM: u32 = 14;
    /// Termination.
    pub const SIGTERM: u32 = 15;
    /// Stack fault (unused on x86).
    pub const SIGSTKFLT: u32 = 16;
    /// Child status changed.
    pub const SIGCHLD: u32 = 17;
    /// Continue.
    pub const SIGCONT: u32 = 18;
    /// Stop (cannot be caught).
    pub const SIGSTOP: u32 = 19;
    /// Terminal stop.
    pub const SIGTSTP: u32 = 20;
    /// Background read from tty.
    pub const SIGTTIN: u32 = 21;
    /// Background write to tty.
    pub const SIGTTOU: u32 = 22;
    /// Urgent socket condition.
    pub const SIGURG: u32 = 23;
    /// CPU limit.
    pub const SIGXCPU: u32 = 24;
    /// File size limit.
    pub const SIGXFSZ: u32 = 25;
    /// Virtual alarm.
    pub const SIGVTALRM: u32 = 26;
    /// Profiling alarm.
    pub const SIGPROF: u32 = 27;
    /// Window size change.
    pub const SIGWINCH: u32 = 28;
    /// I/O possible.
    pub const SIGIO: u32 = 29;
    /// Power failure.
    pub const SIGPWR: u32 = 30;
    /// Bad system call.
    pub const SIGSYS: u32 = 31;
    /// Highest signal number (`_NSIG`; real-time signals are 32..=64).
    pub const NSIG: u32 = 64;

    /// `SIG_DFL`.
    pub const SIG_DFL: u64 = 0;
    /// `SIG_IGN`.
    pub const SIG_IGN: u64 = 1;

    /// `SA_NOCLDSTOP`.
    pub const SA_NOCLDSTOP: u64 = 0x1;
    /// `SA_NOCLDWAIT`.
    pub const SA_NOCLDWAIT: u64 = 0x2;
    /// `SA_SIGINFO`.
    pub const SA_SIGINFO: u64 = 0x4;
    /// `SA_RESTORER`.
    pub const SA_RESTORER: u64 = 0x0400_0000;
    /// `SA_ONSTACK`.
    pub const SA_ONSTACK: u64 = 0x0800_0000;
    /// `SA_RESTART`.
    pub const SA_RESTART: u64 = 0x1000_0000;
    /// `SA_NODEFER`.
    pub const SA_NODEFER: u64 = 0x4000_0000;
    /// `SA_RESETHAND`.
    pub const SA_RESETHAND: u64 = 0x8000_0000;

    /// `SIG_BLOCK`.
    pub const SIG_BLOCK: u64 = 0;
    /// `SIG_UNBLOCK`.
    pub const SIG_UNBLOCK: u64 = 1;
    /// `SIG_SETMASK`.
    pub const SIG_SETMASK: u64 = 2;

    /// `SS_ONSTACK`.
    pub const SS_ONSTACK: i32 = 1;
    /// `SS_DISABLE`.
    pub const SS_DISABLE: i32 = 2;
    /// `SS_AUTODISARM`.
    pub const SS_AUTODISARM: i32 = 1 << 31;
    /// `MINSIGSTKSZ` (the legacy constant; also what `AT_MINSIGSTKSZ` says).
    pub const MINSIGSTKSZ: u64 = 2048;

    /// `si_code`: sent by `kill`.
    pub const SI_USER: i32 = 0;
    /// `si_code`: sent by the kernel.
    pub const SI_KERNEL: i32 = 0x80;
    /// `si_code`: sent by `tkill`/`tgkill`.
    pub const SI_TKILL: i32 = -6;
    /// `SEGV_MAPERR`: address not mapped.
    pub const SEGV_MAPERR: i32 = 1;
    /// `SEGV_ACCERR`: access not permitted.
    pub const SEGV_ACCERR: i32 = 2;
    /// `ILL_ILLOPN`: illegal operand.
    pub const ILL_ILLOPN: i32 = 2;
    /// `FPE_INTDIV`: integer divide by zero.
    pub const FPE_INTDIV: i32 = 1;
    /// `FPE_FLTINV`: floating-point invalid operation.
    pub const FPE_FLTINV: i32 = 7;
    /// `BUS_ADRALN`: invalid address alignment.
    pub const BUS_ADRALN: i32 = 1;
    /// `TRAP_BRKPT`: breakpoint.
    pub const TRAP_BRKPT: i32 = 1;
    /// `CLD_EXITED`.
    pub const CLD_EXITED: i32 = 1;
    /// `CLD_KILLED`.
    pub const CLD_KILLED: i32 = 2;
    /// `CLD_DUMPED`.
    pub const CLD_DUMPED: i32 = 3;
    /// `CLD_STOPPED`.
    pub const CLD_STOPPED: i32 = 5;
    /// `CLD_CONTINUED`.
    pub const CLD_CONTINUED: i32 = 6;

    /// The bit of `signo` in a `sigset_t`.
    pub const fn bit(signo: u32) -> u64 {
        1u64 << (signo - 1)
    }

    /// Whether `signo` is a valid signal number (1..=64).
    pub const fn valid(signo: u32) -> bool {
        signo >= 1 && signo <= NSIG
    }
}

/// `mmap`, `mprotect`, `mremap` and `madvise` bits (`asm-generic/mman*.h`).
pub mod mman {
    /// `PROT_READ`.
    pub const PROT_READ: u64 = 1;
    /// `PROT_WRITE`.
    pub const PROT_WRITE: u64 = 2;
    /// `PROT_EXEC`.
    pub const PROT_EXEC: u64 = 4;
    /// `PROT_GROWSDOWN`.
    pub const PROT_GROWSDOWN: u64 = 0x0100_0000;
    /// `PROT_GROWSUP`.
    pub const PROT_GROWSUP: u64 = 0x0200_0000;
    /// `MAP_SHARED`.
    pub const MAP_SHARED: u64 = 0x01;
    /// `MAP_PRIVATE`.
    pub const MAP_PRIVATE: u64 = 0x02;
    /// `MAP_SHARED_VALIDATE`.
    pub const MAP_SHARED_VALIDATE: u64 = 0x03;
    /// `MAP_TYPE` mask.
    pub const MAP_TYPE: u64 = 0x0f;
    /// `MAP_FIXED`.
    pub const MAP_FIXED: u64 = 0x10;
    /// `MAP_ANONYMOUS`.
    pub const MAP_ANONYMOUS: u64 = 0x20;
    /// `MAP_GROWSDOWN`.
    pub const MAP_GROWSDOWN: u64 = 0x0100;
    /// `MAP_NORESERVE`.
    pub const MAP_NORESERVE: u64 = 0x4000;
    /// `MAP_POPULATE`.
    pub const MAP_POPULATE: u64 = 0x8000;
    /// `MAP_STACK`.
    pub const MAP_STACK: u64 = 0x2_0000;
    /// `MAP_FIXED_NOREPLACE`.
    pub const MAP_FIXED_NOREPLACE: u64 = 0x10_0000;
    /// `MREMAP_MAYMOVE`.
    pub const MREMAP_MAYMOVE: u64 = 1;
    /// `MREMAP_FIXED`.
    pub const MREMAP_FIXED: u64 = 2;
    /// `MREMAP_DONTUNMAP`.
    pub const MREMAP_DONTUNMAP: u64 = 4;
    /// `MADV_DONTNEED`.
    pub const MADV_DONTNEED: u64 = 4;
    /// `MADV_FREE`.
    pub const MADV_FREE: u64 = 8;
    /// `MADV_REMOVE`.
    pub const MADV_REMOVE: u64 = 9;
}

/// `fcntl`, `open` and `pipe2` bits.
pub mod fcntl {
    /// `O_NONBLOCK`.
    pub const O_NONBLOCK: u64 = 0o4000;
    /// `O_CLOEXEC`.
    pub const O_CLOEXEC: u64 = 0o2_000_000;
    /// `O_DIRECT` (packet-mode pipes: not supported).
    pub const O_DIRECT: u64 = 0o40_000;
    /// `F_DUPFD`.
    pub const F_DUPFD: u64 = 0;
    /// `F_GETFD`.
    pub const F_GETFD: u64 = 1;
    /// `F_SETFD`.
    pub const F_SETFD: u64 = 2;
    /// `F_GETFL`.
    pub const F_GETFL: u64 = 3;
    /// `F_SETFL`.
    pub const F_SETFL: u64 = 4;
    /// `F_DUPFD_CLOEXEC`.
    pub const F_DUPFD_CLOEXEC: u64 = 1030;
    /// `F_GETLK`.
    pub const F_GETLK: u64 = 5;
    /// `F_SETLK`.
    pub const F_SETLK: u64 = 6;
    /// `F_SETLKW`.
    pub const F_SETLKW: u64 = 7;
    /// `F_OFD_GETLK`.
    pub const F_OFD_GETLK: u64 = 36;
    /// `F_OFD_SETLK`.
    pub const F_OFD_SETLK: u64 = 37;
    /// `F_OFD_SETLKW`.
    pub const F_OFD_SETLKW: u64 = 38;
    /// `F_UNLCK`.
    pub const F_UNLCK: i16 = 2;
    /// `O_APPEND`.
    pub const O_APPEND: u64 = 0o2000;
    /// `FD_CLOEXEC`.
    pub const FD_CLOEXEC: u64 = 1;
    /// `AT_FDCWD`.
    pub const AT_FDCWD: i64 = -100;
    /// `O_WRONLY`.
    pub const O_WRONLY: u64 = 1;
    /// `O_RDWR`.
    pub const O_RDWR: u64 = 2;
    /// `O_CREAT`.
    pub const O_CREAT: u64 = 0o100;
    /// `O_TRUNC`.
    pub const O_TRUNC: u64 = 0o1000;
    /// `O_DSYNC`.
    pub const O_DSYNC: u64 = 0o10_000;
    /// `O_ASYNC`.
    pub const O_ASYNC: u64 = 0o20_000;
    /// `O_DIRECTORY`.
    pub const O_DIRECTORY: u64 = 0o200_000;
    /// `O_NOATIME`.
    pub const O_NOATIME: u64 = 0o1_000_000;
    /// `__O_SYNC` (with `O_DSYNC`: `O_SYNC`).
    pub const O_SYNC_BIT: u64 = 0o4_000_000;
    /// `O_PATH`.
    pub const O_PATH: u64 = 0o10_000_000;
    /// `__O_TMPFILE` (with `O_DIRECTORY`: `O_TMPFILE`).
    pub const O_TMPFILE_BIT: u64 = 0o20_000_000;
    /// `AT_SYMLINK_NOFOLLOW`.
    pub const AT_SYMLINK_NOFOLLOW: u64 = 0x100;
    /// `AT_EACCESS`.
    pub const AT_EACCESS: u64 = 0x200;
    /// `AT_NO_AUTOMOUNT` (nothing is automounted: ignored).
    pub const AT_NO_AUTOMOUNT: u64 = 0x800;
    /// `AT_EMPTY_PATH`.
    pub const AT_EMPTY_PATH: u64 = 0x1000;
    /// `AT_STATX_SYNC_TYPE` (how fresh `statx` must be: ignored).
    pub const AT_STATX_SYNC_TYPE: u64 = 0x6000;

    /// What an `open` of the tree's root asks the device: the `OPENAT`
    /// flags, and whether the new fd is close-on-exec (the guest's
    /// bookkeeping). Flags that change nothing for a read-only root are
    /// dropped (`O_NOATIME`, the sync and async flags, `O_DIRECT`), as are
    /// bits Linux does not define (`open` ignores them); `O_PATH` opens
    /// for reading; `O_TMPFILE` is `EOPNOTSUPP`.
    pub fn open_request(flags: u64) -> Result<(u32, bool), super::Errno> {
        use virtio_pipe_protocol::fs::{OPEN_FLAGS, O_ACCMODE, O_RDONLY};
        if flags & O_TMPFILE_BIT != 0 {
            // An unnamed file needs the host's O_TMPFILE, which the
            // device does not offer: callers fall back to a named one.
            return Err(super::Errno::EOPNOTSUPP);
        }
        let cloexec = flags & O_CLOEXEC != 0;
        let mut f = flags as u32 & OPEN_FLAGS & !(O_CLOEXEC as u32);
        if flags & O_PATH != 0 {
            f = (f & !O_ACCMODE) | O_RDONLY;
        }
        Ok((f, cloexec))
    }
}

/// `ioctl` requests on terminals (`asm-generic/ioctls.h`): those the
/// device's `TTY` serves, and `FIONBIO`.
pub mod ioctl {
    pub use virtio_pipe_protocol::tty::{
        TCGETS, TCSETS, TCSETSF, TCSETSW, TIOCGPGRP, TIOCGWINSZ, TIOCNOTTY, TIOCSCTTY, TIOCSPGRP,
        TIOCSWINSZ,
    };
    /// `FIONBIO`.
    pub const FIONBIO: u32 = 0x5421;
}

/// `wait4`/`waitid` options and id types.
pub mod wait {
    /// `WNOHANG`.
    pub const WNOHANG: u64 = 1;
    /// `WUNTRACED` / `WSTOPPED`.
    pub const WUNTRACED: u64 = 2;
    /// `WEXITED`.
    pub const WEXITED: u64 = 4;
    /// `WCONTINUED`.
    pub const WCONTINUED: u64 = 8;
    /// `WNOWAIT`.
    pub const WNOWAIT: u64 = 0x0100_0000;
    /// `__WALL`.
    pub const WALL: u64 = 0x4000_0000;
    /// `__WCLONE`.
    pub const WCLONE: u64 = 0x8000_0000;
    /// `__WNOTHREAD`.
    pub const WNOTHREAD: u64 = 0x2000_0000;
    /// `P_ALL`.
    pub const P_ALL: u64 = 0;
    /// `P_PID`.
    pub const P_PID: u64 = 1;
    /// `P_PGID`.
    pub const P_PGID: u64 = 2;
}

/// `struct statx_timestamp`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatxTimestamp {
    /// Seconds.
    pub tv_sec: i64,
    /// Nanoseconds.
    pub tv_nsec: u32,
    /// Reserved, zero.
    pub reserved: i32,
}

/// `struct statx` (256 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Statx {
    /// Which fields are filled (`STATX_*`).
    pub stx_mask: u32,
    /// Preferred I/O size.
    pub stx_blksize: u32,
    /// `STATX_ATTR_*` flags.
    pub stx_attributes: u64,
    /// Hard links.
    pub stx_nlink: u32,
    /// Owner.
    pub stx_uid: u32,
    /// Group.
    pub stx_gid: u32,
    /// Type and permissions.
    pub stx_mode: u16,
    /// Padding.
    pub spare0: u16,
    /// Inode.
    pub stx_ino: u64,
    /// Size.
    pub stx_size: u64,
    /// 512-byte blocks.
    pub stx_blocks: u64,
    /// Which attribute flags are supported.
    pub stx_attributes_mask: u64,
    /// Access time.
    pub stx_atime: StatxTimestamp,
    /// Creation time (not filled).
    pub stx_btime: StatxTimestamp,
    /// Status change time.
    pub stx_ctime: StatxTimestamp,
    /// Modification time.
    pub stx_mtime: StatxTimestamp,
    /// Device number of a special file: major.
    pub stx_rdev_major: u32,
    /// Minor.
    pub stx_rdev_minor: u32,
    /// The file system's device: major.
    pub stx_dev_major: u32,
    /// Minor.
    pub stx_dev_minor: u32,
    /// Mount id (not filled).
    pub stx_mnt_id: u64,
    /// Direct I/O alignment (not filled).
    pub stx_dio_mem_align: u32,
    /// Direct I/O alignment (not filled).
    pub stx_dio_offset_align: u32,
    /// Reserved, zero.
    pub spare3: [u64; 12],
}

/// `STATX_BASIC_STATS`: what `struct stat` holds, and what `statx` fills.
pub const STATX_BASIC_STATS: u32 = 0x7ff;

/// Linux's `MAJOR` of a `dev_t`.
pub const fn dev_major(dev: u64) -> u32 {
    (((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff)) as u32
}

/// Linux's `MINOR` of a `dev_t`.
pub const fn dev_minor(dev: u64) -> u32 {
    ((dev & 0xff) | ((dev >> 12) & !0xff)) as u32
}

impl Statx {
    /// The `statx` of a file whose `struct stat` the device gave.
    pub fn from_stat(st: &virtio_pipe_protocol::Stat) -> Self {
        let ts = |sec: i64, nsec: i64| StatxTimestamp {
            tv_sec: sec,
            tv_nsec: nsec as u32,
            reserved: 0,
        };
        let (dev, rdev) = (st.dev.get(), st.rdev.get());
        Self {
            stx_mask: STATX_BASIC_STATS,
            stx_blksize: st.blksize.get() as u32,
            stx_nlink: st.nlink.get() as u32,
            stx_uid: st.uid.get(),
            stx_gid: st.gid.get(),
            stx_mode: st.mode.get() as u16,
            stx_ino: st.ino.get(),
            stx_size: st.size.get() as u64,
            stx_blocks: st.blocks.get() as u64,
            stx_atime: ts(st.atime.get(), st.atime_nsec.get()),
            stx_ctime: ts(st.ctime.get(), st.ctime_nsec.get()),
            stx_mtime: ts(st.mtime.get(), st.mtime_nsec.get()),
            stx_rdev_major: dev_major(rdev),
            stx_rdev_minor: dev_minor(rdev),
            stx_dev_major: dev_major(dev),
            stx_dev_minor: dev_minor(dev),
            ..Self::default()
        }
    }
}

/// `clone` and `clone3` flags.
pub mod clone {
    /// The exit signal (`clone` only; `clone3` has a field for it).
    pub const CSIGNAL: u64 = 0xff;
    /// Share the address space.
    pub const CLONE_VM: u64 = 0x100;
    /// Share the working directory and umask.
    pub const CLONE_FS: u64 = 0x200;
    /// Share the fd table.
    pub const CLONE_FILES: u64 = 0x400;
    /// Share signal handlers.
    pub const CLONE_SIGHAND: u64 = 0x800;
    /// Return a pidfd.
    pub const CLONE_PIDFD: u64 = 0x1000;
    /// Let a tracer trace the child too.
    pub const CLONE_PTRACE: u64 = 0x2000;
    /// Suspend the parent until the child execs or exits.
    pub const CLONE_VFORK: u64 = 0x4000;
    /// The child's parent is the caller's parent.
    pub const CLONE_PARENT: u64 = 0x8000;
    /// A thread of the caller's process.
    pub const CLONE_THREAD: u64 = 0x1_0000;
    /// New mount namespace (the lowest of the namespace flags).
    pub const CLONE_NEWNS: u64 = 0x2_0000;
    /// Share System V semaphore undo lists.
    pub const CLONE_SYSVSEM: u64 = 0x4_0000;
    /// The child's TLS (FS base).
    pub const CLONE_SETTLS: u64 = 0x8_0000;
    /// Store the child's tid in the parent's memory.
    pub const CLONE_PARENT_SETTID: u64 = 0x10_0000;
    /// Clear the child's tid in its memory when it exits.
    pub const CLONE_CHILD_CLEARTID: u64 = 0x20_0000;
    /// Ignored by Linux.
    pub const CLONE_DETACHED: u64 = 0x40_0000;
    /// A tracer may not force tracing.
    pub const CLONE_UNTRACED: u64 = 0x80_0000;
    /// Store the child's tid in the child's memory.
    pub const CLONE_CHILD_SETTID: u64 = 0x100_0000;
    /// The namespace flags (`CLONE_NEWCGROUP` .. `CLONE_NEWNET`) and
    /// `CLONE_NEWTIME` (0x80).
    pub const CLONE_NEW_ANY: u64 = 0x7e02_0080;
    /// Share the I/O context.
    pub const CLONE_IO: u64 = 0x8000_0000;
    /// `clone3`: reset handled signals to the default in the child.
    pub const CLONE_CLEAR_SIGHAND: u64 = 0x1_0000_0000;
    /// `clone3`: put the child in a cgroup.
    pub const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;
    /// Bytes of the first version of `struct clone_args`.
    pub const CLONE_ARGS_SIZE_VER0: u64 = 64;
}

/// `struct clone_args` of `clone3` (as far as the kernel reads it).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CloneArgs {
    /// Flags.
    pub flags: u64,
    /// `CLONE_PIDFD`: where the pidfd goes.
    pub pidfd: u64,
    /// `CLONE_CHILD_SETTID`/`CLONE_CHILD_CLEARTID` address.
    pub child_tid: u64,
    /// `CLONE_PARENT_SETTID` address.
    pub parent_tid: u64,
    /// The signal the parent gets when the child ends.
    pub exit_signal: u64,
    /// The lowest byte of the child's stack (0: the caller's).
    pub stack: u64,
    /// Its size.
    pub stack_size: u64,
    /// `CLONE_SETTLS`: the child's TLS.
    pub tls: u64,
}

/// `arch_prctl` codes.
pub mod arch_prctl {
    /// `ARCH_SET_GS`.
    pub const ARCH_SET_GS: u64 = 0x1001;
    /// `ARCH_SET_FS`.
    pub const ARCH_SET_FS: u64 = 0x1002;
    /// `ARCH_GET_FS`.
    pub const ARCH_GET_FS: u64 = 0x1003;
    /// `ARCH_GET_GS`.
    pub const ARCH_GET_GS: u64 = 0x1004;
}

/// `prctl` options.
pub mod prctl {
    /// `PR_SET_PDEATHSIG`.
    pub const PR_SET_PDEATHSIG: u64 = 1;
    /// `PR_GET_PDEATHSIG`.
    pub const PR_GET_PDEATHSIG: u64 = 2;
    /// `PR_GET_DUMPABLE`.
    pub const PR_GET_DUMPABLE: u64 = 3;
    /// `PR_SET_DUMPABLE`.
    pub const PR_SET_DUMPABLE: u64 = 4;
    /// `PR_SET_NAME`.
    pub const PR_SET_NAME: u64 = 15;
    /// `PR_GET_NAME`.
    pub const PR_GET_NAME: u64 = 16;
    /// `PR_SET_NO_NEW_PRIVS`.
    pub const PR_SET_NO_NEW_PRIVS: u64 = 38;
    /// `PR_GET_NO_NEW_PRIVS`.
    pub const PR_GET_NO_NEW_PRIVS: u64 = 39;
    /// `TASK_COMM_LEN`.
    pub const TASK_COMM_LEN: usize = 16;
}

/// Resource limits (`asm-generic/resource.h`).
pub mod rlimit {
    /// `RLIMIT_STACK`.
    pub const RLIMIT_STACK: u64 = 3;
    /// `RLIMIT_NOFILE`.
    pub const RLIMIT_NOFILE: u64 = 7;
    /// `RLIM_NLIMITS`.
    pub const RLIM_NLIMITS: u64 = 16;
    /// `RLIM_INFINITY`.
    pub const RLIM_INFINITY: u64 = u64::MAX;
}

/// Clock ids.
pub mod clock {
    /// `CLOCK_REALTIME`.
    pub const CLOCK_REALTIME: u64 = 0;
    /// `CLOCK_MONOTONIC`.
    pub const CLOCK_MONOTONIC: u64 = 1;
    /// `CLOCK_PROCESS_CPUTIME_ID`.
    pub const CLOCK_PROCESS_CPUTIME_ID: u64 = 2;
    /// `CLOCK_THREAD_CPUTIME_ID`.
    pub const CLOCK_THREAD_CPUTIME_ID: u64 = 3;
    /// `CLOCK_MONOTONIC_RAW`.
    pub const CLOCK_MONOTONIC_RAW: u64 = 4;
    /// `CLOCK_REALTIME_COARSE`.
    pub const CLOCK_REALTIME_COARSE: u64 = 5;
    /// `CLOCK_MONOTONIC_COARSE`.
    pub const CLOCK_MONOTONIC_COARSE: u64 = 6;
    /// `CLOCK_BOOTTIME`.
    pub const CLOCK_BOOTTIME: u64 = 7;
    /// `TIMER_ABSTIME`.
    pub const TIMER_ABSTIME: u64 = 1;
    /// `GRND_NONBLOCK`.
    pub const GRND_NONBLOCK: u64 = 1;
    /// `GRND_RANDOM`.
    pub const GRND_RANDOM: u64 = 2;
    /// `GRND_INSECURE`.
    pub const GRND_INSECURE: u64 = 4;
}

/// Auxiliary vector types (`uapi/linux/auxvec.h`, `asm/auxvec.h`).
pub mod auxv {
    /// End of the vector.
    pub const AT_NULL: u64 = 0;
    /// Program headers.
    pub const AT_PHDR: u64 = 3;
    /// Size of one program header.
    pub const AT_PHENT: u64 = 4;
    /// Number of program headers.
    pub const AT_PHNUM: u64 = 5;
    /// Page size.
    pub const AT_PAGESZ: u64 = 6;
    /// Interpreter base (0: none).
    pub const AT_BASE: u64 = 7;
    /// Flags (0).
    pub const AT_FLAGS: u64 = 8;
    /// Program entry.
    pub const AT_ENTRY: u64 = 9;
    /// Real uid.
    pub const AT_UID: u64 = 11;
    /// Effective uid.
    pub const AT_EUID: u64 = 12;
    /// Real gid.
    pub const AT_GID: u64 = 13;
    /// Effective gid.
    pub const AT_EGID: u64 = 14;
    /// Platform string.
    pub const AT_PLATFORM: u64 = 15;
    /// CPUID.1:EDX.
    pub const AT_HWCAP: u64 = 16;
    /// Clock ticks per second (`times`).
    pub const AT_CLKTCK: u64 = 17;
    /// Secure mode (setuid).
    pub const AT_SECURE: u64 = 23;
    /// 16 random bytes.
    pub const AT_RANDOM: u64 = 25;
    /// More hardware capabilities.
    pub const AT_HWCAP2: u64 = 26;
    /// The filename passed to exec.
    pub const AT_EXECFN: u64 = 31;
    /// The least signal stack size the kernel needs.
    pub const AT_MINSIGSTKSZ: u64 = 51;
}

/// `struct timespec`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timespec {
    /// Seconds.
    pub tv_sec: i64,
    /// Nanoseconds.
    pub tv_nsec: i64,
}

impl Timespec {
    /// From nanoseconds.
    pub fn from_ns(ns: u64) -> Self {
        Self {
            tv_sec: (ns / 1_000_000_000) as i64,
            tv_nsec: (ns % 1_000_000_000) as i64,
        }
    }

    /// To nanoseconds, or `None` if the value is not a valid timespec.
    pub fn to_ns(self) -> Option<u64> {
        if self.tv_sec < 0 || !(0..1_000_000_000).contains(&self.tv_nsec) {
            return None;
        }
        Some((self.tv_sec as u64).saturating_mul(1_000_000_000) + self.tv_nsec as u64)
    }
}

/// `struct timeval`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timeval {
    /// Seconds.
    pub tv_sec: i64,
    /// Microseconds.
    pub tv_usec: i64,
}

impl Timeval {
    /// From nanoseconds (rounded down to microseconds).
    pub fn from_ns(ns: u64) -> Self {
        Self {
            tv_sec: (ns / 1_000_000_000) as i64,
            tv_usec: ((ns % 1_000_000_000) / 1_000) as i64,
        }
    }

    /// To nanoseconds, or `None` if the value is not a valid timeval.
    pub fn to_ns(self) -> Option<u64> {
        if self.tv_sec < 0 || !(0..1_000_000).contains(&self.tv_usec) {
            return None;
        }
        Some((self.tv_sec as u64).saturating_mul(1_000_000_000) + self.tv_usec as u64 * 1_000)
    }
}

/// `struct itimerval` (`setitimer`, `getitimer`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Itimerval {
    /// The period after each expiry (zero: one shot).
    pub it_interval: Timeval,
    /// The time until the next expiry (zero: disarmed).
    pub it_value: Timeval,
}

/// `ITIMER_REAL`: the interval timer that counts real time (`SIGALRM`).
pub const ITIMER_REAL: u64 = 0;

/// `struct iovec`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Iovec {
    /// Base address.
    pub iov_base: u64,
    /// Length.
    pub iov_len: u64,
}

/// `linux_dirent64` records (the device's) as the old `getdents`'s
/// `linux_dirent`: `d_ino`, `d_off`, `d_reclen`, the name and its NUL,
/// padding, and `d_type` in the record's last byte. Both round
/// `20 + name length` up to 8, so each record keeps its length.
pub fn dirents_to_old(new: &[u8]) -> alloc::vec::Vec<u8> {
    let mut out = alloc::vec::Vec::with_capacity(new.len());
    for d in virtio_pipe_protocol::fs::dirents(new) {
        let len = virtio_pipe_protocol::fs::dirent_len(d.name.len());
        let at = out.len();
        out.resize(at + len, 0);
        let rec = &mut out[at..];
        rec[0..8].copy_from_slice(&d.ino.to_le_bytes());
        rec[8..16].copy_from_slice(&d.off.to_le_bytes());
        rec[16..18].copy_from_slice(&(len as u16).to_le_bytes());
        rec[18..18 + d.name.len()].copy_from_slice(d.name);
        rec[len - 1] = d.kind;
    }
    out
}

/// The kernel's `struct termios` (36 bytes) and `struct winsize` (8
/// bytes), as the device's `TTY` carries them: defined once, in the
/// protocol crate.
pub use virtio_pipe_protocol::tty::{Termios, Winsize};

/// `struct pollfd`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Pollfd {
    /// The fd.
    pub fd: i32,
    /// Requested events.
    pub events: i16,
    /// Returned events.
    pub revents: i16,
}

/// `struct sysinfo` (112 bytes on x86-64).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sysinfo {
    /// Seconds since boot.
    pub uptime: i64,
    /// Load averages (1, 5, 15 minutes, fixed point).
    pub loads: [u64; 3],
    /// RAM, in `mem_unit`s.
    pub totalram: u64,
    /// Free RAM.
    pub freeram: u64,
    /// Shared RAM.
    pub sharedram: u64,
    /// Buffers.
    pub bufferram: u64,
    /// Swap.
    pub totalswap: u64,
    /// Free swap.
    pub freeswap: u64,
    /// Processes.
    pub procs: u16,
    /// Padding.
    pub pad: [u16; 3],
    /// High memory.
    pub totalhigh: u64,
    /// Free high memory.
    pub freehigh: u64,
    /// Bytes per unit of the RAM fields.
    pub mem_unit: u32,
    /// Padding.
    pub pad2: u32,
}

/// `struct rlimit` (and `rlimit64`: the same on x86-64).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rlimit {
    /// Soft limit.
    pub rlim_cur: u64,
    /// Hard limit.
    pub rlim_max: u64,
}

/// `struct new_utsname`: six 65-byte fields.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Utsname {
    /// `sysname`.
    pub sysname: [u8; 65],
    /// `nodename`.
    pub nodename: [u8; 65],
    /// `release`.
    pub release: [u8; 65],
    /// `version`.
    pub version: [u8; 65],
    /// `machine`.
    pub machine: [u8; 65],
    /// `domainname`.
    pub domainname: [u8; 65],
}

/// `struct kernel_sigaction` as `rt_sigaction` takes it on x86-64.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KernelSigaction {
    /// `sa_handler` / `sa_sigaction`.
    pub handler: u64,
    /// `sa_flags`.
    pub flags: u64,
    /// `sa_restorer`.
    pub restorer: u64,
    /// `sa_mask`.
    pub mask: u64,
}

/// `stack_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StackT {
    /// `ss_sp`.
    pub ss_sp: u64,
    /// `ss_flags`.
    pub ss_flags: i32,
    /// Padding.
    pub _pad: i32,
    /// `ss_size`.
    pub ss_size: u64,
}

/// `struct sigcontext` (x86-64, `asm/sigcontext.h`): 256 bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sigcontext {
    pub r8: u64,
    pub r9: u64,
    pub r10: u64,
    pub r11: u64,
    pub r12: u64,
    pub r13: u64,
    pub r14: u64,
    pub r15: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rbp: u64,
    pub rbx: u64,
    pub rdx: u64,
    pub rax: u64,
    pub rcx: u64,
    pub rsp: u64,
    pub rip: u64,
    pub eflags: u64,
    pub cs: u16,
    pub gs: u16,
    pub fs: u16,
    pub ss: u16,
    pub err: u64,
    pub trapno: u64,
    pub oldmask: u64,
    pub cr2: u64,
    /// User address of the FPU state (`struct _fpstate`, the `fxsave` image).
    pub fpstate: u64,
    pub reserved1: [u64; 8],
}

/// `struct ucontext` as the kernel writes it (`asm/ucontext.h`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ucontext {
    /// `uc_flags`.
    pub uc_flags: u64,
    /// `uc_link`.
    pub uc_link: u64,
    /// `uc_stack`.
    pub uc_stack: StackT,
    /// `uc_mcontext`.
    pub uc_mcontext: Sigcontext,
    /// `uc_sigmask` (the kernel's 64-bit `sigset_t`).
    pub uc_sigmask: u64,
}

/// `UC_SIGCONTEXT_SS`: `sigcontext.ss` is meaningful.
pub const UC_SIGCONTEXT_SS: u64 = 2;
/// `UC_STRICT_RESTORE_SS`: `rt_sigreturn` restores `ss` as saved.
pub const UC_STRICT_RESTORE_SS: u64 = 4;

/// `siginfo_t`: 128 bytes. The union is laid out by hand: every field this
/// kernel fills sits at Linux's offset (`si_pid`/`si_addr` at 16, `si_uid`
/// at 20, `si_status` at 24).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Siginfo {
    /// `si_signo`.
    pub si_signo: i32,
    /// `si_errno`.
    pub si_errno: i32,
    /// `si_code`.
    pub si_code: i32,
    /// Padding before the union.
    pub _pad: i32,
    /// The union (`_kill`, `_sigchld`, `_sigfault`, ...).
    pub fields: [u64; 14],
}

impl Siginfo {
    /// A signal sent by a process (`kill`): `si_pid`, `si_uid`.
    pub fn kill(signo: u32, code: i32, pid: u32, uid: u32) -> Self {
        let mut s = Self {
            si_signo: signo as i32,
            si_code: code,
            ..Self::default()
        };
        s.fields[0] = u64::from(pid) | (u64::from(uid) << 32);
        s
    }

    /// A fault: `si_addr`.
    pub fn fault(signo: u32, code: i32, addr: u64) -> Self {
        let mut s = Self {
            si_signo: signo as i32,
            si_code: code,
            ..Self::default()
        };
        s.fields[0] = addr;
        s
    }

    /// A child's state change: `si_pid`, `si_uid`, `si_status`.
    pub fn child(code: i32, pid: u32, status: i32) -> Self {
        let mut s = Self::kill(sig::SIGCHLD, code, pid, 0);
        s.fields[1] = status as u32 as u64;
        s
    }

    /// `si_pid` (for `kill`-like and child infos).
    pub fn pid(&self) -> u32 {
        self.fields[0] as u32
    }

    /// `si_status` (child infos).
    pub fn status(&self) -> i32 {
        self.fields[1] as u32 as i32
    }
}

/// The start of the frame the kernel pushes for a handler
/// (`struct rt_sigframe`, `arch/x86/include/asm/sigframe.h`):
/// the return address (`sa_restorer`), the `ucontext`, the `siginfo`.
/// The FPU state sits above it, 64-byte aligned.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RtSigframe {
    /// Where the handler returns: `sa_restorer`.
    pub pretcode: u64,
    /// The interrupted context.
    pub uc: Ucontext,
    /// The signal's information.
    pub info: Siginfo,
}

/// Bytes of the `fxsave` image (`struct _fpstate` without extended state).
pub const FXSAVE_SIZE: usize = 512;

#[cfg(test)]
mod tests {
    use core::mem::{offset_of, size_of};

    use super::*;

    #[test]
    fn sigcontext_and_ucontext_have_linux_sizes_and_offsets() {
        assert_eq!(size_of::<Sigcontext>(), 256);
        assert_eq!(offset_of!(Sigcontext, rip), 128);
        assert_eq!(offset_of!(Sigcontext, cs), 144);
        assert_eq!(offset_of!(Sigcontext, fpstate), 184);
        assert_eq!(offset_of!(Ucontext, uc_mcontext), 40);
        assert_eq!(offset_of!(Ucontext, uc_sigmask), 296);
        assert_eq!(size_of::<Ucontext>(), 304);
    }

    #[test]
    fn siginfo_and_sigframe_have_linux_sizes() {
        assert_eq!(size_of::<Siginfo>(), 128);
        assert_eq!(offset_of!(RtSigframe, uc), 8);
        assert_eq!(offset_of!(RtSigframe, info), 312);
        assert_eq!(size_of::<RtSigframe>(), 440);
    }

    #[test]
    fn siginfo_fields_sit_at_linux_offsets() {
        let s = Siginfo::child(sig::CLD_EXITED, 7, 3);
        let bytes: [u8; 128] = bytes_of(&s);
        assert_eq!(i32::from_le_bytes(bytes[0..4].try_into().unwrap()), 17);
        assert_eq!(u32::from_le_bytes(bytes[16..20].try_into().unwrap()), 7);
        assert_eq!(i32::from_le_bytes(bytes[24..28].try_into().unwrap()), 3);
    }

    fn bytes_of(s: &Siginfo) -> [u8; 128] {
        let mut out = [0u8; 128];
        out[0..4].copy_from_slice(&s.si_signo.to_le_bytes());
        out[4..8].copy_from_slice(&s.si_errno.to_le_bytes());
        out[8..12].copy_from_slice(&s.si_code.to_le_bytes());
        for (i, f) in s.fields.iter().enumerate() {
            out[16 + i * 8..24 + i * 8].copy_from_slice(&f.to_le_bytes());
        }
        out
    }

    #[test]
    fn utsname_and_small_structs_have_linux_sizes() {
        assert_eq!(size_of::<Utsname>(), 390);
        assert_eq!(size_of::<KernelSigaction>(), 32);
        assert_eq!(size_of::<StackT>(), 24);
        assert_eq!(size_of::<Pollfd>(), 8);
        assert_eq!(size_of::<Termios>(), 36);
        assert_eq!(size_of::<Winsize>(), 8);
    }

    #[test]
    fn old_dirents_keep_each_records_length_and_put_the_type_last() {
        use virtio_pipe_protocol::fs::{put_dirent, DT_DIR, DT_REG};
        let mut new = [0u8; 96];
        let a = put_dirent(&mut new, 7, 1, DT_DIR, b".").unwrap();
        let b = put_dirent(&mut new[a..], 9, 2, DT_REG, b"hello.txt").unwrap();
        let old = dirents_to_old(&new[..a + b]);
        assert_eq!(old.len(), a + b);
        assert_eq!(u64::from_le_bytes(old[0..8].try_into().unwrap()), 7);
        assert_eq!(u16::from_le_bytes([old[16], old[17]]) as usize, a);
        assert_eq!(&old[18..20], b".\0");
        assert_eq!(old[a - 1], DT_DIR);
        let r = &old[a..];
        assert_eq!(u64::from_le_bytes(r[8..16].try_into().unwrap()), 2);
        assert_eq!(&r[18..28], b"hello.txt\0");
        assert_eq!(r[b - 1], DT_REG);
        assert_eq!(size_of::<Winsize>(), 8);
        assert_eq!(size_of::<Timespec>(), 16);
        assert_eq!(size_of::<Sysinfo>(), 112);
        assert_eq!(core::mem::offset_of!(Sysinfo, mem_unit), 104);
    }

    #[test]
    fn statx_has_the_linux_layout_and_takes_the_stat_fields() {
        use core::mem::offset_of;
        use virtio_pipe_protocol::Stat;
        use zerocopy::little_endian::{I64, U32, U64};
        assert_eq!(size_of::<Statx>(), 256);
        assert_eq!(offset_of!(Statx, stx_mode), 28);
        assert_eq!(offset_of!(Statx, stx_ino), 32);
        assert_eq!(offset_of!(Statx, stx_atime), 64);
        assert_eq!(offset_of!(Statx, stx_mtime), 112);
        assert_eq!(offset_of!(Statx, stx_rdev_major), 128);
        assert_eq!(offset_of!(Statx, stx_mnt_id), 144);
        let st = Stat {
            dev: U64::new(0x0803),
            ino: U64::new(42),
            nlink: U64::new(2),
            mode: U32::new(0o100755),
            size: I64::new(1234),
            blksize: I64::new(4096),
            blocks: I64::new(8),
            mtime: I64::new(1_700_000_000),
            mtime_nsec: I64::new(5),
            ..Stat::default()
        };
        let x = Statx::from_stat(&st);
        assert_eq!(x.stx_mask, STATX_BASIC_STATS);
        assert_eq!((x.stx_mode, x.stx_ino, x.stx_size), (0o100755, 42, 1234));
        assert_eq!((x.stx_dev_major, x.stx_dev_minor), (8, 3));
        assert_eq!(
            (x.stx_mtime.tv_sec, x.stx_mtime.tv_nsec),
            (1_700_000_000, 5)
        );
    }

    #[test]
    fn open_flags_keep_what_the_device_knows_and_take_cloexec_out() {
        use fcntl::*;
        assert_eq!(open_request(O_CLOEXEC | O_DIRECTORY), Ok((0o200_000, true)));
        assert_eq!(
            open_request(O_NOATIME | O_DSYNC | O_SYNC_BIT),
            Ok((0, false))
        );
        assert_eq!(open_request(O_PATH | O_RDWR), Ok((0, false)));
        assert_eq!(
            open_request(O_WRONLY | O_CREAT | O_TRUNC),
            Ok((0o1101, false))
        );
        assert_eq!(
            open_request(O_TMPFILE_BIT | O_DIRECTORY | O_RDWR),
            Err(Errno::EOPNOTSUPP)
        );
    }

    #[test]
    fn errors_become_negative_rax() {
        assert_eq!(sysret(Err(Errno::ENOSYS)) as i64, -38);
        assert_eq!(sysret(Ok(5)), 5);
        assert_eq!(Errno::EPIPE.name(), "EPIPE");
    }

    #[test]
    fn timespec_rejects_bad_nanoseconds() {
        assert_eq!(
            Timespec {
                tv_sec: 1,
                tv_nsec: 5
            }
            .to_ns(),
            Some(1_000_000_005)
        );
        assert_eq!(
            Timespec {
                tv_sec: 0,
                tv_nsec: 1_000_000_000
            }
            .to_ns(),
            None
        );
        assert_eq!(
            Timespec {
                tv_sec: -1,
                tv_nsec: 0
            }
            .to_ns(),
            None
        );
    }
}
