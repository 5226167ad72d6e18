//! The partial state of a log-sum-exp, for rows split across threads or machines.

use crate::Element;

/// The partial state `(max, sum)` of a log-sum-exp over part of a row, with
/// `sum = Σ exp(x - max)`. Partials of disjoint parts [`merge`](LsePartial::merge)
/// associatively and commutatively into the partial of their union, so a vocabulary
/// sharded across threads or devices gives the row's log-sum-exp exactly (up to rounding).
///
/// # Examples
///
/// ```
/// use xent::LsePartial;
/// let row = [1.0_f32, 5.0, -2.0, 0.5, 3.0];
/// let (a, b) = row.split_at(2);
/// let merged = LsePartial::of(a).merge(LsePartial::of(b));
/// assert!((merged.lse() - xent::log_sum_exp(&row)).abs() < 1e-6);
/// assert_eq!(LsePartial::EMPTY.merge(merged), merged);
/// ```
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct LsePartial {
    max: f32,
    sum: f32,
}

impl LsePartial {
    /// The partial of an empty part: the identity of [`merge`](LsePartial::merge).
    pub const EMPTY: Self = Self { max: f32::NEG_INFINITY, sum: 0.0 };

    /// The partial of `part`: NaN anywhere (or `+inf`) makes it NaN; an empty part or one of
    /// only `-inf` is [`EMPTY`](LsePartial::EMPTY), so a fully masked shard merges away.
    ///
    /// ```
    /// use xent::LsePartial;
    /// let p = LsePartial::of(&[0.0_f32, 0.0]);
    /// assert_eq!((p.max(), p.sum()), (0.0, 2.0));
    /// assert_eq!(LsePartial::of(&[f32::NEG_INFINITY]), LsePartial::EMPTY);
    /// let row = [f32::NEG_INFINITY, f32::NEG_INFINITY, 1.0, 2.0];
    /// let (a, b) = row.split_at(2);
    /// let lse = LsePartial::of(a).merge(LsePartial::of(b)).lse();
    /// assert!((lse - xent::log_sum_exp(&row)).abs() < 1e-6);
    /// ```
    #[must_use]
    pub fn of<T: Element>(part: &[T]) -> Self {
        // The part's maximum, NaN-aware.
        let mut m = f32::NEG_INFINITY;
        for v in part {
            let v = v.to_f32();
            if v > m || v.is_nan() {
                m = v;
                if v.is_nan() {
                    return Self { max: f32::NAN, sum: f32::NAN };
                }
            }
        }
        if m == f32::NEG_INFINITY {
            // Empty, or every value -inf: contributes nothing to a merge.
            return Self::EMPTY;
        }
        if m == f32::INFINITY {
            return Self { max: m, sum: f32::NAN };
        }
        // Centred on the part's maximum, so that sum stays in [1, len].
        Self { max: m, sum: libm::expf(crate::log_sum_exp(part) - m) }
    }

    /// Builds a partial from a maximum and a sum relative to it.
    ///
    /// ```
    /// let p = xent::LsePartial::from_parts(0.0, 1.0);
    /// assert_eq!(p.lse(), 0.0);
    /// ```
    #[must_use]
    pub const fn from_parts(max: f32, sum: f32) -> Self {
        Self { max, sum }
    }

    /// The maximum of the part (`-inf` when empty).
    #[must_use]
    pub const fn max(&self) -> f32 {
        self.max
    }

    /// `Σ exp(x - max)` over the part.
    #[must_use]
    pub const fn sum(&self) -> f32 {
        self.sum
    }

    /// The log-sum-exp of the part, `max + ln(sum)`.
    ///
    /// ```
    /// assert_eq!(xent::LsePartial::EMPTY.lse(), f32::NEG_INFINITY);
    /// ```
    #[must_use]
    pub fn lse(&self) -> f32 {
        if self.max == f32::NEG_INFINITY { f32::NEG_INFINITY } else { self.max + libm::logf(self.sum) }
    }

    /// The partial of the union of two disjoint parts.
    ///
    /// ```
    /// use xent::LsePartial;
    /// let a = LsePartial::from_parts(0.0, 1.0);
    /// let b = LsePartial::from_parts(0.0, 1.0);
    /// assert_eq!(a.merge(b).sum(), 2.0);
    /// ```
    #[must_use]
    pub fn merge(self, other: Self) -> Self {
        if self.max.is_nan() || other.max.is_nan() {
            return Self { max: f32::NAN, sum: f32::NAN };
        }
        if self.max == f32::NEG_INFINITY {
            return other;
        }
        if other.max == f32::NEG_INFINITY {
            return self;
        }
        let (hi, lo) = if self.max >= other.max { (self, other) } else { (other, self) };
        if hi.max == f32::INFINITY {
            return Self { max: f32::INFINITY, sum: f32::NAN };
        }
        Self { max: hi.max, sum: hi.sum + lo.sum * libm::expf(lo.max - hi.max) }
    }
}
