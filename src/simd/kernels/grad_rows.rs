//! Rows written from their statistics: the gradient (`a p - c w`, the target slot fixed
//! through `expm1`, or from the other classes' sum for [`Coef::others`] rows), softmax and
//! log-softmax, one vector at a time, streamed past [`LARGE_BYTES`].

use super::convert::{CONVERT_BLOCK, StackBlock, narrow, widen};
use super::lanes::{cap_v, grad_p_v};
use crate::Element;
use crate::engine::{Coef, GradDst};
use crate::simd::vector::{Vector, always, outline};

/// Outputs written after a statistics pass (gradients, log-softmax, softmax) at least this
/// large are "large" for [`map_row`]: written with non-temporal stores where they go to a
/// separate buffer (no write-allocate read of every line; they would not stay in cache
/// for their reader anyway), and the next tile's input prefetched as they are written. The
/// threshold lies between the sizes that stay in a large L3 and those that do not
/// (docs/PERF_NOTES.md, "Streaming stores and the write pass's prefetch"). Under Miri
/// 4 KiB, so that its small tests reach the streaming stores' unsafe code.
pub(crate) const LARGE_BYTES: usize = if cfg!(miri) { 4 << 10 } else { 24 << 20 };

/// `out[j] = f(off + j, src[j])` streamed ([`Vector::stream`]): the head up to the
/// vector-size alignment of `out` as one padded vector, the whole vectors after it
/// through `as_chunks` (no bounds checks), then one padded vector for the tail. `pf(j)`
/// runs once a vector (a prefetch of the next tile).
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn map_to<W: Vector>(
    src: &[f32],
    out: &mut [f32],
    off: usize,
    f: &impl Fn(usize, W) -> W,
    pf: &impl Fn(usize),
) {
    let h = out.as_ptr().align_offset(W::LANES * 4).min(out.len());
    if h > 0 {
        f(off, W::load_or(&src[..h], 0.0)).store(&mut out[..h]);
    }
    let (sv, st) = W::split(&src[h..]);
    let (ov, ot) = W::split_mut(&mut out[h..]);
    for (j, (s, o)) in sv.iter().zip(ov.iter_mut()).enumerate() {
        let i = off + h + j * W::LANES;
        pf(i);
        f(i, W::from_arr(s)).stream(o);
    }
    if !st.is_empty() {
        f(off + h + sv.len() * W::LANES, W::load_or(st, 0.0)).store(ot);
    }
}

/// `v[j] = f(off + j, v[j])` with `pf` as in [`map_to`], never streamed: the lines were just
/// read, so they are already owned by this core and there is no write-allocate read to
/// save (streamed, the in-place write ran at half the speed).
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn map_in<W: Vector>(v: &mut [f32], off: usize, f: &impl Fn(usize, W) -> W, pf: &impl Fn(usize)) {
    let (vv, vt) = W::split_mut(v);
    for (j, a) in vv.iter_mut().enumerate() {
        let i = off + j * W::LANES;
        pf(i);
        *a = f(i, W::from_arr(a)).to_arr();
    }
    if !vt.is_empty() {
        f(off + vv.len() * W::LANES, W::load_or(vt, 0.0)).store(vt);
    }
}

/// `dst[start + j] = f(j, x[start + j])` over `len` values, one vector at a time. Where
/// the destination spans [`LARGE_BYTES`] or more (it will not stay in cache), the row goes
/// through [`map_row_large`]: the next tile's matching logits, `ahead` past `start`, are
/// prefetched into L2 as this row is written, so that the next statistics pass reads them
/// from there rather than from memory (the write pass leaves the bus idle otherwise), and
/// a separate destination is streamed. Smaller ones do neither: in cache the prefetch's
/// address arithmetic a vector costs the write pass time, and streaming would evict what
/// the caller reads next.
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn map_row<W: Vector, T: Element>(
    dst: &mut GradDst<'_, T, f32>,
    start: usize,
    len: usize,
    ahead: usize,
    f: impl Fn(usize, W) -> W,
) {
    let large = match dst {
        GradDst::Buffer { grad, .. } => size_of_val(*grad) >= LARGE_BYTES,
        GradDst::InPlace(x) => size_of_val(*x) >= LARGE_BYTES,
    };
    if large {
        return map_row_large(dst, start, len, ahead, &f);
    }
    // The two row loops, closures: forced inline only in an entry point (`W::ENTRY`), where
    // one out of line ran at scalar speed; forced on the portable backend they took the
    // static v3 forward+backward 12% more instructions (docs/PERF_NOTES.md).
    macro_rules! rows {
        ($wrap:ident) => {{
            // Whole vectors through `as_chunks` (no bounds checks, accumulators in registers),
            // then one padded vector for the tail.
            let step = $wrap!(|src: &[f32], out: &mut [f32], off: usize| {
                let (sv, st) = W::split(src);
                let (ov, ot) = W::split_mut(out);
                for (j, (s, o)) in sv.iter().zip(ov.iter_mut()).enumerate() {
                    *o = f(off + j * W::LANES, W::from_arr(s)).to_arr();
                }
                if !st.is_empty() {
                    f(off + sv.len() * W::LANES, W::load_or(st, 0.0)).store(ot);
                }
            });
            let in_place = $wrap!(|v: &mut [f32], off: usize| {
                let (vv, vt) = W::split_mut(v);
                for (j, a) in vv.iter_mut().enumerate() {
                    *a = f(off + j * W::LANES, W::from_arr(a)).to_arr();
                }
                if !vt.is_empty() {
                    let n = vv.len() * W::LANES;
                    f(off + n, W::load_or(vt, 0.0)).store(vt);
                }
            });
            let mut buf = StackBlock::new();
            let buf = &mut buf.0;
            match dst {
                GradDst::Buffer { x, grad } => {
                    let (xs, gs) = (&x[start..start + len], &mut grad[start..start + len]);
                    match T::as_f32(xs) {
                        Some(xf) => step(xf, gs, 0),
                        None => {
                            for (k, ch) in xs.chunks(CONVERT_BLOCK).enumerate() {
                                widen::<W, T>(ch, buf);
                                step(
                                    &buf[..ch.len()],
                                    &mut gs[k * CONVERT_BLOCK..k * CONVERT_BLOCK + ch.len()],
                                    k * CONVERT_BLOCK,
                                );
                            }
                        }
                    }
                }
                GradDst::InPlace(x) => {
                    let xs = &mut x[start..start + len];
                    match T::as_f32_mut(xs) {
                        Some(xf) => in_place(xf, 0),
                        None => {
                            for (k, ch) in xs.chunks_mut(CONVERT_BLOCK).enumerate() {
                                widen::<W, T>(ch, buf);
                                in_place(&mut buf[..ch.len()], k * CONVERT_BLOCK);
                                narrow::<W, T>(&buf[..ch.len()], ch);
                            }
                        }
                    }
                }
            }
        }};
    }
    macro_rules! plain {
        ($c:expr) => {
            $c
        };
    }
    if W::ENTRY { rows!(always) } else { rows!(plain) }
}

/// [`map_row`] of a large destination, out of line: inlined beside the in-cache loop, it
/// took that loop's registers (the loop no longer unrolled, a constant reloaded from the
/// stack each vector).
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn map_row_large<W: Vector, T: Element>(
    dst: &mut GradDst<'_, T, f32>,
    start: usize,
    len: usize,
    ahead: usize,
    f: &impl Fn(usize, W) -> W,
) {
    outline!(W, map_row_large_in, (dst, start, len, ahead, f))
}

/// [`map_row_large`]'s body.
#[cfg_attr(not(xent_opt0), inline(always))]
fn map_row_large_in<W: Vector, T: Element>(
    dst: &mut GradDst<'_, T, f32>,
    start: usize,
    len: usize,
    ahead: usize,
    f: &impl Fn(usize, W) -> W,
) {
    let mut buf = StackBlock::new();
    let buf = &mut buf.0;
    match dst {
        GradDst::Buffer { x, grad } => {
            let pf = always!(|i: usize| {
                crate::simd::arch::prefetch::<false, T>(x.as_ptr(), (start + ahead + i) * size_of::<T>())
            });
            let (xs, gs) = (&x[start..start + len], &mut grad[start..start + len]);
            match T::as_f32(xs) {
                Some(xf) => map_to::<W>(xf, gs, 0, f, &pf),
                None => {
                    for (k, ch) in xs.chunks(CONVERT_BLOCK).enumerate() {
                        widen::<W, T>(ch, buf);
                        map_to::<W>(
                            &buf[..ch.len()],
                            &mut gs[k * CONVERT_BLOCK..k * CONVERT_BLOCK + ch.len()],
                            k * CONVERT_BLOCK,
                            f,
                            &pf,
                        );
                    }
                }
            }
            W::stream_fence();
        }
        GradDst::InPlace(x) => {
            let (row, rest) = x[start..].split_at_mut(len);
            // The next tile's logits, `ahead - len` into what follows the row.
            let pf = always!(|i: usize| {
                crate::simd::arch::prefetch::<false, T>(
                    rest.as_ptr(),
                    (ahead.wrapping_sub(len) + i) * size_of::<T>(),
                )
            });
            match T::as_f32_mut(row) {
                Some(xf) => map_in::<W>(xf, 0, f, &pf),
                None => {
                    for (k, ch) in row.chunks_mut(CONVERT_BLOCK).enumerate() {
                        widen::<W, T>(ch, buf);
                        map_in::<W>(&mut buf[..ch.len()], k * CONVERT_BLOCK, f, &pf);
                        narrow::<W, T>(&buf[..ch.len()], ch);
                    }
                }
            }
        }
    }
}

/// The gradient of one position at its target slot (see [`Coef`]).
#[cfg_attr(not(xent_opt0), inline(always))]
/// `raw` is the target's logit before capping: the chain factor `1 - tanh(x / s)^2` comes
/// from it as in the vector pass (not from `x' / s`, which loses the digits a subnormal `x'`
/// lacks, nor as `1 - th * th`, which cancels to 0 where `th` rounds to 1).
/// `others` is `Σ_{j != t} p_j` for a [`Coef::others`] row.
pub(crate) fn target_slot<W: Vector>(
    k: &Coef<f32>,
    raw: f32,
    cap: Option<f32>,
    w: Option<&[f32]>,
    others: Option<f32>,
) -> f32 {
    let lp = (k.xt - k.max) - k.lse_rel;
    let cw = if k.c == 0.0 {
        0.0
    } else {
        k.c * w.map_or(
            1.0,
            #[cfg_attr(not(xent_opt0), inline(always))]
            |w| w[k.t],
        )
    };
    let g = k.a * others.map_or_else(|| libm::expm1f(lp), |s| -s) + (k.a - k.k) - cw;
    match cap {
        Some(s) => {
            let mut d = [0.0f32; 16];
            cap_v(W::splat(raw), s).1.to_lanes(&mut d);
            g * d[0]
        }
        None => g,
    }
}

/// The gradient row of a [`Coef::others`] position but its target slot, `len` values from
/// `start`, a block of [`CONVERT_BLOCK`] at a time rewritten in place (a separate buffer
/// takes the logits first; in cache: the streaming of [`map_row`] is for the many rows,
/// this for the confident ones of a backward); returns `Σ_{j != t} p_j`. Each block's sum
/// enters an f64 total, so that no lane adds more than `CONVERT_BLOCK / LANES` terms.
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn grad_row_others<W: Vector, T: Element>(
    dst: &mut GradDst<'_, T, f32>,
    start: usize,
    len: usize,
    k: &Coef<f32>,
    cap: Option<f32>,
    w: Option<&[f32]>,
) -> f32 {
    let mut total = 0.0f64;
    let mut buf = StackBlock::new();
    let buf = &mut buf.0;
    let mut off = 0;
    while off < len {
        let row = start + off..start + off + CONVERT_BLOCK.min(len - off);
        let sum = match dst {
            GradDst::Buffer { x, grad } => {
                widen::<W, T>(&x[row.clone()], &mut grad[row.clone()]);
                sweep_others::<W>(&mut grad[row], off, k, cap, w)
            }
            GradDst::InPlace(x) => match T::as_f32_mut(&mut x[row.clone()]) {
                Some(v) => sweep_others::<W>(v, off, k, cap, w),
                None => {
                    let blk = &mut buf[..row.len()];
                    widen::<W, T>(&x[row.clone()], blk);
                    let sum = sweep_others::<W>(blk, off, k, cap, w);
                    narrow::<W, T>(blk, &mut x[row]);
                    sum
                }
            },
        };
        total += f64::from(sum);
        off += CONVERT_BLOCK;
    }
    total as f32
}

/// [`grad_row_others`] over one block `v` (logits in, gradients out) at class `off`: the
/// block's `Σ p_j` without the target's.
#[cfg_attr(not(xent_opt0), inline(always))]
fn sweep_others<W: Vector>(
    v: &mut [f32],
    off: usize,
    k: &Coef<f32>,
    cap: Option<f32>,
    w: Option<&[f32]>,
) -> f32 {
    let (m, lse, a, c) = (W::splat(k.max), W::splat(k.lse_rel), W::splat(k.a), W::splat(k.c));
    let l = W::LANES;
    let n = v.len();
    // The first `valid` lanes of `p`, without the target's.
    let part = always!(|p: W, j: usize, valid: usize| {
        let mut ps = [0.0f32; 16];
        p.to_lanes(&mut ps);
        for (q, e) in ps.iter_mut().enumerate() {
            if q >= valid || j + q == k.t {
                *e = 0.0;
            }
        }
        W::load_or(&ps[..l], 0.0)
    });
    // Class weights only with smoothing (as in `map_row`'s closures).
    let ws = w.filter(|_| k.c != 0.0);
    let cw = always!(|j: usize| match ws {
        Some(w) => c * W::load_or(&w[j..], 0.0),
        None => c,
    });
    let mut sum = W::splat(0.0);
    let (vv, vt) = W::split_mut(v);
    for (i, e) in vv.iter_mut().enumerate() {
        let j = off + i * l;
        let (g, p) = grad_p_v(W::from_arr(e), m, lse, a, cw(j), cap);
        *e = g.to_arr();
        sum = sum + if k.t.wrapping_sub(j) < l { part(p, j, l) } else { p };
    }
    if !vt.is_empty() {
        let j = off + (n - vt.len());
        let (g, p) = grad_p_v(W::load_or(vt, 0.0), m, lse, a, cw(j), cap);
        g.store(vt);
        sum = sum + part(p, j, vt.len());
    }
    sum.reduce_add()
}
