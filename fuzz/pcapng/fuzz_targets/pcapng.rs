//! Feeds arbitrary bytes to the pcapng block walk that follows libpcap for
//! a pcapng `Dumper` (`src/io/pcapng_blocks.rs` and the format numbers it
//! uses, built alone here); any panic is a bug. Seed it with pcapng files.
#![no_main]

#[allow(dead_code)]
#[path = "../../../src/io/format.rs"]
mod format;
#[allow(dead_code)]
#[path = "../../../src/io/pcapng_blocks.rs"]
mod pcapng_blocks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    pcapng_blocks::exercise(data);
});
