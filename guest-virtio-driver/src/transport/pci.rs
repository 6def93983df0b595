//! virtio-pci: virtio-drivers' `PciTransport` over a configuration access
//! that presents the carrier as a device type virtio-drivers knows.
//!
//! `PciTransport::new` refuses PCI device IDs outside virtio-drivers'
//! `DeviceType` list (vhost-user-gpio-pci is `0x1040 + 41`). [`CarrierCam`]
//! wraps the real configuration access and, for the one function that holds
//! the carrier, reports the device ID of [`super::STAND_IN_DEVICE_TYPE`];
//! every other register passes through untouched.

use virtio_drivers::transport::pci::bus::{Command, ConfigurationAccess, DeviceFunction, PciRoot};

use super::{CARRIER_DEVICE_IDS, STAND_IN_DEVICE_TYPE};

/// PCI vendor ID of virtio devices.
pub const VIRTIO_VENDOR_ID: u16 = 0x1af4;
/// Modern virtio-pci device IDs are 0x1040 + the virtio device ID.
const MODERN_ID_BASE: u16 = 0x1040;
/// Configuration register holding the interrupt line (low byte) and pin.
const INTERRUPT_LINE_OFFSET: u8 = 0x3c;

/// Whether a PCI (vendor, device) pair is a virtio-pipe carrier.
pub fn is_carrier(vendor_id: u16, device_id: u16) -> bool {
    vendor_id == VIRTIO_VENDOR_ID
        && device_id >= MODERN_ID_BASE
        && CARRIER_DEVICE_IDS.contains(&u32::from(device_id - MODERN_ID_BASE))
}

/// A configuration access that disguises one carrier function.
#[derive(Debug)]
pub struct CarrierCam<C> {
    inner: C,
    carrier: DeviceFunction,
}

impl<C: ConfigurationAccess> CarrierCam<C> {
    /// Wraps `inner`, disguising `carrier`.
    pub fn new(inner: C, carrier: DeviceFunction) -> Self {
        Self { inner, carrier }
    }
}

impl<C: ConfigurationAccess> ConfigurationAccess for CarrierCam<C> {
    fn read_word(&self, device_function: DeviceFunction, register_offset: u8) -> u32 {
        let word = self.inner.read_word(device_function, register_offset);
        if device_function == self.carrier && register_offset == 0 {
            let stand_in = MODERN_ID_BASE + STAND_IN_DEVICE_TYPE as u16;
            (word & 0xffff) | (u32::from(stand_in) << 16)
        } else {
            word
        }
    }

    fn write_word(&mut self, device_function: DeviceFunction, register_offset: u8, data: u32) {
        self.inner
            .write_word(device_function, register_offset, data);
    }

    unsafe fn unsafe_clone(&self) -> Self {
        Self {
            // SAFETY: our caller takes on the same read-only promise.
            inner: unsafe { self.inner.unsafe_clone() },
            carrier: self.carrier,
        }
    }
}

/// A carrier function found on the bus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FoundCarrier {
    /// Where it is.
    pub device_function: DeviceFunction,
    /// The legacy interrupt line firmware assigned (the ISA IRQ / IOAPIC pin).
    pub interrupt_line: u8,
}

/// Scans buses 0..=`last_bus` for the first carrier, enables its memory
/// decoding and bus mastering, and returns a root ready for `PciTransport::new`.
pub fn find_carrier<C: ConfigurationAccess>(
    cam: C,
    last_bus: u8,
) -> Option<(PciRoot<CarrierCam<C>>, FoundCarrier)> {
    // SAFETY: the scanning root only reads vendor, device and header
    // registers, and it is dropped before `cam` is used to write anything.
    let scan = PciRoot::new(unsafe { cam.unsafe_clone() });
    let mut found = None;
    'buses: for bus in 0..=last_bus {
        for (df, info) in scan.enumerate_bus(bus) {
            if is_carrier(info.vendor_id, info.device_id) {
                found = Some(df);
                break 'buses;
            }
        }
    }
    drop(scan);
    let df = found?;
    let cam = CarrierCam::new(cam, df);
    let interrupt_line = cam.read_word(df, INTERRUPT_LINE_OFFSET) as u8;
    let mut root = PciRoot::new(cam);
    let (_, command) = root.get_status_command(df);
    root.set_command(df, command | Command::MEMORY_SPACE | Command::BUS_MASTER);
    Some((
        root,
        FoundCarrier {
            device_function: df,
            interrupt_line,
        },
    ))
}
