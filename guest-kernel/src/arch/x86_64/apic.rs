//! The local APIC (EOI, timer) and the IOAPICs (routing the device line),
//! plus silencing the legacy 8259 PICs. Their registers are reached
//! through the uncached MMIO window (`paging::map_mmio`): callers pass the
//! virtual address the registers were mapped at.

use core::sync::atomic::{AtomicU64, Ordering};

use super::cpu::rdmsr;
use super::interrupts::{VECTOR_SPURIOUS, VECTOR_TIMER};
use super::port::outb;

const IA32_APIC_BASE: u32 = 0x1b;
const LAPIC_ID: usize = 0x20;
const LAPIC_TPR: usize = 0x80;
const LAPIC_EOI: usize = 0xb0;
const LAPIC_SVR: usize = 0xf0;
const LAPIC_LVT_TIMER: usize = 0x320;
const LAPIC_TIMER_INITIAL: usize = 0x380;
const LAPIC_TIMER_CURRENT: usize = 0x390;
const LAPIC_TIMER_DIVIDE: usize = 0x3e0;
const LVT_MASKED: u32 = 1 << 16;

/// The first IOAPIC of both q35 and microvm.
pub const IOAPIC1_BASE: u64 = 0xfec0_0000;
/// microvm's second IOAPIC (GSIs 24..47), present when ACPI is on.
pub const IOAPIC2_BASE: u64 = 0xfec1_0000;

/// The LAPIC's virtual address (set by [`init_lapic`]).
static LAPIC_BASE: AtomicU64 = AtomicU64::new(0);

fn lapic_reg(offset: usize) -> *mut u32 {
    (LAPIC_BASE.load(Ordering::Relaxed) as usize + offset) as *mut u32
}

fn lapic_write(offset: usize, value: u32) {
    // SAFETY: `init_lapic` stored the address the LAPIC page is mapped at
    // (uncached) before any register is used, and `offset` is one of its
    // 4-aligned registers.
    unsafe { lapic_reg(offset).write_volatile(value) }
}

fn lapic_read(offset: usize) -> u32 {
    // SAFETY: as for `lapic_write`.
    unsafe { lapic_reg(offset).read_volatile() }
}

/// Masks both 8259 PICs after moving their vectors off the exceptions.
pub fn disable_pic() {
    const INIT: [(u16, u8); 8] = [
        (0x20, 0x11),
        (0xa0, 0x11),
        (0x21, 0x20),
        (0xa1, 0x28),
        (0x21, 0x04),
        (0xa1, 0x02),
        (0x21, 0x01),
        (0xa1, 0x01),
    ];
    for (port, v) in INIT {
        // SAFETY: the 8259 command and data ports; absent PICs ignore writes.
        unsafe { outb(port, v) };
    }
    // SAFETY: masking every PIC line.
    unsafe {
        outb(0x21, 0xff);
        outb(0xa1, 0xff);
    }
}

/// The LAPIC's physical address.
pub fn lapic_phys() -> u64 {
    // SAFETY: IA32_APIC_BASE exists on every x86_64 CPU.
    unsafe { rdmsr(IA32_APIC_BASE) & 0xf_ffff_f000 }
}

/// Enables the local APIC, mapped at `virt`, with the spurious vector and
/// a masked, stopped timer. A LAPIC that is not fresh from reset (a parked
/// VM that landed a fork child, spec `drv-start-land`) may have had its
/// timer running: it is stopped here too. An interrupt it already latched
/// is delivered once interrupts are on, and the handlers take any vector
/// at any time (a wakeup with nothing to do).
pub fn init_lapic(virt: u64) {
    LAPIC_BASE.store(virt, Ordering::Relaxed);
    lapic_write(LAPIC_TPR, 0);
    lapic_write(LAPIC_SVR, 0x100 | u32::from(VECTOR_SPURIOUS));
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | u32::from(VECTOR_TIMER));
    lapic_write(LAPIC_TIMER_INITIAL, 0);
    lapic_write(LAPIC_TIMER_DIVIDE, 0b1011); // divide by 1
}

/// This CPU's APIC ID.
pub fn lapic_id() -> u32 {
    lapic_read(LAPIC_ID) >> 24
}

/// Signals end of interrupt to the local APIC.
pub fn eoi() {
    lapic_write(LAPIC_EOI, 0);
}

/// Starts the timer counting down from `count` without interrupting.
pub fn timer_start_masked(count: u32) {
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | u32::from(VECTOR_TIMER));
    lapic_write(LAPIC_TIMER_INITIAL, count);
}

/// The timer's current count.
pub fn timer_current() -> u32 {
    lapic_read(LAPIC_TIMER_CURRENT)
}

/// Arms a one-shot timer interrupt after `count` ticks (0 stops it).
pub fn timer_oneshot(count: u32) {
    lapic_write(LAPIC_LVT_TIMER, u32::from(VECTOR_TIMER));
    lapic_write(LAPIC_TIMER_INITIAL, count);
}

/// One IOAPIC.
#[derive(Debug, Clone, Copy)]
pub struct IoApic {
    base: u64,
}

impl IoApic {
    /// The IOAPIC whose registers are mapped at `base`, if one answers.
    ///
    /// # Safety
    ///
    /// `base` must be the virtual address of a mapped, uncached 4 KiB page
    /// of IOAPIC registers (or of nothing: absent MMIO reads as all ones).
    pub unsafe fn probe(base: u64) -> Option<Self> {
        let io = IoApic { base };
        let version = io.read(1);
        // Absent MMIO reads back as all ones or zeros.
        (version != 0xffff_ffff && version & 0xff != 0).then_some(io)
    }

    fn read(&self, reg: u32) -> u32 {
        // SAFETY: IOREGSEL at +0 and IOWIN at +0x10 of the mapped IOAPIC
        // page (`probe`'s contract).
        unsafe {
            ((self.base) as *mut u32).write_volatile(reg);
            ((self.base + 0x10) as *const u32).read_volatile()
        }
    }

    fn write(&self, reg: u32, value: u32) {
        // SAFETY: as for `read`.
        unsafe {
            ((self.base) as *mut u32).write_volatile(reg);
            ((self.base + 0x10) as *mut u32).write_volatile(value);
        }
    }

    /// Number of input pins.
    pub fn pins(&self) -> u32 {
        ((self.read(1) >> 16) & 0xff) + 1
    }

    /// Routes `pin` to `vector` on this CPU: fixed delivery, edge triggered,
    /// active high, unmasked. Edge mode suits a handler that does not ack
    /// the device: the driver acks before it polls, so each later
    /// completion raises a new edge.
    pub fn route(&self, pin: u32, vector: u8) {
        if pin >= self.pins() {
            return;
        }
        self.write(0x11 + 2 * pin, lapic_id() << 24);
        self.write(0x10 + 2 * pin, u32::from(vector));
    }
}
