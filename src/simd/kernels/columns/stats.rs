//! A group's softmax statistics: the per-lane online log-sum-exp ([`OnlineLse`]), the two
//! sweeps of an uncapped pass, the side sums (label smoothing, rank), the soft-target
//! statistics and the normalised outputs.

use crate::Element;
use crate::engine::{SoftStats, Stats, Want};
use crate::simd::kernels::convert::load_at;
use crate::simd::kernels::lanes::{PREFETCH_BYTES, add_exp, cap_s, cap_v, ln_nan};
use crate::simd::vector::Vector;

/// Per-lane online log-sum-exp state: `s = Σ exp(x - m)` over the values seen by a lane.
/// `m` starts at `-f32::MAX`, so `-inf` values (and padding) add exactly 0 and never
/// produce `-inf - -inf`.
#[derive(Copy, Clone)]
pub(crate) struct OnlineLse<W> {
    pub(crate) m: W,
    pub(crate) s: W,
}

impl<W: Vector> OnlineLse<W> {
    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn new() -> Self {
        Self { m: W::splat(-f32::MAX), s: W::splat(0.0) }
    }

    /// One exp per element; NaN makes the lane's sum NaN.
    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn push(&mut self, x: W) {
        let d = x - self.m;
        let up = d.gt(W::splat(0.0));
        let e = (-d.abs()).exp_le0();
        self.s = W::select(up, self.s.mul_add(e, W::splat(1.0)), self.s + e);
        self.m = W::select(up, x, self.m);
    }

    /// The sum `s`, NaN in the lanes of PyTorch's special rows (as [`fix_special`](crate::simd::kernels::lanes::fix_special)): every
    /// logit `-inf` (`s == 0`) or a `+inf` maximum.
    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn sum_nan_special(&self) -> W {
        let bad = self.s.eq(W::splat(0.0)) | self.m.eq(W::splat(f32::INFINITY));
        W::select(bad, W::splat(f32::NAN), self.s)
    }
}

/// Per-lane results of one pass over `LANES` column positions: the online `(m, s)`, the
/// target logits, `Σ w (x - r)` with `r` the target logit (0 where not finite), the count
/// of logits above the target's, and `Σ w`.
pub(crate) struct GroupPass<W> {
    pub(crate) acc: OnlineLse<W>,
    /// The lanes' target classes as floats, -1 where there is none.
    pub(crate) tv: W,
    pub(crate) xt: W,
    pub(crate) rv: W,
    pub(crate) sx: W,
    pub(crate) cnt: W,
    pub(crate) wsum: f32,
}

/// One pass over `LANES` positions whose logits of class `c` are the contiguous values
/// `x[base + c*stride ..][..LANES]`, their targets `tv` as f32 lanes (-1 for none).
#[allow(clippy::too_many_arguments)]
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn group_pass<W: Vector, T: Element, const N: usize>(
    x: &[T],
    base: usize,
    stride: usize,
    classes: usize,
    tv: &[f32],
    cap: Option<f32>,
    w: Option<&[f32]>,
    want: Want,
    prefetch: bool,
) -> GroupPass<W> {
    let tvv = W::load_or(tv, -1.0);
    if cap.is_none() {
        if N > 0 {
            // A class count known at compile time: each column loaded once into a
            // register, both sweeps unrolled, no per-load address or bounds arithmetic.
            debug_assert_eq!(classes, N);
            let mut cols = [W::splat(0.0); N];
            // Each class's stream prefetched [`PREFETCH_BYTES`] ahead (docs/PERF_NOTES.md,
            // "Prefetch distance"); not over a transposed tile on the stack (`prefetch`
            // false), where it did nothing.
            for (c, v) in cols.iter_mut().enumerate() {
                if prefetch {
                    crate::simd::arch::prefetch::<true, T>(
                        x.as_ptr(),
                        (base + c * stride) * size_of::<T>() + PREFETCH_BYTES,
                    );
                }
                *v = load_at(x, base + c * stride);
            }
            return group_sweeps(
                N,
                #[cfg_attr(not(xent_opt0), inline(always))]
                |c| cols[c],
                tvv,
                want,
                w,
            );
        }
        return group_sweeps(
            classes,
            #[cfg_attr(not(xent_opt0), inline(always))]
            |c| load_at(x, base + c * stride),
            tvv,
            want,
            w,
        );
    }
    let (mut sx, mut cnt) = (W::splat(0.0), W::splat(0.0));
    let mut wsum = 0.0f32;
    let mut xt = [0.0f32; 16];
    for (q, (d, &t)) in xt.iter_mut().zip(&tv[..W::LANES]).enumerate() {
        if t >= 0.0 {
            *d = cap_s::<W>(x[base + q + t as usize * stride].to_f32(), cap);
        }
    }
    let xtv = W::load_or(&xt, 0.0);
    let rv = W::select(xtv.abs().lt(W::splat(f32::INFINITY)), xtv, W::splat(0.0));
    let mut acc = OnlineLse::<W>::new();
    for c in 0..classes {
        let mut v: W = load_at(x, base + c * stride);
        if let Some(s) = cap {
            v = cap_v(v, s).0;
        }
        acc.push(v);
        side_sums(v, c, want, w, rv, xtv, &mut sx, &mut cnt, &mut wsum);
    }
    GroupPass { acc, tv: tvv, xt: xtv, rv, sx, cnt, wsum }
}

/// The two sweeps of an uncapped column pass over `classes` columns, `col(c)` giving the
/// vector of class `c`: the maximum and the target logit, then one exp per logit. NaN,
/// +inf and all -inf columns reach the sum as NaN through `exp(x - max)`, exactly
/// PyTorch's `x - max`. The class index runs as an f32 beside `c` (exact below
/// [`COLUMN_MAX_C`](super::COLUMN_MAX_C)), so comparing it with the target lanes needs no conversion.
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn group_sweeps<W: Vector>(
    classes: usize,
    col: impl Fn(usize) -> W,
    tv: W,
    want: Want,
    w: Option<&[f32]>,
) -> GroupPass<W> {
    let (mut sx, mut cnt) = (W::splat(0.0), W::splat(0.0));
    let mut wsum = 0.0f32;
    let (mut m, mut xt) = (W::splat(f32::NEG_INFINITY), W::splat(0.0));
    let mut cf = 0.0f32;
    for c in 0..classes {
        let v = col(c);
        m = W::max_nan_b(v, m);
        xt = W::select(tv.eq(W::splat(cf)), v, xt);
        cf += 1.0;
    }
    let rv = W::select(xt.abs().lt(W::splat(f32::INFINITY)), xt, W::splat(0.0));
    let mut s = W::splat(0.0);
    for c in 0..classes {
        let v = col(c);
        s = add_exp(s, v - m);
        side_sums(v, c, want, w, rv, xt, &mut sx, &mut cnt, &mut wsum);
    }
    GroupPass { acc: OnlineLse { m, s }, tv, xt, rv, sx, cnt, wsum }
}

/// The optional sums of a column pass for class `c`: `Σ w (x - r)` (and `Σ w`) and the
/// count of logits above the target's.
#[allow(clippy::too_many_arguments)]
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn side_sums<W: Vector>(
    v: W,
    c: usize,
    want: Want,
    w: Option<&[f32]>,
    rv: W,
    xt: W,
    sx: &mut W,
    cnt: &mut W,
    wsum: &mut f32,
) {
    if want.sx {
        let wc = w.map_or(
            1.0,
            #[cfg_attr(not(xent_opt0), inline(always))]
            |w| w[c],
        );
        *wsum += wc;
        *sx = (v - rv).mul_add(W::splat(wc), *sx);
    }
    if want.rank {
        *cnt = *cnt + (v.gt(xt) & W::splat(1.0));
    }
}

/// `ln s`, with PyTorch's special rows made NaN: every logit `-inf` (`s == 0`) or a `+inf`
/// maximum. `-inf` for no classes.
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn lse_rel_v<W: Vector>(classes: usize, acc: &OnlineLse<W>) -> W {
    if classes == 0 {
        return W::splat(f32::NEG_INFINITY);
    }
    // `s` is in `[1, C]` or NaN: the branch-free `ln_fast`, with `s - s` carrying a NaN
    // through (`ln_fast` maps NaN's bits to a finite value).
    ln_nan(acc.sum_nan_special())
}

/// Statistics of `LANES` column positions (see [`group_pass`]).
#[allow(clippy::too_many_arguments)]
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn group_stats<W: Vector, T: Element>(
    x: &[T],
    base: usize,
    stride: usize,
    classes: usize,
    tgt: &[usize],
    cap: Option<f32>,
    w: Option<&[f32]>,
    want: Want,
    out: &mut [Stats<f32>],
) {
    // The targets as f32 lanes (exact below COLUMN_MAX_C), -1 for none.
    let mut tv = [-1.0f32; 16];
    for (d, &t) in tv.iter_mut().zip(&tgt[..W::LANES]) {
        if t < classes {
            *d = t as f32;
        }
    }
    let p = group_pass::<W, T, 0>(x, base, stride, classes, &tv, cap, w, want, false);
    let lse = lse_rel_v(classes, &p.acc);
    let max = W::select(lse.eq(lse), p.acc.m, W::splat(f32::NEG_INFINITY));
    let mut lanes = [[0.0f32; 16]; 5];
    max.to_lanes(&mut lanes[0]);
    lse.to_lanes(&mut lanes[1]);
    p.xt.to_lanes(&mut lanes[2]);
    (p.sx - (p.acc.m - p.rv) * W::splat(p.wsum)).to_lanes(&mut lanes[3]);
    p.cnt.to_lanes(&mut lanes[4]);
    for q in 0..W::LANES {
        out[q] = Stats {
            max: lanes[0][q],
            lse_rel: lanes[1][q],
            xt: lanes[2][q],
            sx: if want.sx { lanes[3][q] } else { 0.0 },
            above: if want.rank && tgt[q] < classes { lanes[4][q] as usize } else { 0 },
        };
    }
}

/// The per-lane sums of [`Engine::soft_stats`](crate::engine::Engine::soft_stats) over `LANES` column positions: two sweeps
/// over the classes (the maximum, then one exp per logit with `Σ w t'` and
/// `Σ w t' (x - max)`), each position in one lane (K = C + 3 in the documented bound).
#[allow(clippy::too_many_arguments)]
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn group_soft_stats<W: Vector, T: Element, U: Element>(
    x: &[T],
    t: &[U],
    base: usize,
    stride: usize,
    classes: usize,
    eps: f32,
    w: Option<&[f32]>,
    out: &mut [SoftStats<f32>],
) {
    let uni = W::splat(if classes > 0 { eps / classes as f32 } else { 0.0 });
    let keep = W::splat(1.0 - eps);
    let mut m = W::splat(f32::NEG_INFINITY);
    for c in 0..classes {
        m = W::max_nan_b(load_at(x, base + c * stride), m);
    }
    let zero = W::splat(0.0);
    let (mut s, mut swt, mut swtx) = (zero, zero, zero);
    for c in 0..classes {
        let i = base + c * stride;
        let d = load_at::<W, T>(x, i) - m;
        s = add_exp(s, d);
        let wt = W::splat(w.map_or(
            1.0,
            #[cfg_attr(not(xent_opt0), inline(always))]
            |w| w[c],
        )) * load_at::<W, U>(t, i).mul_add(keep, uni);
        swt = swt + wt;
        swtx = wt.mul_add(d, swtx);
    }
    // `ln_fast` maps NaN's bits to a finite value: `s - s` carries the NaN through.
    #[allow(clippy::eq_op)]
    let lse = s.ln_fast() + (s - s);
    let mut lanes = [[0.0f32; 16]; 4];
    m.to_lanes(&mut lanes[0]);
    lse.to_lanes(&mut lanes[1]);
    swt.to_lanes(&mut lanes[2]);
    swtx.to_lanes(&mut lanes[3]);
    for (q, o) in out.iter_mut().enumerate().take(W::LANES) {
        *o = SoftStats { max: lanes[0][q], lse_rel: lanes[1][q], swt: lanes[2][q], swtx: lanes[3][q] };
    }
}

/// Log-softmax (`log`) or softmax of `LANES` column positions from their statistics.
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn group_normalize<W: Vector, T: Element>(
    x: &[T],
    base: usize,
    stride: usize,
    classes: usize,
    st: &[Stats<f32>],
    log: bool,
    out: &mut [f32],
) {
    let (mut m, mut lse) = ([0.0f32; 16], [0.0f32; 16]);
    for (q, s) in st.iter().enumerate().take(W::LANES) {
        (m[q], lse[q]) = (s.max, s.lse_rel);
    }
    let (m, lse) = (W::load_or(&m, 0.0), W::load_or(&lse, 0.0));
    for c in 0..classes {
        let i = base + c * stride;
        let lp = (load_at::<W, T>(x, i) - m) - lse;
        let v = if log { lp } else { lp.exp_le0() };
        v.store(&mut out[i..i + W::LANES]);
    }
}
