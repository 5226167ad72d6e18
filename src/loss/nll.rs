//! The driver of `nll_loss`: a gather, weighted, with PyTorch's weighted mean.

use super::class::{scan_targets, target_of};
use super::{check_len, check_weight};
use crate::acc::Acc;
use crate::element::real;
use crate::tiling::NO_TARGET;
use crate::{ClassIndex, Element, Error, Layout, NllOptions, Real, Reduction};

/// Returns the reduced loss; see [`nll_loss`](crate::nll_loss).
pub(crate) fn run<R: Real, T: Element, I: ClassIndex>(
    x: &[T],
    lay: Layout,
    targets: &[I],
    opts: &NllOptions<'_>,
    mut per: Option<&mut [R]>,
    mut grad: Option<&mut [R]>,
) -> Result<R, Error> {
    let positions = lay.positions()?;
    let len = lay.len()?;
    check_len("input", len, x.len())?;
    check_len("targets", positions, targets.len())?;
    check_weight(opts.weight, lay.classes())?;
    if let Some(p) = per.as_deref() {
        check_len("out", positions, p.len())?;
    }
    if let Some(g) = grad.as_deref() {
        check_len("grad", len, g.len())?;
    }
    let (w_total, _) = scan_targets::<R, I>(targets, lay.classes(), opts.ignore_index, opts.weight)?;
    let s = match opts.reduction {
        Reduction::Mean => R::one() / w_total,
        Reduction::Sum => R::one(),
    };
    if let Some(g) = grad.as_deref_mut() {
        g.fill(R::zero());
    }
    let mut acc = Acc::new();
    for (p, &t) in targets.iter().enumerate() {
        let t = target_of(t, opts.ignore_index);
        let loss = if t == NO_TARGET {
            R::zero()
        } else {
            let (base, stride) = lay.row(p);
            let wy = opts.weight.map_or(R::one(), |w| R::from_f32(w[t]));
            if let Some(g) = grad.as_deref_mut() {
                g[base + t * stride] = -(s * wy);
            }
            let l = -wy * real::<R, T>(x[base + t * stride]);
            acc.add(l);
            l
        };
        if let Some(out) = per.as_deref_mut() {
            out[p] = loss;
        }
    }
    Ok(match opts.reduction {
        Reduction::Mean => acc.get() / w_total,
        Reduction::Sum => acc.get(),
    })
}
