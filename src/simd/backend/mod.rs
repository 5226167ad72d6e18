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

#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2;
#[cfg(target_arch = "x86_64")]
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
