//! The input: a [`Case`] (one call's worth of data and options for one loss family) and
//! the enums it is built from.

use xent::{Layout, Reduction, bf16, f16};

/// Which family of entry points a case exercises.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Family {
    /// `log_sum_exp`, `log_sum_exp_into`, `log_softmax_into`, `softmax_into`, `LsePartial`.
    Lse,
    /// `cross_entropy*` with class targets (z-loss and soft-cap included).
    Ce,
    /// `cross_entropy_probs*`.
    Probs,
    /// `nll_loss*`.
    Nll,
    /// `gather`.
    Gather,
    /// `binary_cross_entropy*`.
    Bce,
    /// `binary_cross_entropy_with_logits*`.
    BceLogits,
    /// `sigmoid_focal_loss*`.
    SigmoidFocal,
    /// `softmax_focal_loss*`.
    SoftmaxFocal,
    /// `score_into`.
    Score,
}

/// The element type of logits, probabilities and soft targets.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Dtype {
    F32,
    F16,
    Bf16,
}

/// The class-index type of targets.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Index {
    I64,
    I32,
    U32,
    U8,
}

/// A layout constructor and its arguments.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Lay {
    Unbatched(usize),
    Rows(usize, usize),
    ChannelFirst(usize, usize, usize),
}

impl Lay {
    pub fn layout(self) -> Layout {
        match self {
            Lay::Unbatched(c) => Layout::unbatched(c),
            Lay::Rows(n, c) => Layout::rows(n, c),
            Lay::ChannelFirst(n, c, i) => Layout::channel_first(n, c, i),
        }
    }
}

/// One case. Float values are bit patterns: `u32` for f32 (and for every option), the low
/// 16 bits for f16 and bf16 elements.
#[derive(Clone, PartialEq)]
pub struct Case {
    pub family: Family,
    pub dtype: Dtype,
    pub index: Index,
    pub layout: Lay,
    /// Logits, or probabilities `p` for BCE, or `x` for the element-wise logit losses.
    pub logits: Vec<u32>,
    /// Class targets (already in the range of `index`).
    pub targets: Vec<i64>,
    /// Soft targets (probability targets, or `y` of the element-wise losses).
    pub soft: Vec<u32>,
    pub weight: Option<Vec<u32>>,
    pub pos_weight: Option<Vec<u32>>,
    pub ignore_index: i64,
    pub label_smoothing: u32,
    pub z_loss: u32,
    pub softcap: Option<u32>,
    pub gamma: u32,
    pub alpha: u32,
    pub reduction: Reduction,
    /// Length of the per-position buffer (per-element for element-wise losses and
    /// `Score`s for `score_into`).
    pub out_len: usize,
    /// Length of the per-logit buffer (gradient, log-softmax, softmax).
    pub grad_len: usize,
}

/// What a fuzz target asks the decoder for.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Lse,
    CeClass,
    /// Cross-entropy with z-loss and soft-cap options.
    Ext,
    Probs,
    Nll,
    Bce,
    BceLogits,
    Focal,
    /// Any family, with f16 / bf16 elements.
    Half,
    Score,
}

impl Dtype {
    /// The bits of `v` rounded to this type.
    pub fn bits(self, v: f32) -> u32 {
        match self {
            Dtype::F32 => v.to_bits(),
            Dtype::F16 => u32::from(f16::from_f32(v).to_bits()),
            Dtype::Bf16 => u32::from(bf16::from_f32(v).to_bits()),
        }
    }
    /// The value of bits of this type, widened.
    pub fn value(self, b: u32) -> f32 {
        match self {
            Dtype::F32 => f32::from_bits(b),
            Dtype::F16 => f16::from_bits(b as u16).to_f32(),
            Dtype::Bf16 => bf16::from_bits(b as u16).to_f32(),
        }
    }
}

impl Case {
    /// A case of `family` over `layout` with PyTorch's default options, `Sum` reduction,
    /// f32 logits and i64 targets; fill in the data, then call [`Case::sized`].
    #[must_use]
    pub fn new(family: Family, layout: Lay) -> Case {
        Case {
            family,
            dtype: Dtype::F32,
            index: Index::I64,
            layout,
            logits: vec![],
            targets: vec![],
            soft: vec![],
            weight: None,
            pos_weight: None,
            ignore_index: -100,
            label_smoothing: 0,
            z_loss: 0,
            softcap: None,
            gamma: 2.0f32.to_bits(),
            alpha: 0.25f32.to_bits(),
            reduction: Reduction::Sum,
            out_len: 0,
            grad_len: 0,
        }
    }

    /// Sets the output buffers' lengths to the ones the data asks for.
    #[must_use]
    pub fn sized(mut self) -> Case {
        let elementwise = matches!(self.family, Family::Bce | Family::BceLogits | Family::SigmoidFocal);
        let lay = self.layout.layout();
        self.grad_len = if elementwise { self.logits.len() } else { lay.len().unwrap_or(0) };
        self.out_len = if elementwise { self.logits.len() } else { lay.positions().unwrap_or(0) };
        self
    }
}

/// f32 values as bit patterns, for literal cases.
#[must_use]
pub fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}
