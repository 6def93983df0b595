//! The host terminal: the daemon's own stdin, stdout or stderr when one is
//! a terminal. Its modes and window size are read and set with the
//! kernel's own ioctls (`TCGETS`, `TCSETS*`, `TIOCGWINSZ`, `TIOCSWINSZ`),
//! so the guest's `struct termios` passes through byte for byte, with no
//! libc translation. The modes found at start are saved ([`save`]) and
//! put back when the daemon ends: on return from `run` ([`Saved`]'s drop)
//! and on a signal that ends it ([`restore_saved`], `signals.rs`).

use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::sync::Mutex;

use virtio_pipe_protocol::tty::{TCGETS, TCSETS, TCSETSF, TCSETSW, TIOCGWINSZ, TIOCSWINSZ};
use virtio_pipe_protocol::{SetWhen, Termios, Winsize};
use zerocopy::FromZeros;

/// The daemon's standard stream `fd` (0, 1 or 2), borrowed.
fn stdio(fd: u32) -> BorrowedFd<'static> {
    // SAFETY: the daemon's fds 0, 1 and 2 stay open for its whole life
    // (nothing in it closes them).
    unsafe { BorrowedFd::borrow_raw(fd.min(2) as RawFd) }
}

/// `ioctl(fd, request, arg)` with a pointer argument.
///
/// # Safety
///
/// `arg` must point to memory valid for what `request` reads or writes.
unsafe fn ioctl_ptr<T>(fd: BorrowedFd<'_>, request: u32, arg: *mut T) -> std::io::Result<()> {
    // SAFETY: the caller vouches for `arg`; `fd` is open for the borrow.
    if unsafe { libc::ioctl(fd.as_raw_fd(), request as libc::c_ulong, arg) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// The terminal modes of `fd`.
pub fn get_attr(fd: BorrowedFd<'_>) -> std::io::Result<Termios> {
    let mut t = Termios::new_zeroed();
    // SAFETY: TCGETS writes the kernel's 36-byte `struct termios`, which
    // `Termios` is (`virtio_pipe_protocol::tty`).
    unsafe { ioctl_ptr(fd, TCGETS, &mut t)? };
    Ok(t)
}

/// Sets the terminal modes of `fd`.
pub fn set_attr(fd: BorrowedFd<'_>, when: SetWhen, t: &Termios) -> std::io::Result<()> {
    let request = match when {
        SetWhen::Now => TCSETS,
        SetWhen::Drain => TCSETSW,
        SetWhen::Flush => TCSETSF,
    };
    let mut t = *t;
    // SAFETY: TCSETS* read the kernel's `struct termios` (36 bytes).
    unsafe { ioctl_ptr(fd, request, &mut t) }
}

/// The window size of `fd`.
pub fn get_winsize(fd: BorrowedFd<'_>) -> std::io::Result<Winsize> {
    let mut ws = Winsize::new_zeroed();
    // SAFETY: TIOCGWINSZ writes a `struct winsize` (8 bytes).
    unsafe { ioctl_ptr(fd, TIOCGWINSZ, &mut ws)? };
    Ok(ws)
}

/// Sets the window size of `fd`.
pub fn set_winsize(fd: BorrowedFd<'_>, ws: &Winsize) -> std::io::Result<()> {
    let mut ws = *ws;
    // SAFETY: TIOCSWINSZ reads a `struct winsize` (8 bytes).
    unsafe { ioctl_ptr(fd, TIOCSWINSZ, &mut ws) }
}

/// The host terminal on the daemon's fds 0, 1 and 2 (the kernel's
/// `HostTerminal`, `kernel/tty.rs`).
#[derive(Debug, Clone, Copy, Default)]
pub struct HostTty;

impl HostTty {
    /// The modes of the daemon's fd `fd`.
    pub fn get_attr(&self, fd: u32) -> std::io::Result<Termios> {
        get_attr(stdio(fd))
    }

    /// Sets the modes of the daemon's fd `fd`.
    pub fn set_attr(&self, fd: u32, when: SetWhen, t: &Termios) -> std::io::Result<()> {
        set_attr(stdio(fd), when, t)
    }

    /// The window size of the daemon's fd `fd`.
    pub fn get_winsize(&self, fd: u32) -> std::io::Result<Winsize> {
        get_winsize(stdio(fd))
    }

    /// Sets the window size of the daemon's fd `fd`.
    pub fn set_winsize(&self, fd: u32, ws: &Winsize) -> std::io::Result<()> {
        set_winsize(stdio(fd), ws)
    }
}

/// The modes to put back at exit: the fd and its modes at start.
static SAVED: Mutex<Option<(RawFd, Termios)>> = Mutex::new(None);

fn saved() -> std::sync::MutexGuard<'static, Option<(RawFd, Termios)>> {
    SAVED.lock().unwrap_or_else(|e| e.into_inner())
}

/// The modes of the host terminal as the daemon found them; put back when
/// dropped (and by [`restore_saved`] on a signal).
#[derive(Debug)]
pub struct Saved {
    fd: RawFd,
}

/// Saves the modes of the first of the daemon's fds 0, 1 and 2 that is a
/// terminal (in an interactive shell they are one terminal); `None` when
/// none is.
pub fn save(ttys: [bool; 3]) -> Option<Saved> {
    let fd = ttys.iter().position(|t| *t)? as u32;
    save_fd(stdio(fd))
}

/// Saves the modes of terminal `fd`, which must stay open while saved
/// (the daemon's stdio does).
pub fn save_fd(fd: BorrowedFd<'_>) -> Option<Saved> {
    let modes = get_attr(fd).ok()?;
    let fd = fd.as_raw_fd();
    *saved() = Some((fd, modes));
    Some(Saved { fd })
}

/// Puts the saved modes back, if any were saved; callable from any
/// thread (the signal thread calls it before the daemon exits).
pub fn restore_saved() {
    if let Some((fd, modes)) = *saved() {
        // SAFETY: a saved fd stays open while saved (`save_fd`); the
        // daemon's are its stdio, open for its whole life.
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        if let Err(e) = set_attr(borrowed, SetWhen::Now, &modes) {
            log::warn!("restoring the terminal's modes on fd {fd}: {e}");
        }
    }
}

impl Drop for Saved {
    fn drop(&mut self) {
        restore_saved();
        let mut s = saved();
        if s.is_some_and(|(fd, _)| fd == self.fd) {
            *s = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::fd::{AsFd, FromRawFd, OwnedFd};

    use virtio_pipe_protocol::tty::{ECHO, ICANON};
    use zerocopy::little_endian::U16;

    use super::*;

    /// A fresh pseudo-terminal pair: (master, slave).
    fn pty() -> (OwnedFd, OwnedFd) {
        let (mut m, mut s) = (-1, -1);
        // SAFETY: openpty(3) writes two fds into the ints we own; the
        // name, modes and size pointers may be null.
        let r = unsafe {
            libc::openpty(
                &mut m,
                &mut s,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(r, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: openpty returned two fds that nothing else owns.
        unsafe { (OwnedFd::from_raw_fd(m), OwnedFd::from_raw_fd(s)) }
    }

    #[test]
    fn modes_round_trip_byte_for_byte() {
        let (_m, s) = pty();
        let before = get_attr(s.as_fd()).unwrap();
        let mut raw = before;
        raw.c_lflag.set(before.c_lflag.get() & !(ICANON | ECHO));
        raw.c_cc[6] = 1; // VMIN
        set_attr(s.as_fd(), SetWhen::Drain, &raw).unwrap();
        let now = get_attr(s.as_fd()).unwrap();
        assert_eq!(now.c_lflag.get() & (ICANON | ECHO), 0);
        assert_eq!(now, raw);
        set_attr(s.as_fd(), SetWhen::Now, &before).unwrap();
        assert_eq!(get_attr(s.as_fd()).unwrap(), before, "restored");
    }

    #[test]
    fn the_window_size_is_the_terminals() {
        let (m, s) = pty();
        let ws = Winsize {
            ws_row: U16::new(30),
            ws_col: U16::new(100),
            ..Winsize::default()
        };
        set_winsize(m.as_fd(), &ws).unwrap();
        assert_eq!(get_winsize(s.as_fd()).unwrap(), ws);
    }

    #[test]
    fn a_pipe_is_not_a_terminal() {
        let (r, _w) = std::io::pipe().unwrap();
        let e = get_attr(r.as_fd()).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOTTY));
    }

    #[test]
    fn nothing_is_saved_without_a_terminal() {
        assert!(save([false; 3]).is_none());
        let (r, _w) = std::io::pipe().unwrap();
        assert!(save_fd(r.as_fd()).is_none());
    }

    /// What `run` does: save at start, and put back on a signal (the
    /// signal thread's `restore_saved`) or at the end (the guard's drop),
    /// whatever the tree set meanwhile.
    #[test]
    fn the_saved_modes_come_back_on_a_signal_and_at_the_end() {
        let (_m, s) = pty();
        let start = get_attr(s.as_fd()).unwrap();
        let guard = save_fd(s.as_fd()).expect("a terminal");
        let mut raw = start;
        raw.c_lflag.set(start.c_lflag.get() & !(ICANON | ECHO));
        set_attr(s.as_fd(), SetWhen::Now, &raw).unwrap();
        restore_saved();
        assert_eq!(get_attr(s.as_fd()).unwrap(), start, "on a signal");
        set_attr(s.as_fd(), SetWhen::Now, &raw).unwrap();
        drop(guard);
        assert_eq!(get_attr(s.as_fd()).unwrap(), start, "at the end");
        assert!(saved().is_none(), "nothing left to restore");
    }
}
