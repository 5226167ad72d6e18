//! The shared differential check, used by every fuzz target in `fuzz/` and by
//! `tests/regressions.rs`.
//!
//! A [`Case`] is one call's worth of input for one loss family: a layout (whose lengths may
//! disagree with the slices), options (any `ignore_index`, any smoothing, NaN weights, ...),
//! class or soft targets, and logits given as raw bit patterns (so NaN payloads,
//! subnormals and infinities occur). [`run`] calls every public (SIMD) entry point of the
//! family and its `xent::scalar` twins in f64 (the oracle) and in f32, and asserts:
//!
//! - no call panics, and the three paths return the same `Err` (compared by `Debug`, so
//!   NaN values compare equal) exactly when the input is invalid (a small validity model
//!   below says when);
//! - on valid input, every SIMD output (reduced loss, per-position losses, gradient) is
//!   within the documented bound of the f64 oracle (crate docs, "Precision";
//!   `tests/equivalence.rs` is the reference for the formulas): NaN exactly where NaN is
//!   due, the same infinity where the oracle's value is infinite in f32.
//!
//! The bounds are the formulas of `tests/equivalence.rs`, extended to inputs outside the
//! ranges that file draws from (weights of any sign and size, targets outside `[0, 1]`,
//! large `gamma`, ...). Each extension is commented where it is made; on the inputs
//! `tests/equivalence.rs` uses, every bound here is the documented one or within a small
//! constant factor of it, and no bound is widened to hide a mismatch.
//!
//! Inputs come from [`Case::decode`], a feature-free byte decoder usable from the fuzz
//! crate and from tests. `Debug` of a [`Case`] prints a Rust expression that rebuilds it
//! (paste it into `tests/regressions.rs`).

// Index loops mirror the formulas they check; NaN-aware comparisons are written out.
#![allow(clippy::needless_range_loop, clippy::nonminimal_bool, clippy::neg_cmp_op_on_partial_ord)]
#![allow(dead_code, clippy::too_many_lines, clippy::cast_precision_loss)]

use std::fmt;

use xent::{
    BceOptions, BceWithLogitsOptions, ClassIndex, CrossEntropyOptions, Element, Error, Layout, NllOptions,
    ProbsOptions, Reduction, Score, SigmoidFocalOptions, SoftmaxFocalOptions, bf16, f16,
};

/// f32's machine epsilon, `2^-23`.
pub const EPS: f64 = f32::EPSILON as f64;
/// At most this many logits (or elements) per case, so one execution stays fast.
pub const MAX_ELEMS: usize = if cfg!(miri) { 256 } else { 4096 };
/// The smallest f64 that rounds to f32 infinity (`f32::MAX` plus half an ULP).
const OVERFLOW: f64 = 3.402_823_567_797_336_6e38;

// ---------------------------------------------------------------------------------------
// The input
// ---------------------------------------------------------------------------------------

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

/// A byte reader that yields zeros once the data is exhausted.
struct Bytes<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }
    fn u32(&mut self) -> u32 {
        u32::from(self.u16()) | (u32::from(self.u16()) << 16)
    }
    fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | (u64::from(self.u32()) << 32)
    }
    fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }
    /// `0..n` (`0` when `n == 0`).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { self.u32() as usize % n }
    }
    fn unit(&mut self) -> f32 {
        f32::from(self.u16()) / 65535.0
    }
    fn pick<T: Copy>(&mut self, table: &[T]) -> T {
        table[self.u8() as usize % table.len()]
    }
}

const SPECIAL_LOGITS: [u32; 26] = [
    0x7fc0_0000, // NaN
    0xffc0_0000, // -NaN
    0x7fc0_1234, // NaN with a payload
    0x7f80_0001, // signalling NaN
    0x7f80_0000, // inf
    0xff80_0000, // -inf
    0x0000_0000, // 0
    0x8000_0000, // -0
    0x0000_0001, // smallest subnormal
    0x806c_e3ee, // -1e-38 (subnormal range edge)
    0x0008_c3ab, // 1e-40
    0x0080_0000, // f32::MIN_POSITIVE
    0x7f7f_ffff, // f32::MAX
    0xff7f_ffff, // -f32::MAX
    0x7149_f2ca, // 1e30
    0xf149_f2ca, // -1e30
    0x7f61_b1e6, // 3e38
    0x42b1_70a4, // 88.72
    0xc2ae_999a, // -87.3
    0xc2cf_cccd, // -103.9
    0x477f_e000, // 65504 (f16 max)
    0x3f80_0000, // 1
    0xbf80_0000, // -1
    0x4b00_0000, // 2^23
    0x0da2_4260, // 1e-30
    0x42c8_0000, // 100
];

const SPECIAL_PROBS: [u32; 16] = [
    0x0000_0000, // 0
    0x3f80_0000, // 1
    0x3f7f_ffff, // 1 - 2^-24
    0x3380_0000, // 2^-24
    0x0008_c3ab, // 1e-40
    0x0000_0001, // smallest subnormal
    0x3f00_0000, // 0.5
    0x33d6_bf95, // 1e-7
    0x3f7f_fffe, // 1 - 2^-23
    0x2b8c_bccc, // 1e-12
    0x8000_0000, // -0 (valid)
    0x7fc0_0000, // NaN (invalid for BCE)
    0x3f80_0001, // just above 1
    0x8000_0001, // just below 0
    0x7f80_0000, // inf
    0x4000_0000, // 2
];

const SPECIAL_WEIGHTS: [u32; 14] = [
    0x7fc0_0000, // NaN
    0x7f80_0000, // inf
    0xff80_0000, // -inf
    0x7149_f2ca, // 1e30
    0x0da2_4260, // 1e-30
    0x0008_c3ab, // 1e-40
    0x7f7f_ffff, // f32::MAX
    0x60ad_78ec, // 1e20
    0x4040_0000, // 3
    0x42c8_0000, // 100
    0xbf80_0000, // -1
    0x8000_0000, // -0
    0x3f80_0000, // 1
    0x0000_0000, // 0
];

impl Dtype {
    /// The bits of `v` rounded to this type.
    pub fn bits(self, v: f32) -> u32 {
        match self {
            Dtype::F32 => v.to_bits(),
            Dtype::F16 => u32::from(f16::from_f32(v).to_bits()),
            Dtype::Bf16 => u32::from(bf16::from_f32(v).to_bits()),
        }
    }
    /// Raw bits of this type's width.
    fn raw(self, r: &mut Bytes<'_>) -> u32 {
        match self {
            Dtype::F32 => r.u32(),
            Dtype::F16 | Dtype::Bf16 => u32::from(r.u16()),
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

/// How wild an array's values are: 0 = ordinary values only, 1 = specials mixed in,
/// 2 = raw bit patterns only.
fn mode(r: &mut Bytes<'_>) -> u8 {
    match r.u8() % 16 {
        0..=9 => 0,
        10..=13 => 1,
        _ => 2,
    }
}

fn logit(r: &mut Bytes<'_>, dt: Dtype, mode: u8, prev: f32) -> u32 {
    if mode == 2 {
        return dt.raw(r);
    }
    let tag = r.u8() % if mode == 0 { 12 } else { 16 };
    let v = match tag {
        0..=4 => f32::from(r.u16() as i16) / 256.0,
        5 | 6 => f32::from(r.u8() as i8) / 8.0,
        7 => {
            // sign * (1 + m/256) * 2^e, e in -128..=127
            let m = 1.0 + f32::from(r.u8()) / 256.0;
            let e = i32::from(r.u8() as i8);
            let s = if r.bool() { -1.0 } else { 1.0 };
            s * m * 2f32.powi(e)
        }
        8 | 9 => prev,
        10 | 11 => 0.0,
        12 | 13 => f32::from_bits(r.pick(&SPECIAL_LOGITS)),
        14 => return dt.raw(r),
        _ => -prev,
    };
    dt.bits(v)
}

fn prob(r: &mut Bytes<'_>, dt: Dtype, mode: u8, prev: f32) -> u32 {
    if mode == 2 {
        return dt.raw(r);
    }
    let tag = r.u8() % if mode == 0 { 12 } else { 16 };
    let v = match tag {
        0..=6 => r.unit(),
        7 => 0.0,
        8 => 1.0,
        9 => prev,
        10 | 11 => f32::from_bits(r.pick(&SPECIAL_PROBS[..11])),
        12 | 13 => f32::from_bits(r.pick(&SPECIAL_PROBS)),
        14 => return dt.raw(r),
        _ => f32::from(r.u16() as i16) / 1024.0,
    };
    dt.bits(v)
}

fn weight(r: &mut Bytes<'_>, mode: u8, prev: f32) -> u32 {
    if mode == 2 {
        return r.u32();
    }
    let tag = r.u8() % if mode == 0 { 12 } else { 16 };
    let v = match tag {
        0..=7 => 0.25 + f32::from(r.u8()) / 128.0,
        8 => prev,
        9 => 0.0,
        10 => 1.0,
        11 => f32::from(r.u8()) / 16.0,
        12 => -f32::from(r.u8()) / 64.0,
        13 | 14 => f32::from_bits(r.pick(&SPECIAL_WEIGHTS)),
        _ => return r.u32(),
    };
    v.to_bits()
}

/// A length near `expected`: usually it, sometimes one off or small and arbitrary.
fn near(r: &mut Bytes<'_>, expected: Option<usize>, perturb: bool) -> usize {
    match expected {
        Some(e) if !perturb => e,
        Some(e) => match r.u8() % 4 {
            0 => e + 1,
            1 => e.saturating_sub(1),
            2 => e + 1 + r.below(20),
            _ => r.below(20),
        },
        None => r.below(20),
    }
}

const HUGE: [usize; 5] = [usize::MAX, usize::MAX / 2 + 1, 1 << 32, 1 << 62, usize::MAX / 3];

fn class_count(r: &mut Bytes<'_>) -> usize {
    match r.u8() % 8 {
        0..=2 => r.below(20),
        3 => r.pick(&[0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33]),
        4 => r.below(300),
        5 => r.below(MAX_ELEMS + 1),
        6 => r.pick(&[255, 256, 257, 1023, 1024, 1025, 2047, 2048, 2049]),
        _ => r.below(70),
    }
}

impl Case {
    /// Decodes a case for `target` from arbitrary bytes (missing bytes read as 0).
    #[must_use]
    pub fn decode(target: Target, data: &[u8]) -> Case {
        let r = &mut Bytes { data, pos: 0 };
        let family = match target {
            Target::Lse => Family::Lse,
            Target::CeClass | Target::Ext => Family::Ce,
            Target::Probs => Family::Probs,
            Target::Nll => {
                if r.u8().is_multiple_of(4) {
                    Family::Gather
                } else {
                    Family::Nll
                }
            }
            Target::Bce => Family::Bce,
            Target::BceLogits => Family::BceLogits,
            Target::Focal => {
                if r.bool() {
                    Family::SigmoidFocal
                } else {
                    Family::SoftmaxFocal
                }
            }
            Target::Score => Family::Score,
            Target::Half => r.pick(&[
                Family::Lse,
                Family::Ce,
                Family::Ce,
                Family::Probs,
                Family::Nll,
                Family::Bce,
                Family::BceLogits,
                Family::SigmoidFocal,
                Family::SoftmaxFocal,
                Family::Score,
            ]),
        };
        let dtype =
            if target == Target::Half { if r.bool() { Dtype::F16 } else { Dtype::Bf16 } } else { Dtype::F32 };
        let index = match r.u8() % 8 {
            0..=4 => Index::I64,
            5 => Index::I32,
            6 => Index::U32,
            _ => Index::U8,
        };
        let ext = target == Target::Ext || (target == Target::Half && r.bool());
        let elementwise = matches!(family, Family::Bce | Family::BceLogits | Family::SigmoidFocal);

        // The layout, at most MAX_ELEMS logits and positions, sometimes with a huge dimension.
        let kind = r.u8();
        let mut c = class_count(r);
        // Bit 6 of `kind`: long runs, past the 8 groups of 16 positions that the plain
        // small-C forward folds into one `ln` (rows through their tiles, channel-first runs).
        let long = kind & 0x40 != 0;
        let (mut n, mut inner) = match kind % 4 {
            0 => (1, 1),
            1 | 2 => (r.below(if long { 300 } else { 65 }), 1),
            _ => (r.below(6), 1 + r.below(if long { 300 } else { 48 })),
        };
        if elementwise {
            // Element-wise losses have no layout: n elements.
            n = r.below(MAX_ELEMS + 1).min(if r.bool() { 80 } else { MAX_ELEMS });
            c = 1;
            inner = 1;
        }
        while n * c.max(1) * inner > MAX_ELEMS {
            n /= 2;
        }
        let mut huge = false;
        let layout = if kind >= 0xF0 && !elementwise {
            huge = true;
            let h = r.pick(&HUGE);

            match r.u8() % 4 {
                0 => Lay::Rows(h, c),
                1 => Lay::Rows(n, h),
                2 => Lay::ChannelFirst(n, c, h),
                _ => Lay::ChannelFirst(h, 0, h),
            }
        } else {
            match kind % 4 {
                0 => Lay::Unbatched(c),
                1 | 2 => Lay::Rows(n, c),
                _ => Lay::ChannelFirst(n, c, inner),
            }
        };
        let lay = layout.layout();
        let (positions, len) = if elementwise {
            (Some(n), Some(n))
        } else {
            let ok = |v: Result<usize, Error>| v.ok().filter(|&v| v <= MAX_ELEMS);
            (ok(lay.positions()), ok(lay.len()))
        };
        let classes = if huge { 0 } else { lay.classes() };

        // Which length, if any, disagrees with the layout.
        let bad = r.u8();
        let perturb = |which: u8| bad >= 0xE0 && bad % 8 == which;

        // Options.
        let ignore_index = match (index, r.u8() % 8) {
            (Index::U8, 0..=5) => 255,
            (_, 0..=4) => -100,
            (_, 5) => r.below(classes.max(1)) as i64,
            (_, 6) => 255,
            _ => r.u64() as i64,
        };
        let ignore_index = if r.u8() == 0xFF { norm(index, ignore_index) } else { ignore_index };
        let label_smoothing = match family {
            Family::Ce | Family::Probs => match r.u8() % 16 {
                0..=7 => 0.0f32.to_bits(),
                8 => 0.1f32.to_bits(),
                9 => 1.0f32.to_bits(),
                10..=12 => r.unit().to_bits(),
                13 => r.pick(&[
                    f32::NAN.to_bits(),
                    (-0.1f32).to_bits(),
                    1.000_000_1f32.to_bits(),
                    (-0.0f32).to_bits(),
                    f32::INFINITY.to_bits(),
                    1e-40f32.to_bits(),
                    1e-30f32.to_bits(),
                ]),
                14 => r.u32(),
                _ => 0.5f32.to_bits(),
            },
            _ => 0,
        };
        let (z_loss, softcap) = if ext && family == Family::Ce {
            let z = match r.u8() % 16 {
                0..=5 => 0.0f32,
                6..=8 => 1e-4,
                9 => r.unit() * 1e-2,
                10 => 1.0,
                11 => f32::from_bits(r.pick(&[
                    f32::NAN.to_bits(),
                    (-1.0f32).to_bits(),
                    f32::INFINITY.to_bits(),
                    (-0.0f32).to_bits(),
                    1e30f32.to_bits(),
                    1e-40f32.to_bits(),
                ])),
                12 => f32::from_bits(r.u32()),
                _ => r.unit() * 1e-2,
            };
            let cap = match r.u8() % 16 {
                0..=5 => None,
                6..=8 => Some(30.0f32),
                9 => Some(15.0),
                10 => Some(f32::from(r.u16()) / 256.0 + 1e-3),
                11 => Some(f32::from_bits(r.pick(&[
                    0.0f32.to_bits(),
                    (-1.0f32).to_bits(),
                    f32::NAN.to_bits(),
                    f32::INFINITY.to_bits(),
                    1e-30f32.to_bits(),
                    1e30f32.to_bits(),
                    1e-40f32.to_bits(),
                    f32::MAX.to_bits(),
                ]))),
                12 => Some(f32::from_bits(r.u32())),
                _ => Some(1.0 + f32::from(r.u8()) / 8.0),
            };
            (z.to_bits(), cap.map(f32::to_bits))
        } else {
            (0, None)
        };
        let gamma = match family {
            Family::SigmoidFocal | Family::SoftmaxFocal => match r.u8() % 16 {
                0 => 0.0f32,
                1 => 0.5,
                2 => 1.0,
                3..=6 => 2.0,
                7 => 3.0,
                8 => 5.0,
                9..=11 => r.unit() * 10.0,
                12 => f32::from_bits(r.pick(&[
                    f32::NAN.to_bits(),
                    (-1.0f32).to_bits(),
                    f32::INFINITY.to_bits(),
                    (-0.0f32).to_bits(),
                    1e30f32.to_bits(),
                    1e-40f32.to_bits(),
                    100.0f32.to_bits(),
                ])),
                13 => f32::from_bits(r.u32()),
                _ => 1.5,
            },
            _ => 0.0,
        }
        .to_bits();
        let alpha = match family {
            Family::SigmoidFocal => match r.u8() % 16 {
                0..=7 => 0.25f32,
                8 => -1.0,
                9 => 0.0,
                10 => 1.0,
                11 | 12 => r.unit(),
                13 => f32::from_bits(r.pick(&[
                    f32::NAN.to_bits(),
                    f32::INFINITY.to_bits(),
                    f32::NEG_INFINITY.to_bits(),
                    1e30f32.to_bits(),
                    (-0.0f32).to_bits(),
                    2.0f32.to_bits(),
                ])),
                14 => f32::from_bits(r.u32()),
                _ => 0.75,
            },
            _ => 0.0,
        }
        .to_bits();
        let reduction = if r.bool() { Reduction::Sum } else { Reduction::Mean };

        // Lengths.
        let x_len = near(r, len, perturb(0));
        let needs_targets = matches!(
            family,
            Family::Ce | Family::Nll | Family::Gather | Family::SoftmaxFocal | Family::Score
        );
        let needs_soft = matches!(family, Family::Probs) || elementwise;
        let t_len = if needs_targets { near(r, positions, perturb(1)) } else { 0 };
        let s_len = if needs_soft { near(r, len, perturb(2)) } else { 0 };
        let out_len = near(r, if elementwise { len } else { positions }, perturb(3));
        let grad_len = near(r, len, perturb(4));
        let has_weight =
            !matches!(family, Family::Lse | Family::Gather | Family::Score | Family::SigmoidFocal)
                && r.u8().is_multiple_of(3);
        let w_len = if elementwise {
            // A broadcast weight: a divisor of n, usually.
            match r.u8() % 4 {
                0 => n,
                1 => 1,
                2 => divisor(r, n),
                _ => r.below(n + 2),
            }
        } else {
            near(r, if huge { None } else { Some(classes) }, perturb(5))
        };
        let pw_len = match (family, r.u8() % 4) {
            (Family::BceLogits, 0) => Some(n),
            (Family::BceLogits, 1) => Some(1),
            (Family::BceLogits, 2) => Some(divisor(r, n)),
            _ => None,
        };

        // Values.
        let m = mode(r);
        let mut prev = 0.0;
        let logits: Vec<u32> = (0..x_len.min(MAX_ELEMS + 32))
            .map(|_| {
                let b =
                    if family == Family::Bce { prob(r, dtype, m, prev) } else { logit(r, dtype, m, prev) };
                prev = dtype.value(b);
                b
            })
            .collect();

        let targets: Vec<i64> = (0..t_len.min(MAX_ELEMS + 32))
            .map(|_| {
                let t = match r.u8() % 16 {
                    0..=10 => r.below(classes.max(1)) as i64,
                    11 | 12 => ignore_index,
                    13 => classes as i64,
                    14 => -1 - r.below(3) as i64,
                    _ => r.u64() as i64,
                };
                norm(index, t)
            })
            .collect();
        let m = mode(r);
        let mut prev = 0.0;
        let soft: Vec<u32> = (0..s_len.min(MAX_ELEMS + 32))
            .map(|_| {
                let b = prob(r, dtype, m, prev);
                prev = dtype.value(b);
                b
            })
            .collect();
        let weights = |r: &mut Bytes<'_>, k: usize| {
            let m = mode(r);
            let mut prev = 1.0;
            (0..k.min(MAX_ELEMS + 32))
                .map(|_| {
                    let b = weight(r, m, prev);
                    prev = f32::from_bits(b);
                    b
                })
                .collect::<Vec<u32>>()
        };
        let weight = if has_weight { Some(weights(r, w_len)) } else { None };
        let pos_weight = pw_len.map(|k| weights(r, k));
        Case {
            family,
            dtype,
            index,
            layout,
            logits,
            targets,
            soft,
            weight,
            pos_weight,
            ignore_index,
            label_smoothing,
            z_loss,
            softcap,
            gamma,
            alpha,
            reduction,
            out_len: out_len.min(MAX_ELEMS + 32),
            grad_len: grad_len.min(MAX_ELEMS + 32),
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

/// A divisor of `n` (1 for `n == 0`).
fn divisor(r: &mut Bytes<'_>, n: usize) -> usize {
    if n == 0 {
        return 1;
    }
    let d = 1 + r.below(n.min(64));
    if n.is_multiple_of(d) { d } else { 1 }
}

/// `t` as the index type stores it, widened back to i64.
fn norm(index: Index, t: i64) -> i64 {
    match index {
        Index::I64 => t,
        Index::I32 => i64::from(t as i32),
        Index::U32 => i64::from(t as u32),
        Index::U8 => i64::from(t as u8),
    }
}

// ---------------------------------------------------------------------------------------
// The reproducer
// ---------------------------------------------------------------------------------------

fn usize_lit(v: usize) -> String {
    match v {
        usize::MAX => "usize::MAX".into(),
        v if v == usize::MAX / 2 + 1 => "usize::MAX / 2 + 1".into(),
        v if v == usize::MAX / 3 => "usize::MAX / 3".into(),
        v => v.to_string(),
    }
}

fn f32_lit(b: u32) -> String {
    format!("0x{b:08x} /* {:?} */", f32::from_bits(b))
}

fn elems_lit(v: &[u32], dt: Dtype) -> String {
    let mut s = String::from("vec![");
    for (i, &b) in v.iter().enumerate() {
        if i % 6 == 0 {
            s.push_str("\n        ");
        }
        match dt {
            Dtype::F32 => s.push_str(&f32_lit(b)),
            _ => s.push_str(&format!("0x{b:04x} /* {:?} */", dt.value(b))),
        }
        s.push_str(", ");
    }
    if !v.is_empty() {
        s.push_str("\n    ");
    }
    s.push(']');
    s
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lay = match self.layout {
            Lay::Unbatched(c) => format!("Lay::Unbatched({})", usize_lit(c)),
            Lay::Rows(n, c) => format!("Lay::Rows({}, {})", usize_lit(n), usize_lit(c)),
            Lay::ChannelFirst(n, c, i) => {
                format!("Lay::ChannelFirst({}, {}, {})", usize_lit(n), usize_lit(c), usize_lit(i))
            }
        };
        let opt_vec = |v: &Option<Vec<u32>>| match v {
            Some(v) => format!("Some({})", elems_lit(v, Dtype::F32)),
            None => "None".into(),
        };
        writeln!(f, "Case {{")?;
        writeln!(f, "    family: Family::{:?},", self.family)?;
        writeln!(f, "    dtype: Dtype::{:?},", self.dtype)?;
        writeln!(f, "    index: Index::{:?},", self.index)?;
        writeln!(f, "    layout: {lay},")?;
        writeln!(f, "    logits: {},", elems_lit(&self.logits, self.dtype))?;
        writeln!(f, "    targets: vec!{:?},", self.targets)?;
        writeln!(f, "    soft: {},", elems_lit(&self.soft, self.dtype))?;
        writeln!(f, "    weight: {},", opt_vec(&self.weight))?;
        writeln!(f, "    pos_weight: {},", opt_vec(&self.pos_weight))?;
        writeln!(f, "    ignore_index: {},", self.ignore_index)?;
        writeln!(f, "    label_smoothing: {},", f32_lit(self.label_smoothing))?;
        writeln!(f, "    z_loss: {},", f32_lit(self.z_loss))?;
        match self.softcap {
            Some(b) => writeln!(f, "    softcap: Some({}),", f32_lit(b))?,
            None => writeln!(f, "    softcap: None,")?,
        }
        writeln!(f, "    gamma: {},", f32_lit(self.gamma))?;
        writeln!(f, "    alpha: {},", f32_lit(self.alpha))?;
        writeln!(f, "    reduction: Reduction::{:?},", self.reduction)?;
        writeln!(f, "    out_len: {},", self.out_len)?;
        writeln!(f, "    grad_len: {},", self.grad_len)?;
        write!(f, "}}")
    }
}

// ---------------------------------------------------------------------------------------
// Comparison machinery
// ---------------------------------------------------------------------------------------

/// Element types built from bit patterns.
pub trait Bits: Element {
    fn from_bits32(b: u32) -> Self;
}
impl Bits for f32 {
    fn from_bits32(b: u32) -> Self {
        f32::from_bits(b)
    }
}
impl Bits for f16 {
    fn from_bits32(b: u32) -> Self {
        f16::from_bits(b as u16)
    }
}
impl Bits for bf16 {
    fn from_bits32(b: u32) -> Self {
        bf16::from_bits(b as u16)
    }
}

/// Class-index types built from (already normalised) i64 values.
pub trait Idx: ClassIndex {
    fn from_i64(v: i64) -> Self;
}
impl Idx for i64 {
    fn from_i64(v: i64) -> Self {
        v
    }
}
impl Idx for i32 {
    fn from_i64(v: i64) -> Self {
        v as i32
    }
}
impl Idx for u32 {
    fn from_i64(v: i64) -> Self {
        v as u32
    }
}
impl Idx for u8 {
    fn from_i64(v: i64) -> Self {
        v as u8
    }
}

/// Leave the reproducer out of failure messages (for surveys that catch many failures).
pub static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

struct Ctx<'a> {
    case: &'a Case,
}

impl Ctx<'_> {
    #[track_caller]
    fn fail(&self, msg: &str) -> ! {
        if QUIET.load(std::sync::atomic::Ordering::Relaxed) {
            panic!("{msg}");
        }
        panic!("{msg}\n\nreproducer (paste into tests/regressions.rs):\n{:?}\n", self.case)
    }

    /// The SIMD call and its scalar f64 and f32 twins either all succeed (returns true) or
    /// all fail with the same error; they succeed exactly when `valid`.
    #[track_caller]
    fn outcome<A, B, C>(
        &self,
        what: &str,
        simd: &Result<A, Error>,
        s64: &Result<B, Error>,
        s32: &Result<C, Error>,
        valid: bool,
    ) -> bool {
        match (simd, s64, s32) {
            (Ok(_), Ok(_), Ok(_)) => {
                if !valid {
                    self.fail(&format!("{what}: Ok on input the validity model rejects"));
                }
                true
            }
            (Err(a), Err(b), Err(c)) => {
                let (a, b, c) = (format!("{a:?}"), format!("{b:?}"), format!("{c:?}"));
                if a != b || a != c {
                    self.fail(&format!("{what}: errors differ: simd {a}, scalar f64 {b}, scalar f32 {c}"));
                }
                if valid {
                    self.fail(&format!("{what}: {a} on input the validity model accepts"));
                }
                false
            }
            _ => self.fail(&format!(
                "{what}: outcomes differ: simd {:?}, scalar f64 {:?}, scalar f32 {:?}",
                simd.as_ref().err(),
                s64.as_ref().err(),
                s32.as_ref().err()
            )),
        }
    }

    /// Returns true when `got` was accepted only as a non-finite value.
    /// `got` (SIMD, f32) against the oracle `want` (f64) within `bound`; see [`close`].
    /// `w32` is the scalar f32 twin's value: where it is not finite although the oracle's
    /// f32 value is, an f32 intermediate overflows (documented; e.g. `z * lse^2` or
    /// `w * x` near `f32::MAX`) and the SIMD value may be non-finite too (but never a
    /// finite value outside the bound). `nonfinite_ok` admits the documented label-smoothing
    /// overflow of `Σ w (x - x_t)`.
    #[track_caller]
    fn value(
        &self,
        what: impl Fn() -> String,
        got: f32,
        want: f64,
        w32: f32,
        bound: f64,
        nonfinite_ok: bool,
    ) -> bool {
        let g = f64::from(got);
        if close(g, want, bound) {
            return false;
        }
        // As tests/equivalence.rs: where the scalar f32 twin is not finite but the oracle is
        // not NaN, an f32 intermediate overflowed (e.g. `z * lse^2`, `w * x` or `Σ w t x`
        // near f32::MAX), and the SIMD value need only be non-finite too. Stricter than
        // tests/equivalence.rs where the oracle is infinite and the scalar f32 twin agrees:
        // then the SIMD value must be that infinity.
        let f32_overflow =
            !want.is_nan() && !w32.is_finite() && !(want.is_infinite() && f64::from(w32) == want);
        if (f32_overflow || nonfinite_ok) && !got.is_finite() {
            // Accepted only as a non-finite value: a reduction over it may be one too.
            return true;
        }
        self.fail(&format!(
            "{}: simd {got:e}, oracle {want:e}, scalar f32 {w32:e}, |err| {:e} > bound {bound:e}",
            what(),
            (g - want).abs()
        ));
    }
}

/// (Every reduction below also accepts a non-finite value when `Σ |terms|` nears f32::MAX:
/// partial sums may then overflow, in an order-dependent way, though the total does not.)
///
/// `|got - want| <= bound`, NaN exactly where NaN is due, the same infinity where the
/// oracle is infinite; a finite oracle value beyond f32's range must come back as the
/// infinity it rounds to, unless the bound reaches back below the overflow threshold; an
/// infinite `got` is accepted for a finite oracle only when the bound reaches the overflow
/// threshold (the value may round either way there).
fn close(got: f64, want: f64, bound: f64) -> bool {
    if want.is_nan() {
        return got.is_nan();
    }
    if got.is_nan() {
        return false;
    }
    if want.is_infinite() {
        return got == want;
    }
    if got.is_infinite() {
        return got.signum() == want.signum() && want.abs() + bound >= OVERFLOW;
    }
    // The oracle rounded to f32 is always right; below 2^-126 f32 values are subnormal and
    // every operation there errs by up to 2^-150 absolute, which relative bounds miss.
    got == f64::from(want as f32) || (got - want).abs() <= bound + SUBNORMAL_SLACK
}

/// Where a weighted mean's losses are subnormal in f32 (a subnormal class weight), each
/// carries an absolute error of up to 2^-150 from its last product, which the division by
/// `W` scales up: a few subnormal steps per counted position, over `|W|`.
fn subnormal_mean(count: f64, w_den: f64) -> f64 {
    4.0 * 1.401_298_464_324_817e-45 * count / w_den.abs()
}

/// A few of f32's smallest subnormal steps (2^-149).
const SUBNORMAL_SLACK: f64 = 4.0 * 1.401_298_464_324_817e-45;

/// Non-finite bound ingredients count as 0: where they matter, the oracle's value is NaN
/// or infinite itself and [`close`] does not use the bound.
fn fin(v: f64) -> f64 {
    if v.is_finite() { v } else { 0.0 }
}

/// The largest finite `|x|`, at least 1 (the docs' `M`, floored as in tests/equivalence.rs).
fn scale(x: impl IntoIterator<Item = f64>) -> f64 {
    x.into_iter().filter(|v| v.is_finite()).fold(1.0, |m, v| m.max(v.abs()))
}

/// The docs' `u = 4 eps (M + ln C + 1)`.
fn unit(m: f64, c: usize) -> f64 {
    4.0 * EPS * (m + (c.max(1) as f64).ln() + 1.0)
}

/// [`unit`] for a row of `lay`: the docs' LSE bound, `u + C eps / 2` for channel-first
/// layouts, whose positions sum their `C` terms in one accumulator each.
fn lay_unit(m: f64, lay: Layout) -> f64 {
    let c = lay.classes();
    unit(m, c) + if lay.inner() > 1 { c as f64 * EPS / 2.0 } else { 0.0 }
}

/// The (capped) maximum of position `p`'s row, in f64.
fn row_max(x: &[f32], lay: Layout, p: usize, cap: Option<f64>) -> f64 {
    row(x, lay, p)
        .into_iter()
        .map(|v| cap.map_or(v, |s| s * (v / s).tanh()))
        .fold(f64::NEG_INFINITY, f64::max)
}

/// The values (as f64) of position `p`'s row.
fn row(x: &[f32], lay: Layout, p: usize) -> Vec<f64> {
    let (c, inner) = (lay.classes(), lay.inner());
    let (n, i) = (p / inner, p % inner);
    let base = n * c * inner + i;
    (0..c).map(|k| f64::from(x[base + k * inner])).collect()
}

/// `ln Σ exp(v)` in f64 (for bound ingredients only).
fn lse64(v: &[f64]) -> f64 {
    let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    m + v.iter().map(|&x| (x - m).exp()).sum::<f64>().ln()
}

/// Bitwise equality, NaN equal to NaN (and 0 to -0). Under Miri, which perturbs the results
/// of float operations that IEEE 754 does not require to be exact (so two calls that run the
/// same arithmetic may differ), equality within 64 ulps.
fn same(a: f32, b: f32) -> bool {
    if a == b || (a.is_nan() && b.is_nan()) {
        return true;
    }
    cfg!(miri) && (a - b).abs() <= 64.0 * f32::EPSILON * a.abs().max(b.abs()) + f32::MIN_POSITIVE
}

fn f32s(bits: &[u32]) -> Vec<f32> {
    bits.iter().map(|&b| f32::from_bits(b)).collect()
}

fn elems<T: Bits>(bits: &[u32]) -> Vec<T> {
    bits.iter().map(|&b| T::from_bits32(b)).collect()
}

fn widen<T: Element>(x: &[T]) -> Vec<f32> {
    x.iter().map(|v| v.to_f32()).collect()
}

/// Target `t` of a validated call as a class (None when ignored).
fn class_of(t: i64, ignore: i64) -> Option<usize> {
    if t == ignore { None } else { usize::try_from(t).ok() }
}

/// The lengths and targets a class-index loss validates, as a boolean.
fn class_lengths_ok(case: &Case, lay: Layout, out: Option<usize>, grad: Option<usize>) -> bool {
    let (Ok(pos), Ok(len)) = (lay.positions(), lay.len()) else { return false };
    case.logits.len() == len
        && case.targets.len() == pos
        && case.weight.as_ref().is_none_or(|w| w.len() == lay.classes())
        && out.is_none_or(|o| o == pos)
        && grad.is_none_or(|g| g == len)
        && case
            .targets
            .iter()
            .all(|&t| t == case.ignore_index || usize::try_from(t).is_ok_and(|c| c < lay.classes()))
}

fn reduced(r: Reduction, sum: f64, count: f64) -> f64 {
    match r {
        Reduction::Sum => sum,
        Reduction::Mean => sum / count,
    }
}

// ---------------------------------------------------------------------------------------
// Entry point
// ---------------------------------------------------------------------------------------

/// Runs the differential check of `case`; panics (with a reproducer) on any violation.
pub fn run(case: &Case) {
    match case.dtype {
        Dtype::F32 => by_index::<f32>(case),
        Dtype::F16 => by_index::<f16>(case),
        Dtype::Bf16 => by_index::<bf16>(case),
    }
}

fn by_index<T: Bits>(case: &Case) {
    match case.index {
        Index::I64 => family::<T, i64>(case),
        Index::I32 => family::<T, i32>(case),
        Index::U32 => family::<T, u32>(case),
        Index::U8 => family::<T, u8>(case),
    }
}

fn family<T: Bits, I: Idx>(case: &Case) {
    let ctx = Ctx { case };
    match case.family {
        Family::Lse => lse::<T>(&ctx),
        Family::Ce => ce::<T, I>(&ctx),
        Family::Probs => probs::<T>(&ctx),
        Family::Nll => nll::<T, I>(&ctx),
        Family::Gather => gather::<T, I>(&ctx),
        Family::Bce => bce::<T>(&ctx),
        Family::BceLogits => bce_logits::<T>(&ctx),
        Family::SigmoidFocal => sigmoid_focal::<T>(&ctx),
        Family::SoftmaxFocal => softmax_focal::<T, I>(&ctx),
        Family::Score => score::<T, I>(&ctx),
    }
}

/// `$f::<T, I>` for the case's index type.
macro_rules! by_idx {
    ($f:ident, $t:ty, $case:expr) => {{
        let ctx = Ctx { case: $case };
        match $case.index {
            Index::I64 => $f::<$t, i64>(&ctx),
            Index::I32 => $f::<$t, i32>(&ctx),
            Index::U32 => $f::<$t, u32>(&ctx),
            Index::U8 => $f::<$t, u8>(&ctx),
        }
    }};
}

/// The entry point of the fuzz targets: decodes `data` for `target` and runs the check,
/// instantiating only the element and index types and the family that target can decode
/// (so each fuzz binary compiles a fraction of [`run`]).
pub fn fuzz(target: Target, data: &[u8]) {
    let case = Case::decode(target, data);
    let ctx = Ctx { case: &case };
    match (target, case.family) {
        (Target::Lse, _) => lse::<f32>(&ctx),
        (Target::CeClass | Target::Ext, _) => by_idx!(ce, f32, &case),
        (Target::Probs, _) => probs::<f32>(&ctx),
        (Target::Nll, Family::Gather) => by_idx!(gather, f32, &case),
        (Target::Nll, _) => by_idx!(nll, f32, &case),
        (Target::Bce, _) => bce::<f32>(&ctx),
        (Target::BceLogits, _) => bce_logits::<f32>(&ctx),
        (Target::Focal, Family::SigmoidFocal) => sigmoid_focal::<f32>(&ctx),
        (Target::Focal, _) => by_idx!(softmax_focal, f32, &case),
        (Target::Score, _) => by_idx!(score, f32, &case),
        (Target::Half, _) => match case.dtype {
            Dtype::F16 => by_index::<f16>(&case),
            _ => by_index::<bf16>(&case),
        },
    }
}

// ---------------------------------------------------------------------------------------
// Primitives
// ---------------------------------------------------------------------------------------

fn lse<T: Bits>(ctx: &Ctx<'_>) {
    let case = ctx.case;
    let x: Vec<T> = elems(&case.logits);
    let x32 = widen(&x);
    let lay = case.layout.layout();

    // The whole slice as one row: bound u.
    let got = xent::log_sum_exp(&x);
    let w64: f64 = xent::scalar::log_sum_exp(&x);
    let w32: f32 = xent::scalar::log_sum_exp(&x);
    let u = unit(scale(x32.iter().map(|&v| f64::from(v))), x.len());
    let _ = ctx.value(|| "log_sum_exp".into(), got, w64, w32, u, false);

    // LsePartial: no scalar twin and no documented bound; it must not panic, and a split
    // row merges to a NaN exactly when the row holds NaN or +inf.
    let k = x.len() / 3;
    let merged = xent::LsePartial::of(&x[..k]).merge(xent::LsePartial::of(&x[k..]));
    let special = x32.iter().any(|v| v.is_nan() || *v == f32::INFINITY);
    if merged.lse().is_nan() != special {
        ctx.fail(&format!("LsePartial: merged lse {} for a row with NaN/+inf: {special}", merged.lse()));
    }

    let valid_len = lay.len().is_ok_and(|l| l == x.len());
    let pos = lay.positions().unwrap_or(0);

    // Per-position log-sum-exp.
    let (mut o, mut o64, mut o32) =
        (vec![0f32; case.out_len], vec![0f64; case.out_len], vec![0f32; case.out_len]);
    let r = xent::log_sum_exp_into(&x, lay, &mut o);
    let r64 = xent::scalar::log_sum_exp_into(&x, lay, &mut o64);
    let r32 = xent::scalar::log_sum_exp_into(&x, lay, &mut o32);
    let ok = valid_len && case.out_len == pos;
    if ctx.outcome("log_sum_exp_into", &r, &r64, &r32, ok) {
        for p in 0..pos {
            let u = lay_unit(scale(row(&x32, lay, p)), lay);
            let _ = ctx.value(|| format!("log_sum_exp_into[{p}]"), o[p], o64[p], o32[p], u, false);
        }
    }

    // Log-softmax and softmax: bounds u + 2 eps |lp| and (u + 4 eps (1 + |lp|)) p + 1.3e-38.
    let n = case.grad_len;
    let (mut lp, mut lp64, mut lp32) = (vec![0f32; n], vec![0f64; n], vec![0f32; n]);
    let r = xent::log_softmax_into(&x, lay, &mut lp);
    let r64 = xent::scalar::log_softmax_into(&x, lay, &mut lp64);
    let r32 = xent::scalar::log_softmax_into(&x, lay, &mut lp32);
    let ok = valid_len && n == x.len();
    let lsm_ok = ctx.outcome("log_softmax_into", &r, &r64, &r32, ok);
    let (mut sm, mut sm64, mut sm32) = (vec![0f32; n], vec![0f64; n], vec![0f32; n]);
    let r = xent::softmax_into(&x, lay, &mut sm);
    let r64 = xent::scalar::softmax_into(&x, lay, &mut sm64);
    let r32 = xent::scalar::softmax_into(&x, lay, &mut sm32);
    if ctx.outcome("softmax_into", &r, &r64, &r32, ok) && lsm_ok {
        let (c, inner) = (lay.classes(), lay.inner());
        // (No classes: nothing was written, and the batch may be huge.)
        for p in 0..if c == 0 { 0 } else { pos } {
            let xr = row(&x32, lay, p);
            let u = lay_unit(scale(xr), lay);
            let base = (p / inner) * c * inner + p % inner;
            for k in 0..c {
                let j = base + k * inner;
                let b = u + 2.0 * EPS * fin(lp64[j]).abs();
                let _ = ctx.value(|| format!("log_softmax[{j}]"), lp[j], lp64[j], lp32[j], b, false);
                // exp flushes results below about exp(-87.3) = 1.2e-38 to 0.
                let b =
                    if sm64[j] == 0.0 { 0.0 } else { (u + 4.0 * EPS * (1.0 + fin(lp64[j]).abs())) * sm64[j] };

                let _ = ctx.value(|| format!("softmax[{j}]"), sm[j], sm64[j], sm32[j], b + 1.3e-38, false);
            }
        }
    }
}

fn gather<T: Bits, I: Idx>(ctx: &Ctx<'_>) {
    let case = ctx.case;
    let x: Vec<T> = elems(&case.logits);
    let t: Vec<I> = case.targets.iter().map(|&v| I::from_i64(v)).collect();
    let lay = case.layout.layout();
    let (mut o, mut o64, mut o32) =
        (vec![0f32; case.out_len], vec![0f64; case.out_len], vec![0f32; case.out_len]);
    let r = xent::gather(&x, lay, &t, case.ignore_index, &mut o);
    let r64 = xent::scalar::gather(&x, lay, &t, case.ignore_index, &mut o64);
    let r32 = xent::scalar::gather(&x, lay, &t, case.ignore_index, &mut o32);
    let ok = class_lengths_ok(case, lay, Some(case.out_len), None) && case.weight.is_none();
    if ctx.outcome("gather", &r, &r64, &r32, ok) {
        // A gather is exact.
        for p in 0..o.len() {
            if !same(o[p], o64[p] as f32) || !same(o[p], o32[p]) {
                ctx.fail(&format!("gather[{p}]: simd {} oracle {} scalar f32 {}", o[p], o64[p], o32[p]));
            }
        }
    }
}

fn score<T: Bits, I: Idx>(ctx: &Ctx<'_>) {
    let case = ctx.case;
    let x: Vec<T> = elems(&case.logits);
    let x32 = widen(&x);
    let t: Vec<I> = case.targets.iter().map(|&v| I::from_i64(v)).collect();
    let lay = case.layout.layout();
    let n = case.out_len;
    let (mut o, mut o64, mut o32) =
        (vec![Score::default(); n], vec![Score::default(); n], vec![Score::default(); n]);
    let r = xent::score_into(&x, lay, &t, case.ignore_index, &mut o);
    let r64 = xent::scalar::score_into::<f64, _, _>(&x, lay, &t, case.ignore_index, &mut o64);
    let r32 = xent::scalar::score_into::<f32, _, _>(&x, lay, &t, case.ignore_index, &mut o32);
    let ok = class_lengths_ok(case, lay, Some(n), None) && case.weight.is_none();
    if ctx.outcome("score_into", &r, &r64, &r32, ok) {
        for p in 0..n {
            if (o[p].above, o[p].counted) != (o64[p].above, o64[p].counted) {
                ctx.fail(&format!("score[{p}]: simd {:?} oracle {:?}", o[p], o64[p]));
            }
            // The per-position cross-entropy bound, 1.5 u + 4 eps |loss|.
            let u = lay_unit(scale(row(&x32, lay, p)), lay);
            let want = f64::from(o64[p].loss);
            let b = 1.5 * u + 4.0 * EPS * fin(want).abs();
            let _ = ctx.value(|| format!("score[{p}].loss"), o[p].loss, want, o32[p].loss, b, false);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Class-index softmax losses
// ---------------------------------------------------------------------------------------

/// What the bounds of a class-index softmax loss need per counted position.
struct PosInfo {
    p: usize,
    class: usize,
    /// The docs' `u` for this row (soft-capped rows: `M` capped, plus `4 eps s`).
    u: f64,
    /// `M`, capped.
    sc: f64,
    /// The f64 log-sum-exp of the (capped) row.
    lse: f64,
    /// `max |x_c - x_t|` over finite logits (label smoothing's overflow exception).
    spread: f64,
}

fn positions_info(x32: &[f32], lay: Layout, targets: &[i64], ignore: i64, cap: Option<f64>) -> Vec<PosInfo> {
    let mut v = Vec::new();
    for (p, &t) in targets.iter().enumerate() {
        let Some(class) = class_of(t, ignore) else { continue };
        let raw = row(x32, lay, p);
        let capped: Vec<f64> = match cap {
            Some(s) => raw.iter().map(|&v| s * (v / s).tanh()).collect(),
            None => raw.clone(),
        };
        // Docs: `M` of a capped row is that of its capped logits (an infinite logit caps to
        // a finite `±s`).
        let sc = scale(capped.iter().copied());
        // Docs: a capped logit carries a relative error of 4 eps more (at most 4 eps M).
        let u = lay_unit(sc, lay) + cap.map_or(0.0, |_| 4.0 * EPS * sc);
        let xt = capped[class];
        let spread = capped.iter().filter(|v| v.is_finite()).fold(0.0f64, |a, &v| a.max((v - xt).abs()));
        v.push(PosInfo { p, class, u, sc, lse: lse64(&capped), spread });
    }
    v
}

/// The mean's denominator `W = Σ w[y]` over counted positions (f64), `Σ |w[y]|`, and the
/// count of counted positions.
fn denominators(w: Option<&[f32]>, info: &[PosInfo]) -> (f64, f64, f64) {
    let k = info.len() as f64;
    match w {
        None => (k, k, k),
        Some(w) => {
            let s: f64 = info.iter().map(|i| f64::from(w[i.class])).sum();
            let a: f64 = info.iter().map(|i| f64::from(w[i.class]).abs()).sum();
            (s, a, k)
        }
    }
}

/// The relative error of the f32 denominator `W` of a weighted mean: the docs' `8 eps`
/// relative error of a reduction, taken relative to `Σ |w[y]|` rather than `|W|`: the two
/// are equal for non-negative weights (the range of tests/equivalence.rs); with weights of
/// both signs `W` cancels and its f32 value is only that accurate. Infinite when nothing
/// is known (`W` cancels to 0 in f64 but not in f32, or the reverse).
fn denominator_error(weighted: bool, w: f64, wabs: f64) -> f64 {
    if weighted && wabs >= f64::from(f32::MAX) / 2.0 {
        // `W` (or a partial sum of it) overflows f32: the f32 mean divides by infinity.
        f64::INFINITY
    } else if !weighted || wabs == 0.0 || !wabs.is_finite() {
        0.0
    } else if w == 0.0 {
        f64::INFINITY
    } else {
        8.0 * EPS * wabs / w.abs()
    }
}

fn ce<T: Bits, I: Idx>(ctx: &Ctx<'_>) {
    let case = ctx.case;
    let x: Vec<T> = elems(&case.logits);
    let x32 = widen(&x);
    let t: Vec<I> = case.targets.iter().map(|&v| I::from_i64(v)).collect();
    let lay = case.layout.layout();
    let wv = case.weight.as_deref().map(f32s);
    let ls = f32::from_bits(case.label_smoothing);
    let z = f32::from_bits(case.z_loss);
    let cap = case.softcap.map(f32::from_bits);
    let opts = CrossEntropyOptions::new()
        .with_weight(wv.as_deref())
        .with_ignore_index(case.ignore_index)
        .with_label_smoothing(ls)
        .with_z_loss(z)
        .with_softcap(cap)
        .with_reduction(case.reduction);
    let opts_ok = (0.0..=1.0).contains(&ls)
        && z >= 0.0
        && z.is_finite()
        && cap.is_none_or(|s| s > 0.0 && s.is_finite());

    // Forward.
    let f = xent::cross_entropy(&x, lay, &t, &opts);
    let f64_: Result<f64, _> = xent::scalar::cross_entropy(&x, lay, &t, &opts);
    let f32_: Result<f32, _> = xent::scalar::cross_entropy(&x, lay, &t, &opts);
    let fwd_ok =
        ctx.outcome("cross_entropy", &f, &f64_, &f32_, opts_ok && class_lengths_ok(case, lay, None, None));

    // Per position.
    let n = case.out_len;
    let (mut o, mut o64, mut o32) = (vec![0f32; n], vec![0f64; n], vec![0f32; n]);
    let r = xent::cross_entropy_per_position(&x, lay, &t, &opts, &mut o);
    let r64 = xent::scalar::cross_entropy_per_position(&x, lay, &t, &opts, &mut o64);
    let r32 = xent::scalar::cross_entropy_per_position(&x, lay, &t, &opts, &mut o32);
    let per_ok = ctx.outcome(
        "cross_entropy_per_position",
        &r,
        &r64,
        &r32,
        opts_ok && class_lengths_ok(case, lay, Some(n), None),
    );

    // Fused gradient.
    let gl = case.grad_len;
    let (mut g, mut g64, mut g32) = (vec![0f32; gl], vec![0f64; gl], vec![0f32; gl]);
    let gr = xent::cross_entropy_with_grad(&x, lay, &t, &opts, &mut g);
    let gr64 = xent::scalar::cross_entropy_with_grad(&x, lay, &t, &opts, &mut g64);
    let gr32 = xent::scalar::cross_entropy_with_grad(&x, lay, &t, &opts, &mut g32);
    let grad_ok = ctx.outcome(
        "cross_entropy_with_grad",
        &gr,
        &gr64,
        &gr32,
        opts_ok && class_lengths_ok(case, lay, None, Some(gl)),
    );

    // In place over the logits.
    let mut xi = x.clone();
    let ir = xent::cross_entropy_with_grad_in_place(&mut xi, lay, &t, &opts);
    let mut xi64 = x.clone();
    let ir64: Result<f64, _> = xent::scalar::cross_entropy_with_grad_in_place(&mut xi64, lay, &t, &opts);
    let mut xi32 = x.clone();
    let ir32: Result<f32, _> = xent::scalar::cross_entropy_with_grad_in_place(&mut xi32, lay, &t, &opts);
    let in_ok = ctx.outcome(
        "cross_entropy_with_grad_in_place",
        &ir,
        &ir64,
        &ir32,
        opts_ok && class_lengths_ok(case, lay, None, None),
    );
    if !in_ok {
        // Every class-index error is found before any gradient is written (crate docs).
        let unchanged = xi.iter().zip(&x).all(|(a, b)| a.to_f32().to_bits() == b.to_f32().to_bits());
        if !unchanged {
            ctx.fail("cross_entropy_with_grad_in_place: logits changed by a call that returned an error");
        }
    }

    // Two-pass: the forward writing each position's log-sum-exp (into an `out_len` buffer),
    // then the backward from it (buffer and in place).
    let (mut l, mut l64, mut l32) = (vec![0f32; n], vec![0f64; n], vec![0f32; n]);
    let wl = xent::cross_entropy_with_lse(&x, lay, &t, &opts, &mut l);
    let wl64 = xent::scalar::cross_entropy_with_lse(&x, lay, &t, &opts, &mut l64);
    let wl32 = xent::scalar::cross_entropy_with_lse(&x, lay, &t, &opts, &mut l32);
    let lse_ok = ctx.outcome(
        "cross_entropy_with_lse",
        &wl,
        &wl64,
        &wl32,
        opts_ok && class_lengths_ok(case, lay, Some(n), None),
    );
    let (mut b, mut b64, mut b32) = (vec![0f32; gl], vec![0f64; gl], vec![0f32; gl]);
    let br = xent::cross_entropy_backward(&x, lay, &t, &opts, &l, &mut b);
    let br64 = xent::scalar::cross_entropy_backward(&x, lay, &t, &opts, &l64, &mut b64);
    let br32 = xent::scalar::cross_entropy_backward(&x, lay, &t, &opts, &l32, &mut b32);
    let back_ok = ctx.outcome(
        "cross_entropy_backward",
        &br,
        &br64,
        &br32,
        opts_ok && class_lengths_ok(case, lay, Some(n), Some(gl)),
    );
    let mut xb = x.clone();
    let bi = xent::cross_entropy_backward_in_place(&mut xb, lay, &t, &opts, &l);
    let mut xb64 = x.clone();
    let bi64 = xent::scalar::cross_entropy_backward_in_place(&mut xb64, lay, &t, &opts, &l64);
    let mut xb32 = x.clone();
    let bi32 = xent::scalar::cross_entropy_backward_in_place(&mut xb32, lay, &t, &opts, &l32);
    let bi_ok = ctx.outcome(
        "cross_entropy_backward_in_place",
        &bi,
        &bi64,
        &bi32,
        opts_ok && class_lengths_ok(case, lay, Some(n), None),
    );
    if !bi_ok && xb.iter().zip(&x).any(|(a, b)| a.to_f32().to_bits() != b.to_f32().to_bits()) {
        ctx.fail("cross_entropy_backward_in_place: logits changed by a call that returned an error");
    }
    if back_ok && bi_ok {
        // In place: the buffer gradient rounded once to T.
        for j in 0..xb.len() {
            let want = T::from_f32(b[j]).to_f32();
            if !same(xb[j].to_f32(), want) {
                ctx.fail(&format!(
                    "backward in place [{j}] {} differs from the buffer backward {want}",
                    xb[j].to_f32()
                ));
            }
        }
    }

    if !(fwd_ok && per_ok && grad_ok && in_ok) {
        return;
    }
    let (f, f64_, f32_) = (f.unwrap(), f64_.unwrap(), f32_.unwrap());
    let (gl_, gl64, gl32) = (gr.unwrap(), gr64.unwrap(), gr32.unwrap());
    // (with_lse and backward succeed together with the others, their buffers permitting.)
    let two_pass = lse_ok && back_ok;

    // The fused loss is the forward loss, bit for bit, except that the plain forward (no
    // smoothing, z-loss or soft-cap) sums tiles in its own kernel when there are several
    // positions.
    let plain = ls == 0.0 && z == 0.0 && cap.is_none();
    if (!plain || t.len() <= 1) && !same(f, gl_) {
        ctx.fail(&format!("cross_entropy {f:e} and cross_entropy_with_grad {gl_:e} differ"));
    }
    // In place: the same loss, and the buffer gradient rounded once to T.
    let li = ir.unwrap();
    if !same(li, gl_) {
        ctx.fail(&format!("in-place loss {li:e} differs from the fused loss {gl_:e}"));
    }
    for j in 0..xi.len() {
        let want = T::from_f32(g[j]).to_f32();
        if !same(xi[j].to_f32(), want) {
            ctx.fail(&format!(
                "in-place grad[{j}] {} differs from the buffer gradient {want}",
                xi[j].to_f32()
            ));
        }
    }

    let info = positions_info(&x32, lay, &case.targets, case.ignore_index, cap.map(f64::from));
    let c = lay.classes();
    let (ls, z) = (f64::from(ls), f64::from(z));
    let weighted = wv.is_some();
    // wmax: the largest finite |w_c| (1 without weights): the loss and its error scale with
    // the weights (tests/equivalence.rs uses its wmax = 1.25 the same way).
    let wmax = wv.as_deref().map_or(1.0, |w| scale_raw(w.iter().map(|&v| f64::from(v))));
    let w_of = |k: usize| wv.as_deref().map_or(1.0, |w| f64::from(w[k]));
    let (w_den, w_abs, count) = denominators(wv.as_deref(), &info);
    // (Only a mean divides by `W`.)
    let dw = if case.reduction == Reduction::Mean { denominator_error(weighted, w_den, w_abs) } else { 0.0 };
    let w_abs_all: f64 = wv.as_deref().map_or(c as f64, |w| w.iter().map(|&v| fin(f64::from(v)).abs()).sum());

    // Per position (the docs' `1.5 u + 4 eps |loss|`, plus `eps_ls 6 eps M sqrt(C)` with
    // label smoothing and `2 z |lse|` times the LSE bound with z-loss), scaled by the
    // weights that multiply each term.
    let mut sum_bound = 0.0;
    let mut sum_abs = 0.0;
    let mut sx_overflow = false;
    for i in &info {
        let wy = fin(w_of(i.class)).abs();
        let loss = o64[i.p];
        let wf = wy.max(ls * wmax);
        // The docs' worst case of smoothing's one-pass sum `Σ w (x - x_t)`, whose rounding
        // errors may share a sign: `eps_ls K eps / 2 W̄ D`, `K = C + 2` for channel-first
        // layouts and rows of `C <= 16` (one running sum per position), `C / 16 + 6` for
        // longer rows (16 or more lanes).
        let col_sx = {
            let k = if lay.inner() > 1 || c <= 16 { c as f64 + 2.0 } else { c as f64 / 16.0 + 6.0 };
            ls / c as f64 * k * EPS / 2.0 * w_abs_all * fin(i.spread)
        };
        let b = 1.5 * i.u * wf
            + col_sx
            + ls * wmax * 6.0 * EPS * i.sc * (c as f64).sqrt()
            + 2.0 * z * fin(i.lse).abs() * i.u
            + 4.0 * EPS * fin(loss).abs();
        // Documented: label smoothing's one-pass Σ w (x - x_t) overflows f32 (an infinite
        // or NaN loss) when a row's spread times the weights' total nears f32::MAX.
        let ovf = ls > 0.0
            && (i.spread >= f64::from(f32::MAX) / 2.0
                || i.spread * wmax * c as f64 >= f64::from(f32::MAX) / 2.0);
        // An infinite weight at a class whose logit is the row's maximum: its smoothing
        // term `w_j (lse - x_j)` is `inf * 0 = NaN` in f32 when the row's other
        // exponentials round away against 1 (`lse == max`, as in PyTorch's f32 kernels) but
        // infinite in f64.
        let inf_w = ls > 0.0 && fin(i.lse) - row_max(&x32, lay, i.p, cap.map(f64::from)) <= i.u && {
            let m = row_max(&x32, lay, i.p, cap.map(f64::from));
            let xs = row(&x32, lay, i.p);
            wv.as_deref().is_some_and(|w| {
                (0..c).any(|k| {
                    w[k].is_infinite()
                        && cap.map_or(xs[k], |s| f64::from(s) * (xs[k] / f64::from(s)).tanh()) == m
                })
            })
        };
        let ovf = ovf || inf_w;
        sx_overflow |= ovf;
        sx_overflow |= ctx.value(|| format!("ce per-position[{}]", i.p), o[i.p], loss, o32[i.p], b, ovf);
        sum_bound += b;
        sum_abs += fin(loss).abs();
    }
    for p in 0..n {
        if class_of(case.targets[p], case.ignore_index).is_none() && (o[p] != 0.0 || o64[p] != 0.0) {
            ctx.fail(&format!(
                "ce per-position[{p}]: ignored position has loss {} (oracle {})",
                o[p], o64[p]
            ));
        }
    }

    // Reduced: the per-position bounds summed, plus the docs' 8 eps of the result taken
    // relative to Σ |loss_p| (equal to |result| when no weight is negative). The mean
    // divides the cross-entropy part by W and the z part by the count; the f32 W carries
    // its own relative error `dw`.
    let mean = case.reduction == Reduction::Mean;
    let red_bound = match case.reduction {
        Reduction::Sum => sum_bound + 8.0 * EPS * sum_abs + subnormal_mean(count, 1.0),
        Reduction::Mean => {
            let d = if z > 0.0 { w_den.abs().min(count) } else { w_den.abs() };
            (sum_bound + 8.0 * EPS * sum_abs) / d + fin(f64_).abs() * dw + subnormal_mean(count, w_den)
        }
    };
    // A weighted mean whose f32 denominator is known to no digit has no bound at all.
    // Nor has one whose denominator is exactly 0 (every counted target's weight is 0): it
    // is `numerator / 0`, whose sign (or NaN, for 0) is unknown where the numerator's
    // bound reaches its size.
    let ce_num: f64 = info.iter().map(|i| o64[i.p] - z * i.lse * i.lse).sum();
    let zero_den = mean && weighted && w_den == 0.0 && sum_bound + 8.0 * EPS * sum_abs >= ce_num.abs();
    let hopeless = (mean && dw >= 0.25) || zero_den;
    if !hopeless {
        let _ = ctx.value(
            || "cross_entropy".into(),
            f,
            f64_,
            f32_,
            red_bound,
            sx_overflow || sum_abs >= f64::from(f32::MAX) / 2.0,
        );
        let _ = ctx.value(
            || "cross_entropy_with_grad (loss)".into(),
            gl_,
            gl64,
            gl32,
            red_bound,
            sx_overflow || sum_abs >= f64::from(f32::MAX) / 2.0,
        );
        if lse_ok {
            let (a, b, c) = (wl.unwrap(), wl64.unwrap(), wl32.unwrap());
            let _ = ctx.value(
                || "cross_entropy_with_lse (loss)".into(),
                a,
                b,
                c,
                red_bound,
                sx_overflow || sum_abs >= f64::from(f32::MAX) / 2.0,
            );
        }
    }
    if lse_ok {
        // The log-sum-exps: the LSE bound of the (capped) rows; ignored positions hold the
        // same values as counted ones (their row's log-sum-exp) or 0 -- whatever the oracle
        // holds.
        let capf = cap.map(f64::from);
        for p in 0..n {
            let xr = row(&x32, lay, p);
            let sc = scale(xr.iter().map(|&v| capf.map_or(v, |s| s * (v / s).tanh())));
            let u = lay_unit(sc, lay) + capf.map_or(0.0, |_| 4.0 * EPS * sc);
            let _ = ctx.value(|| format!("cross_entropy_with_lse lse[{p}]"), l[p], l64[p], l32[p], u, false);
        }
    }

    // Gradient: the docs' `16 (u + eps)` per element, for coefficients of size 1; here
    // scaled by the largest coefficient of the row, `a = s (w_y (1-eps) + eps/C Σ w) +
    // s_z 2 z lse`, `c w_j = s eps/C w_j`, `k = s (1-eps) w_y` (tests/equivalence.rs:
    // `(1 + 2 z (M + 1))`), and by the mean's denominator error. Plus `|a| 1.3e-38`: the
    // documented flush to 0 of probabilities below about 1.2e-38, which `a` multiplies.
    if hopeless {
        return;
    }
    let s_ce = if mean { 1.0 / w_den } else { 1.0 };
    let s_z = if mean { 1.0 / count } else { 1.0 };
    let w_all: f64 = wv.as_deref().map_or(c as f64, |w| w.iter().map(|&v| f64::from(v)).sum());
    let mut coef = vec![None; t.len()];
    for i in &info {
        let wy = w_of(i.class);
        let smooth = if ls > 0.0 { ls / c as f64 * w_all } else { 0.0 };
        let zt = if z > 0.0 { s_z * 2.0 * z * i.lse } else { 0.0 };
        let a = s_ce * ((1.0 - ls) * wy + smooth) + zt;
        let k = s_ce * (1.0 - ls) * wy;
        let cc = s_ce * ls / c as f64 * wmax;
        let big = 1f64.max(fin(a).abs()).max(fin(cc).abs()).max(fin(k).abs());
        coef[i.p] = Some((i.u, big + 2.0 * z * fin(s_z).abs() * (fin(i.lse).abs() + 1.0), a, i.lse));
    }
    let (inner, tl) = (lay.inner(), t.len());
    let capf = cap.map(f64::from);
    let (bk, bk64, bk32) = (b, b64, b32);
    for p in 0..tl {
        let base = (p / inner) * c * inner + p % inner;
        // Ignored rows: exactly 0, or NaN where the logits hold NaN or +inf.
        let (u, big, a, lse) = coef[p].unwrap_or((0.0, 0.0, 0.0, 0.0));
        let xr = row(&x32, lay, p);
        for kk in 0..c {
            let j = base + kk * inner;
            let xc = capf.map_or(xr[kk], |s| s * (xr[kk] / s).tanh());
            let pj = (xc - lse).exp();
            let b = 16.0 * (u + EPS) * big + fin(g64[j]).abs() * dw + fin(a).abs() * 1.3e-38;
            let b_ = b;
            // `a * p` with an infinite `a` (an infinite weight) and a flushed `p` is NaN,
            // where the oracle's tiny `p` gives the infinity; likewise the soft-cap's chain
            // factor `4 exp(-2|y|) / (1 + ..)^2`, whose exp flushes for `|y| > 43.6`.
            let chain_flushed = capf.is_some_and(|s| (-2.0 * (xr[kk] / s).abs()).exp() < 1.3e-38);
            let flushed = !(a.abs() < f64::from(f32::MAX) / 4.0) && (pj < 1.3e-38 || chain_flushed);

            let _ = ctx.value(|| format!("ce grad[{j}] (position {p})"), g[j], g64[j], g32[j], b, flushed);
            if two_pass {
                // Docs: `p_j = exp(x_j - lse)` carries a relative error of about |lse| eps
                // more than the fused path.
                let bb = b_ + 4.0 * EPS * (fin(lse).abs() + 1.0) * big;
                let _ = ctx.value(
                    || format!("ce backward[{j}] (position {p})"),
                    bk[j],
                    bk64[j],
                    bk32[j],
                    bb,
                    flushed,
                );
            }
        }
    }
}

/// The largest finite `|v|`, or 1 when there is none (so an all-zero weight gives 0).
fn scale_raw(v: impl IntoIterator<Item = f64>) -> f64 {
    let mut any = false;
    let m = v.into_iter().filter(|v| v.is_finite()).fold(0.0f64, |m, v| {
        any = true;
        m.max(v.abs())
    });
    if any { m } else { 1.0 }
}

fn softmax_focal<T: Bits, I: Idx>(ctx: &Ctx<'_>) {
    let case = ctx.case;
    let x: Vec<T> = elems(&case.logits);
    let x32 = widen(&x);
    let t: Vec<I> = case.targets.iter().map(|&v| I::from_i64(v)).collect();
    let lay = case.layout.layout();
    let wv = case.weight.as_deref().map(f32s);
    let gamma = f32::from_bits(case.gamma);
    let opts = SoftmaxFocalOptions::new()
        .with_weight(wv.as_deref())
        .with_ignore_index(case.ignore_index)
        .with_gamma(gamma)
        .with_reduction(case.reduction);
    let opts_ok = gamma >= 0.0 && gamma.is_finite();

    let f = xent::softmax_focal_loss(&x, lay, &t, &opts);
    let f64_: Result<f64, _> = xent::scalar::softmax_focal_loss(&x, lay, &t, &opts);
    let f32_: Result<f32, _> = xent::scalar::softmax_focal_loss(&x, lay, &t, &opts);
    let fwd_ok = ctx.outcome(
        "softmax_focal_loss",
        &f,
        &f64_,
        &f32_,
        opts_ok && class_lengths_ok(case, lay, None, None),
    );
    let n = case.out_len;
    let (mut o, mut o64, mut o32) = (vec![0f32; n], vec![0f64; n], vec![0f32; n]);
    let r = xent::softmax_focal_loss_per_position(&x, lay, &t, &opts, &mut o);
    let r64 = xent::scalar::softmax_focal_loss_per_position(&x, lay, &t, &opts, &mut o64);
    let r32 = xent::scalar::softmax_focal_loss_per_position(&x, lay, &t, &opts, &mut o32);
    let per_ok = ctx.outcome(
        "softmax_focal_loss_per_position",
        &r,
        &r64,
        &r32,
        opts_ok && class_lengths_ok(case, lay, Some(n), None),
    );
    let gl = case.grad_len;
    let (mut g, mut g64, mut g32) = (vec![0f32; gl], vec![0f64; gl], vec![0f32; gl]);
    let gr = xent::softmax_focal_loss_with_grad(&x, lay, &t, &opts, &mut g);
    let gr64 = xent::scalar::softmax_focal_loss_with_grad(&x, lay, &t, &opts, &mut g64);
    let gr32 = xent::scalar::softmax_focal_loss_with_grad(&x, lay, &t, &opts, &mut g32);
    let grad_ok = ctx.outcome(
        "softmax_focal_loss_with_grad",
        &gr,
        &gr64,
        &gr32,
        opts_ok && class_lengths_ok(case, lay, None, Some(gl)),
    );
    if !(fwd_ok && per_ok && grad_ok) {
        return;
    }
    let (f, f64_, f32_) = (f.unwrap(), f64_.unwrap(), f32_.unwrap());
    let (gl_, gl64, gl32) = (gr.unwrap(), gr64.unwrap(), gr32.unwrap());
    if !same(f, gl_) {
        ctx.fail(&format!("softmax_focal_loss {f:e} and its fused loss {gl_:e} differ"));
    }

    let info = positions_info(&x32, lay, &case.targets, case.ignore_index, None);
    let gamma = f64::from(gamma);
    // tests/equivalence.rs: loss `3 u + 8 eps |loss|`, gradient `32 (u + eps)`, at
    // gamma = 1.5 and weights up to 1.5. The loss is `-w (1 - p_t)^gamma lp_t`: an error
    // `d` in `lp_t` moves it by about `w (gamma + 1) d` and `(1 - p_t)^gamma` has a relative
    // error `gamma` times that of `1 - p_t`, hence the gamma factors (1 at gamma <= 1.5).
    let gf = 1f64.max((gamma + 1.0) / 2.5);
    let gr_ = 1f64.max(gamma / 1.5);
    let w_of = |k: usize| wv.as_deref().map_or(1.0, |w| f64::from(w[k]));
    let (w_den, w_abs, count) = denominators(wv.as_deref(), &info);
    let dw =
        if case.reduction == Reduction::Mean { denominator_error(wv.is_some(), w_den, w_abs) } else { 0.0 };
    let mut relaxed = false;
    let (mut sum_bound, mut sum_abs) = (0.0, 0.0);
    for i in &info {
        let wy = fin(w_of(i.class)).abs();
        let loss = o64[i.p];
        let b = 3.0 * i.u * wy * gf + 8.0 * EPS * fin(loss).abs() * gr_;
        relaxed |=
            ctx.value(|| format!("softmax focal per-position[{}]", i.p), o[i.p], loss, o32[i.p], b, false);
        sum_bound += b;
        sum_abs += fin(loss).abs();
    }
    let mean = case.reduction == Reduction::Mean;
    let red = match case.reduction {
        Reduction::Sum => sum_bound + 8.0 * EPS * sum_abs,
        Reduction::Mean => {
            (sum_bound + 8.0 * EPS * sum_abs) / w_den.abs()
                + fin(f64_).abs() * dw
                + subnormal_mean(count, w_den)
        }
    };
    if mean && dw >= 0.25 {
        return;
    }
    let _ = ctx.value(
        || "softmax_focal_loss".into(),
        f,
        f64_,
        f32_,
        red,
        relaxed || sum_abs >= f64::from(f32::MAX) / 2.0,
    );
    let _ = ctx.value(
        || "softmax_focal_loss_with_grad (loss)".into(),
        gl_,
        gl64,
        gl32,
        red,
        relaxed || sum_abs >= f64::from(f32::MAX) / 2.0,
    );
    let s = if mean { 1.0 / w_den } else { 1.0 };
    let c = lay.classes();
    let inner = lay.inner();
    let mut coef = vec![None; t.len()];
    for i in &info {
        coef[i.p] = Some((i.u, 1f64.max(fin(s * w_of(i.class)).abs()), s * w_of(i.class), i.lse));
    }
    for p in 0..t.len() {
        let base = (p / inner) * c * inner + p % inner;
        let (u, big, sw, lse) = coef[p].unwrap_or((0.0, 0.0, 0.0, 0.0));
        let xr = row(&x32, lay, p);
        for kk in 0..c {
            let j = base + kk * inner;
            // Plus the documented flush of probabilities below 1.2e-38, times the coefficient.
            let b = 32.0 * (u + EPS) * big * gf + fin(g64[j]).abs() * dw + big * gf * 1.3e-38;
            // As for cross_entropy: `a * p` with an infinite `a` (an infinite target weight)
            // and a flushed `p` is NaN, where the oracle's tiny `p` gives the infinity.
            let flushed = !(sw.abs() < f64::from(f32::MAX) / 4.0) && (xr[kk] - lse).exp() < 1.3e-38;
            let _ = ctx.value(
                || format!("softmax focal grad[{j}] (position {p})"),
                g[j],
                g64[j],
                g32[j],
                b,
                flushed,
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Probability targets
// ---------------------------------------------------------------------------------------

fn probs<T: Bits>(ctx: &Ctx<'_>) {
    let case = ctx.case;
    let x: Vec<T> = elems(&case.logits);
    let x32 = widen(&x);
    let tp: Vec<T> = elems(&case.soft);
    let tp32 = widen(&tp);
    let lay = case.layout.layout();
    let wv = case.weight.as_deref().map(f32s);
    let ls = f32::from_bits(case.label_smoothing);
    let opts = ProbsOptions::new()
        .with_weight(wv.as_deref())
        .with_label_smoothing(ls)
        .with_reduction(case.reduction);
    let lens_ok = |out: Option<usize>, grad: Option<usize>| {
        let (Ok(pos), Ok(len)) = (lay.positions(), lay.len()) else { return false };
        (0.0..=1.0).contains(&ls)
            && x.len() == len
            && tp.len() == len
            && wv.as_ref().is_none_or(|w| w.len() == lay.classes())
            && out.is_none_or(|o| o == pos)
            && grad.is_none_or(|g| g == len)
    };
    let f = xent::cross_entropy_probs(&x, lay, &tp, &opts);
    let f64_: Result<f64, _> = xent::scalar::cross_entropy_probs(&x, lay, &tp, &opts);
    let f32_: Result<f32, _> = xent::scalar::cross_entropy_probs(&x, lay, &tp, &opts);
    let fwd_ok = ctx.outcome("cross_entropy_probs", &f, &f64_, &f32_, lens_ok(None, None));
    let n = case.out_len;
    let (mut o, mut o64, mut o32) = (vec![0f32; n], vec![0f64; n], vec![0f32; n]);
    let r = xent::cross_entropy_probs_per_position(&x, lay, &tp, &opts, &mut o);
    let r64 = xent::scalar::cross_entropy_probs_per_position(&x, lay, &tp, &opts, &mut o64);
    let r32 = xent::scalar::cross_entropy_probs_per_position(&x, lay, &tp, &opts, &mut o32);
    let per_ok = ctx.outcome("cross_entropy_probs_per_position", &r, &r64, &r32, lens_ok(Some(n), None));
    let gl = case.grad_len;
    let (mut g, mut g64, mut g32) = (vec![0f32; gl], vec![0f64; gl], vec![0f32; gl]);
    let gr = xent::cross_entropy_probs_with_grad(&x, lay, &tp, &opts, &mut g);
    let gr64 = xent::scalar::cross_entropy_probs_with_grad(&x, lay, &tp, &opts, &mut g64);
    let gr32 = xent::scalar::cross_entropy_probs_with_grad(&x, lay, &tp, &opts, &mut g32);
    let grad_ok = ctx.outcome("cross_entropy_probs_with_grad", &gr, &gr64, &gr32, lens_ok(None, Some(gl)));
    if !(fwd_ok && per_ok && grad_ok) {
        return;
    }
    let (f, f64_, f32_) = (f.unwrap(), f64_.unwrap(), f32_.unwrap());
    let (gl_, gl64, gl32) = (gr.unwrap(), gr64.unwrap(), gr32.unwrap());
    if !same(f, gl_) {
        ctx.fail(&format!("cross_entropy_probs {f:e} and its fused loss {gl_:e} differ"));
    }

    let c = lay.classes();
    let inner = lay.inner();
    let pos = lay.positions().unwrap();
    let ls = f64::from(ls);
    let w_of = |k: usize| wv.as_deref().map_or(1.0, |w| f64::from(w[k]));
    let s = if case.reduction == Reduction::Mean { 1.0 / pos as f64 } else { 1.0 };
    let mut any_nonfinite = false;
    let (mut sum_bound, mut sum_abs) = (0.0, 0.0);
    if c == 0 {
        // Empty rows: every loss is an empty sum (and the batch may be huge).
        for p in 0..n {
            let _ = ctx.value(|| format!("probs per-position[{p}]"), o[p], o64[p], o32[p], 0.0, false);
        }
    }
    for p in 0..if c == 0 { 0 } else { pos } {
        let base = (p / inner) * c * inner + p % inner;
        let xr = row(&x32, lay, p);
        let u = lay_unit(scale(xr.iter().copied()), lay);
        let lse = lse64(&xr);
        // w_c t'_c with t'_c = t_c (1 - eps) + eps / C.
        let wt: Vec<f64> = (0..c)
            .map(|k| w_of(k) * (f64::from(tp32[base + k * inner]) * (1.0 - ls) + ls / c as f64))
            .collect();
        // tests/equivalence.rs: `1.5 C u + 8 eps |loss|` for weights up to 1.5 and targets
        // in [0, 1]: C terms `w_c t'_c lp_c`, each with the log-softmax error. Here scaled
        // by the largest |w_c t'_c| (at most 1.5 there), and 8 eps relative to the sum of
        // the terms' magnitudes (|loss| when no term is negative).
        let amax = scale_raw(wt.iter().copied());
        let mx = xr.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let terms: f64 = (0..c).map(|k| fin(wt[k] * (xr[k] - lse)).abs()).sum();
        // `t'_c` and `w_c t'_c` may be subnormal in f32 (`eps / C` is, for `eps` below about
        // `1.2e-38 C`, as in PyTorch's f32 kernel), each with an absolute error up to 2^-150;
        // the loss multiplies the first by `w_c` and both by `x_c - max` (and `lse_rel`):
        // docs, `2^-149 Σ (1 + |w|) |lp|`.
        let tiny: f64 =
            (0..c).map(|k| fin((1.0 + w_of(k).abs()) * ((xr[k] - mx).abs() + (lse - mx).abs()))).sum::<f64>()
                * 1.401_298_5e-45;
        // The C-term sums `Σ w t' (x - max)` and `Σ w t'` run in 8 (or 16) lanes: besides
        // tests/equivalence.rs's `1.5 C u` allowance, take the worst case of recursive
        // summation, `gamma_k Σ |terms|` with `k = C/8 + 3` adds per lane and `gamma_k ~ k
        // 2^-24`, whichever is larger: the two agree on that file's random rows, and the
        // latter dominates for long rows of near-equal terms, whose rounding errors share
        // a sign.
        // (Channel-first layouts use the scalar kernel: one running sum of C terms.)
        let k = if inner > 1 { c as f64 + 3.0 } else { c as f64 / 8.0 + 3.0 };
        let rec: f64 = (0..c).map(|j| fin(wt[j]).abs() * fin((xr[j] - mx).abs() + (lse - mx).abs())).sum();
        // The smoothed targets `t' = (1 - eps) t + eps / C` are rounded in f32 (two roundings,
        // relative to the parts, which cancel for negative t): `1.5 eps Σ |w| (|(1 - eps) t|
        // + eps / C) |lp|`.
        let mix: f64 = (0..c)
            .map(|k| {
                let part = (f64::from(tp32[base + k * inner]) * (1.0 - ls)).abs() + ls / c as f64;
                fin(w_of(k).abs() * part * (xr[k] - lse).abs())
            })
            .sum::<f64>()
            * 1.5
            * EPS;
        let b = (1.5 * c as f64 * u * amax).max(k * EPS / 2.0 * rec) + 8.0 * EPS * terms + tiny + mix;
        // An infinite `Σ w t'` times `lse_rel`, which is 0 in f32 when the row's other
        // exponentials round away against 1 but positive in f64: NaN against an infinity.
        let wt_raw: f64 = wt.iter().map(|v| v.abs()).sum();
        // And partial sums may overflow f32 when the terms' magnitudes total beyond it, even
        // if the result does not (the order of the sum decides).
        let inf_times_zero = (!wt_raw.is_finite() && (lse - mx) <= u) || rec >= f64::from(f32::MAX) / 2.0;
        any_nonfinite |= inf_times_zero;
        if p < n {
            any_nonfinite |=
                ctx.value(|| format!("probs per-position[{p}]"), o[p], o64[p], o32[p], b, inf_times_zero);
        }
        sum_bound += b;
        sum_abs += fin(o64[p]).abs();
        // Gradient `a p_j - s w_j t'_j`, `a = s Σ w t'`: tests/equivalence.rs's
        // `16 (u + eps)` for terms of size 1, scaled by `|s| Σ |w t'| p_j + |s w_j t'_j|`.
        // Plus `|a| 1.3e-38`, the documented flush of probabilities below 1.2e-38.
        let wt_abs: f64 = wt.iter().map(|v| fin(*v).abs()).sum();
        for k in 0..c {
            let j = base + k * inner;
            let pj = fin((xr[k] - lse).exp());
            let big = 1f64.max(s * wt_abs * pj + (s * wt[k]).abs());
            let b = 16.0 * (u + EPS) * fin(big) + fin(s * wt_abs) * 1.3e-38;
            // `a * p` with an infinite `a` and a flushed `p` is NaN, where the oracle's tiny
            // `p` gives the infinity (as for class targets).
            let wt_raw: f64 = wt.iter().map(|v| v.abs()).sum();
            let flushed = !((s * wt_raw).abs() < f64::from(f32::MAX) / 2.0) && (xr[k] - lse).exp() < 1.3e-38
                // Partial sums of `Σ w t'` overflow f32 (order-dependent) when the terms'
                // magnitudes total beyond it: then `a` may be infinite.
                || !(wt_raw < f64::from(f32::MAX) / 2.0);

            let _ = ctx.value(|| format!("probs grad[{j}] (position {p})"), g[j], g64[j], g32[j], b, flushed);
        }
    }
    let red = reduced(case.reduction, sum_bound + 8.0 * EPS * sum_abs, pos as f64);
    let _ = ctx.value(
        || "cross_entropy_probs".into(),
        f,
        f64_,
        f32_,
        red,
        any_nonfinite || sum_abs >= f64::from(f32::MAX) / 2.0,
    );
    let _ = ctx.value(
        || "cross_entropy_probs_with_grad (loss)".into(),
        gl_,
        gl64,
        gl32,
        red,
        any_nonfinite || sum_abs >= f64::from(f32::MAX) / 2.0,
    );
}

// ---------------------------------------------------------------------------------------
// NLL
// ---------------------------------------------------------------------------------------

fn nll<T: Bits, I: Idx>(ctx: &Ctx<'_>) {
    let case = ctx.case;
    let x: Vec<T> = elems(&case.logits);
    let x32 = widen(&x);
    let t: Vec<I> = case.targets.iter().map(|&v| I::from_i64(v)).collect();
    let lay = case.layout.layout();
    let wv = case.weight.as_deref().map(f32s);
    let opts = NllOptions::new()
        .with_weight(wv.as_deref())
        .with_ignore_index(case.ignore_index)
        .with_reduction(case.reduction);
    let f = xent::nll_loss(&x, lay, &t, &opts);
    let f64_: Result<f64, _> = xent::scalar::nll_loss(&x, lay, &t, &opts);
    let f32_: Result<f32, _> = xent::scalar::nll_loss(&x, lay, &t, &opts);
    let fwd_ok = ctx.outcome("nll_loss", &f, &f64_, &f32_, class_lengths_ok(case, lay, None, None));
    let n = case.out_len;
    let (mut o, mut o64, mut o32) = (vec![0f32; n], vec![0f64; n], vec![0f32; n]);
    let r = xent::nll_loss_per_position(&x, lay, &t, &opts, &mut o);
    let r64 = xent::scalar::nll_loss_per_position(&x, lay, &t, &opts, &mut o64);
    let r32 = xent::scalar::nll_loss_per_position(&x, lay, &t, &opts, &mut o32);
    let per_ok =
        ctx.outcome("nll_loss_per_position", &r, &r64, &r32, class_lengths_ok(case, lay, Some(n), None));
    let gl = case.grad_len;
    let (mut g, mut g64, mut g32) = (vec![0f32; gl], vec![0f64; gl], vec![0f32; gl]);
    let gr = xent::nll_loss_with_grad(&x, lay, &t, &opts, &mut g);
    let gr64 = xent::scalar::nll_loss_with_grad(&x, lay, &t, &opts, &mut g64);
    let gr32 = xent::scalar::nll_loss_with_grad(&x, lay, &t, &opts, &mut g32);
    let grad_ok =
        ctx.outcome("nll_loss_with_grad", &gr, &gr64, &gr32, class_lengths_ok(case, lay, None, Some(gl)));
    if !(fwd_ok && per_ok && grad_ok) {
        return;
    }
    let (f, f64_, f32_) = (f.unwrap(), f64_.unwrap(), f32_.unwrap());
    let (gl_, gl64, gl32) = (gr.unwrap(), gr64.unwrap(), gr32.unwrap());
    if !same(f, gl_) {
        ctx.fail(&format!("nll_loss {f:e} and its fused loss {gl_:e} differ"));
    }
    // Per position `-w_y x_y`: one product of two f32 values, exact in f64, so the f32
    // result is the oracle rounded to f32, exactly.
    let mut sum_abs = 0.0;
    for p in 0..n {
        if !same(o[p], o64[p] as f32) {
            ctx.fail(&format!(
                "nll per-position[{p}]: simd {:e}, oracle {:e} (must be its rounding)",
                o[p], o64[p]
            ));
        }
        sum_abs += fin(o64[p]).abs();
    }
    let _ = x32;
    let info_targets: Vec<PosInfo> = case
        .targets
        .iter()
        .enumerate()
        .filter_map(|(p, &t)| {
            class_of(t, case.ignore_index).map(|class| PosInfo {
                p,
                class,
                u: 0.0,
                sc: 0.0,
                lse: 0.0,
                spread: 0.0,
            })
        })
        .collect();
    let (w_den, w_abs, _) = denominators(wv.as_deref(), &info_targets);
    let dw =
        if case.reduction == Reduction::Mean { denominator_error(wv.is_some(), w_den, w_abs) } else { 0.0 };
    let mean = case.reduction == Reduction::Mean;
    if mean && dw >= 0.25 {
        return;
    }
    // Reduced: a compensated sum, the docs' 8 eps relative to Σ |loss_p|.
    let red = match case.reduction {
        Reduction::Sum => 8.0 * EPS * sum_abs + subnormal_mean(info_targets.len() as f64, 1.0),
        Reduction::Mean => {
            8.0 * EPS * sum_abs / w_den.abs()
                + fin(f64_).abs() * dw
                + subnormal_mean(info_targets.len() as f64, w_den)
        }
    };
    let _ = ctx.value(|| "nll_loss".into(), f, f64_, f32_, red, sum_abs >= f64::from(f32::MAX) / 2.0);
    let _ = ctx.value(
        || "nll_loss_with_grad (loss)".into(),
        gl_,
        gl64,
        gl32,
        red,
        sum_abs >= f64::from(f32::MAX) / 2.0,
    );
    // Gradient `-s w_y` at each target slot, 0 elsewhere: two roundings and the
    // denominator's error.
    for j in 0..gl {
        let b = fin(g64[j]).abs() * (2.0 * EPS + dw);
        let _ = ctx.value(|| format!("nll grad[{j}]"), g[j], g64[j], g32[j], b, false);
    }
}

// ---------------------------------------------------------------------------------------
// Element-wise losses
// ---------------------------------------------------------------------------------------

/// A broadcast weight's validity for `n` elements (crate: `check_broadcast`).
fn broadcast_ok(w: Option<&[f32]>, n: usize) -> bool {
    match w {
        Some(w) if n > 0 => !w.is_empty() && n.is_multiple_of(w.len()),
        _ => true,
    }
}

fn bcast(w: Option<&[f32]>, i: usize) -> Option<f64> {
    w.map(|w| f64::from(w[i % w.len()]))
}

/// The error of the reduction of the element-wise losses, which the docs do not state:
/// the SIMD path sums each block of 1024 elements in 8 (or 16) lanes with plain adds and
/// the blocks with a compensated sum; recursive summation of `k` terms errs by at most
/// `gamma_k Σ |l_i|`, `gamma_k ~ k 2^-24`, with `k = 1024 / 8 + 3` (lane adds plus the lane
/// reduction), plus the compensated sum's `2 eps |result|`.
fn elementwise_reduction(sum_bound: f64, sum_abs: f64, result: f64) -> f64 {
    let k = 1024.0 / 8.0 + 3.0;
    sum_bound + k * EPS / 2.0 * sum_abs + 2.0 * EPS * fin(result).abs()
}

fn bce<T: Bits>(ctx: &Ctx<'_>) {
    let case = ctx.case;
    let p: Vec<T> = elems(&case.logits);
    let y: Vec<T> = elems(&case.soft);
    let (p32, y32) = (widen(&p), widen(&y));
    let wv = case.weight.as_deref().map(f32s);
    let opts = BceOptions::new().with_weight(wv.as_deref()).with_reduction(case.reduction);
    let n = p.len();
    let unit_ok = |v: &[f32]| v.iter().all(|x| (0.0..=1.0).contains(x));
    let ok = |out: Option<usize>| {
        y.len() == n && broadcast_ok(wv.as_deref(), n) && out.is_none_or(|o| o == n) && {
            // The value checks run on inputs whose lengths agree.
            unit_ok(&p32) && unit_ok(&y32)
        }
    };
    let f = xent::binary_cross_entropy(&p, &y, &opts);
    let f64_: Result<f64, _> = xent::scalar::binary_cross_entropy(&p, &y, &opts);
    let f32_: Result<f32, _> = xent::scalar::binary_cross_entropy(&p, &y, &opts);
    let fwd_ok = ctx.outcome("binary_cross_entropy", &f, &f64_, &f32_, ok(None));
    let m = case.out_len;
    let (mut o, mut o64, mut o32) = (vec![0f32; m], vec![0f64; m], vec![0f32; m]);
    let r = xent::binary_cross_entropy_per_position(&p, &y, &opts, &mut o);
    let r64 = xent::scalar::binary_cross_entropy_per_position(&p, &y, &opts, &mut o64);
    let r32 = xent::scalar::binary_cross_entropy_per_position(&p, &y, &opts, &mut o32);
    let per_ok = ctx.outcome("binary_cross_entropy_per_position", &r, &r64, &r32, ok(Some(m)));
    let gl = case.grad_len;
    let (mut g, mut g64, mut g32) = (vec![0f32; gl], vec![0f64; gl], vec![0f32; gl]);
    let gr = xent::binary_cross_entropy_with_grad(&p, &y, &opts, &mut g);
    let gr64 = xent::scalar::binary_cross_entropy_with_grad(&p, &y, &opts, &mut g64);
    let gr32 = xent::scalar::binary_cross_entropy_with_grad(&p, &y, &opts, &mut g32);
    let grad_ok = ctx.outcome("binary_cross_entropy_with_grad", &gr, &gr64, &gr32, ok(Some(gl)));
    if !(fwd_ok && per_ok && grad_ok) {
        return;
    }
    let (f, f64_, f32_) = (f.unwrap(), f64_.unwrap(), f32_.unwrap());
    let (gl_, gl64, gl32) = (gr.unwrap(), gr64.unwrap(), gr32.unwrap());
    if !same(f, gl_) {
        ctx.fail(&format!("binary_cross_entropy {f:e} and its fused loss {gl_:e} differ"));
    }
    let mut any_nonfinite = false;
    let (mut sum_bound, mut sum_abs) = (0.0, 0.0);
    for i in 0..n {
        let w = bcast(wv.as_deref(), i).unwrap_or(1.0);
        // Docs: `8 eps (1 + |loss|)`; the absolute part is the unweighted loss's error,
        // which the weight multiplies (equal to the docs for |w| <= 1).
        let b = 8.0 * EPS * (1f64.max(fin(w).abs()) + fin(o64[i]).abs());
        any_nonfinite |= ctx.value(
            || format!("bce[{i}] p={:e} y={:e} w={w:e}", p32[i], y32[i]),
            o[i],
            o64[i],
            o32[i],
            b,
            false,
        );
        // Docs: gradient `8 eps |g|` (+1e-30 for subnormal results, tests/equivalence.rs).
        let b = 8.0 * EPS * fin(g64[i]).abs() + 1e-30;
        let _ = ctx.value(
            || format!("bce grad[{i}] p={:e} y={:e} w={w:e}", p32[i], y32[i]),
            g[i],
            g64[i],
            g32[i],
            b,
            false,
        );
        sum_bound += 8.0 * EPS * (1f64.max(fin(w).abs()) + fin(o64[i]).abs());
        sum_abs += fin(o64[i]).abs();
    }
    let red = reduced(case.reduction, elementwise_reduction(sum_bound, sum_abs, 0.0), n as f64)
        + 2.0 * EPS * fin(f64_).abs();
    let _ = ctx.value(
        || "binary_cross_entropy".into(),
        f,
        f64_,
        f32_,
        red,
        any_nonfinite || sum_abs >= f64::from(f32::MAX) / 2.0,
    );
    let _ = ctx.value(
        || "binary_cross_entropy_with_grad (loss)".into(),
        gl_,
        gl64,
        gl32,
        red,
        any_nonfinite || sum_abs >= f64::from(f32::MAX) / 2.0,
    );
}

fn bce_logits<T: Bits>(ctx: &Ctx<'_>) {
    let case = ctx.case;
    let x: Vec<T> = elems(&case.logits);
    let y: Vec<T> = elems(&case.soft);
    let (x32, y32) = (widen(&x), widen(&y));
    let wv = case.weight.as_deref().map(f32s);
    let pwv = case.pos_weight.as_deref().map(f32s);
    let opts = BceWithLogitsOptions::new()
        .with_weight(wv.as_deref())
        .with_pos_weight(pwv.as_deref())
        .with_reduction(case.reduction);
    let n = x.len();
    let ok = |out: Option<usize>| {
        y.len() == n
            && broadcast_ok(wv.as_deref(), n)
            && broadcast_ok(pwv.as_deref(), n)
            && out.is_none_or(|o| o == n)
    };
    let f = xent::binary_cross_entropy_with_logits(&x, &y, &opts);
    let f64_: Result<f64, _> = xent::scalar::binary_cross_entropy_with_logits(&x, &y, &opts);
    let f32_: Result<f32, _> = xent::scalar::binary_cross_entropy_with_logits(&x, &y, &opts);
    let fwd_ok = ctx.outcome("binary_cross_entropy_with_logits", &f, &f64_, &f32_, ok(None));
    let m = case.out_len;
    let (mut o, mut o64, mut o32) = (vec![0f32; m], vec![0f64; m], vec![0f32; m]);
    let r = xent::binary_cross_entropy_with_logits_per_position(&x, &y, &opts, &mut o);
    let r64 = xent::scalar::binary_cross_entropy_with_logits_per_position(&x, &y, &opts, &mut o64);
    let r32 = xent::scalar::binary_cross_entropy_with_logits_per_position(&x, &y, &opts, &mut o32);
    let per_ok = ctx.outcome("binary_cross_entropy_with_logits_per_position", &r, &r64, &r32, ok(Some(m)));
    let gl = case.grad_len;
    let (mut g, mut g64, mut g32) = (vec![0f32; gl], vec![0f64; gl], vec![0f32; gl]);
    let gr = xent::binary_cross_entropy_with_logits_with_grad(&x, &y, &opts, &mut g);
    let gr64 = xent::scalar::binary_cross_entropy_with_logits_with_grad(&x, &y, &opts, &mut g64);
    let gr32 = xent::scalar::binary_cross_entropy_with_logits_with_grad(&x, &y, &opts, &mut g32);
    let grad_ok = ctx.outcome("binary_cross_entropy_with_logits_with_grad", &gr, &gr64, &gr32, ok(Some(gl)));
    if !(fwd_ok && per_ok && grad_ok) {
        return;
    }
    let (f, f64_, f32_) = (f.unwrap(), f64_.unwrap(), f32_.unwrap());
    let (gl_, gl64, gl32) = (gr.unwrap(), gr64.unwrap(), gr32.unwrap());
    if !same(f, gl_) {
        ctx.fail(&format!("binary_cross_entropy_with_logits {f:e} and its fused loss {gl_:e} differ"));
    }
    let scale_r = if case.reduction == Reduction::Mean { 1.0 / n as f64 } else { 1.0 };
    let mut any_nonfinite = false;
    let (mut sum_bound, mut sum_abs) = (0.0, 0.0);
    for i in 0..n {
        let (xi, yi) = (f64::from(x32[i]), f64::from(y32[i]));
        let w = bcast(wv.as_deref(), i).unwrap_or(1.0);
        let pw = bcast(pwv.as_deref(), i).unwrap_or(1.0);
        let lw = 1.0 + (pw - 1.0) * yi;
        // Docs: `8 eps (1 + |x| + |loss|)`, which holds where `(1-y) x` and
        // `-lw logsigmoid(x)` cannot cancel beyond `|x|` (y in [0, 1], pos_weight >= 0).
        // Elsewhere the error scales with the two terms' sizes; a weight multiplies the
        // unweighted error.
        let f_ = if (0.0..=1.0).contains(&yi) && pw >= 0.0 {
            1.0
        } else {
            1f64.max((1.0 - yi).abs()).max(lw.abs()).max((pw * yi).abs())
        };
        // Plus the documented flush to 0 of `exp(-|x|)` below 1.2e-38, which `lw` multiplies.
        let flush = fin(w * lw).abs() * 1.3e-38;
        // `lw = 1 + (pw - 1) y` itself cancels for pos_weight < 0 or y outside [0, 1]: an
        // absolute error of 2 eps (|(pw - 1) y| + 1), times `logsigmoid(x)` or `sigmoid(x)`.
        let lw_err = 2.0 * EPS * (((pw - 1.0) * yi).abs() + 1.0);
        let logsig = xi.min(0.0) - (-xi.abs()).exp().ln_1p();
        let sig = 1.0 / (1.0 + (-xi).exp());
        let flush = flush + fin(w * lw_err * logsig).abs();
        let b = 8.0 * EPS * (1f64.max(fin(w).abs()) * (1.0 + fin(xi).abs() * fin(f_)) + fin(o64[i]).abs())
            + flush;
        // The flush (as above) with an infinite or overflowing `w lw` gives NaN where the
        // oracle's tiny `exp(-|x|)` gives an infinity.
        let flushed = !((w * lw).abs() < f64::from(f32::MAX) / 2.0) && (-xi.abs()).exp() < 1.3e-38;
        any_nonfinite |= flushed;
        any_nonfinite |= ctx.value(
            || format!("bce_logits[{i}] x={xi:e} y={yi:e} w={w:e} pw={pw:e}"),
            o[i],
            o64[i],
            o32[i],
            b,
            flushed,
        );
        sum_bound += b;
        sum_abs += fin(o64[i]).abs();
        // Docs: gradient `32 eps`, for `w (lw sigmoid(x) - pw y) s` with terms of size <= 2
        // (no weights, y in [0, 1]); scaled by the terms' sizes beyond that.
        let big = (w * scale_r).abs() * (lw.abs() + (pw * yi).abs()) / 2.0;
        let b = 32.0 * EPS * 1f64.max(fin(big))
            + fin(w * scale_r * lw).abs() * 1.3e-38
            + fin(w * scale_r * lw_err * sig).abs() * 2.0;
        // An infinite weight times an unweighted gradient whose size is within its own
        // rounding error (here `lw sigmoid(x) - pw y` with `lw` rounded in f32): its sign,
        // or whether it is 0 (NaN), is not known.
        let gu = lw * sig - pw * yi;
        let gu_err = lw_err * sig + 32.0 * EPS * (lw.abs() + (pw * yi).abs()) + lw.abs() * 1.3e-38;
        let unknown = w.is_infinite() && !(gu.abs() > gu_err);
        let _ = ctx.value(
            || format!("bce_logits grad[{i}] x={xi:e} y={yi:e} w={w:e} pw={pw:e}"),
            g[i],
            g64[i],
            g32[i],
            b,
            flushed || unknown,
        );
    }
    let red = reduced(case.reduction, elementwise_reduction(sum_bound, sum_abs, 0.0), n as f64)
        + 2.0 * EPS * fin(f64_).abs();
    let _ = ctx.value(
        || "binary_cross_entropy_with_logits".into(),
        f,
        f64_,
        f32_,
        red,
        any_nonfinite || sum_abs >= f64::from(f32::MAX) / 2.0,
    );
    let _ = ctx.value(
        || "binary_cross_entropy_with_logits_with_grad (loss)".into(),
        gl_,
        gl64,
        gl32,
        red,
        any_nonfinite || sum_abs >= f64::from(f32::MAX) / 2.0,
    );
}

fn sigmoid_focal<T: Bits>(ctx: &Ctx<'_>) {
    let case = ctx.case;
    let x: Vec<T> = elems(&case.logits);
    let y: Vec<T> = elems(&case.soft);
    let (x32, y32) = (widen(&x), widen(&y));
    let (alpha, gamma) = (f32::from_bits(case.alpha), f32::from_bits(case.gamma));
    let opts = SigmoidFocalOptions::new().with_alpha(alpha).with_gamma(gamma).with_reduction(case.reduction);
    let n = x.len();
    let opts_ok = gamma >= 0.0 && gamma.is_finite() && !alpha.is_nan();
    let ok = |out: Option<usize>| opts_ok && y.len() == n && out.is_none_or(|o| o == n);
    let f = xent::sigmoid_focal_loss(&x, &y, &opts);
    let f64_: Result<f64, _> = xent::scalar::sigmoid_focal_loss(&x, &y, &opts);
    let f32_: Result<f32, _> = xent::scalar::sigmoid_focal_loss(&x, &y, &opts);
    let fwd_ok = ctx.outcome("sigmoid_focal_loss", &f, &f64_, &f32_, ok(None));
    let m = case.out_len;
    let (mut o, mut o64, mut o32) = (vec![0f32; m], vec![0f64; m], vec![0f32; m]);
    let r = xent::sigmoid_focal_loss_per_position(&x, &y, &opts, &mut o);
    let r64 = xent::scalar::sigmoid_focal_loss_per_position(&x, &y, &opts, &mut o64);
    let r32 = xent::scalar::sigmoid_focal_loss_per_position(&x, &y, &opts, &mut o32);
    let per_ok = ctx.outcome("sigmoid_focal_loss_per_position", &r, &r64, &r32, ok(Some(m)));
    let gl = case.grad_len;
    let (mut g, mut g64, mut g32) = (vec![0f32; gl], vec![0f64; gl], vec![0f32; gl]);
    let gr = xent::sigmoid_focal_loss_with_grad(&x, &y, &opts, &mut g);
    let gr64 = xent::scalar::sigmoid_focal_loss_with_grad(&x, &y, &opts, &mut g64);
    let gr32 = xent::scalar::sigmoid_focal_loss_with_grad(&x, &y, &opts, &mut g32);
    let grad_ok = ctx.outcome("sigmoid_focal_loss_with_grad", &gr, &gr64, &gr32, ok(Some(gl)));
    if !(fwd_ok && per_ok && grad_ok) {
        return;
    }
    let (f, f64_, f32_) = (f.unwrap(), f64_.unwrap(), f32_.unwrap());
    let (gl_, gl64, gl32) = (gr.unwrap(), gr64.unwrap(), gr32.unwrap());
    if !same(f, gl_) {
        ctx.fail(&format!("sigmoid_focal_loss {f:e} and its fused loss {gl_:e} differ"));
    }
    let (alpha, gamma) = (f64::from(alpha), f64::from(gamma));
    let scale_r = if case.reduction == Reduction::Mean { 1.0 / n as f64 } else { 1.0 };
    let (mut sum_bound, mut sum_abs) = (0.0, 0.0);
    let mut any_nonfinite = false;
    let mut skipped = false;
    for i in 0..n {
        let (xi, yi) = (f64::from(x32[i]), f64::from(y32[i]));
        let at = if alpha >= 0.0 { alpha * yi + (1.0 - alpha) * (1.0 - yi) } else { 1.0 };
        // `1 - p_t = p (1-y) + q y`: for y in [0, 1] a sum of two non-negative terms; for y
        // outside it the terms cancel, and f32 keeps `1 - p_t` only to a relative
        // `eps * kappa`, which `(1 - p_t)^gamma` raises to `gamma eps kappa`.
        let (p, q) = (1.0 / (1.0 + (-xi).exp()), 1.0 / (1.0 + xi.exp()));
        let om = p * (1.0 - yi) + q * yi;
        let kappa =
            if om == 0.0 { f64::INFINITY } else { ((p * (1.0 - yi)).abs() + (q * yi).abs()) / om.abs() };
        let kappa = if kappa.is_nan() { 1.0 } else { kappa.max(1.0) };

        // Below f32's normal range `p` and `q y` are subnormal or 0 in f32 (absolute errors
        // of 2^-150): for y outside [0, 1] even the sign of `1 - p_t` is then lost.
        let underflow = om.abs() < 1e-35 && !(0.0..=1.0).contains(&yi);
        if underflow || 4.0 * EPS * kappa * gamma.max(1.0) > 0.01 {
            // f32 cannot resolve `(1 - p_t)^gamma` here at all (the scalar f32 twin neither).
            skipped = true;
            continue;
        }
        // Docs: `16 eps (1 + |x| + |loss|)`, stated for torchvision's range (y in [0, 1],
        // alpha in [0, 1], gamma <= 2, so kappa = 1). Beyond it: `at` multiplies the error
        // of the unweighted loss, y outside [0, 1] scales the `x y` term, and
        // `(1 - p_t)^gamma` has `gamma kappa` times the relative error of a sigmoid.
        let yf = 1f64.max(yi.abs()).max((1.0 - yi).abs());
        let gf = 1f64.max(gamma / 2.0) * kappa;
        // `alpha y + (1 - alpha)(1 - y)` cancels for alpha outside [0, 1]: its f32 error is
        // eps times the terms' sizes, times `ce (1 - p_t)^gamma`.
        let ce = xi.max(0.0) - xi * yi + (-xi.abs()).exp().ln_1p();
        let md = if gamma == 0.0 { 1.0 } else { om.powf(gamma) };
        let at_err = if alpha >= 0.0 {
            4.0 * EPS * fin(ce * md).abs() * ((alpha * yi).abs() + ((1.0 - alpha) * (1.0 - yi)).abs())
        } else {
            0.0
        };
        // The documented flush to 0 of exp results below 1.2e-38 (here `(1 - p_t)^gamma`,
        // an exp): times an infinite `ce` it gives NaN where the oracle is infinite.
        let flushed = md < 1.3e-38 && ce.is_infinite();
        any_nonfinite |= flushed;
        let b = 16.0 * EPS * (1f64.max(fin(at).abs()) * yf * (1.0 + fin(xi).abs()) + gf * fin(o64[i]).abs())
            + at_err
            + fin(ce * at).abs() * 1.3e-38;
        any_nonfinite |= ctx.value(
            || format!("sigmoid_focal[{i}] x={xi:e} y={yi:e} alpha={alpha:e} gamma={gamma:e}"),
            o[i],
            o64[i],
            o32[i],
            b,
            flushed,
        );
        sum_bound += b;
        sum_abs += fin(o64[i]).abs();
        // The gradient's bound is not documented. `(p - y) md + ce dmd` (times `at` and the
        // reduction's scale): each factor has a relative error of a few eps (`gamma kappa`
        // times that for the powers), `ce` an absolute error of eps (1 + |x| |y|).
        let gb = 32.0 * EPS * gf * (fin(at * scale_r).abs() * yf * (1.0 + fin(xi).abs()) + fin(g64[i]).abs())
            + at_err * (1.0 + gamma) * fin(scale_r).abs()
            + fin(ce * at * scale_r).abs() * (1.0 + gamma) * 1.3e-38;

        let _ = ctx.value(
            || format!("sigmoid_focal grad[{i}] x={xi:e} y={yi:e} alpha={alpha:e} gamma={gamma:e}"),
            g[i],
            g64[i],
            g32[i],
            gb,
            flushed,
        );
    }
    if skipped {
        return;
    }
    let red = reduced(case.reduction, elementwise_reduction(sum_bound, sum_abs, 0.0), n as f64)
        + 2.0 * EPS * fin(f64_).abs();
    let _ = ctx.value(
        || "sigmoid_focal_loss".into(),
        f,
        f64_,
        f32_,
        red,
        any_nonfinite || sum_abs >= f64::from(f32::MAX) / 2.0,
    );
    let _ = ctx.value(
        || "sigmoid_focal_loss_with_grad (loss)".into(),
        gl_,
        gl64,
        gl32,
        red,
        any_nonfinite || sum_abs >= f64::from(f32::MAX) / 2.0,
    );
}

// ---------------------------------------------------------------------------------------
// Helpers for tests
// ---------------------------------------------------------------------------------------

/// Decodes `data` for `target` and runs the check.
pub fn run_bytes(target: Target, data: &[u8]) {
    run(&Case::decode(target, data));
}

/// Every fuzz target's name and its decoder.
pub const TARGETS: [(&str, Target); 10] = [
    ("lse", Target::Lse),
    ("ce_class", Target::CeClass),
    ("ext", Target::Ext),
    ("ce_probs", Target::Probs),
    ("nll", Target::Nll),
    ("bce", Target::Bce),
    ("bce_logits", Target::BceLogits),
    ("focal", Target::Focal),
    ("half", Target::Half),
    ("score", Target::Score),
];
