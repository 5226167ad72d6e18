//! Single rows of every length and offset, several rows pipelined, long rows and rows built to make every rounding share its sign.

use super::*;

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
    crate::isa::init();
    rows_for::<f32>(1);
}

#[test]
fn rows_f16() {
    crate::isa::init();
    rows_for::<f16>(2);
}

#[test]
fn rows_bf16() {
    crate::isa::init();
    rows_for::<bf16>(3);
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
    crate::isa::init();
    pipelined_rows::<f32>(41);
}

#[test]
fn pipelined_rows_f16() {
    crate::isa::init();
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
    crate::isa::init();
    long_rows::<f32>(31);
}

#[test]
fn long_rows_f16() {
    crate::isa::init();
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
    crate::isa::init();
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
