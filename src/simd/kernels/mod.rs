//! The SIMD engine: [`Simd`]'s [`Engine`] methods choose a kernel shape per call, and the
//! files below hold the kernels, each generic over [`Vector`] and instantiated with the
//! build's [`V`].
//!
//! - [`rows`]: the row log-sum-exp of `(N, C)` logits with `C >` [`SMALL_C`]: one read
//!   pass per row in blocks of [`LSE_BLOCK`] values (the block state, its sweeps, the
//!   maximum's read, the pipelined loop of short rows).
//! - [`columns`]: channel-first `(N, C, d..)` layouts, where the `LANES` positions
//!   contiguous for each class are one vector (a *group*): statistics, the plain
//!   cross-entropy sum, gradients.
//! - [`small_c`]: rows of at most [`SMALL_C`] classes, transposed a tile at a time and
//!   handled as columns.
//! - [`grad_rows`]: the gradient, softmax and log-softmax of rows, written from their
//!   statistics.
//! - [`binary`]: the element-wise binary losses.
//! - Below them all: [`lanes`] (lane helpers both rows and columns use: soft-capping, the
//!   exp sums, special rows), [`convert`] (f16/bf16 widened into stack blocks) and
//!   [`dst`] (writes into a gradient destination).
//!
//! No kernel file imports a file beside it but the ones below it; the dispatchers that
//! choose between shapes live here. No kernel allocates, and no call uses more than
//! 2 KiB of stack scratch.

mod binary;
mod columns;
mod convert;
mod dst;
mod grad_rows;
mod lanes;
mod rows;
mod small_c;

use super::vector::{V, Vector};
use crate::acc::Acc;
use crate::engine::{Binary, Coef, Engine, GradDst, SoftCoef, SoftStats, Stats, Want};
use crate::scalar::kernels::Scalar;
use crate::tiling::{NO_TARGET, TILE};
use crate::{Element, Error, Layout};
use binary::binary_run;
use columns::ce_sum::LaneAcc;
use columns::{
    COLUMN_MAX_C, ColumnGroups, ColumnRuns, group_ce_sum, group_grad, group_stats, normalize_channel_first,
    run_ce_sum, soft_grad_channel_first, soft_stats_channel_first,
};
use convert::{for_blocks, load_at};
use dst::{dst_input, put};
use grad_rows::{map_row, target_slot};
use lanes::{cap_s, first_lanes, grad_v};
use rows::{LSE_BLOCK, PIPELINE_MIN_C, ln_of_sums, row_sums_blocked, rows_plain_ahead};
use small_c::{SMALL_C, ce_sum_tiles, transpose_tile, untranspose_tile};

/// The SIMD engine (f32 arithmetic).
pub(crate) struct Simd;

/// [`ce_sum_n`] of rows with at most [`SMALL_C`] classes: whole tiles transposed
/// ([`ce_sum_tiles`]); the last, short tile (if any) through the statistics, added first.
/// Its own function where not forced inline, so that its locals stay out of the frame of
/// [`ce_sum_n`], which the row path's deep call chain goes through.
#[cfg_attr(not(xent_opt0), inline(always))]
fn ce_sum_small_rows<T: Element, const N: usize>(
    x: &[T],
    lay: Layout,
    p0: usize,
    tv: &[f32],
    w: Option<&[f32]>,
) -> f32 {
    let k = tv.len();
    let whole = k - k % TILE;
    let mut sum = Acc::new();
    if whole < k {
        sum.add(Simd::ce_sum_from_stats(x, lay, p0 + whole, &tv[whole..], w));
    }
    sum.add(ce_sum_tiles::<T, N>(x, lay, p0, &tv[..whole], w));
    sum.get()
}

/// [`Engine::ce_sum`] of the SIMD engine, with the class count `N` known at compile time
/// (`N == lay.classes()`) or 0 when it is not. Out of line (called once per 256
/// positions): inlined into the loss driver, it took more instructions.
#[inline(never)]
pub(crate) fn ce_sum_n<T: Element, const N: usize>(
    x: &[T],
    lay: Layout,
    p0: usize,
    tv: &[f32],
    w: Option<&[f32]>,
) -> f32 {
    let classes = lay.classes();
    debug_assert!(N == 0 || N == classes);
    debug_assert!(classes < COLUMN_MAX_C);
    let l = V::LANES;
    let k = tv.len();
    if lay.inner() == 1 {
        if classes > SMALL_C || !TILE.is_multiple_of(l) {
            return Simd::ce_sum_from_stats(x, lay, p0, tv, w);
        }
        return ce_sum_small_rows::<T, N>(x, lay, p0, tv, w);
    }
    let (mut sum, mut vsum) = (Acc::new(), LaneAcc::<V>::new());
    // The runs themselves, not `ColumnGroups`: fewer instructions (the icount gate's
    // `ce_fwd_f32_nchw`).
    for (q0, run, base0) in ColumnRuns::new(lay, p0, k) {
        let mut q = q0;
        if N > 0
            && let Some(xf) = T::as_f32(x)
        {
            q += run_ce_sum::<V, N>(xf, base0, lay.inner(), run, &tv[q0..q0 + run], w, &mut vsum);
        }
        while q + l <= q0 + run {
            let (base, stride) = (base0 + (q - q0), lay.inner());
            vsum.add(group_ce_sum::<V, T, N>(x, base, stride, classes, &tv[q..], w, true));
            q += l;
        }
        if q < q0 + run {
            sum.add(Simd::ce_sum_from_stats(x, lay, p0 + q, &tv[q..q0 + run], w));
        }
    }
    sum.add(vsum.total());
    sum.get()
}

macro_rules! row_sums_dispatch {
    ($w:ty, $t:ty, $row:expr, $tt:expr, $cap:expr, $wt:expr, $want:expr) => {{
        match ($want.sx, $want.rank, $cap) {
            (false, false, None) => row_sums_blocked::<$w, $t, false, false, false>($row, $tt, 0.0, $wt),
            (true, false, None) => row_sums_blocked::<$w, $t, true, false, false>($row, $tt, 0.0, $wt),
            (false, true, None) => row_sums_blocked::<$w, $t, false, true, false>($row, $tt, 0.0, $wt),
            (true, true, None) => row_sums_blocked::<$w, $t, true, true, false>($row, $tt, 0.0, $wt),
            (false, false, Some(c)) => row_sums_blocked::<$w, $t, false, false, true>($row, $tt, c, $wt),
            (true, false, Some(c)) => row_sums_blocked::<$w, $t, true, false, true>($row, $tt, c, $wt),
            (false, true, Some(c)) => row_sums_blocked::<$w, $t, false, true, true>($row, $tt, c, $wt),
            (true, true, Some(c)) => row_sums_blocked::<$w, $t, true, true, true>($row, $tt, c, $wt),
        }
    }};
}

// `binary` and `first_outside_unit` are out of line: called once per 1024 elements,
// inlined into the loss loop their vector loops lost registers. The other entry points
// were measured both ways and left to LLVM (docs/PERF_NOTES.md, "Inlining of the engine
// entry points").
impl Engine<f32> for Simd {
    fn cap(v: f32, s: f32) -> f32 {
        cap_s::<V>(v, Some(s))
    }

    fn class_stats<T: Element>(
        x: &[T],
        lay: Layout,
        p0: usize,
        tgt: &[usize],
        cap: Option<f32>,
        w: Option<&[f32]>,
        want: Want,
        out: &mut [Stats<f32>],
    ) {
        let classes = lay.classes();
        let l = V::LANES;
        if lay.inner() == 1 {
            if classes <= SMALL_C && out.len() == TILE && TILE.is_multiple_of(l) {
                let mut buf = [0.0f32; SMALL_C * TILE];
                transpose_tile(x, p0, classes, &mut buf);
                let mut g = 0;
                while g < TILE {
                    group_stats::<V, f32>(&buf, g, TILE, classes, &tgt[g..], cap, w, want, &mut out[g..]);
                    g += l;
                }
                return;
            }
            match T::as_f32(x) {
                Some(xf)
                    if (PIPELINE_MIN_C..=LSE_BLOCK).contains(&classes)
                        && !want.sx
                        && !want.rank
                        && cap.is_none() =>
                {
                    rows_plain_ahead::<V>(xf, p0, classes, tgt, out);
                }
                _ => {
                    for (q, st) in out.iter_mut().enumerate() {
                        let row = &x[(p0 + q) * classes..(p0 + q + 1) * classes];
                        *st = row_sums_dispatch!(V, T, row, tgt[q], cap, w, want);
                    }
                }
            }
            ln_of_sums::<V>(out);
            return;
        }
        if classes >= COLUMN_MAX_C {
            return Scalar::class_stats(x, lay, p0, tgt, cap, w, want, out);
        }
        for (q, n, base) in ColumnGroups::new(lay, p0, out.len()) {
            if n == l {
                group_stats::<V, T>(x, base, lay.inner(), classes, &tgt[q..], cap, w, want, &mut out[q..]);
            } else {
                Scalar::class_stats(x, lay, p0 + q, &tgt[q..q + n], cap, w, want, &mut out[q..q + n]);
            }
        }
    }

    fn ce_sum<T: Element>(x: &[T], lay: Layout, p0: usize, tv: &[f32], w: Option<&[f32]>) -> f32 {
        // The column kernels' class count as a constant where it is small and common
        // (channel-first C = 4 and rows of 10: the columns stay in registers).
        match lay.classes() {
            2 => ce_sum_n::<T, 2>(x, lay, p0, tv, w),
            3 => ce_sum_n::<T, 3>(x, lay, p0, tv, w),
            4 => ce_sum_n::<T, 4>(x, lay, p0, tv, w),
            10 => ce_sum_n::<T, 10>(x, lay, p0, tv, w),
            _ => ce_sum_n::<T, 0>(x, lay, p0, tv, w),
        }
    }

    fn class_grad<T: Element>(
        dst: &mut GradDst<'_, T, f32>,
        lay: Layout,
        p0: usize,
        coef: &[Coef<f32>],
        cap: Option<f32>,
        w: Option<&[f32]>,
    ) {
        let classes = lay.classes();
        let l = V::LANES;
        if lay.inner() == 1 {
            if classes <= SMALL_C && coef.len() == TILE && TILE.is_multiple_of(l) {
                // Small C: the tile transposed into columns, its gradient taken there in
                // place (as channel-first positions), and transposed back: a row of 10
                // logits was a call's worth of fixed cost per row.
                let mut buf = [0.0f32; SMALL_C * TILE];
                transpose_tile(dst_input(dst), p0, classes, &mut buf);
                let mut cols = GradDst::<f32, f32>::InPlace(&mut buf);
                let mut g = 0;
                while g < TILE {
                    group_grad::<V, f32>(&mut cols, g, TILE, classes, &coef[g..], cap, w);
                    g += l;
                }
                let tile = p0 * classes..(p0 + TILE) * classes;
                match dst {
                    GradDst::Buffer { grad, .. } => untranspose_tile(&buf, classes, &mut grad[tile]),
                    GradDst::InPlace(xs) => untranspose_tile(&buf, classes, &mut xs[tile]),
                }
                return;
            }
            for (q, k) in coef.iter().enumerate() {
                let start = (p0 + q) * classes;
                let (m, lse, a) = (V::splat(k.max), V::splat(k.lse_rel), V::splat(k.a));
                let c = V::splat(k.c);
                // Read before the row is written (in place, it is overwritten).
                let raw = if k.t < classes { dst_input(dst)[start + k.t].to_f32() } else { 0.0 };
                match w {
                    Some(w) if k.c != 0.0 => {
                        map_row::<V, T>(dst, start, classes, coef.len() * classes, |j, x| {
                            grad_v(x, m, lse, a, c * V::load_or(&w[j..], 0.0), cap)
                        })
                    }
                    _ => map_row::<V, T>(dst, start, classes, coef.len() * classes, |_, x| {
                        grad_v(x, m, lse, a, c, cap)
                    }),
                }
                if k.t < classes {
                    put(dst, start + k.t, target_slot(k, raw, cap, w));
                }
            }
            return;
        }
        // The runs themselves, not `ColumnGroups`: a little faster on channel-first
        // forward+backward.
        for (q0, run, base0) in ColumnRuns::new(lay, p0, coef.len()) {
            let mut q = q0;
            while q + l <= q0 + run {
                let (base, stride) = (base0 + (q - q0), lay.inner());
                group_grad::<V, T>(dst, base, stride, classes, &coef[q..], cap, w);
                q += l;
            }
            if q < q0 + run {
                Scalar::class_grad(dst, lay, p0 + q, &coef[q..q0 + run], cap, w);
            }
        }
    }

    fn soft_stats<T: Element, U: Element>(
        x: &[T],
        t: &[U],
        lay: Layout,
        p0: usize,
        eps: f32,
        w: Option<&[f32]>,
        out: &mut [SoftStats<f32>],
    ) {
        let classes = lay.classes();
        if lay.inner() != 1 {
            return soft_stats_channel_first(x, t, lay, p0, eps, w, out);
        }
        let uni = if classes > 0 { eps / classes as f32 } else { 0.0 };
        let keep = V::splat(1.0 - eps);
        for (q, st) in out.iter_mut().enumerate() {
            let start = (p0 + q) * classes;
            let row = &x[start..start + classes];
            let s = row_sums_blocked::<V, T, false, false, false>(row, NO_TARGET, 0.0, None);
            let s = Stats { lse_rel: libm::logf(s.lse_rel), ..s };
            let m = V::splat(s.max);
            let (mut swt, mut swtx) = (V::splat(0.0), V::splat(0.0));
            for_blocks(row, |off, blk| {
                let mut i = 0;
                while i < blk.len() {
                    let valid = first_lanes::<V>(blk.len() - i);
                    let xv = V::load_or(&blk[i..], 0.0);
                    let tv: V = load_at(t, start + off + i);
                    let wv = match w {
                        Some(w) => V::load_or(&w[off + i..], 0.0),
                        None => V::splat(1.0),
                    };
                    let wt = V::select(valid, wv * tv.mul_add(keep, V::splat(uni)), V::splat(0.0));
                    swt += wt;
                    swtx += V::select(valid, wt * (xv - m), V::splat(0.0));
                    i += V::LANES;
                }
            });
            *st =
                SoftStats { max: s.max, lse_rel: s.lse_rel, swt: swt.reduce_add(), swtx: swtx.reduce_add() };
        }
    }

    fn soft_grad<T: Element, U: Element>(
        dst: &mut GradDst<'_, T, f32>,
        t: &[U],
        lay: Layout,
        p0: usize,
        coef: &[SoftCoef<f32>],
        eps: f32,
        w: Option<&[f32]>,
    ) {
        let classes = lay.classes();
        if lay.inner() != 1 {
            return soft_grad_channel_first(dst, t, lay, p0, coef, eps, w);
        }
        let uni = V::splat(if classes > 0 { eps / classes as f32 } else { 0.0 });
        let keep = V::splat(1.0 - eps);
        for (q, k) in coef.iter().enumerate() {
            let start = (p0 + q) * classes;
            let (m, lse, a, s) = (V::splat(k.max), V::splat(k.lse_rel), V::splat(k.a), V::splat(k.s));
            map_row::<V, T>(dst, start, classes, coef.len() * classes, |j, x| {
                let tv: V = load_at(t, start + j);
                let wv = match w {
                    Some(w) => V::load_or(&w[j..], 0.0),
                    None => V::splat(1.0),
                };
                a * ((x - m) - lse).exp_le0_fast() - s * wv * tv.mul_add(keep, uni)
            });
        }
    }

    fn normalize<T: Element>(x: &[T], lay: Layout, p0: usize, st: &[Stats<f32>], log: bool, out: &mut [f32]) {
        let classes = lay.classes();
        if lay.inner() != 1 {
            return normalize_channel_first(x, lay, p0, st, log, out);
        }
        let mut dst = GradDst::Buffer { x, grad: out };
        let ahead = st.len() * classes;
        for (q, s) in st.iter().enumerate() {
            let start = (p0 + q) * classes;
            let (m, lse) = (V::splat(s.max), V::splat(s.lse_rel));
            if log {
                map_row::<V, T>(&mut dst, start, classes, ahead, |_, x| (x - m) - lse);
            } else {
                map_row::<V, T>(&mut dst, start, classes, ahead, |_, x| ((x - m) - lse).exp_le0());
            }
        }
    }

    #[inline(never)]
    fn binary<T: Element>(
        kind: Binary<f32>,
        x: &[T],
        y: &[T],
        i0: usize,
        w: Option<&[f32]>,
        pw: Option<&[f32]>,
        per: Option<&mut [f32]>,
        grad: Option<(&mut [f32], f32)>,
    ) -> Result<f32, Error> {
        match (per, grad) {
            (None, None) => binary_run::<V, T, false, false>(kind, x, y, i0, w, pw, &mut [], &mut [], 0.0),
            (Some(p), None) => binary_run::<V, T, true, false>(kind, x, y, i0, w, pw, p, &mut [], 0.0),
            (None, Some((g, s))) => binary_run::<V, T, false, true>(kind, x, y, i0, w, pw, &mut [], g, s),
            (Some(p), Some((g, s))) => binary_run::<V, T, true, true>(kind, x, y, i0, w, pw, p, g, s),
        }
    }

    #[inline(always)]
    fn first_outside_unit<T: Element>(v: &[T]) -> Option<usize> {
        binary::first_outside_unit(v)
    }
}
