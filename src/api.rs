//! The public losses and primitives, each a thin wrapper over its driver in `loss/` running
//! the fast engine (`simd/`). Their scalar twins, same names, are in [`crate::scalar`].

use crate::engine::Binary;
use crate::loss::primitives::Op;
use crate::loss::{Io, binary, class, nll, primitives, probs};
use crate::simd::Simd;
use crate::{
    BceOptions, BceWithLogitsOptions, ClassIndex, CrossEntropyOptions, Element, Error, Layout, NllOptions,
    ProbsOptions, SigmoidFocalOptions, SoftmaxFocalOptions,
};

/// Cross-entropy of logits against class-index targets, reduced by `opts.reduction`.
///
/// Per position `n` with target `y` (not `ignore_index`), over logits `x` (soft-capped to
/// `s*tanh(x/s)` first if `opts.softcap` is set), `lp = log_softmax(x)`:
/// `loss_n = (1-eps) * w[y] * (-lp[y]) + (eps/C) * Σ_c w[c] * (-lp[c]) + z * lse^2`.
/// `Mean` divides the cross-entropy part by `Σ w[y]` over counted positions (PyTorch's
/// weighted mean) and the z-loss part by their count. All positions ignored, or none at
/// all: `Mean` is NaN (as in PyTorch), `Sum` is 0.
///
/// # Errors
///
/// [`Error::LengthMismatch`] if `logits`, `targets` or the weight disagree with the layout;
/// [`Error::TargetOutOfRange`] for the first target outside `0..C` that is not
/// `ignore_index`; [`Error::InvalidOption`] for smoothing outside `[0, 1]`, a negative or
/// non-finite z-loss, a soft-cap that is not finite and positive.
///
/// # Examples
///
/// ```
/// use xent::{cross_entropy, CrossEntropyOptions, Layout};
///
/// let logits = [0.0_f32, -2.0794, -2.0794, -1.2528, 0.0, -1.9459, -1.9459, -1.2528, 0.0];
/// let loss = cross_entropy(&logits, Layout::rows(3, 3), &[0_i64, 1, 2], &CrossEntropyOptions::new())?;
/// assert!((loss - 0.3121630).abs() < 1e-6);
///
/// // Class weights: PyTorch's weighted mean divides by Σ w[y].
/// let w = [0.6_f32, 0.38];
/// let opts = CrossEntropyOptions::new().with_weight(Some(&w));
/// let loss = cross_entropy(&[3.0_f32, 4.0, 6.0, 9.0], Layout::rows(2, 2), &[1_i64, 0], &opts)?;
/// assert!((loss - 1.9879508).abs() < 1e-5);
///
/// // One row, target 0.
/// let loss = cross_entropy(&[3.4_f32, 1.5, 0.4, 0.1], Layout::unbatched(4), &[0_i64], &CrossEntropyOptions::new())?;
/// assert!((loss - 0.2120735).abs() < 1e-6);
/// # Ok::<(), xent::Error>(())
/// ```
pub fn cross_entropy<T: Element, I: ClassIndex>(
    logits: &[T],
    layout: Layout,
    targets: &[I],
    opts: &CrossEntropyOptions<'_>,
) -> Result<f32, Error> {
    class::run::<Simd, f32, T, I>(
        Io::Fwd(logits),
        layout,
        targets,
        class::Spec::ce(opts)?,
        None,
        class::LseIo::None,
    )
}

/// Per-position cross-entropy (PyTorch's `reduction="none"`) into `out`, one loss per
/// position (0 at ignored positions); `opts.reduction` is not used.
///
/// # Errors
///
/// As [`cross_entropy`], and [`Error::LengthMismatch`] if `out` is not one per position.
///
/// # Examples
///
/// ```
/// use xent::{cross_entropy_per_position, CrossEntropyOptions, Layout};
/// let x = [1.0_f32, 2.0, 3.0, 1.0, -1.0, 0.5];
/// let mut out = [0.0_f32; 2];
/// cross_entropy_per_position(&x, Layout::rows(2, 3), &[2_i64, -100], &CrossEntropyOptions::new(), &mut out)?;
/// assert!((out[0] - 0.40760596).abs() < 1e-6);
/// assert_eq!(out[1], 0.0);
/// # Ok::<(), xent::Error>(())
/// ```
pub fn cross_entropy_per_position<T: Element, I: ClassIndex>(
    logits: &[T],
    layout: Layout,
    targets: &[I],
    opts: &CrossEntropyOptions<'_>,
    out: &mut [f32],
) -> Result<(), Error> {
    let spec = class::Spec::ce(opts)?;
    class::run::<Simd, f32, T, I>(Io::Fwd(logits), layout, targets, spec, Some(out), class::LseIo::None)
        .map(drop)
}

/// Fused forward and backward: returns the reduced loss and writes its gradient with
/// respect to the logits into `grad` (the logits' layout). Each position's log-sum-exp is
/// computed once. For per-position losses with an upstream gradient of ones (PyTorch's
/// `reduction="none"` then `.sum().backward()`), use `Reduction::Sum`.
///
/// Ignored positions get a zero gradient row, except that NaN or `+inf` logits there give
/// NaN, as in PyTorch (pytorch#11551).
///
/// # Errors
///
/// As [`cross_entropy`], and [`Error::LengthMismatch`] if `grad` is not the logits' length.
///
/// # Examples
///
/// ```
/// use xent::{cross_entropy_with_grad, CrossEntropyOptions, Layout};
/// let x = [1.0_f32, 2.0, 3.0, 1.0, -1.0, 0.5];
/// let mut grad = [0.0_f32; 6];
/// let loss = cross_entropy_with_grad(&x, Layout::rows(2, 3), &[2_i64, 0], &CrossEntropyOptions::new(), &mut grad)?;
/// assert!((loss - 0.48128144).abs() < 1e-6);
/// assert!((grad[2] - -0.1673795).abs() < 1e-6); // (p - 1) / 2 at the first target
/// # Ok::<(), xent::Error>(())
/// ```
pub fn cross_entropy_with_grad<T: Element, I: ClassIndex>(
    logits: &[T],
    layout: Layout,
    targets: &[I],
    opts: &CrossEntropyOptions<'_>,
    grad: &mut [f32],
) -> Result<f32, Error> {
    let spec = class::Spec::ce(opts)?;
    class::run::<Simd, f32, T, I>(Io::buffer(logits, grad), layout, targets, spec, None, class::LseIo::None)
}

/// [`cross_entropy_with_grad`] writing the gradient over the logits themselves (rounded
/// once to `T`), so a large-vocabulary step needs no second buffer.
///
/// # Errors
///
/// As [`cross_entropy`]. On error the logits are left unchanged.
///
/// # Examples
///
/// ```
/// use xent::{cross_entropy_with_grad_in_place, CrossEntropyOptions, Layout};
/// let mut x = [1.0_f32, 2.0, 3.0];
/// let loss = cross_entropy_with_grad_in_place(&mut x, Layout::rows(1, 3), &[2_i64], &CrossEntropyOptions::new())?;
/// assert!((loss - 0.40760596).abs() < 1e-6);
/// assert!((x.iter().sum::<f32>()).abs() < 1e-6); // softmax - onehot sums to 0
/// # Ok::<(), xent::Error>(())
/// ```
pub fn cross_entropy_with_grad_in_place<T: Element, I: ClassIndex>(
    logits: &mut [T],
    layout: Layout,
    targets: &[I],
    opts: &CrossEntropyOptions<'_>,
) -> Result<f32, Error> {
    let spec = class::Spec::ce(opts)?;
    let io = Io::Grad(crate::engine::GradDst::InPlace(logits));
    class::run::<Simd, f32, T, I>(io, layout, targets, spec, None, class::LseIo::None)
}

/// [`cross_entropy`] that also writes each position's log-sum-exp (of the soft-capped
/// logits) into `lse`, so that a later [`cross_entropy_backward`] is a single pass.
///
/// # Errors
///
/// As [`cross_entropy`], and [`Error::LengthMismatch`] (`what = "lse"`) if `lse` is not one
/// per position.
///
/// # Examples
///
/// ```
/// use xent::{cross_entropy_with_lse, CrossEntropyOptions, Layout};
/// let mut lse = [0.0_f32; 2];
/// let x = [0.0_f32, 0.0, 1.0, 1.0];
/// let loss = cross_entropy_with_lse(&x, Layout::rows(2, 2), &[0_i64, 1], &CrossEntropyOptions::new(), &mut lse)?;
/// assert!((loss - core::f32::consts::LN_2).abs() < 1e-6);
/// assert!((lse[1] - (1.0 + core::f32::consts::LN_2)).abs() < 1e-6);
/// # Ok::<(), xent::Error>(())
/// ```
pub fn cross_entropy_with_lse<T: Element, I: ClassIndex>(
    logits: &[T],
    layout: Layout,
    targets: &[I],
    opts: &CrossEntropyOptions<'_>,
    lse: &mut [f32],
) -> Result<f32, Error> {
    let spec = class::Spec::ce(opts)?;
    class::run::<Simd, f32, T, I>(Io::Fwd(logits), layout, targets, spec, None, class::LseIo::Out(lse))
}

/// The backward of [`cross_entropy`] from the per-position log-sum-exps written by
/// [`cross_entropy_with_lse`]: one pass over the logits, writing the gradient of the loss
/// reduced by `opts.reduction` into `grad` (the same values as
/// [`cross_entropy_with_grad`]). `p_j = exp(x_j - lse)` then carries a relative error of
/// about `|lse| eps` more than the fused path, where `x - max` is exact; where `p_t > 1/2`
/// and that error would show in the target slot (above `1e-7` plus `2e-6` of it), the slot
/// takes `1 - p_t` as `Σ_{j != t} p_j`, summed as the row is written, so that the error
/// stays relative to the slot's own size as `p_t -> 1`.
///
/// # Errors
///
/// As [`cross_entropy_with_lse`], and [`Error::LengthMismatch`] for `grad`.
///
/// # Examples
///
/// ```
/// use xent::{cross_entropy_backward, cross_entropy_with_lse, cross_entropy_with_grad, CrossEntropyOptions, Layout};
/// let x = [1.0_f32, 2.0, 3.0, 1.0, -1.0, 0.5];
/// let (lay, t, o) = (Layout::rows(2, 3), [2_i64, 0], CrossEntropyOptions::new().with_label_smoothing(0.1));
/// let mut lse = [0.0_f32; 2];
/// cross_entropy_with_lse(&x, lay, &t, &o, &mut lse)?;
/// let (mut g, mut fused) = ([0.0_f32; 6], [0.0_f32; 6]);
/// cross_entropy_backward(&x, lay, &t, &o, &lse, &mut g)?;
/// cross_entropy_with_grad(&x, lay, &t, &o, &mut fused)?;
/// assert!(g.iter().zip(&fused).all(|(a, b)| (a - b).abs() < 1e-6));
/// # Ok::<(), xent::Error>(())
/// ```
pub fn cross_entropy_backward<T: Element, I: ClassIndex>(
    logits: &[T],
    layout: Layout,
    targets: &[I],
    opts: &CrossEntropyOptions<'_>,
    lse: &[f32],
    grad: &mut [f32],
) -> Result<(), Error> {
    let spec = class::Spec::ce(opts)?;
    let io = Io::buffer(logits, grad);
    class::run::<Simd, f32, T, I>(io, layout, targets, spec, None, class::LseIo::In(lse)).map(drop)
}

/// [`cross_entropy_backward`] writing the gradient over the logits (rounded once to `T`).
///
/// # Errors
///
/// As [`cross_entropy_backward`]. On error the logits are left unchanged.
///
/// # Examples
///
/// ```
/// use xent::{cross_entropy_backward_in_place, cross_entropy_with_lse, CrossEntropyOptions, Layout};
/// let mut x = [1.0_f32, 2.0, 3.0];
/// let (lay, t, o) = (Layout::unbatched(3), [2_i64], CrossEntropyOptions::new());
/// let mut lse = [0.0_f32; 1];
/// cross_entropy_with_lse(&x, lay, &t, &o, &mut lse)?;
/// cross_entropy_backward_in_place(&mut x, lay, &t, &o, &lse)?;
/// assert!((x[2] - -0.334759).abs() < 1e-6); // p - 1 at the target
/// # Ok::<(), xent::Error>(())
/// ```
pub fn cross_entropy_backward_in_place<T: Element, I: ClassIndex>(
    logits: &mut [T],
    layout: Layout,
    targets: &[I],
    opts: &CrossEntropyOptions<'_>,
    lse: &[f32],
) -> Result<(), Error> {
    let spec = class::Spec::ce(opts)?;
    let io = Io::Grad(crate::engine::GradDst::InPlace(logits));
    class::run::<Simd, f32, T, I>(io, layout, targets, spec, None, class::LseIo::In(lse)).map(drop)
}

/// Cross-entropy against probability (soft) targets of the logits' layout.
///
/// Per position `loss_n = -Σ_c w[c] * t'[c] * log_softmax(x)[c]` with
/// `t' = t*(1-eps) + eps/C`. `Mean` divides by the number of positions, **never** by a
/// weight sum (unlike the class-index [`cross_entropy`]: pytorch#107680). Targets are not
/// validated (negative or unnormalised rows are used as given), and a zero target at a
/// `-inf` logit gives NaN (`0 * -inf`), as in PyTorch.
///
/// # Errors
///
/// [`Error::LengthMismatch`] if `logits`, `targets` or the weight disagree with the
/// layout; [`Error::InvalidOption`] for smoothing outside `[0, 1]`.
///
/// # Examples
///
/// ```
/// use xent::{cross_entropy_probs, Layout, ProbsOptions};
/// let x = [0.8_f32, 0.2, 0.3, 0.7, 0.7, 0.3];
/// let t = [1.0_f32, 0.0, 0.0, 1.0, 1.0, 0.0];
/// let loss = cross_entropy_probs(&x, Layout::rows(3, 2), &t, &ProbsOptions::new())?;
/// assert!((loss - 0.4878395).abs() < 1e-6);
/// # Ok::<(), xent::Error>(())
/// ```
pub fn cross_entropy_probs<T: Element, U: Element>(
    logits: &[T],
    layout: Layout,
    targets: &[U],
    opts: &ProbsOptions<'_>,
) -> Result<f32, Error> {
    probs::run::<Simd, f32, T, U>(Io::Fwd(logits), layout, targets, opts, None)
}

/// Per-position [`cross_entropy_probs`] into `out`; `opts.reduction` is not used.
///
/// # Errors
///
/// As [`cross_entropy_probs`], and [`Error::LengthMismatch`] for `out`.
///
/// # Examples
///
/// ```
/// use xent::{cross_entropy_probs_per_position, Layout, ProbsOptions};
/// let mut out = [0.0_f32; 1];
/// cross_entropy_probs_per_position(&[0.0_f32, 0.0], Layout::rows(1, 2), &[0.5_f32, 0.5], &ProbsOptions::new(), &mut out)?;
/// assert!((out[0] - core::f32::consts::LN_2).abs() < 1e-6);
/// # Ok::<(), xent::Error>(())
/// ```
pub fn cross_entropy_probs_per_position<T: Element, U: Element>(
    logits: &[T],
    layout: Layout,
    targets: &[U],
    opts: &ProbsOptions<'_>,
    out: &mut [f32],
) -> Result<(), Error> {
    probs::run::<Simd, f32, T, U>(Io::Fwd(logits), layout, targets, opts, Some(out)).map(drop)
}

/// Fused forward and backward of [`cross_entropy_probs`]: returns the loss and writes
/// `s * (p_j * Σ_c w_c t'_c - w_j t'_j)` into `grad`.
///
/// # Errors
///
/// As [`cross_entropy_probs`], and [`Error::LengthMismatch`] for `grad`.
///
/// # Examples
///
/// ```
/// use xent::{cross_entropy_probs_with_grad, Layout, ProbsOptions};
/// let mut g = [0.0_f32; 2];
/// cross_entropy_probs_with_grad(&[0.0_f32, 0.0], Layout::rows(1, 2), &[1.0_f32, 0.0], &ProbsOptions::new(), &mut g)?;
/// assert!((g[0] + 0.5).abs() < 1e-6 && (g[1] - 0.5).abs() < 1e-6);
/// # Ok::<(), xent::Error>(())
/// ```
pub fn cross_entropy_probs_with_grad<T: Element, U: Element>(
    logits: &[T],
    layout: Layout,
    targets: &[U],
    opts: &ProbsOptions<'_>,
    grad: &mut [f32],
) -> Result<f32, Error> {
    probs::run::<Simd, f32, T, U>(Io::buffer(logits, grad), layout, targets, opts, None)
}

/// Negative log-likelihood of log-probabilities against class-index targets:
/// `loss_n = -w[y] * input[n, y]` (the input is not checked to be a log-probability).
/// `Mean` divides by `Σ w[y]` over counted positions.
///
/// # Errors
///
/// As [`cross_entropy`] (no option can be invalid).
///
/// # Examples
///
/// ```
/// use xent::{nll_loss, Layout, NllOptions};
/// let p = [0.8_f32, 0.1, 0.1, 0.2, 0.7, 0.1, 0.1, 0.2, 0.7];
/// let lp = p.map(f32::ln);
/// let loss = nll_loss(&lp, Layout::rows(3, 3), &[0_i64, 1, 2], &NllOptions::new())?;
/// assert!((loss - 0.3121645).abs() < 1e-6);
/// # Ok::<(), xent::Error>(())
/// ```
pub fn nll_loss<T: Element, I: ClassIndex>(
    input: &[T],
    layout: Layout,
    targets: &[I],
    opts: &NllOptions<'_>,
) -> Result<f32, Error> {
    nll::run::<f32, T, I>(input, layout, targets, opts, None, None)
}

/// Per-position [`nll_loss`] into `out`; `opts.reduction` is not used.
///
/// # Errors
///
/// As [`nll_loss`], and [`Error::LengthMismatch`] for `out`.
///
/// # Examples
///
/// ```
/// use xent::{nll_loss_per_position, Layout, NllOptions};
/// let mut out = [0.0_f32; 1];
/// nll_loss_per_position(&[10.0_f32, 20.0], Layout::rows(1, 2), &[1_i64], &NllOptions::new(), &mut out)?;
/// assert_eq!(out, [-20.0]);
/// # Ok::<(), xent::Error>(())
/// ```
pub fn nll_loss_per_position<T: Element, I: ClassIndex>(
    input: &[T],
    layout: Layout,
    targets: &[I],
    opts: &NllOptions<'_>,
    out: &mut [f32],
) -> Result<(), Error> {
    nll::run::<f32, T, I>(input, layout, targets, opts, Some(out), None).map(drop)
}

/// [`nll_loss`] and its gradient with respect to the input (`-w[y] * s` at each counted
/// target, 0 elsewhere) written into `grad`.
///
/// # Errors
///
/// As [`nll_loss`], and [`Error::LengthMismatch`] for `grad`.
///
/// # Examples
///
/// ```
/// use xent::{nll_loss_with_grad, Layout, NllOptions};
/// let mut g = [1.0_f32; 4];
/// nll_loss_with_grad(&[-0.5_f32, -1.0, -2.0, -0.1], Layout::rows(2, 2), &[1_i64, 0], &NllOptions::new(), &mut g)?;
/// assert_eq!(g, [0.0, -0.5, -0.5, 0.0]);
/// # Ok::<(), xent::Error>(())
/// ```
pub fn nll_loss_with_grad<T: Element, I: ClassIndex>(
    input: &[T],
    layout: Layout,
    targets: &[I],
    opts: &NllOptions<'_>,
    grad: &mut [f32],
) -> Result<f32, Error> {
    nll::run::<f32, T, I>(input, layout, targets, opts, None, Some(grad))
}

/// Binary cross-entropy of probabilities `p` against targets `y` of the same length:
/// `loss_i = -w_i * [y * max(ln p, -100) + (1-y) * max(ln(1-p), -100)]` (PyTorch's clamp),
/// `Mean` over elements. Inputs are loaded, computed and accumulated in f32, so f16 inputs
/// get the exact answer (PyTorch's f16 kernel rounds every step).
///
/// # Errors
///
/// [`Error::ValueOutOfRange`] for the first `p` or `y` outside `[0, 1]` or NaN
/// (`what = "input"` or `"target"`); [`Error::LengthMismatch`] if the lengths disagree or
/// the weight's length does not divide the input's.
///
/// # Examples
///
/// ```
/// use half::f16;
/// use xent::{binary_cross_entropy, BceOptions};
///
/// let p = [0.9_f32, 0.2, 0.8, 0.7, 0.1].map(f16::from_f32);
/// let y = [1.0_f32, 0.0, 1.0, 1.0, 0.0].map(f16::from_f32);
/// let loss = binary_cross_entropy(&p, &y, &BceOptions::new())?;
/// assert!((loss - 0.2027337).abs() < 1e-6); // PyTorch's f16 kernel prints 0.2027588
///
/// let loss = binary_cross_entropy(&[0.1582_f32, 0.4139, 0.2287], &[0.0_f32, 1.0, 0.0], &BceOptions::new())?;
/// assert!((loss - 0.4380072).abs() < 1e-6);
/// # Ok::<(), xent::Error>(())
/// ```
pub fn binary_cross_entropy<T: Element>(p: &[T], y: &[T], opts: &BceOptions<'_>) -> Result<f32, Error> {
    binary::run::<Simd, f32, T>(Binary::Bce, p, y, opts.weight, None, opts.reduction, None, None)
}

/// Per-element [`binary_cross_entropy`] into `out`; `opts.reduction` is not used.
///
/// # Errors
///
/// As [`binary_cross_entropy`], and [`Error::LengthMismatch`] for `out`.
///
/// # Examples
///
/// ```
/// use xent::{binary_cross_entropy_per_position, BceOptions};
/// let mut out = [0.0_f32; 3];
/// binary_cross_entropy_per_position(&[0.0_f32, 1.0, 0.0], &[1.0_f32, 0.0, 0.0], &BceOptions::new(), &mut out)?;
/// assert_eq!(out, [100.0, 100.0, 0.0]); // the -100 clamp
/// # Ok::<(), xent::Error>(())
/// ```
pub fn binary_cross_entropy_per_position<T: Element>(
    p: &[T],
    y: &[T],
    opts: &BceOptions<'_>,
    out: &mut [f32],
) -> Result<(), Error> {
    binary::run::<Simd, f32, T>(Binary::Bce, p, y, opts.weight, None, opts.reduction, Some(out), None)
        .map(drop)
}

/// [`binary_cross_entropy`] and its gradient `w * (p - y) / max((1-p)*p, 1e-12)` (scaled
/// for the mean) into `grad`. Like PyTorch, the gradient ignores the -100 clamp.
///
/// # Errors
///
/// As [`binary_cross_entropy`], and [`Error::LengthMismatch`] for `grad`.
///
/// # Examples
///
/// ```
/// use xent::{binary_cross_entropy_with_grad, BceOptions, Reduction};
/// let mut g = [0.0_f32; 1];
/// let o = BceOptions::new().with_reduction(Reduction::Sum);
/// binary_cross_entropy_with_grad(&[0.0_f32], &[1.0_f32], &o, &mut g)?;
/// assert_eq!(g[0], -1.0 / 1e-12_f32);
/// # Ok::<(), xent::Error>(())
/// ```
pub fn binary_cross_entropy_with_grad<T: Element>(
    p: &[T],
    y: &[T],
    opts: &BceOptions<'_>,
    grad: &mut [f32],
) -> Result<f32, Error> {
    binary::run::<Simd, f32, T>(Binary::Bce, p, y, opts.weight, None, opts.reduction, None, Some(grad))
}

/// Binary cross-entropy on logits:
/// `loss_i = w_i * [(1-y) * x - (1 + (pw-1)*y) * logsigmoid(x)]`, `Mean` over elements.
/// Targets are not validated; there is no clamp (the loss grows linearly in `|x|`).
///
/// # Errors
///
/// [`Error::LengthMismatch`] if the lengths disagree or a weight's length does not divide
/// the input's.
///
/// # Examples
///
/// ```
/// use xent::{binary_cross_entropy_with_logits, BceWithLogitsOptions};
/// let x = [1.7_f32; 12 * 66];
/// let y = [1.0_f32; 12 * 66];
/// let pw = [1.0_f32; 66];
/// let o = BceWithLogitsOptions::new().with_pos_weight(Some(&pw));
/// let loss = binary_cross_entropy_with_logits(&x, &y, &o)?;
/// assert!((loss - 0.1677860).abs() < 1e-6);
/// # Ok::<(), xent::Error>(())
/// ```
pub fn binary_cross_entropy_with_logits<T: Element>(
    x: &[T],
    y: &[T],
    opts: &BceWithLogitsOptions<'_>,
) -> Result<f32, Error> {
    let (w, pw) = (opts.weight, opts.pos_weight);
    binary::run::<Simd, f32, T>(Binary::BceLogits, x, y, w, pw, opts.reduction, None, None)
}

/// Per-element [`binary_cross_entropy_with_logits`] into `out`.
///
/// # Errors
///
/// As [`binary_cross_entropy_with_logits`], and [`Error::LengthMismatch`] for `out`.
///
/// # Examples
///
/// ```
/// use xent::{binary_cross_entropy_with_logits_per_position, BceWithLogitsOptions};
/// let mut out = [0.0_f32; 2];
/// binary_cross_entropy_with_logits_per_position(&[50.0_f32, -120.0], &[0.0_f32, 1.0], &BceWithLogitsOptions::new(), &mut out)?;
/// assert_eq!(out, [50.0, 120.0]);
/// # Ok::<(), xent::Error>(())
/// ```
pub fn binary_cross_entropy_with_logits_per_position<T: Element>(
    x: &[T],
    y: &[T],
    opts: &BceWithLogitsOptions<'_>,
    out: &mut [f32],
) -> Result<(), Error> {
    let (w, pw) = (opts.weight, opts.pos_weight);
    binary::run::<Simd, f32, T>(Binary::BceLogits, x, y, w, pw, opts.reduction, Some(out), None).map(drop)
}

/// [`binary_cross_entropy_with_logits`] and its gradient
/// `w * ((1 + (pw-1)*y) * sigmoid(x) - pw*y)` (scaled for the mean) into `grad`.
///
/// # Errors
///
/// As [`binary_cross_entropy_with_logits`], and [`Error::LengthMismatch`] for `grad`.
///
/// # Examples
///
/// ```
/// use xent::{binary_cross_entropy_with_logits_with_grad, BceWithLogitsOptions, Reduction};
/// let mut g = [0.0_f32; 2];
/// let o = BceWithLogitsOptions::new().with_reduction(Reduction::Sum);
/// binary_cross_entropy_with_logits_with_grad(&[0.0_f32, 0.0], &[1.0_f32, 0.0], &o, &mut g)?;
/// assert_eq!(g, [-0.5, 0.5]);
/// # Ok::<(), xent::Error>(())
/// ```
pub fn binary_cross_entropy_with_logits_with_grad<T: Element>(
    x: &[T],
    y: &[T],
    opts: &BceWithLogitsOptions<'_>,
    grad: &mut [f32],
) -> Result<f32, Error> {
    let (w, pw) = (opts.weight, opts.pos_weight);
    binary::run::<Simd, f32, T>(Binary::BceLogits, x, y, w, pw, opts.reduction, None, Some(grad))
}

/// torchvision's sigmoid focal loss: `ce * (1 - p_t)^gamma`, times
/// `alpha*y + (1-alpha)*(1-y)` when `alpha >= 0`, with `ce` the BCE on logits and
/// `p_t = p*y + (1-p)*(1-y)`. `Mean` over elements.
///
/// # Errors
///
/// [`Error::LengthMismatch`] if the lengths disagree; [`Error::InvalidOption`] for a
/// negative or non-finite `gamma` or a NaN `alpha`.
///
/// # Examples
///
/// ```
/// use xent::{sigmoid_focal_loss, SigmoidFocalOptions};
/// let o = SigmoidFocalOptions::new().with_alpha(-1.0).with_gamma(0.0); // plain BCE on logits
/// let loss = sigmoid_focal_loss(&[0.0_f32], &[1.0_f32], &o)?;
/// assert!((loss - core::f32::consts::LN_2).abs() < 1e-6);
/// # Ok::<(), xent::Error>(())
/// ```
pub fn sigmoid_focal_loss<T: Element>(x: &[T], y: &[T], opts: &SigmoidFocalOptions) -> Result<f32, Error> {
    let kind = binary::focal(opts.alpha, opts.gamma)?;
    binary::run::<Simd, f32, T>(kind, x, y, None, None, opts.reduction, None, None)
}

/// Per-element [`sigmoid_focal_loss`] into `out`.
///
/// # Errors
///
/// As [`sigmoid_focal_loss`], and [`Error::LengthMismatch`] for `out`.
///
/// # Examples
///
/// ```
/// use xent::{sigmoid_focal_loss_per_position, SigmoidFocalOptions};
/// let mut out = [0.0_f32; 2];
/// sigmoid_focal_loss_per_position(&[4.0_f32, -4.0], &[1.0_f32, 1.0], &SigmoidFocalOptions::new(), &mut out)?;
/// assert!(out[0] < out[1]); // the easy example is down-weighted
/// # Ok::<(), xent::Error>(())
/// ```
pub fn sigmoid_focal_loss_per_position<T: Element>(
    x: &[T],
    y: &[T],
    opts: &SigmoidFocalOptions,
    out: &mut [f32],
) -> Result<(), Error> {
    let kind = binary::focal(opts.alpha, opts.gamma)?;
    binary::run::<Simd, f32, T>(kind, x, y, None, None, opts.reduction, Some(out), None).map(drop)
}

/// [`sigmoid_focal_loss`] and its gradient with respect to the logits into `grad`.
///
/// # Errors
///
/// As [`sigmoid_focal_loss`], and [`Error::LengthMismatch`] for `grad`.
///
/// # Examples
///
/// ```
/// use xent::{sigmoid_focal_loss_with_grad, SigmoidFocalOptions};
/// let mut g = [0.0_f32; 1];
/// sigmoid_focal_loss_with_grad(&[0.0_f32], &[1.0_f32], &SigmoidFocalOptions::new(), &mut g)?;
/// assert!(g[0] < 0.0);
/// # Ok::<(), xent::Error>(())
/// ```
pub fn sigmoid_focal_loss_with_grad<T: Element>(
    x: &[T],
    y: &[T],
    opts: &SigmoidFocalOptions,
    grad: &mut [f32],
) -> Result<f32, Error> {
    let kind = binary::focal(opts.alpha, opts.gamma)?;
    binary::run::<Simd, f32, T>(kind, x, y, None, None, opts.reduction, None, Some(grad))
}

/// Softmax (multi-class) focal loss: `loss_n = -w[y] * (1 - p_t)^gamma * log p_t` with
/// `log p_t = log_softmax(x_n)[y]`; `gamma = 0` is exactly [`cross_entropy`]. `Mean`
/// divides by `Σ w[y]` over counted positions.
///
/// # Errors
///
/// As [`cross_entropy`]; [`Error::InvalidOption`] for a negative or non-finite `gamma`.
///
/// # Examples
///
/// ```
/// use xent::{softmax_focal_loss, Layout, SoftmaxFocalOptions};
/// let x = [3.4_f32, 1.5, 0.4, 0.1];
/// let ce = softmax_focal_loss(&x, Layout::unbatched(4), &[0_i64], &SoftmaxFocalOptions::new().with_gamma(0.0))?;
/// assert!((ce - 0.2120735).abs() < 1e-6);
/// let focal = softmax_focal_loss(&x, Layout::unbatched(4), &[0_i64], &SoftmaxFocalOptions::new())?;
/// assert!(focal < ce / 10.0);
/// # Ok::<(), xent::Error>(())
/// ```
pub fn softmax_focal_loss<T: Element, I: ClassIndex>(
    logits: &[T],
    layout: Layout,
    targets: &[I],
    opts: &SoftmaxFocalOptions<'_>,
) -> Result<f32, Error> {
    class::run::<Simd, f32, T, I>(
        Io::Fwd(logits),
        layout,
        targets,
        class::Spec::focal(opts)?,
        None,
        class::LseIo::None,
    )
}

/// Per-position [`softmax_focal_loss`] into `out`.
///
/// # Errors
///
/// As [`softmax_focal_loss`], and [`Error::LengthMismatch`] for `out`.
///
/// # Examples
///
/// ```
/// use xent::{softmax_focal_loss_per_position, Layout, SoftmaxFocalOptions};
/// let mut out = [1.0_f32; 2];
/// softmax_focal_loss_per_position(&[0.0_f32, 0.0, 1.0, 1.0], Layout::rows(2, 2), &[0_i64, -100], &SoftmaxFocalOptions::new(), &mut out)?;
/// assert!((out[0] - 0.25 * core::f32::consts::LN_2).abs() < 1e-6);
/// assert_eq!(out[1], 0.0);
/// # Ok::<(), xent::Error>(())
/// ```
pub fn softmax_focal_loss_per_position<T: Element, I: ClassIndex>(
    logits: &[T],
    layout: Layout,
    targets: &[I],
    opts: &SoftmaxFocalOptions<'_>,
    out: &mut [f32],
) -> Result<(), Error> {
    let spec = class::Spec::focal(opts)?;
    class::run::<Simd, f32, T, I>(Io::Fwd(logits), layout, targets, spec, Some(out), class::LseIo::None)
        .map(drop)
}

/// Fused forward and backward of [`softmax_focal_loss`] into `grad`.
///
/// # Errors
///
/// As [`softmax_focal_loss`], and [`Error::LengthMismatch`] for `grad`.
///
/// # Examples
///
/// ```
/// use xent::{softmax_focal_loss_with_grad, Layout, SoftmaxFocalOptions};
/// let mut g = [0.0_f32; 3];
/// softmax_focal_loss_with_grad(&[1.0_f32, 2.0, 3.0], Layout::unbatched(3), &[2_i64], &SoftmaxFocalOptions::new(), &mut g)?;
/// assert!(g[2] < 0.0 && g[0] > 0.0);
/// # Ok::<(), xent::Error>(())
/// ```
pub fn softmax_focal_loss_with_grad<T: Element, I: ClassIndex>(
    logits: &[T],
    layout: Layout,
    targets: &[I],
    opts: &SoftmaxFocalOptions<'_>,
    grad: &mut [f32],
) -> Result<f32, Error> {
    let spec = class::Spec::focal(opts)?;
    class::run::<Simd, f32, T, I>(Io::buffer(logits, grad), layout, targets, spec, None, class::LseIo::None)
}

/// Log-sum-exp of one row, `max + ln Σ exp(x - max)`: `-inf` for an empty row, NaN for a
/// row of `-inf` or a row holding NaN or `+inf` (see the crate docs, "NaN and infinity").
///
/// # Examples
///
/// ```
/// let lse = xent::log_sum_exp(&[0.0_f32, 0.0]);
/// assert!((lse - core::f32::consts::LN_2).abs() < 1e-6);
/// assert_eq!(xent::log_sum_exp::<f32>(&[]), f32::NEG_INFINITY);
/// ```
#[must_use]
pub fn log_sum_exp<T: Element>(row: &[T]) -> f32 {
    primitives::lse_row::<Simd, f32, T>(row)
}

/// Log-sum-exp of every position of `logits` into `out` (one per position).
///
/// # Errors
///
/// [`Error::LengthMismatch`] if `logits` or `out` disagree with the layout.
///
/// # Examples
///
/// ```
/// use xent::{log_sum_exp_into, Layout};
/// let mut out = [0.0_f32; 2];
/// // channel-first (1, 2, 2): positions are the columns
/// log_sum_exp_into(&[0.0_f32, 5.0, 0.0, 5.0], Layout::channel_first(1, 2, 2), &mut out)?;
/// assert!((out[0] - core::f32::consts::LN_2).abs() < 1e-6);
/// assert!((out[1] - (5.0 + core::f32::consts::LN_2)).abs() < 1e-6);
/// # Ok::<(), xent::Error>(())
/// ```
pub fn log_sum_exp_into<T: Element>(logits: &[T], layout: Layout, out: &mut [f32]) -> Result<(), Error> {
    primitives::run::<Simd, f32, T>(logits, layout, Op::Lse, out)
}

/// Log-softmax over the class axis, `(x - max) - ln Σ exp(x - max)`, into `out` (the
/// logits' layout).
///
/// # Errors
///
/// [`Error::LengthMismatch`] if `logits` or `out` disagree with the layout.
///
/// # Examples
///
/// ```
/// use xent::{log_softmax_into, Layout};
/// let mut out = [0.0_f32; 3];
/// log_softmax_into(&[1.0_f32, 2.0, 3.0], Layout::unbatched(3), &mut out)?;
/// assert!((out[2] - -0.40760596).abs() < 1e-6);
/// # Ok::<(), xent::Error>(())
/// ```
pub fn log_softmax_into<T: Element>(logits: &[T], layout: Layout, out: &mut [f32]) -> Result<(), Error> {
    primitives::run::<Simd, f32, T>(logits, layout, Op::LogSoftmax, out)
}

/// Softmax over the class axis into `out` (the logits' layout).
///
/// # Errors
///
/// [`Error::LengthMismatch`] if `logits` or `out` disagree with the layout.
///
/// # Examples
///
/// ```
/// use xent::{softmax_into, Layout};
/// let mut out = [0.0_f32; 2];
/// softmax_into(&[0.0_f32, 0.0], Layout::unbatched(2), &mut out)?;
/// assert_eq!(out, [0.5, 0.5]);
/// # Ok::<(), xent::Error>(())
/// ```
pub fn softmax_into<T: Element>(logits: &[T], layout: Layout, out: &mut [f32]) -> Result<(), Error> {
    primitives::run::<Simd, f32, T>(logits, layout, Op::Softmax, out)
}

/// Gathers the target logit `x[n, y_n]` of every position into `out` (0 where the target is
/// `ignore_index`).
///
/// # Errors
///
/// [`Error::LengthMismatch`] for lengths that disagree with the layout,
/// [`Error::TargetOutOfRange`] for a target outside `0..C` that is not `ignore_index`.
///
/// # Examples
///
/// ```
/// use xent::{gather, Layout};
/// let mut out = [0.0_f32; 2];
/// gather(&[1.0_f32, 2.0, 3.0, 4.0], Layout::rows(2, 2), &[1_i64, -100], -100, &mut out)?;
/// assert_eq!(out, [2.0, 0.0]);
/// # Ok::<(), xent::Error>(())
/// ```
pub fn gather<T: Element, I: ClassIndex>(
    logits: &[T],
    layout: Layout,
    targets: &[I],
    ignore_index: i64,
    out: &mut [f32],
) -> Result<(), Error> {
    primitives::gather::<f32, T, I>(logits, layout, targets, ignore_index, out)
}

/// One position's evaluation: its cross-entropy loss and the rank of its target.
///
/// `above` counts the classes whose logit is strictly greater than the target's, so the
/// prediction is top-k correct exactly when `above < k` (ties count in the target's
/// favour; a NaN logit is never above).
///
/// ```
/// let s = xent::Score { loss: 0.1, above: 0, counted: true };
/// assert!(s.top_k(1) && s.top_k(5));
/// ```
#[derive(Copy, Clone, Debug, Default, PartialEq)]
pub struct Score {
    /// `lse - x[target]` (0 at an ignored position).
    pub loss: f32,
    /// How many logits exceed the target's.
    pub above: usize,
    /// False at an ignored position.
    pub counted: bool,
}

impl Score {
    /// Whether the target is among the `k` largest logits (false when not counted).
    #[must_use]
    pub const fn top_k(&self, k: usize) -> bool {
        self.counted && self.above < k
    }
}

/// The evaluation pass: per position, the cross-entropy loss and the rank of the target
/// (see [`Score`]), computed in the **same read pass** as the log-sum-exp, so any top-k
/// accuracy costs one compare per logit and no second pass. No weights, smoothing or
/// reduction: an evaluation loop sums what it needs.
///
/// # Errors
///
/// As [`gather`].
///
/// # Examples
///
/// ```
/// use xent::{score_into, Layout, Score};
/// let x = [1.0_f32, 3.0, 2.0, 0.0, 0.0, 5.0];
/// let mut out = [Score::default(); 2];
/// score_into(&x, Layout::rows(2, 3), &[2_i64, 2], -100, &mut out)?;
/// assert_eq!((out[0].above, out[1].above), (1, 0));
/// assert!(!out[0].top_k(1) && out[0].top_k(2));
/// # Ok::<(), xent::Error>(())
/// ```
pub fn score_into<T: Element, I: ClassIndex>(
    logits: &[T],
    layout: Layout,
    targets: &[I],
    ignore_index: i64,
    out: &mut [Score],
) -> Result<(), Error> {
    primitives::score::<Simd, f32, T, I>(logits, layout, targets, ignore_index, out)
}
