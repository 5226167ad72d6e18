//! The run-time dispatched `core::arch` backends of [`Vector`]: [`avx2::Avx2`] (AVX2, FMA,
//! F16C; 8 lanes) and [`avx512::Avx512`] (AVX-512 F/DQ/BW/VL; 16 lanes). Compiled in
//! every x86_64 build; the dispatcher (`simd/dispatch.rs`) selects one when
//! `crate::isa` reports its level and the build does not enable a level statically
//! (a static build runs the portable backend, which then compiles to that level).
//!
//! # Soundness
//!
//! A backend's methods call intrinsics that need its instruction set, from ordinary
//! functions (a trait method cannot carry `#[target_feature]`), so each call is an
//! `unsafe` block. One invariant makes them sound; every block refers to it:
//!
//! **A backend's vector methods run only on a CPU that has the backend's features and
//! whose OS saves their register state.**
//!
//! How the code keeps it:
//! - The backend types are `pub(crate)`, and no kernel names one: the kernels are generic
//!   over [`Vector`] and get a backend type only from the dispatcher.
//! - The dispatcher instantiates the kernels with a backend only in the arm of a `match`
//!   on [`crate::isa::active`], which returns a level only after CPUID and XGETBV
//!   reported all of its features and their OS support (`simd/detect.rs`), capped by
//!   [`crate::set_max_isa`], which can only lower it.
//! - Each arm runs the kernel inside the backend's entry point (`outlineN`, made by
//!   [`outline_target!`]), a `#[target_feature]` function: the vector methods, forced
//!   inline, compile to the level's instructions there. A method that is not inlined
//!   (unoptimised builds) still runs the same intrinsics, as calls: slower, not unsound.
//! - Tests create backend values only after `std::is_x86_feature_detected!` confirmed
//!   every feature (each backend's `detected`), and skip otherwise.
//!
//! The blocks whose intrinsic takes a pointer state its validity on their own.

// Static v3/v4 builds compile and test both backends but dispatch to the portable one.
#[cfg(target_arch = "x86_64")]
#[cfg_attr(xent_v3, allow(dead_code))]
pub(crate) mod avx2;
#[cfg(target_arch = "x86_64")]
#[cfg_attr(xent_v3, allow(dead_code))]
pub(crate) mod avx512;

#[cfg(any(doc, test))]
use super::vector::Vector;

/// `outlineN` of a dispatched backend: `f(args..)` in an `#[inline(never)]` function with
/// the target features `$features` (a string literal, as `#[target_feature]` takes it).
/// Used inside the backend's `impl Vector`, whose module doc states the invariant.
macro_rules! outline_target {
    ($features:literal, $name:ident($($a:ident: $t:ident),+)) => {
        #[cfg_attr(not(xent_opt0), inline(always))]
        #[allow(clippy::too_many_arguments)]
        fn $name<$($t,)+ R>($($a: $t,)+ f: impl FnOnce($($t),+) -> R) -> R {
            #[inline(never)]
            #[target_feature(enable = $features)]
            #[allow(clippy::too_many_arguments)]
            fn entry<$($t,)+ R>($($a: $t,)+ f: impl FnOnce($($t),+) -> R) -> R {
                f($($a),+)
            }
            // SAFETY: the backend's invariant (`simd/backend/mod.rs`, "Soundness"): the
            // dispatcher reaches this only where the CPU has `$features`, tests only after
            // detecting them.
            unsafe { entry($($a,)+ f) }
        }
    };
}
pub(crate) use outline_target;

/// `f()` inside `W`'s entry point: for tests and checks that call a backend's methods
/// directly (after detecting its features).
#[cfg(test)]
pub(crate) fn in_entry<W: Vector, R>(f: impl FnOnce() -> R) -> R {
    W::outline1(f, |f| f())
}

/// `W`'s f16 rounding against `half`'s (the portable backend's) on f32 bit patterns
/// spread over every exponent, the halfway points between f16 values, and the specials:
/// the same bits, NaN payloads included. Then the slice conversions, every length to 35.
/// Run inside `W`'s entry point.
#[cfg(test)]
pub(crate) fn check_f16_rounding<W: Vector>() {
    extern crate std;
    use half::f16;
    use std::vec::Vec;
    let halfway = (0..=u16::MAX).map(|h| f32::from_bits((f16::from_bits(h).to_f32().to_bits()) + (1 << 12)));
    let spread = (0..1u32 << 20).map(|i| f32::from_bits(i.wrapping_mul(4099)));
    // Sixteen, so that whole vectors of every backend hold them all.
    let specials = [
        0.0,
        -0.0,
        65504.0,
        65520.0,
        -65520.0,
        6e-8,
        3e-8,
        f32::NAN,
        f32::from_bits(0xff80_0001),
        f32::INFINITY,
        f32::NEG_INFINITY,
        6.1e-5,
        -3e-5,
        1e-10,
        1.0,
        -1.0,
    ];
    let all: Vec<f32> = halfway.chain(spread).chain(specials).collect();
    for (i, a) in W::split(&all).0.iter().enumerate() {
        let v = W::from_arr(a);
        let mut out = [f16::ZERO; 16];
        let n = W::LANES;
        let (halves, _) = W::split_f16_mut(&mut out[..n]);
        halves[0] = v.to_f16();
        for k in 0..n {
            let x = all[i * n + k];
            assert_eq!(out[k].to_bits(), f16::from_f32(x).to_bits(), "to_f16({x:e} = {:#010x})", x.to_bits());
        }
    }
    for len in 0..=35 {
        let src: Vec<f32> = (0..len).map(|i| (i as f32 - 17.3) * 1.37e-3).collect();
        let mut got = std::vec![f16::ZERO; len];
        W::narrow_f16(&src, &mut got);
        let want: Vec<f16> = src.iter().map(|&x| f16::from_f32(x)).collect();
        assert_eq!(got, want, "narrow_f16, length {len}");
        let mut back = std::vec![0.0f32; len];
        W::widen_f16(&want, &mut back);
        assert_eq!(back, want.iter().map(|h| h.to_f32()).collect::<Vec<_>>(), "widen_f16, length {len}");
    }
}
