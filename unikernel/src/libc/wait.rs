//! `<sys/wait.h>`.

use super::errno::ret;
use crate::process;

/// `WNOHANG`.
const WNOHANG: i32 = 1;

/// `waitpid` (`pid` > 0 or -1; `WNOHANG`).
///
/// # Safety
///
/// `status` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn waitpid(pid: i32, status: *mut i32, options: i32) -> i32 {
    super::stdio::flush_all();
    ret(process::waitpid(pid, options & WNOHANG != 0), |r| match r {
        Some((child, st)) => {
            if !status.is_null() {
                // SAFETY: as documented.
                unsafe { *status = st.0 as i32 };
            }
            i64::from(child)
        }
        None => 0,
    }) as i32
}

/// `wait`.
///
/// # Safety
///
/// `status` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn wait(status: *mut i32) -> i32 {
    // SAFETY: same contract.
    unsafe { waitpid(-1, status, 0) }
}
