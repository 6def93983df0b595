//! Link arguments that make the `guest-kernel` bin a bootable PVH image: a
//! static, non-PIE ELF laid out by `link.ld` (which keeps the PVH entry
//! note and asserts that the image ends below 4 MiB), without the host's C
//! runtime. Only bins get them: the library's unit tests are ordinary host
//! programs.

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    for arg in [
        "-nostartfiles",
        "-nostdlib",
        "-static",
        "-no-pie",
        "-Wl,--build-id=none",
        "-Wl,-u,pvh_entry",
        &format!("-Wl,-T,{dir}/link.ld"),
    ] {
        println!("cargo:rustc-link-arg-bins={arg}");
    }
    println!("cargo:rerun-if-changed=link.ld");
}
