//! virtio-mmio (version 2, "modern") transport for a carried device.
//!
//! virtio-drivers' `MmioTransport` refuses device IDs outside its
//! `DeviceType` list, so this is a small implementation of its `Transport`
//! trait over the register layout of virtio 1.2, 4.2.2. Legacy (version 1)
//! devices are refused: QEMU needs `-global virtio-mmio.force-legacy=false`.

use core::ptr::NonNull;

use virtio_drivers::transport::{DeviceStatus, DeviceType, InterruptStatus, Transport};
use virtio_drivers::{Error, PhysAddr};
use zerocopy::{FromBytes, Immutable, IntoBytes};

use super::{CARRIER_DEVICE_IDS, STAND_IN_DEVICE_TYPE};

/// `"virt"` little-endian.
const MAGIC_VALUE: u32 = 0x7472_6976;
/// Bytes of one virtio-mmio window (QEMU's microvm spaces them 512 apart).
pub const MMIO_WINDOW_SIZE: usize = 0x200;

mod reg {
    pub const MAGIC: usize = 0x000;
    pub const VERSION: usize = 0x004;
    pub const DEVICE_ID: usize = 0x008;
    pub const DEVICE_FEATURES: usize = 0x010;
    pub const DEVICE_FEATURES_SEL: usize = 0x014;
    pub const DRIVER_FEATURES: usize = 0x020;
    pub const DRIVER_FEATURES_SEL: usize = 0x024;
    pub const QUEUE_SEL: usize = 0x030;
    pub const QUEUE_NUM_MAX: usize = 0x034;
    pub const QUEUE_NUM: usize = 0x038;
    pub const QUEUE_READY: usize = 0x044;
    pub const QUEUE_NOTIFY: usize = 0x050;
    pub const INTERRUPT_STATUS: usize = 0x060;
    pub const INTERRUPT_ACK: usize = 0x064;
    pub const STATUS: usize = 0x070;
    pub const QUEUE_DESC_LOW: usize = 0x080;
    pub const QUEUE_DESC_HIGH: usize = 0x084;
    pub const QUEUE_DRIVER_LOW: usize = 0x090;
    pub const QUEUE_DRIVER_HIGH: usize = 0x094;
    pub const QUEUE_DEVICE_LOW: usize = 0x0a0;
    pub const QUEUE_DEVICE_HIGH: usize = 0x0a4;
    pub const CONFIG_GENERATION: usize = 0x0fc;
    pub const CONFIG: usize = 0x100;
}

/// Why a window holds no usable carried device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MmioProbeError {
    /// No virtio-mmio magic at this address.
    BadMagic(u32),
    /// A transport with no device plugged in (device ID 0).
    Empty,
    /// A device that is not a carrier: its ID.
    NotACarrier(u32),
    /// A legacy (version 1) transport.
    Legacy(u32),
}

impl core::fmt::Display for MmioProbeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            MmioProbeError::BadMagic(m) => write!(f, "no virtio-mmio magic ({m:#x})"),
            MmioProbeError::Empty => write!(f, "no device behind the transport"),
            MmioProbeError::NotACarrier(id) => write!(f, "device id {id} cannot carry virtio-pipe"),
            MmioProbeError::Legacy(v) => {
                write!(f, "legacy virtio-mmio version {v}; pass force-legacy=false")
            }
        }
    }
}

/// A modern virtio-mmio transport whose device is one of [`CARRIER_DEVICE_IDS`].
#[derive(Debug)]
pub struct PipeMmioTransport {
    base: NonNull<u8>,
    device_id: u32,
}

// SAFETY: the transport owns its MMIO window exclusively (see `probe`); the
// registers may be driven from any CPU.
unsafe impl Send for PipeMmioTransport {}

impl PipeMmioTransport {
    /// Checks the window at `base` and takes it if it holds a carrier device.
    ///
    /// # Safety
    ///
    /// `base` must be the mapped, uncached virtual address of a
    /// [`MMIO_WINDOW_SIZE`]-byte virtio-mmio window (or of memory that
    /// reads back without side effects), and nothing else may drive that
    /// window while the returned transport lives.
    pub unsafe fn probe(base: NonNull<u8>) -> Result<Self, MmioProbeError> {
        let t = Self { base, device_id: 0 };
        let magic = t.read(reg::MAGIC);
        if magic != MAGIC_VALUE {
            return Err(MmioProbeError::BadMagic(magic));
        }
        let device_id = t.read(reg::DEVICE_ID);
        if device_id == 0 {
            return Err(MmioProbeError::Empty);
        }
        if !CARRIER_DEVICE_IDS.contains(&device_id) {
            return Err(MmioProbeError::NotACarrier(device_id));
        }
        let version = t.read(reg::VERSION);
        if version != 2 {
            return Err(MmioProbeError::Legacy(version));
        }
        Ok(Self { base, device_id })
    }

    /// The virtio device ID behind this window (the carrier's).
    pub fn device_id(&self) -> u32 {
        self.device_id
    }

    fn read(&self, offset: usize) -> u32 {
        // SAFETY: `probe`'s caller guarantees the window is mapped MMIO of
        // MMIO_WINDOW_SIZE bytes; every offset used is a 4-aligned register inside it.
        unsafe { self.base.byte_add(offset).cast::<u32>().read_volatile() }
    }

    fn write(&mut self, offset: usize, value: u32) {
        // SAFETY: as for `read`; we own the window exclusively.
        unsafe {
            self.base
                .byte_add(offset)
                .cast::<u32>()
                .write_volatile(value)
        }
    }

    fn write64(&mut self, low: usize, high: usize, value: u64) {
        self.write(low, value as u32);
        self.write(high, (value >> 32) as u32);
    }
}

impl Transport for PipeMmioTransport {
    fn device_type(&self) -> DeviceType {
        STAND_IN_DEVICE_TYPE
    }

    fn read_device_features(&mut self) -> u64 {
        self.write(reg::DEVICE_FEATURES_SEL, 0);
        let low = self.read(reg::DEVICE_FEATURES) as u64;
        self.write(reg::DEVICE_FEATURES_SEL, 1);
        let high = self.read(reg::DEVICE_FEATURES) as u64;
        (high << 32) | low
    }

    fn write_driver_features(&mut self, driver_features: u64) {
        self.write(reg::DRIVER_FEATURES_SEL, 0);
        self.write(reg::DRIVER_FEATURES, driver_features as u32);
        self.write(reg::DRIVER_FEATURES_SEL, 1);
        self.write(reg::DRIVER_FEATURES, (driver_features >> 32) as u32);
    }

    fn max_queue_size(&mut self, queue: u16) -> u32 {
        self.write(reg::QUEUE_SEL, queue.into());
        self.read(reg::QUEUE_NUM_MAX)
    }

    fn notify(&mut self, queue: u16) {
        self.write(reg::QUEUE_NOTIFY, queue.into());
    }

    fn get_status(&self) -> DeviceStatus {
        DeviceStatus::from_bits_retain(self.read(reg::STATUS))
    }

    fn set_status(&mut self, status: DeviceStatus) {
        self.write(reg::STATUS, status.bits());
    }

    fn set_guest_page_size(&mut self, _guest_page_size: u32) {
        // Modern transports have no guest page size register.
    }

    fn requires_legacy_layout(&self) -> bool {
        false
    }

    fn queue_set(
        &mut self,
        queue: u16,
        size: u32,
        descriptors: PhysAddr,
        driver_area: PhysAddr,
        device_area: PhysAddr,
    ) {
        self.write(reg::QUEUE_SEL, queue.into());
        self.write(reg::QUEUE_NUM, size);
        self.write64(reg::QUEUE_DESC_LOW, reg::QUEUE_DESC_HIGH, descriptors);
        self.write64(reg::QUEUE_DRIVER_LOW, reg::QUEUE_DRIVER_HIGH, driver_area);
        self.write64(reg::QUEUE_DEVICE_LOW, reg::QUEUE_DEVICE_HIGH, device_area);
        self.write(reg::QUEUE_READY, 1);
    }

    fn queue_unset(&mut self, queue: u16) {
        self.write(reg::QUEUE_SEL, queue.into());
        self.write(reg::QUEUE_READY, 0);
        self.write(reg::QUEUE_NUM, 0);
        self.write64(reg::QUEUE_DESC_LOW, reg::QUEUE_DESC_HIGH, 0);
        self.write64(reg::QUEUE_DRIVER_LOW, reg::QUEUE_DRIVER_HIGH, 0);
        self.write64(reg::QUEUE_DEVICE_LOW, reg::QUEUE_DEVICE_HIGH, 0);
    }

    fn queue_used(&mut self, queue: u16) -> bool {
        self.write(reg::QUEUE_SEL, queue.into());
        self.read(reg::QUEUE_READY) != 0
    }

    fn ack_interrupt(&mut self) -> InterruptStatus {
        let pending = self.read(reg::INTERRUPT_STATUS);
        if pending != 0 {
            self.write(reg::INTERRUPT_ACK, pending);
        }
        InterruptStatus::from_bits_retain(pending)
    }

    fn read_config_generation(&self) -> u32 {
        self.read(reg::CONFIG_GENERATION)
    }

    fn read_config_space<T: FromBytes + IntoBytes>(&self, offset: usize) -> Result<T, Error> {
        let mut value = T::new_zeroed();
        let bytes = value.as_mut_bytes();
        if offset % 4 != 0 || bytes.len() % 4 != 0 {
            return Err(Error::InvalidParam);
        }
        if offset + bytes.len() > MMIO_WINDOW_SIZE - reg::CONFIG {
            return Err(Error::ConfigSpaceTooSmall);
        }
        self.read_consistent(|| Ok(()))?;
        for (i, word) in bytes.chunks_exact_mut(4).enumerate() {
            word.copy_from_slice(&self.read(reg::CONFIG + offset + 4 * i).to_le_bytes());
        }
        Ok(value)
    }

    fn write_config_space<T: IntoBytes + Immutable>(
        &mut self,
        offset: usize,
        value: T,
    ) -> Result<(), Error> {
        let bytes = value.as_bytes();
        if offset % 4 != 0 || bytes.len() % 4 != 0 {
            return Err(Error::InvalidParam);
        }
        if offset + bytes.len() > MMIO_WINDOW_SIZE - reg::CONFIG {
            return Err(Error::ConfigSpaceTooSmall);
        }
        for (i, word) in bytes.chunks_exact(4).enumerate() {
            let v = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
            self.write(reg::CONFIG + offset + 4 * i, v);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A RAM stand-in for an MMIO window: registers as plain words.
    #[repr(C, align(4096))]
    struct Window([u32; MMIO_WINDOW_SIZE / 4]);

    fn window(magic: u32, version: u32, device_id: u32) -> Box<Window> {
        let mut w = Box::new(Window([0; MMIO_WINDOW_SIZE / 4]));
        w.0[reg::MAGIC / 4] = magic;
        w.0[reg::VERSION / 4] = version;
        w.0[reg::DEVICE_ID / 4] = device_id;
        w.0[reg::CONFIG / 4] = u32::from_le_bytes(*b"pipe");
        w.0[reg::CONFIG / 4 + 1] = 1;
        w
    }

    fn probe(w: &mut Window) -> Result<PipeMmioTransport, MmioProbeError> {
        // SAFETY: the window is plain RAM that outlives the transport in each test.
        unsafe { PipeMmioTransport::probe(NonNull::from(w).cast()) }
    }

    #[test]
    fn gpio_carrier_window_is_taken() {
        let mut w = window(MAGIC_VALUE, 2, 41);
        assert_eq!(probe(&mut w).unwrap().device_id(), 41);
    }

    #[test]
    fn empty_transport_and_foreign_device_are_skipped() {
        assert_eq!(
            probe(&mut window(MAGIC_VALUE, 2, 0)).unwrap_err(),
            MmioProbeError::Empty
        );
        assert_eq!(
            probe(&mut window(MAGIC_VALUE, 2, 2)).unwrap_err(),
            MmioProbeError::NotACarrier(2)
        );
        assert_eq!(
            probe(&mut window(0, 0, 0)).unwrap_err(),
            MmioProbeError::BadMagic(0)
        );
    }

    #[test]
    fn legacy_transport_is_refused() {
        assert_eq!(
            probe(&mut window(MAGIC_VALUE, 1, 41)).unwrap_err(),
            MmioProbeError::Legacy(1)
        );
    }

    #[test]
    fn config_space_reads_magic_and_version_as_words() {
        let mut w = window(MAGIC_VALUE, 2, 41);
        let t = probe(&mut w).unwrap();
        let c: virtio_pipe_protocol::ConfigSpace = t.read_config_space(0).unwrap();
        assert!(c.is_virtio_pipe());
    }

    #[test]
    fn queue_set_writes_64_bit_addresses_as_two_words() {
        const DESC: u64 = 0x1_2345_6000;
        let mut w = window(MAGIC_VALUE, 2, 41);
        let mut t = probe(&mut w).unwrap();
        t.queue_set(1, 16, DESC, 0x2000, 0x3000);
        assert_eq!(w.0[reg::QUEUE_SEL / 4], 1);
        assert_eq!(w.0[reg::QUEUE_NUM / 4], 16);
        assert_eq!(w.0[reg::QUEUE_DESC_LOW / 4], 0x2345_6000);
        assert_eq!(w.0[reg::QUEUE_DESC_HIGH / 4], 1);
        assert_eq!(w.0[reg::QUEUE_READY / 4], 1);
    }
}
