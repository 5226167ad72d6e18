//! Rows of at most [`SMALL_C`] classes: a tile of [`TILE`] rows is transposed (in 8x8
//! blocks) into a stack buffer or into registers and handled as channel-first columns, so
//! a 10-class row costs a few vector operations, not a lane reduction.

use super::columns::ce_sum::{LaneAcc, LnProd, group_ce_sum, pass_ce};
use super::columns::stats::group_sweeps;
use crate::engine::Want;
use crate::simd::vector::{Eights, Vector, always, outline};
use crate::tiling::TILE;
use crate::{Element, Layout};

/// Rows with at most this many classes are transposed and handled as columns.
pub(crate) const SMALL_C: usize = 16;

/// A tile of `TILE` rows of `classes <= SMALL_C` logits, transposed:
/// `buf[c * TILE + q] = x[(p0 + q) * classes + c]` (1 KiB of stack). In 8x8 blocks through
/// [`Eights::transpose`] (unpack and shuffle on AVX): an element-wise loop compiled
/// to scatters, slow on x86, and cost a third of a 10-class row's time.
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn transpose_tile<W: Vector, T: Element>(
    x: &[T],
    p0: usize,
    classes: usize,
    buf: &mut [f32; SMALL_C * TILE],
) {
    let tile = &x[p0 * classes..];
    debug_assert!(tile.len() >= TILE * classes);
    match tile.get(..TILE * classes + 8) {
        // Every tile but the last few: the reads of whole 8-value blocks past the tile's
        // end stay in `x`, so no read is cut short, and with the class count a constant
        // no read needs a bounds check. Before this path (every read clamped, a call
        // for the short ones, the rows passed through memory) the transposes were a
        // quarter of the v4 10-class forward's samples.
        Some(t) => transpose_blocks(
            classes,
            #[cfg_attr(not(xent_opt0), inline(always))]
            |i| load8_full::<W::Eights, T>(&t[i..i + 8]),
            tile_put(buf),
        ),
        None => outline!(W, transpose_tile_short::<W, T>, (tile, classes, buf)),
    }
}

/// [`transpose_tile`] of one of the last tiles, whose reads past the tile's end are cut
/// short and zero-padded. Out of line (through the backend's entry point, whose features it
/// needs): a second inlined copy of the blocks' loop grew the frames of the functions
/// holding it (a Cortex-M4F keeps the eight rows on the stack).
#[cfg_attr(not(xent_opt0), inline(always))]
fn transpose_tile_short<W: Vector, T: Element>(tile: &[T], classes: usize, buf: &mut [f32; SMALL_C * TILE]) {
    transpose_blocks(
        classes,
        #[cfg_attr(not(xent_opt0), inline(always))]
        |i| load8::<W::Eights, T>(&tile[i.min(tile.len())..]),
        tile_put(buf),
    );
}

/// The sink of [`transpose_blocks`] into a stack tile: class `c`'s rows `8h..8h + 8` at
/// `buf[c * TILE + 8h..]`.
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn tile_put<E: Eights>(buf: &mut [f32; SMALL_C * TILE]) -> impl FnMut(usize, usize, E) + '_ {
    |c, h, v| buf[c * TILE + 8 * h..][..8].copy_from_slice(&v.to_array())
}

/// [`transpose_tile`]'s 8x8 blocks: `row(i)` reads the 8 values from `i` of the tile,
/// `put(c, h, v)` takes class `c`'s values of rows `8h..8h + 8`.
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn transpose_blocks<E: Eights>(
    classes: usize,
    row: impl Fn(usize) -> E,
    mut put: impl FnMut(usize, usize, E),
) {
    for q0 in (0..TILE).step_by(8) {
        for c0 in (0..classes).step_by(8) {
            // Rows `q0..q0 + 8`, classes `c0..c0 + 8` (lanes past the row hold the next
            // row's logits, or 0 past the tile; they are not stored).
            // Not `core::array::from_fn`: one code-generation unit left it out of line.
            let at = always!(|j: usize| row((q0 + j) * classes + c0));
            let rows = [at(0), at(1), at(2), at(3), at(4), at(5), at(6), at(7)];
            for (k, v) in E::transpose(rows).into_iter().enumerate().take(classes - c0) {
                put(c0 + k, q0 / 8, v);
            }
        }
    }
}

/// A whole tile of `TILE` rows of `N <= SMALL_C` logits (`t`, with 8 values more after
/// it) transposed into `cols` (registers, where they fit): `[c][h]` holds class `c` of
/// rows `8h..8h + 8`. Into the caller's array, not returned: returned, a build whose
/// registers do not hold it (AVX2) zeroed and copied it each tile (`memset` and `memcpy`
/// calls).
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn transpose_tile_regs<E: Eights, T: Element, const N: usize>(
    t: &[T],
    cols: &mut [[E; TILE / 8]; N],
) {
    transpose_blocks(
        N,
        #[cfg_attr(not(xent_opt0), inline(always))]
        |i| load8_full::<E, T>(&t[i..i + 8]),
        #[cfg_attr(not(xent_opt0), inline(always))]
        |c, h, v| cols[c][h] = v,
    );
}

/// The inverse of [`transpose_tile`]: `out[q * classes + c] = buf[c * TILE + q]` for the
/// `TILE` rows of `out` (rounded to `U`), in the same 8x8 blocks.
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn untranspose_tile<E: Eights, U: Element>(
    buf: &[f32; SMALL_C * TILE],
    classes: usize,
    out: &mut [U],
) {
    debug_assert!(out.len() >= TILE * classes);
    for q0 in (0..TILE).step_by(8) {
        for c0 in (0..classes).step_by(8) {
            let n = (classes - c0).min(8);
            let col = always!(|k: usize| {
                let mut a = [0.0f32; 8];
                if k < n {
                    a.copy_from_slice(&buf[(c0 + k) * TILE + q0..][..8]);
                }
                E::new(a)
            });
            let cols = [col(0), col(1), col(2), col(3), col(4), col(5), col(6), col(7)];
            for (j, r) in E::transpose(cols).iter().enumerate() {
                // Value by value: a short slice copy of runtime length is a `memcpy` call.
                let row = &mut out[(q0 + j) * classes + c0..][..n];
                for (d, &v) in row.iter_mut().zip(&r.to_array()) {
                    *d = U::from_f32(v);
                }
            }
        }
    }
}

/// The first 8 values of `s` as f32 (0 past its end).
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn load8<E: Eights, T: Element>(s: &[T]) -> E {
    match T::as_f32(s) {
        Some(f) => {
            if let Some(a) = f.first_chunk::<8>() {
                return E::new(*a);
            }
        }
        None if s.len() >= 8 => return load8_full::<E, T>(&s[..8]),
        None => {}
    }
    load8_slow(s)
}

/// The 8 values of `s` (`s.len() == 8`) as f32.
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn load8_full<E: Eights, T: Element>(s: &[T]) -> E {
    if let Some(h) = T::as_f16(s).and_then(<[_]>::first_chunk::<8>) {
        return E::from_halves(h);
    }
    let mut a = [0.0f32; 8];
    match T::as_f32(s) {
        Some(f) => a.copy_from_slice(f),
        None => T::load_block(s, &mut a),
    }
    E::new(a)
}

/// [`load8`] for short slices and other types: kept out of line, or the two paths merge
/// into one variable-length `memcpy` call per load.
#[cold]
#[inline(never)]
pub(crate) fn load8_slow<E: Eights, T: Element>(s: &[T]) -> E {
    let mut a = [0.0f32; 8];
    T::load_block(&s[..s.len().min(8)], &mut a);
    E::new(a)
}

/// The plain cross-entropy sum of rows with at most [`SMALL_C`] classes, `tv.len()` a
/// multiple of [`TILE`]: whole tiles of [`TILE`] rows transposed into columns. Out of line (called once per 256 positions): inlined, its
/// tiles and transposes sat in the frame of every row forward (a Cortex-M4F keeps them on
/// the stack: rows of 19 classes took 0.8 KiB more).
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn ce_sum_tiles<W: Vector, T: Element, const N: usize>(
    x: &[T],
    lay: Layout,
    p0: usize,
    tv: &[f32],
    w: Option<&[f32]>,
) -> f32 {
    outline!(W, ce_sum_tiles_in::<W, T, N>, (x, lay, p0, tv, w))
}

/// [`ce_sum_tiles`]' body.
#[cfg_attr(not(xent_opt0), inline(always))]
fn ce_sum_tiles_in<W: Vector, T: Element, const N: usize>(
    x: &[T],
    lay: Layout,
    p0: usize,
    tv: &[f32],
    w: Option<&[f32]>,
) -> f32 {
    // The class count as the constant `N` where there is one (`lay.classes() == N`).
    let (classes, l) = (if N > 0 { N } else { lay.classes() }, W::LANES);
    // Small C: whole tiles of TILE rows transposed into columns.
    debug_assert!(tv.len().is_multiple_of(TILE));
    let mut vsum = LaneAcc::<W>::new();
    let mut buf = [0.0f32; SMALL_C * TILE];
    let mut cols = [[W::Eights::ZERO; TILE / 8]; N];
    let mut lp = LnProd::<W>::new();
    for (j, tvj) in tv.chunks(TILE).enumerate() {
        let pj = p0 + j * TILE;
        if N > 0
            && let Some(t) = x.get(pj * N..(pj + TILE) * N + 8)
        {
            // A known class count: the tile's columns stay in registers.
            transpose_tile_regs::<W::Eights, T, N>(t, &mut cols);
            let mut g = 0;
            if w.is_none() {
                // Unweighted: one `ln` per `LN_GROUPS` groups, across tiles.
                while g < TILE {
                    let col = always!(|c: usize| W::from_eights(&cols[c][g / 8..]));
                    if lp.push::<N>(col, W::load_or(&tvj[g..], -1.0)) {
                        vsum.add(lp.take());
                    }
                    g += l;
                }
                continue;
            }
            while g < TILE {
                let tvv = W::load_or(&tvj[g..], -1.0);
                let col = always!(|c: usize| W::from_eights(&cols[c][g / 8..]));
                let p = group_sweeps(N, col, tvv, Want::default(), None);
                vsum.add(pass_ce(&p, N, &tvj[g..], w));
                g += l;
            }
            continue;
        }
        transpose_tile::<W, T>(x, pj, classes, &mut buf);
        let mut g = 0;
        while g < TILE {
            vsum.add(group_ce_sum::<W, f32, N>(&buf, g, TILE, classes, &tvj[g..], w, false));
            g += l;
        }
    }
    if lp.k > 0 {
        vsum.add(lp.take());
    }
    vsum.total()
}
