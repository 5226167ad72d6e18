//! The stated bounds of the vector functions, swept against f64 (`libm`), for each
//! backend: the tests below run them for the portable [`V`]; [`sweeps`] runs them all for
//! any backend (`sweeps_avx2` and `sweeps_avx512` for the dispatched ones, where the CPU
//! has them).
use super::{EXP_MAGIC, V, Vector};

/// Every sweep of this file for backend `W` (its bounds, whatever the backend: with
/// [`Vector::FMA`] and [`Vector::TABLE_EXP`] the fused and table branches are the ones
/// checked). Call it where `W`'s methods may run (a dispatched backend: inside its
/// `outline`, after checking the CPU).
pub(crate) fn sweeps<W: Vector>() {
    exp_le0_sweep::<W>();
    exp_parts_sum_sweep::<W>();
    if W::FMA {
        exp_parts_sum_at_sweep::<W>();
    }
    ln_sweep::<W>();
    expm1_le0_sweep::<W>();
    log1p_unit_sweep::<W>();
    tanh_sweep::<W>();
}

/// [`sweeps`] for the AVX2 backend, where the CPU has it.
#[cfg(target_arch = "x86_64")]
#[test]
fn sweeps_avx2() {
    use crate::simd::backend::avx2::{Avx2, detected};
    if detected() {
        crate::simd::backend::in_entry::<Avx2, _>(sweeps::<Avx2>);
    } else {
        extern crate std;
        std::eprintln!("skipped: this CPU lacks AVX2, FMA or F16C");
    }
}

/// [`sweeps`] for the AVX-512 backend, where the CPU has it (`detected` prints a note
/// where not).
#[cfg(target_arch = "x86_64")]
#[test]
fn sweeps_avx512() {
    use crate::simd::backend::avx512::{Avx512, detected};
    if detected() {
        crate::simd::backend::in_entry::<Avx512, _>(sweeps::<Avx512>);
    }
}

/// Distance in units in the last place of `want` (rounded to f32).
fn ulps(got: f32, want: f64) -> f64 {
    let w = want as f32;
    let ulp =
        if w == 0.0 { f32::MIN_POSITIVE } else { (f32::from_bits(w.abs().to_bits() + 1) - w.abs()).abs() };
    (f64::from(got) - want).abs() / f64::from(ulp)
}

/// Applies `f` to every value of `xs` through the vector type and returns the worst ULP
/// error against `g` in f64.
fn worst<W: Vector>(xs: impl Iterator<Item = f32>, f: impl Fn(W) -> W, g: impl Fn(f64) -> f64) -> (f64, f32) {
    let mut buf = [0.0f32; 16];
    let mut out = [0.0f32; 16];
    let mut worst = (0.0, 0.0);
    let mut n = 0;
    let lanes = W::LANES;
    let run = |buf: &[f32], out: &mut [f32], n: usize, worst: &mut (f64, f32)| {
        f(W::load_or(buf, 0.0)).store(out);
        for j in 0..n {
            let e = ulps(out[j], g(f64::from(buf[j])));
            if e > worst.0 {
                *worst = (e, buf[j]);
            }
        }
    };
    for x in xs {
        buf[n] = x;
        n += 1;
        if n == lanes {
            run(&buf, &mut out, n, &mut worst);
            n = 0;
        }
    }
    run(&buf, &mut out, n, &mut worst);
    worst
}

fn sweep(lo: f32, hi: f32, steps: u32) -> impl Iterator<Item = f32> {
    // Miri interprets every vector operation: a coarse sweep there.
    let steps = if cfg!(miri) { steps / 2000 + 1 } else { steps };
    (0..=steps).map(move |i| lo + (hi - lo) * (i as f32 / steps as f32))
}

#[test]
fn exp_le0_within_2_ulp() {
    exp_le0_sweep::<V>();
}

fn exp_le0_sweep<W: Vector>() {
    let (e, at) = worst(sweep(-87.3, 0.0, 400_000), |v: W| v.exp_le0(), libm::exp);
    assert!(e <= 2.0, "exp_le0: {e} ULP at {at}");
    let zero = W::splat(f32::NEG_INFINITY).exp_le0();
    let mut out = [1.0f32; 16];
    zero.store(&mut out);
    assert_eq!(out[0], 0.0);
    W::splat(f32::NAN).exp_le0().store(&mut out);
    assert!(out[0].is_nan());
    // A NaN with payload bits in k's low bits must stay NaN too.
    for payload in [1u32, 0x1ff, 0x3f_ffff] {
        W::splat(f32::from_bits(0x7fc0_0000 | payload)).exp_le0().store(&mut out);
        assert!(out[0].is_nan(), "payload {payload:#x}");
        W::splat(f32::from_bits(0xffc0_0000 | payload)).exp_le0().store(&mut out);
        assert!(out[0].is_nan(), "-NaN payload {payload:#x}");
    }
    W::splat(-100.0).exp_le0().store(&mut out);
    assert_eq!(out[0], 0.0);
}

/// [`Vector::exp_parts_sum`] and [`Vector::exp_parts_sum_poly`]: each term within
/// `(2 + |n| / 60) eps` relative (`n = round(t / ln 2)`), and a sum of terms whose
/// largest is 1 within `2 eps`.
#[test]
fn exp_parts_sum_within_bound() {
    exp_parts_sum_sweep::<V>();
}

fn exp_parts_sum_sweep<W: Vector>() {
    exp_parts_within_bound("exp_parts_sum", W::exp_parts_sum);
    exp_parts_within_bound("exp_parts_sum_poly", W::exp_parts_sum_poly);
}

/// [`Vector::exp_parts_sum_poly_at`] from `x` near `J ln2` (ln2 in f32), `J` from 0 to
/// past the f16 range: each term `exp(x - J ln2)` within the same bound as the other
/// forms, `n` counted from `J` (the reduction is one fused product however large `x`).
#[test]
#[cfg_attr(
    not(target_feature = "fma"),
    ignore = "FMA builds only (the one-constant reduction needs the fused product); CI runs the x86-64-v3 and v4 builds' tests"
)]
fn exp_parts_sum_at_within_bound() {
    exp_parts_sum_at_sweep::<V>();
}

fn exp_parts_sum_at_sweep<W: Vector>() {
    let eps = f64::from(f32::EPSILON);
    let ln2 = f64::from(core::f32::consts::LN_2);
    let mut out = [0.0f32; 16];
    let mut worst_term = 0.0f64;
    for j in [0i32, 1, -1, 7, -30, 144, -1000, 12_345, -50_000, 94_504, -94_504, 131_000] {
        let big_m = f64::from(j) * ln2;
        let magic = W::splat(EXP_MAGIC - j as f32);
        for t in sweep(-87.0, 4.4, 40_000) {
            let x = (big_m + f64::from(t)) as f32;
            let got = {
                let (e, scale) = W::splat(x).exp_parts_sum_poly_at(magic);
                e.mul_add(scale, W::splat(0.0)).store(&mut out);
                f64::from(out[0])
            };
            let d = f64::from(x) - big_m;
            let want = libm::exp(d);
            let n = (d / core::f64::consts::LN_2).round().abs();
            let rel = (got - want).abs() / want / eps / (2.0 + n / 60.0);
            assert!(rel <= 1.0, "J = {j}, x = {x}: {rel} of the bound");
            worst_term = worst_term.max(rel);
        }
    }
    assert!(worst_term > 0.1, "the sweep reached no rounding at all: {worst_term}");
    // NaN in, NaN out.
    let (e, scale) = W::splat(f32::NAN).exp_parts_sum_poly_at(W::splat(EXP_MAGIC - 100.0));
    e.mul_add(scale, W::splat(0.0)).store(&mut out);
    assert!(out[0].is_nan());
}

fn exp_parts_within_bound<W: Vector>(name: &str, f: fn(W) -> (W, W)) {
    let eps = f64::from(f32::EPSILON);
    let lanes = W::LANES;
    let (mut worst_term, mut worst_sum) = (0.0f64, 0.0f64);
    let mut buf = [0.0f32; 16];
    let mut out = [0.0f32; 16];
    for x in sweep(-87.3, 4.0, 400_000) {
        buf[..lanes].fill(x);
        let (e, scale) = f(W::load_or(&buf, 0.0));
        e.mul_add(scale, W::splat(0.0)).store(&mut out);
        let want = libm::exp(f64::from(x));
        let n = (f64::from(x) / core::f64::consts::LN_2).round().abs();
        let rel = (f64::from(out[0]) - want).abs() / want / eps / (2.0 + n / 60.0);
        worst_term = worst_term.max(rel);
        // `1 + K exp(x)` with K = 2^20 terms of one value: the weight of deep terms.
        let k = f64::from(1u32 << 20);
        let sum = 1.0 + k * f64::from(out[0]);
        worst_sum = worst_sum.max((sum - (1.0 + k * want)).abs() / (1.0 + k * want) / eps);
    }
    assert!(worst_term <= 1.0, "{name} term: {worst_term} of its bound");
    assert!(worst_sum <= 2.0, "{name} sum: {worst_sum} eps");
}

#[test]
fn ln_within_2_ulp() {
    ln_sweep::<V>();
}

fn ln_sweep<W: Vector>() {
    let xs = || sweep(1.0, 2.0, 100_000).chain(sweep(1e-30, 1.0, 100_000)).chain(sweep(1.0, 1e6, 100_000));
    let (e, at) = worst(xs(), |v: W| v.ln_fast(), libm::log);
    assert!(e <= 2.0, "ln_fast: {e} ULP at {at}");
    // Subnormals through ln_full.
    let (e, at) = worst(sweep(1e-45, 1.1e-38, 10_000), |v: W| v.ln_full(), libm::log);
    assert!(e <= 2.0, "ln_full: {e} ULP at {at}");
}

#[test]
fn expm1_le0_within_2_ulp() {
    expm1_le0_sweep::<V>();
}

fn expm1_le0_sweep<W: Vector>() {
    // Dense near 0 (both signs of the few-ULP overshoot), then the whole range.
    let near = sweep(-0.6, 1e-6, 400_000);
    let wide_range = sweep(-90.0, 0.0, 400_000);
    let tiny = (0..2000).map(|i| -f32::from_bits(0x3380_0000 + i * 40_000));
    let (w, at) = worst(near.chain(wide_range).chain(tiny), W::expm1_le0, libm::expm1);
    assert!(w <= 2.0, "expm1_le0: {w} ULP at {at}");
    let mut out = [0.0f32; 16];
    W::splat(f32::NEG_INFINITY).expm1_le0().to_lanes(&mut out);
    assert_eq!(out[0], -1.0);
    W::splat(f32::NAN).expm1_le0().to_lanes(&mut out);
    assert!(out[0].is_nan());
    W::splat(0.0).expm1_le0().to_lanes(&mut out);
    assert_eq!(out[0], 0.0);
}

#[test]
fn log1p_unit_within_bound() {
    log1p_unit_sweep::<V>();
}

fn log1p_unit_sweep<W: Vector>() {
    let xs = || sweep(0.0, 1.0, 400_000).chain(sweep(0.0, 1e-6, 10_000)).chain([1e-30, 1e-40, 1.0]);
    let (e, at) = worst(xs(), |v: W| v.log1p_unit(), libm::log1p);
    assert!(e <= 5.0, "log1p_unit: {e} ULP at {at}");
    // Near 0 (the losses of confident, right predictions) within 1.5 ULP.
    let (e, at) = worst(sweep(0.0, 1e-3, 10_000).chain([1e-30, 1e-40]), |v: W| v.log1p_unit(), libm::log1p);
    assert!(e <= 1.5, "log1p_unit near 0: {e} ULP at {at}");
    // Absolute: 2.1 eps.
    let mut buf = [0.0f32; 16];
    let mut worst_abs = 0.0f64;
    for x in xs() {
        W::splat(x).log1p_unit().store(&mut buf);
        worst_abs = worst_abs.max((f64::from(buf[0]) - libm::log1p(f64::from(x))).abs());
    }
    assert!(worst_abs <= 2.1 * f64::from(f32::EPSILON), "log1p_unit: absolute {worst_abs:e}");
}

#[test]
fn tanh_within_bound() {
    tanh_sweep::<V>();
}

fn tanh_sweep<W: Vector>() {
    // Relative error (soft-capping multiplies tanh by the cap, which may be f32::MAX).
    let (mut buf, mut buf2) = ([0.0f32; 16], [0.0f32; 16]);
    let (mut worst, mut worst2) = (0.0f64, 0.0f64);
    let xs = sweep(-40.0, 40.0, 100_000).chain(sweep(-0.07, 0.07, 10_000)).chain([1e-38, -1e-30, 3e-39]);
    for x in xs {
        let (t, d) = W::splat(x).tanh_sech2();
        t.store(&mut buf);
        d.store(&mut buf2);
        let want = libm::tanh(f64::from(x));
        if want != 0.0 {
            worst = worst.max((f64::from(buf[0]) - want).abs() / want.abs());
        }
        let c = libm::cosh(f64::from(x));
        let want2 = 1.0 / (c * c);
        worst2 = worst2.max((f64::from(buf2[0]) - want2).abs() / want2);
    }
    assert!(worst <= 4.0 * f64::from(f32::EPSILON), "tanh: relative {worst}");
    assert!(worst2 <= 4.0 * f64::from(f32::EPSILON), "1 - tanh^2: relative {worst2}");
}
