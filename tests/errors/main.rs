//! The error catalogue: every condition that is an [`Error`], checked on every entry point
//! it applies to (the SIMD public path and its `xent::scalar` twin in f64), asserting the
//! exact variant, its fields and its `Display` text; and the edge cases PyTorch accepts
//! (label smoothing 1, negative class weights, an empty batch, every target ignored),
//! asserting their values.

mod accepted;
mod bce_domain;
mod layouts;
mod lengths;
mod options;
mod targets;

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

/// `n` probabilities inside (0, 1) and targets in [0, 1].
fn unit_data(n: usize) -> (Vec<f32>, Vec<f32>) {
    let p = (0..n).map(|i| ((i * 13 + 5) % 97) as f32 / 100.0 + 0.01).collect();
    let y = (0..n).map(|i| (i % 3) as f32 / 2.0).collect();
    (p, y)
}

fn widen<T: Element>(v: &[f32]) -> Vec<T> {
    v.iter().map(|&x| T::from_f32(x)).collect()
}
