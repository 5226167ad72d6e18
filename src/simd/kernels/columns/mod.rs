//! Channel-first `(N, C, d..)` layouts: the `LANES` positions that are contiguous for
//! each class are one vector, a *group*, and a class is one load.
//!
//! - [`stats`]: a group's statistics. Uncapped, two sweeps over the classes (the maximum
//!   and the target logit, then one exp per logit); soft-capped, a per-lane online
//!   `(max, sum)` ([`stats::OnlineLse`]: `s = x > m ? s*e + 1 : s + e`) so the `tanh` runs
//!   once per logit.
//! - [`ce_sum`]: the plain cross-entropy summed over groups, unweighted groups sharing one
//!   `ln` per eight.
//! - [`grad`]: a group's gradient, class-index or soft targets.
//!
//! This file walks a layout's positions as contiguous runs ([`ColumnRuns`]) and groups
//! ([`ColumnGroups`]), and hands what is left of each run (fewer than `LANES` positions)
//! to the scalar twin.

pub(crate) mod ce_sum;
pub(crate) mod grad;
pub(crate) mod stats;

use crate::engine::{Engine, GradDst, SoftCoef, SoftStats, Stats};
use crate::scalar::kernels::Scalar;
use crate::simd::vector::Vector;
use crate::tiling::F32_EXACT_C;
use crate::{Element, Layout};
pub(crate) use ce_sum::{group_ce_sum, run_ce_sum};
use core::marker::PhantomData;
pub(crate) use grad::group_grad;
use grad::group_soft_grad;
pub(crate) use stats::group_stats;
use stats::{group_normalize, group_soft_stats};

/// Column kernels compare class indices as f32 lanes: exact below 2^24 classes.
pub(crate) const COLUMN_MAX_C: usize = F32_EXACT_C;

/// Maximal runs `(q0, run, base)` of positions `p0 + q0 ..` that are contiguous in memory
/// for each class (the same `n` of a channel-first layout); `base` is the index of the
/// run's first logit of class 0, and the class stride is `inner`.
pub(crate) struct ColumnRuns {
    pub(crate) lay: Layout,
    pub(crate) p0: usize,
    pub(crate) k: usize,
    pub(crate) q: usize,
}

impl ColumnRuns {
    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn new(lay: Layout, p0: usize, k: usize) -> Self {
        Self { lay, p0, k, q: 0 }
    }
}

impl Iterator for ColumnRuns {
    type Item = (usize, usize, usize);

    #[cfg_attr(not(xent_opt0), inline(always))]
    fn next(&mut self) -> Option<Self::Item> {
        if self.q >= self.k {
            return None;
        }
        let (q, p) = (self.q, self.p0 + self.q);
        // One division per run: the run's first logit, then the run is contiguous.
        let (base, _) = self.lay.row(p);
        let i = p % self.lay.inner();
        let run = (self.k - q).min(self.lay.inner() - i);
        self.q += run;
        Some((q, run, base))
    }
}

/// The positions `p0 .. p0 + k` of a channel-first layout as `(q, n, base)`: groups of
/// `n = LANES` positions contiguous for each class (`base` the index of the group's first
/// logit of class 0, class stride `lay.inner()`), and `n < LANES` for what is left at the
/// end of each contiguous run (for the scalar twin). An iterator, not a closure: a closure
/// holding the gradient destination slowed the column gradient.
pub(crate) struct ColumnGroups<W> {
    pub(crate) runs: ColumnRuns,
    pub(crate) q: usize,
    pub(crate) end: usize,
    pub(crate) shift: usize,
    lanes: PhantomData<W>,
}

impl<W: Vector> ColumnGroups<W> {
    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn new(lay: Layout, p0: usize, k: usize) -> Self {
        Self { runs: ColumnRuns::new(lay, p0, k), q: 0, end: 0, shift: 0, lanes: PhantomData }
    }
}

impl<W: Vector> Iterator for ColumnGroups<W> {
    type Item = (usize, usize, usize);

    #[cfg_attr(not(xent_opt0), inline(always))]
    fn next(&mut self) -> Option<Self::Item> {
        if self.q >= self.end {
            let (q0, run, base0) = self.runs.next()?;
            (self.q, self.end, self.shift) = (q0, q0 + run, base0.wrapping_sub(q0));
        }
        let (q, n) = (self.q, W::LANES.min(self.end - self.q));
        self.q += n;
        Some((q, n, self.shift.wrapping_add(q)))
    }
}

/// [`Engine::soft_stats`] of the SIMD engine on a channel-first layout. Out of line (as
/// are the two below): inlined, it cost the row path of the same method instructions.
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn soft_stats_channel_first<W: Vector, T: Element, U: Element>(
    x: &[T],
    t: &[U],
    lay: Layout,
    p0: usize,
    eps: f32,
    w: Option<&[f32]>,
    out: &mut [SoftStats<f32>],
) {
    W::outline(
        #[cfg_attr(not(xent_opt0), inline(always))]
        move || {
            let classes = lay.classes();
            for (q, n, base) in ColumnGroups::<W>::new(lay, p0, out.len()) {
                if n == W::LANES {
                    group_soft_stats::<W, T, U>(x, t, base, lay.inner(), classes, eps, w, &mut out[q..]);
                } else {
                    Scalar::soft_stats(x, t, lay, p0 + q, eps, w, &mut out[q..q + n]);
                }
            }
        },
    )
}

/// [`Engine::soft_grad`] of the SIMD engine on a channel-first layout.
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn soft_grad_channel_first<W: Vector, T: Element, U: Element>(
    dst: &mut GradDst<'_, T, f32>,
    t: &[U],
    lay: Layout,
    p0: usize,
    coef: &[SoftCoef<f32>],
    eps: f32,
    w: Option<&[f32]>,
) {
    W::outline(
        #[cfg_attr(not(xent_opt0), inline(always))]
        move || {
            let classes = lay.classes();
            for (q, n, base) in ColumnGroups::<W>::new(lay, p0, coef.len()) {
                if n == W::LANES {
                    group_soft_grad::<W, T, U>(dst, t, base, lay.inner(), classes, &coef[q..], eps, w);
                } else {
                    Scalar::soft_grad(dst, t, lay, p0 + q, &coef[q..q + n], eps, w);
                }
            }
        },
    )
}

/// [`Engine::normalize`] of the SIMD engine on a channel-first layout.
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn normalize_channel_first<W: Vector, T: Element>(
    x: &[T],
    lay: Layout,
    p0: usize,
    st: &[Stats<f32>],
    log: bool,
    out: &mut [f32],
) {
    W::outline(
        #[cfg_attr(not(xent_opt0), inline(always))]
        move || {
            let classes = lay.classes();
            for (q, n, base) in ColumnGroups::<W>::new(lay, p0, st.len()) {
                if n == W::LANES {
                    group_normalize::<W, T>(x, base, lay.inner(), classes, &st[q..], log, out);
                } else {
                    Scalar::normalize(x, lay, p0 + q, &st[q..q + n], log, out);
                }
            }
        },
    )
}
