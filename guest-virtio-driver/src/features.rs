//! The feature bits this driver understands.

use bitflags::bitflags;
use virtio_pipe_protocol::{FEATURE_FORK, FEATURE_SIGNALS, FEATURE_SPAWN};

bitflags! {
    /// Feature bits the driver may accept: the transport-independent
    /// `VIRTIO_F_VERSION_1` and the virtio-pipe device bits.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Features: u64 {
        /// `VIRTIO_PIPE_F_FORK`.
        const FORK = 1 << FEATURE_FORK;
        /// `VIRTIO_PIPE_F_SPAWN`.
        const SPAWN = 1 << FEATURE_SPAWN;
        /// `VIRTIO_PIPE_F_SIGNALS`.
        const SIGNALS = 1 << FEATURE_SIGNALS;
        /// `VIRTIO_F_VERSION_1` (bit 32): the device is a virtio 1.x device.
        const VERSION_1 = 1 << 32;
    }
}

impl Features {
    /// Everything the driver accepts when offered.
    pub const SUPPORTED: Features = Features::VERSION_1
        .union(Features::FORK)
        .union(Features::SPAWN)
        .union(Features::SIGNALS);
}
