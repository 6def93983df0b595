//! The Linux x86-64 system-call ABI: one table from syscall number to
//! handler, handlers named as Linux names them, one file per family
//! ([`fs`]: fds and pipes, [`file`](mod@file): the tree's files and the working
//! directory, [`tree`]: writing them and changing their names,
//! [`poll`]: waiting on several fds, [`process`], [`groups`]: process
//! groups and sessions, [`signal`], [`memory`], [`time`], [`misc`]).
//!
//! Calling convention (as Linux): the number in `rax`, arguments in
//! `rdi, rsi, rdx, r10, r8, r9`, the result in `rax` (`-errno` on
//! failure); `rcx` and `r11` are clobbered by `syscall` itself, every
//! other register is preserved (the entry saves them all, FPU included).
//! Each handler takes the raw arguments and parses them into typed values
//! at its top. A number with no handler gets `-ENOSYS` and one log line
//! naming the call, in [`dispatch`] only.
//!
//! ```ignore
//! // In the table:  0 => fs::read,
//! pub fn read(cx: &mut Ctx<'_>, a: Args) -> SysResult {
//!     let (fd, buf, count) = (fd(a[0])?, a[1], a[2] as usize);
//!     ...
//! }
//! ```

pub mod names;

pub mod fdset;
#[cfg(not(test))]
pub mod file;
#[cfg(not(test))]
pub mod fs;
#[cfg(not(test))]
pub mod groups;
#[cfg(not(test))]
pub mod memory;
#[cfg(not(test))]
pub mod misc;
#[cfg(not(test))]
pub mod poll;
#[cfg(not(test))]
pub mod process;
#[cfg(not(test))]
pub mod signal;
#[cfg(not(test))]
pub mod time;
#[cfg(not(test))]
pub mod tree;

/// The raw arguments of a syscall.
pub type Args = [u64; 6];

macro_rules! syscall_table {
    ($($nr:literal => $family:ident :: $name:ident,)*) => {
        /// Every implemented syscall as (number, handler name), in table order.
        pub const IMPLEMENTED: &[(u64, &str, &str)] =
            &[$(($nr, stringify!($family), stringify!($name)),)*];

        /// The handler of syscall `nr`.
        #[cfg(not(test))]
        fn handler(nr: u64) -> Option<Handler> {
            match nr {
                $($nr => Some($family::$name as Handler),)*
                _ => None,
            }
        }
    };
}

syscall_table! {
    0 => fs::read,
    1 => fs::write,
    2 => file::open,
    3 => fs::close,
    4 => file::stat,
    5 => file::fstat,
    6 => file::lstat,
    7 => poll::poll,
    8 => file::lseek,
    9 => memory::mmap,
    10 => memory::mprotect,
    11 => memory::munmap,
    12 => memory::brk,
    13 => signal::rt_sigaction,
    14 => signal::rt_sigprocmask,
    15 => signal::rt_sigreturn,
    16 => fs::ioctl,
    17 => file::pread64,
    18 => tree::pwrite64,
    19 => fs::readv,
    20 => fs::writev,
    21 => file::access,
    22 => fs::pipe,
    23 => poll::select,
    24 => misc::sched_yield,
    25 => memory::mremap,
    28 => memory::madvise,
    32 => fs::dup,
    33 => fs::dup2,
    34 => signal::pause,
    35 => time::nanosleep,
    36 => time::getitimer,
    37 => time::alarm,
    38 => time::setitimer,
    39 => process::getpid,
    40 => fs::sendfile,
    56 => process::clone,
    57 => process::fork,
    58 => process::vfork,
    59 => process::execve,
    60 => process::exit,
    61 => process::wait4,
    62 => signal::kill,
    63 => misc::uname,
    72 => fs::fcntl,
    73 => tree::flock,
    74 => tree::fsync,
    75 => tree::fdatasync,
    76 => tree::truncate,
    77 => tree::ftruncate,
    78 => file::getdents,
    79 => file::getcwd,
    80 => file::chdir,
    81 => file::fchdir,
    82 => tree::rename,
    83 => tree::mkdir,
    84 => tree::rmdir,
    85 => file::creat,
    86 => tree::link,
    87 => tree::unlink,
    88 => tree::symlink,
    89 => file::readlink,
    90 => tree::chmod,
    91 => tree::fchmod,
    92 => tree::chown,
    93 => tree::fchown,
    94 => tree::lchown,
    95 => misc::umask,
    96 => time::gettimeofday,
    97 => misc::getrlimit,
    99 => misc::sysinfo,
    102 => misc::getuid,
    104 => misc::getgid,
    107 => misc::geteuid,
    108 => misc::getegid,
    109 => groups::setpgid,
    110 => process::getppid,
    111 => groups::getpgrp,
    112 => groups::setsid,
    115 => misc::getgroups,
    121 => groups::getpgid,
    124 => groups::getsid,
    127 => signal::rt_sigpending,
    128 => signal::rt_sigtimedwait,
    129 => signal::rt_sigqueueinfo,
    130 => signal::rt_sigsuspend,
    131 => signal::sigaltstack,
    132 => tree::utime,
    133 => tree::mknod,
    157 => misc::prctl,
    158 => misc::arch_prctl,
    162 => tree::sync,
    186 => process::gettid,
    200 => signal::tkill,
    201 => time::time,
    202 => process::futex,
    204 => misc::sched_getaffinity,
    217 => file::getdents64,
    218 => process::set_tid_address,
    228 => time::clock_gettime,
    229 => time::clock_getres,
    230 => time::clock_nanosleep,
    231 => process::exit_group,
    234 => signal::tgkill,
    235 => tree::utimes,
    247 => process::waitid,
    257 => file::openat,
    258 => tree::mkdirat,
    259 => tree::mknodat,
    260 => tree::fchownat,
    261 => tree::futimesat,
    262 => file::newfstatat,
    263 => tree::unlinkat,
    264 => tree::renameat,
    265 => tree::linkat,
    266 => tree::symlinkat,
    267 => file::readlinkat,
    268 => tree::fchmodat,
    269 => file::faccessat,
    270 => poll::pselect6,
    271 => poll::ppoll,
    273 => process::set_robust_list,
    280 => tree::utimensat,
    285 => tree::fallocate,
    292 => fs::dup3,
    293 => fs::pipe2,
    302 => misc::prlimit64,
    306 => tree::syncfs,
    316 => tree::renameat2,
    318 => misc::getrandom,
    326 => tree::copy_file_range,
    332 => file::statx,
    334 => misc::rseq,
    435 => process::clone3,
    439 => file::faccessat2,
    452 => tree::fchmodat2,
}

#[cfg(not(test))]
pub use kernel::*;

#[cfg(not(test))]
mod kernel {
    use super::{handler, names, Args};
    use crate::arch::x86_64::frame::TrapFrame;
    use crate::linux::{sysret, Errno, SysResult};
    use crate::process::Process;

    /// What a handler works on: the process and the caller's registers.
    #[derive(Debug)]
    pub struct Ctx<'a> {
        /// The process.
        pub p: &'a mut Process,
        /// The caller's saved registers (`rt_sigreturn` rewrites them).
        pub f: &'a mut TrapFrame,
    }

    /// A syscall handler.
    pub type Handler = fn(&mut Ctx<'_>, Args) -> SysResult;

    /// The log target of the ENOSYS lines.
    const LOG: &str = "guest_kernel::syscalls";
    /// The log target of `kernel.strace` lines.
    const STRACE: &str = "strace";

    /// Runs the syscall in `f` (number in `rax`) and leaves the result in `rax`.
    pub fn dispatch(p: &mut Process, f: &mut TrapFrame) {
        let nr = f.rax;
        let args = f.syscall_args();
        let name = names::name(nr);
        if p.strace && matches!(nr, names::EXIT | names::EXIT_GROUP) {
            log::info!(target: STRACE, "{}({}) = ?", name.unwrap_or("?"), args[0] as i32);
        }
        let result = match handler(nr) {
            Some(h) => h(
                &mut Ctx {
                    p: &mut *p,
                    f: &mut *f,
                },
                args,
            ),
            None => {
                match name {
                    Some(name) => log::info!(
                        target: LOG,
                        "pid {}: syscall {name} ({nr}) is not implemented: ENOSYS",
                        p.pid
                    ),
                    None => log::info!(target: LOG, "pid {}: unknown syscall {nr}: ENOSYS", p.pid),
                }
                Err(Errno::ENOSYS)
            }
        };
        if p.strace {
            let (name, [a0, a1, a2, ..]) = (name.unwrap_or("?"), args);
            match result {
                Ok(v) => {
                    log::info!(target: STRACE, "{name}({a0:#x}, {a1:#x}, {a2:#x}, ...) = {v:#x}")
                }
                Err(e) => {
                    log::info!(target: STRACE, "{name}({a0:#x}, {a1:#x}, {a2:#x}, ...) = -{e}")
                }
            }
        }
        // A blocking call that a signal cut short restarts after a handler
        // with `SA_RESTART` (signal(7)); delivery decides.
        let result = match result {
            Err(Errno::EINTR) if restarts_after_handler(nr) => Err(Errno::ERESTARTSYS),
            r => r,
        };
        if matches!(result, Err(Errno::ERESTARTSYS | Errno::ERESTARTNOHAND)) {
            p.restart = Some(nr);
        }
        if nr != names::RT_SIGRETURN {
            f.rax = sysret(result);
        }
    }

    /// The calls that a handler installed with `SA_RESTART` restarts when
    /// a signal interrupted them (signal(7), "Interruption of system calls
    /// and library functions by signal handlers"): those of them that can
    /// block here.
    fn restarts_after_handler(nr: u64) -> bool {
        matches!(
            nr,
            names::READ
                | names::WRITE
                | names::READV
                | names::WRITEV
                | names::WAIT4
                | names::WAITID
                | names::SENDFILE
                | names::COPY_FILE_RANGE
        )
    }

    /// Parses an fd argument (an `int`).
    pub fn fd(raw: u64) -> Result<u32, Errno> {
        u32::try_from(raw as i32).map_err(|_| Errno::EBADF)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_handler_is_named_as_linux_names_its_number() {
        for &(nr, _, name) in IMPLEMENTED {
            assert_eq!(names::name(nr), Some(name), "syscall {nr}");
        }
    }

    #[test]
    fn numbers_are_unique_and_in_order() {
        for w in IMPLEMENTED.windows(2) {
            assert!(w[0].0 < w[1].0, "{:?} before {:?}", w[0], w[1]);
        }
    }

    #[test]
    fn families_are_the_documented_files() {
        for &(_, family, name) in IMPLEMENTED {
            assert!(
                [
                    "fs", "file", "tree", "poll", "process", "groups", "signal", "memory", "time",
                    "misc"
                ]
                .contains(&family),
                "{name} in {family}"
            );
        }
    }

    #[test]
    fn phase_one_calls_are_all_in_the_table() {
        let required = [
            "read",
            "write",
            "readv",
            "writev",
            "pipe",
            "pipe2",
            "dup",
            "dup2",
            "dup3",
            "close",
            "fcntl",
            "wait4",
            "waitid",
            "exit",
            "exit_group",
            "kill",
            "getpid",
            "getppid",
            "brk",
            "mmap",
            "munmap",
            "mprotect",
            "mremap",
            "madvise",
            "clock_gettime",
            "gettimeofday",
            "time",
            "nanosleep",
            "clock_nanosleep",
            "uname",
            "getuid",
            "geteuid",
            "getgid",
            "getegid",
            "getgroups",
            "prlimit64",
            "getrlimit",
            "set_tid_address",
            "set_robust_list",
            "rseq",
            "getrandom",
            "sched_yield",
            "sched_getaffinity",
            "arch_prctl",
            "rt_sigaction",
            "rt_sigprocmask",
            "rt_sigreturn",
            "sigaltstack",
            "ioctl",
            "poll",
            "getcwd",
            "prctl",
            "umask",
        ];
        for name in required {
            assert!(
                IMPLEMENTED.iter().any(|&(_, _, n)| n == name),
                "{name} missing"
            );
        }
    }

    /// The calls issue 14 (files) names, all in the table.
    #[test]
    fn file_calls_are_all_in_the_table() {
        let required = [
            "open",
            "openat",
            "creat",
            "write",
            "pwrite64",
            "ftruncate",
            "truncate",
            "fsync",
            "fdatasync",
            "mkdir",
            "mkdirat",
            "rmdir",
            "unlink",
            "unlinkat",
            "rename",
            "renameat",
            "renameat2",
            "link",
            "linkat",
            "symlink",
            "symlinkat",
            "readlink",
            "readlinkat",
            "chmod",
            "fchmod",
            "fchmodat",
            "utimensat",
            "umask",
            "sendfile",
            "copy_file_range",
            "chdir",
            "fchdir",
            "getcwd",
        ];
        for name in required {
            assert!(
                IMPLEMENTED.iter().any(|&(_, _, n)| n == name),
                "{name} missing"
            );
        }
    }

    /// The calls issue 15 names for process groups and sessions.
    #[test]
    fn group_calls_are_all_in_the_table() {
        for name in [
            "setpgid", "getpgid", "getpgrp", "setsid", "getsid", "kill", "wait4",
        ] {
            assert!(
                IMPLEMENTED.iter().any(|&(_, _, n)| n == name),
                "{name} missing"
            );
        }
    }

    #[test]
    fn unknown_numbers_have_no_entry() {
        assert!(!IMPLEMENTED.iter().any(|&(nr, _, _)| nr == 999));
        assert_eq!(names::name(999), None);
    }
}
