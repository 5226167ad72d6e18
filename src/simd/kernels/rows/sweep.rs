//! A block's exp sweep relative to the running maximum: two accumulators a pair of
//! vectors, with per the flags the block's maximum, `Σ w (x - m)` and the rank's count;
//! and the f16 sweep that widens in registers and takes its exps relative to an
//! `ExpRef`.

use super::state::{BlockLse, BlockSums, PairAcc};
use crate::Element;
use crate::simd::kernels::convert::for_blocks_in;
use crate::simd::kernels::lanes::{IOTA, PREFETCH_BYTES, add_exp, add_exp_hi, first_lanes};
use crate::simd::vector::{Vector, always};

/// [`add_exp`] from `x` itself: `acc + exp(x - J ln2)` by
/// [`Vector::exp_parts_sum_poly_at`], `x` first raised to `lo` (NaN kept), with
/// `(magic, lo)` of an `ExpRef`. No `x - m` a vector.
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn add_exp_at<W: Vector>(acc: W, x: W, (magic, lo): (W, W)) -> W {
    let (e, scale) = W::max_nan_b(lo, x).exp_parts_sum_poly_at(magic);
    e.mul_add(scale, acc)
}

/// The reference of [`add_exp_at`]'s terms for a running maximum `m`: `J = round(m / ln2)`,
/// so the terms are `exp(x - M)`, `M = J ln2` (`ln2` rounded to f32; exact in f64), and
/// `c = exp(M - m)` (in `[0.70, 1.42]`, as `c_hi + c_lo`) puts a block's sum back relative
/// to `m`. Made once for each maximum of a row (a `round` and an `exp` in f64).
#[derive(Clone, Copy)]
pub(crate) struct ExpRef {
    /// The running maximum it was made for (NaN: none yet).
    pub(crate) m: f32,
    /// `EXP_MAGIC - J`.
    pub(crate) magic: f32,
    /// `M - 87`, where the terms are floored (`2^(n - J)` stays a normal number).
    pub(crate) lo: f32,
    pub(crate) c_hi: f32,
    pub(crate) c_lo: f32,
}

impl ExpRef {
    pub(crate) const NONE: Self = Self { m: f32::NAN, magic: 0.0, lo: 0.0, c_hi: 0.0, c_lo: 0.0 };

    /// For a finite `m` within the f16 range (`|J| < 2^17`, so `EXP_MAGIC - J` and
    /// `J ln2` are exact); any other `m` gives NaN sums (a row whose maximum is `+inf` is
    /// NaN anyway).
    pub(crate) fn new(m: f32) -> Self {
        let ln2 = f64::from(core::f32::consts::LN_2);
        let j = libm::round(f64::from(m) / ln2);
        // NaN for a NaN or infinite `m` too.
        if j.is_nan() || j.abs() >= 131_072.0 {
            return Self { m, magic: f32::NAN, lo: f32::NAN, c_hi: f32::NAN, c_lo: f32::NAN };
        }
        let big_m = j * ln2;
        let c = libm::exp(big_m - f64::from(m));
        let c_hi = c as f32;
        Self {
            m,
            magic: crate::simd::vector::EXP_MAGIC - j as f32,
            lo: (big_m - 87.0) as f32,
            c_hi,
            c_lo: (c - f64::from(c_hi)) as f32,
        }
    }
}

impl<W: Vector> BlockLse<W> {
    /// One sweep over a block: `exp(x - m)` (one exp per element, `m` the running
    /// maximum), `Σ w (x - m)` reusing the exp's argument, the count of values above the
    /// target's, and with `TRACK_MAX` the block's maximum.
    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn sweep<
        T: Element,
        const SMOOTH: bool,
        const COUNT_ABOVE: bool,
        const TRACK_MAX: bool,
        const CLAMP_HIGH: bool,
        const PREFETCH: bool,
    >(
        &self,
        sub: &[T],
        off: usize,
        w: Option<&[f32]>,
        buf: &mut [f32],
    ) -> BlockSums<W> {
        let zero = W::splat(0.0);
        let ninf = W::splat(f32::NEG_INFINITY);
        let mut b = BlockSums { a0: zero, a1: zero, bx: zero, ws: zero, bc: zero, max: ninf };
        // f16/bf16: converted [`CONVERT_BLOCK`] values at a time into one stack buffer, the sums
        // carried from one conversion to the next, so a block of [`LSE_BLOCK`] values pays one
        // check, one two-sum and one rescale, as an f32 block does.
        // f32 without the closure: LLVM did not inline it, and the sweep's accumulators
        // went through memory.
        match T::as_f32(sub) {
            Some(sub) => {
                self.sweep_into::<SMOOTH, COUNT_ABOVE, TRACK_MAX, CLAMP_HIGH, PREFETCH>(&mut b, sub, off, w)
            }
            None => {
                // The plain sweep only: with smoothing, LLVM kept one exp accumulator of
                // this loop in memory (a store and reload a pair of vectors).
                if W::F16_IN_REGS
                    && !SMOOTH
                    && !COUNT_ABOVE
                    && let Some(h) = T::as_f16(sub)
                {
                    self.sweep_f16::<TRACK_MAX>(&mut b, h, off, buf);
                    return b;
                }
                for_blocks_in::<W, _>(
                    sub,
                    buf,
                    #[cfg_attr(not(xent_opt0), inline(always))]
                    |o, blk| {
                        self.sweep_into::<SMOOTH, COUNT_ABOVE, TRACK_MAX, CLAMP_HIGH, false>(
                            &mut b,
                            blk,
                            off + o,
                            w,
                        )
                    },
                )
            }
        }
        b
    }

    /// The plain sweep ([`Self::sweep_into`] without smoothing or rank) of f16 values,
    /// each vector widened in registers: no conversion into the stack buffer and no
    /// reload (on AVX-512 the buffer's stores were the f16 forward's largest cost after
    /// the exp). The values past the last pair of whole vectors go
    /// through the buffer and [`Self::sweep_into`].
    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn sweep_f16<const TRACK_MAX: bool>(
        &self,
        b: &mut BlockSums<W>,
        h: &[half::f16],
        off: usize,
        buf: &mut [f32],
    ) {
        let (pairs, _) = W::split_f16(h).0.as_chunks::<2>();
        let zero = W::splat(0.0);
        let mut acc = PairAcc { a0: zero, a1: zero, bx: zero, bx1: zero, ws: zero, bc: zero, mx: b.max };
        // Reached on one-sweep builds only (AVX-512, which implies the FMA that
        // `exp_parts_sum_poly_at` needs).
        debug_assert!(W::ONE_SWEEP && W::FMA);
        // The polynomial exp of `x` itself, relative to `J ln2` near `m` (`add_exp_at`):
        // one subtraction a vector fewer than `exp(x - m)`, on a loop whose 512-bit
        // operations fill the vector pipes; f32 sweeps gained nothing from it
        // (docs/PERF_NOTES.md, "Which exp").
        let mut xr = self.xref.get();
        if xr.m.to_bits() != self.m.to_bits() {
            xr = ExpRef::new(self.m);
            self.xref.set(xr);
        }
        let at = (W::splat(xr.magic), W::splat(xr.lo));
        self.sweep_pairs::<_, false, false, TRACK_MAX, false, true, true>(
            &mut acc,
            pairs,
            W::from_f16,
            (off, None),
            at,
        );
        // Back relative to `m`: times `c = c_hi + c_lo`, one rounding of the product
        // (`c_hi`'s own does not carry over): 0.5 eps relative at most, the same on every
        // block of a row, so it does not grow with the row's length.
        let (ch, cl) = (W::splat(xr.c_hi), W::splat(xr.c_lo));
        acc.a0 = acc.a0.mul_add(ch, acc.a0 * cl);
        acc.a1 = acc.a1.mul_add(ch, acc.a1 * cl);
        (b.a0, b.a1, b.max) = (b.a0 + acc.a0, b.a1 + acc.a1, acc.mx);
        let done = pairs.len() * 2 * W::LANES;
        for_blocks_in::<W, _>(
            &h[done..],
            buf,
            #[cfg_attr(not(xent_opt0), inline(always))]
            |o, blk| self.sweep_into::<false, false, TRACK_MAX, false, false>(b, blk, off + done + o, None),
        );
    }

    /// The pair loop of [`Self::sweep_into`] over whole vectors of any element type, each
    /// widened by `load` (f32 arrays, or f16 widened in registers by `Self::sweep_f16`):
    /// the exps into two accumulators, and per the flags the block's maximum, `Σ w (x - m)`
    /// (two chains) and the rank's count. `off` is the first pair's class in the row
    /// (for the weights). With `EXP_AT_REF` the exps are [`add_exp_at`]'s, of `x` itself with
    /// `at = (magic, lo)` of an `ExpRef`, relative to its `J ln2` (for the caller to put
    /// back relative to `m`; plain sweeps only); else `exp(x - m)` by [`add_exp`]. With
    /// `PREFETCH` each pair prefetches [`PREFETCH_BYTES`] ahead: over the caller's memory, not
    /// over a stack buffer of converted or capped values (a wasted instruction a pair).
    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn sweep_pairs<
        P,
        const SMOOTH: bool,
        const COUNT_ABOVE: bool,
        const TRACK_MAX: bool,
        const CLAMP_HIGH: bool,
        const EXP_AT_REF: bool,
        const PREFETCH: bool,
    >(
        &self,
        acc: &mut PairAcc<W>,
        pairs: &[[P; 2]],
        load: impl Fn(&P) -> W,
        (off, w): (usize, Option<&[f32]>),
        at: (W, W),
    ) {
        // One-sweep builds, where every block's `Σ (x - m)` is taken here: the unweighted
        // loop apart from the weighted one (the same body, `w` a constant `None`). With
        // the test inside, LLVM kept it in the loop, with three weight offsets counted
        // beside the pair index (scalar operations that compete for the vector ports).
        // Two-sweep builds take that sum in the maximum's read, a row's first block too
        // ([`BlockLse::first_max`]), and come here without it.
        if SMOOTH && W::ONE_SWEEP && w.is_none() {
            self.pairs_body::<P, SMOOTH, COUNT_ABOVE, TRACK_MAX, CLAMP_HIGH, EXP_AT_REF, PREFETCH>(
                acc,
                pairs,
                load,
                (off, None),
                at,
            );
        } else {
            self.pairs_body::<P, SMOOTH, COUNT_ABOVE, TRACK_MAX, CLAMP_HIGH, EXP_AT_REF, PREFETCH>(
                acc,
                pairs,
                load,
                (off, w),
                at,
            );
        }
    }

    /// [`Self::sweep_pairs`]'s loop.
    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn pairs_body<
        P,
        const SMOOTH: bool,
        const COUNT_ABOVE: bool,
        const TRACK_MAX: bool,
        const CLAMP_HIGH: bool,
        const EXP_AT_REF: bool,
        const PREFETCH: bool,
    >(
        &self,
        acc: &mut PairAcc<W>,
        pairs: &[[P; 2]],
        load: impl Fn(&P) -> W,
        (off, w): (usize, Option<&[f32]>),
        at: (W, W),
    ) {
        let l = W::LANES;
        let one = W::splat(1.0);
        // Unweighted, `Σ (x - m)` still adds by FMA (times an exact 1, the same sum): 1
        // hidden from LLVM, which would fold the FMA into an add. On Zen 4 the FMA pipes
        // have room beside the exp and the add pipes do not (docs/PERF_NOTES.md, "Which
        // exp"). Only where the sum is taken (the barrier is not free).
        let unit = if SMOOTH { W::splat(core::hint::black_box(1.0)) } else { one };
        let (mv, xtv) = (W::splat(self.m), self.xtv);
        let wv = always!(|i: usize| match w {
            Some(w) => W::load_or(&w[off + i..], 0.0),
            None => unit,
        });
        let PairAcc { mut a0, mut a1, mut bx, mut bx1, mut ws, mut bc, mut mx } = *acc;
        for (k, p) in pairs.iter().enumerate() {
            if PREFETCH {
                crate::simd::arch::prefetch::<true, _>(p, PREFETCH_BYTES);
            }
            let (x0, x1) = (load(&p[0]), load(&p[1]));
            let (d0, d1) = (x0 - mv, x1 - mv);
            if EXP_AT_REF {
                a0 = add_exp_at(a0, x0, at);
                a1 = add_exp_at(a1, x1, at);
            } else if CLAMP_HIGH {
                a0 = add_exp_hi(a0, d0);
                a1 = add_exp_hi(a1, d1);
            } else {
                a0 = add_exp(a0, d0);
                a1 = add_exp(a1, d1);
            }
            if TRACK_MAX {
                // One register for the maximum (AVX2 has 16: two spilled the exp's constants).
                mx = W::max_nan_b(W::max_nan_b(x0, x1), mx);
            }
            if SMOOTH {
                let (w0, w1) = (wv(2 * k * l), wv((2 * k + 1) * l));
                // Two chains, not one: two dependent FMAs a pair were near the sweep's
                // critical path.
                bx = d0.mul_add(w0, bx);
                bx1 = d1.mul_add(w1, bx1);
                if w.is_some() {
                    ws = ws + w0 + w1;
                }
            }
            if COUNT_ABOVE {
                bc = bc + (x0.gt(xtv) & one) + (x1.gt(xtv) & one);
            }
        }
        *acc = PairAcc { a0, a1, bx, bx1, ws, bc, mx };
    }

    /// [`Self::sweep`] over one f32 slice, adding into `b`.
    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn sweep_into<
        const SMOOTH: bool,
        const COUNT_ABOVE: bool,
        const TRACK_MAX: bool,
        const CLAMP_HIGH: bool,
        const PREFETCH: bool,
    >(
        &self,
        b: &mut BlockSums<W>,
        sub: &[f32],
        off: usize,
        w: Option<&[f32]>,
    ) {
        let l = W::LANES;
        let (zero, one) = (W::splat(0.0), W::splat(1.0));
        let xtv = self.xtv;
        let (vecs, tail) = W::split(sub);
        let full = vecs.len() * l;
        let over = !tail.is_empty() && !vecs.is_empty();
        let last = sub.len().saturating_sub(l);
        let wv = always!(|i: usize| match w {
            Some(w) => W::load_or(&w[off + i..], 0.0),
            None => one,
        });
        let BlockSums { mut a0, mut a1, mut bx, mut ws, mut bc, max: mut mx } = *b;
        let mv = W::splat(self.m);
        // The tail first: its temporaries are dead before the main loop starts. After a
        // whole vector, the block's last LANES values, overlapping the vector before
        // (lanes `LANES - tail.len()..` are the tail's; the rest repeat values already
        // summed: masked off, harmless to a maximum); otherwise the tail padded with -inf.
        if !tail.is_empty() {
            let (x, mask, at) = if over {
                let keep = W::load_or(&IOTA, 0.0).ge(W::splat((l - tail.len()) as f32));
                (W::load_or(&sub[last..], 0.0), keep, last)
            } else {
                (W::load_or(tail, f32::NEG_INFINITY), first_lanes::<W>(tail.len()), full)
            };
            let d = x - mv;
            // The same exp as the body's (masked lanes add 0).
            let e = if CLAMP_HIGH { add_exp_hi(zero, d) } else { add_exp(zero, d) };
            a1 = a1 + W::select(mask, e, zero);
            if TRACK_MAX {
                mx = W::max_nan_b(x, mx);
            }
            if SMOOTH {
                bx = bx + W::select(mask, d * wv(at), zero);
                if w.is_some() {
                    ws = ws + W::select(mask, wv(at), zero);
                }
            }
            if COUNT_ABOVE {
                bc = bc + (x.gt(xtv) & mask & one);
            }
        }
        let (pairs, odd) = vecs.as_chunks::<2>();
        let mut acc = PairAcc { a0, a1, bx, bx1: zero, ws, bc, mx };
        self.sweep_pairs::<_, SMOOTH, COUNT_ABOVE, TRACK_MAX, CLAMP_HIGH, false, PREFETCH>(
            &mut acc,
            pairs,
            W::from_arr,
            (off, w),
            (zero, zero),
        );
        let bx1;
        PairAcc { a0, a1, bx, bx1, ws, bc, mx } = acc;
        let mut i = pairs.len() * 2 * l;
        for a in odd {
            let x = W::from_arr(a);
            let d = x - mv;
            a0 = if CLAMP_HIGH { add_exp_hi(a0, d) } else { add_exp(a0, d) };
            if TRACK_MAX {
                mx = W::max_nan_b(x, mx);
            }
            if SMOOTH {
                bx = d.mul_add(wv(i), bx);
                if w.is_some() {
                    ws = ws + wv(i);
                }
            }
            if COUNT_ABOVE {
                bc = bc + (x.gt(xtv) & one);
            }
            i += l;
        }
        *b = BlockSums { a0, a1, bx: bx + bx1, ws, bc, max: mx };
    }
}
