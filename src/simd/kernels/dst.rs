//! Writes into a gradient destination ([`GradDst`]): a caller's buffer, or over the input.

use crate::Element;
use crate::engine::GradDst;
use crate::simd::kernels::convert::narrow;
use crate::simd::vector::Vector;

/// Writes one gradient value at `i`.
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn put<T: Element>(dst: &mut GradDst<'_, T, f32>, i: usize, g: f32) {
    match dst {
        GradDst::Buffer { grad, .. } => grad[i] = g,
        GradDst::InPlace(x) => x[i] = T::from_f32(g),
    }
}

#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn dst_input<'a, T: Element>(dst: &'a GradDst<'_, T, f32>) -> &'a [T] {
    dst.input()
}

/// Writes the vector `g` at `i ..` of a gradient destination (rounded to `T` in place).
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn store_at<W: Vector, T: Element>(dst: &mut GradDst<'_, T, f32>, i: usize, g: W) {
    let l = W::LANES;
    match dst {
        GradDst::Buffer { grad, .. } => g.store(&mut grad[i..i + l]),
        GradDst::InPlace(xs) => {
            let mut tmp = [0.0f32; 16];
            g.store(&mut tmp);
            narrow::<W, T>(&tmp[..l], &mut xs[i..i + l]);
        }
    }
}
