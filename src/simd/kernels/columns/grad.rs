//! A group's gradient: class-index targets (the target slots fixed through a vector
//! `expm1`) and soft targets.

use crate::Element;
use crate::engine::{Coef, GradDst, SoftCoef};
use crate::simd::kernels::convert::load_at;
use crate::simd::kernels::dst::{dst_input, put, store_at};
use crate::simd::kernels::lanes::{cap_v, grad_p_v, grad_v};
use crate::simd::vector::{Vector, always};

/// Gradient rows of `LANES` column positions (see [`group_stats`](super::stats::group_stats)).
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn group_grad<W: Vector, T: Element>(
    dst: &mut GradDst<'_, T, f32>,
    base: usize,
    stride: usize,
    classes: usize,
    coef: &[Coef<f32>],
    cap: Option<f32>,
    w: Option<&[f32]>,
) {
    let l = W::LANES;
    let lane = always!(|f: fn(&Coef<f32>) -> f32| {
        let mut a = [0.0f32; 16];
        for q in 0..l {
            a[q] = f(&coef[q]);
        }
        W::load_or(&a, 0.0)
    });
    let (m, lse, a, c) = (
        lane(
            #[cfg_attr(not(xent_opt0), inline(always))]
            |k| k.max,
        ),
        lane(
            #[cfg_attr(not(xent_opt0), inline(always))]
            |k| k.lse_rel,
        ),
        lane(
            #[cfg_attr(not(xent_opt0), inline(always))]
            |k| k.a,
        ),
        lane(
            #[cfg_attr(not(xent_opt0), inline(always))]
            |k| k.c,
        ),
    );
    // The target logits, read before the rows are written (in place, they are overwritten).
    let mut raw = [0.0f32; 16];
    for (q, k) in coef.iter().enumerate().take(l) {
        if k.t < classes {
            raw[q] = dst_input(dst)[base + q + k.t * stride].to_f32();
        }
    }
    let rows = (m, lse, a, c);
    let others = if coef.iter().take(l).any(|k| k.others) {
        Some(class_rows::<W, T, true>(dst, base, stride, classes, coef, rows, cap, w))
    } else {
        class_rows::<W, T, false>(dst, base, stride, classes, coef, rows, cap, w);
        None
    };
    // The target slots of all lanes at once ([`target_slot`] lane by lane, with a vector
    // `expm1`, or `-Σ_{j != t} p_j` in the lanes of `Coef::others`), then written one by one.
    let (xt, kk) = (
        lane(
            #[cfg_attr(not(xent_opt0), inline(always))]
            |k| k.xt,
        ),
        lane(
            #[cfg_attr(not(xent_opt0), inline(always))]
            |k| k.k,
        ),
    );
    let wt = match w {
        Some(w) => {
            let mut a = [0.0f32; 16];
            for (d, k) in a.iter_mut().zip(coef.iter().take(l)) {
                if k.t < classes {
                    *d = w[k.t];
                }
            }
            W::load_or(&a, 0.0)
        }
        None => W::splat(1.0),
    };
    let cw = W::select(c.eq(W::splat(0.0)), W::splat(0.0), c * wt);
    let mut e = ((xt - m) - lse).expm1_le0();
    if let Some(s) = others {
        let on = lane(
            #[cfg_attr(not(xent_opt0), inline(always))]
            |k| if k.others { 1.0 } else { 0.0 },
        );
        e = W::select(on.eq(W::splat(1.0)), -s, e);
    }
    let mut g = a.mul_add(e, a - kk) - cw;
    if let Some(s) = cap {
        g = g * cap_v(W::load_or(&raw, 0.0), s).1;
    }
    let mut gs = [0.0f32; 16];
    g.to_lanes(&mut gs);
    for (q, k) in coef.iter().enumerate().take(l) {
        if k.t < classes {
            put(dst, base + q + k.t * stride, gs[q]);
        }
    }
}

/// The slots `a p - c w` of [`group_grad`]'s `LANES` positions (the targets' rewritten
/// after), a class at a time, with `rows = (max, lse_rel, a, c)` as lanes. With `OTHERS`, returns each lane's
/// `Σ_{j != t} p_j` (class indices compared as f32, exact below `COLUMN_MAX_C`), every 128
/// classes added into f64 lanes, so that no lane adds more than 128 terms in a row.
#[allow(clippy::too_many_arguments)]
#[cfg_attr(not(xent_opt0), inline(always))]
fn class_rows<W: Vector, T: Element, const OTHERS: bool>(
    dst: &mut GradDst<'_, T, f32>,
    base: usize,
    stride: usize,
    classes: usize,
    coef: &[Coef<f32>],
    (m, lse, a, c): (W, W, W, W),
    cap: Option<f32>,
    w: Option<&[f32]>,
) -> W {
    let l = W::LANES;
    let mut tv = [-1.0f32; 16];
    if OTHERS {
        for (d, k) in tv.iter_mut().zip(coef.iter().take(l)) {
            if k.t < classes {
                *d = k.t as f32;
            }
        }
    }
    let tv = W::load_or(&tv[..l], -1.0);
    let (mut sum, mut total) = (W::splat(0.0), [0.0f64; 16]);
    let flush = always!(|sum: W, total: &mut [f64; 16]| {
        let mut s = [0.0f32; 16];
        sum.to_lanes(&mut s);
        for (t, v) in total.iter_mut().zip(s) {
            *t += f64::from(v);
        }
    });
    for cls in 0..classes {
        let i = base + cls * stride;
        // w_j enters only through smoothing (c != 0): a NaN weight of another class must
        // not reach rows that never read it (PyTorch's gradient does not).
        let cw = W::select(
            c.eq(W::splat(0.0)),
            W::splat(0.0),
            c * W::splat(w.map_or(
                1.0,
                #[cfg_attr(not(xent_opt0), inline(always))]
                |w| w[cls],
            )),
        );
        let x: W = load_at(dst_input(dst), i);
        if OTHERS {
            let (g, p) = grad_p_v(x, m, lse, a, cw, cap);
            sum = sum + W::select(tv.eq(W::splat(cls as f32)), W::splat(0.0), p);
            if cls % 128 == 127 {
                flush(sum, &mut total);
                sum = W::splat(0.0);
            }
            store_at(dst, i, g);
        } else {
            store_at(dst, i, grad_v(x, m, lse, a, cw, cap));
        }
    }
    if !OTHERS {
        return W::splat(0.0);
    }
    flush(sum, &mut total);
    let mut s = [0.0f32; 16];
    for (d, t) in s.iter_mut().zip(total) {
        *d = t as f32;
    }
    W::load_or(&s[..l], 0.0)
}

/// [`Engine::soft_grad`](crate::engine::Engine::soft_grad) over `LANES` column positions: `a p - s w t'` a class at a time.
#[allow(clippy::too_many_arguments)]
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn group_soft_grad<W: Vector, T: Element, U: Element>(
    dst: &mut GradDst<'_, T, f32>,
    t: &[U],
    base: usize,
    stride: usize,
    classes: usize,
    coef: &[SoftCoef<f32>],
    eps: f32,
    w: Option<&[f32]>,
) {
    let l = W::LANES;
    let lane = always!(|f: fn(&SoftCoef<f32>) -> f32| {
        let mut a = [0.0f32; 16];
        for (d, k) in a.iter_mut().zip(coef.iter().take(l)) {
            *d = f(k);
        }
        W::load_or(&a, 0.0)
    });
    let (m, lse, a, s) = (
        lane(
            #[cfg_attr(not(xent_opt0), inline(always))]
            |k| k.max,
        ),
        lane(
            #[cfg_attr(not(xent_opt0), inline(always))]
            |k| k.lse_rel,
        ),
        lane(
            #[cfg_attr(not(xent_opt0), inline(always))]
            |k| k.a,
        ),
        lane(
            #[cfg_attr(not(xent_opt0), inline(always))]
            |k| k.s,
        ),
    );
    let uni = W::splat(if classes > 0 { eps / classes as f32 } else { 0.0 });
    let keep = W::splat(1.0 - eps);
    for c in 0..classes {
        let i = base + c * stride;
        let x: W = load_at(dst_input(dst), i);
        let wt = W::splat(w.map_or(
            1.0,
            #[cfg_attr(not(xent_opt0), inline(always))]
            |w| w[c],
        )) * load_at::<W, U>(t, i).mul_add(keep, uni);
        let g = a * ((x - m) - lse).exp_le0_fast() - s * wt;
        store_at(dst, i, g);
    }
}
