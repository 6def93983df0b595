//! Guest driver for the virtio-pipe device.
//!
//! virtio-pipe carries POSIX pipes, fd tables and process control between the
//! unikernel VMs of one process tree (see `virtio-pipe-protocol` for the wire
//! format). This crate drives it over any [`virtio_drivers`] [`Transport`]:
//!
//! * negotiates `VIRTIO_F_VERSION_1` plus the virtio-pipe feature bits,
//! * checks the config magic and version (the device is *carried* by another
//!   device ID, e.g. vhost-user-gpio's 41, so the magic is what identifies it),
//! * sets up `requestq` (0) and `eventq` (1) as split [`VirtQueue`]s,
//! * keeps `eventq` stocked with 32-byte buffers and decodes the events,
//! * submits requests (header + readable payload, response + writable
//!   payload) that may complete out of order, and lets the caller wait for
//!   one request's completion; a payload may be scattered over up to
//!   [`MAX_SEGMENTS`] buffers, passed to the device in place.
//!
//! The platform boundary is virtio-drivers' [`Hal`] (implemented by the
//! runtime); the transports are [`transport::mmio::PipeMmioTransport`] and
//! virtio-drivers' `PciTransport` reached through [`transport::pci::CarrierCam`].
//!
//! [`Transport`]: virtio_drivers::transport::Transport
//! [`VirtQueue`]: virtio_drivers::queue::VirtQueue
//! [`Hal`]: virtio_drivers::Hal
//!
//! # Example
//!
//! ```no_run
//! # use guest_virtio_driver::{VirtioPipe, DriverError};
//! # use virtio_drivers::{Hal, transport::Transport};
//! use virtio_pipe_protocol::{Op, ReqHeader};
//!
//! fn getpid<H: Hal, T: Transport>(transport: T) -> Result<u64, DriverError> {
//!     let mut pipe = VirtioPipe::<H, T>::new(transport)?;
//!     // A real runtime waits with `hlt` until the device interrupts.
//!     let done = pipe.request(&ReqHeader::new(Op::GetPid, 0, [0; 3]), &[], &mut [], &mut || {})?;
//!     Ok(done.rets()?[0])
//! }
//! ```

#![cfg_attr(not(test), no_std)]

extern crate alloc;

mod device;
mod error;
mod features;
mod slots;
pub mod transport;

#[cfg(test)]
mod fake;

pub use device::{Completion, VirtioPipe, EVENT_QUEUE_SIZE, REQUEST_QUEUE_SIZE};
pub use error::DriverError;
pub use features::Features;
pub use slots::{RequestId, MAX_SEGMENTS};
