//! Reductions and one options struct per loss family.
//!
//! Every struct is `Copy`, starts from PyTorch's defaults with `new()` (or `Default`), and
//! is changed with `const fn with_*` setters. Options are validated when a loss is called;
//! an invalid one is an [`Error::InvalidOption`](crate::Error::InvalidOption).

/// How per-position losses are reduced to one number.
///
/// PyTorch's `reduction="none"` is the `*_per_position` function of each loss, which writes
/// one loss per position into a caller's buffer (this enum has no `None` variant, so it
/// never clashes with `Option::None` under a glob import).
///
/// ```
/// use xent::{cross_entropy, CrossEntropyOptions, Layout, Reduction};
/// let x = [1.0_f32, 2.0, 3.0, 1.0, -1.0, 0.5];
/// let opts = CrossEntropyOptions::new().with_reduction(Reduction::Sum);
/// let sum = cross_entropy(&x, Layout::rows(2, 3), &[2_i64, 0], &opts).unwrap();
/// assert!((sum - 0.9625629).abs() < 1e-6);
/// ```
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum Reduction {
    /// The (weighted) mean; each loss documents its denominator.
    #[default]
    Mean,
    /// The sum over positions.
    Sum,
}

macro_rules! setters {
    ($($(#[$m:meta])* $name:ident : $field:ident : $ty:ty;)*) => {
        $(
            $(#[$m])*
            #[must_use]
            pub const fn $name(mut self, $field: $ty) -> Self {
                self.$field = $field;
                self
            }
        )*
    };
}

/// Options of [`cross_entropy`](crate::cross_entropy) with class-index targets (and of its
/// per-position and gradient variants).
///
/// Defaults are PyTorch's: mean, no weight, `ignore_index = -100`, no smoothing; and no
/// z-loss, no soft-cap (xent's extensions beyond PyTorch: [`z_loss`](Self::z_loss) and
/// [`softcap`](Self::softcap)).
///
/// ```
/// use xent::{CrossEntropyOptions, Reduction};
/// let w = [1.0_f32, 2.0, 3.0];
/// let o = CrossEntropyOptions::new()
///     .with_weight(Some(&w))
///     .with_label_smoothing(0.1)
///     .with_z_loss(1e-4)
///     .with_softcap(Some(30.0))
///     .with_reduction(Reduction::Sum);
/// assert_eq!(o.ignore_index, -100);
/// ```
#[derive(Copy, Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct CrossEntropyOptions<'a> {
    /// Mean or sum.
    pub reduction: Reduction,
    /// Per-class weights, length `C`.
    pub weight: Option<&'a [f32]>,
    /// Positions whose target equals this are ignored (loss 0, not counted in the mean).
    pub ignore_index: i64,
    /// Label smoothing `eps` in `[0, 1]`.
    pub label_smoothing: f32,
    /// z-loss scale `z >= 0`: adds `z * lse^2` per counted position.
    pub z_loss: f32,
    /// Logit soft-cap `s > 0`: logits become `s * tanh(x / s)` first.
    pub softcap: Option<f32>,
}

impl Default for CrossEntropyOptions<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> CrossEntropyOptions<'a> {
    /// PyTorch's defaults.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            reduction: Reduction::Mean,
            weight: None,
            ignore_index: -100,
            label_smoothing: 0.0,
            z_loss: 0.0,
            softcap: None,
        }
    }
    setters! {
        /// Sets the reduction.
        with_reduction: reduction: Reduction;
        /// Sets per-class weights (length `C`).
        with_weight: weight: Option<&'a [f32]>;
        /// Sets `ignore_index`.
        with_ignore_index: ignore_index: i64;
        /// Sets label smoothing (in `[0, 1]`).
        with_label_smoothing: label_smoothing: f32;
        /// Sets the z-loss scale (`>= 0`).
        with_z_loss: z_loss: f32;
        /// Sets the logit soft-cap (`> 0`, finite).
        with_softcap: softcap: Option<f32>;
    }
}

/// Options of [`cross_entropy_probs`](crate::cross_entropy_probs) (probability targets).
///
/// ```
/// let o = xent::ProbsOptions::new().with_label_smoothing(0.1);
/// assert_eq!(o.reduction, xent::Reduction::Mean);
/// ```
#[derive(Copy, Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ProbsOptions<'a> {
    /// Mean (over positions, never over weights) or sum.
    pub reduction: Reduction,
    /// Per-class weights, length `C`.
    pub weight: Option<&'a [f32]>,
    /// Label smoothing `eps` in `[0, 1]`: targets become `t*(1-eps) + eps/C`.
    pub label_smoothing: f32,
}

impl Default for ProbsOptions<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> ProbsOptions<'a> {
    /// PyTorch's defaults.
    #[must_use]
    pub const fn new() -> Self {
        Self { reduction: Reduction::Mean, weight: None, label_smoothing: 0.0 }
    }
    setters! {
        /// Sets the reduction.
        with_reduction: reduction: Reduction;
        /// Sets per-class weights (length `C`).
        with_weight: weight: Option<&'a [f32]>;
        /// Sets label smoothing (in `[0, 1]`).
        with_label_smoothing: label_smoothing: f32;
    }
}

/// Options of [`nll_loss`](crate::nll_loss).
///
/// ```
/// let o = xent::NllOptions::new().with_ignore_index(0);
/// assert_eq!(o.ignore_index, 0);
/// ```
#[derive(Copy, Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct NllOptions<'a> {
    /// Mean (weighted: divided by the sum of `w[y]` over counted positions) or sum.
    pub reduction: Reduction,
    /// Per-class weights, length `C`.
    pub weight: Option<&'a [f32]>,
    /// Positions whose target equals this are ignored.
    pub ignore_index: i64,
}

impl Default for NllOptions<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> NllOptions<'a> {
    /// PyTorch's defaults.
    #[must_use]
    pub const fn new() -> Self {
        Self { reduction: Reduction::Mean, weight: None, ignore_index: -100 }
    }
    setters! {
        /// Sets the reduction.
        with_reduction: reduction: Reduction;
        /// Sets per-class weights (length `C`).
        with_weight: weight: Option<&'a [f32]>;
        /// Sets `ignore_index`.
        with_ignore_index: ignore_index: i64;
    }
}

/// Options of [`binary_cross_entropy`](crate::binary_cross_entropy).
///
/// A weight is broadcast as PyTorch broadcasts a trailing block: its length must divide the
/// input's length, and element `i` uses `weight[i % weight.len()]` (length `n` is a full
/// element-wise weight, length of the last dimension is a per-column weight).
///
/// ```
/// let w = [0.5_f32, 2.0];
/// let o = xent::BceOptions::new().with_weight(Some(&w));
/// assert!(o.weight.is_some());
/// ```
#[derive(Copy, Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct BceOptions<'a> {
    /// Mean (over elements; weights do not enter the denominator) or sum.
    pub reduction: Reduction,
    /// Element weights, broadcast over trailing blocks.
    pub weight: Option<&'a [f32]>,
}

impl Default for BceOptions<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> BceOptions<'a> {
    /// PyTorch's defaults.
    #[must_use]
    pub const fn new() -> Self {
        Self { reduction: Reduction::Mean, weight: None }
    }
    setters! {
        /// Sets the reduction.
        with_reduction: reduction: Reduction;
        /// Sets the element weight (broadcast over trailing blocks).
        with_weight: weight: Option<&'a [f32]>;
    }
}

/// Options of [`binary_cross_entropy_with_logits`](crate::binary_cross_entropy_with_logits).
///
/// [`weight`](Self::weight) and [`pos_weight`](Self::pos_weight) broadcast like
/// [`BceOptions::weight`]: a length that divides the input's length, element `i` using
/// index `i % len` (so a `pos_weight` of length `C` is per last-dimension column of an
/// `(N, C)` input).
///
/// ```
/// let pw = [3.0_f32];
/// let o = xent::BceWithLogitsOptions::new().with_pos_weight(Some(&pw));
/// assert!(o.weight.is_none());
/// ```
#[derive(Copy, Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct BceWithLogitsOptions<'a> {
    /// Mean (over elements) or sum.
    pub reduction: Reduction,
    /// Element weights, broadcast over trailing blocks.
    pub weight: Option<&'a [f32]>,
    /// Positive-class weights, broadcast over trailing blocks.
    pub pos_weight: Option<&'a [f32]>,
}

impl Default for BceWithLogitsOptions<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> BceWithLogitsOptions<'a> {
    /// PyTorch's defaults.
    #[must_use]
    pub const fn new() -> Self {
        Self { reduction: Reduction::Mean, weight: None, pos_weight: None }
    }
    setters! {
        /// Sets the reduction.
        with_reduction: reduction: Reduction;
        /// Sets the element weight.
        with_weight: weight: Option<&'a [f32]>;
        /// Sets the positive-class weight.
        with_pos_weight: pos_weight: Option<&'a [f32]>;
    }
}

/// Options of [`sigmoid_focal_loss`](crate::sigmoid_focal_loss) (torchvision's definition).
///
/// ```
/// let o = xent::SigmoidFocalOptions::new();
/// assert_eq!((o.alpha, o.gamma), (0.25, 2.0));
/// ```
#[derive(Copy, Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct SigmoidFocalOptions {
    /// Mean (over elements) or sum.
    pub reduction: Reduction,
    /// Class balance `alpha`; a negative value switches it off.
    pub alpha: f32,
    /// Focusing exponent `gamma >= 0`.
    pub gamma: f32,
}

impl Default for SigmoidFocalOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl SigmoidFocalOptions {
    /// torchvision's defaults: mean, `alpha = 0.25`, `gamma = 2`. (torchvision's own default
    /// reduction is `"none"`; use the `_per_position` function for that.)
    #[must_use]
    pub const fn new() -> Self {
        Self { reduction: Reduction::Mean, alpha: 0.25, gamma: 2.0 }
    }
    setters! {
        /// Sets the reduction.
        with_reduction: reduction: Reduction;
        /// Sets `alpha` (negative: off).
        with_alpha: alpha: f32;
        /// Sets `gamma` (`>= 0`).
        with_gamma: gamma: f32;
    }
}

/// Options of [`softmax_focal_loss`](crate::softmax_focal_loss).
///
/// ```
/// let o = xent::SoftmaxFocalOptions::new().with_gamma(0.0); // exactly cross_entropy
/// assert_eq!(o.ignore_index, -100);
/// ```
#[derive(Copy, Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct SoftmaxFocalOptions<'a> {
    /// Mean (weighted, as [`cross_entropy`](crate::cross_entropy)) or sum.
    pub reduction: Reduction,
    /// Per-class weights, length `C`.
    pub weight: Option<&'a [f32]>,
    /// Positions whose target equals this are ignored.
    pub ignore_index: i64,
    /// Focusing exponent `gamma >= 0`.
    pub gamma: f32,
}

impl Default for SoftmaxFocalOptions<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> SoftmaxFocalOptions<'a> {
    /// Mean, no weight, `ignore_index = -100`, `gamma = 2`.
    #[must_use]
    pub const fn new() -> Self {
        Self { reduction: Reduction::Mean, weight: None, ignore_index: -100, gamma: 2.0 }
    }
    setters! {
        /// Sets the reduction.
        with_reduction: reduction: Reduction;
        /// Sets per-class weights (length `C`).
        with_weight: weight: Option<&'a [f32]>;
        /// Sets `ignore_index`.
        with_ignore_index: ignore_index: i64;
        /// Sets `gamma` (`>= 0`).
        with_gamma: gamma: f32;
    }
}
