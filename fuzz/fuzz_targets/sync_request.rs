#![no_main]
//! libFuzzer entry of the `sync_request` target: see `mutu_tests::fuzz::sync_request`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mutu_tests::fuzz::sync_request::run(data));
