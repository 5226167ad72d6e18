//! Whole problems: every layout, option and reduction; special values across the column kernels' groups.

use super::*;

/// Whole problems: (N, C) with small and large C (the transposed small-C kernel and the row
/// kernel), channel-first layouts (the column kernel and its scalar edges), ignored
/// targets, weights, smoothing; per-position losses, reductions and gradients.
fn problems<T: Element>(seed: u64) {
    let mut rng = Rng(seed);
    let shapes: &[(usize, usize, usize)] = if cfg!(miri) {
        &[(17, 3, 1), (2, 3, 9)]
    } else {
        &[
            (1, 1, 1),
            (33, 10, 1),
            // Whole tiles only: the last tile's reads end at the buffer's end.
            (32, 10, 1),
            (40, 16, 1),
            (31, 17, 1),
            (5, 70, 1),
            (2, 4, 37),
            (3, 5, 16),
            (1, 3, 70),
            (2, 1000, 1),
            (2, 6, 48),
            // The class counts the column kernels take as constants (2, 3, 4, 10), rows
            // and channel-first.
            (48, 2, 1),
            (2, 2, 40),
            (32, 3, 1),
            (32, 4, 1),
            (1, 4, 67),
            (2, 10, 33),
            // Several of the plain forward's tiles (256 positions) and a partial one.
            (2, 4, 300),
            (600, 3, 1),
        ]
    };
    for &(n, c, inner) in shapes {
        let lay = Layout::channel_first(n, c, inner);
        let len = n * c * inner;
        let pos = n * inner;
        let mut raw = logits(&mut rng, len, None);
        if len > 7 {
            raw[len / 3] = f32::NEG_INFINITY;
        }
        let x: Vec<T> = to(&raw);
        let x32: Vec<f32> = x.iter().map(|v| v.to_f32()).collect();
        let scale = row_scale(&x32);
        let t: Vec<i64> = (0..pos).map(|i| if i % 7 == 3 { -100 } else { rng.below(c) as i64 }).collect();
        let w: Vec<f32> = (0..c).map(|_| 0.5 + rng.unit()).collect();
        let tag = format!("{} ({n}, {c}, {inner})", T::DTYPE);
        let unit = 4.0 * EPS * (scale + (c as f64).ln() + 1.0);
        // Every option the column kernels take: smoothing, weights, z-loss, soft-capping
        // (the bounds of `one_row`: a cap adds 4 eps cap per tanh and bounds M by it; the
        // z-term scales the LSE bound by 2 z |lse|).
        let grid: &[(f32, bool, f32, Option<f32>)] = &[
            (0.0, false, 0.0, None),
            (0.2, true, 1e-4, Some(30.0)),
            (0.0, true, 0.0, None),
            (0.1, true, 0.0, None),
            (0.0, false, 1e-3, None),
            (0.0, false, 0.0, Some(15.0)),
        ];
        // Under Miri: the plain options and all of them at once.
        let grid = if cfg!(miri) { &grid[..2] } else { grid };
        for &(ls, weighted, zl, cap) in grid {
            let opts = CrossEntropyOptions::new()
                .with_label_smoothing(ls)
                .with_z_loss(zl)
                .with_softcap(cap)
                .with_weight(if weighted { Some(&w) } else { None });
            let sc = scale.min(cap.map_or(f64::MAX, f64::from));
            let cap_err = cap.map_or(0.0, |s| 4.0 * EPS * f64::from(s));
            let unit = 4.0 * EPS * (sc + (c as f64).ln() + 1.0) + cap_err;
            let zf = |loss: f64| 1.0 + 2.0 * f64::from(zl) * loss.abs().sqrt();
            let scale = sc;
            let mut out = vec![0.0f32; pos];
            let mut out64 = vec![0.0f64; pos];
            xent::cross_entropy_per_position(&x, lay, &t, &opts, &mut out).unwrap();
            xent::scalar::cross_entropy_per_position(&x, lay, &t, &opts, &mut out64).unwrap();
            let sm_bound = f64::from(ls) * 1.5 * 4.0 * EPS * scale * (c as f64).sqrt();
            for p in 0..pos {
                check(
                    &format!("per-position[{p}] {tag} ls={ls} z={zl} cap={cap:?}"),
                    f64::from(out[p]),
                    out64[p],
                    1.5 * unit * zf(out64[p]) + sm_bound + 4.0 * EPS * out64[p].abs(),
                );
            }
            for red in [Reduction::Mean, Reduction::Sum] {
                let o = opts.with_reduction(red);
                // The plain forward (its own tile-summing kernel when there is no smoothing).
                let l = f64::from(xent::cross_entropy(&x, lay, &t, &o).unwrap());
                let l64: f64 = xent::scalar::cross_entropy(&x, lay, &t, &o).unwrap();
                check(
                    &format!("forward {tag} {red:?} ls={ls} z={zl} cap={cap:?}"),
                    l,
                    l64,
                    (1.5 * unit * zf(l64) + sm_bound) * if red == Reduction::Sum { pos as f64 } else { 1.0 }
                        + 8.0 * EPS * l64.abs(),
                );
                let mut g = vec![0.0f32; len];
                let mut g64 = vec![0.0f64; len];
                let l = f64::from(xent::cross_entropy_with_grad(&x, lay, &t, &o, &mut g).unwrap());
                let l64: f64 = xent::scalar::cross_entropy_with_grad(&x, lay, &t, &o, &mut g64).unwrap();
                check(
                    &format!("loss {tag} {red:?} ls={ls} z={zl} cap={cap:?}"),
                    l,
                    l64,
                    (1.5 * unit * zf(l64) + sm_bound) * if red == Reduction::Sum { pos as f64 } else { 1.0 }
                        + 8.0 * EPS * l64.abs(),
                );
                for j in 0..len {
                    check(
                        &format!("grad[{j}] {tag} {red:?} ls={ls} z={zl} cap={cap:?}"),
                        f64::from(g[j]),
                        g64[j],
                        16.0 * (unit + EPS) * (1.0 + 2.0 * f64::from(zl) * (sc + 1.0)),
                    );
                }
                // In place over the logits: the same loss, the buffer's gradient rounded to T,
                // bit for bit. Miri perturbs float results by an ULP at random, so two runs
                // of the same code agree only within the bounds there: held to them (plus
                // the rounding to T) against the reference instead.
                let mut xi = x.clone();
                let li = f64::from(xent::cross_entropy_with_grad_in_place(&mut xi, lay, &t, &o).unwrap());
                let t_eps = match T::DTYPE {
                    "f16" => 2f64.powi(-11),
                    "bf16" => 2f64.powi(-8),
                    _ => 2f64.powi(-24),
                };
                if cfg!(miri) {
                    let lb = (1.5 * unit * zf(l64) + sm_bound)
                        * if red == Reduction::Sum { pos as f64 } else { 1.0 }
                        + 8.0 * EPS * l64.abs();
                    check(&format!("in-place loss {tag}"), li, l64, lb);
                } else {
                    assert!(
                        li.to_bits() == l.to_bits() || (li.is_nan() && l.is_nan()),
                        "in-place loss {tag}"
                    );
                }
                for j in 0..len {
                    let (got, want) = (xi[j].to_f32(), T::from_f32(g[j]).to_f32());
                    let what = format!("in-place grad[{j}] {tag} {red:?} ls={ls} z={zl} cap={cap:?}");
                    if cfg!(miri) {
                        let gb = 16.0 * (unit + EPS) * (1.0 + 2.0 * f64::from(zl) * (sc + 1.0));
                        check(&what, f64::from(got), g64[j], gb + t_eps * g64[j].abs());
                    } else {
                        assert!(
                            got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                            "{what}: {got} vs {want}"
                        );
                    }
                }
            }
        }
        // The plain forward with one special logit (NaN, infinities, huge, tiny) at a
        // position near each end and one in the middle: NaN and infinity where the
        // reference has them, the bound elsewhere.
        for (k, &sp) in SPECIALS.iter().enumerate() {
            for (place, at) in [0, len / 2, len - 1].into_iter().enumerate() {
                // Under Miri each special at one place, the three in turn (all three ran
                // most of the 2 minutes each dtype took there).
                if cfg!(miri) && place != k % 3 {
                    continue;
                }
                let mut r = raw.clone();
                r[at] = sp;
                let xs: Vec<T> = to(&r);
                for o in [CrossEntropyOptions::new(), CrossEntropyOptions::new().with_weight(Some(&w))] {
                    // A sum of losses past f32::MAX (a -3e38 target logit) overflows the
                    // f32 accumulation, as PyTorch's f32 reduction does, even where the f64
                    // mean would fit: documented, and then the f32 scalar twin agrees.
                    let sum64: f64 =
                        xent::scalar::cross_entropy(&xs, lay, &t, &o.with_reduction(Reduction::Sum)).unwrap();
                    let overflows = (sum64 as f32).is_infinite();
                    for red in [Reduction::Mean, Reduction::Sum] {
                        let o = o.with_reduction(red);
                        let l = f64::from(xent::cross_entropy(&xs, lay, &t, &o).unwrap());
                        let l64: f64 = xent::scalar::cross_entropy(&xs, lay, &t, &o).unwrap();
                        if overflows {
                            let l32: f32 = xent::scalar::cross_entropy(&xs, lay, &t, &o).unwrap();
                            assert!(
                                l.is_infinite() && l == f64::from(l32),
                                "forward {tag} {red:?} special {sp:e} at {at}: got {l:e}, f32 scalar {l32:e}"
                            );
                            continue;
                        }
                        let xs32: Vec<f32> = xs.iter().map(|v| v.to_f32()).collect();
                        let u = 4.0 * EPS * (row_scale(&xs32) + (c as f64).ln() + 1.0);
                        check(
                            &format!("forward {tag} {red:?} special {sp:e} at {at}"),
                            l,
                            l64,
                            1.5 * u * if red == Reduction::Sum { pos as f64 } else { 1.0 }
                                + 8.0 * EPS * l64.abs(),
                        );
                    }
                }
            }
        }
        // score_into: losses and ranks
        let mut s = vec![xent::Score::default(); pos];
        let mut s64 = vec![xent::Score::default(); pos];
        xent::score_into(&x, lay, &t, -100, &mut s).unwrap();
        xent::scalar::score_into::<f64, _, _>(&x, lay, &t, -100, &mut s64).unwrap();
        for p in 0..pos {
            assert_eq!((s[p].above, s[p].counted), (s64[p].above, s64[p].counted), "rank[{p}] {tag}");
            check(
                &format!("score[{p}] {tag}"),
                f64::from(s[p].loss),
                f64::from(s64[p].loss),
                1.5 * unit + 4.0 * EPS * f64::from(s64[p].loss.abs()),
            );
        }
        // probability targets
        let tp: Vec<T> = to(&(0..len).map(|_| rng.unit()).collect::<Vec<f32>>());
        let po = ProbsOptions::new().with_label_smoothing(0.05).with_weight(Some(&w));
        let mut g = vec![0.0f32; len];
        let mut g64 = vec![0.0f64; len];
        let l = f64::from(xent::cross_entropy_probs_with_grad(&x, lay, &tp, &po, &mut g).unwrap());
        let l64: f64 = xent::scalar::cross_entropy_probs_with_grad(&x, lay, &tp, &po, &mut g64).unwrap();
        check(&format!("probs loss {tag}"), l, l64, 1.5 * c as f64 * unit + 8.0 * EPS * l64.abs());
        for j in 0..len {
            check(&format!("probs grad[{j}] {tag}"), f64::from(g[j]), g64[j], 16.0 * (unit + EPS));
        }
        let (mut out, mut out64) = (vec![0.0f32; pos], vec![0.0f64; pos]);
        xent::cross_entropy_probs_per_position(&x, lay, &tp, &po, &mut out).unwrap();
        xent::scalar::cross_entropy_probs_per_position(&x, lay, &tp, &po, &mut out64).unwrap();
        for p in 0..pos {
            let b = 1.5 * c as f64 * unit + 8.0 * EPS * out64[p].abs();
            check(&format!("probs per-position[{p}] {tag}"), f64::from(out[p]), out64[p], b);
        }
        // log-softmax and softmax over the classes of each position (one_row's bounds)
        let (mut lp, mut lp64) = (vec![0.0f32; len], vec![0.0f64; len]);
        let (mut sm, mut sm64) = (vec![0.0f32; len], vec![0.0f64; len]);
        xent::log_softmax_into(&x, lay, &mut lp).unwrap();
        xent::scalar::log_softmax_into(&x, lay, &mut lp64).unwrap();
        xent::softmax_into(&x, lay, &mut sm).unwrap();
        xent::scalar::softmax_into(&x, lay, &mut sm64).unwrap();
        let lse_bound = 4.0 * EPS * (scale + (c as f64).ln() + 1.0) + c as f64 * EPS / 2.0;
        for j in 0..len {
            check(
                &format!("log_softmax[{j}] {tag}"),
                f64::from(lp[j]),
                lp64[j],
                lse_bound + 2.0 * EPS * lp64[j].abs(),
            );
            let sb =
                if sm64[j] == 0.0 { 0.0 } else { (lse_bound + 4.0 * EPS * (1.0 + lp64[j].abs())) * sm64[j] };
            check(&format!("softmax[{j}] {tag}"), f64::from(sm[j]), sm64[j], sb + 1.3e-38);
        }
        // softmax focal
        let fo = SoftmaxFocalOptions::new().with_weight(Some(&w)).with_gamma(1.5);
        let l = f64::from(xent::softmax_focal_loss_with_grad(&x, lay, &t, &fo, &mut g).unwrap());
        let l64: f64 = xent::scalar::softmax_focal_loss_with_grad(&x, lay, &t, &fo, &mut g64).unwrap();
        check(&format!("focal loss {tag}"), l, l64, 3.0 * unit + 8.0 * EPS * l64.abs());
        for j in 0..len {
            check(&format!("focal grad[{j}] {tag}"), f64::from(g[j]), g64[j], 32.0 * (unit + EPS));
        }
    }
}

#[test]
fn problems_f32() {
    crate::isa::init();
    problems::<f32>(11);
}

#[test]
fn problems_f16() {
    crate::isa::init();
    problems::<f16>(12);
}

#[test]
fn problems_bf16() {
    crate::isa::init();
    problems::<bf16>(13);
}

/// The reductions of channel-first and small-C row forwards with one special value (or a
/// position of all `-inf`) at many positions: the plain column kernel takes whole runs
/// of 8 vectors of positions (128 on 16-lane builds) and, unweighted, one `ln` of the
/// product of their 8 sums per lane (rows: 8 tiles' groups), so a NaN or infinity in any
/// of them must reach the result as the scalar path's does, and a position not counted
/// must not.
fn column_specials<T: Element>(seed: u64) {
    let mut rng = Rng(seed);
    let shapes = [(2usize, 300usize), (600, 1)];
    let step = 11;
    for ((n, inner), c) in shapes.into_iter().flat_map(|s| [2usize, 3, 4, 10].map(|c| (s, c))) {
        let pos = n * inner;
        let lay = Layout::channel_first(n, c, inner);
        let base = logits(&mut rng, n * c * inner, None);
        let t: Vec<i64> = (0..pos).map(|i| if i % 7 == 3 { -100 } else { rng.below(c) as i64 }).collect();
        let w: Vec<f32> = (0..c).map(|_| 0.5 + rng.unit()).collect();
        let logit = |p: usize, k: usize| (p / inner) * c * inner + k * inner + p % inner;
        for p in (0..pos).step_by(step) {
            let ty = t[p].max(0) as usize;
            // Each special at the target class, at another class, and the whole position -inf.
            let mut cases: Vec<(String, Vec<(usize, f32)>)> = Vec::new();
            for s in SPECIALS {
                cases.push((format!("{s:e} at the target"), vec![(logit(p, ty), s)]));
                cases.push((format!("{s:e} off the target"), vec![(logit(p, (ty + 1) % c), s)]));
            }
            cases.push(("all -inf".into(), (0..c).map(|k| (logit(p, k), f32::NEG_INFINITY)).collect()));
            for (what, put) in cases {
                let mut raw = base.clone();
                for &(i, v) in &put {
                    raw[i] = v;
                }
                let x: Vec<T> = to(&raw);
                let x32: Vec<f32> = x.iter().map(|v| v.to_f32()).collect();
                let unit = 4.0 * EPS * (row_scale(&x32) + (c as f64).ln() + 1.0);
                for weighted in [false, true] {
                    let o = CrossEntropyOptions::new().with_weight(if weighted { Some(&w) } else { None });
                    // The sum in f64: past f32's range the f32 reductions are infinite (as
                    // PyTorch's; the crate docs, "Precision").
                    let sum64: f64 =
                        xent::scalar::cross_entropy(&x, lay, &t, &o.with_reduction(Reduction::Sum)).unwrap();
                    for red in [Reduction::Mean, Reduction::Sum] {
                        let o = o.with_reduction(red);
                        let l = f64::from(xent::cross_entropy(&x, lay, &t, &o).unwrap());
                        let l64: f64 = xent::scalar::cross_entropy(&x, lay, &t, &o).unwrap();
                        let per = if red == Reduction::Sum { pos as f64 } else { 1.0 };
                        let big = sum64.abs() / f64::from(f32::MAX);
                        if big > 1.0 + 1e-5 {
                            assert!(
                                l.is_infinite() && l.signum() == sum64.signum(),
                                "{what}: got {l:e}, sum {sum64:e}"
                            );
                        }
                        if big > 1.0 - 1e-5 {
                            continue;
                        }
                        check(
                            &format!(
                                "{} ({n}, {c}, {inner}) position {p} {what} weighted={weighted} {red:?}",
                                T::DTYPE
                            ),
                            l,
                            l64,
                            1.5 * unit * per + 8.0 * EPS * l64.abs(),
                        );
                    }
                }
            }
        }
    }
}

// Not under Miri: one type took 460 s there. These paths are safe code (slices and `wide`
// vectors, no unsafe of their own); under Miri `problems` runs the row tiles' `LnProd`.
#[test]
#[cfg_attr(miri, ignore)]
fn column_specials_f32() {
    crate::isa::init();
    column_specials::<f32>(14);
}

#[test]
#[cfg_attr(miri, ignore)]
fn column_specials_bf16() {
    crate::isa::init();
    column_specials::<bf16>(15);
}
