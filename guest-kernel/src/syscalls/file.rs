//! Files of the tree's root (spec 1.6.20): opening, positioned reads,
//! seeking, status, directories, access checks, links and the working
//! directory. The device resolves every path inside the root and keeps
//! each process's working directory; these handlers read the program's
//! arguments, make the device request, and copy the result out (`pread64`
//! and `getdents64` have the device write the program's buffer in place,
//! as `read` does; the small results and the rewritten ones go through the
//! bounce buffer). An open that creates, truncates or asks to write
//! answers `EROFS` unless the tree's root is writable (spec 1.6.23); the
//! calls that change files are in [`tree`](super::tree). `read`, `write`,
//! `readv`, `writev` and `close` are the fd calls of `fs`.

use alloc::vec::Vec;

use virtio_pipe_protocol::fs::{PATH_MAX, R_OK, SEEK_END, W_OK, X_OK};
use virtio_pipe_protocol::Dirfd;

use super::fs::{CHUNK, READ_MAX};
use super::{fd, Args, Ctx};
use crate::linux::fcntl::*;
use crate::linux::{Errno, Statx, SysResult};
use crate::mem::address_space::Access;
use crate::mem::{bounce, pod};
use crate::process::device::{self, UserSegments};

/// The `dirfd` argument of an `*at` call (an `int`).
pub(super) fn dirfd(raw: u64) -> Result<Dirfd, Errno> {
    match raw as i32 {
        fd if fd as i64 == AT_FDCWD => Ok(Dirfd::Cwd),
        fd if fd >= 0 => Ok(Dirfd::Fd(fd as u32)),
        _ => Err(Errno::EBADF),
    }
}

/// The program's path argument at `addr`: 1 to `PATH_MAX` bytes
/// (`ENOENT` for an empty one, as Linux).
pub(super) fn path(cx: &mut Ctx<'_>, addr: u64) -> Result<Vec<u8>, Errno> {
    let p = cx.p.space.read_cstr(addr, PATH_MAX)?;
    if p.len() > PATH_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    Ok(p)
}

/// An absolute path ignores `dirfd`, as on Linux, whatever it holds.
pub(super) fn base(dir: Dirfd, path: &[u8]) -> Dirfd {
    if path.first() == Some(&b'/') {
        Dirfd::Cwd
    } else {
        dir
    }
}

fn open_at(cx: &mut Ctx<'_>, dir: Dirfd, at: u64, flags: u64, mode: u64) -> SysResult {
    let path = path(cx, at)?;
    let (flags, cloexec) = open_request(flags)?;
    // The device creates with exactly the mode it is given (spec
    // `dev-write-create`): the umask is the process's, applied here.
    let mode = mode as u32 & 0o7777 & !cx.p.umask;
    let fd = device::openat(base(dir, &path), &path, flags, mode)?;
    cx.p.fd_flags.set_cloexec(fd, cloexec);
    Ok(u64::from(fd))
}

/// `open(path, flags, mode)`.
pub fn open(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    open_at(cx, Dirfd::Cwd, a[0], a[1], a[2])
}

/// `openat(dirfd, path, flags, mode)`.
pub fn openat(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let dir = dirfd(a[0])?;
    open_at(cx, dir, a[1], a[2], a[3])
}

/// `creat(path, mode)`: `open(path, O_CREAT | O_WRONLY | O_TRUNC, mode)`.
pub fn creat(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    open_at(cx, Dirfd::Cwd, a[0], O_CREAT | O_WRONLY | O_TRUNC, a[1])
}

/// `pread64(fd, buf, count, offset)`: one `PREAD` of up to [`READ_MAX`]
/// bytes, into the program's buffer in place.
pub fn pread64(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (fd, buf, count, offset) = (fd(a[0])?, a[1], a[2] as usize, a[3] as i64);
    if offset < 0 {
        return Err(Errno::EINVAL);
    }
    if count == 0 {
        device::get_flags(fd)?;
        return Ok(0);
    }
    let mut segs = UserSegments::new();
    let want = count.min(READ_MAX) as u64;
    cx.p.space
        .gather(buf, want, Some(Access::Write), &mut segs)?;
    // SAFETY: `segs` was just gathered from this process's address space
    // (one range: no byte twice), which nothing changes until the request
    // completes: the program does not run during its own syscall.
    let got = unsafe { device::pread_segments(fd, offset as u64, &segs) }?;
    Ok(got as u64)
}

/// `lseek(fd, offset, whence)`: `SEEK_SET`, `SEEK_CUR`, `SEEK_END`
/// (`SEEK_DATA`/`SEEK_HOLE` are `EINVAL`).
pub fn lseek(_cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (fd, offset, whence) = (fd(a[0])?, a[1] as i64, a[2]);
    if whence > u64::from(SEEK_END) {
        return Err(Errno::EINVAL);
    }
    device::lseek(fd, offset, whence as u32)
}

/// `fstat(fd, statbuf)`.
pub fn fstat(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (fd, buf) = (fd(a[0])?, a[1]);
    let st = device::fstat(fd)?;
    cx.p.space.copy_out(buf, &st.as_bytes_le())?;
    Ok(0)
}

/// The `struct stat` of `path` from `dir`, or of `dir` itself with
/// `AT_EMPTY_PATH` and an empty path.
fn stat_at(
    cx: &mut Ctx<'_>,
    dir: Dirfd,
    at: u64,
    flags: u64,
) -> Result<virtio_pipe_protocol::Stat, Errno> {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = cx.p.space.read_cstr(at, PATH_MAX)?;
    if path.len() > PATH_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    let dev_flags = (flags & (AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) as u32;
    if path.is_empty() && flags & AT_EMPTY_PATH != 0 {
        return match dir {
            Dirfd::Fd(fd) => device::fstat(fd),
            Dirfd::Cwd => device::statat(Dirfd::Cwd, b".", dev_flags & !(AT_EMPTY_PATH as u32)),
        };
    }
    device::statat(base(dir, &path), &path, dev_flags & !(AT_EMPTY_PATH as u32))
}

/// `stat(path, statbuf)`.
pub fn stat(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let st = stat_at(cx, Dirfd::Cwd, a[0], 0)?;
    cx.p.space.copy_out(a[1], &st.as_bytes_le())?;
    Ok(0)
}

/// `lstat(path, statbuf)`.
pub fn lstat(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let st = stat_at(cx, Dirfd::Cwd, a[0], AT_SYMLINK_NOFOLLOW)?;
    cx.p.space.copy_out(a[1], &st.as_bytes_le())?;
    Ok(0)
}

/// `newfstatat(dirfd, path, statbuf, flags)`.
pub fn newfstatat(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let dir = dirfd(a[0])?;
    let st = stat_at(cx, dir, a[1], a[3])?;
    cx.p.space.copy_out(a[2], &st.as_bytes_le())?;
    Ok(0)
}

/// `statx(dirfd, path, flags, mask, statxbuf)`: the basic stats whatever
/// the mask asks (`stx_mask` says which), converted from `struct stat`.
pub fn statx(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (dir, at, flags, buf) = (dirfd(a[0])?, a[1], a[2], a[4]);
    let st = stat_at(cx, dir, at, flags)?;
    let x = Statx::from_stat(&st);
    cx.p.space.copy_out(buf, pod::bytes_of(&x))?;
    Ok(0)
}

/// `getdents64(fd, dirp, count)`: the device's `linux_dirent64` records,
/// as many whole ones as fit in `count` (at most [`CHUNK`] bytes), written
/// into the program's buffer in place.
pub fn getdents64(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (fd, buf, count) = (fd(a[0])?, a[1], a[2] as usize);
    if count == 0 {
        return Err(Errno::EINVAL);
    }
    let mut segs = UserSegments::new();
    cx.p.space
        .gather(buf, count.min(CHUNK) as u64, Some(Access::Write), &mut segs)?;
    // SAFETY: as in `pread64`.
    let got = unsafe { device::getdents_segments(fd, &segs) }?;
    Ok(got as u64)
}

/// `getdents(fd, dirp, count)`, the old form: the device's
/// `linux_dirent64` records rewritten as `linux_dirent` (the type moves to
/// the record's last byte, after the name's NUL). An old record is exactly
/// as long as the new one for the same name, so what the device places in
/// `count` bytes fits.
pub fn getdents(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (fd, buf, count) = (fd(a[0])?, a[1], a[2] as usize);
    if count == 0 {
        return Err(Errno::EINVAL);
    }
    let n = count.min(CHUNK);
    cx.p.space.ensure(buf, n as u64, Access::Write)?;
    let out = bounce::with(n, |k| {
        let got = device::getdents(fd, k)?;
        Ok::<_, Errno>(crate::linux::dirents_to_old(&k[..got]))
    })?;
    cx.p.space.copy_out(buf, &out)?;
    Ok(out.len() as u64)
}

fn access_at(cx: &mut Ctx<'_>, dir: Dirfd, at: u64, mode: u64, flags: u64) -> SysResult {
    if mode & !u64::from(R_OK | W_OK | X_OK) != 0
        || flags & !(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0
    {
        return Err(Errno::EINVAL);
    }
    let path = cx.p.space.read_cstr(at, PATH_MAX)?;
    if path.is_empty() && flags & AT_EMPTY_PATH != 0 {
        // The fd itself: it exists; the device checks no mode on an fd.
        return match dir {
            Dirfd::Fd(fd) => device::fstat(fd).map(|_| 0),
            Dirfd::Cwd => access_path(dir, b".", mode, flags),
        };
    }
    if path.len() > PATH_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    access_path(base(dir, &path), &path, mode, flags)
}

fn access_path(dir: Dirfd, path: &[u8], mode: u64, flags: u64) -> SysResult {
    let flags = (flags & (AT_EACCESS | AT_SYMLINK_NOFOLLOW)) as u32;
    device::accessat(dir, path, mode as u32, flags).map(|()| 0)
}

/// `access(path, mode)`.
pub fn access(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    access_at(cx, Dirfd::Cwd, a[0], a[1], 0)
}

/// `faccessat(dirfd, path, mode)` (the system call has no flags).
pub fn faccessat(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let dir = dirfd(a[0])?;
    access_at(cx, dir, a[1], a[2], 0)
}

/// `faccessat2(dirfd, path, mode, flags)`.
pub fn faccessat2(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let dir = dirfd(a[0])?;
    access_at(cx, dir, a[1], a[2], a[3])
}

fn readlink_at(cx: &mut Ctx<'_>, dir: Dirfd, at: u64, buf: u64, size: u64) -> SysResult {
    let size = size as i32;
    if size <= 0 {
        return Err(Errno::EINVAL);
    }
    let path = path(cx, at)?;
    let n = (size as usize).min(PATH_MAX + 1);
    cx.p.space.ensure(buf, 1, Access::Write)?;
    bounce::with(n, |k| {
        let got = device::readlinkat(base(dir, &path), &path, k)?;
        cx.p.space.copy_out(buf, &k[..got])?;
        Ok(got as u64)
    })
}

/// `readlink(path, buf, bufsiz)` (`/proc/self/exe` is the device's
/// program path).
pub fn readlink(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    readlink_at(cx, Dirfd::Cwd, a[0], a[1], a[2])
}

/// `readlinkat(dirfd, path, buf, bufsiz)`.
pub fn readlinkat(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let dir = dirfd(a[0])?;
    readlink_at(cx, dir, a[1], a[2], a[3])
}

/// `getcwd(buf, size)`: the bytes written, NUL included.
pub fn getcwd(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (buf, size) = (a[0], a[1] as usize);
    if size < 2 {
        return Err(Errno::ERANGE);
    }
    let n = size.min(PATH_MAX + 1);
    // A bad buffer is EFAULT before the device is asked (the path's
    // length is not known yet, so only its first byte is checked).
    cx.p.space.ensure(buf, 1, Access::Write)?;
    bounce::with(n, |k| {
        let got = device::getcwd(k)?;
        cx.p.space.copy_out(buf, &k[..got])?;
        Ok(got as u64)
    })
}

/// `chdir(path)`.
pub fn chdir(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let path = path(cx, a[0])?;
    device::chdir(&path).map(|()| 0)
}

/// `fchdir(fd)`.
pub fn fchdir(_cx: &mut Ctx<'_>, a: Args) -> SysResult {
    device::fchdir(fd(a[0])?).map(|()| 0)
}
