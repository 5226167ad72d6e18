//! xent on a Cortex-M4F (QEMU's mps2-an386): every loss family on a small fixed problem
//! (`problem.rs`), checked against values computed on the host in f64 (`expected.rs`,
//! generated and verified by the root crate's `tests/embedded_expected.rs`).
//!
//! Prints one line per check over semihosting, the stack high-water mark of the xent
//! calls, and a closing `N passed, M failed`; exits with status 0 only if every check
//! passed. A panic or a `HardFault` prints and exits with a failure status.
#![no_std]
#![no_main]

#[allow(clippy::unreadable_literal)]
mod expected;
mod problem;

use core::ptr::{read_volatile, write_volatile};

use cortex_m_rt::{ExceptionFrame, entry, exception};
use cortex_m_semihosting::{debug, hprintln};
use panic_semihosting as _;
use problem::*;
use xent::{
    BceOptions, BceWithLogitsOptions, CrossEntropyOptions, Error, Layout, NllOptions, ProbsOptions, Score,
    SigmoidFocalOptions, SoftmaxFocalOptions, f16,
};

/// The checks' tolerance: `|got - want| <= REL * |want| + ABS`.
const REL: f64 = 1e-5;
/// Absolute part of the tolerance.
const ABS: f64 = 1e-6;
/// Extra relative tolerance for values stored as f16 (half an f16 ulp, 2^-11).
const F16_HALF_ULP: f64 = 1.0 / 2048.0;

/// Bytes of stack painted below the current stack pointer before the xent calls.
const PAINT_BYTES: usize = 16 * 1024;
/// Bytes just below the stack pointer left unpainted: the frames of `paint` and
/// `lowest_dirty` themselves live there (a use of the stack reaching below this gap is
/// measured exactly; one that does not is reported as at most this much).
const GUARD_BYTES: usize = 64;
/// The paint.
const PATTERN: u32 = 0xDEAD_BEEF;

/// Everything the xent calls produce. It lives in `main`'s frame, above the painted stack,
/// so the measured high-water mark is that of the calls alone.
struct Results {
    ce_mean: Result<f32, Error>,
    ce_grad_loss: Result<f32, Error>,
    grad: [f32; N * C],
    f16_loss: Result<f32, Error>,
    f16_logits: [f16; N * C],
    ce_smoothing: Result<f32, Error>,
    probs: Result<f32, Error>,
    nll: Result<f32, Error>,
    bce: Result<f32, Error>,
    bce_logits: Result<f32, Error>,
    sigmoid_focal: Result<f32, Error>,
    softmax_focal: Result<f32, Error>,
    lse: f32,
    score: Result<(), Error>,
    scores: [Score; N],
    ce_channel_first: Result<f32, Error>,
}

impl Results {
    fn new() -> Self {
        let pending = Err(Error::SizeOverflow);
        Self {
            ce_mean: pending,
            ce_grad_loss: pending,
            grad: [f32::NAN; N * C],
            f16_loss: pending,
            f16_logits: LOGITS.map(f16::from_f32),
            ce_smoothing: pending,
            probs: pending,
            nll: pending,
            bce: pending,
            bce_logits: pending,
            sigmoid_focal: pending,
            softmax_focal: pending,
            lse: f32::NAN,
            score: Err(Error::SizeOverflow),
            scores: [Score { loss: f32::NAN, above: usize::MAX, counted: false }; N],
            ce_channel_first: pending,
        }
    }
}

/// One xent call of the harness: its name and a function that makes it.
type Step = (&'static str, fn(&mut Results));

/// The `(N, C)` layout of the class-index problem.
const ROWS: Layout = Layout::rows(N, C);

/// Class weights and `ignore_index`: the options of most class-index checks.
fn weighted() -> CrossEntropyOptions<'static> {
    CrossEntropyOptions::new().with_weight(Some(&CLASS_WEIGHT)).with_ignore_index(IGNORE)
}

/// The xent calls (the same options as `tests/embedded_expected.rs`). Each is its own
/// function, called through a pointer that the optimiser cannot see through, so the stack
/// use measured for a step is that call's alone and not the frame of a function into
/// which all of them were inlined.
const STEPS: [Step; 13] = [
    ("cross_entropy", |r| r.ce_mean = xent::cross_entropy(&LOGITS, ROWS, &TARGETS, &weighted())),
    ("cross_entropy_with_grad", |r| {
        r.ce_grad_loss = xent::cross_entropy_with_grad(&LOGITS, ROWS, &TARGETS, &weighted(), &mut r.grad);
    }),
    ("cross_entropy_with_grad_in_place (f16)", |r| {
        let opts = CrossEntropyOptions::new();
        r.f16_loss = xent::cross_entropy_with_grad_in_place(&mut r.f16_logits, ROWS, &TARGETS, &opts);
    }),
    ("cross_entropy (label_smoothing)", |r| {
        let opts = weighted().with_label_smoothing(LABEL_SMOOTHING);
        r.ce_smoothing = xent::cross_entropy(&LOGITS, ROWS, &TARGETS, &opts);
    }),
    ("cross_entropy_probs", |r| {
        let opts = ProbsOptions::new().with_weight(Some(&CLASS_WEIGHT)).with_label_smoothing(PROBS_SMOOTHING);
        r.probs = xent::cross_entropy_probs(&LOGITS, ROWS, &SOFT_TARGETS, &opts);
    }),
    ("nll_loss", |r| {
        let opts = NllOptions::new().with_weight(Some(&CLASS_WEIGHT)).with_ignore_index(IGNORE);
        r.nll = xent::nll_loss(&LOGITS, ROWS, &TARGETS, &opts);
    }),
    ("binary_cross_entropy", |r| {
        let opts = BceOptions::new().with_weight(Some(&BCE_WEIGHT));
        r.bce = xent::binary_cross_entropy(&BCE_P, &BCE_Y, &opts);
    }),
    ("binary_cross_entropy_with_logits", |r| {
        let opts = BceWithLogitsOptions::new().with_pos_weight(Some(&POS_WEIGHT));
        r.bce_logits = xent::binary_cross_entropy_with_logits(&BCE_X, &BCE_Y, &opts);
    }),
    ("sigmoid_focal_loss", |r| {
        let opts = SigmoidFocalOptions::new().with_alpha(SIGMOID_ALPHA).with_gamma(SIGMOID_GAMMA);
        r.sigmoid_focal = xent::sigmoid_focal_loss(&BCE_X, &BCE_Y, &opts);
    }),
    ("softmax_focal_loss", |r| {
        let opts = SoftmaxFocalOptions::new()
            .with_weight(Some(&CLASS_WEIGHT))
            .with_ignore_index(IGNORE)
            .with_gamma(SOFTMAX_GAMMA);
        r.softmax_focal = xent::softmax_focal_loss(&LOGITS, ROWS, &TARGETS, &opts);
    }),
    ("log_sum_exp", |r| r.lse = xent::log_sum_exp(&LSE_ROW)),
    ("score_into", |r| r.score = xent::score_into(&LOGITS, ROWS, &TARGETS, IGNORE, &mut r.scores)),
    ("cross_entropy (channel-first)", |r| {
        let layout = Layout::channel_first(1, CF_C, CF_INNER);
        r.ce_channel_first = xent::cross_entropy(&LOGITS, layout, &CF_TARGETS, &CrossEntropyOptions::new());
    }),
];

/// Counts and prints the checks.
struct Checks {
    passed: u32,
    failed: u32,
}

impl Checks {
    fn record(&mut self, ok: bool) -> &'static str {
        if ok {
            self.passed += 1;
            "ok  "
        } else {
            self.failed += 1;
            "FAIL"
        }
    }

    /// `got` within `rel * |want| + ABS` of `want` (NaN never passes).
    fn close(&mut self, what: &str, got: Result<f32, Error>, want: f64, rel: f64) {
        match got {
            Ok(g) => {
                let err = (f64::from(g) - want).abs();
                let tag = self.record(err <= rel * want.abs() + ABS);
                hprintln!("{tag} {what}: got {g:.7e}, want {want:.9e}, |err| {err:.2e}");
            }
            Err(e) => {
                let tag = self.record(false);
                hprintln!("{tag} {what}: error {e}");
            }
        }
    }

    fn exact<T: PartialEq + core::fmt::Debug>(&mut self, what: &str, got: T, want: T) {
        let tag = self.record(got == want);
        hprintln!("{tag} {what}: got {got:?}, want {want:?}");
    }
}

/// The stack pointer of the caller's frame.
#[inline(always)]
fn stack_pointer() -> usize {
    let sp: usize;
    // SAFETY: reads a register, touches no memory.
    unsafe { core::arch::asm!("mov {}, sp", out(reg) sp, options(nomem, nostack, preserves_flags)) };
    sp
}

/// Writes `PATTERN` into every word of `[lo, hi)`: a leaf with no stack frame to speak of.
#[inline(never)]
fn paint(lo: usize, hi: usize) {
    let mut p = lo;
    while p < hi {
        // SAFETY: `[lo, hi)` is free stack below the caller's frame (checked by `main`), word
        // aligned, and nothing live is stored there.
        unsafe { write_volatile(p as *mut u32, PATTERN) };
        p += 4;
    }
}

/// The lowest word of `[lo, hi)` that no longer holds `PATTERN`.
#[inline(never)]
fn lowest_dirty(lo: usize, hi: usize) -> Option<usize> {
    let mut p = lo;
    while p < hi {
        // SAFETY: as in `paint`: the same free, aligned stack region.
        if unsafe { read_volatile(p as *const u32) } != PATTERN {
            return Some(p);
        }
        p += 4;
    }
    None
}

unsafe extern "C" {
    /// End of `.bss` (cortex-m-rt's `link.x`): the stack must not be painted below it.
    static __ebss: u32;
}

#[entry]
fn main() -> ! {
    let mut r = Results::new();

    // For each call: paint [sp - GUARD - PAINT, sp - GUARD), run it, find the deepest
    // write. The high-water mark is measured from `sp`, where the call's frames begin.
    let sp = stack_pointer() & !3;
    let hi = sp - GUARD_BYTES;
    let lo = hi - PAINT_BYTES;
    let ebss = &raw const __ebss as usize;
    assert!(lo > ebss, "the painted stack would overlap .bss");
    let mut used = [0_usize; STEPS.len()];
    let mut overrun = false;
    for ((_, step), u) in STEPS.iter().zip(&mut used) {
        paint(lo, hi);
        core::hint::black_box(*step)(&mut r);
        *u = match lowest_dirty(lo, hi) {
            Some(p) => {
                overrun |= p == lo;
                sp - p
            }
            None => 0,
        };
    }

    let mut c = Checks { passed: 0, failed: 0 };
    c.close("cross_entropy mean (class weights, ignore_index)", r.ce_mean, expected::CE_MEAN, REL);
    c.close("cross_entropy_with_grad loss", r.ce_grad_loss, expected::CE_GRAD_LOSS, REL);
    for (k, &i) in GRAD_IDX.iter().enumerate() {
        let g = r.ce_grad_loss.map(|_| r.grad[i]);
        c.close(fmt_idx("cross_entropy_with_grad grad", i).as_str(), g, expected::CE_GRAD[k], REL);
    }
    c.close("cross_entropy_with_grad_in_place f16 loss", r.f16_loss, expected::F16_INPLACE_LOSS, REL);
    for (k, &i) in GRAD_IDX.iter().enumerate() {
        let g = r.f16_loss.map(|_| r.f16_logits[i].to_f32());
        let what = fmt_idx("cross_entropy_with_grad_in_place f16 grad", i);
        c.close(what.as_str(), g, expected::F16_INPLACE_GRAD[k], REL + F16_HALF_ULP);
    }
    c.close(
        "cross_entropy label_smoothing (weights, ignore_index)",
        r.ce_smoothing,
        expected::CE_SMOOTHING,
        REL,
    );
    c.close("cross_entropy_probs (weights, label_smoothing)", r.probs, expected::PROBS, REL);
    c.close("nll_loss (weights, ignore_index)", r.nll, expected::NLL, REL);
    c.close("binary_cross_entropy (weight)", r.bce, expected::BCE, REL);
    c.close("binary_cross_entropy_with_logits (pos_weight)", r.bce_logits, expected::BCE_LOGITS, REL);
    c.close("sigmoid_focal_loss", r.sigmoid_focal, expected::SIGMOID_FOCAL, REL);
    c.close("softmax_focal_loss (weights, ignore_index)", r.softmax_focal, expected::SOFTMAX_FOCAL, REL);
    c.close("log_sum_exp", Ok(r.lse), expected::LSE, REL);
    c.close("cross_entropy channel-first (1, 5, 19)", r.ce_channel_first, expected::CE_CHANNEL_FIRST, REL);
    c.exact("score_into", r.score, Ok(()));
    for n in 0..N {
        let s = r.scores[n];
        c.close(fmt_idx("score_into loss", n).as_str(), Ok(s.loss), expected::SCORE_LOSS[n], REL);
        c.exact(fmt_idx("score_into above", n).as_str(), s.above, expected::SCORE_ABOVE[n]);
        c.exact(fmt_idx("score_into counted", n).as_str(), s.counted, expected::SCORE_COUNTED[n]);
    }

    for ((name, _), &u) in STEPS.iter().zip(&used) {
        if u == 0 {
            hprintln!("stack: {name}: at most {GUARD_BYTES} bytes");
        } else {
            hprintln!("stack: {name}: {u} bytes");
        }
    }
    let max = used.iter().copied().max().unwrap_or(0);
    if overrun {
        hprintln!("stack high-water mark of the xent calls: over {} bytes (painted region overrun)", sp - lo);
        c.record(false);
    } else if max == 0 {
        hprintln!("stack high-water mark of the xent calls: at most {GUARD_BYTES} bytes");
    } else {
        hprintln!("stack high-water mark of the xent calls: {max} bytes");
    }

    hprintln!("{} passed, {} failed", c.passed, c.failed);
    debug::exit(if c.failed == 0 { debug::EXIT_SUCCESS } else { debug::EXIT_FAILURE });
    #[allow(clippy::empty_loop)]
    loop {}
}

/// A check name with an index, `"<what> [i]"`, formatted without allocation.
fn fmt_idx(what: &str, i: usize) -> Name {
    let mut n = Name { buf: [0; 80], len: 0 };
    let _ = core::fmt::write(&mut n, format_args!("{what} [{i}]"));
    n
}

/// A small fixed-capacity string for check names.
struct Name {
    buf: [u8; 80],
    len: usize,
}

impl Name {
    fn as_str(&self) -> &str {
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("?")
    }
}

impl core::fmt::Write for Name {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = (self.len + s.len()).min(self.buf.len());
        let take = end - self.len;
        self.buf[self.len..end].copy_from_slice(&s.as_bytes()[..take]);
        self.len = end;
        Ok(())
    }
}

#[exception]
unsafe fn HardFault(ef: &ExceptionFrame) -> ! {
    hprintln!("HardFault: {:?}", ef);
    debug::exit(debug::EXIT_FAILURE);
    #[allow(clippy::empty_loop)]
    loop {}
}
