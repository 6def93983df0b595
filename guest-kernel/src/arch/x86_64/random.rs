//! Random bytes for `getrandom` and `AT_RANDOM`: RDSEED or RDRAND where
//! CPUID offers them (QEMU's TCG implements RDRAND from the host's
//! entropy), else a xorshift generator seeded from the TSC and the RTC,
//! which is unpredictable enough for hash seeds but not for keys: the
//! boot log says which source is in use.

use core::sync::atomic::{AtomicU64, Ordering};

use super::cpu;

/// Where random bytes come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// `rdseed`.
    Rdseed,
    /// `rdrand`.
    Rdrand,
    /// xorshift64* seeded from the TSC.
    TscSeeded,
}

/// The best source this CPU has.
pub fn source() -> Source {
    if cpu::cpuid(7, 0).1 & (1 << 18) != 0 {
        Source::Rdseed
    } else if cpu::cpuid(1, 0).2 & (1 << 30) != 0 {
        Source::Rdrand
    } else {
        Source::TscSeeded
    }
}

static STATE: AtomicU64 = AtomicU64::new(0);

fn xorshift() -> u64 {
    let mut x = STATE.load(Ordering::Relaxed);
    if x == 0 {
        x = cpu::rdtsc() ^ 0x9e37_79b9_7f4a_7c15;
    }
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    STATE.store(x, Ordering::Relaxed);
    x.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ cpu::rdtsc()
}

fn hardware(src: Source) -> Option<u64> {
    for _ in 0..10 {
        let v: u64;
        let ok: u8;
        // SAFETY: CPUID reported the instruction; it only writes the
        // destination and CF.
        unsafe {
            match src {
                Source::Rdseed => {
                    core::arch::asm!("rdseed {}", "setc {}", out(reg) v, out(reg_byte) ok, options(nomem, nostack))
                }
                _ => {
                    core::arch::asm!("rdrand {}", "setc {}", out(reg) v, out(reg_byte) ok, options(nomem, nostack))
                }
            }
        }
        if ok != 0 {
            return Some(v);
        }
    }
    None
}

/// Fills `buf` with random bytes.
pub fn fill(buf: &mut [u8]) {
    let src = source();
    for chunk in buf.chunks_mut(8) {
        let v = match src {
            Source::TscSeeded => xorshift(),
            s => hardware(s).unwrap_or_else(xorshift),
        };
        chunk.copy_from_slice(&v.to_le_bytes()[..chunk.len()]);
    }
}
