//! Changing the tree's files (spec 1.6.23): positioned writes, length,
//! syncing, and the names and attributes of a writable root (making and
//! removing directories, unlinking, renaming, hard and symbolic links,
//! modes, times, owners). The device resolves every path inside the root
//! and acts on the final name without following it; a read-only root
//! answers `EROFS`. These handlers read the program's arguments, apply the
//! process's `umask` where Linux does (the device creates with exactly the
//! mode it is given), and make one device request each.
//!
//! What a tree cannot do, and says so: device nodes and FIFOs by name
//! (`mknod` of anything but a regular file is `EPERM`), owners other than
//! the file's own (`chown` to what it already is succeeds, anything else
//! is `EPERM`: the daemon does not run as the tree's users), preallocation
//! (`fallocate` is `EOPNOTSUPP`). Advisory locks (`flock`, `fcntl`'s
//! `F_SETLK`) are granted and not enforced between the tree's processes.

use alloc::vec::Vec;

use virtio_pipe_protocol::fs::{
    AT_REMOVEDIR, AT_SYMLINK_FOLLOW, O_CREAT, O_EXCL, O_WRONLY, RENAME_EXCHANGE, RENAME_NOREPLACE,
    S_IFLNK, S_IFMT, S_IFREG, UTIME_NOW, UTIME_OMIT,
};
use virtio_pipe_protocol::Dirfd;

use super::file::{base, dirfd, path};
use super::fs::{copy_through, CHUNK, WRITE_MAX};
use super::{fd, Args, Ctx};
use crate::linux::fcntl::{AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW};
use crate::linux::{Errno, SysResult};
use crate::mem::address_space::Access;
use crate::process::device::{self, UserSegments};

/// The mode bits `mkdir` keeps (`S_ISVTX` and the permissions; Linux drops
/// set-user-ID and set-group-ID from a new directory's requested mode).
const MKDIR_BITS: u32 = 0o1777;
/// `AT_EMPTY_PATH`, as the device's flags take it.
const EMPTY: u32 = AT_EMPTY_PATH as u32;
/// `AT_SYMLINK_NOFOLLOW`, as the device's flags take it.
const NOFOLLOW: u32 = AT_SYMLINK_NOFOLLOW as u32;

/// `pwrite64(fd, buf, count, offset)`: from the program's buffer in place,
/// one `PWRITE` per [`WRITE_MAX`] bytes or `MAX_SEGMENTS` runs of frames,
/// until all is written or the file takes less (a full disk).
pub fn pwrite64(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (fd, buf, count, offset) = (fd(a[0])?, a[1], a[2] as usize, a[3] as i64);
    if offset < 0 {
        return Err(Errno::EINVAL);
    }
    if count == 0 {
        device::get_flags(fd)?;
        return Ok(0);
    }
    let mut done = 0usize;
    while done < count {
        let mut segs = UserSegments::new();
        let want = (count - done).min(WRITE_MAX) as u64;
        let n = match cx
            .p
            .space
            .gather(buf + done as u64, want, Some(Access::Read), &mut segs)
        {
            Ok(n) => n as usize,
            Err(e) => return if done > 0 { Ok(done as u64) } else { Err(e) },
        };
        let at = (offset as u64)
            .checked_add(done as u64)
            .ok_or(Errno::EINVAL)?;
        // SAFETY: `segs` was just gathered from this process's address
        // space, which nothing changes until the request completes: the
        // program does not run during its own syscall.
        match unsafe { device::pwrite_segments(fd, at, &segs) } {
            Ok(w) => {
                done += w;
                if w < n {
                    break;
                }
            }
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(done as u64)
}

/// `ftruncate(fd, length)`.
pub fn ftruncate(_cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (fd, length) = (fd(a[0])?, a[1] as i64);
    let length = u64::try_from(length).map_err(|_| Errno::EINVAL)?;
    device::ftruncate(fd, length).map(|()| 0)
}

/// `truncate(path, length)`: the file opened for writing, cut or
/// extended, closed (so a directory is `EISDIR` and a read-only file
/// `EACCES`, as on Linux).
pub fn truncate(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let path = path(cx, a[0])?;
    let length = u64::try_from(a[1] as i64).map_err(|_| Errno::EINVAL)?;
    let fd = device::openat(Dirfd::Cwd, &path, O_WRONLY, 0)?;
    let r = device::ftruncate(fd, length);
    let _ = device::close(fd);
    r.map(|()| 0)
}

/// `fsync(fd)`.
pub fn fsync(_cx: &mut Ctx<'_>, a: Args) -> SysResult {
    device::fsync(fd(a[0])?, false).map(|()| 0)
}

/// `fdatasync(fd)`.
pub fn fdatasync(_cx: &mut Ctx<'_>, a: Args) -> SysResult {
    device::fsync(fd(a[0])?, true).map(|()| 0)
}

/// `sync()`: every write the device took is already in the host's page
/// cache, where the host's own writeback takes it; `fsync` flushes one
/// file to the disk.
pub fn sync(_cx: &mut Ctx<'_>, _a: Args) -> SysResult {
    Ok(0)
}

/// `syncfs(fd)`: as `sync`, for an open fd.
pub fn syncfs(_cx: &mut Ctx<'_>, a: Args) -> SysResult {
    device::get_flags(fd(a[0])?).map(|_| 0)
}

fn mkdir_at(cx: &mut Ctx<'_>, dir: Dirfd, at: u64, mode: u64) -> SysResult {
    let path = path(cx, at)?;
    let mode = mode as u32 & MKDIR_BITS & !cx.p.umask;
    device::mkdirat(base(dir, &path), &path, mode).map(|()| 0)
}

/// `mkdir(path, mode)`.
pub fn mkdir(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    mkdir_at(cx, Dirfd::Cwd, a[0], a[1])
}

/// `mkdirat(dirfd, path, mode)`.
pub fn mkdirat(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let dir = dirfd(a[0])?;
    mkdir_at(cx, dir, a[1], a[2])
}

fn unlink_at(cx: &mut Ctx<'_>, dir: Dirfd, at: u64, flags: u64) -> SysResult {
    if flags & !u64::from(AT_REMOVEDIR) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = path(cx, at)?;
    device::unlinkat(base(dir, &path), &path, flags as u32).map(|()| 0)
}

/// `unlink(path)`.
pub fn unlink(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    unlink_at(cx, Dirfd::Cwd, a[0], 0)
}

/// `rmdir(path)`.
pub fn rmdir(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    unlink_at(cx, Dirfd::Cwd, a[0], u64::from(AT_REMOVEDIR))
}

/// `unlinkat(dirfd, path, flags)`.
pub fn unlinkat(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let dir = dirfd(a[0])?;
    unlink_at(cx, dir, a[1], a[2])
}

/// The two paths of a rename or link, each with its base.
fn two_paths(
    cx: &mut Ctx<'_>,
    (old_dir, old_at): (Dirfd, u64),
    (new_dir, new_at): (Dirfd, u64),
) -> Result<(Dirfd, Vec<u8>, Dirfd, Vec<u8>), Errno> {
    let old = path(cx, old_at)?;
    let new = path(cx, new_at)?;
    Ok((base(old_dir, &old), old, base(new_dir, &new), new))
}

fn rename_at(cx: &mut Ctx<'_>, old: (Dirfd, u64), new: (Dirfd, u64), flags: u64) -> SysResult {
    let known = u64::from(RENAME_NOREPLACE | RENAME_EXCHANGE);
    if flags & !known != 0 || flags == known {
        return Err(Errno::EINVAL);
    }
    let (od, op, nd, np) = two_paths(cx, old, new)?;
    device::renameat(od, &op, nd, &np, flags as u32).map(|()| 0)
}

/// `rename(old, new)`.
pub fn rename(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    rename_at(cx, (Dirfd::Cwd, a[0]), (Dirfd::Cwd, a[1]), 0)
}

/// `renameat(olddirfd, old, newdirfd, new)`.
pub fn renameat(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (od, nd) = (dirfd(a[0])?, dirfd(a[2])?);
    rename_at(cx, (od, a[1]), (nd, a[3]), 0)
}

/// `renameat2(olddirfd, old, newdirfd, new, flags)`: `RENAME_NOREPLACE`,
/// `RENAME_EXCHANGE` (`RENAME_WHITEOUT` is `EINVAL`).
pub fn renameat2(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (od, nd) = (dirfd(a[0])?, dirfd(a[2])?);
    rename_at(cx, (od, a[1]), (nd, a[3]), a[4])
}

fn link_at(cx: &mut Ctx<'_>, old: (Dirfd, u64), new: (Dirfd, u64), flags: u64) -> SysResult {
    if flags & AT_EMPTY_PATH != 0 {
        // Linking an fd by itself needs CAP_DAC_READ_SEARCH on Linux.
        return Err(Errno::ENOENT);
    }
    if flags & !u64::from(AT_SYMLINK_FOLLOW) != 0 {
        return Err(Errno::EINVAL);
    }
    let (od, op, nd, np) = two_paths(cx, old, new)?;
    device::linkat(od, &op, nd, &np, flags as u32).map(|()| 0)
}

/// `link(old, new)` (does not follow a symbolic link `old`, as Linux).
pub fn link(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    link_at(cx, (Dirfd::Cwd, a[0]), (Dirfd::Cwd, a[1]), 0)
}

/// `linkat(olddirfd, old, newdirfd, new, flags)`: `AT_SYMLINK_FOLLOW`.
pub fn linkat(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (od, nd) = (dirfd(a[0])?, dirfd(a[2])?);
    link_at(cx, (od, a[1]), (nd, a[3]), a[4])
}

fn symlink_at(cx: &mut Ctx<'_>, target: u64, dir: Dirfd, at: u64) -> SysResult {
    let target = path(cx, target)?;
    let link = path(cx, at)?;
    device::symlinkat(&target, base(dir, &link), &link).map(|()| 0)
}

/// `symlink(target, linkpath)`: the target is stored as given, resolved
/// (inside the root) only when the link is followed.
pub fn symlink(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    symlink_at(cx, a[0], Dirfd::Cwd, a[1])
}

/// `symlinkat(target, newdirfd, linkpath)`.
pub fn symlinkat(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let dir = dirfd(a[1])?;
    symlink_at(cx, a[0], dir, a[2])
}

/// The mode bits `chmod` sets.
fn chmod_mode(mode: u64) -> u32 {
    mode as u32 & 0o7777
}

/// `chmod(path, mode)`.
pub fn chmod(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let path = path(cx, a[0])?;
    device::fchmodat(Dirfd::Cwd, &path, chmod_mode(a[1]), 0).map(|()| 0)
}

/// `fchmod(fd, mode)`.
pub fn fchmod(_cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let fd = fd(a[0])?;
    device::fchmodat(Dirfd::Fd(fd), b"", chmod_mode(a[1]), EMPTY).map(|()| 0)
}

/// `fchmodat(dirfd, path, mode)` (the system call has no flags).
pub fn fchmodat(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let dir = dirfd(a[0])?;
    let path = path(cx, a[1])?;
    device::fchmodat(base(dir, &path), &path, chmod_mode(a[2]), 0).map(|()| 0)
}

/// `fchmodat2(dirfd, path, mode, flags)`: `AT_EMPTY_PATH`, and
/// `AT_SYMLINK_NOFOLLOW`, which Linux refuses for a symbolic link
/// (`EOPNOTSUPP`: a link has no mode of its own) and ignores otherwise.
pub fn fchmodat2(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (dir, at, mode, flags) = (dirfd(a[0])?, a[1], chmod_mode(a[2]), a[3]);
    if flags & !(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0 {
        return Err(Errno::EINVAL);
    }
    let path =
        cx.p.space
            .read_cstr(at, virtio_pipe_protocol::fs::PATH_MAX)?;
    if path.is_empty() && flags & AT_EMPTY_PATH != 0 {
        return match dir {
            Dirfd::Fd(_) => device::fchmodat(dir, b"", mode, EMPTY).map(|()| 0),
            Dirfd::Cwd => device::fchmodat(Dirfd::Cwd, b".", mode, 0).map(|()| 0),
        };
    }
    let dir = base(dir, &path);
    if flags & AT_SYMLINK_NOFOLLOW != 0 {
        let st = device::statat(dir, &path, NOFOLLOW)?;
        if st.mode.get() & S_IFMT == S_IFLNK {
            return Err(Errno::EOPNOTSUPP);
        }
    }
    device::fchmodat(dir, &path, mode, 0).map(|()| 0)
}

/// Ownership: the tree's processes act as the daemon's user, which
/// cannot give files away, so a change to the owner or group the file
/// already has (or `-1`: no change) succeeds and any other is `EPERM`.
fn chown_check(st: &virtio_pipe_protocol::Stat, uid: u64, gid: u64) -> SysResult {
    let same = |want: u64, have: u32| want as u32 == u32::MAX || want as u32 == have;
    if same(uid, st.uid.get()) && same(gid, st.gid.get()) {
        Ok(0)
    } else {
        Err(Errno::EPERM)
    }
}

fn chown_at(cx: &mut Ctx<'_>, dir: Dirfd, at: u64, ids: (u64, u64), flags: u64) -> SysResult {
    if flags & !(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0 {
        return Err(Errno::EINVAL);
    }
    let path =
        cx.p.space
            .read_cstr(at, virtio_pipe_protocol::fs::PATH_MAX)?;
    let st = if path.is_empty() && flags & AT_EMPTY_PATH != 0 {
        match dir {
            Dirfd::Fd(fd) => device::fstat(fd)?,
            Dirfd::Cwd => device::statat(Dirfd::Cwd, b".", 0)?,
        }
    } else {
        if path.is_empty() {
            return Err(Errno::ENOENT);
        }
        device::statat(
            base(dir, &path),
            &path,
            (flags & AT_SYMLINK_NOFOLLOW) as u32,
        )?
    };
    chown_check(&st, ids.0, ids.1)
}

/// `chown(path, owner, group)`.
pub fn chown(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    chown_at(cx, Dirfd::Cwd, a[0], (a[1], a[2]), 0)
}

/// `lchown(path, owner, group)`.
pub fn lchown(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    chown_at(cx, Dirfd::Cwd, a[0], (a[1], a[2]), AT_SYMLINK_NOFOLLOW)
}

/// `fchown(fd, owner, group)`.
pub fn fchown(_cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let st = device::fstat(fd(a[0])?)?;
    chown_check(&st, a[1], a[2])
}

/// `fchownat(dirfd, path, owner, group, flags)`.
pub fn fchownat(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let dir = dirfd(a[0])?;
    chown_at(cx, dir, a[1], (a[2], a[3]), a[4])
}

/// A time as `utimensat` takes it: nanoseconds below a second, or one of
/// the two markers.
fn check_time((sec, nsec): (i64, i64)) -> Result<(i64, i64), Errno> {
    if nsec == UTIME_NOW || nsec == UTIME_OMIT || (0..1_000_000_000).contains(&nsec) {
        Ok((sec, nsec))
    } else {
        Err(Errno::EINVAL)
    }
}

/// Sets the times of `path` from `dir` (a null path: `dir` itself).
fn set_times(
    cx: &mut Ctx<'_>,
    dir: Dirfd,
    at: u64,
    times: [(i64, i64); 2],
    flags: u64,
) -> SysResult {
    if flags & !(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0 {
        return Err(Errno::EINVAL);
    }
    let times = [check_time(times[0])?, check_time(times[1])?];
    let path = if at == 0 {
        // Linux's own extension: a null path is the fd `dirfd`.
        match dir {
            Dirfd::Fd(_) => Vec::new(),
            Dirfd::Cwd => return Err(Errno::EFAULT),
        }
    } else {
        path_or_empty(cx, at, flags)?
    };
    let mut dev_flags = (flags & AT_SYMLINK_NOFOLLOW) as u32;
    if path.is_empty() {
        dev_flags |= EMPTY;
        if dir == Dirfd::Cwd {
            return device::utimensat(Dirfd::Cwd, b".", times, 0).map(|()| 0);
        }
    }
    device::utimensat(base(dir, &path), &path, times, dev_flags).map(|()| 0)
}

/// A path argument that may be empty with `AT_EMPTY_PATH`.
fn path_or_empty(cx: &mut Ctx<'_>, at: u64, flags: u64) -> Result<Vec<u8>, Errno> {
    let p =
        cx.p.space
            .read_cstr(at, virtio_pipe_protocol::fs::PATH_MAX)?;
    if p.len() > virtio_pipe_protocol::fs::PATH_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    if p.is_empty() && flags & AT_EMPTY_PATH == 0 {
        return Err(Errno::ENOENT);
    }
    Ok(p)
}

/// Both times now (a null `times`).
const NOW: [(i64, i64); 2] = [(0, UTIME_NOW), (0, UTIME_NOW)];

/// `utimensat(dirfd, path, times, flags)`.
pub fn utimensat(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let dir = dirfd(a[0])?;
    let times = if a[2] == 0 {
        NOW
    } else {
        let t: [i64; 4] = cx.p.space.read(a[2])?;
        [(t[0], t[1]), (t[2], t[3])]
    };
    set_times(cx, dir, a[1], times, a[3])
}

/// Times as `utimes` and `futimesat` take them (`struct timeval[2]`, or
/// null for now).
fn timevals(cx: &mut Ctx<'_>, at: u64) -> Result<[(i64, i64); 2], Errno> {
    if at == 0 {
        return Ok(NOW);
    }
    let t: [i64; 4] = cx.p.space.read(at)?;
    for usec in [t[1], t[3]] {
        if !(0..1_000_000).contains(&usec) {
            return Err(Errno::EINVAL);
        }
    }
    Ok([(t[0], t[1] * 1000), (t[2], t[3] * 1000)])
}

/// `utimes(path, times)`.
pub fn utimes(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let times = timevals(cx, a[1])?;
    if a[0] == 0 {
        return Err(Errno::EFAULT);
    }
    set_times(cx, Dirfd::Cwd, a[0], times, 0)
}

/// `futimesat(dirfd, path, times)`.
pub fn futimesat(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let dir = dirfd(a[0])?;
    let times = timevals(cx, a[2])?;
    set_times(cx, dir, a[1], times, 0)
}

/// `utime(path, times)` (`struct utimbuf`: whole seconds).
pub fn utime(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let times = if a[1] == 0 {
        NOW
    } else {
        let t: [i64; 2] = cx.p.space.read(a[1])?;
        [(t[0], 0), (t[1], 0)]
    };
    if a[0] == 0 {
        return Err(Errno::EFAULT);
    }
    set_times(cx, Dirfd::Cwd, a[0], times, 0)
}

fn mknod_at(cx: &mut Ctx<'_>, dir: Dirfd, at: u64, mode: u64) -> SysResult {
    let path = path(cx, at)?;
    let kind = mode as u32 & S_IFMT;
    if kind != 0 && kind != S_IFREG {
        log::info!(
            "pid {}: mknod of type {kind:#o}: EPERM (a tree makes no device nodes, FIFOs or sockets by name)",
            cx.p.pid
        );
        return Err(Errno::EPERM);
    }
    let perm = mode as u32 & 0o7777 & !cx.p.umask;
    let fd = device::openat(base(dir, &path), &path, O_CREAT | O_EXCL | O_WRONLY, perm)?;
    let _ = device::close(fd);
    Ok(0)
}

/// `mknod(path, mode, dev)`: a regular file (an empty one, created
/// exclusively); other types are `EPERM`.
pub fn mknod(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    mknod_at(cx, Dirfd::Cwd, a[0], a[1])
}

/// `mknodat(dirfd, path, mode, dev)`.
pub fn mknodat(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let dir = dirfd(a[0])?;
    mknod_at(cx, dir, a[1], a[2])
}

/// `fallocate(fd, mode, offset, len)`: `EOPNOTSUPP` (callers such as
/// `posix_fallocate` users then write the bytes themselves).
pub fn fallocate(_cx: &mut Ctx<'_>, a: Args) -> SysResult {
    device::get_flags(fd(a[0])?)?;
    Err(Errno::EOPNOTSUPP)
}

/// `flock(fd, operation)`: granted (advisory locks are not enforced
/// between the tree's processes).
pub fn flock(_cx: &mut Ctx<'_>, a: Args) -> SysResult {
    device::get_flags(fd(a[0])?).map(|_| 0)
}

/// `copy_file_range(fd_in, off_in, fd_out, off_out, len, flags)`: up to
/// [`CHUNK`] bytes read from `fd_in` and written to `fd_out` through the
/// bounce buffer, between any two of the process's fds. A given offset is
/// used and advanced (`PREAD`/`PWRITE`) and the fd's own offset left
/// alone, as on Linux.
pub fn copy_file_range(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (inp, off_in_at, out, off_out_at) = (fd(a[0])?, a[1], fd(a[2])?, a[3]);
    let (len, flags) = (a[4] as usize, a[5]);
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    let read_off = |cx: &mut Ctx<'_>, at: u64| -> Result<Option<u64>, Errno> {
        if at == 0 {
            return Ok(None);
        }
        let off: i64 = cx.p.space.read(at)?;
        u64::try_from(off).map(Some).map_err(|_| Errno::EINVAL)
    };
    let off_in = read_off(cx, off_in_at)?;
    let off_out = read_off(cx, off_out_at)?;
    let n = len.min(CHUNK);
    if n == 0 {
        device::get_flags(inp)?;
        device::get_flags(out)?;
        return Ok(0);
    }
    let done = copy_through(cx, (inp, off_in), (out, off_out), n)?;
    for (at, off) in [(off_in_at, off_in), (off_out_at, off_out)] {
        if let Some(off) = off {
            cx.p.space.write(at, &((off + done as u64) as i64))?;
        }
    }
    Ok(done as u64)
}
