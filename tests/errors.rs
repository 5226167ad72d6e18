//! The error catalogue: every condition that is an [`Error`], checked on every entry point
//! it applies to (the SIMD public path and its `xent::scalar` twin in f64), asserting the
//! exact variant, its fields and its `Display` text; and the edge cases PyTorch accepts
//! (label smoothing 1, negative class weights, an empty batch, every target ignored),
//! asserting their values.

use std::fmt::Debug;

use xent::{
    BceOptions, BceWithLogitsOptions, ClassIndex, CrossEntropyOptions, Element, Error, Layout, NllOptions,
    ProbsOptions, Reduction, Score, SigmoidFocalOptions, SoftmaxFocalOptions, bf16, f16,
};

/// One entry point's name and outcome (its value dropped).
type Outcomes = Vec<(&'static str, Result<(), Error>)>;

fn unit<V>(r: Result<V, Error>) -> Result<(), Error> {
    r.map(drop)
}

/// `(positions, len)` of a layout, for sizing `out` / `grad` buffers (0 when they overflow
/// or are absurd, so a SizeOverflow layout does not make the test allocate).
fn sizes(lay: Layout) -> (usize, usize) {
    let cap = |r: Result<usize, Error>| r.ok().filter(|&n| n < 1 << 24).unwrap_or(0);
    (cap(lay.positions()), cap(lay.len()))
}

fn has_nan(e: Error) -> bool {
    match e {
        Error::ValueOutOfRange { value, .. } | Error::InvalidOption { value, .. } => value.is_nan(),
        _ => false,
    }
}

/// Every outcome is exactly `want` (NaN values compared as NaN), displayed as `text`.
#[track_caller]
fn expect(outcomes: Outcomes, want: Error, text: &str) {
    assert!(!outcomes.is_empty());
    for (name, r) in outcomes {
        match r {
            Ok(()) => panic!("{name}: Ok(()), expected {want:?}"),
            Err(e) => {
                assert_eq!(format!("{e:?}"), format!("{want:?}"), "{name}");
                if !has_nan(want) {
                    assert_eq!(e, want, "{name}");
                }
                assert_eq!(e.to_string(), text, "{name}");
            }
        }
    }
}

#[track_caller]
fn expect_ok(outcomes: Outcomes) {
    assert!(!outcomes.is_empty());
    for (name, r) in outcomes {
        assert_eq!(r, Ok(()), "{name}");
    }
}

#[track_caller]
fn expect_one<V: Debug>(name: &'static str, r: Result<V, Error>, want: Error, text: &str) {
    expect(vec![(name, unit(r))], want, text);
}

// ---------------------------------------------------------------------------------------
// Families: every entry point of a loss, public and scalar (f64), with correctly sized
// `out` / `grad` buffers unless the test passes its own.
// ---------------------------------------------------------------------------------------

fn ce_family<T: Element, I: ClassIndex>(
    x: &[T],
    lay: Layout,
    t: &[I],
    o: &CrossEntropyOptions<'_>,
) -> Outcomes {
    let (np, nl) = sizes(lay);
    let (mut out, mut g) = (vec![0f32; np], vec![0f32; nl]);
    let (mut out64, mut g64) = (vec![0f64; np], vec![0f64; nl]);
    let (mut xi, mut xi64) = (x.to_vec(), x.to_vec());
    vec![
        ("cross_entropy", unit(xent::cross_entropy(x, lay, t, o))),
        ("cross_entropy_per_position", xent::cross_entropy_per_position(x, lay, t, o, &mut out)),
        ("cross_entropy_with_grad", unit(xent::cross_entropy_with_grad(x, lay, t, o, &mut g))),
        (
            "cross_entropy_with_grad_in_place",
            unit(xent::cross_entropy_with_grad_in_place(&mut xi, lay, t, o)),
        ),
        ("scalar::cross_entropy", unit(xent::scalar::cross_entropy::<f64, _, _>(x, lay, t, o))),
        (
            "scalar::cross_entropy_per_position",
            xent::scalar::cross_entropy_per_position(x, lay, t, o, &mut out64),
        ),
        (
            "scalar::cross_entropy_with_grad",
            unit(xent::scalar::cross_entropy_with_grad(x, lay, t, o, &mut g64)),
        ),
        (
            "scalar::cross_entropy_with_grad_in_place",
            unit(xent::scalar::cross_entropy_with_grad_in_place::<f64, _, _>(&mut xi64, lay, t, o)),
        ),
    ]
}

fn focal_family<T: Element, I: ClassIndex>(
    x: &[T],
    lay: Layout,
    t: &[I],
    o: &SoftmaxFocalOptions<'_>,
) -> Outcomes {
    let (np, nl) = sizes(lay);
    let (mut out, mut g) = (vec![0f32; np], vec![0f32; nl]);
    let (mut out64, mut g64) = (vec![0f64; np], vec![0f64; nl]);
    vec![
        ("softmax_focal_loss", unit(xent::softmax_focal_loss(x, lay, t, o))),
        ("softmax_focal_loss_per_position", xent::softmax_focal_loss_per_position(x, lay, t, o, &mut out)),
        ("softmax_focal_loss_with_grad", unit(xent::softmax_focal_loss_with_grad(x, lay, t, o, &mut g))),
        ("scalar::softmax_focal_loss", unit(xent::scalar::softmax_focal_loss::<f64, _, _>(x, lay, t, o))),
        (
            "scalar::softmax_focal_loss_per_position",
            xent::scalar::softmax_focal_loss_per_position(x, lay, t, o, &mut out64),
        ),
        (
            "scalar::softmax_focal_loss_with_grad",
            unit(xent::scalar::softmax_focal_loss_with_grad(x, lay, t, o, &mut g64)),
        ),
    ]
}

fn nll_family<T: Element, I: ClassIndex>(x: &[T], lay: Layout, t: &[I], o: &NllOptions<'_>) -> Outcomes {
    let (np, nl) = sizes(lay);
    let (mut out, mut g) = (vec![0f32; np], vec![0f32; nl]);
    let (mut out64, mut g64) = (vec![0f64; np], vec![0f64; nl]);
    vec![
        ("nll_loss", unit(xent::nll_loss(x, lay, t, o))),
        ("nll_loss_per_position", xent::nll_loss_per_position(x, lay, t, o, &mut out)),
        ("nll_loss_with_grad", unit(xent::nll_loss_with_grad(x, lay, t, o, &mut g))),
        ("scalar::nll_loss", unit(xent::scalar::nll_loss::<f64, _, _>(x, lay, t, o))),
        ("scalar::nll_loss_per_position", xent::scalar::nll_loss_per_position(x, lay, t, o, &mut out64)),
        ("scalar::nll_loss_with_grad", unit(xent::scalar::nll_loss_with_grad(x, lay, t, o, &mut g64))),
    ]
}

/// `gather` and `score_into`.
fn index_family<T: Element, I: ClassIndex>(x: &[T], lay: Layout, t: &[I], ignore: i64) -> Outcomes {
    let (np, _) = sizes(lay);
    let (mut out, mut out64) = (vec![0f32; np], vec![0f64; np]);
    let (mut s, mut s64) = (vec![Score::default(); np], vec![Score::default(); np]);
    vec![
        ("gather", xent::gather(x, lay, t, ignore, &mut out)),
        ("score_into", xent::score_into(x, lay, t, ignore, &mut s)),
        ("scalar::gather", xent::scalar::gather(x, lay, t, ignore, &mut out64)),
        ("scalar::score_into", xent::scalar::score_into::<f64, _, _>(x, lay, t, ignore, &mut s64)),
    ]
}

/// Every class-index entry point, with the given ignore_index and weight.
fn class_families<T: Element, I: ClassIndex>(
    x: &[T],
    lay: Layout,
    t: &[I],
    ignore: i64,
    w: Option<&[f32]>,
) -> Outcomes {
    let mut all = ce_family(x, lay, t, &CrossEntropyOptions::new().with_ignore_index(ignore).with_weight(w));
    all.extend(focal_family(x, lay, t, &SoftmaxFocalOptions::new().with_ignore_index(ignore).with_weight(w)));
    all.extend(nll_family(x, lay, t, &NllOptions::new().with_ignore_index(ignore).with_weight(w)));
    all.extend(index_family(x, lay, t, ignore));
    all
}

fn probs_family<T: Element>(x: &[T], lay: Layout, t: &[T], o: &ProbsOptions<'_>) -> Outcomes {
    let (np, nl) = sizes(lay);
    let (mut out, mut g) = (vec![0f32; np], vec![0f32; nl]);
    let (mut out64, mut g64) = (vec![0f64; np], vec![0f64; nl]);
    vec![
        ("cross_entropy_probs", unit(xent::cross_entropy_probs(x, lay, t, o))),
        ("cross_entropy_probs_per_position", xent::cross_entropy_probs_per_position(x, lay, t, o, &mut out)),
        ("cross_entropy_probs_with_grad", unit(xent::cross_entropy_probs_with_grad(x, lay, t, o, &mut g))),
        ("scalar::cross_entropy_probs", unit(xent::scalar::cross_entropy_probs::<f64, _, _>(x, lay, t, o))),
        (
            "scalar::cross_entropy_probs_per_position",
            xent::scalar::cross_entropy_probs_per_position(x, lay, t, o, &mut out64),
        ),
        (
            "scalar::cross_entropy_probs_with_grad",
            unit(xent::scalar::cross_entropy_probs_with_grad(x, lay, t, o, &mut g64)),
        ),
    ]
}

/// `log_sum_exp_into`, `log_softmax_into`, `softmax_into`.
fn prim_family<T: Element>(x: &[T], lay: Layout) -> Outcomes {
    let (np, nl) = sizes(lay);
    let (mut lse, mut full) = (vec![0f32; np], vec![0f32; nl]);
    let (mut lse64, mut full64) = (vec![0f64; np], vec![0f64; nl]);
    vec![
        ("log_sum_exp_into", xent::log_sum_exp_into(x, lay, &mut lse)),
        ("log_softmax_into", xent::log_softmax_into(x, lay, &mut full)),
        ("softmax_into", xent::softmax_into(x, lay, &mut full)),
        ("scalar::log_sum_exp_into", xent::scalar::log_sum_exp_into(x, lay, &mut lse64)),
        ("scalar::log_softmax_into", xent::scalar::log_softmax_into(x, lay, &mut full64)),
        ("scalar::softmax_into", xent::scalar::softmax_into(x, lay, &mut full64)),
    ]
}

fn bce_family<T: Element>(p: &[T], y: &[T], o: &BceOptions<'_>) -> Outcomes {
    let n = p.len();
    let (mut out, mut g) = (vec![0f32; n], vec![0f32; n]);
    let (mut out64, mut g64) = (vec![0f64; n], vec![0f64; n]);
    vec![
        ("binary_cross_entropy", unit(xent::binary_cross_entropy(p, y, o))),
        ("binary_cross_entropy_per_position", xent::binary_cross_entropy_per_position(p, y, o, &mut out)),
        ("binary_cross_entropy_with_grad", unit(xent::binary_cross_entropy_with_grad(p, y, o, &mut g))),
        ("scalar::binary_cross_entropy", unit(xent::scalar::binary_cross_entropy::<f64, _>(p, y, o))),
        (
            "scalar::binary_cross_entropy_per_position",
            xent::scalar::binary_cross_entropy_per_position(p, y, o, &mut out64),
        ),
        (
            "scalar::binary_cross_entropy_with_grad",
            unit(xent::scalar::binary_cross_entropy_with_grad(p, y, o, &mut g64)),
        ),
    ]
}

fn logits_family<T: Element>(x: &[T], y: &[T], o: &BceWithLogitsOptions<'_>) -> Outcomes {
    let n = x.len();
    let (mut out, mut g) = (vec![0f32; n], vec![0f32; n]);
    let (mut out64, mut g64) = (vec![0f64; n], vec![0f64; n]);
    vec![
        ("binary_cross_entropy_with_logits", unit(xent::binary_cross_entropy_with_logits(x, y, o))),
        (
            "binary_cross_entropy_with_logits_per_position",
            xent::binary_cross_entropy_with_logits_per_position(x, y, o, &mut out),
        ),
        (
            "binary_cross_entropy_with_logits_with_grad",
            unit(xent::binary_cross_entropy_with_logits_with_grad(x, y, o, &mut g)),
        ),
        (
            "scalar::binary_cross_entropy_with_logits",
            unit(xent::scalar::binary_cross_entropy_with_logits::<f64, _>(x, y, o)),
        ),
        (
            "scalar::binary_cross_entropy_with_logits_per_position",
            xent::scalar::binary_cross_entropy_with_logits_per_position(x, y, o, &mut out64),
        ),
        (
            "scalar::binary_cross_entropy_with_logits_with_grad",
            unit(xent::scalar::binary_cross_entropy_with_logits_with_grad(x, y, o, &mut g64)),
        ),
    ]
}

fn sigmoid_focal_family<T: Element>(x: &[T], y: &[T], o: &SigmoidFocalOptions) -> Outcomes {
    let n = x.len();
    let (mut out, mut g) = (vec![0f32; n], vec![0f32; n]);
    let (mut out64, mut g64) = (vec![0f64; n], vec![0f64; n]);
    vec![
        ("sigmoid_focal_loss", unit(xent::sigmoid_focal_loss(x, y, o))),
        ("sigmoid_focal_loss_per_position", xent::sigmoid_focal_loss_per_position(x, y, o, &mut out)),
        ("sigmoid_focal_loss_with_grad", unit(xent::sigmoid_focal_loss_with_grad(x, y, o, &mut g))),
        ("scalar::sigmoid_focal_loss", unit(xent::scalar::sigmoid_focal_loss::<f64, _>(x, y, o))),
        (
            "scalar::sigmoid_focal_loss_per_position",
            xent::scalar::sigmoid_focal_loss_per_position(x, y, o, &mut out64),
        ),
        (
            "scalar::sigmoid_focal_loss_with_grad",
            unit(xent::scalar::sigmoid_focal_loss_with_grad(x, y, o, &mut g64)),
        ),
    ]
}

/// Every element-wise entry point on the same inputs (BCE's domain check aside, they share
/// their length checks).
fn binary_families<T: Element>(x: &[T], y: &[T]) -> Outcomes {
    let mut all = bce_family(x, y, &BceOptions::new());
    all.extend(logits_family(x, y, &BceWithLogitsOptions::new()));
    all.extend(sigmoid_focal_family(x, y, &SigmoidFocalOptions::new()));
    all
}

// ---------------------------------------------------------------------------------------
// Data and an f64 reference.
// ---------------------------------------------------------------------------------------

/// Logits of `Layout::rows(4, 3)`.
const X43: [f32; 12] = [1.0, 2.0, 3.0, 1.0, -1.0, 0.5, 0.0, 0.0, 0.0, 2.0, 1.0, 0.1];
const ROWS43: Layout = Layout::rows(4, 3);

/// `n` rows of `c` varied, finite logits.
fn varied(n: usize, c: usize) -> Vec<f32> {
    (0..n * c).map(|i| ((i * 7 + 3) % 11) as f32 * 0.37 - 1.5).collect()
}

fn lse(row: &[f64]) -> f64 {
    let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
}

/// PyTorch's class-index cross-entropy of `(N, C)` rows in f64: per-position losses, the
/// weighted mean and the sum.
fn ce_ref(x: &[f32], c: usize, t: &[i64], w: Option<&[f32]>, eps: f64, ignore: i64) -> (Vec<f64>, f64, f64) {
    let wt = |k: usize| w.map_or(1.0, |w| f64::from(w[k]));
    let (mut per, mut sum, mut wsum) = (Vec::new(), 0.0, 0.0);
    for (n, &y) in t.iter().enumerate() {
        if y == ignore {
            per.push(0.0);
            continue;
        }
        let row: Vec<f64> = x[n * c..(n + 1) * c].iter().map(|&v| f64::from(v)).collect();
        let l = lse(&row);
        let y = y as usize;
        let smooth: f64 = (0..c).map(|k| wt(k) * (l - row[k])).sum();
        let loss = (1.0 - eps) * wt(y) * (l - row[y]) + eps / c as f64 * smooth;
        per.push(loss);
        sum += loss;
        wsum += wt(y);
    }
    (per, sum / wsum, sum)
}

#[track_caller]
fn close(what: &str, got: f64, want: f64, rel: f64) {
    assert!(
        (got - want).abs() <= rel * want.abs().max(1.0),
        "{what}: got {got:e}, want {want:e} (rel {rel:e})"
    );
}

// ---------------------------------------------------------------------------------------
// Target range.
// ---------------------------------------------------------------------------------------

#[test]
fn target_at_or_above_classes_reports_the_first() {
    let want = Error::TargetOutOfRange { position: 2, target: 3, classes: 3 };
    let text = "target 3 at position 2 is out of range for 3 classes";
    expect(class_families(&X43, ROWS43, &[0_i64, 2, 3, 7], -100, None), want, text);
    expect(class_families(&X43, ROWS43, &[0_i32, 2, 3, 7], -100, None), want, text);
    expect(class_families(&X43, ROWS43, &[0_u32, 2, 3, 7], -100, None), want, text);
    expect(class_families(&X43, ROWS43, &[0_u8, 2, 3, 7], -100, None), want, text);
    // A target far above C, and f16 / bf16 logits.
    let want = Error::TargetOutOfRange { position: 1, target: 1_000_000, classes: 3 };
    let text = "target 1000000 at position 1 is out of range for 3 classes";
    expect(
        class_families(&X43.map(f16::from_f32), ROWS43, &[0_i64, 1_000_000, 3, 7], -100, None),
        want,
        text,
    );
    expect(
        class_families(&X43.map(bf16::from_f32), ROWS43, &[0_i64, 1_000_000, 3, 7], -100, None),
        want,
        text,
    );
    let want = Error::TargetOutOfRange { position: 3, target: 4_000_000_000, classes: 3 };
    let text = "target 4000000000 at position 3 is out of range for 3 classes";
    expect(class_families(&X43, ROWS43, &[0_u32, 1, 2, 4_000_000_000], -100, None), want, text);
}

#[test]
fn negative_target_other_than_ignore_index() {
    let want = Error::TargetOutOfRange { position: 1, target: -1, classes: 3 };
    let text = "target -1 at position 1 is out of range for 3 classes";
    expect(class_families(&X43, ROWS43, &[1_i64, -1, -100, -5], -100, None), want, text);
    expect(class_families(&X43, ROWS43, &[1_i32, -1, -100, -5], -100, None), want, text);
    // With ignore_index = -1, -100 is an ordinary (bad) target.
    let want = Error::TargetOutOfRange { position: 2, target: -100, classes: 3 };
    let text = "target -100 at position 2 is out of range for 3 classes";
    expect(class_families(&X43, ROWS43, &[1_i64, -1, -100, -5], -1, None), want, text);
    let want = Error::TargetOutOfRange { position: 0, target: i64::MIN, classes: 3 };
    let text = format!("target {} at position 0 is out of range for 3 classes", i64::MIN);
    expect(class_families(&X43, ROWS43, &[i64::MIN, 0, 0, 0], -100, None), want, &text);
}

#[test]
fn bad_target_found_after_many_tiles_rows_and_channel_first() {
    let x = varied(50, 3);
    let mut t = vec![1_i64; 50];
    t[37] = 3;
    t[45] = -2;
    let want = Error::TargetOutOfRange { position: 37, target: 3, classes: 3 };
    let text = "target 3 at position 37 is out of range for 3 classes";
    expect(class_families(&x, Layout::rows(50, 3), &t, -100, None), want, text);
    expect(class_families(&x, Layout::channel_first(2, 3, 25), &t, -100, None), want, text);
    expect(class_families(&x, Layout::channel_first(1, 3, 50), &t, -100, None), want, text);
    // Past the plain forward's first tile of 256 positions, after ignored ones.
    let x = varied(700, 3);
    let mut t: Vec<i64> = (0..700).map(|i| if i % 5 == 0 { -100 } else { (i % 3) as i64 }).collect();
    t[613] = 7;
    t[650] = -1;
    let want = Error::TargetOutOfRange { position: 613, target: 7, classes: 3 };
    let text = "target 7 at position 613 is out of range for 3 classes";
    expect(class_families(&x, Layout::rows(700, 3), &t, -100, None), want, text);
    expect(class_families(&x, Layout::channel_first(7, 3, 100), &t, -100, None), want, text);
}

#[test]
fn zero_classes_with_a_real_target() {
    let want = Error::TargetOutOfRange { position: 1, target: 0, classes: 0 };
    let text = "target 0 at position 1 is out of range for 0 classes";
    expect(class_families::<f32, i64>(&[], Layout::rows(2, 0), &[-100, 0], -100, None), want, text);
}

#[test]
fn ignored_targets_are_never_range_checked() {
    // ignore_index >= C, and negative: the ignored positions would be out of range.
    for ignore in [7_i64, -5, i64::MAX] {
        let t = [ignore, 1, ignore, 0];
        expect_ok(class_families(&X43, ROWS43, &t, ignore, None));
        let o = CrossEntropyOptions::new().with_ignore_index(ignore);
        let (per, mean, _) = ce_ref(&X43, 3, &t, None, 0.0, ignore);
        close("cross_entropy", f64::from(xent::cross_entropy(&X43, ROWS43, &t, &o).unwrap()), mean, 1e-6);
        close("scalar", xent::scalar::cross_entropy::<f64, _, _>(&X43, ROWS43, &t, &o).unwrap(), mean, 1e-12);
        let mut out = [9.0_f32; 4];
        xent::cross_entropy_per_position(&X43, ROWS43, &t, &o, &mut out).unwrap();
        assert_eq!((out[0], out[2]), (0.0, 0.0));
        close("per[1]", f64::from(out[1]), per[1], 1e-6);
        let mut g = [0.0_f32; 4];
        xent::gather(&X43, ROWS43, &t, ignore, &mut g).unwrap();
        assert_eq!(g, [0.0, -1.0, 0.0, 2.0]);
        let mut s = [Score::default(); 4];
        xent::score_into(&X43, ROWS43, &t, ignore, &mut s).unwrap();
        assert_eq!(s.map(|s| s.counted), [false, true, false, true]);
    }
}

#[test]
fn u8_target_255_with_ignore_index_255() {
    let t = [255_u8, 1, 255, 0];
    expect_ok(class_families(&X43, ROWS43, &t, 255, None));
    let o = CrossEntropyOptions::new().with_ignore_index(255);
    let (_, mean, _) = ce_ref(&X43, 3, &[255, 1, 255, 0], None, 0.0, 255);
    close("cross_entropy", f64::from(xent::cross_entropy(&X43, ROWS43, &t, &o).unwrap()), mean, 1e-6);
    close("scalar", xent::scalar::cross_entropy::<f64, _, _>(&X43, ROWS43, &t, &o).unwrap(), mean, 1e-12);
    // With the default ignore_index, 255 is out of range.
    let want = Error::TargetOutOfRange { position: 0, target: 255, classes: 3 };
    let text = "target 255 at position 0 is out of range for 3 classes";
    expect(class_families(&X43, ROWS43, &t, -100, None), want, text);
}

// ---------------------------------------------------------------------------------------
// Lengths.
// ---------------------------------------------------------------------------------------

#[test]
fn logits_length_disagrees_with_layout() {
    let t = [0_i64, 1, 2, 0];
    let want = Error::LengthMismatch { what: "logits", expected: 12, found: 11 };
    let text = "logits has length 11, expected 12";
    let x = &X43[..11];
    let mut all = ce_family(x, ROWS43, &t, &CrossEntropyOptions::new());
    all.extend(focal_family(x, ROWS43, &t, &SoftmaxFocalOptions::new()));
    all.extend(index_family(x, ROWS43, &t, -100));
    all.extend(prim_family(x, ROWS43));
    all.extend(probs_family(x, ROWS43, &[0.25; 12], &ProbsOptions::new()));
    expect(all, want, text);
    // nll_loss calls its argument "input".
    let want = Error::LengthMismatch { what: "input", expected: 12, found: 11 };
    expect(nll_family(x, ROWS43, &t, &NllOptions::new()), want, "input has length 11, expected 12");
    // Too long, channel-first.
    let x = varied(1, 13);
    let lay = Layout::channel_first(2, 3, 2);
    let want = Error::LengthMismatch { what: "logits", expected: 12, found: 13 };
    let mut all = ce_family(&x, lay, &t, &CrossEntropyOptions::new());
    all.extend(prim_family(&x, lay));
    expect(all, want, "logits has length 13, expected 12");
}

#[test]
fn targets_length_disagrees_with_layout() {
    let want = Error::LengthMismatch { what: "targets", expected: 4, found: 3 };
    expect(
        class_families(&X43, ROWS43, &[0_i64, 1, 2], -100, None),
        want,
        "targets has length 3, expected 4",
    );
    let want = Error::LengthMismatch { what: "targets", expected: 4, found: 5 };
    expect(
        class_families(&X43, ROWS43, &[0_u8, 1, 2, 0, 0], -100, None),
        want,
        "targets has length 5, expected 4",
    );
    // Probability targets have the logits' length.
    let want = Error::LengthMismatch { what: "targets", expected: 12, found: 4 };
    let text = "targets has length 4, expected 12";
    expect(probs_family(&X43, ROWS43, &[0.25; 4], &ProbsOptions::new()), want, text);
    // Binary losses: the target must have the input's length.
    let want = Error::LengthMismatch { what: "target", expected: 3, found: 2 };
    expect(binary_families(&[0.5_f32; 3], &[0.5_f32; 2]), want, "target has length 2, expected 3");
}

#[test]
fn weight_length_disagrees_with_classes() {
    let t = [0_i64, 1, 2, 0];
    for wl in [2, 4, 0] {
        let w = vec![1.0_f32; wl];
        let want = Error::LengthMismatch { what: "weight", expected: 3, found: wl };
        let text = format!("weight has length {wl}, expected 3");
        let mut all = class_families(&X43, ROWS43, &t, -100, Some(&w));
        // gather / score_into take no weight.
        all.retain(|(name, _)| !name.contains("gather") && !name.contains("score"));
        all.extend(probs_family(&X43, ROWS43, &[0.25; 12], &ProbsOptions::new().with_weight(Some(&w))));
        expect(all, want, &text);
    }
}

#[test]
fn out_length_disagrees_with_positions() {
    let t = [0_i64, 1, 2, 0];
    let (mut o3, mut o3_64) = ([0f32; 3], [0f64; 3]);
    let want = Error::LengthMismatch { what: "out", expected: 4, found: 3 };
    let text = "out has length 3, expected 4";
    let ce = CrossEntropyOptions::new();
    let fo = SoftmaxFocalOptions::new();
    let nl = NllOptions::new();
    let po = ProbsOptions::new();
    let soft = [0.25_f32; 12];
    let all: Outcomes = vec![
        ("ce", xent::cross_entropy_per_position(&X43, ROWS43, &t, &ce, &mut o3)),
        ("ce64", xent::scalar::cross_entropy_per_position(&X43, ROWS43, &t, &ce, &mut o3_64)),
        ("focal", xent::softmax_focal_loss_per_position(&X43, ROWS43, &t, &fo, &mut o3)),
        ("focal64", xent::scalar::softmax_focal_loss_per_position(&X43, ROWS43, &t, &fo, &mut o3_64)),
        ("nll", xent::nll_loss_per_position(&X43, ROWS43, &t, &nl, &mut o3)),
        ("nll64", xent::scalar::nll_loss_per_position(&X43, ROWS43, &t, &nl, &mut o3_64)),
        ("probs", xent::cross_entropy_probs_per_position(&X43, ROWS43, &soft, &po, &mut o3)),
        ("probs64", xent::scalar::cross_entropy_probs_per_position(&X43, ROWS43, &soft, &po, &mut o3_64)),
        ("lse", xent::log_sum_exp_into(&X43, ROWS43, &mut o3)),
        ("lse64", xent::scalar::log_sum_exp_into(&X43, ROWS43, &mut o3_64)),
        ("gather", xent::gather(&X43, ROWS43, &t, -100, &mut o3)),
        ("gather64", xent::scalar::gather(&X43, ROWS43, &t, -100, &mut o3_64)),
        ("score", xent::score_into(&X43, ROWS43, &t, -100, &mut [Score::default(); 3])),
        (
            "score64",
            xent::scalar::score_into::<f64, _, _>(&X43, ROWS43, &t, -100, &mut [Score::default(); 3]),
        ),
    ];
    expect(all, want, text);
    // log_softmax / softmax write one value per logit.
    let (mut o11, mut o11_64) = ([0f32; 11], [0f64; 11]);
    let want = Error::LengthMismatch { what: "out", expected: 12, found: 11 };
    let all: Outcomes = vec![
        ("log_softmax", xent::log_softmax_into(&X43, ROWS43, &mut o11)),
        ("log_softmax64", xent::scalar::log_softmax_into(&X43, ROWS43, &mut o11_64)),
        ("softmax", xent::softmax_into(&X43, ROWS43, &mut o11)),
        ("softmax64", xent::scalar::softmax_into(&X43, ROWS43, &mut o11_64)),
    ];
    expect(all, want, "out has length 11, expected 12");
    // Element-wise losses: one per element.
    let (p, y) = ([0.5_f32; 5], [1.0_f32; 5]);
    let (mut o4, mut o4_64) = ([0f32; 4], [0f64; 4]);
    let (b, l, s) = (BceOptions::new(), BceWithLogitsOptions::new(), SigmoidFocalOptions::new());
    let want = Error::LengthMismatch { what: "out", expected: 5, found: 4 };
    let all: Outcomes = vec![
        ("bce", xent::binary_cross_entropy_per_position(&p, &y, &b, &mut o4)),
        ("bce64", xent::scalar::binary_cross_entropy_per_position(&p, &y, &b, &mut o4_64)),
        ("logits", xent::binary_cross_entropy_with_logits_per_position(&p, &y, &l, &mut o4)),
        ("logits64", xent::scalar::binary_cross_entropy_with_logits_per_position(&p, &y, &l, &mut o4_64)),
        ("sfocal", xent::sigmoid_focal_loss_per_position(&p, &y, &s, &mut o4)),
        ("sfocal64", xent::scalar::sigmoid_focal_loss_per_position(&p, &y, &s, &mut o4_64)),
    ];
    expect(all, want, "out has length 4, expected 5");
}

#[test]
fn grad_length_disagrees_with_logits() {
    let t = [0_i64, 1, 2, 0];
    let (mut g, mut g64) = ([0f32; 13], [0f64; 13]);
    let want = Error::LengthMismatch { what: "grad", expected: 12, found: 13 };
    let ce = CrossEntropyOptions::new();
    let fo = SoftmaxFocalOptions::new();
    let nl = NllOptions::new();
    let po = ProbsOptions::new();
    let soft = [0.25_f32; 12];
    let all: Outcomes = vec![
        ("ce", unit(xent::cross_entropy_with_grad(&X43, ROWS43, &t, &ce, &mut g))),
        ("ce64", unit(xent::scalar::cross_entropy_with_grad(&X43, ROWS43, &t, &ce, &mut g64))),
        ("focal", unit(xent::softmax_focal_loss_with_grad(&X43, ROWS43, &t, &fo, &mut g))),
        ("focal64", unit(xent::scalar::softmax_focal_loss_with_grad(&X43, ROWS43, &t, &fo, &mut g64))),
        ("nll", unit(xent::nll_loss_with_grad(&X43, ROWS43, &t, &nl, &mut g))),
        ("nll64", unit(xent::scalar::nll_loss_with_grad(&X43, ROWS43, &t, &nl, &mut g64))),
        ("probs", unit(xent::cross_entropy_probs_with_grad(&X43, ROWS43, &soft, &po, &mut g))),
        ("probs64", unit(xent::scalar::cross_entropy_probs_with_grad(&X43, ROWS43, &soft, &po, &mut g64))),
    ];
    expect(all, want, "grad has length 13, expected 12");
    let (p, y) = ([0.5_f32; 5], [1.0_f32; 5]);
    let (b, l, s) = (BceOptions::new(), BceWithLogitsOptions::new(), SigmoidFocalOptions::new());
    let (mut g, mut g64) = ([0f32; 6], [0f64; 6]);
    let want = Error::LengthMismatch { what: "grad", expected: 5, found: 6 };
    let all: Outcomes = vec![
        ("bce", unit(xent::binary_cross_entropy_with_grad(&p, &y, &b, &mut g))),
        ("bce64", unit(xent::scalar::binary_cross_entropy_with_grad(&p, &y, &b, &mut g64))),
        ("logits", unit(xent::binary_cross_entropy_with_logits_with_grad(&p, &y, &l, &mut g))),
        ("logits64", unit(xent::scalar::binary_cross_entropy_with_logits_with_grad(&p, &y, &l, &mut g64))),
        ("sfocal", unit(xent::sigmoid_focal_loss_with_grad(&p, &y, &s, &mut g))),
        ("sfocal64", unit(xent::scalar::sigmoid_focal_loss_with_grad(&p, &y, &s, &mut g64))),
    ];
    expect(all, want, "grad has length 6, expected 5");
}

// ---------------------------------------------------------------------------------------
// Layouts.
// ---------------------------------------------------------------------------------------

#[test]
fn layout_from_an_empty_shape() {
    let want = Error::LengthMismatch { what: "shape", expected: 1, found: 0 };
    expect_one("from_shape", Layout::from_shape(&[]), want, "shape has length 0, expected 1");
    expect_one("class_last", Layout::class_last(&[]), want, "shape has length 0, expected 1");
}

#[test]
fn size_overflow() {
    let text = "layout size overflows usize";
    let m = usize::MAX;
    expect_one("from_shape", Layout::from_shape(&[2, 3, m, 2]), Error::SizeOverflow, text);
    expect_one("class_last", Layout::class_last(&[m, 2, 4]), Error::SizeOverflow, text);
    // Layouts whose positions (N * inner) or length (positions * C) overflow.
    let by_len = Layout::channel_first(m, 2, 1);
    assert_eq!(by_len.positions(), Ok(m));
    expect_one("len", by_len.len(), Error::SizeOverflow, text);
    let by_positions = Layout::channel_first(m, 1, 2);
    expect_one("positions", by_positions.positions(), Error::SizeOverflow, text);
    expect_one("len", by_positions.len(), Error::SizeOverflow, text);
    // from_shape and class_last check the whole product; the constructors do not.
    expect_one("from_shape", Layout::from_shape(&[m, 3]), Error::SizeOverflow, text);
    expect_one("class_last", Layout::class_last(&[m, 3]), Error::SizeOverflow, text);
    let rows = Layout::rows(m, 3);
    expect_one("len", rows.len(), Error::SizeOverflow, text);
    for lay in [by_len, by_positions, rows] {
        let mut all = class_families::<f32, i64>(&[], lay, &[], -100, None);
        all.extend(probs_family::<f32>(&[], lay, &[], &ProbsOptions::new()));
        all.extend(prim_family::<f32>(&[], lay));
        expect(all, Error::SizeOverflow, text);
    }
}

// ---------------------------------------------------------------------------------------
// binary_cross_entropy's domain.
// ---------------------------------------------------------------------------------------

/// `n` probabilities inside (0, 1) and targets in [0, 1].
fn unit_data(n: usize) -> (Vec<f32>, Vec<f32>) {
    let p = (0..n).map(|i| ((i * 13 + 5) % 97) as f32 / 100.0 + 0.01).collect();
    let y = (0..n).map(|i| (i % 3) as f32 / 2.0).collect();
    (p, y)
}

fn widen<T: Element>(v: &[f32]) -> Vec<T> {
    v.iter().map(|&x| T::from_f32(x)).collect()
}

#[track_caller]
fn bce_bad<T: Element>(bad_input: bool, n: usize, at: &[(usize, f32)], want: Error, text: &str) {
    let (mut p, mut y) = unit_data(n);
    for &(i, v) in at {
        if bad_input { p[i] = v } else { y[i] = v }
    }
    let (p, y) = (widen::<T>(&p), widen::<T>(&y));
    expect(bce_family(&p, &y, &BceOptions::new()), want, text);
    let w = vec![0.5_f32; n];
    expect(bce_family(&p, &y, &BceOptions::new().with_weight(Some(&w))), want, text);
}

#[test]
fn bce_input_negative() {
    let want = Error::ValueOutOfRange { what: "input", position: 13, value: -0.25 };
    let text = "input value -0.25 at position 13 is outside [0, 1]";
    bce_bad::<f32>(true, 40, &[(13, -0.25), (20, -1.0)], want, text);
    bce_bad::<f16>(true, 40, &[(13, -0.25), (20, -1.0)], want, text);
    bce_bad::<bf16>(true, 40, &[(13, -0.25), (20, -1.0)], want, text);
    // The smallest negative subnormal, in the second block of 1024.
    let v = -f32::from_bits(1);
    let want = Error::ValueOutOfRange { what: "input", position: 1500, value: v };
    bce_bad::<f32>(
        true,
        2000,
        &[(1500, v)],
        want,
        &format!("input value {v} at position 1500 is outside [0, 1]"),
    );
    let want = Error::ValueOutOfRange { what: "input", position: 0, value: f32::NEG_INFINITY };
    bce_bad::<f32>(
        true,
        3,
        &[(0, f32::NEG_INFINITY)],
        want,
        "input value -inf at position 0 is outside [0, 1]",
    );
}

#[test]
fn bce_input_above_one() {
    let want = Error::ValueOutOfRange { what: "input", position: 29, value: 1.5 };
    let text = "input value 1.5 at position 29 is outside [0, 1]";
    bce_bad::<f32>(true, 40, &[(29, 1.5), (31, 2.0)], want, text);
    bce_bad::<f16>(true, 40, &[(29, 1.5), (31, 2.0)], want, text);
    bce_bad::<bf16>(true, 40, &[(29, 1.5), (31, 2.0)], want, text);
    let v = 1.0 + f32::EPSILON;
    let want = Error::ValueOutOfRange { what: "input", position: 1999, value: v };
    bce_bad::<f32>(
        true,
        2000,
        &[(1999, v)],
        want,
        "input value 1.0000001 at position 1999 is outside [0, 1]",
    );
}

#[test]
fn bce_input_nan() {
    let want = Error::ValueOutOfRange { what: "input", position: 7, value: f32::NAN };
    let text = "input value NaN at position 7 is outside [0, 1]";
    bce_bad::<f32>(true, 40, &[(7, f32::NAN), (9, 2.0)], want, text);
    bce_bad::<f16>(true, 40, &[(7, f32::NAN)], want, text);
    bce_bad::<bf16>(true, 40, &[(7, f32::NAN)], want, text);
    let want = Error::ValueOutOfRange { what: "input", position: 1030, value: f32::NAN };
    bce_bad::<f32>(
        true,
        1100,
        &[(1030, f32::NAN)],
        want,
        "input value NaN at position 1030 is outside [0, 1]",
    );
}

#[test]
fn bce_target_outside_unit_interval() {
    for (v, shown) in [(-0.5_f32, "-0.5"), (1.25, "1.25"), (f32::NAN, "NaN"), (f32::INFINITY, "inf")] {
        let want = Error::ValueOutOfRange { what: "target", position: 21, value: v };
        let text = format!("target value {shown} at position 21 is outside [0, 1]");
        bce_bad::<f32>(false, 40, &[(21, v), (30, -3.0)], want, &text);
        bce_bad::<f16>(false, 40, &[(21, v)], want, &text);
        bce_bad::<bf16>(false, 40, &[(21, v)], want, &text);
        let want = Error::ValueOutOfRange { what: "target", position: 1024, value: v };
        let text = format!("target value {shown} at position 1024 is outside [0, 1]");
        bce_bad::<f32>(false, 1500, &[(1024, v)], want, &text);
    }
}

/// Targets all 0 or 1 take a path whose domain check of the targets is their 0/1 test;
/// the inputs are still checked, and the lowest position wins (the input's at a tie).
#[test]
fn bce_hard_targets_still_check_inputs() {
    fn case<T: Element>(n: usize, bad_p: &[(usize, f32)], bad_y: &[(usize, f32)], want: Error) {
        let (mut p, _) = unit_data(n);
        let mut y: Vec<f32> = (0..n).map(|i| (i % 2) as f32).collect();
        bad_p.iter().for_each(|&(i, v)| p[i] = v);
        bad_y.iter().for_each(|&(i, v)| y[i] = v);
        let (p, y) = (widen::<T>(&p), widen::<T>(&y));
        expect(bce_family(&p, &y, &BceOptions::new()), want, &want.to_string());
    }
    let input = |position, value| Error::ValueOutOfRange { what: "input", position, value };
    let target = |position, value| Error::ValueOutOfRange { what: "target", position, value };
    case::<f32>(40, &[(17, 1.5)], &[], input(17, 1.5));
    case::<f16>(40, &[(17, -0.5)], &[], input(17, -0.5));
    case::<f32>(2000, &[(1900, f32::NAN)], &[], input(1900, f32::NAN));
    // The first block's targets are hard, the second's are not.
    case::<f32>(2000, &[(1900, 2.0)], &[(1500, 0.5)], input(1900, 2.0));
    case::<f32>(2000, &[(1900, 2.0)], &[(1500, 3.0)], target(1500, 3.0));
    case::<f32>(40, &[(9, 2.0)], &[(5, -1.0)], target(5, -1.0));
    case::<f32>(40, &[(5, 2.0)], &[(5, -1.0)], input(5, 2.0));
    case::<bf16>(40, &[(5, 2.0)], &[(5, -1.0)], input(5, 2.0));
}

#[test]
fn bce_accepts_the_closed_unit_interval() {
    let p = [0.0_f32, 1.0, -0.0, 1.0, 0.0];
    let y = [0.0_f32, 1.0, 1.0, 0.0, -0.0];
    let mut out = [9.0_f32; 5];
    xent::binary_cross_entropy_per_position(&p, &y, &BceOptions::new(), &mut out).unwrap();
    assert_eq!(out, [0.0, 0.0, 100.0, 100.0, 0.0]);
    let mut out64 = [9.0_f64; 5];
    xent::scalar::binary_cross_entropy_per_position(&p, &y, &BceOptions::new(), &mut out64).unwrap();
    assert_eq!(out64, [0.0, 0.0, 100.0, 100.0, 0.0]);
}

#[test]
fn binary_weights_whose_length_does_not_divide_the_input() {
    let (x, y) = unit_data(12);
    for wl in [5_usize, 0, 24, 7] {
        let w = vec![1.0_f32; wl];
        let want = Error::LengthMismatch { what: "weight", expected: 12, found: wl };
        let text = format!("weight has length {wl}, expected 12");
        let mut all = bce_family(&x, &y, &BceOptions::new().with_weight(Some(&w)));
        all.extend(logits_family(&x, &y, &BceWithLogitsOptions::new().with_weight(Some(&w))));
        expect(all, want, &text);
        let want = Error::LengthMismatch { what: "pos_weight", expected: 12, found: wl };
        let text = format!("pos_weight has length {wl}, expected 12");
        expect(logits_family(&x, &y, &BceWithLogitsOptions::new().with_pos_weight(Some(&w))), want, &text);
    }
    // Lengths that divide are broadcast; an empty input accepts any weight.
    for wl in [1_usize, 3, 4, 12] {
        let w = vec![2.0_f32; wl];
        expect_ok(bce_family(&x, &y, &BceOptions::new().with_weight(Some(&w))));
        let o = BceWithLogitsOptions::new().with_weight(Some(&w)).with_pos_weight(Some(&w));
        expect_ok(logits_family(&x, &y, &o));
    }
    let w = [1.0_f32; 5];
    expect_ok(bce_family::<f32>(&[], &[], &BceOptions::new().with_weight(Some(&w))));
    let o = BceWithLogitsOptions::new().with_weight(Some(&w)).with_pos_weight(Some(&w));
    expect_ok(logits_family::<f32>(&[], &[], &o));
}

// ---------------------------------------------------------------------------------------
// Options.
// ---------------------------------------------------------------------------------------

#[track_caller]
fn smoothing_rejected(eps: f32, shown: &str) {
    let want = Error::InvalidOption { what: "label_smoothing", value: eps };
    let text = format!("invalid option label_smoothing = {shown}");
    let t = [0_i64, 1, 2, 0];
    let mut all = ce_family(&X43, ROWS43, &t, &CrossEntropyOptions::new().with_label_smoothing(eps));
    all.extend(probs_family(&X43, ROWS43, &[0.25; 12], &ProbsOptions::new().with_label_smoothing(eps)));
    // The option is rejected whatever the data.
    all.extend(ce_family(
        &X43,
        ROWS43,
        &[9_i64, 9, 9, 9],
        &CrossEntropyOptions::new().with_label_smoothing(eps),
    ));
    expect(all, want, &text);
}

#[test]
fn label_smoothing_negative() {
    smoothing_rejected(-0.1, "-0.1");
    smoothing_rejected(-f32::MIN_POSITIVE, &format!("{}", -f32::MIN_POSITIVE));
    smoothing_rejected(f32::NEG_INFINITY, "-inf");
}

#[test]
fn label_smoothing_above_one() {
    smoothing_rejected(1.5, "1.5");
    smoothing_rejected(1.0 + f32::EPSILON, "1.0000001");
    smoothing_rejected(f32::INFINITY, "inf");
}

#[test]
fn label_smoothing_nan() {
    smoothing_rejected(f32::NAN, "NaN");
}

#[track_caller]
fn ce_option_rejected(o: CrossEntropyOptions<'_>, want: Error, text: &str) {
    let mut all = ce_family(&X43, ROWS43, &[0_i64, 1, 2, 0], &o);
    all.extend(ce_family(&X43.map(bf16::from_f32), ROWS43, &[0_i64, 1, 2, 0], &o));
    expect(all, want, text);
}

#[test]
fn z_loss_negative_nan_or_infinite() {
    for (z, shown) in
        [(-1e-4_f32, "-0.0001"), (f32::NAN, "NaN"), (f32::INFINITY, "inf"), (f32::NEG_INFINITY, "-inf")]
    {
        let want = Error::InvalidOption { what: "z_loss", value: z };
        ce_option_rejected(
            CrossEntropyOptions::new().with_z_loss(z),
            want,
            &format!("invalid option z_loss = {shown}"),
        );
    }
}

#[test]
fn softcap_zero_negative_nan_or_infinite() {
    for (s, shown) in [
        (0.0_f32, "0"),
        (-0.0, "-0"),
        (-1.0, "-1"),
        (f32::NAN, "NaN"),
        (f32::INFINITY, "inf"),
        (f32::NEG_INFINITY, "-inf"),
    ] {
        let want = Error::InvalidOption { what: "softcap", value: s };
        let o = CrossEntropyOptions::new().with_softcap(Some(s));
        ce_option_rejected(o, want, &format!("invalid option softcap = {shown}"));
    }
}

#[test]
fn gamma_negative_or_nan() {
    let t = [0_i64, 1, 2, 0];
    let (x, y) = unit_data(12);
    for (g, shown) in [(-0.5_f32, "-0.5"), (f32::NAN, "NaN"), (f32::INFINITY, "inf")] {
        let want = Error::InvalidOption { what: "gamma", value: g };
        let text = format!("invalid option gamma = {shown}");
        let mut all = focal_family(&X43, ROWS43, &t, &SoftmaxFocalOptions::new().with_gamma(g));
        all.extend(sigmoid_focal_family(&x, &y, &SigmoidFocalOptions::new().with_gamma(g)));
        expect(all, want, &text);
    }
    // gamma = 0 is accepted (and is exactly cross-entropy).
    let o = SoftmaxFocalOptions::new().with_gamma(0.0);
    let focal = xent::softmax_focal_loss(&X43, ROWS43, &t, &o).unwrap();
    let ce = xent::cross_entropy(&X43, ROWS43, &t, &CrossEntropyOptions::new()).unwrap();
    close("gamma 0", f64::from(focal), f64::from(ce), 1e-6);
}

#[test]
fn sigmoid_focal_alpha_nan() {
    let (x, y) = unit_data(12);
    let want = Error::InvalidOption { what: "alpha", value: f32::NAN };
    expect(
        sigmoid_focal_family(&x, &y, &SigmoidFocalOptions::new().with_alpha(f32::NAN)),
        want,
        "invalid option alpha = NaN",
    );
    // A negative alpha switches the balance off; it is not an error.
    expect_ok(sigmoid_focal_family(&x, &y, &SigmoidFocalOptions::new().with_alpha(-1.0)));
}

// ---------------------------------------------------------------------------------------
// What PyTorch accepts.
// ---------------------------------------------------------------------------------------

#[test]
fn label_smoothing_one_is_accepted() {
    let t = [2_i64, 0, 1, 1];
    let o = CrossEntropyOptions::new().with_label_smoothing(1.0);
    expect_ok(ce_family(&X43, ROWS43, &t, &o));
    // eps = 1: every position's loss is lse - mean(x), whatever its target.
    let (per, mean, sum) = ce_ref(&X43, 3, &t, None, 1.0, -100);
    for (n, &p) in per.iter().enumerate() {
        let row: Vec<f64> = X43[n * 3..n * 3 + 3].iter().map(|&v| f64::from(v)).collect();
        close("per", p, lse(&row) - row.iter().sum::<f64>() / 3.0, 1e-14);
    }
    close("mean", f64::from(xent::cross_entropy(&X43, ROWS43, &t, &o).unwrap()), mean, 1e-6);
    close(
        "scalar mean",
        xent::scalar::cross_entropy::<f64, _, _>(&X43, ROWS43, &t, &o).unwrap(),
        mean,
        1e-12,
    );
    let sum_o = o.with_reduction(Reduction::Sum);
    close("sum", f64::from(xent::cross_entropy(&X43, ROWS43, &t, &sum_o).unwrap()), sum, 1e-6);
    // Soft targets with eps = 1 are uniform.
    let soft = [1.0_f32, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.5, 0.5, 0.0];
    let po = ProbsOptions::new().with_label_smoothing(1.0);
    let want = per.iter().sum::<f64>() / 4.0;
    close("probs", f64::from(xent::cross_entropy_probs(&X43, ROWS43, &soft, &po).unwrap()), want, 1e-6);
    close(
        "probs64",
        xent::scalar::cross_entropy_probs::<f64, _, _>(&X43, ROWS43, &soft, &po).unwrap(),
        want,
        1e-12,
    );
}

#[test]
fn negative_class_weights_are_accepted() {
    let t = [0_i64, 1, 2, 1];
    let w = [-1.0_f32, 2.0, 0.5];
    let o = CrossEntropyOptions::new().with_weight(Some(&w));
    expect_ok(class_families(&X43, ROWS43, &t, -100, Some(&w)));
    let (per, mean, sum) = ce_ref(&X43, 3, &t, Some(&w), 0.0, -100);
    close("mean", f64::from(xent::cross_entropy(&X43, ROWS43, &t, &o).unwrap()), mean, 1e-6);
    close(
        "scalar mean",
        xent::scalar::cross_entropy::<f64, _, _>(&X43, ROWS43, &t, &o).unwrap(),
        mean,
        1e-12,
    );
    let so = o.with_reduction(Reduction::Sum);
    close("sum", f64::from(xent::cross_entropy(&X43, ROWS43, &t, &so).unwrap()), sum, 1e-6);
    let mut out = [0.0_f32; 4];
    xent::cross_entropy_per_position(&X43, ROWS43, &t, &o, &mut out).unwrap();
    assert!(out[0] < 0.0, "a negative weight gives a negative loss: {out:?}");
    for n in 0..4 {
        close("per", f64::from(out[n]), per[n], 1e-6);
    }
    // Gradient: w[y] / Σ w[y] * (softmax - onehot).
    let mut g = [0.0_f32; 12];
    xent::cross_entropy_with_grad(&X43, ROWS43, &t, &o, &mut g).unwrap();
    let w_total: f64 = t.iter().map(|&y| f64::from(w[y as usize])).sum();
    for n in 0..4 {
        let row: Vec<f64> = X43[n * 3..n * 3 + 3].iter().map(|&v| f64::from(v)).collect();
        let l = lse(&row);
        let y = t[n] as usize;
        for c in 0..3 {
            let want = f64::from(w[y]) / w_total * ((row[c] - l).exp() - f64::from(u8::from(c == y)));
            close("grad", f64::from(g[n * 3 + c]), want, 1e-6);
        }
    }
    // nll_loss: -Σ w[y] x[y] / Σ w[y].
    let want =
        -t.iter().enumerate().map(|(n, &y)| f64::from(w[y as usize] * X43[n * 3 + y as usize])).sum::<f64>()
            / w_total;
    let no = NllOptions::new().with_weight(Some(&w));
    close("nll", f64::from(xent::nll_loss(&X43, ROWS43, &t, &no).unwrap()), want, 1e-6);
    close("nll64", xent::scalar::nll_loss::<f64, _, _>(&X43, ROWS43, &t, &no).unwrap(), want, 1e-12);
    // Soft targets and the element-wise losses take negative weights too.
    expect_ok(probs_family(&X43, ROWS43, &[0.25; 12], &ProbsOptions::new().with_weight(Some(&w))));
    let (x, y) = unit_data(12);
    expect_ok(bce_family(&x, &y, &BceOptions::new().with_weight(Some(&w))));
    let lo = BceWithLogitsOptions::new().with_weight(Some(&w)).with_pos_weight(Some(&w));
    expect_ok(logits_family(&x, &y, &lo));
}

#[track_caller]
fn nan_and_zero(name: &str, mean: f64, sum: f64) {
    assert!(mean.is_nan(), "{name}: mean of nothing is {mean}, want NaN");
    assert_eq!(sum, 0.0, "{name}: sum of nothing");
}

#[test]
fn empty_batch_mean_nan_sum_zero() {
    let w = [1.0_f32, 2.0, 3.0];
    let heavy = CrossEntropyOptions::new()
        .with_weight(Some(&w))
        .with_label_smoothing(0.1)
        .with_z_loss(1e-3)
        .with_softcap(Some(5.0));
    for lay in [Layout::rows(0, 3), Layout::channel_first(2, 3, 0), Layout::channel_first(0, 3, 4)] {
        let t: [i64; 0] = [];
        let x: [f32; 0] = [];
        expect_ok(class_families(&x, lay, &t, -100, None));
        expect_ok(prim_family(&x, lay));
        for o in [CrossEntropyOptions::new(), heavy] {
            let s = o.with_reduction(Reduction::Sum);
            let (mut g, mut g64) = ([0f32; 0], [0f64; 0]);
            nan_and_zero(
                "cross_entropy",
                f64::from(xent::cross_entropy(&x, lay, &t, &o).unwrap()),
                f64::from(xent::cross_entropy(&x, lay, &t, &s).unwrap()),
            );
            nan_and_zero(
                "cross_entropy_with_grad",
                f64::from(xent::cross_entropy_with_grad(&x, lay, &t, &o, &mut g).unwrap()),
                f64::from(xent::cross_entropy_with_grad(&x, lay, &t, &s, &mut g).unwrap()),
            );
            nan_and_zero(
                "scalar::cross_entropy",
                xent::scalar::cross_entropy::<f64, _, _>(&x, lay, &t, &o).unwrap(),
                xent::scalar::cross_entropy::<f64, _, _>(&x, lay, &t, &s).unwrap(),
            );
            nan_and_zero(
                "scalar::cross_entropy_with_grad",
                xent::scalar::cross_entropy_with_grad(&x, lay, &t, &o, &mut g64).unwrap(),
                xent::scalar::cross_entropy_with_grad(&x, lay, &t, &s, &mut g64).unwrap(),
            );
        }
        let (fo, fs) =
            (SoftmaxFocalOptions::new(), SoftmaxFocalOptions::new().with_reduction(Reduction::Sum));
        nan_and_zero(
            "softmax_focal_loss",
            f64::from(xent::softmax_focal_loss(&x, lay, &t, &fo).unwrap()),
            f64::from(xent::softmax_focal_loss(&x, lay, &t, &fs).unwrap()),
        );
        nan_and_zero(
            "scalar::softmax_focal_loss",
            xent::scalar::softmax_focal_loss::<f64, _, _>(&x, lay, &t, &fo).unwrap(),
            xent::scalar::softmax_focal_loss::<f64, _, _>(&x, lay, &t, &fs).unwrap(),
        );
        let (no, ns) = (NllOptions::new(), NllOptions::new().with_reduction(Reduction::Sum));
        nan_and_zero(
            "nll_loss",
            f64::from(xent::nll_loss(&x, lay, &t, &no).unwrap()),
            f64::from(xent::nll_loss(&x, lay, &t, &ns).unwrap()),
        );
        nan_and_zero(
            "scalar::nll_loss",
            xent::scalar::nll_loss::<f64, _, _>(&x, lay, &t, &no).unwrap(),
            xent::scalar::nll_loss::<f64, _, _>(&x, lay, &t, &ns).unwrap(),
        );
        // Soft targets: the sum is -0.0, as in PyTorch.
        let (po, ps) = (ProbsOptions::new(), ProbsOptions::new().with_reduction(Reduction::Sum));
        let (m, s) = (
            xent::cross_entropy_probs(&x, lay, &x, &po).unwrap(),
            xent::cross_entropy_probs(&x, lay, &x, &ps).unwrap(),
        );
        nan_and_zero("cross_entropy_probs", f64::from(m), f64::from(s));
        assert!(s.is_sign_negative(), "cross_entropy_probs: empty sum is {s}, want -0.0");
        let (m, s) = (
            xent::scalar::cross_entropy_probs::<f64, _, _>(&x, lay, &x, &po).unwrap(),
            xent::scalar::cross_entropy_probs::<f64, _, _>(&x, lay, &x, &ps).unwrap(),
        );
        nan_and_zero("scalar::cross_entropy_probs", m, s);
        assert!(s.is_sign_negative(), "scalar::cross_entropy_probs: empty sum is {s}, want -0.0");
    }
    // Element-wise losses over no elements.
    let e: [f32; 0] = [];
    let (bo, bs) = (BceOptions::new(), BceOptions::new().with_reduction(Reduction::Sum));
    nan_and_zero(
        "binary_cross_entropy",
        f64::from(xent::binary_cross_entropy(&e, &e, &bo).unwrap()),
        f64::from(xent::binary_cross_entropy(&e, &e, &bs).unwrap()),
    );
    nan_and_zero(
        "scalar::binary_cross_entropy",
        xent::scalar::binary_cross_entropy::<f64, _>(&e, &e, &bo).unwrap(),
        xent::scalar::binary_cross_entropy::<f64, _>(&e, &e, &bs).unwrap(),
    );
    let (lo, ls) = (BceWithLogitsOptions::new(), BceWithLogitsOptions::new().with_reduction(Reduction::Sum));
    nan_and_zero(
        "binary_cross_entropy_with_logits",
        f64::from(xent::binary_cross_entropy_with_logits(&e, &e, &lo).unwrap()),
        f64::from(xent::binary_cross_entropy_with_logits(&e, &e, &ls).unwrap()),
    );
    nan_and_zero(
        "scalar::binary_cross_entropy_with_logits",
        xent::scalar::binary_cross_entropy_with_logits::<f64, _>(&e, &e, &lo).unwrap(),
        xent::scalar::binary_cross_entropy_with_logits::<f64, _>(&e, &e, &ls).unwrap(),
    );
    let (so, ss) = (SigmoidFocalOptions::new(), SigmoidFocalOptions::new().with_reduction(Reduction::Sum));
    nan_and_zero(
        "sigmoid_focal_loss",
        f64::from(xent::sigmoid_focal_loss(&e, &e, &so).unwrap()),
        f64::from(xent::sigmoid_focal_loss(&e, &e, &ss).unwrap()),
    );
    nan_and_zero(
        "scalar::sigmoid_focal_loss",
        xent::scalar::sigmoid_focal_loss::<f64, _>(&e, &e, &so).unwrap(),
        xent::scalar::sigmoid_focal_loss::<f64, _>(&e, &e, &ss).unwrap(),
    );
}

#[test]
fn all_targets_ignored_mean_nan_sum_zero_grad_zero() {
    let w = [1.0_f32, -2.0, 3.0];
    let heavy = CrossEntropyOptions::new()
        .with_weight(Some(&w))
        .with_label_smoothing(0.1)
        .with_z_loss(1e-3)
        .with_softcap(Some(5.0));
    let x = varied(20, 3);
    let (rows, cf) = (Layout::rows(20, 3), Layout::channel_first(2, 3, 10));
    for lay in [rows, cf] {
        for ignore in [-100_i64, 2] {
            let t = vec![ignore; 20];
            for base in [CrossEntropyOptions::new(), heavy] {
                let o = base.with_ignore_index(ignore);
                let s = o.with_reduction(Reduction::Sum);
                nan_and_zero(
                    "cross_entropy",
                    f64::from(xent::cross_entropy(&x, lay, &t, &o).unwrap()),
                    f64::from(xent::cross_entropy(&x, lay, &t, &s).unwrap()),
                );
                nan_and_zero(
                    "scalar::cross_entropy",
                    xent::scalar::cross_entropy::<f64, _, _>(&x, lay, &t, &o).unwrap(),
                    xent::scalar::cross_entropy::<f64, _, _>(&x, lay, &t, &s).unwrap(),
                );
                for opts in [o, s] {
                    let mut g = vec![7.0_f32; 60];
                    let _ = xent::cross_entropy_with_grad(&x, lay, &t, &opts, &mut g).unwrap();
                    assert!(g.iter().all(|&v| v == 0.0), "grad {g:?}");
                    let mut g64 = vec![7.0_f64; 60];
                    let _ = xent::scalar::cross_entropy_with_grad(&x, lay, &t, &opts, &mut g64).unwrap();
                    assert!(g64.iter().all(|&v| v == 0.0), "scalar grad {g64:?}");
                    let mut xi = x.clone();
                    let _ = xent::cross_entropy_with_grad_in_place(&mut xi, lay, &t, &opts).unwrap();
                    assert!(xi.iter().all(|&v| v == 0.0), "in place {xi:?}");
                    let mut xh = widen::<f16>(&x);
                    let _ =
                        xent::scalar::cross_entropy_with_grad_in_place::<f64, _, _>(&mut xh, lay, &t, &opts);
                    assert!(xh.iter().all(|&v| v.to_f32() == 0.0), "scalar in place {xh:?}");
                    let mut out = [7.0_f32; 20];
                    xent::cross_entropy_per_position(&x, lay, &t, &opts, &mut out).unwrap();
                    assert_eq!(out, [0.0; 20]);
                }
            }
            let fo = SoftmaxFocalOptions::new().with_ignore_index(ignore).with_weight(Some(&w));
            let fs = fo.with_reduction(Reduction::Sum);
            nan_and_zero(
                "softmax_focal_loss",
                f64::from(xent::softmax_focal_loss(&x, lay, &t, &fo).unwrap()),
                f64::from(xent::softmax_focal_loss(&x, lay, &t, &fs).unwrap()),
            );
            let mut g = vec![7.0_f32; 60];
            let _ = xent::softmax_focal_loss_with_grad(&x, lay, &t, &fo, &mut g).unwrap();
            assert!(g.iter().all(|&v| v == 0.0), "focal grad {g:?}");
            let mut g64 = vec![7.0_f64; 60];
            let _ = xent::scalar::softmax_focal_loss_with_grad(&x, lay, &t, &fo, &mut g64).unwrap();
            assert!(g64.iter().all(|&v| v == 0.0), "scalar focal grad {g64:?}");
            let no = NllOptions::new().with_ignore_index(ignore).with_weight(Some(&w));
            let ns = no.with_reduction(Reduction::Sum);
            nan_and_zero(
                "nll_loss",
                f64::from(xent::nll_loss(&x, lay, &t, &no).unwrap()),
                f64::from(xent::nll_loss(&x, lay, &t, &ns).unwrap()),
            );
            nan_and_zero(
                "scalar::nll_loss",
                xent::scalar::nll_loss::<f64, _, _>(&x, lay, &t, &no).unwrap(),
                xent::scalar::nll_loss::<f64, _, _>(&x, lay, &t, &ns).unwrap(),
            );
            let mut g = vec![7.0_f32; 60];
            let _ = xent::nll_loss_with_grad(&x, lay, &t, &no, &mut g).unwrap();
            assert!(g.iter().all(|&v| v == 0.0), "nll grad {g:?}");
            let mut out = [7.0_f32; 20];
            xent::gather(&x, lay, &t, ignore, &mut out).unwrap();
            assert_eq!(out, [0.0; 20]);
            let mut sc = [Score { loss: 7.0, above: 7, counted: true }; 20];
            xent::score_into(&x, lay, &t, ignore, &mut sc).unwrap();
            assert!(sc.iter().all(|s| *s == Score { loss: 0.0, above: 0, counted: false }));
        }
    }
    // Zero classes, every target ignored: NaN, not an error.
    let lay = Layout::rows(2, 0);
    let m = xent::cross_entropy::<f32, i64>(&[], lay, &[-100, -100], &CrossEntropyOptions::new()).unwrap();
    assert!(m.is_nan());
    let m =
        xent::scalar::cross_entropy::<f64, f32, i64>(&[], lay, &[-100, -100], &CrossEntropyOptions::new());
    assert!(m.unwrap().is_nan());
}

#[test]
fn in_place_gradient_error_leaves_logits_unchanged() {
    fn check<T: Element>() {
        let x = widen::<T>(&varied(40, 3));
        let lay = Layout::rows(40, 3);
        let mut t = vec![1_i64; 40];
        t[39] = 3; // the last position: every earlier row would already be written
        let o = CrossEntropyOptions::new();
        let want = Err(Error::TargetOutOfRange { position: 39, target: 3, classes: 3 });
        let mut xi = x.clone();
        assert_eq!(xent::cross_entropy_with_grad_in_place(&mut xi, lay, &t, &o), want);
        assert_eq!(xi, x, "{}", T::DTYPE);
        let mut xi = x.clone();
        assert_eq!(
            xent::scalar::cross_entropy_with_grad_in_place::<f64, _, _>(&mut xi, lay, &t, &o),
            want.map(f64::from)
        );
        assert_eq!(xi, x, "scalar {}", T::DTYPE);
        // Channel-first, bad target early, every option on.
        let w = [0.5_f32, 1.0, 2.0];
        let heavy =
            o.with_weight(Some(&w)).with_label_smoothing(0.2).with_z_loss(1e-3).with_softcap(Some(4.0));
        let lay = Layout::channel_first(2, 3, 20);
        let mut t = vec![2_i64; 40];
        t[3] = -7;
        let want = Err(Error::TargetOutOfRange { position: 3, target: -7, classes: 3 });
        let mut xi = x.clone();
        assert_eq!(xent::cross_entropy_with_grad_in_place(&mut xi, lay, &t, &heavy), want);
        assert_eq!(xi, x, "{}", T::DTYPE);
        let mut xi = x.clone();
        assert_eq!(
            xent::scalar::cross_entropy_with_grad_in_place::<f64, _, _>(&mut xi, lay, &t, &heavy),
            want.map(f64::from)
        );
        assert_eq!(xi, x, "scalar {}", T::DTYPE);
        // An invalid option, and a wrong target count.
        let mut xi = x.clone();
        let bad = o.with_label_smoothing(2.0);
        let r = xent::cross_entropy_with_grad_in_place(&mut xi, lay, &[0_i64; 40], &bad);
        assert_eq!(r, Err(Error::InvalidOption { what: "label_smoothing", value: 2.0 }));
        assert_eq!(xi, x);
        let r = xent::cross_entropy_with_grad_in_place(&mut xi, lay, &[0_i64; 39], &o);
        assert_eq!(r, Err(Error::LengthMismatch { what: "targets", expected: 40, found: 39 }));
        assert_eq!(xi, x);
        // The same call with a good target does write (so the checks above can fail).
        t[3] = 0;
        xent::cross_entropy_with_grad_in_place(&mut xi, lay, &t, &heavy).unwrap();
        assert_ne!(xi, x);
    }
    check::<f32>();
    check::<f16>();
    check::<bf16>();
}

#[test]
fn lse_length_for_the_two_pass_backward() {
    let x = [1.0_f32, 2.0, 3.0, 1.0, -1.0, 0.5];
    let (lay, t, o) = (Layout::rows(2, 3), [2_i64, 0], xent::CrossEntropyOptions::new());
    let mut short = [0.0_f32; 1];
    let want = Error::LengthMismatch { what: "lse", expected: 2, found: 1 };
    assert_eq!(xent::cross_entropy_with_lse(&x, lay, &t, &o, &mut short), Err(want));
    let mut g = [0.0_f32; 6];
    assert_eq!(xent::cross_entropy_backward(&x, lay, &t, &o, &short, &mut g), Err(want));
    let mut xi = x;
    assert_eq!(xent::cross_entropy_backward_in_place(&mut xi, lay, &t, &o, &short), Err(want));
    assert_eq!(xi, x, "logits unchanged on error");
    let mut s64 = [0.0_f64; 3];
    assert_eq!(
        xent::scalar::cross_entropy_with_lse(&x, lay, &t, &o, &mut s64),
        Err(Error::LengthMismatch { what: "lse", expected: 2, found: 3 })
    );
    assert_eq!(want.to_string(), "lse has length 1, expected 2");
}
