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
mod sum;

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
///
/// # Examples
///
/// ```
/// use xent::{scalar, CrossEntropyOptions, Layout};
/// let x = [1.0_f32, 2.0, 3.0, 1.0, -1.0, 0.5];
/// let opts = CrossEntropyOptions::new();
/// let loss = scalar::cross_entropy::<f64, _, _>(&x, Layout::rows(2, 3), &[2_i64, 0], &opts)?;
/// assert!((loss - 0.48128144204318557).abs() < 1e-12); // PyTorch, float64
/// let fast = xent::cross_entropy(&x, Layout::rows(2, 3), &[2_i64, 0], &opts)?;
/// assert!((f64::from(fast) - loss).abs() < 1e-6);
/// # Ok::<(), xent::Error>(())
/// ```
pub fn cross_entropy<R: Real, T: Element, I: ClassIndex>(
    logits: &[T],
    layout: Layout,
    targets: &[I],
    opts: &CrossEntropyOptions<'_>,
) -> Result<R, Error> {
    class::run::<Scalar, R, T, I>(
        Io::Fwd(logits),
        layout,
        targets,
        class::Spec::ce(opts)?,
        None,
        class::LseIo::None,
    )
}

/// Scalar twin of [`crate::cross_entropy_per_position`].
///
/// # Errors
///
/// As [`crate::cross_entropy_per_position`].
///
/// # Examples
///
/// ```
/// use xent::{scalar, CrossEntropyOptions, Layout};
/// let x = [1.0_f32, 2.0, 3.0, 1.0, -1.0, 0.5];
/// let (opts, mut out) = (CrossEntropyOptions::new(), [0.0_f64; 2]);
/// scalar::cross_entropy_per_position(&x, Layout::rows(2, 3), &[2_i64, 0], &opts, &mut out)?;
/// assert!((out[0] - 0.4076059644443804).abs() < 1e-12);
/// assert!((out[1] - 0.5549569196419907).abs() < 1e-12);
/// # Ok::<(), xent::Error>(())
/// ```
pub fn cross_entropy_per_position<R: Real, T: Element, I: ClassIndex>(
    logits: &[T],
    layout: Layout,
    targets: &[I],
    opts: &CrossEntropyOptions<'_>,
    out: &mut [R],
) -> Result<(), Error> {
    let spec = class::Spec::ce(opts)?;
    class::run::<Scalar, R, T, I>(Io::Fwd(logits), layout, targets, spec, Some(out), class::LseIo::None)
        .map(drop)
}

/// Scalar twin of [`crate::cross_entropy_with_grad`].
///
/// # Errors
///
/// As [`crate::cross_entropy_with_grad`].
///
/// # Examples
///
/// ```
/// use xent::{scalar, CrossEntropyOptions, Layout};
/// let x = [1.0_f32, 2.0, 3.0, 1.0, -1.0, 0.5];
/// let (layout, opts) = (Layout::rows(2, 3), CrossEntropyOptions::new());
/// let (mut g64, mut g32) = ([0.0_f64; 6], [0.0_f32; 6]);
/// let loss = scalar::cross_entropy_with_grad(&x, layout, &[2_i64, 0], &opts, &mut g64)?;
/// xent::cross_entropy_with_grad(&x, layout, &[2_i64, 0], &opts, &mut g32)?;
/// assert!((loss - 0.48128144204318557).abs() < 1e-12);
/// assert!(g64.iter().zip(&g32).all(|(a, b)| (a - f64::from(*b)).abs() < 1e-6));
/// # Ok::<(), xent::Error>(())
/// ```
pub fn cross_entropy_with_grad<R: Real, T: Element, I: ClassIndex>(
    logits: &[T],
    layout: Layout,
    targets: &[I],
    opts: &CrossEntropyOptions<'_>,
    grad: &mut [R],
) -> Result<R, Error> {
    let spec = class::Spec::ce(opts)?;
    class::run::<Scalar, R, T, I>(Io::buffer(logits, grad), layout, targets, spec, None, class::LseIo::None)
}

/// Scalar twin of [`crate::cross_entropy_with_grad_in_place`] (computes in `R`, stores in
/// `T`).
///
/// # Errors
///
/// As [`crate::cross_entropy_with_grad_in_place`].
///
/// # Examples
///
/// ```
/// use xent::{scalar, CrossEntropyOptions, Layout};
/// let mut x = [1.0_f32, 2.0, 3.0];
/// let opts = CrossEntropyOptions::new();
/// let loss: f64 = scalar::cross_entropy_with_grad_in_place(&mut x, Layout::rows(1, 3), &[2_i64], &opts)?;
/// assert!((loss - 0.4076059644443804).abs() < 1e-12);
/// assert!((f64::from(x[2]) - ((-loss).exp() - 1.0)).abs() < 1e-7); // p_target - 1, stored as f32
/// # Ok::<(), xent::Error>(())
/// ```
pub fn cross_entropy_with_grad_in_place<R: Real, T: Element, I: ClassIndex>(
    logits: &mut [T],
    layout: Layout,
    targets: &[I],
    opts: &CrossEntropyOptions<'_>,
) -> Result<R, Error> {
    let spec = class::Spec::ce(opts)?;
    let io = Io::Grad(GradDst::InPlace(logits));
    class::run::<Scalar, R, T, I>(io, layout, targets, spec, None, class::LseIo::None)
}

/// Scalar twin of [`crate::cross_entropy_with_lse`].
///
/// # Errors
///
/// As [`crate::cross_entropy_with_lse`].
///
/// # Examples
///
/// ```
/// use xent::{scalar, CrossEntropyOptions, Layout};
/// let mut lse = [0.0_f64; 1];
/// let loss: f64 = scalar::cross_entropy_with_lse(&[1.0_f32, 2.0, 3.0], Layout::unbatched(3), &[2_i64], &CrossEntropyOptions::new(), &mut lse)?;
/// assert!((loss - 0.4076059644443804).abs() < 1e-12 && (lse[0] - 3.4076059644443804).abs() < 1e-12);
/// # Ok::<(), xent::Error>(())
/// ```
pub fn cross_entropy_with_lse<R: Real, T: Element, I: ClassIndex>(
    logits: &[T],
    layout: Layout,
    targets: &[I],
    opts: &CrossEntropyOptions<'_>,
    lse: &mut [R],
) -> Result<R, Error> {
    let spec = class::Spec::ce(opts)?;
    class::run::<Scalar, R, T, I>(Io::Fwd(logits), layout, targets, spec, None, class::LseIo::Out(lse))
}

/// Scalar twin of [`crate::cross_entropy_backward`].
///
/// # Errors
///
/// As [`crate::cross_entropy_backward`].
///
/// # Examples
///
/// ```
/// use xent::{scalar, CrossEntropyOptions, Layout};
/// let (x, lay, t, o) = ([1.0_f32, 2.0, 3.0], Layout::unbatched(3), [2_i64], CrossEntropyOptions::new());
/// let mut lse = [0.0_f64; 1];
/// scalar::cross_entropy_with_lse(&x, lay, &t, &o, &mut lse)?;
/// let mut g = [0.0_f64; 3];
/// scalar::cross_entropy_backward(&x, lay, &t, &o, &lse, &mut g)?;
/// assert!((g[2] - ((-0.4076059644443804_f64).exp() - 1.0)).abs() < 1e-12);
/// # Ok::<(), xent::Error>(())
/// ```
pub fn cross_entropy_backward<R: Real, T: Element, I: ClassIndex>(
    logits: &[T],
    layout: Layout,
    targets: &[I],
    opts: &CrossEntropyOptions<'_>,
    lse: &[R],
    grad: &mut [R],
) -> Result<(), Error> {
    let spec = class::Spec::ce(opts)?;
    let io = Io::buffer(logits, grad);
    class::run::<Scalar, R, T, I>(io, layout, targets, spec, None, class::LseIo::In(lse)).map(drop)
}

/// Scalar twin of [`crate::cross_entropy_backward_in_place`] (computes in `R`, stores in `T`).
///
/// # Errors
///
/// As [`crate::cross_entropy_backward_in_place`].
///
/// # Examples
///
/// ```
/// use xent::{scalar, CrossEntropyOptions, Layout};
/// let (mut x, lay, t, o) = ([1.0_f32, 2.0, 3.0], Layout::unbatched(3), [2_i64], CrossEntropyOptions::new());
/// let mut lse = [0.0_f64; 1];
/// scalar::cross_entropy_with_lse(&x, lay, &t, &o, &mut lse)?;
/// scalar::cross_entropy_backward_in_place(&mut x, lay, &t, &o, &lse)?;
/// assert!((x.iter().sum::<f32>()).abs() < 1e-6);
/// # Ok::<(), xent::Error>(())
/// ```
pub fn cross_entropy_backward_in_place<R: Real, T: Element, I: ClassIndex>(
    logits: &mut [T],
    layout: Layout,
    targets: &[I],
    opts: &CrossEntropyOptions<'_>,
    lse: &[R],
) -> Result<(), Error> {
    let spec = class::Spec::ce(opts)?;
    let io = Io::Grad(GradDst::InPlace(logits));
    class::run::<Scalar, R, T, I>(io, layout, targets, spec, None, class::LseIo::In(lse)).map(drop)
}

/// Scalar twin of [`crate::cross_entropy_probs`].
///
/// # Errors
///
/// As [`crate::cross_entropy_probs`].
///
/// # Examples
///
/// ```
/// use xent::{scalar, Layout, ProbsOptions};
/// let x = [1.0_f32, 2.0, 3.0, 1.0, -1.0, 0.5];
/// let t = [0.0_f32, 0.0, 1.0, 1.0, 0.0, 0.0]; // one-hot of the class targets [2, 0]
/// let loss = scalar::cross_entropy_probs::<f64, _, _>(&x, Layout::rows(2, 3), &t, &ProbsOptions::new())?;
/// assert!((loss - 0.48128144204318557).abs() < 1e-12);
/// let fast = xent::cross_entropy_probs(&x, Layout::rows(2, 3), &t, &ProbsOptions::new())?;
/// assert!((f64::from(fast) - loss).abs() < 1e-6);
/// # Ok::<(), xent::Error>(())
/// ```
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
///
/// # Examples
///
/// ```
/// use xent::{scalar, Layout, ProbsOptions};
/// let x = [1.0_f32, 2.0, 3.0, 1.0, -1.0, 0.5];
/// let t = [0.0_f32, 0.0, 1.0, 1.0, 0.0, 0.0]; // one-hot of the class targets [2, 0]
/// let mut out = [0.0_f64; 2];
/// scalar::cross_entropy_probs_per_position(&x, Layout::rows(2, 3), &t, &ProbsOptions::new(), &mut out)?;
/// assert!((out[0] - 0.4076059644443804).abs() < 1e-12);
/// assert!((out[1] - 0.5549569196419907).abs() < 1e-12);
/// # Ok::<(), xent::Error>(())
/// ```
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
///
/// # Examples
///
/// ```
/// use xent::{scalar, Layout, ProbsOptions};
/// let x = [1.0_f32, 2.0, 3.0, 1.0, -1.0, 0.5];
/// let (t, opts) = ([0.2_f32, 0.3, 0.5, 1.0, 0.0, 0.0], ProbsOptions::new());
/// let (mut g64, mut g32) = ([0.0_f64; 6], [0.0_f32; 6]);
/// let loss = scalar::cross_entropy_probs_with_grad(&x, Layout::rows(2, 3), &t, &opts, &mut g64)?;
/// let fast = xent::cross_entropy_probs_with_grad(&x, Layout::rows(2, 3), &t, &opts, &mut g32)?;
/// assert!((f64::from(fast) - loss).abs() < 1e-6);
/// assert!(g64.iter().zip(&g32).all(|(a, b)| (a - f64::from(*b)).abs() < 1e-6));
/// # Ok::<(), xent::Error>(())
/// ```
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
///
/// # Examples
///
/// ```
/// use xent::{scalar, Layout, NllOptions};
/// let lp = [-0.5_f32, -1.0, -2.0, -0.1];
/// let loss = scalar::nll_loss::<f64, _, _>(&lp, Layout::rows(2, 2), &[1_i64, 0], &NllOptions::new())?;
/// assert_eq!(loss, 1.5); // (1.0 + 2.0) / 2
/// let fast = xent::nll_loss(&lp, Layout::rows(2, 2), &[1_i64, 0], &NllOptions::new())?;
/// assert_eq!(f64::from(fast), loss);
/// # Ok::<(), xent::Error>(())
/// ```
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
///
/// # Examples
///
/// ```
/// use xent::{scalar, Layout, NllOptions};
/// let lp = [-0.5_f32, -1.0, -2.0, -0.1];
/// let mut out = [1.0_f64; 2];
/// scalar::nll_loss_per_position(&lp, Layout::rows(2, 2), &[1_i64, -100], &NllOptions::new(), &mut out)?;
/// assert_eq!(out, [1.0, 0.0]); // the second position is ignored
/// # Ok::<(), xent::Error>(())
/// ```
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
///
/// # Examples
///
/// ```
/// use xent::{scalar, Layout, NllOptions};
/// let lp = [-0.5_f32, -1.0, -2.0, -0.1];
/// let mut g = [1.0_f64; 4];
/// let loss = scalar::nll_loss_with_grad(&lp, Layout::rows(2, 2), &[1_i64, 0], &NllOptions::new(), &mut g)?;
/// assert_eq!(loss, 1.5);
/// assert_eq!(g, [0.0, -0.5, -0.5, 0.0]);
/// # Ok::<(), xent::Error>(())
/// ```
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
///
/// # Examples
///
/// ```
/// use xent::{scalar, BceOptions};
/// let (p, y) = ([0.1582_f32, 0.4139, 0.2287], [0.0_f32, 1.0, 0.0]);
/// let loss = scalar::binary_cross_entropy::<f64, _>(&p, &y, &BceOptions::new())?;
/// assert!((loss - 0.4380072).abs() < 1e-6); // PyTorch
/// let fast = xent::binary_cross_entropy(&p, &y, &BceOptions::new())?;
/// assert!((f64::from(fast) - loss).abs() < 1e-6);
/// # Ok::<(), xent::Error>(())
/// ```
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
///
/// # Examples
///
/// ```
/// use xent::{scalar, BceOptions};
/// let (p, y) = ([0.0_f32, 1.0, 0.5], [1.0_f32, 0.0, 1.0]);
/// let mut out = [0.0_f64; 3];
/// scalar::binary_cross_entropy_per_position(&p, &y, &BceOptions::new(), &mut out)?;
/// assert_eq!(&out[..2], &[100.0, 100.0]); // the -100 clamp
/// assert!((out[2] - core::f64::consts::LN_2).abs() < 1e-15);
/// # Ok::<(), xent::Error>(())
/// ```
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
///
/// # Examples
///
/// ```
/// use xent::{scalar, BceOptions};
/// let (p, y) = ([0.1582_f32, 0.4139, 0.2287], [0.0_f32, 1.0, 0.0]);
/// let (mut g64, mut g32) = ([0.0_f64; 3], [0.0_f32; 3]);
/// let loss = scalar::binary_cross_entropy_with_grad(&p, &y, &BceOptions::new(), &mut g64)?;
/// xent::binary_cross_entropy_with_grad(&p, &y, &BceOptions::new(), &mut g32)?;
/// assert!((loss - 0.4380072).abs() < 1e-6);
/// assert!(g64.iter().zip(&g32).all(|(a, b)| (a - f64::from(*b)).abs() < 1e-6));
/// # Ok::<(), xent::Error>(())
/// ```
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
///
/// # Examples
///
/// ```
/// use xent::{scalar, BceWithLogitsOptions, Reduction};
/// let x = [2.0_f32, -1.0, 0.0, 50.0, -50.0, -120.0];
/// let y = [1.0_f32, 0.0, 0.5, 0.0, 1.0, 1.0];
/// let opts = BceWithLogitsOptions::new().with_reduction(Reduction::Sum);
/// let loss = scalar::binary_cross_entropy_with_logits::<f64, _>(&x, &y, &opts)?;
/// assert!((loss - 221.13333687912114).abs() < 1e-10); // sum of PyTorch's per-element values
/// let fast = xent::binary_cross_entropy_with_logits(&x, &y, &opts)?;
/// assert!((f64::from(fast) - loss).abs() < 1e-4);
/// # Ok::<(), xent::Error>(())
/// ```
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
///
/// # Examples
///
/// ```
/// use xent::{scalar, BceWithLogitsOptions};
/// let x = [2.0_f32, -1.0, 0.0, 50.0, -50.0, -120.0];
/// let y = [1.0_f32, 0.0, 0.5, 0.0, 1.0, 1.0];
/// let mut out = [0.0_f64; 6];
/// scalar::binary_cross_entropy_with_logits_per_position(&x, &y, &BceWithLogitsOptions::new(), &mut out)?;
/// let torch = [0.1269280110429725, 0.3132616875182228, 0.6931471805599453, 50.0, 50.0, 120.0];
/// assert!(out.iter().zip(&torch).all(|(a, b)| (a - b).abs() < 1e-12));
/// # Ok::<(), xent::Error>(())
/// ```
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
///
/// # Examples
///
/// ```
/// use xent::{scalar, BceWithLogitsOptions, Reduction};
/// let (x, y) = ([2.0_f32, -1.0, 0.0], [1.0_f32, 0.0, 0.5]);
/// let opts = BceWithLogitsOptions::new().with_reduction(Reduction::Sum);
/// let mut g = [0.0_f64; 3];
/// scalar::binary_cross_entropy_with_logits_with_grad(&x, &y, &opts, &mut g)?;
/// let sigmoid = |v: f64| 1.0 / (1.0 + (-v).exp());
/// assert!((g[0] - (sigmoid(2.0) - 1.0)).abs() < 1e-12 && (g[1] - sigmoid(-1.0)).abs() < 1e-12);
/// assert_eq!(g[2], 0.0); // sigmoid(0) - 0.5
/// # Ok::<(), xent::Error>(())
/// ```
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
///
/// # Examples
///
/// ```
/// use xent::{scalar, BceWithLogitsOptions, SigmoidFocalOptions};
/// let x = [2.0_f32, -1.0, 0.0, 50.0, -50.0, -120.0];
/// let y = [1.0_f32, 0.0, 0.5, 0.0, 1.0, 1.0];
/// let plain = SigmoidFocalOptions::new().with_alpha(-1.0).with_gamma(0.0); // no alpha, no focusing
/// let focal: f64 = scalar::sigmoid_focal_loss(&x, &y, &plain)?;
/// let bce: f64 = scalar::binary_cross_entropy_with_logits(&x, &y, &BceWithLogitsOptions::new())?;
/// assert!((focal - bce).abs() < 1e-12);
/// # Ok::<(), xent::Error>(())
/// ```
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
///
/// # Examples
///
/// ```
/// use xent::{scalar, SigmoidFocalOptions};
/// let mut out = [0.0_f64; 2];
/// let opts = SigmoidFocalOptions::new(); // alpha = 0.25, gamma = 2
/// scalar::sigmoid_focal_loss_per_position(&[0.0_f32, 0.0], &[1.0_f32, 0.0], &opts, &mut out)?;
/// // ce = ln 2, p_t = 0.5: alpha_t * 0.5^2 * ln 2 with alpha_t = 0.25 (y = 1) or 0.75 (y = 0)
/// let ln2 = core::f64::consts::LN_2;
/// assert!((out[0] - 0.0625 * ln2).abs() < 1e-15 && (out[1] - 0.1875 * ln2).abs() < 1e-15);
/// # Ok::<(), xent::Error>(())
/// ```
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
///
/// # Examples
///
/// ```
/// use xent::{scalar, SigmoidFocalOptions};
/// let (x, y) = ([2.0_f32, -1.0, 0.5], [1.0_f32, 0.0, 1.0]);
/// let (mut g64, mut g32) = ([0.0_f64; 3], [0.0_f32; 3]);
/// let loss = scalar::sigmoid_focal_loss_with_grad(&x, &y, &SigmoidFocalOptions::new(), &mut g64)?;
/// let fast = xent::sigmoid_focal_loss_with_grad(&x, &y, &SigmoidFocalOptions::new(), &mut g32)?;
/// assert!((f64::from(fast) - loss).abs() < 1e-6);
/// assert!(g64.iter().zip(&g32).all(|(a, b)| (a - f64::from(*b)).abs() < 1e-6));
/// # Ok::<(), xent::Error>(())
/// ```
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
///
/// # Examples
///
/// ```
/// use xent::{scalar, Layout, SoftmaxFocalOptions};
/// let x = [1.0_f32, 2.0, 3.0, 1.0, -1.0, 0.5];
/// let ce_opts = SoftmaxFocalOptions::new().with_gamma(0.0); // exactly cross_entropy
/// let ce = scalar::softmax_focal_loss::<f64, _, _>(&x, Layout::rows(2, 3), &[2_i64, 0], &ce_opts)?;
/// assert!((ce - 0.48128144204318557).abs() < 1e-12);
/// let opts = SoftmaxFocalOptions::new(); // gamma = 2
/// let focal: f64 = scalar::softmax_focal_loss(&x, Layout::rows(2, 3), &[2_i64, 0], &opts)?;
/// assert!(focal < ce / 2.0);
/// # Ok::<(), xent::Error>(())
/// ```
pub fn softmax_focal_loss<R: Real, T: Element, I: ClassIndex>(
    logits: &[T],
    layout: Layout,
    targets: &[I],
    opts: &SoftmaxFocalOptions<'_>,
) -> Result<R, Error> {
    class::run::<Scalar, R, T, I>(
        Io::Fwd(logits),
        layout,
        targets,
        class::Spec::focal(opts)?,
        None,
        class::LseIo::None,
    )
}

/// Scalar twin of [`crate::softmax_focal_loss_per_position`].
///
/// # Errors
///
/// As [`crate::softmax_focal_loss_per_position`].
///
/// # Examples
///
/// ```
/// use xent::{scalar, Layout, SoftmaxFocalOptions};
/// let x = [1.0_f32, 2.0, 3.0, 1.0, -1.0, 0.5];
/// let (opts, mut out) = (SoftmaxFocalOptions::new(), [0.0_f64; 2]);
/// scalar::softmax_focal_loss_per_position(&x, Layout::rows(2, 3), &[2_i64, 0], &opts, &mut out)?;
/// let focal = |ce: f64| (1.0 - (-ce).exp()).powi(2) * ce; // gamma = 2, p_t = exp(-ce)
/// assert!((out[0] - focal(0.4076059644443804)).abs() < 1e-12);
/// assert!((out[1] - focal(0.5549569196419907)).abs() < 1e-12);
/// # Ok::<(), xent::Error>(())
/// ```
pub fn softmax_focal_loss_per_position<R: Real, T: Element, I: ClassIndex>(
    logits: &[T],
    layout: Layout,
    targets: &[I],
    opts: &SoftmaxFocalOptions<'_>,
    out: &mut [R],
) -> Result<(), Error> {
    let spec = class::Spec::focal(opts)?;
    class::run::<Scalar, R, T, I>(Io::Fwd(logits), layout, targets, spec, Some(out), class::LseIo::None)
        .map(drop)
}

/// Scalar twin of [`crate::softmax_focal_loss_with_grad`].
///
/// # Errors
///
/// As [`crate::softmax_focal_loss_with_grad`].
///
/// # Examples
///
/// ```
/// use xent::{scalar, Layout, SoftmaxFocalOptions};
/// let x = [1.0_f32, 2.0, 3.0, 1.0, -1.0, 0.5];
/// let (layout, opts) = (Layout::rows(2, 3), SoftmaxFocalOptions::new());
/// let (mut g64, mut g32) = ([0.0_f64; 6], [0.0_f32; 6]);
/// let loss = scalar::softmax_focal_loss_with_grad(&x, layout, &[2_i64, 0], &opts, &mut g64)?;
/// let fast = xent::softmax_focal_loss_with_grad(&x, layout, &[2_i64, 0], &opts, &mut g32)?;
/// assert!((f64::from(fast) - loss).abs() < 1e-6);
/// assert!(g64.iter().zip(&g32).all(|(a, b)| (a - f64::from(*b)).abs() < 1e-6));
/// # Ok::<(), xent::Error>(())
/// ```
pub fn softmax_focal_loss_with_grad<R: Real, T: Element, I: ClassIndex>(
    logits: &[T],
    layout: Layout,
    targets: &[I],
    opts: &SoftmaxFocalOptions<'_>,
    grad: &mut [R],
) -> Result<R, Error> {
    let spec = class::Spec::focal(opts)?;
    class::run::<Scalar, R, T, I>(Io::buffer(logits, grad), layout, targets, spec, None, class::LseIo::None)
}

/// Scalar twin of [`crate::log_sum_exp`].
///
/// # Examples
///
/// ```
/// let lse: f64 = xent::scalar::log_sum_exp(&[1.0_f32, 2.0, 3.0]);
/// assert!((lse - 3.4076059644443804).abs() < 1e-12); // 3 - log_softmax[2]
/// assert!((f64::from(xent::log_sum_exp(&[1.0_f32, 2.0, 3.0])) - lse).abs() < 1e-6);
/// assert_eq!(xent::scalar::log_sum_exp::<f64, f32>(&[]), f64::NEG_INFINITY);
/// ```
#[must_use]
pub fn log_sum_exp<R: Real, T: Element>(row: &[T]) -> R {
    primitives::lse_row::<Scalar, R, T>(row)
}

/// Scalar twin of [`crate::log_sum_exp_into`].
///
/// # Errors
///
/// As [`crate::log_sum_exp_into`].
///
/// # Examples
///
/// ```
/// use xent::{scalar, Layout};
/// let x = [1.0_f32, 2.0, 3.0, 1.0, -1.0, 0.5];
/// let mut out = [0.0_f64; 2];
/// scalar::log_sum_exp_into(&x, Layout::rows(2, 3), &mut out)?;
/// // the cross-entropy of a row is its log-sum-exp minus its target logit
/// assert!((out[0] - (3.0 + 0.4076059644443804)).abs() < 1e-12);
/// assert!((out[1] - (1.0 + 0.5549569196419907)).abs() < 1e-12);
/// # Ok::<(), xent::Error>(())
/// ```
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
///
/// # Examples
///
/// ```
/// use xent::{scalar, Layout};
/// let x = [1.0_f32, 2.0, 3.0, 1.0, -1.0, 0.5];
/// let mut out = [0.0_f64; 6];
/// scalar::log_softmax_into(&x, Layout::rows(2, 3), &mut out)?;
/// assert!((out[2] + 0.4076059644443804).abs() < 1e-12);
/// assert!((out[3] + 0.5549569196419907).abs() < 1e-12);
/// # Ok::<(), xent::Error>(())
/// ```
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
///
/// # Examples
///
/// ```
/// use xent::{scalar, Layout};
/// let x = [1.0_f32, 2.0, 3.0, 1.0, -1.0, 0.5];
/// let (mut p64, mut p32) = ([0.0_f64; 6], [0.0_f32; 6]);
/// scalar::softmax_into(&x, Layout::rows(2, 3), &mut p64)?;
/// xent::softmax_into(&x, Layout::rows(2, 3), &mut p32)?;
/// assert!((p64[..3].iter().sum::<f64>() - 1.0).abs() < 1e-15);
/// assert!((p64[2] - (-0.4076059644443804_f64).exp()).abs() < 1e-12);
/// assert!(p64.iter().zip(&p32).all(|(a, b)| (a - f64::from(*b)).abs() < 1e-6));
/// # Ok::<(), xent::Error>(())
/// ```
pub fn softmax_into<R: Real, T: Element>(logits: &[T], layout: Layout, out: &mut [R]) -> Result<(), Error> {
    primitives::run::<Scalar, R, T>(logits, layout, Op::Softmax, out)
}

/// Scalar twin of [`crate::gather`].
///
/// # Errors
///
/// As [`crate::gather`].
///
/// # Examples
///
/// ```
/// use xent::{scalar, Layout};
/// let x = [1.0_f32, 2.0, 3.0, 1.0, -1.0, 0.5];
/// let mut out = [1.0_f64; 2];
/// scalar::gather(&x, Layout::rows(2, 3), &[1_i64, -100], -100, &mut out)?;
/// assert_eq!(out, [2.0, 0.0]);
/// # Ok::<(), xent::Error>(())
/// ```
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
///
/// # Examples
///
/// ```
/// use xent::{scalar, Layout, Score};
/// let x = [1.0_f32, 2.0, 3.0, 1.0, -1.0, 0.5];
/// let mut out = [Score::default(); 2];
/// scalar::score_into::<f64, _, _>(&x, Layout::rows(2, 3), &[2_i64, 2], -100, &mut out)?;
/// assert_eq!((out[0].above, out[1].above), (0, 1)); // 0.5 is below 1.0 in row 1
/// assert!((out[0].loss - 0.40760596).abs() < 1e-7); // lse - x[target], stored as f32
/// assert!((out[1].loss - 1.0549569).abs() < 1e-6);
/// # Ok::<(), xent::Error>(())
/// ```
pub fn score_into<R: Real, T: Element, I: ClassIndex>(
    logits: &[T],
    layout: Layout,
    targets: &[I],
    ignore_index: i64,
    out: &mut [crate::Score],
) -> Result<(), Error> {
    primitives::score::<Scalar, R, T, I>(logits, layout, targets, ignore_index, out)
}
