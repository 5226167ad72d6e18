//! Inputs for the instruction-count benchmarks (`benches/icount.rs`): built in iai-callgrind
//! setup functions, so their construction is not counted. Deterministic (splitmix64), so
//! every run executes the same instructions: the counts are comparable across runs and
//! with the stored baseline (`../baseline/icount.tsv`).

use xent::{Element, Layout, bf16, f16};

/// splitmix64, shared with the tests and examples.
#[path = "../../../tests/support/rng.rs"]
mod rng;
pub use rng::Rng;

/// `(N, C)` logits (starting at element `off` of `x`), class targets and an output buffer.
pub struct Rows<T> {
    /// The logits, with `off` leading elements that are not part of the input.
    pub x: Vec<T>,
    /// Where the input starts in `x` (1 for the misaligned variant).
    pub off: usize,
    /// One class index per row.
    pub t: Vec<i64>,
    /// `Layout::rows(n, c)` (or channel-first, see [`channel_first`]).
    pub lay: Layout,
    /// Per-position output or gradient buffer.
    pub out: Vec<f32>,
}

impl<T> Rows<T> {
    /// The input logits.
    pub fn x(&self) -> &[T] {
        &self.x[self.off..]
    }
}

fn rows<T: Element>(n: usize, c: usize, off: usize, out_len: usize) -> Rows<T> {
    let mut rng = Rng(0x5EED ^ (n * 31 + c) as u64);
    let x = (0..off + n * c).map(|_| T::from_f32(rng.logit())).collect();
    let t = (0..n).map(|_| (rng.next() % c as u64) as i64).collect();
    Rows { x, off, t, lay: Layout::rows(n, c), out: vec![0.0; out_len] }
}

/// f32 logits, no output buffer.
pub fn rows_f32(n: usize, c: usize) -> Rows<f32> {
    rows(n, c, 0, 0)
}
/// f32 logits starting one element into their buffer (not 32-byte aligned).
pub fn rows_f32_off1(n: usize, c: usize) -> Rows<f32> {
    rows(n, c, 1, 0)
}
/// f16 logits.
pub fn rows_f16(n: usize, c: usize) -> Rows<f16> {
    rows(n, c, 0, 0)
}
/// bf16 logits.
pub fn rows_bf16(n: usize, c: usize) -> Rows<bf16> {
    rows(n, c, 0, 0)
}
/// f32 logits and an output of one value per row (log-sum-exp).
pub fn rows_f32_per_row(n: usize, c: usize) -> Rows<f32> {
    rows(n, c, 0, n)
}
/// f32 logits and an output of the logits' size (gradient, softmax).
pub fn rows_f32_full(n: usize, c: usize) -> Rows<f32> {
    rows(n, c, 0, n * c)
}
/// f16 logits and an f32 gradient buffer.
pub fn rows_f16_full(n: usize, c: usize) -> Rows<f16> {
    rows(n, c, 0, n * c)
}
/// Channel-first `(1, c, inner)` logits uniform in `[0, 1)` (as the canonical segmentation
/// case), targets per column.
pub fn channel_first(c: usize, inner: usize) -> Rows<f32> {
    let mut rng = Rng(8);
    let x = (0..c * inner).map(|_| rng.unit()).collect();
    let t = (0..inner).map(|_| (rng.next() % c as u64) as i64).collect();
    Rows { x, off: 0, t, lay: Layout::channel_first(1, c, inner), out: Vec::new() }
}

/// `(N, C)` logits and row-stochastic probability targets.
pub struct Probs {
    /// Logits.
    pub x: Vec<f32>,
    /// Probability targets, each row summing to 1.
    pub p: Vec<f32>,
    /// `Layout::rows(n, c)`.
    pub lay: Layout,
}

/// Logits and probability targets of shape `(n, c)`.
pub fn probs(n: usize, c: usize) -> Probs {
    let mut rng = Rng(4);
    let x = (0..n * c).map(|_| rng.logit()).collect();
    let mut p: Vec<f32> = (0..n * c).map(|_| rng.unit() + 1e-3).collect();
    for row in p.chunks_mut(c) {
        let s: f32 = row.iter().sum();
        row.iter_mut().for_each(|v| *v /= s);
    }
    Probs { x, p, lay: Layout::rows(n, c) }
}

/// Elementwise binary inputs: values, 0/1 targets and a gradient buffer.
pub struct Bin<T> {
    /// Probabilities in `[1e-4, 1 - 1e-4]` or logits.
    pub x: Vec<T>,
    /// 0 or 1.
    pub y: Vec<T>,
    /// Gradient buffer (empty unless asked for).
    pub g: Vec<f32>,
}

fn bin<T: Element>(n: usize, probs: bool, grad: bool) -> Bin<T> {
    let mut rng = Rng(9);
    let x = (0..n)
        .map(|_| T::from_f32(if probs { rng.unit().clamp(1e-4, 1.0 - 1e-4) } else { rng.logit() }))
        .collect();
    let y = (0..n).map(|_| T::from_f32((rng.next() % 2) as f32)).collect();
    Bin { x, y, g: vec![0.0; if grad { n } else { 0 }] }
}

/// f32 probabilities and targets.
pub fn bin_probs(n: usize) -> Bin<f32> {
    bin(n, true, false)
}
/// f32 probabilities, targets and a gradient buffer.
pub fn bin_probs_grad(n: usize) -> Bin<f32> {
    bin(n, true, true)
}
/// f32 logits and targets.
pub fn bin_logits(n: usize) -> Bin<f32> {
    bin(n, false, false)
}
/// f32 logits, targets and a gradient buffer.
pub fn bin_logits_grad(n: usize) -> Bin<f32> {
    bin(n, false, true)
}
/// bf16 logits and targets.
pub fn bin_logits_bf16(n: usize) -> Bin<bf16> {
    bin(n, false, false)
}
