//! Command-line parsing (by hand: a handful of flags need no parser crate).

use crate::Fail;
use std::path::PathBuf;

/// The usage text printed by `--help`.
pub const USAGE: &str = "\
usage: evaluate [--logits FILE.npy --labels FILE.npy] [options]

Evaluates classifier or language-model outputs with xent, streaming the data in fixed-size
chunks with no allocation inside the loop. Without --logits/--labels it runs on built-in
deterministic synthetic data (20000 rows x 1000 classes).

  --logits FILE          logits, float32 or float16, shape (N, C) or (B, T, C)
  --labels FILE          class indices (int64, int32, int16, int8, uint8, uint16, uint32,
                         uint64), shape (N) or (B, T)
  --ignore-index K       label value of positions to skip (default -100)
  --label-smoothing EPS  also report the cross-entropy with label smoothing EPS in [0, 1]
  --class-weights FILE   also report the class-weighted cross-entropy (float32, shape (C))
  --chunk-rows N         rows per chunk (default: about 4 MiB of logits, 64..=4096 rows)
  --json                 print the results as one JSON object on the last line
  -h, --help             print this help

Exit status: 0 on success, 2 for a usage or input error.";

/// Parsed command line.
#[derive(Debug, Default)]
pub struct Args {
    /// `--logits`.
    pub logits: Option<PathBuf>,
    /// `--labels`.
    pub labels: Option<PathBuf>,
    /// `--ignore-index` (default -100).
    pub ignore_index: i64,
    /// `--label-smoothing`.
    pub label_smoothing: Option<f32>,
    /// `--class-weights`.
    pub class_weights: Option<PathBuf>,
    /// `--chunk-rows`.
    pub chunk_rows: Option<usize>,
    /// `--json`.
    pub json: bool,
    /// `--help`.
    pub help: bool,
}

/// Parses the arguments after the program name.
pub fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, Fail> {
    let mut a = Args { ignore_index: -100, ..Args::default() };
    while let Some(arg) = it.next() {
        // `--flag=value` or `--flag value`
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, Fail> {
            match inline.clone().or_else(|| it.next()) {
                Some(v) => Ok(v),
                None => Err(Fail::usage(format!("{name} needs a value (see --help)"))),
            }
        };
        match flag.as_str() {
            "-h" | "--help" => a.help = true,
            "--json" => a.json = true,
            "--logits" => a.logits = Some(PathBuf::from(value("--logits")?)),
            "--labels" => a.labels = Some(PathBuf::from(value("--labels")?)),
            "--class-weights" => a.class_weights = Some(PathBuf::from(value("--class-weights")?)),
            "--ignore-index" => {
                let v = value("--ignore-index")?;
                a.ignore_index = v
                    .trim()
                    .parse()
                    .map_err(|_| Fail::usage(format!("--ignore-index needs an integer, got '{v}'")))?;
            }
            "--label-smoothing" => {
                let v = value("--label-smoothing")?;
                let eps: f32 = v.trim().parse().map_err(|_| {
                    Fail::usage(format!("--label-smoothing needs a number in [0, 1], got '{v}'"))
                })?;
                if !(0.0..=1.0).contains(&eps) {
                    return Err(Fail::usage(format!("--label-smoothing must be in [0, 1], got {v}")));
                }
                a.label_smoothing = Some(eps);
            }
            "--chunk-rows" => {
                let v = value("--chunk-rows")?;
                let n: usize = v
                    .trim()
                    .parse()
                    .map_err(|_| Fail::usage(format!("--chunk-rows needs a positive integer, got '{v}'")))?;
                if n == 0 || n > 1 << 20 {
                    return Err(Fail::usage(format!("--chunk-rows must be in 1..=1048576, got {n}")));
                }
                a.chunk_rows = Some(n);
            }
            _ => return Err(Fail::usage(format!("unknown argument '{arg}' (see --help)"))),
        }
    }
    if a.logits.is_some() != a.labels.is_some() {
        return Err(Fail::usage(
            "--logits and --labels must be given together (or neither, for the built-in data)",
        ));
    }
    Ok(a)
}
