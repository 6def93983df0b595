//! Identity, limits, scheduling, the CPU and randomness: all local.

use alloc::vec;

use super::{Args, Ctx};
use crate::arch::layout::{PAGE_SIZE, STACK_SIZE, USER_END};
use crate::arch::x86_64::{cpu, random, time};
use crate::linux::arch_prctl::*;
use crate::linux::clock::{GRND_INSECURE, GRND_NONBLOCK, GRND_RANDOM};
use crate::linux::prctl::*;
use crate::linux::rlimit::*;
use crate::linux::{Errno, Rlimit, SysResult, Sysinfo, Utsname};

/// `RLIMIT_NOFILE`: the daemon's default `--max-fds`.
const NOFILE: u64 = 256;
/// Bytes of random data copied out per round.
const RANDOM_CHUNK: usize = 4096;

/// `sched_yield()`: one thread, nothing to yield to.
pub fn sched_yield(_cx: &mut Ctx<'_>, _a: Args) -> SysResult {
    Ok(0)
}

fn field(s: &[u8]) -> [u8; 65] {
    let mut f = [0u8; 65];
    let n = s.len().min(64);
    f[..n].copy_from_slice(&s[..n]);
    f
}

/// `uname(buf)`: Linux 6.1 on x86_64, as a program expects to find it.
pub fn uname(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let u = Utsname {
        sysname: field(b"Linux"),
        nodename: field(b"vhost-user-pipe"),
        release: field(b"6.1.0-guest-kernel"),
        version: field(b"#1 SMP vhost-user-pipe guest-kernel"),
        machine: field(b"x86_64"),
        domainname: field(b"(none)"),
    };
    cx.p.space.write(a[0], &u)?;
    Ok(0)
}

/// `umask(mask)`.
pub fn umask(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let old = cx.p.umask;
    cx.p.umask = (a[0] & 0o777) as u32;
    Ok(u64::from(old))
}

/// `getuid()`: every process runs as root inside its VM.
pub fn getuid(_cx: &mut Ctx<'_>, _a: Args) -> SysResult {
    Ok(0)
}

/// `getgid()`.
pub fn getgid(_cx: &mut Ctx<'_>, _a: Args) -> SysResult {
    Ok(0)
}

/// `geteuid()`.
pub fn geteuid(_cx: &mut Ctx<'_>, _a: Args) -> SysResult {
    Ok(0)
}

/// `getegid()`.
pub fn getegid(_cx: &mut Ctx<'_>, _a: Args) -> SysResult {
    Ok(0)
}

/// `getgroups(size, list)`: no supplementary groups.
pub fn getgroups(_cx: &mut Ctx<'_>, a: Args) -> SysResult {
    if (a[0] as i32) < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}

fn limit(resource: u64) -> Result<Rlimit, Errno> {
    Ok(match resource {
        RLIMIT_STACK => Rlimit {
            rlim_cur: STACK_SIZE,
            rlim_max: RLIM_INFINITY,
        },
        RLIMIT_NOFILE => Rlimit {
            rlim_cur: NOFILE,
            rlim_max: NOFILE,
        },
        r if r < RLIM_NLIMITS => Rlimit {
            rlim_cur: RLIM_INFINITY,
            rlim_max: RLIM_INFINITY,
        },
        _ => return Err(Errno::EINVAL),
    })
}

/// `getrlimit(resource, rlim)`.
pub fn getrlimit(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let l = limit(a[0])?;
    cx.p.space.write(a[1], &l)?;
    Ok(0)
}

/// `prlimit64(pid, resource, new, old)`: the limits are fixed (`STACK`
/// 8 MiB, `NOFILE` the daemon's fd limit, the rest unlimited); setting
/// one is accepted and has no effect.
pub fn prlimit64(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (pid, resource, new, old) = (a[0] as i32, a[1], a[2], a[3]);
    if pid != 0 && pid as u32 != cx.p.pid {
        return Err(Errno::ESRCH);
    }
    let l = limit(resource)?;
    if new != 0 {
        let n: Rlimit = cx.p.space.read(new)?;
        if n.rlim_cur > n.rlim_max {
            return Err(Errno::EINVAL);
        }
        log::debug!("pid {}: prlimit64({resource}) set is ignored", cx.p.pid);
    }
    if old != 0 {
        cx.p.space.write(old, &l)?;
    }
    Ok(0)
}

/// `prctl(option, ...)`: the process name, and the options that only
/// record a wish (parent-death signal, dumpable, no-new-privs).
pub fn prctl(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    match a[0] {
        PR_SET_NAME => {
            let name = cx.p.space.read_cstr(a[1], 4096)?;
            let mut comm = [0u8; TASK_COMM_LEN];
            let n = name.len().min(TASK_COMM_LEN - 1);
            comm[..n].copy_from_slice(&name[..n]);
            cx.p.comm = comm;
            Ok(0)
        }
        PR_GET_NAME => {
            let comm = cx.p.comm;
            cx.p.space.write(a[1], &comm)?;
            Ok(0)
        }
        PR_SET_PDEATHSIG | PR_SET_DUMPABLE | PR_SET_NO_NEW_PRIVS => Ok(0),
        PR_GET_PDEATHSIG => {
            cx.p.space.write(a[1], &0i32)?;
            Ok(0)
        }
        PR_GET_DUMPABLE => Ok(1),
        PR_GET_NO_NEW_PRIVS => Ok(0),
        op => {
            log::info!("pid {}: prctl option {op} is not supported", cx.p.pid);
            Err(Errno::EINVAL)
        }
    }
}

/// `arch_prctl(code, addr)`: the FS base (TLS) and GS base.
pub fn arch_prctl(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (code, addr) = (a[0], a[1]);
    match code {
        ARCH_SET_FS | ARCH_SET_GS => {
            if addr >= USER_END {
                return Err(Errno::EPERM);
            }
            if code == ARCH_SET_FS {
                cpu::set_fs_base(addr);
            } else {
                cpu::set_gs_base(addr);
            }
            Ok(0)
        }
        ARCH_GET_FS => {
            cx.p.space.write(addr, &cpu::fs_base())?;
            Ok(0)
        }
        ARCH_GET_GS => {
            cx.p.space.write(addr, &cpu::gs_base())?;
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// `sched_getaffinity(pid, size, mask)`: one CPU.
pub fn sched_getaffinity(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (pid, size, mask) = (a[0] as i32, a[1], a[2]);
    if pid != 0 && pid as u32 != cx.p.pid {
        return Err(Errno::ESRCH);
    }
    if size < 8 || size % 8 != 0 {
        return Err(Errno::EINVAL);
    }
    cx.p.space.write(mask, &1u64)?;
    Ok(8)
}

/// `getrandom(buf, buflen, flags)`: see `arch::x86_64::random`.
pub fn getrandom(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let (buf, len, flags) = (a[0], a[1] as usize, a[2]);
    if flags & !(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) != 0 {
        return Err(Errno::EINVAL);
    }
    let mut k = vec![0u8; len.min(RANDOM_CHUNK)];
    let mut done = 0;
    while done < len {
        let n = (len - done).min(RANDOM_CHUNK);
        random::fill(&mut k[..n]);
        cx.p.space.copy_out(buf + done as u64, &k[..n])?;
        done += n;
    }
    Ok(len as u64)
}

/// `rseq(...)`: restartable sequences are not supported; glibc and Rust
/// carry on without them.
pub fn rseq(_cx: &mut Ctx<'_>, _a: Args) -> SysResult {
    Err(Errno::ENOSYS)
}

/// `sysinfo(info)`: this VM's uptime and RAM (its frames); one process,
/// no load, no swap.
pub fn sysinfo(cx: &mut Ctx<'_>, a: Args) -> SysResult {
    use crate::mem::frames;
    let info = Sysinfo {
        uptime: (time::monotonic_ns() / 1_000_000_000) as i64,
        totalram: frames::covered_bytes(),
        freeram: frames::free_frames() as u64 * PAGE_SIZE,
        procs: 1,
        mem_unit: 1,
        ..Sysinfo::default()
    };
    cx.p.space.write(a[0], &info)?;
    Ok(0)
}
