//! The kernels' compute with their inputs in L2: small shapes called many times, so the
//! times do not depend on the memory system. The "in L2" figures of `docs/PERF_NOTES.md`.
//!
//! ```text
//! cargo bench --bench in_cache [-- --quick] [-- FILTER]
//! RUSTFLAGS="-C target-cpu=x86-64-v3" taskset -c 1 cargo bench --bench in_cache
//! ```
//!
//! Prints `case<TAB>xent<TAB>ns_per_element` lines, the format of `benches/bench_report.rs`:
//! each case is the best of 7 timings (3 with `--quick`) of 300 calls, over inputs of 64 to
//! 512 KiB built once. To A/B a change, build the two commits into their own target
//! directories and run them in alternation. `FILTER` keeps the cases whose name contains
//! it; other `--` arguments are ignored (`cargo bench` passes `--bench`).

use std::hint::black_box;
use xent::{BceOptions, BceWithLogitsOptions, CrossEntropyOptions, Layout, f16};

#[path = "../tests/support/rng.rs"]
mod rng;
use rng::Rng;

#[path = "../tests/support/timing.rs"]
#[allow(dead_code)]
mod timing;
use timing::best;

/// Calls per timing.
const CALLS: usize = 300;

struct Case {
    name: &'static str,
    elems: usize,
    run: Box<dyn FnMut()>,
}

fn case(name: &'static str, elems: usize, run: impl FnMut() + 'static) -> Case {
    Case { name, elems, run: Box::new(run) }
}

/// `n` rows of `c` normal logits (standard deviation 3) and their class targets.
fn rows(n: usize, c: usize, seed: u64) -> (Vec<f32>, Vec<i64>) {
    let mut rng = Rng(seed);
    let x = (0..n * c).map(|_| rng.normal() * 3.0).collect();
    let t = (0..n).map(|_| (rng.next() % c as u64) as i64).collect();
    (x, t)
}

fn cases() -> Vec<Case> {
    let mut v = Vec::new();
    let (x, t) = rows(4, 32000, 1);
    let lay = Layout::rows(4, 32000);
    for (name, ls) in [("ce_fwd_f32_n4_c32000", 0.0), ("ce_fwd_f32_ls0.1_n4_c32000", 0.1)] {
        let (x, t) = (x.clone(), t.clone());
        let o = CrossEntropyOptions::new().with_label_smoothing(ls);
        v.push(case(name, x.len(), move || {
            black_box(xent::cross_entropy(black_box(&x), lay, &t, &o).unwrap());
        }));
    }
    let w: Vec<f32> = (0..32000).map(|j| 0.5 + (j % 7) as f32 * 0.25).collect();
    let (xw, tw) = (x.clone(), t.clone());
    v.push(case("ce_fwd_f32_ls0.1_weighted_n4_c32000", x.len(), move || {
        let o = CrossEntropyOptions::new().with_label_smoothing(0.1).with_weight(Some(&w));
        black_box(xent::cross_entropy(black_box(&xw), lay, &tw, &o).unwrap());
    }));
    let xh: Vec<f16> = x.iter().map(|&v| f16::from_f32(v)).collect();
    let th = t.clone();
    v.push(case("ce_fwd_f16_n4_c32000", xh.len(), move || {
        let o = CrossEntropyOptions::new();
        black_box(xent::cross_entropy(black_box(&xh), lay, &th, &o).unwrap());
    }));
    let mut g = vec![0.0f32; x.len()];
    v.push(case("ce_fwdbwd_f32_n4_c32000", x.len(), move || {
        let o = CrossEntropyOptions::new();
        black_box(xent::cross_entropy_with_grad(black_box(&x), lay, &t, &o, &mut g).unwrap());
    }));

    let (x, t) = rows(64, 1000, 2);
    let lay = Layout::rows(64, 1000);
    v.push(case("ce_fwd_f32_n64_c1000", x.len(), move || {
        let o = CrossEntropyOptions::new();
        black_box(xent::cross_entropy(black_box(&x), lay, &t, &o).unwrap());
    }));

    let (x, t) = rows(4096, 10, 3);
    let lay = Layout::rows(4096, 10);
    v.push(case("ce_fwd_f32_n4096_c10", x.len(), move || {
        let o = CrossEntropyOptions::new();
        black_box(xent::cross_entropy(black_box(&x), lay, &t, &o).unwrap());
    }));

    // Channel-first: (1, 4, 16384) positions, logits uniform in [0, 1).
    let mut rng = Rng(4);
    let d = 16384;
    let x: Vec<f32> = (0..4 * d).map(|_| rng.unit()).collect();
    let t: Vec<i64> = (0..d).map(|_| (rng.next() % 4) as i64).collect();
    let lay = Layout::channel_first(1, 4, d);
    v.push(case("ce_fwd_f32_nchw_c4_d16384", x.len(), move || {
        let o = CrossEntropyOptions::new();
        black_box(xent::cross_entropy(black_box(&x), lay, &t, &o).unwrap());
    }));

    // Binary losses over 4 x 16384 elements.
    let n = 4 * 16384;
    let xb: Vec<f32> = (0..n).map(|_| rng.normal()).collect();
    let yb: Vec<f32> = (0..n).map(|_| (rng.next() % 2) as f32).collect();
    let pb: Vec<f32> = (0..n).map(|_| rng.unit().clamp(1e-4, 1.0 - 1e-4)).collect();
    let yb2 = yb.clone();
    v.push(case("bce_logits_fwd_f32_n65536", n, move || {
        let o = BceWithLogitsOptions::new();
        black_box(xent::binary_cross_entropy_with_logits(black_box(&xb), &yb, &o).unwrap());
    }));
    v.push(case("bce_fwd_f32_n65536", n, move || {
        let o = BceOptions::new();
        black_box(xent::binary_cross_entropy(black_box(&pb), &yb2, &o).unwrap());
    }));
    v
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let reps = if args.iter().any(|a| a == "--quick") { 3 } else { 7 };
    let filter: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    println!("# xent in_cache: best of {reps} timings of {CALLS} calls");
    for mut c in cases() {
        if !filter.is_empty() && !filter.iter().any(|f| c.name.contains(f.as_str())) {
            continue;
        }
        let ns = best(reps, c.elems * CALLS, || {
            for _ in 0..CALLS {
                (c.run)();
            }
        });
        println!("{}\txent\t{ns:.4}", c.name);
    }
}
