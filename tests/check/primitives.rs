//! The primitives: `log_sum_exp*`, `LsePartial`, `log_softmax_into`, `softmax_into`,
//! `gather` and `score_into`.

use xent::Score;

use super::EPS;
use super::bounds::{fin, lay_unit, row, scale, unit};
use super::compare::{Bits, Ctx, Idx, elems, same, widen};
use super::validity::class_lengths_ok;

pub(super) fn lse<T: Bits>(ctx: &Ctx<'_>) {
    let case = ctx.case;
    let x: Vec<T> = elems(&case.logits);
    let x32 = widen(&x);
    let lay = case.layout.layout();

    // The whole slice as one row: bound u.
    let got = xent::log_sum_exp(&x);
    let w64: f64 = xent::scalar::log_sum_exp(&x);
    let w32: f32 = xent::scalar::log_sum_exp(&x);
    let u = unit(scale(x32.iter().map(|&v| f64::from(v))), x.len());
    let _ = ctx.value(|| "log_sum_exp".into(), got, w64, w32, u, false);

    // LsePartial: no scalar twin and no documented bound; it must not panic, and a split
    // row merges to a NaN exactly when the row holds NaN or +inf.
    let k = x.len() / 3;
    let merged = xent::LsePartial::of(&x[..k]).merge(xent::LsePartial::of(&x[k..]));
    let special = x32.iter().any(|v| v.is_nan() || *v == f32::INFINITY);
    if merged.lse().is_nan() != special {
        ctx.fail(&format!("LsePartial: merged lse {} for a row with NaN/+inf: {special}", merged.lse()));
    }

    let valid_len = lay.len().is_ok_and(|l| l == x.len());
    let pos = lay.positions().unwrap_or(0);

    // Per-position log-sum-exp.
    let (mut o, mut o64, mut o32) =
        (vec![0f32; case.out_len], vec![0f64; case.out_len], vec![0f32; case.out_len]);
    let r = xent::log_sum_exp_into(&x, lay, &mut o);
    let r64 = xent::scalar::log_sum_exp_into(&x, lay, &mut o64);
    let r32 = xent::scalar::log_sum_exp_into(&x, lay, &mut o32);
    let ok = valid_len && case.out_len == pos;
    if ctx.outcome("log_sum_exp_into", &r, &r64, &r32, ok) {
        for p in 0..pos {
            let u = lay_unit(scale(row(&x32, lay, p)), lay);
            let _ = ctx.value(|| format!("log_sum_exp_into[{p}]"), o[p], o64[p], o32[p], u, false);
        }
    }

    // Log-softmax and softmax: bounds u + 2 eps |lp| and (u + 4 eps (1 + |lp|)) p + 1.3e-38.
    let n = case.grad_len;
    let (mut lp, mut lp64, mut lp32) = (vec![0f32; n], vec![0f64; n], vec![0f32; n]);
    let r = xent::log_softmax_into(&x, lay, &mut lp);
    let r64 = xent::scalar::log_softmax_into(&x, lay, &mut lp64);
    let r32 = xent::scalar::log_softmax_into(&x, lay, &mut lp32);
    let ok = valid_len && n == x.len();
    let lsm_ok = ctx.outcome("log_softmax_into", &r, &r64, &r32, ok);
    let (mut sm, mut sm64, mut sm32) = (vec![0f32; n], vec![0f64; n], vec![0f32; n]);
    let r = xent::softmax_into(&x, lay, &mut sm);
    let r64 = xent::scalar::softmax_into(&x, lay, &mut sm64);
    let r32 = xent::scalar::softmax_into(&x, lay, &mut sm32);
    if ctx.outcome("softmax_into", &r, &r64, &r32, ok) && lsm_ok {
        let (c, inner) = (lay.classes(), lay.inner());
        // (No classes: nothing was written, and the batch may be huge.)
        for p in 0..if c == 0 { 0 } else { pos } {
            let xr = row(&x32, lay, p);
            let u = lay_unit(scale(xr), lay);
            let base = (p / inner) * c * inner + p % inner;
            for k in 0..c {
                let j = base + k * inner;
                let b = u + 2.0 * EPS * fin(lp64[j]).abs();
                let _ = ctx.value(|| format!("log_softmax[{j}]"), lp[j], lp64[j], lp32[j], b, false);
                // exp flushes results below about exp(-87.3) = 1.2e-38 to 0.
                let b =
                    if sm64[j] == 0.0 { 0.0 } else { (u + 4.0 * EPS * (1.0 + fin(lp64[j]).abs())) * sm64[j] };

                let _ = ctx.value(|| format!("softmax[{j}]"), sm[j], sm64[j], sm32[j], b + 1.3e-38, false);
            }
        }
    }
}

pub(super) fn gather<T: Bits, I: Idx>(ctx: &Ctx<'_>) {
    let case = ctx.case;
    let x: Vec<T> = elems(&case.logits);
    let t: Vec<I> = case.targets.iter().map(|&v| I::from_i64(v)).collect();
    let lay = case.layout.layout();
    let (mut o, mut o64, mut o32) =
        (vec![0f32; case.out_len], vec![0f64; case.out_len], vec![0f32; case.out_len]);
    let r = xent::gather(&x, lay, &t, case.ignore_index, &mut o);
    let r64 = xent::scalar::gather(&x, lay, &t, case.ignore_index, &mut o64);
    let r32 = xent::scalar::gather(&x, lay, &t, case.ignore_index, &mut o32);
    let ok = class_lengths_ok(case, lay, Some(case.out_len), None) && case.weight.is_none();
    if ctx.outcome("gather", &r, &r64, &r32, ok) {
        // A gather is exact.
        for p in 0..o.len() {
            if !same(o[p], o64[p] as f32) || !same(o[p], o32[p]) {
                ctx.fail(&format!("gather[{p}]: simd {} oracle {} scalar f32 {}", o[p], o64[p], o32[p]));
            }
        }
    }
}

pub(super) fn score<T: Bits, I: Idx>(ctx: &Ctx<'_>) {
    let case = ctx.case;
    let x: Vec<T> = elems(&case.logits);
    let x32 = widen(&x);
    let t: Vec<I> = case.targets.iter().map(|&v| I::from_i64(v)).collect();
    let lay = case.layout.layout();
    let n = case.out_len;
    let (mut o, mut o64, mut o32) =
        (vec![Score::default(); n], vec![Score::default(); n], vec![Score::default(); n]);
    let r = xent::score_into(&x, lay, &t, case.ignore_index, &mut o);
    let r64 = xent::scalar::score_into::<f64, _, _>(&x, lay, &t, case.ignore_index, &mut o64);
    let r32 = xent::scalar::score_into::<f32, _, _>(&x, lay, &t, case.ignore_index, &mut o32);
    let ok = class_lengths_ok(case, lay, Some(n), None) && case.weight.is_none();
    if ctx.outcome("score_into", &r, &r64, &r32, ok) {
        for p in 0..n {
            if (o[p].above, o[p].counted) != (o64[p].above, o64[p].counted) {
                ctx.fail(&format!("score[{p}]: simd {:?} oracle {:?}", o[p], o64[p]));
            }
            // The per-position cross-entropy bound, 1.5 u + 4 eps |loss|.
            let u = lay_unit(scale(row(&x32, lay, p)), lay);
            let want = f64::from(o64[p].loss);
            let b = 1.5 * u + 4.0 * EPS * fin(want).abs();
            let _ = ctx.value(|| format!("score[{p}].loss"), o[p].loss, want, o32[p].loss, b, false);
        }
    }
}
