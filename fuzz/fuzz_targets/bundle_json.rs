#![no_main]
//! libFuzzer entry of the `bundle_json` target: see `mutu_tests::fuzz::bundle_json`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mutu_tests::fuzz::bundle_json::run(data));
