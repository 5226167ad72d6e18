//! The element-wise binary losses (`binary_cross_entropy`, with logits, sigmoid focal):
//! one vector of losses and derivatives at a time, weights broadcast along the input.

use super::convert::{CONVERT_BLOCK, StackBlock, widen};
use super::lanes::{PREFETCH_BYTES, first_lanes};
use crate::engine::{Binary, Engine};
use crate::error::bce_domain;
use crate::scalar::kernels::Scalar;
use crate::simd::vector::{Vector, always, outline};
use crate::{Element, Error};

/// A weight broadcast over trailing blocks, read one vector at a time from element `i0`.
pub(crate) struct Broadcast<'a> {
    pub(crate) w: &'a [f32],
    pub(crate) j: usize,
}

impl<'a> Broadcast<'a> {
    pub(crate) fn new(w: &'a [f32], i0: usize) -> Self {
        Self { w, j: if w.is_empty() { 0 } else { i0 % w.len() } }
    }

    /// The next vector, `w[(i + l) % len]` for each lane.
    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn next<W: Vector>(&mut self) -> W {
        let len = self.w.len();
        let v = match len {
            0 => W::splat(0.0),
            1 => W::splat(self.w[0]),
            _ if self.j + W::LANES <= len => W::load_or(&self.w[self.j..], 0.0),
            _ => {
                let mut tmp = [0.0f32; 16];
                for (l, t) in tmp.iter_mut().take(W::LANES).enumerate() {
                    *t = self.w[(self.j + l) % len];
                }
                W::load_or(&tmp, 0.0)
            }
        };
        if len > 0 {
            self.j += W::LANES;
            self.j = if self.j >= len { self.j % len } else { self.j };
        }
        v
    }
}

/// What `ln(u)` lacks of `log1p(-p)` where `u = 1 - p` was rounded: `(-p - (u - 1)) / u`,
/// taken as `-p - (u - 1)`: the numerator is 0 unless `u` is in `(1/2, 1]`, where it is
/// below `2^-25`, so dropping `1 / u` errs by `2^-25 (1 - u) / u` at most, under `eps / 2`
/// relative to `|ln u| >= 1 - u` (and nothing as `u -> 1`). So `ln(1 - p)` keeps PyTorch's
/// `log1p` accuracy for tiny `p` without a division.
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn log1m_fix<W: Vector>(p: W, u: W) -> W {
    -p - (u - W::splat(1.0))
}

/// One vector of an element-wise loss: the (unweighted) losses and, when `WITH_GRAD`, their
/// derivatives with respect to the input. `pwv` is the pos_weight (1 without).
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn binary_vec<W: Vector, const WITH_GRAD: bool>(
    kind: Binary<f32>,
    hard: bool,
    xv: W,
    yv: W,
    pwv: Option<W>,
) -> (W, W) {
    let (zero, one) = (W::splat(0.0), W::splat(1.0));
    match kind {
        Binary::Bce if hard => {
            // Every target 0 or 1: `y ln p + (1 - y) ln(1 - p)` is the clamped log of one of
            // them (the other term is exactly 0 times a clamped, finite log): one log.
            let is1 = yv.eq(one);
            let u = one - xv;
            let lg = W::select(is1, xv, u).ln_full() + W::select(is1, zero, log1m_fix(xv, u));
            let l = -W::max_nan_b(W::splat(-100.0), lg);
            let d = if WITH_GRAD { (xv - yv) / W::max_nan_b(W::splat(1e-12), (one - xv) * xv) } else { zero };
            (l, d)
        }
        Binary::Bce => {
            let floor = W::splat(-100.0);
            let u = one - xv;
            let log1m = W::max_nan_b(floor, u.ln_fast() + log1m_fix(xv, u));
            let logp = W::max_nan_b(floor, xv.ln_full());
            let l = (yv - one) * log1m - yv * logp;
            let d = if WITH_GRAD { (xv - yv) / W::max_nan_b(W::splat(1e-12), (one - xv) * xv) } else { zero };
            (l, d)
        }
        Binary::BceLogits => {
            // `e <= 1`: the cheap exp's `(2 + |n| / 60) eps` relative is far inside the
            // loss's `8 eps (1 + |x| + |loss|)`.
            let e = (-xv.abs()).exp_le0_fast();
            let log_sig = W::min_nan_b(zero, xv) - e.log1p_unit();
            // sigmoid(x) and sigmoid(-x).
            let sig = always!(|_: ()| {
                let r = one / (one + e);
                let pos = xv.ge(zero);
                (W::select(pos, r, e * r), W::select(pos, e * r, r))
            });
            match pwv {
                None => ((one - yv) * xv - log_sig, if WITH_GRAD { sig(()).0 - yv } else { zero }),
                Some(pwv) => {
                    let lw = (pwv - one).mul_add(yv, one);
                    let l = (one - yv) * xv - lw * log_sig;
                    // PyTorch's (pw y + 1 - y) sigmoid(x) - pw y as (1 - y) sigmoid(x) -
                    // pw y sigmoid(-x): no cancellation; `+ 0 t` keeps its NaN for an infinite t.
                    let t = pwv * yv;
                    let d = always!(|_: ()| {
                        let (s, sm) = sig(());
                        t.mul_add(zero, (one - yv).mul_add(s, -(t * sm)))
                    });
                    (l, if WITH_GRAD { d(()) } else { zero })
                }
            }
        }
        Binary::SigmoidFocal { alpha, gamma } => {
            let e = (-xv.abs()).exp_le0_fast();
            let r = one / (one + e);
            let pos = xv.ge(zero);
            let (p, q) = (W::select(pos, r, e * r), W::select(pos, e * r, r));
            let ce = W::max_nan_b(zero, xv) - xv * yv + e.log1p_unit();
            let om = p * (one - yv) + q * yv; // 1 - p_t
            let md = if gamma == 0.0 { one } else { (W::splat(gamma) * om.ln_full()).exp_le0() };
            let mut l = ce * md;
            let mut d = zero;
            if WITH_GRAD {
                d = (p - yv) * md;
                if gamma == 0.0 {
                    // ce * 0, as the scalar path and autograd: NaN when ce is not finite.
                    d = ce.mul_add(zero, d);
                } else {
                    // d(1 - p_t)/dx = -p q (2y - 1); d md = gamma md / om * that (0 at om = 0).
                    let dom = -(p * q) * (yv + yv - one);
                    let safe = W::select(om.eq(zero), one, om);
                    let dmd = W::select(om.eq(zero), zero, W::splat(gamma) * md / safe * dom);
                    d = ce.mul_add(dmd, d);
                }
            }
            if alpha >= 0.0 {
                let at = W::splat(alpha) * yv + W::splat(1.0 - alpha) * (one - yv);
                l = l * at;
                d = d * at;
            }
            (l, d)
        }
    }
}

/// The running state of an element-wise loss over one block.
pub(crate) struct BinaryRun<'a, W> {
    pub(crate) kind: Binary<f32>,
    /// Whether the block's targets are all 0 or 1 (BCE's one-log path), when known for
    /// the whole call; each converted block tests its own otherwise.
    pub(crate) hard: Option<bool>,
    pub(crate) wb: Option<Broadcast<'a>>,
    pub(crate) pb: Option<Broadcast<'a>>,
    pub(crate) scale: W,
    pub(crate) acc: W,
    /// Whether the blocks are the caller's memory (f32), to be prefetched ahead.
    pub(crate) pf: bool,
}

impl<W: Vector> BinaryRun<'_, W> {
    /// One vector: loss and gradient, weighted, stored at `i` per the const flags; `valid`
    /// masks a padded tail out of the sum.
    #[allow(clippy::too_many_arguments)]
    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn vec<const PER_POSITION: bool, const WITH_GRAD: bool>(
        &mut self,
        f: impl Fn(W, W, Option<W>) -> (W, W),
        xv: W,
        yv: W,
        per: &mut [f32],
        grad: &mut [f32],
        valid: Option<W>,
    ) {
        let wv = self.wb.as_mut().map(
            #[cfg_attr(not(xent_opt0), inline(always))]
            |b| b.next::<W>(),
        );
        let pwv = self.pb.as_mut().map(
            #[cfg_attr(not(xent_opt0), inline(always))]
            |b| b.next::<W>(),
        );
        let (l, d) = f(xv, yv, pwv);
        let (l, d) = match wv {
            Some(wv) => (l * wv, d * wv),
            None => (l, d),
        };
        self.acc = self.acc
            + valid.map_or(
                l,
                #[cfg_attr(not(xent_opt0), inline(always))]
                |m| W::select(m, l, W::splat(0.0)),
            );
        if PER_POSITION {
            l.store(per);
        }
        if WITH_GRAD {
            (d * self.scale).store(grad);
        }
    }

    /// A block of f32 values starting at `off` of the outputs.
    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn block<const PER_POSITION: bool, const WITH_GRAD: bool>(
        &mut self,
        xf: &[f32],
        yf: &[f32],
        per: &mut [f32],
        grad: &mut [f32],
        off: usize,
    ) {
        let kind = self.kind;
        let hard = matches!(kind, Binary::Bce)
            && self.hard.unwrap_or_else(
                #[cfg_attr(not(xent_opt0), inline(always))]
                || {
                    let (ys, yt) = W::split(yf);
                    all_hard::<W>(ys, yt)
                },
            );
        // The loss chosen once per block, so each loop below is one loss's straight code
        // (a per-vector match on the kind kept every loss's branches in the loop).
        macro_rules! run {
            ($kind:expr, $hard:expr) => {
                self.lanes::<PER_POSITION, WITH_GRAD>(
                    #[cfg_attr(not(xent_opt0), inline(always))]
                    move |x, y, p| binary_vec::<W, WITH_GRAD>($kind, $hard, x, y, p),
                    xf,
                    yf,
                    per,
                    grad,
                    off,
                )
            };
        }
        match kind {
            Binary::Bce if hard => run!(Binary::Bce, true),
            Binary::Bce => run!(Binary::Bce, false),
            Binary::BceLogits => run!(Binary::BceLogits, false),
            // alpha and gamma by value: a closure holding the kind by reference reloaded
            // them every vector.
            Binary::SigmoidFocal { alpha, gamma } => run!(Binary::SigmoidFocal { alpha, gamma }, false),
        }
    }

    /// The vectors of a block through the loss `f`.
    #[allow(clippy::too_many_arguments)]
    #[cfg_attr(not(xent_opt0), inline(always))]
    pub(crate) fn lanes<const PER_POSITION: bool, const WITH_GRAD: bool>(
        &mut self,
        f: impl Fn(W, W, Option<W>) -> (W, W) + Copy,
        xf: &[f32],
        yf: &[f32],
        per: &mut [f32],
        grad: &mut [f32],
        off: usize,
    ) {
        let (xs, xt) = W::split(xf);
        let (ys, yt) = W::split(yf);
        let l = W::LANES;
        for (j, (a, b)) in xs.iter().zip(ys).enumerate() {
            if self.pf {
                // The engine is called a block at a time, whose first read is its domain
                // check: without this, that check stalls on memory with nothing to overlap.
                crate::simd::arch::prefetch::<true, _>(a, PREFETCH_BYTES);
                crate::simd::arch::prefetch::<true, _>(b, PREFETCH_BYTES);
            }
            let i = off + j * l;
            let p = if PER_POSITION { &mut per[i..i + l] } else { &mut [][..] };
            let g = if WITH_GRAD { &mut grad[i..i + l] } else { &mut [][..] };
            self.vec::<PER_POSITION, WITH_GRAD>(f, W::from_arr(a), W::from_arr(b), p, g, None);
        }
        if !xt.is_empty() {
            let i = off + xs.len() * l;
            let valid = first_lanes::<W>(xt.len());
            let p = if PER_POSITION { &mut per[i..] } else { &mut [][..] };
            let g = if WITH_GRAD { &mut grad[i..] } else { &mut [][..] };
            // Padding 0.5 keeps BCE's logs finite; the lanes are masked and not stored.
            self.vec::<PER_POSITION, WITH_GRAD>(
                f,
                W::load_or(xt, 0.5),
                W::load_or(yt, 0.5),
                p,
                g,
                Some(valid),
            );
        }
    }
}

/// Whether every value is exactly 0 or 1.
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn all_hard<W: Vector>(vecs: &[W::Arr], tail: &[f32]) -> bool {
    let (zero, one) = (W::splat(0.0), W::splat(1.0));
    let mut ok = one.eq(one);
    for a in vecs {
        let v = W::from_arr(a);
        ok = ok & (v.eq(zero) | v.eq(one));
    }
    ok.all_set()
        && tail.iter().all(
            #[cfg_attr(not(xent_opt0), inline(always))]
            |&v| v == 0.0 || v == 1.0,
        )
}

/// An element-wise loss over `x`, `y` (element `i0` of the whole input first): returns the
/// block's sum and, per the const flags, writes per-element losses and scaled gradients.
#[allow(clippy::too_many_arguments)]
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn binary_run<W: Vector, T: Element, const PER_POSITION: bool, const WITH_GRAD: bool>(
    kind: Binary<f32>,
    x: &[T],
    y: &[T],
    i0: usize,
    w: Option<&[f32]>,
    pw: Option<&[f32]>,
    per: &mut [f32],
    grad: &mut [f32],
    scale: f32,
) -> Result<f32, Error> {
    let mut hard = None;
    if matches!(kind, Binary::Bce) {
        // The domain check, with the 0/1 test of the targets first: targets all 0 or 1
        // are inside [0, 1] without a second scan, and the block's loop is told so.
        let yk = match T::as_f32(y) {
            Some(yf) => {
                let (ys, yt) = W::split(yf);
                hard = Some(all_hard::<W>(ys, yt));
                if hard == Some(true) { None } else { first_outside_unit::<W, T>(y) }
            }
            None => first_outside_unit::<W, T>(y),
        };
        bce_domain(x, y, i0, first_outside_unit::<W, T>(x), yk)?;
    }
    let mut st = BinaryRun {
        kind,
        hard,
        wb: w.map(
            #[cfg_attr(not(xent_opt0), inline(always))]
            |w| Broadcast::new(w, i0),
        ),
        pb: pw.map(
            #[cfg_attr(not(xent_opt0), inline(always))]
            |p| Broadcast::new(p, i0),
        ),
        scale: W::splat(scale),
        acc: W::splat(0.0),
        pf: T::as_f32(x).is_some(),
    };
    if matches!(kind, Binary::SigmoidFocal { .. }) && first_outside_unit::<W, T>(y).is_some() {
        // `(1 - p_t)^gamma` as `exp(gamma ln(1 - p_t))` needs `1 - p_t` in [0, 1], which a
        // target in [0, 1] guarantees; torchvision does not validate targets, so other
        // blocks take the scalar kernel's `powf`.
        let (per, grad) = (PER_POSITION.then_some(per), WITH_GRAD.then_some((grad, scale)));
        return Scalar::binary(kind, x, y, i0, w, pw, per, grad);
    }
    match (T::as_f32(x), T::as_f32(y)) {
        (Some(xf), Some(yf)) => st.block::<PER_POSITION, WITH_GRAD>(xf, yf, per, grad, 0),
        _ => {
            const HALF: usize = CONVERT_BLOCK / 2;
            let (mut xb, mut yb) = ([0.0f32; HALF], [0.0f32; HALF]);
            for (k, (xc, yc)) in x.chunks(HALF).zip(y.chunks(HALF)).enumerate() {
                widen::<W, T>(xc, &mut xb);
                widen::<W, T>(yc, &mut yb);
                st.block::<PER_POSITION, WITH_GRAD>(&xb[..xc.len()], &yb[..yc.len()], per, grad, k * HALF);
            }
        }
    }
    Ok(st.acc.reduce_add())
}

/// Index of the first value outside `[0, 1]` (NaN included): a whole-buffer vector test,
/// then the scalar scan only when something is outside.
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn first_outside_unit<W: Vector, T: Element>(v: &[T]) -> Option<usize> {
    outline!(W, first_outside_unit_in::<W, T>, (v))
}

/// [`first_outside_unit`]'s body.
#[cfg_attr(not(xent_opt0), inline(always))]
fn first_outside_unit_in<W: Vector, T: Element>(v: &[T]) -> Option<usize> {
    let (zero, one) = (W::splat(0.0), W::splat(1.0));
    let inside = always!(|f: &[f32]| {
        let (vecs, tail) = W::split(f);
        let mut ok = one.eq(one);
        for a in vecs {
            let x = W::from_arr(a);
            // NaN fails both comparisons.
            ok = ok & x.ge(zero) & one.ge(x);
        }
        ok.all_set()
            && tail.iter().all(
                #[cfg_attr(not(xent_opt0), inline(always))]
                |t| (0.0..=1.0).contains(t),
            )
    });
    let clean = match T::as_f32(v) {
        Some(f) => inside(f),
        None => {
            let mut buf = StackBlock::new();
            let buf = &mut buf.0;
            v.chunks(CONVERT_BLOCK).all(
                #[cfg_attr(not(xent_opt0), inline(always))]
                |ch| {
                    widen::<W, T>(ch, &mut buf[..ch.len()]);
                    inside(&buf[..ch.len()])
                },
            )
        }
    };
    if clean { None } else { <Scalar as Engine<f32>>::first_outside_unit(v) }
}
