//! Finding QEMU and telling which configuration its version needs.

use std::path::{Path, PathBuf};
use std::process::Command;

use thiserror::Error;

/// The command that installs a suitable QEMU on Debian bookworm.
pub const INSTALL_HINT: &str =
    "install QEMU 9.0 or later, e.g. on Debian bookworm: sudo bash .ci/install-qemu \
     (which runs: apt-get install -t bookworm-backports qemu-system-x86)";

/// A QEMU that cannot be used.
#[derive(Debug, Error)]
pub enum QemuError {
    /// The binary is not there.
    #[error("QEMU binary '{0}' not found; {INSTALL_HINT}")]
    NotFound(PathBuf),
    /// `--version` printed something unexpected.
    #[error("cannot tell the version of '{0}' from: {1:?}")]
    UnknownVersion(PathBuf, String),
    /// Older than 9.0.
    #[error("QEMU {0}.{1} at '{2}' is too old (9.0 or later is needed); {INSTALL_HINT}")]
    TooOld(u32, u32, PathBuf),
    /// None of the firmware files is in QEMU's data directories.
    #[error("none of {0:?} is in the data directories of '{1}' ({2:?}); install qemu-system-data")]
    NoFirmware(&'static [&'static str], PathBuf, Vec<PathBuf>),
}

/// A QEMU version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u32, pub u32);

/// Parses the first line of `qemu-system-x86_64 --version`.
pub fn parse_version(text: &str) -> Option<Version> {
    let rest = text.split("version ").nth(1)?;
    let mut nums = rest
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty());
    Some(Version(
        nums.next()?.parse().ok()?,
        nums.next()?.parse().ok()?,
    ))
}

/// Runs `qemu --version` and checks it.
pub fn probe(qemu: &Path) -> Result<Version, QemuError> {
    let out = Command::new(qemu)
        .arg("--version")
        .output()
        .map_err(|_| QemuError::NotFound(qemu.to_owned()))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let v = parse_version(&text)
        .ok_or_else(|| QemuError::UnknownVersion(qemu.to_owned(), text.clone()))?;
    if v < Version(9, 0) {
        return Err(QemuError::TooOld(v.0, v.1, qemu.to_owned()));
    }
    Ok(v)
}

/// The QEMU configuration the launcher renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Machine {
    /// microvm with the vhost-user-gpio carrier on virtio-mmio (QEMU 9.0 - 10.1).
    MicrovmCarrier,
    /// microvm with the generic vhost-user-test-device (QEMU 10.2+).
    MicrovmGeneric,
    /// q35 with the vhost-user-gpio-pci carrier.
    Q35Carrier,
}

impl Machine {
    /// The firmware files this machine boots, in order of preference:
    /// qboot reaches the PVH entry ~20 ms sooner than SeaBIOS under TCG.
    pub fn firmware_names(self) -> &'static [&'static str] {
        match self {
            Machine::MicrovmCarrier | Machine::MicrovmGeneric => &["qboot.rom", "bios-microvm.bin"],
            Machine::Q35Carrier => &["bios-256k.bin"],
        }
    }

    /// The template text, from `qemu-configs/`.
    pub fn template(self) -> &'static str {
        match self {
            Machine::MicrovmCarrier => include_str!("../../qemu-configs/microvm-carrier.args"),
            Machine::MicrovmGeneric => include_str!("../../qemu-configs/microvm-generic.args"),
            Machine::Q35Carrier => include_str!("../../qemu-configs/q35-carrier.args"),
        }
    }
}

/// QEMU's data directories, as `qemu -L help` lists them.
pub fn data_dirs(qemu: &Path) -> Vec<PathBuf> {
    Command::new(qemu)
        .args(["-L", "help"])
        .output()
        .map(|o| parse_data_dirs(&String::from_utf8_lossy(&o.stdout)))
        .unwrap_or_default()
}

fn parse_data_dirs(text: &str) -> Vec<PathBuf> {
    text.lines()
        .map(str::trim)
        .filter(|l| l.starts_with('/'))
        .map(PathBuf::from)
        .collect()
}

/// The absolute path of the first of `names` found in QEMU's data
/// directories. Passing QEMU a bare name would make it look in its working
/// directory first, where a file of that name would replace every guest's
/// firmware.
pub fn firmware(qemu: &Path, names: &'static [&'static str]) -> Result<PathBuf, QemuError> {
    let dirs = data_dirs(qemu);
    names
        .iter()
        .flat_map(|n| dirs.iter().map(move |d| d.join(n)))
        .find(|p| p.is_file())
        .ok_or_else(|| QemuError::NoFirmware(names, qemu.to_owned(), dirs.clone()))
}

/// The microvm configuration for a version: the generic device from 10.2
/// on, the vhost-user-gpio carrier before.
pub fn machine_for(v: Version) -> Machine {
    if v >= Version(10, 2) {
        Machine::MicrovmGeneric
    } else {
        Machine::MicrovmCarrier
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_backports_version_line_parses() {
        let v =
            parse_version("QEMU emulator version 10.0.2 (Debian 1:10.0.2+ds-2+deb13u1~bpo12+1)\n");
        assert_eq!(v, Some(Version(10, 0)));
    }

    #[test]
    fn carrier_before_10_2_and_generic_after() {
        assert_eq!(machine_for(Version(10, 0)), Machine::MicrovmCarrier);
        assert_eq!(machine_for(Version(10, 1)), Machine::MicrovmCarrier);
        assert_eq!(machine_for(Version(10, 2)), Machine::MicrovmGeneric);
        assert_eq!(machine_for(Version(11, 0)), Machine::MicrovmGeneric);
    }

    #[test]
    fn missing_binary_names_the_install_hint() {
        let e = probe(Path::new("/nonexistent/qemu")).unwrap_err();
        assert!(e.to_string().contains("bookworm-backports"), "{e}");
    }

    #[test]
    fn data_directories_are_the_absolute_paths_listed() {
        let dirs = parse_data_dirs("/usr/share/qemu\n/usr/share/seabios\n\nnoise\n");
        assert_eq!(
            dirs,
            vec![
                PathBuf::from("/usr/share/qemu"),
                "/usr/share/seabios".into()
            ]
        );
    }

    #[test]
    fn garbage_is_an_unknown_version() {
        assert_eq!(parse_version("hello"), None);
    }
}
