//! The comparison of the three paths: [`Ctx::outcome`] (the same `Ok` or `Err` from the
//! SIMD call and its scalar f64 and f32 twins) and [`Ctx::value`] (a SIMD value within its
//! bound of the f64 oracle), and the element and index types built from a case's bits.

use xent::{ClassIndex, Element, Error, bf16, f16};

use super::case::Case;

/// The smallest f64 that rounds to f32 infinity (`f32::MAX` plus half an ULP).
pub(super) const OVERFLOW: f64 = 3.402_823_567_797_336_6e38;

/// Element types built from bit patterns.
pub trait Bits: Element {
    fn from_bits32(b: u32) -> Self;
}
impl Bits for f32 {
    fn from_bits32(b: u32) -> Self {
        f32::from_bits(b)
    }
}
impl Bits for f16 {
    fn from_bits32(b: u32) -> Self {
        f16::from_bits(b as u16)
    }
}
impl Bits for bf16 {
    fn from_bits32(b: u32) -> Self {
        bf16::from_bits(b as u16)
    }
}

/// Class-index types built from (already normalised) i64 values.
pub trait Idx: ClassIndex {
    fn from_i64(v: i64) -> Self;
}
impl Idx for i64 {
    fn from_i64(v: i64) -> Self {
        v
    }
}
impl Idx for i32 {
    fn from_i64(v: i64) -> Self {
        v as i32
    }
}
impl Idx for u32 {
    fn from_i64(v: i64) -> Self {
        v as u32
    }
}
impl Idx for u8 {
    fn from_i64(v: i64) -> Self {
        v as u8
    }
}

/// Leave the reproducer out of failure messages (for surveys that catch many failures).
pub static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub(super) struct Ctx<'a> {
    pub(super) case: &'a Case,
}

impl Ctx<'_> {
    #[track_caller]
    pub(super) fn fail(&self, msg: &str) -> ! {
        if QUIET.load(std::sync::atomic::Ordering::Relaxed) {
            panic!("{msg}");
        }
        panic!("{msg}\n\nreproducer (paste into tests/regressions/):\n{:?}\n", self.case)
    }

    /// The SIMD call and its scalar f64 and f32 twins either all succeed (returns true) or
    /// all fail with the same error; they succeed exactly when `valid`.
    #[track_caller]
    pub(super) fn outcome<A, B, C>(
        &self,
        what: &str,
        simd: &Result<A, Error>,
        s64: &Result<B, Error>,
        s32: &Result<C, Error>,
        valid: bool,
    ) -> bool {
        match (simd, s64, s32) {
            (Ok(_), Ok(_), Ok(_)) => {
                if !valid {
                    self.fail(&format!("{what}: Ok on input the validity model rejects"));
                }
                true
            }
            (Err(a), Err(b), Err(c)) => {
                let (a, b, c) = (format!("{a:?}"), format!("{b:?}"), format!("{c:?}"));
                if a != b || a != c {
                    self.fail(&format!("{what}: errors differ: simd {a}, scalar f64 {b}, scalar f32 {c}"));
                }
                if valid {
                    self.fail(&format!("{what}: {a} on input the validity model accepts"));
                }
                false
            }
            _ => self.fail(&format!(
                "{what}: outcomes differ: simd {:?}, scalar f64 {:?}, scalar f32 {:?}",
                simd.as_ref().err(),
                s64.as_ref().err(),
                s32.as_ref().err()
            )),
        }
    }

    /// Returns true when `got` was accepted only as a non-finite value.
    /// `got` (SIMD, f32) against the oracle `want` (f64) within `bound`; see [`close`].
    /// `w32` is the scalar f32 twin's value: where it is not finite although the oracle's
    /// f32 value is, an f32 intermediate overflows (documented; e.g. `z * lse^2` or
    /// `w * x` near `f32::MAX`) and the SIMD value may be non-finite too (but never a
    /// finite value outside the bound). `nonfinite_ok` admits the documented label-smoothing
    /// overflow of `Σ w (x - x_t)`.
    #[track_caller]
    pub(super) fn value(
        &self,
        what: impl Fn() -> String,
        got: f32,
        want: f64,
        w32: f32,
        bound: f64,
        nonfinite_ok: bool,
    ) -> bool {
        let g = f64::from(got);
        if close(g, want, bound) {
            return false;
        }
        // As tests/equivalence/: where the scalar f32 twin is not finite but the oracle is
        // not NaN, an f32 intermediate overflowed (e.g. `z * lse^2`, `w * x` or `Σ w t x`
        // near f32::MAX), and the SIMD value need only be non-finite too. Stricter than
        // tests/equivalence/ where the oracle is infinite and the scalar f32 twin agrees:
        // then the SIMD value must be that infinity.
        let f32_overflow =
            !want.is_nan() && !w32.is_finite() && !(want.is_infinite() && f64::from(w32) == want);
        if (f32_overflow || nonfinite_ok) && !got.is_finite() {
            // Accepted only as a non-finite value: a reduction over it may be one too.
            return true;
        }
        self.fail(&format!(
            "{}: simd {got:e}, oracle {want:e}, scalar f32 {w32:e}, |err| {:e} > bound {bound:e}",
            what(),
            (g - want).abs()
        ));
    }
}

/// (Every reduced loss checked also accepts a non-finite value when `Σ |terms|` nears f32::MAX:
/// partial sums may then overflow, in an order-dependent way, though the total does not.)
///
/// `|got - want| <= bound`, NaN exactly where NaN is due, the same infinity where the
/// oracle is infinite; a finite oracle value beyond f32's range must come back as the
/// infinity it rounds to, unless the bound reaches back below the overflow threshold; an
/// infinite `got` is accepted for a finite oracle only when the bound reaches the overflow
/// threshold (the value may round either way there).
pub(super) fn close(got: f64, want: f64, bound: f64) -> bool {
    if want.is_nan() {
        return got.is_nan();
    }
    if got.is_nan() {
        return false;
    }
    if want.is_infinite() {
        return got == want;
    }
    if got.is_infinite() {
        return got.signum() == want.signum() && want.abs() + bound >= OVERFLOW;
    }
    // The oracle rounded to f32 is always right; below 2^-126 f32 values are subnormal and
    // every operation there errs by up to 2^-150 absolute, which relative bounds miss.
    got == f64::from(want as f32) || (got - want).abs() <= bound + SUBNORMAL_SLACK
}

/// A few of f32's smallest subnormal steps (2^-149).
pub(super) const SUBNORMAL_SLACK: f64 = 4.0 * 1.401_298_464_324_817e-45;

/// Bitwise equality, NaN equal to NaN (and 0 to -0). Under Miri, which perturbs the results
/// of float operations that IEEE 754 does not require to be exact (so two calls that run the
/// same arithmetic may differ), equality within 64 ulps.
pub(super) fn same(a: f32, b: f32) -> bool {
    if a == b || (a.is_nan() && b.is_nan()) {
        return true;
    }
    cfg!(miri) && (a - b).abs() <= 64.0 * f32::EPSILON * a.abs().max(b.abs()) + f32::MIN_POSITIVE
}

pub(super) fn f32s(bits: &[u32]) -> Vec<f32> {
    bits.iter().map(|&b| f32::from_bits(b)).collect()
}

pub(super) fn elems<T: Bits>(bits: &[u32]) -> Vec<T> {
    bits.iter().map(|&b| T::from_bits32(b)).collect()
}

pub(super) fn widen<T: Element>(x: &[T]) -> Vec<f32> {
    x.iter().map(|v| v.to_f32()).collect()
}
