//! `cross_entropy_probs*`: probability (soft) targets.

use xent::{ProbsOptions, Reduction};

use super::EPS;
use super::bounds::{fin, lay_unit, lse64, reduced, row, scale, scale_raw};
use super::compare::{Bits, Ctx, elems, f32s, same, widen};

pub(super) fn probs<T: Bits>(ctx: &Ctx<'_>) {
    let case = ctx.case;
    let x: Vec<T> = elems(&case.logits);
    let x32 = widen(&x);
    let tp: Vec<T> = elems(&case.soft);
    let tp32 = widen(&tp);
    let lay = case.layout.layout();
    let wv = case.weight.as_deref().map(f32s);
    let ls = f32::from_bits(case.label_smoothing);
    let opts = ProbsOptions::new()
        .with_weight(wv.as_deref())
        .with_label_smoothing(ls)
        .with_reduction(case.reduction);
    let lens_ok = |out: Option<usize>, grad: Option<usize>| {
        let (Ok(pos), Ok(len)) = (lay.positions(), lay.len()) else { return false };
        (0.0..=1.0).contains(&ls)
            && x.len() == len
            && tp.len() == len
            && wv.as_ref().is_none_or(|w| w.len() == lay.classes())
            && out.is_none_or(|o| o == pos)
            && grad.is_none_or(|g| g == len)
    };
    let f = xent::cross_entropy_probs(&x, lay, &tp, &opts);
    let f64_: Result<f64, _> = xent::scalar::cross_entropy_probs(&x, lay, &tp, &opts);
    let f32_: Result<f32, _> = xent::scalar::cross_entropy_probs(&x, lay, &tp, &opts);
    let fwd_ok = ctx.outcome("cross_entropy_probs", &f, &f64_, &f32_, lens_ok(None, None));
    let n = case.out_len;
    let (mut o, mut o64, mut o32) = (vec![0f32; n], vec![0f64; n], vec![0f32; n]);
    let r = xent::cross_entropy_probs_per_position(&x, lay, &tp, &opts, &mut o);
    let r64 = xent::scalar::cross_entropy_probs_per_position(&x, lay, &tp, &opts, &mut o64);
    let r32 = xent::scalar::cross_entropy_probs_per_position(&x, lay, &tp, &opts, &mut o32);
    let per_ok = ctx.outcome("cross_entropy_probs_per_position", &r, &r64, &r32, lens_ok(Some(n), None));
    let gl = case.grad_len;
    let (mut g, mut g64, mut g32) = (vec![0f32; gl], vec![0f64; gl], vec![0f32; gl]);
    let gr = xent::cross_entropy_probs_with_grad(&x, lay, &tp, &opts, &mut g);
    let gr64 = xent::scalar::cross_entropy_probs_with_grad(&x, lay, &tp, &opts, &mut g64);
    let gr32 = xent::scalar::cross_entropy_probs_with_grad(&x, lay, &tp, &opts, &mut g32);
    let grad_ok = ctx.outcome("cross_entropy_probs_with_grad", &gr, &gr64, &gr32, lens_ok(None, Some(gl)));
    if !(fwd_ok && per_ok && grad_ok) {
        return;
    }
    let (f, f64_, f32_) = (f.unwrap(), f64_.unwrap(), f32_.unwrap());
    let (gl_, gl64, gl32) = (gr.unwrap(), gr64.unwrap(), gr32.unwrap());
    if !same(f, gl_) {
        ctx.fail(&format!("cross_entropy_probs {f:e} and its fused loss {gl_:e} differ"));
    }

    let c = lay.classes();
    let inner = lay.inner();
    let pos = lay.positions().unwrap();
    let ls = f64::from(ls);
    let w_of = |k: usize| wv.as_deref().map_or(1.0, |w| f64::from(w[k]));
    let s = if case.reduction == Reduction::Mean { 1.0 / pos as f64 } else { 1.0 };
    let mut any_nonfinite = false;
    let (mut sum_bound, mut sum_abs) = (0.0, 0.0);
    if c == 0 {
        // Empty rows: every loss is an empty sum (and the batch may be huge).
        for p in 0..n {
            let _ = ctx.value(|| format!("probs per-position[{p}]"), o[p], o64[p], o32[p], 0.0, false);
        }
    }
    for p in 0..if c == 0 { 0 } else { pos } {
        let base = (p / inner) * c * inner + p % inner;
        let xr = row(&x32, lay, p);
        let u = lay_unit(scale(xr.iter().copied()), lay);
        let lse = lse64(&xr);
        // w_c t'_c with t'_c = t_c (1 - eps) + eps / C.
        let wt: Vec<f64> = (0..c)
            .map(|k| w_of(k) * (f64::from(tp32[base + k * inner]) * (1.0 - ls) + ls / c as f64))
            .collect();
        // tests/equivalence/: `1.5 C u + 8 eps |loss|` for weights up to 1.5 and targets
        // in [0, 1]: C terms `w_c t'_c lp_c`, each with the log-softmax error. Here scaled
        // by the largest |w_c t'_c| (at most 1.5 there), and 8 eps relative to the sum of
        // the terms' magnitudes (|loss| when no term is negative).
        let amax = scale_raw(wt.iter().copied());
        let mx = xr.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let terms: f64 = (0..c).map(|k| fin(wt[k] * (xr[k] - lse)).abs()).sum();
        // `t'_c` and `w_c t'_c` may be subnormal in f32 (`eps / C` is, for `eps` below about
        // `1.2e-38 C`, as in PyTorch's f32 kernel), each with an absolute error up to 2^-150;
        // the loss multiplies the first by `w_c` and both by `x_c - max` (and `lse_rel`):
        // docs, `2^-149 Σ (1 + |w|) |lp|`.
        let tiny: f64 =
            (0..c).map(|k| fin((1.0 + w_of(k).abs()) * ((xr[k] - mx).abs() + (lse - mx).abs()))).sum::<f64>()
                * 1.401_298_5e-45;
        // The C-term sums `Σ w t' (x - max)` and `Σ w t'` run in 8 (or 16) lanes: besides
        // tests/equivalence/'s `1.5 C u` allowance, take the worst case of recursive
        // summation, `gamma_k Σ |terms|` with `k = C/8 + 3` adds per lane and `gamma_k ~ k
        // 2^-24`, whichever is larger: the two agree on that file's random rows, and the
        // latter dominates for long rows of near-equal terms, whose rounding errors share
        // a sign.
        // (Channel-first layouts use the scalar kernel: one running sum of C terms.)
        let k = if inner > 1 { c as f64 + 3.0 } else { c as f64 / 8.0 + 3.0 };
        let rec: f64 = (0..c).map(|j| fin(wt[j]).abs() * fin((xr[j] - mx).abs() + (lse - mx).abs())).sum();
        // The smoothed targets `t' = (1 - eps) t + eps / C` are rounded in f32 (two roundings,
        // relative to the parts, which cancel for negative t): `1.5 eps Σ |w| (|(1 - eps) t|
        // + eps / C) |lp|`.
        let mix: f64 = (0..c)
            .map(|k| {
                let part = (f64::from(tp32[base + k * inner]) * (1.0 - ls)).abs() + ls / c as f64;
                fin(w_of(k).abs() * part * (xr[k] - lse).abs())
            })
            .sum::<f64>()
            * 1.5
            * EPS;
        let b = (1.5 * c as f64 * u * amax).max(k * EPS / 2.0 * rec) + 8.0 * EPS * terms + tiny + mix;
        // An infinite `Σ w t'` times `lse_rel`, which is 0 in f32 when the row's other
        // exponentials round away against 1 but positive in f64: NaN against an infinity.
        let wt_raw: f64 = wt.iter().map(|v| v.abs()).sum();
        // And partial sums may overflow f32 when the terms' magnitudes total beyond it, even
        // if the result does not (the order of the sum decides).
        let inf_times_zero = (!wt_raw.is_finite() && (lse - mx) <= u) || rec >= f64::from(f32::MAX) / 2.0;
        any_nonfinite |= inf_times_zero;
        if p < n {
            any_nonfinite |=
                ctx.value(|| format!("probs per-position[{p}]"), o[p], o64[p], o32[p], b, inf_times_zero);
        }
        sum_bound += b;
        sum_abs += fin(o64[p]).abs();
        // Gradient `a p_j - s w_j t'_j`, `a = s Σ w t'`: tests/equivalence/'s
        // `16 (u + eps)` for terms of size 1, scaled by `|s| Σ |w t'| p_j + |s w_j t'_j|`.
        // Plus `|a| 1.3e-38`, the documented flush of probabilities below 1.2e-38.
        let wt_abs: f64 = wt.iter().map(|v| fin(*v).abs()).sum();
        for k in 0..c {
            let j = base + k * inner;
            let pj = fin((xr[k] - lse).exp());
            let big = 1f64.max(s * wt_abs * pj + (s * wt[k]).abs());
            let b = 16.0 * (u + EPS) * fin(big) + fin(s * wt_abs) * 1.3e-38;
            // `a * p` with an infinite `a` and a flushed `p` is NaN, where the oracle's tiny
            // `p` gives the infinity (as for class targets).
            let wt_raw: f64 = wt.iter().map(|v| v.abs()).sum();
            let flushed = !((s * wt_raw).abs() < f64::from(f32::MAX) / 2.0) && (xr[k] - lse).exp() < 1.3e-38
                // Partial sums of `Σ w t'` overflow f32 (order-dependent) when the terms'
                // magnitudes total beyond it: then `a` may be infinite.
                || !(wt_raw < f64::from(f32::MAX) / 2.0);

            let _ = ctx.value(|| format!("probs grad[{j}] (position {p})"), g[j], g64[j], g32[j], b, flushed);
        }
    }
    let red = reduced(case.reduction, sum_bound + 8.0 * EPS * sum_abs, pos as f64);
    let _ = ctx.value(
        || "cross_entropy_probs".into(),
        f,
        f64_,
        f32_,
        red,
        any_nonfinite || sum_abs >= f64::from(f32::MAX) / 2.0,
    );
    let _ = ctx.value(
        || "cross_entropy_probs_with_grad (loss)".into(),
        gl_,
        gl64,
        gl32,
        red,
        any_nonfinite || sum_abs >= f64::from(f32::MAX) / 2.0,
    );
}
