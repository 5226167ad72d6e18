//! Run-time detection of the instruction-set level, without `std`: CPUID for what the CPU
//! has, XGETBV for the register state the OS saves across context switches (as the
//! `cpufeatures` crate does). `crate::isa` caches the answer; this module only reads the
//! machine. Under Miri (which cannot run CPUID) and off x86_64 the answer is
//! [`Isa::Portable`].
#![allow(unsafe_code)]
// Under Miri and off x86_64 only the tests decode CPUID bits.
#![cfg_attr(not(all(target_arch = "x86_64", not(miri))), allow(dead_code))]

use crate::isa::Isa;

/// The best level this CPU and OS support, read afresh (CPUID costs up to a few
/// microseconds under a hypervisor: callers cache it).
pub(crate) fn detect() -> Isa {
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    {
        level(read(cpuid, xcr0))
    }
    #[cfg(not(all(target_arch = "x86_64", not(miri))))]
    {
        Isa::Portable
    }
}

/// CPUID.1:ECX bits.
const FMA: u32 = 1 << 12;
const XSAVE: u32 = 1 << 26;
const OSXSAVE: u32 = 1 << 27;
const AVX: u32 = 1 << 28;
const F16C: u32 = 1 << 29;
/// CPUID.(7,0):EBX bits.
const AVX2: u32 = 1 << 5;
const AVX512F: u32 = 1 << 16;
const AVX512DQ: u32 = 1 << 17;
const AVX512BW: u32 = 1 << 30;
const AVX512VL: u32 = 1 << 31;
/// XCR0 bits: SSE (1) and AVX (2) state for YMM registers; opmask (5), ZMM0-15 upper
/// halves (6) and ZMM16-31 (7) for AVX-512.
const YMM_STATE: u64 = 0b110;
const ZMM_STATE: u64 = 0b1110_0000;

/// The bits the levels are decided on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Bits {
    leaf1_ecx: u32,
    leaf7_ebx: u32,
    xcr0: u64,
}

/// Reads [`Bits`] through `cpuid(leaf, subleaf) -> [eax, ebx, ecx, edx]` and `xcr0()`
/// (XGETBV 0), each passed in so that tests can feed synthetic machines. A leaf above the
/// maximum (leaf 0's EAX) is not read: the CPU would answer with its highest leaf's data,
/// not zeros. `xcr0` is called only when the CPU has XSAVE and the OS has enabled it
/// (OSXSAVE): XGETBV faults otherwise.
fn read(mut cpuid: impl FnMut(u32, u32) -> [u32; 4], xcr0: impl FnOnce() -> u64) -> Bits {
    let max_leaf = cpuid(0, 0)[0];
    let mut bits = Bits::default();
    if max_leaf >= 1 {
        bits.leaf1_ecx = cpuid(1, 0)[2];
    }
    if max_leaf >= 7 {
        bits.leaf7_ebx = cpuid(7, 0)[1];
    }
    if bits.leaf1_ecx & (XSAVE | OSXSAVE) == XSAVE | OSXSAVE {
        bits.xcr0 = xcr0();
    }
    bits
}

/// The level [`Bits`] allow: each needs all its CPUID bits and the OS's saving of its
/// registers' state.
fn level(b: Bits) -> Isa {
    let all = |have: u32, need: u32| have & need == need;
    let ymm = all(b.leaf1_ecx, OSXSAVE) && b.xcr0 & YMM_STATE == YMM_STATE;
    let v3 = ymm && all(b.leaf1_ecx, FMA | AVX | F16C) && all(b.leaf7_ebx, AVX2);
    let zmm = b.xcr0 & ZMM_STATE == ZMM_STATE;
    let v4 = v3 && zmm && all(b.leaf7_ebx, AVX512F | AVX512DQ | AVX512BW | AVX512VL);
    if v4 {
        Isa::Avx512
    } else if v3 {
        Isa::Avx2
    } else {
        Isa::Portable
    }
}

/// CPUID with a subleaf, as `[eax, ebx, ecx, edx]`.
#[cfg(all(target_arch = "x86_64", not(miri)))]
fn cpuid(leaf: u32, subleaf: u32) -> [u32; 4] {
    // `__cpuid_count` is an `unsafe fn` on older toolchains (1.89) and a safe one on newer
    // ones; the block is needed on the first and unused on the second.
    #[allow(unused_unsafe)]
    // SAFETY: CPUID exists on every x86_64 CPU; it reads no memory, and a leaf or subleaf
    // the CPU does not know returns data rather than faulting (`read` ignores such leaves).
    let r = unsafe { core::arch::x86_64::__cpuid_count(leaf, subleaf) };
    [r.eax, r.ebx, r.ecx, r.edx]
}

/// XCR0, the register-state components the OS has enabled. Call only when CPUID.1:ECX
/// reports XSAVE and OSXSAVE (as [`read`] does).
#[cfg(all(target_arch = "x86_64", not(miri)))]
fn xcr0() -> u64 {
    // SAFETY: `read` calls this only when CPUID.1:ECX has XSAVE (the CPU has XGETBV) and
    // OSXSAVE (the OS set CR4.OSXSAVE, so XGETBV does not fault), which is the `xsave`
    // target feature `xgetbv0` is compiled with.
    unsafe { xgetbv0() }
}

/// XGETBV with ECX = 0 (XCR0), compiled with the `xsave` feature `_xgetbv` needs.
#[cfg(all(target_arch = "x86_64", not(miri)))]
#[target_feature(enable = "xsave")]
fn xgetbv0() -> u64 {
    // SAFETY: this function runs only where XSAVE is supported and enabled by the OS (its
    // `xsave` target feature, which its one caller checks by CPUID); ECX = 0 (XCR0) is
    // always a valid XCR index, and XGETBV reads no memory.
    unsafe { core::arch::x86_64::_xgetbv(0) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V3_ECX: u32 = XSAVE | OSXSAVE | FMA | AVX | F16C;
    const V4_EBX: u32 = AVX2 | AVX512F | AVX512DQ | AVX512BW | AVX512VL;
    const ALL_STATE: u64 = 0b1110_0111;

    fn bits(leaf1_ecx: u32, leaf7_ebx: u32, xcr0: u64) -> Bits {
        Bits { leaf1_ecx, leaf7_ebx, xcr0 }
    }

    #[test]
    fn levels_need_every_bit() {
        assert_eq!(level(bits(V3_ECX, V4_EBX, ALL_STATE)), Isa::Avx512);
        assert_eq!(level(bits(V3_ECX, AVX2, YMM_STATE)), Isa::Avx2);
        assert_eq!(level(Bits::default()), Isa::Portable);
        // Any one v4 bit missing, or any ZMM state bit: AVX2.
        for b in [AVX512F, AVX512DQ, AVX512BW, AVX512VL] {
            assert_eq!(level(bits(V3_ECX, V4_EBX & !b, ALL_STATE)), Isa::Avx2);
        }
        for s in [1 << 5, 1 << 6, 1 << 7] {
            assert_eq!(level(bits(V3_ECX, V4_EBX, ALL_STATE & !s)), Isa::Avx2);
        }
        // Any one v3 bit missing (OSXSAVE, the YMM state, AVX2): portable, whatever
        // AVX-512 reports.
        for e in [OSXSAVE, FMA, AVX, F16C] {
            assert_eq!(level(bits(V3_ECX & !e, V4_EBX, ALL_STATE)), Isa::Portable);
        }
        for s in [1 << 1, 1 << 2] {
            assert_eq!(level(bits(V3_ECX, V4_EBX, ALL_STATE & !s)), Isa::Portable);
        }
        assert_eq!(level(bits(V3_ECX, V4_EBX & !AVX2, ALL_STATE)), Isa::Portable);
    }

    /// A synthetic CPU: leaf 0 reports `max`, every other leaf all ones.
    fn read_with_max(max: u32, xcr0: u64) -> Bits {
        read(|leaf, _| if leaf == 0 { [max, 0, 0, 0] } else { [!0; 4] }, || xcr0)
    }

    #[test]
    fn leaves_above_the_maximum_are_not_read() {
        assert_eq!(read_with_max(0, ALL_STATE), Bits::default());
        assert_eq!(read_with_max(6, ALL_STATE), bits(!0, 0, ALL_STATE));
        assert_eq!(read_with_max(7, ALL_STATE), bits(!0, !0, ALL_STATE));
        assert_eq!(level(read_with_max(6, ALL_STATE)), Isa::Portable);
        assert_eq!(level(read_with_max(0x20, ALL_STATE)), Isa::Avx512);
    }

    #[test]
    fn xgetbv_only_with_xsave_and_osxsave() {
        for ecx in [0, XSAVE, OSXSAVE] {
            let b = read(
                |leaf, _| if leaf == 0 { [7, 0, 0, 0] } else { [!0, !0, ecx, !0] },
                || panic!("XGETBV without XSAVE and OSXSAVE"),
            );
            assert_eq!(b.xcr0, 0);
            assert_eq!(level(b), Isa::Portable);
        }
    }

    #[cfg(miri)]
    #[test]
    fn miri_detects_portable() {
        assert_eq!(detect(), Isa::Portable);
    }

    /// `detect` agrees with std's detection feature by feature: a level is detected iff
    /// all its features are.
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    #[test]
    fn detect_agrees_with_std() {
        extern crate std;
        use std::is_x86_feature_detected as has;
        let v3 = [has!("avx2"), has!("fma"), has!("f16c"), has!("avx")];
        let v4 = [has!("avx512f"), has!("avx512dq"), has!("avx512bw"), has!("avx512vl")];
        let v3 = v3.iter().all(|&f| f);
        let v4 = v3 && v4.iter().all(|&f| f);
        let want = if v4 {
            Isa::Avx512
        } else if v3 {
            Isa::Avx2
        } else {
            Isa::Portable
        };
        assert_eq!(detect(), want);
    }
}
