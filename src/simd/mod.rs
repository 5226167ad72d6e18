//! The fast engine: SIMD kernels on `wide`, generic over a small vector trait.

mod arch;
pub(crate) mod kernels;
pub(crate) mod vector;

pub(crate) use kernels::Simd;
