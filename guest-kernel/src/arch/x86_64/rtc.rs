//! The MC146818 CMOS clock: read once at boot for the wall-clock epoch.

use super::port::{inb, outb};

fn cmos(reg: u8) -> u8 {
    // SAFETY: CMOS index and data ports; bit 7 keeps NMIs as they are (enabled).
    unsafe {
        outb(0x70, reg);
        inb(0x71)
    }
}

fn bcd(v: u8) -> u64 {
    u64::from((v & 0x0f) + (v >> 4) * 10)
}

/// Days from 1970-01-01 to the given civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u64, d: u64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Seconds since the Unix epoch, or 0 if no RTC answers.
pub fn unix_seconds() -> u64 {
    if cmos(0x0a) == 0xff {
        return 0;
    }
    while cmos(0x0a) & 0x80 != 0 {}
    let status_b = cmos(0x0b);
    let conv = |v: u8| {
        if status_b & 0x04 != 0 {
            u64::from(v)
        } else {
            bcd(v)
        }
    };
    let (s, min, h, d, mon, y) = (
        conv(cmos(0x00)),
        conv(cmos(0x02)),
        conv(cmos(0x04) & 0x7f),
        conv(cmos(0x07)),
        conv(cmos(0x08)),
        conv(cmos(0x09)),
    );
    let days = days_from_civil(2000 + y as i64, mon.max(1), d.max(1));
    (days.max(0) as u64) * 86_400 + h * 3600 + min * 60 + s
}
