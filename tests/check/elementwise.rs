//! The element-wise losses: `binary_cross_entropy*`, `binary_cross_entropy_with_logits*`
//! and `sigmoid_focal_loss*`.

use xent::{BceOptions, BceWithLogitsOptions, Reduction, SigmoidFocalOptions};

use super::EPS;
use super::bounds::{elementwise_reduction, fin, reduced};
use super::compare::{Bits, Ctx, elems, f32s, same, widen};
use super::validity::broadcast_ok;

fn bcast(w: Option<&[f32]>, i: usize) -> Option<f64> {
    w.map(|w| f64::from(w[i % w.len()]))
}

pub(super) fn bce<T: Bits>(ctx: &Ctx<'_>) {
    let case = ctx.case;
    let p: Vec<T> = elems(&case.logits);
    let y: Vec<T> = elems(&case.soft);
    let (p32, y32) = (widen(&p), widen(&y));
    let wv = case.weight.as_deref().map(f32s);
    let opts = BceOptions::new().with_weight(wv.as_deref()).with_reduction(case.reduction);
    let n = p.len();
    let unit_ok = |v: &[f32]| v.iter().all(|x| (0.0..=1.0).contains(x));
    let ok = |out: Option<usize>| {
        y.len() == n && broadcast_ok(wv.as_deref(), n) && out.is_none_or(|o| o == n) && {
            // The value checks run on inputs whose lengths agree.
            unit_ok(&p32) && unit_ok(&y32)
        }
    };
    let f = xent::binary_cross_entropy(&p, &y, &opts);
    let f64_: Result<f64, _> = xent::scalar::binary_cross_entropy(&p, &y, &opts);
    let f32_: Result<f32, _> = xent::scalar::binary_cross_entropy(&p, &y, &opts);
    let fwd_ok = ctx.outcome("binary_cross_entropy", &f, &f64_, &f32_, ok(None));
    let m = case.out_len;
    let (mut o, mut o64, mut o32) = (vec![0f32; m], vec![0f64; m], vec![0f32; m]);
    let r = xent::binary_cross_entropy_per_position(&p, &y, &opts, &mut o);
    let r64 = xent::scalar::binary_cross_entropy_per_position(&p, &y, &opts, &mut o64);
    let r32 = xent::scalar::binary_cross_entropy_per_position(&p, &y, &opts, &mut o32);
    let per_ok = ctx.outcome("binary_cross_entropy_per_position", &r, &r64, &r32, ok(Some(m)));
    let gl = case.grad_len;
    let (mut g, mut g64, mut g32) = (vec![0f32; gl], vec![0f64; gl], vec![0f32; gl]);
    let gr = xent::binary_cross_entropy_with_grad(&p, &y, &opts, &mut g);
    let gr64 = xent::scalar::binary_cross_entropy_with_grad(&p, &y, &opts, &mut g64);
    let gr32 = xent::scalar::binary_cross_entropy_with_grad(&p, &y, &opts, &mut g32);
    let grad_ok = ctx.outcome("binary_cross_entropy_with_grad", &gr, &gr64, &gr32, ok(Some(gl)));
    if !(fwd_ok && per_ok && grad_ok) {
        return;
    }
    let (f, f64_, f32_) = (f.unwrap(), f64_.unwrap(), f32_.unwrap());
    let (gl_, gl64, gl32) = (gr.unwrap(), gr64.unwrap(), gr32.unwrap());
    if !same(f, gl_) {
        ctx.fail(&format!("binary_cross_entropy {f:e} and its fused loss {gl_:e} differ"));
    }
    let mut any_nonfinite = false;
    let (mut sum_bound, mut sum_abs) = (0.0, 0.0);
    for i in 0..n {
        let w = bcast(wv.as_deref(), i).unwrap_or(1.0);
        // Docs: `8 eps (1 + |loss|)`; the absolute part is the unweighted loss's error,
        // which the weight multiplies (equal to the docs for |w| <= 1).
        let b = 8.0 * EPS * (1f64.max(fin(w).abs()) + fin(o64[i]).abs());
        any_nonfinite |= ctx.value(
            || format!("bce[{i}] p={:e} y={:e} w={w:e}", p32[i], y32[i]),
            o[i],
            o64[i],
            o32[i],
            b,
            false,
        );
        // Docs: gradient `8 eps |g|` (+1e-30 for subnormal results, tests/equivalence/).
        let b = 8.0 * EPS * fin(g64[i]).abs() + 1e-30;
        let _ = ctx.value(
            || format!("bce grad[{i}] p={:e} y={:e} w={w:e}", p32[i], y32[i]),
            g[i],
            g64[i],
            g32[i],
            b,
            false,
        );
        sum_bound += 8.0 * EPS * (1f64.max(fin(w).abs()) + fin(o64[i]).abs());
        sum_abs += fin(o64[i]).abs();
    }
    let red = reduced(case.reduction, elementwise_reduction(sum_bound, sum_abs, 0.0), n as f64)
        + 2.0 * EPS * fin(f64_).abs();
    let _ = ctx.value(
        || "binary_cross_entropy".into(),
        f,
        f64_,
        f32_,
        red,
        any_nonfinite || sum_abs >= f64::from(f32::MAX) / 2.0,
    );
    let _ = ctx.value(
        || "binary_cross_entropy_with_grad (loss)".into(),
        gl_,
        gl64,
        gl32,
        red,
        any_nonfinite || sum_abs >= f64::from(f32::MAX) / 2.0,
    );
}

pub(super) fn bce_logits<T: Bits>(ctx: &Ctx<'_>) {
    let case = ctx.case;
    let x: Vec<T> = elems(&case.logits);
    let y: Vec<T> = elems(&case.soft);
    let (x32, y32) = (widen(&x), widen(&y));
    let wv = case.weight.as_deref().map(f32s);
    let pwv = case.pos_weight.as_deref().map(f32s);
    let opts = BceWithLogitsOptions::new()
        .with_weight(wv.as_deref())
        .with_pos_weight(pwv.as_deref())
        .with_reduction(case.reduction);
    let n = x.len();
    let ok = |out: Option<usize>| {
        y.len() == n
            && broadcast_ok(wv.as_deref(), n)
            && broadcast_ok(pwv.as_deref(), n)
            && out.is_none_or(|o| o == n)
    };
    let f = xent::binary_cross_entropy_with_logits(&x, &y, &opts);
    let f64_: Result<f64, _> = xent::scalar::binary_cross_entropy_with_logits(&x, &y, &opts);
    let f32_: Result<f32, _> = xent::scalar::binary_cross_entropy_with_logits(&x, &y, &opts);
    let fwd_ok = ctx.outcome("binary_cross_entropy_with_logits", &f, &f64_, &f32_, ok(None));
    let m = case.out_len;
    let (mut o, mut o64, mut o32) = (vec![0f32; m], vec![0f64; m], vec![0f32; m]);
    let r = xent::binary_cross_entropy_with_logits_per_position(&x, &y, &opts, &mut o);
    let r64 = xent::scalar::binary_cross_entropy_with_logits_per_position(&x, &y, &opts, &mut o64);
    let r32 = xent::scalar::binary_cross_entropy_with_logits_per_position(&x, &y, &opts, &mut o32);
    let per_ok = ctx.outcome("binary_cross_entropy_with_logits_per_position", &r, &r64, &r32, ok(Some(m)));
    let gl = case.grad_len;
    let (mut g, mut g64, mut g32) = (vec![0f32; gl], vec![0f64; gl], vec![0f32; gl]);
    let gr = xent::binary_cross_entropy_with_logits_with_grad(&x, &y, &opts, &mut g);
    let gr64 = xent::scalar::binary_cross_entropy_with_logits_with_grad(&x, &y, &opts, &mut g64);
    let gr32 = xent::scalar::binary_cross_entropy_with_logits_with_grad(&x, &y, &opts, &mut g32);
    let grad_ok = ctx.outcome("binary_cross_entropy_with_logits_with_grad", &gr, &gr64, &gr32, ok(Some(gl)));
    if !(fwd_ok && per_ok && grad_ok) {
        return;
    }
    let (f, f64_, f32_) = (f.unwrap(), f64_.unwrap(), f32_.unwrap());
    let (gl_, gl64, gl32) = (gr.unwrap(), gr64.unwrap(), gr32.unwrap());
    if !same(f, gl_) {
        ctx.fail(&format!("binary_cross_entropy_with_logits {f:e} and its fused loss {gl_:e} differ"));
    }
    let scale_r = if case.reduction == Reduction::Mean { 1.0 / n as f64 } else { 1.0 };
    let mut any_nonfinite = false;
    let (mut sum_bound, mut sum_abs) = (0.0, 0.0);
    for i in 0..n {
        let (xi, yi) = (f64::from(x32[i]), f64::from(y32[i]));
        let w = bcast(wv.as_deref(), i).unwrap_or(1.0);
        let pw = bcast(pwv.as_deref(), i).unwrap_or(1.0);
        let lw = 1.0 + (pw - 1.0) * yi;
        // Docs: `8 eps (1 + |x| + |loss|)`, which holds where `(1-y) x` and
        // `-lw logsigmoid(x)` cannot cancel beyond `|x|` (y in [0, 1], pos_weight >= 0).
        // Elsewhere the error scales with the two terms' sizes; a weight multiplies the
        // unweighted error.
        let f_ = if (0.0..=1.0).contains(&yi) && pw >= 0.0 {
            1.0
        } else {
            1f64.max((1.0 - yi).abs()).max(lw.abs()).max((pw * yi).abs())
        };
        // Plus the documented flush to 0 of `exp(-|x|)` below 1.2e-38, which `lw` multiplies.
        let flush = fin(w * lw).abs() * 1.3e-38;
        // `lw = 1 + (pw - 1) y` itself cancels for pos_weight < 0 or y outside [0, 1]: an
        // absolute error of 2 eps (|(pw - 1) y| + 1), times `logsigmoid(x)` or `sigmoid(x)`.
        let lw_err = 2.0 * EPS * (((pw - 1.0) * yi).abs() + 1.0);
        let logsig = xi.min(0.0) - (-xi.abs()).exp().ln_1p();
        let sig = 1.0 / (1.0 + (-xi).exp());
        let flush = flush + fin(w * lw_err * logsig).abs();
        let b = 8.0 * EPS * (1f64.max(fin(w).abs()) * (1.0 + fin(xi).abs() * fin(f_)) + fin(o64[i]).abs())
            + flush;
        // The flush (as above) with an infinite or overflowing `w lw` gives NaN where the
        // oracle's tiny `exp(-|x|)` gives an infinity.
        let flushed = !((w * lw).abs() < f64::from(f32::MAX) / 2.0) && (-xi.abs()).exp() < 1.3e-38;
        any_nonfinite |= flushed;
        any_nonfinite |= ctx.value(
            || format!("bce_logits[{i}] x={xi:e} y={yi:e} w={w:e} pw={pw:e}"),
            o[i],
            o64[i],
            o32[i],
            b,
            flushed,
        );
        sum_bound += b;
        sum_abs += fin(o64[i]).abs();
        // Docs: gradient `32 eps`, for `w (lw sigmoid(x) - pw y) s` with terms of size <= 2
        // (no weights, y in [0, 1]); scaled by the terms' sizes beyond that.
        let big = (w * scale_r).abs() * (lw.abs() + (pw * yi).abs()) / 2.0;
        let b = 32.0 * EPS * 1f64.max(fin(big))
            + fin(w * scale_r * lw).abs() * 1.3e-38
            + fin(w * scale_r * lw_err * sig).abs() * 2.0;
        // An infinite weight times an unweighted gradient whose size is within its own
        // rounding error (here `lw sigmoid(x) - pw y` with `lw` rounded in f32): its sign,
        // or whether it is 0 (NaN), is not known.
        let gu = lw * sig - pw * yi;
        let gu_err = lw_err * sig + 32.0 * EPS * (lw.abs() + (pw * yi).abs()) + lw.abs() * 1.3e-38;
        let unknown = w.is_infinite() && !(gu.abs() > gu_err);
        let _ = ctx.value(
            || format!("bce_logits grad[{i}] x={xi:e} y={yi:e} w={w:e} pw={pw:e}"),
            g[i],
            g64[i],
            g32[i],
            b,
            flushed || unknown,
        );
    }
    let red = reduced(case.reduction, elementwise_reduction(sum_bound, sum_abs, 0.0), n as f64)
        + 2.0 * EPS * fin(f64_).abs();
    let _ = ctx.value(
        || "binary_cross_entropy_with_logits".into(),
        f,
        f64_,
        f32_,
        red,
        any_nonfinite || sum_abs >= f64::from(f32::MAX) / 2.0,
    );
    let _ = ctx.value(
        || "binary_cross_entropy_with_logits_with_grad (loss)".into(),
        gl_,
        gl64,
        gl32,
        red,
        any_nonfinite || sum_abs >= f64::from(f32::MAX) / 2.0,
    );
}

pub(super) fn sigmoid_focal<T: Bits>(ctx: &Ctx<'_>) {
    let case = ctx.case;
    let x: Vec<T> = elems(&case.logits);
    let y: Vec<T> = elems(&case.soft);
    let (x32, y32) = (widen(&x), widen(&y));
    let (alpha, gamma) = (f32::from_bits(case.alpha), f32::from_bits(case.gamma));
    let opts = SigmoidFocalOptions::new().with_alpha(alpha).with_gamma(gamma).with_reduction(case.reduction);
    let n = x.len();
    let opts_ok = gamma >= 0.0 && gamma.is_finite() && !alpha.is_nan();
    let ok = |out: Option<usize>| opts_ok && y.len() == n && out.is_none_or(|o| o == n);
    let f = xent::sigmoid_focal_loss(&x, &y, &opts);
    let f64_: Result<f64, _> = xent::scalar::sigmoid_focal_loss(&x, &y, &opts);
    let f32_: Result<f32, _> = xent::scalar::sigmoid_focal_loss(&x, &y, &opts);
    let fwd_ok = ctx.outcome("sigmoid_focal_loss", &f, &f64_, &f32_, ok(None));
    let m = case.out_len;
    let (mut o, mut o64, mut o32) = (vec![0f32; m], vec![0f64; m], vec![0f32; m]);
    let r = xent::sigmoid_focal_loss_per_position(&x, &y, &opts, &mut o);
    let r64 = xent::scalar::sigmoid_focal_loss_per_position(&x, &y, &opts, &mut o64);
    let r32 = xent::scalar::sigmoid_focal_loss_per_position(&x, &y, &opts, &mut o32);
    let per_ok = ctx.outcome("sigmoid_focal_loss_per_position", &r, &r64, &r32, ok(Some(m)));
    let gl = case.grad_len;
    let (mut g, mut g64, mut g32) = (vec![0f32; gl], vec![0f64; gl], vec![0f32; gl]);
    let gr = xent::sigmoid_focal_loss_with_grad(&x, &y, &opts, &mut g);
    let gr64 = xent::scalar::sigmoid_focal_loss_with_grad(&x, &y, &opts, &mut g64);
    let gr32 = xent::scalar::sigmoid_focal_loss_with_grad(&x, &y, &opts, &mut g32);
    let grad_ok = ctx.outcome("sigmoid_focal_loss_with_grad", &gr, &gr64, &gr32, ok(Some(gl)));
    if !(fwd_ok && per_ok && grad_ok) {
        return;
    }
    let (f, f64_, f32_) = (f.unwrap(), f64_.unwrap(), f32_.unwrap());
    let (gl_, gl64, gl32) = (gr.unwrap(), gr64.unwrap(), gr32.unwrap());
    if !same(f, gl_) {
        ctx.fail(&format!("sigmoid_focal_loss {f:e} and its fused loss {gl_:e} differ"));
    }
    let (alpha, gamma) = (f64::from(alpha), f64::from(gamma));
    let scale_r = if case.reduction == Reduction::Mean { 1.0 / n as f64 } else { 1.0 };
    let (mut sum_bound, mut sum_abs) = (0.0, 0.0);
    let mut any_nonfinite = false;
    let mut skipped = false;
    for i in 0..n {
        let (xi, yi) = (f64::from(x32[i]), f64::from(y32[i]));
        let at = if alpha >= 0.0 { alpha * yi + (1.0 - alpha) * (1.0 - yi) } else { 1.0 };
        // `1 - p_t = p (1-y) + q y`: for y in [0, 1] a sum of two non-negative terms; for y
        // outside it the terms cancel, and f32 keeps `1 - p_t` only to a relative
        // `eps * kappa`, which `(1 - p_t)^gamma` raises to `gamma eps kappa`.
        let (p, q) = (1.0 / (1.0 + (-xi).exp()), 1.0 / (1.0 + xi.exp()));
        let om = p * (1.0 - yi) + q * yi;
        let kappa =
            if om == 0.0 { f64::INFINITY } else { ((p * (1.0 - yi)).abs() + (q * yi).abs()) / om.abs() };
        let kappa = if kappa.is_nan() { 1.0 } else { kappa.max(1.0) };

        // Below f32's normal range `p` and `q y` are subnormal or 0 in f32 (absolute errors
        // of 2^-150): for y outside [0, 1] even the sign of `1 - p_t` is then lost.
        let underflow = om.abs() < 1e-35 && !(0.0..=1.0).contains(&yi);
        if underflow || 4.0 * EPS * kappa * gamma.max(1.0) > 0.01 {
            // f32 cannot resolve `(1 - p_t)^gamma` here at all (the scalar f32 twin neither).
            skipped = true;
            continue;
        }
        // Docs: `16 eps (1 + |x| + |loss|)`, stated for torchvision's range (y in [0, 1],
        // alpha in [0, 1], gamma <= 2, so kappa = 1). Beyond it: `at` multiplies the error
        // of the unweighted loss, y outside [0, 1] scales the `x y` term, and
        // `(1 - p_t)^gamma` has `gamma kappa` times the relative error of a sigmoid.
        let yf = 1f64.max(yi.abs()).max((1.0 - yi).abs());
        let gf = 1f64.max(gamma / 2.0) * kappa;
        // `alpha y + (1 - alpha)(1 - y)` cancels for alpha outside [0, 1]: its f32 error is
        // eps times the terms' sizes, times `ce (1 - p_t)^gamma`.
        let ce = xi.max(0.0) - xi * yi + (-xi.abs()).exp().ln_1p();
        let md = if gamma == 0.0 { 1.0 } else { om.powf(gamma) };
        let at_err = if alpha >= 0.0 {
            4.0 * EPS * fin(ce * md).abs() * ((alpha * yi).abs() + ((1.0 - alpha) * (1.0 - yi)).abs())
        } else {
            0.0
        };
        // The documented flush to 0 of exp results below 1.2e-38 (here `(1 - p_t)^gamma`,
        // an exp): times an infinite `ce` it gives NaN where the oracle is infinite.
        let flushed = md < 1.3e-38 && ce.is_infinite();
        any_nonfinite |= flushed;
        let b = 16.0 * EPS * (1f64.max(fin(at).abs()) * yf * (1.0 + fin(xi).abs()) + gf * fin(o64[i]).abs())
            + at_err
            + fin(ce * at).abs() * 1.3e-38;
        any_nonfinite |= ctx.value(
            || format!("sigmoid_focal[{i}] x={xi:e} y={yi:e} alpha={alpha:e} gamma={gamma:e}"),
            o[i],
            o64[i],
            o32[i],
            b,
            flushed,
        );
        sum_bound += b;
        sum_abs += fin(o64[i]).abs();
        // The gradient's bound is not documented. `(p - y) md + ce dmd` (times `at` and the
        // reduction's scale): each factor has a relative error of a few eps (`gamma kappa`
        // times that for the powers), `ce` an absolute error of eps (1 + |x| |y|).
        let gb = 32.0 * EPS * gf * (fin(at * scale_r).abs() * yf * (1.0 + fin(xi).abs()) + fin(g64[i]).abs())
            + at_err * (1.0 + gamma) * fin(scale_r).abs()
            + fin(ce * at * scale_r).abs() * (1.0 + gamma) * 1.3e-38;

        let _ = ctx.value(
            || format!("sigmoid_focal grad[{i}] x={xi:e} y={yi:e} alpha={alpha:e} gamma={gamma:e}"),
            g[i],
            g64[i],
            g32[i],
            gb,
            flushed,
        );
    }
    if skipped {
        return;
    }
    let red = reduced(case.reduction, elementwise_reduction(sum_bound, sum_abs, 0.0), n as f64)
        + 2.0 * EPS * fin(f64_).abs();
    let _ = ctx.value(
        || "sigmoid_focal_loss".into(),
        f,
        f64_,
        f32_,
        red,
        any_nonfinite || sum_abs >= f64::from(f32::MAX) / 2.0,
    );
    let _ = ctx.value(
        || "sigmoid_focal_loss_with_grad (loss)".into(),
        gl_,
        gl64,
        gl32,
        red,
        any_nonfinite || sum_abs >= f64::from(f32::MAX) / 2.0,
    );
}
