//! Maps a program into an address space: its `PT_LOAD` segments (bytes
//! read from the [`ProgramFile`] straight into fresh frames, the rest
//! zero), the `brk` start after them, and the stack with argv, envp and
//! the auxiliary vector at its top.

use alloc::collections::BTreeMap;
use core::fmt;

use super::elf::{self, ElfError, PHDR_SIZE};
use super::stack::{self, AuxInputs};
use super::ProgramFile;
use crate::arch::layout::{PAGE_SIZE, STACK_SIZE, STACK_TOP};
use crate::arch::x86_64::{cpu, random};
use crate::linux::sig::MINSIGSTKSZ;
use crate::mem::address_space::{AddressSpace, MemError};
use crate::mem::segments::Segments;
use crate::mem::vma::{Prot, VmaKind};

/// Bytes of a segment read from the file at a time, straight into its
/// frames: one read per run of contiguous frames.
const LOAD_CHUNK: u64 = 1 << 20;
/// Runs of contiguous frames gathered at a time (fewer bytes when the
/// frames are scattered).
const LOAD_RUNS: usize = 32;

/// Why a program could not be loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadError {
    /// Not a program this kernel runs.
    Elf(ElfError),
    /// Mapping failed.
    Memory(MemError),
    /// argv and env do not fit the initial stack.
    TooBig(stack::TooBig),
    /// Reading the file failed.
    Read(super::ReadError),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Elf(e) => write!(f, "{e}"),
            LoadError::Memory(e) => write!(f, "{e}"),
            LoadError::TooBig(e) => write!(f, "{e}"),
            LoadError::Read(e) => write!(f, "{e}"),
        }
    }
}

impl From<MemError> for LoadError {
    fn from(e: MemError) -> Self {
        LoadError::Memory(e)
    }
}

/// Where the program starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The first instruction.
    pub rip: u64,
    /// The initial stack pointer (pointing at `argc`).
    pub rsp: u64,
}

/// Loads `file` into the empty address space `space`.
pub fn load(
    space: &mut AddressSpace,
    file: &dyn ProgramFile,
    argv: &[&[u8]],
    envp: &[&[u8]],
    execfn: &[u8],
) -> Result<Entry, LoadError> {
    let plan = elf::read_plan(file).map_err(LoadError::Elf)?;
    // Pages shared by two segments get both segments' permissions.
    let mut pages: BTreeMap<u64, Prot> = BTreeMap::new();
    for s in &plan.segments {
        let (lo, hi) = s.pages();
        for p in (lo..hi).step_by(PAGE_SIZE as usize) {
            let e = pages.entry(p).or_insert(Prot::NONE);
            *e = *e | s.prot;
        }
    }
    let mut run: Option<(u64, u64, Prot)> = None;
    for (&p, &prot) in &pages {
        match run {
            Some((lo, hi, rp)) if hi == p && rp == prot => run = Some((lo, p + PAGE_SIZE, rp)),
            _ => {
                if let Some((lo, hi, rp)) = run {
                    space.map(lo, hi, rp, VmaKind::Image, false)?;
                }
                run = Some((p, p + PAGE_SIZE, prot));
            }
        }
    }
    if let Some((lo, hi, rp)) = run {
        space.map(lo, hi, rp, VmaKind::Image, false)?;
    }
    for s in &plan.segments {
        let mut done = 0u64;
        while done < s.filesz {
            // The file's bytes go straight into the segment's frames.
            let mut frames = Segments::<LOAD_RUNS>::new();
            let want = (s.filesz - done).min(LOAD_CHUNK);
            let n = space
                .gather(s.vaddr + done, want, None, &mut frames)
                .map_err(|_| LoadError::Memory(MemError::OutOfMemory))?;
            let mut at = s.offset + done;
            for run in frames.as_slice() {
                // SAFETY: frames of the address space being built, which
                // only this loop reads or writes until the program runs;
                // the runs of one range never share a byte.
                let bytes = unsafe { run.as_mut_slice() };
                file.read_at(at, bytes).map_err(LoadError::Read)?;
                at += run.len as u64;
            }
            done += n;
        }
    }
    space.brk_start = plan.brk_start;
    space.brk = plan.brk_start;

    let stack_prot = if plan.exec_stack {
        Prot::RW | Prot::EXEC
    } else {
        Prot::RW
    };
    space.map(
        STACK_TOP - STACK_SIZE,
        STACK_TOP,
        stack_prot,
        VmaKind::Stack,
        false,
    )?;
    let mut random_bytes = [0u8; 16];
    random::fill(&mut random_bytes);
    let aux = AuxInputs {
        phdr: plan.phdr,
        phent: PHDR_SIZE as u64,
        phnum: plan.phnum,
        entry: plan.entry,
        hwcap: u64::from(cpu::cpuid(1, 0).3),
        hwcap2: 0,
        uid: 0,
        gid: 0,
        minsigstksz: MINSIGSTKSZ,
    };
    let image = stack::build(STACK_TOP, argv, envp, execfn, random_bytes, &aux)
        .map_err(LoadError::TooBig)?;
    space.fill(image.sp, &image.bytes)?;
    Ok(Entry {
        rip: plan.entry,
        rsp: image.sp,
    })
}
