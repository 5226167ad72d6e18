//! A `#![no_std]` staticlib calling xent: it links only if nothing pulls in std (see
//! `Cargo.toml`).
#![no_std]

use xent::{
    BceWithLogitsOptions, CrossEntropyOptions, Layout, ProbsOptions, Score, SoftmaxFocalOptions, f16,
};

/// This crate's panic handler; a second one (std's) is a build error, which is the check.
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {}
}

/// Runs a few xent losses on logits derived from `seed`, in f32 and in f16, and returns
/// the sum of their results (NaN if any call failed).
#[unsafe(no_mangle)]
pub extern "C" fn xent_nostd_check(seed: f32) -> f32 {
    const N: usize = 4;
    const C: usize = 11;
    let mut x = [0.0_f32; N * C];
    for (i, v) in x.iter_mut().enumerate() {
        *v = seed * ((i * 7 % 13) as f32 - 6.0) / 4.0;
    }
    let targets = [3_i64, -100, 0, 10];
    let layout = Layout::rows(N, C);
    let w = [1.0_f32; C];

    let run = || -> Result<f32, xent::Error> {
        let ce =
            xent::cross_entropy(&x, layout, &targets, &CrossEntropyOptions::new().with_label_smoothing(0.1))?;
        let mut grad = [0.0_f32; N * C];
        let ce_grad = xent::cross_entropy_with_grad(
            &x,
            layout,
            &targets,
            &CrossEntropyOptions::new().with_weight(Some(&w)),
            &mut grad,
        )?;

        let mut h = [f16::ZERO; N * C];
        for (d, &s) in h.iter_mut().zip(&x) {
            *d = f16::from_f32(s);
        }
        let focal = xent::softmax_focal_loss(&h, layout, &targets, &SoftmaxFocalOptions::new())?;
        let ce16 =
            xent::cross_entropy_with_grad_in_place(&mut h, layout, &targets, &CrossEntropyOptions::new())?;

        let mut soft = [0.0_f32; N * C];
        xent::softmax_into(&x, layout, &mut soft)?;
        let probs = xent::cross_entropy_probs(&x, layout, &soft, &ProbsOptions::new())?;

        let y = [1.0_f32, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0];
        let bce = xent::binary_cross_entropy_with_logits(&x[..C], &y, &BceWithLogitsOptions::new())?;

        let mut scores = [Score::default(); N];
        xent::score_into(&h, layout, &targets, -100, &mut scores)?;
        let lse = xent::log_sum_exp(&x[..C]) + xent::log_sum_exp(&h[C..2 * C]);

        let top1 = scores.iter().filter(|s| s.top_k(1)).count() as f32;
        Ok(ce + ce_grad + grad[0] + focal + ce16 + h[0].to_f32() + probs + bce + lse + top1)
    };
    run().unwrap_or(f32::NAN)
}
