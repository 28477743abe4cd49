#![no_main]
//! libFuzzer entry of the `gossip_batch` target: see `mutu_tests::fuzz::gossip_batch`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mutu_tests::fuzz::gossip_batch::run(data));
