//! Where the guest images are, for the end-to-end tests.

use std::path::PathBuf;

use crate::qemu::workspace;

/// The image directory: `$VUP_IMAGES`, else `target/images`
/// (built by `unikernel/build-images`, which `scripts/test` runs first).
pub fn dir() -> PathBuf {
    match std::env::var_os("VUP_IMAGES") {
        Some(d) => PathBuf::from(d),
        None => std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace().join("target"))
            .join("images"),
    }
}

/// The image `name`; panics with the command that builds it when missing.
pub fn image(name: &str) -> PathBuf {
    let p = dir().join(name);
    assert!(
        p.is_file(),
        "guest image {} is missing: run `sh unikernel/build-images` first",
        p.display()
    );
    p
}
