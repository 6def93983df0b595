//! The layout of `fork()`'s resume record and of the mailbox by which a
//! fork child finds it. Pure data and arithmetic, unit-tested on the host;
//! `process::fork` does the copying.
//!
//! A fork child's VM boots the parent's image afresh on a copy of the
//! parent's RAM. The ELF loader reloads `.data` and re-zeroes `.bss` (which
//! holds the boot stack, the CPU tables, the page tables and every static),
//! and the firmware writes low memory; the heap, above the image, survives.
//! So the parent saves `.data`, `.bss` (less the unused part of the stack)
//! and its callee-saved registers in a heap-allocated record, and writes
//! the record's address into the mailbox: the page right after the image
//! (`__kernel_end`), which the heap never hands out, the loader never
//! writes, and which is all zeroes in every VM that did not come from a
//! fork. The child's boot code checks the mailbox before it touches
//! anything but the boot stack and page tables, copies the sections back
//! from the record and returns from the parent's snapshot call a second
//! time.
//!
//! ```text
//! record:  RecordHeader (context, ranges, clocks, scratch stack)
//!          range 0 bytes | range 1 bytes | ...   (16-aligned)
//! mailbox: magic | record address | record address ^ magic
//! ```

use core::mem::{offset_of, size_of};

/// First word of a published mailbox ("vppFORK\0" read little-endian, < 2^63).
pub const MAILBOX_MAGIC: u64 = 0x004b_524f_4670_7076;
/// First word of a resume record ("vppREC\0\0").
pub const RECORD_MAGIC: u64 = 0x0000_4345_5270_7076;
/// Bytes of the stack the child's restore code runs on, inside the record.
pub const SCRATCH_STACK: usize = 4096;
/// Most memory ranges a record holds.
pub const MAX_RANGES: usize = 4;
/// Bytes below the stack pointer at the snapshot that are saved as well
/// (the snapshot call's return address and slack).
pub const STACK_MARGIN: u64 = 1024;

/// The callee-saved state of the System V ABI at the snapshot call, plus
/// where it returns to.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct Context {
    /// `rbx`.
    pub rbx: u64,
    /// `rbp`.
    pub rbp: u64,
    /// `r12`.
    pub r12: u64,
    /// `r13`.
    pub r13: u64,
    /// `r14`.
    pub r14: u64,
    /// `r15`.
    pub r15: u64,
    /// `rsp` after the snapshot call returns.
    pub rsp: u64,
    /// The snapshot call's return address.
    pub rip: u64,
    /// `rflags` (the child restores it with interrupts off).
    pub rflags: u64,
    /// MXCSR (its control bits are callee-saved).
    pub mxcsr: u32,
    /// The x87 control word (callee-saved).
    pub fpucw: u32,
}

/// One saved memory range: `len` bytes at `addr`, kept at `offset` in the record.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// Guest-physical (= virtual) address.
    pub addr: u64,
    /// Bytes.
    pub len: u64,
    /// Offset of the copy from the record's start.
    pub offset: u64,
}

/// The start of a resume record; the saved bytes follow it.
#[repr(C, align(16))]
#[derive(Debug)]
pub struct RecordHeader {
    /// [`RECORD_MAGIC`].
    pub magic: u64,
    /// Bytes of the whole record.
    pub size: u64,
    /// Registers at the snapshot.
    pub ctx: Context,
    /// How many of `ranges` are used.
    pub nranges: u64,
    /// What was saved.
    pub ranges: [Range; MAX_RANGES],
    /// The parent's monotonic clock, in TSC ticks, just before the snapshot.
    pub parent_mono_ticks: u64,
    /// The parent's wall clock, in ns since the epoch, just before the snapshot.
    pub parent_real_ns: u64,
    /// Keeps `scratch` 16-aligned.
    pub reserved: u64,
    /// The stack the child's restore code runs on.
    pub scratch: [u8; SCRATCH_STACK],
}

/// Offsets the assembly uses.
pub mod off {
    use super::*;

    /// `RecordHeader::ctx.rbx`.
    pub const RBX: usize = offset_of!(RecordHeader, ctx) + offset_of!(Context, rbx);
    /// `RecordHeader::ctx.rbp`.
    pub const RBP: usize = offset_of!(RecordHeader, ctx) + offset_of!(Context, rbp);
    /// `RecordHeader::ctx.r12`.
    pub const R12: usize = offset_of!(RecordHeader, ctx) + offset_of!(Context, r12);
    /// `RecordHeader::ctx.r13`.
    pub const R13: usize = offset_of!(RecordHeader, ctx) + offset_of!(Context, r13);
    /// `RecordHeader::ctx.r14`.
    pub const R14: usize = offset_of!(RecordHeader, ctx) + offset_of!(Context, r14);
    /// `RecordHeader::ctx.r15`.
    pub const R15: usize = offset_of!(RecordHeader, ctx) + offset_of!(Context, r15);
    /// `RecordHeader::ctx.rsp`.
    pub const RSP: usize = offset_of!(RecordHeader, ctx) + offset_of!(Context, rsp);
    /// `RecordHeader::ctx.rip`.
    pub const RIP: usize = offset_of!(RecordHeader, ctx) + offset_of!(Context, rip);
    /// `RecordHeader::ctx.rflags`.
    pub const RFLAGS: usize = offset_of!(RecordHeader, ctx) + offset_of!(Context, rflags);
    /// `RecordHeader::ctx.mxcsr`.
    pub const MXCSR: usize = offset_of!(RecordHeader, ctx) + offset_of!(Context, mxcsr);
    /// `RecordHeader::ctx.fpucw`.
    pub const FPUCW: usize = offset_of!(RecordHeader, ctx) + offset_of!(Context, fpucw);
    /// `RecordHeader::nranges`.
    pub const NRANGES: usize = offset_of!(RecordHeader, nranges);
    /// `RecordHeader::ranges`.
    pub const RANGES: usize = offset_of!(RecordHeader, ranges);
    /// Size of one [`Range`].
    pub const RANGE_SIZE: usize = size_of::<Range>();
    /// `Range::len`.
    pub const RANGE_LEN: usize = offset_of!(Range, len);
    /// `Range::offset`.
    pub const RANGE_OFFSET: usize = offset_of!(Range, offset);
    /// The top of `RecordHeader::scratch` (16-aligned).
    pub const SCRATCH_TOP: usize = offset_of!(RecordHeader, scratch) + SCRATCH_STACK;
}

const _: () = assert!(off::SCRATCH_TOP % 16 == 0);
// The boot code loads them with `movabs` from a decimal literal.
const _: () = assert!(MAILBOX_MAGIC < 1 << 63 && RECORD_MAGIC < 1 << 63);
const _: () = assert!(off::RANGE_LEN == 8 && off::RANGE_OFFSET == 16 && off::RANGE_SIZE == 24);

/// What to save, and how big the record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// The ranges, `n` of them used.
    pub ranges: [Range; MAX_RANGES],
    /// Used entries of `ranges`.
    pub n: usize,
    /// Bytes of the record: header plus every range, each 16-aligned.
    pub size: usize,
}

impl Plan {
    /// The used ranges.
    pub fn ranges(&self) -> &[Range] {
        &self.ranges[..self.n]
    }

    /// Bytes of memory saved.
    pub fn saved_bytes(&self) -> u64 {
        self.ranges().iter().map(|r| r.len).sum()
    }
}

/// The unused part of a stack `[bottom, top)` whose pointer is `rsp`: from
/// the bottom to [`STACK_MARGIN`] below `rsp`; `None` when `rsp` is not on it.
pub fn stack_hole(bottom: u64, top: u64, rsp: u64) -> Option<(u64, u64)> {
    if !(bottom < rsp && rsp <= top) {
        return None;
    }
    let end = rsp.saturating_sub(STACK_MARGIN) & !15;
    (end > bottom).then_some((bottom, end))
}

/// Plans a record that saves `sections` (address ranges `[start, end)`)
/// except the `hole`.
///
/// # Panics
///
/// If the pieces do not fit in [`MAX_RANGES`] ranges.
pub fn plan(sections: &[(u64, u64)], hole: Option<(u64, u64)>) -> Plan {
    let mut ranges = [Range::default(); MAX_RANGES];
    let mut n = 0;
    let mut offset = size_of::<RecordHeader>() as u64;
    let mut push = |start: u64, end: u64| {
        if end > start {
            ranges[n] = Range {
                addr: start,
                len: end - start,
                offset,
            };
            n += 1;
            offset += (end - start).next_multiple_of(16);
        }
    };
    for &(start, end) in sections {
        match hole {
            Some((lo, hi)) if lo < end && hi > start => {
                push(start, lo.max(start));
                push(hi.min(end), end);
            }
            _ => push(start, end),
        }
    }
    Plan {
        ranges,
        n,
        size: offset as usize,
    }
}

/// The mailbox at `__kernel_end`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Mailbox {
    /// [`MAILBOX_MAGIC`] when published.
    pub magic: u64,
    /// The record's address.
    pub record: u64,
    /// `record ^ MAILBOX_MAGIC`.
    pub check: u64,
}

impl Mailbox {
    /// A mailbox that points at `record`.
    pub fn publish(record: u64) -> Self {
        Self {
            magic: MAILBOX_MAGIC,
            record,
            check: record ^ MAILBOX_MAGIC,
        }
    }

    /// The record address, if the mailbox is published and consistent.
    pub fn record(&self) -> Option<u64> {
        (self.magic == MAILBOX_MAGIC && self.check == self.record ^ MAILBOX_MAGIC)
            .then_some(self.record)
    }
}

/// The child's wall clock at its resume: never earlier than the parent's at
/// the snapshot plus the time the child has run (`since_entry_ns`), and
/// never earlier than its own RTC reading (whole seconds).
pub fn child_realtime_ns(rtc_seconds: u64, parent_real_ns: u64, since_entry_ns: u64) -> u64 {
    (rtc_seconds * 1_000_000_000).max(parent_real_ns.saturating_add(since_entry_ns))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HDR: u64 = size_of::<RecordHeader>() as u64;

    #[test]
    fn header_is_16_aligned_and_holds_the_scratch_stack() {
        assert_eq!(HDR % 16, 0);
        assert!(HDR as usize > SCRATCH_STACK);
        assert_eq!(off::SCRATCH_TOP as u64, HDR);
    }

    #[test]
    fn a_stack_hole_splits_the_section_around_it() {
        // .data+.bss at [0x116000, 0x1c6010), the boot stack at [0x13b000, 0x1bb000).
        let hole = stack_hole(0x13b000, 0x1bb000, 0x1ba800);
        assert_eq!(hole, Some((0x13b000, 0x1ba400)));
        let p = plan(&[(0x116000, 0x1c6010)], hole);
        assert_eq!(
            p.ranges(),
            &[
                Range {
                    addr: 0x116000,
                    len: 0x25000,
                    offset: HDR
                },
                Range {
                    addr: 0x1ba400,
                    len: 0x1c6010 - 0x1ba400,
                    offset: HDR + 0x25000
                },
            ]
        );
        assert_eq!(p.saved_bytes(), 0x25000 + 0x1c6010 - 0x1ba400);
        assert_eq!(
            p.size as u64,
            HDR + 0x25000 + (0x1c6010u64 - 0x1ba400).next_multiple_of(16)
        );
    }

    #[test]
    fn offsets_are_16_aligned_and_do_not_overlap() {
        let p = plan(
            &[(0x1000, 0x1003), (0x5000, 0x5011), (0x9000, 0x9001)],
            None,
        );
        assert_eq!(p.n, 3);
        for w in p.ranges().windows(2) {
            assert_eq!(w[0].offset % 16, 0);
            assert!(w[0].offset + w[0].len <= w[1].offset);
        }
        let last = p.ranges()[2];
        assert!(last.offset + last.len <= p.size as u64);
    }

    #[test]
    fn no_hole_when_the_stack_pointer_is_elsewhere_or_near_the_bottom() {
        assert_eq!(stack_hole(0x1000, 0x9000, 0x20000), None);
        assert_eq!(stack_hole(0x1000, 0x9000, 0x1000), None);
        assert_eq!(stack_hole(0x1000, 0x9000, 0x1000 + STACK_MARGIN), None);
        let p = plan(&[(0x0, 0x10000)], None);
        assert_eq!(
            p.ranges(),
            &[Range {
                addr: 0,
                len: 0x10000,
                offset: HDR
            }]
        );
    }

    #[test]
    fn a_hole_at_a_section_edge_leaves_no_empty_range() {
        let p = plan(&[(0x1000, 0x2000)], Some((0x1000, 0x1800)));
        assert_eq!(
            p.ranges(),
            &[Range {
                addr: 0x1800,
                len: 0x800,
                offset: HDR
            }]
        );
        let p = plan(&[(0x1000, 0x2000)], Some((0x3000, 0x4000)));
        assert_eq!(p.n, 1);
        assert_eq!(p.ranges()[0].len, 0x1000);
    }

    #[test]
    fn mailbox_round_trips_and_rejects_zeroes_and_garbage() {
        assert_eq!(Mailbox::publish(0x20_0000).record(), Some(0x20_0000));
        assert_eq!(Mailbox::default().record(), None);
        let mut m = Mailbox::publish(0x20_0000);
        m.record = 0x30_0000;
        assert_eq!(m.record(), None);
    }

    #[test]
    fn child_wall_clock_never_runs_behind_the_parent_or_the_rtc() {
        let parent = 1_700_000_000_400_000_000;
        assert_eq!(
            child_realtime_ns(1_700_000_000, parent, 50_000_000),
            parent + 50_000_000
        );
        assert_eq!(
            child_realtime_ns(1_700_000_005, parent, 50_000_000),
            1_700_000_005_000_000_000
        );
        assert_eq!(child_realtime_ns(0, u64::MAX, 1), u64::MAX);
    }
}
