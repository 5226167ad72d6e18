//! Regression tests from fuzzing (`fuzz/`): inputs the fuzz targets found, minimised by
//! hand into literal [`Case`]s run through the shared differential check
//! (`tests/check/mod.rs`), and a deterministic sweep of decoded random inputs through every
//! fuzz target's decoder.
//!
//! The tests named `known_bug_*` fail until the bug they describe is fixed in `src/` (they
//! run the check with [`check::run_strict`], which makes no allowance for them, or assert
//! directly); the fuzz targets step around those bugs meanwhile
//! (`check::AVOID_KNOWN_BUGS_DEFAULT`). Found at commits 89d0abf..f9de2e1. The platform
//! scripts (`.ci/aarch64.sh`, `.ci/miri.sh`, `.ci/x86-v3.sh`) skip them unless
//! `XENT_KNOWN_BUGS=run`; a plain `cargo test` runs them.
//!
//! To turn a fuzz artifact into a literal: `XENT_CASE=fuzz/artifacts/<target>/crash-...
//! XENT_TARGET=<target> cargo test --test regressions -- --ignored --nocapture reproduce`.

mod check;

use check::{Case, Dtype, Family, Index, Lay, TARGETS, bits};
use xent::{CrossEntropyOptions, Layout, Reduction};

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
    check::run_strict(&case);
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
/// 2^-25 the vector `tanh_e` (`(1 - e) / (1 + e)`, `e = exp(-2|y|)`) returned 0, so a
/// soft-cap far above the logits mapped every logit to 0 in the vector sums while the
/// target logit was capped with libm's `tanhf`: with `s = 1e22` the loss of `[100, 0]`,
/// target 0, came out as about -99.3 and the gradient as `expm1(99.3) = inf`.
#[test]
fn softcap_far_above_logits_zeroes_them() {
    let case = Case {
        logits: bits(&[100.0, 0.0]),
        targets: vec![0],
        softcap: Some(1e22_f32.to_bits()),
        ..Case::new(Family::Ce, Lay::Unbatched(2))
    }
    .sized();
    check::run_strict(&case);
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
    check::run_strict(&case);
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
    check::run_strict(&case);
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
    check::run_strict(&case);
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
    check::run_strict(&case);
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
    check::run_strict(&case);
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
