//! The virtio-pipe wire format, defined once.
//!
//! This `no_std` crate is the single source of truth for every byte that crosses
//! the virtqueues of a virtio-pipe device (see `spec/virtio-pipe.md`). The
//! vhost-user backend (`vhost-user-pipe`) and the guest driver
//! (`guest-virtio-driver`) both use it; no other crate defines a wire layout.
//!
//! Every layout struct is `#[repr(C)]`, little-endian, and named after the
//! spec's C name through `#[doc(alias = ...)]`.
//!
//! # Example
//!
//! A driver encodes a `WRITE` of 5 bytes to fd 1; the device parses it back.
//!
//! ```
//! use virtio_pipe_protocol::{Op, Request, ReqHeader};
//!
//! let hdr = ReqHeader::new(Op::Write, 0, [1, 0, 0]);
//! let bytes = hdr.as_bytes_le();
//! let parsed = ReqHeader::parse(&bytes).unwrap();
//! let req = Request::decode(&parsed, 5, 0).unwrap();
//! assert_eq!(req, Request::Write { fd: 1, len: 5, nonblock: false });
//! ```

#![cfg_attr(not(test), no_std)]

mod blob;
mod config;
mod errno;
mod event;
pub mod fs;
mod op;
pub mod poll;
mod request;
pub mod tty;
mod wire;

pub use blob::{
    ArgsBlob, BlobError, FileAction, SpawnBlob, StringTable, ARGS_MAX, FILE_ACTIONS_MAX,
    IMAGE_NAME_MAX, SPAWN_MAX,
};
pub use config::{
    ConfigSpace, DEVICE_ID, FEATURE_FORK, FEATURE_SIGNALS, FEATURE_SPAWN, MAGIC, QUEUE_EVENT,
    QUEUE_REQUEST, VERSION,
};
pub use errno::Errno;
pub use event::{Event, EventKind};
pub use fs::{ExecBlob, Stat, STAT_SIZE};
pub use op::Op;
pub use poll::{PollFd, POLLFD_SIZE, POLL_MAX};
pub use request::{
    ChdirTarget, DecodeError, Dirfd, ExitKind, KillTarget, Request, StartKind, WaitTarget,
    FORK_LANDED_MAGIC, FORK_MAILBOX_ALIGN,
};
pub use tty::{SetWhen, Termios, TtyCmd, Winsize};
pub use wire::{
    EventRaw, FileActionRaw, ReqHeader, RespHeader, SpawnHeader, WireError, EVENT_SIZE,
    FILE_ACTION_SIZE, REQ_HEADER_SIZE, RESP_HEADER_SIZE, SPAWN_HEADER_SIZE,
};

/// Bytes up to which a pipe write is atomic (POSIX `PIPE_BUF`). Spec: *Flow control*.
pub const PIPE_BUF: usize = 4096;

/// Default pipe capacity in bytes. Spec: *Flow control*.
pub const PIPE_CAPACITY_DEFAULT: usize = 64 * 1024;

/// Open-file status flag: the description does not block. Same value as Linux `O_NONBLOCK`.
pub const O_NONBLOCK: u32 = 0o4000;

/// `VIRTIO_PIPE_REQ_F_NONBLOCK`: this one request does not block, whatever the fd's flags.
pub const REQ_F_NONBLOCK: u32 = 1 << 0;

/// `VIRTIO_PIPE_WAIT_F_NOHANG`: `WAIT` returns at once when no child has changed state.
pub const WAIT_F_NOHANG: u32 = 1 << 0;

/// `VIRTIO_PIPE_WAIT_F_UNTRACED`: `WAIT` also reports a child that stopped.
pub const WAIT_F_UNTRACED: u32 = 1 << 1;

/// `VIRTIO_PIPE_WAIT_F_CONTINUED`: `WAIT` also reports a stopped child that was continued.
pub const WAIT_F_CONTINUED: u32 = 1 << 2;

/// `VIRTIO_PIPE_EXIT_F_SIGNALED`: `EXIT` reports death by a signal (`arg1`) rather than a code.
pub const EXIT_F_SIGNALED: u32 = 1 << 0;

/// Wait status as POSIX encodes it on Linux: exited with `code`.
pub const fn wait_status_exited(code: u8) -> u32 {
    (code as u32) << 8
}

/// Wait status as POSIX encodes it on Linux: killed by signal `signo`.
pub const fn wait_status_signaled(signo: u8) -> u32 {
    (signo as u32) & 0x7f
}

/// Wait status as POSIX encodes it on Linux: stopped by signal `signo`.
pub const fn wait_status_stopped(signo: u8) -> u32 {
    0x7f | (signo as u32) << 8
}

/// Wait status as POSIX encodes it on Linux: continued (`WIFCONTINUED`).
pub const WAIT_STATUS_CONTINUED: u32 = 0xffff;

/// Signal numbers the device knows by name (Linux numbering).
pub mod signal {
    /// Hangup.
    pub const SIGHUP: u32 = 1;
    /// Interrupt.
    pub const SIGINT: u32 = 2;
    /// Abort: what a guest panic reports.
    pub const SIGABRT: u32 = 6;
    /// Kill: cannot be caught; the device stops the VM itself.
    pub const SIGKILL: u32 = 9;
    /// User signal 1.
    pub const SIGUSR1: u32 = 10;
    /// Segmentation fault: what a guest CPU exception reports.
    pub const SIGSEGV: u32 = 11;
    /// User signal 2.
    pub const SIGUSR2: u32 = 12;
    /// Write to a pipe with no readers.
    pub const SIGPIPE: u32 = 13;
    /// Termination request.
    pub const SIGTERM: u32 = 15;
    /// Child stopped or exited.
    pub const SIGCHLD: u32 = 17;
    /// Continue.
    pub const SIGCONT: u32 = 18;
    /// Stop (cannot be caught).
    pub const SIGSTOP: u32 = 19;
    /// Stop from the terminal (Ctrl-Z).
    pub const SIGTSTP: u32 = 20;
    /// A background process read from its terminal.
    pub const SIGTTIN: u32 = 21;
    /// A background process wrote to its terminal.
    pub const SIGTTOU: u32 = 22;

    /// Whether `signo`'s default action is "stop" (`SIGSTOP`, `SIGTSTP`,
    /// `SIGTTIN`, `SIGTTOU`).
    pub const fn is_stop(signo: u32) -> bool {
        matches!(signo, SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU)
    }
    /// Highest signal number the device accepts.
    pub const SIG_MAX: u32 = 31;
}
