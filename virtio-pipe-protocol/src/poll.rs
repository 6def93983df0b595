//! `POLL`'s payload: an array of `virtio_pipe_pollfd`, the layout of
//! Linux's `struct pollfd`, and the event bits (Linux's values). Spec:
//! *POLL* (1.6.25).

use zerocopy::little_endian::{I32, U16};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// Most entries one `POLL` takes (Linux's default `RLIMIT_NOFILE`).
pub const POLL_MAX: usize = 1024;
/// Size of [`PollFd`] on the wire.
pub const POLLFD_SIZE: usize = 8;

/// Data to read.
pub const POLLIN: u16 = 0x001;
/// Urgent data to read (never reported by this device).
pub const POLLPRI: u16 = 0x002;
/// Room to write.
pub const POLLOUT: u16 = 0x004;
/// Error: a pipe's write end with no read end open.
pub const POLLERR: u16 = 0x008;
/// Hang-up: a pipe's read end with no write end open.
pub const POLLHUP: u16 = 0x010;
/// The fd is not open.
pub const POLLNVAL: u16 = 0x020;
/// Normal data to read (reported with `POLLIN`).
pub const POLLRDNORM: u16 = 0x040;
/// Priority-band data to read (never reported).
pub const POLLRDBAND: u16 = 0x080;
/// Room to write normal data (reported with `POLLOUT`).
pub const POLLWRNORM: u16 = 0x100;
/// Room to write priority-band data (never reported).
pub const POLLWRBAND: u16 = 0x200;

/// What the device reports whether asked or not (Linux: `POLLERR`,
/// `POLLHUP`, `POLLNVAL` are always reported).
pub const POLL_ALWAYS: u16 = POLLERR | POLLHUP | POLLNVAL;

/// One entry of a `POLL` payload (Linux's `struct pollfd`).
#[doc(alias = "virtio_pipe_pollfd")]
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct PollFd {
    /// The fd; a negative one is skipped (its `revents` is 0).
    pub fd: I32,
    /// The events asked for (`POLLIN`, `POLLOUT`, ...).
    pub events: U16,
    /// The events that happened: ignored in the readable payload, filled
    /// in the writable one.
    pub revents: U16,
}

impl PollFd {
    /// An entry asking `events` of `fd`.
    pub fn new(fd: i32, events: u16) -> Self {
        Self {
            fd: I32::new(fd),
            events: U16::new(events),
            revents: U16::ZERO,
        }
    }

    /// Parses `bytes` (a whole number of entries) into entries; `None`
    /// when the length is not a multiple of [`POLLFD_SIZE`].
    pub fn parse_all(bytes: &[u8]) -> Option<&[PollFd]> {
        <[PollFd]>::ref_from_bytes(bytes).ok()
    }

    /// The bytes of `entries`, as the payload carries them.
    pub fn encode_all(entries: &[PollFd]) -> &[u8] {
        entries.as_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pollfd_has_the_layout_of_linux_struct_pollfd() {
        assert_eq!(core::mem::size_of::<PollFd>(), POLLFD_SIZE);
        let e = PollFd {
            fd: I32::new(-2),
            events: U16::new(POLLIN | POLLOUT),
            revents: U16::new(POLLHUP),
        };
        let b = e.as_bytes();
        assert_eq!(b, &[0xfe, 0xff, 0xff, 0xff, 0x05, 0x00, 0x10, 0x00]);
        assert_eq!(PollFd::parse_all(b).unwrap(), &[e]);
        assert!(PollFd::parse_all(&b[..7]).is_none());
        assert_eq!(PollFd::encode_all(&[e, e]).len(), 16);
    }
}
