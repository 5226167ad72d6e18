//! Build script: two cfgs for the crate.
//!
//! - `xent_opt0`: compiled without optimisation. The SIMD kernels force inlining
//!   (`#[inline(always)]`) so that each monomorphised row loop is one function whose vectors
//!   live in registers; at `opt-level = 0` LLVM keeps every inlined local in its own stack
//!   slot, and one dispatching function of an unoptimised `x86-64-v4` build had a 2.3 MiB
//!   frame (a test thread's stack is 2 MiB). Under `xent_opt0` the kernels are not forced
//!   inline; `tests/no_alloc.rs` checks the frames of such a build.
//! - `xent_f16c`: x86_64 with F16C enabled at compile time (the F16C widening of f16
//!   inputs), short for `all(target_arch = "x86_64", target_feature = "f16c")`.
//! - `xent_v3`: x86_64 with AVX2, FMA and F16C all enabled at compile time (the
//!   x86-64-v3 set the AVX2 level needs): the instruction set is then fixed at
//!   `Isa::Avx2` or above, with no run-time detection.
//! - `xent_v4`: `xent_v3` plus AVX-512 F, DQ, BW and VL (the x86-64-v4 set): the
//!   instruction set is `Isa::Avx512`, with no run-time detection.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(xent_opt0)");
    println!("cargo::rustc-check-cfg=cfg(xent_f16c)");
    println!("cargo::rustc-check-cfg=cfg(xent_v3)");
    println!("cargo::rustc-check-cfg=cfg(xent_v4)");
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("OPT_LEVEL").as_deref() == Ok("0") {
        println!("cargo::rustc-cfg=xent_opt0");
    }
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let features = std::env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
    let has = |f: &str| arch == "x86_64" && features.split(',').any(|g| g == f);
    if has("f16c") {
        println!("cargo::rustc-cfg=xent_f16c");
    }
    let v3 = ["avx2", "fma", "f16c"].into_iter().all(has);
    if v3 {
        println!("cargo::rustc-cfg=xent_v3");
    }
    if v3 && ["avx512f", "avx512dq", "avx512bw", "avx512vl"].into_iter().all(has) {
        println!("cargo::rustc-cfg=xent_v4");
    }
}
