//! Instruction counts of the xent kernels under valgrind (callgrind), with iai-callgrind
//! 0.16.1: a few fixed shapes per operation. Inputs are built by the `setup` functions of
//! `src/lib.rs` (not counted); only the call into xent is.
//!
//! Run through `.ci/icount.sh` (which builds with `RUSTFLAGS="-C
//! target-feature=+avx2,+fma,+f16c"`: valgrind cannot run AVX-512, so never
//! `target-cpu=native`) and compares with `benches/baseline/icount.tsv` through
//! `scripts/icount_compare.py`. Case names are `group/function/id`, e.g.
//! `ce/ce_fwd_f32/n16_c32000`.
//!
//! Building with `XENT_ICOUNT_SLOWDOWN=1` in the environment makes `ce_fwd_f32` do 1/8
//! more work (it also computes the loss of the first N/8 rows): a deliberate regression, to
//! see the gate fail without touching `src/`.

use std::hint::black_box;

use iai_callgrind::{library_benchmark, library_benchmark_group, main};
use xent::{
    BceOptions, BceWithLogitsOptions, CrossEntropyOptions, Layout, NllOptions, ProbsOptions,
    SigmoidFocalOptions, SoftmaxFocalOptions, bf16, f16,
};
use xent_icount::{
    Bin, Probs, Rows, bin_logits, bin_logits_bf16, bin_logits_grad, bin_probs, bin_probs_grad, channel_first,
    probs, rows_bf16, rows_f16, rows_f16_full, rows_f32, rows_f32_full, rows_f32_off1, rows_f32_per_row,
};

const SLOWDOWN: bool = option_env!("XENT_ICOUNT_SLOWDOWN").is_some();

// ---- primitives ---------------------------------------------------------------------

#[library_benchmark]
#[bench::n64_c4096(args = (64, 4096), setup = rows_f32_per_row)]
#[bench::n1024_c10(args = (1024, 10), setup = rows_f32_per_row)]
fn lse_f32(mut r: Rows<f32>) -> f32 {
    let lay = r.lay;
    xent::log_sum_exp_into(&r.x[r.off..], lay, &mut r.out).unwrap();
    r.out[0]
}

#[library_benchmark]
#[bench::n64_c4096(args = (64, 4096), setup = rows_f32_full)]
#[bench::n1024_c10(args = (1024, 10), setup = rows_f32_full)]
fn log_softmax_f32(mut r: Rows<f32>) -> f32 {
    let lay = r.lay;
    xent::log_softmax_into(&r.x[r.off..], lay, &mut r.out).unwrap();
    r.out[0]
}

#[library_benchmark]
#[bench::n64_c4096(args = (64, 4096), setup = rows_f32_full)]
fn softmax_f32(mut r: Rows<f32>) -> f32 {
    let lay = r.lay;
    xent::softmax_into(&r.x[r.off..], lay, &mut r.out).unwrap();
    r.out[0]
}

library_benchmark_group!(name = primitives; benchmarks = lse_f32, log_softmax_f32, softmax_f32);

// ---- cross-entropy, class targets ---------------------------------------------------

#[library_benchmark]
#[bench::n16_c32000(args = (16, 32000), setup = rows_f32)]
#[bench::n4_c128256(args = (4, 128_256), setup = rows_f32)]
#[bench::n64_c1000(args = (64, 1000), setup = rows_f32)]
#[bench::n1024_c31(args = (1024, 31), setup = rows_f32)]
#[bench::n1024_c10(args = (1024, 10), setup = rows_f32)]
#[bench::n4096_c5(args = (4096, 5), setup = rows_f32)]
fn ce_fwd_f32(r: Rows<f32>) -> f32 {
    let opts = CrossEntropyOptions::new();
    let loss = xent::cross_entropy(r.x(), r.lay, &r.t, &opts).unwrap();
    if SLOWDOWN {
        let (n, c) = (r.lay.outer(), r.lay.classes());
        let extra = black_box(n / 8).max(1);
        return loss
            + xent::cross_entropy(&r.x()[..extra * c], Layout::rows(extra, c), &r.t[..extra], &opts)
                .unwrap();
    }
    loss
}

#[library_benchmark]
#[bench::n16_c32000(args = (16, 32000), setup = rows_f32_off1)]
fn ce_fwd_f32_off1(r: Rows<f32>) -> f32 {
    xent::cross_entropy(r.x(), r.lay, &r.t, &CrossEntropyOptions::new()).unwrap()
}

#[library_benchmark]
#[bench::n16_c32000(args = (16, 32000), setup = rows_f32)]
fn ce_fwd_f32_ls01(r: Rows<f32>) -> f32 {
    xent::cross_entropy(r.x(), r.lay, &r.t, &CrossEntropyOptions::new().with_label_smoothing(0.1)).unwrap()
}

#[library_benchmark]
#[bench::n16_c32000(args = (16, 32000), setup = rows_f16)]
fn ce_fwd_f16(r: Rows<f16>) -> f32 {
    xent::cross_entropy(r.x(), r.lay, &r.t, &CrossEntropyOptions::new()).unwrap()
}

#[library_benchmark]
#[bench::n16_c32000(args = (16, 32000), setup = rows_bf16)]
fn ce_fwd_bf16(r: Rows<bf16>) -> f32 {
    xent::cross_entropy(r.x(), r.lay, &r.t, &CrossEntropyOptions::new()).unwrap()
}

#[library_benchmark]
#[bench::c4_32cube(args = (4, 32 * 32 * 32), setup = channel_first)]
fn ce_fwd_f32_nchw(r: Rows<f32>) -> f32 {
    xent::cross_entropy(r.x(), r.lay, &r.t, &CrossEntropyOptions::new()).unwrap()
}

#[library_benchmark]
#[bench::n4_c4096(args = (4, 4096), setup = rows_f32)]
fn ce_fwd_f32_scalar(r: Rows<f32>) -> f32 {
    xent::scalar::cross_entropy::<f32, _, _>(r.x(), r.lay, &r.t, &CrossEntropyOptions::new()).unwrap()
}

#[library_benchmark]
#[bench::n16_c32000(args = (16, 32000), setup = rows_f32_full)]
#[bench::n1024_c10(args = (1024, 10), setup = rows_f32_full)]
fn ce_fwdbwd_f32(mut r: Rows<f32>) -> f32 {
    let lay = r.lay;
    xent::cross_entropy_with_grad(&r.x[r.off..], lay, &r.t, &CrossEntropyOptions::new(), &mut r.out).unwrap()
}

#[library_benchmark]
#[bench::n16_c32000(args = (16, 32000), setup = rows_f16_full)]
fn ce_fwdbwd_f16(mut r: Rows<f16>) -> f32 {
    let lay = r.lay;
    xent::cross_entropy_with_grad(&r.x[r.off..], lay, &r.t, &CrossEntropyOptions::new(), &mut r.out).unwrap()
}

#[library_benchmark]
#[bench::n16_c32000(args = (16, 32000), setup = rows_f32)]
fn ce_fwdbwd_inplace_f32(mut r: Rows<f32>) -> f32 {
    let lay = r.lay;
    xent::cross_entropy_with_grad_in_place(&mut r.x, lay, &r.t, &CrossEntropyOptions::new()).unwrap()
}

#[library_benchmark]
#[bench::n16_c32000(args = (16, 32000), setup = rows_f32)]
fn softmax_focal_fwd_f32(r: Rows<f32>) -> f32 {
    xent::softmax_focal_loss(r.x(), r.lay, &r.t, &SoftmaxFocalOptions::new()).unwrap()
}

#[library_benchmark]
#[bench::n4096_c10(args = (4096, 10), setup = rows_f32)]
fn nll_fwd_f32(r: Rows<f32>) -> f32 {
    xent::nll_loss(r.x(), r.lay, &r.t, &NllOptions::new()).unwrap()
}

library_benchmark_group!(
    name = ce;
    benchmarks = ce_fwd_f32, ce_fwd_f32_off1, ce_fwd_f32_ls01, ce_fwd_f16, ce_fwd_bf16, ce_fwd_f32_nchw,
        ce_fwd_f32_scalar, ce_fwdbwd_f32, ce_fwdbwd_f16, ce_fwdbwd_inplace_f32, softmax_focal_fwd_f32,
        nll_fwd_f32
);

// ---- probability targets ------------------------------------------------------------

#[library_benchmark]
#[bench::n16_c4096(args = (16, 4096), setup = probs)]
#[bench::n1024_c10(args = (1024, 10), setup = probs)]
fn ce_probs_fwd_f32(p: Probs) -> f32 {
    xent::cross_entropy_probs(&p.x, p.lay, &p.p, &ProbsOptions::new()).unwrap()
}

library_benchmark_group!(name = probs_targets; benchmarks = ce_probs_fwd_f32);

// ---- binary -------------------------------------------------------------------------

#[library_benchmark]
#[bench::n65536(args = (65536,), setup = bin_probs)]
fn bce_fwd_f32(b: Bin<f32>) -> f32 {
    xent::binary_cross_entropy(&b.x, &b.y, &BceOptions::new()).unwrap()
}

#[library_benchmark]
#[bench::n65536(args = (65536,), setup = bin_probs_grad)]
fn bce_fwdbwd_f32(mut b: Bin<f32>) -> f32 {
    xent::binary_cross_entropy_with_grad(&b.x, &b.y, &BceOptions::new(), &mut b.g).unwrap()
}

#[library_benchmark]
#[bench::n65536(args = (65536,), setup = bin_logits)]
fn bce_logits_fwd_f32(b: Bin<f32>) -> f32 {
    xent::binary_cross_entropy_with_logits(&b.x, &b.y, &BceWithLogitsOptions::new()).unwrap()
}

#[library_benchmark]
#[bench::n65536(args = (65536,), setup = bin_logits_bf16)]
fn bce_logits_fwd_bf16(b: Bin<bf16>) -> f32 {
    xent::binary_cross_entropy_with_logits(&b.x, &b.y, &BceWithLogitsOptions::new()).unwrap()
}

#[library_benchmark]
#[bench::n65536(args = (65536,), setup = bin_logits_grad)]
fn bce_logits_fwdbwd_f32(mut b: Bin<f32>) -> f32 {
    xent::binary_cross_entropy_with_logits_with_grad(&b.x, &b.y, &BceWithLogitsOptions::new(), &mut b.g)
        .unwrap()
}

#[library_benchmark]
#[bench::n65536(args = (65536,), setup = bin_logits)]
fn sigmoid_focal_fwd_f32(b: Bin<f32>) -> f32 {
    xent::sigmoid_focal_loss(&b.x, &b.y, &SigmoidFocalOptions::new()).unwrap()
}

library_benchmark_group!(
    name = binary;
    benchmarks = bce_fwd_f32, bce_fwdbwd_f32, bce_logits_fwd_f32, bce_logits_fwd_bf16, bce_logits_fwdbwd_f32,
        sigmoid_focal_fwd_f32
);

main!(library_benchmark_groups = primitives, ce, probs_targets, binary);
