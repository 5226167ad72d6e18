//! `softmax_focal_loss*`.

use xent::{Reduction, SoftmaxFocalOptions};

use super::EPS;
use super::bounds::{denominator_error, denominators, fin, positions_info, row, subnormal_mean};
use super::compare::{Bits, Ctx, Idx, elems, f32s, same, widen};
use super::validity::class_lengths_ok;

pub(super) fn softmax_focal<T: Bits, I: Idx>(ctx: &Ctx<'_>) {
    let case = ctx.case;
    let x: Vec<T> = elems(&case.logits);
    let x32 = widen(&x);
    let t: Vec<I> = case.targets.iter().map(|&v| I::from_i64(v)).collect();
    let lay = case.layout.layout();
    let wv = case.weight.as_deref().map(f32s);
    let gamma = f32::from_bits(case.gamma);
    let opts = SoftmaxFocalOptions::new()
        .with_weight(wv.as_deref())
        .with_ignore_index(case.ignore_index)
        .with_gamma(gamma)
        .with_reduction(case.reduction);
    let opts_ok = gamma >= 0.0 && gamma.is_finite();

    let f = xent::softmax_focal_loss(&x, lay, &t, &opts);
    let f64_: Result<f64, _> = xent::scalar::softmax_focal_loss(&x, lay, &t, &opts);
    let f32_: Result<f32, _> = xent::scalar::softmax_focal_loss(&x, lay, &t, &opts);
    let fwd_ok = ctx.outcome(
        "softmax_focal_loss",
        &f,
        &f64_,
        &f32_,
        opts_ok && class_lengths_ok(case, lay, None, None),
    );
    let n = case.out_len;
    let (mut o, mut o64, mut o32) = (vec![0f32; n], vec![0f64; n], vec![0f32; n]);
    let r = xent::softmax_focal_loss_per_position(&x, lay, &t, &opts, &mut o);
    let r64 = xent::scalar::softmax_focal_loss_per_position(&x, lay, &t, &opts, &mut o64);
    let r32 = xent::scalar::softmax_focal_loss_per_position(&x, lay, &t, &opts, &mut o32);
    let per_ok = ctx.outcome(
        "softmax_focal_loss_per_position",
        &r,
        &r64,
        &r32,
        opts_ok && class_lengths_ok(case, lay, Some(n), None),
    );
    let gl = case.grad_len;
    let (mut g, mut g64, mut g32) = (vec![0f32; gl], vec![0f64; gl], vec![0f32; gl]);
    let gr = xent::softmax_focal_loss_with_grad(&x, lay, &t, &opts, &mut g);
    let gr64 = xent::scalar::softmax_focal_loss_with_grad(&x, lay, &t, &opts, &mut g64);
    let gr32 = xent::scalar::softmax_focal_loss_with_grad(&x, lay, &t, &opts, &mut g32);
    let grad_ok = ctx.outcome(
        "softmax_focal_loss_with_grad",
        &gr,
        &gr64,
        &gr32,
        opts_ok && class_lengths_ok(case, lay, None, Some(gl)),
    );
    if !(fwd_ok && per_ok && grad_ok) {
        return;
    }
    let (f, f64_, f32_) = (f.unwrap(), f64_.unwrap(), f32_.unwrap());
    let (gl_, gl64, gl32) = (gr.unwrap(), gr64.unwrap(), gr32.unwrap());
    if !same(f, gl_) {
        ctx.fail(&format!("softmax_focal_loss {f:e} and its fused loss {gl_:e} differ"));
    }

    let info = positions_info(&x32, lay, &case.targets, case.ignore_index, None);
    let gamma = f64::from(gamma);
    // tests/equivalence/: loss `3 u + 8 eps |loss|`, gradient `32 (u + eps)`, at
    // gamma = 1.5 and weights up to 1.5. The loss is `-w (1 - p_t)^gamma lp_t`: an error
    // `d` in `lp_t` moves it by about `w (gamma + 1) d` and `(1 - p_t)^gamma` has a relative
    // error `gamma` times that of `1 - p_t`, hence the gamma factors (1 at gamma <= 1.5).
    let gf = 1f64.max((gamma + 1.0) / 2.5);
    let gr_ = 1f64.max(gamma / 1.5);
    let w_of = |k: usize| wv.as_deref().map_or(1.0, |w| f64::from(w[k]));
    let (w_den, w_abs, count) = denominators(wv.as_deref(), &info);
    let dw =
        if case.reduction == Reduction::Mean { denominator_error(wv.is_some(), w_den, w_abs) } else { 0.0 };
    let mut relaxed = false;
    let (mut sum_bound, mut sum_abs) = (0.0, 0.0);
    for i in &info {
        let wy = fin(w_of(i.class)).abs();
        let loss = o64[i.p];
        let b = 3.0 * i.u * wy * gf + 8.0 * EPS * fin(loss).abs() * gr_;
        relaxed |=
            ctx.value(|| format!("softmax focal per-position[{}]", i.p), o[i.p], loss, o32[i.p], b, false);
        sum_bound += b;
        sum_abs += fin(loss).abs();
    }
    let mean = case.reduction == Reduction::Mean;
    let red = match case.reduction {
        Reduction::Sum => sum_bound + 8.0 * EPS * sum_abs,
        Reduction::Mean => {
            (sum_bound + 8.0 * EPS * sum_abs) / w_den.abs()
                + fin(f64_).abs() * dw
                + subnormal_mean(count, w_den)
        }
    };
    if mean && dw >= 0.25 {
        return;
    }
    let _ = ctx.value(
        || "softmax_focal_loss".into(),
        f,
        f64_,
        f32_,
        red,
        relaxed || sum_abs >= f64::from(f32::MAX) / 2.0,
    );
    let _ = ctx.value(
        || "softmax_focal_loss_with_grad (loss)".into(),
        gl_,
        gl64,
        gl32,
        red,
        relaxed || sum_abs >= f64::from(f32::MAX) / 2.0,
    );
    let s = if mean { 1.0 / w_den } else { 1.0 };
    let c = lay.classes();
    let inner = lay.inner();
    let mut coef = vec![None; t.len()];
    for i in &info {
        coef[i.p] = Some((i.u, 1f64.max(fin(s * w_of(i.class)).abs()), s * w_of(i.class), i.lse));
    }
    for p in 0..t.len() {
        let base = (p / inner) * c * inner + p % inner;
        let (u, big, sw, lse) = coef[p].unwrap_or((0.0, 0.0, 0.0, 0.0));
        let xr = row(&x32, lay, p);
        for kk in 0..c {
            let j = base + kk * inner;
            // Plus the documented flush of probabilities below 1.2e-38, times the coefficient.
            let b = 32.0 * (u + EPS) * big * gf + fin(g64[j]).abs() * dw + big * gf * 1.3e-38;
            // As for cross_entropy: `a * p` with an infinite `a` (an infinite target weight)
            // and a flushed `p` is NaN, where the oracle's tiny `p` gives the infinity.
            let flushed = !(sw.abs() < f64::from(f32::MAX) / 4.0) && (xr[kk] - lse).exp() < 1.3e-38;
            let _ = ctx.value(
                || format!("softmax focal grad[{j}] (position {p})"),
                g[j],
                g64[j],
                g32[j],
                b,
                flushed,
            );
        }
    }
}
