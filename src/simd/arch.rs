//! The crate's only `unsafe` code: instructions `wide` does not expose, each behind the
//! `cfg` of the target feature it needs. Every block states why it is sound.
#![allow(unsafe_code)]

/// Eight f16 values widened to f32 (`vcvtph2ps`, exact).
#[cfg(all(target_arch = "x86_64", target_feature = "f16c"))]
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn f16x8_to_f32x8(h: &[half::f16; 8]) -> [f32; 8] {
    use core::arch::x86_64::{__m128i, __m256, _mm256_cvtph_ps};
    let bits: __m128i = wide::bytemuck::cast(h.map(half::f16::to_bits));
    // SAFETY: `_mm256_cvtph_ps` needs F16C (and AVX for its 256-bit result), and this
    // function is compiled only where the build enables F16C for every CPU it runs on
    // (`cfg(target_feature = "f16c")`, which implies AVX); it reads no memory.
    let v: __m256 = unsafe { _mm256_cvtph_ps(bits) };
    wide::bytemuck::cast(v)
}

#[cfg(all(test, target_arch = "x86_64", target_feature = "f16c"))]
mod tests {
    use half::f16;

    /// Every f16 bit pattern widens exactly as `half` widens it (NaN to NaN).
    #[test]
    fn f16_widening_is_exact_for_every_value() {
        for hi in 0..(1u32 << 13) {
            let h: [f16; 8] = core::array::from_fn(|i| f16::from_bits((hi * 8 + i as u32) as u16));
            let got = super::f16x8_to_f32x8(&h);
            for (g, v) in got.iter().zip(h) {
                let want = v.to_f32();
                assert!(
                    g.to_bits() == want.to_bits() || (g.is_nan() && want.is_nan()),
                    "{:#06x}: {g} != {want}",
                    v.to_bits()
                );
            }
        }
    }
}
