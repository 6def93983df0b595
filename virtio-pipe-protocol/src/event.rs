//! Events on `eventq`. Spec: *The event queue*.

use zerocopy::little_endian::{U32, U64};
use zerocopy::FromBytes;

use crate::signal::SIGCHLD;
use crate::wire::{EventRaw, WireError, EVENT_SIZE};

/// `VIRTIO_PIPE_EVT_*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum EventKind {
    /// `VIRTIO_PIPE_EVT_CHILD_EXIT`: a child ended; it is waitable now.
    ChildExit = 1,
    /// `VIRTIO_PIPE_EVT_SIGNAL`: a signal was sent to this process.
    Signal = 2,
    /// `VIRTIO_PIPE_EVT_CHILD_STATE`: a child stopped or was continued.
    ChildState = 3,
}

/// A decoded event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A child ended with this wait status.
    ChildExit { pid: u32, status: u32 },
    /// Signal `signo` from `sender` (0: the device itself, e.g. `SIGPIPE`).
    Signal { signo: u32, sender: u32 },
    /// A child stopped (status `0x7f | signo << 8`) or was continued
    /// (status `0xffff`).
    ChildState { pid: u32, status: u32 },
}

impl Event {
    /// The wire form.
    pub fn to_raw(self) -> EventRaw {
        match self {
            Event::ChildExit { pid, status } | Event::ChildState { pid, status } => EventRaw {
                kind: U32::new(match self {
                    Event::ChildExit { .. } => EventKind::ChildExit as u32,
                    _ => EventKind::ChildState as u32,
                }),
                signo: U32::new(SIGCHLD),
                pid: U64::new(pid as u64),
                status: U64::new(status as u64),
                reserved: U64::ZERO,
            },
            Event::Signal { signo, sender } => EventRaw {
                kind: U32::new(EventKind::Signal as u32),
                signo: U32::new(signo),
                pid: U64::new(sender as u64),
                status: U64::ZERO,
                reserved: U64::ZERO,
            },
        }
    }

    /// Encodes to bytes.
    pub fn to_bytes(self) -> [u8; EVENT_SIZE] {
        let mut out = [0u8; EVENT_SIZE];
        out.copy_from_slice(zerocopy::IntoBytes::as_bytes(&self.to_raw()));
        out
    }

    /// Parses an event; `Ok(None)` for an unknown kind, which drivers ignore.
    pub fn parse(bytes: &[u8]) -> Result<Option<Self>, WireError> {
        let (raw, _) = EventRaw::read_from_prefix(bytes)
            .map_err(|_| WireError::Short(EVENT_SIZE, bytes.len()))?;
        Ok(match raw.kind.get() {
            1 => Some(Event::ChildExit {
                pid: raw.pid.get() as u32,
                status: raw.status.get() as u32,
            }),
            2 => Some(Event::Signal {
                signo: raw.signo.get(),
                sender: raw.pid.get() as u32,
            }),
            3 => Some(Event::ChildState {
                pid: raw.pid.get() as u32,
                status: raw.status.get() as u32,
            }),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_exit_round_trips_and_names_sigchld() {
        let e = Event::ChildExit {
            pid: 5,
            status: crate::wait_status_exited(3),
        };
        let b = e.to_bytes();
        assert_eq!(u32::from_le_bytes([b[4], b[5], b[6], b[7]]), SIGCHLD);
        assert_eq!(Event::parse(&b), Ok(Some(e)));
    }

    #[test]
    fn child_state_round_trips_and_names_sigchld() {
        for status in [crate::wait_status_stopped(19), crate::WAIT_STATUS_CONTINUED] {
            let e = Event::ChildState { pid: 7, status };
            let b = e.to_bytes();
            assert_eq!(u32::from_le_bytes([b[0], b[1], b[2], b[3]]), 3);
            assert_eq!(u32::from_le_bytes([b[4], b[5], b[6], b[7]]), SIGCHLD);
            assert_eq!(Event::parse(&b), Ok(Some(e)));
        }
    }

    #[test]
    fn signal_round_trips() {
        let e = Event::Signal {
            signo: 13,
            sender: 0,
        };
        assert_eq!(Event::parse(&e.to_bytes()), Ok(Some(e)));
    }

    #[test]
    fn unknown_event_kind_is_ignored_and_short_is_rejected() {
        let mut b = Event::Signal {
            signo: 1,
            sender: 1,
        }
        .to_bytes();
        b[0] = 99;
        assert_eq!(Event::parse(&b), Ok(None));
        assert_eq!(Event::parse(&b[..31]), Err(WireError::Short(32, 31)));
    }
}
