//! [`Vector`] on `core::arch`'s AVX2: [`Avx2`], one `__m256`, the 8-lane backend the
//! dispatcher runs on CPUs with AVX2, FMA and F16C whatever the build enables. Each
//! method is the instruction `wide::f32x8` emits when the build enables AVX2 and FMA
//! (`safe_arch`'s wrappers, unwrapped), so the kernels compile to the code of the
//! `-C target-cpu=x86-64-v3` build.
//!
//! # Safety
//!
//! The intrinsics need AVX, AVX2, FMA or F16C, and the methods that call them are ordinary
//! functions (a trait method cannot carry `#[target_feature]`), so every call is
//! `unsafe`. One invariant makes them sound, and every `unsafe` block below that calls an
//! intrinsic refers to it as "the module's invariant":
//!
//! **`Avx2`'s methods and operators run only on a CPU with AVX, AVX2, FMA and F16C whose
//! OS saves the YMM state: an `Avx2` value is created only in code reached through
//! `Avx2`'s entry points (`outlineN`, `simd/backend/mod.rs`), which the dispatcher enters
//! only when it detected all of them, or in tests after `std::is_x86_feature_detected!`
//! confirmed each (`detected`).** The blocks whose intrinsic takes a pointer state its
//! validity on their own.
#![allow(unsafe_code)]

use super::outline_target;
use crate::simd::vector::{EXP_ARG_LIM, Eights, POW2_EIGHTHS_BIASED, Vector};
use core::arch::x86_64::{
    __m128i, __m256, __m256i, _CMP_EQ_OQ, _CMP_GE_OQ, _CMP_GT_OQ, _CMP_LT_OQ, _MM_FROUND_TO_NEAREST_INT,
    _mm_add_ps, _mm_add_ss, _mm_cvtss_f32, _mm_movehl_ps, _mm_shuffle_ps, _mm256_add_epi32, _mm256_add_ps,
    _mm256_and_ps, _mm256_and_si256, _mm256_blendv_ps, _mm256_castps256_ps128, _mm256_cmp_ps,
    _mm256_cvtepi32_ps, _mm256_cvtph_ps, _mm256_cvtps_ph, _mm256_div_ps, _mm256_extractf128_ps,
    _mm256_fmadd_ps, _mm256_max_ps, _mm256_min_ps, _mm256_movemask_ps, _mm256_mul_ps, _mm256_or_ps,
    _mm256_or_si256, _mm256_permute2f128_ps, _mm256_permutevar8x32_epi32, _mm256_shuffle_ps,
    _mm256_slli_epi32, _mm256_srli_epi32, _mm256_sub_epi32, _mm256_sub_ps, _mm256_unpackhi_ps,
    _mm256_unpacklo_ps, _mm256_xor_ps,
};
use core::ops::{Add, BitAnd, BitOr, Div, Mul, Neg, Sub};
use half::f16;
use wide::bytemuck::cast;

/// Eight f32 lanes in a YMM register: the AVX2 backend's vector, and the `Eights` of the
/// AVX-512 backend. Its methods may run only where the module's invariant holds.
#[derive(Copy, Clone)]
#[repr(transparent)]
pub(crate) struct Avx2(pub(super) __m256);

/// Whether this CPU runs the backend: AVX, AVX2, FMA and F16C, with the OS saving the
/// YMM state (`is_x86_feature_detected!("avx")` checks XCR0). Tests call [`Avx2`]'s
/// methods only where this is true.
#[cfg(test)]
pub(crate) fn detected() -> bool {
    extern crate std;
    std::is_x86_feature_detected!("avx")
        && std::is_x86_feature_detected!("avx2")
        && std::is_x86_feature_detected!("fma")
        && std::is_x86_feature_detected!("f16c")
}

impl Avx2 {
    /// The lanes' bits as eight i32 (no instruction).
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn bits(self) -> __m256i {
        cast(self.0)
    }

    /// The vector of eight i32's bits (no instruction).
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn of_bits(b: __m256i) -> Self {
        Self(cast(b))
    }
}

/// Eight lanes `v` of i32 (as `wide::i32x8::splat`: a constant LLVM broadcasts).
#[cfg_attr(not(xent_opt0), inline(always))]
fn splat_i32(v: i32) -> __m256i {
    cast([v; 8])
}

macro_rules! binary_op {
    ($($tr:ident $method:ident $intrinsic:ident),* $(,)?) => {$(
        impl $tr for Avx2 {
            type Output = Self;
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn $method(self, o: Self) -> Self {
                // SAFETY: the module's invariant (AVX).
                Self(unsafe { $intrinsic(self.0, o.0) })
            }
        }
    )*};
}

binary_op!(
    Add add _mm256_add_ps,
    Sub sub _mm256_sub_ps,
    Mul mul _mm256_mul_ps,
    Div div _mm256_div_ps,
    BitAnd bitand _mm256_and_ps,
    BitOr bitor _mm256_or_ps,
);

impl Neg for Avx2 {
    type Output = Self;
    /// The sign bit flipped (`wide`: an xor with `-0.0`).
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn neg(self) -> Self {
        // SAFETY: the module's invariant (AVX).
        Self(unsafe { _mm256_xor_ps(self.0, Self::splat(-0.0).0) })
    }
}

impl Avx2 {
    /// Mask of `self OP o`, `OP` a `_CMP_*` predicate.
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn cmp<const OP: i32>(self, o: Self) -> Self {
        // SAFETY: the module's invariant (AVX).
        Self(unsafe { _mm256_cmp_ps::<OP>(self.0, o.0) })
    }
}

impl Vector for Avx2 {
    const LANES: usize = 8;
    const ONE_SWEEP: bool = false;
    const CLAMPS_HIGH: bool = false;
    const FMA: bool = true;
    const TABLE_EXP: bool = true;
    const F16_IN_REGS: bool = true;
    const ENTRY: bool = true;
    type Eights = Avx2;
    type Arr = [f32; 8];
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn split(s: &[f32]) -> (&[Self::Arr], &[f32]) {
        s.as_chunks::<8>()
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn split_mut(s: &mut [f32]) -> (&mut [Self::Arr], &mut [f32]) {
        s.as_chunks_mut::<8>()
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn from_arr(a: &Self::Arr) -> Self {
        Self(cast(*a))
    }
    type Halves = [f16; 8];
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn split_f16(s: &[f16]) -> (&[Self::Halves], &[f16]) {
        s.as_chunks::<8>()
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn from_f16(a: &Self::Halves) -> Self {
        let bits: __m128i = cast(a.map(f16::to_bits));
        // SAFETY: the module's invariant (F16C, and AVX for the 256-bit result); the
        // conversion reads no memory.
        Self(unsafe { _mm256_cvtph_ps(bits) })
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn to_f16(self) -> Self::Halves {
        // SAFETY: the module's invariant (F16C/AVX-512F); `vcvtps2ph` of a register.
        let bits: __m128i = unsafe { _mm256_cvtps_ph::<_MM_FROUND_TO_NEAREST_INT>(self.0) };
        let bits: [u16; 8] = cast(bits);
        bits.map(f16::from_bits)
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn split_f16_mut(s: &mut [f16]) -> (&mut [Self::Halves], &mut [f16]) {
        s.as_chunks_mut::<8>()
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn from_eights(e: &[Self]) -> Self {
        e[0]
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn to_arr(self) -> Self::Arr {
        cast(self.0)
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn splat(v: f32) -> Self {
        Self(cast([v; 8]))
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn load_or(s: &[f32], pad: f32) -> Self {
        let (chunks, _) = s.as_chunks::<8>();
        match chunks.first() {
            Some(a) => Self::from_arr(a),
            None => {
                let mut a = [pad; 8];
                for (d, v) in a.iter_mut().zip(s) {
                    *d = *v;
                }
                Self::from_arr(&a)
            }
        }
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn store(self, s: &mut [f32]) {
        let a = self.to_arr();
        for (d, v) in s.iter_mut().zip(a.iter()) {
            *d = *v;
        }
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn stream(self, o: &mut Self::Arr) {
        // Not under Miri: stdarch writes `vmovntps` as inline assembly, which Miri cannot run.
        #[cfg(not(miri))]
        {
            let p = o.as_mut_ptr();
            if (p as usize).is_multiple_of(32) {
                // SAFETY: `p` points to 8 writable f32 (it comes from `&mut [f32; 8]`,
                // borrowed for the call) and is 32-byte aligned (checked above), as
                // `_mm256_stream_ps` requires; the callers order the store before any
                // other access to `o` with `stream_fence` (the trait's contract). AVX:
                // the module's invariant.
                unsafe { core::arch::x86_64::_mm256_stream_ps(p, self.0) };
                return;
            }
        }
        *o = self.to_arr();
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn stream_fence() {
        // SAFETY: `sfence` needs SSE, part of x86_64 itself; it touches no memory. Not
        // under Miri, which has no `sfence` (and runs no streaming store to order).
        #[cfg(not(miri))]
        unsafe {
            core::arch::x86_64::_mm_sfence()
        };
    }
    crate::simd::vector::outline_arities!(outline_target, "avx,avx2,fma,f16c");
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn mul_add(self, a: Self, b: Self) -> Self {
        // SAFETY: the module's invariant (FMA).
        Self(unsafe { _mm256_fmadd_ps(self.0, a.0, b.0) })
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn max_nan_b(a: Self, b: Self) -> Self {
        // `vmaxps` returns its second operand when either is NaN (`wide`'s `fast_max`).
        // SAFETY: the module's invariant (AVX).
        Self(unsafe { _mm256_max_ps(a.0, b.0) })
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn clamp_exp_arg(self) -> Self {
        // As `wide_impl`'s `exp_arg8`: two instructions, NaN kept.
        Self::min_nan_b(Self::splat(EXP_ARG_LIM), Self::max_nan_b(Self::splat(-EXP_ARG_LIM), self))
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn min_nan_b(a: Self, b: Self) -> Self {
        // SAFETY: the module's invariant (AVX).
        Self(unsafe { _mm256_min_ps(a.0, b.0) })
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn abs(self) -> Self {
        // `wide`'s form: an and with the non-sign bits.
        self & Self::splat(f32::from_bits(i32::MAX as u32))
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn gt(self, o: Self) -> Self {
        self.cmp::<_CMP_GT_OQ>(o)
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn ge(self, o: Self) -> Self {
        self.cmp::<_CMP_GE_OQ>(o)
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn lt(self, o: Self) -> Self {
        self.cmp::<_CMP_LT_OQ>(o)
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn eq(self, o: Self) -> Self {
        self.cmp::<_CMP_EQ_OQ>(o)
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn select(mask: Self, t: Self, f: Self) -> Self {
        // SAFETY: the module's invariant (AVX).
        Self(unsafe { _mm256_blendv_ps(f.0, t.0, mask.0) })
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn pow2_of_magic(self) -> Self {
        // SAFETY: the module's invariant (AVX2).
        Self::of_bits(unsafe { _mm256_slli_epi32::<23>(self.bits()) })
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn pow2_eighths_of_magic(self) -> Self {
        let kb = self.bits();
        let tab: __m256i = cast(POW2_EIGHTHS_BIASED);
        // `vpermd` takes the low 3 bits of each index: no mask (see `wide_impl`).
        // SAFETY: the module's invariant (AVX2).
        Self::of_bits(unsafe {
            _mm256_add_epi32(_mm256_permutevar8x32_epi32(tab, kb), _mm256_slli_epi32::<20>(kb))
        })
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn reduce_add(self) -> f32 {
        // `wide`'s order: the halves added, then pairs, then the two left:
        // `((x0 + x4) + (x2 + x6)) + ((x1 + x5) + (x3 + x7))`.
        // SAFETY: the module's invariant (AVX; the rest is SSE).
        unsafe {
            let s = _mm_add_ps(_mm256_castps256_ps128(self.0), _mm256_extractf128_ps::<1>(self.0));
            let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
            _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps::<0b01>(s, s)))
        }
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn to_lanes(self, out: &mut [f32]) {
        self.store(out)
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn all_set(self) -> bool {
        // SAFETY: the module's invariant (AVX).
        unsafe { _mm256_movemask_ps(self.0) == 0xff }
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn frexp(self) -> (Self, Self) {
        let bits = self.bits();
        // SAFETY: the module's invariant (AVX2, and AVX for the conversion).
        unsafe {
            let e = _mm256_and_si256(_mm256_srli_epi32::<23>(bits), splat_i32(0xff));
            let m = _mm256_or_si256(
                _mm256_and_si256(bits, splat_i32(0x807f_ffff_u32 as i32)),
                splat_i32(0x3f00_0000),
            );
            (Self::of_bits(m), Self(_mm256_cvtepi32_ps(_mm256_sub_epi32(e, splat_i32(126)))))
        }
    }
}

impl Eights for Avx2 {
    // SAFETY: `[f32; 8]` and `__m256` have the same size, and every bit pattern is a valid
    // `__m256`; no instruction runs.
    const ZERO: Self = Self(unsafe { core::mem::transmute::<[f32; 8], __m256>([0.0; 8]) });
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn new(a: [f32; 8]) -> Self {
        Self::from_arr(&a)
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn from_halves(h: &[f16; 8]) -> Self {
        <Self as Vector>::from_f16(h)
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn to_array(self) -> [f32; 8] {
        self.to_arr()
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn transpose(r: [Self; 8]) -> [Self; 8] {
        // `wide::f32x8::transpose` under AVX: pairs of rows interleaved (`unpck*ps`), then
        // pairs of pairs (`shufps`), then the 128-bit halves swapped (`vperm2f128`).
        const LO: i32 = 0b01_00_01_00;
        const HI: i32 = 0b11_10_11_10;
        // SAFETY: the module's invariant (AVX).
        unsafe {
            let a0 = _mm256_unpacklo_ps(r[0].0, r[1].0);
            let a1 = _mm256_unpackhi_ps(r[0].0, r[1].0);
            let a2 = _mm256_unpacklo_ps(r[2].0, r[3].0);
            let a3 = _mm256_unpackhi_ps(r[2].0, r[3].0);
            let a4 = _mm256_unpacklo_ps(r[4].0, r[5].0);
            let a5 = _mm256_unpackhi_ps(r[4].0, r[5].0);
            let a6 = _mm256_unpacklo_ps(r[6].0, r[7].0);
            let a7 = _mm256_unpackhi_ps(r[6].0, r[7].0);
            let b0 = _mm256_shuffle_ps::<LO>(a0, a2);
            let b1 = _mm256_shuffle_ps::<HI>(a0, a2);
            let b2 = _mm256_shuffle_ps::<LO>(a1, a3);
            let b3 = _mm256_shuffle_ps::<HI>(a1, a3);
            let b4 = _mm256_shuffle_ps::<LO>(a4, a6);
            let b5 = _mm256_shuffle_ps::<HI>(a4, a6);
            let b6 = _mm256_shuffle_ps::<LO>(a5, a7);
            let b7 = _mm256_shuffle_ps::<HI>(a5, a7);
            [
                Self(_mm256_permute2f128_ps::<0x20>(b0, b4)),
                Self(_mm256_permute2f128_ps::<0x20>(b1, b5)),
                Self(_mm256_permute2f128_ps::<0x20>(b2, b6)),
                Self(_mm256_permute2f128_ps::<0x20>(b3, b7)),
                Self(_mm256_permute2f128_ps::<0x31>(b0, b4)),
                Self(_mm256_permute2f128_ps::<0x31>(b1, b5)),
                Self(_mm256_permute2f128_ps::<0x31>(b2, b6)),
                Self(_mm256_permute2f128_ps::<0x31>(b3, b7)),
            ]
        }
    }
}

#[cfg(test)]
mod tests {
    //! Every method against `wide::f32x8` (the portable backend, whatever width the build's
    //! `V` has), bit for bit where IEEE makes the result exact; `mul_add` against the
    //! correctly rounded `a * b + c`.
    extern crate std;
    use super::{Avx2, detected};
    use crate::simd::vector::{Eights, POW2_EIGHTHS_BIASED, Vector};
    use half::f16;
    use std::vec::Vec;
    use wide::f32x8;

    /// Runs `f` with the backend's features when the CPU has them (the module's invariant),
    /// and says so when it does not.
    fn on_avx2(f: impl FnOnce()) {
        if detected() {
            crate::simd::backend::in_entry::<Avx2, _>(f);
        } else {
            std::eprintln!("skipped: this CPU lacks AVX2, FMA or F16C");
        }
    }

    /// Zeros, infinities, NaNs with payloads (quiet and signalling), subnormals, the
    /// extremes, and values near the exp's clamps.
    const SPECIALS: [f32; 24] = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        -1.5,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        f32::from_bits(0xffc0_0000),
        f32::from_bits(0x7fc0_1234),
        f32::from_bits(0xff80_0001),
        f32::from_bits(0x7fbf_ffff),
        f32::MIN_POSITIVE,
        f32::from_bits(1),
        f32::from_bits(0x807f_ffff),
        f32::from_bits(0x0040_0000),
        f32::MAX,
        f32::MIN,
        87.3,
        -87.300_01,
        f32::EPSILON,
        1.0 + f32::EPSILON,
        -3.0e-39,
    ];

    /// xorshift32: every bit pattern but 0 over its period.
    struct Rng(u32);
    impl Rng {
        fn bits(&mut self) -> f32 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 17;
            self.0 ^= self.0 << 5;
            f32::from_bits(self.0)
        }
        /// A random sign and mantissa, the exponent within 2^-20..2^20: values whose sums
        /// and products round (random bit patterns mostly differ by huge factors).
        fn moderate(&mut self) -> f32 {
            let b = self.bits().to_bits();
            f32::from_bits((b & 0x807f_ffff) | ((107 + (b >> 23) % 41) << 23))
        }
        fn vector(&mut self, i: usize) -> [f32; 8] {
            core::array::from_fn(|_| if i.is_multiple_of(2) { self.bits() } else { self.moderate() })
        }
    }

    /// The specials (three vectors), then 1024 random vectors.
    fn unary_inputs() -> Vec<[f32; 8]> {
        let mut v: Vec<[f32; 8]> = SPECIALS.chunks(8).map(|c| c.try_into().unwrap()).collect();
        let mut rng = Rng(0x2545_f491);
        v.extend((0..1024).map(|i| rng.vector(i)));
        v
    }

    /// Every pair of specials, then 1024 random pairs.
    fn binary_inputs() -> Vec<([f32; 8], [f32; 8])> {
        let pairs: Vec<(f32, f32)> =
            SPECIALS.iter().flat_map(|&a| SPECIALS.iter().map(move |&b| (a, b))).collect();
        let mut v: Vec<_> = pairs
            .chunks(8)
            .map(|c| (core::array::from_fn(|i| c[i].0), core::array::from_fn(|i| c[i].1)))
            .collect();
        let mut rng = Rng(0x9e37_79b9);
        v.extend((0..1024).map(|i| (rng.vector(i), rng.vector(i))));
        v
    }

    fn a(x: [f32; 8]) -> Avx2 {
        Avx2::from_arr(&x)
    }
    fn w(x: [f32; 8]) -> f32x8 {
        f32x8::new(x)
    }

    /// Lane by lane, bit for bit; where `nan_any`, a NaN for a NaN (IEEE leaves the payload
    /// of an operation on two NaNs open, and LLVM may swap a commutative one's operands).
    #[track_caller]
    fn assert_same(name: &str, got: [f32; 8], want: [f32; 8], nan_any: bool, inputs: &dyn core::fmt::Debug) {
        for (g, x) in got.iter().zip(want) {
            let ok = g.to_bits() == x.to_bits() || (nan_any && g.is_nan() && x.is_nan());
            assert!(
                ok,
                "{name}: {got:?} != {want:?} (bits {:#x?} vs {:#x?}) for {inputs:?}",
                got.map(f32::to_bits),
                want.map(f32::to_bits)
            );
        }
    }

    macro_rules! unary {
        ($name:literal, $nan_any:expr, |$v:ident| $e:expr) => {
            for x in unary_inputs() {
                let got = (|$v: Avx2| $e)(a(x)).to_arr();
                let want = (|$v: f32x8| $e)(w(x)).to_arr();
                assert_same($name, got, want, $nan_any, &x);
            }
        };
    }

    macro_rules! binary {
        ($name:literal, $nan_any:expr, |$x:ident, $y:ident| $e:expr) => {
            for (x, y) in binary_inputs() {
                let got = (|$x: Avx2, $y: Avx2| $e)(a(x), a(y)).to_arr();
                let want = (|$x: f32x8, $y: f32x8| $e)(w(x), w(y)).to_arr();
                assert_same($name, got, want, $nan_any, &(x, y));
            }
        };
    }

    #[test]
    fn arithmetic_matches_wide() {
        on_avx2(|| {
            binary!("add", true, |x, y| x + y);
            binary!("sub", false, |x, y| x - y);
            binary!("mul", true, |x, y| x * y);
            binary!("div", false, |x, y| x / y);
            unary!("neg", false, |v| -v);
            unary!("abs", false, |v| Vector::abs(v));
        });
    }

    #[test]
    fn min_max_and_clamp_match_wide() {
        on_avx2(|| {
            binary!("max_nan_b", false, |x, y| Vector::max_nan_b(x, y));
            binary!("min_nan_b", false, |x, y| Vector::min_nan_b(x, y));
            unary!("clamp_exp_arg", false, |v| Vector::clamp_exp_arg(v));
            // The documented NaN rule, besides matching `wide`: NaN in `b` propagates.
            let nan = f32::from_bits(0x7fc0_1234);
            for b in [nan, 1.0] {
                let got = Avx2::max_nan_b(Avx2::splat(2.0), Avx2::splat(b)).to_arr();
                assert_eq!(got[0].to_bits(), if b.is_nan() { nan.to_bits() } else { 2.0f32.to_bits() });
                let got = Avx2::min_nan_b(Avx2::splat(nan), Avx2::splat(b)).to_arr();
                assert_eq!(got[0].to_bits(), b.to_bits());
            }
        });
    }

    #[test]
    fn masks_and_select_match_wide() {
        on_avx2(|| {
            binary!("gt", false, |x, y| Vector::gt(x, y));
            binary!("ge", false, |x, y| Vector::ge(x, y));
            binary!("lt", false, |x, y| Vector::lt(x, y));
            binary!("eq", false, |x, y| Vector::eq(x, y));
            binary!("and", false, |x, y| x & y);
            binary!("or", false, |x, y| x | y);
            binary!("select", false, |x, y| Vector::select(Vector::lt(x, y), x, y));
            binary!("select ge", false, |x, y| Vector::select(Vector::ge(x, y), x + y, y));
            // `all_set` on every mask of eight lanes.
            for m in 0..256u32 {
                let lanes: [f32; 8] = core::array::from_fn(|i| if m >> i & 1 == 1 { 1.0 } else { 0.0 });
                let got = Vector::all_set(a(lanes).eq(Avx2::splat(1.0)));
                let want = Vector::all_set(Vector::eq(w(lanes), f32x8::splat(1.0)));
                assert_eq!(got, want, "all_set {m:#b}");
                assert_eq!(got, m == 255);
            }
        });
    }

    #[test]
    fn exponent_field_arithmetic_matches_wide() {
        on_avx2(|| {
            unary!("frexp mantissa", false, |v| Vector::frexp(v).0);
            unary!("frexp exponent", false, |v| Vector::frexp(v).1);
            unary!("pow2_of_magic", false, |v| Vector::pow2_of_magic(v));
            unary!("pow2_eighths_of_magic", false, |v| Vector::pow2_eighths_of_magic(v));
            // The magic sums themselves: `8 n + j + 8 * 127 + 1.5 * 2^23` for every `j`.
            let magic8 = 12_583_928.0f32;
            for n in -126..=127 {
                let x: [f32; 8] = core::array::from_fn(|j| magic8 + (8 * n + j as i32) as f32);
                let got = a(x).pow2_eighths_of_magic().to_arr();
                assert_same("pow2_eighths_of_magic", got, w(x).pow2_eighths_of_magic().to_arr(), false, &n);
                // The table's entry `j` (its bias and index bits put back) times `2^n`.
                for (j, g) in got.iter().enumerate() {
                    let entry = (POW2_EIGHTHS_BIASED[j] + (127 << 23) + ((j as i32) << 20)) as u32;
                    let want = f32::from_bits(entry) * libm::exp2f(n as f32);
                    assert_eq!(g.to_bits(), want.to_bits(), "2^({n} + {j}/8)");
                }
                let y = a(x).pow2_of_magic().to_arr();
                let z = w(x).pow2_of_magic().to_arr();
                assert_same("pow2_of_magic", y, z, false, &n);
            }
        });
    }

    /// `a * b + c` rounded once: the product is exact in f64 (24 + 24 bits), the sum is
    /// rounded to odd (exact sum's last f64 bit forced to 1 where the sum rounded), which
    /// leaves the rounding to f32 correct (53 >= 24 + 2 bits).
    fn fma_ref(a: f32, b: f32, c: f32) -> f32 {
        let (p, c) = (f64::from(a) * f64::from(b), f64::from(c));
        let s = p + c;
        if !s.is_finite() {
            return s as f32;
        }
        let z = s - p;
        let err = (p - (s - z)) + (c - z);
        let s = if err != 0.0 && s.to_bits() & 1 == 0 {
            f64::from_bits(if (err > 0.0) == (s > 0.0) { s.to_bits() + 1 } else { s.to_bits() - 1 })
        } else {
            s
        };
        s as f32
    }

    #[test]
    fn mul_add_is_fused() {
        on_avx2(|| {
            let mut rng = Rng(0x1234_5678);
            let mut triples: Vec<(f32, f32, f32)> = Vec::new();
            for &x in &SPECIALS {
                for &y in &SPECIALS {
                    for &z in &SPECIALS {
                        triples.push((x, y, z));
                    }
                }
            }
            for i in 0..8192 {
                let (x, y) =
                    if i % 2 == 0 { (rng.bits(), rng.bits()) } else { (rng.moderate(), rng.moderate()) };
                // Random addends; the product's negation (the product's rounding error
                // is the result); and a tiny addend to a product that is a midpoint of
                // f32 (where rounding the sum twice goes wrong).
                triples.push((x, y, rng.moderate()));
                triples.push((x, y, -(x * y)));
                let m = 1.0 + (rng.bits().to_bits() & 0x7ff) as f32 / 4096.0;
                let t = f32::from_bits(0x2000_0000 | (rng.bits().to_bits() & 0x807f_ffff));
                triples.push((m, m, t));
            }
            for c in triples.chunks(8) {
                let lane = |k: usize, f: fn(&(f32, f32, f32)) -> f32| -> [f32; 8] {
                    core::array::from_fn(|i| c.get(i).map_or(k as f32, f))
                };
                let (x, y, z) = (lane(1, |t| t.0), lane(2, |t| t.1), lane(3, |t| t.2));
                let got = a(x).mul_add(a(y), a(z)).to_arr();
                for i in 0..8 {
                    let want = fma_ref(x[i], y[i], z[i]);
                    let lib = libm::fmaf(x[i], y[i], z[i]);
                    assert!(want.to_bits() == lib.to_bits() || (want.is_nan() && lib.is_nan()), "reference");
                    assert!(
                        got[i].to_bits() == want.to_bits() || (got[i].is_nan() && want.is_nan()),
                        "mul_add({:e}, {:e}, {:e}) = {:e}, want {want:e}",
                        x[i],
                        y[i],
                        z[i],
                        got[i]
                    );
                }
            }
        });
    }

    #[test]
    fn reduce_add_in_wides_order() {
        on_avx2(|| {
            for x in unary_inputs() {
                let got = a(x).reduce_add();
                let want = ((x[0] + x[4]) + (x[2] + x[6])) + ((x[1] + x[5]) + (x[3] + x[7]));
                assert!(
                    got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                    "{x:?}: {got} != {want}"
                );
                // `wide` sums in this order where it has AVX (two SSE halves elsewhere).
                if cfg!(target_feature = "avx") {
                    let wide = w(x).reduce_add();
                    assert!(got.to_bits() == wide.to_bits() || (got.is_nan() && wide.is_nan()));
                }
            }
        });
    }

    #[test]
    fn f16_widening_matches_wide_for_every_value() {
        on_avx2(|| {
            for hi in 0..(1u32 << 13) {
                let h: [f16; 8] = core::array::from_fn(|i| f16::from_bits((hi * 8 + i as u32) as u16));
                let got = Avx2::from_f16(&h).to_arr();
                assert_same("from_f16", got, f32x8::from_f16(&h).to_arr(), false, &h);
                assert_same("from_f16", got, h.map(f16::to_f32), false, &h);
            }
        });
    }

    #[test]
    fn f16_rounding_matches_half() {
        on_avx2(crate::simd::backend::check_f16_rounding::<Avx2>);
    }

    #[test]
    fn loads_stores_and_splits_match_wide() {
        on_avx2(|| {
            let src: [f32; 19] = core::array::from_fn(|i| i as f32 - 0.5);
            for len in 0..=src.len() {
                let s = &src[..len];
                // Splits.
                let (ca, ta) = Avx2::split(s);
                let (cw, tw) = f32x8::split(s);
                assert_eq!((ca, ta), (cw, tw));
                let h: Vec<f16> = s.iter().map(|&x| f16::from_f32(x)).collect();
                assert_eq!(Avx2::split_f16(&h), f32x8::split_f16(&h));
                let mut m = s.to_vec();
                let (cm, tm) = Avx2::split_mut(&mut m);
                assert_eq!((cm.len(), tm.len()), (len / 8, len % 8));
                // Loads, padded where short.
                let got = Avx2::load_or(s, -7.0).to_arr();
                assert_same("load_or", got, f32x8::load_or(s, -7.0).to_arr(), false, &len);
                // Stores, into at most the slice.
                let v: [f32; 8] = core::array::from_fn(|i| 100.0 + i as f32);
                let (mut da, mut dw) = (std::vec![-1.0f32; len], std::vec![-1.0f32; len]);
                a(v).store(&mut da);
                Vector::store(w(v), &mut dw);
                assert_eq!(da, dw);
                let (mut da, mut dw) = (std::vec![-1.0f32; len], std::vec![-1.0f32; len]);
                a(v).to_lanes(&mut da);
                Vector::to_lanes(w(v), &mut dw);
                assert_eq!(da, dw);
            }
            for x in unary_inputs() {
                assert_same("from_arr/to_arr", a(x).to_arr(), x, false, &x);
                assert_same("Eights::new", Eights::to_array(<Avx2 as Eights>::new(x)), x, false, &x);
                let e = [a(x), Avx2::splat(3.0)];
                assert_same("from_eights", Avx2::from_eights(&e).to_arr(), x, false, &x);
                for s in x {
                    assert_same("splat", Avx2::splat(s).to_arr(), f32x8::splat(s).to_array(), false, &s);
                }
            }
            assert_same("ZERO", Avx2::ZERO.to_arr(), [0.0; 8], false, &());
        });
    }

    #[test]
    fn stream_writes_aligned_and_unaligned() {
        #[repr(C, align(32))]
        struct Aligned([f32; 17]);
        on_avx2(|| {
            let v: [f32; 8] = core::array::from_fn(|i| i as f32 * 1.5 - 2.0);
            for at in [0, 1, 4, 8, 9] {
                let mut buf = Aligned([-1.0; 17]);
                let dst: &mut [f32; 8] = (&mut buf.0[at..at + 8]).try_into().unwrap();
                a(v).stream(dst);
                Avx2::stream_fence();
                for (i, x) in buf.0.iter().enumerate() {
                    let want = if (at..at + 8).contains(&i) { v[i - at] } else { -1.0 };
                    assert_eq!(*x, want, "stream at {at}: lane {i}");
                }
            }
        });
    }

    #[test]
    fn transpose_matches_wide() {
        on_avx2(|| {
            let inputs = unary_inputs();
            for rows in inputs.chunks_exact(8) {
                let got = Avx2::transpose(core::array::from_fn(|i| a(rows[i])));
                let want = f32x8::transpose(core::array::from_fn(|i| w(rows[i])));
                for i in 0..8 {
                    assert_same("transpose", got[i].to_arr(), want[i].to_array(), false, &i);
                    let col: [f32; 8] = core::array::from_fn(|j| rows[j][i]);
                    assert_same("transpose", got[i].to_arr(), col, false, &i);
                }
            }
        });
    }

    /// Where `wide` itself is AVX2 and FMA (x86-64-v3 and v4 builds), the two backends run
    /// the same instructions: the transcendental functions agree bit for bit.
    #[test]
    #[cfg_attr(
        not(all(target_feature = "avx2", target_feature = "fma")),
        ignore = "x86-64-v3 and v4 builds only (wide has no FMA or no table exp elsewhere); CI runs them"
    )]
    fn transcendentals_match_wide_on_v3() {
        on_avx2(|| {
            let mut inputs = unary_inputs();
            let mut rng = Rng(0x0bad_f00d);
            inputs.extend((0..1024).map(|_| core::array::from_fn(|_| rng.moderate() * 20.0 - 10.0)));
            inputs.extend((0..1024).map(|_| {
                core::array::from_fn(|_| -88.0 * (rng.bits().to_bits() >> 8) as f32 / 16_777_216.0)
            }));
            for x in inputs {
                let (va, vw) = (a(x), w(x));
                let pairs = [
                    ("exp_le0", va.exp_le0().to_arr(), vw.exp_le0().to_arr()),
                    ("exp_le0_fast", va.exp_le0_fast().to_arr(), vw.exp_le0_fast().to_arr()),
                    ("expm1_le0", va.expm1_le0().to_arr(), vw.expm1_le0().to_arr()),
                    ("exp_parts_sum.0", va.exp_parts_sum().0.to_arr(), vw.exp_parts_sum().0.to_arr()),
                    ("exp_parts_sum.1", va.exp_parts_sum().1.to_arr(), vw.exp_parts_sum().1.to_arr()),
                    (
                        "exp_parts_sum_poly.0",
                        va.exp_parts_sum_poly().0.to_arr(),
                        vw.exp_parts_sum_poly().0.to_arr(),
                    ),
                    ("exp_parts.0", va.exp_parts().0.to_arr(), vw.exp_parts().0.to_arr()),
                    ("ln_fast", va.abs().ln_fast().to_arr(), vw.abs().ln_fast().to_arr()),
                    ("ln_full", va.abs().ln_full().to_arr(), vw.abs().ln_full().to_arr()),
                    ("log1p_unit", va.abs().log1p_unit().to_arr(), vw.abs().log1p_unit().to_arr()),
                    ("tanh", va.tanh_sech2().0.to_arr(), vw.tanh_sech2().0.to_arr()),
                    ("sech2", va.tanh_sech2().1.to_arr(), vw.tanh_sech2().1.to_arr()),
                ];
                for (name, got, want) in pairs {
                    assert_same(name, got, want, true, &x);
                }
            }
        });
    }
}
