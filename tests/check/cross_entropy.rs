//! `cross_entropy*` with class targets: forward, per position, fused gradient, in place
//! and the two-pass `with_lse` / `backward`, with label smoothing, z-loss and soft-cap.

use xent::{CrossEntropyOptions, Reduction};

use super::EPS;
use super::bounds::{
    denominator_error, denominators, fin, lay_unit, positions_info, row, row_max, scale, scale_raw,
    subnormal_mean,
};
use super::compare::{Bits, Ctx, Idx, elems, f32s, same, widen};
use super::validity::{class_lengths_ok, class_of};

pub(super) fn ce<T: Bits, I: Idx>(ctx: &Ctx<'_>) {
    let case = ctx.case;
    let x: Vec<T> = elems(&case.logits);
    let x32 = widen(&x);
    let t: Vec<I> = case.targets.iter().map(|&v| I::from_i64(v)).collect();
    let lay = case.layout.layout();
    let wv = case.weight.as_deref().map(f32s);
    let ls = f32::from_bits(case.label_smoothing);
    let z = f32::from_bits(case.z_loss);
    let cap = case.softcap.map(f32::from_bits);
    let opts = CrossEntropyOptions::new()
        .with_weight(wv.as_deref())
        .with_ignore_index(case.ignore_index)
        .with_label_smoothing(ls)
        .with_z_loss(z)
        .with_softcap(cap)
        .with_reduction(case.reduction);
    let opts_ok = (0.0..=1.0).contains(&ls)
        && z >= 0.0
        && z.is_finite()
        && cap.is_none_or(|s| s > 0.0 && s.is_finite());

    // Forward.
    let f = xent::cross_entropy(&x, lay, &t, &opts);
    let f64_: Result<f64, _> = xent::scalar::cross_entropy(&x, lay, &t, &opts);
    let f32_: Result<f32, _> = xent::scalar::cross_entropy(&x, lay, &t, &opts);
    let fwd_ok =
        ctx.outcome("cross_entropy", &f, &f64_, &f32_, opts_ok && class_lengths_ok(case, lay, None, None));

    // Per position.
    let n = case.out_len;
    let (mut o, mut o64, mut o32) = (vec![0f32; n], vec![0f64; n], vec![0f32; n]);
    let r = xent::cross_entropy_per_position(&x, lay, &t, &opts, &mut o);
    let r64 = xent::scalar::cross_entropy_per_position(&x, lay, &t, &opts, &mut o64);
    let r32 = xent::scalar::cross_entropy_per_position(&x, lay, &t, &opts, &mut o32);
    let per_ok = ctx.outcome(
        "cross_entropy_per_position",
        &r,
        &r64,
        &r32,
        opts_ok && class_lengths_ok(case, lay, Some(n), None),
    );

    // Fused gradient.
    let gl = case.grad_len;
    let (mut g, mut g64, mut g32) = (vec![0f32; gl], vec![0f64; gl], vec![0f32; gl]);
    let gr = xent::cross_entropy_with_grad(&x, lay, &t, &opts, &mut g);
    let gr64 = xent::scalar::cross_entropy_with_grad(&x, lay, &t, &opts, &mut g64);
    let gr32 = xent::scalar::cross_entropy_with_grad(&x, lay, &t, &opts, &mut g32);
    let grad_ok = ctx.outcome(
        "cross_entropy_with_grad",
        &gr,
        &gr64,
        &gr32,
        opts_ok && class_lengths_ok(case, lay, None, Some(gl)),
    );

    // In place over the logits.
    let mut xi = x.clone();
    let ir = xent::cross_entropy_with_grad_in_place(&mut xi, lay, &t, &opts);
    let mut xi64 = x.clone();
    let ir64: Result<f64, _> = xent::scalar::cross_entropy_with_grad_in_place(&mut xi64, lay, &t, &opts);
    let mut xi32 = x.clone();
    let ir32: Result<f32, _> = xent::scalar::cross_entropy_with_grad_in_place(&mut xi32, lay, &t, &opts);
    let in_ok = ctx.outcome(
        "cross_entropy_with_grad_in_place",
        &ir,
        &ir64,
        &ir32,
        opts_ok && class_lengths_ok(case, lay, None, None),
    );
    if !in_ok {
        // Every class-index error is found before any gradient is written (crate docs).
        let unchanged = xi.iter().zip(&x).all(|(a, b)| a.to_f32().to_bits() == b.to_f32().to_bits());
        if !unchanged {
            ctx.fail("cross_entropy_with_grad_in_place: logits changed by a call that returned an error");
        }
    }

    // Two-pass: the forward writing each position's log-sum-exp (into an `out_len` buffer),
    // then the backward from it (buffer and in place).
    let (mut l, mut l64, mut l32) = (vec![0f32; n], vec![0f64; n], vec![0f32; n]);
    let wl = xent::cross_entropy_with_lse(&x, lay, &t, &opts, &mut l);
    let wl64 = xent::scalar::cross_entropy_with_lse(&x, lay, &t, &opts, &mut l64);
    let wl32 = xent::scalar::cross_entropy_with_lse(&x, lay, &t, &opts, &mut l32);
    let lse_ok = ctx.outcome(
        "cross_entropy_with_lse",
        &wl,
        &wl64,
        &wl32,
        opts_ok && class_lengths_ok(case, lay, Some(n), None),
    );
    let (mut b, mut b64, mut b32) = (vec![0f32; gl], vec![0f64; gl], vec![0f32; gl]);
    let br = xent::cross_entropy_backward(&x, lay, &t, &opts, &l, &mut b);
    let br64 = xent::scalar::cross_entropy_backward(&x, lay, &t, &opts, &l64, &mut b64);
    let br32 = xent::scalar::cross_entropy_backward(&x, lay, &t, &opts, &l32, &mut b32);
    let back_ok = ctx.outcome(
        "cross_entropy_backward",
        &br,
        &br64,
        &br32,
        opts_ok && class_lengths_ok(case, lay, Some(n), Some(gl)),
    );
    let mut xb = x.clone();
    let bi = xent::cross_entropy_backward_in_place(&mut xb, lay, &t, &opts, &l);
    let mut xb64 = x.clone();
    let bi64 = xent::scalar::cross_entropy_backward_in_place(&mut xb64, lay, &t, &opts, &l64);
    let mut xb32 = x.clone();
    let bi32 = xent::scalar::cross_entropy_backward_in_place(&mut xb32, lay, &t, &opts, &l32);
    let bi_ok = ctx.outcome(
        "cross_entropy_backward_in_place",
        &bi,
        &bi64,
        &bi32,
        opts_ok && class_lengths_ok(case, lay, Some(n), None),
    );
    if !bi_ok && xb.iter().zip(&x).any(|(a, b)| a.to_f32().to_bits() != b.to_f32().to_bits()) {
        ctx.fail("cross_entropy_backward_in_place: logits changed by a call that returned an error");
    }
    if back_ok && bi_ok {
        // In place: the buffer gradient rounded once to T.
        for j in 0..xb.len() {
            let want = T::from_f32(b[j]).to_f32();
            if !same(xb[j].to_f32(), want) {
                ctx.fail(&format!(
                    "backward in place [{j}] {} differs from the buffer backward {want}",
                    xb[j].to_f32()
                ));
            }
        }
    }

    if !(fwd_ok && per_ok && grad_ok && in_ok) {
        return;
    }
    let (f, f64_, f32_) = (f.unwrap(), f64_.unwrap(), f32_.unwrap());
    let (gl_, gl64, gl32) = (gr.unwrap(), gr64.unwrap(), gr32.unwrap());
    // (with_lse and backward succeed together with the others, their buffers permitting.)
    let two_pass = lse_ok && back_ok;

    // The fused loss is the forward loss, bit for bit, except that the plain forward (no
    // smoothing, z-loss or soft-cap) sums tiles in its own kernel when there are several
    // positions.
    let plain = ls == 0.0 && z == 0.0 && cap.is_none();
    if (!plain || t.len() <= 1) && !same(f, gl_) {
        ctx.fail(&format!("cross_entropy {f:e} and cross_entropy_with_grad {gl_:e} differ"));
    }
    // In place: the same loss, and the buffer gradient rounded once to T.
    let li = ir.unwrap();
    if !same(li, gl_) {
        ctx.fail(&format!("in-place loss {li:e} differs from the fused loss {gl_:e}"));
    }
    for j in 0..xi.len() {
        let want = T::from_f32(g[j]).to_f32();
        if !same(xi[j].to_f32(), want) {
            ctx.fail(&format!(
                "in-place grad[{j}] {} differs from the buffer gradient {want}",
                xi[j].to_f32()
            ));
        }
    }

    let info = positions_info(&x32, lay, &case.targets, case.ignore_index, cap.map(f64::from));
    let c = lay.classes();
    let (ls, z) = (f64::from(ls), f64::from(z));
    let weighted = wv.is_some();
    // wmax: the largest finite |w_c| (1 without weights): the loss and its error scale with
    // the weights (tests/equivalence/ uses its wmax = 1.25 the same way).
    let wmax = wv.as_deref().map_or(1.0, |w| scale_raw(w.iter().map(|&v| f64::from(v))));
    let w_of = |k: usize| wv.as_deref().map_or(1.0, |w| f64::from(w[k]));
    let (w_den, w_abs, count) = denominators(wv.as_deref(), &info);
    // (Only a mean divides by `W`.)
    let dw = if case.reduction == Reduction::Mean { denominator_error(weighted, w_den, w_abs) } else { 0.0 };
    let w_abs_all: f64 = wv.as_deref().map_or(c as f64, |w| w.iter().map(|&v| fin(f64::from(v)).abs()).sum());

    // Per position (the docs' `1.5 u + 4 eps |loss|`, plus `eps_ls 6 eps M sqrt(C)` with
    // label smoothing and `2 z |lse|` times the LSE bound with z-loss), scaled by the
    // weights that multiply each term.
    let mut sum_bound = 0.0;
    let mut sum_abs = 0.0;
    let mut sx_overflow = false;
    for i in &info {
        let wy = fin(w_of(i.class)).abs();
        let loss = o64[i.p];
        let wf = wy.max(ls * wmax);
        // The docs' worst case of smoothing's one-pass sum `Σ w (x - x_t)`, whose rounding
        // errors may share a sign: `eps_ls K eps / 2 W̄ D`, `K = C + 2` for channel-first
        // layouts and rows of `C <= 16` (one running sum per position), `C / 16 + 6` for
        // longer rows (16 or more lanes).
        let col_sx = {
            let k = if lay.inner() > 1 || c <= 16 { c as f64 + 2.0 } else { c as f64 / 16.0 + 6.0 };
            ls / c as f64 * k * EPS / 2.0 * w_abs_all * fin(i.spread)
        };
        let b = 1.5 * i.u * wf
            + col_sx
            + ls * wmax * 6.0 * EPS * i.sc * (c as f64).sqrt()
            + 2.0 * z * fin(i.lse).abs() * i.u
            + 4.0 * EPS * fin(loss).abs();
        // Documented: label smoothing's one-pass Σ w (x - x_t) overflows f32 (an infinite
        // or NaN loss) when a row's spread times the weights' total nears f32::MAX.
        let ovf = ls > 0.0
            && (i.spread >= f64::from(f32::MAX) / 2.0
                || i.spread * wmax * c as f64 >= f64::from(f32::MAX) / 2.0);
        // An infinite weight at a class whose logit is the row's maximum: its smoothing
        // term `w_j (lse - x_j)` is `inf * 0 = NaN` in f32 when the row's other
        // exponentials round away against 1 (`lse == max`, as in PyTorch's f32 kernels) but
        // infinite in f64.
        let inf_w = ls > 0.0 && fin(i.lse) - row_max(&x32, lay, i.p, cap.map(f64::from)) <= i.u && {
            let m = row_max(&x32, lay, i.p, cap.map(f64::from));
            let xs = row(&x32, lay, i.p);
            wv.as_deref().is_some_and(|w| {
                (0..c).any(|k| {
                    w[k].is_infinite()
                        && cap.map_or(xs[k], |s| f64::from(s) * (xs[k] / f64::from(s)).tanh()) == m
                })
            })
        };
        let ovf = ovf || inf_w;
        sx_overflow |= ovf;
        sx_overflow |= ctx.value(|| format!("ce per-position[{}]", i.p), o[i.p], loss, o32[i.p], b, ovf);
        sum_bound += b;
        sum_abs += fin(loss).abs();
    }
    for p in 0..n {
        if class_of(case.targets[p], case.ignore_index).is_none() && (o[p] != 0.0 || o64[p] != 0.0) {
            ctx.fail(&format!(
                "ce per-position[{p}]: ignored position has loss {} (oracle {})",
                o[p], o64[p]
            ));
        }
    }

    // Reduced: the per-position bounds summed, plus the docs' 8 eps of the result taken
    // relative to Σ |loss_p| (equal to |result| when no weight is negative). The mean
    // divides the cross-entropy part by W and the z part by the count; the f32 W carries
    // its own relative error `dw`.
    let mean = case.reduction == Reduction::Mean;
    let red_bound = match case.reduction {
        Reduction::Sum => sum_bound + 8.0 * EPS * sum_abs + subnormal_mean(count, 1.0),
        Reduction::Mean => {
            let d = if z > 0.0 { w_den.abs().min(count) } else { w_den.abs() };
            (sum_bound + 8.0 * EPS * sum_abs) / d + fin(f64_).abs() * dw + subnormal_mean(count, w_den)
        }
    };
    // A weighted mean whose f32 denominator is known to no digit has no bound at all.
    // Nor has one whose denominator is exactly 0 (every counted target's weight is 0): it
    // is `numerator / 0`, whose sign (or NaN, for 0) is unknown where the numerator's
    // bound reaches its size.
    let ce_num: f64 = info.iter().map(|i| o64[i.p] - z * i.lse * i.lse).sum();
    let zero_den = mean && weighted && w_den == 0.0 && sum_bound + 8.0 * EPS * sum_abs >= ce_num.abs();
    let hopeless = (mean && dw >= 0.25) || zero_den;
    if !hopeless {
        let _ = ctx.value(
            || "cross_entropy".into(),
            f,
            f64_,
            f32_,
            red_bound,
            sx_overflow || sum_abs >= f64::from(f32::MAX) / 2.0,
        );
        let _ = ctx.value(
            || "cross_entropy_with_grad (loss)".into(),
            gl_,
            gl64,
            gl32,
            red_bound,
            sx_overflow || sum_abs >= f64::from(f32::MAX) / 2.0,
        );
        if lse_ok {
            let (a, b, c) = (wl.unwrap(), wl64.unwrap(), wl32.unwrap());
            let _ = ctx.value(
                || "cross_entropy_with_lse (loss)".into(),
                a,
                b,
                c,
                red_bound,
                sx_overflow || sum_abs >= f64::from(f32::MAX) / 2.0,
            );
        }
    }
    if lse_ok {
        // The log-sum-exps: the LSE bound of the (capped) rows; ignored positions hold the
        // same values as counted ones (their row's log-sum-exp) or 0 -- whatever the oracle
        // holds.
        let capf = cap.map(f64::from);
        for p in 0..n {
            let xr = row(&x32, lay, p);
            let sc = scale(xr.iter().map(|&v| capf.map_or(v, |s| s * (v / s).tanh())));
            let u = lay_unit(sc, lay) + capf.map_or(0.0, |_| 4.0 * EPS * sc);
            let _ = ctx.value(|| format!("cross_entropy_with_lse lse[{p}]"), l[p], l64[p], l32[p], u, false);
        }
    }

    // Gradient: the docs' `16 (u + eps)` per element, for coefficients of size 1; here
    // scaled by the largest coefficient of the row, `a = s (w_y (1-eps) + eps/C Σ w) +
    // s_z 2 z lse`, `c w_j = s eps/C w_j`, `k = s (1-eps) w_y` (tests/equivalence/:
    // `(1 + 2 z (M + 1))`), and by the mean's denominator error. Plus `|a| 1.3e-38`: the
    // documented flush to 0 of probabilities below about 1.2e-38, which `a` multiplies.
    if hopeless {
        return;
    }
    let s_ce = if mean { 1.0 / w_den } else { 1.0 };
    let s_z = if mean { 1.0 / count } else { 1.0 };
    let w_all: f64 = wv.as_deref().map_or(c as f64, |w| w.iter().map(|&v| f64::from(v)).sum());
    let mut coef = vec![None; t.len()];
    for i in &info {
        let wy = w_of(i.class);
        let smooth = if ls > 0.0 { ls / c as f64 * w_all } else { 0.0 };
        let zt = if z > 0.0 { s_z * 2.0 * z * i.lse } else { 0.0 };
        let a = s_ce * ((1.0 - ls) * wy + smooth) + zt;
        let k = s_ce * (1.0 - ls) * wy;
        let cc = s_ce * ls / c as f64 * wmax;
        let big = 1f64.max(fin(a).abs()).max(fin(cc).abs()).max(fin(k).abs());
        coef[i.p] = Some((i.u, big + 2.0 * z * fin(s_z).abs() * (fin(i.lse).abs() + 1.0), a, i.lse));
    }
    let (inner, tl) = (lay.inner(), t.len());
    let capf = cap.map(f64::from);
    let (bk, bk64, bk32) = (b, b64, b32);
    for p in 0..tl {
        let base = (p / inner) * c * inner + p % inner;
        // Ignored rows: exactly 0, or NaN where the logits hold NaN or +inf.
        let (u, big, a, lse) = coef[p].unwrap_or((0.0, 0.0, 0.0, 0.0));
        let xr = row(&x32, lay, p);
        for kk in 0..c {
            let j = base + kk * inner;
            let xc = capf.map_or(xr[kk], |s| s * (xr[kk] / s).tanh());
            let pj = (xc - lse).exp();
            let b = 16.0 * (u + EPS) * big + fin(g64[j]).abs() * dw + fin(a).abs() * 1.3e-38;
            let b_ = b;
            // `a * p` with an infinite `a` (an infinite weight) and a flushed `p` is NaN,
            // where the oracle's tiny `p` gives the infinity; likewise the soft-cap's chain
            // factor `4 exp(-2|y|) / (1 + ..)^2`, whose exp flushes for `|y| > 43.6`.
            let chain_flushed = capf.is_some_and(|s| (-2.0 * (xr[kk] / s).abs()).exp() < 1.3e-38);
            let flushed = !(a.abs() < f64::from(f32::MAX) / 4.0) && (pj < 1.3e-38 || chain_flushed);

            let _ = ctx.value(|| format!("ce grad[{j}] (position {p})"), g[j], g64[j], g32[j], b, flushed);
            if two_pass {
                // Docs: `p_j = exp(x_j - lse)` carries a relative error of about |lse| eps
                // more than the fused path.
                let bb = b_ + 4.0 * EPS * (fin(lse).abs() + 1.0) * big;
                let _ = ctx.value(
                    || format!("ce backward[{j}] (position {p})"),
                    bk[j],
                    bk64[j],
                    bk32[j],
                    bb,
                    flushed,
                );
            }
        }
    }
}
