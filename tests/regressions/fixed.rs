//! Bugs the fuzzers found in `src/`, fixed there (named `fixed_*`; each comment says what
//! was wrong and what fixed it).

use super::check::{self, Case, Dtype, Family, Index, Lay, bits};
use super::splitmix;
use xent::{CrossEntropyOptions, Layout, NllOptions, Reduction};

/// The vector `exp` (`Vector::exp_core`, `simd/vector/`) scales by `2^n` with an integer
/// add of `bits(k) << 23`, where `k = t * log2(e) + 1.5 * 2^23`. For a NaN `t` whose payload
/// has any of its low 9 bits set, `k` is that NaN and the add moves those bits into the
/// result's sign and exponent: the "NaN in, NaN out" of `exp_le0` does not hold, and the
/// NaN becomes a finite number. Here a NaN logit with payload 1 is lost: the row's
/// log-sum-exp is finite (the x86 block maximum ignores NaN and relies on the exp to
/// propagate it).
#[test]
fn fixed_exp_of_nan_with_payload_is_finite_lse() {
    crate::isa::init();
    let row = [f32::from_bits(0x7fc0_0001), 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5];
    let lse = xent::log_sum_exp(&row);
    assert!(lse.is_nan(), "log_sum_exp of a row holding NaN: {lse}");
}

/// The same bug reached through a NaN made inside: `wide`'s `ln` returns the NaN
/// `0x7fc00101` for negative inputs and for `-NaN` (x86's default NaN), so the small-C
/// (transposed tile) path's `ln Σ` of a row holding NaN is that NaN, and `softmax_into`
/// then writes `exp(NaN(0x101)) = 5.877832e-39` (bits `0x00400101`) where NaN is due; the
/// CE and soft-target gradients of such rows are finite garbage the same way.
#[test]
fn fixed_exp_of_nan_with_payload_is_finite_softmax() {
    crate::isa::init();
    let mut x = vec![0.0_f32; 16 * 5];
    x[3] = f32::from_bits(0xffc0_0000); // -NaN in row 0
    let case = Case { logits: bits(&x), ..Case::new(Family::Lse, Lay::Rows(16, 5)) }.sized();
    check::run(&case);
}

/// A layout with 0 classes and a huge batch is valid (`len() == 0`), and the drivers of the
/// primitives and of the soft-target loss, whose slices are all `len()` long, then walk
/// every position of the empty input: `softmax_into(&[], Layout::rows(usize::MAX / 3, 0),
/// &mut [])` runs for ~6e18 / 16 tile iterations (hangs). Expected: an immediate `Ok` (or
/// an error), as for every other empty input.
#[test]
#[cfg_attr(miri, ignore = "the loop it detects would run on under Miri")]
fn fixed_huge_batch_of_zero_classes_loops() {
    crate::isa::init();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let lay = Layout::rows(usize::MAX / 3, 0);
        let a = xent::softmax_into::<f32>(&[], lay, &mut []);
        let b = xent::cross_entropy_probs::<f32, f32>(&[], lay, &[], &xent::ProbsOptions::new());
        let _ = tx.send((a, b.map(drop)));
    });
    let r = rx.recv_timeout(std::time::Duration::from_secs(10));
    assert!(
        r.is_ok(),
        "softmax_into / cross_entropy_probs on rows(usize::MAX / 3, 0) did not return within 10 s"
    );
}

/// A soft-cap below `1 / f32::MAX` (subnormal, but finite and positive, so accepted) makes
/// the vector path's `x * (1 / s)` multiply by infinity: a zero logit becomes NaN. The
/// scalar twin's `s * tanh(x / s)` is fine (loss ln 2 here).
#[test]
fn fixed_softcap_with_overflowing_reciprocal() {
    crate::isa::init();
    let o = CrossEntropyOptions::new().with_softcap(Some(1e-40));
    let x = [0.0_f32, 1.0];
    let fast = xent::cross_entropy(&x, Layout::unbatched(2), &[0_i64], &o).unwrap();
    let oracle: f64 = xent::scalar::cross_entropy(&x, Layout::unbatched(2), &[0_i64], &o).unwrap();
    assert!((f64::from(fast) - oracle).abs() < 1e-6, "simd {fast}, oracle {oracle}");
}

/// A non-finite class weight `w_j` poisons the gradient of rows that do not use it. The
/// scalar kernels write `a p_j - c w_j` with `c = 0` when there is no label smoothing (and
/// on every ignored row, and always for the softmax focal loss): `0 * NaN = NaN`; the SIMD
/// channel-first kernel does the same (`c * w[cls]`), while the SIMD row kernel skips the
/// weights when `c == 0`. PyTorch's gradient `w_y (p_j - [j == y])` does not read `w_j` for
/// `j != y`: finite. Both the public scalar twin and the channel-first SIMD path are wrong
/// here; only the SIMD row path is right.
#[test]
fn fixed_nan_weight_of_another_class_poisons_gradient() {
    crate::isa::init();
    let w = [1.0_f32, f32::NAN, 1.0];
    let o = CrossEntropyOptions::new().with_weight(Some(&w)).with_reduction(Reduction::Sum);
    let x = [1.0_f32, 2.0, 3.0];
    let mut g = [0.0_f32; 3];
    xent::cross_entropy_with_grad(&x, Layout::rows(1, 3), &[0_i64], &o, &mut g).unwrap();
    let mut g64 = [0.0_f64; 3];
    xent::scalar::cross_entropy_with_grad(&x, Layout::rows(1, 3), &[0_i64], &o, &mut g64).unwrap();
    // Channel-first (1, 3, 8): eight positions, one vector of columns.
    let xc: Vec<f32> = (0..3).flat_map(|c| [x[c]; 8]).collect();
    let mut gc = vec![0.0_f32; 24];
    xent::cross_entropy_with_grad(&xc, Layout::channel_first(1, 3, 8), &[0_i64; 8], &o, &mut gc).unwrap();
    assert!(g.iter().all(|v| v.is_finite()), "simd rows: {g:?}");
    assert!(g64.iter().all(|v| v.is_finite()), "scalar: {g64:?}");
    assert!(gc.iter().all(|v| v.is_finite()), "simd channel-first: {gc:?}");
}

/// Label smoothing with an infinite class weight at a class whose logit equals the
/// target's: the loss is `+inf` (the smoothing term sums `w_c (-lp_c)`, and `-lp_c > 0`),
/// as the scalar twin and PyTorch give; the vector path sums `w_c (x_c - x_t)` relative to
/// the target logit, `inf * 0 = NaN` there.
#[test]
fn fixed_smoothing_with_infinite_weight_is_nan() {
    crate::isa::init();
    let case = Case {
        logits: bits(&[1.0, 0.0, 0.0]),
        targets: vec![1],
        weight: Some(bits(&[1.0, 1.0, f32::INFINITY])),
        label_smoothing: 0.5_f32.to_bits(),
        ..Case::new(Family::Ce, Lay::Unbatched(3))
    }
    .sized();
    check::run(&case);
}

/// The channel-first kernels (and their scalar tails) add a position's `C` exponentials
/// (and label smoothing's `Σ w (x - x_t)`) one class after another in f32; when the terms
/// are equal, the rounding errors share a sign and grow like `C eps / 2`, beyond the
/// documented log-sum-exp bound `u = 4 eps (M + ln C + 1)`: one logit 7.90625 and 201
/// zeros gives an error of 7.9e-6 against u = 6.8e-6. (Same sum in the scalar f32 twin;
/// the row kernel's 16 accumulators and 1024-blocks stay inside the bound.)
#[test]
fn fixed_column_lse_sum_exceeds_documented_bound() {
    crate::isa::init();
    let (c, inner) = (202, 8);
    let mut x = vec![0.0_f32; c * inner];
    x[..inner].fill(7.906_25);
    let case = Case { logits: bits(&x), ..Case::new(Family::Lse, Lay::ChannelFirst(1, c, inner)) }.sized();
    check::run(&case);
}

/// `binary_cross_entropy_with_logits` with `pos_weight < 1` and an infinite target: the
/// vector path writes `lw = 1 + (pw - 1) y` and `lw * sigmoid(x) - pw y = -inf - inf`,
/// where the scalar twin (and PyTorch) write `(pw y + 1 - y) sigmoid(x) - pw y = NaN`.
#[test]
fn fixed_bce_logits_infinite_target_with_pos_weight() {
    crate::isa::init();
    let case = Case {
        logits: bits(&[0.0]),
        soft: bits(&[f32::INFINITY]),
        pos_weight: Some(bits(&[0.25])),
        ..Case::new(Family::BceLogits, Lay::Rows(1, 1))
    }
    .sized();
    check::run(&case);
}

/// `sigmoid_focal_loss` with a target outside [0, 1]: `1 - p_t = p (1 - y) + q y` is
/// negative for `x = -20, y = -0.1`, and the vector path's `(1 - p_t)^gamma =
/// exp(gamma ln(1 - p_t))` is not the scalar twin's `powf` (`0.01` at gamma = 2): the ln is
/// NaN(0x101), the exp of it finite garbage. For `1 - p_t > 1` and `gamma ln(1 - p_t) >
/// 88.7` the exp (valid for arguments <= 0) wraps the same way. Targets are not validated
/// (as in torchvision), so the two paths should agree.
#[test]
fn fixed_sigmoid_focal_target_outside_unit() {
    crate::isa::init();
    let case = Case {
        logits: bits(&[-20.0]),
        soft: bits(&[-0.1]),
        ..Case::new(Family::SigmoidFocal, Lay::Rows(1, 1))
    }
    .sized();
    check::run(&case);
}

/// `sigmoid_focal_loss_with_grad` with `gamma = 0` and an infinite or NaN `ce` (`x =
/// -inf, y = 1`): the loss is NaN in every path, and the scalar twin's gradient `(p - y)
/// md + ce dmd = -1 + inf * 0` is NaN (as torch's autograd), but the vector path leaves the
/// `ce dmd` term out when gamma = 0 and returns a finite gradient.
#[test]
fn fixed_sigmoid_focal_gamma0_nan_ce_grad() {
    crate::isa::init();
    let case = Case {
        logits: bits(&[f32::NEG_INFINITY]),
        soft: bits(&[1.0]),
        gamma: 0.0_f32.to_bits(),
        ..Case::new(Family::SigmoidFocal, Lay::Rows(1, 1))
    }
    .sized();
    check::run(&case);
}

/// `half` target (at 2a1a8cf): a soft-capped row of 4020 logits, one `+inf` (capped to 12)
/// and the rest near 0. Capped rows ran an online kernel whose per-lane sums ran the whole
/// row: about 500 terms of `exp(-12) = 6e-6` (SSE2) added to a lane's running sum of 1, all
/// rounding the same way, put `cross_entropy_with_lse`'s LSE 1.3e-5 off against a bound of
/// 5.4e-6. Fixed in `simd/kernels/`: capped rows go through the blocked kernel
/// (`row_sums_blocked`, capped a stack block at a time), whose lanes restart every block.
/// The check's `M` for this row also was that of the raw finite logits (0.625), not of the
/// capped ones (12, the capped `+inf`), as the docs define it; this test passes with either.
#[test]
#[cfg_attr(miri, ignore = "numerics at sizes Miri would take minutes over; no new unsafe or UB surface")]
fn fixed_long_capped_row_lse_bound() {
    crate::isa::init();
    let c = 4020;
    let mut x = vec![0u32; c];
    x[0] = 0xb900;
    x[5] = 0x2dc0;
    x[6] = 0x7c00;
    let case = Case {
        dtype: Dtype::F16,
        index: Index::U8,
        logits: x,
        targets: vec![0],
        weight: Some(vec![0x3e80_0000; c]),
        ignore_index: 255,
        z_loss: 0x38d1_b717,
        softcap: Some(0x4140_0000),
        reduction: Reduction::Mean,
        ..Case::new(Family::Ce, Lay::Unbatched(c))
    }
    .sized();
    check::run(&case);
}

/// `half` target (at b6c85eb): label smoothing 1e-45 (the smallest subnormal) with class
/// weights up to 2.3e35 and a target weight of -2.3e-15. The gradient's smoothing
/// coefficient was `s_ce * (eps / C)`, and `eps / C` underflows to 0 in f32, dropping
/// `c W p - c w_j` (-3283 in the oracle) from the gradient. Fixed in `loss/class.rs`:
/// `s_ce * eps / C` (a coefficient that still underflows then moves the gradient by less
/// than `4.8e-7`).
#[test]
fn fixed_subnormal_smoothing_gradient_coefficient() {
    crate::isa::init();
    let case = Case {
        dtype: Dtype::F16,
        index: Index::I32,
        logits: vec![0xde42, 0, 0, 0, 0, 0, 0],
        targets: vec![3],
        weight: Some(vec![
            0x5b00_001c,
            0xd005_0000,
            0xde42_aeac,
            0xa728_00f5,
            0x7a30_bf5b,
            0x553e_7ee4,
            0xeb3d_fd55,
        ]),
        ignore_index: 255,
        label_smoothing: 1,
        reduction: Reduction::Mean,
        ..Case::new(Family::Ce, Lay::Unbatched(7))
    }
    .sized();
    check::run(&case);
}

/// `bce` target (at 097e37b, the one-log path): `p = 1e-45`, `y = 0` and a weight of `-inf`.
/// `ln(1 - p)` of the rounded `1 - p = 1` is 0, and `-inf * 0` is NaN where PyTorch's
/// `log1p(-p) = -1e-45` gives `-inf` (and the f64 oracle). Fixed in `simd/kernels/`
/// (`log1m_fix`: `ln(u)` plus what rounding `u = 1 - p` lost, without a division).
#[test]
fn fixed_bce_log1p_of_tiny_probability() {
    crate::isa::init();
    let case = Case {
        logits: bits(&[f32::from_bits(1), 0.5, 1e-30, 0.25]),
        soft: bits(&[0.0, 0.0, 0.0, 1.0]),
        weight: Some(bits(&[f32::NEG_INFINITY, 1.0, f32::INFINITY, 1.0])),
        reduction: Reduction::Sum,
        ..Case::new(Family::Bce, Lay::Unbatched(4))
    }
    .sized();
    check::run(&case);
}

/// `ext` target (at bdc5caf): soft-cap 6.14, label smoothing 1 and a `-inf` class weight
/// (so the gradient's coefficient is `-inf`); logit -54.36 has `y = x / s = -8.86`, where
/// `tanh` rounds to -1 in f32 and the chain factor `1 - th * th` cancelled to 0: the
/// gradient was `-inf * 0 = NaN` where the oracle's `1 - tanh^2 = 8e-8` gives `-inf`.
/// Fixed in `simd/vector/` (`tanh_sech2`: `4e / (1 + e)^2`, no cancellation) and the
/// scalar twin (`sech2`).
#[test]
fn fixed_softcap_chain_factor_cancelled() {
    crate::isa::init();
    let case = Case {
        index: Index::U8,
        logits: bits(&[
            -2.75,
            -2.75,
            -2.75,
            -2.75,
            -2.75,
            0.0,
            10.015_625,
            0.0,
            123.242_19,
            123.242_19,
            46.160_156,
            -54.359_375,
            -54.359_375,
            -54.214_844,
            -54.214_844,
        ]),
        targets: vec![2],
        weight: Some(vec![
            0x7f7f_ffff,
            0x0008_c3ab,
            0x3f18_0000,
            0x0001_00ff,
            0x3e80_0000,
            0x3e80_0000,
            0x3e98_0000,
            0x3e80_0000,
            0x3ef8_0000,
            0xff80_0000,
            0x60ad_78ec,
            0x60ad_78ec,
            0x3e80_0000,
            0x3e80_0000,
            0x3e80_0000,
        ]),
        ignore_index: 255,
        label_smoothing: 1.0_f32.to_bits(),
        z_loss: 0x38d1_b717,
        softcap: Some(0x40c4_6831),
        reduction: Reduction::Mean,
        ..Case::new(Family::Ce, Lay::Unbatched(15))
    }
    .sized();
    check::run(&case);
}

/// `ext` target (at 1ca4d05): a subnormal soft-cap (1.8e-43) and a target logit of 2.2e-43.
/// The capped target `s tanh(x / s)` is subnormal (1.5e-43, about 7 significant bits), and
/// the gradient's chain factor `1 - tanh^2` was taken from it as `x' / s`: -0.3140 where
/// the oracle gives -0.3114 (both channel-first and rows). Fixed in `simd/kernels/`
/// (`target_slot` takes `tanh` from the raw logit, read before the row is overwritten).
#[test]
fn fixed_subnormal_softcap_target_gradient() {
    crate::isa::init();
    let mut x = vec![0.0_f32; 51 * 3];
    for lay in [Lay::Rows(3, 51), Lay::ChannelFirst(1, 51, 3)] {
        x.iter_mut().for_each(|v| *v = 0.0);
        // The first position's target logit (class 0).
        x[0] = f32::from_bits(0x9a);
        let case = Case {
            index: Index::U8,
            logits: bits(&x),
            targets: vec![0, 0, 0],
            softcap: Some(0x83),
            reduction: Reduction::Sum,
            ..Case::new(Family::Ce, lay)
        }
        .sized();
        check::run(&case);
    }
}

/// `ce_class` target (at b0fb14a): a subnormal label smoothing (1e-40) with a zero target
/// weight, so the loss is the smoothing term alone, 6.5e-40 (subnormal). The driver
/// computed `eps / C * smooth`: `eps / C` = 1.4e-41 holds only 14 significant bits, and the
/// product erred by 19 subnormal quanta (2.7e-44) where the check allows 4. Fixed in
/// `loss/class.rs`: `eps * smooth / C`, one rounding to a subnormal each.
#[test]
fn fixed_subnormal_smoothing_divided_first() {
    crate::isa::init();
    let case = Case {
        index: Index::U32,
        logits: bits(&[0.773_437_5, 0.996_093_75, 59.828_125, 21.519_531, 40.773_438, 0.0, 53.0]),
        targets: vec![0],
        weight: Some(bits(&[0.0, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25])),
        ignore_index: 255,
        label_smoothing: 0x0001_16c2,
        reduction: Reduction::Mean,
        ..Case::new(Family::Ce, Lay::Unbatched(7))
    }
    .sized();
    check::run(&case);
}

/// Label smoothing's sum in the row kernel of soft-capped rows (one pass, 16 running sums):
/// `Σ (x' - x_t)` over 3803 equal terms `0 - (-106.59)` (every logit 0, the target's `-inf`
/// capped to `-s`) accumulates about 238 same-signed roundings per lane: the per-position
/// loss errs by 1.7e-4, beyond the bound documented at 0a1e49b, `1.5 u + eps_ls 6 eps M
/// sqrt(C) + 4 eps |loss|` = 5.9e-5 (`sqrt(C)` assumed roundings of random sign). The
/// channel-first kernels' smoothing sum (one running sum of `C` terms per position) has the
/// same issue. Found by the `half` target (f16 logits) at f9de2e1. Fixed in the docs: the
/// precision table now states the worst case, `eps_ls K eps / 2 W̄ D` more with `K = C / 16
/// + 6` for rows and `C + 2` for channel-first layouts (a blocked sum would cost a pass).
#[test]
#[cfg_attr(miri, ignore = "numerics at sizes Miri would take minutes over; no new unsafe or UB surface")]
fn fixed_long_smoothing_sums_exceed_documented_bound() {
    crate::isa::init();
    let c = 3804;
    let mut x = vec![0.0_f32; c];
    x[0] = f32::NEG_INFINITY;
    let case = Case {
        logits: bits(&x),
        targets: vec![0],
        label_smoothing: 0x3f02_ca83,
        softcap: Some(0x42d5_2e83),
        ..Case::new(Family::Ce, Lay::Rows(1, c))
    }
    .sized();
    check::run(&case);
}

/// Still open at 0a1e49b (after the fix of `fixed_smoothing_with_infinite_weight_is_nan`):
/// label smoothing with an infinite class weight gave NaN on the vector path where the
/// scalar twin (and PyTorch) give `+inf`, here with a soft-cap of 96 (so `lse_rel` =
/// 2.5e-3 is not lost to rounding). Found by the `ext` target. The vector pass sums
/// `Σ w (x - x_t)` from the target logit, so class 3 (whose logit equals the target's)
/// gave `inf * 0`. Fixed in `loss/class.rs`: with an infinite weight the sum is redone from
/// the row's maximum, and `W lse_rel` counts as 0 where `lse_rel` rounds to 0 (PyTorch's
/// terms are then `w_j (max - x_j)` exactly).
#[test]
fn fixed_smoothing_with_infinite_weight_still_nan() {
    crate::isa::init();
    let case = Case {
        logits: bits(&[123.281_25, -103.9, 103.9, -103.9, -32.191_406, -15.375]),
        targets: vec![1],
        weight: Some(bits(&[0.351_562_5, 8.375, 0.328_125, f32::INFINITY, 0.9375, 0.273_437_5])),
        label_smoothing: 0.5_f32.to_bits(),
        softcap: Some(96.051_78_f32.to_bits()),
        ..Case::new(Family::Ce, Lay::Unbatched(6))
    }
    .sized();
    check::run(&case);
}

/// A soft-cap of `f32::MAX` (finite, so valid) with a logit of 9.6e35 and label smoothing
/// 0.5: the vector path's gradient at the target is `+inf`, the scalar twin's 0.3333 (rows
/// and channel-first alike). Found by the `ext` target at 0a1e49b. The `half` target
/// found the same without smoothing: a cap of 1e30 and a logit of 1e30 give an infinite
/// gradient for `Rows(1, 1)` and `Rows(1, 2)` (expected 0 and finite); caps up to 1e25 or
/// logits far below the cap are fine. The cause: the target logit was capped with
/// `libm::tanhf`, the row's copies with the vector `tanh`; one ulp apart, which near
/// `s = 1e30` is more than the row's whole softmax range, so `expm1(x_t - max)` overflowed.
/// Fixed in `simd/kernels/` (`cap_s` runs the vector `cap_v`) and `Engine::cap` (the
/// backward caps a target logit as its engine's forward does).
#[test]
fn fixed_softcap_near_f32_max_gradient_inf() {
    crate::isa::init();
    let case = Case {
        logits: bits(&[9.605_749e35, 0.0, 1.0]),
        targets: vec![0],
        label_smoothing: 0.5_f32.to_bits(),
        softcap: Some(f32::MAX.to_bits()),
        ..Case::new(Family::Ce, Lay::Unbatched(3))
    }
    .sized();
    check::run(&case);
}

/// The plain forward (`cross_entropy` without smoothing, z-loss or soft-cap) adds the
/// losses of a tile of 64 positions with plain f32 adds (`ce_sum_from_stats`; compensated
/// only across tiles), so its `Sum` errs by up to `63 eps / 2` of `Σ |loss|`, beyond the
/// documented `N` times the per-position bound `+ 8 eps |result|` when the losses are
/// large and alike. Found by the `half` target at 0a1e49b (64 rows of 17 f16 logits, sum
/// 22752: error 0.0490 against a bound of 0.0489); the scalar twin shares the sum. Fixed in
/// `engine.rs::ce_sum_from_stats` and the SIMD `ce_sum`: compensated sums (`engine::Acc`)
/// within a tile too.
#[test]
fn fixed_plain_forward_tile_sum_exceeds_documented_bound() {
    crate::isa::init();
    let case = Case {
        family: Family::Ce,
        dtype: Dtype::F16,
        index: Index::I64,
        layout: Lay::Rows(64, 17),
        logits: vec![
            0x938e, 0x7171, 0x7171, 0x7171, 0x7171, 0x0071, 0x7149, 0x7171, 0x7171, 0x7171, 0x4071, 0x7171,
            0x7171, 0x7171, 0x2f09, 0x5e5e, 0x0000, 0x4000, 0x7195, 0x2871, 0x3f42, 0xe63b, 0x6b3f, 0x6b6b,
            0x0015, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
            0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
        ],
        targets: vec![
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ],
        soft: vec![],
        weight: None,
        pos_weight: None,
        ignore_index: -100,
        label_smoothing: 0x00000000, /* 0.0 */
        z_loss: 0x00000000,          /* 0.0 */
        softcap: None,
        gamma: 0x00000000, /* 0.0 */
        alpha: 0x00000000, /* 0.0 */
        reduction: Reduction::Sum,
        out_len: 64,
        grad_len: 1088,
    };
    check::run(&case);
}

/// `ext` target (at 1af5baf, x86-64-v4 build): a z-loss of `1.1e-42` (subnormal) on a row
/// whose LSE is 61.8, every weight 0, so the per-position loss is the z-loss term alone,
/// `4.19e-39` (subnormal). It was `(z * lse) * lse`: `z * lse` rounded in the subnormal
/// range (absolute `2^-150`, relative 1e-5 there), then multiplied by `lse`: 3.8e-44 off,
/// six times the bound (SIMD and scalar f32 alike). Fixed in `loss/class.rs`:
/// `z * (lse * lse)`, one rounding into the subnormal range.
#[test]
fn fixed_subnormal_z_loss_product_order() {
    crate::isa::init();
    let case = Case {
        index: Index::U32,
        logits: bits(&[61.0625, 61.0625]),
        targets: vec![0],
        weight: Some(bits(&[0.0, 0.0])),
        label_smoothing: 0x1010_102c,
        z_loss: 0x0000_0310,
        reduction: Reduction::Mean,
        ..Case::new(Family::Ce, Lay::Unbatched(2))
    }
    .sized();
    check::run(&case);
}

/// A position whose logits are all `-inf` but one NaN (or, in a long row, whose first
/// 1100 are) has a NaN loss (PyTorch), in every
/// kernel shape: small-C rows (transposed tiles), rows of one block and of several (the
/// blocked row kernel, whose vector maximum ignores NaN on x86: such a block in a row of
/// several once took the all-`-inf` path and the NaN vanished), and channel-first columns.
/// With and without label smoothing; every other position stays finite and matches the
/// scalar twin's NaN pattern. Found by reading the kernel, not by a fuzzer.
#[test]
#[cfg_attr(
    miri,
    ignore = "NaN propagation, no unsafe or UB surface; rows of 2053 logits are slow under Miri"
)]
fn fixed_nan_among_neg_inf_logits_is_nan() {
    crate::isa::init();
    let shapes: [&[usize]; 6] = [&[5, 4], &[33, 10], &[3, 40], &[2, 2053], &[2, 4, 37], &[1, 3, 300]];
    for shape in shapes {
        let lay = Layout::from_shape(shape).unwrap();
        let (n, c, inner) = (shape[0], shape[1], shape[2..].iter().product::<usize>());
        let positions = n * inner;
        for p in [0, positions / 2, positions - 1] {
            let (pn, pi) = (p / inner, p % inner);
            let mut s = 7u64 + p as u64;
            let mut x: Vec<f32> =
                (0..n * c * inner).map(|_| (splitmix(&mut s) % 1000) as f32 / 100.0 - 5.0).collect();
            // All of the position's classes -inf, or of a long row its first 1100 (past the
            // kernel's first block of 1024, the rest finite).
            for k in 0..c.min(1100) {
                x[(pn * c + k) * inner + pi] = f32::NEG_INFINITY;
            }
            // The NaN early in the position's classes, in the first kernel block of a long row.
            x[(pn * c + c.min(8) - 1) * inner + pi] = f32::NAN;
            let t: Vec<i64> = (0..positions as i64).map(|q| q % c as i64).collect();
            for ls in [0.0, 0.1] {
                let o = CrossEntropyOptions::new().with_label_smoothing(ls);
                let mut got = vec![0.0f32; positions];
                let mut want = vec![0.0f64; positions];
                xent::cross_entropy_per_position(&x, lay, &t, &o, &mut got).unwrap();
                xent::scalar::cross_entropy_per_position(&x, lay, &t, &o, &mut want).unwrap();
                for q in 0..positions {
                    assert_eq!(
                        got[q].is_nan(),
                        want[q].is_nan(),
                        "{shape:?} NaN at {p}, position {q}, ls={ls}"
                    );
                }
                assert!(got[p].is_nan(), "{shape:?} position {p} ls={ls}: {}", got[p]);
                let sum = xent::cross_entropy(&x, lay, &t, &o.with_reduction(Reduction::Sum)).unwrap();
                assert!(sum.is_nan(), "{shape:?} NaN at {p} ls={ls}: sum {sum}");
            }
        }
    }
}

/// The weighted mean's denominator `W = Σ w[y]` was summed in f32, plainly within blocks
/// of 256 positions (compensated only across blocks): equal weights make every rounding
/// share a sign, so 169 targets of weight `-1.6161082e35` gave `W` 17 ULP off and the
/// gradient `-w / W` 2.1e-6 relative off, past the documented two roundings plus the
/// reduction's `8 eps` (fuzz target `nll`). `W` is now summed in f64 (each f32 weight is
/// exact there) and rounded once. Both the gather (`nll_loss`, class-index `scan_targets`)
/// and the fused class-index forward (its own blocks of 256) had the plain f32 sum.
#[test]
fn fixed_weighted_mean_denominator_plain_f32_sum() {
    crate::isa::init();
    let w = f32::from_bits(0xf9f9_003b);
    for family in [Family::Nll, Family::Ce] {
        for lay in [Lay::Rows(169, 1), Lay::ChannelFirst(4, 1, 43), Lay::Rows(600, 3)] {
            let n = match lay {
                Lay::Rows(n, _) => n,
                Lay::ChannelFirst(n, _, d) => n * d,
                Lay::Unbatched(_) => 1,
            };
            let c = match lay {
                Lay::Rows(_, c) | Lay::ChannelFirst(_, c, _) | Lay::Unbatched(c) => c,
            };
            let case = Case {
                logits: bits(&vec![0.25; n * c]),
                targets: (0..n as i64).map(|p| p % c as i64).collect(),
                weight: Some(bits(&vec![w; c])),
                reduction: Reduction::Mean,
                ..Case::new(family, lay)
            }
            .sized();
            check::run(&case);
        }
    }
}

/// The same denominator seen directly: with one weight for every class, a weighted mean is
/// the unweighted mean (`Σ w l / Σ w`, each product one rounding, both sums exact to well
/// under an ULP). The shared check's cross-entropy bounds are looser than the 17 ULP the
/// f32 `W` was off, so this holds both class-index paths (the plain forward's tiles and
/// the general driver, through `cross_entropy_with_lse`) and `nll_loss` to 4 ULP of the
/// unweighted mean.
#[test]
fn fixed_weighted_mean_denominator_equal_weights() {
    crate::isa::init();
    let w = f32::from_bits(0xf9f9_003b);
    for (lay, n, c) in [
        (Layout::rows(169, 3), 169, 3),
        (Layout::rows(600, 3), 600, 3),
        (Layout::channel_first(4, 3, 43), 172, 3),
    ] {
        let x: Vec<f32> = (0..n * c).map(|i| (i % 7) as f32 * 0.375 - 1.0).collect();
        let t: Vec<i64> = (0..n as i64).map(|p| (p * 5 + 1) % c as i64).collect();
        let wv = vec![w; c];
        let close = |a: f32, b: f32, what: &str| {
            let ulps = (a.to_bits() as i64 - b.to_bits() as i64).abs();
            assert!(ulps <= 4, "{what} {lay:?}: weighted {a:e}, unweighted {b:e} ({ulps} ULP)");
        };
        let plain = CrossEntropyOptions::new().with_reduction(Reduction::Mean);
        let weighted = plain.with_weight(Some(&wv));
        let a = xent::cross_entropy(&x, lay, &t, &weighted).unwrap();
        let b = xent::cross_entropy(&x, lay, &t, &plain).unwrap();
        close(a, b, "cross_entropy");
        let mut lse = vec![0.0_f32; n];
        let a = xent::cross_entropy_with_lse(&x, lay, &t, &weighted, &mut lse).unwrap();
        close(a, b, "cross_entropy_with_lse");
        let nw = NllOptions::new().with_weight(Some(&wv));
        let a = xent::nll_loss(&x, lay, &t, &nw).unwrap();
        let b = xent::nll_loss(&x, lay, &t, &NllOptions::new()).unwrap();
        close(a, b, "nll_loss");
    }
}
