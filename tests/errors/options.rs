//! Options out of their range: label smoothing, weights, soft-cap, focal parameters.

use super::*;

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
