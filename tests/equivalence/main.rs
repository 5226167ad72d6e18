//! The SIMD path against the scalar path (in f64, the oracle, and in f32) over every
//! length 0..=4*16+3 (16 = the widest vector), every start offset 0..16, with NaN, ±inf,
//! huge, tiny and subnormal values placed in the head, body and tail of rows, for f32,
//! f16 and bf16 inputs: losses, gradients and primitives, within the per-operation bounds
//! stated in the crate docs ("Precision").

mod batches;
mod binary;
mod problems;
mod rows;

use xent::{
    BceOptions, BceWithLogitsOptions, CrossEntropyOptions, Element, Layout, ProbsOptions, Reduction,
    SigmoidFocalOptions, SoftmaxFocalOptions, bf16, f16,
};

const EPS: f64 = f32::EPSILON as f64;
const MAX_LEN: usize = if cfg!(miri) { 9 } else { 4 * 16 + 3 };
const OFFSETS: usize = if cfg!(miri) { 2 } else { 16 };

#[path = "../support/rng.rs"]
mod rng;
use rng::Rng;
#[path = "../support/isa.rs"]
mod isa;

/// Every test of this binary again on each lower instruction set this CPU supports.
#[test]
fn every_isa_level() {
    isa::run_other_levels("every_isa_level");
}

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
