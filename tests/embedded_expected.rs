//! The expected values of the Cortex-M4F harness (`embedded/`) come from here.
//!
//! `embedded/src/expected.rs` holds constants that the harness checks xent's results on the
//! emulated board against. This test recomputes every one of them on the host with the
//! f64 scalar reference path (`xent::scalar::*::<f64, ..>`), on the same inputs
//! (`embedded/src/problem.rs`, imported below), and fails unless the stored constants match
//! to 1e-7 relative (counts and flags exactly). To regenerate the file after changing the
//! problem (or the reference path):
//!
//! ```text
//! XENT_WRITE_EXPECTED=1 cargo test --test embedded_expected
//! cargo test --test embedded_expected        # then check the written file
//! ```

#[allow(dead_code)]
#[path = "../embedded/src/problem.rs"]
mod problem;

#[allow(dead_code, clippy::unreadable_literal)]
#[path = "../embedded/src/expected.rs"]
mod expected;

use std::fmt::Write as _;

use problem::*;
use xent::scalar;
use xent::{
    BceOptions, BceWithLogitsOptions, CrossEntropyOptions, Layout, ProbsOptions, Score, SigmoidFocalOptions,
    SoftmaxFocalOptions, f16,
};

/// The stored constants must equal the recomputed ones to this relative tolerance.
const REL: f64 = 1e-7;

/// Every expected value of the harness, in the order of `embedded/src/expected.rs`.
struct Expected {
    ce_mean: f64,
    ce_grad_loss: f64,
    ce_grad: [f64; 6],
    f16_inplace_loss: f64,
    f16_inplace_grad: [f64; 6],
    ce_smoothing: f64,
    probs: f64,
    nll: f64,
    bce: f64,
    bce_logits: f64,
    sigmoid_focal: f64,
    softmax_focal: f64,
    lse: f64,
    score_loss: [f64; N],
    score_above: [usize; N],
    score_counted: [bool; N],
    ce_channel_first: f64,
}

fn rows() -> Layout {
    Layout::rows(N, C)
}

fn f16_logits() -> Vec<f16> {
    LOGITS.iter().map(|&x| f16::from_f32(x)).collect()
}

/// The options of each check, shared by the host recomputation and the host SIMD check;
/// `embedded/src/main.rs` builds the same ones.
fn ce_weighted() -> CrossEntropyOptions<'static> {
    CrossEntropyOptions::new().with_weight(Some(&CLASS_WEIGHT)).with_ignore_index(IGNORE)
}

fn compute() -> Expected {
    let l = rows();
    let ce_mean = scalar::cross_entropy::<f64, f32, i64>(&LOGITS, l, &TARGETS, &ce_weighted()).unwrap();

    let mut grad = [0.0_f64; N * C];
    let ce_grad_loss =
        scalar::cross_entropy_with_grad::<f64, f32, i64>(&LOGITS, l, &TARGETS, &ce_weighted(), &mut grad)
            .unwrap();

    // f16 in place: the loss from the in-place twin itself; the gradient before its rounding
    // to f16 (the harness allows half an f16 ulp on top of the usual tolerance).
    let mut x16 = f16_logits();
    let f16_inplace_loss = scalar::cross_entropy_with_grad_in_place::<f64, f16, i64>(
        &mut x16,
        l,
        &TARGETS,
        &CrossEntropyOptions::new(),
    )
    .unwrap();
    let mut grad16 = [0.0_f64; N * C];
    let loss16 = scalar::cross_entropy_with_grad::<f64, f16, i64>(
        &f16_logits(),
        l,
        &TARGETS,
        &CrossEntropyOptions::new(),
        &mut grad16,
    )
    .unwrap();
    assert_eq!(loss16, f16_inplace_loss);
    for (i, (&g, &s)) in grad16.iter().zip(&x16).enumerate() {
        let half_ulp = g.abs() * 2f64.powi(-11) + 2f64.powi(-25);
        assert!((f64::from(s.to_f32()) - g).abs() <= half_ulp, "in-place f16 gradient {i}: {s} vs {g}");
    }

    let ce_smoothing = scalar::cross_entropy::<f64, f32, i64>(
        &LOGITS,
        l,
        &TARGETS,
        &ce_weighted().with_label_smoothing(LABEL_SMOOTHING),
    )
    .unwrap();
    let probs = scalar::cross_entropy_probs::<f64, f32, f32>(
        &LOGITS,
        l,
        &SOFT_TARGETS,
        &ProbsOptions::new().with_weight(Some(&CLASS_WEIGHT)).with_label_smoothing(PROBS_SMOOTHING),
    )
    .unwrap();
    let nll = scalar::nll_loss::<f64, f32, i64>(
        &LOGITS,
        l,
        &TARGETS,
        &xent::NllOptions::new().with_weight(Some(&CLASS_WEIGHT)).with_ignore_index(IGNORE),
    )
    .unwrap();
    let bce = scalar::binary_cross_entropy::<f64, f32>(
        &BCE_P,
        &BCE_Y,
        &BceOptions::new().with_weight(Some(&BCE_WEIGHT)),
    )
    .unwrap();
    let bce_logits = scalar::binary_cross_entropy_with_logits::<f64, f32>(
        &BCE_X,
        &BCE_Y,
        &BceWithLogitsOptions::new().with_pos_weight(Some(&POS_WEIGHT)),
    )
    .unwrap();
    let sigmoid_focal = scalar::sigmoid_focal_loss::<f64, f32>(
        &BCE_X,
        &BCE_Y,
        &SigmoidFocalOptions::new().with_alpha(SIGMOID_ALPHA).with_gamma(SIGMOID_GAMMA),
    )
    .unwrap();
    let softmax_focal = scalar::softmax_focal_loss::<f64, f32, i64>(
        &LOGITS,
        l,
        &TARGETS,
        &SoftmaxFocalOptions::new()
            .with_weight(Some(&CLASS_WEIGHT))
            .with_ignore_index(IGNORE)
            .with_gamma(SOFTMAX_GAMMA),
    )
    .unwrap();
    let lse = scalar::log_sum_exp::<f64, f32>(&LSE_ROW);

    // score_into's scalar twin stores its losses as f32; the loss is recomputed in f64 from
    // the log-sum-exp, and the stored f32 must be that value rounded.
    let mut scores = [Score::default(); N];
    scalar::score_into::<f64, f32, i64>(&LOGITS, l, &TARGETS, IGNORE, &mut scores).unwrap();
    let mut score_loss = [0.0; N];
    for (n, s) in scores.iter().enumerate() {
        if s.counted {
            let row = &LOGITS[n * C..(n + 1) * C];
            let t = usize::try_from(TARGETS[n]).unwrap();
            score_loss[n] = scalar::log_sum_exp::<f64, f32>(row) - f64::from(row[t]);
        }
        assert_eq!(s.loss, score_loss[n] as f32, "score loss {n}");
    }

    let ce_channel_first = scalar::cross_entropy::<f64, f32, i64>(
        &LOGITS,
        Layout::channel_first(1, CF_C, CF_INNER),
        &CF_TARGETS,
        &CrossEntropyOptions::new(),
    )
    .unwrap();

    Expected {
        ce_mean,
        ce_grad_loss,
        ce_grad: GRAD_IDX.map(|i| grad[i]),
        f16_inplace_loss,
        f16_inplace_grad: GRAD_IDX.map(|i| grad16[i]),
        ce_smoothing,
        probs,
        nll,
        bce,
        bce_logits,
        sigmoid_focal,
        softmax_focal,
        lse,
        score_loss,
        score_above: scores.map(|s| s.above),
        score_counted: scores.map(|s| s.counted),
        ce_channel_first,
    }
}

/// The stored constants, in the same shape.
fn stored() -> Expected {
    use expected::*;
    Expected {
        ce_mean: CE_MEAN,
        ce_grad_loss: CE_GRAD_LOSS,
        ce_grad: CE_GRAD,
        f16_inplace_loss: F16_INPLACE_LOSS,
        f16_inplace_grad: F16_INPLACE_GRAD,
        ce_smoothing: CE_SMOOTHING,
        probs: PROBS,
        nll: NLL,
        bce: BCE,
        bce_logits: BCE_LOGITS,
        sigmoid_focal: SIGMOID_FOCAL,
        softmax_focal: SOFTMAX_FOCAL,
        lse: LSE,
        score_loss: SCORE_LOSS,
        score_above: SCORE_ABOVE,
        score_counted: SCORE_COUNTED,
        ce_channel_first: CE_CHANNEL_FIRST,
    }
}

/// The scalar constants as (name, doc, value), the arrays as (name, doc, values).
type Scalars = Vec<(&'static str, &'static str, f64)>;
type Arrays<'a> = Vec<(&'static str, &'static str, &'a [f64])>;

fn table(e: &Expected) -> (Scalars, Arrays<'_>) {
    let scalars = vec![
        ("CE_MEAN", "`cross_entropy`, weighted mean with an ignored target.", e.ce_mean),
        ("CE_GRAD_LOSS", "`cross_entropy_with_grad`, same options: the loss.", e.ce_grad_loss),
        (
            "F16_INPLACE_LOSS",
            "`cross_entropy_with_grad_in_place` on f16 logits, default options.",
            e.f16_inplace_loss,
        ),
        ("CE_SMOOTHING", "`cross_entropy`, weighted, ignored target, label smoothing.", e.ce_smoothing),
        ("PROBS", "`cross_entropy_probs`, weighted, label smoothing.", e.probs),
        ("NLL", "`nll_loss` of the logits, weighted mean with an ignored target.", e.nll),
        ("BCE", "`binary_cross_entropy` with a per-column weight.", e.bce),
        ("BCE_LOGITS", "`binary_cross_entropy_with_logits` with a per-column `pos_weight`.", e.bce_logits),
        ("SIGMOID_FOCAL", "`sigmoid_focal_loss`, alpha 0.25, gamma 2.", e.sigmoid_focal),
        ("SOFTMAX_FOCAL", "`softmax_focal_loss`, weighted, ignored target, gamma 2.", e.softmax_focal),
        ("LSE", "`log_sum_exp` of `LSE_ROW`.", e.lse),
        (
            "CE_CHANNEL_FIRST",
            "`cross_entropy` of the logits read as `(1, CF_C, CF_INNER)`.",
            e.ce_channel_first,
        ),
    ];
    let arrays = vec![
        ("CE_GRAD", "`cross_entropy_with_grad`: the gradient at `GRAD_IDX`.", &e.ce_grad[..]),
        (
            "F16_INPLACE_GRAD",
            "The in-place f16 gradient at `GRAD_IDX`, before rounding to f16.",
            &e.f16_inplace_grad[..],
        ),
        ("SCORE_LOSS", "`score_into`: each position's loss (0 where ignored).", &e.score_loss[..]),
    ];
    (scalars, arrays)
}

fn render(e: &Expected) -> String {
    let mut s = String::new();
    s.push_str(
        "//! Expected values of the harness, computed on the host by xent's f64 scalar path on\n\
         //! the inputs of `problem.rs`. GENERATED: do not edit by hand. Regenerate from the\n\
         //! repository root with\n\
         //!\n\
         //!     XENT_WRITE_EXPECTED=1 cargo test --test embedded_expected\n\
         //!\n\
         //! and check with `cargo test --test embedded_expected` (`tests/embedded_expected.rs`),\n\
         //! which recomputes every constant and fails unless they match to 1e-7 relative.\n\n",
    );
    let (scalars, arrays) = table(e);
    for (name, doc, v) in scalars {
        writeln!(s, "/// {doc}\npub const {name}: f64 = {v:?};").unwrap();
    }
    for (name, doc, v) in arrays {
        // Laid out as rustfmt would (max_width 110): one line, else the array on the next
        // line, else one item per line.
        let items: Vec<String> = v.iter().map(|x| format!("{x:?}")).collect();
        let head = format!("pub const {name}: [f64; {}] =", v.len());
        let list = format!("[{}];", items.join(", "));
        writeln!(s, "/// {doc}").unwrap();
        if head.len() + 1 + list.len() <= 110 {
            writeln!(s, "{head} {list}").unwrap();
        } else if 4 + list.len() <= 110 {
            writeln!(s, "{head}\n    {list}").unwrap();
        } else {
            writeln!(s, "{head} [").unwrap();
            for x in &items {
                writeln!(s, "    {x},").unwrap();
            }
            writeln!(s, "];").unwrap();
        }
    }
    writeln!(
        s,
        "/// `score_into`: how many logits exceed the target's.\npub const SCORE_ABOVE: [usize; {}] = {:?};",
        N, e.score_above
    )
    .unwrap();
    writeln!(
        s,
        "/// `score_into`: whether the position counts (not ignored).\npub const SCORE_COUNTED: [bool; {}] = {:?};",
        N, e.score_counted
    )
    .unwrap();
    s
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    a == b || (a - b).abs() <= rel * a.abs().max(b.abs())
}

#[test]
fn stored_constants_are_the_host_f64_values() {
    let want = compute();
    if std::env::var_os("XENT_WRITE_EXPECTED").is_some() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/embedded/src/expected.rs");
        std::fs::write(path, render(&want)).unwrap();
        eprintln!("wrote {path}; run `cargo test --test embedded_expected` again to check it");
        return;
    }
    let have = stored();
    let (want_s, want_a) = table(&want);
    let (have_s, have_a) = table(&have);
    let mut bad = Vec::new();
    for ((name, _, w), (_, _, h)) in want_s.iter().zip(&have_s) {
        if !close(*w, *h, REL) {
            bad.push(format!("{name}: stored {h:?}, host computes {w:?}"));
        }
    }
    for ((name, _, w), (_, _, h)) in want_a.iter().zip(&have_a) {
        for (i, (w, h)) in w.iter().zip(h.iter()).enumerate() {
            if !close(*w, *h, REL) {
                bad.push(format!("{name}[{i}]: stored {h:?}, host computes {w:?}"));
            }
        }
    }
    if want.score_above != have.score_above {
        bad.push(format!("SCORE_ABOVE: stored {:?}, host computes {:?}", have.score_above, want.score_above));
    }
    if want.score_counted != have.score_counted {
        bad.push(format!(
            "SCORE_COUNTED: stored {:?}, host computes {:?}",
            have.score_counted, want.score_counted
        ));
    }
    assert!(
        bad.is_empty(),
        "embedded/src/expected.rs is stale:\n  {}\nregenerate it with `XENT_WRITE_EXPECTED=1 cargo test --test embedded_expected`",
        bad.join("\n  ")
    );
}

/// The harness's tolerance, checked on the host's SIMD path too: a failure on the board
/// that this test does not show is a target-specific problem.
#[test]
fn host_simd_path_meets_the_harness_tolerance() {
    let e = stored();
    let ok = |what: &str, got: f32, want: f64, rel: f64| {
        let err = (f64::from(got) - want).abs();
        assert!(err <= rel * want.abs() + 1e-6, "{what}: got {got}, want {want}, |err| {err:e}");
    };
    let l = rows();
    ok("ce_mean", xent::cross_entropy(&LOGITS, l, &TARGETS, &ce_weighted()).unwrap(), e.ce_mean, 1e-5);
    let mut grad = [0.0_f32; N * C];
    let loss = xent::cross_entropy_with_grad(&LOGITS, l, &TARGETS, &ce_weighted(), &mut grad).unwrap();
    ok("ce_grad_loss", loss, e.ce_grad_loss, 1e-5);
    for (k, &i) in GRAD_IDX.iter().enumerate() {
        ok("ce_grad", grad[i], e.ce_grad[k], 1e-5);
    }
    let mut x16 = f16_logits();
    let loss =
        xent::cross_entropy_with_grad_in_place(&mut x16, l, &TARGETS, &CrossEntropyOptions::new()).unwrap();
    ok("f16_inplace_loss", loss, e.f16_inplace_loss, 1e-5);
    for (k, &i) in GRAD_IDX.iter().enumerate() {
        ok("f16_inplace_grad", x16[i].to_f32(), e.f16_inplace_grad[k], 1e-5 + 2f64.powi(-11));
    }
    let lse = xent::log_sum_exp(&LSE_ROW);
    ok("lse", lse, e.lse, 1e-5);
    let mut scores = [Score::default(); N];
    xent::score_into(&LOGITS, l, &TARGETS, IGNORE, &mut scores).unwrap();
    for (n, s) in scores.iter().enumerate() {
        ok("score_loss", s.loss, e.score_loss[n], 1e-5);
        assert_eq!((s.above, s.counted), (e.score_above[n], e.score_counted[n]), "score {n}");
    }
}
