//! The fused gradient in a training step: a linear classifier on synthetic data, trained by
//! plain SGD, its loss printed as it goes down.
//!
//! ```text
//! cargo run --release --example train_step
//! ```
//!
//! Each step computes the logits `x W^T + b`, then one call of
//! [`xent::cross_entropy_with_grad_in_place`] returns the mean loss and overwrites the
//! logits with `d(loss)/d(logits)` (already divided by the batch size, as the mean's
//! gradient is), from which the step takes the weights' gradient and updates them.

use xent::{CrossEntropyOptions, Layout, cross_entropy_with_grad_in_place};

/// Input features, classes, examples in the batch.
const D: usize = 4;
const C: usize = 3;
const N: usize = 64;

fn main() -> Result<(), xent::Error> {
    // Synthetic data: class k's examples are scattered around a centre of their own.
    let mut seed = 0x2545_f491_u32;
    let mut uniform = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed as f32 / u32::MAX as f32 - 0.5
    };
    let centres = [[2.0, 0.0, -1.0, 0.5], [-1.0, 2.0, 0.0, -0.5], [0.0, -2.0, 1.5, 0.0]];
    let targets: Vec<i64> = (0..N).map(|i| (i % C) as i64).collect();
    let x: Vec<f32> =
        targets.iter().flat_map(|&k| centres[k as usize].map(|m| m + 2.0 * uniform())).collect();

    // The model: logits = x W^T + b, with W of shape (C, D).
    let mut w = [0.0_f32; C * D];
    let mut b = [0.0_f32; C];
    let mut logits = vec![0.0_f32; N * C];
    let layout = Layout::class_last(&[N, C])?;
    let opts = CrossEntropyOptions::new().with_label_smoothing(0.05);
    let lr = 0.5;

    for step in 0..=20 {
        // Forward: the logits of the batch.
        for (row, xi) in logits.chunks_exact_mut(C).zip(x.chunks_exact(D)) {
            for (k, out) in row.iter_mut().enumerate() {
                *out = b[k] + w[k * D..][..D].iter().zip(xi).map(|(w, x)| w * x).sum::<f32>();
            }
        }
        // Loss and gradient in one pass; `logits` now holds d(loss)/d(logits).
        let loss = cross_entropy_with_grad_in_place(&mut logits, layout, &targets, &opts)?;
        if step % 4 == 0 {
            println!("step {step:2}: loss {loss:.4}");
        }
        // Backward through the linear layer, then the SGD update.
        let (mut gw, mut gb) = ([0.0_f32; C * D], [0.0_f32; C]);
        for (g, xi) in logits.chunks_exact(C).zip(x.chunks_exact(D)) {
            for k in 0..C {
                gb[k] += g[k];
                for j in 0..D {
                    gw[k * D + j] += g[k] * xi[j];
                }
            }
        }
        w.iter_mut().zip(gw).for_each(|(w, g)| *w -= lr * g);
        b.iter_mut().zip(gb).for_each(|(b, g)| *b -= lr * g);
    }
    Ok(())
}
