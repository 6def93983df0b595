//! Memory, all local: `brk`, anonymous `mmap`, `munmap`, `mprotect`,
//! `mremap`, `madvise`. Pages get frames on first touch
//! (`mem::address_space`). A mapping of a file is a copy of its bytes
//! ([`mappable`]); `MAP_SHARED` anonymous memory behaves as private: a
//! `fork` child gets a copy of it, not a share (a vfork child shares all
//! memory anyway).

use super::{Args, Ctx};
use crate::arch::layout::{is_user_range, page_up, PAGE_SIZE};
use crate::linux::mman::*;
use crate::linux::{Errno, SysResult};

use virtio_pipe_protocol::fs::{S_IFMT, S_IFREG};

use super::fs::READ_MAX;
use crate::mem::address_space::{Access, AddressSpace};
use crate::mem::vma::{Prot, VmaKind};
use crate::process::device::{self, UserSegments};

fn length(len: u64) -> Result<u64, Errno> {
    if len == 0 {
        return Err(Errno::EINVAL);
    }
    page_up(len).ok_or(Errno::ENOMEM)
}

fn aligned(addr: u64) -> Result<u64, Errno> {
    if addr % PAGE_SIZE != 0 {
        return Err(Errno::EINVAL);
    }
    Ok(addr)
}

fn prot(bits: u64) -> Result<Prot, Errno> {
    if bits & !(PROT_READ | PROT_WRITE | PROT_EXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    Ok(Prot::from_bits(bits))
}

/// `mmap(addr, length, prot, flags, fd, offset)`: anonymous only.
pub fn mmap(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (addr, len, prot_bits, flags, fd, off) = (a[0], a[1], a[2], a[3], a[4] as i32, a[5]);
    let len = length(len)?;
    let prot = prot(prot_bits)?;
    if off % PAGE_SIZE != 0 {
        return Err(Errno::EINVAL);
    }
    if !matches!(
        flags & MAP_TYPE,
        MAP_PRIVATE | MAP_SHARED | MAP_SHARED_VALIDATE
    ) {
        return Err(Errno::EINVAL);
    }
    // A file's bytes are copied in (below): first check it can be mapped.
    let file = if flags & MAP_ANONYMOUS == 0 {
        let fd = u32::try_from(fd).map_err(|_| Errno::EBADF)?;
        let size = mappable(fd, flags, prot_bits)?;
        Some((fd, size))
    } else {
        None
    };
    let space = &mut cx.p.space;
    let start = if flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0 {
        let at = aligned(addr)?;
        if !is_user_range(at, len) {
            return Err(Errno::ENOMEM);
        }
        let replace = flags & MAP_FIXED != 0;
        space
            .map(at, at + len, prot, VmaKind::Anon, replace)
            .map_err(|e| e.errno())?;
        at
    } else {
        let hint_ok = addr != 0
            && addr % PAGE_SIZE == 0
            && is_user_range(addr, len)
            && space.vmas.is_free(addr, addr + len);
        let at = if hint_ok {
            addr
        } else {
            space.find_free(len).map_err(|e| e.errno())?
        };
        space
            .map(at, at + len, prot, VmaKind::Anon, false)
            .map_err(|e| e.errno())?;
        at
    };
    if let Some((fd, size)) = file {
        if let Err(e) = copy_file(space, fd, start, len.min(size.saturating_sub(off)), off) {
            let _ = space.unmap(start, start + len);
            return Err(e);
        }
    } else if flags & MAP_POPULATE != 0 && prot != Prot::NONE {
        // Best effort, as on Linux: a failure shows up at first touch.
        let _ = space.ensure(start, len, Access::Read);
    }
    Ok(start)
}

/// Whether the file behind `fd` can be mapped so; its size. A private
/// mapping of a regular file is its bytes copied in at `mmap`. A shared
/// one is the same as long as it cannot be written; later writes to the
/// file by anyone do not show in it (there is no memory shared with the
/// host's file). A shared writable mapping is `EACCES` for an fd not open
/// for writing, as on Linux, and `ENODEV` otherwise (what Linux answers
/// for a file system that cannot map): its stores could never reach the
/// file. Devices, pipes and directories are `ENODEV`, as on Linux.
fn mappable(fd: u32, flags: u64, prot_bits: u64) -> Result<u64, Errno> {
    let st = device::fstat(fd)?;
    if st.mode.get() & S_IFMT != S_IFREG {
        return Err(Errno::ENODEV);
    }
    if flags & MAP_TYPE != MAP_PRIVATE && prot_bits & PROT_WRITE != 0 {
        let access = device::get_status(fd)? & 3;
        if access != 2 {
            return Err(Errno::EACCES);
        }
        log::info!("mmap: a shared writable mapping of a file is not supported: ENODEV");
        return Err(Errno::ENODEV);
    }
    Ok(st.size.get().max(0) as u64)
}

/// Reads `len` bytes of the file `fd` from `off` into the new mapping at
/// `start`, whatever its protection, straight into its frames (`PREAD`s
/// of up to [`READ_MAX`] bytes in place); the rest of the mapping stays
/// zero.
fn copy_file(
    space: &mut AddressSpace,
    fd: u32,
    start: u64,
    len: u64,
    off: u64,
) -> Result<(), Errno> {
    let mut done = 0u64;
    while done < len {
        let mut segs = UserSegments::new();
        let want = (len - done).min(READ_MAX as u64);
        // The range is mapped (just now): the only failure is memory.
        space
            .gather(start + done, want, None, &mut segs)
            .map_err(|_| Errno::ENOMEM)?;
        // SAFETY: `segs` are frames of the mapping just made, one range (no
        // byte twice); nothing else reads or writes them, and the program
        // does not run, until the request completes.
        let n = unsafe { device::pread_segments(fd, off + done, &segs) }?;
        if n == 0 {
            break;
        }
        done += n as u64;
    }
    Ok(())
}

/// `munmap(addr, length)`.
pub fn munmap(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (addr, len) = (aligned(a[0])?, length(a[1])?);
    if !is_user_range(addr, len) {
        return Err(Errno::EINVAL);
    }
    cx.p.space.unmap(addr, addr + len).map_err(|e| e.errno())?;
    Ok(0)
}

/// `mprotect(addr, length, prot)`.
pub fn mprotect(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let addr = aligned(a[0])?;
    let prot = prot(a[2] & !(PROT_GROWSDOWN | PROT_GROWSUP))?;
    if a[1] == 0 {
        return Ok(0);
    }
    let len = length(a[1])?;
    if !is_user_range(addr, len) {
        return Err(Errno::ENOMEM);
    }
    cx.p.space
        .protect(addr, addr + len, prot)
        .map_err(|e| e.errno())?;
    Ok(0)
}

/// `brk(addr)`: returns the new break, or the old one when it cannot move.
pub fn brk(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    Ok(cx.p.space.set_brk(a[0]))
}

/// `mremap(old, old_size, new_size, flags, new_address)`.
pub fn mremap(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (old, old_len, new_len, flags, new_addr) = (aligned(a[0])?, a[1], a[2], a[3], a[4]);
    if flags & !(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP) != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & MREMAP_DONTUNMAP != 0 {
        log::info!(
            "pid {}: mremap(MREMAP_DONTUNMAP) is not supported",
            cx.p.pid
        );
        return Err(Errno::EINVAL);
    }
    if flags & MREMAP_FIXED != 0 && flags & MREMAP_MAYMOVE == 0 {
        return Err(Errno::EINVAL);
    }
    let old_len = length(old_len)?;
    let new_len = length(new_len)?;
    if !is_user_range(old, old_len) {
        return Err(Errno::EFAULT);
    }
    let fixed = if flags & MREMAP_FIXED != 0 {
        Some(aligned(new_addr)?)
    } else {
        None
    };
    cx.p.space
        .remap(old, old_len, new_len, flags & MREMAP_MAYMOVE != 0, fixed)
        .map_err(|e| match e {
            crate::mem::address_space::MemError::Vma(_) => Errno::EFAULT,
            e => e.errno(),
        })
}

/// `madvise(addr, length, advice)`: `MADV_DONTNEED` and `MADV_FREE` give
/// the pages back (they read as zero afterwards); other advice is accepted
/// and ignored.
pub fn madvise(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (addr, advice) = (aligned(a[0])?, a[2]);
    if a[1] == 0 {
        return Ok(0);
    }
    let len = length(a[1])?;
    if !is_user_range(addr, len) {
        return Err(Errno::ENOMEM);
    }
    match advice {
        MADV_DONTNEED | MADV_FREE => {
            cx.p.space
                .discard(addr, addr + len)
                .map_err(|e| e.errno())?;
            Ok(0)
        }
        MADV_REMOVE => Err(Errno::EOPNOTSUPP),
        _ => Ok(0),
    }
}
