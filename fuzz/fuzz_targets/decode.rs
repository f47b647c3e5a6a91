//! Feeds arbitrary bytes to the packet decoder with every link type and
//! every first protocol; any panic (including a violated layer invariant)
//! is a bug. Seed it with `tests/corpus/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The library crate is named `_native` (the extension module's name).
    _native::packet::exercise(data);
});
