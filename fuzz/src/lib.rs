//! The shared differential check (tests/check/mod.rs), compiled once for every fuzz target:
//! each target in `fuzz_targets/` calls its function here, so the check and its
//! instantiations of xent are built once, not once per target binary.

#[path = "../../tests/check/mod.rs"]
mod check;

/// One function per target, each [`check::fuzz`] with its decoder a constant: out of line,
/// so each keeps only the families its decoder can produce (one function holding every
/// target took LLVM over 15 minutes).
macro_rules! targets {
    ($($name:ident => $target:ident),+ $(,)?) => {$(
        #[doc = concat!("The check on inputs decoded for `Target::", stringify!($target), "`.")]
        #[inline(never)]
        pub fn $name(data: &[u8]) {
            check::fuzz(check::Target::$target, data);
        }
    )+};
}

targets! {
    lse => Lse,
    ce_class => CeClass,
    ext => Ext,
    ce_probs => Probs,
    nll => Nll,
    bce => Bce,
    bce_logits => BceLogits,
    focal => Focal,
    half => Half,
    score => Score,
}
