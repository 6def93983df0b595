//! `<unistd.h>` and `<fcntl.h>`: fds, pipes, pids, sleeping.

use core::ffi::c_char;

use virtio_pipe_protocol::{Errno, O_NONBLOCK};

use super::errno::{self, ret};
use super::format::ArgSource;
use super::va::{VaList, VaListTag};
use crate::arch::x86_64::time;
use crate::process;

/// `read`.
///
/// # Safety
///
/// `buf` has `n` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn read(fd: i32, buf: *mut u8, n: usize) -> isize {
    // SAFETY: as documented.
    let b = unsafe { core::slice::from_raw_parts_mut(buf, n) };
    ret(process::read(fd, b), |v| v as i64) as isize
}

/// `write`.
///
/// # Safety
///
/// `buf` has `n` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn write(fd: i32, buf: *const u8, n: usize) -> isize {
    if fd == 1 || fd == 2 {
        super::stdio::flush_all();
    }
    // SAFETY: as documented.
    let b = unsafe { core::slice::from_raw_parts(buf, n) };
    ret(process::write(fd, b), |v| v as i64) as isize
}

/// `close`.
#[no_mangle]
pub extern "C" fn close(fd: i32) -> i32 {
    if fd == 1 || fd == 2 {
        super::stdio::flush_all();
    }
    ret(process::close(fd), |_| 0) as i32
}

/// `pipe`.
///
/// # Safety
///
/// `fds` points at two ints.
#[no_mangle]
pub unsafe extern "C" fn pipe(fds: *mut i32) -> i32 {
    // SAFETY: as documented.
    unsafe { pipe2(fds, 0) }
}

/// `pipe2` (`O_NONBLOCK`; `O_CLOEXEC` is accepted and meaningless here).
///
/// # Safety
///
/// `fds` points at two ints.
#[no_mangle]
pub unsafe extern "C" fn pipe2(fds: *mut i32, flags: i32) -> i32 {
    ret(process::pipe2(flags as u32 & O_NONBLOCK), |p| {
        // SAFETY: as documented.
        unsafe {
            *fds = p[0];
            *fds.add(1) = p[1];
        }
        0
    }) as i32
}

/// `dup`.
#[no_mangle]
pub extern "C" fn dup(fd: i32) -> i32 {
    ret(process::dup(fd), i64::from) as i32
}

/// `dup2`.
#[no_mangle]
pub extern "C" fn dup2(fd: i32, newfd: i32) -> i32 {
    if newfd == 1 || newfd == 2 {
        super::stdio::flush_all();
    }
    ret(process::dup2(fd, newfd), i64::from) as i32
}

const F_DUPFD: i32 = 0;
const F_GETFD: i32 = 1;
const F_SETFD: i32 = 2;
const F_GETFL: i32 = 3;
const F_SETFL: i32 = 4;

/// The body of `fcntl(fd, cmd, ...)`; the variadic shim passes the `va_list`.
///
/// # Safety
///
/// `ap` is the shim's va_list.
#[no_mangle]
pub unsafe extern "C" fn unikernel_vfcntl(fd: i32, cmd: i32, ap: *mut VaListTag) -> i32 {
    let mut args = VaList(ap);
    match cmd {
        F_GETFL => ret(process::get_flags(fd), i64::from) as i32,
        F_SETFL => ret(process::set_flags(fd, args.next_int() as u32), |_| 0) as i32,
        F_GETFD => ret(process::get_flags(fd).map(|_| 0), |_| 0) as i32,
        F_SETFD => 0,
        F_DUPFD => {
            let _min = args.next_int();
            ret(process::dup(fd), i64::from) as i32
        }
        _ => {
            errno::set(Errno::Einval);
            -1
        }
    }
}

/// `fork`: the child's pid in the parent, 0 in the child, -1 with errno
/// (`EAGAIN` at the process limit, `ENOMEM`, `ENOSYS` without the device's
/// fork feature). stdout and stderr are flushed first (see `process::fork`).
#[no_mangle]
pub extern "C" fn fork() -> i32 {
    ret(process::fork(), i64::from) as i32
}

/// `getpid`.
#[no_mangle]
pub extern "C" fn getpid() -> i32 {
    process::getpid()
}

/// `getppid`.
#[no_mangle]
pub extern "C" fn getppid() -> i32 {
    process::getppid()
}

/// `sleep`.
#[no_mangle]
pub extern "C" fn sleep(seconds: u32) -> u32 {
    time::sleep_ns(u64::from(seconds) * 1_000_000_000);
    0
}

/// `usleep`.
#[no_mangle]
pub extern "C" fn usleep(us: u32) -> i32 {
    time::sleep_ns(u64::from(us) * 1_000);
    0
}

/// `isatty`: nothing here is a terminal.
#[no_mangle]
pub extern "C" fn isatty(_fd: i32) -> i32 {
    errno::set_raw(25); // ENOTTY
    0
}

/// `getcwd`: there is no filesystem; the working directory is "/".
///
/// # Safety
///
/// `buf` has `size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn getcwd(buf: *mut c_char, size: usize) -> *mut c_char {
    if size < 2 {
        errno::set(Errno::Erange);
        return core::ptr::null_mut();
    }
    // SAFETY: as documented.
    unsafe {
        *buf = b'/' as c_char;
        *buf.add(1) = 0;
    }
    buf
}
