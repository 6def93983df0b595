//! The driver's error type.

use core::fmt;

use virtio_pipe_protocol::Errno;

/// What went wrong while bringing up or talking to a virtio-pipe device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DriverError {
    /// The virtio-drivers layer failed (queue full, DMA allocation, config space...).
    Virtio(virtio_drivers::Error),
    /// The config space does not hold the virtio-pipe magic and version: (magic, version).
    NotVirtioPipe(u32, u16),
    /// The device did not offer `VIRTIO_F_VERSION_1`: these are its feature bits.
    NoVersion1(u64),
    /// The device cleared `FEATURES_OK`: it refused the features we accepted.
    FeaturesRejected(u64),
    /// Every request slot is in flight or holds an untaken completion.
    NoFreeSlot,
    /// A request has this many non-empty payload buffers, more than
    /// [`crate::MAX_SEGMENTS`].
    TooManySegments(usize),
    /// `requestq` has too few free descriptors for the chain right now:
    /// (needed, free).
    QueueFull(usize, usize),
    /// The device returned a descriptor chain we never submitted (token).
    UnknownToken(u16),
    /// The device broke the queue protocol earlier and was reset; it is unusable.
    DeviceBroken,
    /// The device answered the request with an errno.
    Errno(Errno),
}

impl From<virtio_drivers::Error> for DriverError {
    fn from(e: virtio_drivers::Error) -> Self {
        DriverError::Virtio(e)
    }
}

impl From<Errno> for DriverError {
    fn from(e: Errno) -> Self {
        DriverError::Errno(e)
    }
}

impl DriverError {
    /// The errno a POSIX call reports for this failure (`EIO`-like cases map to `EFAULT`).
    pub fn errno(&self) -> Errno {
        match self {
            DriverError::Errno(e) => *e,
            DriverError::NoFreeSlot | DriverError::QueueFull(..) => Errno::Eagain,
            DriverError::TooManySegments(_) => Errno::Einval,
            _ => Errno::Efault,
        }
    }
}

impl fmt::Display for DriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DriverError::Virtio(e) => write!(f, "virtio: {e}"),
            DriverError::NotVirtioPipe(m, v) => {
                write!(f, "config magic {m:#x} version {v} is not virtio-pipe")
            }
            DriverError::NoVersion1(feat) => {
                write!(f, "device features {feat:#x} lack VIRTIO_F_VERSION_1")
            }
            DriverError::FeaturesRejected(feat) => {
                write!(f, "device refused features {feat:#x}")
            }
            DriverError::NoFreeSlot => write!(f, "all request slots are busy"),
            DriverError::TooManySegments(n) => write!(
                f,
                "{n} payload buffers in one request, more than {}",
                crate::MAX_SEGMENTS
            ),
            DriverError::QueueFull(needed, free) => {
                write!(f, "chain needs {needed} descriptors, {free} are free")
            }
            DriverError::UnknownToken(t) => write!(f, "device used unknown chain {t}"),
            DriverError::DeviceBroken => write!(f, "device was reset after a protocol error"),
            DriverError::Errno(e) => write!(f, "device answered {e}"),
        }
    }
}
