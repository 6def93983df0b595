//! Turning events and faults into signals, and delivering them on the way
//! back to user mode.
//!
//! * Device events: `SIGNAL` (from `kill` in another process),
//!   `CHILD_EXIT` (`SIGCHLD`) and `CHILD_STATE` (`SIGCHLD` with
//!   `CLD_STOPPED` or `CLD_CONTINUED`, unless `SA_NOCLDSTOP`). The device also sends `SIGPIPE` (sender 0)
//!   after a `WRITE` fails with `EPIPE`; the kernel raises `SIGPIPE`
//!   itself when it sees the `EPIPE`, before `write` returns, as Linux
//!   does, so that event is dropped.
//! * CPU faults in ring 3 become SIGSEGV (page fault, #GP), SIGILL (#UD),
//!   SIGFPE (#DE, x87/SIMD errors), SIGBUS (#AC, #SS), SIGTRAP (#BP, #DB).
//! * Delivery runs a handler on a Linux `rt_sigframe` (`signals.rs`),
//!   stops the process (the device's `STOP`, which returns once it is
//!   continued), or ends the process (`EXIT` with the signaled flag: the parent's `wait`
//!   sees "killed by N").

use core::sync::atomic::Ordering;

use virtio_pipe_protocol::{Event, ExitKind};

use super::signals::{build_frame, enter_handler, frame_layout, Delivery};
use super::{alarm, device, vfork, Process};
use crate::arch::x86_64::frame::TrapFrame;
use crate::arch::x86_64::interrupts::DEVICE_IRQ;
use crate::arch::x86_64::time;
use crate::drivers::pipe as dev;
use crate::linux::sig::*;
use crate::linux::{Errno, Siginfo, FXSAVE_SIZE};
use crate::mem::address_space::{Access, Fault};

/// The device's sender pid for signals it sends itself (`SIGPIPE`).
const DEVICE_SENDER: u32 = 0;

/// Polls the device if it interrupted, and turns its events into signals.
pub fn collect_events(p: &mut Process) {
    if DEVICE_IRQ.swap(false, Ordering::AcqRel) {
        dev::poll();
    }
    take_events(p);
    alarm::check(p);
}

/// Turns the events the driver has collected into signals. They are the
/// VM owner's: while a vfork child borrows the VM, the outermost
/// suspended parent's (the device holds the child's own, spec 1.6.22).
fn take_events(p: &mut Process) {
    let signals = match p.vfork_parents.first_mut() {
        Some(owner) => &mut owner.signals,
        None => &mut p.signals,
    };
    while let Some(ev) = dev::pop_event() {
        match ev {
            Event::Signal { signo, sender } => {
                if signo == SIGPIPE && sender == DEVICE_SENDER {
                    continue;
                }
                signals.raise(signo, Siginfo::kill(signo, SI_USER, sender, 0));
            }
            Event::ChildExit { pid, status } => {
                signals.raise(SIGCHLD, child_siginfo(pid, status));
            }
            Event::ChildState { pid, status } => {
                let nocldstop = signals
                    .action(SIGCHLD)
                    .is_some_and(|a| a.flags & SA_NOCLDSTOP != 0);
                if !nocldstop {
                    signals.raise(SIGCHLD, child_siginfo(pid, status));
                }
            }
        }
    }
}

/// The `SIGCHLD` info of child `pid` whose wait status is `status`:
/// exited, killed, stopped or continued (what `waitid` reports too).
pub fn child_siginfo(pid: u32, status: u32) -> Siginfo {
    let (code, value) = if status == 0xffff {
        (CLD_CONTINUED, SIGCONT as i32)
    } else if status & 0xff == 0x7f {
        (CLD_STOPPED, ((status >> 8) & 0xff) as i32)
    } else if status & 0x7f == 0 {
        (CLD_EXITED, ((status >> 8) & 0xff) as i32)
    } else {
        (CLD_KILLED, (status & 0x7f) as i32)
    };
    Siginfo::child(code, pid, value)
}

/// Whether a signal is waiting that would interrupt a sleep: one that is
/// not blocked and not ignored. Polls the device whatever its interrupt
/// flag says (a sleeping caller has consumed it).
pub fn interrupting_signal(p: &mut Process) -> bool {
    DEVICE_IRQ.store(false, Ordering::Release);
    dev::poll();
    take_events(p);
    alarm::check(p);
    p.signals.has_deliverable()
}

/// Ends the process, killed by `signo`. A vfork child's end resumes its
/// parent, whose context `f` then holds; any other process's end powers
/// the VM off.
fn die(p: &mut Process, f: &mut TrapFrame, signo: u32) {
    log::info!("pid {}: killed by signal {signo}", p.pid);
    // The device knows signals 1..=31; a real-time signal ends the
    // process as SIGKILL would.
    let s = if signo <= 31 { signo } else { SIGKILL };
    if vfork::is_child(p) {
        vfork::exit(p, f, ExitKind::Signaled(s as u8));
        return;
    }
    device::exit(ExitKind::Signaled(s as u8))
}

/// The length of the `syscall` instruction, which a restart runs again.
const SYSCALL_LEN: u64 = 2;

/// Settles a syscall that a signal interrupted (`p.restart`, with
/// `ERESTARTSYS` or `ERESTARTNOHAND` in `rax`), as Linux's
/// `handle_signal` does: before a handler runs, `EINTR` unless the call
/// restarts after it (`ERESTARTSYS` and `SA_RESTART`); with no handler to
/// run, the call restarts (its `syscall` instruction runs again with the
/// same arguments).
fn restart_or_eintr(p: &mut Process, f: &mut TrapFrame, handler_flags: Option<u64>) {
    let Some(nr) = p.restart.take() else {
        return;
    };
    let restartsys = f.rax == (-(Errno::ERESTARTSYS.0 as i64)) as u64;
    let restart = match handler_flags {
        None => true,
        Some(flags) => restartsys && flags & SA_RESTART != 0,
    };
    if restart {
        f.rax = nr;
        f.rip -= SYSCALL_LEN;
        f.rcx = f.rip;
    } else {
        f.rax = (-(Errno::EINTR.0 as i64)) as u64;
    }
}

/// Delivers every deliverable signal to the context in `f`.
pub fn deliver(p: &mut Process, f: &mut TrapFrame) {
    collect_events(p);
    loop {
        let oldmask = p.signals.mask;
        let Some((signo, info, d)) = p.signals.take_next() else {
            restart_or_eintr(p, f, None);
            // A call that waited with a mask of its own and ran no handler
            // gives the program its mask back.
            if let Some(saved) = p.signals.saved_mask.take() {
                p.signals.mask = saved;
            }
            time::arm_for_alarm();
            return;
        };
        match d {
            Delivery::Discard => {}
            Delivery::Stop => {
                log::debug!("pid {}: stopped by signal {signo}", p.pid);
                // Returns once another process continues this one.
                if let Err(e) = device::stop(signo) {
                    log::info!("pid {}: STOP: {e}", p.pid);
                }
                collect_events(p);
            }
            Delivery::Terminate => {
                if is_fault(signo) {
                    log::info!(
                        "pid {}: fatal signal {signo} at rip {:#x}, address {:#x}",
                        p.pid,
                        f.rip,
                        p.fault_addr
                    );
                }
                die(p, f, signo)
            }
            Delivery::Handle(act) => {
                restart_or_eintr(p, f, Some(act.flags));
                if act.flags & SA_RESTORER == 0 {
                    log::info!("pid {}: handler for {signo} without SA_RESTORER", p.pid);
                    die(p, f, SIGSEGV);
                    continue;
                }
                // The handler's frame saves the mask to return to: the
                // program's own, not one a waiting call put in its place.
                let oldmask = p.signals.saved_mask.take().unwrap_or(oldmask);
                let layout = frame_layout(&p.signals, &act, f.rsp);
                let cr2 = if is_fault(signo) { p.fault_addr } else { 0 };
                let frame = build_frame(&p.signals, f, &act, info, oldmask, &layout, cr2);
                let fx: [u8; FXSAVE_SIZE] = f.fx;
                let written = p
                    .space
                    .write(layout.fpstate, &fx)
                    .and_then(|()| p.space.write(layout.frame, &frame));
                if written.is_err() {
                    log::info!(
                        "pid {}: no room for the frame of signal {signo} at {:#x}",
                        p.pid,
                        layout.frame
                    );
                    die(p, f, SIGSEGV);
                    continue;
                }
                enter_handler(f, signo, &act, &layout);
            }
        }
    }
}

fn is_fault(signo: u32) -> bool {
    matches!(signo, SIGSEGV | SIGBUS | SIGILL | SIGFPE | SIGTRAP)
}

/// A CPU exception in ring 3: a page fault is served if the page is
/// mapped; anything else becomes its signal.
pub fn user_exception(p: &mut Process, f: &TrapFrame, cr2: u64) {
    const PF_WRITE: u64 = 1 << 1;
    const PF_FETCH: u64 = 1 << 4;
    let (signo, code, addr) = match f.vector {
        14 => {
            let access = if f.error & PF_FETCH != 0 {
                Access::Execute
            } else if f.error & PF_WRITE != 0 {
                Access::Write
            } else {
                Access::Read
            };
            match p.space.fault(cr2, access) {
                Ok(()) => return,
                Err(Fault::Unmapped) => (SIGSEGV, SEGV_MAPERR, cr2),
                Err(Fault::Protection) => (SIGSEGV, SEGV_ACCERR, cr2),
                Err(Fault::OutOfMemory) => {
                    log::warn!("pid {}: out of memory at {cr2:#x}", p.pid);
                    (SIGKILL, SI_KERNEL, cr2)
                }
            }
        }
        0 => (SIGFPE, FPE_INTDIV, f.rip),
        16 | 19 => (SIGFPE, FPE_FLTINV, f.rip),
        6 => (SIGILL, ILL_ILLOPN, f.rip),
        1 | 3 => (SIGTRAP, TRAP_BRKPT, f.rip),
        12 => (SIGBUS, SI_KERNEL, 0),
        17 => (SIGBUS, BUS_ADRALN, 0),
        _ => (SIGSEGV, SI_KERNEL, 0),
    };
    p.fault_addr = addr;
    p.signals.force(signo, Siginfo::fault(signo, code, addr));
}
