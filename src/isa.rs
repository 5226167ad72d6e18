//! The instruction-set level the SIMD kernels run at, detected at run time.
//!
//! With no flags (a default `x86_64` build) the first kernel call reads the CPU (CPUID) and
//! the register state the OS saves (XGETBV), once per process, and the kernels then run
//! the best level both support: [`Isa::Avx512`] on CPUs with AVX-512 (Zen 4, Ice Lake and
//! Sapphire Rapids servers and later), [`Isa::Avx2`] on most x86 CPUs since 2015,
//! [`Isa::Portable`] otherwise. [`isa`] tells which level runs, [`detected_isa`] what the
//! machine supports. To run a lower level, for results equal bit for bit across machines
//! or to test each level, cap it for the whole process with [`set_max_isa`] (a tool can
//! take the level as a flag: [`Isa`] parses from its [name](Isa::name)). A build with the
//! features enabled statically (`-C target-cpu=x86-64-v3` or `-v4`) runs that level and
//! no other: it detects nothing, and a cap changes nothing. Off x86_64 the level is
//! [`Isa::Portable`].

use core::fmt;
use core::str::FromStr;

/// An instruction-set level of the SIMD kernels, ordered from lowest to highest.
///
/// ```
/// use xent::Isa;
///
/// assert!(Isa::Portable < Isa::Avx2 && Isa::Avx2 < Isa::Avx512);
/// if xent::isa() >= Isa::Avx2 {
///     println!("AVX2 kernels or better");
/// }
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Isa {
    /// The `wide` backend: SSE2 on x86_64, NEON on aarch64, plain arrays elsewhere.
    ///
    /// ```
    /// assert_eq!(xent::Isa::Portable.name(), "portable");
    /// ```
    Portable,
    /// AVX2, FMA and F16C (the x86-64-v3 set), with the OS saving the YMM registers' state.
    ///
    /// ```
    /// assert_eq!(xent::Isa::Avx2.name(), "avx2");
    /// ```
    Avx2,
    /// The [`Avx2`](Isa::Avx2) set plus AVX-512 F, DQ, BW and VL (the x86-64-v4 set), with
    /// the OS saving the ZMM and opmask registers' state.
    ///
    /// ```
    /// assert_eq!(xent::Isa::Avx512.name(), "avx512");
    /// ```
    Avx512,
}

impl Isa {
    /// Every level, lowest first.
    ///
    /// ```
    /// use xent::Isa;
    ///
    /// assert!(Isa::ALL.is_sorted());
    /// assert!(Isa::ALL.contains(&xent::detected_isa()));
    /// ```
    pub const ALL: [Isa; 3] = [Isa::Portable, Isa::Avx2, Isa::Avx512];

    /// The level's name, as [`Display`](fmt::Display) writes it and [`FromStr`] reads
    /// it: `"portable"`, `"avx2"` or `"avx512"`.
    ///
    /// ```
    /// use xent::Isa;
    ///
    /// for level in Isa::ALL {
    ///     assert_eq!(level.name().parse::<Isa>(), Ok(level));
    /// }
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            Isa::Portable => "portable",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
        }
    }
}

/// Writes the level's [name](Isa::name), padded to the formatter's width.
///
/// ```
/// assert_eq!(format!("{:>8}|", xent::Isa::Avx2), "    avx2|");
/// ```
impl fmt::Display for Isa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// Reads a level from its [name](Isa::name), exactly (lowercase, no spaces).
///
/// ```
/// use xent::Isa;
///
/// assert_eq!("avx2".parse::<Isa>(), Ok(Isa::Avx2));
/// assert!("AVX2".parse::<Isa>().is_err());
/// ```
impl FromStr for Isa {
    type Err = ParseIsaError;

    fn from_str(s: &str) -> Result<Isa, ParseIsaError> {
        Isa::ALL.into_iter().find(|level| level.name() == s).ok_or(ParseIsaError(()))
    }
}

/// The error of parsing an [`Isa`] from a string that is none of its names.
///
/// ```
/// let e = "sse2".parse::<xent::Isa>().unwrap_err();
/// assert_eq!(e.to_string(), "unknown instruction set: expected portable, avx2 or avx512");
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ParseIsaError(());

impl fmt::Display for ParseIsaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unknown instruction set: expected portable, avx2 or avx512")
    }
}

impl core::error::Error for ParseIsaError {}

/// The level the kernels use now: the best level the CPU and OS support
/// ([`detected_isa`]) under the cap of [`set_max_isa`]. With no flags, an `x86_64` build
/// detects the level on its first kernel call; a build with the x86-64-v3 or v4 set
/// enabled statically (`-C target-cpu=x86-64-v3`) runs that level only; off x86_64 the
/// level is [`Isa::Portable`].
///
/// ```
/// let now = xent::isa();
/// assert!(now <= xent::detected_isa());
/// println!("xent runs {now}");
/// ```
#[inline]
pub fn isa() -> Isa {
    active()
}

/// The best level the CPU and OS support, whatever the cap of [`set_max_isa`]. Off x86_64
/// (and under Miri) it is [`Isa::Portable`]; in a build with the x86-64-v3 or v4 set
/// enabled statically it is at least that level. Reads the CPU on each call.
///
/// ```
/// let best = xent::detected_isa();
/// assert_eq!(xent::set_max_isa(best), xent::isa());
/// ```
pub fn detected_isa() -> Isa {
    FLOOR.max(crate::simd::detect::detect())
}

/// Caps the level of the kernels for the whole process and returns the level now
/// active: the static floor raised to `min(detected_isa(), max)`. `Isa::Avx512` lifts the
/// cap.
///
/// Use it to reproduce results bit for bit across machines or to test each level. Levels
/// may differ in the last bits of their results (a fused multiply-add against a separate
/// multiply and add, the exp's table against its polynomial), each within the bounds the
/// crate states. The cap is process-wide: it applies to calls on all threads from then
/// on, and a call in flight finishes on the level it started with. A build with the
/// features enabled statically (`-C target-cpu=x86-64-v3` or `-v4`) cannot go below
/// that level (its floor), nor above it: it does no run-time detection, and its static
/// level is the level whatever the cap. Concurrent calls with different caps leave one
/// of their levels.
///
/// ```
/// use xent::Isa;
///
/// let portable = xent::set_max_isa(Isa::Portable);
/// assert_eq!(portable, xent::isa());
/// // Portable unless the build fixes a higher level (x86-64-v3 or v4).
/// assert!(portable <= xent::detected_isa());
/// // Lift the cap: the best detected level again.
/// assert_eq!(xent::set_max_isa(Isa::Avx512), xent::isa());
/// ```
pub fn set_max_isa(max: Isa) -> Isa {
    #[cfg(all(target_arch = "x86_64", not(xent_v3)))]
    {
        dynamic::set_max(max)
    }
    #[cfg(not(all(target_arch = "x86_64", not(xent_v3))))]
    {
        let _ = max;
        FLOOR
    }
}

/// The level the kernels run now, read once per kernel call by the dispatcher. A constant
/// in builds whose level is fixed (x86-64-v4, x86-64-v3, off x86_64); one relaxed atomic
/// load otherwise, detecting on the first call.
#[inline(always)]
pub(crate) fn active() -> Isa {
    #[cfg(all(target_arch = "x86_64", not(xent_v3)))]
    {
        dynamic::active()
    }
    #[cfg(not(all(target_arch = "x86_64", not(xent_v3))))]
    {
        FLOOR
    }
}

/// The level the build's target features guarantee: the lowest level it can run, and in a
/// build that enables the x86-64-v3 or v4 set the only one.
const FLOOR: Isa = if cfg!(xent_v4) {
    Isa::Avx512
} else if cfg!(xent_v3) {
    Isa::Avx2
} else {
    Isa::Portable
};

/// Run-time detection, cached, under a cap: x86_64 builds without the v3 set.
#[cfg(all(target_arch = "x86_64", not(xent_v3)))]
mod dynamic {
    use super::Isa;
    use core::sync::atomic::{AtomicU8, Ordering::Relaxed};

    /// `LEVEL`'s value before the first detection.
    const UNKNOWN: u8 = 0;

    /// The active level, [`encode`]d, or [`UNKNOWN`].
    static LEVEL: AtomicU8 = AtomicU8::new(UNKNOWN);
    /// The cap of `set_max_isa`, [`encode`]d; none at first.
    static CAP: AtomicU8 = AtomicU8::new(encode(Isa::Avx512));

    // The race: `set_max` stores the cap, then the level; the first detection reads the
    // cap, then stores its level only over UNKNOWN (compare_exchange). If a `set_max`
    // overlaps it, either its store lands after the exchange and overwrites it, or before
    // and the exchange fails: the setter's level stands either way.

    pub(super) const fn encode(level: Isa) -> u8 {
        level as u8 + 1
    }

    #[inline(always)]
    fn decode(code: u8) -> Option<Isa> {
        match code {
            1 => Some(Isa::Portable),
            2 => Some(Isa::Avx2),
            3 => Some(Isa::Avx512),
            _ => None,
        }
    }

    /// The best detected level under `cap`.
    fn resolve(cap: Isa) -> Isa {
        crate::simd::detect::detect().min(cap)
    }

    #[inline(always)]
    pub(super) fn active() -> Isa {
        active_in(&LEVEL, &CAP)
    }

    pub(super) fn set_max(max: Isa) -> Isa {
        set_max_in(&LEVEL, &CAP, max)
    }

    /// [`active`] on the given cells (tests pass their own).
    #[inline(always)]
    pub(super) fn active_in(level: &AtomicU8, cap: &AtomicU8) -> Isa {
        match decode(level.load(Relaxed)) {
            Some(known) => known,
            None => first(level, cap),
        }
    }

    /// The first call: detects, applies the cap, and keeps the level a concurrent
    /// `set_max` stored, if any.
    #[cold]
    #[inline(never)]
    pub(super) fn first(level: &AtomicU8, cap: &AtomicU8) -> Isa {
        let mine = resolve(decode(cap.load(Relaxed)).unwrap_or(Isa::Avx512));
        match level.compare_exchange(UNKNOWN, encode(mine), Relaxed, Relaxed) {
            Ok(_) => mine,
            Err(theirs) => decode(theirs).unwrap_or(mine),
        }
    }

    /// [`set_max`] on the given cells (tests pass their own).
    pub(super) fn set_max_in(level: &AtomicU8, cap: &AtomicU8, max: Isa) -> Isa {
        cap.store(encode(max), Relaxed);
        let now = resolve(max);
        level.store(encode(now), Relaxed);
        now
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use std::string::ToString;
    use std::sync::Mutex;

    /// Held by every test that changes the process-wide cap.
    static CAP_LOCK: Mutex<()> = Mutex::new(());

    /// The level `set_max_isa(cap)` must give, from its documentation.
    fn expected(cap: Isa, detected: Isa) -> Isa {
        if cfg!(any(xent_v3, not(target_arch = "x86_64"))) {
            FLOOR
        } else if cap <= detected {
            cap
        } else {
            detected
        }
    }

    #[test]
    fn ordering_lowest_first() {
        assert!(Isa::Portable < Isa::Avx2);
        assert!(Isa::Avx2 < Isa::Avx512);
        assert_eq!(Isa::ALL, [Isa::Portable, Isa::Avx2, Isa::Avx512]);
        assert_eq!(Isa::ALL.iter().max(), Some(&Isa::Avx512));
    }

    #[test]
    fn names_round_trip() {
        for (level, name) in Isa::ALL.into_iter().zip(["portable", "avx2", "avx512"]) {
            assert_eq!(level.name(), name);
            assert_eq!(level.to_string(), name);
            assert_eq!(name.parse::<Isa>(), Ok(level));
        }
        for bad in ["", "AVX2", "avx2 ", "sse2", "avx-512", "avx512f", "neon"] {
            assert_eq!(bad.parse::<Isa>(), Err(ParseIsaError(())), "{bad:?}");
        }
        let e: &dyn core::error::Error = &ParseIsaError(());
        assert!(e.to_string().contains("avx512"));
    }

    #[test]
    fn detected_is_floor_or_cpu() {
        let d = detected_isa();
        assert!(d >= FLOOR);
        assert_eq!(d, FLOOR.max(crate::simd::detect::detect()));
        #[cfg(any(miri, not(target_arch = "x86_64")))]
        assert_eq!(d, FLOOR);
    }

    #[test]
    fn cap_caps_and_restores() {
        let _guard = CAP_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let detected = detected_isa();
        // Down from the top, then up from the bottom: every change of level both ways.
        for cap in Isa::ALL.into_iter().rev().chain(Isa::ALL) {
            let want = expected(cap, detected);
            assert_eq!(set_max_isa(cap), want, "cap {cap}");
            assert_eq!(isa(), want, "cap {cap}");
            assert_eq!(active(), want, "cap {cap}");
            assert_eq!(detected_isa(), detected, "the cap changed detected_isa");
        }
        assert_eq!(set_max_isa(Isa::Avx512), expected(Isa::Avx512, detected));
        assert_eq!(isa(), if cfg!(xent_v3) { FLOOR } else { detected });
    }

    #[cfg(all(target_arch = "x86_64", not(xent_v3)))]
    mod first_detection {
        use super::super::dynamic::{active_in, encode, first, set_max_in};
        use super::super::*;
        use core::sync::atomic::AtomicU8;

        #[test]
        fn detects_once_under_the_cap() {
            let detected = detected_isa();
            for cap in Isa::ALL {
                let (level, cell) = (AtomicU8::new(0), AtomicU8::new(encode(cap)));
                assert_eq!(active_in(&level, &cell), detected.min(cap));
                assert_eq!(level.into_inner(), encode(detected.min(cap)));
            }
        }

        #[test]
        fn a_stored_level_is_kept() {
            // A level already there (a `set_max` that came first) is read, not replaced,
            // whatever the cap cell says.
            for stored in Isa::ALL {
                let (level, cap) = (AtomicU8::new(encode(stored)), AtomicU8::new(encode(Isa::Portable)));
                assert_eq!(active_in(&level, &cap), stored);
                assert_eq!(level.into_inner(), encode(stored));
            }
        }

        #[test]
        fn a_detection_that_loses_the_race_keeps_the_setters_level() {
            // `first` as if a `set_max` had stored its level after this call saw UNKNOWN:
            // the exchange fails and the setter's level is returned and kept.
            for stored in Isa::ALL {
                let (level, cap) = (AtomicU8::new(encode(stored)), AtomicU8::new(encode(Isa::Avx512)));
                assert_eq!(first(&level, &cap), stored);
                assert_eq!(level.into_inner(), encode(stored));
            }
        }

        #[test]
        fn set_max_stores_cap_and_level() {
            let detected = detected_isa();
            let (level, cap) = (AtomicU8::new(0), AtomicU8::new(encode(Isa::Avx512)));
            assert_eq!(set_max_in(&level, &cap, Isa::Portable), Isa::Portable);
            assert_eq!(active_in(&level, &cap), Isa::Portable);
            assert_eq!(set_max_in(&level, &cap, Isa::Avx512), detected);
            assert_eq!(active_in(&level, &cap), detected);
            assert_eq!(cap.into_inner(), encode(Isa::Avx512));
        }
    }
}
