//! Build script: tells the crate whether it is compiled without optimisation.
//!
//! The SIMD kernels force inlining (`#[inline(always)]`) so that each monomorphised row
//! loop is one function whose vectors live in registers. At `opt-level = 0` LLVM keeps every
//! inlined local in its own stack slot (stack colouring, which reuses slots, runs only when
//! optimising), and the forced inlining then gave one dispatching function a 2.3 MiB frame
//! in an unoptimised `x86-64-v4` build: a test thread's 2 MiB stack overflowed. Under
//! `cfg(xent_opt0)` the kernels are not forced inline, so an unoptimised build's frames stay
//! small (`tests/stack.rs` checks them). Optimised builds are not affected, whatever their
//! `debug-assertions` setting.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(xent_opt0)");
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("OPT_LEVEL").as_deref() == Ok("0") {
        println!("cargo::rustc-cfg=xent_opt0");
    }
}
