//! The run-time dispatched `core::arch` backends of [`Vector`](super::vector::Vector).

#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2;
