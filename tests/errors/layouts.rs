//! Layouts: empty shapes and sizes that overflow.

use super::*;

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
