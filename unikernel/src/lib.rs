//! A small x86_64 unikernel runtime for multi-process POSIX programs.
//!
//! Each process is its own VM. The runtime boots from QEMU's `-kernel` via
//! the PVH entry (on `-M microvm` and `-M q35` alike), brings up the
//! virtio-pipe device (see `guest-virtio-driver`), asks it how to start,
//! fetches argv/env and calls `main`. Pipes, fds, spawn, wait, exit and kill
//! are requests to the device ([`process`]); a C library ([`libc`]) puts
//! POSIX names on them for C programs built with `bin/unikernel-cc`.
//!
//! # Example: a Rust program
//!
//! ```ignore
//! #![no_std]
//! #![no_main]
//! use unikernel::{println, process};
//!
//! fn main() -> i32 {
//!     println!("pid {}", process::getpid());
//!     0
//! }
//! unikernel::entry!(main);
//! ```
//!
//! with a `build.rs` that passes the link arguments (see the README):
//! `unikernel::link_args()`-style lines printed from `DEP_UNIKERNEL_LINKER_SCRIPT`.

#![cfg_attr(not(test), no_std)]

#[cfg_attr(test, allow(unused_extern_crates))]
extern crate alloc;

#[cfg(not(test))]
pub mod arch;
#[cfg(not(test))]
pub mod drivers;
pub mod libc;
#[cfg(not(test))]
mod logger;
#[cfg(not(test))]
pub mod mem;
#[cfg(not(test))]
pub mod process;
#[cfg(not(test))]
mod runtime;

#[cfg(not(test))]
pub use runtime::panic;

/// The panic handler of `libunikernel.a` (built with `--cfg unikernel_staticlib`).
#[cfg(all(not(test), unikernel_staticlib))]
#[panic_handler]
fn panic_handler(info: &core::panic::PanicInfo<'_>) -> ! {
    runtime::panic(info)
}

/// Defines the C `main` the runtime calls, running a Rust `fn() -> i32`
/// whose result is the exit code (stdout is flushed, like C's `exit`), and
/// the image's panic handler.
#[macro_export]
macro_rules! entry {
    ($f:path) => {
        const _: () = {
            #[panic_handler]
            fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
                $crate::panic(info)
            }

            #[no_mangle]
            pub extern "C" fn main(
                _argc: i32,
                _argv: *const *const u8,
                _envp: *const *const u8,
            ) -> i32 {
                let f: fn() -> i32 = $f;
                f()
            }
        };
    };
}

/// Prints to stdout (fd 1, buffered like C's stdout).
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::libc::stdio::rust_print(format_args!($($arg)*)) };
}

/// Prints a line to stdout.
#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => { $crate::libc::stdio::rust_print(format_args!("{}\n", format_args!($($arg)*))) };
}

/// Prints a line to stderr (fd 2, unbuffered).
#[macro_export]
macro_rules! eprintln {
    ($($arg:tt)*) => { $crate::libc::stdio::rust_eprint(format_args!("{}\n", format_args!($($arg)*))) };
}

#[cfg(test)]
pub mod mem {
    //! Host builds (unit tests) see only the pure parts of memory setup.
    pub mod firmware;
}

#[cfg(test)]
pub mod process {
    //! Host builds (unit tests) see only the pure parts of the process API.
    pub mod fork_record;
    pub mod status;
}
