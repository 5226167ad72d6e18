//! [`Simd`], the engine the public functions use: each call runs [`Kernels`] on the
//! backend of the active instruction set (`crate::isa`), inside that backend's entry
//! point (its `outlineN`, [`outline!`]). One selection per engine call (a tile of positions, a
//! block of elements), never per element; a build with a level enabled statically
//! selects it at compile time.

#[cfg(all(target_arch = "x86_64", not(xent_v3)))]
use super::backend::{avx2::Avx2, avx512::Avx512};
use super::kernels::Kernels;
use super::vector::{V, Vector, outline};
use crate::engine::{Binary, ClassStats, Coef, Engine, GradDst, SoftCoef, SoftStats, Stats, Want};
use crate::isa::active;
use crate::{ClassIndex, Element, Error, Layout};

/// The SIMD engine (f32 arithmetic), dispatched per call.
pub(crate) struct Simd;

/// `Kernels::<W>::$method($args)` for the active backend `W`, inside its entry point; on
/// the portable backend a direct call, or with `outline` in a function of its own.
macro_rules! dispatch {
    ($method:ident($($arg:ident),+ $(,)?)) => {
        dispatch!(@any [] $method($($arg),+))
    };
    (outline $method:ident($($arg:ident),+ $(,)?)) => {
        dispatch!(@any [outline] $method($($arg),+))
    };
    (@any [$($mode:ident)?] $method:ident($($arg:ident),+)) => {
        match active() {
            #[cfg(all(target_arch = "x86_64", not(xent_v3)))]
            crate::isa::Isa::Avx512 => outline!(Avx512, Kernels::<Avx512>::$method, ($($arg),+)),
            #[cfg(all(target_arch = "x86_64", not(xent_v3)))]
            crate::isa::Isa::Avx2 => outline!(Avx2, Kernels::<Avx2>::$method, ($($arg),+)),
            _ => dispatch!(@portable $($mode)? $method($($arg),+)),
        }
    };
    (@portable $method:ident($($arg:ident),+)) => {
        Kernels::<V>::$method($($arg),+)
    };
    (@portable outline $method:ident($($arg:ident),+)) => {
        outline!(V, Kernels::<V>::$method, ($($arg),+))
    };
}

impl ClassStats<f32> for Simd {
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
}

impl Engine<f32> for Simd {
    #[inline]
    fn target_codes<I: ClassIndex>(ts: &[I], ignore: i64, classes: usize, tv: &mut [f32]) -> (usize, bool) {
        // In the entry point, for its vector instructions (the loop has no vector type);
        // a short tile here, where an entry's call would cost more than the loop.
        if ts.len() < 64 {
            return crate::engine::target_codes(ts, ignore, classes, tv);
        }
        dispatch!(target_codes(ts, ignore, classes, tv))
    }

    #[inline]
    fn cap(v: f32, s: f32) -> f32 {
        dispatch!(cap(v, s))
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
        dispatch!(outline class_grad(dst, lay, p0, coef, cap, w))
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
        dispatch!(outline normalize(x, lay, p0, st, log, out))
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
        dispatch!(outline binary(kind, x, y, i0, w, pw, per, grad))
    }

    #[inline]
    fn first_outside_unit<T: Element>(v: &[T]) -> Option<usize> {
        dispatch!(first_outside_unit(v))
    }
}
