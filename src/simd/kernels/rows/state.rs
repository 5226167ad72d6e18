//! A row's blocked log-sum-exp state ([`BlockLse`]) and a block's sums ([`BlockSums`]):
//! accepting a block's sums by a two-sum, raising the running maximum (the rescale in
//! f64), the all-`-inf` and NaN blocks, and the row's statistics at the end.

use super::sweep::ExpRef;
use crate::engine::Stats;
use crate::simd::kernels::lanes::{first_lanes, fix_special};
use crate::simd::vector::{Vector, always, outline};

/// `(s + comp) * scale`, `scale = exp(m_old - m_new)`, multiplied in f64 and split back
/// into `s + comp`: at most once per block, with neither the scale's nor the product's
/// rounding, which a row whose maximum creeps up block after block (thousands of rescales
/// by the same factor) would otherwise pile up with one sign. Out of line, through the
/// backend's entry point.
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn rescale<W: Vector>(s: W, comp: W, scale: f64) -> (W, W) {
    outline!(W, rescale_in::<W>, (s, comp, scale))
}

/// [`rescale`]'s body.
#[cfg_attr(not(xent_opt0), inline(always))]
fn rescale_in<W: Vector>(s: W, comp: W, scale: f64) -> (W, W) {
    let (mut a, mut c) = ([0.0f32; 16], [0.0f32; 16]);
    s.to_lanes(&mut a);
    comp.to_lanes(&mut c);
    for (a, c) in a.iter_mut().zip(c.iter_mut()).take(W::LANES) {
        let v = (f64::from(*a) + f64::from(*c)) * scale;
        *a = v as f32;
        *c = (v - f64::from(*a)) as f32;
    }
    (W::load_or(&a, 0.0), W::load_or(&c, 0.0))
}

/// The state of the blocked log-sum-exp of one row (see [`row_sums_blocked`](super::row_sums_blocked)).
pub(crate) struct BlockLse<W> {
    /// Running maximum.
    pub(crate) m: f32,
    /// `Σ exp(x - m)` over the blocks seen, per lane, and the rounding errors of adding
    /// each block to it (a two-sum): a row of many blocks whose block sums all round the
    /// same way stays within the bound at any length.
    pub(crate) s: W,
    pub(crate) comp: W,
    /// `Σ w (x - m)` over the values seen, relative to the running maximum `m`.
    pub(crate) sx: f32,
    /// `Σ w` over the values in `sx`.
    pub(crate) wseen: f32,
    /// Count of values above the target's.
    pub(crate) cnt: W,
    /// A block's maximum was NaN (backends whose max propagates NaN).
    pub(crate) nan: bool,
    pub(crate) xtv: W,
    /// `add_exp_at`'s reference for `m`, made when an f16 sweep first needs it.
    pub(crate) xref: core::cell::Cell<ExpRef>,
}

/// A block's sums relative to a reference maximum (see [`BlockLse::sweep`]).
pub(crate) struct BlockSums<W> {
    /// `Σ exp(x - m)`, in two accumulators.
    pub(crate) a0: W,
    pub(crate) a1: W,
    /// `Σ w (x - m)` and `Σ w` (label smoothing).
    pub(crate) bx: W,
    pub(crate) ws: W,
    /// Count of values above the target's.
    pub(crate) bc: W,
    /// The block's maximum per lane, when tracked (NaN ignored on x86, as in the maximum
    /// pass); `-inf` otherwise.
    pub(crate) max: W,
}

impl<W: Vector> BlockSums<W> {
    /// Every sum 0, the maximum `-inf`.
    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn zero() -> Self {
        let zero = W::splat(0.0);
        Self { a0: zero, a1: zero, bx: zero, ws: zero, bc: zero, max: W::splat(f32::NEG_INFINITY) }
    }
}

/// [`BlockSums`] while a sweep runs ([`BlockLse::sweep_pairs`]): `Σ w (x - m)` in two
/// chains.
#[derive(Clone, Copy)]
pub(crate) struct PairAcc<W> {
    pub(crate) a0: W,
    pub(crate) a1: W,
    pub(crate) bx: W,
    pub(crate) bx1: W,
    pub(crate) ws: W,
    pub(crate) bc: W,
    pub(crate) mx: W,
}

/// How far (in log space) a block's maximum may pass the running maximum and still have
/// its exps taken relative to the old one: terms up to `e^4`, `|n| <= 6` in
/// [`Vector::exp_parts_sum`]'s bound. Past it the block is swept again.
pub(crate) const SLACK: f32 = 4.0;

/// `e^SLACK` (rounded down): a block's lane sums within it show that none of its terms
/// passed `e^SLACK` ([`BlockLse::feed`] where [`Vector::CLAMPS_HIGH`]).
pub(crate) const SUM_LIM: f32 = 54.598;

impl<W: Vector> BlockLse<W> {
    /// Marks the row NaN where a block's maximum `bm` (from [`Self::scan`]) shows a NaN,
    /// or may hide one: x86's vector maximum ignores NaN, so an all-`-inf` maximum may be
    /// a block of NaN and `-inf` only.
    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn note_nan(&mut self, sub: &[f32], bm: f32) {
        if bm.is_nan()
            || (bm == f32::NEG_INFINITY
                && sub.iter().any(
                    #[cfg_attr(not(xent_opt0), inline(always))]
                    |v| v.is_nan(),
                ))
        {
            self.nan = true;
        }
    }

    /// A row's state before its first block; `xt` is the target's logit (for the rank).
    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn new(xt: f32) -> Self {
        let zero = W::splat(0.0);
        Self {
            m: f32::NEG_INFINITY,
            s: zero,
            comp: zero,
            sx: 0.0,
            wseen: 0.0,
            cnt: zero,
            nan: false,
            xtv: W::splat(xt),
            xref: core::cell::Cell::new(ExpRef::NONE),
        }
    }

    /// The row's statistics once every block is in: `n` values, target `t`. The sum, not
    /// yet its log: callers take the logs of many rows in one vector.
    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn finish<const SMOOTH: bool, const COUNT_ABOVE: bool>(
        self,
        n: usize,
        t: usize,
        xt: f32,
    ) -> Stats<f32> {
        let s = if self.nan { f32::NAN } else { (self.s + self.comp).reduce_add() };
        let (max, sum) = fix_special(n, self.m, s);
        let sx = if SMOOTH { self.sx } else { 0.0 };
        let above = if COUNT_ABOVE && t < n { self.cnt.reduce_add() as usize } else { 0 };
        Stats { max, lse_rel: sum, xt, sx, above }
    }
}

impl<W: Vector> BlockLse<W> {
    /// A block whose every value is `-inf` (it adds exactly 0 to the sum, and would give
    /// `-inf - -inf` while the row's maximum is still `-inf`) or whose maximum is NaN (the
    /// sum is NaN anyway): only `Σ w x` and the rank.
    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn special<const SMOOTH: bool, const COUNT_ABOVE: bool>(
        &mut self,
        sub: &[f32],
        off: usize,
        w: Option<&[f32]>,
    ) {
        let l = W::LANES;
        let (zero, one) = (W::splat(0.0), W::splat(1.0));
        let wv = always!(|i: usize| match w {
            Some(w) => W::load_or(&w[off + i..], 0.0),
            None => one,
        });
        let (mut bx, mut ws, mut bc) = (zero, zero, zero);
        let mut i = 0;
        while (SMOOTH || COUNT_ABOVE) && i < sub.len() {
            let x = W::load_or(&sub[i..], f32::NEG_INFINITY);
            let valid = first_lanes::<W>(sub.len() - i);
            if SMOOTH {
                // -inf times the weight (NaN for a zero weight, as in PyTorch).
                bx = bx + W::select(valid, x * wv(i), zero);
                ws = ws + W::select(valid, wv(i), zero);
            }
            if COUNT_ABOVE {
                bc = bc + (x.gt(self.xtv) & one);
            }
            i += l;
        }
        let b = BlockSums { a0: zero, a1: zero, bx, ws, bc, max: W::splat(f32::NEG_INFINITY) };
        self.accept::<SMOOTH>(b, sub.len(), w.is_some());
    }

    /// Moves the running maximum up to `bm` (when it is larger): the sum rescaled (in f64,
    /// [`rescale`]) and `Σ w (x - m)` re-centred.
    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn raise<const SMOOTH: bool>(&mut self, bm: f32) {
        if bm > self.m {
            if self.m != f32::NEG_INFINITY {
                (self.s, self.comp) =
                    rescale(self.s, self.comp, libm::exp(f64::from(self.m) - f64::from(bm)));
            }
            if SMOOTH && self.wseen != 0.0 {
                self.sx += self.wseen * (self.m - bm);
            }
            self.m = bm;
        }
    }

    /// Adds a block's sums (relative to the running maximum) into the row's: the exps by
    /// a two-sum (Knuth; `comp` gathers the exact error).
    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn accept<const SMOOTH: bool>(&mut self, b: BlockSums<W>, len: usize, weighted: bool) {
        let bs = b.a0 + b.a1;
        let t = self.s + bs;
        let bp = t - self.s;
        self.comp = self.comp + ((self.s - (t - bp)) + (bs - bp));
        self.s = t;
        if SMOOTH {
            self.sx += b.bx.reduce_add();
            self.wseen += if weighted { b.ws.reduce_add() } else { len as f32 };
        }
        self.cnt = self.cnt + b.bc;
    }
}
