//! The SIMD engine: [`Kernels`]' [`Engine`] methods choose a kernel shape per call, and the
//! files below hold the kernels, each generic over [`Vector`] and instantiated with the
//! backend `W` the dispatcher (`simd/dispatch.rs`) runs.
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

use super::vector::{Vector, outline};
use crate::acc::Acc;
use crate::engine::{
    Binary, ClassStats, Coef, Engine, GradDst, SoftCoef, SoftStats, Stats, Want, ce_sum_by_stats,
};
use crate::scalar::kernels::Scalar;
use crate::tiling::{NO_TARGET, TILE};
use crate::{ClassIndex, Element, Error, Layout};
use binary::binary_run;
use columns::ce_sum::LaneAcc;
use columns::{
    COLUMN_MAX_C, ColumnGroups, ColumnRuns, group_ce_sum, group_grad, group_stats, normalize_channel_first,
    run_ce_sum, soft_grad_channel_first, soft_stats_channel_first,
};
use convert::{for_blocks, load_at};
use core::marker::PhantomData;
use dst::{dst_input, put};
use grad_rows::{grad_row_others, map_row, target_slot};
use lanes::{cap_s, first_lanes, grad_v};
use rows::{LSE_BLOCK, PIPELINE_MIN_C, ln_of_sums, row_sums_blocked, rows_plain_ahead};
use small_c::{SMALL_C, ce_sum_tiles, transpose_tile, untranspose_tile};

/// [`Kernels`]' statistics, each call in a function of its own for the backend `W`.
struct OutlinedStats<W>(PhantomData<W>);

impl<W: Vector> ClassStats<f32> for OutlinedStats<W> {
    #[cfg_attr(not(xent_opt0), inline(always))]
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
        outline!(W, Kernels::<W>::class_stats, (x, lay, p0, tgt, cap, w, want, out))
    }
}

/// The SIMD kernels on the vector backend `W` (f32 arithmetic): the [`Engine`] that
/// `Simd` dispatches to.
pub(crate) struct Kernels<W>(PhantomData<W>);

/// [`ce_sum_n`] of rows with at most [`SMALL_C`] classes: whole tiles transposed
/// ([`ce_sum_tiles`]); the last, short tile (if any) through the statistics, added first.
/// Its own function where not forced inline, so that its locals stay out of the frame of
/// [`ce_sum_n`], which the row path's deep call chain goes through.
#[cfg_attr(not(xent_opt0), inline(always))]
fn ce_sum_small_rows<W: Vector, T: Element, const N: usize>(
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
        sum.add(Kernels::<W>::ce_sum_from_stats(x, lay, p0 + whole, &tv[whole..], w));
    }
    sum.add(ce_sum_tiles::<W, T, N>(x, lay, p0, &tv[..whole], w));
    sum.get()
}

/// [`Engine::ce_sum`] of the SIMD engine, with the class count `N` known at compile time
/// (`N == lay.classes()`) or 0 when it is not. Out of line (called once per 256
/// positions): inlined into the loss driver, it took more instructions.
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn ce_sum_n<W: Vector, T: Element, const N: usize>(
    x: &[T],
    lay: Layout,
    p0: usize,
    tv: &[f32],
    w: Option<&[f32]>,
) -> f32 {
    outline!(W, ce_sum_n_in::<W, T, N>, (x, lay, p0, tv, w))
}

/// [`ce_sum_n`]'s body.
#[cfg_attr(not(xent_opt0), inline(always))]
fn ce_sum_n_in<W: Vector, T: Element, const N: usize>(
    x: &[T],
    lay: Layout,
    p0: usize,
    tv: &[f32],
    w: Option<&[f32]>,
) -> f32 {
    let classes = lay.classes();
    debug_assert!(N == 0 || N == classes);
    debug_assert!(classes < COLUMN_MAX_C);
    let l = W::LANES;
    let k = tv.len();
    if lay.inner() == 1 {
        if classes > SMALL_C || !TILE.is_multiple_of(l) {
            return Kernels::<W>::ce_sum_from_stats(x, lay, p0, tv, w);
        }
        return ce_sum_small_rows::<W, T, N>(x, lay, p0, tv, w);
    }
    let (mut sum, mut vsum) = (Acc::new(), LaneAcc::<W>::new());
    // The runs themselves, not `ColumnGroups`: fewer instructions (the icount gate's
    // `ce_fwd_f32_nchw`).
    for (q0, run, base0) in ColumnRuns::new(lay, p0, k) {
        let mut q = q0;
        if N > 0
            && let Some(xf) = T::as_f32(x)
        {
            q += run_ce_sum::<W, N>(xf, base0, lay.inner(), run, &tv[q0..q0 + run], w, &mut vsum);
        }
        while q + l <= q0 + run {
            let (base, stride) = (base0 + (q - q0), lay.inner());
            vsum.add(group_ce_sum::<W, T, N>(x, base, stride, classes, &tv[q..], w, true));
            q += l;
        }
        if q < q0 + run {
            sum.add(Kernels::<W>::ce_sum_from_stats(x, lay, p0 + q, &tv[q..q0 + run], w));
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

// Every method is inlined into its caller, [`Simd`]'s dispatch, which runs it in the
// backend's own out-of-line function (`Vector::outline`): on the portable backend that
// keeps `binary` and `first_outside_unit` out of the loss loop, where inlined their vector
// loops lost registers (docs/PERF_NOTES.md, "Inlining of the engine entry points").
impl<W: Vector> ClassStats<f32> for Kernels<W> {
    #[cfg_attr(not(xent_opt0), inline(always))]
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
        let l = W::LANES;
        if lay.inner() == 1 {
            if classes <= SMALL_C && out.len() == TILE && TILE.is_multiple_of(l) {
                let mut buf = [0.0f32; SMALL_C * TILE];
                transpose_tile::<W, T>(x, p0, classes, &mut buf);
                let mut g = 0;
                while g < TILE {
                    group_stats::<W, f32>(&buf, g, TILE, classes, &tgt[g..], cap, w, want, &mut out[g..]);
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
                    rows_plain_ahead::<W>(xf, p0, classes, tgt, out);
                }
                _ => {
                    for (q, st) in out.iter_mut().enumerate() {
                        let row = &x[(p0 + q) * classes..(p0 + q + 1) * classes];
                        *st = row_sums_dispatch!(W, T, row, tgt[q], cap, w, want);
                    }
                }
            }
            ln_of_sums::<W>(out);
            return;
        }
        if classes >= COLUMN_MAX_C {
            return Scalar::class_stats(x, lay, p0, tgt, cap, w, want, out);
        }
        for (q, n, base) in ColumnGroups::<W>::new(lay, p0, out.len()) {
            if n == l {
                group_stats::<W, T>(x, base, lay.inner(), classes, &tgt[q..], cap, w, want, &mut out[q..]);
            } else {
                Scalar::class_stats(x, lay, p0 + q, &tgt[q..q + n], cap, w, want, &mut out[q..q + n]);
            }
        }
    }
}

impl<W: Vector> Engine<f32> for Kernels<W> {
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn target_codes<I: ClassIndex>(ts: &[I], ignore: i64, classes: usize, tv: &mut [f32]) -> (usize, bool) {
        crate::engine::target_codes(ts, ignore, classes, tv)
    }

    #[cfg_attr(not(xent_opt0), inline(always))]
    fn cap(v: f32, s: f32) -> f32 {
        cap_s::<W>(v, Some(s))
    }

    #[cfg_attr(not(xent_opt0), inline(always))]
    fn ce_sum_from_stats<T: Element>(x: &[T], lay: Layout, p0: usize, tv: &[f32], w: Option<&[f32]>) -> f32 {
        // The statistics out of line: inlined here (into `ce_sum_n`), the row loop took
        // more instructions.
        ce_sum_by_stats::<OutlinedStats<W>, f32, T>(x, lay, p0, tv, w)
    }

    #[cfg_attr(not(xent_opt0), inline(always))]
    fn ce_sum<T: Element>(x: &[T], lay: Layout, p0: usize, tv: &[f32], w: Option<&[f32]>) -> f32 {
        // The column kernels' class count as a constant where it is small and common
        // (channel-first C = 4 and rows of 10: the columns stay in registers).
        match lay.classes() {
            2 => ce_sum_n::<W, T, 2>(x, lay, p0, tv, w),
            3 => ce_sum_n::<W, T, 3>(x, lay, p0, tv, w),
            4 => ce_sum_n::<W, T, 4>(x, lay, p0, tv, w),
            10 => ce_sum_n::<W, T, 10>(x, lay, p0, tv, w),
            _ => ce_sum_n::<W, T, 0>(x, lay, p0, tv, w),
        }
    }

    #[cfg_attr(not(xent_opt0), inline(always))]
    fn class_grad<T: Element>(
        dst: &mut GradDst<'_, T, f32>,
        lay: Layout,
        p0: usize,
        coef: &[Coef<f32>],
        cap: Option<f32>,
        w: Option<&[f32]>,
    ) {
        let classes = lay.classes();
        let l = W::LANES;
        if lay.inner() == 1 {
            if classes <= SMALL_C && coef.len() == TILE && TILE.is_multiple_of(l) {
                // Small C: the tile transposed into columns, its gradient taken there in
                // place (as channel-first positions), and transposed back: a row of 10
                // logits was a call's worth of fixed cost per row.
                let mut buf = [0.0f32; SMALL_C * TILE];
                transpose_tile::<W, T>(dst_input(dst), p0, classes, &mut buf);
                let mut cols = GradDst::<f32, f32>::InPlace(&mut buf);
                let mut g = 0;
                while g < TILE {
                    group_grad::<W, f32>(&mut cols, g, TILE, classes, &coef[g..], cap, w);
                    g += l;
                }
                let tile = p0 * classes..(p0 + TILE) * classes;
                match dst {
                    GradDst::Buffer { grad, .. } => {
                        untranspose_tile::<W::Eights, _>(&buf, classes, &mut grad[tile])
                    }
                    GradDst::InPlace(xs) => untranspose_tile::<W::Eights, _>(&buf, classes, &mut xs[tile]),
                }
                return;
            }
            for (q, k) in coef.iter().enumerate() {
                let start = (p0 + q) * classes;
                let (m, lse, a) = (W::splat(k.max), W::splat(k.lse_rel), W::splat(k.a));
                let c = W::splat(k.c);
                // Read before the row is written (in place, it is overwritten).
                let raw = if k.t < classes { dst_input(dst)[start + k.t].to_f32() } else { 0.0 };
                if k.others && k.t < classes {
                    let others = grad_row_others::<W, T>(dst, start, classes, k, cap, w);
                    put(dst, start + k.t, target_slot::<W>(k, raw, cap, w, Some(others)));
                    continue;
                }
                let ahead = coef.len() * classes;
                // Forced inline only in an entry point: there a closure out of line ran at
                // scalar speed; on the portable backend forcing it took the static v3
                // forward+backward 6-12% more instructions (docs/PERF_NOTES.md).
                match w {
                    Some(w) if k.c != 0.0 && W::ENTRY => map_row::<W, T>(
                        dst,
                        start,
                        classes,
                        ahead,
                        #[cfg_attr(not(xent_opt0), inline(always))]
                        |j, x| grad_v(x, m, lse, a, c * W::load_or(&w[j..], 0.0), cap),
                    ),
                    Some(w) if k.c != 0.0 => map_row::<W, T>(dst, start, classes, ahead, |j, x| {
                        grad_v(x, m, lse, a, c * W::load_or(&w[j..], 0.0), cap)
                    }),
                    _ if W::ENTRY => map_row::<W, T>(
                        dst,
                        start,
                        classes,
                        ahead,
                        #[cfg_attr(not(xent_opt0), inline(always))]
                        |_, x| grad_v(x, m, lse, a, c, cap),
                    ),
                    _ => map_row::<W, T>(dst, start, classes, ahead, |_, x| grad_v(x, m, lse, a, c, cap)),
                }
                if k.t < classes {
                    put(dst, start + k.t, target_slot::<W>(k, raw, cap, w, None));
                }
            }
            return;
        }
        // The column kernels' class compares are exact below COLUMN_MAX_C (`Coef::others`).
        if classes >= COLUMN_MAX_C && coef.iter().any(|k| k.others) {
            return Scalar::class_grad(dst, lay, p0, coef, cap, w);
        }
        // The runs themselves, not `ColumnGroups`: a little faster on channel-first
        // forward+backward.
        for (q0, run, base0) in ColumnRuns::new(lay, p0, coef.len()) {
            let mut q = q0;
            while q + l <= q0 + run {
                let (base, stride) = (base0 + (q - q0), lay.inner());
                group_grad::<W, T>(dst, base, stride, classes, &coef[q..], cap, w);
                q += l;
            }
            if q < q0 + run {
                Scalar::class_grad(dst, lay, p0 + q, &coef[q..q0 + run], cap, w);
            }
        }
    }

    #[cfg_attr(not(xent_opt0), inline(always))]
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
            return soft_stats_channel_first::<W, T, U>(x, t, lay, p0, eps, w, out);
        }
        let uni = if classes > 0 { eps / classes as f32 } else { 0.0 };
        let keep = W::splat(1.0 - eps);
        for (q, st) in out.iter_mut().enumerate() {
            let start = (p0 + q) * classes;
            let row = &x[start..start + classes];
            let s = row_sums_blocked::<W, T, false, false, false>(row, NO_TARGET, 0.0, None);
            let s = Stats { lse_rel: libm::logf(s.lse_rel), ..s };
            let m = W::splat(s.max);
            let (mut swt, mut swtx) = (W::splat(0.0), W::splat(0.0));
            for_blocks::<W, _>(
                row,
                #[cfg_attr(not(xent_opt0), inline(always))]
                |off, blk| {
                    let mut i = 0;
                    while i < blk.len() {
                        let valid = first_lanes::<W>(blk.len() - i);
                        let xv = W::load_or(&blk[i..], 0.0);
                        let tv: W = load_at(t, start + off + i);
                        let wv = match w {
                            Some(w) => W::load_or(&w[off + i..], 0.0),
                            None => W::splat(1.0),
                        };
                        let wt = W::select(valid, wv * tv.mul_add(keep, W::splat(uni)), W::splat(0.0));
                        swt = swt + wt;
                        swtx = swtx + W::select(valid, wt * (xv - m), W::splat(0.0));
                        i += W::LANES;
                    }
                },
            );
            *st =
                SoftStats { max: s.max, lse_rel: s.lse_rel, swt: swt.reduce_add(), swtx: swtx.reduce_add() };
        }
    }

    #[cfg_attr(not(xent_opt0), inline(always))]
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
            return soft_grad_channel_first::<W, T, U>(dst, t, lay, p0, coef, eps, w);
        }
        let uni = W::splat(if classes > 0 { eps / classes as f32 } else { 0.0 });
        let keep = W::splat(1.0 - eps);
        for (q, k) in coef.iter().enumerate() {
            let start = (p0 + q) * classes;
            let (m, lse, a, s) = (W::splat(k.max), W::splat(k.lse_rel), W::splat(k.a), W::splat(k.s));
            map_row::<W, T>(
                dst,
                start,
                classes,
                coef.len() * classes,
                #[cfg_attr(not(xent_opt0), inline(always))]
                |j, x| {
                    let tv: W = load_at(t, start + j);
                    let wv = match w {
                        Some(w) => W::load_or(&w[j..], 0.0),
                        None => W::splat(1.0),
                    };
                    a * ((x - m) - lse).exp_le0_fast() - s * wv * tv.mul_add(keep, uni)
                },
            );
        }
    }

    #[cfg_attr(not(xent_opt0), inline(always))]
    fn normalize<T: Element>(x: &[T], lay: Layout, p0: usize, st: &[Stats<f32>], log: bool, out: &mut [f32]) {
        let classes = lay.classes();
        if lay.inner() != 1 {
            return normalize_channel_first::<W, T>(x, lay, p0, st, log, out);
        }
        let mut dst = GradDst::Buffer { x, grad: out };
        let ahead = st.len() * classes;
        for (q, s) in st.iter().enumerate() {
            let start = (p0 + q) * classes;
            let (m, lse) = (W::splat(s.max), W::splat(s.lse_rel));
            if log {
                map_row::<W, T>(
                    &mut dst,
                    start,
                    classes,
                    ahead,
                    #[cfg_attr(not(xent_opt0), inline(always))]
                    |_, x| (x - m) - lse,
                );
            } else {
                map_row::<W, T>(
                    &mut dst,
                    start,
                    classes,
                    ahead,
                    #[cfg_attr(not(xent_opt0), inline(always))]
                    |_, x| ((x - m) - lse).exp_le0(),
                );
            }
        }
    }

    #[cfg_attr(not(xent_opt0), inline(always))]
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
            (None, None) => binary_run::<W, T, false, false>(kind, x, y, i0, w, pw, &mut [], &mut [], 0.0),
            (Some(p), None) => binary_run::<W, T, true, false>(kind, x, y, i0, w, pw, p, &mut [], 0.0),
            (None, Some((g, s))) => binary_run::<W, T, false, true>(kind, x, y, i0, w, pw, &mut [], g, s),
            (Some(p), Some((g, s))) => binary_run::<W, T, true, true>(kind, x, y, i0, w, pw, p, g, s),
        }
    }

    #[cfg_attr(not(xent_opt0), inline(always))]
    fn first_outside_unit<T: Element>(v: &[T]) -> Option<usize> {
        binary::first_outside_unit::<W, T>(v)
    }
}
