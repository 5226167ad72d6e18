//! f16/bf16 inputs widened into f32 stack blocks of [`CONVERT_BLOCK`] values (1 KiB), or
//! one vector at a time; f32 inputs pass through unconverted.

use super::lanes::PREFETCH_BYTES;
use crate::Element;
use crate::simd::vector::Vector;

/// f32 values per conversion block for f16/bf16 rows (1 KiB of stack).
pub(crate) const CONVERT_BLOCK: usize = 256;

/// A stack block of [`CONVERT_BLOCK`] f32 aligned to a cache line, so that no vector stored into it
/// or loaded from it straddles two lines.
#[repr(C, align(64))]
pub(crate) struct StackBlock(pub(crate) [f32; CONVERT_BLOCK]);

impl StackBlock {
    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn new() -> Self {
        StackBlock([0.0; CONVERT_BLOCK])
    }
}

/// Widens `src` into `dst`, `min(src.len(), dst.len())` values: f16 by the backend
/// ([`Vector::widen_f16`], F16C on the x86 backends whatever the build enables), other
/// types by [`Element::load_block`].
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn widen<W: Vector, T: Element>(src: &[T], dst: &mut [f32]) {
    let n = src.len().min(dst.len());
    match T::as_f16(src) {
        Some(h) => W::widen_f16(&h[..n], &mut dst[..n]),
        None => T::load_block(src, dst),
    }
}

/// Rounds `src` into `dst`, `min(src.len(), dst.len())` values: f16 by the backend
/// ([`Vector::narrow_f16`]), other types by [`Element::store_block`].
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn narrow<W: Vector, T: Element>(src: &[f32], dst: &mut [T]) {
    let n = src.len().min(dst.len());
    match T::as_f16_mut(dst) {
        Some(h) => W::narrow_f16(&src[..n], &mut h[..n]),
        None => T::store_block(src, dst),
    }
}

/// Calls `f(offset, block)` over consecutive f32 blocks of `x`: `x` itself for f32,
/// converted stack blocks of [`CONVERT_BLOCK`] values otherwise.
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn for_blocks<W: Vector, T: Element>(x: &[T], f: impl FnMut(usize, &[f32])) {
    match T::as_f32(x) {
        Some(r) => for_blocks_in::<W, f32>(r, &mut [], f),
        None => for_blocks_in::<W, T>(x, &mut StackBlock::new().0, f),
    }
}

/// [`for_blocks`] converting into the caller's `buf` of at least [`CONVERT_BLOCK`] values (unused,
/// and may be empty, when `T` is f32): a kernel called per block of a row takes the row's
/// buffer rather than zeroing one of its own each call (a `memset` call a block).
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn for_blocks_in<W: Vector, T: Element>(
    x: &[T],
    buf: &mut [f32],
    mut f: impl FnMut(usize, &[f32]),
) {
    if let Some(r) = T::as_f32(x) {
        f(0, r);
        return;
    }
    blocks_widened(
        x,
        buf,
        // A closure, not the function item: the item's `FnMut` shim stayed out of line,
        // outside the entry point's features.
        #[cfg_attr(not(xent_opt0), inline(always))]
        |s: &[T], d: &mut [f32]| widen::<W, T>(s, d),
        #[cfg_attr(not(xent_opt0), inline(always))]
        |o, b, ()| f(o, b),
    );
}

/// `x` (of any element type `U`) a [`CONVERT_BLOCK`]-value piece at a time: each piece prefetched
/// ahead, widened into `buf` by `load` (which may also return something taken on the way,
/// as `widen_max`'s lane maxima), then handed to `f` with its offset in `x`.
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn blocks_widened<U, R>(
    x: &[U],
    buf: &mut [f32],
    mut load: impl FnMut(&[U], &mut [f32]) -> R,
    mut f: impl FnMut(usize, &[f32], R),
) {
    let mut off = 0;
    for ch in x.chunks(CONVERT_BLOCK) {
        // The conversion is this data's first read, and takes the sweep's prefetch.
        crate::simd::prefetch_ahead(ch, PREFETCH_BYTES);
        let b = &mut buf[..ch.len()];
        let r = load(ch, b);
        f(off, b, r);
        off += ch.len();
    }
}

/// `h` widened into `b` (of the same length), returning the lane maxima of its whole
/// vectors (NaN ignored on x86, as the maximum pass's; the values past them are `b`'s
/// tail, for `BlockLse::block_max`). Four chains, as the maximum pass.
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn widen_max<W: Vector>(h: &[half::f16], b: &mut [f32]) -> W {
    let (hv, ht) = W::split_f16(h);
    let (bv, bt) = W::split_mut(b);
    let mut m = [W::splat(f32::NEG_INFINITY); 4];
    let (hq, hr) = hv.as_chunks::<4>();
    let (bq, br) = bv.as_chunks_mut::<4>();
    for (hq, bq) in hq.iter().zip(bq) {
        for j in 0..4 {
            let x = W::from_f16(&hq[j]);
            bq[j] = x.to_arr();
            m[j] = W::max_nan_b(x, m[j]);
        }
    }
    for (h, b) in hr.iter().zip(br) {
        let x = W::from_f16(h);
        *b = x.to_arr();
        m[0] = W::max_nan_b(x, m[0]);
    }
    for (d, v) in bt.iter_mut().zip(ht) {
        *d = v.to_f32();
    }
    W::max_nan_b(W::max_nan_b(m[0], m[1]), W::max_nan_b(m[2], m[3]))
}

/// The vector of `s[i..]` (padded with 0 past the end), converting from `U`.
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn load_at<W: Vector, U: Element>(s: &[U], i: usize) -> W {
    let s = s.get(i..).unwrap_or(&[]);
    match U::as_f32(s) {
        Some(f) => W::load_or(f, 0.0),
        None => {
            let mut tmp = [0.0f32; 16];
            let n = s.len().min(W::LANES);
            widen::<W, U>(&s[..n], &mut tmp[..n]);
            W::load_or(&tmp, 0.0)
        }
    }
}
