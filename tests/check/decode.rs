//! [`Case::decode`]: arbitrary bytes to a [`Case`], without features, so that the fuzz
//! crate and the tests share it. Missing bytes read as 0.

use xent::{Error, Reduction};

use super::MAX_ELEMS;
use super::case::{Case, Dtype, Family, Index, Lay, Target};

/// A byte reader that yields zeros once the data is exhausted.
pub(super) struct Bytes<'a> {
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

pub(super) const SPECIAL_LOGITS: [u32; 26] = [
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

pub(super) const SPECIAL_PROBS: [u32; 16] = [
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

pub(super) const SPECIAL_WEIGHTS: [u32; 14] = [
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
    /// Raw bits of this type's width.
    fn raw(self, r: &mut Bytes<'_>) -> u32 {
        match self {
            Dtype::F32 => r.u32(),
            Dtype::F16 | Dtype::Bf16 => u32::from(r.u16()),
        }
    }
}

/// How wild an array's values are: 0 = ordinary values only, 1 = specials mixed in,
/// 2 = raw bit patterns only.
pub(super) fn mode(r: &mut Bytes<'_>) -> u8 {
    match r.u8() % 16 {
        0..=9 => 0,
        10..=13 => 1,
        _ => 2,
    }
}

pub(super) fn logit(r: &mut Bytes<'_>, dt: Dtype, mode: u8, prev: f32) -> u32 {
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

pub(super) fn prob(r: &mut Bytes<'_>, dt: Dtype, mode: u8, prev: f32) -> u32 {
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

pub(super) fn weight(r: &mut Bytes<'_>, mode: u8, prev: f32) -> u32 {
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
pub(super) fn near(r: &mut Bytes<'_>, expected: Option<usize>, perturb: bool) -> usize {
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

pub(super) const HUGE: [usize; 5] = [usize::MAX, usize::MAX / 2 + 1, 1 << 32, 1 << 62, usize::MAX / 3];

pub(super) fn class_count(r: &mut Bytes<'_>) -> usize {
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

/// A divisor of `n` (1 for `n == 0`).
pub(super) fn divisor(r: &mut Bytes<'_>, n: usize) -> usize {
    if n == 0 {
        return 1;
    }
    let d = 1 + r.below(n.min(64));
    if n.is_multiple_of(d) { d } else { 1 }
}

/// `t` as the index type stores it, widened back to i64.
pub(super) fn norm(index: Index, t: i64) -> i64 {
    match index {
        Index::I64 => t,
        Index::I32 => i64::from(t as i32),
        Index::U32 => i64::from(t as u32),
        Index::U8 => i64::from(t as u8),
    }
}
