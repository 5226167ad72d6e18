//! Lane helpers below both the row and the column kernels: tail masks, soft-capping, the
//! exp sums, PyTorch's special rows, the NaN-carrying `ln`, the lane maximum and the
//! element gradient.

use crate::simd::vector::Vector;

/// Lane indices, for tail masks.
pub(crate) const IOTA: [f32; 16] = [0., 1., 2., 3., 4., 5., 6., 7., 8., 9., 10., 11., 12., 13., 14., 15.];

/// Mask of the first `n` lanes.
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn first_lanes<W: Vector>(n: usize) -> W {
    W::load_or(&IOTA, 0.0).lt(W::splat(n as f32))
}

/// `s * tanh(x / s)` and its derivative `1 - tanh(x / s)^2`.
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn cap_v<W: Vector>(x: W, cap: f32) -> (W, W) {
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
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn cap_s<W: Vector>(x: f32, cap: Option<f32>) -> f32 {
    match cap {
        Some(s) => {
            let mut a = [0.0f32; 16];
            cap_v(W::splat(x), s).0.to_lanes(&mut a);
            a[0]
        }
        None => x,
    }
}

/// PyTorch's special rows: `(max, sum)` of a non-empty row whose sum is 0 (every logit
/// `-inf`) or whose max is `+inf` gives NaN, as `x - max` does there.
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn fix_special(classes: usize, m: f32, s: f32) -> (f32, f32) {
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

/// How far ahead the row sweeps, the column passes and the binary losses ask for their
/// input ([`prefetch`](crate::simd::arch::prefetch), into L1): far enough to cover memory
/// latency at the sweep's speed, near enough to stay in L1 (docs/PERF_NOTES.md, "Prefetch
/// distance").
pub(crate) const PREFETCH_BYTES: usize = 8192;

/// `acc + exp(t)` for `t <= 4` ([`Vector::exp_parts_sum`]), the scale and the add in one
/// FMA; no flush to 0 (terms below `exp(-87.3)` are tiny positive values, which vanish in
/// a sum anyway).
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn add_exp<W: Vector>(acc: W, t: W) -> W {
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
pub(crate) fn add_exp_hi<W: Vector>(acc: W, t: W) -> W {
    let (e, scale) = t.clamp_exp_arg().exp_parts_sum();
    e.mul_add(scale, acc)
}

/// The largest lane, by a halving tree of `>` (a NaN lane loses every comparison, so it is
/// ignored unless every lane is NaN).
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn lane_max<W: Vector>(v: W) -> f32 {
    let mut a = [f32::NEG_INFINITY; 16];
    v.to_lanes(&mut a);
    let mut n = W::LANES;
    while n > 1 {
        n /= 2;
        for i in 0..n {
            // The larger, or the one that is not NaN. Branches, not `f32::max`: they are
            // predicted and keep the compare chain off the block's critical path (the
            // exp sweep waits for this maximum); the branch-free form slowed f16 rows,
            // whose blocks are short.
            let (x, y) = (a[i], a[i + n]);
            a[i] = if y > x || x.is_nan() { y } else { x };
        }
    }
    a[0]
}

/// `ln s` for `s` positive or NaN, NaN carried through (`ln_fast` maps NaN's bits to a
/// finite value, `s - s` brings it back).
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn ln_nan<W: Vector>(s: W) -> W {
    #[allow(clippy::eq_op)]
    let nan_or_0 = s - s;
    s.ln_fast() + nan_or_0
}

/// `chain * (a*p - c*w)` for a vector of logits, `p = exp((x' - m) - lse_rel)`.
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn grad_v<W: Vector>(x: W, m: W, lse: W, a: W, cw: W, cap: Option<f32>) -> W {
    grad_p_v(x, m, lse, a, cw, cap).0
}

/// [`grad_v`] and the probability `p` it is made from.
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn grad_p_v<W: Vector>(x: W, m: W, lse: W, a: W, cw: W, cap: Option<f32>) -> (W, W) {
    match cap {
        None => {
            let p = ((x - m) - lse).exp_le0_fast();
            (a * p - cw, p)
        }
        Some(s) => {
            let (xc, d) = cap_v(x, s);
            let p = ((xc - m) - lse).exp_le0_fast();
            ((a * p - cw) * d, p)
        }
    }
}
