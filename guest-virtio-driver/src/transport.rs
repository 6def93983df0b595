//! Reaching the device: virtio-pipe is *carried* by a device ID that QEMU
//! already knows (vhost-user-gpio's 41), which virtio-drivers 0.13 does not
//! list in its `DeviceType`. Both transports here therefore report
//! [`STAND_IN_DEVICE_TYPE`] and the driver identifies the device by the
//! config magic alone.

use virtio_drivers::transport::DeviceType;

pub mod mmio;
pub mod pci;

/// Virtio device IDs that may carry virtio-pipe: vhost-user-gpio (41), and the
/// provisional ID itself (QEMU 10.2+ `vhost-user-device` passes any ID through).
pub const CARRIER_DEVICE_IDS: [u32; 2] = [41, virtio_pipe_protocol::DEVICE_ID];

/// What the transports report as `device_type()`: virtio-drivers has no
/// variant for the carrier IDs, and no code path looks at it for virtio-pipe.
pub const STAND_IN_DEVICE_TYPE: DeviceType = DeviceType::IoMemory;
