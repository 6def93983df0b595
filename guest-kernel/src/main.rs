//! The guest kernel image: everything is in the library; this file only
//! gives the final artifact its panic handler (see `runtime::panic`).

#![no_std]
#![no_main]

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    guest_kernel::runtime::panic(info)
}
