//! Fuzz target `bce_logits`: the shared differential check (`xent_fuzz`, tests/check/) on inputs
//! decoded for `Target::BceLogits`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    xent_fuzz::bce_logits(data);
});
