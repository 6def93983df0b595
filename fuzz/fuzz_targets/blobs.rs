//! SPAWN and GET_ARGS payload parsing: whatever parses must round-trip.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    system_tests::fuzz::parse_blobs(data);
});
