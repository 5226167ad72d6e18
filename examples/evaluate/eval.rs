//! The evaluation loop: chunk by chunk, `xent::score_into` for loss and target rank, a
//! timed plain read of the same buffer for comparison, and `xent::cross_entropy` with the
//! caller's options when there are any. Every buffer is allocated before the loop.

use crate::input::Source;
use crate::{Fail, alloc_count};
use std::hint::black_box;
use std::time::{Duration, Instant};
use xent::{CrossEntropyOptions, Element, Error, Layout, Reduction, Score, f16};

/// A logit type the program reads: an xent element with a plain read pass.
pub trait Logit: Element {
    /// Sum of all of `x`, as a memory-read baseline: one load (and widening) per element,
    /// 16 independent accumulators so the adds vectorise and never limit the pass.
    fn read_sum(x: &[Self]) -> f32;
}

#[inline]
fn sum_lanes(x: &[f32], acc: &mut [f32; 16]) {
    let mut it = x.chunks_exact(16);
    for c in &mut it {
        for (a, v) in acc.iter_mut().zip(c) {
            *a += v;
        }
    }
    for (a, v) in acc.iter_mut().zip(it.remainder()) {
        *a += v;
    }
}

impl Logit for f32 {
    fn read_sum(x: &[f32]) -> f32 {
        let mut acc = [0.0_f32; 16];
        sum_lanes(x, &mut acc);
        acc.iter().sum()
    }
}

impl Logit for f16 {
    fn read_sum(x: &[f16]) -> f32 {
        // Widen through a small stack block, as xent's own load does.
        let mut acc = [0.0_f32; 16];
        let mut buf = [0.0_f32; 512];
        for blk in x.chunks(512) {
            f16::load_block(blk, &mut buf);
            sum_lanes(&buf[..blk.len()], &mut acc);
        }
        acc.iter().sum()
    }
}

/// What the loop needs to know about the data.
pub struct Plan<'a> {
    /// Positions (rows) in all.
    pub positions: usize,
    /// Classes per row.
    pub classes: usize,
    /// `T` of a `(B, T, C)` input, to name `(batch, step)` in messages.
    pub steps: Option<usize>,
    /// Rows per chunk.
    pub chunk_rows: usize,
    /// Label value of skipped positions.
    pub ignore_index: i64,
    /// Options of the extra `cross_entropy` pass (smoothing, weights), if any.
    pub options: Option<CrossEntropyOptions<'a>>,
}

/// Sums over the whole run.
#[derive(Debug, Default)]
pub struct Totals {
    /// Σ loss over counted positions.
    pub loss_sum: f64,
    /// Positions with a label other than `ignore_index`.
    pub counted: u64,
    /// Positions labelled `ignore_index`.
    pub ignored: u64,
    /// Counted positions whose label has the largest logit (ties count as correct).
    pub top1: u64,
    /// Counted positions whose label is among the five largest.
    pub top5: u64,
    /// Σ of `cross_entropy(.., Sum)` with the options.
    pub opt_sum: f64,
    /// Σ w[y] over counted positions (their count without weights): PyTorch's denominator.
    pub opt_denom: f64,
    /// Time in `score_into`.
    pub xent_time: Duration,
    /// Time in the plain read pass.
    pub read_time: Duration,
    /// Time reading the files (or generating the built-in data).
    pub load_time: Duration,
    /// Time in the options pass.
    pub opt_time: Duration,
    /// Sum of every logit (the read pass's result, kept so it is not optimised away).
    pub read_checksum: f64,
    /// Chunks processed.
    pub chunks: u64,
    /// Heap allocations made while the loop ran (0: every buffer is made before it).
    pub allocations_in_loop: u64,
}

/// Allocates a zeroed buffer of `n` elements, or says it cannot.
pub fn buffer<T: Clone + Default>(n: usize, what: &str) -> Result<Vec<T>, Fail> {
    let mut v = Vec::new();
    v.try_reserve_exact(n)
        .map_err(|_| Fail::input(format!("cannot allocate the {what} buffer ({n} elements)")))?;
    v.resize(n, T::default());
    Ok(v)
}

/// Runs the loop over every row of `src`.
pub fn run<T: Logit>(src: &mut dyn Source<T>, plan: &Plan<'_>) -> Result<Totals, Fail> {
    let c = plan.classes;
    let chunk = plan.chunk_rows.min(plan.positions).max(1);
    let len = chunk.checked_mul(c).ok_or_else(|| Fail::input("chunk size overflows".into()))?;
    let mut logits: Vec<T> = buffer(len, "logits")?;
    let mut labels: Vec<i64> = buffer(chunk, "labels")?;
    let mut scores: Vec<Score> = buffer(chunk, "scores")?;
    let weight = plan.options.and_then(|o| o.weight);
    let options = plan.options.map(|o| o.with_reduction(Reduction::Sum).with_ignore_index(plan.ignore_index));

    let mut t = Totals::default();
    let allocs_before = alloc_count();
    let mut done = 0;
    while done < plan.positions {
        let rows = chunk.min(plan.positions - done);
        let x = &mut logits[..rows * c];
        let y = &mut labels[..rows];
        let out = &mut scores[..rows];
        let t0 = Instant::now();
        src.fill(x, y, done)?;
        t.load_time += t0.elapsed();

        let (x, y, lay) = (&*x, &*y, Layout::rows(rows, c));
        // Alternate which pass goes first, so neither is always the one to find the chunk
        // in cache.
        let result = if t.chunks.is_multiple_of(2) {
            t.read_checksum += f64::from(timed(&mut t.read_time, || T::read_sum(black_box(x))));
            timed(&mut t.xent_time, || xent::score_into(black_box(x), lay, y, plan.ignore_index, out))
        } else {
            let r =
                timed(&mut t.xent_time, || xent::score_into(black_box(x), lay, y, plan.ignore_index, out));
            t.read_checksum += f64::from(timed(&mut t.read_time, || T::read_sum(black_box(x))));
            r
        };
        result.map_err(|e| xent_fail(e, done, plan))?;

        for (i, s) in out.iter().enumerate() {
            if !s.counted {
                t.ignored += 1;
                continue;
            }
            if s.loss.is_nan() {
                return Err(nan_fail(&x[i * c..(i + 1) * c], done + i, plan));
            }
            t.counted += 1;
            t.loss_sum += f64::from(s.loss);
            t.top1 += u64::from(s.top_k(1));
            t.top5 += u64::from(s.top_k(5));
        }

        if let Some(opts) = &options {
            let sum = timed(&mut t.opt_time, || xent::cross_entropy(x, lay, y, opts));
            t.opt_sum += f64::from(sum.map_err(|e| xent_fail(e, done, plan))?);
            for (&label, s) in y.iter().zip(out.iter()) {
                if s.counted {
                    // In range: score_into has checked every label of this chunk.
                    let w = weight.and_then(|w| usize::try_from(label).ok().and_then(|k| w.get(k)));
                    t.opt_denom += w.map_or(1.0, |&w| f64::from(w));
                }
            }
        }
        done += rows;
        t.chunks += 1;
    }
    t.allocations_in_loop = alloc_count() - allocs_before;
    black_box(&scores);
    Ok(t)
}

#[inline]
fn timed<R>(clock: &mut Duration, f: impl FnOnce() -> R) -> R {
    let t0 = Instant::now();
    let r = black_box(f());
    *clock += t0.elapsed();
    r
}

/// `" (batch b, step t)"` for a `(B, T, C)` input.
fn where_(position: usize, plan: &Plan<'_>) -> String {
    match plan.steps {
        Some(steps) if steps > 0 => format!(" (batch {}, step {})", position / steps, position % steps),
        _ => String::new(),
    }
}

/// An xent error of the chunk starting at `first`, with positions made global.
fn xent_fail(e: Error, first: usize, plan: &Plan<'_>) -> Fail {
    match e {
        Error::TargetOutOfRange { position, target, classes } => {
            let p = first + position;
            Fail::input(format!(
                "label {target} at position {p}{} is out of range for {classes} classes",
                where_(p, plan)
            ))
        }
        Error::InvalidOption { .. } => Fail::input(format!("{e}")),
        other => Fail::internal(format!("xent: {other}")),
    }
}

/// The error for the first row whose loss is NaN.
fn nan_fail<T: Element>(row: &[T], position: usize, plan: &Plan<'_>) -> Fail {
    let at = where_(position, plan);
    match row.iter().position(|v| v.to_f32().is_nan()) {
        Some(k) => Fail::input(format!(
            "logits contain NaN: the first row whose loss is NaN is row {position}{at} (NaN at class {k})"
        )),
        None => Fail::input(format!(
            "the loss of row {position}{at} is NaN: its logits contain infinities (no NaN, but +inf or all -inf)"
        )),
    }
}
