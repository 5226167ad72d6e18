//! Regression tests from fuzzing (`fuzz/`): inputs the fuzz targets found, minimised by
//! hand into literal [`Case`]s run through the shared differential check
//! (`tests/check/mod.rs`), and a deterministic sweep of decoded random inputs through every
//! fuzz target's decoder.
//!
//! The tests named `fixed_*` are bugs in `src/` the fuzzers found (at commits
//! 89d0abf..0a1e49b), each comment saying what was wrong and what fixed it; the others are
//! inputs where the check itself was wrong (a bound or an allowance it lacked).
//!
//! Literal inputs are bit patterns (f32, or f16/bf16 in the low 16 bits); `Debug` of a
//! [`Case`] prints them decoded, one per line. To turn a fuzz artifact into a literal: `XENT_CASE=fuzz/artifacts/<target>/crash-...
//! XENT_TARGET=<target> cargo test --test regressions -- --ignored --nocapture reproduce`.

#[path = "../check/mod.rs"]
mod check;
#[path = "../support/isa.rs"]
mod isa;

/// Every test of this binary again on each lower instruction set this CPU supports.
#[test]
fn every_isa_level() {
    isa::run_other_levels("every_isa_level");
}
mod check_bounds;
mod fixed;
mod precision;
#[rustfmt::skip]
mod precision_cases;

use check::{Case, TARGETS};

/// splitmix64, for the deterministic sweep.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Random byte strings through every target's decoder and the check: a few hundred cases
/// per target (a handful under Miri), sizes from empty to a few KiB.
#[test]
fn sweep_decoded_random_inputs() {
    crate::isa::init();
    let per_target = if cfg!(miri) { 3 } else { 200 };
    for (name, target) in TARGETS {
        let mut s = 0x5EED ^ name.len() as u64;
        for k in 0..per_target {
            let len = match k % 4 {
                0 => 16,
                1 => 64,
                2 => 300,
                _ => {
                    if cfg!(miri) {
                        400
                    } else {
                        3000
                    }
                }
            };
            let data: Vec<u8> = (0..len).map(|_| splitmix(&mut s) as u8).collect();
            let case = Case::decode(target, &data);
            check::run(&case);
        }
    }
}

/// Decodes the file named by `XENT_CASE` for the target named by `XENT_TARGET`, prints the
/// reproducer, and runs the check.
#[test]
#[ignore = "a tool: set XENT_CASE and XENT_TARGET"]
fn reproduce() {
    crate::isa::init();
    let path = std::env::var("XENT_CASE").expect("XENT_CASE=<fuzz artifact>");
    let name = std::env::var("XENT_TARGET").expect("XENT_TARGET=<fuzz target name>");
    let target = TARGETS.iter().find(|(n, _)| *n == name).map(|&(_, t)| t).expect("unknown target");
    let data = std::fs::read(path).unwrap();
    let case = Case::decode(target, &data);
    println!("{case:?}");
    check::run(&case);
}

/// A survey (a tool, not a test): runs `XENT_SURVEY` random cases per target, catching
/// failures, and prints one line per distinct failure kind with its count.
#[test]
#[ignore = "a tool: set XENT_SURVEY=<cases per target>"]
fn survey() {
    crate::isa::init();
    let n: usize = std::env::var("XENT_SURVEY").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let only: Option<(String, usize)> = std::env::var("XENT_SURVEY_ONLY").ok().map(|v| {
        let (a, b) = v.split_once(':').unwrap();
        (a.to_string(), b.parse().unwrap())
    });
    std::panic::set_hook(Box::new(|_| {}));
    check::QUIET.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut kinds: std::collections::BTreeMap<String, (usize, String)> = Default::default();
    for (name, target) in TARGETS {
        let t0 = std::time::Instant::now();
        let mut s = 0xABCD ^ name.len() as u64 ^ (name.as_bytes()[0] as u64) << 8;
        for k in 0..n {
            let len = [16, 64, 300, 3000][k % 4];
            let data: Vec<u8> = (0..len).map(|_| splitmix(&mut s) as u8).collect();
            let case = Case::decode(target, &data);
            if let Some((on, ok)) = &only {
                if on != name || *ok != k {
                    continue;
                }
                println!("{case:?}");
            }
            if std::env::var("XENT_SURVEY_SLOW").is_ok() {
                eprintln!("start {name} {k}");
            }
            if let Err(e) = std::panic::catch_unwind(|| check::run(&case)) {
                let msg = e.downcast_ref::<String>().cloned().unwrap_or_default();
                let first = msg.lines().next().unwrap_or("").to_string();
                let key: String = format!("{name}: {}", first.split(['[', ':']).next().unwrap_or(""));
                let e = kinds.entry(key).or_insert((0, format!("[{name}:{k}] {first}")));
                e.0 += 1;
            }
        }
        eprintln!("{name}: {n} cases in {:?}", t0.elapsed());
    }
    let _ = std::panic::take_hook();
    for (k, (c, first)) in &kinds {
        println!("{c:6} {k}\n        e.g. {first}");
    }
}
