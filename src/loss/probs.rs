//! The driver of `cross_entropy` with probability (soft) targets.

use super::{Io, check_len, check_smoothing, check_weight};
use crate::acc::Acc;
use crate::engine::{Engine, SoftCoef, SoftStats};
use crate::tiling::TILE;
use crate::{Element, Error, Layout, ProbsOptions, Real, Reduction};

/// Returns the reduced loss; see [`cross_entropy_probs`](crate::cross_entropy_probs).
pub(crate) fn run<E: Engine<R>, R: Real, T: Element, U: Element>(
    mut io: Io<'_, T, R>,
    lay: Layout,
    targets: &[U],
    opts: &ProbsOptions<'_>,
    mut per: Option<&mut [R]>,
) -> Result<R, Error> {
    check_smoothing(opts.label_smoothing)?;
    let positions = lay.positions()?;
    let len = lay.len()?;
    check_len("logits", len, io.input().len())?;
    check_len("targets", len, targets.len())?;
    check_weight(opts.weight, lay.classes())?;
    if let Some(p) = per.as_deref() {
        check_len("out", positions, p.len())?;
    }
    if let Some(g) = io.grad_len() {
        check_len("grad", len, g)?;
    }
    if lay.classes() == 0 {
        // Every position's loss is an empty sum; no walk over a (possibly huge) batch whose
        // slices are all empty.
        if let Some(p) = per.as_deref_mut() {
            p.fill(-R::zero());
        }
        return Ok(match opts.reduction {
            Reduction::Mean => -R::zero() / R::from_usize(positions),
            Reduction::Sum => -R::zero(),
        });
    }
    let eps = R::from_f32(opts.label_smoothing);
    let s = match opts.reduction {
        Reduction::Mean => R::one() / R::from_usize(positions),
        Reduction::Sum => R::one(),
    };
    // Σ_n Σ_c w t' lp, negated at the end (so an empty sum is -0.0, as in PyTorch).
    let mut acc = Acc::new();
    let mut st = [SoftStats::<R>::default(); TILE];
    let mut coef = [SoftCoef::<R>::default(); TILE];
    // With a gradient each tile (logits and targets) is read twice: tiles of long rows
    // shrink to stay in L2.
    let tile = match io {
        Io::Grad(_) => crate::tiling::reread_tile(lay, core::mem::size_of::<T>() + core::mem::size_of::<U>()),
        Io::Fwd(_) => TILE,
    };
    let mut p0 = 0;
    while p0 < positions {
        let k = tile.min(positions - p0);
        E::soft_stats(io.input(), targets, lay, p0, eps, opts.weight, &mut st[..k]);
        for q in 0..k {
            let st = st[q];
            let lse_rel = st.lse_rel;
            let a = st.swtx - st.swt * lse_rel;
            acc.add(a);
            if let Some(p) = per.as_deref_mut() {
                p[p0 + q] = -a;
            }
            coef[q] = SoftCoef { max: st.max, lse_rel, a: s * st.swt, s };
        }
        if let Io::Grad(g) = &mut io {
            E::soft_grad(g, targets, lay, p0, &coef[..k], eps, opts.weight);
        }
        p0 += k;
    }
    let total = -acc.get();
    Ok(match opts.reduction {
        Reduction::Mean => total / R::from_usize(positions),
        Reduction::Sum => total,
    })
}
