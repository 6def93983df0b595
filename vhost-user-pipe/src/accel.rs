//! Choosing the accelerator. `auto` uses KVM only where KVM runs guests at
//! hardware speed: on nested hosts `/dev/kvm` can be orders of magnitude
//! slower per guest exit than TCG. A short calibration boots a tiny
//! built-in kernel under KVM with a deadline; if it misses it, `auto` falls
//! back to TCG and says why in one line.

use std::fmt;
use std::fs::OpenOptions;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The accelerator option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accel {
    /// KVM where it is fast, else TCG.
    Auto,
    /// Always KVM.
    Kvm,
    /// Always TCG.
    Tcg,
}

impl fmt::Display for Accel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Accel::Auto => "auto",
            Accel::Kvm => "kvm",
            Accel::Tcg => "tcg",
        })
    }
}

/// How long the calibration kernel may take under KVM. At hardware speed
/// QEMU starts and runs it in well under this; here nested KVM takes seconds.
const CALIBRATION_DEADLINE: Duration = Duration::from_millis(1500);

/// Resolves `auto` to `kvm` or `tcg`.
pub fn resolve(accel: Accel, qemu: &Path) -> Accel {
    match accel {
        Accel::Kvm | Accel::Tcg => accel,
        Accel::Auto => {
            if OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/kvm")
                .is_err()
            {
                log::warn!("using TCG: /dev/kvm is not available");
                return Accel::Tcg;
            }
            match calibrate(qemu) {
                Ok(t) if t <= CALIBRATION_DEADLINE => Accel::Kvm,
                Ok(_) => {
                    log::warn!(
                        "using TCG: KVM did not run a trivial guest within {CALIBRATION_DEADLINE:?} \
                         (nested virtualization?)"
                    );
                    Accel::Tcg
                }
                Err(why) => {
                    log::warn!("using TCG: KVM calibration failed: {why}");
                    Accel::Tcg
                }
            }
        }
    }
}

/// Boots the calibration kernel under KVM; returns how long it took, or
/// the deadline when it did not finish in time.
fn calibrate(qemu: &Path) -> Result<Duration, String> {
    // A fresh file with a random name (never a predictable path in the
    // shared temp dir, where another user could have planted a symlink).
    let mut file = tempfile::Builder::new()
        .prefix("vhost-user-pipe-calibrate.")
        .suffix(".elf")
        .tempfile()
        .map_err(|e| e.to_string())?;
    std::io::Write::write_all(&mut file, &calibration_kernel()).map_err(|e| e.to_string())?;
    let path = file.path().to_owned();
    let start = Instant::now();
    let mut child = Command::new(qemu)
        .args([
            "-M",
            "microvm",
            "-accel",
            "kvm",
            "-m",
            "16M",
            "-display",
            "none",
            "-nodefaults",
            "-no-reboot",
        ])
        .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-kernel"])
        .arg(&path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let result = loop {
        match child.try_wait() {
            Ok(Some(_)) => break Ok(start.elapsed()),
            Ok(None) if start.elapsed() > CALIBRATION_DEADLINE => {
                let _ = child.kill();
                let _ = child.wait();
                break Ok(start.elapsed());
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => break Err(e.to_string()),
        }
    };
    drop(file);
    result
}

/// A minimal PVH ELF: 32-bit code at 1 MiB that spins a million times and
/// writes to isa-debug-exit.
pub fn calibration_kernel() -> Vec<u8> {
    const LOAD: u32 = 0x10_0000;
    const EHDR: usize = 64;
    const PHDR: usize = 56;
    let code: &[u8] = &[
        0xb9, 0x40, 0x42, 0x0f, 0x00, // mov ecx, 1000000
        0x49, // dec ecx
        0x75, 0xfd, // jnz -3
        0xb0, 0x00, // mov al, 0
        0xe6, 0xf4, // out 0xf4, al   (isa-debug-exit)
        0xf4, // hlt
        0xeb, 0xfd, // jmp -3
    ];
    // PVH note: namesz 4 "Xen\0", descsz 4, type 18 (XEN_ELFNOTE_PHYS32_ENTRY).
    let mut note = Vec::new();
    note.extend_from_slice(&4u32.to_le_bytes());
    note.extend_from_slice(&4u32.to_le_bytes());
    note.extend_from_slice(&18u32.to_le_bytes());
    note.extend_from_slice(b"Xen\0");
    note.extend_from_slice(&LOAD.to_le_bytes());
    let code_off = EHDR + 2 * PHDR;
    let note_off = code_off + code.len();
    let mut elf = Vec::new();
    elf.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    elf.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    elf.extend_from_slice(&62u16.to_le_bytes()); // EM_X86_64
    elf.extend_from_slice(&1u32.to_le_bytes());
    elf.extend_from_slice(&(LOAD as u64).to_le_bytes()); // e_entry
    elf.extend_from_slice(&(EHDR as u64).to_le_bytes()); // e_phoff
    elf.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
    elf.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    elf.extend_from_slice(&(EHDR as u16).to_le_bytes());
    elf.extend_from_slice(&(PHDR as u16).to_le_bytes());
    elf.extend_from_slice(&2u16.to_le_bytes()); // e_phnum
    elf.extend_from_slice(&[0; 6]); // shentsize, shnum, shstrndx
    let phdr = |ty: u32, flags: u32, off: usize, addr: u64, len: usize| {
        let mut p = Vec::new();
        p.extend_from_slice(&ty.to_le_bytes());
        p.extend_from_slice(&flags.to_le_bytes());
        p.extend_from_slice(&(off as u64).to_le_bytes());
        p.extend_from_slice(&addr.to_le_bytes());
        p.extend_from_slice(&addr.to_le_bytes());
        p.extend_from_slice(&(len as u64).to_le_bytes());
        p.extend_from_slice(&(len as u64).to_le_bytes());
        p.extend_from_slice(&4u64.to_le_bytes());
        p
    };
    elf.extend(phdr(1, 5, code_off, LOAD as u64, code.len())); // PT_LOAD, R+X
    elf.extend(phdr(4, 4, note_off, 0, note.len())); // PT_NOTE
    elf.extend_from_slice(code);
    elf.extend_from_slice(&note);
    elf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_accelerators_are_kept() {
        assert_eq!(resolve(Accel::Tcg, Path::new("qemu")), Accel::Tcg);
        assert_eq!(resolve(Accel::Kvm, Path::new("qemu")), Accel::Kvm);
    }

    #[test]
    fn calibration_kernel_is_an_elf_with_a_pvh_note() {
        let k = calibration_kernel();
        assert_eq!(&k[..4], b"\x7fELF");
        assert!(k.windows(4).any(|w| w == b"Xen\0"));
    }
}
