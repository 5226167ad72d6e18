//! The scalar kernels' sums over a row: pairwise, so that their rounding error grows like
//! `log2 C` rather than `C` (an f32 sum of many nearly equal terms, one after another,
//! rounds the same way at every step).

use crate::Real;

/// Ranges of at most this many terms are summed one after another.
const RUN: usize = 16;

/// `Σ f(i)` over `lo..hi` for each of the `K` components, halving the range down to runs
/// of [`RUN`] terms (recursion depth `log2((hi - lo) / RUN)`).
pub(crate) fn pairwise<R: Real, const K: usize>(
    lo: usize,
    hi: usize,
    f: &impl Fn(usize) -> [R; K],
) -> [R; K] {
    if hi - lo <= RUN {
        let mut s = [R::zero(); K];
        for i in lo..hi {
            for (a, v) in s.iter_mut().zip(f(i)) {
                *a = *a + v;
            }
        }
        return s;
    }
    let mid = lo + (hi - lo) / 2;
    let (a, b) = (pairwise(lo, mid, f), pairwise(mid, hi, f));
    core::array::from_fn(|k| a[k] + b[k])
}
