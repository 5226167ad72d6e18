//! Fuzz target `ce_probs`: the shared differential check (`xent_fuzz`, tests/check/) on inputs
//! decoded for `Target::Probs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    xent_fuzz::ce_probs(data);
});
