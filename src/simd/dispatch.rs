//! [`Simd`], the engine the public functions use: each call runs [`Kernels`] on the
//! backend of the active instruction set ([`crate::isa`]), inside that backend's entry
//! point ([`Vector::outline`]). One selection per engine call (a tile of positions, a
//! block of elements), never per element; a build with a level enabled statically
//! selects it at compile time.

use super::kernels::Kernels;
use super::vector::{V, Vector};
use crate::engine::{Binary, Coef, Engine, GradDst, SoftCoef, SoftStats, Stats, Want};
use crate::{Element, Error, Layout};

/// The SIMD engine (f32 arithmetic), dispatched per call.
pub(crate) struct Simd;

/// `Kernels::<W>::$method($args)` for the active backend `W`, in its entry point.
macro_rules! dispatch {
    ($method:ident($($arg:expr),* $(,)?)) => {
        V::outline(#[cfg_attr(not(xent_opt0), inline(always))] move || Kernels::<V>::$method($($arg),*))
    };
}

impl Engine<f32> for Simd {
    #[inline]
    fn cap(v: f32, s: f32) -> f32 {
        dispatch!(cap(v, s))
    }

    #[inline]
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
        dispatch!(class_stats(x, lay, p0, tgt, cap, w, want, out))
    }

    #[inline]
    fn ce_sum<T: Element>(x: &[T], lay: Layout, p0: usize, tv: &[f32], w: Option<&[f32]>) -> f32 {
        dispatch!(ce_sum(x, lay, p0, tv, w))
    }

    #[inline]
    fn ce_sum_from_stats<T: Element>(x: &[T], lay: Layout, p0: usize, tv: &[f32], w: Option<&[f32]>) -> f32 {
        dispatch!(ce_sum_from_stats(x, lay, p0, tv, w))
    }

    #[inline]
    fn class_grad<T: Element>(
        dst: &mut GradDst<'_, T, f32>,
        lay: Layout,
        p0: usize,
        coef: &[Coef<f32>],
        cap: Option<f32>,
        w: Option<&[f32]>,
    ) {
        dispatch!(class_grad(dst, lay, p0, coef, cap, w))
    }

    #[inline]
    fn soft_stats<T: Element, U: Element>(
        x: &[T],
        t: &[U],
        lay: Layout,
        p0: usize,
        eps: f32,
        w: Option<&[f32]>,
        out: &mut [SoftStats<f32>],
    ) {
        dispatch!(soft_stats(x, t, lay, p0, eps, w, out))
    }

    #[inline]
    fn soft_grad<T: Element, U: Element>(
        dst: &mut GradDst<'_, T, f32>,
        t: &[U],
        lay: Layout,
        p0: usize,
        coef: &[SoftCoef<f32>],
        eps: f32,
        w: Option<&[f32]>,
    ) {
        dispatch!(soft_grad(dst, t, lay, p0, coef, eps, w))
    }

    #[inline]
    fn normalize<T: Element>(x: &[T], lay: Layout, p0: usize, st: &[Stats<f32>], log: bool, out: &mut [f32]) {
        dispatch!(normalize(x, lay, p0, st, log, out))
    }

    #[inline]
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
        dispatch!(binary(kind, x, y, i0, w, pw, per, grad))
    }

    #[inline]
    fn first_outside_unit<T: Element>(v: &[T]) -> Option<usize> {
        dispatch!(first_outside_unit(v))
    }
}
