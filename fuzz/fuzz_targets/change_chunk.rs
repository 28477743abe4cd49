#![no_main]
//! libFuzzer entry of the `change_chunk` target: see `mutu_tests::fuzz::change_chunk`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mutu_tests::fuzz::change_chunk::run(data));
