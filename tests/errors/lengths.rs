//! Lengths: logits, targets, weights, outputs and gradients that disagree with the layout.

use super::*;

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
