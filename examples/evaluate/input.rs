//! Where the rows come from: `.npy` files read through `npyz` element by element (so a file
//! of any size streams through one chunk buffer), or the built-in synthetic set.

use crate::Fail;
use npyz::{DType, NpyFile, NpyHeader, NpyReader, Order, TypeChar};
use std::fs::File;
use std::io::{BufReader, Seek};
use std::path::{Path, PathBuf};

type Reader = BufReader<File>;

/// Fills chunk buffers, row by row, in file order.
pub trait Source<T> {
    /// Fills `logits` (`labels.len()` rows of `C`) and `labels` with the next rows;
    /// `first` is the position of the first of them (for messages).
    fn fill(&mut self, logits: &mut [T], labels: &mut [i64], first: usize) -> Result<(), Fail>;
}

/// An opened `.npy` file: its header, and a reader at the first data byte.
pub struct Npy {
    /// The file as given on the command line.
    pub path: PathBuf,
    /// `"logits"`, `"labels"` or `"class weights"`.
    pub what: &'static str,
    /// The parsed header.
    pub header: NpyHeader,
    reader: Reader,
}

impl Npy {
    /// Opens `path` and parses its header; checks that the data the header promises is there.
    pub fn open(path: &Path, what: &'static str) -> Result<Self, Fail> {
        let shown = path.display();
        let file =
            File::open(path).map_err(|e| Fail::input(format!("cannot open {what} file '{shown}': {e}")))?;
        let file_len = file.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
        let npy = NpyFile::new(BufReader::with_capacity(1 << 16, file))
            .map_err(|e| Fail::input(format!("{what} file '{shown}' is not a valid .npy file: {e}")))?;
        let header = npy.header().clone();
        let mut reader = npy.into_inner();
        let data_start = reader
            .stream_position()
            .map_err(|e| Fail::input(format!("reading {what} file '{shown}': {e}")))?;
        let out = Self { path: path.to_path_buf(), what, header, reader };
        if out.header.uses_pickled_array() {
            return Err(out.fail("holds Python objects (pickled); it needs a numeric dtype".into()));
        }
        if out.header.order() == Order::Fortran && out.header.shape().iter().filter(|&&d| d > 1).count() > 1 {
            return Err(
                out.fail("is in Fortran order; save it C-contiguous (numpy.ascontiguousarray)".into())
            );
        }
        let item = out.header.dtype().num_bytes().unwrap_or(0) as u64;
        let need = out.header.len().saturating_mul(item);
        let have = file_len.saturating_sub(data_start);
        if have < need {
            return Err(out.fail(format!(
                "is truncated: shape {} of {} needs {need} bytes of data, the file has {have}",
                shape_str(out.header.shape()),
                dtype_name(&out.header.dtype()),
            )));
        }
        Ok(out)
    }

    /// An input error about this file: "`{what} file '{path}' {msg}`".
    pub fn fail(&self, msg: String) -> Fail {
        Fail::input(format!("{} file '{}' {msg}", self.what, self.path.display()))
    }

    /// The shape as `usize`s.
    pub fn shape(&self) -> Result<Vec<usize>, Fail> {
        self.header.shape().iter().map(|&d| usize::try_from(d)).collect::<Result<_, _>>().map_err(|_| {
            self.fail(format!("has shape {} too large for this machine", shape_str(self.header.shape())))
        })
    }

    /// The error for a dtype this program does not read.
    pub fn wrong_dtype(&self, accepted: &str) -> Fail {
        let d = self.header.dtype();
        let code = match &d {
            DType::Plain(t) => t.to_string(),
            other => other.descr(),
        };
        self.fail(format!("has dtype {} ('{code}'); accepted: {accepted}", dtype_name(&d)))
    }

    /// `(type char, size in bytes)` of a plain dtype.
    pub fn kind(&self) -> Option<(TypeChar, u64)> {
        match self.header.dtype() {
            DType::Plain(t) => Some((t.type_char(), t.size_field())),
            _ => None,
        }
    }

    /// Starts reading elements of type `T` (the dtype must have been checked to match).
    pub fn data<T: npyz::Deserialize>(self) -> Result<NpyElements<T>, Fail> {
        let what = self.what;
        let path = self.path.clone();
        let r = NpyFile::with_header(self.header, self.reader)
            .data::<T>()
            .map_err(|e| Fail::input(format!("{what} file '{}': {e}", path.display())))?;
        Ok(NpyElements { r, what, path })
    }
}

/// A typed element stream of one file.
pub struct NpyElements<T: npyz::Deserialize> {
    r: NpyReader<T, Reader>,
    what: &'static str,
    path: PathBuf,
}

impl<T: npyz::Deserialize> NpyElements<T> {
    /// Fills `dst` with the next elements, converting each with `f` (which may refuse one,
    /// given its index in `dst`).
    #[inline]
    fn fill_with<U>(
        &mut self,
        dst: &mut [U],
        mut f: impl FnMut(usize, T) -> Result<U, Fail>,
    ) -> Result<(), Fail> {
        for (i, d) in dst.iter_mut().enumerate() {
            match self.r.next() {
                Some(Ok(v)) => *d = f(i, v)?,
                Some(Err(e)) => return Err(self.io_fail(&e.to_string())),
                None => return Err(self.io_fail("unexpected end of data")),
            }
        }
        Ok(())
    }

    fn io_fail(&self, e: &str) -> Fail {
        Fail::input(format!("reading {} file '{}': {e}", self.what, self.path.display()))
    }

    /// Reads every remaining element (for the small class-weight vector).
    pub fn into_vec(self) -> Result<Vec<T>, Fail> {
        let what = self.what;
        let path = self.path;
        self.r
            .collect::<Result<Vec<T>, _>>()
            .map_err(|e| Fail::input(format!("reading {what} file '{}': {e}", path.display())))
    }
}

/// The label dtypes read, each widened to i64 for xent.
pub enum Labels {
    /// int64
    I64(NpyElements<i64>),
    /// int32
    I32(NpyElements<i32>),
    /// int16
    I16(NpyElements<i16>),
    /// int8
    I8(NpyElements<i8>),
    /// uint8
    U8(NpyElements<u8>),
    /// uint16
    U16(NpyElements<u16>),
    /// uint32
    U32(NpyElements<u32>),
    /// uint64
    U64(NpyElements<u64>),
}

/// The label dtypes accepted, for messages.
pub const LABEL_DTYPES: &str = "int64, int32, int16, int8, uint8, uint16, uint32, uint64";

impl Labels {
    /// Starts reading `npy` as labels, or says its dtype is not an integer one.
    pub fn new(npy: Npy) -> Result<Self, Fail> {
        Ok(match npy.kind() {
            Some((TypeChar::Int, 8)) => Self::I64(npy.data()?),
            Some((TypeChar::Int, 4)) => Self::I32(npy.data()?),
            Some((TypeChar::Int, 2)) => Self::I16(npy.data()?),
            Some((TypeChar::Int, 1)) => Self::I8(npy.data()?),
            Some((TypeChar::Uint, 1)) => Self::U8(npy.data()?),
            Some((TypeChar::Uint, 2)) => Self::U16(npy.data()?),
            Some((TypeChar::Uint, 4)) => Self::U32(npy.data()?),
            Some((TypeChar::Uint, 8)) => Self::U64(npy.data()?),
            _ => return Err(npy.wrong_dtype(LABEL_DTYPES)),
        })
    }

    /// Fills `dst` with the next labels; `first` is the position of `dst[0]`; `classes` is
    /// only for the message about a uint64 label beyond i64.
    pub fn fill(&mut self, dst: &mut [i64], first: usize, classes: usize) -> Result<(), Fail> {
        match self {
            Self::I64(r) => r.fill_with(dst, |_, v| Ok(v)),
            Self::I32(r) => r.fill_with(dst, widen),
            Self::I16(r) => r.fill_with(dst, widen),
            Self::I8(r) => r.fill_with(dst, widen),
            Self::U8(r) => r.fill_with(dst, widen),
            Self::U16(r) => r.fill_with(dst, widen),
            Self::U32(r) => r.fill_with(dst, widen),
            Self::U64(r) => r.fill_with(dst, |i, v| {
                i64::try_from(v).map_err(|_| {
                    Fail::input(format!(
                        "label {v} at position {} is out of range for {classes} classes",
                        first + i
                    ))
                })
            }),
        }
    }
}

/// Widens a label to i64 (exact for every integer dtype but uint64).
fn widen<V: Into<i64>>(_: usize, v: V) -> Result<i64, Fail> {
    Ok(v.into())
}

/// Rows from a logits file and a labels file.
pub struct Files<T: npyz::Deserialize> {
    /// The logits, row-major.
    pub logits: NpyElements<T>,
    /// The labels, one per row.
    pub labels: Labels,
    /// Classes per row.
    pub classes: usize,
}

impl<T: npyz::Deserialize> Source<T> for Files<T> {
    fn fill(&mut self, logits: &mut [T], labels: &mut [i64], first: usize) -> Result<(), Fail> {
        self.logits.fill_with(logits, |_, v| Ok(v))?;
        self.labels.fill(labels, first, self.classes)
    }
}

/// The built-in data set: `rows` rows of `classes` logits, each logit unit-variance noise
/// (a sum of four uniforms) plus `SIGNAL` on the row's label, and about one row in 64
/// labelled `ignore_index`. Deterministic: the same seed gives the same bytes everywhere.
pub struct Synthetic {
    /// Rows in the set.
    pub rows: usize,
    /// Classes per row.
    pub classes: usize,
    ignore_index: i64,
    state: u64,
}

impl Synthetic {
    /// Rows of the default set.
    pub const ROWS: usize = 20_000;
    /// Classes of the default set.
    pub const CLASSES: usize = 1_000;
    /// The PRNG seed.
    pub const SEED: u64 = 0x5EED_0FCE;
    /// Added to the label's logit.
    const SIGNAL: f32 = 3.5;

    /// The default set.
    pub fn new(ignore_index: i64) -> Self {
        Self { rows: Self::ROWS, classes: Self::CLASSES, ignore_index, state: Self::SEED }
    }

    /// splitmix64.
    #[inline]
    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl Source<f32> for Synthetic {
    fn fill(&mut self, logits: &mut [f32], labels: &mut [i64], _first: usize) -> Result<(), Fail> {
        // Four 16-bit uniforms per draw: their sum has variance 4/12, so this scale gives 1.
        const SCALE: f32 = 1.732_050_8 / 65536.0;
        let c = self.classes;
        for (row, label) in logits.chunks_exact_mut(c).zip(labels.iter_mut()) {
            for x in row.iter_mut() {
                let r = self.next();
                let s = (r & 0xFFFF) + ((r >> 16) & 0xFFFF) + ((r >> 32) & 0xFFFF) + (r >> 48);
                *x = (s as f32 - 2.0 * 65535.0) * SCALE;
            }
            let r = self.next();
            let y = (r >> 32) as usize % c;
            if r & 63 == 0 {
                *label = self.ignore_index;
            } else {
                *label = y as i64;
                row[y] += Self::SIGNAL;
            }
        }
        Ok(())
    }
}

/// `(2, 3)`-style shape text.
pub fn shape_str<D: std::fmt::Display>(shape: &[D]) -> String {
    let parts: Vec<String> = shape.iter().map(ToString::to_string).collect();
    if parts.len() == 1 { format!("({},)", parts[0]) } else { format!("({})", parts.join(", ")) }
}

/// NumPy's name of a dtype (`float32`, `int64`, ...), or its descr.
pub fn dtype_name(d: &DType) -> String {
    match d {
        DType::Plain(t) => {
            let bits = t.size_field() * 8;
            match t.type_char() {
                TypeChar::Float => format!("float{bits}"),
                TypeChar::Int => format!("int{bits}"),
                TypeChar::Uint => format!("uint{bits}"),
                TypeChar::Complex => format!("complex{bits}"),
                TypeChar::Bool => "bool".into(),
                _ => d.descr(),
            }
        }
        _ => d.descr(),
    }
}
