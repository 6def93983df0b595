//! Hostile guests against the request path: descriptor chains built in
//! guest memory (virtio-queue's mock queue), walked, parsed and run through
//! the kernel, with leak checks at the end. The input format is a script:
//! see `vhost_user_pipe::fuzzing`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    vhost_user_pipe::fuzzing::process_chain(data);
});
