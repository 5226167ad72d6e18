//! `Debug` of a [`Case`]: a Rust expression that rebuilds it, to paste into
//! `tests/regressions/`.

use std::fmt;

use super::case::{Case, Dtype, Lay};

fn usize_lit(v: usize) -> String {
    match v {
        usize::MAX => "usize::MAX".into(),
        v if v == usize::MAX / 2 + 1 => "usize::MAX / 2 + 1".into(),
        v if v == usize::MAX / 3 => "usize::MAX / 3".into(),
        v => v.to_string(),
    }
}

fn f32_lit(b: u32) -> String {
    format!("0x{b:08x} /* {:?} */", f32::from_bits(b))
}

fn elems_lit(v: &[u32], dt: Dtype) -> String {
    let mut s = String::from("vec![");
    for (i, &b) in v.iter().enumerate() {
        if i % 6 == 0 {
            s.push_str("\n        ");
        }
        match dt {
            Dtype::F32 => s.push_str(&f32_lit(b)),
            _ => s.push_str(&format!("0x{b:04x} /* {:?} */", dt.value(b))),
        }
        s.push_str(", ");
    }
    if !v.is_empty() {
        s.push_str("\n    ");
    }
    s.push(']');
    s
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lay = match self.layout {
            Lay::Unbatched(c) => format!("Lay::Unbatched({})", usize_lit(c)),
            Lay::Rows(n, c) => format!("Lay::Rows({}, {})", usize_lit(n), usize_lit(c)),
            Lay::ChannelFirst(n, c, i) => {
                format!("Lay::ChannelFirst({}, {}, {})", usize_lit(n), usize_lit(c), usize_lit(i))
            }
        };
        let opt_vec = |v: &Option<Vec<u32>>| match v {
            Some(v) => format!("Some({})", elems_lit(v, Dtype::F32)),
            None => "None".into(),
        };
        writeln!(f, "Case {{")?;
        writeln!(f, "    family: Family::{:?},", self.family)?;
        writeln!(f, "    dtype: Dtype::{:?},", self.dtype)?;
        writeln!(f, "    index: Index::{:?},", self.index)?;
        writeln!(f, "    layout: {lay},")?;
        writeln!(f, "    logits: {},", elems_lit(&self.logits, self.dtype))?;
        writeln!(f, "    targets: vec!{:?},", self.targets)?;
        writeln!(f, "    soft: {},", elems_lit(&self.soft, self.dtype))?;
        writeln!(f, "    weight: {},", opt_vec(&self.weight))?;
        writeln!(f, "    pos_weight: {},", opt_vec(&self.pos_weight))?;
        writeln!(f, "    ignore_index: {},", self.ignore_index)?;
        writeln!(f, "    label_smoothing: {},", f32_lit(self.label_smoothing))?;
        writeln!(f, "    z_loss: {},", f32_lit(self.z_loss))?;
        match self.softcap {
            Some(b) => writeln!(f, "    softcap: Some({}),", f32_lit(b))?,
            None => writeln!(f, "    softcap: None,")?,
        }
        writeln!(f, "    gamma: {},", f32_lit(self.gamma))?;
        writeln!(f, "    alpha: {},", f32_lit(self.alpha))?;
        writeln!(f, "    reduction: Reduction::{:?},", self.reduction)?;
        writeln!(f, "    out_len: {},", self.out_len)?;
        writeln!(f, "    grad_len: {},", self.grad_len)?;
        write!(f, "}}")
    }
}
