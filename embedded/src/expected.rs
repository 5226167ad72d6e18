//! Expected values of the harness, computed on the host by xent's f64 scalar path on
//! the inputs of `problem.rs`. GENERATED: do not edit by hand. Regenerate from the
//! repository root with
//!
//!     XENT_WRITE_EXPECTED=1 cargo test --test embedded_expected
//!
//! and check with `cargo test --test embedded_expected` (`tests/embedded_expected.rs`),
//! which recomputes every constant and fails unless they match to 1e-7 relative.

/// `cross_entropy`, weighted mean with an ignored target.
pub const CE_MEAN: f64 = 2.6660820119855013;
/// `cross_entropy_with_grad`, same options: the loss.
pub const CE_GRAD_LOSS: f64 = 2.6660820119855013;
/// `cross_entropy_with_grad_in_place` on f16 logits, default options.
pub const F16_INPLACE_LOSS: f64 = 2.5378657910726448;
/// `cross_entropy`, weighted, ignored target, label smoothing.
pub const CE_SMOOTHING: f64 = 2.748800035080253;
/// `cross_entropy_probs`, weighted, label smoothing.
pub const PROBS: f64 = 3.457619910923099;
/// `nll_loss` of the logits, weighted mean with an ignored target.
pub const NLL: f64 = -0.9522058823529411;
/// `binary_cross_entropy` with a per-column weight.
pub const BCE: f64 = 0.8984972320119294;
/// `binary_cross_entropy_with_logits` with a per-column `pos_weight`.
pub const BCE_LOGITS: f64 = 2.204049449313958;
/// `sigmoid_focal_loss`, alpha 0.25, gamma 2.
pub const SIGMOID_FOCAL: f64 = 0.682211760009248;
/// `softmax_focal_loss`, weighted, ignored target, gamma 2.
pub const SOFTMAX_FOCAL: f64 = 2.3026240163353693;
/// `log_sum_exp` of `LSE_ROW`.
pub const LSE: f64 = 6.607599439545079;
/// `cross_entropy` of the logits read as `(1, CF_C, CF_INNER)`.
pub const CE_CHANNEL_FIRST: f64 = 2.206922207682906;
/// `cross_entropy_with_grad`: the gradient at `GRAD_IDX`.
pub const CE_GRAD: [f64; 6] = [
    -0.21856587090044544,
    0.02017811724554318,
    0.0,
    -0.22970598739086154,
    -0.07954428593515434,
    0.001338057410647184,
];
/// The in-place f16 gradient at `GRAD_IDX`, before rounding to f16.
pub const F16_INPLACE_GRAD: [f64; 6] = [
    -0.23222623783172328,
    0.021439249573389628,
    0.0,
    -0.21694454364692478,
    -0.22537547681627063,
    0.0008123919993215045,
];
/// `score_into`: each position's loss (0 where ignored).
pub const SCORE_LOSS: [f64; 5] =
    [2.6437375835133583, 0.0, 2.023274271300724, 2.3177180940888444, 3.1667332153876515];
/// `score_into`: how many logits exceed the target's.
pub const SCORE_ABOVE: [usize; 5] = [5, 0, 1, 2, 7];
/// `score_into`: whether the position counts (not ignored).
pub const SCORE_COUNTED: [bool; 5] = [true, false, true, true, true];
