//! Boot to `main` and back: the Rust entry after long mode, the panic
//! handler, the fatal-exception path and the language items a `no_std`
//! image on the linux-gnu target needs.

use core::panic::PanicInfo;

use virtio_pipe_protocol::signal::{SIGABRT, SIGSEGV};
use virtio_pipe_protocol::ExitKind;

use crate::arch::x86_64::{apic, cpu, gdt, interrupts, serial, time};
use crate::drivers::{debug_exit, pipe};
use crate::process::{self, args};
use crate::{kprintln, libc, logger, mem};

extern "C" {
    /// The program's entry: C's `main`, or the one `unikernel::entry!` generates.
    fn main(argc: i32, argv: *const *const u8, envp: *const *const u8) -> i32;
}

/// Called by `boot` in long mode on the boot stack, interrupts off.
#[no_mangle]
extern "C" fn rust_entry() -> ! {
    serial::init();
    init_cpu();
    let (heap_start, heap_end) = mem::heap::init();
    logger::init(mem::start_info::cmdline());
    time::init();
    cpu::sti();
    log::debug!(
        "heap {:#x}..{:#x}, TSC {} MHz",
        heap_start,
        heap_end,
        time::tsc_hz() / 1_000_000
    );
    match pipe::init() {
        Ok(at) => log::debug!("virtio-pipe at {at:?}"),
        Err(e) => {
            kprintln!("unikernel: {e}");
            debug_exit::poweroff(debug_exit::value_for_signal(SIGABRT as u8));
        }
    }
    match args::start() {
        Ok(args::Start::Fresh) => {}
        Ok(args::Start::Forked(record)) => resume_forked(record),
        Err(e) => {
            kprintln!("unikernel: START failed: {e}");
            process::exit_with(ExitKind::Signaled(SIGABRT as u8));
        }
    }
    let (argv, envp) = match libc::start::c_args() {
        Ok(v) => v,
        Err(e) => {
            kprintln!("unikernel: GET_ARGS failed: {e}");
            process::exit_with(ExitKind::Signaled(SIGABRT as u8));
        }
    };
    let boot_ns = time::monotonic_ns();
    let entry_us = time::tsc_to_ns(crate::arch::x86_64::boot::entry_tsc()) / 1_000;
    log::info!(
        "boot-to-main {}.{:03} ms; TSC at entry {}.{:03} ms",
        boot_ns / 1_000_000,
        (boot_ns / 1_000) % 1_000,
        entry_us / 1_000,
        entry_us % 1_000
    );
    let argc = argv.len() - 1;
    // SAFETY: `argv` and `envp` are NULL-terminated arrays of pointers to
    // NUL-terminated strings that live for the rest of the process.
    let code = unsafe { main(argc as i32, argv.as_ptr(), envp.as_ptr()) };
    process::exit(code)
}

/// The CPU's tables and interrupt controllers: GDT/TSS, IDT, PIC, LAPIC.
fn init_cpu() {
    gdt::init();
    interrupts::init();
    apic::disable_pic();
    apic::init_lapic();
}

/// What a fork child sets up again after its memory has been restored from
/// the parent's (`process::fork`), interrupts off: the serial port and the
/// CPU's tables and interrupt controllers belong to this VM, not to the
/// restored memory. Heap, statics and the clock's calibration are the
/// parent's.
pub fn init_vm_after_fork() {
    serial::init();
    init_cpu();
    interrupts::DEVICE_IRQ.store(false, core::sync::atomic::Ordering::Release);
    interrupts::TIMER_IRQ.store(false, core::sync::atomic::Ordering::Release);
}

/// `START` said forked, but the boot code found no resume record in the
/// mailbox (the copy of the parent's RAM lost it): there is nothing to resume.
fn resume_forked(record: u64) -> ! {
    kprintln!("unikernel: forked start (record {record:#x}) but no fork mailbox after the image");
    process::exit_with(ExitKind::Signaled(SIGABRT as u8))
}

/// A CPU exception: report death by `SIGSEGV` and power off.
pub fn fatal_exception(vector: u8, error: u64, rip: u64, cr2: u64, rsp: u64) -> ! {
    serial::write_fmt_emergency(format_args!(
        "unikernel: CPU exception {vector} (error {error:#x}) at rip {rip:#x}, cr2 {cr2:#x}, rsp {rsp:#x}\n"
    ));
    pipe::force_unlock();
    cpu::sti();
    process::exit_with(ExitKind::Signaled(SIGSEGV as u8))
}

/// What a panic does: report death by `SIGABRT` and power off. The
/// `#[panic_handler]` that calls this lives in the final artifact (see
/// `unikernel::entry!` and the `unikernel_staticlib` cfg), because a
/// workspace build may unify a dependency's `std` feature into this rlib,
/// and std brings its own handler.
pub fn panic(info: &PanicInfo<'_>) -> ! {
    serial::write_fmt_emergency(format_args!("unikernel: panic: {info}\n"));
    pipe::force_unlock();
    cpu::sti();
    process::exit_with(ExitKind::Signaled(SIGABRT as u8))
}

/// The precompiled `core` of the linux-gnu target is built for unwinding and
/// refers to a personality routine; with abort-on-panic it is never called.
#[no_mangle]
extern "C" fn rust_eh_personality() {}

/// Referenced by `core`'s landing pads; never reached since we never unwind.
#[no_mangle]
extern "C" fn _Unwind_Resume() -> ! {
    cpu::halt_forever()
}
