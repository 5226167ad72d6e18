//! The scalar reference kernels: one plain loop per operation, generic over the real type,
//! twin by twin with `simd/` (same names, same contracts; see `engine.rs`).
//!
//! They favour clarity and accuracy over speed: two passes where that is more accurate
//! (max, then the sums relative to it), sums over a row pairwise, `libm` for every
//! transcendental function.

use super::sum::pairwise;
use crate::element::real;
use crate::engine::{Binary, ClassStats, Coef, Engine, GradDst, SoftCoef, SoftStats, Stats, Want};
use crate::error::bce_domain;
use crate::{Element, Error, Layout, Real};

/// The scalar engine, computing in `R` (f32 or f64).
pub(crate) struct Scalar;

#[inline]
/// `1 - tanh(y)^2`, as `4e / (1 + e)^2` with `e = exp(-2|y|)` where `tanh` nears `±1`
/// (no cancellation), as the vector kernels' `tanh_sech2`.
fn sech2<R: Real>(y: R) -> R {
    if y.abs() < R::from_f32(0.0625) {
        let th = y.tanh();
        R::one() - th * th
    } else {
        let e = (R::from_f32(-2.0) * y.abs()).exp();
        let d = R::one() + e;
        R::from_f32(4.0) * e / (d * d)
    }
}

fn capped<R: Real>(v: R, cap: Option<R>) -> R {
    match cap {
        Some(s) => s * (v / s).tanh(),
        None => v,
    }
}

#[inline]
fn weight<R: Real>(w: Option<&[f32]>, c: usize) -> R {
    match w {
        Some(w) => R::from_f32(w[c]),
        None => R::one(),
    }
}

/// Row maximum with NaN propagation (a NaN anywhere makes the maximum NaN).
#[inline]
fn row_max<R: Real, T: Element>(x: &[T], base: usize, stride: usize, n: usize, cap: Option<R>) -> R {
    let mut m = R::neg_infinity();
    for c in 0..n {
        let v = capped(real::<R, T>(x[base + c * stride]), cap);
        if v > m || v.is_nan() {
            m = v;
        }
        if m.is_nan() {
            break;
        }
    }
    m
}

/// `sigmoid(x)`, without overflow.
#[inline]
pub(crate) fn sigmoid<R: Real>(x: R) -> R {
    if x >= R::zero() {
        R::one() / (R::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (R::one() + e)
    }
}

impl<R: Real> ClassStats<R> for Scalar {
    fn class_stats<T: Element>(
        x: &[T],
        lay: Layout,
        p0: usize,
        tgt: &[usize],
        cap: Option<R>,
        w: Option<&[f32]>,
        want: Want,
        out: &mut [Stats<R>],
    ) {
        let n = lay.classes();
        for (q, st) in out.iter_mut().enumerate() {
            let (base, stride) = lay.row(p0 + q);
            let m = row_max(x, base, stride, n, cap);
            let t = tgt[q];
            let xt = if t < n { capped(real::<R, T>(x[base + t * stride]), cap) } else { R::zero() };
            let [s, sx] = pairwise(0, n, &|c| {
                let v = capped(real::<R, T>(x[base + c * stride]), cap);
                [(v - m).exp(), if want.sx { weight::<R>(w, c) * (v - m) } else { R::zero() }]
            });
            let above = if want.rank && t < n {
                (0..n).filter(|&c| capped(real::<R, T>(x[base + c * stride]), cap) > xt).count()
            } else {
                0
            };
            *st = Stats { max: m, lse_rel: s.ln(), xt, sx, above };
        }
    }
}

impl<R: Real> Engine<R> for Scalar {
    fn class_grad<T: Element>(
        dst: &mut GradDst<'_, T, R>,
        lay: Layout,
        p0: usize,
        coef: &[Coef<R>],
        cap: Option<R>,
        w: Option<&[f32]>,
    ) {
        let n = lay.classes();
        for (q, k) in coef.iter().enumerate() {
            let (base, stride) = lay.row(p0 + q);
            let lp =
                |c: usize| (capped(real::<R, T>(dst.input()[base + c * stride]), cap) - k.max) - k.lse_rel;
            // `1 - p_t` from the other classes (`Coef::others`), before the row is written.
            let others = (k.others && k.t < n)
                .then(|| pairwise(0, n, &|c| [if c == k.t { R::zero() } else { lp(c).exp() }])[0]);
            for c in 0..n {
                let i = base + c * stride;
                let raw = real::<R, T>(dst.input()[i]);
                let v = capped(raw, cap);
                let lp = (v - k.max) - k.lse_rel;
                // w_c enters only through smoothing (k.c != 0): PyTorch's gradient never
                // reads another class's weight otherwise (a NaN there stays harmless).
                let cw = if k.c == R::zero() { R::zero() } else { k.c * weight::<R>(w, c) };
                let mut g = if c == k.t {
                    k.a * others.map_or_else(|| lp.expm1(), |s| -s) + (k.a - k.k) - cw
                } else {
                    k.a * lp.exp() - cw
                };
                if let Some(s) = cap {
                    g = g * sech2(raw / s);
                }
                match dst {
                    GradDst::Buffer { grad, .. } => grad[i] = g,
                    GradDst::InPlace(x) => x[i] = T::from_f32(g.to_f32()),
                }
            }
        }
    }

    fn soft_stats<T: Element, U: Element>(
        x: &[T],
        t: &[U],
        lay: Layout,
        p0: usize,
        eps: R,
        w: Option<&[f32]>,
        out: &mut [SoftStats<R>],
    ) {
        let n = lay.classes();
        let uni = if n > 0 { eps / R::from_usize(n) } else { R::zero() };
        for (q, st) in out.iter_mut().enumerate() {
            let (base, stride) = lay.row(p0 + q);
            let m = row_max(x, base, stride, n, None);
            let [s, swt, swtx] = pairwise(0, n, &|c| {
                let i = base + c * stride;
                let v = real::<R, T>(x[i]);
                let tc = real::<R, U>(t[i]) * (R::one() - eps) + uni;
                let wt = weight::<R>(w, c) * tc;
                [(v - m).exp(), wt, wt * (v - m)]
            });
            *st = SoftStats { max: m, lse_rel: s.ln(), swt, swtx };
        }
    }

    fn soft_grad<T: Element, U: Element>(
        dst: &mut GradDst<'_, T, R>,
        t: &[U],
        lay: Layout,
        p0: usize,
        coef: &[SoftCoef<R>],
        eps: R,
        w: Option<&[f32]>,
    ) {
        let n = lay.classes();
        let uni = if n > 0 { eps / R::from_usize(n) } else { R::zero() };
        for (q, k) in coef.iter().enumerate() {
            let (base, stride) = lay.row(p0 + q);
            for c in 0..n {
                let i = base + c * stride;
                let v = real::<R, T>(dst.input()[i]);
                let p = ((v - k.max) - k.lse_rel).exp();
                let tc = real::<R, U>(t[i]) * (R::one() - eps) + uni;
                let g = k.a * p - k.s * weight::<R>(w, c) * tc;
                match dst {
                    GradDst::Buffer { grad, .. } => grad[i] = g,
                    GradDst::InPlace(x) => x[i] = T::from_f32(g.to_f32()),
                }
            }
        }
    }

    fn normalize<T: Element>(x: &[T], lay: Layout, p0: usize, st: &[Stats<R>], log: bool, out: &mut [R]) {
        let n = lay.classes();
        for (q, s) in st.iter().enumerate() {
            let (base, stride) = lay.row(p0 + q);
            let lse_rel = s.lse_rel;
            for c in 0..n {
                let i = base + c * stride;
                let lp = (real::<R, T>(x[i]) - s.max) - lse_rel;
                out[i] = if log { lp } else { lp.exp() };
            }
        }
    }

    fn binary<T: Element>(
        kind: Binary<R>,
        x: &[T],
        y: &[T],
        i0: usize,
        w: Option<&[f32]>,
        pw: Option<&[f32]>,
        mut per: Option<&mut [R]>,
        mut grad: Option<(&mut [R], R)>,
    ) -> Result<R, Error> {
        if matches!(kind, Binary::Bce) {
            let out = |v: &[T]| <Self as Engine<R>>::first_outside_unit(v);
            bce_domain(x, y, i0, out(x), out(y))?;
        }
        let mut acc = R::zero();
        for j in 0..x.len() {
            let xi = real::<R, T>(x[j]);
            let yi = real::<R, T>(y[j]);
            let wi = w.map_or(R::one(), |w| R::from_f32(w[(i0 + j) % w.len()]));
            let (l, d) = match kind {
                Binary::Bce => bce(xi, yi),
                Binary::BceLogits => {
                    let pwi = pw.map(|p| R::from_f32(p[(i0 + j) % p.len()]));
                    bce_logits(xi, yi, pwi)
                }
                Binary::SigmoidFocal { alpha, gamma } => sigmoid_focal(xi, yi, alpha, gamma),
            };
            let l = l * wi;
            acc = acc + l;
            if let Some(per) = per.as_deref_mut() {
                per[j] = l;
            }
            if let Some((g, scale)) = grad.as_mut() {
                g[j] = d * wi * *scale;
            }
        }
        Ok(acc)
    }

    fn first_outside_unit<T: Element>(v: &[T]) -> Option<usize> {
        v.iter().position(|&e| {
            let f = e.to_f32();
            !(0.0..=1.0).contains(&f)
        })
    }
}

/// BCE loss and d/dp at one element (unweighted).
#[inline]
pub(crate) fn bce<R: Real>(p: R, y: R) -> (R, R) {
    let floor = R::from_f32(-100.0);
    let log1m = (-p).ln1p().max(floor);
    let logp = p.ln().max(floor);
    let l = (y - R::one()) * log1m - y * logp;
    let eps = R::from_f32(1e-12);
    let d = (p - y) / ((R::one() - p) * p).max(eps);
    (l, d)
}

/// BCE-with-logits loss and d/dx at one element (unweighted), with an optional pos_weight.
#[inline]
pub(crate) fn bce_logits<R: Real>(x: R, y: R, pw: Option<R>) -> (R, R) {
    let log_sig = x.min(R::zero()) - (-x.abs()).exp().ln1p();
    let sig = sigmoid(x);
    match pw {
        None => ((R::one() - y) * x - log_sig, sig - y),
        Some(pw) => {
            let lw = R::one() + (pw - R::one()) * y;
            // PyTorch's `(pw y + 1 - y) sigmoid(x) - pw y` without its cancellation;
            // `+ 0 t` keeps its NaN for an infinite `t`.
            let t = pw * y;
            let d = ((R::one() - y) * sig - t * sigmoid(-x)) + t * R::zero();
            ((R::one() - y) * x - lw * log_sig, d)
        }
    }
}

/// torchvision's sigmoid focal loss and d/dx at one element.
#[inline]
pub(crate) fn sigmoid_focal<R: Real>(x: R, y: R, alpha: R, gamma: R) -> (R, R) {
    let p = sigmoid(x);
    let q = sigmoid(-x); // 1 - p, without cancellation
    let ce = x.max(R::zero()) - x * y + (-x.abs()).exp().ln1p();
    let om = p * (R::one() - y) + q * y; // 1 - p_t
    let md = om.powf(gamma);
    let dmd = if gamma == R::zero() || om == R::zero() {
        R::zero()
    } else {
        // d(1 - p_t)/dx = -p q (2y - 1)
        gamma * om.powf(gamma - R::one()) * (-(p * q) * (y + y - R::one()))
    };
    let (mut l, mut d) = (ce * md, (p - y) * md + ce * dmd);
    if alpha >= R::zero() {
        let at = alpha * y + (R::one() - alpha) * (R::one() - y);
        l = l * at;
        d = d * at;
    }
    (l, d)
}
