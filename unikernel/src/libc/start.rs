//! argv and envp for C's `main`, built over the `GET_ARGS` blob.

use alloc::vec::Vec;
use core::ffi::c_char;
use core::ptr;

use virtio_pipe_protocol::{ArgsBlob, Errno};

use crate::process::args;

/// `environ`: the NULL-terminated environment.
#[no_mangle]
#[allow(non_upper_case_globals)]
pub static mut environ: *const *const c_char = ptr::null();

/// Builds NULL-terminated argv and envp arrays whose strings point into
/// the args blob (its strings are NUL-terminated already).
pub fn c_args() -> Result<(&'static [*const u8], &'static [*const u8]), Errno> {
    let blob = args::fetch()?;
    let parsed = ArgsBlob::parse(blob).map_err(|e| e.errno())?;
    let mut argv: Vec<*const u8> = parsed.argv.iter().map(<[u8]>::as_ptr).collect();
    argv.push(ptr::null());
    let mut envp: Vec<*const u8> = parsed.env.iter().map(<[u8]>::as_ptr).collect();
    envp.push(ptr::null());
    let (argv, envp) = (Vec::leak(argv), Vec::leak(envp));
    // SAFETY: set once before `main`; single-threaded.
    unsafe { environ = envp.as_ptr().cast() };
    Ok((argv, envp))
}
