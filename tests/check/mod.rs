//! The shared differential check, used by every fuzz target in `fuzz/` and by
//! `tests/regressions/`.
//!
//! A [`Case`] is one call's worth of input for one loss family: a layout (whose lengths may
//! disagree with the slices), options (any `ignore_index`, any smoothing, NaN weights, ...),
//! class or soft targets, and logits given as raw bit patterns (so NaN payloads,
//! subnormals and infinities occur). [`run`] calls every public (SIMD) entry point of the
//! family and its `xent::scalar` twins in f64 (the oracle) and in f32, and asserts:
//!
//! - no call panics, and the three paths return the same `Err` (compared by `Debug`, so
//!   NaN values compare equal) exactly when the input is invalid (the small validity model
//!   of `validity.rs` says when);
//! - on valid input, every SIMD output (reduced loss, per-position losses, gradient) is
//!   within the documented bound of the f64 oracle (crate docs, "Precision";
//!   `tests/equivalence/` is the reference for the formulas): NaN exactly where NaN is
//!   due, the same infinity where the oracle's value is infinite in f32.
//!
//! The bounds are the formulas of `tests/equivalence/`, extended to inputs outside the
//! ranges that file draws from (weights of any sign and size, targets outside `[0, 1]`,
//! large `gamma`, ...). Each extension is commented where it is made; on the inputs
//! `tests/equivalence/` uses, every bound here is the documented one or within a small
//! constant factor of it, and no bound is widened to hide a mismatch.
//!
//! Inputs come from [`Case::decode`], a feature-free byte decoder usable from the fuzz
//! crate and from tests. `Debug` of a [`Case`] prints a Rust expression that rebuilds it
//! (paste it into `tests/regressions/`).
//!
//! The files: `case` (the input types), `decode` (bytes to a case), `reproducer` (a
//! case's `Debug`), `validity` (which inputs a call must accept), `compare` (the three-way
//! comparison), `bounds` (the bounds' ingredients), and one file per family of checks:
//! `primitives`, `cross_entropy`, `softmax_focal`, `probs`, `nll`, `elementwise`.

// Index loops mirror the formulas they check; NaN-aware comparisons are written out.
#![allow(clippy::needless_range_loop, clippy::nonminimal_bool, clippy::neg_cmp_op_on_partial_ord)]
#![allow(dead_code, clippy::too_many_lines, clippy::cast_precision_loss)]

mod bounds;
mod case;
mod compare;
mod cross_entropy;
mod decode;
mod elementwise;
mod nll;
mod primitives;
mod probs;
mod reproducer;
mod softmax_focal;
mod validity;

use compare::Ctx;
use cross_entropy::ce;
use elementwise::{bce, bce_logits, sigmoid_focal};
use nll::nll;
use primitives::{gather, lse, score};
use probs::probs;
use softmax_focal::softmax_focal;
use xent::{bf16, f16};

// The public items, as before the split; each includer (a test, a fuzz target) uses a part.
#[allow(unused_imports)]
pub use case::{Case, Dtype, Family, Index, Lay, Target, bits};
#[allow(unused_imports)]
pub use compare::{Bits, Idx, QUIET};

/// f32's machine epsilon, `2^-23`.
pub const EPS: f64 = f32::EPSILON as f64;
/// At most this many logits (or elements) per case, so one execution stays fast.
pub const MAX_ELEMS: usize = if cfg!(miri) { 256 } else { 4096 };

/// Runs the differential check of `case`; panics (with a reproducer) on any violation.
pub fn run(case: &Case) {
    match case.dtype {
        Dtype::F32 => by_index::<f32>(case),
        Dtype::F16 => by_index::<f16>(case),
        Dtype::Bf16 => by_index::<bf16>(case),
    }
}

fn by_index<T: Bits>(case: &Case) {
    match case.index {
        Index::I64 => family::<T, i64>(case),
        Index::I32 => family::<T, i32>(case),
        Index::U32 => family::<T, u32>(case),
        Index::U8 => family::<T, u8>(case),
    }
}

fn family<T: Bits, I: Idx>(case: &Case) {
    let ctx = Ctx { case };
    match case.family {
        Family::Lse => lse::<T>(&ctx),
        Family::Ce => ce::<T, I>(&ctx),
        Family::Probs => probs::<T>(&ctx),
        Family::Nll => nll::<T, I>(&ctx),
        Family::Gather => gather::<T, I>(&ctx),
        Family::Bce => bce::<T>(&ctx),
        Family::BceLogits => bce_logits::<T>(&ctx),
        Family::SigmoidFocal => sigmoid_focal::<T>(&ctx),
        Family::SoftmaxFocal => softmax_focal::<T, I>(&ctx),
        Family::Score => score::<T, I>(&ctx),
    }
}

/// `$f::<T, I>` for the case's index type.
macro_rules! by_idx {
    ($f:ident, $t:ty, $case:expr) => {{
        let ctx = Ctx { case: $case };
        match $case.index {
            Index::I64 => $f::<$t, i64>(&ctx),
            Index::I32 => $f::<$t, i32>(&ctx),
            Index::U32 => $f::<$t, u32>(&ctx),
            Index::U8 => $f::<$t, u8>(&ctx),
        }
    }};
}

/// The entry point of the fuzz targets: decodes `data` for `target` and runs the check,
/// instantiating only the element and index types and the families a target can decode
/// (f32, and f16/bf16 for `Target::Half`: a fraction of [`run`]). Inlined into each
/// caller, whose `target` is a constant.
#[inline(always)]
pub fn fuzz(target: Target, data: &[u8]) {
    let case = Case::decode(target, data);
    // The dispatched path (the best instruction set this CPU has), then the portable
    // backend beside it; the cap is the process's, and a fuzz run is one thread.
    fuzz_case(target, &case);
    if xent::set_max_isa(xent::Isa::Portable) != xent::detected_isa() {
        fuzz_case(target, &case);
    }
    xent::set_max_isa(xent::Isa::Avx512);
}

/// [`fuzz`] of one decoded case on the active instruction set.
#[inline(always)]
fn fuzz_case(target: Target, case: &Case) {
    let ctx = Ctx { case };
    match (target, case.family) {
        (Target::Lse, _) => lse::<f32>(&ctx),
        (Target::CeClass | Target::Ext, _) => by_idx!(ce, f32, case),
        (Target::Probs, _) => probs::<f32>(&ctx),
        (Target::Nll, Family::Gather) => by_idx!(gather, f32, case),
        (Target::Nll, _) => by_idx!(nll, f32, case),
        (Target::Bce, _) => bce::<f32>(&ctx),
        (Target::BceLogits, _) => bce_logits::<f32>(&ctx),
        (Target::Focal, Family::SigmoidFocal) => sigmoid_focal::<f32>(&ctx),
        (Target::Focal, _) => by_idx!(softmax_focal, f32, case),
        (Target::Score, _) => by_idx!(score, f32, case),
        (Target::Half, _) => match case.dtype {
            Dtype::F16 => by_index::<f16>(case),
            _ => by_index::<bf16>(case),
        },
    }
}

/// Decodes `data` for `target` and runs the check.
pub fn run_bytes(target: Target, data: &[u8]) {
    run(&Case::decode(target, data));
}

/// Every fuzz target's name and its decoder.
pub const TARGETS: [(&str, Target); 10] = [
    ("lse", Target::Lse),
    ("ce_class", Target::CeClass),
    ("ext", Target::Ext),
    ("ce_probs", Target::Probs),
    ("nll", Target::Nll),
    ("bce", Target::Bce),
    ("bce_logits", Target::BceLogits),
    ("focal", Target::Focal),
    ("half", Target::Half),
    ("score", Target::Score),
];
