//! Feeds arbitrary bytes to the pcapng block reader that follows libpcap
//! for a pcapng `Dumper` (`src/io/pcapng_read.rs`); any panic is a bug.
//! Seed it with pcapng files (`make fuzz-pcapng`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    _native::exercise_pcapng(data);
});
