//! Timing helpers shared by the benchmark examples (`bench_report`, `c_sweep`), included
//! with `#[path]`.

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
