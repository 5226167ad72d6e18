//! The element-wise losses over every length and offset.

use super::*;

/// The element-wise losses over every length and offset, with weights and pos_weight.
fn binary_for<T: Element>(seed: u64) {
    let mut rng = Rng(seed);
    for n in 0..=MAX_LEN {
        for off in 0..OFFSETS.min(4) {
            let mut p: Vec<f32> = (0..n).map(|_| rng.unit()).collect();
            if n > 2 {
                p[0] = 0.0;
                p[n - 1] = 1.0;
                p[n / 2] = 1e-40;
            }
            // Odd offsets: hard labels only (BCE's one-log path); even: some soft targets.
            let hard = off % 2 == 1;
            let y: Vec<f32> = (0..n)
                .map(|i| if i % 3 == 0 && !hard { rng.unit() } else { ((i / 2 + i) % 2) as f32 })
                .collect();
            let mut xl = logits(&mut rng, n, None);
            if n > 3 {
                xl[1] = 100.0;
                xl[2] = -120.0;
            }
            let (pb, r) = at(&to::<T>(&p), off);
            let (yb, _) = at(&to::<T>(&y), off);
            let (xb, _) = at(&to::<T>(&xl), off);
            let (p, y, xl) = (&pb[r.clone()], &yb[r.clone()], &xb[r]);
            let w: Vec<f32> = (0..n.max(1)).map(|_| rng.unit() * 2.0).collect();
            let pw = [0.5f32, 3.0];
            let tag = format!("{} n={n} off={off}", T::DTYPE);
            let mut per = vec![0.0f32; n];
            let mut per64 = vec![0.0f64; n];
            let mut g = vec![0.0f32; n];
            let mut g64 = vec![0.0f64; n];

            let o = BceOptions::new()
                .with_weight(if n > 0 { Some(&w[..n]) } else { None })
                .with_reduction(Reduction::Sum);
            xent::binary_cross_entropy_per_position(p, y, &o, &mut per).unwrap();
            xent::scalar::binary_cross_entropy_per_position(p, y, &o, &mut per64).unwrap();
            xent::binary_cross_entropy_with_grad(p, y, &o, &mut g).unwrap();
            xent::scalar::binary_cross_entropy_with_grad(p, y, &o, &mut g64).unwrap();
            for i in 0..n {
                check(
                    &format!("bce[{i}] {tag}"),
                    f64::from(per[i]),
                    per64[i],
                    8.0 * EPS * (1.0 + per64[i].abs()),
                );
                check(
                    &format!("bce grad[{i}] {tag}"),
                    f64::from(g[i]),
                    g64[i],
                    8.0 * EPS * g64[i].abs() + 1e-30,
                );
            }

            let pwl = if n % 2 == 0 && n > 0 { Some(&pw[..]) } else { None };
            let o = BceWithLogitsOptions::new().with_pos_weight(pwl).with_reduction(Reduction::Sum);
            xent::binary_cross_entropy_with_logits_per_position(xl, y, &o, &mut per).unwrap();
            xent::scalar::binary_cross_entropy_with_logits_per_position(xl, y, &o, &mut per64).unwrap();
            xent::binary_cross_entropy_with_logits_with_grad(xl, y, &o, &mut g).unwrap();
            xent::scalar::binary_cross_entropy_with_logits_with_grad(xl, y, &o, &mut g64).unwrap();
            for i in 0..n {
                let xs = f64::from(xl[i].to_f32()).abs();
                check(
                    &format!("bce_logits[{i}] {tag}"),
                    f64::from(per[i]),
                    per64[i],
                    8.0 * EPS * (1.0 + xs + per64[i].abs()),
                );
                check(&format!("bce_logits grad[{i}] {tag}"), f64::from(g[i]), g64[i], 8.0 * EPS * 4.0);
            }

            let o = SigmoidFocalOptions::new().with_reduction(Reduction::Sum);
            xent::sigmoid_focal_loss_per_position(xl, y, &o, &mut per).unwrap();
            xent::scalar::sigmoid_focal_loss_per_position(xl, y, &o, &mut per64).unwrap();
            xent::sigmoid_focal_loss_with_grad(xl, y, &o, &mut g).unwrap();
            xent::scalar::sigmoid_focal_loss_with_grad(xl, y, &o, &mut g64).unwrap();
            for i in 0..n {
                let xs = f64::from(xl[i].to_f32()).abs();
                check(
                    &format!("sigmoid_focal[{i}] {tag}"),
                    f64::from(per[i]),
                    per64[i],
                    16.0 * EPS * (1.0 + xs + per64[i].abs()),
                );
                check(
                    &format!("sigmoid_focal grad[{i}] {tag}"),
                    f64::from(g[i]),
                    g64[i],
                    32.0 * EPS * (1.0 + xs),
                );
            }
        }
    }
}

#[test]
fn binary_f32() {
    crate::isa::init();
    binary_for::<f32>(21);
}

#[test]
fn binary_f16() {
    crate::isa::init();
    binary_for::<f16>(22);
}

#[test]
fn binary_bf16() {
    crate::isa::init();
    binary_for::<bf16>(23);
}
