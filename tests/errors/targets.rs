//! Target range: out-of-range and negative targets, on every class-index entry point.

use super::*;

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
