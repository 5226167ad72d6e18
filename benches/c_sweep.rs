//! The class-count sweep: `cross_entropy` forward (f32, mean, class targets) against C, for
//! the chart of `docs/BENCHMARKS.md` (`scripts/chart.py`).
//!
//! ```text
//! cargo bench --bench c_sweep [-- --quick] [-- --scalar] > sweep.tsv
//! RUSTFLAGS="-C target-cpu=x86-64-v3" taskset -c 1 cargo bench --bench c_sweep
//! ```
//!
//! Prints the format of `benches/bench_report.rs`, one line per case and implementation,
//! `case<TAB>impl<TAB>ns_per_element`, for C in {5, 31, 257, 1000, 32000, 128256} with
//! N = 16M / C rounded (so every case reads about 64 MB of logits, past the caches; one
//! element is one logit): `xent` (the public SIMD path), `floor` (a 4-accumulator SIMD sum
//! over a buffer of the same bytes, timed in the same run: the memory-read floor) and, with
//! `--scalar`, `scalar` (the reference path in f32). Each is the best of several
//! repetitions. Case names follow `docs/BENCHMARKS.md`: `ce_fwd_f32_n<N>_c<C>`.

use std::hint::black_box;
use xent::{CrossEntropyOptions, Layout};

/// The classes swept; N is `TARGET / C`.
const CLASSES: [usize; 6] = [5, 31, 257, 1000, 32000, 128_256];
/// About 16M logits per case.
const TARGET: usize = 1 << 24;

#[path = "../tests/support/rng.rs"]
mod rng;
use rng::Rng;

#[path = "../tests/support/timing.rs"]
mod timing;
use timing::{best, best_interleaved, read_floor};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let scalar = args.iter().any(|a| a == "--scalar");
    let reps = if quick { 3 } else { 9 };
    println!("# xent c_sweep: cross_entropy forward f32, N*C ~ {TARGET}, best of {reps}; lanes: {}", lanes());
    let mut rng = Rng(1);
    let pool: Vec<f32> = (0..TARGET + CLASSES[CLASSES.len() - 1]).map(|_| rng.normal() * 3.0).collect();
    let opts = CrossEntropyOptions::new();
    for c in CLASSES {
        let n = (TARGET + c / 2) / c;
        let elems = n * c;
        let name = format!("ce_fwd_f32_n{n}_c{c}");
        let x = &pool[..elems];
        let t: Vec<i64> = (0..n).map(|_| (rng.next() % c as u64) as i64).collect();
        let lay = Layout::rows(n, c);
        let floor_buf = vec![1.0f32; elems];
        let mut floor = || {
            black_box(read_floor(black_box(&floor_buf)));
        };
        let mut run = || {
            black_box(xent::cross_entropy(black_box(x), lay, &t, &opts).unwrap());
        };
        // In alternation, so that the ratio sees one host load.
        let [floor, xent] = best_interleaved(reps, [elems; 2], [&mut floor, &mut run]);
        println!("{name}\txent\t{xent:.3}");
        println!("{name}\tfloor\t{floor:.3}");
        if scalar {
            let s = best(reps.div_ceil(3), elems, || {
                black_box(xent::scalar::cross_entropy::<f32, _, _>(black_box(x), lay, &t, &opts).unwrap());
            });
            println!("{name}\tscalar\t{s:.3}");
        }
        eprintln!("# {name}: xent/floor {:.2}", xent / floor);
    }
}

/// The instruction set the kernels run, and whether the build fixed it statically.
fn lanes() -> String {
    let build = if cfg!(target_feature = "avx2") { "static" } else { "run-time dispatch" };
    format!("{} ({build})", xent::isa())
}
