//! Device glue: the virtio `Hal`, PCI configuration access, transport
//! discovery for the virtio-pipe device, and the debug-exit poweroff.
//! Copied from the unikernel (`unikernel/src/drivers`) with the `Hal`
//! reshaped for a kernel that is not identity-mapped.

pub mod debug_exit;
pub mod hal;
pub mod pci_cam;
pub mod pipe;
pub mod transport;
