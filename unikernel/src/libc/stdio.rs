//! `<stdio.h>` over fds 0, 1 and 2: stdout is line-buffered, stderr is
//! unbuffered, stdin is buffered for reads. There is no `fopen`.

use core::cell::UnsafeCell;
use core::ffi::c_char;
use core::fmt;

use super::format::{format, ArgSource};
use super::va::{VaList, VaListTag};
use super::{cstr, errno};
use crate::process;

const BUF: usize = 4096;

/// A C `FILE`.
#[derive(Debug)]
pub struct File {
    fd: i32,
    line_buffered: bool,
    unbuffered: bool,
    out: UnsafeCell<[u8; BUF]>,
    out_len: UnsafeCell<usize>,
    inp: UnsafeCell<[u8; BUF]>,
    in_pos: UnsafeCell<usize>,
    in_len: UnsafeCell<usize>,
    eof: UnsafeCell<bool>,
    error: UnsafeCell<bool>,
}

// SAFETY: one thread; interrupt handlers never touch stdio.
unsafe impl Sync for File {}

const fn file(fd: i32, line_buffered: bool, unbuffered: bool) -> File {
    File {
        fd,
        line_buffered,
        unbuffered,
        out: UnsafeCell::new([0; BUF]),
        out_len: UnsafeCell::new(0),
        inp: UnsafeCell::new([0; BUF]),
        in_pos: UnsafeCell::new(0),
        in_len: UnsafeCell::new(0),
        eof: UnsafeCell::new(false),
        error: UnsafeCell::new(false),
    }
}

static STDIN_FILE: File = file(0, false, false);
static STDOUT_FILE: File = file(1, true, false);
static STDERR_FILE: File = file(2, false, true);

/// `stdin`.
#[no_mangle]
#[allow(non_upper_case_globals)]
pub static mut stdin: *const File = &STDIN_FILE;
/// `stdout`.
#[no_mangle]
#[allow(non_upper_case_globals)]
pub static mut stdout: *const File = &STDOUT_FILE;
/// `stderr`.
#[no_mangle]
#[allow(non_upper_case_globals)]
pub static mut stderr: *const File = &STDERR_FILE;

impl File {
    fn flush(&self) -> bool {
        // SAFETY: single-threaded; no other borrow of the buffer is live.
        let (buf, len) = unsafe { (&*self.out.get(), &mut *self.out_len.get()) };
        let result = process::write_all(self.fd, &buf[..*len]);
        if let Err(e) = result {
            log::warn!(
                "stdio: writing {} bytes to fd {} failed: {e}",
                *len,
                self.fd
            );
        }
        let ok = result.is_ok();
        *len = 0;
        if !ok {
            // SAFETY: as above.
            unsafe { *self.error.get() = true };
        }
        ok
    }

    fn put(&self, mut bytes: &[u8]) {
        if self.unbuffered {
            if process::write_all(self.fd, bytes).is_err() {
                // SAFETY: single-threaded.
                unsafe { *self.error.get() = true };
            }
            return;
        }
        while !bytes.is_empty() {
            // SAFETY: single-threaded; the borrows end before `flush`.
            let flush_now = unsafe {
                let (buf, len) = (&mut *self.out.get(), &mut *self.out_len.get());
                let k = bytes.len().min(BUF - *len);
                buf[*len..*len + k].copy_from_slice(&bytes[..k]);
                *len += k;
                let newline = self.line_buffered && bytes[..k].contains(&b'\n');
                bytes = &bytes[k..];
                *len == BUF || newline
            };
            if flush_now {
                self.flush();
            }
        }
    }

    fn getc(&self) -> i32 {
        // SAFETY: single-threaded; the borrows are confined to this call.
        unsafe {
            let (pos, len) = (&mut *self.in_pos.get(), &mut *self.in_len.get());
            if *pos == *len {
                if self.fd == 0 {
                    STDOUT_FILE.flush();
                }
                match process::read(self.fd, &mut *self.inp.get()) {
                    Ok(0) => {
                        *self.eof.get() = true;
                        return -1;
                    }
                    Ok(n) => {
                        *pos = 0;
                        *len = n;
                    }
                    Err(e) => {
                        errno::set(e);
                        *self.error.get() = true;
                        return -1;
                    }
                }
            }
            let c = (*self.inp.get())[*pos];
            *pos += 1;
            i32::from(c)
        }
    }
}

/// Flushes stdout and stderr (at exit).
pub fn flush_all() {
    STDOUT_FILE.flush();
    STDERR_FILE.flush();
}

fn file_ref<'a>(f: *const File) -> &'a File {
    // SAFETY: C code only holds the `FILE *`s this module handed out, which are statics.
    unsafe { f.as_ref() }.unwrap_or(&STDOUT_FILE)
}

struct Writer<'a>(&'a File);

impl fmt::Write for Writer<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.put(s.as_bytes());
        Ok(())
    }
}

/// Backs `unikernel::print!`.
pub fn rust_print(args: fmt::Arguments<'_>) {
    let _ = fmt::Write::write_fmt(&mut Writer(&STDOUT_FILE), args);
}

/// Backs `unikernel::eprintln!`.
pub fn rust_eprint(args: fmt::Arguments<'_>) {
    let _ = fmt::Write::write_fmt(&mut Writer(&STDERR_FILE), args);
}

/// Formats a C format with a `va_list` into a sink.
///
/// # Safety
///
/// `fmt` is NUL-terminated; `ap` matches it.
unsafe fn vformat(fmt: *const c_char, ap: *mut VaListTag, out: &mut dyn FnMut(&[u8])) -> i32 {
    let mut args = VaList(ap);
    // SAFETY: the caller guarantees the format and its arguments match.
    unsafe { format(cstr(fmt), &mut args as &mut dyn ArgSource, out) as i32 }
}

/// `vfprintf`.
///
/// # Safety
///
/// C's contract for `vfprintf`.
#[no_mangle]
pub unsafe extern "C" fn vfprintf(f: *const File, fmt: *const c_char, ap: *mut VaListTag) -> i32 {
    let f = file_ref(f);
    // SAFETY: forwarded contract.
    unsafe { vformat(fmt, ap, &mut |b| f.put(b)) }
}

/// `vprintf`.
///
/// # Safety
///
/// C's contract for `vprintf`.
#[no_mangle]
pub unsafe extern "C" fn vprintf(fmt: *const c_char, ap: *mut VaListTag) -> i32 {
    // SAFETY: forwarded contract.
    unsafe { vfprintf(&STDOUT_FILE, fmt, ap) }
}

/// `vdprintf`.
///
/// # Safety
///
/// C's contract for `vdprintf`.
#[no_mangle]
pub unsafe extern "C" fn vdprintf(fd: i32, fmt: *const c_char, ap: *mut VaListTag) -> i32 {
    let mut buf = alloc::vec::Vec::new();
    // SAFETY: forwarded contract.
    let n = unsafe { vformat(fmt, ap, &mut |b| buf.extend_from_slice(b)) };
    match process::write_all(fd, &buf) {
        Ok(()) => n,
        Err(e) => {
            errno::set(e);
            -1
        }
    }
}

/// `vsnprintf`: at most `size - 1` bytes plus a NUL; returns the full length.
///
/// # Safety
///
/// C's contract for `vsnprintf`.
#[no_mangle]
pub unsafe extern "C" fn vsnprintf(
    buf: *mut c_char,
    size: usize,
    fmt: *const c_char,
    ap: *mut VaListTag,
) -> i32 {
    let mut at = 0usize;
    let room = size.saturating_sub(1);
    // SAFETY: forwarded contract; writes stay below `room`.
    let n = unsafe {
        vformat(fmt, ap, &mut |b| {
            let k = b.len().min(room.saturating_sub(at));
            core::ptr::copy_nonoverlapping(b.as_ptr(), buf.add(at).cast(), k);
            at += k;
        })
    };
    if size > 0 {
        // SAFETY: `at <= size - 1`.
        unsafe { *buf.add(at) = 0 };
    }
    n
}

/// `vsprintf`.
///
/// # Safety
///
/// C's contract for `vsprintf`: `buf` is large enough.
#[no_mangle]
pub unsafe extern "C" fn vsprintf(buf: *mut c_char, fmt: *const c_char, ap: *mut VaListTag) -> i32 {
    // SAFETY: forwarded contract.
    unsafe { vsnprintf(buf, usize::MAX, fmt, ap) }
}

/// `fputs`.
///
/// # Safety
///
/// `s` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn fputs(s: *const c_char, f: *const File) -> i32 {
    // SAFETY: as documented.
    file_ref(f).put(unsafe { cstr(s) });
    0
}

/// `puts`.
///
/// # Safety
///
/// `s` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn puts(s: *const c_char) -> i32 {
    // SAFETY: as documented.
    STDOUT_FILE.put(unsafe { cstr(s) });
    STDOUT_FILE.put(b"\n");
    0
}

/// `fputc`.
#[no_mangle]
pub extern "C" fn fputc(c: i32, f: *const File) -> i32 {
    file_ref(f).put(&[c as u8]);
    c & 0xff
}

/// `putc`.
#[no_mangle]
pub extern "C" fn putc(c: i32, f: *const File) -> i32 {
    fputc(c, f)
}

/// `putchar`.
#[no_mangle]
pub extern "C" fn putchar(c: i32) -> i32 {
    fputc(c, &STDOUT_FILE)
}

/// `fwrite`.
///
/// # Safety
///
/// `p` has `size * n` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn fwrite(p: *const u8, size: usize, n: usize, f: *const File) -> usize {
    let total = size.saturating_mul(n);
    // SAFETY: as documented.
    file_ref(f).put(unsafe { core::slice::from_raw_parts(p, total) });
    n
}

/// `fflush` (NULL flushes all).
#[no_mangle]
pub extern "C" fn fflush(f: *const File) -> i32 {
    if f.is_null() {
        flush_all();
        return 0;
    }
    if file_ref(f).flush() {
        0
    } else {
        -1
    }
}

/// `fgetc`.
#[no_mangle]
pub extern "C" fn fgetc(f: *const File) -> i32 {
    file_ref(f).getc()
}

/// `getc`.
#[no_mangle]
pub extern "C" fn getc(f: *const File) -> i32 {
    fgetc(f)
}

/// `getchar`.
#[no_mangle]
pub extern "C" fn getchar() -> i32 {
    STDIN_FILE.getc()
}

/// `fgets`.
///
/// # Safety
///
/// `buf` has `size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn fgets(buf: *mut c_char, size: i32, f: *const File) -> *mut c_char {
    let f = file_ref(f);
    let mut n = 0usize;
    while (n as i32) < size - 1 {
        let c = f.getc();
        if c < 0 {
            break;
        }
        // SAFETY: `n < size - 1`.
        unsafe { *buf.add(n) = c as c_char };
        n += 1;
        if c == i32::from(b'\n') {
            break;
        }
    }
    if n == 0 || size <= 0 {
        return core::ptr::null_mut();
    }
    // SAFETY: `n <= size - 1`.
    unsafe { *buf.add(n) = 0 };
    buf
}

/// `fread`.
///
/// # Safety
///
/// `p` has `size * n` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn fread(p: *mut u8, size: usize, n: usize, f: *const File) -> usize {
    let f = file_ref(f);
    let total = size.saturating_mul(n);
    let mut got = 0;
    while got < total {
        let c = f.getc();
        if c < 0 {
            break;
        }
        // SAFETY: `got < total`.
        unsafe { *p.add(got) = c as u8 };
        got += 1;
    }
    got.checked_div(size).unwrap_or(0)
}

/// `feof`.
#[no_mangle]
pub extern "C" fn feof(f: *const File) -> i32 {
    // SAFETY: single-threaded read of a flag.
    i32::from(unsafe { *file_ref(f).eof.get() })
}

/// `ferror`.
#[no_mangle]
pub extern "C" fn ferror(f: *const File) -> i32 {
    // SAFETY: single-threaded read of a flag.
    i32::from(unsafe { *file_ref(f).error.get() })
}

/// `fileno`.
#[no_mangle]
pub extern "C" fn fileno(f: *const File) -> i32 {
    file_ref(f).fd
}

/// `setvbuf`: accepted and ignored (stdout stays line-buffered).
#[no_mangle]
pub extern "C" fn setvbuf(_f: *const File, _buf: *mut c_char, _mode: i32, _size: usize) -> i32 {
    0
}

/// `perror`.
///
/// # Safety
///
/// `s` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn perror(s: *const c_char) {
    // SAFETY: reading our own errno.
    let e = unsafe { *errno::__errno_location() };
    let msg = errno::message(e);
    if !s.is_null() {
        // SAFETY: as documented.
        let s = unsafe { cstr(s) };
        if !s.is_empty() {
            STDERR_FILE.put(s);
            STDERR_FILE.put(b": ");
        }
    }
    STDERR_FILE.put(&msg[..msg.len() - 1]);
    STDERR_FILE.put(b"\n");
}
