//! The process this VM runs: its address space, signal state, the per-fd
//! flags the guest keeps itself, its ids, and the calls that go to the
//! device ([`device`]). [`deliver`] turns device events and CPU faults
//! into signals and delivers them on the way back to user mode. Creating
//! processes and replacing programs: [`clone`] (what is asked), [`fork`],
//! [`vfork`] (a child that borrows this VM: the process then is the
//! child, its parents suspended), [`exec`].
//!
//! The process lives on the kernel heap ([`CURRENT`] holds only a
//! pointer), so that a fork child, whose RAM is a copy of its parent's,
//! finds it again.

#[cfg(not(test))]
pub mod alarm;
pub mod clone;
#[cfg(not(test))]
pub mod deliver;
#[cfg(not(test))]
pub mod device;
#[cfg(not(test))]
pub mod exec;
pub mod fdflags;
#[cfg(not(test))]
pub mod fork;
#[cfg(not(test))]
pub mod jobctl;
pub mod signals;
#[cfg(not(test))]
pub mod vfork;

#[cfg(not(test))]
pub use kernel::*;

#[cfg(not(test))]
mod kernel {
    use alloc::boxed::Box;
    use alloc::vec::Vec;

    use spinning_top::{Spinlock, SpinlockGuard};

    use super::fdflags::FdFlags;
    use super::signals::SignalState;
    use crate::mem::address_space::AddressSpace;

    /// The process.
    #[derive(Debug)]
    pub struct Process {
        /// Our pid in the tree (from the device's `GETPID`).
        pub pid: u32,
        /// The parent's pid.
        pub ppid: u32,
        /// Memory.
        pub space: AddressSpace,
        /// Signals.
        pub signals: SignalState,
        /// `FD_CLOEXEC`, kept in the guest until the device has it.
        pub fd_flags: FdFlags,
        /// `prctl(PR_SET_NAME)`.
        pub comm: [u8; 16],
        /// `umask`.
        pub umask: u32,
        /// `set_tid_address`.
        pub clear_child_tid: u64,
        /// `set_robust_list`: (head, length).
        pub robust_list: (u64, u64),
        /// The CPU's MXCSR_MASK, for `rt_sigreturn`.
        pub mxcsr_mask: u32,
        /// Log every syscall (`kernel.strace`).
        pub strace: bool,
        /// The address of the last user page fault, for the signal frame.
        pub fault_addr: u64,
        /// The program's path (`AT_EXECFN`).
        pub exe: Vec<u8>,
        /// Parents suspended by `vfork` while their child borrows this VM,
        /// outermost first (`vfork`).
        pub vfork_parents: Vec<super::vfork::Suspended>,
        /// The syscall a signal interrupted (`ERESTARTSYS` or
        /// `ERESTARTNOHAND` in `rax`): delivery restarts it or makes it
        /// `EINTR` (`deliver::restart_or_eintr`).
        pub restart: Option<u64>,
    }

    impl Process {
        /// A process with an empty address space.
        pub fn new(pid: u32, ppid: u32) -> Self {
            Self {
                pid,
                ppid,
                space: AddressSpace::new(),
                signals: SignalState::default(),
                fd_flags: FdFlags::default(),
                comm: [0; 16],
                umask: 0o022,
                clear_child_tid: 0,
                robust_list: (0, 0),
                mxcsr_mask: 0xffbf,
                strace: false,
                fault_addr: 0,
                exe: Vec::new(),
                vfork_parents: Vec::new(),
                restart: None,
            }
        }
    }

    /// The current process (a heap pointer: see the module docs).
    pub static CURRENT: Spinlock<Option<Box<Process>>> = Spinlock::new(None);

    /// Installs the process. Call once at boot.
    pub fn install(p: Process) {
        *CURRENT.lock() = Some(Box::new(p));
    }

    /// Locks the current process. Held by one syscall or one entry from
    /// user mode at a time; never taken by ring-0 interrupts.
    pub fn current() -> SpinlockGuard<'static, Option<Box<Process>>> {
        CURRENT.lock()
    }

    /// Takes the process lock even if a dying context holds it.
    pub fn force_unlock() {
        if CURRENT.is_locked() {
            // SAFETY: only on the way to powering off from a panic or a
            // kernel fault; the interrupted holder never resumes.
            unsafe { CURRENT.force_unlock() };
        }
    }
}
