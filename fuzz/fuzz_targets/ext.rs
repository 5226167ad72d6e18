//! Fuzz target `ext`: the shared differential check (tests/check/mod.rs) on inputs
//! decoded for `Target::Ext`.
#![no_main]

#[path = "../../tests/check/mod.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    check::fuzz(check::Target::Ext, data);
});
