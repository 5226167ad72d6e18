//! The run-time dispatched `core::arch` backends of [`Vector`](super::vector::Vector).

#[cfg(target_arch = "x86_64")]
#[cfg_attr(not(test), allow(dead_code, reason = "the dispatcher does not select it yet"))]
pub(crate) mod avx2;
#[cfg(target_arch = "x86_64")]
#[cfg_attr(not(test), allow(dead_code, reason = "the dispatcher does not select it yet"))]
pub(crate) mod avx512;
