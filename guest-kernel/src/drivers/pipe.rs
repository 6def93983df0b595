//! Finding the virtio-pipe device, routing its interrupt, and the one
//! global instance every process call goes through.
//!
//! On q35 the carrier is virtio-pci (found by a bus scan); on microvm it is
//! virtio-mmio in one of the windows at `0xfeb00000 + n * 0x200`, whose line
//! is GSI `5 + n` (ACPI off), `16 + n` (ACPI on, one IOAPIC) or `24 + n`
//! (ACPI on, second IOAPIC). We route every candidate pin to the device
//! vector; the pins that belong to nothing never fire.

use core::ptr::NonNull;
use core::sync::atomic::Ordering;

use guest_virtio_driver::transport::mmio::{PipeMmioTransport, MMIO_WINDOW_SIZE};
use guest_virtio_driver::transport::pci::find_carrier;
use guest_virtio_driver::{Completion, DriverError, Features, RequestId, VirtioPipe};
use spinning_top::Spinlock;
use virtio_drivers::transport::pci::PciTransport;
use virtio_pipe_protocol::{Event, ReqHeader, Request};

use super::hal::{map_mmio, KernelHal};
use super::pci_cam::{self, PortCam};
use super::transport::AnyTransport;
use crate::arch::x86_64::apic::{IoApic, IOAPIC1_BASE, IOAPIC2_BASE};
use crate::arch::x86_64::interrupts::{DEVICE_IRQ, VECTOR_DEVICE};
use crate::arch::x86_64::{cpu, time};

const MMIO_BASE: u64 = 0xfeb0_0000;
/// microvm has at most 24 transports (with the second IOAPIC).
const MMIO_WINDOWS: u64 = 24;

/// The device, once found.
pub type Device = VirtioPipe<KernelHal, AnyTransport>;

static DEVICE: Spinlock<Option<Device>> = Spinlock::new(None);

/// Where the device was found, for the boot log.
#[derive(Debug, Clone, Copy)]
pub enum Location {
    /// virtio-mmio window `n`.
    Mmio(u64),
    /// PCI function, interrupt line.
    Pci(u8, u8, u8, u8),
}

/// Why no device could be brought up.
#[derive(Debug, Clone, Copy)]
pub enum ProbeError {
    /// No carrier on either bus.
    NotFound,
    /// A carrier exists but the driver refused it.
    Driver(DriverError),
}

impl core::fmt::Display for ProbeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ProbeError::NotFound => write!(f, "no virtio-pipe carrier on PCI or virtio-mmio"),
            ProbeError::Driver(e) => write!(f, "{e}"),
        }
    }
}

fn find() -> Result<(AnyTransport, Location), ProbeError> {
    if pci_cam::host_bridge_present() {
        let (mut root, found) = find_carrier(PortCam, 0).ok_or(ProbeError::NotFound)?;
        let t = PciTransport::new::<KernelHal, _>(&mut root, found.device_function)
            .map_err(|_| ProbeError::NotFound)?;
        if let Some(io) = ioapic(IOAPIC1_BASE) {
            io.route(u32::from(found.interrupt_line), VECTOR_DEVICE);
        }
        let df = found.device_function;
        return Ok((
            AnyTransport::Pci(t),
            Location::Pci(df.bus, df.device, df.function, found.interrupt_line),
        ));
    }
    let windows =
        map_mmio(MMIO_BASE, MMIO_WINDOWS * MMIO_WINDOW_SIZE as u64).ok_or(ProbeError::NotFound)?;
    for n in 0..MMIO_WINDOWS {
        let base = windows + n * MMIO_WINDOW_SIZE as u64;
        let ptr = NonNull::new(base as *mut u8).ok_or(ProbeError::NotFound)?;
        // SAFETY: microvm's virtio-mmio windows are mapped uncached just
        // above, and reading their ID registers has no side effect; the
        // window we keep is driven only through the returned transport.
        if let Ok(t) = unsafe { PipeMmioTransport::probe(ptr) } {
            route_mmio_irq(n as u32);
            return Ok((AnyTransport::Mmio(t), Location::Mmio(n)));
        }
    }
    Err(ProbeError::NotFound)
}

/// The IOAPIC at physical `base`, mapped, if one answers.
fn ioapic(base: u64) -> Option<IoApic> {
    let va = map_mmio(base, 0x1000)?;
    // SAFETY: `va` maps the 4 KiB register page at `base`, uncached.
    unsafe { IoApic::probe(va) }
}

fn route_mmio_irq(n: u32) {
    if let Some(io1) = ioapic(IOAPIC1_BASE) {
        io1.route(5 + n, VECTOR_DEVICE);
        io1.route(16 + n, VECTOR_DEVICE);
    }
    if let Some(io2) = ioapic(IOAPIC2_BASE) {
        io2.route(n, VECTOR_DEVICE);
    }
}

/// Finds and initialises the device.
pub fn init() -> Result<Location, ProbeError> {
    let (transport, at) = find()?;
    let dev = Device::new(transport).map_err(ProbeError::Driver)?;
    *DEVICE.lock() = Some(dev);
    Ok(at)
}

/// Whether the device is up.
pub fn is_up() -> bool {
    DEVICE.lock().is_some()
}

/// Whether the device and the driver agreed on `feature`.
pub fn has_feature(feature: Features) -> bool {
    DEVICE
        .lock()
        .as_ref()
        .is_some_and(|d| d.features().contains(feature))
}

/// A fork child's copy of its parent's device (carried with the statics)
/// describes the device of another VM: forgets it without touching any
/// register (the transports' `Drop` would reset this VM's device, which
/// sits at the same address). Its queues and buffers leak: about 28 KiB
/// of heap per generation of forks (8 of them the request slots' tables
/// of up to `MAX_SEGMENTS` payload buffers).
pub fn forget_after_fork() {
    if let Some(old) = DEVICE.lock().take() {
        core::mem::forget(old);
    }
}

/// Resets this VM's device before it lands a fork child (spec
/// `drv-start-land`, step 1): the front-end stops the rings before the
/// device writes the parent's RAM over the queues. The driver state is
/// forgotten, not dropped: the heap it lives on is about to be replaced.
/// Returns whether the device status read back 0.
pub fn reset_for_landing() -> bool {
    let Some(mut dev) = DEVICE.lock().take() else {
        return false;
    };
    let done = dev.reset();
    core::mem::forget(dev);
    done
}

/// Sends one request and sleeps (`hlt`) until it completes.
pub fn request(
    hdr: &ReqHeader,
    readable: &[u8],
    writable: &mut [u8],
) -> Result<Completion, DriverError> {
    let mut guard = DEVICE.lock();
    let dev = guard.as_mut().ok_or(DriverError::DeviceBroken)?;
    dev.request(hdr, readable, writable, &mut || cpu::wait_for(&DEVICE_IRQ))
}

/// Sends one request whose payloads are scattered over several buffers
/// (a program's pages, in place) and sleeps until it completes.
pub fn request_sg(
    hdr: &ReqHeader,
    readable: &[&[u8]],
    writable: &mut [&mut [u8]],
) -> Result<Completion, DriverError> {
    let mut guard = DEVICE.lock();
    let dev = guard.as_mut().ok_or(DriverError::DeviceBroken)?;
    dev.request_sg(hdr, readable, writable, &mut || cpu::wait_for(&DEVICE_IRQ))
}

/// Why a blocking request was interrupted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    /// It ran its course.
    No,
    /// `stop` said so (a signal to deliver).
    Stopped,
    /// The deadline passed.
    TimedOut,
}

/// Sends a request that may block (`READ`, `WRITE`, `WAIT`, `POLL`) and
/// sleeps until it completes. After every wakeup `stop` is asked whether to
/// stop waiting (it should collect the device's events: a signal that
/// would be delivered says yes); that, or the monotonic clock reaching
/// `deadline_ns`, makes the driver submit `INTERRUPT` (spec
/// `drv-interrupt`) and wait for both completions. The request's own
/// completion is returned whatever it is: its count or result when it
/// completed first, `EINTR` otherwise; [`Cut`] says what was asked.
///
/// The device lock is not held while `stop` runs or the CPU sleeps.
pub fn request_blocking(
    hdr: &ReqHeader,
    readable: &[&[u8]],
    writable: &mut [&mut [u8]],
    deadline_ns: Option<u64>,
    stop: &mut dyn FnMut() -> bool,
) -> Result<(Completion, Cut), DriverError> {
    let mut w = Blocked {
        // SAFETY: `request_blocking` returns only once the device has used
        // the chain (its completion taken) or has been reset by a failed
        // `poll`, so the borrowed payloads outlive the device's use of them.
        id: with_device(|dev| unsafe { dev.submit_sg(hdr, readable, writable) })?,
        done: None,
        interrupt: None,
    };
    let mut cut = Cut::No;
    loop {
        if w.collect()? {
            break;
        }
        if cut == Cut::No {
            if stop() {
                cut = Cut::Stopped;
            } else if deadline_ns.is_some_and(|d| time::monotonic_ns() >= d) {
                cut = Cut::TimedOut;
            }
            if cut != Cut::No {
                w.interrupt()?;
                continue;
            }
            // `stop` polls the device too: what it collected is looked at
            // before sleeping, and an event it did not see is asked about.
            if w.collect()? {
                break;
            }
            if with_device(|dev| Ok(dev.has_event()))? {
                continue;
            }
        }
        time::wait_device(if cut == Cut::No { deadline_ns } else { None });
    }
    let done = w.done.expect("collect said done");
    Ok((done, cut))
}

/// A blocking request in flight, and the `INTERRUPT` sent for it.
struct Blocked {
    id: RequestId,
    done: Option<Completion>,
    interrupt: Option<RequestId>,
}

impl Blocked {
    /// Collects completions; true once the request's is in and the
    /// `INTERRUPT`'s (if one was sent) too: the device ends the request
    /// before it completes the `INTERRUPT` (spec `dev-interrupt`).
    fn collect(&mut self) -> Result<bool, DriverError> {
        with_device(|dev| {
            DEVICE_IRQ.store(false, Ordering::Release);
            dev.ack_interrupt();
            dev.poll()?;
            if self.done.is_none() {
                self.done = dev.take_completion(self.id);
            }
            if self
                .interrupt
                .is_some_and(|i| dev.take_completion(i).is_some())
            {
                self.interrupt = None;
            }
            Ok(self.done.is_some() && self.interrupt.is_none())
        })
    }

    /// Submits `INTERRUPT`, unless the request is done already.
    fn interrupt(&mut self) -> Result<(), DriverError> {
        if self.done.is_some() {
            return Ok(());
        }
        let hdr = Request::Interrupt.header();
        // SAFETY: no payload; the header is copied into the slot.
        self.interrupt = Some(with_device(|dev| unsafe {
            dev.submit_sg(&hdr, &[], &mut [])
        })?);
        Ok(())
    }
}

fn with_device<R>(f: impl FnOnce(&mut Device) -> Result<R, DriverError>) -> Result<R, DriverError> {
    let mut guard = DEVICE.lock();
    f(guard.as_mut().ok_or(DriverError::DeviceBroken)?)
}

/// Sends a request and waits for it without touching `eventq`, allocating
/// or freeing: `FORK` (spec `drv-fork-quiesce`). `EINVAL` if another
/// request is in flight.
pub fn request_quiesced(hdr: &ReqHeader) -> Result<Completion, DriverError> {
    let mut guard = DEVICE.lock();
    let dev = guard.as_mut().ok_or(DriverError::DeviceBroken)?;
    dev.request_quiesced(hdr, &[], &mut [], &mut || cpu::wait_for(&DEVICE_IRQ))
}

/// Sends a request that is never answered because the device ends this VM
/// (`EXIT`): submits, then waits a bounded while for the completion.
pub fn request_final(hdr: &ReqHeader) {
    let Some(mut guard) = DEVICE.try_lock() else {
        return;
    };
    let Some(dev) = guard.as_mut() else { return };
    let _ = dev.request(hdr, &[], &mut [], &mut || cpu::wait_for(&DEVICE_IRQ));
}

/// Takes the device lock even if a dying context holds it.
pub fn force_unlock() {
    if DEVICE.is_locked() {
        // SAFETY: only called on the way to powering off from a panic or a
        // CPU exception; the interrupted holder never resumes.
        unsafe { DEVICE.force_unlock() };
    }
}

/// Collects pending completions and events without sleeping.
pub fn poll() {
    if let Some(dev) = DEVICE.lock().as_mut() {
        dev.ack_interrupt();
        let _ = dev.poll();
    }
}

/// The oldest undelivered event.
pub fn pop_event() -> Option<Event> {
    DEVICE.lock().as_mut().and_then(|d| d.pop_event())
}
