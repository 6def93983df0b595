//! The file ops of the kernel (spec: *Files*, 1.6.20, and *Writing
//! files*, 1.6.23): paths resolved against a process's working directory
//! or an open directory, inside the tree's root (`files/` does the
//! resolving, confined by the host's kernel; `devices.rs` the paths the
//! device serves itself), and the open files in the fd table.
//!
//! Host file I/O happens under the kernel lock, like every other op (which
//! also makes every `O_APPEND` write atomic against the others); a read or
//! write is bounded by the request's buffer and done in chunks.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use virtio_pipe_protocol::fs::{
    parse_times, PathPair, AT_EMPTY_PATH, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, AT_SYMLINK_NOFOLLOW,
    PATH_MAX, SEEK_CUR, SEEK_END, SEEK_SET, TIMES_SIZE,
};
use virtio_pipe_protocol::{ChdirTarget, Dirfd, Errno, Request, RespHeader, Stat, O_NONBLOCK};

use super::devices::{self, Special, PROC_SELF_EXE};
use super::{answer_bytes, done, Kernel};
use crate::fdtable::{Ofd, Open};
use crate::files::{self, OpenFile, Root, Times};
use crate::io::Io;
use crate::process::Pid;

/// Bytes a file read or write moves through the daemon at a time.
const CHUNK: usize = 1 << 20;

/// Reads `file` into `io`'s buffer at `at`, or at the description's offset
/// (which then advances), and completes it. The host reads straight into
/// the request's buffer (the reader's memory), one `pread` per contiguous
/// piece.
pub(super) fn read(file: &OpenFile, offset: &AtomicU64, at: Option<u64>, mut io: Box<dyn Io>) {
    let want = io.writable_len();
    let start = at.unwrap_or_else(|| offset.load(Ordering::Acquire));
    let mut failed = None;
    let mut got = 0;
    io.fill_writable(
        0,
        want,
        &mut |piece| match file.read_at_volatile(piece, start + got as u64) {
            Ok(k) => {
                got += k;
                k
            }
            Err(e) => {
                failed = Some(e);
                0
            }
        },
    );
    if let (0, Some(e)) = (got, failed) {
        return done(io, Err(e));
    }
    if at.is_none() {
        offset.store(start + got as u64, Ordering::Release);
    }
    io.complete(RespHeader::ok([got as u64, 0, 0]), got);
}

/// Writes `io`'s payload to `file` at `at`, or at the description's offset
/// (which then advances; for `O_APPEND`, the host writes at the end and the
/// offset becomes the end), and completes it. A failure after some bytes
/// were written completes with those bytes, as Linux's `write` does.
pub(super) fn write(file: &OpenFile, offset: &AtomicU64, at: Option<u64>, io: Box<dyn Io>) {
    let want = io.readable_len();
    let start = at.unwrap_or_else(|| offset.load(Ordering::Acquire));
    let mut buf = vec![0u8; want.min(CHUNK)];
    let mut put = 0;
    while put < want {
        let n = (want - put).min(CHUNK);
        let got = io.read_payload(put, &mut buf[..n]);
        let mut done_here = 0;
        while done_here < got {
            match file.write_at(&buf[done_here..got], start + (put + done_here) as u64) {
                Ok(0) => break,
                Ok(k) => done_here += k,
                Err(e) if put + done_here == 0 => return done(io, Err(e)),
                Err(_) => break,
            }
        }
        put += done_here;
        if done_here < got || got < n {
            break;
        }
    }
    if at.is_none() {
        let end = if file.appends() {
            file.size().unwrap_or(start + put as u64)
        } else {
            start + put as u64
        };
        offset.store(end, Ordering::Release);
    }
    io.complete(RespHeader::ok([put as u64, 0, 0]), 0);
}

fn stat_out(mut io: Box<dyn Io>, r: Result<Stat, Errno>) {
    match r {
        Ok(st) => {
            let n = io.write_payload(0, &st.as_bytes_le());
            io.complete(RespHeader::ok([0; 3]), n);
        }
        Err(e) => done(io, Err(e)),
    }
}

impl Kernel {
    pub(super) fn root(&self) -> Result<&Root, Errno> {
        self.root.as_ref().ok_or(Errno::Enoent)
    }

    /// The path of the request's payload, absolute in the root: joined to
    /// the working directory or to the open directory `dirfd`.
    fn path_at(&self, pid: Pid, dirfd: Dirfd, io: &dyn Io, len: u32) -> Result<Vec<u8>, Errno> {
        let path = io.read_blob(len as usize, PATH_MAX)?;
        self.join_at(pid, dirfd, &path)
    }

    /// `path` (a guest's) joined to where `dirfd` says.
    pub(super) fn join_at(&self, pid: Pid, dirfd: Dirfd, path: &[u8]) -> Result<Vec<u8>, Errno> {
        if path.contains(&0) {
            return Err(Errno::Einval);
        }
        if path.first() == Some(&b'/') {
            // Where the base is (or whether it still is) does not matter.
            return Ok(path.to_vec());
        }
        let base = self.base_of(pid, dirfd)?;
        Ok(files::join(&base, path))
    }

    /// `path`, or the program of `pid` when it is `/proc/self/exe`.
    pub(super) fn program_path(&self, pid: Pid, path: Vec<u8>) -> Result<Vec<u8>, Errno> {
        if path == PROC_SELF_EXE {
            return self.procs[&pid].exe.clone().ok_or(Errno::Enoent);
        }
        Ok(path)
    }

    /// The working directory of `pid` where it is now, as seen from the
    /// root (a directory renamed meanwhile is found under its new name, as
    /// Linux finds it by its inode; a removed one is `ENOENT`).
    pub(super) fn cwd_now(&self, pid: Pid) -> Result<Vec<u8>, Errno> {
        match &self.procs[&pid].cwd {
            Some(dir) => self.root()?.path_now(dir),
            None => Ok(b"/".to_vec()),
        }
    }

    /// The directory a relative path of `pid` starts from, where it is now.
    fn base_of(&self, pid: Pid, dirfd: Dirfd) -> Result<Vec<u8>, Errno> {
        let p = &self.procs[&pid];
        match dirfd {
            Dirfd::Cwd => self.cwd_now(pid),
            Dirfd::Fd(fd) => match p.fds.get(fd)?.open_file() {
                Some((f, _)) if f.is_dir() => self.root()?.dir_path_now(f),
                _ => Err(Errno::Enotdir),
            },
        }
    }

    /// The description behind `fd` of `pid` when it can be positioned: a
    /// file, a device, a listing or made bytes; `ESPIPE` for a pipe end or
    /// the terminal.
    fn seekable(&self, pid: Pid, fd: u32) -> Result<Arc<Ofd>, Errno> {
        let ofd = self.procs[&pid].fds.get(fd)?.clone();
        match ofd.what {
            Open::Pipe { .. } | Open::Tty { .. } => Err(Errno::Espipe),
            _ => Ok(ofd),
        }
    }

    /// The host file behind `fd` of `pid` (`EINVAL` for anything else).
    fn host_file(&self, pid: Pid, fd: u32) -> Result<Arc<Ofd>, Errno> {
        let ofd = self.procs[&pid].fds.get(fd)?.clone();
        match ofd.what {
            Open::File { .. } => Ok(ofd),
            _ => Err(Errno::Einval),
        }
    }

    /// The two paths of a path-pair payload, each joined to its dirfd.
    fn pair_at(
        &self,
        pid: Pid,
        first: Dirfd,
        second: Dirfd,
        io: &dyn Io,
        len: u32,
    ) -> Result<(Vec<u8>, Vec<u8>), Errno> {
        let buf = io.read_blob(len as usize, 4 + 2 * PATH_MAX)?;
        let pair = PathPair::parse(&buf).map_err(|e| e.errno())?;
        Ok((
            self.join_at(pid, first, pair.first)?,
            self.join_at(pid, second, pair.second)?,
        ))
    }

    /// Runs a file op of `pid`.
    pub(super) fn file_op(&mut self, pid: Pid, req: Request, io: Box<dyn Io>) {
        match req {
            Request::OpenAt {
                dirfd,
                flags,
                mode,
                path_len,
            } => {
                let r = self.openat(pid, dirfd, flags, mode, path_len, io.as_ref());
                done(io, r.map(|fd| [fd as u64, 0, 0]))
            }
            Request::Pread { fd, offset, .. } => match self.seekable(pid, fd) {
                Ok(ofd) => match &ofd.what {
                    Open::File { file, offset: off } => read(file, off, Some(offset), io),
                    Open::Device { dev, .. } => devices::read_device(*dev, io),
                    Open::Bytes { data, offset: off } => {
                        devices::read_bytes(data, off, Some(offset), io)
                    }
                    _ => done(io, Err(Errno::Eisdir)),
                },
                Err(e) => done(io, Err(e)),
            },
            Request::Pwrite { fd, offset, .. } => match self.seekable(pid, fd) {
                Ok(ofd) => match &ofd.what {
                    Open::File { file, offset: off } => write(file, off, Some(offset), io),
                    Open::Device { .. } => {
                        let n = io.readable_len();
                        io.complete(RespHeader::ok([n as u64, 0, 0]), 0)
                    }
                    _ => done(io, Err(Errno::Ebadf)),
                },
                Err(e) => done(io, Err(e)),
            },
            Request::Lseek { fd, offset, whence } => {
                done(io, self.lseek(pid, fd, offset, whence).map(|o| [o, 0, 0]))
            }
            Request::Fstat { fd } => {
                let r = self.procs[&pid].fds.get(fd).and_then(|o| self.stat_of(o));
                stat_out(io, r)
            }
            Request::StatAt {
                dirfd,
                flags,
                path_len,
            } => {
                let r = if path_len == 0 && flags & AT_EMPTY_PATH != 0 {
                    match dirfd {
                        Dirfd::Fd(fd) => self.procs[&pid].fds.get(fd).and_then(|o| self.stat_of(o)),
                        Dirfd::Cwd => self.root().and_then(|r| r.stat(&self.cwd_now(pid)?, false)),
                    }
                } else {
                    self.path_at(pid, dirfd, io.as_ref(), path_len)
                        .and_then(|p| match Special::of(&p) {
                            Some(s) => self.stat_special(pid, s),
                            None => self.root()?.stat(&p, flags & AT_SYMLINK_NOFOLLOW != 0),
                        })
                };
                stat_out(io, r)
            }
            Request::Getdents { fd, len } => {
                let ofd = match self.procs[&pid].fds.get(fd) {
                    Ok(o) => o.clone(),
                    Err(e) => return done(io, Err(e)),
                };
                let mut buf = vec![0u8; len as usize];
                let r = match &ofd.what {
                    Open::File { file, .. } => file.getdents(&mut buf),
                    Open::Listing { entries, next } => devices::list(entries, next, &mut buf),
                    _ => Err(Errno::Enotdir),
                };
                match r {
                    Ok(n) => {
                        let mut io = io;
                        let w = io.write_payload(0, &buf[..n]);
                        io.complete(RespHeader::ok([n as u64, 0, 0]), w);
                    }
                    Err(e) => done(io, Err(e)),
                }
            }
            Request::AccessAt {
                dirfd,
                mode,
                flags,
                path_len,
            } => {
                let r = self
                    .path_at(pid, dirfd, io.as_ref(), path_len)
                    .and_then(|p| match Special::of(&p) {
                        Some(s) => self.access_special(pid, s, mode),
                        None => self
                            .root()?
                            .access(&p, mode, flags & AT_SYMLINK_NOFOLLOW != 0),
                    });
                done(io, r.map(|_| [0; 3]))
            }
            Request::ReadlinkAt {
                dirfd, path_len, ..
            } => {
                let r = self
                    .path_at(pid, dirfd, io.as_ref(), path_len)
                    .and_then(|p| match Special::of(&p) {
                        Some(s) => self.readlink_special(pid, s),
                        None => self.root()?.readlink(&p),
                    });
                match r {
                    Ok(target) => {
                        let mut io = io;
                        let n = io.write_payload(0, &target);
                        io.complete(RespHeader::ok([n as u64, 0, 0]), n);
                    }
                    Err(e) => done(io, Err(e)),
                }
            }
            Request::Chdir { target } => {
                let r = match target {
                    ChdirTarget::Path(len) => self.path_at(pid, Dirfd::Cwd, io.as_ref(), len),
                    ChdirTarget::Fd(fd) => self.base_of(pid, Dirfd::Fd(fd)),
                };
                let r = r.and_then(|p| self.root()?.hold_directory(&p));
                let r = r.map(|held| {
                    self.proc_mut(pid).cwd = Some(held);
                    [0; 3]
                });
                done(io, r)
            }
            Request::Getcwd { .. } => match self.cwd_now(pid) {
                Ok(cwd) => answer_bytes(io, &cwd, true),
                Err(e) => done(io, Err(e)),
            },
            Request::Ftruncate { fd, length } => {
                let r = self.host_file(pid, fd).and_then(|o| {
                    let (file, _) = o.open_file().expect("a file");
                    file.truncate(length)
                });
                done(io, r.map(|_| [0; 3]))
            }
            Request::Fsync { fd, data_only } => {
                let r = self.host_file(pid, fd).and_then(|o| {
                    let (file, _) = o.open_file().expect("a file");
                    file.sync(data_only)
                });
                done(io, r.map(|_| [0; 3]))
            }
            Request::MkdirAt {
                dirfd,
                mode,
                path_len,
            } => {
                let r = self
                    .path_at(pid, dirfd, io.as_ref(), path_len)
                    .and_then(|p| match Special::of(&p) {
                        Some(_) => Err(Errno::Eexist),
                        None => self.root()?.mkdir(&p, mode),
                    });
                done(io, r.map(|_| [0; 3]))
            }
            Request::UnlinkAt {
                dirfd,
                flags,
                path_len,
            } => {
                let r = self
                    .path_at(pid, dirfd, io.as_ref(), path_len)
                    .and_then(|p| {
                        self.not_special(&p)?;
                        self.root()?.unlink(&p, flags & AT_REMOVEDIR != 0)
                    });
                done(io, r.map(|_| [0; 3]))
            }
            Request::RenameAt {
                old,
                new,
                flags,
                len,
            } => {
                let r = self
                    .pair_at(pid, old, new, io.as_ref(), len)
                    .and_then(|(a, b)| {
                        self.not_special(&a)?;
                        self.not_special(&b)?;
                        self.root()?.rename(&a, &b, flags)
                    });
                done(io, r.map(|_| [0; 3]))
            }
            Request::LinkAt {
                old,
                new,
                flags,
                len,
            } => {
                let r = self
                    .pair_at(pid, old, new, io.as_ref(), len)
                    .and_then(|(a, b)| {
                        self.not_special(&a)?;
                        self.not_special(&b)?;
                        self.root()?.link(&a, &b, flags & AT_SYMLINK_FOLLOW != 0)
                    });
                done(io, r.map(|_| [0; 3]))
            }
            Request::SymlinkAt { dirfd, len } => {
                let r = io
                    .read_blob(len as usize, 4 + 2 * PATH_MAX)
                    .and_then(|buf| {
                        let pair = PathPair::parse(&buf).map_err(|e| e.errno())?;
                        let link = self.join_at(pid, dirfd, pair.second)?;
                        self.not_special(&link)?;
                        self.root()?.symlink(pair.first, &link)
                    });
                done(io, r.map(|_| [0; 3]))
            }
            Request::FchmodAt {
                dirfd,
                mode,
                flags,
                path_len,
            } => {
                let r = if path_len == 0 && flags & AT_EMPTY_PATH != 0 {
                    self.fd_attr(pid, dirfd, |f| f.chmod(mode))
                } else {
                    self.path_at(pid, dirfd, io.as_ref(), path_len)
                        .and_then(|p| {
                            self.not_special(&p)?;
                            self.root()?.chmod(&p, mode)
                        })
                };
                done(io, r.map(|_| [0; 3]))
            }
            Request::UtimensAt { dirfd, flags, len } => {
                let r = io
                    .read_blob(len as usize, TIMES_SIZE + PATH_MAX)
                    .and_then(|buf| {
                        let [access, modification] =
                            parse_times(&buf[..TIMES_SIZE]).ok_or(Errno::Einval)?;
                        let times = Times {
                            access,
                            modification,
                        };
                        if !times.is_valid() {
                            return Err(Errno::Einval);
                        }
                        let path = &buf[TIMES_SIZE..];
                        if path.is_empty() {
                            return self.fd_attr(pid, dirfd, |f| f.set_times(&times));
                        }
                        let p = self.join_at(pid, dirfd, path)?;
                        self.not_special(&p)?;
                        self.root()?
                            .set_times(&p, &times, flags & AT_SYMLINK_NOFOLLOW != 0)
                    });
                done(io, r.map(|_| [0; 3]))
            }
            other => {
                log::warn!("pid {pid}: {:?} reached the file ops", other.op());
                done(io, Err(Errno::Enosys))
            }
        }
    }

    /// `EACCES` for a path the device serves itself: it cannot be removed,
    /// renamed, linked or changed.
    fn not_special(&self, path: &[u8]) -> Result<(), Errno> {
        match Special::of(path) {
            Some(_) => Err(Errno::Eacces),
            None => Ok(()),
        }
    }

    /// Applies an attribute change to the host file behind the fd `dirfd`
    /// (`AT_EMPTY_PATH`); on a read-only root `EROFS`. What the device
    /// serves itself (pipes, devices) keeps no attributes: nothing changes.
    fn fd_attr(
        &self,
        pid: Pid,
        dirfd: Dirfd,
        f: impl FnOnce(&OpenFile) -> Result<(), Errno>,
    ) -> Result<(), Errno> {
        let ofd = match dirfd {
            Dirfd::Fd(fd) => self.procs[&pid].fds.get(fd)?.clone(),
            Dirfd::Cwd => return Err(Errno::Enoent),
        };
        match &ofd.what {
            Open::File { file, .. } => {
                if !self.root()?.is_writable() {
                    return Err(Errno::Erofs);
                }
                f(file)
            }
            _ => Ok(()),
        }
    }

    fn openat(
        &mut self,
        pid: Pid,
        dirfd: Dirfd,
        flags: u32,
        mode: u32,
        path_len: u32,
        io: &dyn Io,
    ) -> Result<u32, Errno> {
        let path = self.path_at(pid, dirfd, io, path_len)?;
        let max = self.limits.max_fds;
        if self.procs[&pid].fds.free_slots(max) == 0 {
            return Err(Errno::Emfile);
        }
        if self.open_files >= self.limits.max_open_files {
            return Err(Errno::Enfile);
        }
        let ofd = match Special::of(&path) {
            Some(s) => self.open_special(pid, s, flags, mode)?,
            None => Ofd::file(
                self.root()?.open_file(&path, flags, mode)?,
                flags & O_NONBLOCK,
            ),
        };
        let fd = self.proc_mut(pid).fds.insert_lowest(ofd.clone(), max)?;
        self.add_ref(&ofd);
        Ok(fd)
    }

    fn lseek(&mut self, pid: Pid, fd: u32, offset: i64, whence: u32) -> Result<u64, Errno> {
        let ofd = self.seekable(pid, fd)?;
        let (size, off) = match &ofd.what {
            Open::File { file, offset } if !file.is_dir() => (None, offset),
            Open::File { .. } => (Some(0), &AtomicU64::new(0)),
            Open::Bytes { data, offset } => (Some(data.len() as u64), offset),
            Open::Listing { next, .. } => {
                // A listing rewinds, nothing else.
                return if whence == SEEK_SET && offset == 0 {
                    next.store(0, Ordering::Release);
                    Ok(0)
                } else {
                    Err(Errno::Einval)
                };
            }
            // The devices stay at 0, as Linux's do.
            _ => return Ok(0),
        };
        let Open::File { file, .. } = &ofd.what else {
            return seek_to(off, size.unwrap_or(0), offset, whence);
        };
        if file.is_dir() {
            // Directories rewind (`rewinddir`), nothing else.
            return if whence == SEEK_SET && offset == 0 {
                file.rewind();
                Ok(0)
            } else {
                Err(Errno::Einval)
            };
        }
        seek_to(off, file.size()?, offset, whence)
    }
}

/// Moves `off` by `offset` from the start, itself or `size` as `whence`
/// says; `EINVAL` below 0.
fn seek_to(off: &AtomicU64, size: u64, offset: i64, whence: u32) -> Result<u64, Errno> {
    let base = match whence {
        SEEK_SET => 0,
        SEEK_CUR => off.load(Ordering::Acquire) as i64,
        SEEK_END => size as i64,
        _ => return Err(Errno::Einval),
    };
    let new = base
        .checked_add(offset)
        .filter(|n| *n >= 0)
        .ok_or(Errno::Einval)?;
    off.store(new as u64, Ordering::Release);
    Ok(new as u64)
}
