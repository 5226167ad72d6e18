//! Drivers of the primitives: per-position log-sum-exp, log-softmax, softmax, gather.

use super::check_len;
use super::class::{scan_targets, target_of};
use crate::element::real;
use crate::engine::{Engine, Stats, Want};
use crate::tiling::{NO_TARGET, TILE};
use crate::{ClassIndex, Element, Error, Layout, Real};

/// What to write per position or per element.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Lse,
    LogSoftmax,
    Softmax,
}

/// Writes `op` of every position of `x` into `out`.
pub(crate) fn run<E: Engine<R>, R: Real, T: Element>(
    x: &[T],
    lay: Layout,
    op: Op,
    out: &mut [R],
) -> Result<(), Error> {
    let positions = lay.positions()?;
    let len = lay.len()?;
    check_len("logits", len, x.len())?;
    check_len("out", if op == Op::Lse { positions } else { len }, out.len())?;
    if lay.classes() == 0 {
        // No logits: log-sum-exps of empty rows, nothing to normalise (and no walk over a
        // batch that may be huge while every slice is empty).
        out.fill(R::neg_infinity());
        return Ok(());
    }
    let tgt = [NO_TARGET; TILE];
    let mut st = [Stats::<R>::default(); TILE];
    // Log-softmax and softmax read each tile twice: tiles of long rows shrink to stay in L2.
    let tile = if op == Op::Lse { TILE } else { crate::tiling::reread_tile(lay, core::mem::size_of::<T>()) };
    let mut p0 = 0;
    while p0 < positions {
        let k = tile.min(positions - p0);
        E::class_stats(x, lay, p0, &tgt[..k], None, None, Want::default(), &mut st[..k]);
        match op {
            Op::Lse => {
                for q in 0..k {
                    out[p0 + q] = st[q].max + st[q].lse_rel;
                }
            }
            Op::LogSoftmax | Op::Softmax => {
                E::normalize(x, lay, p0, &st[..k], op == Op::LogSoftmax, out);
            }
        }
        p0 += k;
    }
    Ok(())
}

/// Log-sum-exp of one row.
pub(crate) fn lse_row<E: Engine<R>, R: Real, T: Element>(row: &[T]) -> R {
    let mut st = [Stats::<R>::default(); 1];
    E::class_stats(row, Layout::rows(1, row.len()), 0, &[NO_TARGET], None, None, Want::default(), &mut st);
    st[0].max + st[0].lse_rel
}

/// The checks of a per-position primitive with class targets: lengths against the layout,
/// targets in range. Returns the number of positions.
fn check_per_position<R: Real, T: Element, I: ClassIndex>(
    x: &[T],
    lay: Layout,
    targets: &[I],
    ignore: i64,
    out_len: usize,
) -> Result<usize, Error> {
    let positions = lay.positions()?;
    check_len("logits", lay.len()?, x.len())?;
    check_len("targets", positions, targets.len())?;
    check_len("out", positions, out_len)?;
    scan_targets::<R, I>(targets, lay.classes(), ignore, None)?;
    Ok(positions)
}

/// Writes `x[n, y_n]` per position (0 at ignored positions).
pub(crate) fn gather<R: Real, T: Element, I: ClassIndex>(
    x: &[T],
    lay: Layout,
    targets: &[I],
    ignore: i64,
    out: &mut [R],
) -> Result<(), Error> {
    check_per_position::<R, T, I>(x, lay, targets, ignore, out.len())?;
    for (p, (&t, o)) in targets.iter().zip(out.iter_mut()).enumerate() {
        let t = target_of(t, ignore);
        *o = if t == NO_TARGET {
            R::zero()
        } else {
            let (base, stride) = lay.row(p);
            real::<R, T>(x[base + t * stride])
        };
    }
    Ok(())
}

/// Writes each position's loss and rank (see [`crate::Score`]) in one read pass.
pub(crate) fn score<E: Engine<R>, R: Real, T: Element, I: ClassIndex>(
    x: &[T],
    lay: Layout,
    targets: &[I],
    ignore: i64,
    out: &mut [crate::Score],
) -> Result<(), Error> {
    let positions = check_per_position::<R, T, I>(x, lay, targets, ignore, out.len())?;
    let mut tgt = [NO_TARGET; TILE];
    let mut st = [Stats::<R>::default(); TILE];
    let want = Want { sx: false, rank: true };
    let mut p0 = 0;
    while p0 < positions {
        let k = TILE.min(positions - p0);
        for q in 0..k {
            tgt[q] = target_of(targets[p0 + q], ignore);
        }
        E::class_stats(x, lay, p0, &tgt[..k], None, None, want, &mut st[..k]);
        for q in 0..k {
            let s = st[q];
            out[p0 + q] = if tgt[q] == NO_TARGET {
                crate::Score { loss: 0.0, above: 0, counted: false }
            } else {
                let loss = (s.max - s.xt) + s.lse_rel;
                crate::Score { loss: loss.to_f32(), above: s.above, counted: true }
            };
        }
        p0 += k;
    }
    Ok(())
}
