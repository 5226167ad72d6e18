//! PyTorch-exact cross-entropy losses and their gradients, as `no_std`, allocation-free
//! kernels over caller-owned slices of f32, f16 or bf16.
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

mod api;
mod element;
mod engine;
mod error;
mod layout;
mod loss;
mod options;
mod partial;
pub mod scalar;
mod simd;

pub use api::*;
pub use element::{ClassIndex, Element, Real};
pub use error::Error;
pub use half::{bf16, f16};
pub use layout::Layout;
pub use options::{
    BceOptions, BceWithLogitsOptions, CrossEntropyOptions, NllOptions, ProbsOptions, Reduction,
    SigmoidFocalOptions, SoftmaxFocalOptions,
};
pub use partial::LsePartial;
