//! `fork()`: a child VM on a copy of this VM's RAM (the device's `FORK`,
//! spec 1.6.15), which resumes the program where the parent's syscall
//! was, with 0 in `rax`.
//!
//! Everything a process is lives in RAM that the copy keeps: the
//! [`Process`] and the kernel's other state on the heap, the program's
//! pages and the page tables in frames. Only the statics are rewritten by
//! the child's boot; they travel in the resume record
//! (`arch::x86_64::resume`), with `ChildState`: the program's registers
//! (the syscall's frame, `rax` = 0), its FS and GS bases (CPU state, not
//! RAM), the parent's clocks and what `clone` asked for the child.
//!
//! The parent, in the syscall, with no request in flight (every device
//! call waits for its completion):
//!
//! 1. allocates the record on the heap (the heap survives the child's
//!    boot) and fills in the child's state;
//! 2. copies the carried statics into it: from here until `FORK`
//!    completes nothing is allocated or freed, so the copy of the heap
//!    allocator in the record matches the heap the device copies
//!    (`drv-fork-quiesce`);
//! 3. publishes the record in the mailbox and submits `FORK(record)`,
//!    waiting without touching `eventq`;
//! 4. takes the mailbox back, frees the record and returns the child's pid.
//!
//! The child's boot code finds the mailbox, restores the statics and
//! calls the runtime's hook (registered with [`set_child_entry`]), which
//! brings up this VM's CPU and then calls [`resume_child`]: clocks,
//! locks, the device from reset, `START` (forked, with this record),
//! `GETPID`, and the process's new identity; the runtime then enters the
//! program with the record's frame.

use alloc::alloc::{alloc, dealloc, Layout};
use core::mem::size_of;
use core::sync::atomic::{AtomicU64, Ordering};

use guest_virtio_driver::Features;
use virtio_pipe_protocol::{Request, StartKind};

use super::clone::CloneRequest;
use super::{device, Process};
use crate::arch::layout::kernel_virt_to_phys;
use crate::arch::x86_64::frame::TrapFrame;
use crate::arch::x86_64::resume::{self, ResumeHeader, RECORD_MAGIC};
use crate::arch::x86_64::{boot, cpu, paging, time};
use crate::drivers::pipe as dev;
use crate::linux::Errno;

/// The runtime's `extern "C" fn(record: u64) -> !` for a fork child (0:
/// none registered, no fork).
static CHILD_ENTRY: AtomicU64 = AtomicU64::new(0);

/// Registers the function a fork child's boot calls (see the module docs).
pub fn set_child_entry(entry: extern "C" fn(u64) -> !) {
    CHILD_ENTRY.store(entry as usize as u64, Ordering::Relaxed);
}

/// What the child needs besides the statics.
#[repr(C)]
#[derive(Debug)]
struct ChildState {
    /// The program's registers in the child.
    frame: TrapFrame,
    /// FS base (TLS).
    fs_base: u64,
    /// GS base.
    gs_base: u64,
    /// The parent's monotonic clock just before the snapshot.
    parent_mono_ns: u64,
    /// The parent's wall clock just before the snapshot.
    parent_real_ns: u64,
    /// `CLONE_CHILD_SETTID` address, or 0.
    child_settid: u64,
    /// `CLONE_CHILD_CLEARTID`: 1 with the address in `child_cleartid`.
    has_child_cleartid: u64,
    /// `CLONE_CHILD_CLEARTID` address.
    child_cleartid: u64,
    /// `CLONE_CLEAR_SIGHAND`: 1 or 0.
    clear_sighand: u64,
    /// The record's guest-physical address (what `START` must answer).
    record_phys: u64,
}

/// The record: the header the boot code reads, then the child's state;
/// the carried statics follow.
#[repr(C, align(16))]
#[derive(Debug)]
struct Record {
    header: ResumeHeader,
    child: ChildState,
}

fn record_layout(size: usize) -> Result<Layout, Errno> {
    Layout::from_size_align(size, 16).map_err(|_| Errno::ENOMEM)
}

fn us(ticks: u64) -> u64 {
    time::tsc_to_ns(ticks) / 1_000
}

/// Creates a child that is a copy of this process, running from the
/// syscall in `f` with `req`'s changes; returns the child's pid.
///
/// `ENOSYS` if the device does not offer `FORK` (a VM the daemon did not
/// launch), `ENOMEM` if the record does not fit the heap, the device's
/// `EAGAIN` at the process limit.
pub fn fork(p: &mut Process, f: &TrapFrame, req: &CloneRequest) -> Result<u32, Errno> {
    let entry = CHILD_ENTRY.load(Ordering::Relaxed);
    if entry == 0 || !dev::has_feature(Features::FORK) {
        log::info!(
            "pid {}: fork: the device does not offer FORK (a VM it did not launch): ENOSYS",
            p.pid
        );
        return Err(Errno::ENOSYS);
    }
    let t0 = cpu::rdtsc();
    let plan = resume::plan(size_of::<Record>(), &resume::carried_sections());
    let layout = record_layout(plan.size)?;
    // SAFETY: the layout's size is at least a `Record`, not zero.
    let rec = unsafe { alloc(layout) }.cast::<Record>();
    if rec.is_null() {
        return Err(Errno::ENOMEM);
    }
    let record_phys = kernel_virt_to_phys(rec as u64).expect("the heap is direct-mapped");
    let mut frame = f.clone();
    frame.rax = 0;
    if let Some(sp) = req.stack {
        frame.rsp = sp;
    }
    let state = Record {
        header: ResumeHeader {
            magic: RECORD_MAGIC,
            size: plan.size as u64,
            cr3: paging::root(),
            entry,
            nranges: plan.n as u64,
            ranges: plan.ranges,
        },
        child: ChildState {
            frame,
            fs_base: req.tls.unwrap_or_else(cpu::fs_base),
            gs_base: cpu::gs_base(),
            parent_mono_ns: time::monotonic_ns(),
            parent_real_ns: time::realtime_ns(),
            child_settid: req.child_settid.unwrap_or(0),
            has_child_cleartid: u64::from(req.child_cleartid.is_some()),
            child_cleartid: req.child_cleartid.unwrap_or(0),
            clear_sighand: u64::from(req.clear_sighand),
            record_phys,
        },
    };
    // SAFETY: `rec` is a fresh allocation of `plan.size` >= size_of::<Record>()
    // bytes, 16-aligned.
    unsafe { rec.write(state) };
    // Nothing is allocated or freed from here until FORK completes.
    // SAFETY: the record holds `plan.size` bytes and the plan's ranges are
    // the image's statics; one CPU, interrupts off.
    unsafe { resume::snapshot(rec.cast(), &plan) };
    let t1 = cpu::rdtsc();
    resume::publish(record_phys);
    let done = dev::request_quiesced(
        &Request::Fork {
            resume: record_phys,
            mailbox: resume::mailbox_phys(),
        }
        .header(),
    );
    resume::unpublish();
    // SAFETY: allocated above with `layout`; the device no longer reads it.
    unsafe { dealloc(rec.cast(), layout) };
    dev::poll();
    let rets = done
        .map_err(|e| Errno::from(e.errno()))?
        .rets()
        .map_err(Errno::from)?;
    let pid = rets[0] as u32;
    let t2 = cpu::rdtsc();
    log::info!(
        "pid {}: fork: child {pid}: snapshot {} KiB in {} us, FORK {} us",
        p.pid,
        plan.carried_bytes() / 1024,
        us(t1 - t0),
        us(t2 - t1)
    );
    Ok(pid)
}

/// Why a fork child could not resume.
#[derive(Clone, Copy, Debug)]
pub enum ResumeError {
    /// The device could not be brought up.
    Device,
    /// `START` failed or did not answer forked with this record.
    Start(Result<(StartKind, u64), Errno>, u64),
    /// `GETPID` failed.
    GetPid(Errno),
}

impl core::fmt::Display for ResumeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ResumeError::Device => write!(f, "no device"),
            ResumeError::Start(got, want) => {
                write!(
                    f,
                    "START answered {got:?}, not forked with record {want:#x}"
                )
            }
            ResumeError::GetPid(e) => write!(f, "GETPID failed: {e}"),
        }
    }
}

/// The fork child's half, called by the runtime's hook once this VM's CPU
/// is up (interrupts off, on the boot stack): returns the program's
/// registers to enter it with.
///
/// # Safety
///
/// `record` must be the record the boot code resumed from (its virtual
/// address), intact in this VM's copy of the heap.
pub unsafe fn resume_child(record: u64) -> Result<TrapFrame, ResumeError> {
    let rec = record as *mut Record;
    // SAFETY: the caller vouches for the record; the boot code checked
    // its magic.
    let (c, size) = unsafe { (&(*rec).child, (*rec).header.size as usize) };
    let t_entry = cpu::rdtsc();
    // This VM's first instruction (firmware before it), or for a child
    // landed in a parked VM the landing (spec `drv-start-land`).
    let entry = boot::entry_tsc().min(t_entry);
    time::rebase_after_fork(c.parent_mono_ns, c.parent_real_ns);
    // The parent's syscall held the process lock when it took the snapshot;
    // that holder does not exist in this VM.
    super::force_unlock();
    dev::forget_after_fork();
    dev::init().map_err(|_| ResumeError::Device)?;
    let t_dev = cpu::rdtsc();
    match device::start() {
        Ok(device::Started {
            kind: StartKind::Forked,
            record,
            ..
        }) if record == c.record_phys => {}
        other => {
            return Err(ResumeError::Start(
                other.map(|s| (s.kind, s.record)),
                c.record_phys,
            ))
        }
    }
    let (pid, ppid) = device::getpid().map_err(ResumeError::GetPid)?;
    {
        let mut g = super::current();
        let p = g.as_mut().expect("the parent had a process");
        p.pid = pid;
        p.ppid = ppid;
        // A vfork child that forks: its parents stay in this VM's past.
        p.vfork_parents.clear();
        p.signals.clear_pending();
        super::alarm::forget();
        if c.clear_sighand != 0 {
            p.signals.reset_handlers();
        }
        if c.has_child_cleartid != 0 {
            p.clear_child_tid = c.child_cleartid;
        }
        if c.child_settid != 0 && p.space.write(c.child_settid, &(pid as i32)).is_err() {
            log::info!(
                "pid {pid}: CLONE_CHILD_SETTID at {:#x}: EFAULT",
                c.child_settid
            );
        }
    }
    cpu::set_fs_base(c.fs_base);
    cpu::set_gs_base(c.gs_base);
    let frame = c.frame.clone();
    let layout = record_layout(size).expect("the parent allocated it so");
    // SAFETY: the parent allocated the record with this layout; the
    // restored allocator state (taken after that allocation) holds it.
    unsafe { dealloc(rec.cast(), layout) };
    let t_done = cpu::rdtsc();
    log::info!(
        "pid {pid}: fork child of {ppid}: entry at {} us, boot {} us, CPU and device {} us, START and GETPID {} us",
        us(entry),
        us(t_entry - entry),
        us(t_dev - t_entry),
        us(t_done - t_dev),
    );
    Ok(frame)
}
