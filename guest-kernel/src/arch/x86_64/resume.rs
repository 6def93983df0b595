//! The resume record of `fork()` and the boot-time code that finds it.
//!
//! Primer (spec 1.6.15, FORK). The device gives a fork child a copy of
//! the parent's RAM and boots it from reset: QEMU's loader writes the
//! kernel image again (`.text`, `.rodata`, `.data`) and the boot code
//! zeroes `.bss`. Everything in frames and on the heap survives (the
//! heap and the frame allocator keep out of what the firmware writes,
//! `mem::firmware`); the statics do not. So before `FORK` the parent
//! copies its statics into a **resume record** on the heap, and tells the
//! child where it is through the **mailbox**, the page right after the
//! image (`__kernel_end`): the loader never writes it, the heap starts a
//! page later, and a VM that did not come from a fork finds zeroes there.
//!
//! ```text
//! record:  ResumeHeader | the upper layers' state | range 0 bytes | range 1 bytes
//! mailbox: MAILBOX_MAGIC | record (guest-physical) | record ^ MAILBOX_MAGIC
//! ```
//!
//! What is carried is `.data` and `.bss` less what belongs to the VM that
//! runs the code rather than to the process: the boot page tables, the
//! boot stack, the start info address and the entry TSC (`.bss.boot`),
//! and the kernel stack (`.bss.kstack`). `link.ld` puts those two first in
//! `.bss`, before `__fork_carry_bss`; the child boots on them as a fresh
//! VM does, so restoring the rest can never overwrite the stack it runs on.
//!
//! In the child, `resume_if_forked` runs in long mode on the boot stack
//! before any Rust code: if the mailbox is published (magic, check word,
//! record magic) it clears the mailbox, loads the parent's page tables
//! (`cr3`: they live in frames, so the copy has them), copies the ranges
//! back, and calls the record's `entry` on the boot stack with the
//! record's (virtual) address. `entry` is the upper layers' business (it
//! is a hook, so this layer names nothing above it); it never returns.

#[cfg(not(test))]
use core::arch::global_asm;
use core::mem::{offset_of, size_of};

#[cfg(not(test))]
use virtio_pipe_protocol::FORK_LANDED_MAGIC;

/// First word of a published mailbox ("vppFORK\0" read little-endian).
pub const MAILBOX_MAGIC: u64 = 0x004b_524f_4670_7076;
/// First word of a resume record ("vppREC\0\0").
pub const RECORD_MAGIC: u64 = 0x0000_4345_5270_7076;
/// Most memory ranges a record carries.
pub const MAX_RANGES: usize = 2;

/// One carried memory range: `len` bytes at `addr`, saved at `offset` in
/// the record.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// Identity-mapped address (= physical address).
    pub addr: u64,
    /// Bytes.
    pub len: u64,
    /// Offset of the copy from the record's start.
    pub offset: u64,
}

/// The start of every resume record.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct ResumeHeader {
    /// [`RECORD_MAGIC`].
    pub magic: u64,
    /// Bytes of the whole record.
    pub size: u64,
    /// The parent's live PML4 (physical).
    pub cr3: u64,
    /// `extern "C" fn(record: u64) -> !`, called on the boot stack with
    /// interrupts off once the ranges are back.
    pub entry: u64,
    /// Used entries of `ranges`.
    pub nranges: u64,
    /// What is carried.
    pub ranges: [Range; MAX_RANGES],
}

/// Offsets the assembly uses.
pub mod off {
    use super::*;

    /// `ResumeHeader::cr3`.
    pub const CR3: usize = offset_of!(ResumeHeader, cr3);
    /// `ResumeHeader::entry`.
    pub const ENTRY: usize = offset_of!(ResumeHeader, entry);
    /// `ResumeHeader::nranges`.
    pub const NRANGES: usize = offset_of!(ResumeHeader, nranges);
    /// `ResumeHeader::ranges`.
    pub const RANGES: usize = offset_of!(ResumeHeader, ranges);
    /// Size of one [`Range`].
    pub const RANGE_SIZE: usize = size_of::<Range>();
}

// The assembly reads a range as (addr, len, offset) at 0, 8, 16 and loads
// the magics with `movabs` (positive immediates).
const _: () = assert!(
    offset_of!(Range, len) == 8 && offset_of!(Range, offset) == 16 && off::RANGE_SIZE == 24
);
const _: () = assert!(
    MAILBOX_MAGIC < 1 << 63
        && RECORD_MAGIC < 1 << 63
        && virtio_pipe_protocol::FORK_LANDED_MAGIC < 1 << 63
        && virtio_pipe_protocol::FORK_LANDED_MAGIC != MAILBOX_MAGIC
);

/// What a record carries and how big it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// The ranges, `n` of them used.
    pub ranges: [Range; MAX_RANGES],
    /// Used entries of `ranges`.
    pub n: usize,
    /// Bytes of the record: `head` bytes, then every range, each 16-aligned.
    pub size: usize,
}

impl Plan {
    /// The used ranges.
    pub fn ranges(&self) -> &[Range] {
        &self.ranges[..self.n]
    }

    /// Bytes of memory carried.
    pub fn carried_bytes(&self) -> u64 {
        self.ranges().iter().map(|r| r.len).sum()
    }
}

/// Plans a record of `head` bytes (header and the upper layers' state)
/// followed by copies of `sections` (`[start, end)`, empty ones left out).
pub fn plan(head: usize, sections: &[(u64, u64)]) -> Plan {
    let mut ranges = [Range::default(); MAX_RANGES];
    let mut n = 0;
    let mut offset = head.next_multiple_of(16) as u64;
    for &(start, end) in sections.iter().take(MAX_RANGES) {
        if end > start {
            ranges[n] = Range {
                addr: start,
                len: end - start,
                offset,
            };
            n += 1;
            offset += (end - start).next_multiple_of(16);
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
    /// The record's guest-physical address.
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

    /// The record address, if the mailbox is published and consistent
    /// (the same test `resume_if_forked` makes).
    pub fn record(&self) -> Option<u64> {
        (self.magic == MAILBOX_MAGIC && self.check == self.record ^ MAILBOX_MAGIC)
            .then_some(self.record)
    }
}

#[cfg(not(test))]
pub use kernel::*;

#[cfg(not(test))]
mod kernel {
    use core::ptr::addr_of;

    use super::*;
    use crate::arch::layout::DIRECT_MAP_BASE;

    global_asm!(
        r#"
    .section .text.boot, "ax"
    .code64
    // Called by the boot code in long mode, on the boot stack, interrupts
    // off. Returns if this VM is not a fork child; else never returns.
    .global resume_if_forked
resume_if_forked:
    lea rax, [rip + __kernel_end]
    movabs rcx, {mailbox_magic}
    cmp [rax], rcx
    jne 1f
    mov rdi, [rax + 8]
    mov rdx, [rax + 16]
    xor rdx, rcx
    cmp rdx, rdi
    jne 1f
    movabs rbx, {direct_map}
    add rbx, rdi
    movabs rcx, {record_magic}
    cmp [rbx], rcx
    jne 1f
    // Published: this VM is a fork child, and rbx is its record.
    xor ecx, ecx
    mov [rax], rcx
    mov [rax + 8], rcx
    mov [rax + 16], rcx
    mov rcx, [rbx + {cr3}]
    mov cr3, rcx
    mov r14, [rbx + {nranges}]
    lea r15, [rbx + {ranges}]
2:
    test r14, r14
    jz 3f
    mov rdi, [r15]
    mov rcx, [r15 + 8]
    mov rsi, [r15 + 16]
    add rsi, rbx
    rep movsb
    add r15, {range_size}
    dec r14
    jmp 2b
3:
    lea rsp, [rip + boot_stack_top]
    xor ebp, ebp
    mov rdi, rbx
    call qword ptr [rbx + {entry}]
    ud2
1:
    ret

    // The landing of a fork child on a parked VM (spec drv-start-land),
    // called once START answered 2 and the device is reset. From the
    // `mov cr3` on it touches no RAM but the mailbox's first word and uses
    // no stack: the device is about to write the parent's RAM over this
    // VM's, and only the image and the boot page tables (the same bytes
    // in every VM, see the module docs) stay what they are.
    .global fork_land
fork_land:
    cli
    lea rax, [rip + boot_pml4]
    mov cr3, rax
    // This VM's TSC now: the child's entry TSC (`boot_tsc`, which the copy
    // replaces with the parent's), kept in a register meanwhile.
    rdtsc
    shl rdx, 32
    or rax, rdx
    mov r12, rax
    lea rax, [rip + __kernel_end]
    movabs rcx, {landed_magic}
    mov [rax], rcx
    mfence
    movabs rcx, {mailbox_magic}
4:
    pause
    cmp [rax], rcx
    jne 4b
    // The device wrote the mailbox last: the parent's RAM is all here.
    mov [rip + boot_tsc], r12
    lea rsp, [rip + boot_stack_top]
    xor ebp, ebp
    call resume_if_forked
    ud2
"#,
        landed_magic = const FORK_LANDED_MAGIC,
        mailbox_magic = const MAILBOX_MAGIC,
        record_magic = const RECORD_MAGIC,
        direct_map = const DIRECT_MAP_BASE,
        cr3 = const off::CR3,
        entry = const off::ENTRY,
        nranges = const off::NRANGES,
        ranges = const off::RANGES,
        range_size = const off::RANGE_SIZE,
    );

    extern "C" {
        fn fork_land() -> !;
        static __data_start: u8;
        static __bss_start: u8;
        static __fork_carry_bss: u8;
        static __bss_end: u8;
        static __kernel_end: u8;
    }

    /// The statics a fork child must get back: `.data`, and `.bss` from
    /// `__fork_carry_bss` (see the module docs).
    pub fn carried_sections() -> [(u64, u64); MAX_RANGES] {
        [
            (addr_of!(__data_start) as u64, addr_of!(__bss_start) as u64),
            (
                addr_of!(__fork_carry_bss) as u64,
                addr_of!(__bss_end) as u64,
            ),
        ]
    }

    /// Copies the plan's ranges into the record at `rec` (whose header
    /// holds the plan).
    ///
    /// # Safety
    ///
    /// `rec` must point at a writable record of at least `plan.size` bytes
    /// whose ranges are the kernel's own statics (from
    /// [`carried_sections`]); nothing may write those statics meanwhile
    /// (one CPU, interrupts off).
    pub unsafe fn snapshot(rec: *mut u8, plan: &Plan) {
        for r in plan.ranges() {
            // SAFETY: the source is the image's own identity-mapped
            // statics, the destination lies inside the record (the plan
            // sized it), and the two never overlap (the record is heap).
            unsafe {
                core::ptr::copy_nonoverlapping(
                    r.addr as *const u8,
                    rec.add(r.offset as usize),
                    r.len as usize,
                )
            };
        }
    }

    fn mailbox() -> *mut Mailbox {
        addr_of!(__kernel_end) as *mut Mailbox
    }

    /// The mailbox page's guest-physical address, which `FORK` passes in
    /// `arg1` (spec `drv-fork-mailbox`): identity-mapped, page-aligned.
    pub fn mailbox_phys() -> u64 {
        addr_of!(__kernel_end) as u64
    }

    /// Lands a fork child on this VM (spec `drv-start-land`, steps 2 to
    /// 5): interrupts off, the boot page tables, [`FORK_LANDED_MAGIC`] in
    /// the mailbox, a spin until the device has written the parent's RAM
    /// (the mailbox published, written last), then `resume_if_forked` on
    /// the boot stack as a cold fork child. Never returns.
    ///
    /// # Safety
    ///
    /// `START` must have answered land and the device must be reset (no
    /// buffer of this VM in its hands): everything but the image and the
    /// boot page tables is about to be replaced, this call's caller
    /// included.
    pub unsafe fn land() -> ! {
        // SAFETY: the caller vouches that the device may replace this
        // VM's RAM; `fork_land` needs nothing else.
        unsafe { fork_land() }
    }

    /// Publishes the record at guest-physical `record` for the child.
    pub fn publish(record: u64) {
        // SAFETY: the page after the image is reserved for the mailbox
        // (the heap starts a page later), identity-mapped, and written
        // only here and by `resume_if_forked`.
        unsafe { mailbox().write_volatile(Mailbox::publish(record)) };
    }

    /// Takes the record back (after `FORK`).
    pub fn unpublish() {
        // SAFETY: as in `publish`.
        unsafe { mailbox().write_volatile(Mailbox::default()) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A head the size of a real one: header plus some state.
    const HEAD: usize = 1000;

    #[test]
    fn ranges_follow_the_head_16_aligned() {
        let p = plan(HEAD, &[(0x137000, 0x143000), (0x16e000, 0x16e020)]);
        assert_eq!(
            p.ranges(),
            &[
                Range {
                    addr: 0x137000,
                    len: 0xc000,
                    offset: 1008
                },
                Range {
                    addr: 0x16e000,
                    len: 0x20,
                    offset: 1008 + 0xc000
                },
            ]
        );
        assert_eq!(p.size, 1008 + 0xc000 + 0x20);
        assert_eq!(p.carried_bytes(), 0xc020);
    }

    #[test]
    fn empty_sections_are_left_out() {
        let p = plan(HEAD, &[(0x2000, 0x2000), (0x3000, 0x3011)]);
        assert_eq!(p.n, 1);
        assert_eq!(p.ranges()[0].len, 0x11);
        assert_eq!(p.size, 1008 + 0x20);
    }

    #[test]
    fn header_offsets_are_what_the_assembly_reads() {
        assert_eq!(off::CR3, 16);
        assert_eq!(off::ENTRY, 24);
        assert_eq!(off::NRANGES, 32);
        assert_eq!(off::RANGES, 40);
    }

    #[test]
    fn mailbox_round_trips_and_rejects_zeroes_and_garbage() {
        assert_eq!(Mailbox::publish(0x20_0000).record(), Some(0x20_0000));
        assert_eq!(Mailbox::default().record(), None);
        let mut m = Mailbox::publish(0x20_0000);
        m.record = 0x30_0000;
        assert_eq!(m.record(), None);
    }
}
