//! Fuzz target `csv_layout`: see `omega_fuzz::csv_layout` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| omega_fuzz::csv_layout(data));
