//! The driver of the element-wise losses: `binary_cross_entropy`,
//! `binary_cross_entropy_with_logits` and `sigmoid_focal_loss`.

use super::{check_broadcast, check_len, check_nonneg};
use crate::acc::Acc;
use crate::engine::{Binary, Engine};
use crate::tiling::BINARY_BLOCK;
use crate::{Element, Error, Real, Reduction};

/// Validates the focal options and returns the kind.
pub(crate) fn focal<R: Real>(alpha: f32, gamma: f32) -> Result<Binary<R>, Error> {
    check_nonneg("gamma", gamma)?;
    if alpha.is_nan() {
        return Err(Error::InvalidOption { what: "alpha", value: alpha });
    }
    Ok(Binary::SigmoidFocal { alpha: R::from_f32(alpha), gamma: R::from_f32(gamma) })
}

/// Returns the reduced loss, writing per-element losses and the gradient when asked.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run<E: Engine<R>, R: Real, T: Element>(
    kind: Binary<R>,
    x: &[T],
    y: &[T],
    weight: Option<&[f32]>,
    pos_weight: Option<&[f32]>,
    reduction: Reduction,
    mut per: Option<&mut [R]>,
    mut grad: Option<&mut [R]>,
) -> Result<R, Error> {
    let n = x.len();
    check_len("target", n, y.len())?;
    check_broadcast("weight", weight, n)?;
    check_broadcast("pos_weight", pos_weight, n)?;
    if let Some(p) = per.as_deref() {
        check_len("out", n, p.len())?;
    }
    if let Some(g) = grad.as_deref() {
        check_len("grad", n, g.len())?;
    }
    let scale = match reduction {
        Reduction::Mean => R::one() / R::from_usize(n),
        Reduction::Sum => R::one(),
    };
    let mut acc = Acc::new();
    let mut i0 = 0;
    while i0 < n {
        let i1 = n.min(i0 + BINARY_BLOCK);
        let (xb, yb) = (&x[i0..i1], &y[i0..i1]);
        let pb = per.as_deref_mut().map(|p| &mut p[i0..i1]);
        let gb = grad.as_deref_mut().map(|g| (&mut g[i0..i1], scale));
        acc.add(E::binary(kind, xb, yb, i0, weight, pos_weight, pb, gb)?);
        i0 = i1;
    }
    Ok(match reduction {
        Reduction::Mean => acc.get() / R::from_usize(n),
        Reduction::Sum => acc.get(),
    })
}
