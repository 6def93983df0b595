//! ELF64 parsing for static x86-64 executables: the file header, the
//! program headers, and the load plan the kernel maps. Pure logic,
//! unit-tested on the host.
//!
//! Accepted: `ET_EXEC` (linked at fixed addresses, `ld`'s default base
//! 0x400000) and `ET_DYN` without `PT_INTERP` (static-pie: glibc's
//! `-static-pie`, Rust's `+crt-static`), which is placed at
//! [`PIE_BASE`]. A program that names an interpreter is dynamically linked
//! and is refused: this kernel has no dynamic loader.

use alloc::vec::Vec;
use core::fmt;

use super::ProgramFile;
use crate::arch::layout::{is_user_range, page_down, page_up, PAGE_SIZE, PIE_BASE};
use crate::mem::vma::Prot;

/// `ET_EXEC`.
pub const ET_EXEC: u16 = 2;
/// `ET_DYN`.
pub const ET_DYN: u16 = 3;
/// `EM_X86_64`.
pub const EM_X86_64: u16 = 62;
/// `PT_LOAD`.
pub const PT_LOAD: u32 = 1;
/// `PT_INTERP`.
pub const PT_INTERP: u32 = 3;
/// `PT_PHDR`.
pub const PT_PHDR: u32 = 6;
/// `PT_GNU_STACK`.
pub const PT_GNU_STACK: u32 = 0x6474_e551;
/// `PF_X`.
pub const PF_X: u32 = 1;
/// `PF_W`.
pub const PF_W: u32 = 2;
/// `PF_R`.
pub const PF_R: u32 = 4;
/// Bytes of an ELF64 file header.
pub const EHDR_SIZE: usize = 64;
/// Bytes of an ELF64 program header.
pub const PHDR_SIZE: usize = 56;
/// Most program headers accepted (Linux: 64 KiB of them; ours is plenty).
pub const MAX_PHDRS: usize = 128;

/// Why a file is not a program this kernel runs (`ENOEXEC` to callers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElfError {
    /// The file is shorter than its headers say: (needed, size).
    Short(u64, u64),
    /// No `\x7fELF` magic.
    BadMagic,
    /// Not ELFCLASS64, little-endian, version 1.
    NotElf64LittleEndian,
    /// Not an x86-64 program: the `e_machine` value.
    NotX86_64(u16),
    /// Neither `ET_EXEC` nor `ET_DYN`: the `e_type` value.
    NotExecutable(u16),
    /// The program headers are missing, too many or not 56 bytes each.
    BadProgramHeaders(u16, u16),
    /// The program needs an interpreter (a dynamically linked program).
    Interpreter,
    /// No `PT_LOAD` segment.
    NoLoadSegments,
    /// A segment's file bytes exceed its memory size or the file.
    BadSegment(u64),
    /// A segment is not congruent to its file offset modulo the page size.
    Misaligned(u64),
    /// A segment lies outside the user half: (address, size).
    OutsideUserSpace(u64, u64),
    /// The entry point is not inside an executable segment.
    BadEntry(u64),
    /// Reading the file failed.
    Read,
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ElfError::Short(need, size) => write!(f, "file of {size} bytes, headers need {need}"),
            ElfError::BadMagic => write!(f, "not an ELF file"),
            ElfError::NotElf64LittleEndian => write!(f, "not a little-endian ELF64 file"),
            ElfError::NotX86_64(m) => write!(f, "not an x86-64 program (e_machine {m})"),
            ElfError::NotExecutable(t) => write!(f, "not an executable (e_type {t})"),
            ElfError::BadProgramHeaders(n, sz) => {
                write!(f, "bad program headers ({n} of {sz} bytes)")
            }
            ElfError::Interpreter => {
                write!(
                    f,
                    "dynamically linked (PT_INTERP): only static programs run"
                )
            }
            ElfError::NoLoadSegments => write!(f, "no PT_LOAD segment"),
            ElfError::BadSegment(v) => write!(f, "segment at {v:#x} has bad sizes"),
            ElfError::Misaligned(v) => write!(f, "segment at {v:#x} is misaligned"),
            ElfError::OutsideUserSpace(v, n) => {
                write!(f, "segment {v:#x}+{n:#x} is outside the user half")
            }
            ElfError::BadEntry(e) => write!(f, "entry {e:#x} is not in an executable segment"),
            ElfError::Read => write!(f, "read error"),
        }
    }
}

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}

fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().expect("8 bytes"))
}

/// The parts of the ELF file header the loader uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ElfHeader {
    /// `e_type`.
    pub e_type: u16,
    /// `e_entry`.
    pub e_entry: u64,
    /// `e_phoff`.
    pub e_phoff: u64,
    /// `e_phentsize`.
    pub e_phentsize: u16,
    /// `e_phnum`.
    pub e_phnum: u16,
}

impl ElfHeader {
    /// Parses and checks the 64-byte file header.
    pub fn parse(b: &[u8]) -> Result<Self, ElfError> {
        if b.len() < EHDR_SIZE {
            return Err(ElfError::Short(EHDR_SIZE as u64, b.len() as u64));
        }
        if &b[0..4] != b"\x7fELF" {
            return Err(ElfError::BadMagic);
        }
        // EI_CLASS = ELFCLASS64, EI_DATA = ELFDATA2LSB, EI_VERSION = 1.
        if b[4] != 2 || b[5] != 1 || b[6] != 1 {
            return Err(ElfError::NotElf64LittleEndian);
        }
        let machine = u16_at(b, 18);
        if machine != EM_X86_64 {
            return Err(ElfError::NotX86_64(machine));
        }
        let h = Self {
            e_type: u16_at(b, 16),
            e_entry: u64_at(b, 24),
            e_phoff: u64_at(b, 32),
            e_phentsize: u16_at(b, 54),
            e_phnum: u16_at(b, 56),
        };
        if h.e_type != ET_EXEC && h.e_type != ET_DYN {
            return Err(ElfError::NotExecutable(h.e_type));
        }
        if h.e_phentsize as usize != PHDR_SIZE || h.e_phnum == 0 || h.e_phnum as usize > MAX_PHDRS {
            return Err(ElfError::BadProgramHeaders(h.e_phnum, h.e_phentsize));
        }
        Ok(h)
    }

    /// Bytes of the program header table.
    pub fn phdrs_len(&self) -> usize {
        self.e_phnum as usize * PHDR_SIZE
    }
}

/// One program header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ProgramHeader {
    /// `p_type`.
    pub p_type: u32,
    /// `p_flags`.
    pub p_flags: u32,
    /// `p_offset`.
    pub p_offset: u64,
    /// `p_vaddr`.
    pub p_vaddr: u64,
    /// `p_filesz`.
    pub p_filesz: u64,
    /// `p_memsz`.
    pub p_memsz: u64,
    /// `p_align`.
    pub p_align: u64,
}

impl ProgramHeader {
    /// Parses one 56-byte program header.
    pub fn parse(b: &[u8]) -> Self {
        Self {
            p_type: u32_at(b, 0),
            p_flags: u32_at(b, 4),
            p_offset: u64_at(b, 8),
            p_vaddr: u64_at(b, 16),
            p_filesz: u64_at(b, 32),
            p_memsz: u64_at(b, 40),
            p_align: u64_at(b, 48),
        }
    }

    fn prot(&self) -> Prot {
        let mut p = Prot::NONE;
        if self.p_flags & PF_R != 0 {
            p = p | Prot::READ;
        }
        if self.p_flags & PF_W != 0 {
            p = p | Prot::WRITE;
        }
        if self.p_flags & PF_X != 0 {
            p = p | Prot::EXEC;
        }
        p
    }
}

/// One `PT_LOAD` segment at its final (biased) address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Where its first byte goes.
    pub vaddr: u64,
    /// Bytes in memory (the tail past `filesz` is zero: `.bss`).
    pub memsz: u64,
    /// Where its bytes start in the file.
    pub offset: u64,
    /// Bytes taken from the file.
    pub filesz: u64,
    /// Page protection from `p_flags`.
    pub prot: Prot,
}

impl Segment {
    /// The page-aligned range the segment occupies.
    pub fn pages(&self) -> (u64, u64) {
        (
            page_down(self.vaddr),
            page_up(self.vaddr + self.memsz).unwrap_or(u64::MAX),
        )
    }
}

/// Everything the kernel needs to map and start a program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadPlan {
    /// `e_type`: [`ET_EXEC`] or [`ET_DYN`].
    pub e_type: u16,
    /// What was added to every address (0 for `ET_EXEC`).
    pub bias: u64,
    /// The entry point.
    pub entry: u64,
    /// The program headers' address in memory (`AT_PHDR`).
    pub phdr: u64,
    /// `AT_PHNUM`.
    pub phnum: u64,
    /// The segments, in file order.
    pub segments: Vec<Segment>,
    /// Page-aligned end of the highest segment: where `brk` starts.
    pub brk_start: u64,
    /// `PT_GNU_STACK` asks for an executable stack.
    pub exec_stack: bool,
}

/// Builds the load plan from the file header, the program header table
/// and the file's size.
pub fn plan(h: &ElfHeader, phdrs: &[u8], file_size: u64) -> Result<LoadPlan, ElfError> {
    let need = h.e_phoff.saturating_add(h.phdrs_len() as u64);
    if need > file_size || phdrs.len() < h.phdrs_len() {
        return Err(ElfError::Short(need, file_size));
    }
    let headers: Vec<ProgramHeader> = phdrs[..h.phdrs_len()]
        .chunks_exact(PHDR_SIZE)
        .map(ProgramHeader::parse)
        .collect();
    if headers.iter().any(|p| p.p_type == PT_INTERP) {
        return Err(ElfError::Interpreter);
    }
    let loads: Vec<&ProgramHeader> = headers.iter().filter(|p| p.p_type == PT_LOAD).collect();
    let lowest = loads
        .iter()
        .map(|p| page_down(p.p_vaddr))
        .min()
        .ok_or(ElfError::NoLoadSegments)?;
    let bias = if h.e_type == ET_DYN {
        PIE_BASE.wrapping_sub(lowest)
    } else {
        0
    };
    let mut segments = Vec::with_capacity(loads.len());
    for p in &loads {
        if p.p_filesz > p.p_memsz || p.p_offset.saturating_add(p.p_filesz) > file_size {
            return Err(ElfError::BadSegment(p.p_vaddr));
        }
        if p.p_vaddr % PAGE_SIZE != p.p_offset % PAGE_SIZE {
            return Err(ElfError::Misaligned(p.p_vaddr));
        }
        let vaddr = p.p_vaddr.wrapping_add(bias);
        let start = page_down(vaddr);
        let len = p.p_memsz + (vaddr - start);
        let end = page_up(vaddr.saturating_add(p.p_memsz)).unwrap_or(u64::MAX);
        if p.p_memsz == 0 || !is_user_range(start, end - start) {
            return Err(ElfError::OutsideUserSpace(vaddr, len));
        }
        segments.push(Segment {
            vaddr,
            memsz: p.p_memsz,
            offset: p.p_offset,
            filesz: p.p_filesz,
            prot: p.prot(),
        });
    }
    let entry = h.e_entry.wrapping_add(bias);
    if !segments
        .iter()
        .any(|s| s.prot.executable() && s.vaddr <= entry && entry < s.vaddr + s.memsz)
    {
        return Err(ElfError::BadEntry(entry));
    }
    let phdr = match headers.iter().find(|p| p.p_type == PT_PHDR) {
        Some(p) => p.p_vaddr.wrapping_add(bias),
        None => loads
            .iter()
            .find(|p| p.p_offset <= h.e_phoff && need <= p.p_offset + p.p_filesz)
            .map_or(0, |p| {
                p.p_vaddr.wrapping_add(bias) + (h.e_phoff - p.p_offset)
            }),
    };
    let brk_start = segments
        .iter()
        .map(|s| s.pages().1)
        .max()
        .ok_or(ElfError::NoLoadSegments)?;
    let exec_stack = headers
        .iter()
        .any(|p| p.p_type == PT_GNU_STACK && p.p_flags & PF_X != 0);
    Ok(LoadPlan {
        e_type: h.e_type,
        bias,
        entry,
        phdr,
        phnum: u64::from(h.e_phnum),
        segments,
        brk_start,
        exec_stack,
    })
}

/// Reads the headers of `file` and builds its load plan.
pub fn read_plan(file: &dyn ProgramFile) -> Result<LoadPlan, ElfError> {
    let size = file.size();
    let mut ehdr = [0u8; EHDR_SIZE];
    if size < EHDR_SIZE as u64 {
        return Err(ElfError::Short(EHDR_SIZE as u64, size));
    }
    file.read_at(0, &mut ehdr).map_err(|_| ElfError::Read)?;
    let h = ElfHeader::parse(&ehdr)?;
    let need = h.e_phoff.saturating_add(h.phdrs_len() as u64);
    if need > size {
        return Err(ElfError::Short(need, size));
    }
    let mut phdrs = alloc::vec![0u8; h.phdrs_len()];
    file.read_at(h.e_phoff, &mut phdrs)
        .map_err(|_| ElfError::Read)?;
    plan(&h, &phdrs, size)
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::loader::tests::MemFile;

    /// Builds a minimal ELF64 image: header, program headers, then padding.
    pub fn elf(e_type: u16, entry: u64, phdrs: &[ProgramHeader], size: usize) -> Vec<u8> {
        let mut b = vec![0u8; size.max(EHDR_SIZE + phdrs.len() * PHDR_SIZE)];
        b[0..4].copy_from_slice(b"\x7fELF");
        b[4] = 2;
        b[5] = 1;
        b[6] = 1;
        b[16..18].copy_from_slice(&e_type.to_le_bytes());
        b[18..20].copy_from_slice(&EM_X86_64.to_le_bytes());
        b[24..32].copy_from_slice(&entry.to_le_bytes());
        b[32..40].copy_from_slice(&(EHDR_SIZE as u64).to_le_bytes());
        b[52..54].copy_from_slice(&(EHDR_SIZE as u16).to_le_bytes());
        b[54..56].copy_from_slice(&(PHDR_SIZE as u16).to_le_bytes());
        b[56..58].copy_from_slice(&(phdrs.len() as u16).to_le_bytes());
        for (i, p) in phdrs.iter().enumerate() {
            let o = EHDR_SIZE + i * PHDR_SIZE;
            b[o..o + 4].copy_from_slice(&p.p_type.to_le_bytes());
            b[o + 4..o + 8].copy_from_slice(&p.p_flags.to_le_bytes());
            b[o + 8..o + 16].copy_from_slice(&p.p_offset.to_le_bytes());
            b[o + 16..o + 24].copy_from_slice(&p.p_vaddr.to_le_bytes());
            b[o + 24..o + 32].copy_from_slice(&p.p_vaddr.to_le_bytes());
            b[o + 32..o + 40].copy_from_slice(&p.p_filesz.to_le_bytes());
            b[o + 40..o + 48].copy_from_slice(&p.p_memsz.to_le_bytes());
            b[o + 48..o + 56].copy_from_slice(&p.p_align.to_le_bytes());
        }
        b
    }

    fn load(flags: u32, offset: u64, vaddr: u64, filesz: u64, memsz: u64) -> ProgramHeader {
        ProgramHeader {
            p_type: PT_LOAD,
            p_flags: flags,
            p_offset: offset,
            p_vaddr: vaddr,
            p_filesz: filesz,
            p_memsz: memsz,
            p_align: PAGE_SIZE,
        }
    }

    /// A typical non-PIE layout: text at 0x401000, data at 0x403010 with bss.
    fn exec_image() -> Vec<u8> {
        elf(
            ET_EXEC,
            0x401000,
            &[
                load(PF_R, 0, 0x400000, 0x200, 0x200),
                load(PF_R | PF_X, 0x1000, 0x401000, 0x800, 0x800),
                load(PF_R | PF_W, 0x2010, 0x403010, 0x100, 0x5000),
            ],
            0x3000,
        )
    }

    #[test]
    fn exec_segments_keep_their_addresses() {
        let p = read_plan(&MemFile(exec_image())).unwrap();
        assert_eq!(p.bias, 0);
        assert_eq!(p.entry, 0x401000);
        assert_eq!(p.segments.len(), 3);
        assert_eq!(p.segments[1].prot, Prot::READ | Prot::EXEC);
        assert_eq!(p.segments[2].pages(), (0x403000, 0x409000));
        assert_eq!(p.brk_start, 0x409000);
    }

    #[test]
    fn phdr_is_found_inside_the_first_segment_without_pt_phdr() {
        let p = read_plan(&MemFile(exec_image())).unwrap();
        assert_eq!(p.phdr, 0x400000 + EHDR_SIZE as u64);
        assert_eq!(p.phnum, 3);
    }

    #[test]
    fn static_pie_is_placed_at_the_pie_base() {
        let img = elf(
            ET_DYN,
            0x1100,
            &[
                ProgramHeader {
                    p_type: PT_PHDR,
                    p_flags: PF_R,
                    p_offset: 64,
                    p_vaddr: 64,
                    ..Default::default()
                },
                load(PF_R | PF_X, 0, 0, 0x2000, 0x2000),
                load(PF_R | PF_W, 0x2000, 0x3000, 0x10, 0x20),
            ],
            0x2100,
        );
        let p = read_plan(&MemFile(img)).unwrap();
        assert_eq!(p.bias, PIE_BASE);
        assert_eq!(p.entry, PIE_BASE + 0x1100);
        assert_eq!(p.phdr, PIE_BASE + 64);
        assert_eq!(p.segments[1].vaddr, PIE_BASE + 0x3000);
        assert_eq!(p.brk_start, PIE_BASE + 0x4000);
    }

    #[test]
    fn dynamically_linked_programs_are_refused() {
        let img = elf(
            ET_DYN,
            0x1000,
            &[
                ProgramHeader {
                    p_type: PT_INTERP,
                    ..Default::default()
                },
                load(PF_R | PF_X, 0, 0, 0x2000, 0x2000),
            ],
            0x2000,
        );
        assert_eq!(read_plan(&MemFile(img)), Err(ElfError::Interpreter));
    }

    #[test]
    fn segments_below_four_mib_are_refused() {
        let img = elf(
            ET_EXEC,
            0x201000,
            &[load(PF_R | PF_X, 0, 0x200000, 0x2000, 0x2000)],
            0x2000,
        );
        assert!(matches!(
            read_plan(&MemFile(img)),
            Err(ElfError::OutsideUserSpace(0x200000, _))
        ));
    }

    #[test]
    fn segments_reaching_past_the_file_are_refused() {
        let img = elf(
            ET_EXEC,
            0x401000,
            &[load(PF_R | PF_X, 0x1000, 0x401000, 0x9000, 0x9000)],
            0x2000,
        );
        assert_eq!(
            read_plan(&MemFile(img)),
            Err(ElfError::BadSegment(0x401000))
        );
    }

    #[test]
    fn entry_outside_executable_segments_is_refused() {
        let img = elf(
            ET_EXEC,
            0x500000,
            &[load(PF_R | PF_X, 0x1000, 0x401000, 0x100, 0x100)],
            0x2000,
        );
        assert_eq!(read_plan(&MemFile(img)), Err(ElfError::BadEntry(0x500000)));
    }

    #[test]
    fn wrong_machine_class_and_magic_are_refused() {
        let mut img = exec_image();
        img[18] = 3;
        assert_eq!(read_plan(&MemFile(img)), Err(ElfError::NotX86_64(3)));
        let mut img = exec_image();
        img[4] = 1;
        assert_eq!(
            read_plan(&MemFile(img)),
            Err(ElfError::NotElf64LittleEndian)
        );
        assert_eq!(
            read_plan(&MemFile(b"#!/bin/sh\n".to_vec())),
            Err(ElfError::Short(64, 10))
        );
        let mut img = exec_image();
        img[0] = b'M';
        assert_eq!(read_plan(&MemFile(img)), Err(ElfError::BadMagic));
    }

    #[test]
    fn misaligned_segments_are_refused() {
        let img = elf(
            ET_EXEC,
            0x401000,
            &[load(PF_R | PF_X, 0x1010, 0x401000, 0x100, 0x100)],
            0x2000,
        );
        assert_eq!(
            read_plan(&MemFile(img)),
            Err(ElfError::Misaligned(0x401000))
        );
    }
}
