//! PyTorch-exact cross-entropy losses and their gradients, as `no_std`, allocation-free
//! SIMD kernels over caller-owned slices of f32, f16 or bf16.
//!
//! xent computes what `torch.nn.functional.cross_entropy`, `nll_loss`,
//! `binary_cross_entropy` and `binary_cross_entropy_with_logits` compute (every option,
//! every sharp edge: weighted means, ignored rows, label smoothing, `pos_weight`, NaN and
//! infinities), plus the extensions large-model trainers use (z-loss, logit soft-capping,
//! sigmoid and softmax focal losses), forward and backward, without a heap, a tensor
//! library or `std`. Inputs are borrowed slices and a [`Layout`]; outputs are an `f32`, or
//! written into your buffers; bad input is a typed [`Error`], never a panic. Every kernel
//! has a public scalar twin in [`scalar`], which the SIMD path is tested against.
//!
//! # Example
//!
//! ```
//! use xent::{cross_entropy, cross_entropy_with_grad, CrossEntropyOptions, Layout, Reduction};
//!
//! // Two rows of three classes; the second row's target is ignored (-100).
//! let logits = [1.0_f32, 2.0, 3.0, 1.0, -1.0, 0.5];
//! let targets = [2_i64, -100];
//! let layout = Layout::rows(2, 3);
//! let opts = CrossEntropyOptions::new().with_label_smoothing(0.1);
//!
//! let loss = cross_entropy(&logits, layout, &targets, &opts)?;
//! assert!((loss - 0.5076060).abs() < 1e-6);
//!
//! // Loss and gradient in one fused pass (the log-sum-exp of each row is computed once).
//! let mut grad = [0.0_f32; 6];
//! let same = cross_entropy_with_grad(&logits, layout, &targets, &opts, &mut grad)?;
//! assert_eq!(same, loss);
//! assert_eq!(&grad[3..], &[0.0, 0.0, 0.0]); // ignored row
//! # Ok::<(), xent::Error>(())
//! ```
//!
//! # What is here
//!
//! | loss | function | options | dtypes | forward | per position | gradient |
//! |---|---|---|---|---|---|---|
//! | cross-entropy, class targets | [`cross_entropy`] | weight, ignore_index, label smoothing, z-loss, soft-cap | f32, f16, bf16 | yes | [`cross_entropy_per_position`] | [`cross_entropy_with_grad`], [`cross_entropy_with_grad_in_place`]; two-pass: [`cross_entropy_with_lse`] then [`cross_entropy_backward`] |
//! | cross-entropy, probability targets | [`cross_entropy_probs`] | weight, label smoothing | f32, f16, bf16 | yes | [`cross_entropy_probs_per_position`] | [`cross_entropy_probs_with_grad`] |
//! | negative log-likelihood | [`nll_loss`] | weight, ignore_index | f32, f16, bf16 | yes | [`nll_loss_per_position`] | [`nll_loss_with_grad`] |
//! | binary cross-entropy | [`binary_cross_entropy`] | element weight | f32, f16, bf16 | yes | [`binary_cross_entropy_per_position`] | [`binary_cross_entropy_with_grad`] |
//! | BCE with logits | [`binary_cross_entropy_with_logits`] | weight, pos_weight | f32, f16, bf16 | yes | [`binary_cross_entropy_with_logits_per_position`] | [`binary_cross_entropy_with_logits_with_grad`] |
//! | sigmoid focal (torchvision) | [`sigmoid_focal_loss`] | alpha, gamma | f32, f16, bf16 | yes | [`sigmoid_focal_loss_per_position`] | [`sigmoid_focal_loss_with_grad`] |
//! | softmax focal | [`softmax_focal_loss`] | weight, ignore_index, gamma | f32, f16, bf16 | yes | [`softmax_focal_loss_per_position`] | [`softmax_focal_loss_with_grad`] |
//!
//! Every loss reduces by [`Reduction::Mean`] (PyTorch's denominator for that loss, which
//! each function documents) or [`Reduction::Sum`]; PyTorch's `reduction="none"` is the
//! `_per_position` function. Primitives: [`log_sum_exp`], [`log_sum_exp_into`],
//! [`log_softmax_into`], [`softmax_into`], [`gather`], the evaluation pass [`score_into`]
//! (loss and target rank in one read pass, for top-k accuracy), and [`LsePartial`], the
//! mergeable `(max, sum)` state of a log-sum-exp for vocabularies split across threads or
//! devices.
//!
//! Layouts: `(C)`, `(N, C)` and channel-first `(N, C, d1..dk)` ([`Layout`]); sequence
//! logits `(B, T, C)` are `B*T` rows ([`Layout::class_last`]), never PyTorch's silent
//! misreading of them. Class targets may be `i64`, `i32`, `u32` or `u8` ([`ClassIndex`]).
//!
//! # Instruction sets
//!
//! xent picks its instructions **at run time**: a plain `cargo add xent`, with no
//! `RUSTFLAGS`, runs the best backend the CPU and the OS support, chosen once per process
//! (CPUID and XGETBV, no `std` needed) and cached:
//!
//! | [`Isa`] | needs | vectors |
//! |---|---|---|
//! | [`Isa::Avx512`] | AVX-512 F, DQ, BW, VL (the x86-64-v4 set): Zen 4, Ice Lake and later Xeons | 16 f32 lanes |
//! | [`Isa::Avx2`] | AVX2, FMA, F16C (the x86-64-v3 set): x86 CPUs since 2013-2015 | 8 lanes |
//! | [`Isa::Portable`] | anything: SSE2 on x86_64, NEON on aarch64, arrays on Cortex-M | 8 lanes (`wide`) |
//!
//! [`isa()`] reports the level in use, [`detected_isa`] the best the machine has, and
//! [`set_max_isa`] caps it for the whole process: to reproduce results bit for bit across
//! machines, or to compare levels. Levels may differ in the last bits (fused multiply-add,
//! the exp's table or polynomial), always within the bounds of "Precision" below; one
//! level on one machine is deterministic.
//!
//! A build that enables a level statically (`-C target-cpu=x86-64-v3` or `-v4`) runs that
//! level only, with no detection and no atomic load; it then also runs only on CPUs that
//! have it (a `-v4` binary dies with SIGILL on a CPU without AVX-512). No flags are needed
//! for speed: the figures for every case and build are in `docs/BENCHMARKS.md` in the
//! repository.
//!
//! # Precision
//!
//! Inputs are loaded exactly (every f16 and bf16 value is an f32), computed and accumulated
//! in f32, and returned as f32. Long reductions over positions use compensated sums; the
//! per-row sums use several vector accumulators (the scalar path's, in [`scalar`], are
//! pairwise: in f32 it too meets the golden tolerance below at any `C`). Against the scalar path run in f64 (the
//! oracle), with `eps = 2^-23`, `M` the largest finite `|x|` of a row (of its capped logits
//! when soft-capped, where an infinite logit caps to a finite `±s`) and `C` its length,
//! `u = 4 eps (M + ln C + 1)`, the SIMD path is held by `tests/equivalence/` to:
//!
//! | operation | bound on the absolute error |
//! |---|---|
//! | [`log_sum_exp`] | `u` (channel-first layouts, whose positions sum their `C` terms in one accumulator each: `u + C eps / 2`) |
//! | [`log_softmax_into`] | `u + 2 eps |lp|` |
//! | [`softmax_into`] | `(u + 4 eps (1 + |lp|)) p + 1.3e-38` (values below about `1.2e-38` flush to 0) |
//! | cross-entropy per position | `1.5 u + 4 eps |loss|`; with label smoothing plus `eps_ls eps (6 M sqrt(C) + K W̄ D / 2)`, `W̄` the mean `|w_j|` (1 unweighted), `D` the row's spread (largest minus smallest finite capped logit), `K = C + 2` for channel-first layouts and rows of `C <= 16` (smoothing's one-pass sum `Σ w (x - x_t)` runs one running sum per position there) and `C / 16 + 6` for longer rows (16 or more lanes); its roundings may share a sign |
//! | cross-entropy, probability targets, per position | `max(1.5 C u A, K eps R / 2) + 8 eps T + 1.5 eps S + 2^-149 Σ (1 + |w|) |lp|` (the last for smoothed targets `t'` or products `w t'` below f32's normal range, rounded absolutely, as in PyTorch's f32 kernel): `A` the largest `|w t'|` (`t' = (1 - eps_ls) t + eps_ls / C`), `R = Σ |w t'| (|x - max| + lse_rel)`, `T = Σ |w t' lp|`, `S = Σ |w| (|(1 - eps_ls) t| + eps_ls / C) |lp|` (the rounding of `t'`), `K = C / 8 + 3` for rows and `C + 3` for channel-first layouts |
//! | cross-entropy mean / sum | the per-position bound (times N for sum) `+ 8 eps |result|` |
//! | cross-entropy gradient | `16 (u + eps)` per element |
//! | z-loss term | `2 z |lse|` times the LSE bound |
//! | soft-capped logits | each capped logit `s tanh(x/s)` carries a relative error of `4 eps` more (`tanh` from `exp(-2|y|)`, a Taylor polynomial below `|y| = 1/16`) |
//! | binary cross-entropy | `8 eps (1 + |loss|)`; gradient `8 eps |g|` |
//! | BCE with logits | `8 eps (1 + |x| + |loss|)`; gradient `32 eps` |
//! | sigmoid focal | `16 eps (1 + |x| + |loss|)` |
//!
//! The kernels behind them (unit tests sweep them against f64): `exp` at most 2 ULP on
//! `[-87.3, 0]` (the terms of a log-sum-exp and a gradient's probabilities take a cheaper
//! one, `(2 + |n| / 60) eps` relative with `n = round(t / ln 2)`), `expm1` on `(-inf, 0]`
//! 2 ULP (the target slot of column gradients), `ln` 2 ULP,
//! `ln(1 + e)` on `[0, 1]` within `2.1 eps` absolute (5 ULP; the logit losses' bounds
//! are absolute). A row's sum restarts its vector accumulators every block of at most 1024
//! values (256 for soft-capped rows), so no lane adds more than 128 terms in a row: the
//! bound holds at any `C` even where the roundings all share a sign (a long run of equal
//! small terms after one large). Both paths agree with PyTorch's float64 golden cases
//! within `1e-6 + 2e-5 |expected|` (`tests/fixtures.rs`). Label smoothing's sum
//! `Σ w (x - max)` is gathered in the same pass over memory as the log-sum-exp (from the
//! exp's own argument on 16-lane builds, beside the maximum on the others); like the
//! scalar path's, it overflows f32 (giving an infinite loss) only when a row's spread
//! times the weights' total passes `f32::MAX`, i.e. for logits near `±1e38`.
//! Reductions over positions accumulate in f32, as PyTorch's f32 kernels do: a `mean`
//! whose sum of losses passes `f32::MAX` is `inf` even where the mean itself would fit.
//! A weighted mean's denominator `Σ w[y]` is summed in f64 (each f32 weight is exact
//! there) and rounded once: within half an ULP plus `2^-45 Σ |w[y]|`.
//!
//! xent is deliberately **more** precise than PyTorch's f16/bf16 CPU kernels, which round
//! every step and count in f16 (their f16 log-softmax overflows at `C >= 65520`). The f16
//! BCE of `p = [0.9, 0.2, 0.8, 0.7, 0.1]`, `y = [1, 0, 1, 1, 0]` is 0.2027337 here, the
//! exact value, where PyTorch's f16 kernel prints 0.2027588.
//!
//! # NaN and infinity
//!
//! As PyTorch:
//! - a NaN logit makes its row's loss and gradient NaN;
//! - `+inf` anywhere in a row gives NaN (`inf - inf`); a row of only `-inf` gives NaN;
//! - `-inf` at a non-target class is harmless (its probability is exactly 0), but gives an
//!   infinite loss with label smoothing (the smoothing term sums `-log p` over all classes);
//! - `-inf` at the target gives `+inf` loss and a finite gradient;
//! - a probability target of 0 at a `-inf` logit gives NaN (`0 * -inf`), gradient finite;
//! - ignored rows never affect the loss, but NaN or `+inf` logits there still give a NaN
//!   gradient row, as in PyTorch (pytorch#11551); `-inf` there gives 0;
//! - every target ignored: [`Reduction::Mean`] is NaN (PyTorch's choice, PR #64572),
//!   [`Reduction::Sum`] is 0, the gradient is exactly 0;
//! - BCE rejects NaN probabilities and targets with an [`Error`] (PyTorch raises);
//! - BCE with logits: `x = +inf, y = 1` and `x = -inf, y = 0` give NaN, as in PyTorch.
//!
//! # Errors
//!
//! Every function that takes caller data returns `Result<_, Error>`. [`Error`] is a small
//! `Copy` enum naming the offending value and its position: a target out of range, a
//! length that disagrees with the layout, a probability outside `[0, 1]`, an option out of
//! its domain. Options PyTorch silently ignores are rejected here (a negative or NaN label
//! smoothing). When a call returns an error, the contents of its output buffers are
//! unspecified, except that an in-place gradient leaves the logits unchanged when the
//! error is found before any gradient is written (all validation of lengths, targets and
//! options happens first; only BCE's value checks run block by block).
//!
//! # `no_std`, no allocation, no panics
//!
//! The crate is `#![no_std]` and never allocates: scratch space is a few stack buffers
//! (f16/bf16 conversion blocks, transposed small-C tiles, per-tile statistics), none over
//! 1 KiB. Measured on a Cortex-M4F (`embedded/`, stack painted then scanned, release build),
//! whole calls including every frame use at most about 5.3 KiB: [`cross_entropy`] 4.6 KiB on
//! rows and 5.3 KiB channel-first (its plain forward takes 256 positions' targets, 1 KiB,
//! per call), its gradient 4.1 KiB, [`log_sum_exp`] 2.4 KiB (2026-12-05, after the small-C
//! tiles moved out of line), the binary losses under 1.5 KiB; budget 8 KiB.
//! `tests/no_alloc.rs` counts allocations across every public function (zero), and CI
//! builds for `thumbv7em-none-eabihf` and links a host staticlib with its own panic
//! handler. `unsafe` is denied crate-wide (`#![deny(unsafe_code)]`) but for four modules,
//! each for instructions the portable `wide` backend cannot give: `simd/backend/avx2.rs`
//! and `simd/backend/avx512.rs` (the run-time dispatched backends, sound by one invariant
//! written in `simd/backend/mod.rs`: their methods run only inside entry points whose
//! features were detected), `simd/detect.rs` (CPUID and XGETBV) and `simd/arch.rs`
//! (statically enabled F16C, non-temporal stores and `sfence`, prefetches, AVX-512DQ's
//! `vrangeps`). Every `unsafe` block states why it is sound in a `// SAFETY:` comment.
//! No function panics on caller data: every slice is validated against the
//! layout before any kernel runs, and the fuzz targets in `fuzz/` run the shared
//! differential check on arbitrary input.
//!
//! # MSRV and features
//!
//! Rust 1.89 (edition 2024), the minimum of `wide` 1.x. There are no cargo features: the
//! dependencies (`wide`, `libm`, `num-traits`, `half`) are all built with
//! `default-features = false`.
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_code)]

mod acc;
mod api;
mod element;
mod engine;
mod error;
mod isa;
mod layout;
mod loss;
mod options;
mod partial;
pub mod scalar;
mod simd;
mod tiling;

pub use api::*;
pub use element::{ClassIndex, Element, Real};
pub use error::Error;
pub use half::{bf16, f16};
pub use isa::{Isa, ParseIsaError, detected_isa, isa, set_max_isa};
pub use layout::Layout;
pub use options::{
    BceOptions, BceWithLogitsOptions, CrossEntropyOptions, NllOptions, ProbsOptions, Reduction,
    SigmoidFocalOptions, SoftmaxFocalOptions,
};
pub use partial::LsePartial;

/// The README's Rust example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
