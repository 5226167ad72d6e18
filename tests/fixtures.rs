//! Every case of every golden file (computed by PyTorch in float64 from the exact rounded
//! inputs), through the public (fast) path, the scalar path in f32 and the scalar path in
//! f64: loss and gradient, within the tolerances of `tests/fixtures/README.md`.
//!
//! The directory is `tests/fixtures`, which must hold every family's file, unless
//! `XENT_FIXTURES` names another one holding any of them, in the same format. Every `*.json`
//! there must be a known family's, and every field a known one. Each family's line counts
//! its cases passed and failed on a level; every element out of tolerance is listed.

use serde_json::{Map, Value};
use std::path::PathBuf;
use xent::{
    BceOptions, BceWithLogitsOptions, CrossEntropyOptions, Element, Layout, NllOptions, ProbsOptions,
    Reduction, SigmoidFocalOptions, SoftmaxFocalOptions, bf16, f16,
};

const FAMILIES: [&str; 8] = [
    "cross_entropy",
    "cross_entropy_probs",
    "nll_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy_ext",
    "sigmoid_focal_loss",
    "softmax_focal_loss",
];

const KNOWN_FIELDS: [&str; 21] = [
    "name",
    "dtype",
    "input_shape",
    "input",
    "target_shape",
    "target",
    "weight",
    "weight_shape",
    "ignore_index",
    "label_smoothing",
    "pos_weight",
    "z_loss",
    "softcap",
    "alpha",
    "gamma",
    "reduction",
    "expected",
    "expected_grad",
    "note",
    "description",
    "seed",
];

fn num(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().expect("number"),
        Value::String(s) => match s.as_str() {
            "nan" => f64::NAN,
            "inf" => f64::INFINITY,
            "-inf" => f64::NEG_INFINITY,
            other => panic!("unknown number string {other:?}"),
        },
        other => panic!("not a number: {other}"),
    }
}

fn nums(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(num).collect()
}

fn opt_f32s(c: &Map<String, Value>, k: &str) -> Option<Vec<f32>> {
    c.get(k).filter(|v| !v.is_null()).map(|v| nums(v).into_iter().map(|x| x as f32).collect())
}

fn opt_f32(c: &Map<String, Value>, k: &str) -> Option<f32> {
    c.get(k).filter(|v| !v.is_null()).map(|v| num(v) as f32)
}

/// Which implementation evaluates a case.
#[derive(Copy, Clone, Debug, PartialEq)]
enum Path {
    Fast,
    FastInPlace,
    /// `cross_entropy_with_lse`, then `cross_entropy_backward` from those log-sum-exps.
    Backward,
    Scalar32,
    Scalar64,
}

struct Outcome {
    loss: Vec<f64>,
    grad: Vec<f64>,
}

fn widen<R: Into<f64> + Copy>(v: &[R]) -> Vec<f64> {
    v.iter().map(|&x| x.into()).collect()
}

/// Evaluates `case` of `family` on `path` with inputs stored as `T`.
fn eval<T: Element>(family: &str, c: &Map<String, Value>, path: Path) -> Option<Outcome> {
    let input: Vec<T> = nums(&c["input"]).into_iter().map(|v| T::from_f32(v as f32)).collect();
    let shape: Vec<usize> =
        c["input_shape"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
    let reduction = c["reduction"].as_str().unwrap();
    let red = if reduction == "mean" { Reduction::Mean } else { Reduction::Sum };
    let none = reduction == "none";
    let weight = opt_f32s(c, "weight");
    let w = weight.as_deref();
    let n = input.len();
    let layout = || Layout::from_shape(&shape).unwrap();
    let positions = || layout().positions().unwrap();
    let class_targets = || nums(&c["target"]).into_iter().map(|v| v as i64).collect::<Vec<i64>>();
    let soft_targets = || nums(&c["target"]).into_iter().map(|v| T::from_f32(v as f32)).collect::<Vec<T>>();

    // Runs `$f` (fast) or `$s` (scalar) for the loss (reduced or per position) and the
    // gradient of the (summed, for "none") loss.
    macro_rules! run3 {
        ($outlen:expr, |$o:ident| $per:expr, |$red:ident| $reduced:expr, |$gred:ident, $g:ident| $grad:expr) => {{
            let outlen = $outlen;
            let loss = if none {
                let mut $o = vec![Default::default(); outlen];
                $per.unwrap();
                widen(&$o)
            } else {
                let $red = red;
                vec![$reduced.unwrap().into()]
            };
            let $gred = if none { Reduction::Sum } else { red };
            let mut $g = vec![Default::default(); n];
            let _ = $grad.unwrap();
            (loss, widen(&$g))
        }};
    }
    macro_rules! dispatch {
        (|$o:ident, $red:ident, $gred:ident, $g:ident| $outlen:expr, fast($per_f:expr, $red_f:expr, $grad_f:expr), scalar($per_s:expr, $red_s:expr, $grad_s:expr)) => {
            match path {
                Path::Fast => {
                    let r: (Vec<f64>, Vec<f64>) = run3!(
                        $outlen,
                        |$o| {
                            let $o: &mut Vec<f32> = &mut $o;
                            $per_f
                        },
                        |$red| $red_f,
                        |$gred, $g| {
                            let $g: &mut Vec<f32> = &mut $g;
                            $grad_f
                        }
                    );
                    r
                }
                Path::Scalar32 => {
                    let r: (Vec<f64>, Vec<f64>) = run3!(
                        $outlen,
                        |$o| {
                            let $o: &mut Vec<f32> = &mut $o;
                            $per_s
                        },
                        |$red| {
                            let v: Result<f32, _> = $red_s;
                            v
                        },
                        |$gred, $g| {
                            let $g: &mut Vec<f32> = &mut $g;
                            $grad_s
                        }
                    );
                    r
                }
                Path::Scalar64 | Path::FastInPlace | Path::Backward => {
                    let r: (Vec<f64>, Vec<f64>) = run3!(
                        $outlen,
                        |$o| {
                            let $o: &mut Vec<f64> = &mut $o;
                            $per_s
                        },
                        |$red| {
                            let v: Result<f64, _> = $red_s;
                            v
                        },
                        |$gred, $g| {
                            let $g: &mut Vec<f64> = &mut $g;
                            $grad_s
                        }
                    );
                    r
                }
            }
        };
    }

    let (loss, grad) = match family {
        "cross_entropy" | "cross_entropy_ext" => {
            let t = class_targets();
            let base = CrossEntropyOptions::new()
                .with_weight(w)
                .with_ignore_index(c["ignore_index"].as_i64().unwrap())
                .with_label_smoothing(opt_f32(c, "label_smoothing").unwrap_or(0.0))
                .with_z_loss(opt_f32(c, "z_loss").unwrap_or(0.0))
                .with_softcap(opt_f32(c, "softcap"));
            if path == Path::Backward {
                let o = base.with_reduction(if none { Reduction::Sum } else { red });
                let mut lse = vec![0.0f32; positions()];
                let loss = xent::cross_entropy_with_lse(&input, layout(), &t, &o, &mut lse).unwrap();
                let mut g = vec![0.0f32; n];
                xent::cross_entropy_backward(&input, layout(), &t, &o, &lse, &mut g).unwrap();
                let loss = if none { Vec::new() } else { vec![f64::from(loss)] };
                return Some(Outcome { loss, grad: widen(&g) });
            }
            if path == Path::FastInPlace {
                let mut x = input.clone();
                let o = base.with_reduction(if none { Reduction::Sum } else { red });
                xent::cross_entropy_with_grad_in_place(&mut x, layout(), &t, &o).unwrap();
                let grad = x.iter().map(|v| f64::from(v.to_f32())).collect();
                return Some(Outcome { loss: Vec::new(), grad });
            }
            dispatch!(
                |o, r, gr, g| positions(),
                fast(
                    xent::cross_entropy_per_position(&input, layout(), &t, &base, o),
                    xent::cross_entropy(&input, layout(), &t, &base.with_reduction(r)),
                    xent::cross_entropy_with_grad(&input, layout(), &t, &base.with_reduction(gr), g)
                ),
                scalar(
                    xent::scalar::cross_entropy_per_position(&input, layout(), &t, &base, o),
                    xent::scalar::cross_entropy(&input, layout(), &t, &base.with_reduction(r)),
                    xent::scalar::cross_entropy_with_grad(&input, layout(), &t, &base.with_reduction(gr), g)
                )
            )
        }
        "softmax_focal_loss" => {
            if matches!(path, Path::FastInPlace | Path::Backward) {
                return None;
            }
            let t = class_targets();
            let base = SoftmaxFocalOptions::new()
                .with_weight(w)
                .with_ignore_index(c["ignore_index"].as_i64().unwrap())
                .with_gamma(opt_f32(c, "gamma").unwrap());
            dispatch!(
                |o, r, gr, g| positions(),
                fast(
                    xent::softmax_focal_loss_per_position(&input, layout(), &t, &base, o),
                    xent::softmax_focal_loss(&input, layout(), &t, &base.with_reduction(r)),
                    xent::softmax_focal_loss_with_grad(&input, layout(), &t, &base.with_reduction(gr), g)
                ),
                scalar(
                    xent::scalar::softmax_focal_loss_per_position(&input, layout(), &t, &base, o),
                    xent::scalar::softmax_focal_loss(&input, layout(), &t, &base.with_reduction(r)),
                    xent::scalar::softmax_focal_loss_with_grad(
                        &input,
                        layout(),
                        &t,
                        &base.with_reduction(gr),
                        g
                    )
                )
            )
        }
        "nll_loss" => {
            if matches!(path, Path::FastInPlace | Path::Backward) {
                return None;
            }
            let t = class_targets();
            let base =
                NllOptions::new().with_weight(w).with_ignore_index(c["ignore_index"].as_i64().unwrap());
            dispatch!(
                |o, r, gr, g| positions(),
                fast(
                    xent::nll_loss_per_position(&input, layout(), &t, &base, o),
                    xent::nll_loss(&input, layout(), &t, &base.with_reduction(r)),
                    xent::nll_loss_with_grad(&input, layout(), &t, &base.with_reduction(gr), g)
                ),
                scalar(
                    xent::scalar::nll_loss_per_position(&input, layout(), &t, &base, o),
                    xent::scalar::nll_loss(&input, layout(), &t, &base.with_reduction(r)),
                    xent::scalar::nll_loss_with_grad(&input, layout(), &t, &base.with_reduction(gr), g)
                )
            )
        }
        "cross_entropy_probs" => {
            if matches!(path, Path::FastInPlace | Path::Backward) {
                return None;
            }
            let t = soft_targets();
            let base = ProbsOptions::new()
                .with_weight(w)
                .with_label_smoothing(opt_f32(c, "label_smoothing").unwrap_or(0.0));
            dispatch!(
                |o, r, gr, g| positions(),
                fast(
                    xent::cross_entropy_probs_per_position(&input, layout(), &t, &base, o),
                    xent::cross_entropy_probs(&input, layout(), &t, &base.with_reduction(r)),
                    xent::cross_entropy_probs_with_grad(&input, layout(), &t, &base.with_reduction(gr), g)
                ),
                scalar(
                    xent::scalar::cross_entropy_probs_per_position(&input, layout(), &t, &base, o),
                    xent::scalar::cross_entropy_probs(&input, layout(), &t, &base.with_reduction(r)),
                    xent::scalar::cross_entropy_probs_with_grad(
                        &input,
                        layout(),
                        &t,
                        &base.with_reduction(gr),
                        g
                    )
                )
            )
        }
        "binary_cross_entropy" => {
            if matches!(path, Path::FastInPlace | Path::Backward) {
                return None;
            }
            let y = soft_targets();
            let base = BceOptions::new().with_weight(w);
            dispatch!(
                |o, r, gr, g| n,
                fast(
                    xent::binary_cross_entropy_per_position(&input, &y, &base, o),
                    xent::binary_cross_entropy(&input, &y, &base.with_reduction(r)),
                    xent::binary_cross_entropy_with_grad(&input, &y, &base.with_reduction(gr), g)
                ),
                scalar(
                    xent::scalar::binary_cross_entropy_per_position(&input, &y, &base, o),
                    xent::scalar::binary_cross_entropy(&input, &y, &base.with_reduction(r)),
                    xent::scalar::binary_cross_entropy_with_grad(&input, &y, &base.with_reduction(gr), g)
                )
            )
        }
        "binary_cross_entropy_with_logits" => {
            if matches!(path, Path::FastInPlace | Path::Backward) {
                return None;
            }
            let y = soft_targets();
            let pw = opt_f32s(c, "pos_weight");
            let base = BceWithLogitsOptions::new().with_weight(w).with_pos_weight(pw.as_deref());
            dispatch!(
                |o, r, gr, g| n,
                fast(
                    xent::binary_cross_entropy_with_logits_per_position(&input, &y, &base, o),
                    xent::binary_cross_entropy_with_logits(&input, &y, &base.with_reduction(r)),
                    xent::binary_cross_entropy_with_logits_with_grad(&input, &y, &base.with_reduction(gr), g)
                ),
                scalar(
                    xent::scalar::binary_cross_entropy_with_logits_per_position(&input, &y, &base, o),
                    xent::scalar::binary_cross_entropy_with_logits(&input, &y, &base.with_reduction(r)),
                    xent::scalar::binary_cross_entropy_with_logits_with_grad(
                        &input,
                        &y,
                        &base.with_reduction(gr),
                        g
                    )
                )
            )
        }
        "sigmoid_focal_loss" => {
            if matches!(path, Path::FastInPlace | Path::Backward) {
                return None;
            }
            let y = soft_targets();
            let base = SigmoidFocalOptions::new()
                .with_alpha(opt_f32(c, "alpha").unwrap())
                .with_gamma(opt_f32(c, "gamma").unwrap());
            dispatch!(
                |o, r, gr, g| n,
                fast(
                    xent::sigmoid_focal_loss_per_position(&input, &y, &base, o),
                    xent::sigmoid_focal_loss(&input, &y, &base.with_reduction(r)),
                    xent::sigmoid_focal_loss_with_grad(&input, &y, &base.with_reduction(gr), g)
                ),
                scalar(
                    xent::scalar::sigmoid_focal_loss_per_position(&input, &y, &base, o),
                    xent::scalar::sigmoid_focal_loss(&input, &y, &base.with_reduction(r)),
                    xent::scalar::sigmoid_focal_loss_with_grad(&input, &y, &base.with_reduction(gr), g)
                )
            )
        }
        other => panic!("unknown family {other}"),
    };
    Some(Outcome { loss, grad })
}

/// `|got - want| <= 1e-6 + rel * |want|`, NaN where NaN is due, the same infinities.
fn close(got: f64, want: f64, rel: f64) -> bool {
    if want.is_nan() {
        return got.is_nan();
    }
    if want.is_infinite() {
        return got == want;
    }
    (got - want).abs() <= 1e-6 + rel * want.abs()
}

/// Every element of `got` that is not [`close`] to `want`, one message each.
fn check(what: &str, name: &str, got: &[f64], want: &[f64], rel: f64) -> Vec<String> {
    if got.len() != want.len() {
        return vec![format!("{name}: {what} has {} values, expected {}", got.len(), want.len())];
    }
    let bad = got.iter().zip(want).enumerate().filter(|&(_, (&g, &w))| !close(g, w, rel));
    bad.map(|(i, (g, w))| format!("{name}: {what}[{i}] = {g:e}, expected {w:e}")).collect()
}

#[path = "support/isa.rs"]
mod isa;

/// The fixture directory and whether it must hold every family: `XENT_FIXTURES` (any subset
/// of the families), else the repository's `tests/fixtures` (all of them).
fn fixtures_dir() -> (PathBuf, bool) {
    match std::env::var_os("XENT_FIXTURES") {
        Some(d) => (PathBuf::from(d), false),
        None => (PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"), true),
    }
}

/// The family files of `dir` by family name: every `*.json` there must be one of
/// [`FAMILIES`], and with `all` every family must be there. Problems go to `failures`.
fn family_files(
    dir: &std::path::Path,
    all: bool,
    failures: &mut Vec<String>,
) -> Vec<(&'static str, PathBuf)> {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut found = Vec::new();
    for e in entries {
        let path = e.unwrap().path();
        if path.extension().and_then(|x| x.to_str()) != Some("json") {
            continue;
        }
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
        match FAMILIES.iter().find(|&&f| f == stem) {
            Some(&f) => found.push((f, path)),
            None => failures.push(format!("{}: unknown family {stem:?}", path.display())),
        }
    }
    found.sort_by_key(|(f, _)| FAMILIES.iter().position(|g| g == f));
    if all {
        for f in FAMILIES.iter().filter(|f| !found.iter().any(|(g, _)| g == *f)) {
            failures.push(format!("{}: missing family file {f}.json", dir.display()));
        }
    }
    found
}

fn main() {
    let (dir, all) = fixtures_dir();
    let mut failures = Vec::new();
    let files = family_files(&dir, all, &mut failures);
    let bad_files = failures.len();
    let (mut passed, mut failed) = (0, 0);
    // Every instruction set this CPU and build can run, in turn (the scalar paths again
    // each time: they are cheap).
    for level in isa::levels() {
        assert_eq!(xent::set_max_isa(level), level);
        for (family, path) in &files {
            let (p, f) = run_family(family, path, level, &mut failures);
            println!("fixtures {family} on {level}: {p} passed, {f} failed");
            (passed, failed) = (passed + p, failed + f);
        }
    }
    if !failures.is_empty() {
        eprintln!("{}", failures.join("\n"));
    }
    let (levels, dir) = (isa::levels(), dir.display());
    println!(
        "fixtures: {passed} cases passed, {failed} failed, {bad_files} bad files on {levels:?} from {dir}"
    );
    if !failures.is_empty() {
        std::process::exit(1);
    }
}

/// Every case of `family` (its file at `path`) on the active instruction set `level`:
/// the counts of cases passed and failed, every failing element listed in `failures`.
fn run_family(
    family: &str,
    path: &std::path::Path,
    level: xent::Isa,
    failures: &mut Vec<String>,
) -> (usize, usize) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["family"].as_str(), Some(family), "{}: family field", path.display());
    let cases = doc["cases"].as_array().unwrap();
    assert!(!cases.is_empty(), "{family}: no cases");
    let (mut passed, mut failed) = (0, 0);
    for case in cases {
        let c = case.as_object().unwrap();
        let name = format!("{family}/{}", c["name"].as_str().unwrap());
        for k in c.keys() {
            assert!(KNOWN_FIELDS.contains(&k.as_str()), "{name}: unknown field {k:?}");
        }
        let errors = run_case(family, &name, c, level);
        if errors.is_empty() {
            passed += 1;
        } else {
            failed += 1;
            failures.extend(errors);
        }
    }
    (passed, failed)
}

/// One case on every path: the elements out of tolerance.
fn run_case(family: &str, name: &str, c: &Map<String, Value>, level: xent::Isa) -> Vec<String> {
    let want_loss = match &c["expected"] {
        Value::Array(_) => nums(&c["expected"]),
        v => vec![num(v)],
    };
    let want_grad = nums(&c["expected_grad"]);
    let dtype = c["dtype"].as_str().unwrap();
    // Gradients stored over f16/bf16 logits carry one rounding to that type.
    let store_rel = match dtype {
        "f16" => 1e-3,
        "bf16" => 8e-3,
        _ => 0.0,
    };
    let mut errors = Vec::new();
    for path in [Path::Fast, Path::FastInPlace, Path::Backward, Path::Scalar32, Path::Scalar64] {
        let got = match dtype {
            "f32" => eval::<f32>(family, c, path),
            "f16" => eval::<f16>(family, c, path),
            "bf16" => eval::<bf16>(family, c, path),
            other => panic!("{name}: unknown dtype {other}"),
        };
        let Some(got) = got else { continue };
        let tag = format!("{name} [{path:?}, {level}]");
        let rel = 2e-5;
        if path == Path::FastInPlace {
            errors.extend(check("grad", &tag, &got.grad, &want_grad, rel + store_rel));
            continue;
        }
        if !got.loss.is_empty() || path != Path::Backward {
            errors.extend(check("loss", &tag, &got.loss, &want_loss, rel));
        }
        let mut grad_rel = rel;
        if path == Path::Backward {
            // The backward forms p = exp(x - lse) from the stored f32 lse, whose rounding
            // adds a relative error of about |lse| eps to p (documented on
            // cross_entropy_backward): allow 4 eps M with M the largest finite |x|.
            let m = nums(&c["input"]).iter().filter(|v| v.is_finite()).fold(0.0f64, |a, v| a.max(v.abs()));
            grad_rel += 4.0 * f64::from(f32::EPSILON) * m;
        }
        errors.extend(check("grad", &tag, &got.grad, &want_grad, grad_rel));
    }
    errors
}
