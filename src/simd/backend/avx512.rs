//! [`Vector`] on AVX-512 registers: [`Avx512`], 16 f32 lanes in one `__m512`, the
//! backend of the run-time dispatched x86-64-v4 level (AVX-512F/DQ/BW/VL with AVX2, FMA
//! and F16C). Each method is the instruction sequence `wide`'s `f32x16` compiles to when
//! AVX-512F is enabled at build time (masks as vectors, made from `vcmpps` into an opmask
//! and a zero-masked move of all-ones, selected by `vpmovd2m` and `vblendmps`), so a kernel
//! on `Avx512` inside `Avx512`'s entry points (`outlineN`) compiles as the `-C target-cpu=x86-64-v4` build's
//! kernel on `f32x16` does.
//!
//! # Soundness
//!
//! The `core::arch` intrinsics carry `#[target_feature]`, which the trait methods cannot:
//! calling them from those methods is `unsafe`, sound only on a CPU that has the features.
//! Every `unsafe` block here rests on one invariant, "the invariant" in their `SAFETY`
//! comments:
//!
//! **An `Avx512` value is only created inside code reached through `Avx512`'s entry points (`outlineN`),
//! which the dispatcher (`simd/dispatch.rs`) calls only when the level's features
//! (AVX, AVX2, FMA, F16C, AVX-512F/DQ/BW/VL) were detected at run time and the OS saves
//! the ZMM and opmask state; or in tests, after `std::is_x86_feature_detected!` found all
//! of them (which checks the OS's support too).**
//!
//! So a method taking an `Avx512` runs on such a CPU, and so does every constructor
//! (`splat`, `from_arr`, ...), which nothing calls outside that code. On builds that
//! enable the features statically (`cfg(xent_v4)`) the invariant holds of every CPU the
//! build runs on. No block reads or writes memory but where its comment says so
//! (the loads, stores and non-temporal stores, each with its pointer's reasoning).
//!
//! Under `xent_opt0` nothing is inlined and every intrinsic stays a call to a function
//! compiled for its feature: slow, still sound by the invariant.
#![allow(unsafe_code)]

use super::avx2::Avx2;
use super::outline_target;
use crate::simd::vector::{EXP_ARG_LIM, POW2_EIGHTHS_BIASED, Vector};
use core::arch::x86_64::{
    __m256i, __m512, __m512i, _CMP_EQ_OQ, _CMP_GE_OQ, _CMP_GT_OQ, _CMP_LT_OQ, _MM_FROUND_TO_NEAREST_INT,
    _mm512_add_epi32, _mm512_add_ps, _mm512_and_ps, _mm512_and_si512, _mm512_castps_si512,
    _mm512_castps256_ps512, _mm512_castsi512_ps, _mm512_cmp_ps_mask, _mm512_cvtepi32_ps, _mm512_cvtph_ps,
    _mm512_cvtps_ph, _mm512_div_ps, _mm512_fmadd_ps, _mm512_insertf32x8, _mm512_loadu_ps,
    _mm512_mask_blend_ps, _mm512_maskz_mov_ps, _mm512_max_ps, _mm512_min_ps, _mm512_movepi32_mask,
    _mm512_mul_ps, _mm512_or_ps, _mm512_or_si512, _mm512_permutexvar_epi32, _mm512_range_ps,
    _mm512_reduce_add_ps, _mm512_set1_epi32, _mm512_set1_ps, _mm512_setr_epi32, _mm512_slli_epi32,
    _mm512_srai_epi32, _mm512_storeu_ps, _mm512_stream_ps, _mm512_sub_epi32, _mm512_sub_ps, _mm512_xor_ps,
};
use core::ops::{Add, BitAnd, BitOr, Div, Mul, Neg, Sub};
use half::f16;

/// 16 f32 lanes in an AVX-512 register. Created only under the module's invariant
/// (module doc, "Soundness").
#[derive(Copy, Clone)]
#[repr(transparent)]
pub(crate) struct Avx512(__m512);

impl Avx512 {
    /// The lanes' bits as 32-bit integers (no instruction).
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn bits(self) -> __m512i {
        // SAFETY: the invariant (module doc); a register reinterpretation.
        unsafe { _mm512_castps_si512(self.0) }
    }

    /// The vector of lanes with these bits (no instruction).
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn of_bits(i: __m512i) -> Self {
        // SAFETY: the invariant (module doc); a register reinterpretation.
        Self(unsafe { _mm512_castsi512_ps(i) })
    }

    /// Mask of the lanes where `_mm512_cmp_ps_mask::<OP>` holds, as a vector: an opmask,
    /// then all-ones moved under it (`wide`'s `cmp_op_mask_m512`).
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn cmp<const OP: i32>(self, o: Self) -> Self {
        // SAFETY: the invariant (module doc); register operations only.
        Self(unsafe {
            let m = _mm512_cmp_ps_mask::<OP>(self.0, o.0);
            _mm512_maskz_mov_ps(m, _mm512_castsi512_ps(_mm512_set1_epi32(-1)))
        })
    }
}

impl Add for Avx512 {
    type Output = Self;
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn add(self, o: Self) -> Self {
        // SAFETY: the invariant (module doc).
        Self(unsafe { _mm512_add_ps(self.0, o.0) })
    }
}

impl Sub for Avx512 {
    type Output = Self;
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn sub(self, o: Self) -> Self {
        // SAFETY: the invariant (module doc).
        Self(unsafe { _mm512_sub_ps(self.0, o.0) })
    }
}

impl Mul for Avx512 {
    type Output = Self;
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn mul(self, o: Self) -> Self {
        // SAFETY: the invariant (module doc).
        Self(unsafe { _mm512_mul_ps(self.0, o.0) })
    }
}

impl Div for Avx512 {
    type Output = Self;
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn div(self, o: Self) -> Self {
        // SAFETY: the invariant (module doc).
        Self(unsafe { _mm512_div_ps(self.0, o.0) })
    }
}

impl Neg for Avx512 {
    type Output = Self;
    /// The sign bit flipped (`vxorps` with `-0.0`, as `wide`).
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn neg(self) -> Self {
        // SAFETY: the invariant (module doc).
        Self(unsafe { _mm512_xor_ps(self.0, _mm512_set1_ps(-0.0)) })
    }
}

impl BitAnd for Avx512 {
    type Output = Self;
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn bitand(self, o: Self) -> Self {
        // SAFETY: the invariant (module doc).
        Self(unsafe { _mm512_and_ps(self.0, o.0) })
    }
}

impl BitOr for Avx512 {
    type Output = Self;
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn bitor(self, o: Self) -> Self {
        // SAFETY: the invariant (module doc).
        Self(unsafe { _mm512_or_ps(self.0, o.0) })
    }
}

impl Vector for Avx512 {
    const LANES: usize = 16;
    const ONE_SWEEP: bool = true;
    const CLAMPS_HIGH: bool = true;
    const FMA: bool = true;
    const TABLE_EXP: bool = true;
    const F16_IN_REGS: bool = true;
    const ENTRY: bool = true;
    type Eights = Avx2;
    type Arr = [f32; 16];
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn split(s: &[f32]) -> (&[Self::Arr], &[f32]) {
        s.as_chunks::<16>()
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn split_mut(s: &mut [f32]) -> (&mut [Self::Arr], &mut [f32]) {
        s.as_chunks_mut::<16>()
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn from_arr(a: &Self::Arr) -> Self {
        // SAFETY: the invariant (module doc). `a.as_ptr()` points to 16 readable f32 (from
        // `&[f32; 16]`); `vmovups` allows any alignment.
        Self(unsafe { _mm512_loadu_ps(a.as_ptr()) })
    }
    type Halves = [f16; 16];
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn split_f16(s: &[f16]) -> (&[Self::Halves], &[f16]) {
        s.as_chunks::<16>()
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn from_f16(a: &Self::Halves) -> Self {
        // The bits by value (LLVM loads them straight into the conversion's operand).
        let bits: __m256i = wide::bytemuck::cast(a.map(f16::to_bits));
        // SAFETY: the invariant (module doc); `vcvtph2ps` of a register.
        Self(unsafe { _mm512_cvtph_ps(bits) })
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn to_f16(self) -> Self::Halves {
        // SAFETY: the module's invariant (F16C/AVX-512F); `vcvtps2ph` of a register.
        let bits: __m256i = unsafe { _mm512_cvtps_ph::<_MM_FROUND_TO_NEAREST_INT>(self.0) };
        let bits: [u16; 16] = wide::bytemuck::cast(bits);
        bits.map(f16::from_bits)
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn split_f16_mut(s: &mut [f16]) -> (&mut [Self::Halves], &mut [f16]) {
        s.as_chunks_mut::<16>()
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn from_eights(e: &[Avx2]) -> Self {
        let (e, _) = e.as_chunks::<2>();
        let [lo, hi] = e[0];
        // SAFETY: the invariant (module doc); register operations only (`vinsertf32x8`,
        // the cast is none).
        Self(unsafe { _mm512_insertf32x8::<1>(_mm512_castps256_ps512(lo.0), hi.0) })
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn to_arr(self) -> Self::Arr {
        let mut a = [0.0f32; 16];
        // SAFETY: the invariant (module doc). `a.as_mut_ptr()` points to 16 writable f32
        // (a local `[f32; 16]`); `vmovups` allows any alignment.
        unsafe { _mm512_storeu_ps(a.as_mut_ptr(), self.0) };
        a
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn splat(v: f32) -> Self {
        // SAFETY: the invariant (module doc).
        Self(unsafe { _mm512_set1_ps(v) })
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn load_or(s: &[f32], pad: f32) -> Self {
        let (chunks, _) = s.as_chunks::<16>();
        match chunks.first() {
            Some(a) => Self::from_arr(a),
            None => {
                let mut a = [pad; 16];
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
        // Not under Miri: stdarch's `vmovntps` is inline assembly (and Miri has no
        // AVX-512 to run this backend on anyway).
        #[cfg(not(miri))]
        {
            let p = o.as_mut_ptr();
            if (p as usize).is_multiple_of(64) {
                // SAFETY: the invariant (module doc). `p` points to 16 writable f32 (from
                // `&mut [f32; 16]`) and is 64-byte aligned (checked above), as
                // `_mm512_stream_ps` requires.
                unsafe { _mm512_stream_ps(p, self.0) };
                return;
            }
        }
        *o = self.to_arr();
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn stream_fence() {
        // SAFETY: `sfence` needs SSE, part of x86_64's baseline; it touches no memory. Not
        // under Miri, which has no `sfence` (and runs no streaming store to order).
        #[cfg(not(miri))]
        unsafe {
            core::arch::x86_64::_mm_sfence()
        };
    }
    crate::simd::vector::outline_arities!(
        outline_target,
        "avx,avx2,fma,f16c,avx512f,avx512dq,avx512bw,avx512vl"
    );
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn mul_add(self, a: Self, b: Self) -> Self {
        // SAFETY: the invariant (module doc).
        Self(unsafe { _mm512_fmadd_ps(self.0, a.0, b.0) })
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn max_nan_b(a: Self, b: Self) -> Self {
        // `vmaxps` gives its second operand when either is NaN.
        // SAFETY: the invariant (module doc).
        Self(unsafe { _mm512_max_ps(a.0, b.0) })
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn clamp_exp_arg(self) -> Self {
        // `vrangeps`, "minimum of magnitudes, sign of the first operand"
        // (`arch::clamp_abs16`).
        // SAFETY: the invariant (module doc).
        Self(unsafe { _mm512_range_ps::<0b0010>(self.0, _mm512_set1_ps(EXP_ARG_LIM)) })
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn min_nan_b(a: Self, b: Self) -> Self {
        // SAFETY: the invariant (module doc).
        Self(unsafe { _mm512_min_ps(a.0, b.0) })
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn abs(self) -> Self {
        self & Self::splat(f32::from_bits(0x7fff_ffff))
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
        // The mask's sign bits into an opmask (`vpmovd2m`), then a blend (`wide`'s
        // `f32x16::select`; LLVM folds the pair into a compare's opmask where it sees one).
        // SAFETY: the invariant (module doc).
        Self(unsafe { _mm512_mask_blend_ps(_mm512_movepi32_mask(mask.bits()), f.0, t.0) })
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn pow2_of_magic(self) -> Self {
        // SAFETY: the invariant (module doc).
        Self::of_bits(unsafe { _mm512_slli_epi32::<23>(self.bits()) })
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn pow2_eighths_of_magic(self) -> Self {
        let [t0, t1, t2, t3, t4, t5, t6, t7] = POW2_EIGHTHS_BIASED;
        let kb = self.bits();
        // `vpermd` takes the low 4 bits of each index and the table repeats every 8 lanes,
        // so bit 3 (the low bit of `n + 127`) picks the same entry: no index mask (as
        // `wide_impl`; the unit sweep of the exp would fail at once otherwise).
        // SAFETY: the invariant (module doc).
        Self::of_bits(unsafe {
            let tab = _mm512_setr_epi32(t0, t1, t2, t3, t4, t5, t6, t7, t0, t1, t2, t3, t4, t5, t6, t7);
            _mm512_add_epi32(_mm512_permutexvar_epi32(kb, tab), _mm512_slli_epi32::<20>(kb))
        })
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn reduce_add(self) -> f32 {
        // SAFETY: the invariant (module doc).
        unsafe { _mm512_reduce_add_ps(self.0) }
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn to_lanes(self, out: &mut [f32]) {
        self.store(out)
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn all_set(self) -> bool {
        // SAFETY: the invariant (module doc).
        unsafe { _mm512_movepi32_mask(self.bits()) == 0xffff }
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn frexp(self) -> (Self, Self) {
        let bits = self.bits();
        // SAFETY: the invariant (module doc).
        unsafe {
            let e = _mm512_and_si512(_mm512_srai_epi32::<23>(bits), _mm512_set1_epi32(0xff));
            let m = _mm512_or_si512(
                _mm512_and_si512(bits, _mm512_set1_epi32(0x807f_ffff_u32 as i32)),
                _mm512_set1_epi32(0x3f00_0000),
            );
            (Self::of_bits(m), Self(_mm512_cvtepi32_ps(_mm512_sub_epi32(e, _mm512_set1_epi32(126)))))
        }
    }
}

/// Whether this CPU and OS run the backend: AVX, AVX2, FMA, F16C and AVX-512F/DQ/BW/VL,
/// with the OS saving the ZMM and opmask state (`is_x86_feature_detected!` checks XCR0).
/// Tests call [`Avx512`]'s methods only where this is true; it prints a note where not.
#[cfg(test)]
pub(crate) fn detected() -> bool {
    extern crate std;
    let ok = std::is_x86_feature_detected!("avx")
        && std::is_x86_feature_detected!("avx2")
        && std::is_x86_feature_detected!("fma")
        && std::is_x86_feature_detected!("f16c")
        && std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512dq")
        && std::is_x86_feature_detected!("avx512bw")
        && std::is_x86_feature_detected!("avx512vl");
    if !ok {
        std::eprintln!("skipped: this CPU lacks x86-64-v4's AVX-512F/DQ/BW/VL, AVX2, FMA or F16C");
    }
    ok
}

#[cfg(test)]
mod tests {
    //! Every method against `wide::f32x16` (through its [`Vector`] impl, `wide_impl`) on
    //! special values and random bit patterns, run through `Avx512`'s entry points (`outlineN`) once the
    //! CPU's features are detected (the module's invariant).
    extern crate std;

    use super::{Avx512, detected};
    use crate::simd::backend::avx2::Avx2;
    use crate::simd::vector::{EXP_ARG_LIM, EXP_MAGIC, Eights, POW2_EIGHTHS_BIASED, Vector};
    use half::f16;
    use std::vec::Vec;
    use wide::f32x16;

    /// The portable backend at 16 lanes (AVX-512 on a v4 build, emulated elsewhere).
    type W = f32x16;
    type Arr = [f32; 16];

    /// Zeros, subnormals, the normal range's ends, infinities, quiet and signalling NaNs
    /// with payloads of either sign, the exp's bounds and magic constants.
    const SPECIALS: [u32; 32] = [
        0x0000_0000, // 0
        0x8000_0000, // -0
        0x0000_0001, // smallest subnormal
        0x8000_0001,
        0x007f_ffff, // largest subnormal
        0x807f_ffff,
        0x0080_0000, // f32::MIN_POSITIVE
        0x8080_0000,
        0x3f80_0000, // 1
        0xbf80_0000, // -1
        0x3f00_0000, // 0.5
        0x4000_0000, // 2
        0xc060_0000, // -3.5
        0x42ae_999a, // 87.3
        0xc2ae_999a, // -87.3
        0x42ae_999b, // 87.3 + 1 ULP
        0xc2c8_0000, // -100
        0x7149_f2ca, // 1e30
        0x8da2_4260, // -1e-30
        0x7f7f_ffff, // f32::MAX
        0xff7f_ffff, // f32::MIN
        0x7f80_0000, // inf
        0xff80_0000, // -inf
        0x7fc0_0000, // NaN
        0xffc0_0000, // -NaN
        0x7fc0_1234, // quiet NaN, payload
        0xffe1_2345,
        0x7f80_0001, // signalling NaN
        0xff80_0042,
        0x7fbf_ffff,
        0x4b40_007f, // EXP_MAGIC
        0x4b40_03f8, // 1.5 * 2^23 + 8 * 127
    ];

    /// A xorshift generator of bit patterns (every exponent, NaNs included).
    struct Bits(u32);
    impl Bits {
        fn next(&mut self) -> u32 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 17;
            self.0 ^= self.0 << 5;
            self.0
        }
        /// A float in `(-2^e, 2^e)` (a moderate range where sums and products are
        /// neither exact nor saturated).
        fn moderate(&mut self, e: i32) -> f32 {
            (self.next() as i32) as f32 * 2f32.powi(e - 31)
        }
    }

    /// The values as vectors of 16 (the last padded with 1).
    fn vectors(v: &[f32]) -> Vec<Arr> {
        v.chunks(16).map(|c| core::array::from_fn(|i| c.get(i).copied().unwrap_or(1.0))).collect()
    }

    /// Operand triples: every pair of specials (`c` cycling through them too), then 4096
    /// vectors of random bit patterns, then 1024 of moderate values.
    fn operands() -> Vec<[Arr; 3]> {
        let s = SPECIALS.map(f32::from_bits);
        let n = s.len();
        let a: Vec<f32> = (0..n * n).map(|k| s[k / n]).collect();
        let b: Vec<f32> = (0..n * n).map(|k| s[k % n]).collect();
        let c: Vec<f32> = (0..n * n).map(|k| s[(k * 7 + 3) % n]).collect();
        let mut out: Vec<[Arr; 3]> =
            vectors(&a).into_iter().zip(vectors(&b)).zip(vectors(&c)).map(|((a, b), c)| [a, b, c]).collect();
        let mut r = Bits(0x2545_f491);
        for _ in 0..4096 {
            out.push(core::array::from_fn(|_| core::array::from_fn(|_| f32::from_bits(r.next()))));
        }
        for _ in 0..1024 {
            out.push(core::array::from_fn(|_| core::array::from_fn(|_| r.moderate(8))));
        }
        out
    }

    /// Asserts `got == want` lane by lane, bit for bit; any NaN for a NaN where `any_nan`
    /// (where IEEE leaves the payload to the operand order, which LLVM may commute).
    #[track_caller]
    fn same(what: &str, ins: &[Arr], got: Arr, want: Arr, any_nan: bool) {
        for i in 0..16 {
            let (g, w) = (got[i], want[i]);
            let ok = g.to_bits() == w.to_bits() || (any_nan && g.is_nan() && w.is_nan());
            let ins: Vec<u32> = ins.iter().map(|v| v[i].to_bits()).collect();
            assert!(
                ok,
                "{what}: lane {i} of {ins:#010x?}: {:#010x} ({g:e}), want {:#010x} ({w:e})",
                g.to_bits(),
                w.to_bits()
            );
        }
    }

    fn v(a: &Arr) -> Avx512 {
        Avx512::from_arr(a)
    }

    fn w(a: &Arr) -> W {
        W::from_arr(a)
    }

    /// `a * b + c` rounded once: the product is exact in f64, the sum is rounded to odd
    /// (its error from `TwoSum`), and a value rounded to odd at 53 bits rounds to 24 as
    /// the exact value does.
    fn fma_ref(a: f32, b: f32, c: f32) -> f32 {
        let (p, c) = (f64::from(a) * f64::from(b), f64::from(c));
        let s = p + c;
        if !s.is_finite() {
            return s as f32;
        }
        let bb = s - p;
        let err = (p - (s - bb)) + (c - bb);
        let s = if err != 0.0 && s.to_bits() & 1 == 0 {
            // Away from zero where the error has the sum's sign, else toward it.
            f64::from_bits(if (err > 0.0) == (s > 0.0) { s.to_bits() + 1 } else { s.to_bits() - 1 })
        } else {
            s
        };
        s as f32
    }

    #[test]
    fn fma_ref_rounds_once() {
        // `(2^12 + 1)^2 + 2^-30 = 2^24 + 2^13 + 1 + 2^-30`, just above a tie of f32: rounded
        // once it goes up; through f64 (to the tie) then f32 (to even) it would go down.
        let (a, b, c) = (4097.0f32, 4097.0f32, 2f32.powi(-30));
        assert_eq!(((f64::from(a) * f64::from(b) + f64::from(c)) as f32).to_bits(), 16_785_408f32.to_bits());
        assert_eq!(fma_ref(a, b, c).to_bits(), 16_785_410f32.to_bits());
        assert_eq!(fma_ref(a, b, c).to_bits(), a.mul_add(b, c).to_bits());
        assert_eq!(fma_ref(-a, b, -c).to_bits(), (-16_785_410f32).to_bits());
        let mut r = Bits(7);
        for _ in 0..100_000 {
            let (a, b, c) = (r.moderate(4), r.moderate(4), r.moderate(8));
            assert_eq!(fma_ref(a, b, c).to_bits(), a.mul_add(b, c).to_bits(), "{a:e} {b:e} {c:e}");
        }
    }

    #[test]
    fn arithmetic_matches_wide() {
        if !detected() {
            return;
        }
        let ops = operands();
        crate::simd::backend::in_entry::<Avx512, _>(|| {
            for [a, b, c] in &ops {
                let ins = &[*a, *b, *c];
                let (va, vb, wa, wb) = (v(a), v(b), w(a), w(b));
                same("add", ins, (va + vb).to_arr(), (wa + wb).to_arr(), true);
                same("sub", ins, (va - vb).to_arr(), (wa - wb).to_arr(), true);
                same("mul", ins, (va * vb).to_arr(), (wa * wb).to_arr(), true);
                same("div", ins, (va / vb).to_arr(), (wa / wb).to_arr(), true);
                same("neg", ins, (-va).to_arr(), (-wa).to_arr(), false);
                same("abs", ins, va.abs().to_arr(), wa.abs().to_arr(), false);
                same("and", ins, (va & vb).to_arr(), (wa & wb).to_arr(), false);
                same("or", ins, (va | vb).to_arr(), (wa | wb).to_arr(), false);
                // The native max and min: NaN in `b` comes out as it is, NaN in `a` not.
                let max = Avx512::max_nan_b(va, vb).to_arr();
                same("max_nan_b", ins, max, W::max_nan_b(wa, wb).to_arr(), false);
                let min = Avx512::min_nan_b(va, vb).to_arr();
                same("min_nan_b", ins, min, W::min_nan_b(wa, wb).to_arr(), false);
                for i in 0..16 {
                    assert!(!b[i].is_nan() || max[i].to_bits() == b[i].to_bits(), "max {:?}", (a[i], b[i]));
                    assert!(!b[i].is_nan() || min[i].to_bits() == b[i].to_bits(), "min {:?}", (a[i], b[i]));
                }
                let want = core::array::from_fn(|i| fma_ref(a[i], b[i], c[i]));
                same("mul_add", ins, va.mul_add(vb, v(c)).to_arr(), want, true);
            }
        });
    }

    #[test]
    fn masks_and_select_match_wide() {
        if !detected() {
            return;
        }
        let ops = operands();
        crate::simd::backend::in_entry::<Avx512, _>(|| {
            for [a, b, c] in &ops {
                let ins = &[*a, *b, *c];
                let (va, vb, vc, wa, wb, wc) = (v(a), v(b), v(c), w(a), w(b), w(c));
                let masks = [
                    ("gt", va.gt(vb), wa.gt(wb)),
                    ("ge", va.ge(vb), wa.ge(wb)),
                    ("lt", va.lt(vb), wa.lt(wb)),
                    ("eq", va.eq(vb), wa.eq(wb)),
                    ("eq self", va.eq(va), wa.eq(wa)),
                ];
                for (what, m, wm) in masks {
                    let ma = m.to_arr();
                    same(what, ins, ma, wm.to_arr(), false);
                    assert!(
                        ma.iter().all(|x| x.to_bits() == 0 || x.to_bits() == u32::MAX),
                        "{what}: not a mask"
                    );
                    assert_eq!(m.all_set(), wm.all_set(), "{what}: all_set of {ma:?}");
                    let sel = Avx512::select(m, vb, vc).to_arr();
                    same("select", ins, sel, W::select(wm, wb, wc).to_arr(), false);
                }
            }
        });
    }

    #[test]
    fn all_set_of_masks() {
        if !detected() {
            return;
        }
        crate::simd::backend::in_entry::<Avx512, _>(|| {
            let one = Avx512::splat(1.0);
            assert!(one.eq(one).all_set());
            assert!(!one.lt(one).all_set());
            for i in 0..16 {
                let mut a = [1.0f32; 16];
                a[i] = 2.0;
                assert!(!v(&a).eq(one).all_set(), "lane {i}");
                assert!(v(&a).ge(one).all_set(), "lane {i}");
            }
        });
    }

    #[test]
    fn bit_tricks_match_wide() {
        if !detected() {
            return;
        }
        let ops = operands();
        crate::simd::backend::in_entry::<Avx512, _>(|| {
            for [a, ..] in &ops {
                let ins = &[*a];
                let (va, wa) = (v(a), w(a));
                same("pow2_of_magic", ins, va.pow2_of_magic().to_arr(), wa.pow2_of_magic().to_arr(), false);
                // Against its definition, on every bit pattern (not against `f32x16`: on
                // v3 builds its 16-lane permute of two AVX2 registers zeroes indices past
                // 15 rather than wrapping them).
                let want = a.map(|x| {
                    let k = x.to_bits() as i32;
                    f32::from_bits(POW2_EIGHTHS_BIASED[(k & 7) as usize].wrapping_add(k << 20) as u32)
                });
                same("pow2_eighths_of_magic", ins, va.pow2_eighths_of_magic().to_arr(), want, false);
                let ((m, e), (wm, we)) = (va.frexp(), wa.frexp());
                same("frexp m", ins, m.to_arr(), wm.to_arr(), false);
                same("frexp e", ins, e.to_arr(), we.to_arr(), false);
            }
            // Their domains: `2^n` and `2^(n + j/8)` exactly.
            for n in -126..=127 {
                let k = Avx512::splat(n as f32 + 12_583_039.0);
                assert_eq!(k.pow2_of_magic().to_arr(), [2f32.powi(n); 16], "2^{n}");
                let k = Avx512::splat((8 * n) as f32 + 12_583_928.0)
                    + v(&core::array::from_fn(|j| (j % 8) as f32));
                let got = k.pow2_eighths_of_magic().to_arr();
                for (j, g) in got.iter().enumerate() {
                    let want = (f64::from(n) + (j % 8) as f64 / 8.0).exp2();
                    assert!(
                        (f64::from(*g) / want - 1.0).abs() <= f64::from(f32::EPSILON) / 2.0,
                        "2^({n} + {j}/8)"
                    );
                }
            }
        });
    }

    #[test]
    fn clamp_exp_arg_clamps_both_ends() {
        if !detected() {
            return;
        }
        let ops = operands();
        crate::simd::backend::in_entry::<Avx512, _>(|| {
            for [a, ..] in &ops {
                let got = v(a).clamp_exp_arg().to_arr();
                for (g, x) in got.iter().zip(a) {
                    if x.is_nan() {
                        assert!(g.is_nan() || g.abs() <= EXP_ARG_LIM, "{x:?} ({:#x}) -> {g}", x.to_bits());
                    } else {
                        let want = x.clamp(-EXP_ARG_LIM, EXP_ARG_LIM);
                        assert_eq!(g.to_bits(), want.to_bits(), "{x:e} -> {g:e}, want {want:e}");
                    }
                }
            }
        });
    }

    #[test]
    fn reduce_add_matches_sums() {
        if !detected() {
            return;
        }
        let ops = operands();
        let mut r = Bits(99);
        crate::simd::backend::in_entry::<Avx512, _>(|| {
            // Sums exact in f32 (integers below 2^19): the same bits as wide's, whatever
            // the order.
            for _ in 0..1000 {
                let a: Arr = core::array::from_fn(|_| ((r.next() >> 13) as i32 - (1 << 18)) as f32);
                assert_eq!(v(&a).reduce_add().to_bits(), w(&a).reduce_add().to_bits(), "{a:?}");
            }
            // Otherwise within 15 roundings of the f64 sum (its order is the intrinsic's),
            // infinities and NaN as IEEE makes them in any order.
            for [a, ..] in &ops {
                let got = v(a).reduce_add();
                let sum: f64 = a.iter().map(|&x| f64::from(x)).sum();
                let abs: f64 = a.iter().map(|&x| f64::from(x).abs()).sum();
                if sum.is_nan() {
                    assert!(got.is_nan(), "{a:?}: {got}");
                } else if sum.is_infinite() {
                    assert_eq!(got, sum as f32, "{a:?}");
                } else if abs < f64::from(f32::MAX) / 2.0 {
                    let bound = 15.0 * f64::from(f32::EPSILON / 2.0) * abs + 1e-45;
                    assert!((f64::from(got) - sum).abs() <= bound, "{a:?}: {got:e}, f64 {sum:e}");
                }
            }
        });
    }

    #[test]
    fn memory_methods() {
        if !detected() {
            return;
        }
        let ops = operands();
        crate::simd::backend::in_entry::<Avx512, _>(|| {
            for [a, ..] in &ops {
                // Loads and stores move bits, signalling NaNs included.
                same("to_arr", &[*a], v(a).to_arr(), *a, false);
                let mut out = [0.0f32; 20];
                v(a).to_lanes(&mut out);
                same("to_lanes", &[*a], out[..16].try_into().unwrap(), *a, false);
                assert_eq!(out[16..], [0.0; 4]);
            }
            let a: Arr = core::array::from_fn(|i| i as f32);
            let s: Vec<f32> = (0..40).map(|i| i as f32).collect();
            assert_eq!(Avx512::load_or(&s[3..], -1.0).to_arr(), core::array::from_fn(|i| (i + 3) as f32));
            let short = Avx512::load_or(&s[..5], -1.0).to_arr();
            assert_eq!(short, core::array::from_fn(|i| if i < 5 { i as f32 } else { -1.0 }));
            let mut out = [9.0f32; 5];
            v(&a).store(&mut out);
            assert_eq!(out, [0.0, 1.0, 2.0, 3.0, 4.0]);
            let mut out = [9.0f32; 17];
            v(&a).store(&mut out);
            assert_eq!(out[..16], a);
            assert_eq!(out[16], 9.0);
            assert_eq!(Avx512::splat(-2.5).to_arr(), [-2.5; 16]);
            let (whole, tail) = Avx512::split(&s);
            assert_eq!((whole.len(), tail.len(), whole[1][0], tail[0]), (2, 8, 16.0, 32.0));
            let mut m = s.clone();
            let (whole, tail) = Avx512::split_mut(&mut m[1..]);
            assert_eq!((whole.len(), tail.len(), whole[0][0], tail[0]), (2, 7, 1.0, 33.0));
            let h: Vec<f16> = (0..35).map(|i| f16::from_f32(i as f32)).collect();
            let (whole, tail) = Avx512::split_f16(&h);
            assert_eq!(
                (whole.len(), tail.len(), whole[1][0], tail[2]),
                (2, 3, f16::from_f32(16.0), f16::from_f32(34.0))
            );
        });
    }

    #[test]
    fn f16_rounding_matches_half() {
        if detected() {
            crate::simd::backend::in_entry::<Avx512, _>(crate::simd::backend::check_f16_rounding::<Avx512>);
        }
    }

    /// Every f16 bit pattern widens exactly as `half` widens it (NaN to NaN).
    #[test]
    fn from_f16_is_exact_for_every_value() {
        if !detected() {
            return;
        }
        crate::simd::backend::in_entry::<Avx512, _>(|| {
            for hi in 0..(1u32 << 12) {
                let h: [f16; 16] = core::array::from_fn(|i| f16::from_bits((hi * 16 + i as u32) as u16));
                let want = h.map(f16::to_f32);
                same("from_f16", &[want], Avx512::from_f16(&h).to_arr(), want, true);
            }
        });
    }

    #[test]
    fn from_eights_joins_in_order() {
        if !detected() {
            return;
        }
        crate::simd::backend::in_entry::<Avx512, _>(|| {
            let e: [Avx2; 3] =
                core::array::from_fn(|k| Avx2::new(core::array::from_fn(|i| (8 * k + i) as f32)));
            let want: Arr = core::array::from_fn(|i| i as f32);
            assert_eq!(Avx512::from_eights(&e).to_arr(), want);
            assert_eq!(Avx512::from_eights(&e[..2]).to_arr(), want);
        });
    }

    /// `wide`'s vector for [`transcendentals_match_wide`]: `f32x16` where it is one AVX-512
    /// register (v4 builds), `f32x8` twice elsewhere (on v3 builds `f32x16`'s 16-lane
    /// permute of two AVX2 registers zeroes indices past 15, so its table exp is not
    /// lane-wise; `f32x8`'s `vpermd` wraps them as AVX-512's does).
    #[cfg(xent_v4)]
    type Ref = f32x16;
    #[cfg(not(xent_v4))]
    type Ref = wide::f32x8;

    /// `f` on `a` through [`Ref`], `16 / Ref::LANES` vectors.
    fn on_ref(a: &Arr, f: impl Fn(Ref) -> Ref) -> Arr {
        let mut out = [0.0f32; 16];
        for (o, x) in out.chunks_mut(Ref::LANES).zip(a.chunks(Ref::LANES)) {
            f(Ref::load_or(x, 0.0)).store(o);
        }
        out
    }

    /// Where `wide` itself has AVX2 and FMA (x86-64-v3 and v4 builds: the fused and table
    /// branches), the provided methods run the same lane-wise operations on both: bit for
    /// bit the same results.
    #[test]
    #[cfg_attr(
        not(all(target_feature = "avx2", target_feature = "fma")),
        ignore = "x86-64-v3 and v4 builds only (wide has no FMA or no table exp elsewhere); CI runs them"
    )]
    fn transcendentals_match_wide() {
        if !detected() {
            return;
        }
        let mut ops = operands();
        let mut r = Bits(0x0bad_f00d);
        for _ in 0..1024 {
            ops.push(core::array::from_fn(|_| {
                core::array::from_fn(|_| -88.0 * (r.next() >> 8) as f32 / 16_777_216.0)
            }));
        }
        let magic = EXP_MAGIC - 300.0;
        crate::simd::backend::in_entry::<Avx512, _>(|| {
            for [a, b, _] in &ops {
                let ins = &[*a, *b];
                let (x, xb) = (v(a), v(b));
                let pairs = [
                    ("exp_le0", x.exp_le0().to_arr(), on_ref(a, |y| y.exp_le0())),
                    ("exp_le0_fast", x.exp_le0_fast().to_arr(), on_ref(a, |y| y.exp_le0_fast())),
                    ("expm1_le0", x.expm1_le0().to_arr(), on_ref(a, |y| y.expm1_le0())),
                    ("exp_parts.0", x.exp_parts().0.to_arr(), on_ref(a, |y| y.exp_parts().0)),
                    ("exp_parts.1", x.exp_parts().1.to_arr(), on_ref(a, |y| y.exp_parts().1)),
                    ("exp_parts_sum.0", x.exp_parts_sum().0.to_arr(), on_ref(a, |y| y.exp_parts_sum().0)),
                    ("exp_parts_sum.1", x.exp_parts_sum().1.to_arr(), on_ref(a, |y| y.exp_parts_sum().1)),
                    (
                        "exp_parts_sum_poly.0",
                        x.exp_parts_sum_poly().0.to_arr(),
                        on_ref(a, |y| y.exp_parts_sum_poly().0),
                    ),
                    (
                        "exp_parts_sum_poly.1",
                        x.exp_parts_sum_poly().1.to_arr(),
                        on_ref(a, |y| y.exp_parts_sum_poly().1),
                    ),
                    (
                        "exp_parts_sum_poly_at.0",
                        xb.exp_parts_sum_poly_at(Avx512::splat(magic)).0.to_arr(),
                        on_ref(b, |y| y.exp_parts_sum_poly_at(Ref::splat(magic)).0),
                    ),
                    ("ln_fast", x.abs().ln_fast().to_arr(), on_ref(a, |y| y.abs().ln_fast())),
                    ("ln_full", x.abs().ln_full().to_arr(), on_ref(a, |y| y.abs().ln_full())),
                    ("log1p_unit", x.abs().log1p_unit().to_arr(), on_ref(a, |y| y.abs().log1p_unit())),
                    ("tanh", xb.tanh_sech2().0.to_arr(), on_ref(b, |y| y.tanh_sech2().0)),
                    ("sech2", xb.tanh_sech2().1.to_arr(), on_ref(b, |y| y.tanh_sech2().1)),
                ];
                for (what, got, want) in pairs {
                    same(what, ins, got, want, true);
                }
            }
        });
    }

    /// Aligned (a non-temporal store) and unaligned (a plain one) outputs both hold the
    /// lanes after the fence.
    #[test]
    fn stream_writes_aligned_and_unaligned() {
        #[repr(C, align(64))]
        struct Buf([f32; 64]);
        if !detected() {
            return;
        }
        let a: Arr = core::array::from_fn(|i| i as f32 - 7.5);
        let mut buf = Buf([0.0; 64]);
        crate::simd::backend::in_entry::<Avx512, _>(|| {
            let (whole, _) = buf.0.as_chunks_mut::<16>();
            v(&a).stream(&mut whole[1]);
            let un: &mut Arr = (&mut buf.0[33..49]).try_into().unwrap();
            v(&a).stream(un);
            Avx512::stream_fence();
        });
        assert_eq!(buf.0[16..32], a);
        assert_eq!(buf.0[33..49], a);
        assert!(buf.0[..16].iter().chain(&buf.0[32..33]).chain(&buf.0[49..]).all(|x| *x == 0.0));
    }
}
