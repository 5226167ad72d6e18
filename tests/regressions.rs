//! Regression tests from fuzzing (`fuzz/`): inputs the fuzz targets found, minimised by
//! hand into literal [`Case`]s run through the shared differential check
//! (`tests/check/mod.rs`), and a deterministic sweep of decoded random inputs through every
//! fuzz target's decoder.
//!
//! The tests named `fixed_*` are bugs in `src/` the fuzzers found (at commits
//! 89d0abf..0a1e49b), each comment saying what was wrong and what fixed it; the others are
//! inputs where the check itself was wrong (a bound or an allowance it lacked).
//!
//! Literal inputs are bit patterns (f32, or f16/bf16 in the low 16 bits); `Debug` of a
//! [`Case`] prints them decoded, one per line. To turn a fuzz artifact into a literal: `XENT_CASE=fuzz/artifacts/<target>/crash-...
//! XENT_TARGET=<target> cargo test --test regressions -- --ignored --nocapture reproduce`.

mod check;

use check::{Case, Dtype, Family, Index, Lay, TARGETS, bits};
use xent::{CrossEntropyOptions, Layout, NllOptions, Reduction};

/// splitmix64, for the deterministic sweep.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Random byte strings through every target's decoder and the check: a few hundred cases
/// per target (a handful under Miri), sizes from empty to a few KiB.
#[test]
fn sweep_decoded_random_inputs() {
    let per_target = if cfg!(miri) { 3 } else { 200 };
    for (name, target) in TARGETS {
        let mut s = 0x5EED ^ name.len() as u64;
        for k in 0..per_target {
            let len = match k % 4 {
                0 => 16,
                1 => 64,
                2 => 300,
                _ => {
                    if cfg!(miri) {
                        400
                    } else {
                        3000
                    }
                }
            };
            let data: Vec<u8> = (0..len).map(|_| splitmix(&mut s) as u8).collect();
            let case = Case::decode(target, &data);
            check::run(&case);
        }
    }
}

/// Decodes the file named by `XENT_CASE` for the target named by `XENT_TARGET`, prints the
/// reproducer, and runs the check.
#[test]
#[ignore = "a tool: set XENT_CASE and XENT_TARGET"]
fn reproduce() {
    let path = std::env::var("XENT_CASE").expect("XENT_CASE=<fuzz artifact>");
    let name = std::env::var("XENT_TARGET").expect("XENT_TARGET=<fuzz target name>");
    let target = TARGETS.iter().find(|(n, _)| *n == name).map(|&(_, t)| t).expect("unknown target");
    let data = std::fs::read(path).unwrap();
    let case = Case::decode(target, &data);
    println!("{case:?}");
    check::run(&case);
}

/// A survey (a tool, not a test): runs `XENT_SURVEY` random cases per target, catching
/// failures, and prints one line per distinct failure kind with its count.
#[test]
#[ignore = "a tool: set XENT_SURVEY=<cases per target>"]
fn survey() {
    let n: usize = std::env::var("XENT_SURVEY").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let only: Option<(String, usize)> = std::env::var("XENT_SURVEY_ONLY").ok().map(|v| {
        let (a, b) = v.split_once(':').unwrap();
        (a.to_string(), b.parse().unwrap())
    });
    std::panic::set_hook(Box::new(|_| {}));
    check::QUIET.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut kinds: std::collections::BTreeMap<String, (usize, String)> = Default::default();
    for (name, target) in TARGETS {
        let t0 = std::time::Instant::now();
        let mut s = 0xABCD ^ name.len() as u64 ^ (name.as_bytes()[0] as u64) << 8;
        for k in 0..n {
            let len = [16, 64, 300, 3000][k % 4];
            let data: Vec<u8> = (0..len).map(|_| splitmix(&mut s) as u8).collect();
            let case = Case::decode(target, &data);
            if let Some((on, ok)) = &only {
                if on != name || *ok != k {
                    continue;
                }
                println!("{case:?}");
            }
            if std::env::var("XENT_SURVEY_SLOW").is_ok() {
                eprintln!("start {name} {k}");
            }
            if let Err(e) = std::panic::catch_unwind(|| check::run(&case)) {
                let msg = e.downcast_ref::<String>().cloned().unwrap_or_default();
                let first = msg.lines().next().unwrap_or("").to_string();
                let key: String = format!("{name}: {}", first.split(['[', ':']).next().unwrap_or(""));
                let e = kinds.entry(key).or_insert((0, format!("[{name}:{k}] {first}")));
                e.0 += 1;
            }
        }
        eprintln!("{name}: {n} cases in {:?}", t0.elapsed());
    }
    let _ = std::panic::take_hook();
    for (k, (c, first)) in &kinds {
        println!("{c:6} {k}\n        e.g. {first}");
    }
}

// ---------------------------------------------------------------------------------------
// Bugs the fuzzers found, fixed in src/ (named fixed_*; each comment says what was wrong)
// ---------------------------------------------------------------------------------------

/// The vector `exp` (`Vector::exp_core`, `simd/vector.rs`) scales by `2^n` with an integer
/// add of `bits(k) << 23`, where `k = t * log2(e) + 1.5 * 2^23`. For a NaN `t` whose payload
/// has any of its low 9 bits set, `k` is that NaN and the add moves those bits into the
/// result's sign and exponent: the "NaN in, NaN out" of `exp_le0` does not hold, and the
/// NaN becomes a finite number. Here a NaN logit with payload 1 is lost: the row's
/// log-sum-exp is finite (the x86 block maximum ignores NaN and relies on the exp to
/// propagate it).
#[test]
fn fixed_exp_of_nan_with_payload_is_finite_lse() {
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
    let o = CrossEntropyOptions::new().with_softcap(Some(1e-40));
    let x = [0.0_f32, 1.0];
    let fast = xent::cross_entropy(&x, Layout::unbatched(2), &[0_i64], &o).unwrap();
    let oracle: f64 = xent::scalar::cross_entropy(&x, Layout::unbatched(2), &[0_i64], &o).unwrap();
    assert!((f64::from(fast) - oracle).abs() < 1e-6, "simd {fast}, oracle {oracle}");
}

/// Fixed in fdb2075 (found by the `ext` target at 89d0abf): for `|x| / s` below about
/// 2^-25 the vector tanh (`(1 - e) / (1 + e)`, `e = exp(-2|y|)`; today `tanh_sech2`, with a
/// Taylor polynomial there) returned 0, so a soft-cap far above the logits mapped every
/// logit to 0 in the vector sums while the target logit was capped with libm's `tanhf`:
/// with `s = 1e22` the loss of `[100, 0]`, target 0, came out as about -99.3 and the
/// gradient as `expm1(99.3) = inf`.
#[test]
fn softcap_far_above_logits_zeroes_them() {
    let case = Case {
        logits: bits(&[100.0, 0.0]),
        targets: vec![0],
        softcap: Some(1e22_f32.to_bits()),
        ..Case::new(Family::Ce, Lay::Unbatched(2))
    }
    .sized();
    check::run(&case);
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
    let case = Case {
        logits: bits(&[f32::NEG_INFINITY]),
        soft: bits(&[1.0]),
        gamma: 0.0_f32.to_bits(),
        ..Case::new(Family::SigmoidFocal, Lay::Rows(1, 1))
    }
    .sized();
    check::run(&case);
}

// ---------------------------------------------------------------------------------------
// Inputs the fuzz targets found that were the check's fault (a bound that missed a
// documented or inherent f32 effect); they pass, and stay as tests.
// ---------------------------------------------------------------------------------------

/// `nll` target: a weighted mean with a subnormal class weight. `-w x` is subnormal in
/// f32 (3.57e-43 * 0.03125, relative error 0.4 percent), and dividing by `W = w` scales
/// that up: an f32 effect, the same in the scalar f32 twin (check: `subnormal_mean`). The
/// literal is the fuzz target's reproducer, pasted as printed.
#[test]
fn nll_mean_with_subnormal_weight() {
    let case = Case {
        family: Family::Nll,
        dtype: Dtype::F32,
        index: Index::U32,
        layout: Lay::Unbatched(2),
        logits: vec![0xbd000000 /* -0.03125 */, 0x41d0d000 /* 26.101563 */],
        targets: vec![0],
        soft: vec![],
        weight: Some(vec![0x000000ff /* 3.57e-43 */, 0x0b6d0e00 /* 4.5655072e-32 */]),
        pos_weight: None,
        ignore_index: -100,
        label_smoothing: 0x00000000, /* 0.0 */
        z_loss: 0x00000000,          /* 0.0 */
        softcap: None,
        gamma: 0x00000000, /* 0.0 */
        alpha: 0x00000000, /* 0.0 */
        reduction: Reduction::Mean,
        out_len: 1,
        grad_len: 2,
    };
    check::run(&case);
}

/// `focal` target: the same subnormal-weight mean for the softmax focal loss (gamma 0).
#[test]
fn softmax_focal_mean_with_subnormal_weight() {
    let case = Case {
        logits: bits(&[75.375, -78.753_91, 3.0, -11.0]),
        targets: vec![3],
        weight: Some(vec![0x3efc_0000, 0x414d_0000, 0x400b_0000, 0x0000_00f6]),
        gamma: 0,
        reduction: Reduction::Mean,
        ..Case::new(Family::SoftmaxFocal, Lay::Unbatched(4))
    }
    .sized();
    check::run(&case);
}

/// `bce_logits` target: a weight of 1e30 (and inf) with targets near 7e28 and pos_weight
/// near 7e28: `lw = 1 + (pw - 1) y` overflows f32, so single elements are infinite where
/// the oracle's are finite or of the other sign; their sum is NaN in f64 (+inf and -inf)
/// and +inf in f32 (check: a reduction over elements accepted only as f32 overflows may be
/// non-finite).
#[test]
fn bce_logits_overflowing_pos_weight_sum() {
    let case = Case {
        family: Family::BceLogits,
        dtype: Dtype::F32,
        index: Index::I64,
        layout: Lay::Unbatched(1),
        logits: vec![
            0x4140c000, 0x4140c000, 0x4140c000, 0x4140c000, 0x42dede00, 0x42dede00, 0x428a8a00, 0x428a8a00,
            0x428a8a00, 0x428a8a00, 0x428a8a00, 0x428a8a00, 0x00000000, 0x00000000, 0x00000000, 0x00000000,
            0x428aa000, 0x428aa000, 0x428aa000, 0x42df3000, 0x42dede00, 0x42dede00, 0x429ade00, 0x00000000,
            0x42dede00, 0x42dede00, 0x42dede00,
        ],
        targets: vec![],
        soft: vec![
            0x6f6ff76f, 0x6f6f6f6f, 0x6f6f6f6f, 0x6f6f6f6f, 0x0e00006f, 0x0000ffff, 0x00fbff0e, 0x0e0f2b80,
            0x0f2b0000, 0x6f6f6f6f, 0x6f6f6f6f, 0x6f6f6f6f, 0x6f6f6f6f, 0x6f6f6f6f, 0x1d6f6f6f, 0x9d9d9d9d,
            0x9d9d9d9d, 0x9d9d9d9d, 0x9d9d9d9d, 0x9d9d9d9d, 0x9d239d9d, 0x9d9d9d9d, 0x9d9d9d9d, 0x9d9d9d9d,
            0x9d9d9d9d, 0x9d9d9d9d, 0x9d9d9d9d,
        ],
        weight: Some(vec![
            0x7149f2ca, 0x7149f2ca, 0x7149f2ca, 0x7149f2ca, 0x7149f2ca, 0x7149f2ca, 0x7149f2ca, 0x7149f2ca,
            0x7149f2ca, 0x7f800000, 0x7f800000, 0x7f800000, 0x7f800000, 0x7f800000, 0x7f800000, 0xbf800000,
            0xbf800000, 0xbf800000, 0xbf800000, 0xbf800000, 0xbf800000, 0xbf800000, 0xbf800000, 0xbf800000,
            0xbf800000, 0xbf800000, 0xbf800000,
        ]),
        pos_weight: Some(vec![
            0x5e5e5e5e, 0x5e5e5e5e, 0x5e5e5e5e, 0x5e5e5e5e, 0x1d5e5e5e, 0x1d1d1d1d, 0x6f6f1d1d, 0x6f6f6f6f,
            0x6f6f6f6f, 0x6f6f6f6f, 0x6f6f6f6f, 0x6f6f6f6f, 0x6f6f6f6f, 0x6f6f6f6f, 0x6f6f6f6f, 0x6f6f6f6f,
            0x6f6f6fef, 0x6f6f6f6f, 0x6f6f6f6f, 0xc1c1b96f, 0xc1c1c1c1, 0x2cf1f1c1, 0x00000000, 0x00000000,
            0x00000000, 0x00000000, 0x00000000,
        ]),
        ignore_index: -100,
        label_smoothing: 0x00000000, /* 0.0 */
        z_loss: 0x00000000,          /* 0.0 */
        softcap: None,
        gamma: 0x00000000, /* 0.0 */
        alpha: 0x00000000, /* 0.0 */
        reduction: Reduction::Mean,
        out_len: 27,
        grad_len: 27,
    };
    check::run(&case);
}

/// `focal` target: a class weight of `f32::MAX` counted twice: the f32 mean's denominator
/// `W` overflows to inf (f64: 6.8e38), the f32 gradient `w / W` is 0 where the oracle's is
/// 0.5 (check: `denominator_error` is infinite when `Σ |w_y|` nears f32::MAX).
#[test]
fn softmax_focal_mean_denominator_overflows() {
    let case = Case {
        family: Family::SoftmaxFocal,
        dtype: Dtype::F32,
        index: Index::U8,
        layout: Lay::Rows(15, 3),
        logits: vec![
            0x00000000, 0x00000000, 0xc24cd000, 0x409ec000, 0xbe188000, 0xc1e80000, 0x00000000, 0x00000000,
            0xc24c0400, 0xc2868800, 0xc2868800, 0xc2868800, 0xc2868800, 0xc2868800, 0xc1460000, 0x00000000,
            0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000,
            0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0xc20c0000, 0xbb800000, 0x00000000,
            0x00000000, 0x00000000, 0x00000000, 0xc2861800, 0x00000000, 0x00000000, 0xc130c000, 0x00000000,
            0xc20b3000, 0xc0a80000, 0xc0a80000, 0xc0a80000, 0x00000000,
        ],
        targets: vec![0, 2, 255, 255, 255, 255, 0, 0, 2, 255, 255, 1, 255, 255, 1],
        soft: vec![],
        weight: Some(vec![0xc03c0000, 0xc0460000, 0x7f7fffff]),
        pos_weight: None,
        ignore_index: 255,
        label_smoothing: 0x00000000, /* 0.0 */
        z_loss: 0x00000000,          /* 0.0 */
        softcap: None,
        gamma: 0x40400000, /* 3.0 */
        alpha: 0x00000000, /* 0.0 */
        reduction: Reduction::Mean,
        out_len: 15,
        grad_len: 45,
    };
    check::run(&case);
}

/// `nll` target: a sum of subnormal losses (`-w x` with subnormal products), each rounded
/// by up to 2^-150: five subnormal steps off after 23 positions (check: `subnormal_mean`
/// for sums too).
#[test]
fn nll_sum_of_subnormal_losses() {
    let case = Case {
        family: Family::Nll,
        dtype: Dtype::F32,
        index: Index::I64,
        layout: Lay::Rows(23, 5),
        logits: vec![
            0x4245b800, 0x42c01600, 0x41140000, 0x41140000, 0x42949400, 0x429c9400, 0x41c8c800, 0x41c8c800,
            0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800,
            0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800,
            0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800,
            0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800,
            0x41c8c800, 0x41c8c800, 0x42c01600, 0x41140000, 0x41140000, 0x42949400, 0x429c9400, 0x41c8c800,
            0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800,
            0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800,
            0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800,
            0x41c8c800, 0x41cff800, 0x41c8c800, 0x41d8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800,
            0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800,
            0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800,
            0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41219000, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800,
            0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800, 0x41c8c800,
            0x41c8c800, 0x41c8c800, 0x41c8c800,
        ],
        targets: vec![0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 2, 0, 3, 0, 0, 0],
        soft: vec![],
        weight: Some(vec![0x000000bf, 0x00000000, 0x00000000, 0x00000000, 0x00000000]),
        pos_weight: None,
        ignore_index: -100,
        label_smoothing: 0x00000000, /* 0.0 */
        z_loss: 0x00000000,          /* 0.0 */
        softcap: None,
        gamma: 0x00000000, /* 0.0 */
        alpha: 0x00000000, /* 0.0 */
        reduction: Reduction::Sum,
        out_len: 23,
        grad_len: 115,
    };
    check::run(&case);
}

/// `ce_class` target: an infinite target weight (`-inf`) and a probability below 1.2e-38.
/// The gradient `a p_j` with `a = w_y = -inf` is `-inf * 0 = NaN` after the documented
/// flush of tiny exps to 0, where the oracle's 2.9e-40 gives `-inf` (check: `flushed`).
#[test]
fn ce_infinite_weight_times_flushed_probability() {
    let case = Case {
        index: Index::I32,
        logits: bits(&[91.0, 0.011_718_75]),
        targets: vec![0],
        weight: Some(bits(&[f32::NEG_INFINITY, 0.328_125])),
        ..Case::new(Family::Ce, Lay::Unbatched(2))
    }
    .sized();
    check::run(&case);
}

/// `ce_probs` target (at 840cae1): label smoothing 1e-40 over 15 classes makes every
/// smoothed target `t' = eps / C = 6.7e-42` subnormal in f32 (PyTorch's f32 kernel too), so
/// its rounding is absolute (2^-150), and a class weight of 1e30 carries it into a normal
/// `w t'`: both paths' f32 loss is 1.80518e-11 against 1.805357e-11 in f64. The check (and
/// the docs' bound) counted absolute roundings only for a subnormal `w t'`; now also for a
/// subnormal `t'` times `|w|`.
#[test]
fn probs_subnormal_smoothed_target_times_huge_weight() {
    let c = 15;
    let mut w = vec![0x3e80_0000u32; c];
    w[..5].fill(0x413b_0000);
    w[5] = 0;
    w[6] = 0x4009_8000;
    w[8] = 0x3f52_0000;
    w[9] = 0x7149_f2ca;
    let case = Case {
        index: Index::U32,
        logits: vec![0; c],
        soft: vec![0; c],
        weight: Some(w),
        label_smoothing: 0x0001_16c2,
        reduction: Reduction::Mean,
        ..Case::new(Family::Probs, Lay::Unbatched(c))
    }
    .sized();
    check::run(&case);
}

/// `half` target (at 2a1a8cf): a soft-capped row of 4020 logits, one `+inf` (capped to 12)
/// and the rest near 0. Capped rows ran an online kernel whose per-lane sums ran the whole
/// row: about 500 terms of `exp(-12) = 6e-6` (SSE2) added to a lane's running sum of 1, all
/// rounding the same way, put `cross_entropy_with_lse`'s LSE 1.3e-5 off against a bound of
/// 5.4e-6. Fixed in `simd/kernels.rs`: capped rows go through the blocked kernel
/// (`row_sums_blocked`, capped a stack block at a time), whose lanes restart every block.
/// The check's `M` for this row also was that of the raw finite logits (0.625), not of the
/// capped ones (12, the capped `+inf`), as the docs define it; this test passes with either.
#[test]
#[cfg_attr(miri, ignore = "numerics at sizes Miri would take minutes over; no new unsafe or UB surface")]
fn fixed_long_capped_row_lse_bound() {
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
/// `log1p(-p) = -1e-45` gives `-inf` (and the f64 oracle). Fixed in `simd/kernels.rs`
/// (`log1m_fix`: `ln(u)` plus what rounding `u = 1 - p` lost, without a division).
#[test]
fn fixed_bce_log1p_of_tiny_probability() {
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

/// `bce_logits` target (at 097e37b): `x = 84.3`, `y = 1`, an infinite weight and
/// `pos_weight = -7e-6`. The gradient `w ((pw y + 1 - y) sigmoid(x) - pw y)` is `inf` times
/// a difference that is exactly 0 in f64 and -8e-9 in f32 (PyTorch's order of rounding):
/// `inf` against the oracle's NaN. Not a bug; the check now knows neither sign nor zero
/// of such a difference.
#[test]
fn bce_logits_infinite_weight_times_rounded_difference() {
    let case = Case {
        logits: bits(&[84.328_125, 0.5]),
        soft: bits(&[1.0, 1.0]),
        weight: Some(bits(&[f32::INFINITY, 1.0])),
        pos_weight: Some(bits(&[-7.001_091e-6])),
        reduction: Reduction::Sum,
        ..Case::new(Family::BceLogits, Lay::Unbatched(2))
    }
    .sized();
    check::run(&case);
}

/// `half` target (at 097e37b): probability targets of -0.146 (PyTorch does not validate
/// them) with label smoothing 0.227: `t' = (1 - eps) t + eps / C` = 5.7e-4 is the
/// difference of two values near 0.11, so its f32 rounding (shared by both f32 paths) is
/// large relative to `t'`, and the loss `58 t'` erred by 1.1e-7 against a bound of 7.9e-8.
/// Not a bug; the documented bound (crate docs, "Precision") now counts the rounding of `t'`
/// relative to its parts.
#[test]
fn probs_smoothed_negative_targets_cancel() {
    let case = Case {
        dtype: Dtype::F16,
        logits: vec![0x5340, 0x0000],
        soft: vec![0xb0b0, 0xb0b0],
        label_smoothing: 0x3e68_e8e9,
        reduction: Reduction::Mean,
        ..Case::new(Family::Probs, Lay::Rows(1, 2))
    }
    .sized();
    check::run(&case);
}

/// `half` target (at bdc5caf): a weighted mean whose only target has weight 0, so the
/// cross-entropy part is `numerator / 0`; label smoothing with a weight of -2.3e18 makes
/// the numerator (1.5 in f64) the difference of two values near 1.9e20, so its f32 value
/// (and the mean's sign, or NaN for 0 / 0) is unknown: NaN where the oracle has `+inf`.
/// Not a bug (the documented smoothing bound is 1.6e12 here); the check now has no bound
/// for such zero denominators.
#[test]
fn ce_zero_weight_mean_of_cancelling_smoothing() {
    let case = Case {
        dtype: Dtype::F16,
        index: Index::U32,
        logits: vec![0x55c0, 0, 0, 0, 0, 0, 0],
        targets: vec![5],
        weight: Some(vec![0xde00_3b30, 0x3bde_23d1, 0x3f3b_3bdd, 0x0040_d5de, 0, 0, 0]),
        label_smoothing: 0x3e2c_acad,
        z_loss: 0x7149_f2ca,
        softcap: Some(0x431a_9a42),
        reduction: Reduction::Mean,
        ..Case::new(Family::Ce, Lay::Rows(1, 7))
    }
    .sized();
    check::run(&case);
}

/// `ext` target (at bdc5caf): soft-cap 6.14, label smoothing 1 and a `-inf` class weight
/// (so the gradient's coefficient is `-inf`); logit -54.36 has `y = x / s = -8.86`, where
/// `tanh` rounds to -1 in f32 and the chain factor `1 - th * th` cancelled to 0: the
/// gradient was `-inf * 0 = NaN` where the oracle's `1 - tanh^2 = 8e-8` gives `-inf`.
/// Fixed in `simd/vector.rs` (`tanh_sech2`: `4e / (1 + e)^2`, no cancellation) and the
/// scalar twin (`sech2`).
#[test]
fn fixed_softcap_chain_factor_cancelled() {
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
/// the oracle gives -0.3114 (both channel-first and rows). Fixed in `simd/kernels.rs`
/// (`target_slot` takes `tanh` from the raw logit, read before the row is overwritten).
#[test]
fn fixed_subnormal_softcap_target_gradient() {
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

/// `focal` target (at 01d2095): `softmax_focal_loss` (gamma 0) with a `-inf` target weight
/// and a logit 89 below the row's maximum: its probability (1.6e-39) is below the documented
/// flush of the vector exp, so its gradient `-inf * 0` is NaN where the oracle's is `-inf`.
/// Not a bug (the same as `ce_infinite_weight_times_flushed_probability`); the check
/// lacked that allowance for the focal gradient.
#[test]
fn focal_infinite_weight_times_flushed_probability() {
    let case = Case {
        index: Index::U32,
        logits: bits(&[0.0, 0.0, -0.125, 0.0, 0.0, 0.0, -89.445_31]),
        targets: vec![0],
        weight: Some(bits(&[f32::NEG_INFINITY, 2.242_187_5, 0.25, 1.0, 0.0, 0.882_812_5, 0.882_812_5])),
        gamma: 0,
        reduction: Reduction::Sum,
        ..Case::new(Family::SoftmaxFocal, Lay::Unbatched(7))
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
/// Fixed in `simd/kernels.rs` (`cap_s` runs the vector `cap_v`) and `Engine::cap` (the
/// backward caps a target logit as its engine's forward does).
#[test]
fn fixed_softcap_near_f32_max_gradient_inf() {
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

/// `ce_class` target (with the check of 0a1e49b's stash): the f32 mean's weight total
/// overflows (two weights near `f32::MAX`), so the f32 gradient `w / W` is 0 where the
/// oracle's is -0.15 (check: `denominator_error` is infinite when `Σ |w_y|` nears
/// f32::MAX).
#[test]
fn ce_mean_denominator_overflows() {
    let case = Case {
        family: Family::Ce,
        dtype: Dtype::F32,
        index: Index::I64,
        layout: Lay::ChannelFirst(4, 9, 1),
        logits: vec![
            0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000,
            0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000,
            0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000,
            0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000,
            0x00000000, 0x00000000, 0x00000000, 0x00000000,
        ],
        targets: vec![0, 0, 0, 0],
        soft: vec![],
        weight: Some(vec![
            0xff3aff1d, 0x00dfffff, 0x00000000, 0x00000800, 0x00000000, 0x00000000, 0x00000000, 0x00000000,
            0x00000000,
        ]),
        pos_weight: None,
        ignore_index: 6510615555426942975,
        label_smoothing: 0x3eb4b4b5, /* 0.3529412 */
        z_loss: 0x00000000,          /* 0.0 */
        softcap: None,
        gamma: 0x00000000, /* 0.0 */
        alpha: 0x00000000, /* 0.0 */
        reduction: Reduction::Mean,
        out_len: 4,
        grad_len: 36,
    };
    check::run(&case);
}

/// `ce_probs` target: soft targets near 1e36 make `Σ w t'` overflow f32 in the SIMD
/// lanes' partial sums (order-dependent) though the oracle's gradient, 1.5e36, is finite
/// (check: a gradient may be non-finite when `Σ |w t'|` nears f32::MAX).
#[test]
fn probs_partial_sums_overflow() {
    let case = Case {
        family: Family::Probs,
        dtype: Dtype::F32,
        index: Index::I64,
        layout: Lay::Rows(15, 6),
        logits: vec![
            0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000,
            0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000,
            0x00000000, 0x41c7f800, 0xc11e0000, 0xbe000000, 0xbb800000, 0xbb800000, 0xbb800000, 0xbb800000,
            0xbb800000, 0xbb800000, 0xbb800000, 0xbb800000, 0xbb800000, 0xbb800000, 0xbb800000, 0xbb800000,
            0xbb800000, 0xbb800000, 0xbb800000, 0xbb800000, 0xbb800000, 0xbb800000, 0xbb800000, 0xbb800000,
            0xbb800000, 0xbb800000, 0xbb800000, 0xbb800000, 0xbb800000, 0xbb800000, 0x3f7f0000, 0x00000000,
            0x00000000, 0xbf800000, 0x42e43000, 0x42e43000, 0xbe000000, 0xbb800000, 0xbb800000, 0x413ff000,
            0xbb800000, 0x4223fc00, 0xbb800000, 0xbb800000, 0xbb800000, 0xbb800000, 0x00000000, 0x00000000,
            0x41c0a000, 0xc11e0000, 0xbe000000, 0xc1b8c000, 0xc1b8c000, 0xc1b8c000, 0xc1b8c000, 0xc1b8c000,
            0xc1b8c000, 0xc1b8c000, 0xc1b8c000, 0xc1b8c000, 0xc1b8c000, 0xc1b8c000, 0xc1b8c000, 0xc1b8c000,
            0xc1b8c000, 0xc1b8c000, 0xc1b8c000, 0x419a1800, 0x419a1800, 0x3fa18000, 0x00000000, 0x3f6a0000,
            0x4122a000, 0xc1a8b000,
        ],
        targets: vec![],
        soft: vec![
            0x00000000, 0xeaea3ff6, 0x33800000, 0x3f7ffffe, 0x3d989899, 0x0008c3ab, 0x80000000, 0x3f800000,
            0x3e856285, 0x3f7fffff, 0xba800000, 0xba800000, 0xba800000, 0xba800000, 0xba800000, 0xba800000,
            0xba800000, 0xba800000, 0xba800000, 0xba800000, 0xba800000, 0xba800000, 0xba800000, 0xba800000,
            0xba800000, 0xba800000, 0xba800000, 0xba800000, 0xba800000, 0xba800000, 0xba800000, 0xba800000,
            0xba800000, 0xba800000, 0xba800000, 0xba800000, 0xba800000, 0xba800000, 0xba800000, 0xba800000,
            0xba800000, 0xba800000, 0xba800000, 0xba800000, 0xfe7e7e28, 0x41f3fe00, 0x7e7e7e7e, 0x7e7e7e7e,
            0x7e7e7e7e, 0x7e7e7e7e, 0x7e7e7e7e, 0x7e7e7e7e, 0x7e7e7e7e, 0x7e7e6e7e, 0x7e7e7e85, 0xe8e87e7e,
            0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000,
            0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000,
            0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000,
            0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000,
            0x3f800000, 0x3f800000,
        ],
        weight: Some(vec![0x40040000, 0x40040000, 0x40040000, 0x40040000, 0x40040000, 0x40040000]),
        pos_weight: None,
        ignore_index: -100,
        label_smoothing: 0x00000000, /* 0.0 */
        z_loss: 0x00000000,          /* 0.0 */
        softcap: None,
        gamma: 0x00000000, /* 0.0 */
        alpha: 0x00000000, /* 0.0 */
        reduction: Reduction::Mean,
        out_len: 15,
        grad_len: 90,
    };
    check::run(&case);
}

/// `ext` target: an infinite coefficient `a` (an infinite weight) times a probability the
/// documented flush made 0: NaN where the oracle has an infinity (check: `flushed`).
#[test]
fn ce_infinite_coefficient_times_flushed_probability() {
    let case = Case {
        family: Family::Ce,
        dtype: Dtype::F32,
        index: Index::I64,
        layout: Lay::Unbatched(8),
        logits: vec![
            0x427fe400, 0x427fe400, 0x422a7800, 0xc270f400, 0xc1d8e000, 0x41eff800, 0x40680000, 0x3d300000,
        ],
        targets: vec![0],
        soft: vec![],
        weight: Some(vec![
            0x7f800000, 0x7f800000, 0x7f800000, 0x7f800000, 0x7f800000, 0x7f800000, 0x7f800000, 0x7f800000,
        ]),
        pos_weight: None,
        ignore_index: -100,
        label_smoothing: 0x00000000, /* 0.0 */
        z_loss: 0x38d1b717,          /* 0.0001 */
        softcap: None,
        gamma: 0x00000000, /* 0.0 */
        alpha: 0x00000000, /* 0.0 */
        reduction: Reduction::Sum,
        out_len: 1,
        grad_len: 8,
    };
    check::run(&case);
}

/// `focal` target: sigmoid focal with `x = -103.9` and the target `-1.4e-45` (outside
/// [0, 1]): `1 - p_t = p (1 - y) + q y` is -7e-46 in f64 but `p` underflows to 0 in f32,
/// so the f32 paths see -1.4e-45 and their `powf` gives -0 where the oracle's is NaN
/// (check: `underflow`, `1 - p_t` below f32's normal range with y outside [0, 1]).
#[test]
fn sigmoid_focal_one_minus_pt_underflows() {
    let case = Case {
        family: Family::SigmoidFocal,
        dtype: Dtype::F32,
        index: Index::U8,
        layout: Lay::ChannelFirst(80, 1, 1),
        logits: vec![
            0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000,
            0x00000000, 0xc137a000, 0xc130c000, 0xbe300000, 0x3e300000, 0xbe300000, 0xc2e7ba00, 0x0008c3ab,
            0x806ce3ee, 0x806ce3ee, 0x806ce3ee, 0x4e8d4e4e, 0xfe4e4e4e, 0x408c0000, 0x429c9c00, 0xff4e4e4e,
            0x7f4e4e4e, 0xff4e4e4e, 0x7f4e4e4e, 0xff4e4e4e, 0x7f4e4e4e, 0xff4e4e4e, 0x7f4e4e4e, 0xff4e4e4e,
            0x7f4e4e4e, 0xff4e4e4e, 0x7f4e4e4e, 0xff4e4e4e, 0x7f4e4e4e, 0xff4e4e4e, 0x7f4e4e4e, 0xff4e4e4e,
            0x00000000, 0x80000000, 0x00000000, 0x80000000, 0x00000000, 0x4e4e4e4e, 0xfffffd4e, 0x7ffffd4e,
            0x7ffffd4e, 0x427c2c00, 0x00000000, 0x00000000, 0x00000000, 0x42c52a00, 0xc2cfcccd, 0x3fa68000,
            0x3f660000, 0x41600000, 0x00800000, 0x4285a200, 0x4285a200, 0x41020000, 0x41020000, 0x00000000,
            0x42dada00, 0xff800000, 0xff800000, 0xff800000, 0xff800000, 0xff800000, 0xff800000, 0xff800000,
            0xff800000, 0xff800000, 0xff800000, 0xff800000, 0xff800000, 0xff800000, 0xff800000, 0xff800000,
        ],
        targets: vec![],
        soft: vec![
            0x80000001, 0x80000001, 0x80000001, 0x80000001, 0x80000001, 0x80000001, 0x40000000, 0xba800000,
            0xba800000, 0xba800000, 0xba800000, 0x3f068687, 0x3f068687, 0x3e9c9c9d, 0x4e4e4e4e, 0x2e4e4e4e,
            0x4e4e4e4e, 0xffffffff, 0xba800000, 0xba800000, 0xba800000, 0xba800000, 0xba800000, 0xba800000,
            0xc0601000, 0x3f800000, 0x3b6600e6, 0x3d6000e0, 0x00000001, 0x3e85a286, 0x3f800000, 0x3e2504a5,
            0x3f7ffffe, 0x80000001, 0x80000001, 0x80000001, 0x80000001, 0x80000001, 0x80000001, 0x80000001,
            0x80000001, 0x80000001, 0x80000001, 0x80000001, 0x80000001, 0x80000001, 0x80000001, 0x80000001,
            0x80000001, 0x80000001, 0x80000001, 0x80000001, 0x80000001, 0x80000001, 0x80000001, 0x80000001,
            0xba800000, 0xba800000, 0xba800000, 0xba800000, 0xc1f40000, 0x3f068687, 0xba800000, 0xba800000,
            0xc1e4e600, 0x80000001, 0x80000001, 0x80000001, 0x80000001, 0x80000001, 0x80000001, 0x80000001,
            0x80000001, 0x40000000, 0x00000000, 0xba800000, 0x419dfe00, 0x4e4e4e4e, 0x17c94e4e, 0x00000000,
        ],
        weight: None,
        pos_weight: None,
        ignore_index: 255,
        label_smoothing: 0x00000000, /* 0.0 */
        z_loss: 0x00000000,          /* 0.0 */
        softcap: None,
        gamma: 0x40d69697, /* 6.7058825 */
        alpha: 0x3f2babac, /* 0.67058825 */
        reduction: Reduction::Sum,
        out_len: 80,
        grad_len: 80,
    };
    check::run(&case);
}

/// `bce_logits` target: element losses near f32::MAX whose SIMD lane sums overflow to
/// `+inf` and `-inf` (NaN), where the oracle's total is `+inf` (check: reductions accept a
/// non-finite value when `Σ |l_i|` nears f32::MAX).
#[test]
fn bce_logits_lane_sums_overflow() {
    let case = Case {
        family: Family::BceLogits,
        dtype: Dtype::F32,
        index: Index::I64,
        layout: Lay::Unbatched(1),
        logits: vec![
            0x4140c000, 0x4140c000, 0x4140c000, 0x4140c000, 0x42dede00, 0x42dede00, 0x428a8a00, 0x428a8a00,
            0x428a8a00, 0x428a8a00, 0x428a8a00, 0x428a8a00, 0x00000000, 0x00000000, 0x00000000, 0x00000000,
            0x42a1fc00, 0x42a1fc00, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000,
            0x00000000, 0x00000000, 0x00000000,
        ],
        targets: vec![],
        soft: vec![
            0x3f000000, 0x3f000000, 0x3f800000, 0x3f1d9d9e, 0x3f1d9d9e, 0x3f1d9d9e, 0x3f1d9d9e, 0x3f1d9d9e,
            0x3f1d9d9e, 0x3f1d9d9e, 0x3e0e748e, 0x3f1d9d9e, 0x3f1d9d9e, 0x3f1d9d9e, 0x3f1d9d9e, 0x3f1d9d9e,
            0x3f1d9d9e, 0x3f1d9d9e, 0x3f1d9d9e, 0x3f1d9d9e, 0x3f1d9d9e, 0x3f1d9d9e, 0x3f1d9d9e, 0x3f1d939e,
            0x3f1d9d9e, 0x3f1d9d9e, 0x3de8e8e9,
        ],
        weight: Some(vec![
            0x7f800000, 0x7f800000, 0x7f800000, 0xbf800000, 0xbf800000, 0xbf800000, 0xbf800000, 0xbf800000,
            0xbf800000, 0xbf800000, 0xbf800000, 0xbf800000, 0xbf800000, 0xbf800000, 0xbf800000, 0xbf800000,
            0xbf800000, 0xbf800000, 0xbf800000, 0xbf800000, 0xbf800000, 0xbf800000, 0xbf800000, 0xbf800000,
            0xbf800000, 0x7f800000, 0x7f800000,
        ]),
        pos_weight: Some(vec![
            0x7f800000, 0x00000000, 0x6f6f6f6f, 0x6f6f6f6f, 0x6f6f6f6f, 0x6f6f6f6f, 0x6f6f6f6f, 0x6f6f6f6f,
            0x6f6f6f6f, 0x6f6f6f6f, 0x6f6f6f6f, 0x6f6f6f6f, 0x7f7fffff, 0x7f7fffff, 0x7f7fffff, 0x7f7fffff,
            0x40088000, 0x80000000, 0x3e800000, 0x3e800000, 0x3e800000, 0x3e800000, 0x3e800000, 0x3e800000,
            0x3e800000, 0x3e800000, 0x3e800000,
        ]),
        ignore_index: -100,
        label_smoothing: 0x00000000, /* 0.0 */
        z_loss: 0x00000000,          /* 0.0 */
        softcap: None,
        gamma: 0x00000000, /* 0.0 */
        alpha: 0x00000000, /* 0.0 */
        reduction: Reduction::Mean,
        out_len: 27,
        grad_len: 27,
    };
    check::run(&case);
}

/// `ce_class` target: one class with a weight of -2.5e38 and smoothing 0.1, `Sum`: the
/// gradient `eps w - eps w` is 0 exactly, but f32 rounds the two terms (about 2.5e37 each)
/// apart by 5e30; within the gradient bound, which scales with the largest coefficient
/// (the check no longer applies the mean's denominator error to a sum: `0 * inf` made
/// its bound NaN).
#[test]
fn ce_huge_weight_single_class_sum() {
    let case = Case {
        family: Family::Ce,
        dtype: Dtype::F32,
        index: Index::U32,
        layout: Lay::Unbatched(1),
        logits: vec![0x0000ffff /* 9.1834e-41 */],
        targets: vec![0],
        soft: vec![],
        weight: Some(vec![0xff3e2280 /* -2.5273245e38 */]),
        pos_weight: None,
        ignore_index: -100,
        label_smoothing: 0x3dcccccd, /* 0.1 */
        z_loss: 0x00000000,          /* 0.0 */
        softcap: None,
        gamma: 0x00000000, /* 0.0 */
        alpha: 0x00000000, /* 0.0 */
        reduction: Reduction::Sum,
        out_len: 1,
        grad_len: 1,
    };
    check::run(&case);
}

/// Long runs of equal small terms after one large logit, the shape where every rounding of
/// a lane's running sum shares a sign: `[a, 0, 0, ...]` with `exp(-a)` a few ulps of 1 or
/// about `1 / C`, plain and soft-capped (the `+inf` variant caps to `s`), f32 and f16, rows
/// up to 3 blocks long, through the whole check (every class-index entry point).
#[test]
#[cfg_attr(miri, ignore = "numerics at sizes Miri would take minutes over; no new unsafe or UB surface")]
fn long_runs_of_equal_terms_within_lse_bound() {
    let sizes: &[usize] = &[200, 1023, 1025, 4020];
    for &c in sizes {
        for a in [5.0f32, (c as f32).ln(), 12.0, 15.9] {
            for (big, cap) in [(a, None), (f32::INFINITY, Some(a)), (a, Some(4.0 * a))] {
                for dtype in [Dtype::F32, Dtype::F16] {
                    let enc = |v: f32| dtype.bits(v);
                    let mut x = vec![enc(0.0); c];
                    x[c / 3] = enc(big);
                    let case = Case {
                        dtype,
                        logits: x,
                        targets: vec![0],
                        softcap: cap.map(f32::to_bits),
                        ..Case::new(Family::Ce, Lay::Unbatched(c))
                    }
                    .sized();
                    check::run(&case);
                }
            }
        }
    }
}

/// The row kernel takes a block's exps relative to the running maximum and tracks the
/// block's own on the way (one sweep a block); a block whose maximum passes the running
/// one by more than 4 is swept again, and a smaller rise rescales the row's sum after the
/// block is added. Rows of several blocks whose maximum climbs slowly (every block within
/// the slack), jumps (past it), falls, spikes late to a finite value or `+inf`, holds a
/// late NaN, or starts with a block of `-inf`; f32 (1024-value blocks) and f16 (256),
/// with and without label smoothing and weights, through every class-index entry point,
/// the log-sum-exp family and `score_into` (the rank rides in the same sweep).
#[test]
#[cfg_attr(miri, ignore = "numerics at sizes Miri would take minutes over; no new unsafe or UB surface")]
fn block_maximum_climbs_jumps_and_falls() {
    let c = 5000;
    let noise = |i: usize| ((i as f32) * 0.37).sin();
    let patterns: Vec<(&str, Vec<f32>)> = vec![
        ("climb", (0..c).map(|i| 0.5 * (i / 256) as f32 + noise(i)).collect()),
        ("jump", (0..c).map(|i| 9.0 * (i / 700) as f32 + noise(i)).collect()),
        ("fall", (0..c).map(|i| -0.01 * i as f32 + noise(i)).collect()),
        ("late spike", (0..c).map(|i| if i == 3000 { 30.0 } else { noise(i) }).collect()),
        ("late +inf", (0..c).map(|i| if i == 3000 { f32::INFINITY } else { noise(i) }).collect()),
        ("late NaN", (0..c).map(|i| if i == 3500 { f32::NAN } else { noise(i) }).collect()),
        ("-inf block first", (0..c).map(|i| if i < 1100 { f32::NEG_INFINITY } else { noise(i) }).collect()),
    ];
    for (name, x) in &patterns {
        for dtype in [Dtype::F32, Dtype::F16] {
            let enc = |v: f32| dtype.bits(v);
            // Two rows: the pattern and its reverse.
            let mut logits: Vec<u32> = x.iter().map(|&v| enc(v)).collect();
            logits.extend(x.iter().rev().map(|&v| enc(v)));
            for (family, ls, weighted) in [
                (Family::Ce, 0.0f32, false),
                (Family::Ce, 0.1, true),
                (Family::Lse, 0.0, false),
                (Family::Score, 0.0, false),
            ] {
                let case = Case {
                    dtype,
                    logits: logits.clone(),
                    targets: vec![1, 4000],
                    weight: weighted
                        .then(|| (0..c).map(|j| (0.5 + (j % 7) as f32 * 0.25).to_bits()).collect()),
                    label_smoothing: ls.to_bits(),
                    ..Case::new(family, Lay::Rows(2, c))
                }
                .sized();
                eprintln!("{name} {dtype:?} {family:?} ls={ls}");
                check::run(&case);
            }
        }
    }
}

/// Label smoothing over rows of logits near `±2e38` whose spread is small (a hundred
/// steps of `2^104`, so `Σ (x - max)` is far inside f32): the loss is finite. The 8-lane
/// and 4-lane builds take that sum in the maximum's read as `(x0 + x1) + (x2 + x3) - 4 max`,
/// whose raw sums overflow here; the kernel must notice and take the block again one
/// subtraction per value. Rows of 2500 (three blocks, the first summed in the exp sweep).
#[test]
#[cfg_attr(miri, ignore = "numerics at sizes Miri would take minutes over; no new unsafe or UB surface")]
fn smoothing_sum_of_logits_near_f32_max() {
    let c = 2500;
    let step = 2f32.powi(104);
    let mut logits = Vec::new();
    for sign in [1.0f32, -1.0] {
        logits.extend((0..c).map(|j| (sign * (2e38 + (j % 100) as f32 * step)).to_bits()));
    }
    for weighted in [false, true] {
        let case = Case {
            logits: logits.clone(),
            targets: vec![7, 2000],
            weight: weighted.then(|| (0..c).map(|j| (0.5 + (j % 3) as f32 * 0.25).to_bits()).collect()),
            label_smoothing: 0.1f32.to_bits(),
            ..Case::new(Family::Ce, Lay::Rows(2, c))
        }
        .sized();
        check::run(&case);
    }
}

/// `ext` target (at 1af5baf, x86-64-v4 build): a z-loss of `1.1e-42` (subnormal) on a row
/// whose LSE is 61.8, every weight 0, so the per-position loss is the z-loss term alone,
/// `4.19e-39` (subnormal). It was `(z * lse) * lse`: `z * lse` rounded in the subnormal
/// range (absolute `2^-150`, relative 1e-5 there), then multiplied by `lse`: 3.8e-44 off,
/// six times the bound (SIMD and scalar f32 alike). Fixed in `loss/class.rs`:
/// `z * (lse * lse)`, one rounding into the subnormal range.
#[test]
fn fixed_subnormal_z_loss_product_order() {
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
