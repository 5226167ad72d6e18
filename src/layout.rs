//! The shape of a class-index problem.

use crate::Error;

/// The shape of a problem with a class axis: `outer` positions, `classes` classes, and an
/// `inner` block of spatial positions after the class axis.
///
/// | PyTorch shape | constructor | element `(n, c, i)` at |
/// |---|---|---|
/// | `(C)` | [`Layout::unbatched`] | `c` |
/// | `(N, C)` | [`Layout::rows`] | `n*C + c` |
/// | `(N, C, d1..dk)` | [`Layout::channel_first`] with `inner = d1*..*dk` | `(n*C + c)*inner + i` |
///
/// A *position* is one `(n, i)` pair; targets and per-position losses are indexed by
/// `n*inner + i`, PyTorch's row-major order over `(N, d1, .., dk)`.
///
/// **Sequence logits `(B, T, C)`** (class axis last) are `B*T` rows: use
/// [`Layout::rows`]`(B*T, C)` or [`Layout::class_last`]. PyTorch would read such a tensor as
/// `N = B, C = T` and silently compute a different loss when `T == C`; xent never guesses a
/// class axis from a shape.
///
/// # Examples
///
/// ```
/// use xent::Layout;
///
/// let seg = Layout::channel_first(1, 4, 128 * 128 * 128);
/// assert_eq!(seg.positions(), Ok(128 * 128 * 128));
/// assert_eq!(Layout::from_shape(&[1, 4, 128, 128, 128]), Ok(seg));
/// // (B, T, C) language-model logits: B*T rows of C classes.
/// assert_eq!(Layout::class_last(&[2, 7, 50]), Ok(Layout::rows(14, 50)));
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Layout {
    outer: usize,
    classes: usize,
    inner: usize,
}

impl Layout {
    /// An unbatched `(C)` problem: one position.
    ///
    /// ```
    /// assert_eq!(xent::Layout::unbatched(9).positions(), Ok(1));
    /// ```
    #[must_use]
    pub const fn unbatched(classes: usize) -> Self {
        Self { outer: 1, classes, inner: 1 }
    }

    /// An `(N, C)` problem: `n` contiguous rows of `classes` logits.
    ///
    /// ```
    /// assert_eq!(xent::Layout::rows(8, 5).len(), Ok(40));
    /// ```
    #[must_use]
    pub const fn rows(n: usize, classes: usize) -> Self {
        Self { outer: n, classes, inner: 1 }
    }

    /// A channel-first `(N, C, d1..dk)` problem with `inner = d1*..*dk`.
    ///
    /// ```
    /// let l = xent::Layout::channel_first(2, 4, 15);
    /// assert_eq!((l.positions(), l.len()), (Ok(30), Ok(120)));
    /// ```
    ///
    /// A `(1, 4, 128, 128, 128)` segmentation volume with `(1, 128, 128, 128)` class targets
    /// is the same problem as its `128^3` positions laid out as rows of 4 classes:
    ///
    /// ```
    /// use xent::{cross_entropy, CrossEntropyOptions, Layout};
    /// let (c, d) = (4, 128 * 128 * 128);
    /// let mut seed = 1_u32;
    /// let mut next = || { seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223); seed };
    /// let logits: Vec<f32> = (0..c * d).map(|_| (next() >> 8) as f32 / (1 << 24) as f32 * 4.0 - 2.0).collect();
    /// let targets: Vec<i64> = (0..d).map(|_| i64::from(next() >> 30)).collect();
    /// // Move the class axis last: rows[p * C + k] = logits[k * D + p].
    /// let mut rows = vec![0.0_f32; c * d];
    /// for k in 0..c {
    ///     for p in 0..d {
    ///         rows[p * c + k] = logits[k * d + p];
    ///     }
    /// }
    /// let opts = CrossEntropyOptions::new().with_label_smoothing(0.1);
    /// let volume = cross_entropy(&logits, Layout::from_shape(&[1, 4, 128, 128, 128])?, &targets, &opts)?;
    /// let flat = cross_entropy(&rows, Layout::rows(d, c), &targets, &opts)?;
    /// assert!((volume - flat).abs() <= 1e-5 * flat.abs());
    /// # Ok::<(), xent::Error>(())
    /// ```
    #[must_use]
    pub const fn channel_first(n: usize, classes: usize, inner: usize) -> Self {
        Self { outer: n, classes, inner }
    }

    /// The layout of a PyTorch input shape: `(C)`, `(N, C)` or `(N, C, d1..dk)` with the
    /// class axis at dimension 1 (dimension 0 for a 1-D shape).
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`] for an empty shape (`what = "shape"`),
    /// [`Error::SizeOverflow`] if the product of all dimensions overflows `usize`.
    ///
    /// ```
    /// use xent::Layout;
    /// assert_eq!(Layout::from_shape(&[2, 4, 3, 5]), Ok(Layout::channel_first(2, 4, 15)));
    /// assert!(Layout::from_shape(&[]).is_err());
    /// ```
    pub fn from_shape(shape: &[usize]) -> Result<Self, Error> {
        match shape {
            [] => Err(Error::LengthMismatch { what: "shape", expected: 1, found: 0 }),
            [c] => Ok(Self::unbatched(*c)),
            [n, c, rest @ ..] => {
                let lay = Self::channel_first(*n, *c, product(rest)?);
                lay.len().map(|_| lay)
            }
        }
    }

    /// The layout of a shape whose **last** axis is the class axis, such as `(B, T, C)`
    /// sequence logits: `B*T` rows of `C`.
    ///
    /// # Errors
    ///
    /// As [`Layout::from_shape`].
    ///
    /// ```
    /// use xent::Layout;
    /// assert_eq!(Layout::class_last(&[4, 128, 32000]), Ok(Layout::rows(512, 32000)));
    /// ```
    pub fn class_last(shape: &[usize]) -> Result<Self, Error> {
        match shape.split_last() {
            None => Err(Error::LengthMismatch { what: "shape", expected: 1, found: 0 }),
            Some((c, rest)) => {
                let lay = Self::rows(product(rest)?, *c);
                lay.len().map(|_| lay)
            }
        }
    }

    /// The batch size `N` (1 for an unbatched layout).
    #[must_use]
    pub const fn outer(&self) -> usize {
        self.outer
    }

    /// The class count `C`.
    #[must_use]
    pub const fn classes(&self) -> usize {
        self.classes
    }

    /// The spatial size `d1*..*dk` (1 for `(C)` and `(N, C)`).
    #[must_use]
    pub const fn inner(&self) -> usize {
        self.inner
    }

    /// The number of positions `N*d1*..*dk`: the length of targets and per-position losses.
    ///
    /// # Errors
    ///
    /// [`Error::SizeOverflow`] if the product overflows `usize`.
    pub const fn positions(&self) -> Result<usize, Error> {
        match self.outer.checked_mul(self.inner) {
            Some(p) => Ok(p),
            None => Err(Error::SizeOverflow),
        }
    }

    /// The number of logits `N*C*d1*..*dk`.
    ///
    /// # Errors
    ///
    /// [`Error::SizeOverflow`] if the product overflows `usize`.
    #[allow(clippy::len_without_is_empty)]
    pub const fn len(&self) -> Result<usize, Error> {
        match self.positions() {
            Ok(p) => match p.checked_mul(self.classes) {
                Some(l) => Ok(l),
                None => Err(Error::SizeOverflow),
            },
            Err(e) => Err(e),
        }
    }

    /// Index of the logit of class 0 at `position`, and the distance between classes.
    /// Only meaningful for `position < positions()`.
    #[inline]
    pub(crate) const fn row(&self, position: usize) -> (usize, usize) {
        if self.inner == 1 {
            (position * self.classes, 1)
        } else {
            let n = position / self.inner;
            let i = position % self.inner;
            (n * self.classes * self.inner + i, self.inner)
        }
    }
}

fn product(dims: &[usize]) -> Result<usize, Error> {
    dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d).ok_or(Error::SizeOverflow))
}
