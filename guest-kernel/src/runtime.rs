//! Boot to the program and the hooks the lower layers call: the Rust entry
//! after long mode, the hooks for syscalls, user faults and the way back
//! to user mode, the kernel-bug path and the panic handler.
//!
//! Boot order: serial → GDT/TSS/IDT → memory (direct map trimmed to RAM,
//! heap, frames) → log → APICs and clocks → `syscall` MSRs → the device
//! (`START`, `GETPID`, `GET_ARGS`) → the program (the file of the tree's
//! root that `GET_EXE` names, else the first PVH module; argv from the
//! command line or `GET_ARGS`) → ring 3. A fork child's boot leaves this
//! path before `rust_entry` (`arch::x86_64::resume`) and comes back in
//! `fork_child_entry`; so does a parked VM whose `START` answers land
//! (`land`), once the device has copied the parent's RAM into it.

use alloc::vec::Vec;
use core::panic::PanicInfo;

use virtio_pipe_protocol::{ExitKind, StartKind};

use crate::arch::layout::{page_up, phys_to_virt, IDENTITY_END, KERNEL_BASE, PAGE_SIZE};
use crate::arch::x86_64::frame::TrapFrame;
use crate::arch::x86_64::interrupts::{self, Hooks};
use crate::arch::x86_64::{
    apic, boot, cpu, gdt, paging, random, resume, serial, syscall_entry, time,
};
use crate::drivers::{debug_exit, hal, pipe};
use crate::linux::sig::SIGKILL;
use crate::loader::load::Entry;
use crate::loader::{self, cmdline, MemoryFile};
use crate::mem::frames::{self, FrameBitmap};
use crate::mem::{firmware, heap, start_info};
use crate::process::device::Strings;
use crate::process::{self, deliver, device, exec, fork, Process};
use crate::{kprintln, logger, syscalls};

/// Smallest kernel heap: the device's queues, bounce buffers, the area map.
const HEAP_MIN: u64 = 4 << 20;
/// Largest kernel heap.
const HEAP_MAX: u64 = 64 << 20;
/// The heap takes this fraction of RAM (1/16), within the bounds above.
const HEAP_SHARE: u64 = 16;
/// RAM below this is firmware's and the PVH loader's (never handed out).
const LOW_MEMORY: u64 = 1 << 20;
/// RAM the direct map covers (the boot tables map the first 4 GiB).
const DIRECT_MAPPED: u64 = 4 << 30;
/// Most memory-map entries read.
const MEMMAP_MAX: usize = 32;

extern "C" {
    static __kernel_end: u8;
}

/// Halts with a message: the kernel cannot even report to the device.
fn boot_failure(what: core::fmt::Arguments<'_>) -> ! {
    kprintln!("guest-kernel: {what}");
    debug_exit::poweroff(debug_exit::value_for_signal(SIGKILL as u8))
}

/// Ends the process after a boot step failed, telling the device.
fn fail(what: core::fmt::Arguments<'_>) -> ! {
    kprintln!("guest-kernel: {what}");
    device::exit(ExitKind::Signaled(SIGKILL as u8))
}

/// Sets up the heap and the frame allocator, and moves the page tables
/// into frames. Returns the heap's physical range.
fn init_memory() -> (u64, u64) {
    let mut map = [(0, 0, false); MEMMAP_MAX];
    let n = start_info::memmap(&mut map);
    let map = &map[..n];
    if map.is_empty() {
        boot_failure(format_args!("no PVH memory map"));
    }
    let is_ram = |lo: u64, hi: u64| {
        map.iter()
            .any(|&(a, len, ram)| ram && a < hi && lo < a + len)
    };
    paging::trim_direct_map(&is_ram);
    // The RAM the direct map covers.
    let ram = || {
        map.iter()
            .filter(|e| e.2 && e.0 < DIRECT_MAPPED)
            .map(|e| (e.0, (e.0 + e.1).min(DIRECT_MAPPED)))
    };
    let top = ram().map(|r| r.1).max().unwrap_or(0);

    let image_end = page_up(core::ptr::addr_of!(__kernel_end) as u64).unwrap_or(IDENTITY_END);
    let heap_size = (top / HEAP_SHARE).clamp(HEAP_MIN, HEAP_MAX);
    // The page after the image is the fork mailbox (`arch::x86_64::resume`).
    let heap_lo = image_end + PAGE_SIZE;
    let heap_hi = heap_lo + heap_size;
    if !ram().any(|(lo, hi)| lo <= heap_lo && heap_hi <= hi) {
        boot_failure(format_args!(
            "no room for a {heap_size:#x}-byte heap above the image in {top:#x} bytes of RAM"
        ));
    }
    heap::init(heap_lo, heap_hi);

    let mut bitmap = FrameBitmap::new(0, top);
    for (lo, hi) in ram() {
        bitmap.release_range(lo, hi);
    }
    bitmap.reserve_range(0, LOW_MEMORY);
    bitmap.reserve_range(KERNEL_BASE, heap_hi);
    let mut boot_data = [(0, 0); 8];
    let k = start_info::boot_data(&mut boot_data);
    for &(lo, hi) in &boot_data[..k] {
        bitmap.reserve_range(lo, hi);
    }
    // The firmware's boot scratch near the top of the RAM that holds the
    // kernel: kept free, so a fork child's copy of every frame survives
    // its boot (`process::fork`).
    let region_end = ram()
        .find(|&(lo, hi)| lo <= KERNEL_BASE && KERNEL_BASE < hi)
        .map_or(top, |r| r.1);
    let mut entries = [(0, 0); MEMMAP_MAX];
    for (e, &(a, len, _)) in entries.iter_mut().zip(map) {
        *e = (a, len);
    }
    for (lo, hi) in firmware::scratch(firmware::ram_top(region_end, &entries[..n])) {
        bitmap.reserve_range(lo, hi);
    }
    frames::init(bitmap);
    paging::move_to_frames(&mut || frames::alloc_zeroed())
        .unwrap_or_else(|_| boot_failure(format_args!("no frames for the page tables")));
    (heap_lo, heap_hi)
}

/// Brings up what belongs to this VM's CPU rather than to the process:
/// SMEP, the PICs off, the LAPIC, the `syscall` MSRs. Both a fresh boot
/// and a fork child run it, after the GDT and IDT.
fn init_cpu() {
    if cpu::has_smep() {
        const CR4_SMEP: u64 = 1 << 20;
        // SAFETY: CPUID reports SMEP; the kernel never executes user pages.
        unsafe { cpu::cr4_set(CR4_SMEP) };
    }
    apic::disable_pic();
    let lapic = hal::map_mmio(apic::lapic_phys(), 0x1000)
        .unwrap_or_else(|| boot_failure(format_args!("cannot map the LAPIC")));
    apic::init_lapic(lapic);
    syscall_entry::init();
}

/// Called by `boot` in long mode on the boot stack, interrupts off.
#[no_mangle]
extern "C" fn rust_entry() -> ! {
    serial::init();
    gdt::init(syscall_entry::kernel_stack_top());
    interrupts::init();
    interrupts::set_hooks(Hooks {
        syscall: on_syscall,
        user_exception: on_user_exception,
        kernel_exception: on_kernel_exception,
        return_to_user: on_return_to_user,
    });
    fork::set_child_entry(fork_child_entry);
    let (heap_lo, heap_hi) = init_memory();
    let line = start_info::cmdline();
    let cmd = cmdline::parse(&line);
    logger::init(cmd.has(b"debug"));
    log::debug!(
        "heap {heap_lo:#x}..{heap_hi:#x}, {} frames free",
        frames::free_frames()
    );
    init_cpu();
    time::init(cmd.number(b"tsc_khz"));
    log::debug!(
        "TSC {} kHz ({:?}), random source {:?}",
        time::tsc_hz() / 1_000,
        time::tsc_source(),
        random::source()
    );

    match pipe::init() {
        Ok(at) => log::debug!("virtio-pipe at {at:?}"),
        Err(e) => boot_failure(format_args!("{e}")),
    }
    let umask = match device::start() {
        Ok(device::Started {
            kind: StartKind::Fresh,
            umask,
            ..
        }) => umask,
        Ok(device::Started {
            kind: StartKind::Land,
            ..
        }) => land(),
        Ok(device::Started { record, .. }) => fail(format_args!(
            "START says forked (record {record:#x}) but no resume record was found"
        )),
        Err(e) => fail(format_args!("START failed: {e}")),
    };
    let (pid, ppid) = device::getpid().unwrap_or_else(|e| fail(format_args!("GETPID failed: {e}")));
    let (dev_argv, env) =
        device::get_args().unwrap_or_else(|e| fail(format_args!("GET_ARGS failed: {e}")));
    let argv = if cmd.argv.is_empty() {
        dev_argv
    } else {
        cmd.argv
    };

    let mut p = Process::new(pid, ppid);
    p.umask = umask;
    p.strace = cmd.options.iter().any(|o| o == b"strace");
    p.mxcsr_mask = cpu::mxcsr_mask();
    let entry = match device::get_exe() {
        Ok(path) => load_from_root(&mut p, &path, argv, &env),
        Err(e) => {
            log::debug!("GET_EXE: {e}: the program is the first PVH module");
            load_module(&mut p, argv, &env)
        }
    };
    log::debug!(
        "pid {pid}: entry {:#x}, stack {:#x}, brk {:#x}",
        entry.rip,
        entry.rsp,
        p.space.brk
    );
    process::install(p);
    let boot_ns = time::monotonic_ns();
    let entry_us = time::tsc_to_ns(boot::entry_tsc()) / 1_000;
    log::info!(
        "boot-to-user {}.{:03} ms; TSC at entry {}.{:03} ms",
        boot_ns / 1_000_000,
        (boot_ns / 1_000) % 1_000,
        entry_us / 1_000,
        entry_us % 1_000
    );
    let frame = TrapFrame::program_start(entry.rip, entry.rsp);
    // SAFETY: the frame is a ring-3 context in the program just loaded;
    // the kernel stack is unused (this runs on the boot stack).
    unsafe { interrupts::enter_user(&frame) }
}

/// `START` answered land: this parked VM becomes the child of a `FORK`
/// (spec `drv-start-land`). Resets the device, then waits on the boot page
/// tables for the parent's RAM and resumes from its record
/// (`resume::land`); comes back in `fork_child_entry`.
fn land() -> ! {
    log::debug!("START says land: waiting for the parent's memory");
    if !pipe::reset_for_landing() {
        // The status did not read back 0 in time; the front-end handles
        // the write synchronously, so go on: the device will not land
        // a VM that does not answer (it falls back to a cold fork).
        kprintln!("guest-kernel: landing: the device status did not read back 0");
    }
    // SAFETY: START answered land and the device is reset; nothing of
    // this VM's own state is needed any more.
    unsafe { resume::land() }
}

/// A fork child's entry, called by `resume::resume_if_forked` on the boot
/// stack with interrupts off, once the parent's statics are back: brings
/// up this VM's CPU and device, takes the process's new identity and
/// enters the program where the parent's syscall was, with 0 in `rax`.
extern "C" fn fork_child_entry(record: u64) -> ! {
    serial::init();
    gdt::init(syscall_entry::kernel_stack_top());
    interrupts::init();
    init_cpu();
    // SAFETY: the boot code resumed from this record, which the parent
    // wrote on the heap this VM has a copy of.
    let frame = unsafe { fork::resume_child(record) }
        .unwrap_or_else(|e| fail(format_args!("fork child cannot resume: {e}")));
    // SAFETY: the frame is the parent's ring-3 context at its syscall, in
    // this copy of its address space; this runs on the boot stack.
    unsafe { interrupts::enter_user(&frame) }
}

/// Loads the program the device names (`GET_EXE`) from the tree's root.
fn load_from_root(p: &mut Process, path: &[u8], argv: Strings, env: &Strings) -> Entry {
    let prog = exec::Program::open(path, argv).unwrap_or_else(|e| {
        fail(format_args!(
            "cannot open the program {}: {e}",
            exec::Bytes(path)
        ))
    });
    let argv = prog.argv_refs();
    let env: Vec<&[u8]> = env.iter().map(Vec::as_slice).collect();
    let entry = loader::load::load(&mut p.space, &prog.file, &argv, &env, path)
        .unwrap_or_else(|e| fail(format_args!("cannot run {}: {e}", exec::Bytes(path))));
    prog.close();
    exec::set_names(p, path);
    entry
}

/// Loads the program from the first PVH module (`-initrd`): a VM launched
/// by hand, whose daemon serves no program.
fn load_module(p: &mut Process, argv: Strings, env: &Strings) -> Entry {
    let Some((mod_pa, mod_size)) = start_info::module(0) else {
        fail(format_args!(
            "no program: the device names none (GET_EXE) and there is no PVH module (-initrd)"
        ))
    };
    // SAFETY: the module is RAM the loader filled and the frame allocator
    // keeps out (`boot_data`), reached through the direct map, and nothing
    // writes it while this borrow lives.
    let image = unsafe {
        core::slice::from_raw_parts(phys_to_virt(mod_pa) as *const u8, mod_size as usize)
    };
    let execfn: Vec<u8> = argv.first().cloned().unwrap_or_default();
    let argv_refs: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
    let env_refs: Vec<&[u8]> = env.iter().map(Vec::as_slice).collect();
    let entry = loader::load::load(
        &mut p.space,
        &MemoryFile(image),
        &argv_refs,
        &env_refs,
        &execfn,
    )
    .unwrap_or_else(|e| fail(format_args!("cannot run the program: {e}")));
    exec::set_names(p, &execfn);
    entry
}

fn with_process<R>(f: impl FnOnce(&mut Process) -> R) -> R {
    let mut g = process::current();
    let p = g.as_mut().expect("the process is installed before ring 3");
    f(p)
}

fn on_syscall(f: &mut TrapFrame) {
    with_process(|p| syscalls::dispatch(p, f));
}

fn on_return_to_user(f: &mut TrapFrame) {
    with_process(|p| deliver::deliver(p, f));
}

fn on_user_exception(f: &mut TrapFrame, cr2: u64) {
    with_process(|p| deliver::user_exception(p, f, cr2));
}

/// Stops the process after a kernel bug: the device reports it killed
/// (`SIGKILL`: not the program's doing, unlike its own SIGSEGV or SIGABRT).
fn kernel_death() -> ! {
    pipe::force_unlock();
    process::force_unlock();
    heap::force_unlock();
    device::exit(ExitKind::Signaled(SIGKILL as u8))
}

fn on_kernel_exception(f: &TrapFrame, cr2: u64) -> ! {
    serial::write_fmt_emergency(format_args!(
        "guest-kernel: CPU exception {} (error {:#x}) in the kernel at rip {:#x}, cr2 {cr2:#x}, rsp {:#x}\n",
        f.vector, f.error, f.rip, f.rsp
    ));
    kernel_death()
}

/// A kernel panic: log it and stop the process as killed.
pub fn panic(info: &PanicInfo<'_>) -> ! {
    serial::write_fmt_emergency(format_args!("guest-kernel: panic: {info}\n"));
    kernel_death()
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
