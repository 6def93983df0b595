//! `<spawn.h>`: `posix_spawn` runs a named image from the device's image
//! directory (the basename of `path`), with file actions applied to the
//! child's copy of our fd table.

use alloc::vec::Vec;
use core::ffi::c_char;

use virtio_pipe_protocol::{Errno, FileAction};

use super::cstr;
use crate::process;

/// Actions one `posix_spawn_file_actions_t` holds (matches `<spawn.h>`).
const ACTIONS_MAX: usize = 32;
const KIND_CLOSE: i32 = 1;
const KIND_DUP2: i32 = 2;

/// `posix_spawn_file_actions_t`, laid out as `<spawn.h>` declares it.
#[repr(C)]
#[derive(Debug)]
pub struct FileActions {
    count: i32,
    actions: [[i32; 3]; ACTIONS_MAX],
}

/// `posix_spawn_file_actions_init`.
///
/// # Safety
///
/// `fa` writable.
#[no_mangle]
pub unsafe extern "C" fn posix_spawn_file_actions_init(fa: *mut FileActions) -> i32 {
    // SAFETY: as documented.
    unsafe { (*fa).count = 0 };
    0
}

/// `posix_spawn_file_actions_destroy`.
///
/// # Safety
///
/// `fa` writable.
#[no_mangle]
pub unsafe extern "C" fn posix_spawn_file_actions_destroy(fa: *mut FileActions) -> i32 {
    // SAFETY: as documented.
    unsafe { (*fa).count = 0 };
    0
}

unsafe fn add(fa: *mut FileActions, action: [i32; 3]) -> i32 {
    if action[1] < 0 || action[2] < 0 {
        return Errno::Ebadf.code() as i32;
    }
    // SAFETY: the caller passes an initialised `FileActions`.
    let fa = unsafe { &mut *fa };
    let n = fa.count as usize;
    if n >= ACTIONS_MAX {
        return Errno::Enomem.code() as i32;
    }
    fa.actions[n] = action;
    fa.count += 1;
    0
}

/// `posix_spawn_file_actions_addclose`.
///
/// # Safety
///
/// `fa` initialised.
#[no_mangle]
pub unsafe extern "C" fn posix_spawn_file_actions_addclose(fa: *mut FileActions, fd: i32) -> i32 {
    // SAFETY: as documented.
    unsafe { add(fa, [KIND_CLOSE, fd, 0]) }
}

/// `posix_spawn_file_actions_adddup2`.
///
/// # Safety
///
/// `fa` initialised.
#[no_mangle]
pub unsafe extern "C" fn posix_spawn_file_actions_adddup2(
    fa: *mut FileActions,
    fd: i32,
    newfd: i32,
) -> i32 {
    // SAFETY: as documented.
    unsafe { add(fa, [KIND_DUP2, fd, newfd]) }
}

/// `posix_spawnattr_init`: attributes are accepted and ignored.
#[no_mangle]
pub extern "C" fn posix_spawnattr_init(_attr: *mut u8) -> i32 {
    0
}

/// `posix_spawnattr_destroy`.
#[no_mangle]
pub extern "C" fn posix_spawnattr_destroy(_attr: *mut u8) -> i32 {
    0
}

/// A NULL-terminated `char *const[]` as byte strings.
///
/// # Safety
///
/// `v` NULL or a NULL-terminated array of NUL-terminated strings.
unsafe fn strings<'a>(v: *const *const c_char) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    if v.is_null() {
        return out;
    }
    let mut i = 0;
    // SAFETY: as documented.
    unsafe {
        while !(*v.add(i)).is_null() {
            out.push(cstr(*v.add(i)));
            i += 1;
        }
    }
    out
}

/// `posix_spawn`: returns 0 or an errno value (not -1).
///
/// # Safety
///
/// C's contract for `posix_spawn`.
#[no_mangle]
pub unsafe extern "C" fn posix_spawn(
    pid: *mut i32,
    path: *const c_char,
    fa: *const FileActions,
    _attr: *const u8,
    argv: *const *const c_char,
    envp: *const *const c_char,
) -> i32 {
    // SAFETY: C's contract: `path` is NUL-terminated.
    let path = unsafe { cstr(path) };
    let name = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
    let Ok(name) = core::str::from_utf8(name) else {
        return Errno::Enoent.code() as i32;
    };
    let mut actions = Vec::new();
    // SAFETY: `fa` is NULL or initialised.
    if let Some(fa) = unsafe { fa.as_ref() } {
        for a in &fa.actions[..(fa.count.max(0) as usize).min(ACTIONS_MAX)] {
            actions.push(match a[0] {
                KIND_CLOSE => FileAction::Close { fd: a[1] as u32 },
                _ => FileAction::Dup2 {
                    fd: a[1] as u32,
                    newfd: a[2] as u32,
                },
            });
        }
    }
    // SAFETY: C's contract for argv/envp; a NULL envp means our environment.
    let (argv, env) = unsafe {
        let envp = if envp.is_null() {
            super::start::environ
        } else {
            envp
        };
        (strings(argv), strings(envp))
    };
    super::stdio::flush_all();
    match process::spawn(name, &argv, &env, &actions) {
        Ok(child) => {
            if !pid.is_null() {
                // SAFETY: C's contract.
                unsafe { *pid = child };
            }
            0
        }
        Err(e) => e.code() as i32,
    }
}

/// `posix_spawnp`: the same; images are looked up by name, never by `PATH`.
///
/// # Safety
///
/// As for [`posix_spawn`].
#[no_mangle]
pub unsafe extern "C" fn posix_spawnp(
    pid: *mut i32,
    file: *const c_char,
    fa: *const FileActions,
    attr: *const u8,
    argv: *const *const c_char,
    envp: *const *const c_char,
) -> i32 {
    // SAFETY: same contract.
    unsafe { posix_spawn(pid, file, fa, attr, argv, envp) }
}
