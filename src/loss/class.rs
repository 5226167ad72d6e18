//! The driver of every class-index loss that needs a softmax: `cross_entropy` (weights,
//! ignore_index, label smoothing, z-loss, soft-capping) and `softmax_focal_loss`.

use super::{Io, check_len, check_nonneg, check_smoothing, check_softcap, check_weight};
use crate::acc::Acc;
use crate::element::real;
use crate::engine::{Coef, Engine, Stats, Want};
use crate::tiling::{F32_EXACT_C, NO_TARGET, TILE};
use crate::{ClassIndex, CrossEntropyOptions, Element, Error, Layout, Real, Reduction, SoftmaxFocalOptions};

/// Which class-index softmax loss.
#[derive(Copy, Clone, Debug)]
pub(crate) enum Kind<R> {
    Ce { eps: R, z: R, cap: Option<R> },
    Focal { gamma: R },
}

/// A validated class-index loss call.
#[derive(Copy, Clone, Debug)]
pub(crate) struct Spec<'a, R> {
    pub kind: Kind<R>,
    pub weight: Option<&'a [f32]>,
    pub ignore: i64,
    pub reduction: Reduction,
}

impl<'a, R: Real> Spec<'a, R> {
    pub(crate) fn ce(o: &CrossEntropyOptions<'a>) -> Result<Self, Error> {
        check_smoothing(o.label_smoothing)?;
        check_nonneg("z_loss", o.z_loss)?;
        check_softcap(o.softcap)?;
        Ok(Self {
            kind: Kind::Ce {
                eps: R::from_f32(o.label_smoothing),
                z: R::from_f32(o.z_loss),
                cap: o.softcap.map(R::from_f32),
            },
            weight: o.weight,
            ignore: o.ignore_index,
            reduction: o.reduction,
        })
    }

    pub(crate) fn focal(o: &SoftmaxFocalOptions<'a>) -> Result<Self, Error> {
        check_nonneg("gamma", o.gamma)?;
        Ok(Self {
            kind: Kind::Focal { gamma: R::from_f32(o.gamma) },
            weight: o.weight,
            ignore: o.ignore_index,
            reduction: o.reduction,
        })
    }
}

/// Range-checks the targets and returns, per the layout, the mean's denominators:
/// `W = Σ w[y]` and `K` = the count of positions that are not ignored.
///
/// `W` is summed in f64, where every f32 weight is exact: plainly within blocks of 256
/// (at most `255 * 2^-53` of `Σ |w[y]|` per block) and compensated across blocks, then
/// rounded once. An f32 sum of equal weights rounds the same way at every step (169
/// targets of one weight came out 17 ULP off), past the reduction bound the docs state.
pub(crate) fn scan_targets<R: Real, I: ClassIndex>(
    targets: &[I],
    classes: usize,
    ignore: i64,
    weight: Option<&[f32]>,
) -> Result<(R, usize), Error> {
    let mut w_sum = Acc::<f64>::new();
    let mut count = 0usize;
    for (b, block) in targets.chunks(256).enumerate() {
        let mut part = 0.0f64;
        for (j, &t) in block.iter().enumerate() {
            let t = t.to_i64();
            if t == ignore {
                continue;
            }
            let Some(c) = usize::try_from(t).ok().filter(|&c| c < classes) else {
                return Err(Error::TargetOutOfRange { position: b * 256 + j, target: t, classes });
            };
            count += 1;
            if let Some(w) = weight {
                part += f64::from(w[c]);
            }
        }
        w_sum.add(part);
    }
    let total = if weight.is_some() { R::from_f64(w_sum.get()) } else { R::from_usize(count) };
    Ok((total, count))
}

/// The class index of a target already range-checked by [`scan_targets`], or `NO_TARGET`.
#[inline]
pub(crate) fn target_of<I: ClassIndex>(t: I, ignore: i64) -> usize {
    let t = t.to_i64();
    if t == ignore { NO_TARGET } else { usize::try_from(t).unwrap_or(NO_TARGET) }
}

/// Per-position log-sum-exps a call writes (a forward for a later backward) or reads (that
/// backward, which then needs no statistics pass).
pub(crate) enum LseIo<'a, R> {
    None,
    Out(&'a mut [R]),
    In(&'a [R]),
}

/// The common driver; see the module docs. Returns the reduced loss (meaningless when the
/// log-sum-exps are read, since the backward computes no loss).
pub(crate) fn run<E: Engine<R>, R: Real, T: Element, I: ClassIndex>(
    mut io: Io<'_, T, R>,
    lay: Layout,
    targets: &[I],
    spec: Spec<'_, R>,
    mut per: Option<&mut [R]>,
    mut lse_io: LseIo<'_, R>,
) -> Result<R, Error> {
    let positions = lay.positions()?;
    let len = lay.len()?;
    let classes = lay.classes();
    check_len("logits", len, io.input().len())?;
    check_len("targets", positions, targets.len())?;
    check_weight(spec.weight, classes)?;
    if let Some(p) = per.as_deref() {
        check_len("out", positions, p.len())?;
    }
    if let Some(g) = io.grad_len() {
        check_len("grad", len, g)?;
    }
    match &lse_io {
        LseIo::Out(l) => check_len("lse", positions, l.len())?,
        LseIo::In(l) => check_len("lse", positions, l.len())?,
        LseIo::None => {}
    }

    let (eps, z, cap, gamma) = match spec.kind {
        Kind::Ce { eps, z, cap } => (eps, z, cap, R::zero()),
        Kind::Focal { gamma } => (R::zero(), R::zero(), None, gamma),
    };
    let focal = matches!(spec.kind, Kind::Focal { .. });
    let smoothing = eps > R::zero();
    let zl = z > R::zero();
    let mut ce_acc = Acc::new();
    let plain = !focal && !smoothing && !zl && cap.is_none();
    if matches!(io, Io::Fwd(_))
        && per.is_none()
        && matches!(lse_io, LseIo::None)
        && plain
        && classes < F32_EXACT_C
    {
        // The plain forward: the engine sums the losses of a tile without per-position
        // statistics, and the targets are checked, counted and converted to f32 lanes in
        // one loop. Long tiles (1 KiB of targets): a call's fixed cost (its reductions and
        // the pipeline's ramp at every start) showed as a third of a channel-first C = 4
        // forward at 64 positions a call, a tenth at 256.
        const FAST: usize = 16 * TILE;
        let x = io.input();
        let mut tv = [-1.0f32; FAST];
        let mut w_acc = Acc::<f64>::new();
        let mut counted = 0usize;
        let mut p0 = 0;
        while p0 < positions {
            let k = FAST.min(positions - p0);
            // The next tile's targets asked for now: this loop is their first read, with no
            // work of its own to hide their latency behind.
            crate::simd::prefetch_ahead(&targets[p0..p0 + k], size_of_val(&targets[p0..p0 + k]));
            let (n, bad) = E::target_codes(&targets[p0..p0 + k], spec.ignore, classes, &mut tv[..k]);
            if bad {
                let q = (0..k).find(|&q| tv[q] < 0.0 && targets[p0 + q].to_i64() != spec.ignore);
                let q = q.unwrap_or(0);
                return Err(Error::TargetOutOfRange {
                    position: p0 + q,
                    target: targets[p0 + q].to_i64(),
                    classes,
                });
            }
            counted += n;
            // `W` in f64, as in `scan_targets`.
            let mut w_part = 0.0f64;
            if let Some(w) = spec.weight {
                for &c in &tv[..k] {
                    if c >= 0.0 {
                        w_part += f64::from(w[c as usize]);
                    }
                }
            }
            w_acc.add(w_part);
            ce_acc.add(E::ce_sum(x, lay, p0, &tv[..k], spec.weight));
            p0 += k;
        }
        let w_total = if spec.weight.is_some() { R::from_f64(w_acc.get()) } else { R::from_usize(counted) };
        return Ok(match spec.reduction {
            Reduction::Mean => ce_acc.get() / w_total,
            Reduction::Sum => ce_acc.get(),
        });
    }
    let (w_total, counted) = scan_targets::<R, I>(targets, classes, spec.ignore, spec.weight)?;
    let c_r = R::from_usize(classes);
    // `Σ w` over all classes and whether any weight is infinite: label smoothing's only
    // (a pass over the `C` weights, which a call of few rows would otherwise pay for
    // nothing).
    let (w_all, inf_weight) = match spec.weight {
        // A fold, not `any`: the early exit kept `any` scalar (one weight a cycle or two).
        Some(w) if smoothing => {
            (R::from_f64(weight_total(w)), w.iter().fold(false, |a, v| a | v.is_infinite()))
        }
        _ => (c_r, false),
    };
    let (s_ce, s_z) = match spec.reduction {
        Reduction::Mean => (R::one() / w_total, R::one() / R::from_usize(counted)),
        Reduction::Sum => (R::one(), R::one()),
    };
    let mut z_acc = Acc::new();
    // A backward from stored log-sum-exps: see `Coef::others`.
    let stored_lse = matches!(lse_io, LseIo::In(_));
    let mut tgt = [NO_TARGET; TILE];
    let mut st = [Stats::<R>::default(); TILE];
    let mut coef = [Coef::<R>::default(); TILE];
    // With a gradient each tile is read twice: tiles of long rows shrink to stay in L2.
    let tile = match io {
        Io::Grad(_) => crate::tiling::reread_tile(lay, core::mem::size_of::<T>()),
        Io::Fwd(_) => TILE,
    };
    let mut p0 = 0;
    while p0 < positions {
        let k = tile.min(positions - p0);
        for q in 0..k {
            tgt[q] = target_of(targets[p0 + q], spec.ignore);
        }
        match &mut lse_io {
            LseIo::In(l) => {
                // The backward: the statistics are the given log-sum-exps and the target
                // logits (no pass over the rows).
                let x = io.input();
                for q in 0..k {
                    let t = tgt[q];
                    let xt = if t == NO_TARGET {
                        R::zero()
                    } else {
                        let (base, stride) = lay.row(p0 + q);
                        let v = real::<R, T>(x[base + t * stride]);
                        cap.map_or(v, |s| E::cap(v, s))
                    };
                    st[q] = Stats { max: l[p0 + q], lse_rel: R::zero(), xt, sx: R::zero(), above: 0 };
                }
            }
            _ => E::class_stats(
                io.input(),
                lay,
                p0,
                &tgt[..k],
                cap,
                spec.weight,
                Want { sx: smoothing, rank: false },
                &mut st[..k],
            ),
        }
        if inf_weight && !matches!(lse_io, LseIo::In(_)) {
            // An infinite class weight: the engines' one-pass `Σ w (x - r)` (with `r` the
            // target logit, not the max) gives `inf * 0 = NaN` for a class whose logit
            // equals `r`; PyTorch's terms `w_j (lse - x_j)` are NaN only where
            // `x_j == lse`. Redo the sum from the max (rare: a second pass over the row).
            let x = io.input();
            for (q, s) in st[..k].iter_mut().enumerate() {
                let (base, stride) = lay.row(p0 + q);
                let mut sx = R::zero();
                for j in 0..classes {
                    let v = real::<R, T>(x[base + j * stride]);
                    let v = cap.map_or(v, |c| E::cap(v, c));
                    sx = sx + R::from_f32(spec.weight.map_or(1.0, |w| w[j])) * (v - s.max);
                }
                s.sx = sx;
            }
        }
        if let LseIo::Out(l) = &mut lse_io {
            for q in 0..k {
                l[p0 + q] = st[q].max + st[q].lse_rel;
            }
        }
        for q in 0..k {
            let s = st[q];
            let t = tgt[q];
            let lse_rel = s.lse_rel;
            let zero = R::zero();
            coef[q] = Coef { max: s.max, xt: s.xt, lse_rel, a: zero, c: zero, k: zero, t, others: false };
            if t == NO_TARGET {
                if let Some(p) = per.as_deref_mut() {
                    p[p0 + q] = R::zero();
                }
                continue;
            }
            let wy = spec.weight.map_or(R::one(), |w| R::from_f32(w[t]));
            let lp_t = (s.xt - s.max) - lse_rel;
            let (loss, a, c, kk) = if focal {
                let om = -lp_t.expm1(); // 1 - p_t
                let md = om.powf(gamma);
                let mut df = -md;
                if gamma > R::zero() && om > R::zero() {
                    df = df + gamma * om.powf(gamma - R::one()) * lp_t.exp() * lp_t;
                }
                let a = -(s_ce * wy) * df;
                (-wy * md * lp_t, a, R::zero(), a)
            } else {
                let mut loss = -wy * lp_t;
                let mut a = s_ce * wy;
                let mut c = R::zero();
                let mut kk = a;
                if smoothing {
                    let one_m = R::one() - eps;
                    // `Σ w_j (lse - x_j) = -sx + W lse_rel`; where `lse_rel` rounds to 0 each
                    // term is `w_j (max - x_j)` exactly, so don't let an infinite `W` make
                    // `inf * 0` of it.
                    let lse_w = if lse_rel == R::zero() { R::zero() } else { w_all * lse_rel };
                    let smooth = -s.sx + lse_w;
                    // `eps smooth / C`, not `eps / C * smooth`: a subnormal `eps / C` would
                    // carry a large relative error into a normal-sized product.
                    loss = one_m * loss + eps * smooth / c_r;
                    kk = s_ce * (one_m * wy);
                    // `s_ce eps / C`: `eps / C` alone underflows for a subnormal `eps`.
                    c = s_ce * eps / c_r;
                    a = kk + c * w_all;
                }
                (loss, a, c, kk)
            };
            ce_acc.add(loss);
            let mut a = a;
            let mut pos_loss = loss;
            if zl {
                let lse = s.max + lse_rel;
                z_acc.add(lse * lse);
                // `lse * lse` first: `z * lse` can be subnormal (a tiny z), and rounding it
                // there, then multiplying by `lse`, multiplied that absolute rounding by `lse`.
                pos_loss = pos_loss + z * (lse * lse);
                a = a + s_z * (z + z) * lse;
            }
            if let Some(p) = per.as_deref_mut() {
                p[p0 + q] = pos_loss;
            }
            coef[q].a = a;
            if stored_lse && lp_t > -R::from_f32(core::f32::consts::LN_2) {
                // `Coef::others` where the stored lse's rounding, about `|a| (|lse| + 1) eps`
                // in `a expm1(lp_t)`, would pass 1e-7 plus 2e-6 of the slot `a (1 - p_t)`.
                let err = a.abs() * (s.max.abs() + R::one()) * R::from_f32(f32::EPSILON);
                let slot = a.abs() * -lp_t.expm1();
                coef[q].others = err > R::from_f32(1e-7) + R::from_f32(2e-6) * slot;
            }
            coef[q].c = c;
            coef[q].k = kk;
        }
        if let Io::Grad(g) = &mut io {
            E::class_grad(g, lay, p0, &coef[..k], cap, spec.weight);
        }
        p0 += k;
    }
    let ce = ce_acc.get();
    let zt = if zl { z * z_acc.get() } else { R::zero() };
    Ok(match spec.reduction {
        Reduction::Mean => ce / w_total + if zl { zt / R::from_usize(counted) } else { R::zero() },
        Reduction::Sum => ce + zt,
    })
}

/// `Σ w` in f64 by eight independent sums (vectorised; the compensated f32 sum it replaced
/// was a serial chain of about 5 cycles a weight, most of weighted label smoothing's
/// time). Each f32 weight is exact
/// in f64 and each of the `C - 1` additions rounds by at most `2^-53` of the running
/// total, far inside an f32 result's rounding; infinities and NaN come out as in any sum.
fn weight_total(w: &[f32]) -> f64 {
    let mut s = [0.0f64; 8];
    let (chunks, rest) = w.as_chunks::<8>();
    for c in chunks {
        for (a, &v) in s.iter_mut().zip(c) {
            *a += f64::from(v);
        }
    }
    let tail: f64 = rest.iter().map(|&v| f64::from(v)).sum();
    ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])) + tail
}
