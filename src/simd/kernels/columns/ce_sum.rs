//! The plain cross-entropy summed over groups: per group `w[y] ((max - x_y) + lse_rel)`,
//! unweighted groups sharing one `ln` per [`LN_GROUPS`] ([`LnProd`]), and the per-lane
//! compensated sum ([`LaneAcc`]).

use super::stats::{GroupPass, group_pass, group_sweeps, lse_rel_v};
use crate::Element;
use crate::engine::Want;
use crate::simd::kernels::lanes::{PREFETCH_BYTES, ln_nan};
use crate::simd::vector::{Vector, always};

/// `w[y] ((max - x_y) + lse_rel)` of `LANES` columns, 0 at the positions not counted.
#[cfg_attr(not(xent_opt0), inline(always))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn group_ce_sum<W: Vector, T: Element, const N: usize>(
    x: &[T],
    base: usize,
    stride: usize,
    classes: usize,
    tv: &[f32],
    w: Option<&[f32]>,
    prefetch: bool,
) -> W {
    let p = group_pass::<W, T, N>(x, base, stride, classes, tv, None, None, Want::default(), prefetch);
    pass_ce(&p, classes, tv, w)
}

/// [`group_ce_sum`] over the first positions of a run of `run` f32 positions, in steps of
/// [`LN_GROUPS`] vectors (the class count `N` known), into `vsum`; returns how many
/// positions it took. Each class's values are sliced once per run, so the loads need no
/// bounds checks, and the groups
/// of a step are independent chains side by side; unweighted, they share one `ln`
/// ([`LnProd`]).
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn run_ce_sum<W: Vector, const N: usize>(
    x: &[f32],
    base: usize,
    stride: usize,
    run: usize,
    tv: &[f32],
    w: Option<&[f32]>,
    vsum: &mut LaneAcc<W>,
) -> usize {
    pub(crate) const G: usize = LN_GROUPS;
    let steps = run / (G * W::LANES);
    let take = steps * G * W::LANES;
    if steps == 0 || x.len() < base + (N - 1) * stride + take {
        return 0;
    }
    let cls: [&[W::Arr]; N] = core::array::from_fn(
        #[cfg_attr(not(xent_opt0), inline(always))]
        |c| {
            let s = &x[base + c * stride..][..take];
            &W::split(s).0[..G * steps]
        },
    );
    let tvs = &W::split(&tv[..take]).0[..G * steps];
    for j in (0..G * steps).step_by(G) {
        // Every line of each class, [`PREFETCH_BYTES`] ahead (as [`group_pass`]).
        for s in cls {
            for line in (0..G * W::LANES * 4).step_by(64) {
                crate::simd::arch::prefetch::<true, W::Arr>(
                    s.as_ptr(),
                    j * W::LANES * 4 + line + PREFETCH_BYTES,
                );
            }
        }
        if w.is_some() {
            for g in j..j + G {
                vsum.add(run_group_ce::<W, N>(&cls, tvs, tv, g, w));
            }
        } else {
            let mut lp = LnProd::new();
            for g in j..j + G {
                lp.push::<N>(
                    #[cfg_attr(not(xent_opt0), inline(always))]
                    |c| W::from_arr(&cls[c][g]),
                    W::from_arr(&tvs[g]),
                );
            }
            vsum.add(lp.take());
        }
    }
    take
}

/// [`group_ce_sum`] of the group `g` of [`run_ce_sum`].
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn run_group_ce<W: Vector, const N: usize>(
    cls: &[&[W::Arr]; N],
    tvs: &[W::Arr],
    tv: &[f32],
    g: usize,
    w: Option<&[f32]>,
) -> W {
    let col = always!(|c: usize| W::from_arr(&cls[c][g]));
    pass_ce(&group_sweeps(N, col, W::from_arr(&tvs[g]), Want::default(), None), N, &tv[g * W::LANES..], w)
}

/// Groups of positions per `ln` in the unweighted plain forward ([`LnProd`]): 8, past
/// which more gained nothing (docs/PERF_NOTES.md, "One ln per eight groups").
pub(crate) const LN_GROUPS: usize = 8;

/// The unweighted losses of up to [`LN_GROUPS`] groups of `LANES` positions, summed per
/// lane as `Σ (max - x_y) + ln Π s`: one `ln` for all the groups (one per group, the
/// `ln` was a large part of the channel-first C = 4 forward). `1 <= s <= N <= 16`, so
/// the product (at most `16^8 = 2^32`) cannot overflow, and its `LN_GROUPS - 1` roundings
/// add at most `(LN_GROUPS - 1) eps / 2` absolute to the groups' `LN_GROUPS` losses, and
/// `ln`'s 2 ULP of the larger logarithm no more than 2 ULP of each: inside the
/// per-position bound's `1.5 u >= 6 eps` (the crate docs, "Precision"). Each group is
/// folded in as it is made, with few vectors live (a product tree was slower).
pub(crate) struct LnProd<W> {
    pub(crate) d: W,
    pub(crate) s: W,
    pub(crate) k: usize,
}

impl<W: Vector> LnProd<W> {
    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn new() -> Self {
        Self { d: W::splat(0.0), s: W::splat(1.0), k: 0 }
    }

    /// Folds in the group of `LANES` positions with targets `tv` (`col(c)` its logits of
    /// class `c`; [`unweighted_parts`]); true when [`LN_GROUPS`] groups are in.
    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn push<const N: usize>(&mut self, col: impl Fn(usize) -> W, tv: W) -> bool {
        let (d, s) = unweighted_parts::<W, N>(col, tv);
        self.d = self.d + d;
        self.s = self.s * s;
        self.k += 1;
        self.k == LN_GROUPS
    }

    /// The lanes' summed losses, and a fresh start.
    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn take(&mut self) -> W {
        let r = self.d + ln_nan(self.s);
        *self = Self::new();
        r
    }
}

/// The two parts of the unweighted losses of a group of `LANES` positions with targets
/// `tv` (`col(c)` its logits of class `c`): `max - x_y` and the sum `s` of `exp(x - max)`
/// (NaN for PyTorch's special rows, as [`lse_rel_v`]), with `(0, 1)` for positions not
/// counted (their loss is 0 whatever their logits).
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn unweighted_parts<W: Vector, const N: usize>(col: impl Fn(usize) -> W, tv: W) -> (W, W) {
    let p = group_sweeps(N, col, tv, Want::default(), None);
    let counted = tv.ge(W::splat(0.0));
    let s = p.acc.sum_nan_special();
    (W::select(counted, p.acc.m - p.xt, W::splat(0.0)), W::select(counted, s, W::splat(1.0)))
}

/// `w[y] ((max - x_y) + lse_rel)` of a column pass over `classes` classes with targets
/// `tv` (negative: not counted, 0).
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn pass_ce<W: Vector>(p: &GroupPass<W>, classes: usize, tv: &[f32], w: Option<&[f32]>) -> W {
    let counted = p.tv.ge(W::splat(0.0));
    let wy = match w {
        None => W::splat(1.0),
        Some(w) => {
            let mut wy = [0.0f32; 16];
            for (d, &t) in wy.iter_mut().zip(&tv[..W::LANES]) {
                if t >= 0.0 {
                    *d = w[t as usize];
                }
            }
            W::load_or(&wy, 0.0)
        }
    };
    let loss = wy * ((p.acc.m - p.xt) + lse_rel_v(classes, &p.acc));
    // Ignored lanes may hold NaN: select them away, don't multiply.
    W::select(counted, loss, W::splat(0.0))
}

/// A compensated sum per lane (Knuth's two-sum, branch-free), reduced once at the end:
/// the column kernels' per-position losses, without a lane reduction per vector.
pub(crate) struct LaneAcc<W> {
    pub(crate) s: W,
    pub(crate) c: W,
}

impl<W: Vector> LaneAcc<W> {
    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn new() -> Self {
        Self { s: W::splat(0.0), c: W::splat(0.0) }
    }

    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn add(&mut self, x: W) {
        let t = self.s + x;
        let bp = t - self.s;
        self.c = self.c + ((self.s - (t - bp)) + (x - bp));
        self.s = t;
    }

    /// The lanes' total: their sums and, unless one overflowed (its compensation is then
    /// NaN, and the plain sum's `inf` or NaN is the result, as for the scalar
    /// accumulator), their compensations. Each added by a lane tree: `log2(LANES)`
    /// roundings relative to the total, as a lane reduction per vector had.
    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn total(&self) -> f32 {
        let s = self.s.reduce_add();
        if s.is_finite() { s + self.c.reduce_add() } else { s }
    }
}
