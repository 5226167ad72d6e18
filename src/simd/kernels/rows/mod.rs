//! The row log-sum-exp of `(N, C)` logits: one read pass per row over memory, in blocks
//! of [`LSE_BLOCK`] values (4 KiB of f32, L1-resident).
//!
//! - A row's state is a [`BlockLse`] ([`state`]): the running maximum, the lane sums of
//!   `exp(x - max)` with their two-sum compensation, `Σ w (x - max)` (label smoothing) and
//!   the count of logits above the target's (rank). Block sums enter by a two-sum and
//!   rescales are done in f64, so the error bound holds at any row length.
//! - A block is fed ([`feed`]) in one of three ways. Two-sweep builds (8 lanes: SSE2,
//!   AVX2, NEON) read its maximum, with the side sums, first ([`scan`]) and then take its
//!   exps relative to the new running maximum ([`sweep`]). One-sweep builds (AVX-512)
//!   take the exps relative to the running maximum and track the block's maximum in the
//!   same sweep; where the exp clamps both ends of its argument (AVX-512DQ) they skip the
//!   maximum and check the block's sums instead. A block whose maximum passes the running
//!   one by more than [`SLACK`](state::SLACK) is swept again.
//! - f16/bf16 rows are widened a [`CONVERT_BLOCK`]-value piece at a time into one stack
//!   buffer inside the sweep; soft-capped rows are capped a piece at a time the same way.
//! - Plain rows of at most [`LSE_BLOCK`] f32 logits run pipelined ([`rows_plain_ahead`]):
//!   each row's exp sweep also reads the next row's maximum.
//!
//! The sums leave here in [`Stats::lse_rel`](crate::engine::Stats); [`ln_of_sums`] then
//! takes their logs, a vector of rows at a time.

mod feed;
mod scan;
mod state;
mod sweep;

use crate::Element;
use crate::engine::Stats;
use crate::simd::kernels::convert::{CONVERT_BLOCK, StackBlock, widen};
use crate::simd::kernels::lanes::{cap_s, cap_v};
use crate::simd::vector::{Vector, always};
use state::BlockLse;

/// Elements per block of the blocked log-sum-exp (4 KiB of f32, L1-resident).
pub(crate) const LSE_BLOCK: usize = 1024;

/// One read pass over a contiguous row, blocked: per block of [`LSE_BLOCK`] values add
/// `exp(x - max)` with one exp per element relative to the running maximum, and
/// `Σ w (x - max)` (reusing the exp's argument, re-centred when the maximum grows) and the
/// count of logits above the target's in the same sweep, which also finds the block's
/// maximum; the running sum is rescaled once if it grew ([`BlockLse::feed`]). Cheaper per
/// element than the online update (no compare, select or second product per element) and
/// the same single pass over memory.
///
/// Each block starts its own accumulators, so no lane adds more than `LSE_BLOCK / (2 LANES)`
/// terms in a row: the roundings of a long run of equal small terms into one large one
/// (which all share a sign) stay within the documented bound at any `C`.
///
/// With `SOFTCAP`, every value is soft-capped (`cap tanh(x / cap)`, [`cap_v`]) first, a block
/// of [`CONVERT_BLOCK`] values at a time into one stack buffer (the row's only scratch: 1 KiB).
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn row_sums_blocked<
    W: Vector,
    T: Element,
    const SMOOTH: bool,
    const COUNT_ABOVE: bool,
    const SOFTCAP: bool,
>(
    row: &[T],
    t: usize,
    cap: f32,
    w: Option<&[f32]>,
) -> Stats<f32> {
    let n = row.len();
    // The target's logit: read first for the rank (its comparisons need it) and on
    // two-sweep builds; on one-sweep builds just after the block that holds it was fed,
    // from L1: read at the row's start on AVX-512 it missed (out of the prefetcher's
    // stream), while on v3 (whose maximum pass streams from memory first) the start was
    // the fastest place.
    let target = always!(|| if t < n { cap_s::<W>(row[t].to_f32(), SOFTCAP.then_some(cap)) } else { 0.0 });
    let late = !COUNT_ABOVE && W::ONE_SWEEP;
    let mut xt = if late { 0.0 } else { target() };
    let mut st = BlockLse::<W>::new(xt);
    let holds_target = always!(|k: usize, len: usize| late && (k..k + len).contains(&t));
    if SOFTCAP {
        let mut buf = StackBlock::new();
        let buf = &mut buf.0;
        let mut off = 0;
        for ch in row.chunks(CONVERT_BLOCK) {
            let b = &mut buf[..ch.len()];
            widen::<W, T>(ch, b);
            cap_in_place::<W>(b, cap);
            st.feed::<f32, SMOOTH, COUNT_ABOVE, false>(b, off, w, &mut []);
            if holds_target(off, ch.len()) {
                xt = target();
            }
            off += ch.len();
        }
    } else {
        // f16/bf16 rows are fed LSE_BLOCK values at a time too, converted into one buffer
        // a CONVERT_BLOCK-value piece at a time inside the sweep (the sums stay in registers across
        // pieces): a block's check, two-sum and rescale come once per LSE_BLOCK values, as for f32.
        match T::as_f32(row) {
            Some(r) => {
                for (k, sub) in r.chunks(LSE_BLOCK).enumerate() {
                    st.feed::<f32, SMOOTH, COUNT_ABOVE, true>(sub, k * LSE_BLOCK, w, &mut []);
                    if holds_target(k * LSE_BLOCK, sub.len()) {
                        xt = target();
                    }
                }
            }
            None => {
                let mut buf = StackBlock::new();
                for (k, sub) in row.chunks(LSE_BLOCK).enumerate() {
                    st.feed::<T, SMOOTH, COUNT_ABOVE, true>(sub, k * LSE_BLOCK, w, &mut buf.0);
                    if holds_target(k * LSE_BLOCK, sub.len()) {
                        xt = target();
                    }
                }
            }
        }
    }
    st.finish::<SMOOTH, COUNT_ABOVE>(n, t, xt)
}

/// The shortest rows [`rows_plain_ahead`] takes: shorter ones gain nothing from the overlap
/// and pay a second tail.
pub(crate) const PIPELINE_MIN_C: usize = 256;

/// The plain forward ([`row_sums_blocked`] without smoothing, rank or cap) of the rows
/// `p0..p0 + out.len()` of `classes <= LSE_BLOCK` f32 logits, software-pipelined: each row's exp
/// sweep also takes the next row's maximum ([`BlockLse::sweep_ahead`]), so the next row's
/// first read from memory overlaps this row's exps instead of following them.
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn rows_plain_ahead<W: Vector>(
    x: &[f32],
    p0: usize,
    classes: usize,
    tgt: &[usize],
    out: &mut [Stats<f32>],
) {
    debug_assert!(classes <= LSE_BLOCK);
    let k = out.len();
    let row = always!(|q: usize| &x[(p0 + q) * classes..(p0 + q + 1) * classes]);
    if k == 0 {
        return;
    }
    let mut bm = BlockLse::<W>::max_of(row(0));
    for (q, st_out) in out.iter_mut().enumerate() {
        let (r, t) = (row(q), tgt[q]);
        let xt = if t < classes { r[t] } else { 0.0 };
        let mut st = BlockLse::<W>::new(xt);
        let ahead = if q + 1 < k { row(q + 1) } else { &[] };
        bm = st.feed_ahead(r, bm, ahead);
        *st_out = st.finish::<false, false>(classes, t, xt);
    }
}

/// Replaces the sums [`row_sums_blocked`] left in `lse_rel` by their logs, `LANES` rows per
/// vector `ln` (2 ULP; NaN stays NaN, `ln 0 = -inf`): one `libm::logf` per row cost a
/// third of the time of rows of 31 logits.
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn ln_of_sums<W: Vector>(st: &mut [Stats<f32>]) {
    for ch in st.chunks_mut(W::LANES) {
        let mut a = [1.0f32; 16];
        for (a, s) in a.iter_mut().zip(ch.iter()) {
            *a = s.lse_rel;
        }
        let v = W::load_or(&a, 1.0);
        // `ln_fast` maps NaN's bits to a finite value: `v - v` carries the NaN through.
        #[allow(clippy::eq_op)]
        let r = v.ln_fast() + (v - v);
        r.to_lanes(&mut a);
        for (s, &l) in ch.iter_mut().zip(a.iter()) {
            s.lse_rel = l;
        }
    }
}

/// Soft-caps `b` in place: `cap tanh(x / cap)` ([`cap_v`]) for every value.
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn cap_in_place<W: Vector>(b: &mut [f32], cap: f32) {
    let (vecs, tail) = W::split_mut(b);
    for a in vecs {
        *a = cap_v(W::from_arr(a), cap).0.to_arr();
    }
    if !tail.is_empty() {
        cap_v(W::load_or(tail, 0.0), cap).0.store(tail);
    }
}
