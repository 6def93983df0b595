//! The tree's root directory on the host, and the files opened in it.
//! Spec: *Files* (1.6.20).
//!
//! **Confinement is the kernel's, not ours.** Every path a guest names is
//! resolved by `openat2(root, path, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)`
//! from an `O_PATH` descriptor of the root: Linux treats the root as `/` for
//! `..` and for symbolic links (absolute targets included) and refuses magic
//! links such as `/proc/self/root`, so no string check stands between a
//! guest and the host's file system. Paths are joined (working directory or
//! an open directory's path, then the guest's path) as plain byte strings
//! and handed whole to `openat2`; nothing here interprets `..` or links.
//!
//! The root is read-only unless the tree may write it (`run --writable`):
//! on a read-only root whatever asks to write is `EROFS` before the host is
//! asked anything. The ops on a path's final component (create, remove,
//! rename, link) are in `names.rs`: they resolve the directory that holds
//! the name the same way and then act on the name without following it.

mod names;

pub use names::Times;

use std::ffi::OsStr;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustix::fs::{Dir, FileType, Mode, OFlags, ResolveFlags};
use thiserror::Error;
use virtio_pipe_protocol::fs::{
    put_dirent, DT_BLK, DT_CHR, DT_DIR, DT_FIFO, DT_LNK, DT_REG, DT_SOCK, DT_UNKNOWN, MODE_BITS,
    O_ACCMODE, O_APPEND, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_RDONLY, O_RDWR, O_TRUNC,
    O_WRONLY, S_IFCHR, S_IFIFO, W_OK,
};
use virtio_pipe_protocol::{Errno, Stat};
use vm_memory::VolatileSlice;
use zerocopy::little_endian::{I64, U32, U64};

use crate::sync::lock;

/// Why the root could not be served.
#[derive(Debug, Error)]
pub enum RootError {
    /// The directory could not be opened.
    #[error("cannot open the root directory '{0}': {1}")]
    Open(PathBuf, #[source] std::io::Error),
}

/// The tree's root directory.
#[derive(Debug)]
pub struct Root {
    fd: OwnedFd,
    /// Its canonical host path, to show paths as seen from the root.
    host: PathBuf,
    /// Whether the tree may write it.
    writable: bool,
}

/// A host error as the guest's: Linux numbers pass through, but the device
/// never answers `EPERM` (spec `dev-err-values`), which becomes `EACCES`.
fn errno(e: rustix::io::Errno) -> Errno {
    match Errno::from_host(e.raw_os_error()) {
        Errno::Eperm => Errno::Eacces,
        e => e,
    }
}

/// `S_ISUID`.
const S_ISUID: u32 = 0o4000;
/// `S_ISGID`.
const S_ISGID: u32 = 0o2000;

/// The permission bits the daemon gives a file or directory it creates or
/// changes for a guest: what was asked, except set-user-ID, and
/// set-group-ID except on a directory (where it only passes the group on
/// to new entries). The tree's processes are not the host's users: a
/// set-user-ID file in the root would run as the daemon's user (root,
/// where the daemon runs as root) for any host user who can reach it
/// (spec `dev-write-create`, `dev-write-attrs`).
pub(crate) fn granted_mode(mode: u32, is_dir: bool) -> u32 {
    let strip = if is_dir { S_ISUID } else { S_ISUID | S_ISGID };
    mode & MODE_BITS & !strip
}

/// Symbolic links followed in one path before `ELOOP` (Linux's 40).
const MAX_LINKS: usize = 40;

/// How every guest path is resolved: inside the root, no magic links.
fn resolve() -> ResolveFlags {
    ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS
}

/// How many times a resolution is tried again when Linux could not prove
/// that a `..` stayed inside the root.
const RESOLVE_TRIES: usize = 1024;

/// `openat2` in the root (`resolve()`), tried again on `EAGAIN`.
///
/// With `RESOLVE_IN_ROOT`, Linux answers `EAGAIN` when a rename or mount
/// anywhere on the host raced with a `..` in the path (it cannot then
/// prove the walk stayed inside), and asks the caller to retry
/// (`openat2(2)`). On a busy host that happens to innocent paths, so it is
/// not the guest's error; only a resolution that keeps losing the race
/// (someone renaming without pause) ends in `EAGAIN`.
fn openat2_in_root(
    root: &OwnedFd,
    path: &[u8],
    flags: OFlags,
    mode: Mode,
) -> rustix::io::Result<OwnedFd> {
    let mut tries = 0;
    loop {
        match rustix::fs::openat2(root, OsStr::from_bytes(path), flags, mode, resolve()) {
            Err(rustix::io::Errno::AGAIN) if tries + 1 < RESOLVE_TRIES => tries += 1,
            r => return r,
        }
    }
}

/// Joins a guest path to the absolute path (in the root) it is relative
/// to; an absolute guest path stands on its own. No normalisation: the
/// kernel resolves `.`, `..` and links, inside the root.
pub fn join(base: &[u8], path: &[u8]) -> Vec<u8> {
    if path.first() == Some(&b'/') {
        return path.to_vec();
    }
    let mut p = base.to_vec();
    if p.last() != Some(&b'/') {
        p.push(b'/');
    }
    p.extend_from_slice(path);
    p
}

impl Root {
    /// Serves the host directory `dir` as the root.
    pub fn open(dir: &Path) -> Result<Self, RootError> {
        let err = |e: std::io::Error| RootError::Open(dir.to_owned(), e);
        let host = dir.canonicalize().map_err(err)?;
        let fd = rustix::fs::open(
            &host,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| err(e.into()))?;
        Ok(Self {
            fd,
            host,
            writable: false,
        })
    }

    /// Lets the tree write the root (`run --writable`), or not.
    pub fn writable(self, writable: bool) -> Self {
        Self { writable, ..self }
    }

    /// Whether the tree may write the root.
    pub fn is_writable(&self) -> bool {
        self.writable
    }

    /// `EROFS` unless the tree may write the root.
    fn check_writable(&self) -> Result<(), Errno> {
        if self.writable {
            Ok(())
        } else {
            Err(Errno::Erofs)
        }
    }

    /// The host directory.
    pub fn host_path(&self) -> &Path {
        &self.host
    }

    fn at(&self, path: &[u8], flags: OFlags) -> Result<OwnedFd, Errno> {
        openat2_in_root(&self.fd, path, flags | OFlags::CLOEXEC, Mode::empty()).map_err(errno)
    }

    /// Opens `path` (absolute in the root) with the guest's `O_*` flags and,
    /// for `O_CREAT`, `mode`; anything that would write is `EROFS` on a
    /// read-only root. Only regular files and directories open: a FIFO
    /// would block the daemon in `open`, and a device node is the host's
    /// hardware, not the tree's files (`EACCES`). The host open never blocks
    /// and never acquires a controlling terminal.
    pub fn open_file(&self, path: &[u8], flags: u32, mode: u32) -> Result<OpenFile, Errno> {
        let access = flags & O_ACCMODE;
        if access != O_RDONLY || flags & (O_CREAT | O_TRUNC) != 0 {
            self.check_writable()?;
        }
        let mut o = OFlags::NONBLOCK | OFlags::NOCTTY;
        o |= match access {
            O_WRONLY => OFlags::WRONLY,
            O_RDWR => OFlags::RDWR,
            _ => OFlags::RDONLY,
        };
        for (guest, host) in [
            (O_DIRECTORY, OFlags::DIRECTORY),
            (O_NOFOLLOW, OFlags::NOFOLLOW),
            (O_TRUNC, OFlags::TRUNC),
            (O_APPEND, OFlags::APPEND),
        ] {
            if flags & guest != 0 {
                o |= host;
            }
        }
        let fd = if flags & O_CREAT != 0 {
            self.create(path, o, flags & O_EXCL != 0, mode)?
        } else {
            // A FIFO opened for writing with no reader is ENXIO: not a file.
            self.at(path, o).map_err(|e| match e {
                Errno::Enxio => Errno::Eacces,
                e => e,
            })?
        };
        let st = rustix::fs::fstat(&fd).map_err(errno)?;
        let is_dir = match FileType::from_raw_mode(st.st_mode) {
            FileType::Directory => true,
            FileType::RegularFile => false,
            _ => return Err(Errno::Eacces),
        };
        Ok(OpenFile {
            path: self.shown(&fd).unwrap_or_else(|| path.to_vec()),
            fd,
            is_dir,
            access,
            append: flags & O_APPEND != 0,
            dir: Mutex::new(None),
            host_stream: false,
        })
    }

    /// Opens `path` with `O_CREAT`: a new file gets exactly `mode` (the
    /// daemon's own umask must not filter what the guest asked for, so it is
    /// created with `O_EXCL` and then `fchmod`ed); without `O_EXCL`, an
    /// existing one opens as it is, and a dangling symbolic link (without
    /// `O_NOFOLLOW`) has its target created, as on Linux: the target is
    /// joined to the link's directory and resolved from the root again, so
    /// it stays inside the root like any other path.
    fn create(&self, path: &[u8], o: OFlags, excl: bool, mode: u32) -> Result<OwnedFd, Errno> {
        let mode = granted_mode(mode, false);
        let mut path = path.to_vec();
        let mut links = 0;
        for _ in 0..MAX_LINKS + 2 {
            let made = openat2_in_root(
                &self.fd,
                &path,
                o | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC,
                Mode::from_raw_mode(mode & MODE_BITS),
            );
            match made {
                Ok(fd) => {
                    rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode & MODE_BITS))
                        .map_err(errno)?;
                    return Ok(fd);
                }
                Err(rustix::io::Errno::EXIST) if !excl => match self.at(&path, o) {
                    Err(Errno::Enoent) if !o.contains(OFlags::NOFOLLOW) => {
                        // Removed in between (try again), or a dangling
                        // link, whose target is made next.
                        if let Ok(target) = self.readlink(&path) {
                            links += 1;
                            if links > MAX_LINKS {
                                return Err(Errno::Eloop);
                            }
                            let dir = match path.iter().rposition(|&b| b == b'/') {
                                Some(i) => path[..i.max(1)].to_vec(),
                                None => b"/".to_vec(),
                            };
                            path = join(&dir, &target);
                        }
                    }
                    r => return r,
                },
                Err(e) => return Err(errno(e)),
            }
        }
        Err(Errno::Enoent)
    }

    /// The host descriptor of `path` itself (`O_PATH`), following a final
    /// link unless `nofollow`.
    fn path_fd(&self, path: &[u8], nofollow: bool) -> Result<OwnedFd, Errno> {
        let mut o = OFlags::PATH;
        if nofollow {
            o |= OFlags::NOFOLLOW;
        }
        self.at(path, o)
    }

    /// The status of `path`.
    pub fn stat(&self, path: &[u8], nofollow: bool) -> Result<Stat, Errno> {
        let fd = self.path_fd(path, nofollow)?;
        rustix::fs::fstat(&fd).map(|s| to_stat(&s)).map_err(errno)
    }

    /// Whether the daemon's user may access `path` as `mode` (`R_OK`...);
    /// `W_OK` is `EROFS` on the read-only root.
    pub fn access(&self, path: &[u8], mode: u32, nofollow: bool) -> Result<(), Errno> {
        let fd = self.path_fd(path, nofollow)?;
        if mode & W_OK != 0 {
            self.check_writable()?;
        }
        check_access(&fd, rustix::fs::Access::from_bits_truncate(mode))
    }

    /// The target of the symbolic link `path` (`EINVAL` if it is not one).
    pub fn readlink(&self, path: &[u8]) -> Result<Vec<u8>, Errno> {
        let fd = self.path_fd(path, true)?;
        let target = rustix::fs::readlinkat(&fd, "", Vec::new()).map_err(|e| match e {
            rustix::io::Errno::NOENT => Errno::Einval,
            e => errno(e),
        })?;
        Ok(target.into_bytes())
    }

    /// The directory `path`, held open: a working directory that is found
    /// where it is now after a rename ([`Root::path_now`]).
    pub fn hold_directory(&self, path: &[u8]) -> Result<HeldDir, Errno> {
        let fd = self.at(path, OFlags::PATH | OFlags::DIRECTORY)?;
        Ok(HeldDir(Arc::new(fd)))
    }

    /// Where a held directory is now, as seen from the root: `ENOENT` once
    /// it was removed, or if it is no longer in the root (moved away by
    /// the host), as Linux answers for a removed working directory.
    pub fn path_now(&self, dir: &HeldDir) -> Result<Vec<u8>, Errno> {
        self.current(&dir.0)
    }

    /// Where an open directory is now, as seen from the root.
    pub fn dir_path_now(&self, file: &OpenFile) -> Result<Vec<u8>, Errno> {
        self.current(&file.fd)
    }

    fn current(&self, fd: &OwnedFd) -> Result<Vec<u8>, Errno> {
        let st = rustix::fs::fstat(fd).map_err(errno)?;
        if st.st_nlink == 0 {
            return Err(Errno::Enoent);
        }
        self.shown(fd).ok_or(Errno::Enoent)
    }

    /// Checks that `path` is a regular file the daemon's user may execute;
    /// returns it as seen from the root.
    pub fn executable(&self, path: &[u8]) -> Result<Vec<u8>, Errno> {
        let fd = self.at(path, OFlags::PATH)?;
        let st = rustix::fs::fstat(&fd).map_err(errno)?;
        if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
            return Err(Errno::Eacces);
        }
        check_access(&fd, rustix::fs::Access::EXEC_OK)?;
        Ok(self.shown(&fd).unwrap_or_else(|| path.to_vec()))
    }

    /// Where the host descriptor `fd` points, as seen from the root: the
    /// kernel's own name for it (`/proc/self/fd/N`) with the root's host
    /// path taken off. Only for display (`getcwd`, `/proc/self/exe`);
    /// `None` when it does not lie under the root's path.
    fn shown(&self, fd: &OwnedFd) -> Option<Vec<u8>> {
        let link = std::fs::read_link(format!(
            "/proc/self/fd/{}",
            std::os::fd::AsRawFd::as_raw_fd(fd)
        ))
        .ok()?;
        let rest = link.strip_prefix(&self.host).ok()?;
        let mut p = b"/".to_vec();
        p.extend_from_slice(rest.as_os_str().as_bytes());
        Some(p)
    }
}

/// Whether the daemon's user may access the file behind `fd` as `mode`:
/// `access(2)` through the daemon's own `/proc/self/fd/N` (the descriptor
/// was resolved inside the root already; `faccessat2` with `AT_EMPTY_PATH`
/// is not on every kernel this runs on).
fn check_access(fd: &OwnedFd, mode: rustix::fs::Access) -> Result<(), Errno> {
    let path = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(fd));
    rustix::fs::access(path.as_str(), mode).map_err(errno)
}

/// A directory of the root held open (`O_PATH`), shared by the processes
/// that inherited it as their working directory.
#[derive(Debug, Clone)]
pub struct HeldDir(Arc<OwnedFd>);

/// A file or directory opened in the root: what an fd of a process refers
/// to besides a pipe end. Its offset is the open file description's, shared
/// by every fd that refers to it (`dup`, inheritance).
#[derive(Debug)]
pub struct OpenFile {
    fd: OwnedFd,
    /// The path it was opened by, as seen from the root.
    pub path: Vec<u8>,
    is_dir: bool,
    /// `O_RDONLY`, `O_WRONLY` or `O_RDWR`.
    access: u32,
    /// Opened `O_APPEND`: every write goes to the end.
    append: bool,
    /// The directory stream, for `GETDENTS`.
    dir: Mutex<Option<DirStream>>,
    /// The daemon's own standard input (a regular file the host
    /// redirected), not a file of the root: it reopens only for reading.
    host_stream: bool,
}

#[derive(Debug)]
struct DirStream {
    dir: Dir,
    /// An entry read but not yet returned (the buffer was full).
    held: Option<(u64, u8, Vec<u8>)>,
    /// Records returned so far (the `d_off` of the next one).
    next: i64,
}

impl OpenFile {
    /// The daemon's standard input as the root's fd 0, when the host
    /// redirected a regular file there (`run PROGRAM < FILE`): a program
    /// sees the file, as on Linux (`fstat`, `lseek`), read-only. `None`
    /// for anything else (a terminal or a pipe stays a stream).
    pub fn host_stdin() -> Option<(OpenFile, u64)> {
        let stdin = std::io::stdin();
        let st = rustix::fs::fstat(&stdin).ok()?;
        if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
            return None;
        }
        let access = rustix::fs::fcntl_getfl(&stdin).ok()? & OFlags::RWMODE;
        if access == OFlags::WRONLY {
            return None;
        }
        let offset = rustix::fs::seek(&stdin, rustix::fs::SeekFrom::Current(0)).ok()?;
        let fd = rustix::io::fcntl_dupfd_cloexec(&stdin, 3).ok()?;
        Some((Self::host_stream(fd, b"/dev/stdin".to_vec()), offset))
    }

    /// A host stream's file, read-only.
    fn host_stream(fd: OwnedFd, path: Vec<u8>) -> OpenFile {
        OpenFile {
            fd,
            path,
            is_dir: false,
            access: O_RDONLY,
            append: false,
            dir: Mutex::new(None),
            host_stream: true,
        }
    }

    /// Opens the same file anew (`/proc/self/fd/N` of a process): only the
    /// host's standard input needs this; it opens for reading only
    /// (`EACCES` otherwise), whatever the host would allow.
    pub fn reopen_host_stream(&self, flags: u32) -> Result<Option<OpenFile>, Errno> {
        if !self.host_stream {
            return Ok(None);
        }
        if flags & O_ACCMODE != O_RDONLY || flags & (O_CREAT | O_TRUNC | O_APPEND) != 0 {
            return Err(Errno::Eacces);
        }
        let path = format!(
            "/proc/self/fd/{}",
            std::os::fd::AsRawFd::as_raw_fd(&self.fd)
        );
        let fd = rustix::fs::open(
            path.as_str(),
            OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY,
            Mode::empty(),
        )
        .map_err(errno)?;
        Ok(Some(Self::host_stream(fd, self.path.clone())))
    }

    /// Whether it is a directory.
    pub fn is_dir(&self) -> bool {
        self.is_dir
    }

    /// Starts the directory listing over (`rewinddir`).
    pub fn rewind(&self) {
        if let Some(s) = lock(&self.dir).as_mut() {
            s.dir.rewind();
            s.held = None;
            s.next = 0;
        }
    }

    /// The access mode it was opened with.
    pub fn access(&self) -> u32 {
        self.access
    }

    /// Whether every write goes to the end (`O_APPEND`).
    pub fn appends(&self) -> bool {
        self.append
    }

    /// Reads into `buf` at `offset`; returns how many bytes (`EBADF` when
    /// it was opened write-only).
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize, Errno> {
        if self.is_dir {
            return Err(Errno::Eisdir);
        }
        if self.access == O_WRONLY {
            return Err(Errno::Ebadf);
        }
        rustix::io::pread(&self.fd, buf, offset).map_err(errno)
    }

    /// Reads at `offset` straight into `dst` (a request's payload: guest
    /// memory, with no bounce buffer between the file and the guest);
    /// returns how many bytes, 0 at the end.
    pub fn read_at_volatile(&self, dst: &VolatileSlice<'_>, offset: u64) -> Result<usize, Errno> {
        if self.is_dir {
            return Err(Errno::Eisdir);
        }
        if self.access == O_WRONLY {
            return Err(Errno::Ebadf);
        }
        let offset = i64::try_from(offset).map_err(|_| Errno::Einval)?;
        let guard = dst.ptr_guard_mut();
        // SAFETY: `guard` keeps `dst`'s `len()` bytes mapped and writable
        // while the call runs; the host kernel writes at most that many
        // bytes there (as a copy into volatile memory: no Rust reference
        // to them exists), and a fault in them is an `EFAULT` answer, not
        // a signal.
        let n = unsafe {
            libc::pread(
                std::os::fd::AsRawFd::as_raw_fd(&self.fd),
                guard.as_ptr().cast(),
                guard.len(),
                offset,
            )
        };
        if n < 0 {
            let e = std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EIO);
            return Err(errno(rustix::io::Errno::from_raw_os_error(e)));
        }
        Ok(n as usize)
    }

    /// Writes `buf` at `offset` (at the end when opened `O_APPEND`: the
    /// host appends, atomically with every other write of the daemon,
    /// which holds the kernel lock); returns how many bytes (`EBADF` when
    /// it was opened read-only).
    pub fn write_at(&self, buf: &[u8], offset: u64) -> Result<usize, Errno> {
        if self.access == O_RDONLY {
            return Err(Errno::Ebadf);
        }
        rustix::io::pwrite(&self.fd, buf, offset).map_err(errno)
    }

    /// Sets its length (`EINVAL` unless it is a regular file open for writing).
    pub fn truncate(&self, len: u64) -> Result<(), Errno> {
        if self.is_dir || self.access == O_RDONLY {
            return Err(Errno::Einval);
        }
        rustix::fs::ftruncate(&self.fd, len).map_err(errno)
    }

    /// Flushes it (its data only with `data_only`).
    pub fn sync(&self, data_only: bool) -> Result<(), Errno> {
        if data_only {
            rustix::fs::fdatasync(&self.fd).map_err(errno)
        } else {
            rustix::fs::fsync(&self.fd).map_err(errno)
        }
    }

    /// Sets its permission bits (`fchmod`).
    pub fn chmod(&self, mode: u32) -> Result<(), Errno> {
        let mode = granted_mode(mode, self.is_dir);
        rustix::fs::fchmod(&self.fd, Mode::from_raw_mode(mode)).map_err(errno)
    }

    /// Sets its access and modification times (`futimens`).
    pub fn set_times(&self, times: &Times) -> Result<(), Errno> {
        rustix::fs::futimens(&self.fd, &times.host()).map_err(errno)
    }

    /// Its status.
    pub fn stat(&self) -> Result<Stat, Errno> {
        rustix::fs::fstat(&self.fd)
            .map(|s| to_stat(&s))
            .map_err(errno)
    }

    /// Its size in bytes.
    pub fn size(&self) -> Result<u64, Errno> {
        rustix::fs::fstat(&self.fd)
            .map(|s| s.st_size as u64)
            .map_err(errno)
    }

    /// The next directory entries as `linux_dirent64` records into `out`;
    /// returns the bytes written, 0 at the end (`EINVAL` when not even one
    /// record fits, `ENOTDIR` for a file).
    pub fn getdents(&self, out: &mut [u8]) -> Result<usize, Errno> {
        if !self.is_dir {
            return Err(Errno::Enotdir);
        }
        let mut guard = lock(&self.dir);
        if guard.is_none() {
            let dir = Dir::read_from(self.fd.as_fd()).map_err(errno)?;
            *guard = Some(DirStream {
                dir,
                held: None,
                next: 0,
            });
        }
        let s = guard.as_mut().expect("just made");
        let mut at = 0;
        loop {
            let entry = match s.held.take() {
                Some(e) => e,
                None => match s.dir.read() {
                    None => break,
                    Some(Err(e)) => return Err(errno(e)),
                    Some(Ok(e)) => (
                        e.ino(),
                        dt_of(e.file_type()),
                        e.file_name().to_bytes().to_vec(),
                    ),
                },
            };
            let (ino, kind, name) = &entry;
            match put_dirent(&mut out[at..], *ino, s.next + 1, *kind, name) {
                Some(n) => {
                    at += n;
                    s.next += 1;
                }
                None => {
                    s.held = Some(entry);
                    if at == 0 {
                        return Err(Errno::Einval);
                    }
                    break;
                }
            }
        }
        Ok(at)
    }
}

fn dt_of(t: FileType) -> u8 {
    match t {
        FileType::RegularFile => DT_REG,
        FileType::Directory => DT_DIR,
        FileType::Symlink => DT_LNK,
        FileType::Fifo => DT_FIFO,
        FileType::Socket => DT_SOCK,
        FileType::CharacterDevice => DT_CHR,
        FileType::BlockDevice => DT_BLK,
        _ => DT_UNKNOWN,
    }
}

/// A host `struct stat` as the wire's (the same Linux x86-64 layout).
fn to_stat(s: &rustix::fs::Stat) -> Stat {
    Stat {
        dev: U64::new(s.st_dev),
        ino: U64::new(s.st_ino),
        nlink: U64::new(s.st_nlink),
        mode: U32::new(s.st_mode),
        uid: U32::new(s.st_uid),
        gid: U32::new(s.st_gid),
        rdev: U64::new(s.st_rdev),
        size: I64::new(s.st_size),
        blksize: I64::new(s.st_blksize),
        blocks: I64::new(s.st_blocks),
        atime: I64::new(s.st_atime),
        atime_nsec: I64::new(s.st_atime_nsec as i64),
        mtime: I64::new(s.st_mtime),
        mtime_nsec: I64::new(s.st_mtime_nsec as i64),
        ctime: I64::new(s.st_ctime),
        ctime_nsec: I64::new(s.st_ctime_nsec as i64),
        ..Stat::default()
    }
}

/// The status of a standard stream whose host end is a terminal: a
/// character device of the pseudo-terminal major (136), as `/dev/pts/0`.
pub fn terminal_stat() -> Stat {
    Stat {
        mode: U32::new(S_IFCHR | 0o620),
        rdev: U64::new(rustix::fs::makedev(136, 0)),
        nlink: U64::new(1),
        blksize: I64::new(1024),
        ..Stat::default()
    }
}

/// The status of a pipe end: a FIFO, nothing else known.
pub fn pipe_stat(id: usize) -> Stat {
    Stat {
        mode: U32::new(S_IFIFO | 0o600),
        ino: U64::new(id as u64 + 1),
        nlink: U64::new(1),
        blksize: I64::new(4096),
        ..Stat::default()
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use virtio_pipe_protocol::fs::{
        dirents, O_RDWR, O_WRONLY, R_OK, S_IFDIR, S_IFMT, S_IFREG, X_OK,
    };

    use super::*;

    /// A root with `etc/hosts`, `bin/prog` (executable), a link out of the
    /// root, a link to `/etc/hosts` and a secret next to (not inside) it.
    fn tree() -> (tempfile::TempDir, Root) {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("secret"), b"host only").unwrap();
        let r = d.path().join("root");
        std::fs::create_dir_all(r.join("etc")).unwrap();
        std::fs::create_dir_all(r.join("bin")).unwrap();
        std::fs::write(r.join("etc/hosts"), b"127.0.0.1 localhost\n").unwrap();
        std::fs::write(r.join("bin/prog"), b"\x7fELF").unwrap();
        std::fs::set_permissions(
            r.join("bin/prog"),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        symlink("../../secret", r.join("etc/escape")).unwrap();
        symlink("/etc/hosts", r.join("bin/hosts-link")).unwrap();
        let root = Root::open(&r).unwrap();
        (d, root)
    }

    fn read_all(f: &OpenFile) -> Vec<u8> {
        let mut buf = vec![0u8; 4096];
        let n = f.read_at(&mut buf, 0).unwrap();
        buf.truncate(n);
        buf
    }

    #[test]
    fn a_file_in_the_root_is_read() {
        let (_d, root) = tree();
        let f = root.open_file(b"/etc/hosts", O_RDONLY, 0).unwrap();
        assert_eq!(read_all(&f), b"127.0.0.1 localhost\n");
        assert_eq!(f.path, b"/etc/hosts");
    }

    /// Renames elsewhere on the host make Linux answer `EAGAIN` to a `..`
    /// walk in the root (it cannot prove the walk stayed inside); the
    /// daemon tries again, so a guest's `../x` never fails for it. The
    /// renaming thread works in a directory the root cannot see.
    #[test]
    fn dotdot_lookups_survive_renames_elsewhere_on_the_host() {
        let (d, root) = tree();
        let busy = d.path().join("busy");
        std::fs::create_dir(&busy).unwrap();
        std::fs::write(busy.join("a"), b"").unwrap();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let renamer = {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let (a, b) = (busy.join("a"), busy.join("b"));
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    std::fs::rename(&a, &b).unwrap();
                    std::fs::rename(&b, &a).unwrap();
                }
            })
        };
        let mut results = Vec::new();
        for _ in 0..20_000 {
            let r = root.open_file(b"/bin/../etc/../etc/hosts", O_RDONLY, 0);
            results.push(r.map(|_| ()));
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        renamer.join().unwrap();
        let failed: Vec<_> = results.iter().filter(|r| r.is_err()).collect();
        assert!(
            failed.is_empty(),
            "{} of 20000 failed: {:?}",
            failed.len(),
            failed[0]
        );
    }

    #[test]
    fn dotdot_and_links_never_leave_the_root() {
        let (_d, root) = tree();
        // `..` at the root stays at the root.
        let f = root.open_file(b"/../../etc/hosts", O_RDONLY, 0).unwrap();
        assert_eq!(read_all(&f), b"127.0.0.1 localhost\n");
        assert_eq!(
            root.open_file(b"/../secret", O_RDONLY, 0).unwrap_err(),
            Errno::Enoent
        );
        // A relative link out of the root lands inside it (and finds nothing).
        assert_eq!(
            root.open_file(b"/etc/escape", O_RDONLY, 0).unwrap_err(),
            Errno::Enoent
        );
        // An absolute link resolves from the root, not the host's /.
        let f = root.open_file(b"/bin/hosts-link", O_RDONLY, 0).unwrap();
        assert_eq!(read_all(&f), b"127.0.0.1 localhost\n");
        // Magic links are refused.
        assert!(root
            .open_file(b"/proc/self/root/etc/passwd", O_RDONLY, 0)
            .is_err());
    }

    #[test]
    fn anything_that_writes_is_erofs() {
        let (_d, root) = tree();
        for fl in [O_WRONLY, O_RDWR, O_CREAT, O_TRUNC] {
            assert_eq!(
                root.open_file(b"/etc/hosts", fl, 0).unwrap_err(),
                Errno::Erofs
            );
        }
        assert_eq!(root.access(b"/etc/hosts", W_OK, false), Err(Errno::Erofs));
        assert_eq!(root.access(b"/etc/hosts", R_OK, false), Ok(()));
    }

    /// With the host's `/` as the root, `/proc` is the real procfs: its
    /// magic links are refused even there, where a plain path to the same
    /// file opens.
    #[test]
    fn magic_links_are_never_followed() {
        let root = Root::open(Path::new("/")).unwrap();
        assert!(root.open_file(b"/etc/passwd", O_RDONLY, 0).is_ok());
        for magic in [
            &b"/proc/self/root/etc/passwd"[..],
            b"/proc/self/cwd/etc/passwd",
        ] {
            assert_eq!(
                root.open_file(magic, O_RDONLY, 0).unwrap_err(),
                Errno::Eloop
            );
            assert_eq!(root.stat(magic, false).unwrap_err(), Errno::Eloop);
        }
        let exe = root.open_file(b"/proc/self/exe", O_RDONLY, 0);
        assert_eq!(exe.unwrap_err(), Errno::Eloop);
    }

    /// Regression: opening a FIFO in the root blocked the daemon (with the
    /// kernel lock held) until something opened it for writing.
    #[test]
    fn fifos_and_devices_are_refused_without_blocking() {
        let (d, root) = tree();
        let fifo = d.path().join("root/etc/fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            FileType::Fifo,
            Mode::from_raw_mode(0o644),
            0,
        )
        .unwrap();
        assert_eq!(
            root.open_file(b"/etc/fifo", O_RDONLY, 0).unwrap_err(),
            Errno::Eacces
        );
        // A device node reached through an absolute link is the root's
        // (missing) one, and the host's never opens.
        symlink("/dev/zero", d.path().join("root/etc/zero")).unwrap();
        assert_eq!(
            root.open_file(b"/etc/zero", O_RDONLY, 0).unwrap_err(),
            Errno::Enoent
        );
        // A device node inside the root (a copied root file system) is
        // refused too, where this user may make one.
        let null = d.path().join("root/etc/null");
        let dev = rustix::fs::makedev(1, 3);
        let made = rustix::fs::mknodat(
            rustix::fs::CWD,
            &null,
            FileType::CharacterDevice,
            Mode::from_raw_mode(0o666),
            dev,
        );
        if made.is_ok() {
            assert_eq!(
                root.open_file(b"/etc/null", O_RDONLY, 0).unwrap_err(),
                Errno::Eacces
            );
        }
    }

    #[test]
    fn nofollow_and_directory_flags_are_honoured() {
        let (_d, root) = tree();
        assert_eq!(
            root.open_file(b"/bin/hosts-link", O_NOFOLLOW, 0)
                .unwrap_err(),
            Errno::Eloop
        );
        assert_eq!(
            root.open_file(b"/etc/hosts", O_DIRECTORY, 0).unwrap_err(),
            Errno::Enotdir
        );
        assert!(root.open_file(b"/etc", O_DIRECTORY, 0).unwrap().is_dir());
    }

    #[test]
    fn stat_follows_links_unless_asked_not_to() {
        let (_d, root) = tree();
        let s = root.stat(b"/bin/hosts-link", false).unwrap();
        assert_eq!(s.mode.get() & S_IFMT, S_IFREG);
        assert_eq!(s.size.get(), 20);
        let l = root.stat(b"/bin/hosts-link", true).unwrap();
        assert_eq!(l.mode.get() & S_IFMT, virtio_pipe_protocol::fs::S_IFLNK);
        assert_eq!(
            root.stat(b"/etc", false).unwrap().mode.get() & S_IFMT,
            S_IFDIR
        );
    }

    #[test]
    fn readlink_reads_the_link_itself_and_refuses_a_file() {
        let (_d, root) = tree();
        assert_eq!(root.readlink(b"/bin/hosts-link").unwrap(), b"/etc/hosts");
        assert_eq!(root.readlink(b"/etc/hosts").unwrap_err(), Errno::Einval);
    }

    #[test]
    fn a_directory_lists_every_entry_once_across_small_buffers() {
        let (_d, root) = tree();
        let dir = root.open_file(b"/etc", O_RDONLY, 0).unwrap();
        let mut names = Vec::new();
        let mut buf = [0u8; 40];
        loop {
            let n = dir.getdents(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            names.extend(dirents(&buf[..n]).map(|d| d.name.to_vec()));
        }
        names.sort();
        assert_eq!(names, [&b"."[..], b"..", b"escape", b"hosts"]);
        let mut tiny = [0u8; 8];
        let again = root.open_file(b"/etc", O_RDONLY, 0).unwrap();
        assert_eq!(again.getdents(&mut tiny), Err(Errno::Einval));
    }

    #[test]
    fn only_executable_regular_files_can_be_programs() {
        let (_d, root) = tree();
        assert_eq!(root.executable(b"/bin/prog").unwrap(), b"/bin/prog");
        assert_eq!(root.executable(b"/etc/hosts").unwrap_err(), Errno::Eacces);
        assert_eq!(root.executable(b"/etc").unwrap_err(), Errno::Eacces);
        assert_eq!(root.executable(b"/nope").unwrap_err(), Errno::Enoent);
        assert_eq!(root.access(b"/bin/prog", X_OK, false), Ok(()));
    }

    #[test]
    fn paths_join_relative_to_a_base() {
        assert_eq!(join(b"/", b"a"), b"/a");
        assert_eq!(join(b"/etc", b"hosts"), b"/etc/hosts");
        assert_eq!(join(b"/etc", b"/bin"), b"/bin");
        assert_eq!(join(b"/etc/", b"../x"), b"/etc/../x");
    }

    #[test]
    fn a_held_directory_is_named_as_the_kernel_resolved_it() {
        let (_d, root) = tree();
        let name = |p: &[u8]| root.path_now(&root.hold_directory(p)?);
        assert_eq!(name(b"/etc/../bin").unwrap(), b"/bin");
        assert_eq!(name(b"/").unwrap(), b"/");
        assert_eq!(name(b"/etc/hosts").unwrap_err(), Errno::Enotdir);
    }
}
