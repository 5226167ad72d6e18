//! The crate's only `unsafe` code: instructions `wide` does not expose, each behind the
//! `cfg` of the target feature it needs. Every block states why it is sound.
#![allow(unsafe_code)]

/// Eight f16 values widened to f32 (`vcvtph2ps`, exact).
#[cfg(xent_f16c)]
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

/// `copysign(min(|v|, lim), v)` lane-wise, `lim >= 0`: `v` clamped to `[-lim, lim]` in one
/// instruction (AVX-512DQ `vrangeps`, "minimum of magnitudes, sign of the first operand").
/// A quiet NaN in `v` is taken for missing (the lane gives `lim`), a signalling one gives
/// NaN: callers must not count on either. The row sweep's exp argument: both ends of its
/// range for the price of the lower one.
#[cfg(all(target_arch = "x86_64", target_feature = "avx512dq"))]
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn clamp_abs16(v: [f32; 16], lim: f32) -> [f32; 16] {
    use core::arch::x86_64::{_mm512_loadu_ps, _mm512_range_ps, _mm512_set1_ps, _mm512_storeu_ps};
    let mut out = [0.0f32; 16];
    // SAFETY: `v.as_ptr()` points to 16 readable f32 and `out.as_mut_ptr()` to 16
    // writable ones (unaligned loads and stores allowed; LLVM keeps the values in a
    // register); `vrangeps` reads and writes no memory. The build enables AVX-512F and
    // AVX-512DQ for every CPU it runs on (`cfg(target_feature = "avx512dq")`, which
    // implies AVX-512F).
    unsafe {
        let r = _mm512_range_ps::<0b0010>(_mm512_loadu_ps(v.as_ptr()), _mm512_set1_ps(lim));
        _mm512_storeu_ps(out.as_mut_ptr(), r);
    }
    out
}

/// Writes 16 f32 to `dst` with non-temporal stores (`vmovntps`: the line goes to memory
/// without first being read into the caches) when `dst` is 64-byte aligned, with an
/// ordinary store otherwise (and on builds without AVX-512F).
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn stream16(dst: &mut [f32; 16], v: [f32; 16]) {
    // Not under Miri (which runs no AVX-512 anyway): stdarch's `vmovntps` is inline asm.
    #[cfg(all(target_arch = "x86_64", target_feature = "avx512f", not(miri)))]
    {
        use core::arch::x86_64::{_mm512_loadu_ps, _mm512_stream_ps};
        let p = dst.as_mut_ptr();
        if (p as usize).is_multiple_of(64) {
            // SAFETY: `v.as_ptr()` points to 16 readable f32 (unaligned loads allowed);
            // `p` points to 16 writable f32 (it comes from `&mut [f32; 16]`) and is 64-byte
            // aligned (checked above), as `_mm512_stream_ps` requires; the build enables
            // AVX-512F for every CPU it runs on (`cfg(target_feature = "avx512f")`).
            unsafe { _mm512_stream_ps(p, _mm512_loadu_ps(v.as_ptr())) };
            return;
        }
    }
    *dst = v;
}

/// [`stream16`] for 8 f32: `vmovntps` of 32 bytes where the build has AVX and `dst` is
/// 32-byte aligned.
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn stream8(dst: &mut [f32; 8], v: [f32; 8]) {
    // Not under Miri: stdarch writes `vmovntps` as inline assembly, which Miri cannot run.
    #[cfg(all(target_arch = "x86_64", target_feature = "avx", not(miri)))]
    {
        use core::arch::x86_64::{_mm256_loadu_ps, _mm256_stream_ps};
        let p = dst.as_mut_ptr();
        if (p as usize).is_multiple_of(32) {
            // SAFETY: `v.as_ptr()` points to 8 readable f32 (unaligned loads allowed); `p`
            // points to 8 writable f32 (from `&mut [f32; 8]`) and is 32-byte aligned
            // (checked above), as `_mm256_stream_ps` requires; the build enables AVX for
            // every CPU it runs on (`cfg(target_feature = "avx")`).
            unsafe { _mm256_stream_ps(p, _mm256_loadu_ps(v.as_ptr())) };
            return;
        }
    }
    *dst = v;
}

/// Asks for the cache line `bytes` past `p` to be brought into the caches, into L1 and
/// L2 with `L1` (`prefetcht0`), into L2 otherwise (`prefetcht1`), whatever that address
/// holds: a prefetch is a hint, not an access, and `p` is never dereferenced. Nothing on
/// builds without SSE.
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn prefetch<const L1: bool, P>(p: *const P, bytes: usize) {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse"))]
    {
        use core::arch::x86_64::{_MM_HINT_T0, _MM_HINT_T1, _mm_prefetch};
        let a = p.cast::<i8>().wrapping_add(bytes);
        // SAFETY: a prefetch reads nothing the program sees and cannot fault, at any
        // address (`wrapping_add` makes no claim that `a` stays inside an allocation, and
        // nothing dereferences it). SSE is enabled for the build (`cfg`).
        unsafe { if L1 { _mm_prefetch::<_MM_HINT_T0>(a) } else { _mm_prefetch::<_MM_HINT_T1>(a) } };
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse")))]
    let _ = (p, bytes);
}

/// Orders the non-temporal stores before it before every store after it (`sfence`);
/// nothing on builds without AVX (which never stream).
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn stream_fence() {
    // SAFETY: `sfence` needs SSE, which the build enables (`cfg(target_feature = "avx")`
    // implies it); it touches no memory. Not under Miri, which has no `sfence` (and runs
    // no streaming store to order).
    #[cfg(all(target_arch = "x86_64", target_feature = "avx", not(miri)))]
    unsafe {
        core::arch::x86_64::_mm_sfence()
    };
}

#[cfg(all(test, xent_f16c))]
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

#[cfg(all(test, target_arch = "x86_64", target_feature = "avx512dq"))]
mod tests_avx512dq {
    /// `clamp_abs16` is `v` clamped to `[-lim, lim]` for every class of value but NaN, which
    /// gives NaN or a value within `[-lim, lim]`.
    #[test]
    fn clamp_abs16_clamps_both_ends() {
        let lim = 87.3f32;
        let specials = [
            0.0,
            -0.0,
            1e-45,
            -1e-45,
            1.0,
            -1.0,
            4.0,
            87.299995,
            -87.299995,
            87.3,
            -87.3,
            87.300_01,
            -87.300_01,
            1e30,
            -1e30,
            f32::MAX,
            f32::MIN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            -f32::NAN,
            f32::from_bits(0x7f80_0001),
            f32::from_bits(0xffc0_1234),
        ];
        let mut s = 0x2545_f491_u32;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            f32::from_bits(s)
        };
        // The specials, then 256 vectors of random bit patterns (every exponent and NaN).
        let (head, rest) = specials.split_at(16);
        let mut vectors = [[0.0f32; 16]; 258];
        vectors[0].copy_from_slice(head);
        vectors[1][..rest.len()].copy_from_slice(rest);
        for v in &mut vectors[2..] {
            v.iter_mut().for_each(|x| *x = next());
        }
        for v in vectors {
            let got = super::clamp_abs16(v, lim);
            for (g, x) in got.iter().zip(v) {
                if x.is_nan() {
                    assert!(g.is_nan() || g.abs() <= lim, "{x:?} ({:#x}) -> {g}", x.to_bits());
                } else {
                    let want = x.clamp(-lim, lim);
                    assert_eq!(g.to_bits(), want.to_bits(), "{x:e} -> {g:e}, want {want:e}");
                }
            }
        }
    }
}
