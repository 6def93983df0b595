//! The paths the device serves itself, whatever the root holds there
//! (spec: `dev-file-null`, `dev-write-devices`, `dev-exe-path`):
//! `/dev/null`, `/dev/zero`, `/dev/urandom` and `/dev/random`, `/dev/tty`,
//! `/dev/stdin`, `/dev/stdout`, `/dev/stderr` and `/dev/fd/N` (Linux's
//! links to `/proc/self/fd`), `/proc/self/fd` and its entries,
//! `/proc/self/cmdline`, and `/proc/self/exe`. A process reads them as
//! files; they never reach the host's file system.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use virtio_pipe_protocol::fs::{
    put_dirent, DT_DIR, DT_LNK, O_ACCMODE, O_RDONLY, O_WRONLY, S_IFCHR, S_IFDIR, S_IFREG,
};
use virtio_pipe_protocol::{Errno, RespHeader, Stat, O_NONBLOCK};
use zerocopy::little_endian::{I64, U32, U64};

use super::{done, Kernel};
use crate::fdtable::{Device, End, Ofd, Open};
use crate::files;
use crate::io::Io;
use crate::process::Pid;

/// The path the caller's program is (spec: `dev-exe-path`).
pub(super) const PROC_SELF_EXE: &[u8] = b"/proc/self/exe";
/// The directory of the caller's fds.
const PROC_SELF_FD: &[u8] = b"/proc/self/fd";
/// Largest read of `/dev/zero` or `/dev/urandom` one request gets.
const DEVICE_READ_MAX: usize = 1 << 20;

/// A path the device serves itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Special {
    /// A device node.
    Device(Device),
    /// `/dev/tty`.
    Tty,
    /// `/proc/self/fd`.
    FdDir,
    /// `/proc/self/fd/N` (and its aliases).
    Fd(u32),
    /// `/proc/self/cmdline`.
    Cmdline,
    /// `/proc/self/exe`.
    Exe,
}

impl Special {
    /// The special path `path` (absolute, as joined) is, if any.
    pub(super) fn of(path: &[u8]) -> Option<Self> {
        let fd_number = |rest: &[u8]| -> Option<u32> {
            let s = std::str::from_utf8(rest).ok()?;
            // Linux's own names: digits only, no sign, no leading zero.
            if s.is_empty()
                || !s.bytes().all(|b| b.is_ascii_digit())
                || (s.len() > 1 && s.starts_with('0'))
            {
                return None;
            }
            s.parse().ok()
        };
        Some(match path {
            b"/dev/null" => Special::Device(Device::Null),
            b"/dev/zero" => Special::Device(Device::Zero),
            b"/dev/urandom" | b"/dev/random" => Special::Device(Device::Random),
            b"/dev/tty" => Special::Tty,
            b"/dev/stdin" => Special::Fd(0),
            b"/dev/stdout" => Special::Fd(1),
            b"/dev/stderr" => Special::Fd(2),
            b"/proc/self/fd" | b"/proc/self/fd/" | b"/dev/fd" | b"/dev/fd/" => Special::FdDir,
            b"/proc/self/cmdline" => Special::Cmdline,
            PROC_SELF_EXE => Special::Exe,
            _ => {
                let rest = path
                    .strip_prefix(b"/proc/self/fd/")
                    .or_else(|| path.strip_prefix(b"/dev/fd/"))?;
                Special::Fd(fd_number(rest)?)
            }
        })
    }
}

/// Linux's numbers for the devices: (major, minor).
fn device_number(dev: Device) -> (u32, u32) {
    match dev {
        Device::Null => (1, 3),
        Device::Zero => (1, 5),
        Device::Random => (1, 9),
    }
}

/// The status of a device the daemon serves: a character device, readable
/// and writable by anyone.
fn device_stat(dev: Device) -> Stat {
    let (major, minor) = device_number(dev);
    Stat {
        mode: U32::new(S_IFCHR | 0o666),
        rdev: U64::new(rustix::fs::makedev(major, minor)),
        nlink: U64::new(1),
        blksize: I64::new(4096),
        ..Stat::default()
    }
}

/// The status of a listing (`/proc/self/fd`): a directory only its
/// process reads.
fn listing_stat() -> Stat {
    Stat {
        mode: U32::new(S_IFDIR | 0o500),
        nlink: U64::new(2),
        blksize: I64::new(1024),
        ..Stat::default()
    }
}

/// The status of bytes the daemon makes (`/proc/self/cmdline`): a
/// read-only regular file whose size, as procfs says, is 0.
fn bytes_stat() -> Stat {
    Stat {
        mode: U32::new(S_IFREG | 0o444),
        nlink: U64::new(1),
        blksize: I64::new(1024),
        ..Stat::default()
    }
}

/// Fills `io`'s buffer from a device and completes it.
pub(super) fn read_device(dev: Device, mut io: Box<dyn Io>) {
    let n = io.writable_len().min(DEVICE_READ_MAX);
    let bytes = match dev {
        Device::Null => Vec::new(),
        Device::Zero => vec![0u8; n],
        Device::Random => {
            let mut b = vec![0u8; n];
            let mut got = 0;
            while got < n {
                match rustix::rand::getrandom(&mut b[got..], rustix::rand::GetRandomFlags::empty())
                {
                    Ok(k) => got += k,
                    Err(rustix::io::Errno::INTR) => {}
                    Err(_) => return done(io, Err(Errno::Eio)),
                }
            }
            b
        }
    };
    let w = io.write_payload(0, &bytes);
    io.complete(RespHeader::ok([w as u64, 0, 0]), w);
}

/// Reads bytes the daemon made at `at` (or the description's offset, which
/// advances) and completes.
pub(super) fn read_bytes(data: &[u8], offset: &AtomicU64, at: Option<u64>, mut io: Box<dyn Io>) {
    let start = at.unwrap_or_else(|| offset.load(Ordering::Acquire)) as usize;
    let piece = data.get(start.min(data.len())..).unwrap_or(&[]);
    let n = io.write_payload(0, &piece[..piece.len().min(io.writable_len())]);
    if at.is_none() {
        offset.store((start + n) as u64, Ordering::Release);
    }
    io.complete(RespHeader::ok([n as u64, 0, 0]), n);
}

/// The next records of a listing into `out`; 0 at the end, `EINVAL` when
/// not even one fits.
pub(super) fn list(
    entries: &[(Vec<u8>, u8)],
    next: &AtomicU64,
    out: &mut [u8],
) -> Result<usize, Errno> {
    let mut at = 0;
    let mut i = next.load(Ordering::Acquire) as usize;
    while let Some((name, kind)) = entries.get(i) {
        match put_dirent(&mut out[at..], i as u64 + 1, i as i64 + 1, *kind, name) {
            Some(n) => {
                at += n;
                i += 1;
            }
            None if at == 0 => return Err(Errno::Einval),
            None => break,
        }
    }
    next.store(i as u64, Ordering::Release);
    Ok(at)
}

impl Kernel {
    /// The root's standard-stream pipe at `fd` (0, 1, 2) if its host end is
    /// a terminal and it is still open.
    fn terminal_stream(&self, fd: usize) -> Option<usize> {
        self.stdio_ids[fd].filter(|&id| self.is_terminal(id) && self.pipes[id].is_some())
    }

    /// Opens the special path `s` for `pid` with `flags`: a new description.
    pub(super) fn open_special(
        &mut self,
        pid: Pid,
        s: Special,
        flags: u32,
        mode: u32,
    ) -> Result<Arc<Ofd>, Errno> {
        let access = flags & O_ACCMODE;
        let nonblock = flags & O_NONBLOCK;
        Ok(match s {
            Special::Device(dev) => Ofd::special(Open::Device { dev, access }, nonblock),
            Special::Tty => {
                let input = self.terminal_stream(0);
                let output = self.terminal_stream(2).or_else(|| self.terminal_stream(1));
                let (reads, writes) = (access != O_WRONLY, access != O_RDONLY);
                if (reads && input.is_none()) || (writes && output.is_none()) {
                    return Err(Errno::Enxio);
                }
                Ofd::special(
                    Open::Tty {
                        input: input.filter(|_| reads),
                        output: output.filter(|_| writes),
                    },
                    nonblock,
                )
            }
            Special::FdDir => {
                let mut entries = vec![(b".".to_vec(), DT_DIR), (b"..".to_vec(), DT_DIR)];
                entries.extend(
                    self.procs[&pid]
                        .fds
                        .numbers()
                        .map(|fd| (fd.to_string().into_bytes(), DT_LNK)),
                );
                Ofd::special(
                    Open::Listing {
                        entries,
                        next: AtomicU64::new(0),
                    },
                    nonblock,
                )
            }
            Special::Cmdline => {
                if access != O_RDONLY {
                    return Err(Errno::Eacces);
                }
                let data = self.procs[&pid]
                    .argv
                    .iter()
                    .flat_map(|a| a.iter().copied().chain(std::iter::once(0)))
                    .collect();
                Ofd::special(
                    Open::Bytes {
                        data,
                        offset: AtomicU64::new(0),
                    },
                    nonblock,
                )
            }
            Special::Exe => {
                let exe = self.procs[&pid].exe.clone().ok_or(Errno::Enoent)?;
                let file = self.root()?.open_file(&exe, flags, mode)?;
                Ofd::file(file, nonblock)
            }
            // Opening `/proc/self/fd/N` opens what fd N refers to anew: a
            // file by its path, a pipe's end by the access mode (as a FIFO
            // opens), a device or the terminal as such.
            Special::Fd(n) => {
                let old = self.procs[&pid]
                    .fds
                    .get(n)
                    .map_err(|_| Errno::Enoent)?
                    .clone();
                match &old.what {
                    Open::File { file, .. } => match file.reopen_host_stream(flags)? {
                        Some(again) => Ofd::file(again, nonblock),
                        None => {
                            let path = file.path.clone();
                            Ofd::file(self.root()?.open_file(&path, flags, mode)?, nonblock)
                        }
                    },
                    Open::Pipe { pipe, .. } => {
                        let end = match access {
                            O_RDONLY => End::Read,
                            O_WRONLY => End::Write,
                            _ => return Err(Errno::Einval),
                        };
                        Ofd::new(*pipe, end, nonblock)
                    }
                    Open::Device { dev, .. } => {
                        Ofd::special(Open::Device { dev: *dev, access }, nonblock)
                    }
                    Open::Tty { .. } => return self.open_special(pid, Special::Tty, flags, mode),
                    Open::Listing { .. } => {
                        return self.open_special(pid, Special::FdDir, flags, mode)
                    }
                    Open::Bytes { .. } => {
                        return self.open_special(pid, Special::Cmdline, flags, mode)
                    }
                }
            }
        })
    }

    /// The status of the special path `s`, following it.
    pub(super) fn stat_special(&self, pid: Pid, s: Special) -> Result<Stat, Errno> {
        match s {
            Special::Device(dev) => Ok(device_stat(dev)),
            Special::Tty => {
                if self
                    .terminal_stream(0)
                    .or(self.terminal_stream(1))
                    .or(self.terminal_stream(2))
                    .is_none()
                {
                    return Err(Errno::Enxio);
                }
                Ok(files::terminal_stat())
            }
            Special::FdDir => Ok(listing_stat()),
            Special::Cmdline => Ok(bytes_stat()),
            Special::Exe => {
                let exe = self.procs[&pid].exe.clone().ok_or(Errno::Enoent)?;
                self.root()?.stat(&exe, false)
            }
            Special::Fd(n) => {
                let ofd = self.procs[&pid].fds.get(n).map_err(|_| Errno::Enoent)?;
                self.stat_of(ofd)
            }
        }
    }

    /// The status of an open file description: the host's for a file, the
    /// device's for everything it serves itself (a terminal for a standard
    /// stream whose host end is one).
    pub(super) fn stat_of(&self, o: &Ofd) -> Result<Stat, Errno> {
        match &o.what {
            Open::File { file, .. } => file.stat(),
            Open::Pipe { pipe, .. } if self.is_terminal(*pipe) => Ok(files::terminal_stat()),
            Open::Pipe { pipe, .. } => Ok(files::pipe_stat(*pipe)),
            Open::Device { dev, .. } => Ok(device_stat(*dev)),
            Open::Tty { .. } => Ok(files::terminal_stat()),
            Open::Listing { .. } => Ok(listing_stat()),
            Open::Bytes { .. } => Ok(bytes_stat()),
        }
    }

    /// What `READLINKAT` of a special path answers: the program for
    /// `/proc/self/exe`, what fd N refers to for `/proc/self/fd/N` (a path
    /// in the root, `pipe:[ID]`, the device's path); `EINVAL` for the rest,
    /// which are not links.
    pub(super) fn readlink_special(&self, pid: Pid, s: Special) -> Result<Vec<u8>, Errno> {
        match s {
            Special::Exe => self.procs[&pid].exe.clone().ok_or(Errno::Enoent),
            Special::Fd(n) => {
                let ofd = self.procs[&pid].fds.get(n).map_err(|_| Errno::Enoent)?;
                Ok(match &ofd.what {
                    Open::File { file, .. } => file.path.clone(),
                    Open::Pipe { pipe, .. } => format!("pipe:[{}]", pipe + 1).into_bytes(),
                    Open::Device { dev, .. } => match dev {
                        Device::Null => b"/dev/null".to_vec(),
                        Device::Zero => b"/dev/zero".to_vec(),
                        Device::Random => b"/dev/urandom".to_vec(),
                    },
                    Open::Tty { .. } => b"/dev/tty".to_vec(),
                    Open::Listing { .. } => PROC_SELF_FD.to_vec(),
                    Open::Bytes { .. } => b"/proc/self/cmdline".to_vec(),
                })
            }
            _ => Err(Errno::Einval),
        }
    }

    /// `ACCESSAT` of a special path: anyone may read and write the devices
    /// and the terminal, read the listings; nobody executes them.
    pub(super) fn access_special(&self, pid: Pid, s: Special, mode: u32) -> Result<(), Errno> {
        use virtio_pipe_protocol::fs::{W_OK, X_OK};
        if let Special::Exe = s {
            let exe = self.procs[&pid].exe.clone().ok_or(Errno::Enoent)?;
            return self.root()?.access(&exe, mode, false);
        }
        self.stat_special(pid, s)?;
        let writable = !matches!(s, Special::FdDir | Special::Cmdline);
        if mode & X_OK != 0 && !matches!(s, Special::FdDir) || (mode & W_OK != 0 && !writable) {
            return Err(Errno::Eacces);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_paths_are_recognised_and_nothing_else() {
        assert_eq!(
            Special::of(b"/dev/null"),
            Some(Special::Device(Device::Null))
        );
        assert_eq!(
            Special::of(b"/dev/random"),
            Some(Special::Device(Device::Random))
        );
        assert_eq!(Special::of(b"/dev/stderr"), Some(Special::Fd(2)));
        assert_eq!(Special::of(b"/dev/fd/7"), Some(Special::Fd(7)));
        assert_eq!(Special::of(b"/proc/self/fd/12"), Some(Special::Fd(12)));
        assert_eq!(Special::of(b"/proc/self/fd/"), Some(Special::FdDir));
        for not in [
            &b"/proc/self/fd/012"[..],
            b"/proc/self/fd/-1",
            b"/proc/self/fd/1x",
            b"/proc/self/fd/99999999999",
            b"/dev/nul",
            b"/dev/null/",
            b"/etc/passwd",
        ] {
            assert_eq!(Special::of(not), None, "{}", String::from_utf8_lossy(not));
        }
    }

    #[test]
    fn a_listing_returns_every_entry_once_in_whole_records() {
        let entries: Vec<(Vec<u8>, u8)> = (0..20)
            .map(|i| (i.to_string().into_bytes(), DT_LNK))
            .collect();
        let next = AtomicU64::new(0);
        let mut names = Vec::new();
        let mut buf = [0u8; 64];
        loop {
            let n = list(&entries, &next, &mut buf).unwrap();
            if n == 0 {
                break;
            }
            names.extend(virtio_pipe_protocol::fs::dirents(&buf[..n]).map(|d| d.name.to_vec()));
        }
        assert_eq!(
            names,
            entries.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>()
        );
        next.store(0, Ordering::Release);
        assert_eq!(list(&entries, &next, &mut [0u8; 8]), Err(Errno::Einval));
    }
}
