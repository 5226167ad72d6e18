//! The small set of vector operations every SIMD kernel is written against.
//!
//! The kernels in `simd/kernels/` are generic over [`Vector`]. Three backends implement
//! it: [`wide_impl`] for `wide::f32x8` and `wide::f32x16` (the portable backend; [`V`] is
//! the width the build uses: 16 lanes when AVX-512F is enabled at compile time, 8
//! otherwise, which `wide` lowers to AVX2, two SSE2 or NEON registers, or arrays), and the
//! run-time dispatched `core::arch` backends in `simd/backend/` (AVX2, AVX-512). What
//! differs between backends is a method or an associated constant here, never a `cfg` in
//! a kernel.
//!
//! The transcendental functions here have stated bounds, swept against f64 by the unit
//! tests at the end of this file:
//! - [`Vector::exp_le0`] on `[-87.3, 0]`: at most 2 ULP (Cody-Waite reduction, a degree-6
//!   minimax polynomial; the sweep measures 0.88 ULP with FMA, 1.13 without); exactly 0
//!   below -87.3 and for `-inf`; NaN in, NaN out.
//! - [`Vector::exp_parts_sum`] and [`Vector::exp_le0_fast`], the hot loops' exp (the terms
//!   of a log-sum-exp, the probabilities of a gradient): two FMAs cheaper (one-constant
//!   reduction with FMA, a degree-5 polynomial; with AVX2 and FMA a reduction by eighths
//!   of `ln 2`, a table of `2^(j/8)` and a cubic), within `(2 + |n| / 60) eps` relative,
//!   `n = round(t / ln 2)`; the sweep measures 0.80 of that (table, v3 and v4; 0.72 with
//!   the polynomial) and a sum of `2^20` equal terms plus 1 within 1.51 eps. The terms the `|n|` part concerns are each below
//!   `2^-30` of the largest; where they dominate a sum, it is `ln C` terms deep, inside the
//!   `ln C` share of the documented log-sum-exp bound.
//! - [`Vector::ln_fast`] (Cephes' `logf` polynomial, the one `wide`'s `ln` uses, without
//!   special-case branches): at most 2 ULP on normal numbers; `ln 0 = -inf`.
//! - [`Vector::log1p_unit`]: at most 2 ULP on `[0, 1]` (a polynomial, no log, no division).
//! - [`Vector::tanh_sech2`] (soft-capping): `tanh` and `1 - tanh^2`, each within a relative
//!   error of 4 eps (`1 - tanh^2` without cancellation, down to its flush at `|y| > 43.6`).

use core::ops::{Add, BitAnd, BitOr, Div, Mul, Neg, Sub};
use half::f16;
#[cfg(not(target_feature = "avx512f"))]
use wide::f32x8;
#[cfg(target_feature = "avx512f")]
use wide::f32x16;

#[cfg(test)]
mod tests;
mod wide_impl;

/// `$w::outlineN(args.., f)`: `$f(args..)` (a kernel function, the arguments plain
/// names) in a function of its own, compiled for the backend `$w`'s instruction set: the
/// out-of-line kernels (`#[inline(never)]` on the portable backend and static builds)
/// and the entry points of the dispatched backends, whose vector methods are inlined
/// only into functions with their target features (`simd/backend/mod.rs`). The
/// arguments are the function's own parameters, not a closure's captures: a slice
/// reached through a closure's environment loses its `noalias`, and the loops with it
/// (the binary losses took 13-25% more instructions).
macro_rules! outline {
    ($w:ty, $f:path, ($($a:ident),+ $(,)?)) => {
        $crate::simd::vector::outline!(@n $w, $f, ($($a),+), ($($a),+))
    };
    (@n $w:ty, $f:path, ($a:ident), $all:tt) => { <$w>::outline1($a, $crate::simd::vector::outline!(@f $f, $all)) };
    (@n $w:ty, $f:path, ($a:ident, $b:ident), $all:tt) => {
        <$w>::outline2($a, $b, $crate::simd::vector::outline!(@f $f, $all))
    };
    (@n $w:ty, $f:path, ($a:ident, $b:ident, $c:ident), $all:tt) => {
        <$w>::outline3($a, $b, $c, $crate::simd::vector::outline!(@f $f, $all))
    };
    (@n $w:ty, $f:path, ($a:ident, $b:ident, $c:ident, $d:ident), $all:tt) => {
        <$w>::outline4($a, $b, $c, $d, $crate::simd::vector::outline!(@f $f, $all))
    };
    (@n $w:ty, $f:path, ($a:ident, $b:ident, $c:ident, $d:ident, $e:ident), $all:tt) => {
        <$w>::outline5($a, $b, $c, $d, $e, $crate::simd::vector::outline!(@f $f, $all))
    };
    (@n $w:ty, $f:path, ($a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $g:ident), $all:tt) => {
        <$w>::outline6($a, $b, $c, $d, $e, $g, $crate::simd::vector::outline!(@f $f, $all))
    };
    (@n $w:ty, $f:path, ($a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $g:ident, $h:ident), $all:tt) => {
        <$w>::outline7($a, $b, $c, $d, $e, $g, $h, $crate::simd::vector::outline!(@f $f, $all))
    };
    (@n $w:ty, $f:path, ($a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $g:ident, $h:ident, $k:ident), $all:tt) => {
        <$w>::outline8($a, $b, $c, $d, $e, $g, $h, $k, $crate::simd::vector::outline!(@f $f, $all))
    };
    (@f $f:path, ($($a:ident),+)) => {
        #[cfg_attr(not(xent_opt0), inline(always))]
        |$($a),+| $f($($a),+)
    };
}
pub(crate) use outline;

/// A closure in a `let`, forced inline (where not `xent_opt0`): every closure of a kernel
/// must be inlined into the backend's entry point to compile to its instructions (a
/// closure left out of line is compiled without them; its vector methods become calls).
/// A closure passed as an argument carries the attribute itself; in a `let` that is not
/// yet stable, hence this wrapper.
macro_rules! always {
    (move || $($body:tt)*) => {
        $crate::simd::vector::inlined(#[cfg_attr(not(xent_opt0), inline(always))] move || $($body)*)
    };
    (|| $($body:tt)*) => {
        $crate::simd::vector::inlined(#[cfg_attr(not(xent_opt0), inline(always))] || $($body)*)
    };
    (move |$($p:tt)*) => {
        $crate::simd::vector::inlined(#[cfg_attr(not(xent_opt0), inline(always))] move |$($p)*)
    };
    (|$($p:tt)*) => {
        $crate::simd::vector::inlined(#[cfg_attr(not(xent_opt0), inline(always))] |$($p)*)
    };
}
pub(crate) use always;

/// `f` itself: see [`always!`].
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn inlined<F>(f: F) -> F {
    f
}

/// `$m!($pre.., name(a: A, ..))` for each arity of [`outline!`].
macro_rules! outline_arities {
    ($m:ident $(, $pre:tt)*) => {
        $m!($($pre,)* outline1(a: A));
        $m!($($pre,)* outline2(a: A, b: B));
        $m!($($pre,)* outline3(a: A, b: B, c: C));
        $m!($($pre,)* outline4(a: A, b: B, c: C, d: D));
        $m!($($pre,)* outline5(a: A, b: B, c: C, d: D, e: E));
        $m!($($pre,)* outline6(a: A, b: B, c: C, d: D, e: E, g: G));
        $m!($($pre,)* outline7(a: A, b: B, c: C, d: D, e: E, g: G, h: H));
        $m!($($pre,)* outline8(a: A, b: B, c: C, d: D, e: E, g: G, h: H, k: K));
    };
}
pub(crate) use outline_arities;

/// The declaration of one `outlineN` in [`Vector`].
macro_rules! outline_decl {
    ($name:ident($($a:ident: $t:ident),+)) => {
        /// `f(args..)` in a function of its own for this backend (see [`outline!`]).
        /// (Static builds call some arities only from the dispatched arms they drop.)
        #[allow(clippy::too_many_arguments)]
        #[cfg_attr(xent_v3, allow(dead_code))]
        fn $name<$($t,)+ R>($($a: $t,)+ f: impl FnOnce($($t),+) -> R) -> R;
    };
}

/// `outlineN` of the portable backend and of static builds: a plain out-of-line function.
macro_rules! outline_plain {
    ($name:ident($($a:ident: $t:ident),+)) => {
        #[inline(never)]
        fn $name<$($t,)+ R>($($a: $t,)+ f: impl FnOnce($($t),+) -> R) -> R {
            f($($a),+)
        }
    };
}
pub(crate) use outline_plain;

/// A vector of `LANES` f32 lanes. Masks are vectors whose lanes are all-ones or all-zeros.
pub(crate) trait Vector:
    Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + BitAnd<Output = Self>
    + BitOr<Output = Self>
{
    /// Number of f32 lanes.
    const LANES: usize;
    /// Whether the row kernel takes a block in one sweep (exps relative to the running
    /// maximum, the block's own maximum tracked on the side) rather than two (maximum,
    /// then exps). The sweep's exp constants, accumulators and maximum fit AVX-512's 32
    /// registers; with f32x8 on AVX2's 16 they spilled (more instructions, no time
    /// gained), so the 8-lane build keeps two sweeps.
    const ONE_SWEEP: bool;
    /// Whether [`Vector::clamp_exp_arg`] is one instruction (16 lanes with AVX-512DQ), as
    /// cheap as the lower clamp alone: then an exp of the sums' form can be finite and at
    /// least `e^4` for any `t > 4`, `+inf` included, for free, a block's lane sums show
    /// whether a term passed `e^4`, and the row sweep needs no maximum on the way
    /// (`BlockLse::feed` in `simd/kernels/rows/feed.rs`).
    const CLAMPS_HIGH: bool;
    /// Whether [`Vector::mul_add`] is one fused instruction (the one-constant reductions
    /// need the unrounded product).
    const FMA: bool;
    /// Whether [`Vector::exp_parts_sum`] takes the eighths table
    /// ([`Vector::pow2_eighths_of_magic`]; a full-width variable permute, AVX2 and up).
    const TABLE_EXP: bool;
    /// Whether [`Vector::from_f16`] widens in registers (F16C): then the f16 row sweeps
    /// read f16 vectors directly, with no stack buffer between.
    const F16_IN_REGS: bool;
    /// Whether the backend runs inside a `#[target_feature]` entry point, where a closure
    /// left out of line loses the backend's instructions: a kernel whose closure LLVM
    /// would leave out of line, and whose forced inlining costs the portable backend
    /// (the row gradient's), forces it only here.
    const ENTRY: bool;
    /// Eight f32 lanes of this backend (the small-C tile's 8x8 transposes).
    type Eights: Eights;
    /// `[f32; LANES]`.
    type Arr: Copy;
    /// `s` as whole vectors and a tail shorter than one (`slice::as_chunks`): the hot
    /// loops iterate these, with no bounds checks and no padding branch.
    fn split(s: &[f32]) -> (&[Self::Arr], &[f32]);
    /// `s` as whole vectors and a tail, mutably.
    fn split_mut(s: &mut [f32]) -> (&mut [Self::Arr], &mut [f32]);
    /// The vector of an array.
    fn from_arr(a: &Self::Arr) -> Self;
    /// `[f16; LANES]`.
    type Halves: Copy;
    /// `s` as whole vectors of f16 and a tail shorter than one.
    fn split_f16(s: &[f16]) -> (&[Self::Halves], &[f16]);
    /// The vector of `LANES` f16 values, widened (exactly): in registers (`vcvtph2ps`)
    /// where [`Vector::F16_IN_REGS`], the f16 row sweep's load; lane by lane elsewhere.
    fn from_f16(a: &Self::Halves) -> Self;
    /// The lanes rounded to f16, to nearest-even (`vcvtps2ph` on the x86 backends; NaN
    /// stays NaN, its payload truncated, as `half` rounds).
    fn to_f16(self) -> Self::Halves;
    /// Widens `src` into `dst` (equal lengths, exactly): whole vectors by
    /// [`Vector::from_f16`]. The portable backend takes `half`'s slice conversion instead,
    /// whose F16C use is fixed when the build is compiled.
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn widen_f16(src: &[f16], dst: &mut [f32]) {
        let (hv, ht) = Self::split_f16(src);
        let (dv, dt) = Self::split_mut(dst);
        for (d, h) in dv.iter_mut().zip(hv) {
            *d = Self::from_f16(h).to_arr();
        }
        for (d, h) in dt.iter_mut().zip(ht) {
            *d = h.to_f32();
        }
    }
    /// Rounds `src` into `dst` (equal lengths) to nearest-even: whole vectors by
    /// [`Vector::to_f16`] (the portable backend: `half`'s slice conversion).
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn narrow_f16(src: &[f32], dst: &mut [f16]) {
        let (sv, st) = Self::split(src);
        let (dv, dt) = Self::split_f16_mut(dst);
        for (d, s) in dv.iter_mut().zip(sv) {
            *d = Self::from_arr(s).to_f16();
        }
        for (d, s) in dt.iter_mut().zip(st) {
            *d = f16::from_f32(*s);
        }
    }
    /// `s` as whole vectors of f16 and a tail shorter than one, mutably.
    fn split_f16_mut(s: &mut [f16]) -> (&mut [Self::Halves], &mut [f16]);
    /// The vector of `LANES / 8` consecutive 8-lane vectors, `e[0]` in the low lanes, in
    /// registers (the small-C tile's columns, built from 8x8 transposes: through memory,
    /// a 16-lane load of two 8-lane stores waited for them, store forwarding failing).
    fn from_eights(e: &[Self::Eights]) -> Self;
    /// The array of a vector.
    fn to_arr(self) -> Self::Arr;
    /// All lanes `v`.
    fn splat(v: f32) -> Self;
    /// The first `LANES` values of `s` (`s.len() >= LANES`; shorter slices are padded with
    /// `pad`, which never happens on the hot path).
    fn load_or(s: &[f32], pad: f32) -> Self;
    /// Writes the lanes into the first `LANES` values of `s` (fewer if `s` is shorter).
    fn store(self, s: &mut [f32]);
    /// Writes the lanes to `o` with a non-temporal store where the build has one and `o`
    /// is aligned to the vector's size (an ordinary store otherwise); see [`stream_fence`].
    ///
    /// [`stream_fence`]: super::arch::stream_fence
    fn stream(self, o: &mut Self::Arr);
    /// Orders the [`Vector::stream`] stores before it before every store after it
    /// (`sfence` where streams are non-temporal; nothing elsewhere).
    fn stream_fence();
    // `outline1` .. `outline8`: `f(a, ..)` in a function of its own, compiled for this
    // backend's instruction set (see [`outline!`]).
    outline_arities!(outline_decl);
    /// `self * a + b`, fused where the build has FMA.
    fn mul_add(self, a: Self, b: Self) -> Self;
    /// Lane-wise maximum; NaN in `b` propagates (`max(a, NaN) = NaN`), NaN in `a` does not.
    fn max_nan_b(a: Self, b: Self) -> Self;
    /// `t` clamped to `[-87.3, 87.3]`, the argument of a sum's exp
    /// ([`Vector::exp_parts_sum`]) whose every term must be finite: one instruction where
    /// [`Vector::CLAMPS_HIGH`] (`vrangeps`, `arch::clamp_abs16`),
    /// which takes a quiet NaN for missing (it gives 87.3); two elsewhere, NaN kept.
    fn clamp_exp_arg(self) -> Self;
    /// Lane-wise minimum with the same NaN rule.
    fn min_nan_b(a: Self, b: Self) -> Self;
    /// `|self|`.
    fn abs(self) -> Self;
    /// Mask of `self > o`.
    fn gt(self, o: Self) -> Self;
    /// Mask of `self >= o`.
    fn ge(self, o: Self) -> Self;
    /// Mask of `self < o`.
    fn lt(self, o: Self) -> Self;
    /// Mask of `self == o`.
    fn eq(self, o: Self) -> Self;
    /// Lanes of `t` where `mask`, else of `f`.
    fn select(mask: Self, t: Self, f: Self) -> Self;
    /// `2^n` where `self = n + 127 + 1.5 * 2^23` was rounded by that addition and `n` is in
    /// `[-126, 127]`: the bits `bits(self) << 23` (the low mantissa bits hold the biased
    /// exponent `n + 127`; the constant's other bits shift out).
    fn pow2_of_magic(self) -> Self;
    /// `2^(n + j/8)` where `self = 8 n + j + 8 * 127 + 1.5 * 2^23` (`j` in `0..8`) was
    /// rounded by that addition and `n` is in `[-126, 127]`: `2^(j/8)` from an 8-entry
    /// table indexed by the low 3 bits of `bits(self)`, times `2^n` by an integer add into
    /// its exponent field (`bits(self) << 20` holds `n + 127` there and `j` below it, which
    /// the table entries have subtracted in advance). A lane permute, a shift and an add:
    /// for backends with a full-width variable permute (AVX2, AVX-512; see
    /// [`Vector::TABLE_EXP`]; elsewhere a lane-by-lane lookup nothing calls on a hot path).
    fn pow2_eighths_of_magic(self) -> Self;
    /// Sum of the lanes.
    fn reduce_add(self) -> f32;
    /// The lanes as an array-backed slice, for scalar post-processing.
    fn to_lanes(self, out: &mut [f32]);
    /// Whether every lane of a mask is set.
    fn all_set(self) -> bool;
    /// `(m, e)` with `self = m * 2^e`, `m` in `[0.5, 1)`, for positive normal `self`
    /// (exponent-field arithmetic; `e` as a float).
    fn frexp(self) -> (Self, Self);

    /// `ln(x)` for positive normal `x` and `ln 0 = -inf`, with no special-case branches:
    /// Cephes' `logf` (the polynomial `wide` uses too), at most 2 ULP.
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn ln_fast(self) -> Self {
        const P: [f32; 9] = [
            0.333_333_3,
            -2.499_999_4e-1,
            2.000_071_4e-1,
            -1.666_805_8e-1,
            1.424_932_3e-1,
            -1.242_014_1e-1,
            1.167_699_9e-1,
            -1.151_461e-1,
            7.037_683_6e-2,
        ];
        let one = Self::splat(1.0);
        let (m, e) = self.frexp();
        let small = m.lt(Self::splat(core::f32::consts::FRAC_1_SQRT_2));
        let e = e - (small & one);
        let x = Self::select(small, m + m, m) - one;
        // Estrin's scheme: four dependent FMAs instead of Horner's eight, for callers
        // (a column kernel's per-position `ln`) whose critical path runs through it.
        let c = |i: usize| Self::splat(P[i]);
        let x2 = x * x;
        let x4 = x2 * x2;
        let r0 = c(3).mul_add(x, c(2)).mul_add(x2, c(1).mul_add(x, c(0)));
        let r1 = c(7).mul_add(x, c(6)).mul_add(x2, c(5).mul_add(x, c(4)));
        let p = (x4 * x4).mul_add(c(8), r1.mul_add(x4, r0));
        let r = (x2 * x) * p;
        let r = e.mul_add(Self::splat(-2.121_944_4e-4), r);
        let r = r + Self::splat(-0.5).mul_add(x2, x);
        let r = e.mul_add(Self::splat(0.693_359_4), r);
        Self::select(self.eq(Self::splat(0.0)), Self::splat(f32::NEG_INFINITY), r)
    }

    /// `exp(t)` for `t <= 0` (a few ULP above 0 are fine): 0 below -87.3 and at `-inf`, NaN
    /// for NaN. The hot-loop exp.
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn exp_le0(self) -> Self {
        let lo = Self::splat(-87.3);
        let t = Self::max_nan_b(lo, self);
        Self::select(self.lt(lo), Self::splat(0.0), t.exp_core())
    }

    /// `exp(t) - 1` for `t <= 0` (a few ULP above 0 are fine), `-1` at `-inf`, NaN for NaN:
    /// below `|t| = 1/2` `t + t^2 P(t)`, `P` the Taylor polynomial of degree 6 (truncated
    /// `1.4e-8` relative at `-1/2`), so `p_t -> 1` keeps its relative precision; elsewhere
    /// [`Vector::exp_le0`] minus 1. Within 2 ULP (unit sweep: 1.3): the gradient's target slot of
    /// many positions at once, where a `libm::expm1f` per position was a large part of a
    /// channel-first forward+backward.
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn expm1_le0(self) -> Self {
        // 1/2, 1/6, ..., 1/40320 (`t^2 / 2! + ... + t^8 / 8!`), highest first.
        const P: [f32; 7] =
            [2.480_158_7e-5, 1.984_127e-4, 1.388_888_9e-3, 8.333_334e-3, 4.166_666_8e-2, 0.166_666_67, 0.5];
        let mut q = Self::splat(P[0]);
        for &c in &P[1..] {
            q = q.mul_add(self, Self::splat(c));
        }
        let small = (self * self).mul_add(q, self);
        Self::select(self.abs().lt(Self::splat(0.5)), small, self.exp_le0() - Self::splat(1.0))
    }

    /// [`Vector::exp_le0`] from [`Vector::exp_parts_sum`]: the same range handling (0 below
    /// -87.3 and at `-inf`, NaN for NaN), the cheaper core's bound (`(2 + |n| / 60) eps`
    /// relative, `n = round(t / ln 2)`): for probabilities `p <= 1` written as gradients,
    /// whose bound is absolute.
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn exp_le0_fast(self) -> Self {
        let lo = Self::splat(-87.3);
        let (e, scale) = Self::max_nan_b(lo, self).exp_parts_sum();
        Self::select(self.lt(lo), Self::splat(0.0), e * scale)
    }

    /// `exp(t)` for `t` in `[-87.3, 88.72]` (no range handling): Cody-Waite reduction to
    /// `r` in `[-ln2/2, ln2/2]`, then a degree-6 polynomial (minimax
    /// for the relative error, fitted for xent: 3e-9 before rounding, one FMA fewer than
    /// Cephes' degree 7), then `* 2^n`. `n` is
    /// rounded by adding `1.5 * 2^23 + 127`, whose low mantissa bits then hold `n + 127`,
    /// so the scale is one shift (no float-to-int conversion).
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn exp_core(self) -> Self {
        let (e, scale) = self.exp_parts();
        // Multiplied by 2^n (not added into e's exponent) so that a NaN argument, whose `k`
        // bits hold its payload, still gives NaN: e is NaN there.
        e * scale
    }

    /// [`Vector::exp_core`] in two factors, `exp(t) = e * scale`: `e` in `[0.70, 1.42]`
    /// (NaN for NaN) and `scale = 2^n`, so a sum of exps takes each term with one FMA,
    /// `acc = e.mul_add(scale, acc)` (the product is not rounded before the add).
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn exp_parts(self) -> (Self, Self) {
        // 1 + r + r^2 P(r), P of degree 4.
        self.exp_split(false, [1.381_456_6e-3, 8.368_708e-3, 4.166_839e-2, 1.666_652_1e-1, 0.499_999_94])
    }

    /// `exp(t) = e * 2^n`: `n = round(t / ln 2)` (by adding `1.5 * 2^23 + 127`, whose low
    /// mantissa bits then hold `n + 127`), `r = t - n ln 2` (one constant when `one_constant`,
    /// which needs a fused multiply-add; else Cody-Waite's two), and
    /// `e = 1 + r + r^2 P(r)` in Horner's form (one FMA a degree, no separate `r^2` and
    /// `+ 1`), `P`'s coefficients highest first.
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn exp_split<const D: usize>(self, one_constant: bool, p: [f32; D]) -> (Self, Self) {
        self.exp_split_at(Self::splat(EXP_MAGIC), one_constant, p)
    }

    /// [`Vector::exp_split`] of `exp(x - J ln2)` (`J` an integer, `ln2` rounded to f32)
    /// for `self = x` and `magic = EXP_MAGIC - J`: `n = round(x / ln2)` (of any size the
    /// magic's mantissa holds), `r = x - n ln2` (exact before its rounding where
    /// `one_constant` has FMA), the scale `2^(n - J)`. With `J = 0`, [`Vector::exp_split`].
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn exp_split_at<const D: usize>(self, magic: Self, one_constant: bool, p: [f32; D]) -> (Self, Self) {
        let k = self.mul_add(Self::splat(core::f32::consts::LOG2_E), magic);
        let n = k - magic;
        let r = if one_constant {
            n.mul_add(Self::splat(-core::f32::consts::LN_2), self)
        } else {
            n.mul_add(Self::splat(2.121_944_4e-4), n.mul_add(Self::splat(-0.693_359_4), self))
        };
        let mut q = Self::splat(p[0]);
        for &c in &p[1..] {
            q = q.mul_add(r, Self::splat(c));
        }
        q = q.mul_add(r, Self::splat(1.0));
        let e = q.mul_add(r, Self::splat(1.0));
        (e, k.pow2_of_magic())
    }

    /// The terms of a sum of exps: `exp(t) = e * scale` for `t` in `[-87.3, 4]` (the row
    /// kernel takes a block's exps relative to a running maximum up to 4 below the block's
    /// own), cheaper
    /// than [`Vector::exp_parts`] by two FMAs and less precise where that does not reach a
    /// sum's bound: `n ln 2` is taken with one constant (`ln 2` rounded to f32, off by
    /// `1.9e-9`, so a term `2^n` carries a relative error of `|n| 1.9e-9` more: terms small
    /// enough for that to pass one ULP are below `2^-30` of the sum's largest), and a
    /// degree-5 minimax polynomial (relative error `9.4e-8`, fitted on
    /// `[-ln2/2, ln2/2]` for xent). Builds with AVX2 and FMA (x86-64-v3, v4) reduce by
    /// eighths of `ln 2` instead ([`Vector::TABLE_EXP`]): `t = (8 n + j) ln2/8 + r`, `2^(n + j/8)` from an
    /// 8-entry table (`Vector::pow2_eighths_of_magic`) and a cubic for `exp(r)`
    /// (`2.6e-8`): two FMAs fewer again, for a permute and an integer add. Either way the
    /// unit sweep bounds each term by `(2 + |n| / 60) eps_f32` relative (it measures 0.80
    /// of that with the table, 0.72 with the polynomial); a sum of terms whose largest is 1
    /// (a log-sum-exp relative to its maximum) by `2 eps` relative (1.47 and 1.51), well
    /// inside the documented bound.
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn exp_parts_sum(self) -> (Self, Self) {
        if Self::TABLE_EXP {
            // Eighths of ln 2: `t = (8 n + j) ln2/8 + r`, `|r| <= ln2/16`, so `exp(r)`
            // takes a cubic (`1 + r + r^2 (c2 + c3 r)`, minimax for the relative error on
            // `[-ln2/16, ln2/16]`, fitted for xent: 2.6e-8) and `2^(n + j/8)` comes from
            // a table (`pow2_eighths_of_magic`). Two FMAs fewer than the polynomial below,
            // for a permute and an integer add, which run beside the FMAs.
            const MAGIC8: f32 = 12_583_928.0; // 1.5 * 2^23 + 8 * 127
            let k = self.mul_add(Self::splat(8.0 * core::f32::consts::LOG2_E), Self::splat(MAGIC8));
            let n8 = k - Self::splat(MAGIC8);
            let r = n8.mul_add(Self::splat(-core::f32::consts::LN_2 / 8.0), self);
            let q = Self::splat(0.166_698_26).mul_add(r, Self::splat(0.500_065_6));
            let e = q.mul_add(r, Self::splat(1.0)).mul_add(r, Self::splat(1.0));
            (e, k.pow2_eighths_of_magic())
        } else {
            self.exp_parts_sum_poly()
        }
    }

    /// [`Vector::exp_parts_sum`] by the polynomial alone, on every build: the same terms'
    /// bound (the unit sweep checks both), two FMAs more than the table and no permute,
    /// shift or integer add. On Zen 4 with AVX-512 the table's permute, shift and add
    /// share pipes with the f16 widening (`vcvtph2ps`) while the FMA pipes have room:
    /// there the f16 sweep ran faster with this one (docs/PERF_NOTES.md, "Which exp"), and
    /// it now takes it from `x` itself ([`Vector::exp_parts_sum_poly_at`]). The sums of
    /// builds without AVX2 and FMA take this form.
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn exp_parts_sum_poly(self) -> (Self, Self) {
        // One constant needs the fused product (n ln 2 unrounded); without FMA the product
        // rounds (up to 4e-6 at n = 126), so the two-constant Cody-Waite split is kept there.
        self.exp_split(Self::FMA, EXP_SUM_POLY)
    }

    /// [`Vector::exp_parts_sum_poly`] taken from `x` itself, not from `x - m`: the terms
    /// `exp(x - J ln2) = e * scale` for `self = x` and `magic = EXP_MAGIC - J` (`J` an
    /// integer, `ln2` rounded to f32, `x - J ln2` in `[-87.3, 4.4]`). The reduction
    /// `r = x - n ln2` (`n = round(x / ln2)`) is one fused product, exact before its
    /// rounding however large `x` and `n` are, so the terms keep the same bound with `n`
    /// counted from `J`: `(2 + |n - J| / 60) eps` relative (the unit sweep checks it at
    /// `J` up to the f16 range). One subtraction a vector fewer than `exp(x - m)`; the row
    /// kernel puts the sums back relative to `m` once a block. Needs FMA (`n ln 2`
    /// unrounded); only FMA builds call it.
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn exp_parts_sum_poly_at(self, magic: Self) -> (Self, Self) {
        self.exp_split_at(magic, true, EXP_SUM_POLY)
    }

    /// `ln(1 + e)` for `e` in `[0, 1]` without a logarithm or a division:
    /// `e * G(e)`, `G` a degree-7 minimax fit of `ln(1+e)/e` with `G(0) = 1` (fitted for
    /// xent): within `2.1 eps` absolute and 5 ULP relative (1.5 ULP for `e <= 1e-3`), with FMA or
    /// without. For `ln(1 + exp(-|x|))` in the logit losses, whose bounds are absolute
    /// (`8 eps (1 + |x| + |loss|)`): three operations fewer than the degree-9 2-ULP fit it
    /// replaced. NaN in, NaN out.
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn log1p_unit(self) -> Self {
        const G: [f32; 7] = [
            -0.499_983_58,
            0.332_872_33,
            -0.245_559_41,
            0.178_990_92,
            -0.109_728_15,
            0.045_454_685,
            -0.008_899_743,
        ];
        let mut p = Self::splat(G[6]);
        for &c in G[..6].iter().rev() {
            p = p.mul_add(self, Self::splat(c));
        }
        let p = p.mul_add(self, Self::splat(1.0));
        self * p
    }

    /// `ln(x)` for `x >= 0` including subnormals (scaled by `2^24` first), `ln 0 = -inf`.
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn ln_full(self) -> Self {
        let tiny = self.lt(Self::splat(f32::MIN_POSITIVE));
        let scaled = Self::select(tiny, self * Self::splat(16_777_216.0), self);
        let off = Self::select(tiny, Self::splat(24.0 * core::f32::consts::LN_2), Self::splat(0.0));
        scaled.ln_fast() - off
    }

    /// `tanh(y)` and `1 - tanh(y)^2` (the soft-cap and its derivative). `tanh` is
    /// `(1 - e) / (1 + e)` with `e = exp(-2|y|)` for `|y| >= 1/16`, and the odd Taylor
    /// polynomial `y (1 - y^2/3 + 2y^4/15 - 17y^6/315)` below, so that its relative error
    /// stays within a few eps down to the smallest `y` (soft-capping multiplies it by the
    /// cap, which may be huge). `1 - tanh^2` is `4e / (1 + e)^2` for `|y| >= 1/16`: no
    /// cancellation where `tanh` rounds to `±1` (from `|y|` about 8.7 on), so it stays
    /// positive until `e` flushes (`|y| > 43.6`). NaN in, NaN out.
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn tanh_sech2(self) -> (Self, Self) {
        let one = Self::splat(1.0);
        let a = self.abs();
        let e = (Self::splat(-2.0) * a).exp_le0();
        let d = one + e;
        let big = (one - e) / d;
        let sech2 = (Self::splat(4.0) * e) / (d * d);
        let y2 = self * self;
        let mut p = Self::splat(-17.0 / 315.0);
        p = p.mul_add(y2, Self::splat(2.0 / 15.0));
        p = p.mul_add(y2, Self::splat(-1.0 / 3.0));
        let small = self * p.mul_add(y2, one);
        let t = Self::select(self.lt(Self::splat(0.0)), -big, big);
        let is_small = a.lt(Self::splat(0.0625));
        (Self::select(is_small, small, t), Self::select(is_small, one - small * small, sech2))
    }
}

/// `1.5 * 2^23 + 127`: added to `t / ln2` it rounds to an integer `n`, and the sum's low
/// mantissa bits hold `n + 127`, the biased exponent of `2^n`, so the scale is one shift
/// (no bias add, and one constant register fewer in the hot loops, where AVX2's 16 were
/// short). [`Vector::exp_split_at`] takes it less an integer `J`.
pub(crate) const EXP_MAGIC: f32 = 12_583_039.0;

/// `P` of `exp(r) = 1 + r + r^2 P(r)` for the sums' polynomial exp
/// ([`Vector::exp_parts_sum_poly`]): degree 3, minimax on `[-ln2/2, ln2/2]` for the
/// relative error of the whole (`9.4e-8`), fitted for xent; highest first.
const EXP_SUM_POLY: [f32; 4] = [8.309_261e-3, 4.189_479_7e-2, 1.666_716_5e-1, 0.499_991_86];

/// `2^(j/8)` rounded to f32 (correctly: checked at 50 digits), `j = 0..8`.
const POW2_EIGHTHS: [f32; 8] = [
    1.0,
    1.090_507_7,
    1.189_207_1,
    1.296_839_6,
    core::f32::consts::SQRT_2,
    1.542_210_8,
    1.681_792_8,
    1.834_008_1,
];

/// [`POW2_EIGHTHS`]' bits less `127 << 23` (the exponent bias, which `n + 127` brings
/// back) and `j << 20` (the index bits that [`Vector::pow2_eighths_of_magic`]'s shift
/// leaves below the exponent field), wrapping: integer arithmetic only.
pub(crate) const POW2_EIGHTHS_BIASED: [i32; 8] = {
    let mut t = [0i32; 8];
    let mut j = 0;
    while j < 8 {
        t[j] = (POW2_EIGHTHS[j].to_bits() as i32).wrapping_sub(127 << 23).wrapping_sub((j as i32) << 20);
        j += 1;
    }
    t
};

/// The bounds of [`Vector::clamp_exp_arg`]: `exp(-87.3)` is still a normal f32 (`2^-126`
/// is `exp(-87.34)`), `exp(87.3)` a finite one.
pub(crate) const EXP_ARG_LIM: f32 = 87.3;

/// Eight f32 lanes: `wide::f32x8` on the portable backend, a 256-bit register on the
/// dispatched ones.
pub(crate) trait Eights: Copy {
    /// All lanes 0.
    const ZERO: Self;
    /// The lanes of an array.
    fn new(a: [f32; 8]) -> Self;
    /// The array of the lanes.
    fn to_array(self) -> [f32; 8];
    /// Eight f16 values widened (exactly; F16C on the x86 backends, as
    /// [`Vector::from_f16`]).
    fn from_halves(h: &[f16; 8]) -> Self;
    /// The 8x8 transpose: lane `j` of output `i` is lane `i` of input `j`.
    fn transpose(rows: [Self; 8]) -> [Self; 8];
}

/// The portable backend's vector type of this build.
#[cfg(target_feature = "avx512f")]
pub(crate) type V = f32x16;
/// The portable backend's vector type of this build.
#[cfg(not(target_feature = "avx512f"))]
pub(crate) type V = f32x8;
