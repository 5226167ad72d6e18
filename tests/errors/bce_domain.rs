//! `binary_cross_entropy`'s domain: inputs and targets outside `[0, 1]`.

use super::*;

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
