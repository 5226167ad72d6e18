//! Feeding one block into a row's state: which reads it takes (the maximum first, one
//! sweep tracking it, or one sweep checked by its sums), and the plain sweep that also
//! reads the next row's maximum.

use super::state::{BlockLse, BlockSums, SLACK, SUM_LIM};
use crate::Element;
use crate::simd::kernels::convert::{blocks_widened, for_blocks_in, widen_max};
use crate::simd::kernels::lanes::{IOTA, PREFETCH_BYTES, add_exp, lane_max};
use crate::simd::vector::Vector;

impl<W: Vector> BlockLse<W> {
    /// The maximum of `x`, taken as [`Self::scan`] takes it, by a fresh state: `x` is
    /// another row's (the next one's), which this row's running maximum says nothing of
    /// (a scan by `self` may return that maximum for a block below it).
    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn max_of(x: &[f32]) -> f32 {
        Self::new(0.0).scan::<false, false>(x, 0, None).0
    }

    /// [`Self::feed`]'s first block without smoothing or rank, its maximum `bm` already
    /// taken (by the previous row's sweep or a [`Self::scan`]); returns the maximum of
    /// `ahead` (the next row, or empty), taken the way [`Self::scan`] takes it.
    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn feed_ahead(&mut self, sub: &[f32], bm: f32, ahead: &[f32]) -> f32 {
        self.note_nan(sub, bm);
        if bm == f32::NEG_INFINITY || bm.is_nan() {
            self.special::<false, false>(sub, 0, None);
            return Self::max_of(ahead);
        }
        self.raise::<false>(bm);
        let (b, next) = self.sweep_ahead(sub, ahead);
        self.accept::<false>(b, sub.len(), false);
        next
    }

    /// The plain sweep of `sub` (as [`Self::sweep_into`] without smoothing, rank or
    /// maximum) with, in the same loop, the lane maxima of `ahead` over the same
    /// positions; the rest of `ahead` (past the last pair of whole vectors, or all of it
    /// when its length differs) through [`Self::scan`]. Returns the sums and `ahead`'s
    /// maximum (NaN ignored on x86, as the scan's).
    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn sweep_ahead(&self, sub: &[f32], ahead: &[f32]) -> (BlockSums<W>, f32) {
        let (zero, ninf) = (W::splat(0.0), W::splat(f32::NEG_INFINITY));
        let mut b = BlockSums { a0: zero, a1: zero, bx: zero, ws: zero, bc: zero, max: ninf };
        let (pairs, _) = W::split(sub).0.as_chunks::<2>();
        let fused = if ahead.len() == sub.len() { pairs.len() } else { 0 };
        let (apairs, _) = W::split(ahead).0.as_chunks::<2>();
        let (mut a0, mut a1, mut mx) = (zero, zero, ninf);
        let mv = W::splat(self.m);
        for (p, q) in pairs[..fused].iter().zip(&apairs[..fused]) {
            // `ahead` is the next row, read here first: ask for the one after it.
            crate::simd::arch::prefetch::<true, _>(q, PREFETCH_BYTES);
            a0 = add_exp(a0, W::from_arr(&p[0]) - mv);
            a1 = add_exp(a1, W::from_arr(&p[1]) - mv);
            mx = W::max_nan_b(W::max_nan_b(W::from_arr(&q[0]), W::from_arr(&q[1])), mx);
        }
        let (l, n) = (W::LANES, sub.len());
        let mut done = fused * 2 * l;
        if fused > 0 && W::ONE_SWEEP {
            // The rest in the same loop's terms: an odd whole vector, then the last `l`
            // values as one vector overlapping the one before (the repeated lanes masked
            // off the sum; a repeated value does not move a maximum), rather than two
            // scalar tails. Only where the sweep's registers fit (`ONE_SWEEP`, AVX-512's
            // 32): on AVX2 the same code ran slower and moved the register allocation of
            // unrelated row loops.
            if done + l <= n {
                a0 = add_exp(a0, W::load_or(&sub[done..], 0.0) - mv);
                mx = W::max_nan_b(W::load_or(&ahead[done..], 0.0), mx);
                done += l;
            }
            if done < n {
                let keep = W::load_or(&IOTA, 0.0).ge(W::splat((l - (n - done)) as f32));
                let x = W::load_or(&sub[n - l..], 0.0);
                a1 = a1 + W::select(keep, add_exp(zero, x - mv), zero);
                mx = W::max_nan_b(W::load_or(&ahead[n - l..], 0.0), mx);
                done = n;
            }
        }
        (b.a0, b.a1) = (a0, a1);
        self.sweep_into::<false, false, false, false, true>(&mut b, &sub[done..], done, None);
        let rest = Self::max_of(&ahead[done.min(ahead.len())..]);
        let head = lane_max(mx);
        (b, if rest.is_nan() || rest > head { rest } else { head })
    }

    /// The two sweeps of [`Self::feed`] over an f32 block: its maximum (or `scanned`, the
    /// maximum already taken, for the plain sweep), then the exps.
    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn feed_f32<const SMOOTH: bool, const COUNT_ABOVE: bool, const PREFETCH: bool>(
        &mut self,
        sub: &[f32],
        off: usize,
        w: Option<&[f32]>,
        buf: &mut [f32],
        scanned: Option<f32>,
    ) {
        // Two-sweep builds take `Σ w (x - m)` and the rank in the maximum's read once
        // the running maximum is known, so the exp sweep keeps AVX2's 16 registers for
        // the exp (docs/PERF_NOTES.md, "Label smoothing on two-sweep builds").
        // A maximum taken beforehand serves the plain sweep only: with smoothing or the
        // rank the maximum's read also takes the side sums.
        debug_assert!(scanned.is_none() || (!SMOOTH && !COUNT_ABOVE));
        let early = (SMOOTH || COUNT_ABOVE) && !W::ONE_SWEEP;
        if early && self.m == f32::NEG_INFINITY && !self.first_max::<SMOOTH, COUNT_ABOVE>(sub, off, w) {
            return;
        }
        let (bm, side) = match scanned {
            Some(bm) if !SMOOTH && !COUNT_ABOVE => (bm, BlockSums::zero()),
            _ if early => self.scan::<SMOOTH, COUNT_ABOVE>(sub, off, w),
            _ => self.scan::<false, false>(sub, off, w),
        };
        if early {
            // Relative to the old maximum, as the row's sums are; `raise` re-centres
            // them all.
            self.accept::<SMOOTH>(side, sub.len(), w.is_some());
        }
        // A NaN maximum: the row's sum is NaN; the block still counts for Σ w x and
        // the rank.
        self.note_nan(sub, bm);
        if bm == f32::NEG_INFINITY || bm.is_nan() {
            if !early {
                self.special::<SMOOTH, COUNT_ABOVE>(sub, off, w);
            }
            return;
        }
        self.raise::<SMOOTH>(bm);
        if early {
            let b = self.sweep::<f32, false, false, false, false, PREFETCH>(sub, off, w, buf);
            self.accept::<false>(b, sub.len(), w.is_some());
        } else {
            let b = self.sweep::<f32, SMOOTH, COUNT_ABOVE, false, false, PREFETCH>(sub, off, w, buf);
            self.accept::<SMOOTH>(b, sub.len(), w.is_some());
        }
    }

    /// A row's first block in a two-sweep build with side sums ([`Self::feed_f32`]): there
    /// is no running maximum yet for the side sums to be taken relative to, so the block's
    /// maximum is read first, in a read of its own, and made the running maximum. Taken in
    /// the exp sweep instead, the side sums' accumulators went through memory on AVX2 (a
    /// store and a reload each, every pair of vectors). Returns false, the block done, when
    /// its maximum is `-inf` or NaN ([`Self::special`]). Its own function: unoptimised, its
    /// temporaries stay out of the caller's frame.
    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn first_max<const SMOOTH: bool, const COUNT_ABOVE: bool>(
        &mut self,
        sub: &[f32],
        off: usize,
        w: Option<&[f32]>,
    ) -> bool {
        let bm = self.scan::<false, false>(sub, off, w).0;
        if bm == f32::NEG_INFINITY || bm.is_nan() {
            self.note_nan(sub, bm);
            self.special::<SMOOTH, COUNT_ABOVE>(sub, off, w);
            return false;
        }
        self.raise::<SMOOTH>(bm);
        true
    }

    /// Adds one block of at most [`LSE_BLOCK`](super::LSE_BLOCK) values, starting at class `off`. The first block
    /// of a row (no running maximum yet), and every block where [`Vector::ONE_SWEEP`] is
    /// false, takes its maximum in a sweep of its own; every later one is a single sweep:
    /// exps relative to the running maximum, tracking the block's own maximum on the way
    /// (f32 blocks where [`Vector::CLAMPS_HIGH`]: reading it only when the block's sums
    /// show a term above `e^SLACK`), then a rescale if it grew. A block whose maximum
    /// passes the running one by more
    /// than [`SLACK`] is swept again relative to it (rows whose maximum climbs steeply pay
    /// two sweeps a block, as every block once did). `PREFETCH`: `sub` is the caller's memory,
    /// its sweeps prefetch ahead ([`Self::sweep_pairs`]).
    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn feed<T: Element, const SMOOTH: bool, const COUNT_ABOVE: bool, const PREFETCH: bool>(
        &mut self,
        sub: &[T],
        off: usize,
        w: Option<&[f32]>,
        buf: &mut [f32],
    ) {
        if !W::ONE_SWEEP || self.m == f32::NEG_INFINITY {
            let Some(sub) = T::as_f32(sub) else {
                // The plain two-sweep f16 forward: each piece's maximum taken as it is
                // converted (no maximum pass over the buffer).
                if W::F16_IN_REGS
                    && !W::ONE_SWEEP
                    && !SMOOTH
                    && !COUNT_ABOVE
                    && let Some(h) = T::as_f16(sub)
                {
                    blocks_widened(
                        h,
                        buf,
                        #[cfg_attr(not(xent_opt0), inline(always))]
                        |h, b| widen_max::<W>(h, b),
                        #[cfg_attr(not(xent_opt0), inline(always))]
                        |o, b, mx| {
                            let bm = self.block_max(mx, W::split(b).1);
                            self.feed_f32::<false, false, false>(b, off + o, w, &mut [], Some(bm));
                        },
                    );
                    return;
                }
                // Converted [`CONVERT_BLOCK`] values at a time, each fed as an f32 block: a maximum
                // pass and a sweep over the same stack buffer, one conversion.
                for_blocks_in::<W, _>(
                    sub,
                    buf,
                    #[cfg_attr(not(xent_opt0), inline(always))]
                    |o, blk| self.feed::<f32, SMOOTH, COUNT_ABOVE, false>(blk, off + o, w, &mut []),
                );
                return;
            };
            self.feed_f32::<SMOOTH, COUNT_ABOVE, PREFETCH>(sub, off, w, buf, None);
            return;
        }
        let (b, bm) = match T::as_f32(sub) {
            // f32 blocks where the sums' exp clamps both ends of its argument
            // (`CLAMPS_HIGH`: any `t > 4` adds a finite term above `e^4`, `+inf` too):
            // no maximum on the way. A lane adds at most `LSE_BLOCK / (2 LANES) + 1` terms, each
            // at most 1 while no value passes the running maximum, so lane sums within
            // `e^SLACK` mean no term passed `e^SLACK` (nor was NaN): the block is taken
            // relative to the old maximum, as a tracked block within `SLACK` is. Otherwise
            // (a new maximum, a NaN, or many values a little above a maximum the row has
            // passed) its maximum is read, and it goes on as a tracked block would: one
            // instruction a vector fewer (docs/PERF_NOTES.md, "One-sweep blocks on
            // AVX-512DQ").
            Some(s32) if W::CLAMPS_HIGH => {
                let b = self.sweep::<f32, SMOOTH, COUNT_ABOVE, false, true, PREFETCH>(s32, off, w, buf);
                let lim = W::splat(SUM_LIM);
                if (lim.ge(b.a0) & lim.ge(b.a1)).all_set() {
                    self.accept::<SMOOTH>(b, sub.len(), w.is_some());
                    return;
                }
                // The clamp takes a quiet NaN for a finite value: a NaN is looked for here
                // (any NaN fails the test above, as its term is `e^87.3` or NaN).
                if s32.iter().fold(
                    false,
                    #[cfg_attr(not(xent_opt0), inline(always))]
                    |a, v| a | v.is_nan(),
                ) {
                    self.nan = true;
                }
                let bm = self.scan::<false, false>(s32, off, w).0;
                if bm > self.m + SLACK {
                    self.raise::<SMOOTH>(bm);
                    let b = self.sweep::<f32, SMOOTH, COUNT_ABOVE, false, true, PREFETCH>(s32, off, w, buf);
                    self.accept::<SMOOTH>(b, sub.len(), w.is_some());
                    return;
                }
                (b, bm)
            }
            _ => {
                let b = self.sweep::<T, SMOOTH, COUNT_ABOVE, true, false, PREFETCH>(sub, off, w, buf);
                // Nothing above the running maximum (nor a NaN lane): `block_max` returns
                // that maximum without the lane reduction, and the block is accepted as it
                // is (the `raise` below does nothing).
                let bm = self.block_max(b.max, &[]);
                (b, bm)
            }
        };
        if bm > self.m + SLACK {
            self.raise::<SMOOTH>(bm);
            let b = self.sweep::<T, SMOOTH, COUNT_ABOVE, false, false, PREFETCH>(sub, off, w, buf);
            self.accept::<SMOOTH>(b, sub.len(), w.is_some());
        } else {
            if bm.is_nan() {
                self.nan = true;
            }
            self.accept::<SMOOTH>(b, sub.len(), w.is_some());
            // The block's terms were taken relative to the old maximum: rescaled with the
            // rest, and Σ w (x - m) re-centred with them.
            self.raise::<SMOOTH>(bm);
        }
    }
}
