//! The compensated running sum of the reductions over positions.

use crate::Real;

/// A compensated (Neumaier) running sum, for reductions over many positions.
#[derive(Copy, Clone, Debug)]
pub(crate) struct Acc<R> {
    sum: R,
    comp: R,
}

impl<R: Real> Acc<R> {
    pub(crate) fn new() -> Self {
        Self { sum: R::zero(), comp: R::zero() }
    }
    #[inline]
    pub(crate) fn add(&mut self, v: R) {
        let t = self.sum + v;
        if t.is_finite() {
            if self.sum.abs() >= v.abs() {
                self.comp = self.comp + ((self.sum - t) + v);
            } else {
                self.comp = self.comp + ((v - t) + self.sum);
            }
        }
        self.sum = t;
    }
    pub(crate) fn get(&self) -> R {
        if self.sum.is_finite() { self.sum + self.comp } else { self.sum }
    }
}
