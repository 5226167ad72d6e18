//! End-to-end tests of `examples/evaluate`: small `.npy` files written into a temp dir, the
//! built example binary run on them, and its `--json` results held to a reference computed
//! here in f64 with plain loops (not through xent). Every bad input has its own test of the
//! message and the exit status.
//!
//! The binary is `target/<profile>/examples/evaluate`. A plain `cargo test` builds it, but
//! `cargo test --test evaluate` does not, so the first test to need it runs
//! `cargo build --example evaluate` (same profile) once; it fails with a clear message if
//! the binary is still missing.

use npyz::WriterBuilder;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use xent::f16;

// ---------------------------------------------------------------------------------------
// The binary, temp files, running.

fn example_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().expect("the test binary's path");
        // target/<profile>/deps/evaluate-HASH -> target/<profile>/examples/evaluate
        let profile_dir =
            exe.parent().and_then(Path::parent).expect("target/<profile>/deps/<test>").to_path_buf();
        let bin = profile_dir.join("examples").join(format!("evaluate{}", std::env::consts::EXE_SUFFIX));
        if let Some(cargo) = std::env::var_os("CARGO") {
            // Up to date is a no-op; this also keeps a stale binary from being tested.
            let mut cmd = Command::new(cargo);
            cmd.args(["build", "--quiet", "--example", "evaluate", "--manifest-path"])
                .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"));
            match profile_dir.file_name().and_then(|n| n.to_str()) {
                Some("debug") | None => {}
                Some("release") => {
                    cmd.arg("--release");
                }
                Some(other) => {
                    cmd.args(["--profile", other]);
                }
            }
            let out = cmd.output().expect("running cargo build --example evaluate");
            assert!(
                out.status.success(),
                "cargo build --example evaluate failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert!(
            bin.is_file(),
            "the example binary {} is missing: build it first with `cargo build --example evaluate` \
             (or run a plain `cargo test`, which builds examples)",
            bin.display()
        );
        bin
    })
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("xent-evaluate-{}-{n}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("creating the temp dir");
        Self(dir)
    }
    fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes `data` as a C-order `.npy` of `shape` with the element type's default dtype.
fn write_npy<T: npyz::AutoSerialize + Copy>(path: &Path, shape: &[usize], data: &[T]) {
    assert_eq!(shape.iter().product::<usize>(), data.len(), "test data of the wrong length");
    let shape: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    let file = std::io::BufWriter::new(std::fs::File::create(path).expect("creating an .npy file"));
    let mut w =
        npyz::WriteOptions::new().default_dtype().shape(&shape).writer(file).begin_nd().expect("npy header");
    w.extend(data.iter().copied()).expect("npy data");
    w.finish().expect("npy finish");
}

fn p(path: &Path) -> String {
    path.to_str().expect("a UTF-8 temp path").to_string()
}

fn run(args: &[String]) -> Output {
    Command::new(example_bin()).args(args).output().expect("running the example binary")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs with `--json`, checks success, and parses the last stdout line.
fn run_json(args: &[String]) -> Value {
    let mut args = args.to_vec();
    args.push("--json".into());
    let o = run(&args);
    assert!(o.status.success(), "exit {:?}\nstdout:\n{}\nstderr:\n{}", o.status, stdout(&o), stderr(&o));
    let out = stdout(&o);
    let last = out.lines().last().expect("some output");
    serde_json::from_str(last).unwrap_or_else(|e| panic!("last line is not JSON ({e}): {last}"))
}

/// Runs expecting a usage or input error: exit status 2, and one stderr line starting
/// `error: ` that contains every one of `want`. Returns that line.
fn run_err(args: &[String], want: &[&str]) -> String {
    let o = run(args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "exit status; stderr:\n{err}\nstdout:\n{}", stdout(&o));
    assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "a panic:\n{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "one line of stderr, got:\n{err}");
    assert!(lines[0].starts_with("error: "), "stderr must start with 'error: ': {err}");
    for w in want {
        assert!(lines[0].contains(w), "stderr {:?} does not contain {w:?}", lines[0]);
    }
    lines[0].to_string()
}

fn s(v: &str) -> String {
    v.to_string()
}

// ---------------------------------------------------------------------------------------
// Data and the f64 reference.

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [-a, a).
    fn uniform(&mut self, a: f64) -> f64 {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * a
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Logits with some signal on the labels (so accuracies are neither 0 nor 1), and labels
/// with about every `ignore_every`th one set to `ignore`.
fn make_data(seed: u64, rows: usize, c: usize, ignore: i64, ignore_every: usize) -> (Vec<f32>, Vec<i64>) {
    let mut rng = Rng(seed | 1);
    let mut x = Vec::with_capacity(rows * c);
    let mut y = Vec::with_capacity(rows);
    for r in 0..rows {
        let label = rng.below(c);
        let signal = rng.uniform(3.0) + 1.0;
        for k in 0..c {
            let v = rng.uniform(3.0) + if k == label { signal } else { 0.0 };
            x.push(v as f32);
        }
        y.push(if r % ignore_every == 2 { ignore } else { label as i64 });
    }
    (x, y)
}

#[derive(Debug)]
struct Reference {
    cross_entropy: f64,
    perplexity: f64,
    top1: f64,
    top5: f64,
    counted: u64,
    ignored: u64,
}

/// PyTorch's mean cross-entropy and the top-k accuracies (ties in the label's favour), in
/// f64 from the exact stored values.
fn reference(x: &[f64], c: usize, y: &[i64], ignore: i64) -> Reference {
    let (mut sum, mut counted, mut ignored, mut top1, mut top5) = (0.0_f64, 0_u64, 0_u64, 0_u64, 0_u64);
    for (row, &label) in x.chunks_exact(c).zip(y) {
        if label == ignore {
            ignored += 1;
            continue;
        }
        let t = row[label as usize];
        let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let lse = max + row.iter().map(|&v| (v - max).exp()).sum::<f64>().ln();
        let above = row.iter().filter(|&&v| v > t).count();
        sum += lse - t;
        counted += 1;
        top1 += u64::from(above < 1);
        top5 += u64::from(above < 5);
    }
    let n = counted as f64;
    Reference {
        cross_entropy: sum / n,
        perplexity: (sum / n).exp(),
        top1: top1 as f64 / n,
        top5: top5 as f64 / n,
        counted,
        ignored,
    }
}

/// PyTorch's `cross_entropy(weight=w, label_smoothing=eps)`, mean reduction:
/// `Σ [(1-eps) w[y] (-lp[y]) + eps/C Σ_c w[c] (-lp[c])] / Σ w[y]` over counted positions.
fn reference_with_options(x: &[f64], c: usize, y: &[i64], ignore: i64, eps: f64, w: &[f64]) -> f64 {
    let (mut num, mut den) = (0.0_f64, 0.0_f64);
    for (row, &label) in x.chunks_exact(c).zip(y) {
        if label == ignore {
            continue;
        }
        let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let lse = max + row.iter().map(|&v| (v - max).exp()).sum::<f64>().ln();
        let yk = label as usize;
        let smooth: f64 = row.iter().zip(w).map(|(&v, &wk)| wk * (lse - v)).sum();
        num += (1.0 - eps) * w[yk] * (lse - row[yk]) + eps / c as f64 * smooth;
        den += w[yk];
    }
    num / den
}

fn assert_close(got: &Value, want: f64, what: &str) {
    let got = got.as_f64().unwrap_or_else(|| panic!("{what}: not a number: {got}"));
    let tol = 1e-5 * want.abs();
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got}, want {want} (relative error {:e})",
        (got - want).abs() / want.abs()
    );
}

fn check(j: &Value, r: &Reference) {
    assert_close(&j["cross_entropy"], r.cross_entropy, "cross_entropy");
    assert_close(&j["perplexity"], r.perplexity, "perplexity");
    assert_close(&j["top1_accuracy"], r.top1, "top1_accuracy");
    assert_close(&j["top5_accuracy"], r.top5, "top5_accuracy");
    assert_eq!(j["counted"].as_u64(), Some(r.counted), "counted");
    assert_eq!(j["ignored"].as_u64(), Some(r.ignored), "ignored");
    assert!(r.counted > 0 && r.ignored > 0, "the test data must have both kinds of position");
    assert!(
        r.top1 > 0.0 && r.top1 < 1.0 && r.top5 > r.top1,
        "the test data must separate top-1 and top-5: {r:?}"
    );
    assert_eq!(j["allocations_in_loop"].as_u64(), Some(0), "allocations inside the loop");
}

fn widen_f32(x: &[f32]) -> Vec<f64> {
    x.iter().map(|&v| f64::from(v)).collect()
}

fn to_f16(x: &[f32]) -> (Vec<f16>, Vec<f64>) {
    let h: Vec<f16> = x.iter().map(|&v| f16::from_f32(v)).collect();
    let wide = h.iter().map(|v| f64::from(v.to_f32())).collect();
    (h, wide)
}

// ---------------------------------------------------------------------------------------
// Results against the reference.

#[test]
fn f32_rows_match_reference() {
    let d = TempDir::new("f32-rows");
    let (n, c) = (37, 11);
    let (x, y) = make_data(1, n, c, -100, 6);
    write_npy(&d.path("x.npy"), &[n, c], &x);
    write_npy(&d.path("y.npy"), &[n], &y);
    let r = reference(&widen_f32(&x), c, &y, -100);
    let base = [s("--logits"), p(&d.path("x.npy")), s("--labels"), p(&d.path("y.npy"))];
    // One chunk, and chunks of 5 rows with a partial last one.
    check(&run_json(&base), &r);
    let mut chunked = base.to_vec();
    chunked.extend([s("--chunk-rows"), s("5")]);
    let j = run_json(&chunked);
    check(&j, &r);
    assert_eq!(j["chunks"].as_u64(), Some(8));
    assert_eq!(j["dtype"], "float32");
}

#[test]
fn f16_rows_match_reference() {
    let d = TempDir::new("f16-rows");
    let (n, c) = (29, 9);
    let (x, y) = make_data(2, n, c, -100, 5);
    let (h, wide) = to_f16(&x);
    let y32: Vec<i32> = y.iter().map(|&v| v as i32).collect();
    write_npy(&d.path("x.npy"), &[n, c], &h);
    write_npy(&d.path("y.npy"), &[n], &y32);
    let r = reference(&wide, c, &y, -100);
    let j = run_json(&[
        s("--logits"),
        p(&d.path("x.npy")),
        s("--labels"),
        p(&d.path("y.npy")),
        s("--chunk-rows=4"),
    ]);
    check(&j, &r);
    assert_eq!(j["dtype"], "float16");
}

#[test]
fn f32_sequences_with_ignored_positions_match_reference() {
    let d = TempDir::new("f32-btc");
    let (b, t, c) = (3, 7, 13);
    let (x, y) = make_data(3, b * t, c, 255, 4);
    let y8: Vec<u8> = y.iter().map(|&v| v as u8).collect();
    write_npy(&d.path("x.npy"), &[b, t, c], &x);
    write_npy(&d.path("y.npy"), &[b, t], &y8);
    let r = reference(&widen_f32(&x), c, &y, 255);
    let j = run_json(&[
        s("--logits"),
        p(&d.path("x.npy")),
        s("--labels"),
        p(&d.path("y.npy")),
        s("--ignore-index"),
        s("255"),
        s("--chunk-rows"),
        s("4"),
    ]);
    check(&j, &r);
    assert_eq!(j["shape"], serde_json::json!([b, t, c]));
}

#[test]
fn f16_sequences_with_ignored_positions_match_reference() {
    let d = TempDir::new("f16-btc");
    let (b, t, c) = (3, 11, 12);
    let (x, y) = make_data(4, b * t, c, -100, 3);
    let (h, wide) = to_f16(&x);
    write_npy(&d.path("x.npy"), &[b, t, c], &h);
    write_npy(&d.path("y.npy"), &[b, t], &y);
    let r = reference(&wide, c, &y, -100);
    let base = [s("--logits"), p(&d.path("x.npy")), s("--labels"), p(&d.path("y.npy"))];
    check(&run_json(&base), &r);
    let mut chunked = base.to_vec();
    chunked.extend([s("--chunk-rows"), s("5")]);
    check(&run_json(&chunked), &r);
}

#[test]
fn label_smoothing_and_class_weights_match_pytorch_formula() {
    let d = TempDir::new("options");
    let (n, c) = (41, 7);
    let (x, y) = make_data(5, n, c, -100, 7);
    let w: Vec<f32> = (0..c).map(|k| 0.25 + 0.3 * k as f32).collect();
    write_npy(&d.path("x.npy"), &[n, c], &x);
    write_npy(&d.path("y.npy"), &[n], &y);
    write_npy(&d.path("w.npy"), &[c], &w);
    let wide = widen_f32(&x);
    let r = reference(&wide, c, &y, -100);
    let w64 = widen_f32(&w);
    let ones = vec![1.0; c];
    let base =
        [s("--logits"), p(&d.path("x.npy")), s("--labels"), p(&d.path("y.npy")), s("--chunk-rows"), s("6")];

    let mut both = base.to_vec();
    both.extend([s("--label-smoothing"), s("0.1"), s("--class-weights"), p(&d.path("w.npy"))]);
    let j = run_json(&both);
    check(&j, &r); // top-k and perplexity stay unweighted
    let want = reference_with_options(&wide, c, &y, -100, f64::from(0.1_f32), &w64);
    assert_close(&j["cross_entropy_with_options"], want, "weighted, smoothed cross_entropy");

    let mut smooth = base.to_vec();
    smooth.extend([s("--label-smoothing"), s("0.25")]);
    let j = run_json(&smooth);
    check(&j, &r);
    let want = reference_with_options(&wide, c, &y, -100, 0.25, &ones);
    assert_close(&j["cross_entropy_with_options"], want, "smoothed cross_entropy");

    let mut weighted = base.to_vec();
    weighted.extend([s("--class-weights"), p(&d.path("w.npy"))]);
    let j = run_json(&weighted);
    let want = reference_with_options(&wide, c, &y, -100, 0.0, &w64);
    assert_close(&j["cross_entropy_with_options"], want, "weighted cross_entropy");
}

#[test]
fn default_run_uses_builtin_data() {
    let o = run(&[]);
    let out = stdout(&o);
    assert!(o.status.success(), "exit {:?}\nstdout:\n{out}\nstderr:\n{}", o.status, stderr(&o));
    assert!(out.contains("using the built-in synthetic data"), "no note about the built-in data:\n{out}");
    for key in
        ["cross-entropy:", "perplexity:", "top-1 accuracy:", "top-5 accuracy:", "xent time / read time:"]
    {
        assert!(out.contains(key), "no {key:?} line:\n{out}");
    }
    assert!(out.contains("allocations inside the loop: 0"), "{out}");
    let top1: f64 = out
        .lines()
        .find_map(|l| l.strip_prefix("top-1 accuracy:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("a top-1 accuracy value");
    assert!(top1 > 0.1, "the planted signal should put top-1 far above chance (0.001): {top1}");
}

// ---------------------------------------------------------------------------------------
// Bad input.

/// Valid (4, 3) f32 logits and (4,) labels in `d`.
fn valid_pair(d: &TempDir) -> (PathBuf, PathBuf) {
    let (x, y) = make_data(9, 4, 3, -100, 1000);
    write_npy(&d.path("x.npy"), &[4, 3], &x);
    write_npy(&d.path("y.npy"), &[4], &y);
    (d.path("x.npy"), d.path("y.npy"))
}

#[test]
fn missing_logits_file_is_named() {
    let d = TempDir::new("missing-logits");
    let (_, y) = valid_pair(&d);
    let missing = d.path("nope.npy");
    run_err(&[s("--logits"), p(&missing), s("--labels"), p(&y)], &["cannot open logits file", &p(&missing)]);
}

#[test]
fn missing_labels_file_is_named() {
    let d = TempDir::new("missing-labels");
    let (x, _) = valid_pair(&d);
    let missing = d.path("absent-labels.npy");
    run_err(&[s("--logits"), p(&x), s("--labels"), p(&missing)], &["cannot open labels file", &p(&missing)]);
}

#[test]
fn missing_class_weights_file_is_named() {
    let d = TempDir::new("missing-weights");
    let (x, y) = valid_pair(&d);
    let missing = d.path("w.npy");
    run_err(
        &[s("--logits"), p(&x), s("--labels"), p(&y), s("--class-weights"), p(&missing)],
        &["cannot open class weights file", &p(&missing)],
    );
}

#[test]
fn wrong_logits_dtype_names_found_and_accepted() {
    let d = TempDir::new("dtype-logits");
    let (_, y) = valid_pair(&d);
    write_npy(&d.path("xi.npy"), &[4, 3], &[1_i32; 12]);
    run_err(
        &[s("--logits"), p(&d.path("xi.npy")), s("--labels"), p(&y)],
        &["logits file", "dtype int32 ('<i4')", "accepted: float32, float16"],
    );
    write_npy(&d.path("xd.npy"), &[4, 3], &[1.0_f64; 12]);
    run_err(
        &[s("--logits"), p(&d.path("xd.npy")), s("--labels"), p(&y)],
        &["dtype float64", "accepted: float32"],
    );
}

#[test]
fn wrong_labels_dtype_names_found_and_accepted() {
    let d = TempDir::new("dtype-labels");
    let (x, _) = valid_pair(&d);
    write_npy(&d.path("yf.npy"), &[4], &[0.0_f32; 4]);
    run_err(
        &[s("--logits"), p(&x), s("--labels"), p(&d.path("yf.npy"))],
        &["labels file", "dtype float32 ('<f4')", "accepted: int64, int32", "uint8"],
    );
}

#[test]
fn shapes_that_disagree_are_both_shown() {
    let d = TempDir::new("shapes");
    let (x, _) = valid_pair(&d);
    write_npy(&d.path("y5.npy"), &[5], &[0_i64; 5]);
    run_err(
        &[s("--logits"), p(&x), s("--labels"), p(&d.path("y5.npy"))],
        &["shapes disagree", "(4, 3)", "(5,)"],
    );

    write_npy(&d.path("x3.npy"), &[2, 3, 4], &[0.0_f32; 24]);
    write_npy(&d.path("y32.npy"), &[3, 2], &[0_i64; 6]);
    run_err(
        &[s("--logits"), p(&d.path("x3.npy")), s("--labels"), p(&d.path("y32.npy"))],
        &["shapes disagree", "(2, 3, 4)", "(3, 2)"],
    );

    write_npy(&d.path("x1.npy"), &[6], &[0.0_f32; 6]);
    run_err(
        &[s("--logits"), p(&d.path("x1.npy")), s("--labels"), p(&d.path("y5.npy"))],
        &["(N, C) or (B, T, C)", "(6,)"],
    );
}

#[test]
fn class_weights_of_the_wrong_length_are_refused() {
    let d = TempDir::new("weights-shape");
    let (x, y) = valid_pair(&d);
    write_npy(&d.path("w.npy"), &[4], &[1.0_f32; 4]);
    run_err(
        &[s("--logits"), p(&x), s("--labels"), p(&y), s("--class-weights"), p(&d.path("w.npy"))],
        &["class weights (4,)", "3 classes"],
    );
}

#[test]
fn label_out_of_range_gives_position_and_value() {
    let d = TempDir::new("range");
    let (n, c) = (10, 4);
    let (x, mut y) = make_data(6, n, c, -100, 1000);
    y[7] = 9;
    write_npy(&d.path("x.npy"), &[n, c], &x);
    write_npy(&d.path("y.npy"), &[n], &y);
    // In the second chunk of 3, so the position must be the global one.
    run_err(
        &[s("--logits"), p(&d.path("x.npy")), s("--labels"), p(&d.path("y.npy")), s("--chunk-rows"), s("3")],
        &["label 9 at position 7", "out of range for 4 classes"],
    );
    // A (B, T) label also names its batch and step.
    write_npy(&d.path("x3.npy"), &[2, 5, c], &x);
    write_npy(&d.path("y3.npy"), &[2, 5], &y);
    run_err(
        &[s("--logits"), p(&d.path("x3.npy")), s("--labels"), p(&d.path("y3.npy"))],
        &["label 9 at position 7 (batch 1, step 2)"],
    );
    // Negative, not the ignore index.
    y[7] = -1;
    write_npy(&d.path("yn.npy"), &[n], &y);
    run_err(
        &[s("--logits"), p(&d.path("x.npy")), s("--labels"), p(&d.path("yn.npy"))],
        &["label -1 at position 7"],
    );
}

#[test]
fn nan_logits_report_the_first_nan_row() {
    let d = TempDir::new("nan");
    let (n, c) = (12, 5);
    let (mut x, y) = make_data(7, n, c, -100, 1000);
    x[6 * c + 2] = f32::NAN;
    x[9 * c] = f32::NAN;
    write_npy(&d.path("x.npy"), &[n, c], &x);
    write_npy(&d.path("y.npy"), &[n], &y);
    run_err(
        &[s("--logits"), p(&d.path("x.npy")), s("--labels"), p(&d.path("y.npy")), s("--chunk-rows"), s("4")],
        &["logits contain NaN", "row 6"],
    );
    // f16 too.
    let (h, _) = to_f16(&x);
    write_npy(&d.path("h.npy"), &[n, c], &h);
    run_err(
        &[s("--logits"), p(&d.path("h.npy")), s("--labels"), p(&d.path("y.npy"))],
        &["logits contain NaN", "row 6"],
    );
}

#[test]
fn usage_errors_exit_2() {
    run_err(&[s("--frobnicate")], &["unknown argument '--frobnicate'"]);
    run_err(&[s("--logits"), s("a.npy")], &["--logits and --labels must be given together"]);
    run_err(&[s("--label-smoothing"), s("1.5")], &["--label-smoothing must be in [0, 1]"]);
    run_err(&[s("--ignore-index"), s("x")], &["--ignore-index needs an integer"]);
    run_err(&[s("--chunk-rows"), s("0")], &["--chunk-rows"]);
    run_err(&[s("--logits")], &["--logits needs a value"]);
}

#[test]
fn not_an_npy_file_is_refused() {
    let d = TempDir::new("garbage");
    let (_, y) = valid_pair(&d);
    std::fs::write(d.path("x.npy"), b"this is not numpy").expect("writing");
    run_err(&[s("--logits"), p(&d.path("x.npy")), s("--labels"), p(&y)], &["is not a valid .npy file"]);
    // A header promising more data than the file holds.
    write_npy(&d.path("full.npy"), &[4, 3], &[0.5_f32; 12]);
    let bytes = std::fs::read(d.path("full.npy")).expect("reading");
    std::fs::write(d.path("cut.npy"), &bytes[..bytes.len() - 8]).expect("writing");
    run_err(&[s("--logits"), p(&d.path("cut.npy")), s("--labels"), p(&y)], &["is truncated"]);
}
