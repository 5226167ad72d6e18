//! The fixed problem the Cortex-M4F harness (`embedded/src/main.rs`) runs and the host
//! test `tests/embedded_expected.rs` recomputes in f64 (it imports this file with
//! `#[path]`), so both sides see the same inputs. Plain constants only: `no_std`-safe and
//! free of any xent type.
//!
//! Every logit is a multiple of 1/16 in [-6, 6], exactly representable in f16, so the f16
//! run reads the same values as the f32 runs. Rows have 19 classes: two 8-lane vectors and
//! a 3-element tail on the M4 (where `wide` runs its portable f32x8 fallback).

/// Positions of the class-index problem.
pub const N: usize = 5;
/// Classes.
pub const C: usize = 19;

/// `(N, C)` logits, row-major.
#[rustfmt::skip]
pub static LOGITS: [f32; N * C] = [
    -0.1875, 0.125, 0.5625, -1.125, -0.6875, 0.75, -0.8125, -0.375, 1.125, 1.125, -0.875, -0.375, -1.3125, -0.4375, 0.625, -0.1875, 1.5625, -0.1875, -0.875,
    0.0, -0.1875, -0.9375, -0.1875, 0.25, -2.125, 3.3125, 2.4375, -0.3125, 3.5625, 0.0625, 1.75, -1.875, 0.3125, 0.625, -2.6875, 1.625, -2.1875, -1.125,
    0.1875, 1.8125, -0.6875, -2.6875, 0.375, -1.0, 0.75, -0.75, 0.625, -1.8125, 0.8125, 1.8125, -3.75, -0.4375, 0.875, 0.25, 2.8125, -0.3125, 0.625,
    0.875, -0.875, -0.1875, -0.1875, 0.4375, -0.125, -0.5625, 3.375, -0.125, 0.625, -2.5, -1.5, 1.6875, 0.125, -1.6875, 1.9375, 0.8125, -0.9375, 1.8125,
    -3.25, 1.75, 0.75, 2.4375, -0.625, -1.8125, 0.8125, 0.4375, 1.0625, -0.25, 0.625, 1.0625, -1.75, -0.4375, 0.125, 0.0, -0.9375, 0.0, -2.125,
];

/// The value of `ignore_index` used throughout (PyTorch's default).
pub const IGNORE: i64 = -100;

/// Class-index targets; position 1 is ignored. Position 2's target logit (1.8125) ties
/// with another logit of its row, which does not count as "above" in `score_into`.
pub static TARGETS: [i64; N] = [2, IGNORE, 1, 18, 7];

/// Per-class weights (length `C`).
pub static CLASS_WEIGHT: [f32; C] = [
    0.375, 1.125, 1.0, 1.625, 1.875, 1.0, 0.625, 1.75, 0.25, 0.875, 1.0, 0.5, 1.5, 1.125, 0.625, 1.0, 1.5,
    0.875, 0.375,
];

/// Label smoothing for the class-index smoothing check (with `CLASS_WEIGHT`, `IGNORE`).
pub const LABEL_SMOOTHING: f32 = 0.1;

/// Gradient entries checked (into the `(N, C)` gradient): a target slot, a non-target
/// slot, a slot of the ignored row (0), the tied target, the last class of a row (a vector
/// tail) and the very last element.
pub static GRAD_IDX: [usize; 6] = [2, 5, 27, 39, 75, 94];

/// Soft (probability) targets of the logits' layout; rows sum to about 1, zeros included.
#[rustfmt::skip]
pub static SOFT_TARGETS: [f32; N * C] = [
    0.031, 0.0024, 0.0761, 0.0026, 0.0008, 0.2267, 0.0114, 0.0079, 0.0495, 0.1058, 0.0959, 0.1615, 0.0056, 0.0247, 0.0153, 0.0438, 0.06, 0.0791, 0.0001,
    0.012, 0.0835, 0.0, 0.0976, 0.0758, 0.0152, 0.0213, 0.0043, 0.0941, 0.026, 0.0044, 0.0, 0.0096, 0.1834, 0.0726, 0.0575, 0.1912, 0.0, 0.0513,
    0.0021, 0.02, 0.0019, 0.0136, 0.2341, 0.122, 0.1938, 0.0001, 0.0087, 0.1542, 0.0, 0.0022, 0.0002, 0.1747, 0.004, 0.0244, 0.0, 0.0005, 0.0434,
    0.1347, 0.0108, 0.0089, 0.0, 0.0003, 0.0009, 0.0024, 0.0503, 0.0126, 0.2541, 0.0062, 0.1707, 0.0002, 0.0399, 0.0451, 0.0772, 0.0188, 0.0391, 0.1279,
    0.001, 0.0422, 0.0571, 0.1342, 0.0012, 0.02, 0.0, 0.0817, 0.1838, 0.0124, 0.1528, 0.0801, 0.0, 0.0292, 0.0, 0.0086, 0.1442, 0.0006, 0.0508,
];

/// Label smoothing for `cross_entropy_probs` (with `CLASS_WEIGHT`).
pub const PROBS_SMOOTHING: f32 = 0.05;

/// Length of the element-wise (binary) problems: a `(3, 9)` tensor (three 8-lane vectors
/// and a 3-element tail).
pub const B: usize = 27;
/// Its last dimension: the length of the broadcast `BCE_WEIGHT` and `POS_WEIGHT`.
pub const B_COLS: usize = 9;

/// Probabilities for `binary_cross_entropy`.
#[rustfmt::skip]
pub static BCE_P: [f32; B] = [
    0.0745, 0.1254, 0.9341, 0.1126, 0.1871, 0.9225, 0.3165, 0.2278, 0.1126,
    0.4993, 0.0765, 0.2313, 0.2332, 0.7353, 0.1756, 0.5846, 0.252, 0.9741,
    0.971, 0.9069, 0.8841, 0.5515, 0.9136, 0.6343, 0.173, 0.7231, 0.8353,
];

/// Binary targets, two of them soft (0.25 and 0.75).
#[rustfmt::skip]
pub static BCE_Y: [f32; B] = [
    1.0, 1.0, 0.0, 0.0, 0.0, 0.25, 1.0, 1.0, 0.0,
    1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.75,
    1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0,
];

/// Logits for `binary_cross_entropy_with_logits` and `sigmoid_focal_loss`.
#[rustfmt::skip]
pub static BCE_X: [f32; B] = [
    -2.8125, -1.0625, 3.0625, 1.9375, 3.5625, 2.4375, -0.4375, -3.1875, -1.5,
    1.0625, -3.375, -4.0, -0.4375, 5.875, 0.875, 3.0625, -2.3125, 1.0625,
    3.3125, 2.5, 0.4375, 0.6875, 3.125, 0.0, 1.125, 0.5, -1.8125,
];

/// Per-column element weight for `binary_cross_entropy`.
pub static BCE_WEIGHT: [f32; B_COLS] = [1.0, 0.5, 1.125, 1.25, 1.25, 0.875, 0.625, 1.125, 0.75];

/// Per-column `pos_weight` for `binary_cross_entropy_with_logits`.
pub static POS_WEIGHT: [f32; B_COLS] = [1.5, 1.25, 2.0, 3.0, 2.0, 2.75, 3.0, 3.25, 2.5];

/// `sigmoid_focal_loss` options (torchvision's defaults).
pub const SIGMOID_ALPHA: f32 = 0.25;
/// `sigmoid_focal_loss` gamma.
pub const SIGMOID_GAMMA: f32 = 2.0;
/// `softmax_focal_loss` gamma (with `CLASS_WEIGHT`, `IGNORE`).
pub const SOFTMAX_GAMMA: f32 = 2.0;

/// One row for `log_sum_exp` (four 8-lane vectors and a 5-element tail).
#[rustfmt::skip]
pub static LSE_ROW: [f32; 37] = [
    4.5625, 0.8125, -3.25, 0.0, 5.5625, 0.1875, 2.5, 0.125, -3.125, 3.1875,
    0.375, -4.625, 0.75, 3.625, -1.5625, 2.5625, 3.5, 2.625, -2.0625, -2.8125,
    1.5, 5.125, 1.0, -0.75, 2.75, 1.1875, -1.875, -5.0, -1.0, 2.6875,
    -0.8125, -0.875, 3.1875, 1.5625, -1.6875, -0.9375, -0.6875,
];

/// The `LOGITS` read as a channel-first `(1, CF_C, CF_INNER)` tensor (PyTorch's
/// `(N, C, d)` segmentation layout; the small-C column kernel).
pub const CF_C: usize = 5;
/// Spatial positions of the channel-first problem.
pub const CF_INNER: usize = 19;
/// Its targets, one per spatial position; position 4 is ignored.
pub static CF_TARGETS: [i64; CF_INNER] = [1, 4, 2, 4, IGNORE, 4, 1, 3, 3, 0, 3, 2, 1, 3, 3, 1, 4, 4, 2];
