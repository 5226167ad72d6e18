//! A group's gradient: class-index targets (the target slots fixed through a vector
//! `expm1`) and soft targets.

use crate::Element;
use crate::engine::{Coef, GradDst, SoftCoef};
use crate::simd::kernels::convert::load_at;
use crate::simd::kernels::dst::{dst_input, put, store_at};
use crate::simd::kernels::lanes::{cap_v, grad_v};
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
        store_at(dst, i, grad_v(x, m, lse, a, cw, cap));
    }
    // The target slots of all lanes at once ([`target_slot`] lane by lane, with a vector
    // `expm1`), then written one by one.
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
    let mut g = a.mul_add(((xt - m) - lse).expm1_le0(), a - kk) - cw;
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
