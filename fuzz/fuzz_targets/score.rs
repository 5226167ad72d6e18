//! Fuzz target `score`: the shared differential check (`xent_fuzz`, tests/check/) on inputs
//! decoded for `Target::Score`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    xent_fuzz::score(data);
});
