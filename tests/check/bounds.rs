//! The ingredients of the error bounds: the docs' `M` and `u`, rows and their
//! log-sum-exp in f64, the weighted mean's denominator and its error, and the reductions'
//! allowances.

use xent::{Layout, Reduction};

use super::EPS;
use super::validity::class_of;

/// Where a weighted mean's losses are subnormal in f32 (a subnormal class weight), each
/// carries an absolute error of up to 2^-150 from its last product, which the division by
/// `W` scales up: a few subnormal steps per counted position, over `|W|`.
pub(super) fn subnormal_mean(count: f64, w_den: f64) -> f64 {
    4.0 * 1.401_298_464_324_817e-45 * count / w_den.abs()
}

/// Non-finite bound ingredients count as 0: where they matter, the oracle's value is NaN
/// or infinite itself and [`close`](super::compare::close) does not use the bound.
pub(super) fn fin(v: f64) -> f64 {
    if v.is_finite() { v } else { 0.0 }
}

/// The largest finite `|x|`, at least 1 (the docs' `M`, floored as in tests/equivalence/).
pub(super) fn scale(x: impl IntoIterator<Item = f64>) -> f64 {
    x.into_iter().filter(|v| v.is_finite()).fold(1.0, |m, v| m.max(v.abs()))
}

/// The docs' `u = 4 eps (M + ln C + 1)`.
pub(super) fn unit(m: f64, c: usize) -> f64 {
    4.0 * EPS * (m + (c.max(1) as f64).ln() + 1.0)
}

/// [`unit`] for a row of `lay`: the docs' LSE bound, `u + C eps / 2` for channel-first
/// layouts, whose positions sum their `C` terms in one accumulator each.
pub(super) fn lay_unit(m: f64, lay: Layout) -> f64 {
    let c = lay.classes();
    unit(m, c) + if lay.inner() > 1 { c as f64 * EPS / 2.0 } else { 0.0 }
}

/// The (capped) maximum of position `p`'s row, in f64.
pub(super) fn row_max(x: &[f32], lay: Layout, p: usize, cap: Option<f64>) -> f64 {
    row(x, lay, p)
        .into_iter()
        .map(|v| cap.map_or(v, |s| s * (v / s).tanh()))
        .fold(f64::NEG_INFINITY, f64::max)
}

/// The values (as f64) of position `p`'s row.
pub(super) fn row(x: &[f32], lay: Layout, p: usize) -> Vec<f64> {
    let (c, inner) = (lay.classes(), lay.inner());
    let (n, i) = (p / inner, p % inner);
    let base = n * c * inner + i;
    (0..c).map(|k| f64::from(x[base + k * inner])).collect()
}

/// `ln Σ exp(v)` in f64 (for bound ingredients only).
pub(super) fn lse64(v: &[f64]) -> f64 {
    let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    m + v.iter().map(|&x| (x - m).exp()).sum::<f64>().ln()
}

pub(super) fn reduced(r: Reduction, sum: f64, count: f64) -> f64 {
    match r {
        Reduction::Sum => sum,
        Reduction::Mean => sum / count,
    }
}

/// The largest finite `|v|`, or 1 when there is none (so an all-zero weight gives 0).
pub(super) fn scale_raw(v: impl IntoIterator<Item = f64>) -> f64 {
    let mut any = false;
    let m = v.into_iter().filter(|v| v.is_finite()).fold(0.0f64, |m, v| {
        any = true;
        m.max(v.abs())
    });
    if any { m } else { 1.0 }
}

/// What the bounds of a class-index softmax loss need per counted position.
pub(super) struct PosInfo {
    pub(super) p: usize,
    pub(super) class: usize,
    /// The docs' `u` for this row (soft-capped rows: `M` capped, plus `4 eps s`).
    pub(super) u: f64,
    /// `M`, capped.
    pub(super) sc: f64,
    /// The f64 log-sum-exp of the (capped) row.
    pub(super) lse: f64,
    /// `max |x_c - x_t|` over finite logits (label smoothing's overflow exception).
    pub(super) spread: f64,
}

pub(super) fn positions_info(
    x32: &[f32],
    lay: Layout,
    targets: &[i64],
    ignore: i64,
    cap: Option<f64>,
) -> Vec<PosInfo> {
    let mut v = Vec::new();
    for (p, &t) in targets.iter().enumerate() {
        let Some(class) = class_of(t, ignore) else { continue };
        let raw = row(x32, lay, p);
        let capped: Vec<f64> = match cap {
            Some(s) => raw.iter().map(|&v| s * (v / s).tanh()).collect(),
            None => raw.clone(),
        };
        // Docs: `M` of a capped row is that of its capped logits (an infinite logit caps to
        // a finite `±s`).
        let sc = scale(capped.iter().copied());
        // Docs: a capped logit carries a relative error of 4 eps more (at most 4 eps M).
        let u = lay_unit(sc, lay) + cap.map_or(0.0, |_| 4.0 * EPS * sc);
        let xt = capped[class];
        let spread = capped.iter().filter(|v| v.is_finite()).fold(0.0f64, |a, &v| a.max((v - xt).abs()));
        v.push(PosInfo { p, class, u, sc, lse: lse64(&capped), spread });
    }
    v
}

/// The mean's denominator `W = Σ w[y]` over counted positions (f64), `Σ |w[y]|`, and the
/// count of counted positions.
pub(super) fn denominators(w: Option<&[f32]>, info: &[PosInfo]) -> (f64, f64, f64) {
    let k = info.len() as f64;
    match w {
        None => (k, k, k),
        Some(w) => {
            let s: f64 = info.iter().map(|i| f64::from(w[i.class])).sum();
            let a: f64 = info.iter().map(|i| f64::from(w[i.class]).abs()).sum();
            (s, a, k)
        }
    }
}

/// The relative error of the f32 denominator `W` of a weighted mean: the docs' `8 eps`
/// relative error of a reduction, taken relative to `Σ |w[y]|` rather than `|W|`: the two
/// are equal for non-negative weights (the range of tests/equivalence/); with weights of
/// both signs `W` cancels and its f32 value is only that accurate. Infinite when nothing
/// is known (`W` cancels to 0 in f64 but not in f32, or the reverse).
pub(super) fn denominator_error(weighted: bool, w: f64, wabs: f64) -> f64 {
    if weighted && wabs >= f64::from(f32::MAX) / 2.0 {
        // `W` (or a partial sum of it) overflows f32: the f32 mean divides by infinity.
        f64::INFINITY
    } else if !weighted || wabs == 0.0 || !wabs.is_finite() {
        0.0
    } else if w == 0.0 {
        f64::INFINITY
    } else {
        8.0 * EPS * wabs / w.abs()
    }
}

/// The error of the reduction of the element-wise losses, which the docs do not state:
/// the SIMD path sums each block of 1024 elements in 8 (or 16) lanes with plain adds and
/// the blocks with a compensated sum; recursive summation of `k` terms errs by at most
/// `gamma_k Σ |l_i|`, `gamma_k ~ k 2^-24`, with `k = 1024 / 8 + 3` (lane adds plus the lane
/// reduction), plus the compensated sum's `2 eps |result|`.
pub(super) fn elementwise_reduction(sum_bound: f64, sum_abs: f64, result: f64) -> f64 {
    let k = 1024.0 / 8.0 + 3.0;
    sum_bound + k * EPS / 2.0 * sum_abs + 2.0 * EPS * fin(result).abs()
}
