//! Every instruction set this CPU supports, in one `cargo test`. A test binary runs its
//! tests on the best level; its `every_isa_level` test runs the binary again, as a child
//! process, for each lower level (`XENT_TEST_ISA=<level>`), and fails if a child fails.
//! Each test calls [`init`] first, which applies `XENT_TEST_ISA` (so
//! `XENT_TEST_ISA=portable cargo test` also runs one level by hand). A process-wide cap,
//! not a lock: the tests of one process keep running in parallel.

#![allow(dead_code)]

use std::process::Command;
use std::sync::Once;
use xent::Isa;

/// The variable a child process reads its level from.
pub const VAR: &str = "XENT_TEST_ISA";

/// Applies `$XENT_TEST_ISA`, once per process; panics if this CPU or build cannot run it.
pub fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if let Ok(name) = std::env::var(VAR) {
            let want: Isa = name.parse().expect("XENT_TEST_ISA is portable, avx2 or avx512");
            let got = xent::set_max_isa(want);
            assert_eq!(got, want, "{VAR}={name}: this CPU and build run {got}");
        }
    });
}

/// The level a build enables statically (the test crate sees the library's target
/// features): the lowest it can run.
fn floor() -> Isa {
    let v3 = cfg!(all(
        target_arch = "x86_64",
        target_feature = "avx2",
        target_feature = "fma",
        target_feature = "f16c"
    ));
    let v4 = v3
        && cfg!(all(
            target_feature = "avx512f",
            target_feature = "avx512dq",
            target_feature = "avx512bw",
            target_feature = "avx512vl"
        ));
    if v4 {
        Isa::Avx512
    } else if v3 {
        Isa::Avx2
    } else {
        Isa::Portable
    }
}

/// The levels this CPU and build can run, lowest first: a static build runs its own level
/// only (no detection, whatever the CPU has above it).
pub fn levels() -> Vec<Isa> {
    let lo = floor();
    if lo != Isa::Portable {
        return vec![lo];
    }
    let hi = xent::detected_isa();
    Isa::ALL.into_iter().filter(|&l| l <= hi).collect()
}

/// The body of a binary's `every_isa_level` test: this binary again, minus that test, on
/// each level but the one this process runs (`skip` is the test's name). Nothing under
/// Miri (no processes) or in a child.
pub fn run_other_levels(skip: &str) {
    init();
    if cfg!(miri) || std::env::var_os(VAR).is_some() {
        return;
    }
    let here = xent::isa();
    let exe = std::env::current_exe().expect("the test binary's path");
    let name = exe.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    for level in levels().into_iter().filter(|&l| l != here) {
        eprintln!("{name}: every test again on {level} ({VAR}={level})");
        let status = Command::new(&exe)
            .env(VAR, level.name())
            .args(["--skip", skip, "-q"])
            .status()
            .expect("the test binary runs");
        assert!(status.success(), "{name}: the tests failed on {level}");
    }
    eprintln!("{name}: ran on {here} (this process) and {:?}", levels());
}
