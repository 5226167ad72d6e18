//! Fuzz target `ce_class`: the shared differential check (`xent_fuzz`, tests/check/) on inputs
//! decoded for `Target::CeClass`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    xent_fuzz::ce_class(data);
});
