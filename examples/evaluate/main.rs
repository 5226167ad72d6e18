//! Evaluates a classifier's or language model's outputs the way an edge evaluation loop
//! does: stream the logits and labels through one fixed-size chunk buffer, and per chunk let
//! `xent::score_into` give every position its cross-entropy and the rank of its label in a
//! single read pass. Reports mean cross-entropy, perplexity, top-1/top-5 accuracy and the
//! pass's throughput against a plain read of the same buffer.
//!
//! ```text
//! cargo run --release --example evaluate                       # built-in synthetic data
//! cargo run --release --example evaluate -- --logits l.npy --labels y.npy [--json]
//! cargo run --release --example evaluate -- --help
//! ```
//!
//! Inputs are NumPy `.npy` files (read with `npyz`): logits float32 or float16 of shape
//! `(N, C)` or `(B, T, C)`, labels of an integer dtype and shape `(N)` or `(B, T)`.
//! Errors are one line on stderr starting with `error: `, exit status 2.

mod args;
mod eval;
mod input;

use eval::{Plan, Totals};
use input::{Files, Labels, Npy, Synthetic, shape_str};
use npyz::TypeChar;
use std::alloc::{GlobalAlloc, Layout as AllocLayout, System};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use xent::{CrossEntropyOptions, f16};

/// The system allocator, counting allocations so the run can show that its loop makes none.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `System`'s guarantees are this allocator's; the counter has no effect on memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: AllocLayout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, passed on as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: AllocLayout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: AllocLayout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract, passed on as is.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: AllocLayout) {
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract, passed on as is.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Heap allocations (and reallocations) so far.
pub fn alloc_count() -> u64 {
    ALLOCATIONS.load(Ordering::Relaxed)
}

/// A failure: the one-line message and the exit status.
#[derive(Debug)]
pub struct Fail {
    code: u8,
    msg: String,
}

impl Fail {
    /// A command-line mistake (exit 2).
    pub fn usage(msg: impl Into<String>) -> Self {
        Self { code: 2, msg: msg.into() }
    }
    /// Bad input data (exit 2).
    pub fn input(msg: String) -> Self {
        Self { code: 2, msg }
    }
    /// Not the input's fault (exit 1).
    pub fn internal(msg: String) -> Self {
        Self { code: 1, msg }
    }
}

fn main() -> ExitCode {
    // A bug must still end in one line, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("error: internal error: {info}");
    }));
    match std::panic::catch_unwind(|| run(std::env::args().skip(1))) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(f)) => {
            eprintln!("error: {}", f.msg);
            ExitCode::from(f.code)
        }
        Err(_) => ExitCode::from(1),
    }
}

/// Everything the report needs besides the totals.
struct Setup {
    source: &'static str,
    note: Option<String>,
    dtype: &'static str,
    shape: Vec<usize>,
    classes: usize,
    positions: usize,
    chunk_rows: usize,
    label_smoothing: Option<f32>,
    class_weights: Option<String>,
    json: bool,
}

fn run(argv: impl Iterator<Item = String>) -> Result<(), Fail> {
    let args = args::parse(argv)?;
    if args.help {
        println!("{}", args::USAGE);
        return Ok(());
    }
    let started = Instant::now();

    match (&args.logits, &args.labels) {
        (Some(lp), Some(yp)) => {
            let logits = Npy::open(lp, "logits")?;
            let labels = Npy::open(yp, "labels")?;
            let dtype = match logits.kind() {
                Some((TypeChar::Float, 4)) => "float32",
                Some((TypeChar::Float, 2)) => "float16",
                _ => return Err(logits.wrong_dtype("float32, float16")),
            };
            let label_shape = labels.shape()?;
            let labels = Labels::new(labels)?;
            let shape = logits.shape()?;
            let (positions, classes, steps) = check_shapes(&shape, &label_shape)?;
            let weights = read_weights(args.class_weights.as_deref(), classes)?;
            let rows = chunk_rows(args.chunk_rows, classes, if dtype == "float32" { 4 } else { 2 });
            let setup = Setup {
                source: "files",
                note: None,
                dtype,
                shape,
                classes,
                positions,
                chunk_rows: rows,
                label_smoothing: args.label_smoothing,
                class_weights: args.class_weights.as_ref().map(|p| p.display().to_string()),
                json: args.json,
            };
            let plan = Plan {
                positions,
                classes,
                steps,
                chunk_rows: rows,
                ignore_index: args.ignore_index,
                options: options(args.label_smoothing, weights.as_deref()),
            };
            let totals = if dtype == "float32" {
                eval::run(&mut Files::<f32> { logits: logits.data()?, labels, classes }, &plan)?
            } else {
                eval::run(&mut Files::<f16> { logits: logits.data()?, labels, classes }, &plan)?
            };
            report(&setup, &totals, started.elapsed().as_secs_f64());
        }
        _ => {
            let mut src = Synthetic::new(args.ignore_index);
            let (positions, classes) = (src.rows, src.classes);
            let weights = read_weights(args.class_weights.as_deref(), classes)?;
            let rows = chunk_rows(args.chunk_rows, classes, 4);
            let setup = Setup {
                source: "builtin",
                note: Some(format!(
                    "no --logits/--labels given: using the built-in synthetic data ({positions} rows x {classes} \
                     classes, float32, seed {:#x}, about 1 row in 64 labelled --ignore-index {})",
                    Synthetic::SEED,
                    args.ignore_index
                )),
                dtype: "float32",
                shape: vec![positions, classes],
                classes,
                positions,
                chunk_rows: rows,
                label_smoothing: args.label_smoothing,
                class_weights: args.class_weights.as_ref().map(|p| p.display().to_string()),
                json: args.json,
            };
            // Said before the work, so the note is there even if the run is stopped.
            out_line(&format!("note: {}", setup.note.as_deref().unwrap_or_default()));
            let plan = Plan {
                positions,
                classes,
                steps: None,
                chunk_rows: rows,
                ignore_index: args.ignore_index,
                options: options(args.label_smoothing, weights.as_deref()),
            };
            let totals = eval::run(&mut src, &plan)?;
            report(&setup, &totals, started.elapsed().as_secs_f64());
        }
    }
    Ok(())
}

/// Checks `(N, C)` against `(N)` or `(B, T, C)` against `(B, T)`; gives positions, classes
/// and `T` (for a 3-D input).
fn check_shapes(logits: &[usize], labels: &[usize]) -> Result<(usize, usize, Option<usize>), Fail> {
    let (rows, classes) = match logits {
        [n, c] => (*n, *c),
        [b, t, c] => (b.checked_mul(*t).ok_or_else(|| Fail::usage("logits shape overflows"))?, *c),
        _ => {
            return Err(Fail::usage(format!(
                "logits must have shape (N, C) or (B, T, C), got {}",
                shape_str(logits)
            )));
        }
    };
    if labels != &logits[..logits.len() - 1] {
        return Err(Fail::usage(format!(
            "shapes disagree: logits {} need labels of shape {}, got labels {}",
            shape_str(logits),
            shape_str(&logits[..logits.len() - 1]),
            shape_str(labels)
        )));
    }
    if classes == 0 {
        return Err(Fail::usage(format!("logits {} have no classes", shape_str(logits))));
    }
    if rows.checked_mul(classes).is_none() {
        return Err(Fail::usage(format!("logits shape {} overflows", shape_str(logits))));
    }
    Ok((rows, classes, (logits.len() == 3).then(|| logits[1])))
}

/// Reads the class weights, float32 of shape `(C)`.
fn read_weights(path: Option<&Path>, classes: usize) -> Result<Option<Vec<f32>>, Fail> {
    let Some(path) = path else { return Ok(None) };
    let npy = Npy::open(path, "class weights")?;
    if npy.kind() != Some((TypeChar::Float, 4)) {
        return Err(npy.wrong_dtype("float32"));
    }
    let shape = npy.shape()?;
    if shape != [classes] {
        return Err(Fail::usage(format!(
            "shapes disagree: class weights {} for logits of {classes} classes, need ({classes},)",
            shape_str(&shape)
        )));
    }
    Ok(Some(npy.data::<f32>()?.into_vec()?))
}

fn options(eps: Option<f32>, weights: Option<&[f32]>) -> Option<CrossEntropyOptions<'_>> {
    (eps.is_some() || weights.is_some())
        .then(|| CrossEntropyOptions::new().with_label_smoothing(eps.unwrap_or(0.0)).with_weight(weights))
}

/// Rows per chunk: as asked, else about 4 MiB of logits, within 64..=4096 rows.
fn chunk_rows(asked: Option<usize>, classes: usize, elem_bytes: usize) -> usize {
    asked.unwrap_or_else(|| ((4 << 20) / classes.saturating_mul(elem_bytes).max(1)).clamp(64, 4096))
}

/// Prints one line to stdout, ignoring a closed pipe.
fn out_line(s: &str) {
    let mut o = std::io::stdout().lock();
    let _ = writeln!(o, "{s}");
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { f64::NAN }
}

fn report(s: &Setup, t: &Totals, wall: f64) {
    let ce = ratio(t.loss_sum, t.counted as f64);
    let ppl = ce.exp();
    let top1 = ratio(t.top1 as f64, t.counted as f64);
    let top5 = ratio(t.top5 as f64, t.counted as f64);
    let elements_count = s.positions as u64 * s.classes as u64;
    let elements = elements_count as f64;
    let xent_s = t.xent_time.as_secs_f64();
    let read_s = t.read_time.as_secs_f64();
    let xent_eps = ratio(elements, xent_s);
    let read_eps = ratio(elements, read_s);
    let slowdown = ratio(xent_s, read_s);
    let opt_ce =
        (s.label_smoothing.is_some() || s.class_weights.is_some()).then(|| ratio(t.opt_sum, t.opt_denom));

    let mut lines = vec![
        format!(
            "data:            {} logits {} ({} positions of {} classes), {} chunks of up to {} rows",
            s.dtype,
            shape_str(&s.shape),
            s.positions,
            s.classes,
            t.chunks,
            s.chunk_rows
        ),
        format!("positions:       {} counted, {} ignored", t.counted, t.ignored),
        format!("cross-entropy:   {ce:.6} nats (mean over counted positions)"),
        format!("perplexity:      {ppl:.4}"),
        format!("top-1 accuracy:  {top1:.4} ({} of {})", t.top1, t.counted),
        format!("top-5 accuracy:  {top5:.4} ({} of {})", t.top5, t.counted),
    ];
    if let Some(v) = opt_ce {
        let mut with = Vec::new();
        if let Some(e) = s.label_smoothing {
            with.push(format!("label smoothing {e}"));
        }
        if let Some(w) = &s.class_weights {
            with.push(format!("class weights '{w}'"));
        }
        lines.push(format!("cross-entropy with {}: {v:.6} (PyTorch's weighted mean)", with.join(", ")));
    }
    lines.push(format!(
        "xent pass:       {:.3e} logits/s ({elements:.0} logits in {:.2} ms, score_into, {})",
        xent_eps,
        xent_s * 1e3,
        xent::isa()
    ));
    lines.push(format!(
        "read pass:       {:.3e} logits/s ({:.2} ms, plain sum of the same buffers = {:.6e})",
        read_eps,
        read_s * 1e3,
        t.read_checksum
    ));
    lines.push(format!("xent time / read time: {slowdown:.2}"));
    lines.push(format!(
        "loading:         {:.2} ms ({}); wall time {:.2} ms; allocations inside the loop: {}",
        t.load_time.as_secs_f64() * 1e3,
        if s.source == "builtin" { "generating the built-in data" } else { "reading the .npy files" },
        wall * 1e3,
        t.allocations_in_loop
    ));
    for l in &lines {
        out_line(l);
    }
    if s.json {
        let mut j = serde_json::json!({
            "source": s.source,
            "dtype": s.dtype,
            "shape": s.shape,
            "classes": s.classes,
            "positions": s.positions,
            "counted": t.counted,
            "ignored": t.ignored,
            "cross_entropy": ce,
            "perplexity": ppl,
            "top1_accuracy": top1,
            "top5_accuracy": top5,
            "top1_correct": t.top1,
            "top5_correct": t.top5,
            "elements": elements_count,
            "xent_seconds": xent_s,
            "read_seconds": read_s,
            "load_seconds": t.load_time.as_secs_f64(),
            "wall_seconds": wall,
            "elements_per_second": xent_eps,
            "read_elements_per_second": read_eps,
            "xent_over_read": slowdown,
            "instruction_set": xent::isa().name(),
            "read_checksum": t.read_checksum,
            "chunk_rows": s.chunk_rows,
            "chunks": t.chunks,
            "allocations_in_loop": t.allocations_in_loop,
        });
        if let Some(note) = &s.note {
            j["note"] = note.as_str().into();
        }
        if let Some(v) = opt_ce {
            j["cross_entropy_with_options"] = v.into();
            // The value as typed (0.1, not f32's 0.10000000149).
            let eps = s.label_smoothing.map_or(0.0, |e| e.to_string().parse().unwrap_or(f64::from(e)));
            j["label_smoothing"] = eps.into();
            j["class_weights"] = s.class_weights.clone().into();
        }
        out_line(&j.to_string());
    }
}
