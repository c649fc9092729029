//! Fuzz target `timestamps`: see `omega_fuzz::timestamps` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| omega_fuzz::timestamps(data));
