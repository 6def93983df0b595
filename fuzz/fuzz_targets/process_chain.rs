//! Hostile guests against the request path: descriptor chains built in
//! guest memory (virtio-queue's mock queue), walked, parsed and run through
//! the kernel, with leak checks at the end. The input format is a script:
//! see `system_tests::fuzz` (tests/src/fuzz.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    system_tests::fuzz::process_chain(data);
});
