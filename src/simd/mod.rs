//! The fast engine. (The SIMD kernels land here; until then the public path runs the
//! scalar kernels in f32.)

pub(crate) use crate::scalar::kernels::Scalar as Simd;
