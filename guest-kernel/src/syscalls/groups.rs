//! Process groups and sessions: `setpgid`, `getpgid`, `getpgrp`, `setsid`,
//! `getsid`. The device keeps every process's group and session (spec
//! 1.6.26) and applies POSIX's rules; this file turns Linux's signed
//! arguments into the device's.

use super::{Args, Ctx};
use crate::linux::{Errno, SysResult};
use crate::process::device;

/// A pid argument: 0 (this process) or a pid; a negative one names no
/// process (`ESRCH`, as Linux).
fn pid(raw: u64) -> Result<u32, Errno> {
    u32::try_from(raw as i32).map_err(|_| Errno::ESRCH)
}

/// `setpgid(pid, pgid)`.
pub fn setpgid(_cx: &mut Ctx<'_>, a: Args) -> SysResult {
    let pgid = u32::try_from(a[1] as i32).map_err(|_| Errno::EINVAL)?;
    device::setpgid(pid(a[0])?, pgid)?;
    Ok(0)
}

/// `getpgid(pid)`.
pub fn getpgid(_cx: &mut Ctx<'_>, a: Args) -> SysResult {
    Ok(u64::from(device::getpgid(pid(a[0])?)?))
}

/// `getpgrp()`: this process's group.
pub fn getpgrp(_cx: &mut Ctx<'_>, _a: Args) -> SysResult {
    Ok(u64::from(device::getpgid(0)?))
}

/// `setsid()`: the new session's id, this process's pid.
pub fn setsid(_cx: &mut Ctx<'_>, _a: Args) -> SysResult {
    Ok(u64::from(device::setsid()?))
}

/// `getsid(pid)`.
pub fn getsid(_cx: &mut Ctx<'_>, a: Args) -> SysResult {
    Ok(u64::from(device::getsid(pid(a[0])?)?))
}
