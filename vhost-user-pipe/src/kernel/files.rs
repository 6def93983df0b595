//! The file ops of the kernel (spec: *Files*, 1.6.20): paths resolved
//! against a process's working directory or an open directory, inside the
//! tree's root (`files.rs` does the resolving, confined by the host's
//! kernel), and the open files in the fd table.
//!
//! Host file I/O happens under the kernel lock, like every other op; a
//! read is bounded by the request's buffer and done in chunks.

use std::sync::atomic::{AtomicU64, Ordering};

use virtio_pipe_protocol::fs::{
    AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW, O_ACCMODE, PATH_MAX, SEEK_CUR, SEEK_END, SEEK_SET, X_OK,
};
use virtio_pipe_protocol::{ChdirTarget, Dirfd, Errno, Request, RespHeader, Stat, O_NONBLOCK};

use super::{answer_bytes, done, Kernel};
use crate::fdtable::{Ofd, Open};
use crate::files::{self, OpenFile, Root};
use crate::io::Io;
use crate::process::Pid;

/// Bytes a file read moves through the daemon at a time.
const CHUNK: usize = 1 << 20;

/// The path `/proc/self/exe` answers with the caller's program (spec:
/// `dev-file-readlink`).
const PROC_SELF_EXE: &[u8] = b"/proc/self/exe";

/// The device's own `/dev/null`, whatever the root holds (spec:
/// `dev-file-null`).
const DEV_NULL: &[u8] = b"/dev/null";

/// Reads `file` into `io`'s buffer at `at`, or at the description's offset
/// (which then advances), and completes it.
pub(super) fn read(file: &OpenFile, offset: &AtomicU64, at: Option<u64>, mut io: Box<dyn Io>) {
    let want = io.writable_len();
    let start = at.unwrap_or_else(|| offset.load(Ordering::Acquire));
    let mut buf = vec![0u8; want.min(CHUNK)];
    let mut got = 0;
    while got < want {
        let n = (want - got).min(CHUNK);
        match file.read_at(&mut buf[..n], start + got as u64) {
            Ok(0) => break,
            Ok(k) => {
                io.write_payload(got, &buf[..k]);
                got += k;
            }
            Err(e) if got == 0 => return done(io, Err(e)),
            Err(_) => break,
        }
    }
    if at.is_none() {
        offset.store(start + got as u64, Ordering::Release);
    }
    io.complete(RespHeader::ok([got as u64, 0, 0]), got);
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
    /// The status of an open file description: the host's for a file, the
    /// device's for a pipe end (a terminal for a standard stream whose host
    /// end is one) or `/dev/null`.
    fn stat_of(&self, o: &Ofd) -> Result<Stat, Errno> {
        match &o.what {
            Open::File { file, .. } => file.stat(),
            Open::Pipe { pipe, .. } if self.is_terminal(*pipe) => Ok(files::terminal_stat()),
            Open::Pipe { pipe, .. } => Ok(files::pipe_stat(*pipe)),
            Open::Null { .. } => Ok(files::null_stat()),
        }
    }

    fn root(&self) -> Result<&Root, Errno> {
        self.root.as_ref().ok_or(Errno::Enoent)
    }

    /// The path of the request's payload, absolute in the root: joined to
    /// the working directory or to the open directory `dirfd`;
    /// `/proc/self/exe` is the caller's program (spec: `dev-exe-path`).
    fn path_at(&self, pid: Pid, dirfd: Dirfd, io: &dyn Io, len: u32) -> Result<Vec<u8>, Errno> {
        let path = self.link_path_at(pid, dirfd, io, len)?;
        self.program_path(pid, path)
    }

    /// `path`, or the program of `pid` when it is `/proc/self/exe`.
    pub(super) fn program_path(&self, pid: Pid, path: Vec<u8>) -> Result<Vec<u8>, Errno> {
        if path == PROC_SELF_EXE {
            return self.procs[&pid].exe.clone().ok_or(Errno::Enoent);
        }
        Ok(path)
    }

    /// Like [`Self::path_at`], `/proc/self/exe` kept as the link it is.
    fn link_path_at(
        &self,
        pid: Pid,
        dirfd: Dirfd,
        io: &dyn Io,
        len: u32,
    ) -> Result<Vec<u8>, Errno> {
        let path = io.read_blob(len as usize, PATH_MAX)?;
        if path.contains(&0) {
            return Err(Errno::Einval);
        }
        let base = self.base_of(pid, dirfd)?;
        Ok(files::join(&base, &path))
    }

    /// The directory a relative path of `pid` starts from.
    fn base_of(&self, pid: Pid, dirfd: Dirfd) -> Result<Vec<u8>, Errno> {
        let p = &self.procs[&pid];
        match dirfd {
            Dirfd::Cwd => Ok(p.cwd.clone()),
            Dirfd::Fd(fd) => match p.fds.get(fd)?.open_file() {
                Some((f, _)) if f.is_dir() => Ok(f.path.clone()),
                _ => Err(Errno::Enotdir),
            },
        }
    }

    /// The open file behind `fd` of `pid`: `ESPIPE` for a pipe end; `None`
    /// for `/dev/null`.
    fn file_of(&self, pid: Pid, fd: u32) -> Result<Option<std::sync::Arc<Ofd>>, Errno> {
        let ofd = self.procs[&pid].fds.get(fd)?.clone();
        match ofd.what {
            Open::File { .. } => Ok(Some(ofd)),
            Open::Null { .. } => Ok(None),
            Open::Pipe { .. } => Err(Errno::Espipe),
        }
    }

    /// Runs a file op of `pid`.
    pub(super) fn file_op(&mut self, pid: Pid, req: Request, io: Box<dyn Io>) {
        match req {
            Request::OpenAt {
                dirfd,
                flags,
                path_len,
                ..
            } => {
                let r = self.openat(pid, dirfd, flags, path_len, io.as_ref());
                done(io, r.map(|fd| [fd as u64, 0, 0]))
            }
            Request::Pread { fd, offset, .. } => match self.file_of(pid, fd) {
                Ok(Some(ofd)) => {
                    let (file, off) = ofd.open_file().expect("a file");
                    read(file, off, Some(offset), io)
                }
                // `/dev/null`: nothing to read.
                Ok(None) => done(io, Ok([0; 3])),
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
                        Dirfd::Cwd => self
                            .root()
                            .and_then(|r| r.stat(&self.procs[&pid].cwd, false)),
                    }
                } else {
                    self.path_at(pid, dirfd, io.as_ref(), path_len)
                        .and_then(|p| {
                            if p == DEV_NULL {
                                return Ok(files::null_stat());
                            }
                            self.root()?.stat(&p, flags & AT_SYMLINK_NOFOLLOW != 0)
                        })
                };
                stat_out(io, r)
            }
            Request::Getdents { fd, len } => {
                let r = self.file_of(pid, fd).map_err(|e| match e {
                    Errno::Espipe => Errno::Enotdir,
                    e => e,
                });
                match r {
                    Ok(None) => done(io, Err(Errno::Enotdir)),
                    Ok(Some(ofd)) => {
                        let (file, _) = ofd.open_file().expect("a file");
                        let mut buf = vec![0u8; len as usize];
                        match file.getdents(&mut buf) {
                            Ok(n) => {
                                let mut io = io;
                                let w = io.write_payload(0, &buf[..n]);
                                io.complete(RespHeader::ok([n as u64, 0, 0]), w);
                            }
                            Err(e) => done(io, Err(e)),
                        }
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
                    .and_then(|p| {
                        if p == DEV_NULL {
                            // Anyone may read and write it; nobody execute it.
                            return if mode & X_OK != 0 {
                                Err(Errno::Eacces)
                            } else {
                                Ok(())
                            };
                        }
                        self.root()?
                            .access(&p, mode, flags & AT_SYMLINK_NOFOLLOW != 0)
                    });
                done(io, r.map(|_| [0; 3]))
            }
            Request::ReadlinkAt {
                dirfd, path_len, ..
            } => {
                let r = self
                    .link_path_at(pid, dirfd, io.as_ref(), path_len)
                    .and_then(|p| {
                        if p == PROC_SELF_EXE {
                            self.procs[&pid].exe.clone().ok_or(Errno::Enoent)
                        } else {
                            self.root()?.readlink(&p)
                        }
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
                    ChdirTarget::Path(len) => self
                        .path_at(pid, Dirfd::Cwd, io.as_ref(), len)
                        .and_then(|p| self.root()?.directory(&p)),
                    ChdirTarget::Fd(fd) => self.base_of(pid, Dirfd::Fd(fd)),
                };
                let r = r.map(|cwd| {
                    self.proc_mut(pid).cwd = cwd;
                    [0; 3]
                });
                done(io, r)
            }
            Request::Getcwd { .. } => {
                let cwd = self.procs[&pid].cwd.clone();
                answer_bytes(io, &cwd, true)
            }
            other => {
                log::warn!("pid {pid}: {:?} reached the file ops", other.op());
                done(io, Err(Errno::Enosys))
            }
        }
    }

    fn openat(
        &mut self,
        pid: Pid,
        dirfd: Dirfd,
        flags: u32,
        path_len: u32,
        io: &dyn Io,
    ) -> Result<u32, Errno> {
        let path = self.path_at(pid, dirfd, io, path_len)?;
        let max = self.limits.max_fds;
        if self.procs[&pid].fds.free_slots(max) == 0 {
            return Err(Errno::Emfile);
        }
        if path == DEV_NULL {
            let ofd = Ofd::null(flags & O_ACCMODE, flags & O_NONBLOCK);
            return self.proc_mut(pid).fds.insert_lowest(ofd, max);
        }
        if self.open_files >= self.limits.max_open_files {
            return Err(Errno::Enfile);
        }
        let file = self.root()?.open_file(&path, flags)?;
        let ofd = Ofd::file(file, flags & O_NONBLOCK);
        let fd = self.proc_mut(pid).fds.insert_lowest(ofd.clone(), max)?;
        self.add_ref(&ofd);
        Ok(fd)
    }

    fn lseek(&mut self, pid: Pid, fd: u32, offset: i64, whence: u32) -> Result<u64, Errno> {
        let Some(ofd) = self.file_of(pid, fd)? else {
            // `/dev/null` stays at 0, as Linux's does.
            return Ok(0);
        };
        let (file, off) = ofd.open_file().expect("a file");
        if file.is_dir() {
            // Directories rewind (`rewinddir`), nothing else.
            return if whence == SEEK_SET && offset == 0 {
                file.rewind();
                Ok(0)
            } else {
                Err(Errno::Einval)
            };
        }
        let base = match whence {
            SEEK_SET => 0,
            SEEK_CUR => off.load(Ordering::Acquire) as i64,
            SEEK_END => file.size()? as i64,
            _ => return Err(Errno::Einval),
        };
        let new = base
            .checked_add(offset)
            .filter(|n| *n >= 0)
            .ok_or(Errno::Einval)?;
        off.store(new as u64, Ordering::Release);
        Ok(new as u64)
    }
}
