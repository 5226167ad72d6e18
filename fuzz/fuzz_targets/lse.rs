//! Fuzz target `lse`: the shared differential check (`xent_fuzz`, tests/check/) on inputs
//! decoded for `Target::Lse`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    xent_fuzz::lse(data);
});
