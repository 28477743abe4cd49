#![no_main]
//! libFuzzer entry of the `admit` target: see `mutu_tests::fuzz::admit`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mutu_tests::fuzz::admit::run(data));
