//! Publishes the linker script to dependents (`DEP_UNIKERNEL_LINKER_SCRIPT`).

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:linker_script={dir}/link.ld");
    println!("cargo:include={dir}/include");
    println!("cargo:rerun-if-changed=link.ld");
    // Set by bin/unikernel-cc when it builds libunikernel.a: adds the panic handler.
    println!("cargo::rustc-check-cfg=cfg(unikernel_staticlib)");
}
