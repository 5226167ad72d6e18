//! Batches give each row bit for bit what the row alone gives: streamed outputs, tiles of long rows.

use super::*;

/// Separate outputs of 24 MiB or more are written with non-temporal stores, and every
/// write pass prefetches the next tile: rows of odd length, starting one float past the
/// buffers' alignment, give each row exactly (bit for bit) what the row alone gives, which
/// is written the ordinary way. f32 and f16 logits; gradient (weights and smoothing),
/// log-softmax, probability-target gradient, and the gradient in place. Under Miri, whose
/// threshold is 4 KiB, 6 rows of 203: the streaming stores' unsafe code runs there.
#[test]
#[cfg_attr(not(target_arch = "x86_64"), ignore = "streaming stores and prefetches are x86's")]
fn streamed_outputs_match_single_rows() {
    crate::isa::init();
    let mut rng = Rng(78);
    let (n, c) = if cfg!(miri) { (6usize, 203usize) } else { (160, 40_003) };
    let lay = Layout::rows(n, c);
    // One float in: neither the logits nor the outputs start on a vector boundary.
    let xb: Vec<f32> = core::iter::once(0.0).chain((0..n).flat_map(|_| logits(&mut rng, c, None))).collect();
    let x = &xb[1..];
    let t: Vec<i64> = (0..n).map(|i| ((i * 7919) % c) as i64).collect();
    let w: Vec<f32> = (0..c).map(|_| 0.5 + rng.unit()).collect();
    let o = CrossEntropyOptions::new()
        .with_weight(Some(&w))
        .with_label_smoothing(0.1)
        .with_reduction(Reduction::Sum);
    let po = ProbsOptions::new().with_reduction(Reduction::Sum);
    let xh: Vec<f16> = x.iter().map(|&v| f16::from_f32(v)).collect();
    let mut out = vec![0.0f32; n * c + 1];
    let same = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(a, b)| a.to_bits() == b.to_bits());
    let one = Layout::rows(1, c);
    let rows = [0, 1, 2, n / 2, n - 2, n - 1];
    let mut r = vec![0.0f32; c];

    xent::log_softmax_into(x, lay, &mut out[1..]).unwrap();
    let probs: Vec<f32> = out[1..].iter().map(|v| v.exp()).collect();
    for i in rows {
        xent::log_softmax_into(&x[i * c..(i + 1) * c], one, &mut r).unwrap();
        assert!(same(&r, &out[1 + i * c..][..c]), "log-softmax row {i}");
    }
    xent::cross_entropy_with_grad(x, lay, &t, &o, &mut out[1..]).unwrap();
    for i in rows {
        xent::cross_entropy_with_grad(&x[i * c..(i + 1) * c], one, &t[i..=i], &o, &mut r).unwrap();
        assert!(same(&r, &out[1 + i * c..][..c]), "gradient row {i}");
    }
    xent::cross_entropy_with_grad(&xh, lay, &t, &o, &mut out[1..]).unwrap();
    for i in rows {
        xent::cross_entropy_with_grad(&xh[i * c..(i + 1) * c], one, &t[i..=i], &o, &mut r).unwrap();
        assert!(same(&r, &out[1 + i * c..][..c]), "f16 gradient row {i}");
    }
    xent::cross_entropy_probs_with_grad(x, lay, &probs, &po, &mut out[1..]).unwrap();
    for i in rows {
        let p = &probs[i * c..(i + 1) * c];
        xent::cross_entropy_probs_with_grad(&x[i * c..(i + 1) * c], one, p, &po, &mut r).unwrap();
        assert!(same(&r, &out[1 + i * c..][..c]), "probs gradient row {i}");
    }
    out[1..].copy_from_slice(x);
    xent::cross_entropy_with_grad_in_place(&mut out[1..], lay, &t, &o).unwrap();
    for i in rows {
        xent::cross_entropy_with_grad(&x[i * c..(i + 1) * c], one, &t[i..=i], &o, &mut r).unwrap();
        assert!(same(&r, &out[1 + i * c..][..c]), "in-place gradient row {i}");
    }
}

/// Long rows read twice (the gradient, probability targets' gradient, log-softmax) go in
/// tiles of fewer rows than short ones (so that a tile stays in L2): a batch must give
/// each row exactly what that row alone gives, across the tiles' boundaries.
#[test]
#[cfg_attr(miri, ignore = "rows of 40000 logits; the tiling is the same arithmetic as any batch")]
fn long_row_batches_match_single_rows() {
    crate::isa::init();
    let mut rng = Rng(77);
    // 160 KB and 20 KB rows: one row a tile, and a dozen.
    for c in [40_000usize, 5_000] {
        let n = 7;
        let lay = Layout::rows(n, c);
        let x: Vec<f32> = (0..n).flat_map(|_| logits(&mut rng, c, None)).collect();
        let t: Vec<i64> = (0..n).map(|i| ((i * 7919) % c) as i64).collect();
        let o = CrossEntropyOptions::new().with_reduction(Reduction::Sum).with_label_smoothing(0.1);
        let mut g = vec![0.0f32; n * c];
        let mut per = vec![0.0f32; n];
        xent::cross_entropy_with_grad(&x, lay, &t, &o, &mut g).unwrap();
        xent::cross_entropy_per_position(&x, lay, &t, &o, &mut per).unwrap();
        let mut ls = vec![0.0f32; n * c];
        xent::log_softmax_into(&x, lay, &mut ls).unwrap();
        let probs: Vec<f32> = ls.iter().map(|v| v.exp()).collect();
        let po = ProbsOptions::new().with_reduction(Reduction::Sum);
        let mut gp = vec![0.0f32; n * c];
        xent::cross_entropy_probs_with_grad(&x, lay, &probs, &po, &mut gp).unwrap();
        for i in 0..n {
            let row = i * c..(i + 1) * c;
            let one = Layout::rows(1, c);
            let mut g1 = vec![0.0f32; c];
            let l1 = xent::cross_entropy_with_grad(&x[row.clone()], one, &t[i..=i], &o, &mut g1).unwrap();
            assert_eq!(l1.to_bits(), per[i].to_bits(), "loss of row {i}, C = {c}");
            assert!(
                g1.iter().zip(&g[row.clone()]).all(|(a, b)| a.to_bits() == b.to_bits()),
                "gradient row {i}"
            );
            let mut ls1 = vec![0.0f32; c];
            xent::log_softmax_into(&x[row.clone()], one, &mut ls1).unwrap();
            assert!(
                ls1.iter().zip(&ls[row.clone()]).all(|(a, b)| a.to_bits() == b.to_bits()),
                "log-softmax row {i}"
            );
            let mut gp1 = vec![0.0f32; c];
            xent::cross_entropy_probs_with_grad(&x[row.clone()], one, &probs[row.clone()], &po, &mut gp1)
                .unwrap();
            assert!(
                gp1.iter().zip(&gp[row.clone()]).all(|(a, b)| a.to_bits() == b.to_bits()),
                "probs gradient row {i}"
            );
        }
    }
}
