//! Fuzz target `nll`: the shared differential check (`xent_fuzz`, tests/check/) on inputs
//! decoded for `Target::Nll`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    xent_fuzz::nll(data);
});
