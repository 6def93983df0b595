//! PCI configuration mechanism #1 (ports 0xCF8/0xCFC).

use virtio_drivers::transport::pci::bus::{ConfigurationAccess, DeviceFunction};

use crate::arch::x86_64::port::{inl, outl};

/// Configuration access through I/O ports; the first 256 bytes of each function.
#[derive(Debug)]
pub struct PortCam;

fn address(df: DeviceFunction, offset: u8) -> u32 {
    0x8000_0000
        | (u32::from(df.bus) << 16)
        | (u32::from(df.device) << 11)
        | (u32::from(df.function) << 8)
        | u32::from(offset & 0xfc)
}

impl ConfigurationAccess for PortCam {
    fn read_word(&self, df: DeviceFunction, offset: u8) -> u32 {
        // SAFETY: the PCI address and data ports; a read has no side effect.
        unsafe {
            outl(0xcf8, address(df, offset));
            inl(0xcfc)
        }
    }

    fn write_word(&mut self, df: DeviceFunction, offset: u8, data: u32) {
        // SAFETY: the PCI address and data ports, driven only through `PortCam`.
        unsafe {
            outl(0xcf8, address(df, offset));
            outl(0xcfc, data);
        }
    }

    unsafe fn unsafe_clone(&self) -> Self {
        PortCam
    }
}

/// Whether a PCI host bridge answers at 00:00.0 (q35: yes; microvm: no).
pub fn host_bridge_present() -> bool {
    let df = DeviceFunction {
        bus: 0,
        device: 0,
        function: 0,
    };
    PortCam.read_word(df, 0) & 0xffff != 0xffff
}
