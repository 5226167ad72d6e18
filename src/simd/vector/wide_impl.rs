//! [`Vector`] for `wide`'s `f32x8` and `f32x16`: the portable backend (AVX2 or AVX-512
//! where the build enables them, two SSE2 or NEON registers, or arrays), with the exp's
//! constants and tables.

use super::{EXP_ARG_LIM, Eights, POW2_EIGHTHS_BIASED, Vector, outline_plain};
use half::f16;
use half::slice::HalfFloatSliceExt;
use wide::{f32x8, f32x16};

macro_rules! impl_vector {
    ($v:ty, $i:ty, $lanes:literal, $from_i:ident, $one_sweep:literal, $stream:ident, $exp_arg:ident, $high:expr) => {
        impl Vector for $v {
            const LANES: usize = $lanes;
            const ONE_SWEEP: bool = $one_sweep;
            const CLAMPS_HIGH: bool = $high;
            const FMA: bool = cfg!(target_feature = "fma");
            const TABLE_EXP: bool = cfg!(all(target_feature = "avx2", target_feature = "fma"));
            const F16_IN_REGS: bool = cfg!(xent_f16c);
            const ENTRY: bool = false;
            type Eights = f32x8;
            type Arr = [f32; $lanes];
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn split(s: &[f32]) -> (&[Self::Arr], &[f32]) {
                s.as_chunks::<$lanes>()
            }
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn split_mut(s: &mut [f32]) -> (&mut [Self::Arr], &mut [f32]) {
                s.as_chunks_mut::<$lanes>()
            }
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn from_arr(a: &Self::Arr) -> Self {
                <$v>::new(*a)
            }
            type Halves = [f16; $lanes];
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn split_f16(s: &[f16]) -> (&[Self::Halves], &[f16]) {
                s.as_chunks::<$lanes>()
            }
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn from_f16(a: &Self::Halves) -> Self {
                // Eight at a time (F16C's width below AVX-512; LLVM joins two into one
                // 16-lane conversion where it can).
                #[cfg(xent_f16c)]
                {
                    let (eights, _) = a.as_chunks::<8>();
                    let mut out = [[0.0f32; 8]; $lanes / 8];
                    for (o, e) in out.iter_mut().zip(eights) {
                        *o = crate::simd::arch::f16x8_to_f32x8(e);
                    }
                    wide::bytemuck::cast(out)
                }
                #[cfg(not(xent_f16c))]
                <$v>::new(a.map(f16::to_f32))
            }
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn to_f16(self) -> Self::Halves {
                self.to_array().map(f16::from_f32)
            }
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn widen_f16(src: &[f16], dst: &mut [f32]) {
                src.convert_to_f32_slice(dst);
            }
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn narrow_f16(src: &[f32], dst: &mut [f16]) {
                dst.convert_from_f32_slice(src);
            }
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn split_f16_mut(s: &mut [f16]) -> (&mut [Self::Halves], &mut [f16]) {
                s.as_chunks_mut::<$lanes>()
            }
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn from_eights(e: &[f32x8]) -> Self {
                let (e, _) = e.as_chunks::<{ $lanes / 8 }>();
                wide::bytemuck::cast(e[0])
            }
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn to_arr(self) -> Self::Arr {
                self.to_array()
            }
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn splat(v: f32) -> Self {
                <$v>::splat(v)
            }
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn load_or(s: &[f32], pad: f32) -> Self {
                let (chunks, _) = s.as_chunks::<$lanes>();
                match chunks.first() {
                    Some(a) => <$v>::new(*a),
                    None => {
                        let mut a = [pad; $lanes];
                        for (d, v) in a.iter_mut().zip(s) {
                            *d = *v;
                        }
                        <$v>::new(a)
                    }
                }
            }
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn store(self, s: &mut [f32]) {
                let a = self.to_array();
                for (d, v) in s.iter_mut().zip(a.iter()) {
                    *d = *v;
                }
            }
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn stream(self, o: &mut Self::Arr) {
                crate::simd::arch::$stream(o, self.to_array())
            }
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn stream_fence() {
                crate::simd::arch::stream_fence()
            }
            super::outline_arities!(outline_plain);
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn mul_add(self, a: Self, b: Self) -> Self {
                <$v>::mul_add(self, a, b)
            }
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn max_nan_b(a: Self, b: Self) -> Self {
                // fast_max is the native max: on x86 it returns its second operand when
                // either is NaN; elsewhere it propagates NaN from both.
                a.fast_max(b)
            }
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn clamp_exp_arg(self) -> Self {
                $exp_arg(self)
            }
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn min_nan_b(a: Self, b: Self) -> Self {
                a.fast_min(b)
            }
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn abs(self) -> Self {
                <$v>::abs(self)
            }
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn gt(self, o: Self) -> Self {
                self.simd_gt(o)
            }
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn ge(self, o: Self) -> Self {
                self.simd_ge(o)
            }
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn lt(self, o: Self) -> Self {
                self.simd_lt(o)
            }
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn eq(self, o: Self) -> Self {
                self.simd_eq(o)
            }
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn select(mask: Self, t: Self, f: Self) -> Self {
                mask.select(t, f)
            }
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn pow2_of_magic(self) -> Self {
                let kb: $i = wide::bytemuck::cast(self);
                wide::bytemuck::cast(kb << 23u32)
            }
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn pow2_eighths_of_magic(self) -> Self {
                let kb: $i = wide::bytemuck::cast(self);
                #[cfg(not(all(target_feature = "avx2", target_feature = "fma")))]
                {
                    // No full-width permute: lane by lane (`TABLE_EXP` is false here).
                    let tj = kb.to_array().map(|k| POW2_EIGHTHS_BIASED[(k & 7) as usize]);
                    wide::bytemuck::cast(<$i>::new(tj) + (kb << 20u32))
                }
                #[cfg(all(target_feature = "avx2", target_feature = "fma"))]
                {
                let mut tab = [0i32; $lanes];
                for (d, s) in tab.iter_mut().zip(POW2_EIGHTHS_BIASED.iter().cycle()) {
                    *d = *s;
                }
                // x86's permutes (vpermd) take the low 3 (8 lanes) or 4 (16 lanes) bits of
                // each index, and the table repeats every 8 lanes, so bit 3 (the low bit of
                // `n + 127`) picks the same entry: no mask. The unit sweep of the exp
                // would fail at once if the permute did otherwise.
                let tj = <$i>::new(tab).shuffle(wide::bytemuck::cast(kb));
                wide::bytemuck::cast(tj + (kb << 20u32))
                }
            }
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn reduce_add(self) -> f32 {
                <$v>::reduce_add(self)
            }
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn to_lanes(self, out: &mut [f32]) {
                self.store(out)
            }
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn all_set(self) -> bool {
                <$v>::all(self)
            }
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn frexp(self) -> (Self, Self) {
                let bits: $i = wide::bytemuck::cast(self);
                let e = (bits >> 23u32) & <$i>::splat(0xff);
                let m = (bits & <$i>::splat(0x807f_ffff_u32 as i32)) | <$i>::splat(0x3f00_0000);
                (wide::bytemuck::cast(m), <$v>::$from_i(e - <$i>::splat(126)))
            }
        }
    };
}

impl Eights for f32x8 {
    const ZERO: Self = f32x8::ZERO;
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn new(a: [f32; 8]) -> Self {
        f32x8::new(a)
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn to_array(self) -> [f32; 8] {
        f32x8::to_array(self)
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn from_halves(h: &[f16; 8]) -> Self {
        <f32x8 as Vector>::from_f16(h)
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn transpose(rows: [Self; 8]) -> [Self; 8] {
        f32x8::transpose(rows)
    }
}

impl_vector!(f32x8, wide::i32x8, 8, from_i32x8, false, stream8, exp_arg8, false);
impl_vector!(
    f32x16,
    wide::i32x16,
    16,
    from_i32x16,
    true,
    stream16,
    exp_arg16,
    cfg!(all(target_arch = "x86_64", target_feature = "avx512dq"))
);

/// [`Vector::clamp_exp_arg`] of 8 lanes: two instructions, NaN kept (no 8-lane build
/// calls it: the two-sweep rows take their maximum first anyway).
#[cfg_attr(not(xent_opt0), inline(always))]
fn exp_arg8(t: f32x8) -> f32x8 {
    f32x8::splat(EXP_ARG_LIM).fast_min(f32x8::splat(-EXP_ARG_LIM).fast_max(t))
}

/// [`Vector::clamp_exp_arg`] of 16 lanes: one `vrangeps` with AVX-512DQ; two
/// instructions elsewhere (16-lane vectors emulated, in tests), NaN kept.
#[cfg_attr(not(xent_opt0), inline(always))]
fn exp_arg16(t: f32x16) -> f32x16 {
    #[cfg(all(target_arch = "x86_64", target_feature = "avx512dq"))]
    {
        f32x16::new(crate::simd::arch::clamp_abs16(t.to_array(), EXP_ARG_LIM))
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "avx512dq")))]
    {
        f32x16::splat(EXP_ARG_LIM).fast_min(f32x16::splat(-EXP_ARG_LIM).fast_max(t))
    }
}
