//! Fuzz target `bce`: the shared differential check (tests/check/mod.rs) on inputs
//! decoded for `Target::Bce`.
#![no_main]

#[path = "../../tests/check/mod.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    check::fuzz(check::Target::Bce, data);
});
