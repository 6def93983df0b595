//! The guest kernel: one `#![no_std]` image that every process VM boots.
//! It loads a static x86-64 Linux ELF program (`ET_EXEC`, or static-pie
//! `ET_DYN`) and runs it unmodified behind the Linux x86-64 syscall ABI.
//! Calls that involve another process (pipes, fds, wait, kill, exit) are
//! virtio-pipe requests to the tree's daemon; the rest (memory, time,
//! signals, identity) are answered here.
//!
//! # Running a program
//!
//! ```sh
//! guest-kernel/build-image                   # -> target/images/guest-kernel
//! vhost-user-pipe run --root DIR sh -c 'echo hi | tr a-z A-Z'
//! ```
//!
//! Every process VM boots this image; the program is the file of the
//! tree's root the device names (`GET_EXE`), its argv and environment the
//! device's `GET_ARGS`. A VM launched by hand (`serve`) takes the program
//! from the first PVH module (`-initrd`) and argv from the command line
//! (`-append`, after any `kernel.*` options: `kernel.debug`,
//! `kernel.strace`, `kernel.tsc_khz=`); `qemu-configs/README.md` has the
//! QEMU line.
//!
//! # Design
//!
//! * **Programs run in ring 3** and enter with `syscall`. Page protection
//!   keeps the kernel intact against a program's wild writes (the daemon
//!   is never fed garbage), CPU faults become the right signals,
//!   interrupts and syscalls never run on the program's stack (no red-zone
//!   hazard), and `syscall`/`sysretq` is the path that is fast and correct
//!   under KVM. One CPU, one user thread: the entry switches to a static
//!   kernel stack without `swapgs` (`arch::x86_64::syscall_entry` says why);
//!   the kernel never uses FS or GS, so the program's TLS base is its own.
//! * **Memory** (`arch::layout`): the kernel is linked and loaded at 1 MiB,
//!   identity-mapped and supervisor-only, and ends below 4 MiB (a
//!   link-time `ASSERT` in `link.ld`, and a test); all RAM is also mapped
//!   at `0xffff_8000_0000_0000` (supervisor, NX) for the heap, page tables
//!   and frames; device registers sit in an uncached window at
//!   `0xffff_c000_0000_0000`. The user half is `[4 MiB, 0x7fff_ffff_f000)`:
//!   `ET_EXEC` segments where linked, static-pie at `0x5555_5555_4000`,
//!   `brk` after the highest segment, anonymous `mmap` top-down from 128 MiB
//!   below the stack, an 8 MiB stack at the top. User pages get frames on
//!   first touch.
//! * **Layers point one way**: `arch` < `mem` < `drivers` < `loader` <
//!   `process` < `syscalls` < `runtime`. The interrupt and syscall entries
//!   (arch) reach the upper layers only through `interrupts::Hooks`, which
//!   the runtime registers at boot.
//! * **Signals** are delivered on every way back to ring 3 (after a
//!   syscall, an interrupt or an exception), on a Linux `rt_sigframe`
//!   (siginfo, ucontext, the `fxsave` FPU image), returning through the
//!   program's `sa_restorer` and `rt_sigreturn`. A kernel bug (CPU
//!   exception in ring 0, panic) ends the process as killed by SIGKILL,
//!   so the parent can tell it from the program's own crash.
//! * **No XSAVE**: CR4.OSXSAVE stays off, so CPUID tells programs that AVX
//!   is unusable and libc picks SSE code; the 512-byte `fxsave` image is
//!   then the whole FPU state, for syscalls, interrupts and signal frames.
//!
//! * **Processes**: `fork` is a new VM on a copy of the RAM that resumes
//!   from a record of the statics (`process::fork`); `vfork` runs the child
//!   in this VM until it execs or exits (`process::vfork`); `execve`
//!   replaces the program in place (`process::exec`). `README.md` has the
//!   designs.
//!
//! # Statics (what `fork` carries)
//!
//! Kernel state lives on the heap and in frames, which a fork child's copy
//! of RAM keeps. The statics, which QEMU's ELF loader rewrites in the
//! child, travel in the resume record (`arch::x86_64::resume`): all of
//! `.data` and `.bss` except what belongs to the VM, which `link.ld` puts
//! first in `.bss`.
//!
//! | static | where | in a fork child |
//! |---|---|---|
//! | boot page tables, boot stack, start info address, entry TSC | `arch::x86_64::boot` (`.bss.boot`) | not carried: the child's own (a child landed in a parked VM holds the parent's bytes: the same page tables, dead stack bytes, the parent's start info address, and the entry TSC the landing kept in a register) |
//! | kernel stack, `syscall` scratch word | `arch::x86_64::syscall_entry` (`.bss.kstack`) | not carried: the child enters the program from a frame in the record (landed: the parent's dead bytes) |
//! | the live PML4's address | `arch::x86_64::paging` | carried (the child's boot loads it into CR3) |
//! | GDT, TSS, IST stacks; IDT; interrupt hooks | `arch::x86_64::{gdt, interrupts}` | carried, then loaded into this CPU again |
//! | TSC/LAPIC calibration, wall-clock epoch, monotonic base | `arch::x86_64::time` | carried, then rebased |
//! | LAPIC address, serial port | `arch::x86_64::{apic, serial}` | carried, then initialised again |
//! | heap allocator state | `mem::heap` | carried |
//! | frame allocator (a pointer to its heap bitmap) | `mem::frames` | carried |
//! | the device | `drivers::pipe` | carried, forgotten, initialised from reset |
//! | the process (a heap pointer; its lock, held by the parent's syscall) | `process::CURRENT` | carried, lock released |
//! | the fork child entry | `process::fork` | carried |
//! | logger level | `logger`, `log` | carried |

#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod arch;
#[cfg(not(test))]
pub mod drivers;
pub mod linux;
pub mod loader;
#[cfg(not(test))]
mod logger;
pub mod mem;
pub mod process;
#[cfg(not(test))]
pub mod runtime;
pub mod syscalls;
