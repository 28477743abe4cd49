#![no_main]
//! libFuzzer entry of the `sync_roundtrip` target: see `mutu_tests::fuzz::sync_roundtrip`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mutu_tests::fuzz::sync_roundtrip::run(data));
