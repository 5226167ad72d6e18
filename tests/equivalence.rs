//! The SIMD path against the scalar path (in f64, the oracle, and in f32) over every
//! length 0..=4*16+3 (16 = the widest vector), every start offset 0..16, with NaN, ±inf,
//! huge, tiny and subnormal values placed in the head, body and tail of rows, for f32,
//! f16 and bf16 inputs: losses, gradients and primitives, within the per-operation bounds
//! stated in the crate docs ("Precision").

use xent::{
    BceOptions, BceWithLogitsOptions, CrossEntropyOptions, Element, Layout, ProbsOptions, Reduction,
    SigmoidFocalOptions, SoftmaxFocalOptions, bf16, f16,
};

const EPS: f64 = f32::EPSILON as f64;
const MAX_LEN: usize = if cfg!(miri) { 9 } else { 4 * 16 + 3 };
const OFFSETS: usize = if cfg!(miri) { 2 } else { 16 };

#[path = "support/rng.rs"]
mod rng;
use rng::Rng;

const SPECIALS: [f32; 8] = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 1e30, -1e30, 1e-30, 1e-40, -3.0e38];

/// A logit row: scaled normals, and with `special` one special value at the head, in the
/// body or at the tail.
fn logits(rng: &mut Rng, n: usize, special: Option<(f32, usize)>) -> Vec<f32> {
    let scale = [1.0, 3.0, 10.0, 30.0][rng.below(4)];
    let mut v: Vec<f32> = (0..n).map(|_| rng.normal() * scale).collect();
    if let (Some((s, place)), true) = (special, n > 0) {
        let i = match place {
            0 => 0,
            1 => n / 2,
            _ => n - 1,
        };
        v[i] = s;
    }
    v
}

/// `|got - want| <= bound`, NaN where NaN is due, the same infinity where one is due.
#[track_caller]
fn check(what: &str, got: f64, want: f64, bound: f64) {
    if want.is_nan() {
        assert!(got.is_nan(), "{what}: got {got:e}, want NaN");
    } else if want.is_infinite() || (want as f32).is_infinite() {
        // Beyond f32's range the f32 answer is the infinity it rounds to.
        assert_eq!(got, f64::from(want as f32), "{what}");
    } else {
        assert!(
            (got - want).abs() <= bound,
            "{what}: got {got:e}, want {want:e}, |err| {:e} > bound {bound:e}",
            (got - want).abs()
        );
    }
}

fn to<T: Element>(v: &[f32]) -> Vec<T> {
    v.iter().map(|&x| T::from_f32(x)).collect()
}

/// Puts `v` at offset `off` of a fresh buffer, so every alignment is seen.
fn at<T: Element>(v: &[T], off: usize) -> (Vec<T>, std::ops::Range<usize>) {
    let mut b = vec![T::default(); off];
    b.extend_from_slice(v);
    (b, off..off + v.len())
}

fn row_scale(x: &[f32]) -> f64 {
    x.iter().filter(|v| v.is_finite()).fold(1.0f64, |m, &v| m.max(f64::from(v.abs())))
}

/// Log-sum-exp, log-softmax, softmax and the per-row cross-entropy and its gradient for
/// one row of `n` classes, checked against the f64 oracle.
fn one_row<T: Element>(rng: &mut Rng, n: usize, off: usize, special: Option<(f32, usize)>) {
    let raw = logits(rng, n, special);
    let xt: Vec<T> = to(&raw);
    let x32: Vec<f32> = xt.iter().map(|v| v.to_f32()).collect();
    let (buf, r) = at(&xt, off);
    let x = &buf[r];
    let lay = Layout::rows(1, n);
    let tag = format!("{} n={n} off={off} special={special:?}", T::DTYPE);
    let scale = row_scale(&x32);

    // log-sum-exp: bound 4 eps (|max| + ln n + 1).
    let lse = f64::from(xent::log_sum_exp(x));
    let lse64: f64 = xent::scalar::log_sum_exp(x);
    let lse_bound = 4.0 * EPS * (scale + (n as f64).ln() + 1.0);
    check(&format!("lse {tag}"), lse, lse64, lse_bound);

    // log-softmax and softmax
    let mut lp = vec![0.0f32; n];
    let mut lp64 = vec![0.0f64; n];
    xent::log_softmax_into(x, lay, &mut lp).unwrap();
    xent::scalar::log_softmax_into(x, lay, &mut lp64).unwrap();
    let mut sm = vec![0.0f32; n];
    let mut sm64 = vec![0.0f64; n];
    xent::softmax_into(x, lay, &mut sm).unwrap();
    xent::scalar::softmax_into(x, lay, &mut sm64).unwrap();
    for j in 0..n {
        check(
            &format!("log_softmax[{j}] {tag}"),
            f64::from(lp[j]),
            lp64[j],
            lse_bound + 2.0 * EPS * lp64[j].abs(),
        );
        // softmax: relative 2 eps (exp) on top of the log-softmax error.
        check(
            &format!("softmax[{j}] {tag}"),
            f64::from(sm[j]),
            sm64[j], // exp flushes results below about exp(-87.3) = 1.2e-38 to 0.
            if sm64[j] == 0.0 { 0.0 } else { (lse_bound + 4.0 * EPS * (1.0 + lp64[j].abs())) * sm64[j] }
                + 1.3e-38,
        );
    }

    if n == 0 {
        return;
    }
    // cross-entropy and its fused gradient, with every option combination.
    let t = [rng.below(n) as i64];
    let w: Vec<f32> = (0..n).map(|_| 0.25 + rng.unit()).collect();
    for (ls, zl, cap, weighted) in [
        (0.0, 0.0, None, false),
        (0.1, 0.0, None, true),
        (0.0, 1e-3, None, false),
        (0.0, 0.0, Some(15.0), false),
        (0.2, 1e-4, Some(30.0), true),
    ] {
        let opts = CrossEntropyOptions::new()
            .with_label_smoothing(ls)
            .with_z_loss(zl)
            .with_softcap(cap)
            .with_weight(if weighted { Some(&w) } else { None })
            .with_reduction(Reduction::Sum);
        let otag = format!("{tag} ls={ls} z={zl} cap={cap:?} w={weighted}");
        let mut g = vec![0.0f32; n];
        let mut g64 = vec![0.0f64; n];
        let loss = f64::from(xent::cross_entropy_with_grad(x, lay, &t, &opts, &mut g).unwrap());
        let loss64: f64 = xent::scalar::cross_entropy_with_grad(x, lay, &t, &opts, &mut g64).unwrap();
        let plain = f64::from(xent::cross_entropy(x, lay, &t, &opts).unwrap());
        assert!(
            plain.to_bits() == loss.to_bits() || (plain.is_nan() && loss.is_nan()),
            "fused and plain forward differ {otag}"
        );
        // Loss: the LSE bound, scaled by the weights and smoothing sum, plus the z-term's
        // 2 z |lse| times it; soft-capped rows add 4 eps cap per tanh.
        let wmax = if weighted { 1.25 } else { 1.0 };
        let cap_err = cap.map_or(0.0, |c: f32| 4.0 * EPS * f64::from(c));
        let sc = scale.min(cap.map_or(f64::MAX, f64::from));
        let unit = 4.0 * EPS * (sc + (n as f64).ln() + 1.0) + cap_err;
        let bound =
            wmax * (unit * (1.0 + 2.0 * f64::from(zl) * loss64.abs().sqrt()) + 4.0 * EPS * loss64.abs());
        // Label smoothing's Σ w x is accumulated in one pass: its error grows with n |max|.
        let bound = bound + f64::from(ls) * wmax * 4.0 * EPS * sc * (n as f64).sqrt();
        let loss32: f32 = xent::scalar::cross_entropy(x, lay, &t, &opts).unwrap();
        // Label smoothing's Σ w (x - max) overflows f32 when the row's spread times the
        // weights' total reaches f32::MAX (logits near ±1e38): documented, allowed here.
        let fin = || x32.iter().filter(|v| v.is_finite()).map(|&v| f64::from(v));
        let spread = fin().fold(f64::MIN, f64::max) - fin().fold(f64::MAX, f64::min);
        let sx_overflow = ls > 0.0 && spread * wmax * n as f64 >= f64::from(f32::MAX) / 2.0;
        if sx_overflow && !loss.is_finite() {
            // allowed
        } else if loss32.is_finite() || loss64.is_nan() {
            check(&format!("ce loss {otag}"), loss, loss64, bound);
        } else {
            // An intermediate (Σ w (x - m) near ±f32::MAX) overflows in f32 itself: the scalar
            // f32 path is not finite either, and neither may the fast path pretend to be.
            assert!(!loss.is_finite(), "ce loss {otag}: got {loss}, scalar f32 {loss32}");
        }
        for j in 0..n {
            let gb = 8.0 * (unit + EPS) * (1.0 + 2.0 * f64::from(zl) * (sc + 1.0));
            check(&format!("ce grad[{j}] {otag}"), f64::from(g[j]), g64[j], gb);
        }
        // In place over the logits (rounded once to T).
        let mut xi = x.to_vec();
        let li = f64::from(xent::cross_entropy_with_grad_in_place(&mut xi, lay, &t, &opts).unwrap());
        assert!(
            li.to_bits() == loss.to_bits() || (li.is_nan() && loss.is_nan()),
            "in-place loss differs {otag}"
        );
        for j in 0..n {
            let want = f64::from(T::from_f32(g[j]).to_f32());
            let got = f64::from(xi[j].to_f32());
            assert!(
                got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                "in-place grad[{j}] {otag}: {got} vs {want}"
            );
        }
    }
}

fn rows_for<T: Element>(seed: u64) {
    let mut rng = Rng(seed);
    for n in 0..=MAX_LEN {
        for off in 0..OFFSETS {
            one_row::<T>(&mut rng, n, off, None);
        }
        // Under Miri (every vector operation interpreted) special values at a few lengths.
        if cfg!(miri) && n != MAX_LEN {
            continue;
        }
        for (k, &s) in SPECIALS.iter().enumerate() {
            for place in 0..3 {
                // Under Miri each special at one place (head, body, tail in turn).
                if cfg!(miri) && place != k % 3 {
                    continue;
                }
                one_row::<T>(&mut rng, n, n % OFFSETS, Some((s, place)));
            }
        }
    }
    // Rows of several kernel blocks (1024 values; f16/bf16 converted 256 at a time, the
    // sums carried across pieces): every option, weights and smoothing read at each
    // piece's offset, special values in the first, a middle and the last piece.
    let long: &[usize] = if cfg!(miri) { &[] } else { &[300, 1500, 2600] };
    for &n in long {
        one_row::<T>(&mut rng, n, 1, None);
        for &s in &SPECIALS {
            for place in 0..3 {
                one_row::<T>(&mut rng, n, n % OFFSETS, Some((s, place)));
            }
        }
    }
}

#[test]
fn rows_f32() {
    rows_for::<f32>(1);
}

#[test]
fn rows_f16() {
    rows_for::<f16>(2);
}

#[test]
fn rows_bf16() {
    rows_for::<bf16>(3);
}

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
    problems::<f32>(11);
}

#[test]
fn problems_f16() {
    problems::<f16>(12);
}

#[test]
fn problems_bf16() {
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
    column_specials::<f32>(14);
}

#[test]
#[cfg_attr(miri, ignore)]
fn column_specials_bf16() {
    column_specials::<bf16>(15);
}

/// The element-wise losses over every length and offset, with weights and pos_weight.
fn binary_for<T: Element>(seed: u64) {
    let mut rng = Rng(seed);
    for n in 0..=MAX_LEN {
        for off in 0..OFFSETS.min(4) {
            let mut p: Vec<f32> = (0..n).map(|_| rng.unit()).collect();
            if n > 2 {
                p[0] = 0.0;
                p[n - 1] = 1.0;
                p[n / 2] = 1e-40;
            }
            // Odd offsets: hard labels only (BCE's one-log path); even: some soft targets.
            let hard = off % 2 == 1;
            let y: Vec<f32> = (0..n)
                .map(|i| if i % 3 == 0 && !hard { rng.unit() } else { ((i / 2 + i) % 2) as f32 })
                .collect();
            let mut xl = logits(&mut rng, n, None);
            if n > 3 {
                xl[1] = 100.0;
                xl[2] = -120.0;
            }
            let (pb, r) = at(&to::<T>(&p), off);
            let (yb, _) = at(&to::<T>(&y), off);
            let (xb, _) = at(&to::<T>(&xl), off);
            let (p, y, xl) = (&pb[r.clone()], &yb[r.clone()], &xb[r]);
            let w: Vec<f32> = (0..n.max(1)).map(|_| rng.unit() * 2.0).collect();
            let pw = [0.5f32, 3.0];
            let tag = format!("{} n={n} off={off}", T::DTYPE);
            let mut per = vec![0.0f32; n];
            let mut per64 = vec![0.0f64; n];
            let mut g = vec![0.0f32; n];
            let mut g64 = vec![0.0f64; n];

            let o = BceOptions::new()
                .with_weight(if n > 0 { Some(&w[..n]) } else { None })
                .with_reduction(Reduction::Sum);
            xent::binary_cross_entropy_per_position(p, y, &o, &mut per).unwrap();
            xent::scalar::binary_cross_entropy_per_position(p, y, &o, &mut per64).unwrap();
            xent::binary_cross_entropy_with_grad(p, y, &o, &mut g).unwrap();
            xent::scalar::binary_cross_entropy_with_grad(p, y, &o, &mut g64).unwrap();
            for i in 0..n {
                check(
                    &format!("bce[{i}] {tag}"),
                    f64::from(per[i]),
                    per64[i],
                    8.0 * EPS * (1.0 + per64[i].abs()),
                );
                check(
                    &format!("bce grad[{i}] {tag}"),
                    f64::from(g[i]),
                    g64[i],
                    8.0 * EPS * g64[i].abs() + 1e-30,
                );
            }

            let pwl = if n % 2 == 0 && n > 0 { Some(&pw[..]) } else { None };
            let o = BceWithLogitsOptions::new().with_pos_weight(pwl).with_reduction(Reduction::Sum);
            xent::binary_cross_entropy_with_logits_per_position(xl, y, &o, &mut per).unwrap();
            xent::scalar::binary_cross_entropy_with_logits_per_position(xl, y, &o, &mut per64).unwrap();
            xent::binary_cross_entropy_with_logits_with_grad(xl, y, &o, &mut g).unwrap();
            xent::scalar::binary_cross_entropy_with_logits_with_grad(xl, y, &o, &mut g64).unwrap();
            for i in 0..n {
                let xs = f64::from(xl[i].to_f32()).abs();
                check(
                    &format!("bce_logits[{i}] {tag}"),
                    f64::from(per[i]),
                    per64[i],
                    8.0 * EPS * (1.0 + xs + per64[i].abs()),
                );
                check(&format!("bce_logits grad[{i}] {tag}"), f64::from(g[i]), g64[i], 8.0 * EPS * 4.0);
            }

            let o = SigmoidFocalOptions::new().with_reduction(Reduction::Sum);
            xent::sigmoid_focal_loss_per_position(xl, y, &o, &mut per).unwrap();
            xent::scalar::sigmoid_focal_loss_per_position(xl, y, &o, &mut per64).unwrap();
            xent::sigmoid_focal_loss_with_grad(xl, y, &o, &mut g).unwrap();
            xent::scalar::sigmoid_focal_loss_with_grad(xl, y, &o, &mut g64).unwrap();
            for i in 0..n {
                let xs = f64::from(xl[i].to_f32()).abs();
                check(
                    &format!("sigmoid_focal[{i}] {tag}"),
                    f64::from(per[i]),
                    per64[i],
                    16.0 * EPS * (1.0 + xs + per64[i].abs()),
                );
                check(
                    &format!("sigmoid_focal grad[{i}] {tag}"),
                    f64::from(g[i]),
                    g64[i],
                    32.0 * EPS * (1.0 + xs),
                );
            }
        }
    }
}

#[test]
fn binary_f32() {
    binary_for::<f32>(21);
}

#[test]
fn binary_f16() {
    binary_for::<f16>(22);
}

#[test]
fn binary_bf16() {
    binary_for::<bf16>(23);
}

/// Several rows of one length in one call. The plain forward of f32 rows takes each row's
/// maximum in the exp sweep of the row before (`rows_plain_ahead`), so every special value
/// goes in each row in turn, at its head, middle and tail, and so do a row of `-inf` and
/// one of `-inf` but for a NaN; every row's loss (and the mean) is held to the scalar f64
/// path's.
fn pipelined_rows<T: Element>(seed: u64) {
    let mut rng = Rng(seed);
    // Rows of 256 to 1024 take the pipelined kernel (287: an odd vector and a tail after
    // the fused pairs); shorter ones the one-row kernel, beside it.
    let lens: &[usize] = if cfg!(miri) { &[256] } else { &[5, 33, 70, 255, 256, 257, 287, 1000, 1024] };
    let rows = 4;
    let kinds = SPECIALS.len() * 3 + 2;
    // Under Miri: the special values in the first row (its maximum from the scan) and the
    // second (from the first row's sweep), each at one place (head, middle, tail in turn):
    // every place of every special ran 200 s of Miri's 25 minutes.
    let victims = if cfg!(miri) { 2 } else { rows };
    for &c in lens {
        for victim in 0..victims {
            for kind in 0..kinds {
                if cfg!(miri) && kind < SPECIALS.len() * 3 && kind % 3 != (kind / 3 + victim) % 3 {
                    continue;
                }
                let mut raw: Vec<f32> = (0..rows).flat_map(|_| logits(&mut rng, c, None)).collect();
                let row = &mut raw[victim * c..(victim + 1) * c];
                if kind < SPECIALS.len() * 3 {
                    row[[0, c / 2, c - 1][kind % 3]] = SPECIALS[kind / 3];
                } else {
                    row.fill(f32::NEG_INFINITY);
                    if kind == kinds - 1 {
                        row[c / 2] = f32::NAN;
                    }
                }
                let x: Vec<T> = to(&raw);
                let x32: Vec<f32> = x.iter().map(|v| v.to_f32()).collect();
                let unit = 4.0 * EPS * (row_scale(&x32) + (c as f64).ln() + 1.0);
                let lay = Layout::rows(rows, c);
                let t: Vec<i64> = (0..rows).map(|_| rng.below(c) as i64).collect();
                let opts = CrossEntropyOptions::new();
                let (mut out, mut out64) = (vec![0.0f32; rows], vec![0.0f64; rows]);
                xent::cross_entropy_per_position(&x, lay, &t, &opts, &mut out).unwrap();
                xent::scalar::cross_entropy_per_position(&x, lay, &t, &opts, &mut out64).unwrap();
                let tag = format!("{} c={c} row {victim} kind {kind}", T::DTYPE);
                for p in 0..rows {
                    let want = out64[p];
                    check(
                        &format!("{tag}: [{p}]"),
                        f64::from(out[p]),
                        want,
                        1.5 * unit + 4.0 * EPS * want.abs(),
                    );
                }
                let mean = f64::from(xent::cross_entropy(&x, lay, &t, &opts).unwrap());
                let want: f64 = xent::scalar::cross_entropy(&x, lay, &t, &opts).unwrap();
                check(&format!("{tag}: mean"), mean, want, 1.5 * unit + 4.0 * EPS * want.abs());
            }
        }
    }
}

#[test]
fn pipelined_rows_f32() {
    pipelined_rows::<f32>(41);
}

#[test]
fn pipelined_rows_f16() {
    pipelined_rows::<f16>(42);
}

/// Rows longer than the kernels' blocks (1024 values, converted 256 at a time), with the special
/// values in a later block (at its end and inside its whole vectors), a leading block that
/// is entirely `-inf`, and one that is `-inf` but for a NaN.
fn long_rows<T: Element>(seed: u64) {
    let mut rng = Rng(seed);
    let lens: &[usize] = if cfg!(miri) { &[300] } else { &[257, 1025, 2053, 4100] };
    for &n in lens {
        // Past the first block (whose maximum comes first), where the one-sweep f16 kernel
        // reads whole vectors without the buffer: 1500 when the row is that long.
        let deep = if n > 1600 { 1500 } else { n - 1 };
        for case in 0..14 {
            let mut raw = logits(&mut rng, n, None);
            let top = raw.iter().fold(f32::NEG_INFINITY, |a, &v| a.max(v));
            match case {
                // Past the first block, where 16-lane AVX-512 builds read no maximum
                // unless a block's exp sums pass `e^4`: one value just past that (the
                // block is swept again), a value far past any exp's range (the clamp of
                // the exp's argument must keep its term finite and large), and a block
                // of values a little above the maximum so far (sums past `e^4` with no
                // single term there: the block's maximum read, no second sweep).
                9 => raw[deep] = top + 4.5,
                10 => raw[deep] = 1e30,
                11 => raw[deep] = f32::MAX,
                12 => {
                    let from = deep.min(1024);
                    raw[from..n.min(from + 1024)].iter_mut().for_each(|v| *v = top + 2.0);
                }
                // A new maximum just inside `e^4` (taken relative to the old one), then a
                // block of values near it.
                13 => {
                    raw[deep] = top + 3.9;
                    let from = (deep + 600).min(n - 1);
                    raw[from..n.min(from + 900)].iter_mut().for_each(|v| *v = top + 3.8);
                }
                6 => raw[deep] = f32::NAN,
                7 => raw[deep] = f32::INFINITY,
                // A new maximum more than 88 above the running one (exp would overflow
                // against the old): the sweep must see it.
                8 => raw[deep] = 200.0,
                0 => {}
                1 => raw[..n.min(1100)].iter_mut().for_each(|v| *v = f32::NEG_INFINITY),
                // A NaN in a block otherwise -inf: a vector maximum that ignores NaN
                // sees only -inf there, and the row must still be NaN.
                5 => {
                    raw[..n.min(1100)].iter_mut().for_each(|v| *v = f32::NEG_INFINITY);
                    raw[7] = f32::NAN;
                }
                2 => raw[n - 3] = f32::NAN,
                3 => raw[n - 2] = f32::INFINITY,
                _ => raw[n / 2] = 50.0,
            }
            let x: Vec<T> = to(&raw);
            let x32: Vec<f32> = x.iter().map(|v| v.to_f32()).collect();
            let t = [(n - 1) as i64];
            let tag = format!("{} n={n} case={case}", T::DTYPE);
            let unit = 4.0 * EPS * (row_scale(&x32) + (n as f64).ln() + 1.0);
            for ls in [0.0, 0.1] {
                if case == 11 && ls > 0.0 {
                    // Documented (crate docs, "Precision"): smoothing's f32 `Σ (x - max)`
                    // overflows for logits near `±1e38` (here `256 * f32::MAX`).
                    continue;
                }
                let o = CrossEntropyOptions::new().with_label_smoothing(ls);
                let l = f64::from(xent::cross_entropy(&x, Layout::rows(1, n), &t, &o).unwrap());
                let l64: f64 = xent::scalar::cross_entropy(&x, Layout::rows(1, n), &t, &o).unwrap();
                check(
                    &format!("long ce {tag} ls={ls}"),
                    l,
                    l64,
                    2.0 * unit * (1.0 + f64::from(ls) * (n as f64).sqrt()) + 4.0 * EPS * l64.abs(),
                );
            }
            let mut s = [xent::Score::default()];
            let mut s64 = [xent::Score::default()];
            xent::score_into(&x, Layout::rows(1, n), &t, -100, &mut s).unwrap();
            xent::scalar::score_into::<f64, _, _>(&x, Layout::rows(1, n), &t, -100, &mut s64).unwrap();
            assert_eq!(s[0].above, s64[0].above, "rank {tag}");
            let lse = f64::from(xent::log_sum_exp(&x));
            let lse64: f64 = xent::scalar::log_sum_exp(&x);
            check(&format!("long lse {tag}"), lse, lse64, 2.0 * unit);
        }
    }
}

#[test]
fn long_rows_f32() {
    long_rows::<f32>(31);
}

#[test]
fn long_rows_f16() {
    long_rows::<f16>(32);
}

/// Rows built so that every rounding of a long accumulation shares its sign, at sizes past
/// any real vocabulary: one large logit and a million equal small terms (each lane's and
/// each block's sum rounds the same way every time), and a row whose maximum creeps up
/// block after block (thousands of rescales by the same factor), plain and soft-capped.
/// Held to the documented bound `u` itself. Before the two-sum of block sums and the f64
/// rescale, these were off by up to 3.6 u.
#[test]
#[cfg_attr(miri, ignore = "numerics at sizes Miri would take minutes over; no new unsafe or UB surface")]
fn adversarial_long_rows() {
    let n = 1 << 20;
    let unit = |x: &[f32]| 4.0 * EPS * (row_scale(x) + (x.len() as f64).ln() + 1.0);
    let mut rows: Vec<(String, Vec<f32>)> = Vec::new();
    for a in [5.0f32, 12.0, 15.9] {
        let mut x = vec![0.0f32; n];
        x[n / 3] = a;
        rows.push((format!("equal run a={a} n={n}"), x));
    }
    rows.push((format!("ramp n={n}"), (0..n).map(|i| i as f32 * 1e-6).collect()));
    for (name, x) in &rows {
        let lse = f64::from(xent::log_sum_exp(x));
        let lse64: f64 = xent::scalar::log_sum_exp(x);
        check(&format!("lse {name}"), lse, lse64, unit(x));
        // The same row in f16, whose later blocks the one-sweep kernel takes from `x`
        // itself and puts back relative to the maximum once a block (here the same factor
        // on the same sums every block: each product rounds the same way).
        let h: Vec<f16> = to(x);
        let h32: Vec<f32> = h.iter().map(|v| v.to_f32()).collect();
        let lse = f64::from(xent::log_sum_exp(&h));
        let lse64: f64 = xent::scalar::log_sum_exp(&h);
        check(&format!("f16 lse {name}"), lse, lse64, unit(&h32));
        // Soft-capped (the capped kernel's blocks are 256 values): the LSE of the capped
        // row, whose capped logits each carry 4 eps relative more (docs).
        let cap = 64.0f32;
        let o = CrossEntropyOptions::new().with_softcap(Some(cap));
        let lay = Layout::rows(1, x.len());
        let (mut l, mut l64) = ([0f32], [0f64]);
        xent::cross_entropy_with_lse(x, lay, &[0i64], &o, &mut l).unwrap();
        xent::scalar::cross_entropy_with_lse(x, lay, &[0i64], &o, &mut l64).unwrap();
        let capped: Vec<f32> = x.iter().map(|&v| cap * (v / cap).tanh()).collect();
        let m = row_scale(&capped);
        check(&format!("capped lse {name}"), f64::from(l[0]), l64[0], unit(&capped) + 4.0 * EPS * m);
    }
}

/// Separate outputs of 24 MiB or more are written with non-temporal stores, and every
/// write pass prefetches the next tile: rows of odd length, starting one float past the
/// buffers' alignment, give each row exactly (bit for bit) what the row alone gives, which
/// is written the ordinary way. f32 and f16 logits; gradient (weights and smoothing),
/// log-softmax, probability-target gradient, and the gradient in place.
#[test]
#[cfg_attr(miri, ignore = "26 MB outputs; the streamed stores write the same values")]
#[cfg_attr(not(target_arch = "x86_64"), ignore = "streaming stores and prefetches are x86's")]
fn streamed_outputs_match_single_rows() {
    let mut rng = Rng(78);
    let (n, c) = (160usize, 40_003usize);
    let lay = Layout::rows(n, c);
    // One float in: neither the logits nor the outputs start on a vector boundary.
    let xb: Vec<f32> = core::iter::once(0.0).chain((0..n).flat_map(|_| logits(&mut rng, c, None))).collect();
    let x = &xb[1..];
    let t: Vec<i64> = (0..n).map(|i| ((i * 7919) % c) as i64).collect();
    let w: Vec<f32> = (0..c).map(|_| 0.5 + rng.unit()).collect();
    let o = CrossEntropyOptions::new()
        .with_weight(Some(&w))
        .with_label_smoothing(0.1)
        .with_reduction(Reduction::Sum);
    let po = ProbsOptions::new().with_reduction(Reduction::Sum);
    let xh: Vec<f16> = x.iter().map(|&v| f16::from_f32(v)).collect();
    let mut out = vec![0.0f32; n * c + 1];
    let same = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(a, b)| a.to_bits() == b.to_bits());
    let one = Layout::rows(1, c);
    let rows = [0, 1, 2, n / 2, n - 2, n - 1];
    let mut r = vec![0.0f32; c];

    xent::log_softmax_into(x, lay, &mut out[1..]).unwrap();
    let probs: Vec<f32> = out[1..].iter().map(|v| v.exp()).collect();
    for i in rows {
        xent::log_softmax_into(&x[i * c..(i + 1) * c], one, &mut r).unwrap();
        assert!(same(&r, &out[1 + i * c..][..c]), "log-softmax row {i}");
    }
    xent::cross_entropy_with_grad(x, lay, &t, &o, &mut out[1..]).unwrap();
    for i in rows {
        xent::cross_entropy_with_grad(&x[i * c..(i + 1) * c], one, &t[i..=i], &o, &mut r).unwrap();
        assert!(same(&r, &out[1 + i * c..][..c]), "gradient row {i}");
    }
    xent::cross_entropy_with_grad(&xh, lay, &t, &o, &mut out[1..]).unwrap();
    for i in rows {
        xent::cross_entropy_with_grad(&xh[i * c..(i + 1) * c], one, &t[i..=i], &o, &mut r).unwrap();
        assert!(same(&r, &out[1 + i * c..][..c]), "f16 gradient row {i}");
    }
    xent::cross_entropy_probs_with_grad(x, lay, &probs, &po, &mut out[1..]).unwrap();
    for i in rows {
        let p = &probs[i * c..(i + 1) * c];
        xent::cross_entropy_probs_with_grad(&x[i * c..(i + 1) * c], one, p, &po, &mut r).unwrap();
        assert!(same(&r, &out[1 + i * c..][..c]), "probs gradient row {i}");
    }
    out[1..].copy_from_slice(x);
    xent::cross_entropy_with_grad_in_place(&mut out[1..], lay, &t, &o).unwrap();
    for i in rows {
        xent::cross_entropy_with_grad(&x[i * c..(i + 1) * c], one, &t[i..=i], &o, &mut r).unwrap();
        assert!(same(&r, &out[1 + i * c..][..c]), "in-place gradient row {i}");
    }
}

/// Long rows read twice (the gradient, probability targets' gradient, log-softmax) go in
/// tiles of fewer rows than short ones (so that a tile stays in L2): a batch must give
/// each row exactly what that row alone gives, across the tiles' boundaries.
#[test]
#[cfg_attr(miri, ignore = "rows of 40000 logits; the tiling is the same arithmetic as any batch")]
fn long_row_batches_match_single_rows() {
    let mut rng = Rng(77);
    // 160 KB and 20 KB rows: one row a tile, and a dozen.
    for c in [40_000usize, 5_000] {
        let n = 7;
        let lay = Layout::rows(n, c);
        let x: Vec<f32> = (0..n).flat_map(|_| logits(&mut rng, c, None)).collect();
        let t: Vec<i64> = (0..n).map(|i| ((i * 7919) % c) as i64).collect();
        let o = CrossEntropyOptions::new().with_reduction(Reduction::Sum).with_label_smoothing(0.1);
        let mut g = vec![0.0f32; n * c];
        let mut per = vec![0.0f32; n];
        xent::cross_entropy_with_grad(&x, lay, &t, &o, &mut g).unwrap();
        xent::cross_entropy_per_position(&x, lay, &t, &o, &mut per).unwrap();
        let mut ls = vec![0.0f32; n * c];
        xent::log_softmax_into(&x, lay, &mut ls).unwrap();
        let probs: Vec<f32> = ls.iter().map(|v| v.exp()).collect();
        let po = ProbsOptions::new().with_reduction(Reduction::Sum);
        let mut gp = vec![0.0f32; n * c];
        xent::cross_entropy_probs_with_grad(&x, lay, &probs, &po, &mut gp).unwrap();
        for i in 0..n {
            let row = i * c..(i + 1) * c;
            let one = Layout::rows(1, c);
            let mut g1 = vec![0.0f32; c];
            let l1 = xent::cross_entropy_with_grad(&x[row.clone()], one, &t[i..=i], &o, &mut g1).unwrap();
            assert_eq!(l1.to_bits(), per[i].to_bits(), "loss of row {i}, C = {c}");
            assert!(
                g1.iter().zip(&g[row.clone()]).all(|(a, b)| a.to_bits() == b.to_bits()),
                "gradient row {i}"
            );
            let mut ls1 = vec![0.0f32; c];
            xent::log_softmax_into(&x[row.clone()], one, &mut ls1).unwrap();
            assert!(
                ls1.iter().zip(&ls[row.clone()]).all(|(a, b)| a.to_bits() == b.to_bits()),
                "log-softmax row {i}"
            );
            let mut gp1 = vec![0.0f32; c];
            xent::cross_entropy_probs_with_grad(&x[row.clone()], one, &probs[row.clone()], &po, &mut gp1)
                .unwrap();
            assert!(
                gp1.iter().zip(&gp[row.clone()]).all(|(a, b)| a.to_bits() == b.to_bits()),
                "probs gradient row {i}"
            );
        }
    }
}
