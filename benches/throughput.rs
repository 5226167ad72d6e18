//! Wall-clock throughput of every xent operation, SIMD (`xent::`) beside its scalar twin
//! (`xent::scalar::` in f32), with criterion.
//!
//! ```text
//! cargo bench --bench throughput                      # the whole suite, a few minutes
//! cargo bench --bench throughput -- ce_fwd/           # one group (criterion filter: a regex)
//! cargo bench --bench throughput -- --quick           # fewer samples, for a smoke run
//! XENT_BENCH_SECS=5 taskset -c 1 cargo bench --bench throughput   # a longer sitting
//! RUSTFLAGS="-C target-cpu=x86-64-v3" cargo bench --bench throughput
//! ```
//!
//! Groups are operations (`log_sum_exp`, `log_softmax`, `softmax`, `ce_fwd`, `ce_sweep`,
//! `ce_fwdbwd`, `ce_probs`, `nll`, `bce`, `bce_logits`, `focal`); inside each, the function
//! is `xent` or `scalar` and the parameter is the case, named as in
//! `docs/BENCHMARKS.md`: `<op>_<pass>_<dtype>[_<option>]_n<N>_c<C>`. The ten canonical
//! cases keep their exact names. Throughput is in elements, one element being one input
//! value (one logit; one probability for BCE), so criterion's `elem/s` is directly the
//! inverse of the ns per element the other reports print (except `nll`, which reads one
//! value per row and counts rows). `ce_sweep` runs the forward
//! cross-entropy over C in {5, 31, 257, 1000, 32000, 128256}; `off1` cases read a slice
//! that starts one element into its buffer (not 32-byte aligned).
//!
//! Inputs are built once per process (normal logits scaled by 3, as the canonical cases),
//! outside the timed loop; output and gradient buffers are allocated and touched before
//! timing. Short settings by default (warm-up 0.5 s, measurement 1 s, 10 samples, flat
//! sampling) so the suite fits in a few minutes on 2 cores; `XENT_BENCH_SECS` sets the
//! measurement time in seconds for a longer sitting.

use std::hint::black_box;
use std::sync::OnceLock;
use std::time::Duration;

use criterion::{BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput, measurement::WallTime};
use xent::{
    BceOptions, BceWithLogitsOptions, CrossEntropyOptions, Element, Layout, NllOptions, ProbsOptions,
    SigmoidFocalOptions, SoftmaxFocalOptions, bf16, f16,
};

#[path = "../tests/support/rng.rs"]
mod rng;
use rng::Rng;

/// Largest input any case reads (`(128, 128256)`), plus room for the offset-1 cases.
const POOL: usize = 128 * 128_256 + 64;

/// Normal logits times 3 (as `ce_case` in `benches/bench_report.rs`), shared by every case.
fn logits_f32() -> &'static [f32] {
    static P: OnceLock<Vec<f32>> = OnceLock::new();
    P.get_or_init(|| {
        let mut rng = Rng(1);
        (0..POOL).map(|_| rng.normal() * 3.0).collect()
    })
}
fn logits_f16() -> &'static [f16] {
    static P: OnceLock<Vec<f16>> = OnceLock::new();
    P.get_or_init(|| logits_f32().iter().map(|&v| f16::from_f32(v)).collect())
}
fn logits_bf16() -> &'static [bf16] {
    static P: OnceLock<Vec<bf16>> = OnceLock::new();
    P.get_or_init(|| logits_f32().iter().map(|&v| bf16::from_f32(v)).collect())
}

/// The logit pool of a dtype.
trait Pool: Element {
    fn pool() -> &'static [Self];
}
impl Pool for f32 {
    fn pool() -> &'static [Self] {
        logits_f32()
    }
}
impl Pool for f16 {
    fn pool() -> &'static [Self] {
        logits_f16()
    }
}
impl Pool for bf16 {
    fn pool() -> &'static [Self] {
        logits_bf16()
    }
}

fn targets(n: usize, c: usize, seed: u64) -> Vec<i64> {
    let mut rng = Rng(seed);
    (0..n).map(|_| (rng.next() % c as u64) as i64).collect()
}

/// Row-stochastic probability targets (random positive weights, normalized per row).
fn prob_targets(n: usize, c: usize, seed: u64) -> Vec<f32> {
    let mut rng = Rng(seed);
    let mut t: Vec<f32> = (0..n * c).map(|_| rng.unit() + 1e-3).collect();
    for row in t.chunks_mut(c) {
        let s: f32 = row.iter().sum();
        row.iter_mut().for_each(|v| *v /= s);
    }
    t
}

fn measurement_time() -> Duration {
    let secs = std::env::var("XENT_BENCH_SECS").ok().and_then(|s| s.parse::<f64>().ok()).unwrap_or(1.0);
    Duration::from_secs_f64(secs.max(0.1))
}

fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    // Flat sampling: every sample runs the same number of iterations, so an 80 ms scalar
    // iteration costs 10 iterations, not the 55 of linear sampling.
    g.sampling_mode(SamplingMode::Flat);
    g
}

/// Benchmarks `xent` and `scalar` closures on one case. `make` is called once, and only if
/// criterion's filter selects the case, so unselected cases build nothing.
fn pair<S: 'static>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    case: &str,
    elems: usize,
    make: impl Fn() -> S,
    xent_fn: impl Fn(&mut S) -> f32,
    scalar_fn: impl Fn(&mut S) -> f32,
) {
    g.throughput(Throughput::Elements(elems as u64));
    let mut state = None;
    g.bench_function(BenchmarkId::new("xent", case), |b| {
        let s = state.get_or_insert_with(&make);
        b.iter(|| black_box(xent_fn(black_box(&mut *s))));
    });
    drop(state.take());
    g.bench_function(BenchmarkId::new("scalar", case), |b| {
        let s = state.get_or_insert_with(&make);
        b.iter(|| black_box(scalar_fn(black_box(&mut *s))));
    });
}

/// Class-target input: logits slice `[off..off + n*c]` of the pool, targets, an output buffer
/// (per position or gradient, sized by the caller).
struct Ce<T: 'static> {
    x: &'static [T],
    t: Vec<i64>,
    lay: Layout,
    out: Vec<f32>,
}
fn ce<T: Pool>(n: usize, c: usize, off: usize, out_len: usize, seed: u64) -> Ce<T> {
    Ce {
        x: &T::pool()[off..off + n * c],
        t: targets(n, c, seed),
        lay: Layout::rows(n, c),
        out: vec![0.0; out_len],
    }
}

fn primitives(c: &mut Criterion) {
    type Prim = fn(&[f32], Layout, &mut [f32]) -> Result<(), xent::Error>;
    let ops: [(&str, Prim, Prim); 3] = [
        ("log_sum_exp", xent::log_sum_exp_into::<f32>, xent::scalar::log_sum_exp_into::<f32, f32>),
        ("log_softmax", xent::log_softmax_into::<f32>, xent::scalar::log_softmax_into::<f32, f32>),
        ("softmax", xent::softmax_into::<f32>, xent::scalar::softmax_into::<f32, f32>),
    ];
    for (name, fast, slow) in ops {
        let mut g = group(c, name);
        for (n, cl) in [(512, 32000), (4096, 10)] {
            let out_len = if name == "log_sum_exp" { n } else { n * cl };
            pair(
                &mut g,
                &format!("{name}_f32_n{n}_c{cl}"),
                n * cl,
                || ce::<f32>(n, cl, 0, out_len, 1),
                |s| {
                    fast(s.x, s.lay, &mut s.out).unwrap();
                    s.out[0]
                },
                |s| {
                    slow(s.x, s.lay, &mut s.out).unwrap();
                    s.out[0]
                },
            );
        }
        g.finish();
    }
}

fn ce_fwd_one<T: Pool>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    case: &str,
    n: usize,
    c: usize,
    off: usize,
    ls: f32,
) {
    let opts = CrossEntropyOptions::new().with_label_smoothing(ls);
    pair(
        g,
        case,
        n * c,
        || ce::<T>(n, c, off, 0, 2),
        move |s| xent::cross_entropy(s.x, s.lay, &s.t, &opts).unwrap(),
        move |s| xent::scalar::cross_entropy::<f32, _, _>(s.x, s.lay, &s.t, &opts).unwrap(),
    );
}

fn ce_fwd(c: &mut Criterion) {
    let mut g = group(c, "ce_fwd");
    ce_fwd_one::<f32>(&mut g, "ce_fwd_f32_n512_c32000", 512, 32000, 0, 0.0);
    ce_fwd_one::<f32>(&mut g, "ce_fwd_f32_n64_c128256", 64, 128_256, 0, 0.0);
    ce_fwd_one::<f32>(&mut g, "ce_fwd_f32_n4096_c10", 4096, 10, 0, 0.0);
    ce_fwd_one::<f32>(&mut g, "ce_fwd_f32_n8192_c1000", 8192, 1000, 0, 0.0);
    ce_fwd_one::<f16>(&mut g, "ce_fwd_f16_n512_c32000", 512, 32000, 0, 0.0);
    ce_fwd_one::<bf16>(&mut g, "ce_fwd_bf16_n512_c32000", 512, 32000, 0, 0.0);
    ce_fwd_one::<f32>(&mut g, "ce_fwd_f32_ls0.1_n512_c32000", 512, 32000, 0, 0.1);
    ce_fwd_one::<f32>(&mut g, "ce_fwd_f32_off1_n512_c32000", 512, 32000, 1, 0.0);
    ce_fwd_one::<f16>(&mut g, "ce_fwd_f16_off1_n512_c32000", 512, 32000, 1, 0.0);

    // channel-first segmentation (1, 4, 128, 128, 128), logits uniform in [0, 1)
    let d = 128 * 128 * 128;
    let opts = CrossEntropyOptions::new();
    pair(
        &mut g,
        "ce_fwd_f32_nchw_c4_128cube",
        4 * d,
        || {
            let mut rng = Rng(8);
            let x: Vec<f32> = (0..4 * d).map(|_| rng.unit()).collect();
            let t: Vec<i64> = (0..d).map(|_| (rng.next() % 4) as i64).collect();
            (x, t)
        },
        move |(x, t)| xent::cross_entropy(x, Layout::channel_first(1, 4, d), t, &opts).unwrap(),
        move |(x, t)| {
            xent::scalar::cross_entropy::<f32, _, _>(x, Layout::channel_first(1, 4, d), t, &opts).unwrap()
        },
    );
    g.finish();
}

/// The C sweep: N such that N*C is about 16M logits for large C, fewer for small C.
pub const SWEEP: [(usize, usize); 6] =
    [(1 << 18, 5), (1 << 16, 31), (16384, 257), (8192, 1000), (512, 32000), (128, 128_256)];

fn ce_sweep(c: &mut Criterion) {
    let mut g = group(c, "ce_sweep");
    for (n, cl) in SWEEP {
        ce_fwd_one::<f32>(&mut g, &format!("ce_fwd_f32_n{n}_c{cl}"), n, cl, 0, 0.0);
    }
    g.finish();
}

fn ce_fwdbwd_one<T: Pool>(g: &mut BenchmarkGroup<'_, WallTime>, case: &str, n: usize, c: usize) {
    let opts = CrossEntropyOptions::new();
    pair(
        g,
        case,
        n * c,
        || ce::<T>(n, c, 0, n * c, 3),
        move |s| xent::cross_entropy_with_grad(s.x, s.lay, &s.t, &opts, &mut s.out).unwrap(),
        move |s| xent::scalar::cross_entropy_with_grad(s.x, s.lay, &s.t, &opts, &mut s.out).unwrap(),
    );
}

/// In place: the buffer holds the logits at the first iteration and the previous gradient
/// after it (finite, small values; the kernels do not branch on values), so every
/// iteration is the same read-compute-write pass over `n*c` elements.
fn ce_in_place_one<T: Pool>(g: &mut BenchmarkGroup<'_, WallTime>, case: &str, n: usize, c: usize) {
    let opts = CrossEntropyOptions::new();
    let make = move || (T::pool()[..n * c].to_vec(), targets(n, c, 3));
    pair(
        g,
        case,
        n * c,
        make,
        move |(x, t)| xent::cross_entropy_with_grad_in_place(x, Layout::rows(n, c), t, &opts).unwrap(),
        move |(x, t)| {
            xent::scalar::cross_entropy_with_grad_in_place::<f32, _, _>(x, Layout::rows(n, c), t, &opts)
                .unwrap()
        },
    );
}

fn ce_fwdbwd(c: &mut Criterion) {
    let mut g = group(c, "ce_fwdbwd");
    ce_fwdbwd_one::<f32>(&mut g, "ce_fwdbwd_f32_n512_c32000", 512, 32000);
    ce_fwdbwd_one::<f16>(&mut g, "ce_fwdbwd_f16_n512_c32000", 512, 32000);
    ce_fwdbwd_one::<f32>(&mut g, "ce_fwdbwd_f32_n4096_c10", 4096, 10);
    ce_in_place_one::<f32>(&mut g, "ce_fwdbwd_inplace_f32_n512_c32000", 512, 32000);
    ce_in_place_one::<bf16>(&mut g, "ce_fwdbwd_inplace_bf16_n512_c32000", 512, 32000);
    g.finish();
}

fn ce_probs(c: &mut Criterion) {
    let mut g = group(c, "ce_probs");
    let opts = ProbsOptions::new();
    for (n, cl) in [(256, 32000), (4096, 10)] {
        pair(
            &mut g,
            &format!("ce_probs_fwd_f32_n{n}_c{cl}"),
            n * cl,
            move || (&logits_f32()[..n * cl], prob_targets(n, cl, 4)),
            move |(x, p)| xent::cross_entropy_probs(x, Layout::rows(n, cl), p, &opts).unwrap(),
            move |(x, p)| {
                xent::scalar::cross_entropy_probs::<f32, _, _>(x, Layout::rows(n, cl), p, &opts).unwrap()
            },
        );
    }
    let (n, cl) = (256, 32000);
    pair(
        &mut g,
        &format!("ce_probs_fwdbwd_f32_n{n}_c{cl}"),
        n * cl,
        move || (&logits_f32()[..n * cl], prob_targets(n, cl, 4), vec![0.0f32; n * cl]),
        move |(x, p, gr)| xent::cross_entropy_probs_with_grad(x, Layout::rows(n, cl), p, &opts, gr).unwrap(),
        move |(x, p, gr)| {
            xent::scalar::cross_entropy_probs_with_grad(x, Layout::rows(n, cl), p, &opts, gr).unwrap()
        },
    );
    g.finish();
}

fn nll(c: &mut Criterion) {
    let mut g = group(c, "nll");
    let opts = NllOptions::new();
    for (n, cl) in [(512, 32000), (4096, 10)] {
        pair(
            &mut g,
            &format!("nll_fwd_f32_n{n}_c{cl}"),
            n, // NLL reads one value per row: throughput in positions, not logits
            move || ce::<f32>(n, cl, 0, 0, 5),
            move |s| xent::nll_loss(s.x, s.lay, &s.t, &opts).unwrap(),
            move |s| xent::scalar::nll_loss::<f32, _, _>(s.x, s.lay, &s.t, &opts).unwrap(),
        );
    }
    g.finish();
}

/// Binary inputs of `n` elements: (values, 0/1 targets, gradient buffer).
struct Bin<T> {
    x: Vec<T>,
    y: Vec<T>,
    g: Vec<f32>,
}
fn bin<T: Element>(n: usize, probs: bool, grad: bool, seed: u64) -> Bin<T> {
    let mut rng = Rng(seed);
    let x = (0..n)
        .map(|_| T::from_f32(if probs { rng.unit().clamp(1e-4, 1.0 - 1e-4) } else { rng.normal() }))
        .collect();
    let y = (0..n).map(|_| T::from_f32((rng.next() % 2) as f32)).collect();
    Bin { x, y, g: vec![0.0; if grad { n } else { 0 }] }
}

const M4: usize = 1 << 22;

fn bce(c: &mut Criterion) {
    let mut g = group(c, "bce");
    let o = BceOptions::new();
    pair(
        &mut g,
        "bce_fwd_f32_4M",
        M4,
        || bin::<f32>(M4, true, false, 9),
        move |s| xent::binary_cross_entropy(&s.x, &s.y, &o).unwrap(),
        move |s| xent::scalar::binary_cross_entropy::<f32, _>(&s.x, &s.y, &o).unwrap(),
    );
    pair(
        &mut g,
        "bce_fwd_f16_4M",
        M4,
        || bin::<f16>(M4, true, false, 9),
        move |s| xent::binary_cross_entropy(&s.x, &s.y, &o).unwrap(),
        move |s| xent::scalar::binary_cross_entropy::<f32, _>(&s.x, &s.y, &o).unwrap(),
    );
    pair(
        &mut g,
        "bce_fwdbwd_f32_4M",
        M4,
        || bin::<f32>(M4, true, true, 9),
        move |s| xent::binary_cross_entropy_with_grad(&s.x, &s.y, &o, &mut s.g).unwrap(),
        move |s| xent::scalar::binary_cross_entropy_with_grad(&s.x, &s.y, &o, &mut s.g).unwrap(),
    );
    g.finish();

    let mut g = group(c, "bce_logits");
    let o = BceWithLogitsOptions::new();
    pair(
        &mut g,
        "bce_logits_fwd_f32_4M",
        M4,
        || bin::<f32>(M4, false, false, 10),
        move |s| xent::binary_cross_entropy_with_logits(&s.x, &s.y, &o).unwrap(),
        move |s| xent::scalar::binary_cross_entropy_with_logits::<f32, _>(&s.x, &s.y, &o).unwrap(),
    );
    pair(
        &mut g,
        "bce_logits_fwd_bf16_4M",
        M4,
        || bin::<bf16>(M4, false, false, 10),
        move |s| xent::binary_cross_entropy_with_logits(&s.x, &s.y, &o).unwrap(),
        move |s| xent::scalar::binary_cross_entropy_with_logits::<f32, _>(&s.x, &s.y, &o).unwrap(),
    );
    pair(
        &mut g,
        "bce_logits_fwdbwd_f32_4M",
        M4,
        || bin::<f32>(M4, false, true, 10),
        move |s| xent::binary_cross_entropy_with_logits_with_grad(&s.x, &s.y, &o, &mut s.g).unwrap(),
        move |s| xent::scalar::binary_cross_entropy_with_logits_with_grad(&s.x, &s.y, &o, &mut s.g).unwrap(),
    );
    g.finish();
}

fn focal(c: &mut Criterion) {
    let mut g = group(c, "focal");
    let o = SigmoidFocalOptions::new();
    pair(
        &mut g,
        "sigmoid_focal_fwd_f32_4M",
        M4,
        || bin::<f32>(M4, false, false, 11),
        move |s| xent::sigmoid_focal_loss(&s.x, &s.y, &o).unwrap(),
        move |s| xent::scalar::sigmoid_focal_loss::<f32, _>(&s.x, &s.y, &o).unwrap(),
    );
    pair(
        &mut g,
        "sigmoid_focal_fwdbwd_f32_4M",
        M4,
        || bin::<f32>(M4, false, true, 11),
        move |s| xent::sigmoid_focal_loss_with_grad(&s.x, &s.y, &o, &mut s.g).unwrap(),
        move |s| xent::scalar::sigmoid_focal_loss_with_grad(&s.x, &s.y, &o, &mut s.g).unwrap(),
    );
    let o = SoftmaxFocalOptions::new();
    let (n, cl) = (512, 32000);
    pair(
        &mut g,
        "softmax_focal_fwd_f32_n512_c32000",
        n * cl,
        move || ce::<f32>(n, cl, 0, 0, 12),
        move |s| xent::softmax_focal_loss(s.x, s.lay, &s.t, &o).unwrap(),
        move |s| xent::scalar::softmax_focal_loss::<f32, _, _>(s.x, s.lay, &s.t, &o).unwrap(),
    );
    pair(
        &mut g,
        "softmax_focal_fwdbwd_f32_n512_c32000",
        n * cl,
        move || ce::<f32>(n, cl, 0, n * cl, 12),
        move |s| xent::softmax_focal_loss_with_grad(s.x, s.lay, &s.t, &o, &mut s.out).unwrap(),
        move |s| xent::scalar::softmax_focal_loss_with_grad(s.x, s.lay, &s.t, &o, &mut s.out).unwrap(),
    );
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(measurement_time())
        .sample_size(10)
        .configure_from_args()
}

criterion::criterion_group! {
    name = throughput;
    config = config();
    targets = primitives, ce_fwd, ce_sweep, ce_fwdbwd, ce_probs, nll, bce, focal
}
criterion::criterion_main!(throughput);
