//! The seam between the loss drivers (`loss/`, written once) and the kernels that touch
//! the data: the scalar reference kernels (`scalar/kernels.rs`) and the SIMD kernels
//! (`simd/`). A loss driver validates, walks the positions in tiles of [`TILE`], asks an
//! [`Engine`] for per-position statistics, turns them into losses and gradient
//! coefficients with a few scalar operations per position, and asks the engine to write
//! the gradient. Everything per element happens in an engine.

use crate::acc::Acc;
use crate::tiling::{NO_TARGET, TILE};
use crate::{ClassIndex, Element, Error, Layout, Real};

/// One position's softmax statistics, over its (soft-capped) logits `x'`:
/// `max`, `lse_rel = ln Σ exp(x' - max)` (so `lse = max + lse_rel`), `xt = x'[t]` (0
/// without a target) and
/// `sx = Σ_c w_c (x'_c - max)` (`w = 1` without weights; 0 unless asked for) and
/// `above`, the number of classes whose logit is greater than the target's (0 unless asked
/// for, or without a target).
#[derive(Copy, Clone, Debug, Default)]
pub(crate) struct Stats<R> {
    pub max: R,
    pub lse_rel: R,
    pub xt: R,
    pub sx: R,
    pub above: usize,
}

/// Which optional statistics a `class_stats` call computes.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Want {
    /// `Stats::sx` (label smoothing).
    pub sx: bool,
    /// `Stats::above` (evaluation ranks).
    pub rank: bool,
}

/// Gradient coefficients of one position: with `lp_j = (x'_j - max) - lse_rel` and
/// `p_j = exp(lp_j)`, the gradient is
/// `chain_j * (a*p_j - c*w_j - [j == t]*k)`, the target slot evaluated as
/// `a*expm1(lp_t) + (a - k) - c*w_t` so that `p_t -> 1` loses nothing. `xt` is the
/// (soft-capped) target logit, so a kernel can fix the target slot after overwriting it.
/// With `others`, `expm1(lp_t)` is `-Σ_{j != t} p_j`, summed as the row is written: a
/// backward from stored f32 log-sum-exps sets it where `p_t > 1/2` and the lse's rounding
/// (`|lse| eps / 2` in `lp_t`, all of `1 - p_t`'s digits as `p_t -> 1`) would show in the
/// slot above `1e-7 + 2e-6 |a (1 - p_t)|` (the driver's test; a mean over many positions,
/// with its small `a`, rarely passes it).
#[derive(Copy, Clone, Debug, Default)]
pub(crate) struct Coef<R> {
    pub max: R,
    pub xt: R,
    pub lse_rel: R,
    pub a: R,
    pub c: R,
    pub k: R,
    pub t: usize,
    pub others: bool,
}

/// Soft-target statistics: `max`, `lse_rel` as in [`Stats`], `swt = Σ w_c t'_c` and
/// `swtx = Σ w_c t'_c (x_c - max)`, with `t'_c = t_c (1 - eps) + eps / C`.
#[derive(Copy, Clone, Debug, Default)]
pub(crate) struct SoftStats<R> {
    pub max: R,
    pub lse_rel: R,
    pub swt: R,
    pub swtx: R,
}

/// Soft-target gradient coefficients: `grad_j = a*p_j - s*w_j*t'_j`.
#[derive(Copy, Clone, Debug, Default)]
pub(crate) struct SoftCoef<R> {
    pub max: R,
    pub lse_rel: R,
    pub a: R,
    pub s: R,
}

/// Which element-wise loss.
#[derive(Copy, Clone, Debug)]
pub(crate) enum Binary<R> {
    /// `binary_cross_entropy` on probabilities.
    Bce,
    /// `binary_cross_entropy_with_logits`.
    BceLogits,
    /// torchvision's `sigmoid_focal_loss`.
    SigmoidFocal { alpha: R, gamma: R },
}

/// Where a gradient goes: a caller's buffer beside the input, or over the input itself.
pub(crate) enum GradDst<'a, T, R> {
    Buffer { x: &'a [T], grad: &'a mut [R] },
    InPlace(&'a mut [T]),
}

impl<T: Element, R: Real> GradDst<'_, T, R> {
    /// The input.
    #[inline]
    pub(crate) fn input(&self) -> &[T] {
        match self {
            GradDst::Buffer { x, .. } => x,
            GradDst::InPlace(x) => x,
        }
    }
}

/// The softmax statistics of an engine: a trait of its own so that a caller can put them
/// in a function of their own ([`ce_sum_by_stats`]).
pub(crate) trait ClassStats<R: Real> {
    /// Statistics of positions `p0 .. p0 + out.len()`; `tgt[q]` is the target class of
    /// position `p0 + q` or [`NO_TARGET`].
    #[allow(clippy::too_many_arguments)]
    fn class_stats<T: Element>(
        x: &[T],
        lay: Layout,
        p0: usize,
        tgt: &[usize],
        cap: Option<R>,
        w: Option<&[f32]>,
        want: Want,
        out: &mut [Stats<R>],
    );
}

/// The per-element work of every loss; see the module docs.
pub(crate) trait Engine<R: Real>: ClassStats<R> {
    /// The plain cross-entropy (no smoothing, z-loss or soft-cap) summed over positions
    /// `p0 .. p0 + tv.len()`: `Σ w[t] ((max - x_t) + lse_rel)` over positions with a
    /// target, `tv[q]` the target class of position `p0 + q` as an f32 (-1 for none; exact,
    /// since the driver takes this path below [`F32_EXACT_C`](crate::tiling::F32_EXACT_C) classes), the form vector
    /// lanes compare. Engines override it where they can do it without per-position
    /// statistics.
    fn ce_sum<T: Element>(x: &[T], lay: Layout, p0: usize, tv: &[f32], w: Option<&[f32]>) -> R
    where
        Self: Sized,
    {
        Self::ce_sum_from_stats(x, lay, p0, tv, w)
    }

    /// [`Engine::ce_sum`] from [`ClassStats::class_stats`], one tile at a time: the default,
    /// and the fallback of engines that override it.
    fn ce_sum_from_stats<T: Element>(x: &[T], lay: Layout, p0: usize, tv: &[f32], w: Option<&[f32]>) -> R
    where
        Self: Sized,
    {
        ce_sum_by_stats::<Self, R, T>(x, lay, p0, tv, w)
    }

    /// The plain forward's targets as f32 lanes ([`Engine::ce_sum`]'s `tv`): `tv[q]` is
    /// `ts[q]` where it is a class (`0 <= t < classes`, not `ignore`), else -1. Returns
    /// how many are classes and whether any is neither a class nor `ignore` (an error).
    /// Engines may run it in their own entry point (the loop vectorises).
    fn target_codes<I: ClassIndex>(ts: &[I], ignore: i64, classes: usize, tv: &mut [f32]) -> (usize, bool)
    where
        Self: Sized,
    {
        target_codes(ts, ignore, classes, tv)
    }

    /// The soft-capped logit `s * tanh(v / s)`, rounded exactly as the engine's own passes
    /// round it (a backward that caps a target logit by itself must match the forward's
    /// copy bit for bit: near `s = f32::MAX` one ulp of it outweighs the softmax).
    fn cap(v: R, s: R) -> R {
        s * (v / s).tanh()
    }

    /// Writes the gradient rows of positions `p0 .. p0 + coef.len()`.
    fn class_grad<T: Element>(
        dst: &mut GradDst<'_, T, R>,
        lay: Layout,
        p0: usize,
        coef: &[Coef<R>],
        cap: Option<R>,
        w: Option<&[f32]>,
    );

    /// Soft-target statistics of positions `p0 .. p0 + out.len()`.
    #[allow(clippy::too_many_arguments)]
    fn soft_stats<T: Element, U: Element>(
        x: &[T],
        t: &[U],
        lay: Layout,
        p0: usize,
        eps: R,
        w: Option<&[f32]>,
        out: &mut [SoftStats<R>],
    );

    /// Writes the soft-target gradient rows of positions `p0 .. p0 + coef.len()`.
    fn soft_grad<T: Element, U: Element>(
        dst: &mut GradDst<'_, T, R>,
        t: &[U],
        lay: Layout,
        p0: usize,
        coef: &[SoftCoef<R>],
        eps: R,
        w: Option<&[f32]>,
    );

    /// Writes log-softmax (`log = true`) or softmax of positions `p0 .. p0 + st.len()`.
    fn normalize<T: Element>(x: &[T], lay: Layout, p0: usize, st: &[Stats<R>], log: bool, out: &mut [R]);

    /// Element-wise loss over `x`, `y` (elements `i0 ..` of the whole input, for weight
    /// broadcasting): returns the sum of the (weighted) losses, writes them into `per`
    /// and `scale * d loss / d x` into `grad` when given. BCE's inputs and targets are
    /// checked first ([`bce_domain`](crate::error::bce_domain)): on an error nothing is written.
    #[allow(clippy::too_many_arguments)]
    fn binary<T: Element>(
        kind: Binary<R>,
        x: &[T],
        y: &[T],
        i0: usize,
        w: Option<&[f32]>,
        pw: Option<&[f32]>,
        per: Option<&mut [R]>,
        grad: Option<(&mut [R], R)>,
    ) -> Result<R, Error>;

    /// Index of the first value outside `[0, 1]` (NaN included).
    fn first_outside_unit<T: Element>(v: &[T]) -> Option<usize>;
}

/// [`Engine::ce_sum_from_stats`]' default: `E`'s [`ClassStats::class_stats`] a tile at a
/// time, summed. A function of its own so that an engine can give it statistics that run
/// in a function of their own.
pub(crate) fn ce_sum_by_stats<E: ClassStats<R>, R: Real, T: Element>(
    x: &[T],
    lay: Layout,
    p0: usize,
    tv: &[f32],
    w: Option<&[f32]>,
) -> R {
    let mut st = [Stats::<R>::default(); TILE];
    let mut tgt = [NO_TARGET; TILE];
    let mut sum = Acc::new();
    for (k0, tvs) in tv.chunks(TILE).enumerate() {
        let (st, tg) = (&mut st[..tvs.len()], &mut tgt[..tvs.len()]);
        for (g, &v) in tg.iter_mut().zip(tvs) {
            *g = if v >= 0.0 { v as usize } else { NO_TARGET };
        }
        E::class_stats(x, lay, p0 + k0 * TILE, tg, None, w, Want::default(), st);
        for (s, &t) in st.iter().zip(tg.iter()) {
            if t != NO_TARGET {
                let wy = w.map_or(R::one(), |w| R::from_f32(w[t]));
                sum.add(wy * ((s.max - s.xt) + s.lse_rel));
            }
        }
    }
    sum.get()
}

/// [`Engine::target_codes`]' default. Branch-free, so that it vectorises: a target is
/// counted when it is in range and not ignored (negative targets wrap past `classes`).
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn target_codes<I: ClassIndex>(
    ts: &[I],
    ignore: i64,
    classes: usize,
    tv: &mut [f32],
) -> (usize, bool) {
    let (mut n, mut bad) = (0usize, false);
    for (&t, v) in ts.iter().zip(tv) {
        let t = t.to_i64();
        let ign = t == ignore;
        let ok = ((t as u64) < classes as u64) & !ign;
        bad |= !ok & !ign;
        // Through i32 (exact below F32_EXACT_C), -1 by an OR rather than a select of
        // floats: knowing `t < 2^24` in that form, LLVM converted from i64, which AVX2
        // has no vector instruction for (four scalar converts per vector).
        let s = (t as i32) | -i32::from(!ok);
        *v = s as f32;
        n += usize::from(ok);
    }
    (n, bad)
}
