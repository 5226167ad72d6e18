//! The element types xent reads (f32, f16, bf16), the class-index types it accepts, and the
//! real types the scalar reference path computes in (f32, f64).

use core::fmt::Debug;
use half::slice::HalfFloatSliceExt;
use half::{bf16, f16};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
    impl Sealed for half::f16 {}
    impl Sealed for half::bf16 {}
    impl Sealed for i64 {}
    impl Sealed for i32 {}
    impl Sealed for u32 {}
    impl Sealed for u8 {}
}

/// A storage type for logits, probabilities and soft targets: `f32`, [`half::f16`] or
/// [`half::bf16`]. Sealed: xent computes and accumulates every type in f32.
///
/// Every value of every element type is exactly representable in f32, so loading is exact;
/// storing (a gradient written in place over f16 logits) rounds once to nearest-even.
///
/// # Examples
///
/// ```
/// use xent::Element;
/// use half::f16;
///
/// assert_eq!(f16::from_f32(0.9).to_f32(), 0.89990234375);
/// let mut out = [0.0_f32; 2];
/// f16::load_block(&[f16::ONE, f16::NEG_ONE], &mut out);
/// assert_eq!(out, [1.0, -1.0]);
/// ```
pub trait Element: Copy + Default + PartialEq + Debug + Send + Sync + 'static + sealed::Sealed {
    /// PyTorch-style dtype name: `"f32"`, `"f16"` or `"bf16"`.
    const DTYPE: &'static str;
    /// Widens to f32 (exact).
    fn to_f32(self) -> f32;
    /// Rounds an f32 to this type (nearest-even; exact for f32).
    fn from_f32(v: f32) -> Self;
    /// Widens `src` into `dst`, `min(src.len(), dst.len())` elements (F16C/NEON where the
    /// build enables them, through `half`'s slice conversions; the SIMD kernels widen f16
    /// with the F16C the CPU has, whatever the build enables).
    fn load_block(src: &[Self], dst: &mut [f32]);
    /// Rounds `src` into `dst`, `min(src.len(), dst.len())` elements.
    fn store_block(src: &[f32], dst: &mut [Self]);
    /// The slice itself when `Self` is f32 (kernels then read it without a copy).
    fn as_f32(s: &[Self]) -> Option<&[f32]>;
    /// The slice itself when `Self` is f32.
    fn as_f32_mut(s: &mut [Self]) -> Option<&mut [f32]>;
    /// The slice itself when `Self` is f16 (the SIMD kernels then widen it in registers,
    /// with F16C where the build has it, rather than through a stack buffer).
    ///
    /// ```
    /// use xent::Element;
    /// use half::f16;
    ///
    /// assert!(f16::as_f16(&[f16::ONE]).is_some());
    /// assert!(f32::as_f16(&[1.0]).is_none());
    /// ```
    fn as_f16(s: &[Self]) -> Option<&[half::f16]> {
        let _ = s;
        None
    }
    /// The slice itself when `Self` is f16, mutably (the SIMD kernels then round a
    /// gradient written over f16 logits in registers, with F16C where the CPU has it).
    ///
    /// ```
    /// use xent::Element;
    /// use half::f16;
    ///
    /// assert!(f16::as_f16_mut(&mut [f16::ONE]).is_some());
    /// assert!(f32::as_f16_mut(&mut [1.0]).is_none());
    /// ```
    fn as_f16_mut(s: &mut [Self]) -> Option<&mut [half::f16]> {
        let _ = s;
        None
    }
}

impl Element for f32 {
    const DTYPE: &'static str = "f32";
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn to_f32(self) -> f32 {
        self
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn from_f32(v: f32) -> Self {
        v
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn load_block(src: &[Self], dst: &mut [f32]) {
        let n = src.len().min(dst.len());
        dst[..n].copy_from_slice(&src[..n]);
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn store_block(src: &[f32], dst: &mut [Self]) {
        let n = src.len().min(dst.len());
        dst[..n].copy_from_slice(&src[..n]);
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn as_f32(s: &[Self]) -> Option<&[f32]> {
        Some(s)
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn as_f32_mut(s: &mut [Self]) -> Option<&mut [f32]> {
        Some(s)
    }
}

macro_rules! half_element {
    ($t:ty, $name:literal, $as_f16:expr, $as_f16_mut:expr) => {
        impl Element for $t {
            const DTYPE: &'static str = $name;
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn to_f32(self) -> f32 {
                <$t>::to_f32(self)
            }
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn from_f32(v: f32) -> Self {
                <$t>::from_f32(v)
            }
            #[inline]
            fn load_block(src: &[Self], dst: &mut [f32]) {
                let n = src.len().min(dst.len());
                src[..n].convert_to_f32_slice(&mut dst[..n]);
            }
            #[inline]
            fn store_block(src: &[f32], dst: &mut [Self]) {
                let n = src.len().min(dst.len());
                dst[..n].convert_from_f32_slice(&src[..n]);
            }
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn as_f32(_: &[Self]) -> Option<&[f32]> {
                None
            }
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn as_f32_mut(_: &mut [Self]) -> Option<&mut [f32]> {
                None
            }
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn as_f16(s: &[Self]) -> Option<&[f16]> {
                $as_f16(s)
            }
            #[cfg_attr(not(xent_opt0), inline(always))]
            fn as_f16_mut(s: &mut [Self]) -> Option<&mut [f16]> {
                $as_f16_mut(s)
            }
        }
    };
}
half_element!(f16, "f16", Some, Some);
half_element!(bf16, "bf16", |_| None, |_| None);

/// A class-index target type: `i64` (PyTorch's `Long`), `i32`, `u32` or `u8`.
///
/// Targets are compared with `ignore_index` and range-checked as `i64`, so a `u8` target of
/// 255 matches `ignore_index = 255`, as in PyTorch.
///
/// ```
/// use xent::ClassIndex;
/// assert_eq!(255_u8.to_i64(), 255);
/// assert_eq!((-100_i32).to_i64(), -100);
/// ```
pub trait ClassIndex: Copy + Debug + Send + Sync + 'static + sealed::Sealed {
    /// Widens to i64 (exact).
    fn to_i64(self) -> i64;
}
impl ClassIndex for i64 {
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn to_i64(self) -> i64 {
        self
    }
}
impl ClassIndex for i32 {
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn to_i64(self) -> i64 {
        i64::from(self)
    }
}
impl ClassIndex for u32 {
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn to_i64(self) -> i64 {
        i64::from(self)
    }
}
impl ClassIndex for u8 {
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn to_i64(self) -> i64 {
        i64::from(self)
    }
}

/// A real type the scalar reference path computes in: `f32` (the public path's precision)
/// or `f64` (the oracle tests hold both paths to). Sealed; a [`num_traits::Float`].
///
/// ```
/// use xent::Real;
/// assert_eq!(<f64 as Real>::from_f32(0.5), 0.5);
/// assert_eq!(<f32 as Real>::from_usize(3), 3.0);
/// assert_eq!(<f32 as Real>::from_f64(0.1), 0.1f32);
/// ```
pub trait Real: num_traits::Float + Default + Debug + Send + Sync + 'static + sealed::Sealed {
    /// Converts an f32 (exact for both types).
    fn from_f32(v: f32) -> Self;
    /// Converts a count, rounding like an `as` cast.
    fn from_usize(n: usize) -> Self;
    /// Converts an f64 (rounds to nearest for f32).
    fn from_f64(v: f64) -> Self;
    /// Converts to f32 (rounds for f64).
    fn to_f32(self) -> f32;
    /// Converts to f64 (exact).
    fn to_f64(self) -> f64;
    /// `exp(x) - 1`, accurate near 0.
    fn expm1(self) -> Self;
    /// `ln(1 + x)`, accurate near 0.
    fn ln1p(self) -> Self;
}

impl Real for f32 {
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn from_f32(v: f32) -> Self {
        v
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn from_usize(n: usize) -> Self {
        n as f32
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn to_f32(self) -> f32 {
        self
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn expm1(self) -> Self {
        libm::expm1f(self)
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn ln1p(self) -> Self {
        libm::log1pf(self)
    }
}

impl Real for f64 {
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn from_f32(v: f32) -> Self {
        f64::from(v)
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn from_usize(n: usize) -> Self {
        n as f64
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn from_f64(v: f64) -> Self {
        v
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn to_f32(self) -> f32 {
        self as f32
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn to_f64(self) -> f64 {
        self
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn expm1(self) -> Self {
        libm::expm1(self)
    }
    #[cfg_attr(not(xent_opt0), inline(always))]
    fn ln1p(self) -> Self {
        libm::log1p(self)
    }
}

/// Widens any element to a real type (exact).
#[cfg_attr(not(xent_opt0), inline(always))]
pub(crate) fn real<R: Real, T: Element>(x: T) -> R {
    R::from_f32(x.to_f32())
}
