//! scratch
use std::hint::black_box;
use xent::{CrossEntropyOptions, Layout};
fn main() {
    let c: usize = std::env::args().nth(1).map_or(4, |s| s.parse().unwrap());
    let d = (1usize << 21) * 4 / c;
    let mut s = 1u64;
    let x: Vec<f32> = (0..c * d)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (s >> 40) as f32 / (1u64 << 24) as f32
        })
        .collect();
    let t: Vec<i64> = (0..d).map(|i| (i * 7 % c) as i64).collect();
    let lay = Layout::channel_first(1, c, d);
    let o = CrossEntropyOptions::new();
    let ol = CrossEntropyOptions::new().with_label_smoothing(0.1);
    let mut g = vec![0.0f32; c * d];
    let mut per = vec![0.0f32; d];
    let reps = 20;
    let run = |name: &str, f: &mut dyn FnMut()| {
        let mut best = f64::MAX;
        for _ in 0..5 {
            let t0 = std::time::Instant::now();
            for _ in 0..reps {
                f();
            }
            best = best.min(t0.elapsed().as_nanos() as f64 / (reps * c * d) as f64);
        }
        println!("{name}\t{best:.3}");
    };
    run("fwd", &mut || {
        black_box(xent::cross_entropy(black_box(&x), lay, &t, &o).unwrap());
    });
    run("fwd_ls", &mut || {
        black_box(xent::cross_entropy(black_box(&x), lay, &t, &ol).unwrap());
    });
    run("per_pos", &mut || {
        xent::cross_entropy_per_position(black_box(&x), lay, &t, &o, &mut per).unwrap();
    });
    run("fwdbwd", &mut || {
        black_box(xent::cross_entropy_with_grad(black_box(&x), lay, &t, &o, &mut g).unwrap());
    });
}
