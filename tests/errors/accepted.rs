//! What PyTorch accepts: edge cases that are values, not errors.

use super::*;

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
