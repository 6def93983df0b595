//! `fork()`: the `FORK` request, the resume record, and the child's resume.
//!
//! The parent (single-threaded, no request in flight):
//!
//! 1. flushes stdio and allocates the resume record on the heap (heap RAM
//!    is not rewritten when the child boots);
//! 2. calls [`fork_snapshot`], which saves the callee-saved registers and
//!    copies `.data` and `.bss` (the statics, CPU and page tables and the
//!    boot stack this code runs on, less its unused part) into the record;
//! 3. publishes the record's address in the mailbox after the image (see
//!    [`super::fork_record`]) and submits `FORK(record)`, waiting without
//!    touching `eventq` or the heap (`drv-fork-quiesce`);
//! 4. clears the mailbox, frees the record and returns the child's pid.
//!
//! The child's VM boots the same image on a copy of that RAM. Its boot code
//! finds the mailbox before `rust_entry`, and [`fork_child_restore`] copies
//! the sections back, clears the mailbox and returns from `fork_snapshot`
//! a second time, now with 1, with interrupts off, on the parent's stack.
//! [`resume_child`] then sets up what belongs to the VM rather than to the
//! program: GDT/TSS, IDT, PIC/LAPIC, the clock's epoch, the serial port and
//! the virtio-pipe device from reset (the parent's device state in the copy
//! is forgotten, its queue memory leaked), checks that `START` says forked
//! with this record, and `fork()` returns 0.

use alloc::alloc::{alloc, dealloc, Layout};
use core::arch::{asm, global_asm};
use core::ptr::{addr_of, addr_of_mut};

use guest_virtio_driver::Features;
use virtio_pipe_protocol::signal::SIGABRT;
use virtio_pipe_protocol::{Errno, ExitKind, Request};

use super::fork_record::{self, off, Mailbox, RecordHeader, RECORD_MAGIC};
use super::{args, signal, Pid};
use crate::arch::x86_64::{boot, cpu, time};
use crate::drivers::pipe as dev;
use crate::kprintln;

global_asm!(
    r#"
    .section .text.fork, "ax"

    // u64 fork_snapshot(RecordHeader *rec): saves the callee-saved state
    // and copies the record's ranges into it; returns 0. The child returns
    // from it a second time, with 1 (see fork_child_restore).
    .global fork_snapshot
fork_snapshot:
    mov [rdi + {rbx}], rbx
    mov [rdi + {rbp}], rbp
    mov [rdi + {r12}], r12
    mov [rdi + {r13}], r13
    mov [rdi + {r14}], r14
    mov [rdi + {r15}], r15
    lea rax, [rsp + 8]
    mov [rdi + {rsp}], rax
    mov rax, [rsp]
    mov [rdi + {rip}], rax
    pushfq
    pop rax
    mov [rdi + {rflags}], rax
    stmxcsr [rdi + {mxcsr}]
    fnstcw [rdi + {fpucw}]
    mov r8, rdi
    mov r9, [r8 + {nranges}]
    lea r10, [r8 + {ranges}]
2:
    test r9, r9
    jz 3f
    mov rsi, [r10]
    mov rcx, [r10 + {range_len}]
    mov rdi, [r10 + {range_offset}]
    add rdi, r8
    rep movsb
    add r10, {range_size}
    dec r9
    jmp 2b
3:
    xor eax, eax
    ret

    // The fork child's boot jumps here from pvh_entry (long mode, boot
    // GDT, no IDT, interrupts off) with rdi = the record the mailbox named.
    // Nothing here may use .data or .bss until the copy is done: they are
    // being overwritten, boot stack included.
    .global fork_child_restore
fork_child_restore:
    mov rbx, rdi
    mov r12, [rip + boot_tsc]
    mov r13, [rip + boot_start_info]
    lea rsp, [rbx + {scratch_top}]
    mov r14, [rbx + {nranges}]
    lea r15, [rbx + {ranges}]
    cld
2:
    test r14, r14
    jz 3f
    mov rdi, [r15]
    mov rcx, [r15 + {range_len}]
    mov rsi, [r15 + {range_offset}]
    add rsi, rbx
    rep movsb
    add r15, {range_size}
    dec r14
    jmp 2b
3:
    // This VM's entry TSC and start info, not the parent's.
    mov [rip + boot_tsc], r12
    mov [rip + boot_start_info], r13
    xor eax, eax
    mov [rip + __kernel_end], rax
    mov [rip + __kernel_end + 8], rax
    mov [rip + __kernel_end + 16], rax
    // The page tables were rewritten (with the same identity map).
    mov rax, cr3
    mov cr3, rax
    ldmxcsr [rbx + {mxcsr}]
    fldcw [rbx + {fpucw}]
    mov rax, [rbx + {rflags}]
    and rax, -513
    push rax
    popfq
    mov rbp, [rbx + {rbp}]
    mov r12, [rbx + {r12}]
    mov r13, [rbx + {r13}]
    mov r14, [rbx + {r14}]
    mov r15, [rbx + {r15}]
    mov rsp, [rbx + {rsp}]
    mov rcx, [rbx + {rip}]
    mov rbx, [rbx + {rbx}]
    mov eax, 1
    jmp rcx
"#,
    rbx = const off::RBX,
    rbp = const off::RBP,
    r12 = const off::R12,
    r13 = const off::R13,
    r14 = const off::R14,
    r15 = const off::R15,
    rsp = const off::RSP,
    rip = const off::RIP,
    rflags = const off::RFLAGS,
    mxcsr = const off::MXCSR,
    fpucw = const off::FPUCW,
    nranges = const off::NRANGES,
    ranges = const off::RANGES,
    range_len = const off::RANGE_LEN,
    range_offset = const off::RANGE_OFFSET,
    range_size = const off::RANGE_SIZE,
    scratch_top = const off::SCRATCH_TOP,
);

extern "C" {
    /// Saves the context and the record's ranges; 0 in the parent, 1 in the child.
    fn fork_snapshot(rec: *mut RecordHeader) -> u64;
    static __data_start: u8;
    static __bss_end: u8;
    static __kernel_end: u8;
    static boot_stack_bottom: u8;
    static boot_stack_top: u8;
}

fn mailbox() -> *mut Mailbox {
    addr_of!(__kernel_end) as *mut Mailbox
}

fn set_mailbox(m: Mailbox) {
    // SAFETY: the mailbox page right after the image is reserved (the heap
    // starts a page later, see `mem::heap`), identity-mapped and only ever
    // written here and by `fork_child_restore`.
    unsafe { mailbox().write_volatile(m) };
}

fn plan() -> fork_record::Plan {
    let rsp: u64;
    // SAFETY: reads the stack pointer.
    unsafe { asm!("mov {}, rsp", out(reg) rsp, options(nomem, nostack, preserves_flags)) };
    let sections = [(addr_of!(__data_start) as u64, addr_of!(__bss_end) as u64)];
    let hole = fork_record::stack_hole(
        addr_of!(boot_stack_bottom) as u64,
        addr_of!(boot_stack_top) as u64,
        rsp,
    );
    fork_record::plan(&sections, hole)
}

fn ms(ticks: u64) -> (u64, u64) {
    let us = time::tsc_to_ns(ticks) / 1_000;
    (us / 1_000, us % 1_000)
}

/// Creates a child process that is a copy of this one: `Ok(child pid)` in
/// the parent, `Ok(0)` in the child.
///
/// Buffered stdio is flushed first, so the child does not repeat it. Fails
/// with `ENOSYS` if the device lacks `VIRTIO_PIPE_F_FORK` (or RAM is too
/// small to keep the image clear of the firmware), `ENOMEM` if the
/// resume record does not fit in the heap, and with the device's `EAGAIN`
/// at the process limit.
#[inline(never)]
pub fn fork() -> Result<Pid, Errno> {
    if !dev::has_feature(Features::FORK) || !crate::mem::heap::fork_safe() {
        return Err(Errno::Enosys);
    }
    crate::libc::stdio::flush_all();
    let t0 = cpu::rdtsc();
    let plan = plan();
    let layout = Layout::from_size_align(plan.size, 4096).map_err(|_| Errno::Enomem)?;
    // SAFETY: the layout has a non-zero size (the header alone is bigger than 4 KiB).
    let rec = unsafe { alloc(layout) } as *mut RecordHeader;
    if rec.is_null() {
        return Err(Errno::Enomem);
    }
    // SAFETY: `rec` is a fresh allocation of `plan.size` >= size_of::<RecordHeader>()
    // bytes, aligned for it; the fields are plain integers.
    unsafe {
        addr_of_mut!((*rec).magic).write(RECORD_MAGIC);
        addr_of_mut!((*rec).size).write(plan.size as u64);
        addr_of_mut!((*rec).nranges).write(plan.n as u64);
        addr_of_mut!((*rec).ranges).write(plan.ranges);
        addr_of_mut!((*rec).parent_mono_ticks).write(time::monotonic_ticks());
        addr_of_mut!((*rec).parent_real_ns).write(time::realtime_ns());
    }
    // No allocation, free or device request from here until FORK completes:
    // the record's copy of the allocator must match the heap the device copies.
    // SAFETY: `rec` is a record with valid ranges (the image's own sections,
    // identity-mapped) whose copies fit in it (the plan sized it).
    if unsafe { fork_snapshot(rec) } != 0 {
        return resume_child(rec, layout);
    }
    let t1 = cpu::rdtsc();
    set_mailbox(Mailbox::publish(rec as u64));
    let done = dev::request_quiesced(&Request::Fork { resume: rec as u64 }.header());
    set_mailbox(Mailbox::default());
    // SAFETY: allocated above with `layout`; the device no longer reads it.
    unsafe { dealloc(rec.cast(), layout) };
    dev::poll();
    signal::deliver_pending();
    let pid = done.map_err(|e| e.errno())?.rets()?[0] as Pid;
    let t2 = cpu::rdtsc();
    let (snap, snap_us) = ms(t1 - t0);
    let (req, req_us) = ms(t2 - t1);
    log::info!(
        "fork: child {pid}: snapshot {} KiB in {snap}.{snap_us:03} ms, FORK {req}.{req_us:03} ms",
        plan.saved_bytes() / 1024
    );
    Ok(pid)
}

fn die(what: core::fmt::Arguments<'_>) -> ! {
    kprintln!("unikernel: fork child: {what}");
    super::exit_with(ExitKind::Signaled(SIGABRT as u8))
}

/// The child's half of [`fork`], entered with interrupts off on the
/// parent's restored stack.
fn resume_child(rec: *mut RecordHeader, layout: Layout) -> Result<Pid, Errno> {
    let t_resume = cpu::rdtsc();
    crate::runtime::init_vm_after_fork();
    // SAFETY: the record is intact in our copy of the heap; we read two integers.
    let (mono, real) = unsafe { ((*rec).parent_mono_ticks, (*rec).parent_real_ns) };
    time::rebase_after_fork(mono, real);
    cpu::sti();
    let t_cpu = cpu::rdtsc();
    if let Err(e) = dev::reinit_after_fork() {
        die(format_args!("{e}"));
    }
    let t_dev = cpu::rdtsc();
    match args::start() {
        Ok(args::Start::Forked(at)) if at == rec as u64 => {}
        other => die(format_args!(
            "START answered {other:?}, expected forked with record {rec:p}"
        )),
    }
    // SAFETY: allocated by the parent's `fork` with `layout`; our allocator
    // state (restored with .bss) still lists it as allocated.
    unsafe { dealloc(rec.cast(), layout) };
    let t_start = cpu::rdtsc();
    let entry = boot::entry_tsc();
    let [fw, restore, cpu, dev, start, total] = [
        entry,
        t_resume - entry,
        t_cpu - t_resume,
        t_dev - t_cpu,
        t_start - t_dev,
        t_start - entry,
    ]
    .map(ms);
    log::info!(
        "fork-child: entry-to-fork-return {}.{:03} ms (boot+restore {}.{:03}, CPU+clock {}.{:03}, \
         device {}.{:03}, START {}.{:03}); TSC at entry {}.{:03} ms",
        total.0,
        total.1,
        restore.0,
        restore.1,
        cpu.0,
        cpu.1,
        dev.0,
        dev.1,
        start.0,
        start.1,
        fw.0,
        fw.1
    );
    Ok(0)
}
