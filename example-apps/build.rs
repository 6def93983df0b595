//! Link arguments that turn the bins into bootable unikernel images: a
//! static, non-PIE ELF laid out by the runtime's linker script (which also
//! keeps the PVH entry note), without the host's C runtime.

fn main() {
    let script = std::env::var("DEP_UNIKERNEL_LINKER_SCRIPT")
        .expect("the unikernel crate publishes its linker script");
    for arg in [
        "-nostartfiles",
        "-nostdlib",
        "-static",
        "-no-pie",
        "-Wl,--build-id=none",
        "-Wl,-u,pvh_entry",
        &format!("-Wl,-T,{script}"),
    ] {
        println!("cargo:rustc-link-arg-bins={arg}");
    }
    println!("cargo:rerun-if-env-changed=DEP_UNIKERNEL_LINKER_SCRIPT");
}
