//! What `run` was asked to start: finding the program in the tree's root,
//! and telling a unikernel image from a Linux program.
//!
//! A unikernel image boots by itself: QEMU's `-kernel` loads it through
//! its PVH note. Anything else is taken for a static Linux program: every
//! VM then boots the process kernel (`guest-kernel/`), which loads the
//! program from the root through the device (spec: `dev-exe-path`).

use std::fs::File;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use thiserror::Error;
use virtio_pipe_protocol::Errno;

use crate::files::{self, Root, RootError};

/// Why the program to run could not be found or started.
#[derive(Debug, Error)]
pub enum ProgramError {
    /// The root directory is unusable.
    #[error(transparent)]
    Root(#[from] RootError),
    /// The program is not in the root (or not executable there).
    #[error("program '{name}' not found in {root} ({errno})")]
    NotFound {
        /// The name as given.
        name: String,
        /// The root's host path.
        root: PathBuf,
        /// Why the last candidate failed.
        errno: Errno,
    },
    /// A host path given without `--root` does not name a file.
    #[error("program '{0}' not found")]
    NoFile(PathBuf),
    /// A Linux program, but no process kernel to boot it on.
    #[error("'{program}' is a Linux program and the process kernel image '{kernel}' is missing (build it with guest-kernel/build-image, or pass --kernel)")]
    NoKernel {
        /// The program.
        program: PathBuf,
        /// Where the kernel was looked for.
        kernel: PathBuf,
    },
    /// The program could not be opened for reading.
    #[error("cannot read '{0}' ({1})")]
    Unreadable(PathBuf, Errno),
}

/// What the root process boots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Boot {
    /// A unikernel image, by its host path.
    Image(PathBuf),
    /// A Linux program, by its path in the root, on the process kernel.
    Program {
        /// The program as the process sees it (`GET_EXE`).
        exe: Vec<u8>,
        /// The process kernel image.
        kernel: PathBuf,
    },
}

/// A program to run, found.
#[derive(Debug)]
pub struct Resolved {
    /// The tree's root.
    pub root: Root,
    /// What the root process boots.
    pub boot: Boot,
}

/// Where the process kernel is by default: `images/guest-kernel` next to
/// the directory of the daemon's binary (`target/debug/vhost-user-pipe`
/// finds `target/images/guest-kernel`, where `guest-kernel/build-image`
/// puts it).
pub fn default_kernel() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let dir = exe.parent().unwrap_or(Path::new("."));
    dir.join("../images/guest-kernel")
}

/// Finds `program`. With a `root` directory, `program` is a name in it
/// ([`find`]); without, it is a host path and the root is its directory.
/// A unikernel image boots by itself; anything else needs `kernel`.
pub fn resolve(
    root: Option<&Path>,
    program: &Path,
    kernel: &Path,
) -> Result<Resolved, ProgramError> {
    let (root, exe) = match root {
        Some(dir) => {
            let root = Root::open(dir)?;
            let name = program.to_string_lossy().into_owned();
            let exe = find(&root, &name).map_err(|errno| ProgramError::NotFound {
                name,
                root: root.host_path().to_owned(),
                errno,
            })?;
            (root, exe)
        }
        None => {
            let host = program
                .canonicalize()
                .ok()
                .filter(|p| p.is_file())
                .ok_or_else(|| ProgramError::NoFile(program.to_owned()))?;
            let root = Root::open(host.parent().unwrap_or(Path::new("/")))?;
            let mut exe = b"/".to_vec();
            exe.extend_from_slice(host.file_name().unwrap_or_default().as_bytes());
            (root, exe)
        }
    };
    let file = root
        .open_file(&exe, virtio_pipe_protocol::fs::O_RDONLY, 0)
        .map_err(|e| ProgramError::Unreadable(program.to_owned(), e))?;
    let boot = match kind(|buf, at| read_exact_at(&file, buf, at)) {
        Kind::Pvh => Boot::Image(root.host_path().join(Path::new(std::ffi::OsStr::from_bytes(
            exe.strip_prefix(b"/").unwrap_or(&exe),
        )))),
        Kind::Linux if kernel.is_file() => Boot::Program {
            exe,
            kernel: kernel.canonicalize().unwrap_or_else(|_| kernel.to_owned()),
        },
        Kind::Linux => {
            return Err(ProgramError::NoKernel {
                program: program.to_owned(),
                kernel: kernel.to_owned(),
            })
        }
    };
    Ok(Resolved { root, boot })
}

/// Where a bare program name is looked up in the root, in order: a
/// `PATH` a Linux distribution's root user would have.
pub const SEARCH_PATH: [&[u8]; 4] = [b"/usr/local/bin", b"/usr/bin", b"/bin", b"/sbin"];

/// How a program boots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An ELF with a PVH entry note: a unikernel that QEMU boots itself.
    Pvh,
    /// Anything else: a program the process kernel loads.
    Linux,
}

/// The program `name` in `root`, as the path the process sees: a name
/// with a `/` is a path in the root (relative ones from its top, the root
/// process's working directory); a bare name is looked up in
/// [`SEARCH_PATH`], like a shell would. The first executable regular file
/// wins; else the error of the last candidate.
pub fn find(root: &Root, name: &str) -> Result<Vec<u8>, Errno> {
    let name = name.as_bytes();
    if name.is_empty() || name.contains(&0) {
        return Err(Errno::Enoent);
    }
    if name.contains(&b'/') {
        return root.executable(&files::join(b"/", name));
    }
    let mut last = Errno::Enoent;
    for dir in SEARCH_PATH {
        let mut path = dir.to_vec();
        path.push(b'/');
        path.extend_from_slice(name);
        match root.executable(&path) {
            Ok(found) => return Ok(found),
            // A missing file is the usual case; remember anything else
            // (a program found but not executable says more).
            Err(Errno::Enoent) => {}
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Bytes of the ELF64 file header and of one program header, and the
/// fields read from them (the System V ABI's `Elf64_Ehdr`/`Elf64_Phdr`).
const EHDR: usize = 64;
const PHDR: usize = 56;
const PT_NOTE: u32 = 4;
/// The PVH entry note: owner "Xen", type `XEN_ELFNOTE_PHYS32_ENTRY`.
const XEN_ELFNOTE_PHYS32_ENTRY: u32 = 18;
/// Most program headers and note bytes read: a sane ELF has far fewer.
const MAX_PHDRS: usize = 256;
const MAX_NOTES: u64 = 64 * 1024;

/// Whether a file boots through PVH, read with `read_exact_at(buf,
/// offset)` (whether it filled `buf`). Reads the ELF header, the program
/// headers and the note segments only: a classifier should not read a
/// whole (possibly large) program, as an ELF library would want to.
pub fn kind(read_exact_at: impl Fn(&mut [u8], u64) -> bool) -> Kind {
    let mut ehdr = [0u8; EHDR];
    if !read_exact_at(&mut ehdr, 0) || &ehdr[..4] != b"\x7fELF" || ehdr[4] != 2 {
        // Not an ELF64: the process kernel says what it makes of it.
        return Kind::Linux;
    }
    let phoff = u64::from_le_bytes(ehdr[32..40].try_into().unwrap_or_default());
    let phentsize = u16::from_le_bytes([ehdr[54], ehdr[55]]) as usize;
    let phnum = (u16::from_le_bytes([ehdr[56], ehdr[57]]) as usize).min(MAX_PHDRS);
    let mut phdrs = vec![0u8; phentsize * phnum];
    if phentsize < PHDR || !read_exact_at(&mut phdrs, phoff) {
        return Kind::Linux;
    }
    for ph in phdrs.chunks_exact(phentsize) {
        let field = |at: usize| u64::from_le_bytes(ph[at..at + 8].try_into().unwrap_or_default());
        if u32::from_le_bytes([ph[0], ph[1], ph[2], ph[3]]) != PT_NOTE {
            continue;
        }
        let mut notes = vec![0u8; field(32).min(MAX_NOTES) as usize];
        if read_exact_at(&mut notes, field(8)) && has_pvh_note(&notes) {
            return Kind::Pvh;
        }
    }
    Kind::Linux
}

/// [`kind`] of the host file at `path`.
pub fn kind_of_path(path: &Path) -> io::Result<Kind> {
    let f = File::open(path)?;
    Ok(kind(|buf, at| f.read_exact_at(buf, at).is_ok()))
}

/// Fills `buf` from `file` at `at`; whether it could.
fn read_exact_at(file: &files::OpenFile, buf: &mut [u8], at: u64) -> bool {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], at + done as u64) {
            Ok(0) | Err(_) => return false,
            Ok(n) => done += n,
        }
    }
    true
}

/// Whether a note segment holds the PVH entry note.
fn has_pvh_note(mut notes: &[u8]) -> bool {
    let align4 = |n: usize| n.div_ceil(4) * 4;
    while notes.len() >= 12 {
        let word = |at: usize| {
            u32::from_le_bytes([notes[at], notes[at + 1], notes[at + 2], notes[at + 3]])
        };
        let (namesz, descsz, kind) = (word(0) as usize, word(4) as usize, word(8));
        let name_end = 12 + namesz;
        let next = 12usize
            .saturating_add(align4(namesz))
            .saturating_add(align4(descsz));
        if name_end > notes.len() {
            return false;
        }
        if kind == XEN_ELFNOTE_PHYS32_ENTRY && &notes[12..name_end] == b"Xen\0" {
            return true;
        }
        if next > notes.len() {
            return false;
        }
        notes = &notes[next..];
    }
    false
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn note(name: &[u8], kind: u32) -> Vec<u8> {
        let mut n = Vec::new();
        n.extend_from_slice(&(name.len() as u32).to_le_bytes());
        n.extend_from_slice(&4u32.to_le_bytes());
        n.extend_from_slice(&kind.to_le_bytes());
        n.extend_from_slice(name);
        n.resize(n.len().div_ceil(4) * 4, 0);
        n.extend_from_slice(&0x10_0000u32.to_le_bytes());
        n
    }

    #[test]
    fn the_pvh_note_is_found_after_other_notes() {
        let mut notes = note(b"GNU\0", 3);
        notes.extend(note(b"Xen\0", XEN_ELFNOTE_PHYS32_ENTRY));
        assert!(has_pvh_note(&notes));
        assert!(!has_pvh_note(&note(b"GNU\0", XEN_ELFNOTE_PHYS32_ENTRY)));
        assert!(!has_pvh_note(&note(b"Xen\0", 3)));
        // A note that claims more than there is ends the scan.
        let mut bad = note(b"Xen\0", 3);
        bad[0] = 0xff;
        assert!(!has_pvh_note(&bad));
    }

    #[test]
    fn a_unikernel_image_is_pvh_and_the_host_shell_is_linux() {
        let dir = tempfile::tempdir().unwrap();
        let image = dir.path().join("pvh");
        fs::write(&image, crate::accel::calibration_kernel()).unwrap();
        assert_eq!(kind_of_path(&image).unwrap(), Kind::Pvh);
        let shell = fs::canonicalize("/bin/sh").unwrap();
        assert_eq!(kind_of_path(&shell).unwrap(), Kind::Linux);
        let text = dir.path().join("script");
        fs::write(&text, b"#!/bin/sh\necho hi\n").unwrap();
        assert_eq!(kind_of_path(&text).unwrap(), Kind::Linux);
    }

    #[test]
    fn bare_names_are_looked_up_in_the_search_path() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("usr/bin");
        fs::create_dir_all(&bin).unwrap();
        fs::create_dir_all(dir.path().join("bin")).unwrap();
        fs::write(bin.join("tool"), b"x").unwrap();
        fs::set_permissions(bin.join("tool"), fs::Permissions::from_mode(0o755)).unwrap();
        fs::write(dir.path().join("bin/data"), b"x").unwrap();
        fs::set_permissions(
            dir.path().join("bin/data"),
            fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        let root = Root::open(dir.path()).unwrap();
        assert_eq!(find(&root, "tool").unwrap(), b"/usr/bin/tool");
        assert_eq!(find(&root, "usr/bin/tool").unwrap(), b"/usr/bin/tool");
        assert_eq!(find(&root, "/usr/bin/tool").unwrap(), b"/usr/bin/tool");
        assert_eq!(find(&root, "missing"), Err(Errno::Enoent));
        // Found, but not executable: that is the error, not ENOENT.
        assert_eq!(find(&root, "data"), Err(Errno::Eacces));
        assert_eq!(find(&root, "../../../bin/sh"), Err(Errno::Enoent));
    }
}
