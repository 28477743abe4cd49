#![no_main]
//! libFuzzer entry of the `record_cbor` target: see `mutu_tests::fuzz::record_cbor`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mutu_tests::fuzz::record_cbor::run(data));
