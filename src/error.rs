//! The crate's one error type.

use crate::Element;
use core::fmt;

/// Everything that can be wrong with a call's inputs.
///
/// Every variant names the offending value and, where there is one, its position, so a
/// caller can report it without a second look at the data. The enum is small and `Copy`;
/// no function of this crate panics on caller data, it returns one of these instead.
///
/// # Examples
///
/// ```
/// use xent::{cross_entropy, CrossEntropyOptions, Error, Layout};
///
/// let logits = [0.0_f32, 1.0, 2.0];
/// let err = cross_entropy(&logits, Layout::rows(1, 3), &[3_i64], &CrossEntropyOptions::new())
///     .unwrap_err();
/// assert_eq!(err, Error::TargetOutOfRange { position: 0, target: 3, classes: 3 });
/// assert_eq!(err.to_string(), "target 3 at position 0 is out of range for 3 classes");
/// ```
#[derive(Copy, Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// A slice's length disagrees with the layout (or with another slice).
    LengthMismatch {
        /// Which argument: `"logits"`, `"targets"`, `"weight"`, `"out"`, `"grad"`, ...
        what: &'static str,
        /// The length the layout asks for.
        expected: usize,
        /// The length that was passed.
        found: usize,
    },
    /// A class-index target that is neither `ignore_index` nor in `0..classes`.
    TargetOutOfRange {
        /// Position of the target (row-major over `(n, d1, .., dk)`).
        position: usize,
        /// The target value.
        target: i64,
        /// The number of classes `C`.
        classes: usize,
    },
    /// An input value outside its domain, such as a probability outside `[0, 1]` (or NaN)
    /// given to [`binary_cross_entropy`](crate::binary_cross_entropy).
    ValueOutOfRange {
        /// Which argument: `"input"` or `"target"`.
        what: &'static str,
        /// Index of the value in its slice.
        position: usize,
        /// The value, widened to f32.
        value: f32,
    },
    /// An option outside its domain (label smoothing outside `[0, 1]`, a soft-cap that is
    /// not finite and positive, a negative z-loss scale, a NaN gamma, ...).
    InvalidOption {
        /// The option's name, as in the options struct.
        what: &'static str,
        /// The rejected value.
        value: f32,
    },
    /// The layout's element count does not fit in `usize`.
    SizeOverflow,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::LengthMismatch { what, expected, found } => {
                write!(f, "{what} has length {found}, expected {expected}")
            }
            Error::TargetOutOfRange { position, target, classes } => {
                write!(f, "target {target} at position {position} is out of range for {classes} classes")
            }
            Error::ValueOutOfRange { what, position, value } => {
                write!(f, "{what} value {value} at position {position} is outside [0, 1]")
            }
            Error::InvalidOption { what, value } => write!(f, "invalid option {what} = {value}"),
            Error::SizeOverflow => f.write_str("layout size overflows usize"),
        }
    }
}

impl core::error::Error for Error {}

/// BCE's domain error for elements `i0 ..` given the first input (`xj`) and target (`yk`)
/// outside `[0, 1]`: the one at the lower position, the input's at equal positions.
pub(crate) fn bce_domain<T: Element>(
    x: &[T],
    y: &[T],
    i0: usize,
    xj: Option<usize>,
    yk: Option<usize>,
) -> Result<(), Error> {
    let (what, j, value) = match (xj, yk) {
        (Some(j), Some(k)) if k < j => ("target", k, y[k].to_f32()),
        (Some(j), _) => ("input", j, x[j].to_f32()),
        (None, Some(k)) => ("target", k, y[k].to_f32()),
        (None, None) => return Ok(()),
    };
    Err(Error::ValueOutOfRange { what, position: i0 + j, value })
}
