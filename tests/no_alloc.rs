//! No public function allocates: a counting global allocator, armed per thread, wraps
//! calls of every crate-root and `xent::scalar` function (f32, f16 and bf16 inputs; rows of
//! 10 and 1000 classes and channel-first layouts; every option on and off; error paths)
//! and the count must stay exactly 0. The counter is first shown to count. The same calls
//! then run on a thread with a small stack ([`STACK`]), in whatever build the tests are:
//! an unoptimised build's frames are not coloured, and forced inlining once gave one
//! kernel a 2.3 MiB frame there (see `build.rs`).

use std::alloc::{GlobalAlloc, Layout as AllocLayout, System};
use std::cell::Cell;
use std::fmt::Write as _;
use std::hint::black_box;
use std::panic::Location;

use xent::{
    BceOptions, BceWithLogitsOptions, CrossEntropyOptions, Element, Error, Layout, LsePartial, NllOptions,
    ProbsOptions, Real, Reduction, Score, SigmoidFocalOptions, SoftmaxFocalOptions, bf16, f16,
};

/// `System`, counting `alloc`, `alloc_zeroed` and `realloc` calls made by a thread that
/// has armed [`ARMED`].
struct Counting;

thread_local! {
    /// Whether this thread's allocations are counted (const-initialised, no destructor:
    /// reading it never allocates).
    static ARMED: Cell<bool> = const { Cell::new(false) };
    /// This thread's count: per thread, so tests running at the same time (each arming
    /// its own thread) do not see each other's allocations.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn note() {
    if ARMED.try_with(Cell::get).unwrap_or(false) {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `System`'s guarantees are ours; the counting touches only two thread-local `Cell`s.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: AllocLayout) -> *mut u8 {
        note();
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, forwarded as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: AllocLayout) -> *mut u8 {
        note();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: AllocLayout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: `ptr` was allocated by `System` (through this allocator) with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: AllocLayout) {
        // SAFETY: `ptr` was allocated by `System` (through this allocator) with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` with this thread's allocations counted; returns its value and the count.
fn counted<V>(f: impl FnOnce() -> V) -> (V, usize) {
    let before = ALLOCATIONS.with(Cell::get);
    ARMED.with(|a| a.set(true));
    let v = f();
    ARMED.with(|a| a.set(false));
    (v, ALLOCATIONS.with(Cell::get) - before)
}

/// Tallies calls that did not succeed (or fail) as expected, without allocating: the
/// location of the first is kept for the report.
#[derive(Default)]
struct Tally {
    calls: usize,
    wrong: usize,
    first: Option<&'static Location<'static>>,
}

impl Tally {
    #[track_caller]
    fn ok<V>(&mut self, r: Result<V, Error>) {
        self.check(r.is_ok());
        let _ = black_box(r);
    }
    #[track_caller]
    fn err<V>(&mut self, r: Result<V, Error>) {
        self.check(r.is_err());
        let _ = black_box(r);
    }
    #[track_caller]
    fn check(&mut self, good: bool) {
        self.calls += 1;
        if !good {
            self.wrong += 1;
            self.first.get_or_insert(Location::caller());
        }
    }
}

/// Output buffers of one real type.
struct Sinks<R> {
    /// One per position.
    per: Vec<R>,
    /// One per logit (log-softmax, softmax, gradients, element-wise losses).
    full: Vec<R>,
    grad: Vec<R>,
}

impl<R: Real> Sinks<R> {
    fn new(positions: usize, len: usize) -> Self {
        Self { per: vec![R::zero(); positions], full: vec![R::zero(); len], grad: vec![R::zero(); len] }
    }
}

/// Every input of one `(dtype, layout)` case, and its output buffers.
struct Case<T> {
    lay: Layout,
    shape: Vec<usize>,
    x: Vec<T>,
    work: Vec<T>,
    t64: Vec<i64>,
    t32: Vec<i32>,
    tu32: Vec<u32>,
    /// u8 targets, 255 = ignored.
    t8: Vec<u8>,
    /// One target equal to C.
    bad: Vec<i64>,
    soft: Vec<T>,
    weight: Vec<f32>,
    /// Probabilities in (0, 1), binary targets in [0, 1], one probability of 1.5.
    p: Vec<T>,
    y: Vec<T>,
    p_bad: Vec<T>,
    /// Broadcast weights of the element-wise losses (length C, which divides the length).
    bw: Vec<f32>,
    pw: Vec<f32>,
    scores: Vec<Score>,
    s32: Sinks<f32>,
    s64: Sinks<f64>,
}

const IGNORE: i64 = -1;

fn case<T: Element>(lay: Layout, shape: &[usize]) -> Case<T> {
    let (positions, len, c) = (lay.positions().unwrap(), lay.len().unwrap(), lay.classes());
    let x: Vec<T> = (0..len).map(|i| T::from_f32(((i * 37 + 11) % 101) as f32 * 0.13 - 6.0)).collect();
    let t64: Vec<i64> =
        (0..positions).map(|p| if p % 5 == 3 { IGNORE } else { ((p * 7 + 1) % c) as i64 }).collect();
    let mut bad = t64.clone();
    bad[positions / 2] = c as i64;
    let soft: Vec<T> = (0..len).map(|i| T::from_f32(((i * 3) % 7) as f32 / (7.0 * c as f32 / 2.0))).collect();
    let p: Vec<T> = (0..len).map(|i| T::from_f32(((i * 13 + 5) % 97) as f32 / 100.0 + 0.01)).collect();
    let mut p_bad = p.clone();
    p_bad[len / 2] = T::from_f32(1.5);
    Case {
        lay,
        shape: shape.to_vec(),
        work: x.clone(),
        x,
        t32: t64.iter().map(|&t| t as i32).collect(),
        tu32: (0..positions).map(|p| ((p * 3) % c) as u32).collect(),
        t8: (0..positions).map(|p| if p % 4 == 1 { 255 } else { ((p * 5) % c.min(255)) as u8 }).collect(),
        t64,
        bad,
        soft,
        weight: (0..c).map(|k| 0.5 + (k % 4) as f32 * 0.25).collect(),
        y: (0..len).map(|i| T::from_f32((i % 3) as f32 / 2.0)).collect(),
        p,
        p_bad,
        bw: (0..c).map(|k| 1.0 + (k % 3) as f32 * 0.5).collect(),
        pw: (0..c).map(|k| 0.5 + (k % 2) as f32).collect(),
        scores: vec![Score::default(); positions],
        s32: Sinks::new(positions, len),
        s64: Sinks::new(positions, len),
    }
}

/// Every crate-root function on one case.
fn public_calls<T: Element>(c: &mut Case<T>, tally: &mut Tally) {
    let lay = c.lay;
    let w = Some(&c.weight[..]);
    let s = &mut c.s32;
    let ce_opts = [
        CrossEntropyOptions::new(),
        CrossEntropyOptions::new().with_reduction(Reduction::Sum),
        CrossEntropyOptions::new()
            .with_weight(w)
            .with_ignore_index(IGNORE)
            .with_label_smoothing(0.1)
            .with_z_loss(1e-4)
            .with_softcap(Some(30.0)),
        CrossEntropyOptions::new()
            .with_weight(w)
            .with_ignore_index(IGNORE)
            .with_label_smoothing(0.2)
            .with_z_loss(1e-3)
            .with_softcap(Some(5.0))
            .with_reduction(Reduction::Sum),
    ];
    for o in &ce_opts {
        let o = &o.with_ignore_index(IGNORE);
        tally.ok(xent::cross_entropy(&c.x, lay, &c.t64, o));
        tally.ok(xent::cross_entropy(&c.x, lay, &c.t32, o));
        tally.ok(xent::cross_entropy(&c.x, lay, &c.tu32, o));
        tally.ok(xent::cross_entropy(&c.x, lay, &c.t8, &o.with_ignore_index(255)));
        tally.ok(xent::cross_entropy_per_position(&c.x, lay, &c.t64, o, &mut s.per));
        tally.ok(xent::cross_entropy_with_grad(&c.x, lay, &c.t64, o, &mut s.grad));
        c.work.copy_from_slice(&c.x);
        tally.ok(xent::cross_entropy_with_grad_in_place(&mut c.work, lay, &c.t64, o));
        // Error paths: a bad target, a bad option.
        tally.err(xent::cross_entropy(&c.x, lay, &c.bad, o));
        tally.err(xent::cross_entropy_per_position(&c.x, lay, &c.bad, o, &mut s.per));
        tally.err(xent::cross_entropy_with_grad(&c.x, lay, &c.bad, o, &mut s.grad));
        tally.err(xent::cross_entropy_with_grad_in_place(&mut c.work, lay, &c.bad, o));
        tally.err(xent::cross_entropy(&c.x, lay, &c.t64, &o.with_label_smoothing(2.0)));
        tally.err(xent::cross_entropy(&c.x, lay, &c.t64[1..], o));
    }
    for o in [ProbsOptions::new(), ProbsOptions::new().with_weight(w).with_label_smoothing(0.1)] {
        tally.ok(xent::cross_entropy_probs(&c.x, lay, &c.soft, &o));
        tally.ok(xent::cross_entropy_probs(&c.x, lay, &c.p, &o.with_reduction(Reduction::Sum)));
        tally.ok(xent::cross_entropy_probs_per_position(&c.x, lay, &c.soft, &o, &mut s.per));
        tally.ok(xent::cross_entropy_probs_with_grad(&c.x, lay, &c.soft, &o, &mut s.grad));
        tally.err(xent::cross_entropy_probs(&c.x, lay, &c.soft[1..], &o));
    }
    for o in [NllOptions::new(), NllOptions::new().with_weight(w).with_ignore_index(IGNORE)] {
        let o = o.with_ignore_index(IGNORE);
        tally.ok(xent::nll_loss(&c.x, lay, &c.t64, &o));
        tally.ok(xent::nll_loss(&c.x, lay, &c.t8, &o.with_ignore_index(255)));
        tally.ok(xent::nll_loss_per_position(&c.x, lay, &c.t64, &o, &mut s.per));
        tally.ok(xent::nll_loss_with_grad(&c.x, lay, &c.t64, &o, &mut s.grad));
        tally.err(xent::nll_loss(&c.x, lay, &c.bad, &o));
        tally.err(xent::nll_loss_with_grad(&c.x, lay, &c.bad, &o, &mut s.grad));
    }
    for o in [SoftmaxFocalOptions::new(), SoftmaxFocalOptions::new().with_weight(w).with_gamma(1.5)] {
        let o = o.with_ignore_index(IGNORE);
        tally.ok(xent::softmax_focal_loss(&c.x, lay, &c.t64, &o));
        tally.ok(xent::softmax_focal_loss_per_position(&c.x, lay, &c.t64, &o, &mut s.per));
        tally.ok(xent::softmax_focal_loss_with_grad(&c.x, lay, &c.t64, &o, &mut s.grad));
        tally.err(xent::softmax_focal_loss(&c.x, lay, &c.bad, &o));
        tally.err(xent::softmax_focal_loss_with_grad(&c.x, lay, &c.bad, &o, &mut s.grad));
        tally.err(xent::softmax_focal_loss(&c.x, lay, &c.t64, &o.with_gamma(f32::NAN)));
    }
    for o in [BceOptions::new(), BceOptions::new().with_weight(Some(&c.bw)).with_reduction(Reduction::Sum)] {
        tally.ok(xent::binary_cross_entropy(&c.p, &c.y, &o));
        tally.ok(xent::binary_cross_entropy_per_position(&c.p, &c.y, &o, &mut s.full));
        tally.ok(xent::binary_cross_entropy_with_grad(&c.p, &c.y, &o, &mut s.grad));
        tally.err(xent::binary_cross_entropy(&c.p_bad, &c.y, &o));
        tally.err(xent::binary_cross_entropy_with_grad(&c.p_bad, &c.y, &o, &mut s.grad));
        tally.err(xent::binary_cross_entropy(&c.p, &c.y[1..], &o));
    }
    for o in [
        BceWithLogitsOptions::new(),
        BceWithLogitsOptions::new().with_weight(Some(&c.bw)).with_pos_weight(Some(&c.pw)),
    ] {
        tally.ok(xent::binary_cross_entropy_with_logits(&c.x, &c.y, &o));
        tally.ok(xent::binary_cross_entropy_with_logits_per_position(&c.x, &c.y, &o, &mut s.full));
        tally.ok(xent::binary_cross_entropy_with_logits_with_grad(&c.x, &c.y, &o, &mut s.grad));
        tally.err(xent::binary_cross_entropy_with_logits(&c.x, &c.y[1..], &o));
    }
    for o in [SigmoidFocalOptions::new(), SigmoidFocalOptions::new().with_alpha(-1.0).with_gamma(0.5)] {
        tally.ok(xent::sigmoid_focal_loss(&c.x, &c.y, &o));
        tally.ok(xent::sigmoid_focal_loss_per_position(&c.x, &c.y, &o, &mut s.full));
        tally.ok(xent::sigmoid_focal_loss_with_grad(&c.x, &c.y, &o, &mut s.grad));
        tally.err(xent::sigmoid_focal_loss(&c.x, &c.y, &o.with_alpha(f32::NAN)));
    }
    // Primitives.
    black_box(xent::log_sum_exp(&c.x));
    black_box(xent::log_sum_exp(&c.x[..lay.classes()]));
    tally.ok(xent::log_sum_exp_into(&c.x, lay, &mut s.per));
    tally.ok(xent::log_softmax_into(&c.x, lay, &mut s.full));
    tally.ok(xent::softmax_into(&c.x, lay, &mut s.full));
    tally.err(xent::softmax_into(&c.x[1..], lay, &mut s.full));
    tally.ok(xent::gather(&c.x, lay, &c.t64, IGNORE, &mut s.per));
    tally.ok(xent::gather(&c.x, lay, &c.t8, 255, &mut s.per));
    tally.err(xent::gather(&c.x, lay, &c.bad, IGNORE, &mut s.per));
    tally.ok(xent::score_into(&c.x, lay, &c.t64, IGNORE, &mut c.scores));
    tally.err(xent::score_into(&c.x, lay, &c.bad, IGNORE, &mut c.scores));
    tally.check(c.scores.iter().any(|s| s.top_k(lay.classes())));
    black_box(c.scores[0].top_k(5));
    let (a, b) = c.x.split_at(c.x.len() / 3);
    let merged = LsePartial::of(a).merge(LsePartial::of(b)).merge(LsePartial::EMPTY);
    black_box((merged.lse(), merged.max(), merged.sum(), LsePartial::from_parts(0.0, 1.0).lse()));
    // Layouts.
    tally.ok(Layout::from_shape(&c.shape));
    tally.ok(Layout::class_last(&c.shape));
    tally.err(Layout::from_shape(&[]));
    tally.err(Layout::class_last(&[usize::MAX, 3, 2]));
    tally.ok(lay.positions());
    tally.ok(lay.len());
    black_box((lay.outer(), lay.classes(), lay.inner(), Layout::unbatched(3), Layout::rows(2, 3)));
    // Element conversions.
    let mut wide = [0.0_f32; 8];
    T::load_block(&c.x[..8], &mut wide);
    T::store_block(&wide, &mut c.work[..8]);
    black_box((T::as_f32(&c.x).is_some(), T::DTYPE, c.x[0].to_f32(), T::from_f32(0.5)));
}

/// Every `xent::scalar` function on one case, computing in `R`.
fn scalar_calls<R: Real, T: Element>(c: &mut Case<T>, s: &mut Sinks<R>, tally: &mut Tally) {
    use xent::scalar as sc;
    let lay = c.lay;
    let w = Some(&c.weight[..]);
    let heavy = CrossEntropyOptions::new()
        .with_weight(w)
        .with_ignore_index(IGNORE)
        .with_label_smoothing(0.1)
        .with_z_loss(1e-4)
        .with_softcap(Some(30.0));
    for o in
        [CrossEntropyOptions::new().with_ignore_index(IGNORE), heavy, heavy.with_reduction(Reduction::Sum)]
    {
        tally.ok(sc::cross_entropy::<R, _, _>(&c.x, lay, &c.t64, &o));
        tally.ok(sc::cross_entropy::<R, _, _>(&c.x, lay, &c.t8, &o.with_ignore_index(255)));
        tally.ok(sc::cross_entropy_per_position(&c.x, lay, &c.t64, &o, &mut s.per));
        tally.ok(sc::cross_entropy_with_grad(&c.x, lay, &c.t64, &o, &mut s.grad));
        c.work.copy_from_slice(&c.x);
        tally.ok(sc::cross_entropy_with_grad_in_place::<R, _, _>(&mut c.work, lay, &c.t64, &o));
        tally.err(sc::cross_entropy::<R, _, _>(&c.x, lay, &c.bad, &o));
        tally.err(sc::cross_entropy_with_grad(&c.x, lay, &c.bad, &o, &mut s.grad));
        tally.err(sc::cross_entropy_with_grad_in_place::<R, _, _>(&mut c.work, lay, &c.bad, &o));
    }
    let po = ProbsOptions::new().with_weight(w).with_label_smoothing(0.1);
    tally.ok(sc::cross_entropy_probs::<R, _, _>(&c.x, lay, &c.soft, &po));
    tally.ok(sc::cross_entropy_probs_per_position(&c.x, lay, &c.soft, &po, &mut s.per));
    tally.ok(sc::cross_entropy_probs_with_grad(&c.x, lay, &c.soft, &po, &mut s.grad));
    let no = NllOptions::new().with_weight(w).with_ignore_index(IGNORE);
    tally.ok(sc::nll_loss::<R, _, _>(&c.x, lay, &c.t64, &no));
    tally.ok(sc::nll_loss_per_position(&c.x, lay, &c.t64, &no, &mut s.per));
    tally.ok(sc::nll_loss_with_grad(&c.x, lay, &c.t64, &no, &mut s.grad));
    tally.err(sc::nll_loss::<R, _, _>(&c.x, lay, &c.bad, &no));
    let fo = SoftmaxFocalOptions::new().with_weight(w).with_ignore_index(IGNORE);
    tally.ok(sc::softmax_focal_loss::<R, _, _>(&c.x, lay, &c.t64, &fo));
    tally.ok(sc::softmax_focal_loss_per_position(&c.x, lay, &c.t64, &fo, &mut s.per));
    tally.ok(sc::softmax_focal_loss_with_grad(&c.x, lay, &c.t64, &fo, &mut s.grad));
    tally.err(sc::softmax_focal_loss::<R, _, _>(&c.x, lay, &c.bad, &fo));
    let bo = BceOptions::new().with_weight(Some(&c.bw));
    tally.ok(sc::binary_cross_entropy::<R, _>(&c.p, &c.y, &bo));
    tally.ok(sc::binary_cross_entropy_per_position(&c.p, &c.y, &bo, &mut s.full));
    tally.ok(sc::binary_cross_entropy_with_grad(&c.p, &c.y, &bo, &mut s.grad));
    tally.err(sc::binary_cross_entropy::<R, _>(&c.p_bad, &c.y, &bo));
    let lo = BceWithLogitsOptions::new().with_weight(Some(&c.bw)).with_pos_weight(Some(&c.pw));
    tally.ok(sc::binary_cross_entropy_with_logits::<R, _>(&c.x, &c.y, &lo));
    tally.ok(sc::binary_cross_entropy_with_logits_per_position(&c.x, &c.y, &lo, &mut s.full));
    tally.ok(sc::binary_cross_entropy_with_logits_with_grad(&c.x, &c.y, &lo, &mut s.grad));
    let so = SigmoidFocalOptions::new();
    tally.ok(sc::sigmoid_focal_loss::<R, _>(&c.x, &c.y, &so));
    tally.ok(sc::sigmoid_focal_loss_per_position(&c.x, &c.y, &so, &mut s.full));
    tally.ok(sc::sigmoid_focal_loss_with_grad(&c.x, &c.y, &so, &mut s.grad));
    tally.err(sc::sigmoid_focal_loss::<R, _>(&c.x, &c.y, &so.with_gamma(-1.0)));
    black_box(sc::log_sum_exp::<R, _>(&c.x));
    tally.ok(sc::log_sum_exp_into(&c.x, lay, &mut s.per));
    tally.ok(sc::log_softmax_into(&c.x, lay, &mut s.full));
    tally.ok(sc::softmax_into(&c.x, lay, &mut s.full));
    tally.ok(sc::gather(&c.x, lay, &c.t64, IGNORE, &mut s.per));
    tally.err(sc::gather(&c.x, lay, &c.bad, IGNORE, &mut s.per));
    tally.ok(sc::score_into::<R, _, _>(&c.x, lay, &c.t64, IGNORE, &mut c.scores));
    tally.err(sc::score_into::<R, _, _>(&c.x, lay, &c.bad, IGNORE, &mut c.scores));
}

/// A fixed buffer to `Display` an error into.
struct Text {
    buf: [u8; 128],
    len: usize,
}

impl std::fmt::Write for Text {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

fn all<T: Element>(cases: &mut [Case<T>], tally: &mut Tally) {
    for c in cases {
        public_calls(c, tally);
        let mut s32 =
            std::mem::replace(&mut c.s32, Sinks { per: Vec::new(), full: Vec::new(), grad: Vec::new() });
        scalar_calls::<f32, T>(c, &mut s32, tally);
        c.s32 = s32;
        let mut s64 =
            std::mem::replace(&mut c.s64, Sinks { per: Vec::new(), full: Vec::new(), grad: Vec::new() });
        scalar_calls::<f64, T>(c, &mut s64, tally);
        c.s64 = s64;
    }
}

fn cases<T: Element>() -> Vec<Case<T>> {
    vec![
        case(Layout::rows(37, 10), &[37, 10]),
        case(Layout::rows(5, 1000), &[5, 1000]),
        case(Layout::unbatched(1000), &[1000]),
        case(Layout::channel_first(3, 10, 17), &[3, 10, 17]),
        case(Layout::channel_first(2, 10, 4 * 5), &[2, 10, 4, 5]),
        case(Layout::channel_first(2, 1000, 3), &[2, 1000, 3]),
    ]
}

#[test]
fn no_public_function_allocates() {
    // The counter counts: an allocation and a reallocation inside a counted region.
    let (v, n) = counted(|| {
        let mut v: Vec<u64> = Vec::with_capacity(4);
        v.extend([1, 2, 3, 4, 5]);
        black_box(v)
    });
    assert!(n >= 2, "the counting allocator saw {n} allocations of a Vec that grew");
    assert_eq!(v.len(), 5);
    drop(v);
    let (_, n) = counted(|| black_box(Box::new(7_u32)));
    assert_eq!(n, 1, "one Box is one allocation");
    let (_, n) = counted(|| black_box(1 + 1));
    assert_eq!(n, 0, "no allocation, no count");

    // Everything the measured region touches is allocated here.
    let mut c32 = cases::<f32>();
    let mut c16 = cases::<f16>();
    let mut cb16 = cases::<bf16>();
    let mut tally = Tally::default();
    let mut text = Text { buf: [0; 128], len: 0 };
    let err = Error::TargetOutOfRange { position: 3, target: 1000, classes: 10 };

    let ((), n) = counted(|| {
        all(&mut c32, &mut tally);
        all(&mut c16, &mut tally);
        all(&mut cb16, &mut tally);
        // Displaying an error into a caller's buffer does not allocate either.
        let _ = write!(text, "{err}");
    });
    assert_eq!(n, 0, "xent allocated {n} times");
    assert_eq!(
        tally.wrong, 0,
        "{} calls did not return as expected, first at {:?}",
        tally.wrong, tally.first
    );
    assert!(tally.calls > 1000, "only {} calls measured", tally.calls);
    assert_eq!(
        std::str::from_utf8(&text.buf[..text.len]).unwrap(),
        "target 1000 at position 3 is out of range for 10 classes"
    );
}

/// Outputs of 24 MiB or more take their own path (next-tile prefetch, streaming stores on
/// x86): it allocates nothing either.
#[test]
#[cfg_attr(
    not(target_arch = "x86_64"),
    ignore = "26 MB buffers under emulation; the path's extra instructions are x86's"
)]
fn large_outputs_do_not_allocate() {
    let (n, c) = (160usize, 40_003usize);
    let lay = Layout::rows(n, c);
    let mut x: Vec<f32> = (0..n * c).map(|i| ((i * 7919) % 1000) as f32 / 100.0).collect();
    let xh: Vec<f16> = x.iter().map(|&v| f16::from_f32(v)).collect();
    let t: Vec<i64> = (0..n).map(|i| ((i * 31) % c) as i64).collect();
    let p: Vec<f32> = vec![1.0 / c as f32; n * c];
    let mut out = vec![0.0f32; n * c];
    let o = xent::CrossEntropyOptions::new();
    let po = xent::ProbsOptions::new();
    let (r, k) = counted(|| {
        let mut ok = xent::cross_entropy_with_grad(&x, lay, &t, &o, &mut out).is_ok();
        ok &= xent::cross_entropy_with_grad(&xh, lay, &t, &o, &mut out).is_ok();
        ok &= xent::cross_entropy_probs_with_grad(&x, lay, &p, &po, &mut out).is_ok();
        ok &= xent::log_softmax_into(&x, lay, &mut out).is_ok();
        ok &= xent::softmax_into(&x, lay, &mut out).is_ok();
        ok &= xent::cross_entropy_with_grad_in_place(&mut x, lay, &t, &o).is_ok();
        ok
    });
    assert!(r, "a call failed");
    assert_eq!(k, 0, "xent allocated {k} times on large outputs");
}

/// The stack every public call must fit in: 80 KiB unoptimised (measured 2026-12-04: the
/// SSE2 build needs between 32 and 48 KiB, `x86-64-v4`, whose vectors are the widest,
/// between 48 and 64 KiB; 2026-12-07: the default build dispatched to AVX-512, whose
/// unoptimised entry points add a frame each, between 64 and 72 KiB; before
/// `cfg(xent_opt0)` it overflowed 2 MiB), 16 KiB optimised (`x86-64-v4` passes at 16 KiB),
/// counting the test's own frames and case construction.
const STACK: usize = if cfg!(debug_assertions) { 80 } else { 16 } * 1024;

#[test]
fn every_public_function_runs_on_a_small_stack() {
    let run = || {
        let mut tally = Tally::default();
        all(&mut cases::<f32>(), &mut tally);
        all(&mut cases::<f16>(), &mut tally);
        all(&mut cases::<bf16>(), &mut tally);
        (tally.calls, tally.wrong)
    };
    let (calls, wrong) = std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(run)
        .unwrap()
        .join()
        .expect("the calls' thread failed");
    assert_eq!(wrong, 0, "{wrong} calls did not return as expected");
    assert!(calls > 1000, "only {calls} calls made");
}
