//! Feeds arbitrary bytes to the pcapng block walk that follows libpcap for
//! a pcapng `Dumper` (`src/io/pcapng_read.rs`, built alone here); any panic
//! is a bug. Seed it with pcapng files.
#![no_main]

#[allow(dead_code)]
#[path = "../../../src/io/pcapng_read.rs"]
mod pcapng_read;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    pcapng_read::exercise(data);
});
