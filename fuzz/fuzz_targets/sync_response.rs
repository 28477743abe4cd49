#![no_main]
//! libFuzzer entry of the `sync_response` target: see `mutu_tests::fuzz::sync_response`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mutu_tests::fuzz::sync_response::run(data));
