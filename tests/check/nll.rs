//! `nll_loss*`.

use xent::{NllOptions, Reduction};

use super::EPS;
use super::bounds::{PosInfo, denominator_error, denominators, fin, subnormal_mean};
use super::compare::{Bits, Ctx, Idx, elems, f32s, same, widen};
use super::validity::{class_lengths_ok, class_of};

pub(super) fn nll<T: Bits, I: Idx>(ctx: &Ctx<'_>) {
    let case = ctx.case;
    let x: Vec<T> = elems(&case.logits);
    let x32 = widen(&x);
    let t: Vec<I> = case.targets.iter().map(|&v| I::from_i64(v)).collect();
    let lay = case.layout.layout();
    let wv = case.weight.as_deref().map(f32s);
    let opts = NllOptions::new()
        .with_weight(wv.as_deref())
        .with_ignore_index(case.ignore_index)
        .with_reduction(case.reduction);
    let f = xent::nll_loss(&x, lay, &t, &opts);
    let f64_: Result<f64, _> = xent::scalar::nll_loss(&x, lay, &t, &opts);
    let f32_: Result<f32, _> = xent::scalar::nll_loss(&x, lay, &t, &opts);
    let fwd_ok = ctx.outcome("nll_loss", &f, &f64_, &f32_, class_lengths_ok(case, lay, None, None));
    let n = case.out_len;
    let (mut o, mut o64, mut o32) = (vec![0f32; n], vec![0f64; n], vec![0f32; n]);
    let r = xent::nll_loss_per_position(&x, lay, &t, &opts, &mut o);
    let r64 = xent::scalar::nll_loss_per_position(&x, lay, &t, &opts, &mut o64);
    let r32 = xent::scalar::nll_loss_per_position(&x, lay, &t, &opts, &mut o32);
    let per_ok =
        ctx.outcome("nll_loss_per_position", &r, &r64, &r32, class_lengths_ok(case, lay, Some(n), None));
    let gl = case.grad_len;
    let (mut g, mut g64, mut g32) = (vec![0f32; gl], vec![0f64; gl], vec![0f32; gl]);
    let gr = xent::nll_loss_with_grad(&x, lay, &t, &opts, &mut g);
    let gr64 = xent::scalar::nll_loss_with_grad(&x, lay, &t, &opts, &mut g64);
    let gr32 = xent::scalar::nll_loss_with_grad(&x, lay, &t, &opts, &mut g32);
    let grad_ok =
        ctx.outcome("nll_loss_with_grad", &gr, &gr64, &gr32, class_lengths_ok(case, lay, None, Some(gl)));
    if !(fwd_ok && per_ok && grad_ok) {
        return;
    }
    let (f, f64_, f32_) = (f.unwrap(), f64_.unwrap(), f32_.unwrap());
    let (gl_, gl64, gl32) = (gr.unwrap(), gr64.unwrap(), gr32.unwrap());
    if !same(f, gl_) {
        ctx.fail(&format!("nll_loss {f:e} and its fused loss {gl_:e} differ"));
    }
    // Per position `-w_y x_y`: one product of two f32 values, exact in f64, so the f32
    // result is the oracle rounded to f32, exactly.
    let mut sum_abs = 0.0;
    for p in 0..n {
        if !same(o[p], o64[p] as f32) {
            ctx.fail(&format!(
                "nll per-position[{p}]: simd {:e}, oracle {:e} (must be its rounding)",
                o[p], o64[p]
            ));
        }
        sum_abs += fin(o64[p]).abs();
    }
    let _ = x32;
    let info_targets: Vec<PosInfo> = case
        .targets
        .iter()
        .enumerate()
        .filter_map(|(p, &t)| {
            class_of(t, case.ignore_index).map(|class| PosInfo {
                p,
                class,
                u: 0.0,
                sc: 0.0,
                lse: 0.0,
                spread: 0.0,
            })
        })
        .collect();
    let (w_den, w_abs, _) = denominators(wv.as_deref(), &info_targets);
    let dw =
        if case.reduction == Reduction::Mean { denominator_error(wv.is_some(), w_den, w_abs) } else { 0.0 };
    let mean = case.reduction == Reduction::Mean;
    if mean && dw >= 0.25 {
        return;
    }
    // Reduced: a compensated sum, the docs' 8 eps relative to Σ |loss_p|.
    let red = match case.reduction {
        Reduction::Sum => 8.0 * EPS * sum_abs + subnormal_mean(info_targets.len() as f64, 1.0),
        Reduction::Mean => {
            8.0 * EPS * sum_abs / w_den.abs()
                + fin(f64_).abs() * dw
                + subnormal_mean(info_targets.len() as f64, w_den)
        }
    };
    let _ = ctx.value(|| "nll_loss".into(), f, f64_, f32_, red, sum_abs >= f64::from(f32::MAX) / 2.0);
    let _ = ctx.value(
        || "nll_loss_with_grad (loss)".into(),
        gl_,
        gl64,
        gl32,
        red,
        sum_abs >= f64::from(f32::MAX) / 2.0,
    );
    // Gradient `-s w_y` at each target slot, 0 elsewhere: two roundings and the
    // denominator's error.
    for j in 0..gl {
        let b = fin(g64[j]).abs() * (2.0 * EPS + dw);
        let _ = ctx.value(|| format!("nll grad[{j}]"), g[j], g64[j], g32[j], b, false);
    }
}
