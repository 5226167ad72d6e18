//! The loss drivers: validation, reductions and per-position arithmetic, written once and
//! generic over the [`Engine`](crate::engine::Engine) that does the per-element work. The
//! public functions (SIMD engine, f32) and their `scalar::` twins (scalar engine, f32 or
//! f64) are thin wrappers over these drivers.

pub(crate) mod binary;
pub(crate) mod class;
pub(crate) mod nll;
pub(crate) mod primitives;
pub(crate) mod probs;

use crate::engine::GradDst;
use crate::{Element, Error, Real};

/// What a driver reads, and where its gradient goes if it computes one.
pub(crate) enum Io<'a, T, R> {
    Fwd(&'a [T]),
    Grad(GradDst<'a, T, R>),
}

impl<'a, T: Element, R: Real> Io<'a, T, R> {
    pub(crate) fn input(&self) -> &[T] {
        match self {
            Io::Fwd(x) => x,
            Io::Grad(g) => g.input(),
        }
    }
    pub(crate) fn grad_len(&self) -> Option<usize> {
        match self {
            Io::Fwd(_) => None,
            Io::Grad(GradDst::Buffer { grad, .. }) => Some(grad.len()),
            Io::Grad(GradDst::InPlace(x)) => Some(x.len()),
        }
    }
    pub(crate) fn buffer(x: &'a [T], grad: &'a mut [R]) -> Self {
        Io::Grad(GradDst::Buffer { x, grad })
    }
}

pub(crate) fn check_len(what: &'static str, expected: usize, found: usize) -> Result<(), Error> {
    if expected == found { Ok(()) } else { Err(Error::LengthMismatch { what, expected, found }) }
}

pub(crate) fn check_weight(w: Option<&[f32]>, classes: usize) -> Result<(), Error> {
    match w {
        Some(w) => check_len("weight", classes, w.len()),
        None => Ok(()),
    }
}

/// A weight broadcast over trailing blocks: its length must divide `n` (any length for
/// `n == 0`, but not 0 when `n > 0`).
pub(crate) fn check_broadcast(what: &'static str, w: Option<&[f32]>, n: usize) -> Result<(), Error> {
    match w {
        Some(w) if n > 0 && (w.is_empty() || !n.is_multiple_of(w.len())) => {
            Err(Error::LengthMismatch { what, expected: n, found: w.len() })
        }
        _ => Ok(()),
    }
}

pub(crate) fn check_smoothing(eps: f32) -> Result<(), Error> {
    if (0.0..=1.0).contains(&eps) {
        Ok(())
    } else {
        Err(Error::InvalidOption { what: "label_smoothing", value: eps })
    }
}

pub(crate) fn check_nonneg(what: &'static str, v: f32) -> Result<(), Error> {
    if v >= 0.0 && v.is_finite() { Ok(()) } else { Err(Error::InvalidOption { what, value: v }) }
}

pub(crate) fn check_softcap(cap: Option<f32>) -> Result<(), Error> {
    match cap {
        Some(s) if !(s > 0.0 && s.is_finite()) => Err(Error::InvalidOption { what: "softcap", value: s }),
        _ => Ok(()),
    }
}
