//! What a `clone`, `clone3`, `fork` or `vfork` asks for, checked: a
//! process with a copy of the caller's RAM ([`CloneKind::Fork`]), or one
//! that borrows the caller's memory and VM until it execs or exits
//! ([`CloneKind::Vfork`]). Threads and the sharing flags that only make
//! sense inside one kernel (`CLONE_FILES`, `CLONE_FS`, `CLONE_SIGHAND`, a
//! bare `CLONE_VM`) are refused. Pure logic, unit-tested on the host.

use crate::linux::clone::*;
use crate::linux::sig::NSIG;
use crate::linux::{CloneArgs, Errno};

/// The two kinds of process creation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloneKind {
    /// A new VM on a copy of the caller's RAM (`FORK`).
    Fork,
    /// The child runs in the caller's VM and memory while the caller waits
    /// (`VFORK`).
    Vfork,
}

/// A checked request to create a process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CloneRequest {
    /// Fork or vfork.
    pub kind: CloneKind,
    /// The child's stack pointer, if not the caller's.
    pub stack: Option<u64>,
    /// `CLONE_SETTLS`: the child's FS base.
    pub tls: Option<u64>,
    /// `CLONE_PARENT_SETTID`: where the parent stores the child's pid.
    pub parent_settid: Option<u64>,
    /// `CLONE_CHILD_SETTID`: where the child stores its pid.
    pub child_settid: Option<u64>,
    /// `CLONE_CHILD_CLEARTID`: the child's `clear_child_tid`.
    pub child_cleartid: Option<u64>,
    /// `CLONE_CLEAR_SIGHAND`: handled signals start at their default.
    pub clear_sighand: bool,
}

/// Why a request is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloneError {
    /// Malformed (`EINVAL`).
    Invalid(&'static str),
    /// Something this kernel does not do (`ENOSYS`), named for the log.
    Unsupported(&'static str),
}

impl CloneError {
    /// The errno for the caller.
    pub fn errno(self) -> Errno {
        match self {
            CloneError::Invalid(_) => Errno::EINVAL,
            CloneError::Unsupported(_) => Errno::ENOSYS,
        }
    }
}

/// Flags that change nothing here: Linux ignores `CLONE_DETACHED`; no
/// tracer, no System V semaphores, no I/O contexts.
const HARMLESS: u64 = CLONE_DETACHED | CLONE_PTRACE | CLONE_UNTRACED | CLONE_SYSVSEM | CLONE_IO;
/// Flags this kernel carries out.
const SUPPORTED: u64 = CLONE_VM
    | CLONE_VFORK
    | CLONE_SETTLS
    | CLONE_PARENT_SETTID
    | CLONE_CHILD_SETTID
    | CLONE_CHILD_CLEARTID
    | CLONE_CLEAR_SIGHAND;

impl CloneRequest {
    /// `fork()`.
    pub const FORK: Self = Self {
        kind: CloneKind::Fork,
        stack: None,
        tls: None,
        parent_settid: None,
        child_settid: None,
        child_cleartid: None,
        clear_sighand: false,
    };

    /// `vfork()`.
    pub const VFORK: Self = Self {
        kind: CloneKind::Vfork,
        ..Self::FORK
    };

    /// `clone(flags, newsp, parent_tid, child_tid, tls)` (x86-64 order).
    pub fn from_clone(
        flags: u64,
        newsp: u64,
        parent_tid: u64,
        child_tid: u64,
        tls: u64,
    ) -> Result<Self, CloneError> {
        if flags & CLONE_CLEAR_SIGHAND != 0 || flags >> 32 != 0 {
            return Err(CloneError::Invalid("clone3-only flags"));
        }
        Self::check(
            flags & !CSIGNAL,
            flags & CSIGNAL,
            (newsp != 0).then_some(newsp),
            parent_tid,
            child_tid,
            tls,
        )
    }

    /// `clone3(args, size)`.
    pub fn from_clone3(a: &CloneArgs) -> Result<Self, CloneError> {
        if a.flags & CSIGNAL != 0 {
            return Err(CloneError::Invalid("CSIGNAL bits in clone3 flags"));
        }
        let stack = match (a.stack, a.stack_size) {
            (0, 0) => None,
            (0, _) | (_, 0) => return Err(CloneError::Invalid("stack without a size")),
            (lo, size) => Some(
                lo.checked_add(size)
                    .ok_or(CloneError::Invalid("stack wraps"))?,
            ),
        };
        Self::check(
            a.flags,
            a.exit_signal,
            stack,
            a.parent_tid,
            a.child_tid,
            a.tls,
        )
    }

    fn check(
        flags: u64,
        exit_signal: u64,
        stack: Option<u64>,
        parent_tid: u64,
        child_tid: u64,
        tls: u64,
    ) -> Result<Self, CloneError> {
        if exit_signal > u64::from(NSIG) {
            return Err(CloneError::Invalid("exit signal"));
        }
        if flags & CLONE_THREAD != 0 {
            return Err(CloneError::Unsupported("threads (CLONE_THREAD)"));
        }
        if flags & CLONE_SIGHAND != 0 {
            return Err(CloneError::Unsupported(
                "shared signal handlers (CLONE_SIGHAND)",
            ));
        }
        if flags & (CLONE_FILES | CLONE_FS) != 0 {
            return Err(CloneError::Unsupported(
                "an fd table or working directory shared with another process (CLONE_FILES, CLONE_FS)",
            ));
        }
        if flags & CLONE_NEW_ANY != 0 {
            return Err(CloneError::Unsupported("namespaces"));
        }
        if flags & CLONE_PIDFD != 0 {
            return Err(CloneError::Unsupported("pidfds (CLONE_PIDFD)"));
        }
        if flags & CLONE_PARENT != 0 {
            return Err(CloneError::Unsupported("CLONE_PARENT"));
        }
        if flags & CLONE_INTO_CGROUP != 0 {
            return Err(CloneError::Unsupported("cgroups (CLONE_INTO_CGROUP)"));
        }
        if flags & !(SUPPORTED | HARMLESS) != 0 {
            return Err(CloneError::Invalid("unknown flags"));
        }
        let kind = match (flags & CLONE_VM != 0, flags & CLONE_VFORK != 0) {
            (true, true) => CloneKind::Vfork,
            (true, false) => {
                return Err(CloneError::Unsupported(
                    "a process that shares the caller's memory without CLONE_VFORK",
                ))
            }
            // Without CLONE_VM the child has memory of its own: a fork
            // (CLONE_VFORK then only orders parent and child).
            (false, _) => CloneKind::Fork,
        };
        let opt = |on: u64, v: u64| (flags & on != 0).then_some(v);
        Ok(Self {
            kind,
            stack,
            tls: opt(CLONE_SETTLS, tls),
            parent_settid: opt(CLONE_PARENT_SETTID, parent_tid),
            child_settid: opt(CLONE_CHILD_SETTID, child_tid),
            child_cleartid: opt(CLONE_CHILD_CLEARTID, child_tid),
            clear_sighand: flags & CLONE_CLEAR_SIGHAND != 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linux::sig::SIGCHLD;

    /// What busybox `ash` forks with.
    const ASH_FORK: u64 = CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD as u64;
    /// What musl's and glibc's `posix_spawn` clone with.
    const SPAWN: u64 = CLONE_VM | CLONE_VFORK | SIGCHLD as u64;
    /// A child tid address.
    const CTID: u64 = 0x7fff_0000_1000;
    /// A child stack.
    const STACK: u64 = 0x7fff_0000_8000;

    #[test]
    fn ash_fork_is_a_fork_that_sets_and_clears_the_child_tid() {
        let r = CloneRequest::from_clone(ASH_FORK, 0, 0, CTID, 0).unwrap();
        assert_eq!(r.kind, CloneKind::Fork);
        assert_eq!(r.child_settid, Some(CTID));
        assert_eq!(r.child_cleartid, Some(CTID));
        assert_eq!((r.stack, r.parent_settid, r.tls), (None, None, None));
    }

    #[test]
    fn posix_spawn_clone_is_a_vfork_on_its_own_stack() {
        let r = CloneRequest::from_clone(SPAWN, STACK, 0, 0, 0).unwrap();
        assert_eq!(r.kind, CloneKind::Vfork);
        assert_eq!(r.stack, Some(STACK));
    }

    #[test]
    fn glibc_clone3_spawn_clears_handlers_and_tops_the_stack() {
        let a = CloneArgs {
            flags: CLONE_VM | CLONE_VFORK | CLONE_CLEAR_SIGHAND,
            exit_signal: u64::from(SIGCHLD),
            stack: STACK,
            stack_size: 0x9000,
            ..CloneArgs::default()
        };
        let r = CloneRequest::from_clone3(&a).unwrap();
        assert_eq!(r.kind, CloneKind::Vfork);
        assert_eq!(r.stack, Some(STACK + 0x9000));
        assert!(r.clear_sighand);
    }

    #[test]
    fn threads_and_shared_tables_are_unsupported() {
        for flags in [
            CLONE_VM | CLONE_THREAD | CLONE_SIGHAND,
            CLONE_VM,
            CLONE_FILES,
            CLONE_FS,
            CLONE_PIDFD,
            0x2000_0000, // CLONE_NEWPID
        ] {
            let e = CloneRequest::from_clone(flags, 0, 0, 0, 0).unwrap_err();
            assert_eq!(e.errno(), Errno::ENOSYS, "{flags:#x}");
        }
    }

    #[test]
    fn malformed_requests_are_einval() {
        let e = CloneRequest::from_clone(CLONE_CLEAR_SIGHAND, 0, 0, 0, 0).unwrap_err();
        assert_eq!(e.errno(), Errno::EINVAL);
        let bad_signal = CloneArgs {
            exit_signal: 65,
            ..CloneArgs::default()
        };
        assert!(CloneRequest::from_clone3(&bad_signal).is_err());
        let no_size = CloneArgs {
            stack: STACK,
            ..CloneArgs::default()
        };
        assert!(CloneRequest::from_clone3(&no_size).is_err());
        let csignal = CloneArgs {
            flags: u64::from(SIGCHLD),
            ..CloneArgs::default()
        };
        assert!(CloneRequest::from_clone3(&csignal).is_err());
    }

    #[test]
    fn settls_and_parent_settid_are_taken() {
        let flags = CLONE_SETTLS | CLONE_PARENT_SETTID | SIGCHLD as u64;
        let r = CloneRequest::from_clone(flags, 0, 0x5000, 0, 0x6000).unwrap();
        assert_eq!((r.tls, r.parent_settid), (Some(0x6000), Some(0x5000)));
    }
}
