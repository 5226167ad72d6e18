//! The public scalar reference path.
//!
//! Every function here is the twin of the crate-root function of the same name: the same
//! validation, options, reductions and drivers (`loss/`), but the per-element work is done
//! by plain loops (`scalar/kernels.rs`) in the real type `R` of your choice: `f32`, to see
//! what the SIMD kernels are held to, or `f64`, as an oracle. Outputs and gradients are
//! written in `R`. Tests, fuzz targets and benchmarks compare the two paths.
//!
//! ```
//! use xent::{CrossEntropyOptions, Layout};
//! let x = [1.0_f32, 2.0, 3.0, 1.0, -1.0, 0.5];
//! let opts = CrossEntropyOptions::new();
//! let fast = xent::cross_entropy(&x, Layout::rows(2, 3), &[2_i64, 0], &opts)?;
//! let oracle: f64 = xent::scalar::cross_entropy(&x, Layout::rows(2, 3), &[2_i64, 0], &opts)?;
//! assert!((f64::from(fast) - oracle).abs() < 1e-6);
//! assert!((oracle - 0.48128144204318557).abs() < 1e-7);
//! # Ok::<(), xent::Error>(())
//! ```

pub(crate) mod kernels;

use crate::engine::{Binary, GradDst};
use crate::loss::primitives::Op;
use crate::loss::{Io, binary, class, nll, primitives, probs};
use crate::{
    BceOptions, BceWithLogitsOptions, ClassIndex, CrossEntropyOptions, Element, Error, Layout, NllOptions,
    ProbsOptions, Real, SigmoidFocalOptions, SoftmaxFocalOptions,
};
use kernels::Scalar;

/// Scalar twin of [`crate::cross_entropy`].
///
/// # Errors
///
/// As [`crate::cross_entropy`].
pub fn cross_entropy<R: Real, T: Element, I: ClassIndex>(
    logits: &[T],
    layout: Layout,
    targets: &[I],
    opts: &CrossEntropyOptions<'_>,
) -> Result<R, Error> {
    class::run::<Scalar, R, T, I>(Io::Fwd(logits), layout, targets, class::Spec::ce(opts)?, None)
}

/// Scalar twin of [`crate::cross_entropy_per_position`].
///
/// # Errors
///
/// As [`crate::cross_entropy_per_position`].
pub fn cross_entropy_per_position<R: Real, T: Element, I: ClassIndex>(
    logits: &[T],
    layout: Layout,
    targets: &[I],
    opts: &CrossEntropyOptions<'_>,
    out: &mut [R],
) -> Result<(), Error> {
    let spec = class::Spec::ce(opts)?;
    class::run::<Scalar, R, T, I>(Io::Fwd(logits), layout, targets, spec, Some(out)).map(drop)
}

/// Scalar twin of [`crate::cross_entropy_with_grad`].
///
/// # Errors
///
/// As [`crate::cross_entropy_with_grad`].
pub fn cross_entropy_with_grad<R: Real, T: Element, I: ClassIndex>(
    logits: &[T],
    layout: Layout,
    targets: &[I],
    opts: &CrossEntropyOptions<'_>,
    grad: &mut [R],
) -> Result<R, Error> {
    let spec = class::Spec::ce(opts)?;
    class::run::<Scalar, R, T, I>(Io::buffer(logits, grad), layout, targets, spec, None)
}

/// Scalar twin of [`crate::cross_entropy_with_grad_in_place`] (computes in `R`, stores in
/// `T`).
///
/// # Errors
///
/// As [`crate::cross_entropy_with_grad_in_place`].
pub fn cross_entropy_with_grad_in_place<R: Real, T: Element, I: ClassIndex>(
    logits: &mut [T],
    layout: Layout,
    targets: &[I],
    opts: &CrossEntropyOptions<'_>,
) -> Result<R, Error> {
    let spec = class::Spec::ce(opts)?;
    let io = Io::Grad(GradDst::InPlace(logits));
    class::run::<Scalar, R, T, I>(io, layout, targets, spec, None)
}

/// Scalar twin of [`crate::cross_entropy_probs`].
///
/// # Errors
///
/// As [`crate::cross_entropy_probs`].
pub fn cross_entropy_probs<R: Real, T: Element, U: Element>(
    logits: &[T],
    layout: Layout,
    targets: &[U],
    opts: &ProbsOptions<'_>,
) -> Result<R, Error> {
    probs::run::<Scalar, R, T, U>(Io::Fwd(logits), layout, targets, opts, None)
}

/// Scalar twin of [`crate::cross_entropy_probs_per_position`].
///
/// # Errors
///
/// As [`crate::cross_entropy_probs_per_position`].
pub fn cross_entropy_probs_per_position<R: Real, T: Element, U: Element>(
    logits: &[T],
    layout: Layout,
    targets: &[U],
    opts: &ProbsOptions<'_>,
    out: &mut [R],
) -> Result<(), Error> {
    probs::run::<Scalar, R, T, U>(Io::Fwd(logits), layout, targets, opts, Some(out)).map(drop)
}

/// Scalar twin of [`crate::cross_entropy_probs_with_grad`].
///
/// # Errors
///
/// As [`crate::cross_entropy_probs_with_grad`].
pub fn cross_entropy_probs_with_grad<R: Real, T: Element, U: Element>(
    logits: &[T],
    layout: Layout,
    targets: &[U],
    opts: &ProbsOptions<'_>,
    grad: &mut [R],
) -> Result<R, Error> {
    probs::run::<Scalar, R, T, U>(Io::buffer(logits, grad), layout, targets, opts, None)
}

/// Scalar twin of [`crate::nll_loss`].
///
/// # Errors
///
/// As [`crate::nll_loss`].
pub fn nll_loss<R: Real, T: Element, I: ClassIndex>(
    input: &[T],
    layout: Layout,
    targets: &[I],
    opts: &NllOptions<'_>,
) -> Result<R, Error> {
    nll::run::<R, T, I>(input, layout, targets, opts, None, None)
}

/// Scalar twin of [`crate::nll_loss_per_position`].
///
/// # Errors
///
/// As [`crate::nll_loss_per_position`].
pub fn nll_loss_per_position<R: Real, T: Element, I: ClassIndex>(
    input: &[T],
    layout: Layout,
    targets: &[I],
    opts: &NllOptions<'_>,
    out: &mut [R],
) -> Result<(), Error> {
    nll::run::<R, T, I>(input, layout, targets, opts, Some(out), None).map(drop)
}

/// Scalar twin of [`crate::nll_loss_with_grad`].
///
/// # Errors
///
/// As [`crate::nll_loss_with_grad`].
pub fn nll_loss_with_grad<R: Real, T: Element, I: ClassIndex>(
    input: &[T],
    layout: Layout,
    targets: &[I],
    opts: &NllOptions<'_>,
    grad: &mut [R],
) -> Result<R, Error> {
    nll::run::<R, T, I>(input, layout, targets, opts, None, Some(grad))
}

/// Scalar twin of [`crate::binary_cross_entropy`].
///
/// # Errors
///
/// As [`crate::binary_cross_entropy`].
pub fn binary_cross_entropy<R: Real, T: Element>(
    p: &[T],
    y: &[T],
    opts: &BceOptions<'_>,
) -> Result<R, Error> {
    binary::run::<Scalar, R, T>(Binary::Bce, p, y, opts.weight, None, opts.reduction, None, None)
}

/// Scalar twin of [`crate::binary_cross_entropy_per_position`].
///
/// # Errors
///
/// As [`crate::binary_cross_entropy_per_position`].
pub fn binary_cross_entropy_per_position<R: Real, T: Element>(
    p: &[T],
    y: &[T],
    opts: &BceOptions<'_>,
    out: &mut [R],
) -> Result<(), Error> {
    binary::run::<Scalar, R, T>(Binary::Bce, p, y, opts.weight, None, opts.reduction, Some(out), None)
        .map(drop)
}

/// Scalar twin of [`crate::binary_cross_entropy_with_grad`].
///
/// # Errors
///
/// As [`crate::binary_cross_entropy_with_grad`].
pub fn binary_cross_entropy_with_grad<R: Real, T: Element>(
    p: &[T],
    y: &[T],
    opts: &BceOptions<'_>,
    grad: &mut [R],
) -> Result<R, Error> {
    binary::run::<Scalar, R, T>(Binary::Bce, p, y, opts.weight, None, opts.reduction, None, Some(grad))
}

/// Scalar twin of [`crate::binary_cross_entropy_with_logits`].
///
/// # Errors
///
/// As [`crate::binary_cross_entropy_with_logits`].
pub fn binary_cross_entropy_with_logits<R: Real, T: Element>(
    x: &[T],
    y: &[T],
    opts: &BceWithLogitsOptions<'_>,
) -> Result<R, Error> {
    let (w, pw) = (opts.weight, opts.pos_weight);
    binary::run::<Scalar, R, T>(Binary::BceLogits, x, y, w, pw, opts.reduction, None, None)
}

/// Scalar twin of [`crate::binary_cross_entropy_with_logits_per_position`].
///
/// # Errors
///
/// As [`crate::binary_cross_entropy_with_logits_per_position`].
pub fn binary_cross_entropy_with_logits_per_position<R: Real, T: Element>(
    x: &[T],
    y: &[T],
    opts: &BceWithLogitsOptions<'_>,
    out: &mut [R],
) -> Result<(), Error> {
    let (w, pw) = (opts.weight, opts.pos_weight);
    binary::run::<Scalar, R, T>(Binary::BceLogits, x, y, w, pw, opts.reduction, Some(out), None).map(drop)
}

/// Scalar twin of [`crate::binary_cross_entropy_with_logits_with_grad`].
///
/// # Errors
///
/// As [`crate::binary_cross_entropy_with_logits_with_grad`].
pub fn binary_cross_entropy_with_logits_with_grad<R: Real, T: Element>(
    x: &[T],
    y: &[T],
    opts: &BceWithLogitsOptions<'_>,
    grad: &mut [R],
) -> Result<R, Error> {
    let (w, pw) = (opts.weight, opts.pos_weight);
    binary::run::<Scalar, R, T>(Binary::BceLogits, x, y, w, pw, opts.reduction, None, Some(grad))
}

/// Scalar twin of [`crate::sigmoid_focal_loss`].
///
/// # Errors
///
/// As [`crate::sigmoid_focal_loss`].
pub fn sigmoid_focal_loss<R: Real, T: Element>(
    x: &[T],
    y: &[T],
    opts: &SigmoidFocalOptions,
) -> Result<R, Error> {
    let kind = binary::focal(opts.alpha, opts.gamma)?;
    binary::run::<Scalar, R, T>(kind, x, y, None, None, opts.reduction, None, None)
}

/// Scalar twin of [`crate::sigmoid_focal_loss_per_position`].
///
/// # Errors
///
/// As [`crate::sigmoid_focal_loss_per_position`].
pub fn sigmoid_focal_loss_per_position<R: Real, T: Element>(
    x: &[T],
    y: &[T],
    opts: &SigmoidFocalOptions,
    out: &mut [R],
) -> Result<(), Error> {
    let kind = binary::focal(opts.alpha, opts.gamma)?;
    binary::run::<Scalar, R, T>(kind, x, y, None, None, opts.reduction, Some(out), None).map(drop)
}

/// Scalar twin of [`crate::sigmoid_focal_loss_with_grad`].
///
/// # Errors
///
/// As [`crate::sigmoid_focal_loss_with_grad`].
pub fn sigmoid_focal_loss_with_grad<R: Real, T: Element>(
    x: &[T],
    y: &[T],
    opts: &SigmoidFocalOptions,
    grad: &mut [R],
) -> Result<R, Error> {
    let kind = binary::focal(opts.alpha, opts.gamma)?;
    binary::run::<Scalar, R, T>(kind, x, y, None, None, opts.reduction, None, Some(grad))
}

/// Scalar twin of [`crate::softmax_focal_loss`].
///
/// # Errors
///
/// As [`crate::softmax_focal_loss`].
pub fn softmax_focal_loss<R: Real, T: Element, I: ClassIndex>(
    logits: &[T],
    layout: Layout,
    targets: &[I],
    opts: &SoftmaxFocalOptions<'_>,
) -> Result<R, Error> {
    class::run::<Scalar, R, T, I>(Io::Fwd(logits), layout, targets, class::Spec::focal(opts)?, None)
}

/// Scalar twin of [`crate::softmax_focal_loss_per_position`].
///
/// # Errors
///
/// As [`crate::softmax_focal_loss_per_position`].
pub fn softmax_focal_loss_per_position<R: Real, T: Element, I: ClassIndex>(
    logits: &[T],
    layout: Layout,
    targets: &[I],
    opts: &SoftmaxFocalOptions<'_>,
    out: &mut [R],
) -> Result<(), Error> {
    let spec = class::Spec::focal(opts)?;
    class::run::<Scalar, R, T, I>(Io::Fwd(logits), layout, targets, spec, Some(out)).map(drop)
}

/// Scalar twin of [`crate::softmax_focal_loss_with_grad`].
///
/// # Errors
///
/// As [`crate::softmax_focal_loss_with_grad`].
pub fn softmax_focal_loss_with_grad<R: Real, T: Element, I: ClassIndex>(
    logits: &[T],
    layout: Layout,
    targets: &[I],
    opts: &SoftmaxFocalOptions<'_>,
    grad: &mut [R],
) -> Result<R, Error> {
    let spec = class::Spec::focal(opts)?;
    class::run::<Scalar, R, T, I>(Io::buffer(logits, grad), layout, targets, spec, None)
}

/// Scalar twin of [`crate::log_sum_exp`].
#[must_use]
pub fn log_sum_exp<R: Real, T: Element>(row: &[T]) -> R {
    primitives::lse_row::<Scalar, R, T>(row)
}

/// Scalar twin of [`crate::log_sum_exp_into`].
///
/// # Errors
///
/// As [`crate::log_sum_exp_into`].
pub fn log_sum_exp_into<R: Real, T: Element>(
    logits: &[T],
    layout: Layout,
    out: &mut [R],
) -> Result<(), Error> {
    primitives::run::<Scalar, R, T>(logits, layout, Op::Lse, out)
}

/// Scalar twin of [`crate::log_softmax_into`].
///
/// # Errors
///
/// As [`crate::log_softmax_into`].
pub fn log_softmax_into<R: Real, T: Element>(
    logits: &[T],
    layout: Layout,
    out: &mut [R],
) -> Result<(), Error> {
    primitives::run::<Scalar, R, T>(logits, layout, Op::LogSoftmax, out)
}

/// Scalar twin of [`crate::softmax_into`].
///
/// # Errors
///
/// As [`crate::softmax_into`].
pub fn softmax_into<R: Real, T: Element>(logits: &[T], layout: Layout, out: &mut [R]) -> Result<(), Error> {
    primitives::run::<Scalar, R, T>(logits, layout, Op::Softmax, out)
}

/// Scalar twin of [`crate::gather`].
///
/// # Errors
///
/// As [`crate::gather`].
pub fn gather<R: Real, T: Element, I: ClassIndex>(
    logits: &[T],
    layout: Layout,
    targets: &[I],
    ignore_index: i64,
    out: &mut [R],
) -> Result<(), Error> {
    primitives::gather::<R, T, I>(logits, layout, targets, ignore_index, out)
}

/// Scalar twin of [`crate::score_into`] (computes in `R`, stores the losses as f32).
///
/// # Errors
///
/// As [`crate::score_into`].
pub fn score_into<R: Real, T: Element, I: ClassIndex>(
    logits: &[T],
    layout: Layout,
    targets: &[I],
    ignore_index: i64,
    out: &mut [crate::Score],
) -> Result<(), Error> {
    primitives::score::<Scalar, R, T, I>(logits, layout, targets, ignore_index, out)
}
