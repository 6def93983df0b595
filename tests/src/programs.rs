//! Where the end-to-end tests find their programs and the process kernel.

use std::path::PathBuf;

use crate::qemu::workspace;

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"))
}

/// The program directory: `target/programs` (built by
/// `example-apps/build`, which `scripts/test` runs first). Each test run
/// uses it as the tree's root: the programs find each other there.
pub fn dir() -> PathBuf {
    target_dir().join("programs")
}

/// The program `name`; panics with the command that builds it when missing.
pub fn program(name: &str) -> PathBuf {
    let p = dir().join(name);
    assert!(
        p.is_file(),
        "program {} is missing: run `sh example-apps/build` first",
        p.display()
    );
    p
}

/// The Linux test program `name` of `tests/linux/build` (`target/linux`);
/// panics with the command that builds it when missing.
pub fn linux(name: &str) -> PathBuf {
    let p = target_dir().join("linux").join(name);
    assert!(
        p.is_file(),
        "{} is missing: run `sh tests/linux/build` first",
        p.display()
    );
    p
}

/// The image directory of `guest-kernel/build-image`: `target/images`.
pub fn images() -> PathBuf {
    target_dir().join("images")
}

/// The process kernel every program's VM boots.
pub fn kernel() -> PathBuf {
    let p = images().join("guest-kernel");
    assert!(
        p.is_file(),
        "{} is missing: run `sh guest-kernel/build-image` first",
        p.display()
    );
    p
}
