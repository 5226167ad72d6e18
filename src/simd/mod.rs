//! The fast engine: SIMD kernels generic over a small vector trait, on the backend of the
//! instruction set detected at run time.

mod arch;
pub(crate) mod backend;
pub(crate) mod detect;
mod dispatch;
pub(crate) mod kernels;
pub(crate) mod vector;

pub(crate) use dispatch::Simd;

/// Asks for every cache line of `v`, `ahead` bytes on, to be brought into L1 (a hint: the
/// lines past the end of `v`'s allocation are never read). Nothing without SSE.
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn prefetch_ahead<T>(v: &[T], ahead: usize) {
    let mut at = 0;
    while at < size_of_val(v) {
        arch::prefetch::<true, T>(v.as_ptr(), ahead + at);
        at += 64;
    }
}
