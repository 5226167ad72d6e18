//! Timing helpers shared by the benchmark harnesses (`benches/bench_report.rs`,
//! `benches/c_sweep.rs`), included with `#[path]`.

use std::time::Instant;
use wide::f32x8;

/// The memory-read floor: a 4-accumulator SIMD sum of `v`.
pub fn read_floor(v: &[f32]) -> f32 {
    let (chunks, tail) = v.as_chunks::<32>();
    let mut acc = [f32x8::splat(0.0); 4];
    for c in chunks {
        for (k, a) in acc.iter_mut().enumerate() {
            let mut arr = [0.0f32; 8];
            arr.copy_from_slice(&c[k * 8..k * 8 + 8]);
            *a += f32x8::new(arr);
        }
    }
    (acc[0] + acc[1] + acc[2] + acc[3]).reduce_add() + tail.iter().sum::<f32>()
}

/// Best wall time of `reps` runs of `f` (after one warm-up run), in ns per element.
pub fn best(reps: usize, elems: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut b = f64::INFINITY;
    for _ in 0..reps {
        let t = Instant::now();
        f();
        b = b.min(t.elapsed().as_secs_f64());
    }
    b * 1e9 / elems as f64
}

/// Best wall times of `reps` rounds that each run every function of `fs` once, in turn
/// (after one warm-up round), in ns per element (`elems[i]` for `fs[i]`). The functions
/// share the host's load moment by moment, so the ratio of two of them is not skewed by
/// load that changes between one's timings and the other's (on a shared host, neighbours
/// evicting the L3 move the read floor by up to 2x within minutes).
pub fn best_interleaved<const K: usize>(
    reps: usize,
    elems: [usize; K],
    fs: [&mut dyn FnMut(); K],
) -> [f64; K] {
    let mut fs = fs;
    for f in fs.iter_mut() {
        f();
    }
    let mut b = [f64::INFINITY; K];
    for _ in 0..reps {
        for (f, b) in fs.iter_mut().zip(b.iter_mut()) {
            let t = Instant::now();
            f();
            *b = b.min(t.elapsed().as_secs_f64());
        }
    }
    let mut out = [0.0; K];
    for ((o, b), e) in out.iter_mut().zip(b).zip(elems) {
        *o = b * 1e9 / e as f64;
    }
    out
}
