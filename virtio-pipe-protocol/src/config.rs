//! Device identity, virtqueues, feature bits and the configuration layout.
//! Spec: *Device ID*, *Virtqueues*, *Feature bits*, *Device configuration layout*.

use zerocopy::little_endian::{U16, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// Provisional virtio device ID, taken from 65535 downward as the virtio
/// specification advises for experimental devices.
pub const DEVICE_ID: u32 = 65535;

/// `VIRTIO_PIPE_MAGIC`: the bytes `"pipe"` read as a little-endian 32-bit value.
pub const MAGIC: u32 = u32::from_le_bytes(*b"pipe");

/// `VIRTIO_PIPE_VERSION`: the protocol version this crate speaks.
pub const VERSION: u16 = 1;

/// Index of `requestq`: driver-to-device requests.
pub const QUEUE_REQUEST: u16 = 0;
/// Index of `eventq`: device-to-driver events (child exit, signals).
pub const QUEUE_EVENT: u16 = 1;

/// `VIRTIO_PIPE_F_FORK` (bit 0): the device implements `FORK`.
pub const FEATURE_FORK: u32 = 0;
/// `VIRTIO_PIPE_F_SPAWN` (bit 1): the device implements `SPAWN`.
pub const FEATURE_SPAWN: u32 = 1;
/// `VIRTIO_PIPE_F_SIGNALS` (bit 2): the device sends `SIGNAL` events on `eventq`.
pub const FEATURE_SIGNALS: u32 = 2;

/// The device configuration layout: 8 bytes, so it fits the config space of
/// every carrier (`vhost-user-gpio` has 8 bytes, `vhost-user-snd` 12).
#[doc(alias = "virtio_pipe_config")]
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct ConfigSpace {
    /// Always [`MAGIC`].
    pub magic: U32,
    /// Always [`VERSION`].
    pub version: U16,
    /// Reserved, zero.
    pub reserved: U16,
}

impl ConfigSpace {
    /// Size of the layout in bytes.
    pub const SIZE: usize = 8;

    /// The configuration a conforming device exposes.
    pub fn current() -> Self {
        Self {
            magic: U32::new(MAGIC),
            version: U16::new(VERSION),
            reserved: U16::ZERO,
        }
    }

    /// Parses the first [`Self::SIZE`] bytes of a config space, or `None` if shorter.
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        Self::read_from_prefix(bytes).ok().map(|(c, _)| c)
    }

    /// The encoded bytes.
    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut out = [0u8; Self::SIZE];
        out.copy_from_slice(self.as_bytes());
        out
    }

    /// Whether this is a virtio-pipe device this crate can drive.
    pub fn is_virtio_pipe(&self) -> bool {
        self.magic.get() == MAGIC && self.version.get() == VERSION
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_space_is_eight_bytes_to_fit_the_gpio_carrier() {
        assert_eq!(core::mem::size_of::<ConfigSpace>(), ConfigSpace::SIZE);
    }

    #[test]
    fn current_config_encodes_magic_then_version() {
        let c = ConfigSpace::current();
        assert_eq!(c.as_bytes(), &[b'p', b'i', b'p', b'e', 1, 0, 0, 0]);
        assert!(ConfigSpace::parse(c.as_bytes()).unwrap().is_virtio_pipe());
    }

    #[test]
    fn short_config_is_rejected() {
        assert_eq!(ConfigSpace::parse(b"pip"), None);
    }

    #[test]
    fn gpio_config_is_not_mistaken_for_virtio_pipe() {
        // A real virtio-gpio config: ngpio = 8, gpio_names_size = 0.
        let gpio = [8u8, 0, 0, 0, 0, 0, 0, 0];
        assert!(!ConfigSpace::parse(&gpio).unwrap().is_virtio_pipe());
    }
}
