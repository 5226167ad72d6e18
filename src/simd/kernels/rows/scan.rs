//! A block's maximum, read with (per the flags) its side sums: `Σ w (x - m)`, `Σ w` and the
//! count of logits above the target's.

use super::state::{BlockLse, BlockSums};
use crate::simd::kernels::lanes::{IOTA, first_lanes, lane_max};
use crate::simd::vector::{Vector, outline};

impl<W: Vector> BlockLse<W> {
    /// The maximum of a block (NaN ignored on x86, propagated elsewhere) and, with `SMOOTH` or
    /// `COUNT_ABOVE`, the block's side sums in the same read: `Σ w (x - m)` relative to the
    /// running maximum `m` (finite), `Σ w`, and the count of values above the target's
    /// (the exps are left 0).
    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn scan<const SMOOTH: bool, const COUNT_ABOVE: bool>(
        &self,
        sub: &[f32],
        off: usize,
        w: Option<&[f32]>,
    ) -> (f32, BlockSums<W>) {
        // The weighted and unweighted loops apart: a weight check inside the loop kept
        // LLVM from unswitching it, and every accumulator went through memory.
        match w {
            Some(w) if SMOOTH => {
                self.scan_w::<SMOOTH, COUNT_ABOVE, true, false>(sub, &w[off..off + sub.len()])
            }
            _ if SMOOTH => {
                let r = self.scan_w::<SMOOTH, COUNT_ABOVE, false, true>(sub, &[]);
                if r.1.bx.reduce_add().is_finite() { r } else { self.scan_exact::<COUNT_ABOVE>(sub) }
            }
            _ => self.scan_w::<SMOOTH, COUNT_ABOVE, false, false>(sub, &[]),
        }
    }

    /// [`Self::scan`] of a block whose quick unweighted `Σ (x - m)` (`RAW_SUM`) came out
    /// infinite or NaN: again with one subtraction per value, which overflows only where
    /// the sum itself does (a row of logits past `f32::MAX / 4`, or an infinity or NaN,
    /// whose sum is the same either way). Out of line, through the backend's entry point.
    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn scan_exact<const COUNT_ABOVE: bool>(&self, sub: &[f32]) -> (f32, BlockSums<W>) {
        let this = self;
        outline!(W, Self::scan_exact_in::<COUNT_ABOVE>, (this, sub))
    }

    /// [`Self::scan_exact`]'s body.
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn scan_exact_in<const COUNT_ABOVE: bool>(&self, sub: &[f32]) -> (f32, BlockSums<W>) {
        self.scan_w::<true, COUNT_ABOVE, false, false>(sub, &[])
    }

    /// [`Self::scan`] with the block's weights `w` (`WEIGHTED`) or none. With `RAW_SUM` (unweighted
    /// only) a quad of vectors adds `(x0 + x1) + (x2 + x3) - 4m` to `Σ (x - m)`: five adds
    /// per four vectors rather than eight beside the four maxima (AVX2 label smoothing,
    /// where this read pass carries the sum, ran 1.2x the plain forward's time). Each value
    /// then carries a rounding of up to `eps M` (`M` the block's largest `|x|`) rather than
    /// of `eps |x - m|`; the smoothing bound's `6 M sqrt(C)` term holds it. The raw sums
    /// overflow for `|x|` past `f32::MAX / 4`: [`Self::scan`] then takes the block again
    /// without `RAW_SUM`.
    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn scan_w<
        const SMOOTH: bool,
        const COUNT_ABOVE: bool,
        const WEIGHTED: bool,
        const RAW_SUM: bool,
    >(
        &self,
        sub: &[f32],
        w: &[f32],
    ) -> (f32, BlockSums<W>) {
        let l = W::LANES;
        let (zero, one) = (W::splat(0.0), W::splat(1.0));
        let (vecs, tail) = W::split(sub);
        let ninf = W::splat(f32::NEG_INFINITY);
        let (mv, xtv) = (W::splat(self.m), self.xtv);
        let mv4 = W::splat(4.0 * self.m);
        let (quads, rest) = vecs.as_chunks::<4>();
        let (wvecs, _) = W::split(w);
        let (wquads, wrest) = wvecs.as_chunks::<4>();
        let (wquads, wrest) =
            if WEIGHTED { (&wquads[..quads.len()], &wrest[..rest.len()]) } else { (wquads, wrest) };
        let (mut m0, mut m1, mut m2, mut m3) = (ninf, ninf, ninf, ninf);
        // Two chains for Σ w (x - m), alternating by vector: each lane adds at most
        // `LSE_BLOCK / (2 LANES)` terms of a block, as in the sweep.
        let (mut bx0, mut bx1, mut ws, mut bc) = (zero, zero, zero, zero);
        for (k, q) in quads.iter().enumerate() {
            let x = [W::from_arr(&q[0]), W::from_arr(&q[1]), W::from_arr(&q[2]), W::from_arr(&q[3])];
            m0 = W::max_nan_b(x[0], m0);
            m1 = W::max_nan_b(x[1], m1);
            m2 = W::max_nan_b(x[2], m2);
            m3 = W::max_nan_b(x[3], m3);
            if SMOOTH && WEIGHTED {
                let wq = &wquads[k];
                let wq = [W::from_arr(&wq[0]), W::from_arr(&wq[1]), W::from_arr(&wq[2]), W::from_arr(&wq[3])];
                bx0 = (x[0] - mv).mul_add(wq[0], bx0);
                bx1 = (x[1] - mv).mul_add(wq[1], bx1);
                bx0 = (x[2] - mv).mul_add(wq[2], bx0);
                bx1 = (x[3] - mv).mul_add(wq[3], bx1);
                ws = ws + (wq[0] + wq[1]) + (wq[2] + wq[3]);
            } else if SMOOTH && RAW_SUM {
                bx0 = bx0 + (((x[0] + x[1]) + (x[2] + x[3])) - mv4);
            } else if SMOOTH {
                bx0 = bx0 + (x[0] - mv) + (x[2] - mv);
                bx1 = bx1 + (x[1] - mv) + (x[3] - mv);
            }
            if COUNT_ABOVE {
                bc = bc
                    + ((x[0].gt(xtv) & one) + (x[1].gt(xtv) & one))
                    + ((x[2].gt(xtv) & one) + (x[3].gt(xtv) & one));
            }
        }
        for (k, a) in rest.iter().enumerate() {
            let x = W::from_arr(a);
            m0 = W::max_nan_b(x, m0);
            if SMOOTH && WEIGHTED {
                let wk = W::from_arr(&wrest[k]);
                bx0 = (x - mv).mul_add(wk, bx0);
                ws = ws + wk;
            } else if SMOOTH {
                bx0 = bx0 + (x - mv);
            }
            if COUNT_ABOVE {
                bc = bc + (x.gt(xtv) & one);
            }
        }
        // The tail: after at least one whole vector, the block's last LANES values as one
        // vector overlapping the one before (a value seen twice does not move a maximum;
        // the sums take only the tail's lanes). Shorter blocks: the maximum one value at
        // a time, the sums over the tail padded with -inf and masked.
        let over = !tail.is_empty() && !vecs.is_empty();
        if !tail.is_empty() && (over || SMOOTH || COUNT_ABOVE) {
            let at = if over { sub.len() - l } else { sub.len() - tail.len() };
            let (x, mask) = if over {
                let keep = W::load_or(&IOTA, 0.0).ge(W::splat((l - tail.len()) as f32));
                (W::load_or(&sub[at..], 0.0), keep)
            } else {
                (W::load_or(tail, f32::NEG_INFINITY), first_lanes::<W>(tail.len()))
            };
            if over {
                m1 = W::max_nan_b(x, m1);
            }
            if SMOOTH {
                let wt = if WEIGHTED { W::load_or(&w[at..], 0.0) } else { one };
                bx1 = bx1 + W::select(mask, (x - mv) * wt, zero);
                if WEIGHTED {
                    ws = ws + W::select(mask, wt, zero);
                }
            }
            if COUNT_ABOVE {
                bc = bc + (x.gt(xtv) & mask & one);
            }
        }
        let mx = W::max_nan_b(W::max_nan_b(m0, m1), W::max_nan_b(m2, m3));
        let bm = self.block_max(mx, if over { &[] } else { tail });
        let sums = BlockSums { a0: zero, a1: zero, bx: bx0 + bx1, ws, bc, max: ninf };
        (bm, sums)
    }

    /// A block's maximum from its lane maxima `mx` and the values `rest` they did not see
    /// (NaN ignored on x86, as `mx`'s lanes; a NaN in `rest` is the result).
    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn block_max(&self, mx: W, rest: &[f32]) -> f32 {
        // Nothing above a finite running maximum (the common block once a row's maximum
        // is found): that maximum stands for the block's, which would not raise it, and
        // the horizontal maximum (a compare chain the exp sweep waits for) is skipped.
        // A block of `-inf` and NaN values then goes through the sweep rather than
        // `special`: it adds exactly 0, or makes the sum NaN as `note_nan` would the row.
        let mut bm = if self.m > f32::NEG_INFINITY && W::splat(self.m).ge(mx).all_set() {
            self.m
        } else {
            lane_max(mx)
        };
        for &v in rest {
            if v > bm || v.is_nan() {
                bm = v;
            }
        }
        bm
    }
}
