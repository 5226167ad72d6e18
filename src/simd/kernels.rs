//! The SIMD kernels: the fast [`Engine`], twin by twin with `scalar/kernels.rs`.
//!
//! Every kernel is generic over [`Vector`] and instantiated with the build's [`V`]. Three
//! shapes of work:
//!
//! - **Rows** (`(N, C)` with C > [`SMALL_C`]): one read pass per row, blocked
//!   ([`row_sums_blocked`]): each block of [`SUB`] values takes one exp per element
//!   relative to the running maximum, tracking its own maximum in the same sweep (the
//!   row's first block, and any whose maximum passes the running one by more than
//!   [`SLACK`], take their maximum first: a second sweep over the L1-resident block), with
//!   `Σ w x` (label smoothing) and the rank of the target in the same sweep (in the
//!   maximum's read on 8-lane builds, whose exp sweep has no registers for them). Block sums
//!   enter the row's sum by a two-sum and rescales are done in f64, so the error bound holds
//!   at any row length. Soft-capped rows are capped a [`BUF`]-value stack block at a time and
//!   take the same kernel. The gradient pass recomputes `p = exp(lp)` once per element and
//!   writes `a*p - c*w` with the target slot fixed afterwards through `expm1`.
//! - **Columns** (channel-first `(N, C, d..)`): the `LANES` positions that are contiguous
//!   for each class are one vector: two sweeps over the classes (maximum and target logit,
//!   then one exp per logit), or, soft-capped, a per-lane online `(max, sum)`
//!   (`s = x > m ? s*e + 1 : s + e`) so the tanh runs once per logit.
//! - **Small C rows** (`C <=` [`SMALL_C`]): a tile of rows is transposed into a stack
//!   buffer and handled as columns, so a 10-class row costs a few vector ops, not a lane
//!   reduction.
//!
//! f16/bf16 inputs are converted into stack buffers of [`BUF`] f32 (1 KiB) or of one
//! vector; no kernel allocates, and no call uses more than 2 KiB of stack scratch.

use super::vector::{V, Vector};
use crate::engine::{
    Acc, Binary, Coef, Engine, F32_EXACT_C, GradDst, NO_TARGET, SoftCoef, SoftStats, Stats, TILE, Want,
    bce_domain, ce_sum_from_stats,
};
use crate::scalar::kernels::Scalar;
use crate::{Element, Error, Layout};
use wide::f32x8;

/// The SIMD engine (f32 arithmetic).
pub(crate) struct Simd;

/// f32 values per conversion block for f16/bf16 rows (1 KiB of stack).
const BUF: usize = 256;
/// Rows with at most this many classes are transposed and handled as columns.
const SMALL_C: usize = 16;
/// Column kernels compare class indices as f32 lanes: exact below 2^24 classes.
const COLUMN_MAX_C: usize = F32_EXACT_C;
/// A stack block of [`BUF`] f32 aligned to a cache line, so that no vector stored into it
/// or loaded from it straddles two lines.
#[repr(C, align(64))]
struct Block([f32; BUF]);

impl Block {
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn new() -> Self {
        Block([0.0; BUF])
    }
}

/// Lane indices, for tail masks.
const IOTA: [f32; 16] = [0., 1., 2., 3., 4., 5., 6., 7., 8., 9., 10., 11., 12., 13., 14., 15.];

/// Calls `f(offset, block)` over consecutive f32 blocks of `x`: `x` itself for f32,
/// converted stack blocks of [`BUF`] values otherwise.
#[cfg_attr(not(xent_opt0), inline(always))]
fn for_blocks<T: Element>(x: &[T], f: impl FnMut(usize, &[f32])) {
    match T::as_f32(x) {
        Some(r) => for_blocks_in(r, &mut [], f),
        None => for_blocks_in(x, &mut Block::new().0, f),
    }
}

/// [`for_blocks`] converting into the caller's `buf` of at least [`BUF`] values (unused,
/// and may be empty, when `T` is f32): a kernel called per block of a row takes the row's
/// buffer rather than zeroing one of its own each call (a `memset` call a block cost 15%
/// on f16 rows).
#[cfg_attr(not(xent_opt0), inline(always))]
fn for_blocks_in<T: Element>(x: &[T], buf: &mut [f32], mut f: impl FnMut(usize, &[f32])) {
    if let Some(r) = T::as_f32(x) {
        f(0, r);
        return;
    }
    blocks_widened(x, buf, T::load_block, |o, b, ()| f(o, b));
}

/// `x` (of any element type `U`) a [`BUF`]-value piece at a time: each piece prefetched
/// ahead, widened into `buf` by `load` (which may also return something taken on the way,
/// as [`widen_max`]'s lane maxima), then handed to `f` with its offset in `x`.
#[cfg_attr(not(xent_opt0), inline(always))]
fn blocks_widened<U, R>(
    x: &[U],
    buf: &mut [f32],
    mut load: impl FnMut(&[U], &mut [f32]) -> R,
    mut f: impl FnMut(usize, &[f32], R),
) {
    let mut off = 0;
    for ch in x.chunks(BUF) {
        // The conversion is this data's first read, and takes the sweep's prefetch.
        super::prefetch_ahead(ch, PREFETCH_BYTES);
        let b = &mut buf[..ch.len()];
        let r = load(ch, b);
        f(off, b, r);
        off += ch.len();
    }
}

/// `h` widened into `b` (of the same length), returning the lane maxima of its whole
/// vectors (NaN ignored on x86, as the maximum pass's; the values past them are `b`'s
/// tail, for [`BlockLse::block_max`]). Four chains, as the maximum pass.
#[cfg(all(target_arch = "x86_64", target_feature = "f16c"))]
#[cfg_attr(not(xent_opt0), inline(always))]
fn widen_max<W: Vector>(h: &[half::f16], b: &mut [f32]) -> W {
    let (hv, ht) = W::split_f16(h);
    let (bv, bt) = W::split_mut(b);
    let mut m = [W::splat(f32::NEG_INFINITY); 4];
    let (hq, hr) = hv.as_chunks::<4>();
    let (bq, br) = bv.as_chunks_mut::<4>();
    for (hq, bq) in hq.iter().zip(bq) {
        for j in 0..4 {
            let x = W::from_f16(&hq[j]);
            bq[j] = x.to_arr();
            m[j] = W::max_nan_b(x, m[j]);
        }
    }
    for (h, b) in hr.iter().zip(br) {
        let x = W::from_f16(h);
        *b = x.to_arr();
        m[0] = W::max_nan_b(x, m[0]);
    }
    for (d, v) in bt.iter_mut().zip(ht) {
        *d = v.to_f32();
    }
    W::max_nan_b(W::max_nan_b(m[0], m[1]), W::max_nan_b(m[2], m[3]))
}

/// The vector of `s[i..]` (padded with 0 past the end), converting from `U`.
#[cfg_attr(not(xent_opt0), inline(always))]
fn load_at<W: Vector, U: Element>(s: &[U], i: usize) -> W {
    let s = s.get(i..).unwrap_or(&[]);
    match U::as_f32(s) {
        Some(f) => W::load_or(f, 0.0),
        None => {
            let mut tmp = [0.0f32; 16];
            let n = s.len().min(W::LANES);
            U::load_block(&s[..n], &mut tmp[..n]);
            W::load_or(&tmp, 0.0)
        }
    }
}

/// A weight broadcast over trailing blocks, read one vector at a time from element `i0`.
struct Bcast<'a> {
    w: &'a [f32],
    j: usize,
}

impl<'a> Bcast<'a> {
    fn new(w: &'a [f32], i0: usize) -> Self {
        Self { w, j: if w.is_empty() { 0 } else { i0 % w.len() } }
    }

    /// The next vector, `w[(i + l) % len]` for each lane.
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn next<W: Vector>(&mut self) -> W {
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
fn log1m_fix<W: Vector>(p: W, u: W) -> W {
    -p - (u - W::splat(1.0))
}

/// One vector of an element-wise loss: the (unweighted) losses and, when `GRAD`, their
/// derivatives with respect to the input. `pwv` is the pos_weight (1 without).
#[cfg_attr(not(xent_opt0), inline(always))]
fn binary_vec<W: Vector, const GRAD: bool>(
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
            let d = if GRAD { (xv - yv) / W::max_nan_b(W::splat(1e-12), (one - xv) * xv) } else { zero };
            (l, d)
        }
        Binary::Bce => {
            let floor = W::splat(-100.0);
            let u = one - xv;
            let log1m = W::max_nan_b(floor, u.ln_fast() + log1m_fix(xv, u));
            let logp = W::max_nan_b(floor, xv.ln_full());
            let l = (yv - one) * log1m - yv * logp;
            let d = if GRAD { (xv - yv) / W::max_nan_b(W::splat(1e-12), (one - xv) * xv) } else { zero };
            (l, d)
        }
        Binary::BceLogits => {
            // `e <= 1`: the cheap exp's `(2 + |n| / 60) eps` relative is far inside the
            // loss's `8 eps (1 + |x| + |loss|)`.
            let e = (-xv.abs()).exp_le0_fast();
            let log_sig = W::min_nan_b(zero, xv) - e.log1p_unit();
            let sig = |_: ()| {
                let r = one / (one + e);
                W::select(xv.ge(zero), r, e * r)
            };
            match pwv {
                None => ((one - yv) * xv - log_sig, if GRAD { sig(()) - yv } else { zero }),
                Some(pwv) => {
                    let lw = (pwv - one).mul_add(yv, one);
                    let l = (one - yv) * xv - lw * log_sig;
                    // PyTorch's order, (pw y + 1 - y) sigmoid(x) - pw y: NaN for an infinite y.
                    let t = pwv * yv;
                    (l, if GRAD { (t + one - yv) * sig(()) - t } else { zero })
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
            if GRAD {
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
struct BinaryRun<'a, W> {
    kind: Binary<f32>,
    /// Whether the block's targets are all 0 or 1 (BCE's one-log path), when known for
    /// the whole call; each converted block tests its own otherwise.
    hard: Option<bool>,
    wb: Option<Bcast<'a>>,
    pb: Option<Bcast<'a>>,
    scale: W,
    acc: W,
    /// Whether the blocks are the caller's memory (f32), to be prefetched ahead.
    pf: bool,
}

impl<W: Vector> BinaryRun<'_, W> {
    /// One vector: loss and gradient, weighted, stored at `i` per the const flags; `valid`
    /// masks a padded tail out of the sum.
    #[allow(clippy::too_many_arguments)]
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn vec<const PER: bool, const GRAD: bool>(
        &mut self,
        f: impl Fn(W, W, Option<W>) -> (W, W),
        xv: W,
        yv: W,
        per: &mut [f32],
        grad: &mut [f32],
        valid: Option<W>,
    ) {
        let wv = self.wb.as_mut().map(|b| b.next::<W>());
        let pwv = self.pb.as_mut().map(|b| b.next::<W>());
        let (l, d) = f(xv, yv, pwv);
        let (l, d) = match wv {
            Some(wv) => (l * wv, d * wv),
            None => (l, d),
        };
        self.acc = self.acc + valid.map_or(l, |m| W::select(m, l, W::splat(0.0)));
        if PER {
            l.store(per);
        }
        if GRAD {
            (d * self.scale).store(grad);
        }
    }

    /// A block of f32 values starting at `off` of the outputs.
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn block<const PER: bool, const GRAD: bool>(
        &mut self,
        xf: &[f32],
        yf: &[f32],
        per: &mut [f32],
        grad: &mut [f32],
        off: usize,
    ) {
        let kind = self.kind;
        let hard = matches!(kind, Binary::Bce)
            && self.hard.unwrap_or_else(|| {
                let (ys, yt) = W::split(yf);
                all_hard::<W>(ys, yt)
            });
        // The loss chosen once per block, so each loop below is one loss's straight code
        // (a per-vector match on the kind kept every loss's branches in the loop).
        macro_rules! run {
            ($kind:expr, $hard:expr) => {
                self.lanes::<PER, GRAD>(
                    move |x, y, p| binary_vec::<W, GRAD>($kind, $hard, x, y, p),
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
            // alpha and gamma by value: a closure holding the kind by reference cost 12.7%
            // more instructions (AVX2).
            Binary::SigmoidFocal { alpha, gamma } => run!(Binary::SigmoidFocal { alpha, gamma }, false),
        }
    }

    /// The vectors of a block through the loss `f`.
    #[allow(clippy::too_many_arguments)]
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn lanes<const PER: bool, const GRAD: bool>(
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
                super::arch::prefetch::<true, _>(a, PREFETCH_BYTES);
                super::arch::prefetch::<true, _>(b, PREFETCH_BYTES);
            }
            let i = off + j * l;
            let p = if PER { &mut per[i..i + l] } else { &mut [][..] };
            let g = if GRAD { &mut grad[i..i + l] } else { &mut [][..] };
            self.vec::<PER, GRAD>(f, W::from_arr(a), W::from_arr(b), p, g, None);
        }
        if !xt.is_empty() {
            let i = off + xs.len() * l;
            let valid = first_lanes::<W>(xt.len());
            let p = if PER { &mut per[i..] } else { &mut [][..] };
            let g = if GRAD { &mut grad[i..] } else { &mut [][..] };
            // Padding 0.5 keeps BCE's logs finite; the lanes are masked and not stored.
            self.vec::<PER, GRAD>(f, W::load_or(xt, 0.5), W::load_or(yt, 0.5), p, g, Some(valid));
        }
    }
}

/// Whether every value is exactly 0 or 1.
#[cfg_attr(not(xent_opt0), inline(always))]
fn all_hard<W: Vector>(vecs: &[W::Arr], tail: &[f32]) -> bool {
    let (zero, one) = (W::splat(0.0), W::splat(1.0));
    let mut ok = one.eq(one);
    for a in vecs {
        let v = W::from_arr(a);
        ok = ok & (v.eq(zero) | v.eq(one));
    }
    ok.all_set() && tail.iter().all(|&v| v == 0.0 || v == 1.0)
}

/// An element-wise loss over `x`, `y` (element `i0` of the whole input first): returns the
/// block's sum and, per the const flags, writes per-element losses and scaled gradients.
#[allow(clippy::too_many_arguments)]
#[cfg_attr(not(xent_opt0), inline(always))]
fn binary_run<W: Vector, T: Element, const PER: bool, const GRAD: bool>(
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
                if hard == Some(true) { None } else { Simd::first_outside_unit(y) }
            }
            None => Simd::first_outside_unit(y),
        };
        bce_domain(x, y, i0, Simd::first_outside_unit(x), yk)?;
    }
    let mut st = BinaryRun {
        kind,
        hard,
        wb: w.map(|w| Bcast::new(w, i0)),
        pb: pw.map(|p| Bcast::new(p, i0)),
        scale: W::splat(scale),
        acc: W::splat(0.0),
        pf: T::as_f32(x).is_some(),
    };
    if matches!(kind, Binary::SigmoidFocal { .. }) && Simd::first_outside_unit(y).is_some() {
        // `(1 - p_t)^gamma` as `exp(gamma ln(1 - p_t))` needs `1 - p_t` in [0, 1], which a
        // target in [0, 1] guarantees; torchvision does not validate targets, so other
        // blocks take the scalar kernel's `powf`.
        let (per, grad) = (PER.then_some(per), GRAD.then_some((grad, scale)));
        return Scalar::binary(kind, x, y, i0, w, pw, per, grad);
    }
    match (T::as_f32(x), T::as_f32(y)) {
        (Some(xf), Some(yf)) => st.block::<PER, GRAD>(xf, yf, per, grad, 0),
        _ => {
            const HALF: usize = BUF / 2;
            let (mut xb, mut yb) = ([0.0f32; HALF], [0.0f32; HALF]);
            for (k, (xc, yc)) in x.chunks(HALF).zip(y.chunks(HALF)).enumerate() {
                T::load_block(xc, &mut xb);
                T::load_block(yc, &mut yb);
                st.block::<PER, GRAD>(&xb[..xc.len()], &yb[..yc.len()], per, grad, k * HALF);
            }
        }
    }
    Ok(st.acc.reduce_add())
}

/// Mask of the first `n` lanes.
#[cfg_attr(not(xent_opt0), inline(always))]
fn first_lanes<W: Vector>(n: usize) -> W {
    W::load_or(&IOTA, 0.0).lt(W::splat(n as f32))
}

/// `s * tanh(x / s)` and its derivative `1 - tanh(x / s)^2`.
#[cfg_attr(not(xent_opt0), inline(always))]
fn cap_v<W: Vector>(x: W, cap: f32) -> (W, W) {
    // Divide where 1 / cap is subnormal (cap above 2^126) or infinite (cap below
    // 1 / f32::MAX), instead of losing its precision or multiplying by infinity.
    let inv = 1.0 / cap;
    let y = if inv.is_normal() { x * W::splat(inv) } else { x / W::splat(cap) };
    let (th, sech2) = y.tanh_sech2();
    (th * W::splat(cap), sech2)
}

/// One value through [`cap_v`], so that a target logit is capped bit for bit as its row's
/// copy in the vector pass is (a `libm::tanhf` here would differ by an ulp, and for caps
/// near `f32::MAX` one ulp of `x'` is more than the row's whole softmax range).
#[inline]
fn cap_s<W: Vector>(x: f32, cap: Option<f32>) -> f32 {
    match cap {
        Some(s) => {
            let mut a = [0.0f32; 16];
            cap_v(W::splat(x), s).0.to_lanes(&mut a);
            a[0]
        }
        None => x,
    }
}

/// Per-lane online log-sum-exp state: `s = Σ exp(x - m)` over the values seen by a lane.
/// `m` starts at `-f32::MAX`, so `-inf` values (and padding) add exactly 0 and never
/// produce `-inf - -inf`.
#[derive(Copy, Clone)]
struct Lse<W> {
    m: W,
    s: W,
}

impl<W: Vector> Lse<W> {
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn new() -> Self {
        Self { m: W::splat(-f32::MAX), s: W::splat(0.0) }
    }

    /// One exp per element; NaN makes the lane's sum NaN.
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn push(&mut self, x: W) {
        let d = x - self.m;
        let up = d.gt(W::splat(0.0));
        let e = (-d.abs()).exp_le0();
        self.s = W::select(up, self.s.mul_add(e, W::splat(1.0)), self.s + e);
        self.m = W::select(up, x, self.m);
    }

    /// The sum `s`, NaN in the lanes of PyTorch's special rows (as [`fix_special`]): every
    /// logit `-inf` (`s == 0`) or a `+inf` maximum.
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn sum_nan_special(&self) -> W {
        let bad = self.s.eq(W::splat(0.0)) | self.m.eq(W::splat(f32::INFINITY));
        W::select(bad, W::splat(f32::NAN), self.s)
    }
}

/// PyTorch's special rows: `(max, sum)` of a non-empty row whose sum is 0 (every logit
/// `-inf`) or whose max is `+inf` gives NaN, as `x - max` does there.
#[cfg_attr(not(xent_opt0), inline(always))]
fn fix_special(classes: usize, m: f32, s: f32) -> (f32, f32) {
    if classes == 0 {
        (f32::NEG_INFINITY, 0.0)
    } else if s == 0.0 {
        (f32::NEG_INFINITY, f32::NAN)
    } else if m == f32::INFINITY {
        (m, f32::NAN)
    } else {
        (m, s)
    }
}

/// Elements per block of the blocked log-sum-exp (4 KiB of f32, L1-resident).
const SUB: usize = 1024;
/// How far ahead of each pair of vectors the row sweep ([`BlockLse::sweep_pairs`]) asks for
/// its input ([`arch::prefetch`](super::arch::prefetch), into L1). On the Intel Xeon of
/// docs/BENCHMARKS.md, v4, rows of 32000 f32 from L3 (`bench_report`, 5 alternating runs,
/// into L2 then): the forward 0.33-0.43 -> 0.174 ns/logit (this host's memory has a fast
/// and a slow mode from run to run; in the fast one, about 0.25 -> 0.155); rows of 128256
/// 0.169 -> 0.158, f16 0.166 -> 0.159. Into L1 rather than L2 (scratch crate, three alternations): forward 0.211-0.222
/// -> 0.187-0.192, smoothing 0.221-0.226 -> 0.195-0.201; 16 KiB ahead no better than 8.
/// Rows held in L2 pay nothing measurable (0.131-0.135 without, 0.129-0.133 with). Not in
/// the two-row loop of rows of at most [`SUB`] once (C = 1000: 0.195 -> 0.206 with it, on a
/// quiet host); measured again on a loaded one (`n8192_c1000`, 6 alternations), its
/// prefetch of the row after next took xent/floor 1.70-1.78 -> 1.36-1.72 (ns/logit
/// 0.343-0.386 -> 0.277-0.381), and in L2 (64 rows) nothing: 0.182-0.202 against
/// 0.189-0.248. It is in [`BlockLse::sweep_ahead`] now.
const PREFETCH_BYTES: usize = 8192;

/// `acc + exp(t)` for `t <= 4` ([`Vector::exp_parts_sum`]), the scale and the add in one
/// FMA; no flush to 0 (terms below `exp(-87.3)` are tiny positive values, which vanish in
/// a sum anyway).
#[cfg_attr(not(xent_opt0), inline(always))]
fn add_exp<W: Vector>(acc: W, t: W) -> W {
    let t = W::max_nan_b(W::splat(-87.3), t);
    let (e, scale) = t.exp_parts_sum();
    e.mul_add(scale, acc)
}

/// [`add_exp`] for any `t`, its argument clamped to `[-87.3, 87.3]` by
/// [`Vector::clamp_exp_arg`] (one instruction where [`Vector::CLAMPS_HIGH`], as the lower
/// clamp alone): every term finite, `exp(min(t, 87.3))` within the same relative bound, so
/// a term above `e^4` (`+inf` too) shows in the sum. A NaN `t` may add a finite term
/// (`vrangeps` takes a quiet NaN as missing): the caller finds NaN itself.
#[cfg_attr(not(xent_opt0), inline(always))]
fn add_exp_hi<W: Vector>(acc: W, t: W) -> W {
    let (e, scale) = t.clamp_exp_arg().exp_parts_sum();
    e.mul_add(scale, acc)
}

/// [`add_exp`] from `x` itself: `acc + exp(x - J ln2)` by
/// [`Vector::exp_parts_sum_poly_at`], `x` first raised to `lo` (NaN kept), with
/// `(magic, lo)` of an [`XRef`]. No `x - m` a vector.
#[cfg_attr(not(xent_opt0), inline(always))]
fn add_exp_at<W: Vector>(acc: W, x: W, (magic, lo): (W, W)) -> W {
    let (e, scale) = W::max_nan_b(lo, x).exp_parts_sum_poly_at(magic);
    e.mul_add(scale, acc)
}

/// The reference of [`add_exp_at`]'s terms for a running maximum `m`: `J = round(m / ln2)`,
/// so the terms are `exp(x - M)`, `M = J ln2` (`ln2` rounded to f32; exact in f64), and
/// `c = exp(M - m)` (in `[0.70, 1.42]`, as `c_hi + c_lo`) puts a block's sum back relative
/// to `m`. Made once for each maximum of a row (a `round` and an `exp` in f64).
#[cfg(all(target_arch = "x86_64", target_feature = "f16c"))]
#[derive(Clone, Copy)]
struct XRef {
    /// The running maximum it was made for (NaN: none yet).
    m: f32,
    /// `EXP_MAGIC - J`.
    magic: f32,
    /// `M - 87`, where the terms are floored (`2^(n - J)` stays a normal number).
    lo: f32,
    c_hi: f32,
    c_lo: f32,
}

#[cfg(all(target_arch = "x86_64", target_feature = "f16c"))]
impl XRef {
    const NONE: Self = Self { m: f32::NAN, magic: 0.0, lo: 0.0, c_hi: 0.0, c_lo: 0.0 };

    /// For a finite `m` within the f16 range (`|J| < 2^17`, so `EXP_MAGIC - J` and
    /// `J ln2` are exact); any other `m` gives NaN sums (a row whose maximum is `+inf` is
    /// NaN anyway).
    fn new(m: f32) -> Self {
        let ln2 = f64::from(core::f32::consts::LN_2);
        let j = libm::round(f64::from(m) / ln2);
        // NaN for a NaN or infinite `m` too.
        if j.is_nan() || j.abs() >= 131_072.0 {
            return Self { m, magic: f32::NAN, lo: f32::NAN, c_hi: f32::NAN, c_lo: f32::NAN };
        }
        let big_m = j * ln2;
        let c = libm::exp(big_m - f64::from(m));
        let c_hi = c as f32;
        Self {
            m,
            magic: super::vector::EXP_MAGIC - j as f32,
            lo: (big_m - 87.0) as f32,
            c_hi,
            c_lo: (c - f64::from(c_hi)) as f32,
        }
    }
}

/// `(s + comp) * scale`, `scale = exp(m_old - m_new)`, multiplied in f64 and split back
/// into `s + comp`: at most once per block, with neither the scale's nor the product's
/// rounding, which a row whose maximum creeps up block after block (thousands of rescales
/// by the same factor) would otherwise pile up with one sign.
#[cold]
#[inline(never)]
fn rescale<W: Vector>(s: W, comp: W, scale: f64) -> (W, W) {
    let (mut a, mut c) = ([0.0f32; 16], [0.0f32; 16]);
    s.to_lanes(&mut a);
    comp.to_lanes(&mut c);
    for (a, c) in a.iter_mut().zip(c.iter_mut()).take(W::LANES) {
        let v = (f64::from(*a) + f64::from(*c)) * scale;
        *a = v as f32;
        *c = (v - f64::from(*a)) as f32;
    }
    (W::load_or(&a, 0.0), W::load_or(&c, 0.0))
}

/// The state of the blocked log-sum-exp of one row (see [`row_sums_blocked`]).
struct BlockLse<W> {
    /// Running maximum.
    m: f32,
    /// `Σ exp(x - m)` over the blocks seen, per lane, and the rounding errors of adding
    /// each block to it (a two-sum): a row of many blocks whose block sums all round the
    /// same way stays within the bound at any length.
    s: W,
    comp: W,
    /// `Σ w (x - m)` over the values seen, relative to the running maximum `m`.
    sx: f32,
    /// `Σ w` over the values in `sx`.
    wseen: f32,
    /// Count of values above the target's.
    cnt: W,
    /// A block's maximum was NaN (backends whose max propagates NaN).
    nan: bool,
    xtv: W,
    /// [`add_exp_at`]'s reference for `m`, made when an f16 sweep first needs it.
    #[cfg(all(target_arch = "x86_64", target_feature = "f16c"))]
    xref: core::cell::Cell<XRef>,
}

/// A block's sums relative to a reference maximum (see [`BlockLse::sweep`]).
struct BlockSums<W> {
    /// `Σ exp(x - m)`, in two accumulators.
    a0: W,
    a1: W,
    /// `Σ w (x - m)` and `Σ w` (label smoothing).
    bx: W,
    ws: W,
    /// Count of values above the target's.
    bc: W,
    /// The block's maximum per lane, when tracked (NaN ignored on x86, as in the maximum
    /// pass); `-inf` otherwise.
    max: W,
}

impl<W: Vector> BlockSums<W> {
    /// Every sum 0, the maximum `-inf`.
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn zero() -> Self {
        let zero = W::splat(0.0);
        Self { a0: zero, a1: zero, bx: zero, ws: zero, bc: zero, max: W::splat(f32::NEG_INFINITY) }
    }
}

/// [`BlockSums`] while a sweep runs ([`BlockLse::sweep_pairs`]): `Σ w (x - m)` in two
/// chains.
#[derive(Clone, Copy)]
struct PairAcc<W> {
    a0: W,
    a1: W,
    bx: W,
    bx1: W,
    ws: W,
    bc: W,
    mx: W,
}

/// How far (in log space) a block's maximum may pass the running maximum and still have
/// its exps taken relative to the old one: terms up to `e^4`, `|n| <= 6` in
/// [`Vector::exp_parts_sum`]'s bound. Past it the block is swept again.
const SLACK: f32 = 4.0;

/// `e^SLACK` (rounded down): a block's lane sums within it show that none of its terms
/// passed `e^SLACK` ([`BlockLse::feed`] where [`Vector::CLAMPS_HIGH`]).
const SUM_LIM: f32 = 54.598;

impl<W: Vector> BlockLse<W> {
    /// Marks the row NaN where a block's maximum `bm` (from [`Self::scan`]) shows a NaN,
    /// or may hide one: x86's vector maximum ignores NaN, so an all-`-inf` maximum may be
    /// a block of NaN and `-inf` only.
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn note_nan(&mut self, sub: &[f32], bm: f32) {
        if bm.is_nan() || (bm == f32::NEG_INFINITY && sub.iter().any(|v| v.is_nan())) {
            self.nan = true;
        }
    }

    /// A row's state before its first block; `xt` is the target's logit (for the rank).
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn new(xt: f32) -> Self {
        let zero = W::splat(0.0);
        Self {
            m: f32::NEG_INFINITY,
            s: zero,
            comp: zero,
            sx: 0.0,
            wseen: 0.0,
            cnt: zero,
            nan: false,
            xtv: W::splat(xt),
            #[cfg(all(target_arch = "x86_64", target_feature = "f16c"))]
            xref: core::cell::Cell::new(XRef::NONE),
        }
    }

    /// The row's statistics once every block is in: `n` values, target `t`. The sum, not
    /// yet its log: callers take the logs of many rows in one vector.
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn finish<const SX: bool, const RANK: bool>(self, n: usize, t: usize, xt: f32) -> Stats<f32> {
        let s = if self.nan { f32::NAN } else { (self.s + self.comp).reduce_add() };
        let (max, sum) = fix_special(n, self.m, s);
        let sx = if SX { self.sx } else { 0.0 };
        let above = if RANK && t < n { self.cnt.reduce_add() as usize } else { 0 };
        Stats { max, lse_rel: sum, xt, sx, above }
    }

    /// The maximum of `x`, taken as [`Self::scan`] takes it, by a fresh state: `x` is
    /// another row's (the next one's), which this row's running maximum says nothing of
    /// (a scan by `self` may return that maximum for a block below it).
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn max_of(x: &[f32]) -> f32 {
        Self::new(0.0).scan::<false, false>(x, 0, None).0
    }

    /// [`Self::feed`]'s first block without smoothing or rank, its maximum `bm` already
    /// taken (by the previous row's sweep or a [`Self::scan`]); returns the maximum of
    /// `ahead` (the next row, or empty), taken the way [`Self::scan`] takes it.
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn feed_ahead(&mut self, sub: &[f32], bm: f32, ahead: &[f32]) -> f32 {
        self.note_nan(sub, bm);
        if bm == f32::NEG_INFINITY || bm.is_nan() {
            self.special::<false, false>(sub, 0, None);
            return Self::max_of(ahead);
        }
        self.raise::<false>(bm);
        let (b, next) = self.sweep_ahead(sub, ahead);
        self.accept::<false>(b, sub.len(), false);
        next
    }

    /// The plain sweep of `sub` (as [`Self::sweep_into`] without smoothing, rank or
    /// maximum) with, in the same loop, the lane maxima of `ahead` over the same
    /// positions; the rest of `ahead` (past the last pair of whole vectors, or all of it
    /// when its length differs) through [`Self::scan`]. Returns the sums and `ahead`'s
    /// maximum (NaN ignored on x86, as the scan's).
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn sweep_ahead(&self, sub: &[f32], ahead: &[f32]) -> (BlockSums<W>, f32) {
        let (zero, ninf) = (W::splat(0.0), W::splat(f32::NEG_INFINITY));
        let mut b = BlockSums { a0: zero, a1: zero, bx: zero, ws: zero, bc: zero, max: ninf };
        let (pairs, _) = W::split(sub).0.as_chunks::<2>();
        let fused = if ahead.len() == sub.len() { pairs.len() } else { 0 };
        let (apairs, _) = W::split(ahead).0.as_chunks::<2>();
        let (mut a0, mut a1, mut mx) = (zero, zero, ninf);
        let mv = W::splat(self.m);
        for (p, q) in pairs[..fused].iter().zip(&apairs[..fused]) {
            // `ahead` is the next row, read here first: ask for the one after it.
            super::arch::prefetch::<true, _>(q, PREFETCH_BYTES);
            a0 = add_exp(a0, W::from_arr(&p[0]) - mv);
            a1 = add_exp(a1, W::from_arr(&p[1]) - mv);
            mx = W::max_nan_b(W::max_nan_b(W::from_arr(&q[0]), W::from_arr(&q[1])), mx);
        }
        let (l, n) = (W::LANES, sub.len());
        let mut done = fused * 2 * l;
        if fused > 0 && W::ONE_SWEEP {
            // The rest in the same loop's terms: an odd whole vector, then the last `l`
            // values as one vector overlapping the one before (the repeated lanes masked
            // off the sum; a repeated value does not move a maximum). Through `sweep_into`
            // and `scan` these were two scalar tails: on v4 rows of 1000 went 0.218 ->
            // 0.198 ns/logit. Only where the sweep's registers fit (`ONE_SWEEP`, AVX-512's
            // 32): on AVX2 the same code ran 16% slower and moved the register allocation
            // of unrelated row loops (label smoothing +10% instructions).
            if done + l <= n {
                a0 = add_exp(a0, W::load_or(&sub[done..], 0.0) - mv);
                mx = W::max_nan_b(W::load_or(&ahead[done..], 0.0), mx);
                done += l;
            }
            if done < n {
                let keep = W::load_or(&IOTA, 0.0).ge(W::splat((l - (n - done)) as f32));
                let x = W::load_or(&sub[n - l..], 0.0);
                a1 = a1 + W::select(keep, add_exp(zero, x - mv), zero);
                mx = W::max_nan_b(W::load_or(&ahead[n - l..], 0.0), mx);
                done = n;
            }
        }
        (b.a0, b.a1) = (a0, a1);
        self.sweep_into::<false, false, false, false, true>(&mut b, &sub[done..], done, None);
        let rest = Self::max_of(&ahead[done.min(ahead.len())..]);
        let head = hmax(mx);
        (b, if rest.is_nan() || rest > head { rest } else { head })
    }

    /// The two sweeps of [`Self::feed`] over an f32 block: its maximum (or `scanned`, the
    /// maximum already taken, for the plain sweep), then the exps.
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn feed_f32<const SX: bool, const RANK: bool, const PF: bool>(
        &mut self,
        sub: &[f32],
        off: usize,
        w: Option<&[f32]>,
        buf: &mut [f32],
        scanned: Option<f32>,
    ) {
        // Two-sweep builds take `Σ w (x - m)` and the rank in the maximum's read once
        // the running maximum is known, so the exp sweep keeps AVX2's 16 registers for
        // the exp (v3 label smoothing: 19% fewer instructions with the folded exp bias,
        // 1.24x -> 1.20x the plain forward's time; docs/BENCHMARKS.md).
        // A maximum taken beforehand serves the plain sweep only: with smoothing or the
        // rank the maximum's read also takes the side sums.
        debug_assert!(scanned.is_none() || (!SX && !RANK));
        let early = (SX || RANK) && !W::ONE_SWEEP;
        if early && self.m == f32::NEG_INFINITY && !self.first_max::<SX, RANK>(sub, off, w) {
            return;
        }
        let (bm, side) = match scanned {
            Some(bm) if !SX && !RANK => (bm, BlockSums::zero()),
            _ if early => self.scan::<SX, RANK>(sub, off, w),
            _ => self.scan::<false, false>(sub, off, w),
        };
        if early {
            // Relative to the old maximum, as the row's sums are; `raise` re-centres
            // them all.
            self.accept::<SX>(side, sub.len(), w.is_some());
        }
        // A NaN maximum: the row's sum is NaN; the block still counts for Σ w x and
        // the rank.
        self.note_nan(sub, bm);
        if bm == f32::NEG_INFINITY || bm.is_nan() {
            if !early {
                self.special::<SX, RANK>(sub, off, w);
            }
            return;
        }
        self.raise::<SX>(bm);
        if early {
            let b = self.sweep::<f32, false, false, false, false, PF>(sub, off, w, buf);
            self.accept::<false>(b, sub.len(), w.is_some());
        } else {
            let b = self.sweep::<f32, SX, RANK, false, false, PF>(sub, off, w, buf);
            self.accept::<SX>(b, sub.len(), w.is_some());
        }
    }

    /// A row's first block in a two-sweep build with side sums ([`Self::feed_f32`]): there
    /// is no running maximum yet for the side sums to be taken relative to, so the block's
    /// maximum is read first, in a read of its own, and made the running maximum. Taken in
    /// the exp sweep instead, the side sums' accumulators went through memory on AVX2 (a
    /// store and a reload each, every pair of vectors): v3 label smoothing in L2 (4 x
    /// 32000) 0.268-0.270 -> 0.262-0.264 ns/logit, 4 alternations. Returns false, the block done, when its
    /// maximum is `-inf` or NaN ([`Self::special`]). Its own function: unoptimised, its
    /// temporaries stay out of the caller's frame.
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn first_max<const SX: bool, const RANK: bool>(
        &mut self,
        sub: &[f32],
        off: usize,
        w: Option<&[f32]>,
    ) -> bool {
        let bm = self.scan::<false, false>(sub, off, w).0;
        if bm == f32::NEG_INFINITY || bm.is_nan() {
            self.note_nan(sub, bm);
            self.special::<SX, RANK>(sub, off, w);
            return false;
        }
        self.raise::<SX>(bm);
        true
    }

    /// Adds one block of at most [`SUB`] values, starting at class `off`. The first block
    /// of a row (no running maximum yet), and every block where [`Vector::ONE_SWEEP`] is
    /// false, takes its maximum in a sweep of its own; every later one is a single sweep:
    /// exps relative to the running maximum, tracking the block's own maximum on the way
    /// (f32 blocks where [`Vector::CLAMPS_HIGH`]: reading it only when the block's sums
    /// show a term above `e^SLACK`), then a rescale if it grew. A block whose maximum
    /// passes the running one by more
    /// than [`SLACK`] is swept again relative to it (rows whose maximum climbs steeply pay
    /// two sweeps a block, as every block once did). `PF`: `sub` is the caller's memory,
    /// its sweeps prefetch ahead ([`Self::sweep_pairs`]).
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn feed<T: Element, const SX: bool, const RANK: bool, const PF: bool>(
        &mut self,
        sub: &[T],
        off: usize,
        w: Option<&[f32]>,
        buf: &mut [f32],
    ) {
        if !W::ONE_SWEEP || self.m == f32::NEG_INFINITY {
            let Some(sub) = T::as_f32(sub) else {
                // The plain two-sweep f16 forward: each piece's maximum taken as it is
                // converted (no maximum pass over the buffer).
                #[cfg(all(target_arch = "x86_64", target_feature = "f16c"))]
                if !W::ONE_SWEEP
                    && !SX
                    && !RANK
                    && let Some(h) = T::as_f16(sub)
                {
                    blocks_widened(h, buf, widen_max::<W>, |o, b, mx| {
                        let bm = self.block_max(mx, W::split(b).1);
                        self.feed_f32::<false, false, false>(b, off + o, w, &mut [], Some(bm));
                    });
                    return;
                }
                // Converted [`BUF`] values at a time, each fed as an f32 block: a maximum
                // pass and a sweep over the same stack buffer, one conversion.
                for_blocks_in(sub, buf, |o, blk| self.feed::<f32, SX, RANK, false>(blk, off + o, w, &mut []));
                return;
            };
            self.feed_f32::<SX, RANK, PF>(sub, off, w, buf, None);
            return;
        }
        let (b, bm) = match T::as_f32(sub) {
            // f32 blocks where the sums' exp clamps both ends of its argument
            // (`CLAMPS_HIGH`: any `t > 4` adds a finite term above `e^4`, `+inf` too):
            // no maximum on the way. A lane adds at most `SUB / (2 LANES) + 1` terms, each
            // at most 1 while no value passes the running maximum, so lane sums within
            // `e^SLACK` mean no term passed `e^SLACK` (nor was NaN): the block is taken
            // relative to the old maximum, as a tracked block within `SLACK` is. Otherwise
            // (a new maximum, a NaN, or many values a little above a maximum the row has
            // passed) its maximum is read, and it goes on as a tracked block would: one
            // instruction a vector fewer (v4 in L2, 4 x 32000: the forward 0.151 -> 0.137
            // ns/logit, smoothing 0.163 -> 0.152).
            Some(s32) if W::CLAMPS_HIGH => {
                let b = self.sweep::<f32, SX, RANK, false, true, PF>(s32, off, w, buf);
                let lim = W::splat(SUM_LIM);
                if (lim.ge(b.a0) & lim.ge(b.a1)).all_set() {
                    self.accept::<SX>(b, sub.len(), w.is_some());
                    return;
                }
                // The clamp takes a quiet NaN for a finite value: a NaN is looked for here
                // (any NaN fails the test above, as its term is `e^87.3` or NaN).
                if s32.iter().fold(false, |a, v| a | v.is_nan()) {
                    self.nan = true;
                }
                let bm = self.scan::<false, false>(s32, off, w).0;
                if bm > self.m + SLACK {
                    self.raise::<SX>(bm);
                    let b = self.sweep::<f32, SX, RANK, false, true, PF>(s32, off, w, buf);
                    self.accept::<SX>(b, sub.len(), w.is_some());
                    return;
                }
                (b, bm)
            }
            _ => {
                let b = self.sweep::<T, SX, RANK, true, false, PF>(sub, off, w, buf);
                // Nothing above the running maximum (nor a NaN lane): `block_max` returns
                // that maximum without the lane reduction, and the block is accepted as it
                // is (the `raise` below does nothing).
                let bm = self.block_max(b.max, &[]);
                (b, bm)
            }
        };
        if bm > self.m + SLACK {
            self.raise::<SX>(bm);
            let b = self.sweep::<T, SX, RANK, false, false, PF>(sub, off, w, buf);
            self.accept::<SX>(b, sub.len(), w.is_some());
        } else {
            if bm.is_nan() {
                self.nan = true;
            }
            self.accept::<SX>(b, sub.len(), w.is_some());
            // The block's terms were taken relative to the old maximum: rescaled with the
            // rest, and Σ w (x - m) re-centred with them.
            self.raise::<SX>(bm);
        }
    }

    /// The maximum of a block (NaN ignored on x86, propagated elsewhere) and, with `SX` or
    /// `RANK`, the block's side sums in the same read: `Σ w (x - m)` relative to the
    /// running maximum `m` (finite), `Σ w`, and the count of values above the target's
    /// (the exps are left 0).
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn scan<const SX: bool, const RANK: bool>(
        &self,
        sub: &[f32],
        off: usize,
        w: Option<&[f32]>,
    ) -> (f32, BlockSums<W>) {
        // The weighted and unweighted loops apart: a weight check inside the loop kept
        // LLVM from unswitching it, and every accumulator went through memory.
        match w {
            Some(w) if SX => self.scan_w::<SX, RANK, true, false>(sub, &w[off..off + sub.len()]),
            _ if SX => {
                let r = self.scan_w::<SX, RANK, false, true>(sub, &[]);
                if r.1.bx.reduce_add().is_finite() { r } else { self.scan_exact::<RANK>(sub) }
            }
            _ => self.scan_w::<SX, RANK, false, false>(sub, &[]),
        }
    }

    /// [`Self::scan`] of a block whose quick unweighted `Σ (x - m)` (`RAW`) came out
    /// infinite or NaN: again with one subtraction per value, which overflows only where
    /// the sum itself does (a row of logits past `f32::MAX / 4`, or an infinity or NaN,
    /// whose sum is the same either way).
    #[cold]
    #[inline(never)]
    fn scan_exact<const RANK: bool>(&self, sub: &[f32]) -> (f32, BlockSums<W>) {
        self.scan_w::<true, RANK, false, false>(sub, &[])
    }

    /// [`Self::scan`] with the block's weights `w` (`WT`) or none. With `RAW` (unweighted
    /// only) a quad of vectors adds `(x0 + x1) + (x2 + x3) - 4m` to `Σ (x - m)`: five adds
    /// per four vectors rather than eight beside the four maxima (AVX2 label smoothing,
    /// where this read pass carries the sum, ran 1.2x the plain forward's time). Each value
    /// then carries a rounding of up to `eps M` (`M` the block's largest `|x|`) rather than
    /// of `eps |x - m|`; the smoothing bound's `6 M sqrt(C)` term holds it. The raw sums
    /// overflow for `|x|` past `f32::MAX / 4`: [`Self::scan`] then takes the block again
    /// without `RAW`.
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn scan_w<const SX: bool, const RANK: bool, const WT: bool, const RAW: bool>(
        &self,
        sub: &[f32],
        w: &[f32],
    ) -> (f32, BlockSums<W>) {
        let l = W::LANES;
        let (zero, one) = (W::splat(0.0), W::splat(1.0));
        let (vecs, tail) = W::split(sub);
        let ninf = W::splat(f32::NEG_INFINITY);
        let (mv, xtv) = (W::splat(self.m), self.xtv);
        let mv4 = W::splat(4.0 * self.m);
        let (quads, rest) = vecs.as_chunks::<4>();
        let (wvecs, _) = W::split(w);
        let (wquads, wrest) = wvecs.as_chunks::<4>();
        let (wquads, wrest) =
            if WT { (&wquads[..quads.len()], &wrest[..rest.len()]) } else { (wquads, wrest) };
        let (mut m0, mut m1, mut m2, mut m3) = (ninf, ninf, ninf, ninf);
        // Two chains for Σ w (x - m), alternating by vector: each lane adds at most
        // `SUB / (2 LANES)` terms of a block, as in the sweep.
        let (mut bx0, mut bx1, mut ws, mut bc) = (zero, zero, zero, zero);
        for (k, q) in quads.iter().enumerate() {
            let x = [W::from_arr(&q[0]), W::from_arr(&q[1]), W::from_arr(&q[2]), W::from_arr(&q[3])];
            m0 = W::max_nan_b(x[0], m0);
            m1 = W::max_nan_b(x[1], m1);
            m2 = W::max_nan_b(x[2], m2);
            m3 = W::max_nan_b(x[3], m3);
            if SX && WT {
                let wq = &wquads[k];
                let wq = [W::from_arr(&wq[0]), W::from_arr(&wq[1]), W::from_arr(&wq[2]), W::from_arr(&wq[3])];
                bx0 = (x[0] - mv).mul_add(wq[0], bx0);
                bx1 = (x[1] - mv).mul_add(wq[1], bx1);
                bx0 = (x[2] - mv).mul_add(wq[2], bx0);
                bx1 = (x[3] - mv).mul_add(wq[3], bx1);
                ws = ws + (wq[0] + wq[1]) + (wq[2] + wq[3]);
            } else if SX && RAW {
                bx0 = bx0 + (((x[0] + x[1]) + (x[2] + x[3])) - mv4);
            } else if SX {
                bx0 = bx0 + (x[0] - mv) + (x[2] - mv);
                bx1 = bx1 + (x[1] - mv) + (x[3] - mv);
            }
            if RANK {
                bc = bc
                    + ((x[0].gt(xtv) & one) + (x[1].gt(xtv) & one))
                    + ((x[2].gt(xtv) & one) + (x[3].gt(xtv) & one));
            }
        }
        for (k, a) in rest.iter().enumerate() {
            let x = W::from_arr(a);
            m0 = W::max_nan_b(x, m0);
            if SX && WT {
                let wk = W::from_arr(&wrest[k]);
                bx0 = (x - mv).mul_add(wk, bx0);
                ws = ws + wk;
            } else if SX {
                bx0 = bx0 + (x - mv);
            }
            if RANK {
                bc = bc + (x.gt(xtv) & one);
            }
        }
        // The tail: after at least one whole vector, the block's last LANES values as one
        // vector overlapping the one before (a value seen twice does not move a maximum;
        // the sums take only the tail's lanes). Shorter blocks: the maximum one value at
        // a time, the sums over the tail padded with -inf and masked.
        let over = !tail.is_empty() && !vecs.is_empty();
        if !tail.is_empty() && (over || SX || RANK) {
            let at = if over { sub.len() - l } else { sub.len() - tail.len() };
            let (x, mask) = if over {
                let keep = W::load_or(&IOTA, 0.0).ge(W::splat((l - tail.len()) as f32));
                (W::load_or(&sub[at..], 0.0), keep)
            } else {
                (W::load_or(tail, f32::NEG_INFINITY), first_lanes::<W>(tail.len()))
            };
            if over {
                m1 = W::max_nan_b(x, m1);
            }
            if SX {
                let wt = if WT { W::load_or(&w[at..], 0.0) } else { one };
                bx1 = bx1 + W::select(mask, (x - mv) * wt, zero);
                if WT {
                    ws = ws + W::select(mask, wt, zero);
                }
            }
            if RANK {
                bc = bc + (x.gt(xtv) & mask & one);
            }
        }
        let mx = W::max_nan_b(W::max_nan_b(m0, m1), W::max_nan_b(m2, m3));
        let bm = self.block_max(mx, if over { &[] } else { tail });
        let sums = BlockSums { a0: zero, a1: zero, bx: bx0 + bx1, ws, bc, max: ninf };
        (bm, sums)
    }

    /// A block's maximum from its lane maxima `mx` and the values `rest` they did not see
    /// (NaN ignored on x86, as `mx`'s lanes; a NaN in `rest` is the result).
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn block_max(&self, mx: W, rest: &[f32]) -> f32 {
        // Nothing above a finite running maximum (the common block once a row's maximum
        // is found): that maximum stands for the block's, which would not raise it, and
        // the horizontal maximum (a compare chain the exp sweep waits for) is skipped.
        // A block of `-inf` and NaN values then goes through the sweep rather than
        // `special`: it adds exactly 0, or makes the sum NaN as `note_nan` would the row.
        // v3 f16 rows (their blocks are BUF values) in L2: the chain was 17% of samples;
        // 0.218-0.229 -> 0.203-0.214 ns/logit, f32 0.194-0.205 -> 0.185-0.196.
        let mut bm =
            if self.m > f32::NEG_INFINITY && W::splat(self.m).ge(mx).all_set() { self.m } else { hmax(mx) };
        for &v in rest {
            if v > bm || v.is_nan() {
                bm = v;
            }
        }
        bm
    }

    /// A block whose every value is `-inf` (it adds exactly 0 to the sum, and would give
    /// `-inf - -inf` while the row's maximum is still `-inf`) or whose maximum is NaN (the
    /// sum is NaN anyway): only `Σ w x` and the rank.
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn special<const SX: bool, const RANK: bool>(&mut self, sub: &[f32], off: usize, w: Option<&[f32]>) {
        let l = W::LANES;
        let (zero, one) = (W::splat(0.0), W::splat(1.0));
        let wv = |i: usize| match w {
            Some(w) => W::load_or(&w[off + i..], 0.0),
            None => one,
        };
        let (mut bx, mut ws, mut bc) = (zero, zero, zero);
        let mut i = 0;
        while (SX || RANK) && i < sub.len() {
            let x = W::load_or(&sub[i..], f32::NEG_INFINITY);
            let valid = first_lanes::<W>(sub.len() - i);
            if SX {
                // -inf times the weight (NaN for a zero weight, as in PyTorch).
                bx = bx + W::select(valid, x * wv(i), zero);
                ws = ws + W::select(valid, wv(i), zero);
            }
            if RANK {
                bc = bc + (x.gt(self.xtv) & one);
            }
            i += l;
        }
        let b = BlockSums { a0: zero, a1: zero, bx, ws, bc, max: W::splat(f32::NEG_INFINITY) };
        self.accept::<SX>(b, sub.len(), w.is_some());
    }

    /// Moves the running maximum up to `bm` (when it is larger): the sum rescaled (in f64,
    /// [`rescale`]) and `Σ w (x - m)` re-centred.
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn raise<const SX: bool>(&mut self, bm: f32) {
        if bm > self.m {
            if self.m != f32::NEG_INFINITY {
                (self.s, self.comp) =
                    rescale(self.s, self.comp, libm::exp(f64::from(self.m) - f64::from(bm)));
            }
            if SX && self.wseen != 0.0 {
                self.sx += self.wseen * (self.m - bm);
            }
            self.m = bm;
        }
    }

    /// Adds a block's sums (relative to the running maximum) into the row's: the exps by
    /// a two-sum (Knuth; `comp` gathers the exact error).
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn accept<const SX: bool>(&mut self, b: BlockSums<W>, len: usize, weighted: bool) {
        let bs = b.a0 + b.a1;
        let t = self.s + bs;
        let bp = t - self.s;
        self.comp = self.comp + ((self.s - (t - bp)) + (bs - bp));
        self.s = t;
        if SX {
            self.sx += b.bx.reduce_add();
            self.wseen += if weighted { b.ws.reduce_add() } else { len as f32 };
        }
        self.cnt = self.cnt + b.bc;
    }

    /// One sweep over a block: `exp(x - m)` (one exp per element, `m` the running
    /// maximum), `Σ w (x - m)` reusing the exp's argument, the count of values above the
    /// target's, and with `TRACK` the block's maximum.
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn sweep<
        T: Element,
        const SX: bool,
        const RANK: bool,
        const TRACK: bool,
        const HI: bool,
        const PF: bool,
    >(
        &self,
        sub: &[T],
        off: usize,
        w: Option<&[f32]>,
        buf: &mut [f32],
    ) -> BlockSums<W> {
        let zero = W::splat(0.0);
        let ninf = W::splat(f32::NEG_INFINITY);
        let mut b = BlockSums { a0: zero, a1: zero, bx: zero, ws: zero, bc: zero, max: ninf };
        // f16/bf16: converted [`BUF`] values at a time into one stack buffer, the sums
        // carried from one conversion to the next, so a block of [`SUB`] values pays one
        // check, one two-sum and one rescale, as an f32 block does.
        // f32 without the closure: LLVM did not inline it, and the sweep's accumulators
        // went through memory (label smoothing 5% slower).
        match T::as_f32(sub) {
            Some(sub) => self.sweep_into::<SX, RANK, TRACK, HI, PF>(&mut b, sub, off, w),
            None => {
                // The plain sweep only: with smoothing, LLVM kept one exp accumulator of
                // this loop in memory (a store and reload a pair of vectors: v4 in L2
                // 0.187 -> 0.201 ns/logit against the buffer).
                #[cfg(all(target_arch = "x86_64", target_feature = "f16c"))]
                if !SX
                    && !RANK
                    && let Some(h) = T::as_f16(sub)
                {
                    self.sweep_f16::<TRACK>(&mut b, h, off, buf);
                    return b;
                }
                for_blocks_in(sub, buf, |o, blk| {
                    self.sweep_into::<SX, RANK, TRACK, HI, false>(&mut b, blk, off + o, w)
                })
            }
        }
        b
    }

    /// The plain sweep ([`Self::sweep_into`] without smoothing or rank) of f16 values,
    /// each vector widened in registers: no conversion into the stack buffer and no
    /// reload (on AVX-512 the buffer's stores were the f16 forward's largest cost after
    /// the exp, 15% of its samples). The values past the last pair of whole vectors go
    /// through the buffer and [`Self::sweep_into`].
    #[cfg(all(target_arch = "x86_64", target_feature = "f16c"))]
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn sweep_f16<const TRACK: bool>(
        &self,
        b: &mut BlockSums<W>,
        h: &[half::f16],
        off: usize,
        buf: &mut [f32],
    ) {
        let (pairs, _) = W::split_f16(h).0.as_chunks::<2>();
        let zero = W::splat(0.0);
        let mut acc = PairAcc { a0: zero, a1: zero, bx: zero, bx1: zero, ws: zero, bc: zero, mx: b.max };
        // Reached on one-sweep builds only (AVX-512, which implies the FMA that
        // `exp_parts_sum_poly_at` needs).
        debug_assert!(W::ONE_SWEEP && cfg!(target_feature = "fma"));
        // The polynomial exp of `x` itself, relative to `J ln2` near `m` (`add_exp_at`):
        // one subtraction a vector fewer than `exp(x - m)`, on a loop whose 512-bit
        // operations fill the vector pipes. v4 in L2 (4 x 32000 f16, an Intel Xeon with
        // AVX-512) 0.143 -> 0.136 ns/logit against `exp(x - m)` by the polynomial, which
        // on Zen 4 had beaten the table (0.177 -> 0.165; docs/BENCHMARKS.md, "Which exp").
        // Not for f32 sweeps: there the same change (with the table) measured no faster
        // on the Xeon.
        let mut xr = self.xref.get();
        if xr.m.to_bits() != self.m.to_bits() {
            xr = XRef::new(self.m);
            self.xref.set(xr);
        }
        let at = (W::splat(xr.magic), W::splat(xr.lo));
        self.sweep_pairs::<_, false, false, TRACK, false, true, true>(
            &mut acc,
            pairs,
            W::from_f16,
            (off, None),
            at,
        );
        // Back relative to `m`: times `c = c_hi + c_lo`, one rounding of the product
        // (`c_hi`'s own does not carry over): 0.5 eps relative at most, the same on every
        // block of a row, so it does not grow with the row's length.
        let (ch, cl) = (W::splat(xr.c_hi), W::splat(xr.c_lo));
        acc.a0 = acc.a0.mul_add(ch, acc.a0 * cl);
        acc.a1 = acc.a1.mul_add(ch, acc.a1 * cl);
        (b.a0, b.a1, b.max) = (b.a0 + acc.a0, b.a1 + acc.a1, acc.mx);
        let done = pairs.len() * 2 * W::LANES;
        for_blocks_in(&h[done..], buf, |o, blk| {
            self.sweep_into::<false, false, TRACK, false, false>(b, blk, off + done + o, None)
        });
    }

    /// The pair loop of [`Self::sweep_into`] over whole vectors of any element type, each
    /// widened by `load` (f32 arrays, or f16 widened in registers by [`Self::sweep_f16`]):
    /// the exps into two accumulators, and per the flags the block's maximum, `Σ w (x - m)`
    /// (two chains) and the rank's count. `off` is the first pair's class in the row
    /// (for the weights). With `AT` the exps are [`add_exp_at`]'s, of `x` itself with
    /// `at = (magic, lo)` of an [`XRef`], relative to its `J ln2` (for the caller to put
    /// back relative to `m`; plain sweeps only); else `exp(x - m)` by [`add_exp`]. With
    /// `PF` each pair prefetches [`PREFETCH_BYTES`] ahead: over the caller's memory, not
    /// over a stack buffer of converted or capped values (a wasted instruction a pair).
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn sweep_pairs<
        P,
        const SX: bool,
        const RANK: bool,
        const TRACK: bool,
        const HI: bool,
        const AT: bool,
        const PF: bool,
    >(
        &self,
        acc: &mut PairAcc<W>,
        pairs: &[[P; 2]],
        load: impl Fn(&P) -> W,
        (off, w): (usize, Option<&[f32]>),
        at: (W, W),
    ) {
        // One-sweep builds, where every block's `Σ (x - m)` is taken here: the unweighted
        // loop apart from the weighted one (the same body, `w` a constant `None`). With
        // the test inside, LLVM kept it in the loop, with three weight offsets counted
        // beside the pair index (scalar operations that compete for the vector ports):
        // v4 label smoothing in L2 (4 x 32000) 0.150 -> 0.146 ns/logit, the plain forward
        // 0.133 both. Two-sweep builds take that sum in the maximum's read, a row's first
        // block too ([`BlockLse::first_max`]), and come here without it (when they still
        // came with it for a first block, a second copy of the loop cost v3 label
        // smoothing 2.7%).
        if SX && W::ONE_SWEEP && w.is_none() {
            self.pairs_body::<P, SX, RANK, TRACK, HI, AT, PF>(acc, pairs, load, (off, None), at);
        } else {
            self.pairs_body::<P, SX, RANK, TRACK, HI, AT, PF>(acc, pairs, load, (off, w), at);
        }
    }

    /// [`Self::sweep_pairs`]'s loop.
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn pairs_body<
        P,
        const SX: bool,
        const RANK: bool,
        const TRACK: bool,
        const HI: bool,
        const AT: bool,
        const PF: bool,
    >(
        &self,
        acc: &mut PairAcc<W>,
        pairs: &[[P; 2]],
        load: impl Fn(&P) -> W,
        (off, w): (usize, Option<&[f32]>),
        at: (W, W),
    ) {
        let l = W::LANES;
        let one = W::splat(1.0);
        // Unweighted, `Σ (x - m)` still adds by FMA (times an exact 1, the same sum): 1
        // hidden from LLVM, which would fold the FMA into an add. On Zen 4 the FMA pipes
        // have room beside the exp and the add pipes do not: v4 label smoothing in L2
        // 0.153 -> 0.148 ns/logit (docs/BENCHMARKS.md, "Which exp"). Only where the sum
        // is taken (the barrier is not free).
        let unit = if SX { W::splat(core::hint::black_box(1.0)) } else { one };
        let (mv, xtv) = (W::splat(self.m), self.xtv);
        let wv = |i: usize| match w {
            Some(w) => W::load_or(&w[off + i..], 0.0),
            None => unit,
        };
        let PairAcc { mut a0, mut a1, mut bx, mut bx1, mut ws, mut bc, mut mx } = *acc;
        for (k, p) in pairs.iter().enumerate() {
            if PF {
                super::arch::prefetch::<true, _>(p, PREFETCH_BYTES);
            }
            let (x0, x1) = (load(&p[0]), load(&p[1]));
            let (d0, d1) = (x0 - mv, x1 - mv);
            if AT {
                a0 = add_exp_at(a0, x0, at);
                a1 = add_exp_at(a1, x1, at);
            } else if HI {
                a0 = add_exp_hi(a0, d0);
                a1 = add_exp_hi(a1, d1);
            } else {
                a0 = add_exp(a0, d0);
                a1 = add_exp(a1, d1);
            }
            if TRACK {
                // One register for the maximum (AVX2 has 16: two spilled the exp's constants).
                mx = W::max_nan_b(W::max_nan_b(x0, x1), mx);
            }
            if SX {
                let (w0, w1) = (wv(2 * k * l), wv((2 * k + 1) * l));
                // Two chains, not one: two dependent FMAs a pair were near the sweep's
                // critical path.
                bx = d0.mul_add(w0, bx);
                bx1 = d1.mul_add(w1, bx1);
                if w.is_some() {
                    ws = ws + w0 + w1;
                }
            }
            if RANK {
                bc = bc + (x0.gt(xtv) & one) + (x1.gt(xtv) & one);
            }
        }
        *acc = PairAcc { a0, a1, bx, bx1, ws, bc, mx };
    }

    /// [`Self::sweep`] over one f32 slice, adding into `b`.
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn sweep_into<const SX: bool, const RANK: bool, const TRACK: bool, const HI: bool, const PF: bool>(
        &self,
        b: &mut BlockSums<W>,
        sub: &[f32],
        off: usize,
        w: Option<&[f32]>,
    ) {
        let l = W::LANES;
        let (zero, one) = (W::splat(0.0), W::splat(1.0));
        let xtv = self.xtv;
        let (vecs, tail) = W::split(sub);
        let full = vecs.len() * l;
        let over = !tail.is_empty() && !vecs.is_empty();
        let last = sub.len().saturating_sub(l);
        let wv = |i: usize| match w {
            Some(w) => W::load_or(&w[off + i..], 0.0),
            None => one,
        };
        let BlockSums { mut a0, mut a1, mut bx, mut ws, mut bc, max: mut mx } = *b;
        let mv = W::splat(self.m);
        // The tail first: its temporaries are dead before the main loop starts. After a
        // whole vector, the block's last LANES values, overlapping the vector before
        // (lanes `LANES - tail.len()..` are the tail's; the rest repeat values already
        // summed: masked off, harmless to a maximum); otherwise the tail padded with -inf.
        if !tail.is_empty() {
            let (x, mask, at) = if over {
                let keep = W::load_or(&IOTA, 0.0).ge(W::splat((l - tail.len()) as f32));
                (W::load_or(&sub[last..], 0.0), keep, last)
            } else {
                (W::load_or(tail, f32::NEG_INFINITY), first_lanes::<W>(tail.len()), full)
            };
            let d = x - mv;
            // The same exp as the body's (masked lanes add 0).
            let e = if HI { add_exp_hi(zero, d) } else { add_exp(zero, d) };
            a1 = a1 + W::select(mask, e, zero);
            if TRACK {
                mx = W::max_nan_b(x, mx);
            }
            if SX {
                bx = bx + W::select(mask, d * wv(at), zero);
                if w.is_some() {
                    ws = ws + W::select(mask, wv(at), zero);
                }
            }
            if RANK {
                bc = bc + (x.gt(xtv) & mask & one);
            }
        }
        let (pairs, odd) = vecs.as_chunks::<2>();
        let mut acc = PairAcc { a0, a1, bx, bx1: zero, ws, bc, mx };
        self.sweep_pairs::<_, SX, RANK, TRACK, HI, false, PF>(
            &mut acc,
            pairs,
            W::from_arr,
            (off, w),
            (zero, zero),
        );
        let bx1;
        PairAcc { a0, a1, bx, bx1, ws, bc, mx } = acc;
        let mut i = pairs.len() * 2 * l;
        for a in odd {
            let x = W::from_arr(a);
            let d = x - mv;
            a0 = if HI { add_exp_hi(a0, d) } else { add_exp(a0, d) };
            if TRACK {
                mx = W::max_nan_b(x, mx);
            }
            if SX {
                bx = d.mul_add(wv(i), bx);
                if w.is_some() {
                    ws = ws + wv(i);
                }
            }
            if RANK {
                bc = bc + (x.gt(xtv) & one);
            }
            i += l;
        }
        *b = BlockSums { a0, a1, bx: bx + bx1, ws, bc, max: mx };
    }
}

/// One read pass over a contiguous row, blocked: per block of [`SUB`] values add
/// `exp(x - max)` with one exp per element relative to the running maximum, and
/// `Σ w (x - max)` (reusing the exp's argument, re-centred when the maximum grows) and the
/// count of logits above the target's in the same sweep, which also finds the block's
/// maximum; the running sum is rescaled once if it grew ([`BlockLse::feed`]). Cheaper per
/// element than the online update (no compare, select or second product per element) and
/// the same single pass over memory.
///
/// Each block starts its own accumulators, so no lane adds more than `SUB / (2 LANES)`
/// terms in a row: the roundings of a long run of equal small terms into one large one
/// (which all share a sign) stay within the documented bound at any `C`.
///
/// With `CAP`, every value is soft-capped (`cap tanh(x / cap)`, [`cap_v`]) first, a block
/// of [`BUF`] values at a time into one stack buffer (the row's only scratch: 1 KiB).
#[cfg_attr(not(xent_opt0), inline(always))]
fn row_sums_blocked<W: Vector, T: Element, const SX: bool, const RANK: bool, const CAP: bool>(
    row: &[T],
    t: usize,
    cap: f32,
    w: Option<&[f32]>,
) -> Stats<f32> {
    let n = row.len();
    // The target's logit: read first for the rank (its comparisons need it) and on
    // two-sweep builds; on one-sweep builds just after the block that holds it was fed,
    // from L1. Read at the row's start on AVX-512 it missed (out of the prefetcher's
    // stream): 4.7% of the v4 f16 forward's samples on its one convert, and the forward
    // 6% slower. Measured on v3 (whose maximum pass streams from memory first), the start
    // was the fastest place: 4% faster than after the block, as much as after the row.
    let target = || if t < n { cap_s::<W>(row[t].to_f32(), CAP.then_some(cap)) } else { 0.0 };
    let late = !RANK && W::ONE_SWEEP;
    let mut xt = if late { 0.0 } else { target() };
    let mut st = BlockLse::<W>::new(xt);
    let holds_target = |k: usize, len: usize| late && (k..k + len).contains(&t);
    if CAP {
        let mut buf = Block::new();
        let buf = &mut buf.0;
        let mut off = 0;
        for ch in row.chunks(BUF) {
            let b = &mut buf[..ch.len()];
            T::load_block(ch, b);
            cap_in_place::<W>(b, cap);
            st.feed::<f32, SX, RANK, false>(b, off, w, &mut []);
            if holds_target(off, ch.len()) {
                xt = target();
            }
            off += ch.len();
        }
    } else {
        // f16/bf16 rows are fed SUB values at a time too, converted into one buffer
        // a BUF-value piece at a time inside the sweep (the sums stay in registers across
        // pieces): a block's check, two-sum and rescale come once per SUB values, as for f32.
        match T::as_f32(row) {
            Some(r) => {
                for (k, sub) in r.chunks(SUB).enumerate() {
                    st.feed::<f32, SX, RANK, true>(sub, k * SUB, w, &mut []);
                    if holds_target(k * SUB, sub.len()) {
                        xt = target();
                    }
                }
            }
            None => {
                let mut buf = Block::new();
                for (k, sub) in row.chunks(SUB).enumerate() {
                    st.feed::<T, SX, RANK, true>(sub, k * SUB, w, &mut buf.0);
                    if holds_target(k * SUB, sub.len()) {
                        xt = target();
                    }
                }
            }
        }
    }
    st.finish::<SX, RANK>(n, t, xt)
}

/// The shortest rows [`rows_plain_ahead`] takes: shorter ones gain nothing from the overlap
/// and pay a second tail (rows of 31: 5.8% more instructions, AVX2).
const PIPELINE_MIN_C: usize = 256;

/// The plain forward ([`row_sums_blocked`] without smoothing, rank or cap) of the rows
/// `p0..p0 + out.len()` of `classes <= SUB` f32 logits, software-pipelined: each row's exp
/// sweep also takes the next row's maximum ([`BlockLse::sweep_ahead`]), so the next row's
/// first read from memory overlaps this row's exps instead of following them.
#[cfg_attr(not(xent_opt0), inline(always))]
fn rows_plain_ahead<W: Vector>(x: &[f32], p0: usize, classes: usize, tgt: &[usize], out: &mut [Stats<f32>]) {
    debug_assert!(classes <= SUB);
    let k = out.len();
    let row = |q: usize| &x[(p0 + q) * classes..(p0 + q + 1) * classes];
    if k == 0 {
        return;
    }
    let mut bm = BlockLse::<W>::max_of(row(0));
    for (q, st_out) in out.iter_mut().enumerate() {
        let (r, t) = (row(q), tgt[q]);
        let xt = if t < classes { r[t] } else { 0.0 };
        let mut st = BlockLse::<W>::new(xt);
        let ahead = if q + 1 < k { row(q + 1) } else { &[] };
        bm = st.feed_ahead(r, bm, ahead);
        *st_out = st.finish::<false, false>(classes, t, xt);
    }
}

/// Replaces the sums [`row_sums_blocked`] left in `lse_rel` by their logs, `LANES` rows per
/// vector `ln` (2 ULP; NaN stays NaN, `ln 0 = -inf`): one `libm::logf` per row cost a
/// third of the time of rows of 31 logits.
#[cfg_attr(not(xent_opt0), inline(always))]
fn ln_of_sums<W: Vector>(st: &mut [Stats<f32>]) {
    for ch in st.chunks_mut(W::LANES) {
        let mut a = [1.0f32; 16];
        for (a, s) in a.iter_mut().zip(ch.iter()) {
            *a = s.lse_rel;
        }
        let v = W::load_or(&a, 1.0);
        // `ln_fast` maps NaN's bits to a finite value: `v - v` carries the NaN through.
        #[allow(clippy::eq_op)]
        let r = v.ln_fast() + (v - v);
        r.to_lanes(&mut a);
        for (s, &l) in ch.iter_mut().zip(a.iter()) {
            s.lse_rel = l;
        }
    }
}

/// Soft-caps `b` in place: `cap tanh(x / cap)` ([`cap_v`]) for every value.
#[cfg_attr(not(xent_opt0), inline(always))]
fn cap_in_place<W: Vector>(b: &mut [f32], cap: f32) {
    let (vecs, tail) = W::split_mut(b);
    for a in vecs {
        *a = cap_v(W::from_arr(a), cap).0.to_arr();
    }
    if !tail.is_empty() {
        cap_v(W::load_or(tail, 0.0), cap).0.store(tail);
    }
}

/// The largest lane, by a halving tree of `>` (a NaN lane loses every comparison, so it is
/// ignored unless every lane is NaN).
#[cfg_attr(not(xent_opt0), inline(always))]
fn hmax<W: Vector>(v: W) -> f32 {
    let mut a = [f32::NEG_INFINITY; 16];
    v.to_lanes(&mut a);
    let mut n = W::LANES;
    while n > 1 {
        n /= 2;
        for i in 0..n {
            // The larger, or the one that is not NaN. Branches, not `f32::max`: they are
            // predicted and keep the compare chain off the block's critical path (the
            // exp sweep waits for this maximum); the branch-free form cost f16 rows, whose
            // blocks are 256 values, 10%.
            let (x, y) = (a[i], a[i + n]);
            a[i] = if y > x || x.is_nan() { y } else { x };
        }
    }
    a[0]
}

/// Per-lane results of one pass over `LANES` column positions: the online `(m, s)`, the
/// target logits, `Σ w (x - r)` with `r` the target logit (0 where not finite), the count
/// of logits above the target's, and `Σ w`.
struct ColPass<W> {
    acc: Lse<W>,
    /// The lanes' target classes as floats, -1 where there is none.
    tv: W,
    xt: W,
    rv: W,
    sx: W,
    cnt: W,
    wsum: f32,
}

/// One pass over `LANES` positions whose logits of class `c` are the contiguous values
/// `x[base + c*stride ..][..LANES]`, their targets `tv` as f32 lanes (-1 for none).
#[allow(clippy::too_many_arguments)]
#[cfg_attr(not(xent_opt0), inline(always))]
fn cols_pass<W: Vector, T: Element, const N: usize>(
    x: &[T],
    base: usize,
    stride: usize,
    classes: usize,
    tv: &[f32],
    cap: Option<f32>,
    w: Option<&[f32]>,
    want: Want,
    prefetch: bool,
) -> ColPass<W> {
    let tvv = W::load_or(tv, -1.0);
    if cap.is_none() {
        if N > 0 {
            // A class count known at compile time: each column loaded once into a
            // register, both sweeps unrolled, no per-load address or bounds arithmetic.
            debug_assert_eq!(classes, N);
            let mut cols = [W::splat(0.0); N];
            // Each class's stream prefetched [`PREFETCH_BYTES`] ahead: channel-first C = 4
            // over 2M positions from L3 (`bench_report`, Intel Xeon, three alternations),
            // v3 1.32-1.51 -> 1.00-1.02 ns/logit, v4 0.57-0.67 -> 0.51; in L2 no change.
            // Not over a transposed tile on the stack (`prefetch` false), where the ten
            // prefetches of a 10-class tile did nothing.
            for (c, v) in cols.iter_mut().enumerate() {
                if prefetch {
                    super::arch::prefetch::<true, T>(
                        x.as_ptr(),
                        (base + c * stride) * size_of::<T>() + PREFETCH_BYTES,
                    );
                }
                *v = load_at(x, base + c * stride);
            }
            return col_sweeps(N, |c| cols[c], tvv, want, w);
        }
        return col_sweeps(classes, |c| load_at(x, base + c * stride), tvv, want, w);
    }
    let (mut sx, mut cnt) = (W::splat(0.0), W::splat(0.0));
    let mut wsum = 0.0f32;
    let mut xt = [0.0f32; 16];
    for (q, (d, &t)) in xt.iter_mut().zip(&tv[..W::LANES]).enumerate() {
        if t >= 0.0 {
            *d = cap_s::<W>(x[base + q + t as usize * stride].to_f32(), cap);
        }
    }
    let xtv = W::load_or(&xt, 0.0);
    let rv = W::select(xtv.abs().lt(W::splat(f32::INFINITY)), xtv, W::splat(0.0));
    let mut acc = Lse::<W>::new();
    for c in 0..classes {
        let mut v: W = load_at(x, base + c * stride);
        if let Some(s) = cap {
            v = cap_v(v, s).0;
        }
        acc.push(v);
        side_sums(v, c, want, w, rv, xtv, &mut sx, &mut cnt, &mut wsum);
    }
    ColPass { acc, tv: tvv, xt: xtv, rv, sx, cnt, wsum }
}

/// The two sweeps of an uncapped column pass over `classes` columns, `col(c)` giving the
/// vector of class `c`: the maximum and the target logit, then one exp per logit. NaN,
/// +inf and all -inf columns reach the sum as NaN through `exp(x - max)`, exactly
/// PyTorch's `x - max`. The class index runs as an f32 beside `c` (exact below
/// [`COLUMN_MAX_C`]), so comparing it with the target lanes needs no conversion.
#[cfg_attr(not(xent_opt0), inline(always))]
fn col_sweeps<W: Vector>(
    classes: usize,
    col: impl Fn(usize) -> W,
    tv: W,
    want: Want,
    w: Option<&[f32]>,
) -> ColPass<W> {
    let (mut sx, mut cnt) = (W::splat(0.0), W::splat(0.0));
    let mut wsum = 0.0f32;
    let (mut m, mut xt) = (W::splat(f32::NEG_INFINITY), W::splat(0.0));
    let mut cf = 0.0f32;
    for c in 0..classes {
        let v = col(c);
        m = W::max_nan_b(v, m);
        xt = W::select(tv.eq(W::splat(cf)), v, xt);
        cf += 1.0;
    }
    let rv = W::select(xt.abs().lt(W::splat(f32::INFINITY)), xt, W::splat(0.0));
    let mut s = W::splat(0.0);
    for c in 0..classes {
        let v = col(c);
        s = add_exp(s, v - m);
        side_sums(v, c, want, w, rv, xt, &mut sx, &mut cnt, &mut wsum);
    }
    ColPass { acc: Lse { m, s }, tv, xt, rv, sx, cnt, wsum }
}

/// The optional sums of a column pass for class `c`: `Σ w (x - r)` (and `Σ w`) and the
/// count of logits above the target's.
#[allow(clippy::too_many_arguments)]
#[cfg_attr(not(xent_opt0), inline(always))]
fn side_sums<W: Vector>(
    v: W,
    c: usize,
    want: Want,
    w: Option<&[f32]>,
    rv: W,
    xt: W,
    sx: &mut W,
    cnt: &mut W,
    wsum: &mut f32,
) {
    if want.sx {
        let wc = w.map_or(1.0, |w| w[c]);
        *wsum += wc;
        *sx = (v - rv).mul_add(W::splat(wc), *sx);
    }
    if want.rank {
        *cnt = *cnt + (v.gt(xt) & W::splat(1.0));
    }
}

/// `ln s`, with PyTorch's special rows made NaN: every logit `-inf` (`s == 0`) or a `+inf`
/// maximum. `-inf` for no classes.
#[cfg_attr(not(xent_opt0), inline(always))]
fn lse_rel_v<W: Vector>(classes: usize, acc: &Lse<W>) -> W {
    if classes == 0 {
        return W::splat(f32::NEG_INFINITY);
    }
    // `s` is in `[1, C]` or NaN: the branch-free `ln_fast`, with `s - s` carrying a NaN
    // through (`ln_fast` maps NaN's bits to a finite value).
    ln_nan(acc.sum_nan_special())
}

/// Statistics of `LANES` column positions (see [`cols_pass`]).
#[allow(clippy::too_many_arguments)]
#[cfg_attr(not(xent_opt0), inline(always))]
fn cols_stats<W: Vector, T: Element>(
    x: &[T],
    base: usize,
    stride: usize,
    classes: usize,
    tgt: &[usize],
    cap: Option<f32>,
    w: Option<&[f32]>,
    want: Want,
    out: &mut [Stats<f32>],
) {
    // The targets as f32 lanes (exact below COLUMN_MAX_C), -1 for none.
    let mut tv = [-1.0f32; 16];
    for (d, &t) in tv.iter_mut().zip(&tgt[..W::LANES]) {
        if t < classes {
            *d = t as f32;
        }
    }
    let p = cols_pass::<W, T, 0>(x, base, stride, classes, &tv, cap, w, want, false);
    let lse = lse_rel_v(classes, &p.acc);
    let max = W::select(lse.eq(lse), p.acc.m, W::splat(f32::NEG_INFINITY));
    let mut lanes = [[0.0f32; 16]; 5];
    max.to_lanes(&mut lanes[0]);
    lse.to_lanes(&mut lanes[1]);
    p.xt.to_lanes(&mut lanes[2]);
    (p.sx - (p.acc.m - p.rv) * W::splat(p.wsum)).to_lanes(&mut lanes[3]);
    p.cnt.to_lanes(&mut lanes[4]);
    for q in 0..W::LANES {
        out[q] = Stats {
            max: lanes[0][q],
            lse_rel: lanes[1][q],
            xt: lanes[2][q],
            sx: if want.sx { lanes[3][q] } else { 0.0 },
            above: if want.rank && tgt[q] < classes { lanes[4][q] as usize } else { 0 },
        };
    }
}

/// `w[y] ((max - x_y) + lse_rel)` of `LANES` columns, 0 at the positions not counted.
#[cfg_attr(not(xent_opt0), inline(always))]
#[allow(clippy::too_many_arguments)]
fn cols_ce_sum<W: Vector, T: Element, const N: usize>(
    x: &[T],
    base: usize,
    stride: usize,
    classes: usize,
    tv: &[f32],
    w: Option<&[f32]>,
    prefetch: bool,
) -> W {
    let p = cols_pass::<W, T, N>(x, base, stride, classes, tv, None, None, Want::default(), prefetch);
    pass_ce(&p, classes, tv, w)
}

/// [`cols_ce_sum`] over the first positions of a run of `run` f32 positions, in steps of
/// [`LN_GROUPS`] vectors (the class count `N` known), into `vsum`; returns how many
/// positions it took. Each class's values are sliced once per run, so the loads need no
/// bounds checks (0.55 -> 0.51 ns/logit, channel-first C = 4 in L2, v4), and the groups
/// of a step are independent chains side by side; unweighted, they share one `ln`
/// ([`LnProd`]).
#[cfg_attr(not(xent_opt0), inline(always))]
fn cols_ce_sum_run<W: Vector, const N: usize>(
    x: &[f32],
    base: usize,
    stride: usize,
    run: usize,
    tv: &[f32],
    w: Option<&[f32]>,
    vsum: &mut VAcc<W>,
) -> usize {
    const G: usize = LN_GROUPS;
    let steps = run / (G * W::LANES);
    let take = steps * G * W::LANES;
    if steps == 0 || x.len() < base + (N - 1) * stride + take {
        return 0;
    }
    let cls: [&[W::Arr]; N] = core::array::from_fn(|c| {
        let s = &x[base + c * stride..][..take];
        &W::split(s).0[..G * steps]
    });
    let tvs = &W::split(&tv[..take]).0[..G * steps];
    for j in (0..G * steps).step_by(G) {
        // Every line of each class, [`PREFETCH_BYTES`] ahead (as [`cols_pass`]).
        for s in cls {
            for line in (0..G * W::LANES * 4).step_by(64) {
                super::arch::prefetch::<true, W::Arr>(s.as_ptr(), j * W::LANES * 4 + line + PREFETCH_BYTES);
            }
        }
        if w.is_some() {
            for g in j..j + G {
                vsum.add(group_ce::<W, N>(&cls, tvs, tv, g, w));
            }
        } else {
            let mut lp = LnProd::new();
            for g in j..j + G {
                lp.push::<N>(|c| W::from_arr(&cls[c][g]), W::from_arr(&tvs[g]));
            }
            vsum.add(lp.take());
        }
    }
    take
}

/// [`cols_ce_sum`] of the group `g` of [`cols_ce_sum_run`].
#[cfg_attr(not(xent_opt0), inline(always))]
fn group_ce<W: Vector, const N: usize>(
    cls: &[&[W::Arr]; N],
    tvs: &[W::Arr],
    tv: &[f32],
    g: usize,
    w: Option<&[f32]>,
) -> W {
    let col = |c: usize| W::from_arr(&cls[c][g]);
    pass_ce(&col_sweeps(N, col, W::from_arr(&tvs[g]), Want::default(), None), N, &tv[g * W::LANES..], w)
}

/// Groups of positions per `ln` in the unweighted plain forward ([`LnProd`]).
/// Against one `ln` per group (channel-first C = 4 over 16384 positions in L2, Intel
/// Xeon): v4 0.51 -> 0.45 (2 groups), 0.40 (4), 0.385 (8 and 16) ns/logit; v3 1.00 ->
/// 0.75 (4), 0.66 (8).
const LN_GROUPS: usize = 8;

/// The unweighted losses of up to [`LN_GROUPS`] groups of `LANES` positions, summed per
/// lane as `Σ (max - x_y) + ln Π s`: one `ln` for all the groups (one per group, the
/// `ln` took a seventh of the channel-first C = 4 forward). `1 <= s <= N <= 16`, so
/// the product (at most `16^8 = 2^32`) cannot overflow, and its `LN_GROUPS - 1` roundings
/// add at most `(LN_GROUPS - 1) eps / 2` absolute to the groups' `LN_GROUPS` losses, and
/// `ln`'s 2 ULP of the larger logarithm no more than 2 ULP of each: inside the
/// per-position bound's `1.5 u >= 6 eps` (the crate docs, "Precision"). Each group is
/// folded in as it is made, with few vectors live (a product tree over 8 groups measured
/// 2% slower).
struct LnProd<W> {
    d: W,
    s: W,
    k: usize,
}

impl<W: Vector> LnProd<W> {
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn new() -> Self {
        Self { d: W::splat(0.0), s: W::splat(1.0), k: 0 }
    }

    /// Folds in the group of `LANES` positions with targets `tv` (`col(c)` its logits of
    /// class `c`; [`group_parts`]); true when [`LN_GROUPS`] groups are in.
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn push<const N: usize>(&mut self, col: impl Fn(usize) -> W, tv: W) -> bool {
        let (d, s) = group_parts::<W, N>(col, tv);
        self.d = self.d + d;
        self.s = self.s * s;
        self.k += 1;
        self.k == LN_GROUPS
    }

    /// The lanes' summed losses, and a fresh start.
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn take(&mut self) -> W {
        let r = self.d + ln_nan(self.s);
        *self = Self::new();
        r
    }
}

/// The two parts of the unweighted losses of a group of `LANES` positions with targets
/// `tv` (`col(c)` its logits of class `c`): `max - x_y` and the sum `s` of `exp(x - max)`
/// (NaN for PyTorch's special rows, as [`lse_rel_v`]), with `(0, 1)` for positions not
/// counted (their loss is 0 whatever their logits).
#[cfg_attr(not(xent_opt0), inline(always))]
fn group_parts<W: Vector, const N: usize>(col: impl Fn(usize) -> W, tv: W) -> (W, W) {
    let p = col_sweeps(N, col, tv, Want::default(), None);
    let counted = tv.ge(W::splat(0.0));
    let s = p.acc.sum_nan_special();
    (W::select(counted, p.acc.m - p.xt, W::splat(0.0)), W::select(counted, s, W::splat(1.0)))
}

/// `ln s` for `s` positive or NaN, NaN carried through (`ln_fast` maps NaN's bits to a
/// finite value, `s - s` brings it back).
#[cfg_attr(not(xent_opt0), inline(always))]
fn ln_nan<W: Vector>(s: W) -> W {
    #[allow(clippy::eq_op)]
    let nan_or_0 = s - s;
    s.ln_fast() + nan_or_0
}

/// `w[y] ((max - x_y) + lse_rel)` of a column pass over `classes` classes with targets
/// `tv` (negative: not counted, 0).
#[cfg_attr(not(xent_opt0), inline(always))]
fn pass_ce<W: Vector>(p: &ColPass<W>, classes: usize, tv: &[f32], w: Option<&[f32]>) -> W {
    let counted = p.tv.ge(W::splat(0.0));
    let wy = match w {
        None => W::splat(1.0),
        Some(w) => {
            let mut wy = [0.0f32; 16];
            for (d, &t) in wy.iter_mut().zip(&tv[..W::LANES]) {
                if t >= 0.0 {
                    *d = w[t as usize];
                }
            }
            W::load_or(&wy, 0.0)
        }
    };
    let loss = wy * ((p.acc.m - p.xt) + lse_rel_v(classes, &p.acc));
    // Ignored lanes may hold NaN: select them away, don't multiply.
    W::select(counted, loss, W::splat(0.0))
}

/// A compensated sum per lane (Knuth's two-sum, branch-free), reduced once at the end:
/// the column kernels' per-position losses, without a lane reduction per vector.
struct VAcc<W> {
    s: W,
    c: W,
}

impl<W: Vector> VAcc<W> {
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn new() -> Self {
        Self { s: W::splat(0.0), c: W::splat(0.0) }
    }

    #[cfg_attr(not(xent_opt0), inline(always))]
    fn add(&mut self, x: W) {
        let t = self.s + x;
        let bp = t - self.s;
        self.c = self.c + ((self.s - (t - bp)) + (x - bp));
        self.s = t;
    }

    /// The lanes' total: their sums and, unless one overflowed (its compensation is then
    /// NaN, and the plain sum's `inf` or NaN is the result, as for the scalar
    /// accumulator), their compensations. Each added by a lane tree: `log2(LANES)`
    /// roundings relative to the total, as a lane reduction per vector had.
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn total(&self) -> f32 {
        let s = self.s.reduce_add();
        if s.is_finite() { s + self.c.reduce_add() } else { s }
    }
}

/// A tile of `TILE` rows of `classes <= SMALL_C` logits, transposed:
/// `buf[c * TILE + q] = x[(p0 + q) * classes + c]` (1 KiB of stack). In 8x8 blocks through
/// `wide`'s `f32x8::transpose` (unpack and shuffle on AVX): an element-wise loop compiled
/// to scatters, slow on x86, and cost a third of a 10-class row's time.
#[cfg_attr(not(xent_opt0), inline(always))]
fn transpose_tile<T: Element>(x: &[T], p0: usize, classes: usize, buf: &mut [f32; SMALL_C * TILE]) {
    let tile = &x[p0 * classes..];
    debug_assert!(tile.len() >= TILE * classes);
    match tile.get(..TILE * classes + 8) {
        // Every tile but the last few: the reads of whole 8-value blocks past the tile's
        // end stay in `x`, so no read is cut short, and with the class count a constant
        // no read needs a bounds check. Before this path (every read clamped, a call
        // for the short ones, the rows passed through memory) the transposes were a
        // quarter of the v4 10-class forward's samples.
        Some(t) => transpose_blocks(classes, |i| load8_full(&t[i..i + 8]), tile_put(buf)),
        None => transpose_tile_short(tile, classes, buf),
    }
}

/// [`transpose_tile`] of one of the last tiles, whose reads past the tile's end are cut
/// short and zero-padded. Out of line: a second inlined copy of the blocks' loop grew the
/// frames of the functions holding it (a Cortex-M4F keeps the eight rows on the stack).
#[cold]
#[inline(never)]
fn transpose_tile_short<T: Element>(tile: &[T], classes: usize, buf: &mut [f32; SMALL_C * TILE]) {
    transpose_blocks(classes, |i| load8(&tile[i.min(tile.len())..]), tile_put(buf));
}

/// The sink of [`transpose_blocks`] into a stack tile: class `c`'s rows `8h..8h + 8` at
/// `buf[c * TILE + 8h..]`.
#[cfg_attr(not(xent_opt0), inline(always))]
fn tile_put(buf: &mut [f32; SMALL_C * TILE]) -> impl FnMut(usize, usize, f32x8) + '_ {
    |c, h, v| buf[c * TILE + 8 * h..][..8].copy_from_slice(v.as_array())
}

/// [`transpose_tile`]'s 8x8 blocks: `row(i)` reads the 8 values from `i` of the tile,
/// `put(c, h, v)` takes class `c`'s values of rows `8h..8h + 8`.
#[cfg_attr(not(xent_opt0), inline(always))]
fn transpose_blocks(classes: usize, row: impl Fn(usize) -> f32x8, mut put: impl FnMut(usize, usize, f32x8)) {
    for q0 in (0..TILE).step_by(8) {
        for c0 in (0..classes).step_by(8) {
            // Rows `q0..q0 + 8`, classes `c0..c0 + 8` (lanes past the row hold the next
            // row's logits, or 0 past the tile; they are not stored).
            // Not `core::array::from_fn`: one code-generation unit left it out of line.
            let at = |j: usize| row((q0 + j) * classes + c0);
            let rows = [at(0), at(1), at(2), at(3), at(4), at(5), at(6), at(7)];
            for (k, v) in f32x8::transpose(rows).into_iter().enumerate().take(classes - c0) {
                put(c0 + k, q0 / 8, v);
            }
        }
    }
}

/// A whole tile of `TILE` rows of `N <= SMALL_C` logits (`t`, with 8 values more after
/// it) transposed into `cols` (registers, where they fit): `[c][h]` holds class `c` of
/// rows `8h..8h + 8`. Into the caller's array, not returned: returned, a build whose
/// registers do not hold it (AVX2) zeroed and copied it each tile (`memset` and `memcpy`
/// calls, 14% of the 10-class forward's instructions).
#[cfg_attr(not(xent_opt0), inline(always))]
fn transpose_tile_regs<T: Element, const N: usize>(t: &[T], cols: &mut [[f32x8; TILE / 8]; N]) {
    transpose_blocks(N, |i| load8_full(&t[i..i + 8]), |c, h, v| cols[c][h] = v);
}

/// The inverse of [`transpose_tile`]: `out[q * classes + c] = buf[c * TILE + q]` for the
/// `TILE` rows of `out` (rounded to `U`), in the same 8x8 blocks.
#[cfg_attr(not(xent_opt0), inline(always))]
fn untranspose_tile<U: Element>(buf: &[f32; SMALL_C * TILE], classes: usize, out: &mut [U]) {
    debug_assert!(out.len() >= TILE * classes);
    for q0 in (0..TILE).step_by(8) {
        for c0 in (0..classes).step_by(8) {
            let n = (classes - c0).min(8);
            let col = |k: usize| {
                let mut a = [0.0f32; 8];
                if k < n {
                    a.copy_from_slice(&buf[(c0 + k) * TILE + q0..][..8]);
                }
                f32x8::from(a)
            };
            let cols = [col(0), col(1), col(2), col(3), col(4), col(5), col(6), col(7)];
            for (j, r) in f32x8::transpose(cols).iter().enumerate() {
                // Value by value: a short slice copy of runtime length is a `memcpy` call.
                let row = &mut out[(q0 + j) * classes + c0..][..n];
                for (d, &v) in row.iter_mut().zip(r.as_array()) {
                    *d = U::from_f32(v);
                }
            }
        }
    }
}

/// The first 8 values of `s` as f32 (0 past its end).
#[cfg_attr(not(xent_opt0), inline(always))]
fn load8<T: Element>(s: &[T]) -> f32x8 {
    match T::as_f32(s) {
        Some(f) => {
            if let Some(a) = f.first_chunk::<8>() {
                return f32x8::from(*a);
            }
        }
        None if s.len() >= 8 => {
            let mut a = [0.0f32; 8];
            T::load_block(&s[..8], &mut a);
            return f32x8::from(a);
        }
        None => {}
    }
    load8_slow(s)
}

/// The 8 values of `s` (`s.len() == 8`) as f32.
#[cfg_attr(not(xent_opt0), inline(always))]
fn load8_full<T: Element>(s: &[T]) -> f32x8 {
    let mut a = [0.0f32; 8];
    match T::as_f32(s) {
        Some(f) => a.copy_from_slice(f),
        None => T::load_block(s, &mut a),
    }
    f32x8::from(a)
}

/// [`load8`] for short slices and other types: kept out of line, or the two paths merge
/// into one variable-length `memcpy` call per load.
#[cold]
#[inline(never)]
fn load8_slow<T: Element>(s: &[T]) -> f32x8 {
    let mut a = [0.0f32; 8];
    T::load_block(&s[..s.len().min(8)], &mut a);
    f32x8::from(a)
}

/// Writes one gradient value at `i`.
#[cfg_attr(not(xent_opt0), inline(always))]
fn put<T: Element>(dst: &mut GradDst<'_, T, f32>, i: usize, g: f32) {
    match dst {
        GradDst::Buffer { grad, .. } => grad[i] = g,
        GradDst::InPlace(x) => x[i] = T::from_f32(g),
    }
}

/// Outputs written after a statistics pass (gradients, log-softmax, softmax) at least this
/// large are "large" for [`map_row`]: written with non-temporal stores where they go to a
/// separate buffer (no write-allocate read of every line; they would not stay in cache
/// for their reader anyway), and the next tile's input prefetched as they are written.
/// Forward+backward of rows of 32000 f32 on the Intel Xeon of docs/BENCHMARKS.md, v4,
/// scratch crate: 512 rows (a 64 MB gradient) 0.99-1.05 ns/logit with neither, 0.64-0.71
/// with the prefetch alone, 0.46-0.52 with both. Streaming against not, both prefetching:
/// 64 rows (8 MB) 0.41 -> 0.43, 128 rows (16 MB) 0.42 -> 0.43, 256 rows (32 MB) 0.46-0.47
/// -> 0.44: the threshold lies between.
pub(crate) const LARGE_BYTES: usize = 24 << 20;

/// `out[j] = f(off + j, src[j])` streamed ([`Vector::stream`]): the head up to the
/// vector-size alignment of `out` as one padded vector, the whole vectors after it
/// through `as_chunks` (no bounds checks), then one padded vector for the tail. `pf(j)`
/// runs once a vector (a prefetch of the next tile).
#[cfg_attr(not(xent_opt0), inline(always))]
fn map_to<W: Vector>(
    src: &[f32],
    out: &mut [f32],
    off: usize,
    f: &impl Fn(usize, W) -> W,
    pf: &impl Fn(usize),
) {
    let h = out.as_ptr().align_offset(W::LANES * 4).min(out.len());
    if h > 0 {
        f(off, W::load_or(&src[..h], 0.0)).store(&mut out[..h]);
    }
    let (sv, st) = W::split(&src[h..]);
    let (ov, ot) = W::split_mut(&mut out[h..]);
    for (j, (s, o)) in sv.iter().zip(ov.iter_mut()).enumerate() {
        let i = off + h + j * W::LANES;
        pf(i);
        f(i, W::from_arr(s)).stream(o);
    }
    if !st.is_empty() {
        f(off + h + sv.len() * W::LANES, W::load_or(st, 0.0)).store(ot);
    }
}

/// `v[j] = f(off + j, v[j])` with `pf` as in [`map_to`], never streamed: the lines were just
/// read, so they are already owned by this core and there is no write-allocate read to
/// save (streaming them measured 0.34-0.38 -> 0.65-0.71 ns/logit, v4).
#[cfg_attr(not(xent_opt0), inline(always))]
fn map_in<W: Vector>(v: &mut [f32], off: usize, f: &impl Fn(usize, W) -> W, pf: &impl Fn(usize)) {
    let (vv, vt) = W::split_mut(v);
    for (j, a) in vv.iter_mut().enumerate() {
        let i = off + j * W::LANES;
        pf(i);
        *a = f(i, W::from_arr(a)).to_arr();
    }
    if !vt.is_empty() {
        f(off + vv.len() * W::LANES, W::load_or(vt, 0.0)).store(vt);
    }
}

/// `dst[start + j] = f(j, x[start + j])` over `len` values, one vector at a time. Where
/// the destination spans [`LARGE_BYTES`] or more (it will not stay in cache), the row goes
/// through [`map_row_large`]: the next tile's matching logits, `ahead` past `start`, are
/// prefetched into L2 as this row is written, so that the next statistics pass reads them
/// from there rather than from memory (the write pass leaves the bus idle otherwise), and
/// a separate destination is streamed. Smaller ones do neither: in cache the prefetch's
/// address arithmetic a vector costs the write pass time, and streaming would evict what
/// the caller reads next.
#[cfg_attr(not(xent_opt0), inline(always))]
fn map_row<W: Vector, T: Element>(
    dst: &mut GradDst<'_, T, f32>,
    start: usize,
    len: usize,
    ahead: usize,
    f: impl Fn(usize, W) -> W,
) {
    let large = match dst {
        GradDst::Buffer { grad, .. } => size_of_val(*grad) >= LARGE_BYTES,
        GradDst::InPlace(x) => size_of_val(*x) >= LARGE_BYTES,
    };
    if large {
        return map_row_large(dst, start, len, ahead, &f);
    }
    // Whole vectors through `as_chunks` (no bounds checks, accumulators in registers),
    // then one padded vector for the tail.
    let step = |src: &[f32], out: &mut [f32], off: usize| {
        let (sv, st) = W::split(src);
        let (ov, ot) = W::split_mut(out);
        for (j, (s, o)) in sv.iter().zip(ov.iter_mut()).enumerate() {
            *o = f(off + j * W::LANES, W::from_arr(s)).to_arr();
        }
        if !st.is_empty() {
            f(off + sv.len() * W::LANES, W::load_or(st, 0.0)).store(ot);
        }
    };
    let in_place = |v: &mut [f32], off: usize| {
        let (vv, vt) = W::split_mut(v);
        for (j, a) in vv.iter_mut().enumerate() {
            *a = f(off + j * W::LANES, W::from_arr(a)).to_arr();
        }
        if !vt.is_empty() {
            let n = vv.len() * W::LANES;
            f(off + n, W::load_or(vt, 0.0)).store(vt);
        }
    };
    let mut buf = Block::new();
    let buf = &mut buf.0;
    match dst {
        GradDst::Buffer { x, grad } => {
            let (xs, gs) = (&x[start..start + len], &mut grad[start..start + len]);
            match T::as_f32(xs) {
                Some(xf) => step(xf, gs, 0),
                None => {
                    for (k, ch) in xs.chunks(BUF).enumerate() {
                        T::load_block(ch, buf);
                        step(&buf[..ch.len()], &mut gs[k * BUF..k * BUF + ch.len()], k * BUF);
                    }
                }
            }
        }
        GradDst::InPlace(x) => {
            let xs = &mut x[start..start + len];
            match T::as_f32_mut(xs) {
                Some(xf) => in_place(xf, 0),
                None => {
                    for (k, ch) in xs.chunks_mut(BUF).enumerate() {
                        T::load_block(ch, buf);
                        in_place(&mut buf[..ch.len()], k * BUF);
                        T::store_block(&buf[..ch.len()], ch);
                    }
                }
            }
        }
    }
}

/// [`map_row`] of a large destination, out of line: inlined beside the in-cache loop, it
/// took that loop's registers (the loop no longer unrolled, a constant reloaded from the
/// stack each vector: v4 forward+backward over 4 rows in L2 0.305 -> 0.33 ns/logit).
#[inline(never)]
fn map_row_large<W: Vector, T: Element>(
    dst: &mut GradDst<'_, T, f32>,
    start: usize,
    len: usize,
    ahead: usize,
    f: &impl Fn(usize, W) -> W,
) {
    let mut buf = Block::new();
    let buf = &mut buf.0;
    match dst {
        GradDst::Buffer { x, grad } => {
            let pf = |i: usize| {
                super::arch::prefetch::<false, T>(x.as_ptr(), (start + ahead + i) * size_of::<T>())
            };
            let (xs, gs) = (&x[start..start + len], &mut grad[start..start + len]);
            match T::as_f32(xs) {
                Some(xf) => map_to::<W>(xf, gs, 0, f, &pf),
                None => {
                    for (k, ch) in xs.chunks(BUF).enumerate() {
                        T::load_block(ch, buf);
                        map_to::<W>(&buf[..ch.len()], &mut gs[k * BUF..k * BUF + ch.len()], k * BUF, f, &pf);
                    }
                }
            }
            super::arch::stream_fence();
        }
        GradDst::InPlace(x) => {
            let (row, rest) = x[start..].split_at_mut(len);
            // The next tile's logits, `ahead - len` into what follows the row.
            let pf = |i: usize| {
                super::arch::prefetch::<false, T>(
                    rest.as_ptr(),
                    (ahead.wrapping_sub(len) + i) * size_of::<T>(),
                )
            };
            match T::as_f32_mut(row) {
                Some(xf) => map_in::<W>(xf, 0, f, &pf),
                None => {
                    for (k, ch) in row.chunks_mut(BUF).enumerate() {
                        T::load_block(ch, buf);
                        map_in::<W>(&mut buf[..ch.len()], k * BUF, f, &pf);
                        T::store_block(&buf[..ch.len()], ch);
                    }
                }
            }
        }
    }
}

/// The gradient of one position at its target slot (see [`Coef`]).
#[inline]
/// `raw` is the target's logit before capping: the chain factor `1 - tanh(x / s)^2` comes
/// from it as in the vector pass (not from `x' / s`, which loses the digits a subnormal `x'`
/// lacks, nor as `1 - th * th`, which cancels to 0 where `th` rounds to 1).
fn target_slot(k: &Coef<f32>, raw: f32, cap: Option<f32>, w: Option<&[f32]>) -> f32 {
    let lp = (k.xt - k.max) - k.lse_rel;
    let cw = if k.c == 0.0 { 0.0 } else { k.c * w.map_or(1.0, |w| w[k.t]) };
    let g = k.a * libm::expm1f(lp) + (k.a - k.k) - cw;
    match cap {
        Some(s) => {
            let mut d = [0.0f32; 16];
            cap_v(V::splat(raw), s).1.to_lanes(&mut d);
            g * d[0]
        }
        None => g,
    }
}

/// `chain * (a*p - c*w)` for a vector of logits, `p = exp((x' - m) - lse_rel)`.
#[cfg_attr(not(xent_opt0), inline(always))]
fn grad_v<W: Vector>(x: W, m: W, lse: W, a: W, cw: W, cap: Option<f32>) -> W {
    match cap {
        None => a * ((x - m) - lse).exp_le0_fast() - cw,
        Some(s) => {
            let (xc, d) = cap_v(x, s);
            (a * ((xc - m) - lse).exp_le0_fast() - cw) * d
        }
    }
}

/// Gradient rows of `LANES` column positions (see [`cols_stats`]).
#[cfg_attr(not(xent_opt0), inline(always))]
fn cols_grad<W: Vector, T: Element>(
    dst: &mut GradDst<'_, T, f32>,
    base: usize,
    stride: usize,
    classes: usize,
    coef: &[Coef<f32>],
    cap: Option<f32>,
    w: Option<&[f32]>,
) {
    let l = W::LANES;
    let lane = |f: fn(&Coef<f32>) -> f32| {
        let mut a = [0.0f32; 16];
        for q in 0..l {
            a[q] = f(&coef[q]);
        }
        W::load_or(&a, 0.0)
    };
    let (m, lse, a, c) = (lane(|k| k.max), lane(|k| k.lse_rel), lane(|k| k.a), lane(|k| k.c));
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
        let cw = W::select(c.eq(W::splat(0.0)), W::splat(0.0), c * W::splat(w.map_or(1.0, |w| w[cls])));
        let x: W = load_at(dst_input(dst), i);
        store_at(dst, i, grad_v(x, m, lse, a, cw, cap));
    }
    // The target slots of all lanes at once ([`target_slot`] lane by lane, with a vector
    // `expm1`), then written one by one.
    let (xt, kk) = (lane(|k| k.xt), lane(|k| k.k));
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

#[cfg_attr(not(xent_opt0), inline(always))]
fn dst_input<'a, T: Element>(dst: &'a GradDst<'_, T, f32>) -> &'a [T] {
    dst.input()
}

/// Maximal runs `(q0, run, base)` of positions `p0 + q0 ..` that are contiguous in memory
/// for each class (the same `n` of a channel-first layout); `base` is the index of the
/// run's first logit of class 0, and the class stride is `inner`.
struct ColumnRuns {
    lay: Layout,
    p0: usize,
    k: usize,
    q: usize,
}

impl ColumnRuns {
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn new(lay: Layout, p0: usize, k: usize) -> Self {
        Self { lay, p0, k, q: 0 }
    }
}

impl Iterator for ColumnRuns {
    type Item = (usize, usize, usize);

    #[cfg_attr(not(xent_opt0), inline(always))]
    fn next(&mut self) -> Option<Self::Item> {
        if self.q >= self.k {
            return None;
        }
        let (q, p) = (self.q, self.p0 + self.q);
        // One division per run: the run's first logit, then the run is contiguous.
        let (base, _) = self.lay.row(p);
        let i = p % self.lay.inner();
        let run = (self.k - q).min(self.lay.inner() - i);
        self.q += run;
        Some((q, run, base))
    }
}

/// The positions `p0 .. p0 + k` of a channel-first layout as `(q, n, base)`: groups of
/// `n = LANES` positions contiguous for each class (`base` the index of the group's first
/// logit of class 0, class stride `lay.inner()`), and `n < LANES` for what is left at the
/// end of each contiguous run (for the scalar twin). An iterator, not a closure: a closure
/// holding the gradient destination cost the column gradient 10% (4.45 against 4.03
/// ns/logit, channel-first C = 4 forward+backward, v4).
struct ColumnGroups {
    runs: ColumnRuns,
    q: usize,
    end: usize,
    shift: usize,
}

impl ColumnGroups {
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn new(lay: Layout, p0: usize, k: usize) -> Self {
        Self { runs: ColumnRuns::new(lay, p0, k), q: 0, end: 0, shift: 0 }
    }
}

impl Iterator for ColumnGroups {
    type Item = (usize, usize, usize);

    #[cfg_attr(not(xent_opt0), inline(always))]
    fn next(&mut self) -> Option<Self::Item> {
        if self.q >= self.end {
            let (q0, run, base0) = self.runs.next()?;
            (self.q, self.end, self.shift) = (q0, q0 + run, base0.wrapping_sub(q0));
        }
        let (q, n) = (self.q, V::LANES.min(self.end - self.q));
        self.q += n;
        Some((q, n, self.shift.wrapping_add(q)))
    }
}

/// The per-lane sums of [`Engine::soft_stats`] over `LANES` column positions: two sweeps
/// over the classes (the maximum, then one exp per logit with `Σ w t'` and
/// `Σ w t' (x - max)`), each position in one lane (K = C + 3 in the documented bound).
#[allow(clippy::too_many_arguments)]
#[cfg_attr(not(xent_opt0), inline(always))]
fn cols_soft_stats<W: Vector, T: Element, U: Element>(
    x: &[T],
    t: &[U],
    base: usize,
    stride: usize,
    classes: usize,
    eps: f32,
    w: Option<&[f32]>,
    out: &mut [SoftStats<f32>],
) {
    let uni = W::splat(if classes > 0 { eps / classes as f32 } else { 0.0 });
    let keep = W::splat(1.0 - eps);
    let mut m = W::splat(f32::NEG_INFINITY);
    for c in 0..classes {
        m = W::max_nan_b(load_at(x, base + c * stride), m);
    }
    let zero = W::splat(0.0);
    let (mut s, mut swt, mut swtx) = (zero, zero, zero);
    for c in 0..classes {
        let i = base + c * stride;
        let d = load_at::<W, T>(x, i) - m;
        s = add_exp(s, d);
        let wt = W::splat(w.map_or(1.0, |w| w[c])) * load_at::<W, U>(t, i).mul_add(keep, uni);
        swt = swt + wt;
        swtx = wt.mul_add(d, swtx);
    }
    // `ln_fast` maps NaN's bits to a finite value: `s - s` carries the NaN through.
    #[allow(clippy::eq_op)]
    let lse = s.ln_fast() + (s - s);
    let mut lanes = [[0.0f32; 16]; 4];
    m.to_lanes(&mut lanes[0]);
    lse.to_lanes(&mut lanes[1]);
    swt.to_lanes(&mut lanes[2]);
    swtx.to_lanes(&mut lanes[3]);
    for (q, o) in out.iter_mut().enumerate().take(W::LANES) {
        *o = SoftStats { max: lanes[0][q], lse_rel: lanes[1][q], swt: lanes[2][q], swtx: lanes[3][q] };
    }
}

/// [`Engine::soft_grad`] over `LANES` column positions: `a p - s w t'` a class at a time.
#[allow(clippy::too_many_arguments)]
#[cfg_attr(not(xent_opt0), inline(always))]
fn cols_soft_grad<W: Vector, T: Element, U: Element>(
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
    let lane = |f: fn(&SoftCoef<f32>) -> f32| {
        let mut a = [0.0f32; 16];
        for (d, k) in a.iter_mut().zip(coef.iter().take(l)) {
            *d = f(k);
        }
        W::load_or(&a, 0.0)
    };
    let (m, lse, a, s) = (lane(|k| k.max), lane(|k| k.lse_rel), lane(|k| k.a), lane(|k| k.s));
    let uni = W::splat(if classes > 0 { eps / classes as f32 } else { 0.0 });
    let keep = W::splat(1.0 - eps);
    for c in 0..classes {
        let i = base + c * stride;
        let x: W = load_at(dst_input(dst), i);
        let wt = W::splat(w.map_or(1.0, |w| w[c])) * load_at::<W, U>(t, i).mul_add(keep, uni);
        let g = a * ((x - m) - lse).exp_le0_fast() - s * wt;
        store_at(dst, i, g);
    }
}

/// Log-softmax (`log`) or softmax of `LANES` column positions from their statistics.
#[cfg_attr(not(xent_opt0), inline(always))]
fn cols_normalize<W: Vector, T: Element>(
    x: &[T],
    base: usize,
    stride: usize,
    classes: usize,
    st: &[Stats<f32>],
    log: bool,
    out: &mut [f32],
) {
    let (mut m, mut lse) = ([0.0f32; 16], [0.0f32; 16]);
    for (q, s) in st.iter().enumerate().take(W::LANES) {
        (m[q], lse[q]) = (s.max, s.lse_rel);
    }
    let (m, lse) = (W::load_or(&m, 0.0), W::load_or(&lse, 0.0));
    for c in 0..classes {
        let i = base + c * stride;
        let lp = (load_at::<W, T>(x, i) - m) - lse;
        let v = if log { lp } else { lp.exp_le0() };
        v.store(&mut out[i..i + W::LANES]);
    }
}

/// [`Engine::soft_stats`] of the SIMD engine on a channel-first layout. Out of line (as
/// are the two below): inlined, it cost the row path of the same method 5% more
/// instructions.
#[inline(never)]
fn soft_stats_cols<T: Element, U: Element>(
    x: &[T],
    t: &[U],
    lay: Layout,
    p0: usize,
    eps: f32,
    w: Option<&[f32]>,
    out: &mut [SoftStats<f32>],
) {
    let classes = lay.classes();
    for (q, n, base) in ColumnGroups::new(lay, p0, out.len()) {
        if n == V::LANES {
            cols_soft_stats::<V, T, U>(x, t, base, lay.inner(), classes, eps, w, &mut out[q..]);
        } else {
            Scalar::soft_stats(x, t, lay, p0 + q, eps, w, &mut out[q..q + n]);
        }
    }
}

/// [`Engine::soft_grad`] of the SIMD engine on a channel-first layout.
#[inline(never)]
fn soft_grad_cols<T: Element, U: Element>(
    dst: &mut GradDst<'_, T, f32>,
    t: &[U],
    lay: Layout,
    p0: usize,
    coef: &[SoftCoef<f32>],
    eps: f32,
    w: Option<&[f32]>,
) {
    let classes = lay.classes();
    for (q, n, base) in ColumnGroups::new(lay, p0, coef.len()) {
        if n == V::LANES {
            cols_soft_grad::<V, T, U>(dst, t, base, lay.inner(), classes, &coef[q..], eps, w);
        } else {
            Scalar::soft_grad(dst, t, lay, p0 + q, &coef[q..q + n], eps, w);
        }
    }
}

/// [`Engine::normalize`] of the SIMD engine on a channel-first layout.
#[inline(never)]
fn normalize_cols<T: Element>(
    x: &[T],
    lay: Layout,
    p0: usize,
    st: &[Stats<f32>],
    log: bool,
    out: &mut [f32],
) {
    let classes = lay.classes();
    for (q, n, base) in ColumnGroups::new(lay, p0, st.len()) {
        if n == V::LANES {
            cols_normalize::<V, T>(x, base, lay.inner(), classes, &st[q..], log, out);
        } else {
            Scalar::normalize(x, lay, p0 + q, &st[q..q + n], log, out);
        }
    }
}

/// Writes the vector `g` at `i ..` of a gradient destination (rounded to `T` in place).
#[cfg_attr(not(xent_opt0), inline(always))]
fn store_at<W: Vector, T: Element>(dst: &mut GradDst<'_, T, f32>, i: usize, g: W) {
    let l = W::LANES;
    match dst {
        GradDst::Buffer { grad, .. } => g.store(&mut grad[i..i + l]),
        GradDst::InPlace(xs) => {
            let mut tmp = [0.0f32; 16];
            g.store(&mut tmp);
            T::store_block(&tmp[..l], &mut xs[i..i + l]);
        }
    }
}

/// [`ce_sum_n`] of rows with at most [`SMALL_C`] classes: whole tiles of [`TILE`] rows
/// transposed into columns. Out of line (called once per 256 positions): inlined, its
/// tiles and transposes sat in the frame of every row forward (a Cortex-M4F keeps them on
/// the stack: rows of 19 classes took 0.8 KiB more).
#[inline(never)]
fn ce_sum_tiles<T: Element, const N: usize>(
    x: &[T],
    lay: Layout,
    p0: usize,
    tv: &[f32],
    w: Option<&[f32]>,
) -> f32 {
    // The class count as the constant `N` where there is one (`lay.classes() == N`).
    let (classes, l) = (if N > 0 { N } else { lay.classes() }, V::LANES);
    // Small C: whole tiles of TILE rows transposed into columns.
    let (mut sum, mut vsum) = (Acc::new(), VAcc::<V>::new());
    let mut buf = [0.0f32; SMALL_C * TILE];
    let mut cols = [[f32x8::ZERO; TILE / 8]; N];
    let mut lp = LnProd::<V>::new();
    for (j, tvj) in tv.chunks(TILE).enumerate() {
        let pj = p0 + j * TILE;
        if tvj.len() < TILE {
            sum.add(ce_sum_from_stats::<Simd, f32, T>(x, lay, pj, tvj, w));
            continue;
        }
        if N > 0
            && let Some(t) = x.get(pj * N..(pj + TILE) * N + 8)
        {
            // A known class count: the tile's columns stay in registers.
            transpose_tile_regs::<T, N>(t, &mut cols);
            let mut g = 0;
            if w.is_none() {
                // Unweighted: one `ln` per `LN_GROUPS` groups, across tiles (C = 10
                // rows in L2, Intel Xeon, v4: 0.455 -> 0.400 ns/logit).
                while g < TILE {
                    let col = |c: usize| V::from_eights(&cols[c][g / 8..]);
                    if lp.push::<N>(col, V::load_or(&tvj[g..], -1.0)) {
                        vsum.add(lp.take());
                    }
                    g += l;
                }
                continue;
            }
            while g < TILE {
                let tvv = V::load_or(&tvj[g..], -1.0);
                let col = |c: usize| V::from_eights(&cols[c][g / 8..]);
                let p = col_sweeps(N, col, tvv, Want::default(), None);
                vsum.add(pass_ce(&p, N, &tvj[g..], w));
                g += l;
            }
            continue;
        }
        transpose_tile(x, pj, classes, &mut buf);
        let mut g = 0;
        while g < TILE {
            vsum.add(cols_ce_sum::<V, f32, N>(&buf, g, TILE, classes, &tvj[g..], w, false));
            g += l;
        }
    }
    if lp.k > 0 {
        vsum.add(lp.take());
    }
    sum.add(vsum.total());
    sum.get()
}

/// [`Engine::ce_sum`] of the SIMD engine, with the class count `N` known at compile time
/// (`N == lay.classes()`) or 0 when it is not. Out of line (called once per 256
/// positions): inlined into the loss driver, the channel-first C = 4 forward took 2% more
/// instructions.
#[inline(never)]
fn ce_sum_n<T: Element, const N: usize>(
    x: &[T],
    lay: Layout,
    p0: usize,
    tv: &[f32],
    w: Option<&[f32]>,
) -> f32 {
    let classes = lay.classes();
    debug_assert!(N == 0 || N == classes);
    debug_assert!(classes < COLUMN_MAX_C);
    let l = V::LANES;
    let k = tv.len();
    if lay.inner() == 1 {
        if classes > SMALL_C || !TILE.is_multiple_of(l) {
            return ce_sum_from_stats::<Simd, f32, T>(x, lay, p0, tv, w);
        }
        return ce_sum_tiles::<T, N>(x, lay, p0, tv, w);
    }
    let (mut sum, mut vsum) = (Acc::new(), VAcc::<V>::new());
    // The runs themselves, not `ColumnGroups`: 6% fewer instructions on the channel-first
    // C = 4 forward (the icount gate's `ce_fwd_f32_nchw`).
    for (q0, run, base0) in ColumnRuns::new(lay, p0, k) {
        let mut q = q0;
        if N > 0
            && let Some(xf) = T::as_f32(x)
        {
            q += cols_ce_sum_run::<V, N>(xf, base0, lay.inner(), run, &tv[q0..q0 + run], w, &mut vsum);
        }
        while q + l <= q0 + run {
            let (base, stride) = (base0 + (q - q0), lay.inner());
            vsum.add(cols_ce_sum::<V, T, N>(x, base, stride, classes, &tv[q..], w, true));
            q += l;
        }
        if q < q0 + run {
            sum.add(ce_sum_from_stats::<Simd, f32, T>(x, lay, p0 + q, &tv[q..q0 + run], w));
        }
    }
    sum.add(vsum.total());
    sum.get()
}

macro_rules! row_sums_dispatch {
    ($w:ty, $t:ty, $row:expr, $tt:expr, $cap:expr, $wt:expr, $want:expr) => {{
        match ($want.sx, $want.rank, $cap) {
            (false, false, None) => row_sums_blocked::<$w, $t, false, false, false>($row, $tt, 0.0, $wt),
            (true, false, None) => row_sums_blocked::<$w, $t, true, false, false>($row, $tt, 0.0, $wt),
            (false, true, None) => row_sums_blocked::<$w, $t, false, true, false>($row, $tt, 0.0, $wt),
            (true, true, None) => row_sums_blocked::<$w, $t, true, true, false>($row, $tt, 0.0, $wt),
            (false, false, Some(c)) => row_sums_blocked::<$w, $t, false, false, true>($row, $tt, c, $wt),
            (true, false, Some(c)) => row_sums_blocked::<$w, $t, true, false, true>($row, $tt, c, $wt),
            (false, true, Some(c)) => row_sums_blocked::<$w, $t, false, true, true>($row, $tt, c, $wt),
            (true, true, Some(c)) => row_sums_blocked::<$w, $t, true, true, true>($row, $tt, c, $wt),
        }
    }};
}

// `binary` and `first_outside_unit` are `#[inline(never)]` (measured together): called
// once per 1024 elements, inlined into the loss loop by one code-generation unit (or LTO)
// their vector loops lost registers (BCE forward+backward 11% more instructions, BCE with
// logits 6%, than out of line; only bf16 BCE with logits gains inlined, 3%). The
// other entry points were measured both ways and left to LLVM (no case moved; inlining
// `soft_stats` saves a third of a 4096-class probability-target forward).
impl Engine<f32> for Simd {
    fn cap(v: f32, s: f32) -> f32 {
        cap_s::<V>(v, Some(s))
    }

    fn class_stats<T: Element>(
        x: &[T],
        lay: Layout,
        p0: usize,
        tgt: &[usize],
        cap: Option<f32>,
        w: Option<&[f32]>,
        want: Want,
        out: &mut [Stats<f32>],
    ) {
        let classes = lay.classes();
        let l = V::LANES;
        if lay.inner() == 1 {
            if classes <= SMALL_C && out.len() == TILE && TILE.is_multiple_of(l) {
                let mut buf = [0.0f32; SMALL_C * TILE];
                transpose_tile(x, p0, classes, &mut buf);
                let mut g = 0;
                while g < TILE {
                    cols_stats::<V, f32>(&buf, g, TILE, classes, &tgt[g..], cap, w, want, &mut out[g..]);
                    g += l;
                }
                return;
            }
            match T::as_f32(x) {
                Some(xf)
                    if (PIPELINE_MIN_C..=SUB).contains(&classes)
                        && !want.sx
                        && !want.rank
                        && cap.is_none() =>
                {
                    rows_plain_ahead::<V>(xf, p0, classes, tgt, out);
                }
                _ => {
                    for (q, st) in out.iter_mut().enumerate() {
                        let row = &x[(p0 + q) * classes..(p0 + q + 1) * classes];
                        *st = row_sums_dispatch!(V, T, row, tgt[q], cap, w, want);
                    }
                }
            }
            ln_of_sums::<V>(out);
            return;
        }
        if classes >= COLUMN_MAX_C {
            return Scalar::class_stats(x, lay, p0, tgt, cap, w, want, out);
        }
        for (q, n, base) in ColumnGroups::new(lay, p0, out.len()) {
            if n == l {
                cols_stats::<V, T>(x, base, lay.inner(), classes, &tgt[q..], cap, w, want, &mut out[q..]);
            } else {
                Scalar::class_stats(x, lay, p0 + q, &tgt[q..q + n], cap, w, want, &mut out[q..q + n]);
            }
        }
    }

    fn ce_sum<T: Element>(x: &[T], lay: Layout, p0: usize, tv: &[f32], w: Option<&[f32]>) -> f32 {
        // The column kernels' class count as a constant where it is small and common
        // (measured: C = 4 channel-first and C = 10 rows, see `col_sweeps`).
        match lay.classes() {
            2 => ce_sum_n::<T, 2>(x, lay, p0, tv, w),
            3 => ce_sum_n::<T, 3>(x, lay, p0, tv, w),
            4 => ce_sum_n::<T, 4>(x, lay, p0, tv, w),
            10 => ce_sum_n::<T, 10>(x, lay, p0, tv, w),
            _ => ce_sum_n::<T, 0>(x, lay, p0, tv, w),
        }
    }

    fn class_grad<T: Element>(
        dst: &mut GradDst<'_, T, f32>,
        lay: Layout,
        p0: usize,
        coef: &[Coef<f32>],
        cap: Option<f32>,
        w: Option<&[f32]>,
    ) {
        let classes = lay.classes();
        let l = V::LANES;
        if lay.inner() == 1 {
            if classes <= SMALL_C && coef.len() == TILE && TILE.is_multiple_of(l) {
                // Small C: the tile transposed into columns, its gradient taken there in
                // place (as channel-first positions), and transposed back: a row of 10
                // logits was a call's worth of fixed cost per row (C = 10 forward+backward
                // 5.57 -> 2.67 ns/logit, C = 4 13.2 -> 4.8, v4).
                let mut buf = [0.0f32; SMALL_C * TILE];
                transpose_tile(dst_input(dst), p0, classes, &mut buf);
                let mut cols = GradDst::<f32, f32>::InPlace(&mut buf);
                let mut g = 0;
                while g < TILE {
                    cols_grad::<V, f32>(&mut cols, g, TILE, classes, &coef[g..], cap, w);
                    g += l;
                }
                let tile = p0 * classes..(p0 + TILE) * classes;
                match dst {
                    GradDst::Buffer { grad, .. } => untranspose_tile(&buf, classes, &mut grad[tile]),
                    GradDst::InPlace(xs) => untranspose_tile(&buf, classes, &mut xs[tile]),
                }
                return;
            }
            for (q, k) in coef.iter().enumerate() {
                let start = (p0 + q) * classes;
                let (m, lse, a) = (V::splat(k.max), V::splat(k.lse_rel), V::splat(k.a));
                let c = V::splat(k.c);
                // Read before the row is written (in place, it is overwritten).
                let raw = if k.t < classes { dst_input(dst)[start + k.t].to_f32() } else { 0.0 };
                match w {
                    Some(w) if k.c != 0.0 => {
                        map_row::<V, T>(dst, start, classes, coef.len() * classes, |j, x| {
                            grad_v(x, m, lse, a, c * V::load_or(&w[j..], 0.0), cap)
                        })
                    }
                    _ => map_row::<V, T>(dst, start, classes, coef.len() * classes, |_, x| {
                        grad_v(x, m, lse, a, c, cap)
                    }),
                }
                if k.t < classes {
                    put(dst, start + k.t, target_slot(k, raw, cap, w));
                }
            }
            return;
        }
        // The runs themselves, not `ColumnGroups`: 2-3% on a channel-first C = 4
        // forward+backward (4.05 against 4.17 ns/logit, v4).
        for (q0, run, base0) in ColumnRuns::new(lay, p0, coef.len()) {
            let mut q = q0;
            while q + l <= q0 + run {
                let (base, stride) = (base0 + (q - q0), lay.inner());
                cols_grad::<V, T>(dst, base, stride, classes, &coef[q..], cap, w);
                q += l;
            }
            if q < q0 + run {
                Scalar::class_grad(dst, lay, p0 + q, &coef[q..q0 + run], cap, w);
            }
        }
    }

    fn soft_stats<T: Element, U: Element>(
        x: &[T],
        t: &[U],
        lay: Layout,
        p0: usize,
        eps: f32,
        w: Option<&[f32]>,
        out: &mut [SoftStats<f32>],
    ) {
        let classes = lay.classes();
        if lay.inner() != 1 {
            return soft_stats_cols(x, t, lay, p0, eps, w, out);
        }
        let uni = if classes > 0 { eps / classes as f32 } else { 0.0 };
        let keep = V::splat(1.0 - eps);
        for (q, st) in out.iter_mut().enumerate() {
            let start = (p0 + q) * classes;
            let row = &x[start..start + classes];
            let s = row_sums_blocked::<V, T, false, false, false>(row, NO_TARGET, 0.0, None);
            let s = Stats { lse_rel: libm::logf(s.lse_rel), ..s };
            let m = V::splat(s.max);
            let (mut swt, mut swtx) = (V::splat(0.0), V::splat(0.0));
            for_blocks(row, |off, blk| {
                let mut i = 0;
                while i < blk.len() {
                    let valid = first_lanes::<V>(blk.len() - i);
                    let xv = V::load_or(&blk[i..], 0.0);
                    let tv: V = load_at(t, start + off + i);
                    let wv = match w {
                        Some(w) => V::load_or(&w[off + i..], 0.0),
                        None => V::splat(1.0),
                    };
                    let wt = V::select(valid, wv * tv.mul_add(keep, V::splat(uni)), V::splat(0.0));
                    swt += wt;
                    swtx += V::select(valid, wt * (xv - m), V::splat(0.0));
                    i += V::LANES;
                }
            });
            *st =
                SoftStats { max: s.max, lse_rel: s.lse_rel, swt: swt.reduce_add(), swtx: swtx.reduce_add() };
        }
    }

    fn soft_grad<T: Element, U: Element>(
        dst: &mut GradDst<'_, T, f32>,
        t: &[U],
        lay: Layout,
        p0: usize,
        coef: &[SoftCoef<f32>],
        eps: f32,
        w: Option<&[f32]>,
    ) {
        let classes = lay.classes();
        if lay.inner() != 1 {
            return soft_grad_cols(dst, t, lay, p0, coef, eps, w);
        }
        let uni = V::splat(if classes > 0 { eps / classes as f32 } else { 0.0 });
        let keep = V::splat(1.0 - eps);
        for (q, k) in coef.iter().enumerate() {
            let start = (p0 + q) * classes;
            let (m, lse, a, s) = (V::splat(k.max), V::splat(k.lse_rel), V::splat(k.a), V::splat(k.s));
            map_row::<V, T>(dst, start, classes, coef.len() * classes, |j, x| {
                let tv: V = load_at(t, start + j);
                let wv = match w {
                    Some(w) => V::load_or(&w[j..], 0.0),
                    None => V::splat(1.0),
                };
                a * ((x - m) - lse).exp_le0_fast() - s * wv * tv.mul_add(keep, uni)
            });
        }
    }

    fn normalize<T: Element>(x: &[T], lay: Layout, p0: usize, st: &[Stats<f32>], log: bool, out: &mut [f32]) {
        let classes = lay.classes();
        if lay.inner() != 1 {
            return normalize_cols(x, lay, p0, st, log, out);
        }
        let mut dst = GradDst::Buffer { x, grad: out };
        let ahead = st.len() * classes;
        for (q, s) in st.iter().enumerate() {
            let start = (p0 + q) * classes;
            let (m, lse) = (V::splat(s.max), V::splat(s.lse_rel));
            if log {
                map_row::<V, T>(&mut dst, start, classes, ahead, |_, x| (x - m) - lse);
            } else {
                map_row::<V, T>(&mut dst, start, classes, ahead, |_, x| ((x - m) - lse).exp_le0());
            }
        }
    }

    #[inline(never)]
    fn binary<T: Element>(
        kind: Binary<f32>,
        x: &[T],
        y: &[T],
        i0: usize,
        w: Option<&[f32]>,
        pw: Option<&[f32]>,
        per: Option<&mut [f32]>,
        grad: Option<(&mut [f32], f32)>,
    ) -> Result<f32, Error> {
        match (per, grad) {
            (None, None) => binary_run::<V, T, false, false>(kind, x, y, i0, w, pw, &mut [], &mut [], 0.0),
            (Some(p), None) => binary_run::<V, T, true, false>(kind, x, y, i0, w, pw, p, &mut [], 0.0),
            (None, Some((g, s))) => binary_run::<V, T, false, true>(kind, x, y, i0, w, pw, &mut [], g, s),
            (Some(p), Some((g, s))) => binary_run::<V, T, true, true>(kind, x, y, i0, w, pw, p, g, s),
        }
    }

    #[inline(never)]
    fn first_outside_unit<T: Element>(v: &[T]) -> Option<usize> {
        // Whole-buffer vector test (no branch per vector); the scalar scan finds the
        // position only when something is outside.
        let (zero, one) = (V::splat(0.0), V::splat(1.0));
        let inside = |f: &[f32]| {
            let (vecs, tail) = V::split(f);
            let mut ok = one.eq(one);
            for a in vecs {
                let x = V::from_arr(a);
                // NaN fails both comparisons.
                ok = ok & x.ge(zero) & one.ge(x);
            }
            ok.all_set() && tail.iter().all(|t| (0.0..=1.0).contains(t))
        };
        let clean = match T::as_f32(v) {
            Some(f) => inside(f),
            None => {
                let mut buf = Block::new();
                let buf = &mut buf.0;
                v.chunks(BUF).all(|ch| {
                    T::load_block(ch, &mut buf[..ch.len()]);
                    inside(&buf[..ch.len()])
                })
            }
        };
        if clean { None } else { <Scalar as Engine<f32>>::first_outside_unit(v) }
    }
}
